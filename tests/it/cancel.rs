//! A crawl started from the dashboard can be cancelled there (issue #11): only the office may,
//! the job ends 已取消 with the units it completed saved and the others untouched, and the
//! request is audited.

use std::time::Duration;

use chrono::Utc;
use gongkai::auth::hash_password;
use gongkai::model::{Account, FindingStatus, OrgCode, Role};
use gongkai::registry::{plan_import, read_registry};
use gongkai::store::{AuditEntry, FindingFilter, Store};
use gongkai::web::{WebConfig, build};
use rocket::http::Status;
use rocket::local::asynchronous::Client;
use tokio::net::TcpListener;

use crate::page_server::{Answer, PageServer};
use crate::support::{HEADER, credit_code};
use crate::web_support::{PASSWORD, login, post_form};

/// Units whose sites answer at once; they come first in the registry.
const FAST: u32 = 2;
/// Units in all; the others' sites accept connections and never answer.
const TOTAL: u32 = 10;

fn code(n: u32) -> OrgCode {
    OrgCode::parse(&credit_code(n)).expect("valid code")
}

/// A website that accepts every connection and never says a word, on its own loopback
/// address (127.0.0.2), so that it holds no politeness slot of the fast sites' host.
async fn hanging_site() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.2:0").await.expect("bind 127.0.0.2");
    let addr = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (format!("http://{addr}/"), task)
}

/// A city of [`TOTAL`] units, the first [`FAST`] with quick sites, and one account per role.
async fn city(fast: &PageServer, slow: &str) -> Store {
    let store = Store::memory().await.expect("store");
    let mut csv = HEADER.to_string();
    let mut codes: Vec<u32> = (1..=TOTAL).collect();
    codes.sort_by_key(|n| credit_code(*n));
    for (i, n) in codes.iter().enumerate() {
        let site = if (i as u32) < FAST { fast.url(&format!("/u{n}/")) } else { format!("{slow}u{n}/") };
        csv.push_str(&format!("{},测试局{n},department,,{site},,\n", credit_code(*n)));
    }
    let file = read_registry(csv.as_bytes()).expect("readable");
    let plan = plan_import(&file, &[]).expect("valid");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import");
    let hash = hash_password(PASSWORD).expect("hash");
    let accounts = [
        ("office1", Role::Office, None),
        ("leader1", Role::Leader, None),
        ("unit1", Role::Unit, Some(code(1))),
    ];
    for (username, role, unit) in accounts {
        let account = Account {
            username: username.into(),
            role,
            unit,
            inspector_group: None,
            display_name: None,
            disabled: false,
        };
        store.create_account(&account, &hash, AuditEntry::new("test", "account.add")).await.expect("account");
    }
    store
}

async fn status(client: &Client, id: u64) -> serde_json::Value {
    let response = client.get(format!("/office/jobs/{id}/status")).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    serde_json::from_str(&response.into_string().await.expect("body")).expect("status JSON")
}

