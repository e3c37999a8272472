//! E-mail over real SMTP with lettre. The server comes from a URL: `smtp://HOST:PORT` (plain,
//! for a relay on the intranet), `smtp://USER:PASS@HOST:587?tls=required` (STARTTLS) or
//! `smtps://USER:PASS@HOST:465` (TLS); the URL is given with `--smtp` or kept in the settings.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// The setting that holds the SMTP URL (credentials included).
pub const SMTP_SETTING: &str = "smtp.url";
/// The setting that holds the sender address (default: the template's `email.from`).
pub const SMTP_FROM_SETTING: &str = "smtp.from";

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// A message to send.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The recipient's address, as registered for the unit.
    pub to: String,
    /// The subject line, placeholders already filled in.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// File name and PDF bytes.
    pub attachment: Option<(String, Vec<u8>)>,
}

/// An SMTP connection to send through.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for an SMTP URL and a sender address.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            .map_err(|e| format!("邮件服务器地址“{}”无效：{e}", redact(url)))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from: Mailbox = from.parse().map_err(|e| format!("发件地址“{from}”无效：{e}"))?;
        Ok(Self { transport, from })
    }

    /// Sends one message; the error says why in one line.
    pub async fn send(&self, mail: &Mail) -> Result<(), String> {
        let to: Mailbox = mail.to.parse().map_err(|e| format!("收件地址“{}”无效：{e}", mail.to))?;
        let text = SinglePart::plain(mail.body.clone());
        let builder = Message::builder().from(self.from.clone()).to(to).subject(mail.subject.clone());
        let message = match &mail.attachment {
            Some((name, bytes)) => {
                let pdf = ContentType::parse("application/pdf").map_err(|e| e.to_string())?;
                let attachment = Attachment::new(name.clone()).body(bytes.clone(), pdf);
                builder.multipart(MultiPart::mixed().singlepart(text).singlepart(attachment))
            }
            None => builder.singlepart(text),
        }
        .map_err(|e| format!("邮件内容无效：{e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| format!("发送失败：{e}"))
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
