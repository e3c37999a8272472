//! The office pages: registry import, accounts, groups, background jobs, cycles, the audit log,
//! and that no other role reaches any of it.

use std::time::Duration;

use gongkai::store::Store;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

use crate::support::{HEADER, credit_code};
use crate::web_support::{City, PASSWORD, login, post_form, unit};

fn location(response: &LocalResponse<'_>) -> String {
    response.headers().get_one("Location").unwrap_or_default().to_string()
}

async fn page(client: &Client, path: &str) -> (Status, String) {
    let response = client.get(path.to_string()).dispatch().await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

/// A multipart/form-data body with text fields and one file, as a browser sends the upload.
fn multipart(fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> (ContentType, Vec<u8>) {
    let boundary = "gongkai-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    let (name, file_name, bytes) = file;
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = ContentType::new("multipart", "form-data").with_params(("boundary", boundary));
    (content_type, body)
}

async fn audit_count(store: &Store) -> usize {
    store.audit_entries(10_000).await.expect("audit").len()
}

/// The job id a start redirect points to.
fn job_id(response: &LocalResponse<'_>) -> u64 {
    let target = location(response);
    target
        .strip_prefix("/office/jobs/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("job page: {target}"))
}

/// Polls the job's status JSON until it is no longer running (bounded: about a minute).
async fn wait_for_job(client: &Client, id: u64) -> serde_json::Value {
    for _ in 0..1_200 {
        let (status, body) = page(client, &format!("/office/jobs/{id}/status")).await;
        assert_eq!(status, Status::Ok, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).expect("status JSON");
        if json["state"] != "running" {
            return json;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id} did not finish");
}

async fn start_assessment(client: &Client, csrf: &str, cycle: &str, make_current: bool) -> serde_json::Value {
    let mut fields = vec![
        ("csrf", csrf),
        ("rule_set", "gov-website-2019.toml"),
        ("cycle", cycle),
        ("as_of", "2026-11-30"),
    ];
    if make_current {
        fields.push(("make_current", "on"));
    }
    let response = post_form(client, "/office/jobs/assess", &fields).await;
    assert_eq!(response.status(), Status::SeeOther);
    let id = job_id(&response);
    let job = wait_for_job(client, id).await;
    assert_eq!(job["state"], "finished", "{job}");
    job
}

#[tokio::test]
async fn office_imports_a_registry_through_the_upload_form() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    let csv = format!(
        "{HEADER}{a},戊局,department,,http://u11.example.cn/,,\n{b},己局,department,,http://u12.example.cn/,,\n\
         {c},庚中心,institution,{b},http://u13.example.cn/,,\n",
        a = credit_code(11),
        b = credit_code(12),
        c = credit_code(13),
    );
    let (content_type, body) =
        multipart(&[("csrf", &csrf), ("text", "")], ("file", "units.csv", csv.as_bytes()));
    let response = client.post("/office/units/import").header(content_type).body(body).dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(location(&response), "/office/units");

    let (_, listing) = page(&client, "/office/units").await;
    assert!(listing.contains("新增 3 个"), "{listing}");
    assert!(listing.contains("庚中心"));
    let codes: Vec<String> =
        city.store.units().await.expect("units").iter().map(|u| u.code.to_string()).collect();
    assert_eq!(codes.len(), 7);
    assert!(codes.contains(&credit_code(13)));
    let newest = &city.store.audit_entries(1).await.expect("audit")[0];
    assert_eq!((newest.actor.as_str(), newest.action.as_str()), ("office1", "units.import"));
    assert_eq!(newest.detail["added"], 3);

    let (_, found) = page(&client, "/office/units?q=%E5%BA%9A&kind=institution").await;
    assert!(found.contains("庚中心") && !found.contains("戊局"), "search by name and kind");
}

#[tokio::test]
async fn a_bad_row_refuses_the_whole_import_and_is_named() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    let before = audit_count(&city.store).await;
    let csv = format!(
        "{HEADER}{a},戊局,department,,http://u11.example.cn/,,\n12345,己局,department,,http://u12.example.cn/,,\n",
        a = credit_code(11)
    );
    let response = post_form(&client, "/office/units/import", &[("csrf", &csrf), ("text", &csv)]).await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
    let body = response.into_string().await.expect("page");
    assert!(body.contains("第 3 行 单位代码（code）："), "{body}");
    assert!(!body.contains("第 2 行"), "the good row is not blamed: {body}");
    assert_eq!(city.store.units().await.expect("units").len(), 4, "nothing was imported");
    assert_eq!(audit_count(&city.store).await, before, "nothing was logged as done");
}

#[tokio::test]
async fn accounts_are_checked_before_they_are_created_and_then_can_sign_in() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    let create = |role: &'static str, username: &'static str, unit: String, password: &'static str| {
        let csrf = csrf.clone();
        let client = &client;
        async move {
            post_form(
                client,
                "/office/accounts",
                &[
                    ("csrf", &csrf),
                    ("role", role),
                    ("username", username),
                    ("display_name", "张三"),
                    ("unit", &unit),
                    ("group", ""),
                    ("password", password),
                    ("repeat", password),
                ],
            )
            .await
        }
    };

    let weak = create("leader", "leader2", String::new(), "short").await;
    assert_eq!(weak.status(), Status::UnprocessableEntity);
    let body = weak.into_string().await.expect("page");
    assert!(body.contains("密码至少 10 个字符"), "{body}");
    assert!(body.contains("value=\"leader2\""), "what was typed is kept: {body}");
    assert!(city.store.account("leader2").await.expect("read").is_none());

    let unbound = create("unit", "unit2", String::new(), PASSWORD).await;
    assert_eq!(unbound.status(), Status::UnprocessableEntity);
    assert!(unbound.into_string().await.expect("page").contains("须填写所属单位代码"));
    assert!(city.store.account("unit2").await.expect("read").is_none());

    let unregistered = create("unit", "unit2", credit_code(99), PASSWORD).await;
    assert_eq!(unregistered.status(), Status::UnprocessableEntity);
    assert!(city.store.account("unit2").await.expect("read").is_none());

    let made = create("unit", "unit2", credit_code(2), PASSWORD).await;
    assert_eq!(made.status(), Status::SeeOther);
    let (account, _) = city.store.account("unit2").await.expect("read").expect("created");
    assert_eq!(account.unit, Some(unit(2)));
    let newest = &city.store.audit_entries(1).await.expect("audit")[0];
    assert_eq!(
        (newest.actor.as_str(), newest.action.as_str(), newest.target.as_deref()),
        ("office1", "accounts.create", Some("unit2"))
    );

    let other = city.client().await;
    login(&other, "unit2", PASSWORD).await;
    assert_eq!(location(&other.get("/").dispatch().await), "/my");
}

