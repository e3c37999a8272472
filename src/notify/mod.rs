//! Notifications (通报), DESIGN.md §6: after a ranking, the office drafts a notice naming the
//! laggards → a leader approves it (never its drafter; the number and text are fixed then) →
//! the office publishes it (a printable page and a PDF, delivered to each named unit's portal
//! and e-mailed over SMTP) → the named findings carry its deadline → the scheduler's recheck
//! closes what was fixed and flags the rest overdue.
//!
//! `template` is the notice as data; `draft` builds a draft from a cycle; `render` and `pdf`
//! lay it out; `mail` speaks SMTP. This module holds the workflow and who may do what.

pub mod annual;
pub mod draft;
pub mod mail;
pub mod pdf;
pub mod render;
pub mod template;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use draft::{build_draft, day_zh, deadline_after, named_findings, notice_finding};
pub use mail::{Mail, Mailer, SMTP_FROM_SETTING, SMTP_SETTING};
pub use pdf::{PdfError, PdfOptions};
pub use template::{NoticeTemplate, SHIPPED_TEMPLATE, TemplateError};

use crate::model::{Account, Role};
use crate::store::{Notice, NoticeWriteError, Store, StoreError};

/// An e-mail is tried this many times when a notice is published (with a pause between)…
const SEND_ATTEMPTS: u32 = 3;
const SEND_PAUSE: Duration = Duration::from_secs(1);
/// …and the scheduler's recheck tries failed ones again until this many attempts in all.
pub const MAX_EMAIL_ATTEMPTS: i64 = 10;