/// Polls the job until `done` holds (bounded: about a minute).
async fn wait_until(
    client: &Client,
    id: u64,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    for _ in 0..1_200 {
        let job = status(client, id).await;
        if done(&job) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("job {id}: {what} did not happen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_crawl_is_cancelled_by_the_office_and_keeps_only_whole_units() {
    let fast = PageServer::start(|_| {
        Answer::html("<html><head><title>测试局</title></head><body><p>首页</p></body></html>")
    })
    .await;
    let (slow, _hang) = hanging_site().await;
    let store = city(&fast, &slow).await;
    let rocket = build(store.clone(), WebConfig { allow_private: true, ..WebConfig::default() })
        .await
        .expect("rocket");
    let office = Client::tracked(rocket).await.expect("client");
    let csrf = login(&office, "office1", PASSWORD).await;

    let response = post_form(
        &office,
        "/office/jobs/crawl",
        &[("csrf", &csrf), ("scope", "both"), ("units", ""), ("as_of", "")],
    )
    .await;
    assert_eq!(response.status(), Status::SeeOther);
    let job_page = response.headers().get_one("Location").expect("job page").to_string();
    let id: u64 = job_page.trim_start_matches("/office/jobs/").parse().expect("job id");

    // The fast units are done; the others hang, so the job cannot end by itself now.
    let job = wait_until(&office, id, "the fast units", |job| {
        job["progress"]["done"].as_u64().unwrap_or(0) >= u64::from(FAST)
    })
    .await;
    assert_eq!(job["state"], "running", "{job}");
    let page = office.get(job_page.clone()).dispatch().await.into_string().await.expect("page");
    assert!(page.contains(&format!("action=\"/office/jobs/{id}/cancel\"")), "the cancel button: {page}");

    // Neither a leader nor a unit account may cancel it.
    for user in ["leader1", "unit1"] {
        let rocket = build(store.clone(), WebConfig { allow_private: true, ..WebConfig::default() })
            .await
            .expect("rocket");
        let client = Client::tracked(rocket).await.expect("client");
        let token = login(&client, user, PASSWORD).await;
        let refused = post_form(&client, &format!("/office/jobs/{id}/cancel"), &[("csrf", &token)]).await;
        assert_eq!(refused.status(), Status::Forbidden, "{user}");
    }
    assert_eq!(status(&office, id).await["state"], "running", "a refused cancel changes nothing");
    // Nor can the office without the form's token.
    let forged = post_form(&office, &format!("/office/jobs/{id}/cancel"), &[("csrf", "forged")]).await;
    assert_eq!(forged.status(), Status::Forbidden);
    let audit = store.audit_entries(10_000).await.expect("audit");
    assert!(audit.iter().all(|e| e.action != "jobs.cancel"), "nothing cancelled, nothing audited");

    let cancelled = post_form(&office, &format!("/office/jobs/{id}/cancel"), &[("csrf", &csrf)]).await;
    assert_eq!(cancelled.status(), Status::SeeOther);
    let job = wait_until(&office, id, "the cancellation", |job| job["state"] != "running").await;
    assert_eq!(job["state"], "cancelled", "{job}");
    assert_eq!(job["progress"]["state"], "cancelled", "{job}");
    let lines = job["summary"]["lines"].to_string();
    assert!(lines.contains(&format!("{TOTAL} 个单位中 {FAST} 个已完成")), "{lines}");
    assert!(lines.contains("公开目录检查因任务取消未进行"), "{lines}");
    let page = office.get(job_page).dispatch().await.into_string().await.expect("page");
    assert!(page.contains("已取消") && !page.contains("http-equiv=\"refresh\""), "{page}");
    assert!(!page.contains("/cancel\""), "no cancel button once it stopped");

    // The audit says who cancelled which job.
    let newest = store.audit_entries(10_000).await.expect("audit");
    let record = newest.iter().find(|e| e.action == "jobs.cancel").expect("audited");
    assert_eq!((record.actor.as_str(), record.target.as_deref()), ("office1", Some(id.to_string().as_str())));

    // Only whole units were written: the fast ones count as crawled (the cancelled run covers
    // them), the hanging ones have no result at all and no run covering them.
    let evidence = store.evidence(Utc::now()).await.expect("evidence");
    let crawled: Vec<&OrgCode> =
        evidence.iter().filter(|(_, e)| e.crawled.contains("site")).map(|(unit, _)| unit).collect();
    assert_eq!(crawled.len(), FAST as usize, "{crawled:?}");
    assert!(crawled.len() < TOTAL as usize);
    let findings = store.findings(&FindingFilter::default()).await.expect("findings");
    for unit in (1..=TOTAL).map(code).filter(|u| !crawled.contains(&u)) {
        assert!(findings.iter().all(|f| f.unit != unit), "{unit} has no partial result");
    }
    assert!(findings.iter().all(|f| f.status == FindingStatus::Open));

    // Cancelling again is refused politely; the job stays cancelled.
    let again = post_form(&office, &format!("/office/jobs/{id}/cancel"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status(), Status::SeeOther);
    assert_eq!(status(&office, id).await["state"], "cancelled");
    let missing = post_form(&office, "/office/jobs/9999/cancel", &[("csrf", &csrf)]).await;
    assert_eq!(missing.status(), Status::NotFound);
}