#[tokio::test]
async fn disabling_an_account_ends_its_session_and_a_reset_password_works() {
    let city = City::new().await;
    let (office, csrf) = city.signed_in("office1").await;
    let (leader, _) = city.signed_in("leader1").await;
    assert_eq!(leader.get("/account").dispatch().await.status(), Status::Ok);

    let response = post_form(
        &office,
        "/office/accounts/disabled",
        &[("csrf", &csrf), ("username", "leader1"), ("disabled", "true")],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    let next = leader.get("/account").dispatch().await;
    assert_eq!(next.status(), Status::SeeOther);
    assert!(location(&next).starts_with("/login"), "{}", location(&next));

    let own = post_form(
        &office,
        "/office/accounts/disabled",
        &[("csrf", &csrf), ("username", "office1"), ("disabled", "true")],
    )
    .await;
    assert_eq!(own.status(), Status::SeeOther);
    let (account, _) = city.store.account("office1").await.expect("read").expect("exists");
    assert!(!account.disabled, "the office cannot lock itself out");
    let (_, accounts_page) = page(&office, "/office/accounts").await;
    assert!(accounts_page.contains("不能停用自己"), "{accounts_page}");

    post_form(
        &office,
        "/office/accounts/disabled",
        &[("csrf", &csrf), ("username", "leader1"), ("disabled", "false")],
    )
    .await;
    let new_password = "another-long-password";
    let reset = post_form(
        &office,
        "/office/accounts/password",
        &[("csrf", &csrf), ("username", "leader1"), ("password", new_password), ("repeat", new_password)],
    )
    .await;
    assert_eq!(reset.status(), Status::SeeOther);
    let fresh = city.client().await;
    login(&fresh, "leader1", new_password).await;
    let actions: Vec<String> =
        city.store.audit_entries(3).await.expect("audit").into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["accounts.reset_password", "accounts.enable", "accounts.disable"]);
}

