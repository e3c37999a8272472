//! A small city behind the web dashboard, for the web tests: four units (two assigned to
//! 第一组), one account per role (and a second unit account), crawler findings including a
//! hostile spam snippet, and `rocket::local` clients signed in as each of them.

use chrono::{TimeZone, Utc};
use gongkai::auth::hash_password;
use gongkai::model::{Account, CrawlKind, Finding, FindingStatus, OrgCode, Role, Source};
use gongkai::registry::{plan_import, read_registry};
use gongkai::store::{AuditEntry, CrawlRunRecord, Store};
use gongkai::web::{WebConfig, build};
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

use crate::support::{HEADER, credit_code};

/// Every demo account's password (long enough for the policy).
pub(crate) const PASSWORD: &str = "correct-horse-battery";

/// The snippet a hostile site planted; pages must show it escaped.
pub(crate) const HOSTILE: &str = "<script>alert('xss')</script><b>博彩</b>";

pub(crate) struct City {
    pub store: Store,
    /// Units 1 and 2 are in 第一组; 3 and 4 in no group. Unit 4 is a subordinate of unit 2.
    pub units: Vec<OrgCode>,
    /// A crawler finding on unit 1 whose snippet is [`HOSTILE`].
    pub spam_finding: String,
    /// A crawler finding on unit 3 (outside the inspector's group and not unit 1's).
    pub other_finding: String,
}

pub(crate) fn unit(n: u32) -> OrgCode {
    OrgCode::parse(&credit_code(n)).expect("valid code")
}

impl City {
    pub(crate) async fn new() -> City {
        let store = Store::memory().await.expect("store");
        let csv = format!(
            "{HEADER}{a},甲局,department,,http://u1.example.cn/,,\n{b},乙局,department,,http://u2.example.cn/,,\n\
             {c},丙局,department,,http://u3.example.cn/,,\n{d},丁中心,institution,{b},http://u4.example.cn/,,\n",
            a = credit_code(1),
            b = credit_code(2),
            c = credit_code(3),
            d = credit_code(4),
        );
        let file = read_registry(csv.as_bytes()).expect("readable");
        let plan = plan_import(&file, &[]).expect("valid");
        store
            .apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {})
            .await
            .expect("import");
        let units: Vec<OrgCode> = (1..=4).map(unit).collect();
        store.assign_units("第一组", &units[..2], AuditEntry::new("test", "assign")).await.expect("assign");

        let hash = hash_password(PASSWORD).expect("hash");
        let accounts = [
            ("office1", Role::Office, None, None),
            ("leader1", Role::Leader, None, None),
            ("inspector1", Role::Inspector, None, Some("第一组")),
            ("inspector2", Role::Inspector, None, Some("第二组")),
            ("unit1", Role::Unit, Some(units[0].clone()), None),
            ("unit3", Role::Unit, Some(units[2].clone()), None),
        ];
        for (username, role, unit, group) in accounts {
            let account = Account {
                username: username.to_string(),
                role,
                unit,
                inspector_group: group.map(str::to_string),
                display_name: None,
                disabled: false,
            };
            store
                .create_account(&account, &hash, AuditEntry::new("test", "account.add"))
                .await
                .expect("account");
        }

        let at = Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).single().expect("date");
        let finding = |unit: &OrgCode, check: &str, detail: serde_json::Value| Finding {
            id: None,
            unit: unit.clone(),
            check: check.to_string(),
            source: Source::Crawler,
            observed_at: at,
            url: Some(format!("http://u.example.cn/{check}")),
            detail,
            status: FindingStatus::Open,
            rectify_by: None,
        };
        let findings = vec![
            finding(&units[0], "content.spam", serde_json::json!({ "snippet": HOSTILE, "keyword": "博彩" })),
            finding(&units[2], "column.stale", serde_json::json!({ "column": "通知公告", "days": 400 })),
        ];
        let run = CrawlRunRecord {
            kind: CrawlKind::Site,
            as_of: at,
            started_at: at,
            finished_at: at,
            units: units.clone(),
            stats: serde_json::json!({}),
        };
        store.record_crawl_run(&run, &findings, &[]).await.expect("run");
        let stored = store.findings(&Default::default()).await.expect("findings");
        let id_of = |check: &str| {
            stored.iter().find(|f| f.check == check).and_then(|f| f.id.clone()).expect("stored finding")
        };
        City { spam_finding: id_of("content.spam"), other_finding: id_of("column.stale"), store, units }
    }

    /// A client for this city's dashboard, signed in as nobody.
    pub(crate) async fn client(&self) -> Client {
        let rocket = build(self.store.clone(), WebConfig::default()).await.expect("rocket");
        Client::tracked(rocket).await.expect("client")
    }

    /// A client signed in as `username`, with the session's CSRF token.
    pub(crate) async fn signed_in(&self, username: &str) -> (Client, String) {
        let client = self.client().await;
        let csrf = login(&client, username, PASSWORD).await;
        (client, csrf)
    }
}

/// The value of the first hidden `csrf` field on a page.
pub(crate) fn csrf_from(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("page has a csrf field");
    html[start..].split('"').next().expect("closing quote").to_string()
}

/// Signs in through the login form; returns the session's CSRF token (read off /account).
pub(crate) async fn login(client: &Client, username: &str, password: &str) -> String {
    let page = client.get("/login").dispatch().await.into_string().await.expect("login page");
    let token = csrf_from(&page);
    let response = client
        .post("/login")
        .header(ContentType::Form)
        .body(form(&[("csrf", &token), ("username", username), ("password", password), ("next", "")]))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::SeeOther, "login of {username} should redirect");
    let account = client.get("/account").dispatch().await.into_string().await.expect("account page");
    csrf_from(&account)
}

/// An urlencoded form body.
pub(crate) fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

/// Posts a form and returns the response.
pub(crate) async fn post_form<'c>(
    client: &'c Client,
    path: &str,
    fields: &[(&str, &str)],
) -> LocalResponse<'c> {
    client.post(path.to_string()).header(ContentType::Form).body(form(fields)).dispatch().await
}
