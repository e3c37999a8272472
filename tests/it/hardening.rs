//! Security and reliability hardening (issue #14): response headers and cookies, uniform 404s
//! for other units' records, API token scopes, database credentials, large imports.

use gongkai::store::{AuditEntry, StoreConfig, StoreError, TokenScope, TokenSpec};
use gongkai::web::{WebConfig, build};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;

use crate::support::{HEADER, credit_code};
use crate::web_support::{City, PASSWORD, csrf_from, form, login};

fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

async fn client_with(city: &City, config: WebConfig) -> Client {
    Client::tracked(build(city.store.clone(), config).await.expect("rocket")).await.expect("client")
}

#[tokio::test]
async fn every_response_has_a_strict_csp_and_no_framing() {
    let city = City::new().await;
    let (client, _) = city.signed_in("office1").await;
    for path in ["/login", "/rankings", "/api/v1/me", "/no-such-page", "/api/v1/no-such"] {
        let response = client.get(path).dispatch().await;
        let csp = response.headers().get_one("Content-Security-Policy").unwrap_or_default().to_string();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert_eq!(response.headers().get_one("X-Frame-Options"), Some("DENY"), "{path}");
        assert_eq!(response.headers().get_one("X-Content-Type-Options"), Some("nosniff"), "{path}");
        assert_eq!(response.headers().get_one("Strict-Transport-Security"), None, "{path}: plain HTTP");
    }
}

#[tokio::test]
async fn behind_tls_cookies_are_secure_and_hsts_is_sent() {
    let city = City::new().await;
    let config = WebConfig { public_url: Some("https://gk.example.gov.cn/".into()), ..WebConfig::default() };
    let client = client_with(&city, config).await;
    let response = client.get("/login").dispatch().await;
    assert_eq!(response.headers().get_one("Strict-Transport-Security"), Some("max-age=31536000"));
    let cookies: Vec<&str> = response.headers().get("Set-Cookie").collect();
    assert!(!cookies.is_empty());
    assert!(cookies.iter().all(|c| c.contains("; Secure")), "{cookies:?}");
    let page = response.into_string().await.expect("page");
    let response = client
        .post("/login")
        .header(ContentType::Form)
        .body(form(&[("csrf", &csrf_from(&page)), ("username", "office1"), ("password", PASSWORD)]))
        .dispatch()
        .await;
    let session: Vec<&str> =
        response.headers().get("Set-Cookie").filter(|c| c.starts_with("gk_session=")).collect();
    assert_eq!(session.len(), 1);
    assert!(session[0].contains("; Secure") && session[0].contains("HttpOnly"), "{session:?}");

    // Without --public-url https://…, nothing claims TLS.
    let plain = city.client().await;
    let response = plain.get("/login").dispatch().await;
    assert!(response.headers().get("Set-Cookie").all(|c| !c.contains("Secure")));
}

#[tokio::test]
async fn another_units_finding_is_not_found_exactly_like_a_missing_one() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("unit1").await;
    let token = city
        .store
        .create_api_token("unit1", "脚本", AuditEntry::new("unit1", "token.create"))
        .await
        .expect("token");
    let other = city.other_finding.clone();
    let missing = "finding:doesnotexist".to_string();
    let key = |id: &str| id.trim_start_matches("finding:").to_string();

    let page = |id: String| {
        let client = &client;
        async move {
            let response = client.get(format!("/findings/{id}")).dispatch().await;
            (response.status(), response.into_string().await.unwrap_or_default())
        }
    };
    let (other_status, other_body) = page(other.clone()).await;
    let (missing_status, missing_body) = page(missing.clone()).await;
    assert_eq!((other_status, missing_status), (Status::NotFound, Status::NotFound));
    assert_eq!(other_body, missing_body, "the two pages cannot be told apart");

    for id in [&other, &missing] {
        let response =
            client.get(format!("/api/v1/findings/{}", key(id))).header(bearer(&token)).dispatch().await;
        assert_eq!(response.status(), Status::NotFound, "API {id}");
        let response = client
            .post(format!("/api/v1/findings/{}/actions", key(id)))
            .header(bearer(&token))
            .header(ContentType::JSON)
            .body(r#"{"action":"rectify","note":"已整改"}"#)
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::NotFound, "API action on {id}");
        let response = client
            .post(format!("/findings/{id}/act"))
            .header(ContentType::Form)
            .body(form(&[("csrf", &csrf), ("action", "rectify"), ("note", "已整改")]))
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::NotFound, "form action on {id}");
    }
    // The unit's own finding is still there.
    let response = client.get(format!("/findings/{}", city.spam_finding)).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
}