/// Why a step of the workflow did not happen.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The account may not do this (role, own draft): exit code 2, HTTP 403.
    #[error("{0}")]
    Refused(String),
    /// Something the person asking can fix (a cycle without ranking, a bad template).
    #[error("{0}")]
    BadInput(String),
    /// No notice has this id; holds the id as given.
    #[error("通报“{0}”不存在")]
    NotFound(String),
    /// The PDF could not be made (no usable font, a layout failure).
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// The printable page's template failed.
    #[error("通报页面无法生成：{0}")]
    Render(#[from] minijinja::Error),
    /// A file could not be written: its path and why.
    #[error("无法写入 {0}：{1}")]
    Write(String, String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<NoticeWriteError> for NotifyError {
    fn from(error: NoticeWriteError) -> Self {
        match error {
            NoticeWriteError::NotFound(id) => NotifyError::NotFound(id),
            NoticeWriteError::OwnDraft => NotifyError::Refused(error.to_string()),
            NoticeWriteError::WrongStatus(..) => NotifyError::BadInput(error.to_string()),
            NoticeWriteError::Store(error) => NotifyError::Store(error),
        }
    }
}

/// The account `username`, which must be enabled and have one of `roles`.
pub async fn require_role(
    store: &Store,
    username: &str,
    roles: &[Role],
    what: &str,
) -> Result<Account, NotifyError> {
    let account = store.account(username).await?.map(|(account, _)| account);
    match account {
        Some(account) if !account.disabled && roles.contains(&account.role) => Ok(account),
        Some(account) if account.disabled => Err(NotifyError::Refused(format!("账号 {username} 已停用"))),
        Some(account) => {
            Err(NotifyError::Refused(format!("账号 {username}（{}）无权{what}", account.role.label_zh())))
        }
        None => Err(NotifyError::Refused(format!("账号 {username} 不存在"))),
    }
}

/// Drafts a notice naming `cycle`'s laggards. Only an office account drafts.
pub async fn draft(
    store: &Store,
    cycle: &str,
    by: &str,
    template: &NoticeTemplate,
) -> Result<Notice, NotifyError> {
    require_role(store, by, &[Role::Office], "起草通报").await?;
    let today = crate::model::CityClock::default().today();
    let Some(new) = build_draft(store, cycle, by, template, today).await? else {
        return Err(NotifyError::BadInput(format!("周期“{cycle}”没有排名结果；请先运行 gongkai assess")));
    };
    let id = store.create_notice(&new).await?;
    store.notice(&id).await?.ok_or(NotifyError::NotFound(id))
}

/// Approves a draft. Only a leader approves, never the drafter (checked again in the store).
pub async fn approve(store: &Store, id: &str, by: &str) -> Result<Notice, NotifyError> {
    require_role(store, by, &[Role::Leader], "审批通报").await?;
    let notice = store.notice(id).await?.ok_or_else(|| NotifyError::NotFound(id.to_string()))?;
    if notice.drafted_by == by {
        return Err(NotifyError::Refused("起草人不能审批自己起草的通报".into()));
    }
    let template = NoticeTemplate::parse(&notice.template, "通报草稿所用模板")
        .map_err(|e| NotifyError::BadInput(e.to_string()))?;
    Ok(store.approve_notice(id, by, &template.number_pattern).await?)
}

/// How to publish.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// The SMTP URL; default: the `smtp.url` setting. Without either, e-mails are recorded
    /// as failed ("no mail server") and the recheck sends them once one is configured.
    pub smtp: Option<String>,
    /// Write `<number>.pdf` and `<number>.html` here.
    pub out: Option<PathBuf>,
}

/// What publishing did.
#[derive(Debug, Clone, Serialize)]
pub struct PublishOutcome {
    /// The notice as published, with its deliveries.
    pub notice: Notice,
    /// Where the PDF was written, when `out` was given.
    pub pdf: Option<PathBuf>,
    /// Where the printable page was written, when `out` was given.
    pub html: Option<PathBuf>,
    /// E-mails accepted by the mail server.
    pub emails_sent: usize,
    /// E-mails that failed (or had no address or server); the recheck tries them again.
    pub emails_failed: usize,
}

/// The notice as a printable page and as PDF bytes (the template's font embedded).
pub fn documents(notice: &Notice, options: PdfOptions) -> Result<(String, Vec<u8>), NotifyError> {
    let template = NoticeTemplate::parse(&notice.template, "通报所用模板")
        .map_err(|e| NotifyError::BadInput(e.to_string()))?;
    let html = render::html(notice, &template.addressees)?;
    let font_path = template.font_path().ok_or(PdfError::NoFont)?;
    let cjk = pdf::load_font(&font_path)?;
    let latin = template.latin_font_path().map(|p| pdf::load_font(&p)).transpose()?;
    let bytes = pdf::pdf(notice, &template.addressees, &pdf::PdfFonts { cjk, latin }, options)?;
    Ok((html, bytes))
}

/// A file name for a notice: its number (or id), without path separators.
pub fn file_stem(notice: &Notice) -> String {
    let name = notice.number.clone().unwrap_or_else(|| notice.id.replace(':', "-"));
    name.chars().map(|c| if matches!(c, '/' | '\\' | '\0') { '-' } else { c }).collect()
}

/// Publishes an approved notice: PDF and page, portal deliveries, the deadline on the named
/// findings, and one e-mail per named unit with a registered address (each tried
/// [`SEND_ATTEMPTS`] times, every attempt's outcome recorded). Only an office account publishes.
pub async fn publish(
    store: &Store,
    id: &str,
    by: &str,
    options: &PublishOptions,
) -> Result<PublishOutcome, NotifyError> {
    require_role(store, by, &[Role::Office], "发布通报").await?;
    let notice = store.notice(id).await?.ok_or_else(|| NotifyError::NotFound(id.to_string()))?;
    if notice.status != "approved" {
        return Err(NotifyError::BadInput(format!(
            "通报当前状态为“{}”，须先经领导审批才能发布",
            notice.status
        )));
    }
    // Render before anything changes: a missing font must not leave a half-published notice.
    let (html, pdf_bytes) = documents(&notice, PdfOptions::default())?;
    let notice = store.publish_notice(id, by).await?;
    let (mut pdf_path, mut html_path) = (None, None);
    if let Some(dir) = &options.out {
        let (p, h) = write_files(dir, &notice, &html, &pdf_bytes)?;
        pdf_path = Some(p);
        html_path = Some(h);
    }
    let mailer = mailer(store, &notice, options.smtp.as_deref()).await?;
    let (mut sent, mut failed) = (0, 0);
    for unit in &notice.units {
        let Some(address) = unit_email(store, &unit.unit).await? else { continue };
        let mail = compose(&notice, &unit.name, &address, &pdf_bytes)?;
        let outcome = send_with_retries(mailer.as_ref(), &mail).await;
        if outcome.is_ok() {
            sent += 1;
        } else {
            failed += 1;
        }
        store.record_email_delivery(&notice.id, &unit.unit, &address, outcome).await?;
    }
    let notice = store.notice(id).await?.unwrap_or(notice);
    Ok(PublishOutcome { notice, pdf: pdf_path, html: html_path, emails_sent: sent, emails_failed: failed })
}

/// Writes `<number>.pdf` and `<number>.html` into `dir`.
pub fn write_files(
    dir: &Path,
    notice: &Notice,
    html: &str,
    pdf: &[u8],
) -> Result<(PathBuf, PathBuf), NotifyError> {
    let failed =
        |path: &Path, e: std::io::Error| NotifyError::Write(path.display().to_string(), e.to_string());
    std::fs::create_dir_all(dir).map_err(|e| failed(dir, e))?;
    let stem = file_stem(notice);
    let pdf_path = dir.join(format!("{stem}.pdf"));
    let html_path = dir.join(format!("{stem}.html"));
    std::fs::write(&pdf_path, pdf).map_err(|e| failed(&pdf_path, e))?;
    std::fs::write(&html_path, html).map_err(|e| failed(&html_path, e))?;
    Ok((pdf_path, html_path))
}

async fn unit_email(store: &Store, code: &str) -> Result<Option<String>, NotifyError> {
    let Ok(code) = crate::model::OrgCode::parse(code) else { return Ok(None) };
    Ok(store.unit(&code).await?.and_then(|u| u.email).filter(|e| !e.trim().is_empty()))
}

/// The mailer for `smtp` or the configured server; `None` when there is none.
async fn mailer(store: &Store, notice: &Notice, smtp: Option<&str>) -> Result<Option<Mailer>, NotifyError> {
    let url = match smtp {
        Some(url) => Some(url.to_string()),
        None => store.setting(SMTP_SETTING).await?,
    };
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else { return Ok(None) };
    let template = NoticeTemplate::parse(&notice.template, "通报所用模板")
        .map_err(|e| NotifyError::BadInput(e.to_string()))?;
    let from = store.setting(SMTP_FROM_SETTING).await?.unwrap_or(template.email.from);
    Mailer::new(&url, &from).map(Some).map_err(NotifyError::BadInput)
}

fn compose(notice: &Notice, unit_name: &str, address: &str, pdf: &[u8]) -> Result<Mail, NotifyError> {
    let template = NoticeTemplate::parse(&notice.template, "通报所用模板")
        .map_err(|e| NotifyError::BadInput(e.to_string()))?;
    let number = notice.number.clone().unwrap_or_default();
    let deadline = day_zh(notice.deadline);
    let values = [
        ("number", number.as_str()),
        ("title", notice.title.as_str()),
        ("issuer", notice.issuer.as_str()),
        ("unit_name", unit_name),
        ("deadline", deadline.as_str()),
    ];
    Ok(Mail {
        to: address.to_string(),
        subject: template::fill(&template.email.subject, &values),
        body: template::fill(&template.email.body, &values),
        attachment: Some((format!("{}.pdf", file_stem(notice)), pdf.to_vec())),
    })
}

async fn send_with_retries(mailer: Option<&Mailer>, mail: &Mail) -> Result<(), String> {
    let Some(mailer) = mailer else {
        return Err("未配置邮件服务器（--smtp 或设置 smtp.url）".into());
    };
    let mut last = String::new();
    for attempt in 1..=SEND_ATTEMPTS {
        match mailer.send(mail).await {
            Ok(()) => return Ok(()),
            Err(error) => last = error,
        }
        if attempt < SEND_ATTEMPTS {
            tokio::time::sleep(SEND_PAUSE * attempt).await;
        }
    }
    Err(last)
}

/// Sends the failed e-mails of published notices again (the scheduler's recheck does this
/// every run): returns (tried, sent).
pub async fn retry_failed_emails(store: &Store) -> Result<(usize, usize), NotifyError> {
    let failed = store.failed_email_deliveries(MAX_EMAIL_ATTEMPTS).await?;
    let (mut tried, mut sent) = (0, 0);
    for (id, delivery) in failed {
        let Some(notice) = store.notice(&id).await?.filter(|n| n.status == "published") else { continue };
        let Some(mailer) = mailer(store, &notice, None).await? else { break };
        let Some(address) = delivery.address.clone() else { continue };
        let name =
            notice.units.iter().find(|u| u.unit == delivery.unit).map(|u| u.name.clone()).unwrap_or_default();
        let (_, pdf) = documents(&notice, PdfOptions::default())?;
        let mail = compose(&notice, &name, &address, &pdf)?;
        let outcome = mailer.send(&mail).await;
        tried += 1;
        if outcome.is_ok() {
            sent += 1;
        }
        store.record_email_delivery(&id, &delivery.unit, &address, outcome).await?;
    }
    Ok((tried, sent))
}

/// A unit's contact acknowledges a notice in the portal.
pub async fn acknowledge(store: &Store, id: &str, by: &str) -> Result<(), NotifyError> {
    let account = require_role(store, by, &[Role::Unit], "签收通报").await?;
    let unit = account.unit.ok_or_else(|| NotifyError::Refused("该账号未关联单位".into()))?;
    if store.acknowledge_notice(id, unit.as_str(), by).await? {
        Ok(())
    } else {
        Err(NotifyError::Refused("本通报未点名贵单位".into()))
    }
}

/// The Chinese name of a notice's status (草稿, 已审批, 已发布, 已撤回), for pages and the CLI.
pub fn status_zh(status: &str) -> &'static str {
    match status {
        "draft" => "草稿",
        "approved" => "已审批",
        "published" => "已发布",
        "withdrawn" => "已撤回",
        _ => "未知",
    }
}
