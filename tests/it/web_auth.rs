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

/// The session cookie's value as the browser holds it (encrypted), to replay from elsewhere.
fn session_cookie(client: &rocket::local::asynchronous::Client) -> String {
    client.cookies().get("gk_session").map(|c| c.value().to_string()).expect("signed in")
}

/// The status of GET /account with only the copied session cookie, from a browser that never
/// signed in.
async fn replay(city: &City, cookie: &str) -> Status {
    let thief = city.client().await;
    let copied = rocket::http::Cookie::new("gk_session", cookie.to_string());
    thief.get("/account").cookie(copied).dispatch().await.status()
}

#[tokio::test]
async fn a_cookie_copied_before_logout_is_refused_after_it() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("leader1").await;
    let copied = session_cookie(&client);
    assert_eq!(replay(&city, &copied).await, Status::Ok, "the copy works while the session lives");
    let (other_device, _) = city.signed_in("leader1").await;
    post_form(&client, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(replay(&city, &copied).await, Status::SeeOther, "the copy died with the logout");
    assert_eq!(
        other_device.get("/account").dispatch().await.status(),
        Status::SeeOther,
        "signing out ends the account's sessions on every device"
    );
    login(&client, "leader1", PASSWORD).await;
    assert_eq!(client.get("/account").dispatch().await.status(), Status::Ok, "a new login works");
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_but_keeps_this_one() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("inspector1").await;
    let copied = session_cookie(&client);
    assert_eq!(replay(&city, &copied).await, Status::Ok);
    let new_password = "a-much-better-passphrase";
    let response = post_form(
        &client,
        "/account/password",
        &[("csrf", &csrf), ("current", PASSWORD), ("new_password", new_password), ("repeat", new_password)],
    )
    .await;
    assert_eq!(location(&response), "/account");
    assert_eq!(replay(&city, &copied).await, Status::SeeOther, "the copy died with the old password");
    assert_eq!(client.get("/account").dispatch().await.status(), Status::Ok, "the changer stays signed in");
}

#[tokio::test]
async fn an_office_reset_or_disabling_ends_sessions_for_good() {
    let city = City::new().await;
    let (office, office_csrf) = city.signed_in("office1").await;
    let (victim, _) = city.signed_in("unit1").await;
    let copied = session_cookie(&victim);
    assert_eq!(replay(&city, &copied).await, Status::Ok);
    let reset = "reset-by-the-office-1";
    post_form(
        &office,
        "/office/accounts/password",
        &[("csrf", &office_csrf), ("username", "unit1"), ("password", reset), ("repeat", reset)],
    )
    .await;
    assert_eq!(replay(&city, &copied).await, Status::SeeOther, "a reset ends the old sessions");

    let (victim, _) = {
        let client = city.client().await;
        let csrf = login(&client, "unit3", PASSWORD).await;
        (client, csrf)
    };
    let copied = session_cookie(&victim);
    assert_eq!(replay(&city, &copied).await, Status::Ok);
    for disabled in ["true", "false"] {
        post_form(
            &office,
            "/office/accounts/disabled",
            &[("csrf", &office_csrf), ("username", "unit3"), ("disabled", disabled)],
        )
        .await;
    }
    assert_eq!(replay(&city, &copied).await, Status::SeeOther, "re-enabling does not revive old cookies");
    login(&city.client().await, "unit3", PASSWORD).await;
}

/// Posts a failed login from `peer` with extra headers; returns the status.
async fn failed_login(
    client: &rocket::local::asynchronous::Client,
    username: &str,
    peer: &str,
    headers: &[(&'static str, String)],
) -> Status {
    let page = client.get("/login").dispatch().await.into_string().await.expect("page");
    let mut request =
        client.post("/login").remote(peer.parse().expect("socket address")).header(ContentType::Form).body(
            form(&[("csrf", &csrf_from(&page)), ("username", username), ("password", "wrong-password-123")]),
        );
    for (name, value) in headers {
        request = request.header(Header::new(*name, value.clone()));
    }
    request.dispatch().await.status()
}

#[tokio::test]
async fn forged_address_headers_do_not_reset_the_throttle_and_spraying_is_limited() {
    let city = City::new().await;
    let client = city.client().await;
    let peer = "198.51.100.20:40000";
    for n in 0..5 {
        let status = failed_login(&client, "leader1", peer, &[("X-Real-IP", format!("10.9.0.{n}"))]).await;
        assert_eq!(status, Status::Unauthorized, "attempt {n}");
    }
    let status = failed_login(&client, "leader1", peer, &[("X-Real-IP", "10.9.1.1".into())]).await;
    assert_eq!(status, Status::TooManyRequests, "a new X-Real-IP is not a new client");

    // One guess at each of many accounts from one address: the address locks.
    let sprayer = "198.51.100.21:40000";
    let mut statuses = Vec::new();
    for n in 0..12 {
        let headers = [("X-Real-IP", format!("10.8.0.{n}")), ("X-Forwarded-For", format!("10.7.0.{n}"))];
        statuses.push(failed_login(&client, &format!("user{n}"), sprayer, &headers).await);
    }
    assert_eq!(statuses[..10], [Status::Unauthorized; 10]);
    assert_eq!(statuses[10..], [Status::TooManyRequests; 2], "spraying is limited per address");
    // Someone at another address is not locked out.
    let status = failed_login(&client, "office1", "198.51.100.22:40000", &[]).await;
    assert_eq!(status, Status::Unauthorized);
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_client_is_throttled() {
    let city = City::new().await;
    let config = gongkai::web::WebConfig {
        trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
        ..gongkai::web::WebConfig::default()
    };
    let client = rocket::local::asynchronous::Client::tracked(
        gongkai::web::build(city.store.clone(), config).await.expect("rocket"),
    )
    .await
    .expect("client");
    let proxy = "127.0.0.1:50000";
    for n in 0..10 {
        let xff = [("X-Forwarded-For", "6.6.6.6, 203.0.113.5".to_string())];
        assert_eq!(failed_login(&client, &format!("spray{n}"), proxy, &xff).await, Status::Unauthorized);
    }
    let locked = [("X-Forwarded-For", "1.2.3.4, 203.0.113.5".to_string())];
    assert_eq!(failed_login(&client, "spray-next", proxy, &locked).await, Status::TooManyRequests);
    let other = [("X-Forwarded-For", "203.0.113.6".to_string())];
    assert_eq!(
        failed_login(&client, "spray-next", proxy, &other).await,
        Status::Unauthorized,
        "another client"
    );
}

#[tokio::test]
async fn a_next_with_spaces_or_tabs_lands_safely_after_login() {
    let city = City::new().await;
    for next in ["/account\t", "/units/a b", "/\u{7f}x"] {
        let client = city.client().await;
        let page = client.get("/login").dispatch().await.into_string().await.expect("page");
        let response = post_form(
            &client,
            "/login",
            &[("csrf", &csrf_from(&page)), ("username", "leader1"), ("password", PASSWORD), ("next", next)],
        )
        .await;
        assert_eq!(response.status(), Status::SeeOther, "{next:?}");
        assert_eq!(location(&response), "/rankings", "{next:?}");
    }
}