#[tokio::test]
async fn groups_get_and_lose_units() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    let codes = format!("{}，{}", credit_code(3), credit_code(4));
    let response = post_form(
        &client,
        "/office/groups/assign",
        &[("csrf", &csrf), ("group", "第二组"), ("units", &codes)],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(city.store.group_units("第二组").await.expect("units"), vec![unit(3), unit(4)]);
    let (_, groups) = page(&client, "/office/groups").await;
    assert!(groups.contains("丁中心") && groups.contains("inspector2"), "{groups}");

    let bad = format!("{}\n12345", credit_code(1));
    post_form(&client, "/office/groups/assign", &[("csrf", &csrf), ("group", "第二组"), ("units", &bad)])
        .await;
    assert_eq!(
        city.store.unit_group(&unit(1)).await.expect("group").as_deref(),
        Some("第一组"),
        "nothing moved"
    );

    let response =
        post_form(&client, "/office/groups/unassign", &[("csrf", &csrf), ("units", &credit_code(3))]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(city.store.unit_group(&unit(3)).await.expect("group"), None);
    let newest = &city.store.audit_entries(1).await.expect("audit")[0];
    assert_eq!((newest.actor.as_str(), newest.action.as_str()), ("office1", "groups.unassign"));
}

#[tokio::test]
async fn an_assessment_started_from_the_form_saves_a_cycle_of_every_unit() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    let job = start_assessment(&client, &csrf, "web-2026", true).await;
    assert_eq!(job["kind"], "assess");
    assert_eq!(job["started_by"], "office1");
    assert_eq!(job["progress"]["state"], "finished");

    let cycles = city.store.cycles().await.expect("cycles");
    let saved = cycles.iter().find(|c| c.cycle == "web-2026").expect("saved cycle");
    assert_eq!(saved.units as usize, city.store.units().await.expect("units").len());
    assert_eq!(
        city.store.current_cycle().await.expect("current").map(|c| c.cycle).as_deref(),
        Some("web-2026")
    );

    let (status, body) = page(&client, &format!("/office/jobs/{}", job["id"])).await;
    assert_eq!(status, Status::Ok);
    assert!(body.contains("rankings?cycle=web-2026\""), "links to the new ranking: {body}");
    assert!(!body.contains("http-equiv=\"refresh\""), "a finished job stops refreshing");
    let actions: Vec<(String, String)> =
        city.store.audit_entries(3).await.expect("audit").into_iter().map(|e| (e.actor, e.action)).collect();
    for action in ["jobs.assess", "assess", "cycles.set_current"] {
        assert!(actions.contains(&("office1".to_string(), action.to_string())), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn a_crawl_job_runs_and_reports_what_it_did() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    // No unit has a catalogue address: the job finishes at once, saying so.
    let response = post_form(
        &client,
        "/office/jobs/crawl",
        &[("csrf", &csrf), ("scope", "catalogue"), ("units", ""), ("as_of", "2026-11-20")],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    let job = wait_for_job(&client, job_id(&response)).await;
    assert_eq!(job["state"], "finished", "{job}");
    assert!(job["summary"]["lines"][0].as_str().unwrap_or_default().contains("未检查公开目录"), "{job}");
    let (_, jobs) = page(&client, "/office/jobs").await;
    assert!(jobs.contains("已完成"), "{jobs}");

    let bad = post_form(
        &client,
        "/office/jobs/crawl",
        &[("csrf", &csrf), ("scope", "site"), ("units", &credit_code(99)), ("as_of", "2026-11-20")],
    )
    .await;
    assert_eq!(location(&bad), "/office/jobs", "an unregistered unit is refused before anything runs");
    let (_, jobs) = page(&client, "/office/jobs").await;
    assert!(jobs.contains("以下单位未登记"), "{jobs}");
}

#[tokio::test]
async fn the_office_chooses_the_current_cycle() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    start_assessment(&client, &csrf, "first", false).await;
    start_assessment(&client, &csrf, "second", false).await;
    let current = || async { city.store.current_cycle().await.expect("current").map(|c| c.cycle) };
    assert_eq!(current().await.as_deref(), Some("second"), "the newest by default");

    let response = post_form(&client, "/office/cycles/current", &[("csrf", &csrf), ("cycle", "first")]).await;
    assert_eq!(response.status(), Status::SeeOther);
    assert_eq!(current().await.as_deref(), Some("first"));
    let (_, cycles) = page(&client, "/office/cycles").await;
    assert!(cycles.contains("设为当前") && cycles.contains("second"), "{cycles}");

    let unknown = post_form(&client, "/office/cycles/current", &[("csrf", &csrf), ("cycle", "nope")]).await;
    assert_eq!(unknown.status(), Status::NotFound);
    assert_eq!(current().await.as_deref(), Some("first"));
}

#[tokio::test]
async fn the_audit_log_shows_who_did_what_escaped_and_filtered() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    let group = "<b>组</b>";
    post_form(
        &client,
        "/office/groups/assign",
        &[("csrf", &csrf), ("group", group), ("units", &credit_code(3))],
    )
    .await;
    let (status, log) = page(&client, "/office/audit").await;
    assert_eq!(status, Status::Ok);
    assert!(log.contains("groups.assign") && log.contains("&lt;b&gt;组&lt;&#x2f;b&gt;"), "{log}");
    assert!(!log.contains("<b>组</b>"), "never shown raw");
    let (_, mine) = page(&client, "/office/audit?actor=office1").await;
    assert!(mine.contains("groups.assign") && !mine.contains("account.add"), "{mine}");
    let (_, accounts) = page(&client, "/office/audit?action=account").await;
    assert!(accounts.contains("account.add") && !accounts.contains("groups.assign"), "{accounts}");
}

/// Every office route, with a complete form for each POST.
fn office_posts(csrf: &str) -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let csrf = csrf.to_string();
    let csv = format!("{HEADER}{},戊局,department,,http://u11.example.cn/,,\n", credit_code(11));
    vec![
        ("/office/units/import", vec![("csrf", csrf.clone()), ("text", csv)]),
        (
            "/office/accounts",
            vec![
                ("csrf", csrf.clone()),
                ("role", "leader".into()),
                ("username", "intruder".into()),
                ("display_name", String::new()),
                ("unit", String::new()),
                ("group", String::new()),
                ("password", PASSWORD.into()),
                ("repeat", PASSWORD.into()),
            ],
        ),
        (
            "/office/accounts/disabled",
            vec![("csrf", csrf.clone()), ("username", "office1".into()), ("disabled", "true".into())],
        ),
        (
            "/office/accounts/password",
            vec![
                ("csrf", csrf.clone()),
                ("username", "office1".into()),
                ("password", "taken-over-password".into()),
                ("repeat", "taken-over-password".into()),
            ],
        ),
        (
            "/office/groups/assign",
            vec![("csrf", csrf.clone()), ("group", "第一组".into()), ("units", credit_code(3))],
        ),
        ("/office/groups/unassign", vec![("csrf", csrf.clone()), ("units", credit_code(1))]),
        (
            "/office/jobs/crawl",
            vec![
                ("csrf", csrf.clone()),
                ("scope", "catalogue".into()),
                ("units", String::new()),
                ("as_of", String::new()),
            ],
        ),
        (
            "/office/jobs/assess",
            vec![
                ("csrf", csrf.clone()),
                ("rule_set", "gov-website-2019.toml".into()),
                ("cycle", "intruder".into()),
                ("as_of", String::new()),
            ],
        ),
        ("/office/cycles/current", vec![("csrf", csrf), ("cycle", "intruder".into())]),
    ]
}

