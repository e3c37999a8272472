//! Security headers on every response, pages, API and errors alike.
//!
//! - A strict Content-Security-Policy: the dashboard uses no script at all and loads nothing
//!   from elsewhere, so `default-src 'self'` with no inline code; crawled text that slipped
//!   past escaping could still not run.
//! - No framing (clickjacking), no MIME sniffing, no referrer leaving the site.
//! - When `--public-url https://…` says TLS ends in front of gongkai, every cookie is marked
//!   `Secure` (the session, the login form's token, Rocket's flash messages) and HSTS is sent.
//!   Without it gongkai cannot know: behind a proxy it only ever sees plain HTTP.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

/// Sent on every response: only this server's own styles and images, no script, no plugins, no
/// framing, forms posting only back here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'; object-src 'none'";

/// One year, the usual HSTS lifetime.
const HSTS: &str = "max-age=31536000";

/// The Rocket fairing that adds the security headers to every response.
pub struct SecurityHeaders {
    tls_in_front: bool,
}

impl SecurityHeaders {
    /// Headers for a server reached at `public_url` (`--public-url`): an `https://` address
    /// turns on `Secure` cookies and HSTS.
    pub fn new(public_url: Option<&str>) -> Self {
        let tls_in_front =
            public_url.is_some_and(|url| url.trim().to_ascii_lowercase().starts_with("https://"));
        Self { tls_in_front }
    }
}

/// A `Set-Cookie` value with the `Secure` attribute added when it lacks one.
fn secure_cookie(value: &str) -> String {
    let has_secure =
        value.split(';').skip(1).any(|attribute| attribute.trim().eq_ignore_ascii_case("secure"));
    if has_secure { value.to_string() } else { format!("{value}; Secure") }
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info { name: "security headers", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, _request: &'r Request<'_>, response: &mut Response<'r>) {
        response.set_header(Header::new("Content-Security-Policy", CONTENT_SECURITY_POLICY));
        response.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        response.set_header(Header::new("X-Frame-Options", "DENY"));
        response.set_header(Header::new("Referrer-Policy", "same-origin"));
        if self.tls_in_front {
            response.set_header(Header::new("Strict-Transport-Security", HSTS));
            let cookies: Vec<String> = response.headers().get("Set-Cookie").map(secure_cookie).collect();
            if !cookies.is_empty() {
                response.remove_header("Set-Cookie");
                for cookie in cookies {
                    response.adjoin_header(Header::new("Set-Cookie", cookie));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_get_secure_once() {
        assert_eq!(secure_cookie("a=b; Path=/; HttpOnly"), "a=b; Path=/; HttpOnly; Secure");
        assert_eq!(secure_cookie("a=b; Secure; Path=/"), "a=b; Secure; Path=/");
        assert_eq!(
            secure_cookie("secure=1"),
            "secure=1; Secure",
            "a cookie named secure is not the attribute"
        );
    }

    #[test]
    fn only_an_https_public_url_means_tls_in_front() {
        assert!(SecurityHeaders::new(Some("HTTPS://gk.example.gov.cn/")).tls_in_front);
        assert!(!SecurityHeaders::new(Some("http://gk.example.gov.cn/")).tls_in_front);
        assert!(!SecurityHeaders::new(None).tls_in_front);
    }
}
