//! Signing in and out: sessions, login CSRF, throttling, password changes, API tokens.

use rocket::http::{ContentType, Header, Status};

use crate::web_support::{City, PASSWORD, csrf_from, form, login, post_form};

fn location(response: &rocket::local::asynchronous::LocalResponse<'_>) -> String {
    response.headers().get_one("Location").unwrap_or_default().to_string()
}

#[tokio::test]
async fn pages_need_a_session_and_send_people_back_after_login() {
    let city = City::new().await;
    let client = city.client().await;
    let response = client.get("/account").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/login?next=%2Faccount");

    let page = client.get("/login?next=/account").dispatch().await.into_string().await.expect("page");
    let token = csrf_from(&page);
    let response = post_form(
        &client,
        "/login",
        &[("csrf", &token), ("username", "leader1"), ("password", PASSWORD), ("next", "/account")],
    )
    .await;
    assert_eq!(location(&response), "/account");
    assert_eq!(client.get("/account").dispatch().await.status(), Status::Ok);
}

#[tokio::test]
async fn each_role_lands_on_its_own_page_and_open_redirects_are_ignored() {
    let city = City::new().await;
    for (user, landing) in
        [("office1", "/rankings"), ("leader1", "/rankings"), ("inspector1", "/inspector"), ("unit1", "/my")]
    {
        let client = city.client().await;
        let page = client.get("/login").dispatch().await.into_string().await.expect("page");
        let response = post_form(
            &client,
            "/login",
            &[
                ("csrf", &csrf_from(&page)),
                ("username", user),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
        assert_eq!(location(&response), landing, "{user}");
        let home = client.get("/").dispatch().await;
        assert_eq!(location(&home), landing, "{user} at /");
    }
}

#[tokio::test]
async fn login_needs_the_form_token_the_server_gave_this_browser() {
    let city = City::new().await;
    let client = city.client().await;
    // No GET /login first: no login cookie, so even the right password is refused.
    let response =
        post_form(&client, "/login", &[("csrf", "forged"), ("username", "office1"), ("password", PASSWORD)])
            .await;
    assert_eq!(response.status(), Status::Forbidden);
    let response = client.get("/account").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther, "no session was started");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_name_even_for_the_right_password() {
    let city = City::new().await;
    let client = city.client().await;
    for attempt in 1..=5 {
        let page = client.get("/login").dispatch().await.into_string().await.expect("page");
        let response = post_form(
            &client,
            "/login",
            &[("csrf", &csrf_from(&page)), ("username", "leader1"), ("password", "wrong-password-123")],
        )
        .await;
        assert_eq!(response.status(), Status::Unauthorized, "attempt {attempt}");
        let body = response.into_string().await.expect("body");
        assert!(body.contains("用户名或密码错误"), "attempt {attempt}: {body}");
    }
    let page = client.get("/login").dispatch().await.into_string().await.expect("page");
    let response = post_form(
        &client,
        "/login",
        &[("csrf", &csrf_from(&page)), ("username", "LEADER1"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(response.status(), Status::TooManyRequests);
    assert!(response.into_string().await.expect("body").contains("分钟后再试"));
    assert_eq!(client.get("/account").dispatch().await.status(), Status::SeeOther, "still signed out");

    // Another person is not locked out by someone guessing leader1's password.
    login(&client, "office1", PASSWORD).await;
}

#[tokio::test]
async fn logout_needs_the_session_token_and_ends_the_session() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("unit1").await;
    let response = post_form(&client, "/logout", &[("csrf", "not-the-token")]).await;
    assert_eq!(response.status(), Status::Forbidden);
    assert_eq!(client.get("/account").dispatch().await.status(), Status::Ok, "a forged logout does nothing");

    let response = post_form(&client, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(location(&response), "/login");
    assert_eq!(client.get("/account").dispatch().await.status(), Status::SeeOther);
}

#[tokio::test]
async fn a_tampered_session_cookie_is_no_session() {
    let city = City::new().await;
    let client = city.client().await;
    let response = client
        .get("/account")
        .header(Header::new(
            "Cookie",
            "gk_session=%7B%22u%22%3A%22office1%22%2C%22csrf%22%3A%22x%22%2C%22exp%22%3A9999999999%7D",
        ))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther, "a plain-text cookie is not a private cookie");
}

#[tokio::test]
async fn changing_a_password_checks_the_old_one_and_is_audited() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("inspector1").await;
    let new_password = "a-much-better-passphrase";
    let response = post_form(
        &client,
        "/account/password",
        &[
            ("csrf", &csrf),
            ("current", "wrong-current-pw"),
            ("new_password", new_password),
            ("repeat", new_password),
        ],
    )
    .await;
    assert_eq!(location(&response), "/account");
    let page = client.get("/account").dispatch().await.into_string().await.expect("page");
    assert!(page.contains("当前密码不正确"), "{page}");

    let response = post_form(
        &client,
        "/account/password",
        &[("csrf", &csrf), ("current", PASSWORD), ("new_password", "short"), ("repeat", "short")],
    )
    .await;
    assert_eq!(location(&response), "/account");
    assert!(
        client.get("/account").dispatch().await.into_string().await.expect("page").contains("至少 10 个字符")
    );

    let response = post_form(
        &client,
        "/account/password",
        &[("csrf", &csrf), ("current", PASSWORD), ("new_password", new_password), ("repeat", new_password)],
    )
    .await;
    assert_eq!(location(&response), "/account");
    let (_, hash) = city.store.account("inspector1").await.expect("read").expect("account");
    assert!(gongkai::auth::verify_password(new_password, &hash));
    assert!(!gongkai::auth::verify_password(PASSWORD, &hash));
    let audit = city.store.audit_entries(10).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "account.password" && e.actor == "inspector1"));

    let other = city.client().await;
    login(&other, "inspector1", new_password).await;
}

#[tokio::test]
async fn an_api_token_is_shown_once_and_then_signs_in_scripts() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("leader1").await;
    let page = client
        .post("/account/tokens")
        .header(ContentType::Form)
        .body(form(&[("csrf", &csrf), ("label", "周报脚本")]))
        .dispatch()
        .await
        .into_string()
        .await
        .expect("page");
    let start = page.find("gk_").expect("the new token is shown");
    let token: String =
        page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let again = client.get("/account").dispatch().await.into_string().await.expect("page");
    assert!(!again.contains(&token), "the token is shown only once");
    assert!(again.contains("周报脚本"));

    let script = city.client().await;
    let response = script
        .get("/account")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok, "the token signs a script in");
    let response =
        script.get("/account").header(Header::new("Authorization", "Bearer gk_wrong")).dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
}

#[tokio::test]
async fn a_disabled_account_loses_its_session_at_the_next_request() {
    let city = City::new().await;
    let (client, _) = city.signed_in("unit3").await;
    assert_eq!(client.get("/account").dispatch().await.status(), Status::Ok);
    city.store
        .set_account_disabled("unit3", true, gongkai::store::AuditEntry::new("office1", "account.disable"))
        .await
        .expect("disable");
    assert_eq!(client.get("/account").dispatch().await.status(), Status::SeeOther);
}