const OFFICE_PAGES: &[&str] = &[
    "/office/units",
    "/office/units?q=%E7%94%B2&kind=department",
    "/office/accounts",
    "/office/groups",
    "/office/jobs",
    "/office/jobs/1",
    "/office/jobs/1/status",
    "/office/cycles",
    "/office/audit",
    "/office/audit?actor=office1",
];

#[tokio::test]
async fn no_other_role_reaches_any_office_page_or_form() {
    let city = City::new().await;
    let before = (
        audit_count(&city.store).await,
        city.store.units().await.expect("units").len(),
        city.store.accounts().await.expect("accounts"),
    );
    for user in ["leader1", "inspector1", "unit1"] {
        let (client, csrf) = city.signed_in(user).await;
        for path in OFFICE_PAGES {
            assert_eq!(client.get(*path).dispatch().await.status(), Status::Forbidden, "{user} GET {path}");
        }
        for (path, fields) in office_posts(&csrf) {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = post_form(&client, path, &fields).await;
            assert_eq!(response.status(), Status::Forbidden, "{user} POST {path}");
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = (
        audit_count(&city.store).await,
        city.store.units().await.expect("units").len(),
        city.store.accounts().await.expect("accounts"),
    );
    assert_eq!(after, before, "nothing was written");
    assert_eq!(city.store.unit_group(&unit(1)).await.expect("group").as_deref(), Some("第一组"));
    assert!(city.store.cycles().await.expect("cycles").is_empty());

    // Signed out: sent to the login page, not shown anything.
    let anonymous = city.client().await;
    let response = anonymous.get("/office/units").dispatch().await;
    assert_eq!(response.status(), Status::SeeOther);
    assert!(location(&response).starts_with("/login"));
}

#[tokio::test]
async fn office_posts_need_the_session_token() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("office1").await;
    let before = (audit_count(&city.store).await, city.store.accounts().await.expect("accounts").len());
    for (path, fields) in office_posts(&csrf) {
        let without: Vec<(&str, &str)> =
            fields.iter().filter(|(k, _)| *k != "csrf").map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            post_form(&client, path, &without).await.status(),
            Status::Forbidden,
            "POST {path} without csrf"
        );
        let forged: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (*k, if *k == "csrf" { "forged-token" } else { v.as_str() }))
            .collect();
        assert_eq!(
            post_form(&client, path, &forged).await.status(),
            Status::Forbidden,
            "POST {path} forged csrf"
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after = (audit_count(&city.store).await, city.store.accounts().await.expect("accounts").len());
    assert_eq!(after, before, "nothing was written");
    assert_eq!(city.store.units().await.expect("units").len(), 4);
    assert!(city.store.cycles().await.expect("cycles").is_empty());
    assert!(city.store.account("intruder").await.expect("read").is_none());
}