#[tokio::test]
async fn a_read_token_reads_but_never_writes() {
    let city = City::new().await;
    let spec = TokenSpec { scope: TokenScope::Read, days: 30 };
    let read = city
        .store
        .create_scoped_token("unit1", "只读", spec, AuditEntry::new("unit1", "token.create"))
        .await
        .expect("token");
    let write = city
        .store
        .create_scoped_token(
            "unit1",
            "读写",
            TokenSpec { scope: TokenScope::Write, days: 30 },
            AuditEntry::new("unit1", "token.create"),
        )
        .await
        .expect("token");
    let client = city.client().await;
    let key = city.spam_finding.trim_start_matches("finding:").to_string();
    let response = client.get(format!("/api/v1/findings/{key}")).header(bearer(&read)).dispatch().await;
    assert_eq!(response.status(), Status::Ok, "reading works");
    let act = |token: String| {
        let client = &client;
        let key = key.clone();
        async move {
            client
                .post(format!("/api/v1/findings/{key}/actions"))
                .header(bearer(&token))
                .header(ContentType::JSON)
                .body(r#"{"action":"rectify","note":"已整改"}"#)
                .dispatch()
                .await
                .status()
        }
    };
    assert_eq!(act(read).await, Status::Forbidden, "a read token cannot write");
    assert_eq!(act(write).await, Status::Ok, "a write token can, within the role");

    let listed = city.store.api_tokens("unit1").await.expect("tokens");
    assert!(
        listed.iter().all(|t| !t.expired && t.expires_at > chrono::Utc::now() + chrono::Duration::days(29))
    );
    assert!(listed.iter().any(|t| t.scope == TokenScope::Read));
}

#[tokio::test]
async fn tokens_are_made_with_a_scope_and_an_expiry_from_the_account_page() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("leader1").await;
    for (scope, days, ok) in [
        ("read", "7", true),
        ("write", "365", true),
        ("admin", "7", false),
        ("read", "0", false),
        ("read", "9999", false),
    ] {
        let response = client
            .post("/account/tokens")
            .header(ContentType::Form)
            .body(form(&[("csrf", &csrf), ("label", "脚本"), ("scope", scope), ("days", days)]))
            .dispatch()
            .await;
        assert_eq!(response.status() == Status::Ok, ok, "{scope} {days}: {}", response.status());
    }
    let tokens = city.store.api_tokens("leader1").await.expect("tokens");
    assert_eq!(tokens.len(), 2);
    let days: Vec<i64> =
        tokens.iter().map(|t| (t.expires_at - t.created_at).num_hours().div_euclid(24) + 1).collect();
    assert!(days.contains(&7) || days.contains(&6), "{days:?}");
    let page = client.get("/account").dispatch().await.into_string().await.expect("page");
    assert!(page.contains("只读") && page.contains("读写"), "the list shows each token's scope");
}

#[tokio::test]
async fn a_database_server_needs_credentials() {
    for (user, pass) in [(None, None), (Some("root"), None), (None, Some("root")), (Some(""), Some(""))] {
        let config = StoreConfig {
            url: "ws://127.0.0.1:9".into(),
            username: user.map(str::to_string),
            password: pass.map(str::to_string),
        };
        let error = gongkai::store::Store::connect(&config).await.expect_err("refused");
        assert!(matches!(error, StoreError::MissingCredentials { .. }), "{user:?}/{pass:?}: {error}");
        assert!(error.to_string().contains("--db-user"), "{error}");
    }
}

/// A multipart body with text fields only.
fn multipart_text(fields: &[(&str, &str)]) -> (ContentType, Vec<u8>) {
    let boundary = "gongkai-hardening-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (ContentType::new("multipart", "form-data").with_params(("boundary", boundary)), body)
}

#[tokio::test]
async fn a_pasted_registry_of_almost_ten_megabytes_is_imported() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    // Two new units; the padding (trimmed away) brings the paste near 10 MB.
    let padding = " ".repeat(9_900_000);
    let csv = format!(
        "{HEADER}{a},大文件局,department,,http://big1.example.cn/,,\n{b},{padding}大文件中心,institution,{a},http://big2.example.cn/,,\n",
        a = credit_code(21),
        b = credit_code(22),
    );
    assert!(csv.len() > 9_000_000);
    let (content_type, body) = multipart_text(&[("csrf", &csrf), ("text", &csv)]);
    let response = client.post("/office/units/import").header(content_type).body(body).dispatch().await;
    assert_eq!(
        response.status(),
        Status::SeeOther,
        "{:?}",
        response.into_string().await.map(|b| b.chars().take(300).collect::<String>())
    );
    let names: Vec<String> = city.store.units().await.expect("units").into_iter().map(|u| u.name).collect();
    assert!(names.contains(&"大文件中心".to_string()), "{names:?}");
}

#[tokio::test]
async fn signing_in_still_works_after_the_security_changes() {
    let city = City::new().await;
    let client = city.client().await;
    login(&client, "office1", PASSWORD).await;
    assert_eq!(client.get("/rankings").dispatch().await.status(), Status::Ok);
}
