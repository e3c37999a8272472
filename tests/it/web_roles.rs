//! The role matrix (DESIGN.md §2) over every mounted route, pages and API alike: each role gets
//! exactly what it is allowed, and a unit account is refused every id-bearing route that names
//! another unit or another unit's finding. A route added without a row here fails the test.

use std::collections::BTreeSet;

use gongkai::jobs::{self, AssessRequest, Progress};
use gongkai::rules::RuleSet;
use gongkai::store::AuditEntry;
use rocket::http::{ContentType, Header, Method, Status};
use rocket::local::asynchronous::Client;

use crate::web_support::{City, form};

const RULES: &str = include_str!("../../scoring-rules/gov-website-2019.toml");

const OFFICE: &str = "office1";
const LEADER: &str = "leader1";
const INSPECTOR: &str = "inspector1";
const UNIT: &str = "unit1";
const ROLES: [&str; 4] = [OFFICE, LEADER, INSPECTOR, UNIT];
const EVERYONE: &[&str] = &ROLES;
const READERS: &[&str] = &[OFFICE, LEADER];
const NOBODY: &[&str] = &[];

/// One request and who may make it.
struct Probe {
    method: Method,
    /// The route as Rocket mounts it (path part), for the coverage check.
    route: &'static str,
    path: String,
    /// Form fields (pages) or a JSON body (API); `{csrf}` is replaced by the caller's token.
    body: Option<Body>,
    allowed: &'static [&'static str],
}

enum Body {
    Form(Vec<(&'static str, String)>),
    Json(serde_json::Value),
}

fn get(route: &'static str, path: impl Into<String>, allowed: &'static [&'static str]) -> Probe {
    Probe { method: Method::Get, route, path: path.into(), body: None, allowed }
}

fn post_form(
    route: &'static str,
    path: impl Into<String>,
    fields: &[(&'static str, &str)],
    allowed: &'static [&'static str],
) -> Probe {
    let mut fields: Vec<(&'static str, String)> = fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
    fields.push(("csrf", "{csrf}".into()));
    Probe { method: Method::Post, route, path: path.into(), body: Some(Body::Form(fields)), allowed }
}

fn post_json(
    route: &'static str,
    path: impl Into<String>,
    body: serde_json::Value,
    allowed: &'static [&'static str],
) -> Probe {
    Probe { method: Method::Post, route, path: path.into(), body: Some(Body::Json(body)), allowed }
}

fn probes(city: &City) -> Vec<Probe> {
    let (u1, u3) = (city.units[0].to_string(), city.units[2].to_string());
    let (own_finding, other_finding) = (city.spam_finding.clone(), city.other_finding.clone());
    let today = gongkai::model::CityClock::default().today().to_string();
    vec![
        // Signing in and one's own account.
        get("/", "/", EVERYONE),
        get("/static/app.css", "/static/app.css", EVERYONE),
        get("/login", "/login", EVERYONE),
        get("/account", "/account", EVERYONE),
        // The city's ranking: office and leaders only.
        get("/rankings", "/rankings", READERS),
        get("/rankings.csv", "/rankings.csv", READERS),
        // A unit's page: its own unit, its inspectors' group, office and leaders.
        get("/units/<code>", format!("/units/{u1}"), EVERYONE),
        get("/units/<code>", format!("/units/{u3}"), READERS),
        get("/findings/<id>", format!("/findings/{own_finding}"), EVERYONE),
        get("/findings/<id>", format!("/findings/{other_finding}"), READERS),
        // Inspectors' pages: their own group's units only.
        get("/inspector", "/inspector", &[INSPECTOR]),
        get("/inspector/units/<code>/visit", format!("/inspector/units/{u1}/visit"), &[INSPECTOR]),
        get("/inspector/units/<code>/visit", format!("/inspector/units/{u3}/visit"), NOBODY),
        // The unit portal.
        get("/my", "/my", &[UNIT]),
        get("/my/self-assessment", "/my/self-assessment", &[UNIT]),
        // The office.
        get("/office/units", "/office/units", &[OFFICE]),
        get("/office/accounts", "/office/accounts", &[OFFICE]),
        get("/office/groups", "/office/groups", &[OFFICE]),
        get("/office/jobs", "/office/jobs", &[OFFICE]),
        get("/office/jobs/<id>", "/office/jobs/1", &[OFFICE]),
        get("/office/jobs/<id>/status", "/office/jobs/1/status", &[OFFICE]),
        get("/office/cycles", "/office/cycles", &[OFFICE]),
        get("/office/audit", "/office/audit", &[OFFICE]),
        get("/office/schedule", "/office/schedule", &[OFFICE]),
        get("/office/reports/annual", "/office/reports/annual", &[OFFICE]),
        get("/office/reports/annual.pdf", "/office/reports/annual.pdf?year=2026", &[OFFICE]),
        // Notifications (通报): office and leaders read them, a unit reads its own in the portal.
        get("/notices", "/notices", READERS),
        get("/notices/<key>", "/notices/none", READERS),
        get("/notices/<key>/print", "/notices/none/print", READERS),
        get("/notices/<key>/pdf", "/notices/none/pdf", READERS),
        get("/portal/notices", "/portal/notices", &[UNIT]),
        // A unit's probe history: whoever may see the unit.
        get("/units/<code>/availability", format!("/units/{u1}/availability"), EVERYONE),
        get("/units/<code>/availability", format!("/units/{u3}/availability"), READERS),
        // The API: the same rules.
        get("/api/v1/openapi.json", "/api/v1/openapi.json", EVERYONE),
        get("/api/v1/me", "/api/v1/me", EVERYONE),
        get("/api/v1/cycles", "/api/v1/cycles", EVERYONE),
        get("/api/v1/cycles/current", "/api/v1/cycles/current", EVERYONE),
        get("/api/v1/rankings", "/api/v1/rankings", READERS),
        get("/api/v1/rankings.csv", "/api/v1/rankings.csv", READERS),
        get("/api/v1/units", "/api/v1/units", EVERYONE),
        get("/api/v1/units/<code>", format!("/api/v1/units/{u1}"), EVERYONE),
        get("/api/v1/units/<code>", format!("/api/v1/units/{u3}"), READERS),
        get("/api/v1/units/<code>/findings", format!("/api/v1/units/{u1}/findings"), EVERYONE),
        get("/api/v1/units/<code>/findings", format!("/api/v1/units/{u3}/findings"), READERS),
        get("/api/v1/units/<code>/history", format!("/api/v1/units/{u1}/history"), EVERYONE),
        get("/api/v1/units/<code>/history", format!("/api/v1/units/{u3}/history"), READERS),
        get("/api/v1/units/<code>/visits", format!("/api/v1/units/{u1}/visits"), EVERYONE),
        get("/api/v1/units/<code>/visits", format!("/api/v1/units/{u3}/visits"), READERS),
        get("/api/v1/findings/<id>", format!("/api/v1/findings/{own_finding}"), EVERYONE),
        get("/api/v1/findings/<id>", format!("/api/v1/findings/{other_finding}"), READERS),
        get("/api/v1/groups/mine", "/api/v1/groups/mine", &[INSPECTOR]),
        get("/api/v1/self-assessment", "/api/v1/self-assessment", &[UNIT]),
        get("/api/v1/accounts", "/api/v1/accounts", &[OFFICE]),
        get("/api/v1/audit", "/api/v1/audit", &[OFFICE]),
        get("/api/v1/jobs", "/api/v1/jobs", &[OFFICE]),
        get("/api/v1/jobs/<id>", "/api/v1/jobs/1", &[OFFICE]),
        // Writes. Answering a finding is the unit's; reviewing it the office's and the group's
        // inspector's; nobody acts on another unit's finding except the office.
        post_form(
            "/findings/<id>/act",
            format!("/findings/{own_finding}/act"),
            &[("action", "dispute"), ("note", "我们有不同意见")],
            &[UNIT],
        ),
        post_form(
            "/findings/<id>/act",
            format!("/findings/{own_finding}/act"),
            &[("action", "uphold"), ("note", "维持")],
            &[OFFICE, INSPECTOR],
        ),
        post_form(
            "/findings/<id>/act",
            format!("/findings/{other_finding}/act"),
            &[("action", "dispute"), ("note", "不是我们的")],
            NOBODY,
        ),
        post_form(
            "/findings/<id>/act",
            format!("/findings/{other_finding}/act"),
            &[("action", "seen_fixed"), ("note", "已复查")],
            &[OFFICE],
        ),
        post_form(
            "/inspector/units/<code>/visit",
            format!("/inspector/units/{u1}/visit"),
            &[("date", &today), ("method", "电话督查"), ("note", "矩阵测试")],
            &[INSPECTOR],
        ),
        post_form(
            "/inspector/units/<code>/visit",
            format!("/inspector/units/{u3}/visit"),
            &[("date", &today), ("method", "电话督查"), ("note", "矩阵测试")],
            NOBODY,
        ),
        post_form(
            "/my/self-assessment",
            "/my/self-assessment",
            &[("claims[0].item", "info_release"), ("claims[0].claimed", "20")],
            &[UNIT],
        ),
        post_form(
            "/office/units/import",
            "/office/units/import",
            &[("text", "code,name,kind,parent_code,website,catalogue_url,email\n")],
            &[OFFICE],
        ),
        post_form(
            "/office/accounts",
            "/office/accounts",
            &[
                ("role", "leader"),
                ("username", "matrix-leader"),
                ("display_name", ""),
                ("unit", ""),
                ("group", ""),
                ("password", "matrix-password-1"),
                ("repeat", "matrix-password-1"),
            ],
            &[OFFICE],
        ),
        post_form(
            "/office/accounts/disabled",
            "/office/accounts/disabled",
            &[("username", "inspector2"), ("disabled", "false")],
            &[OFFICE],
        ),
        post_form(
            "/office/accounts/password",
            "/office/accounts/password",
            &[("username", "inspector2"), ("password", "matrix-password-2"), ("repeat", "matrix-password-2")],
            &[OFFICE],
        ),
        post_form(
            "/office/groups/assign",
            "/office/groups/assign",
            &[("group", "第二组"), ("units", &city.units[3].to_string())],
            &[OFFICE],
        ),
        post_form(
            "/office/groups/unassign",
            "/office/groups/unassign",
            &[("units", &city.units[3].to_string())],
            &[OFFICE],
        ),
        post_form(
            "/office/jobs/crawl",
            "/office/jobs/crawl",
            &[("scope", "catalogue"), ("units", ""), ("as_of", "")],
            &[OFFICE],
        ),
        post_form(
            "/office/jobs/assess",
            "/office/jobs/assess",
            &[("rule_set", "gov-website-2019.toml"), ("cycle", "matrix"), ("as_of", "")],
            &[OFFICE],
        ),
        // Cancelling a crawl is the office's (an unknown job is simply not found).
        post_form("/office/jobs/<id>/cancel", "/office/jobs/999/cancel", &[], &[OFFICE]),
        post_form("/office/notices/draft", "/office/notices/draft", &[("cycle", "no-such-cycle")], &[OFFICE]),
        post_form(
            "/office/notices/<key>/edit",
            "/office/notices/none/edit",
            &[("title", "矩阵测试")],
            &[OFFICE],
        ),
        post_form(
            "/office/notices/<key>/add",
            "/office/notices/none/add",
            &[("unit", &u1), ("note", "矩阵测试")],
            &[OFFICE],
        ),
        post_form("/office/notices/<key>/remove", "/office/notices/none/remove", &[("unit", &u1)], &[OFFICE]),
        post_form("/office/notices/<key>/publish", "/office/notices/none/publish", &[], &[OFFICE]),
        // Approval is a leader's alone (and never the drafter's: checked in the store).
        post_form("/notices/<key>/approve", "/notices/none/approve", &[], &[LEADER]),
        post_form("/portal/notices/<key>/ack", "/portal/notices/none/ack", &[], &[UNIT]),
        post_form("/office/schedule", "/office/schedule", &[("text", "not a schedule")], &[OFFICE]),
        post_form("/office/schedule/run", "/office/schedule/run", &[("job", "no-such-job")], &[OFFICE]),
        post_form(
            "/office/cycles/current",
            "/office/cycles/current",
            &[("cycle", "matrix-before")],
            &[OFFICE],
        ),
        post_json(
            "/api/v1/findings/<id>/actions",
            format!("/api/v1/findings/{own_finding}/actions"),
            serde_json::json!({"action": "rectify", "note": "已整改"}),
            &[UNIT],
        ),
        post_json(
            "/api/v1/findings/<id>/actions",
            format!("/api/v1/findings/{other_finding}/actions"),
            serde_json::json!({"action": "rectify", "note": "已整改"}),
            NOBODY,
        ),
        post_json(
            "/api/v1/units/<code>/visits",
            format!("/api/v1/units/{u1}/visits"),
            serde_json::json!({"date": today, "method": "电话督查", "findings": []}),
            &[INSPECTOR],
        ),
        post_json(
            "/api/v1/units/<code>/visits",
            format!("/api/v1/units/{u3}/visits"),
            serde_json::json!({"date": today, "method": "电话督查", "findings": []}),
            NOBODY,
        ),
        post_json(
            "/api/v1/self-assessment",
            "/api/v1/self-assessment",
            serde_json::json!({"claims": [{"item": "info_release", "claimed": "20"}]}),
            &[UNIT],
        ),
        post_json(
            "/api/v1/cycles/current",
            "/api/v1/cycles/current",
            serde_json::json!({"cycle": "matrix-before"}),
            &[OFFICE],
        ),
        post_form("/account/tokens", "/account/tokens", &[("label", "矩阵测试")], EVERYONE),
        post_form("/account/tokens/revoke", "/account/tokens/revoke", &[("id", "api_token:none")], EVERYONE),
        post_form(
            "/account/password",
            "/account/password",
            &[("current", "not-my-password"), ("new_password", "x"), ("repeat", "y")],
            EVERYONE,
        ),
        post_form("/login", "/login", &[("username", "nobody"), ("password", "nothing")], NOBODY),
        post_form("/logout", "/logout", &[], EVERYONE),
    ]
}

async fn send(client: &Client, probe: &Probe, csrf: &str) -> (Status, Option<String>) {
    let mut request = client.req(probe.method, probe.path.clone());
    match &probe.body {
        None => {}
        Some(Body::Form(fields)) => {
            let fields: Vec<(&str, String)> = fields
                .iter()
                .map(|(k, v)| (*k, if v == "{csrf}" { csrf.to_string() } else { v.clone() }))
                .collect();
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            request = request.header(ContentType::Form).body(form(&pairs));
        }
        Some(Body::Json(json)) => {
            request = request
                .header(ContentType::JSON)
                .header(Header::new("X-CSRF-Token", csrf.to_string()))
                .body(json.to_string());
        }
    }
    let response = request.dispatch().await;
    (response.status(), response.headers().get_one("Location").map(str::to_string))
}

#[tokio::test]
async fn every_route_gives_each_role_exactly_what_it_may_have() {
    let city = City::new().await;
    let rule_set = RuleSet::parse(RULES, "gov-website-2019.toml").expect("rules");
    let (day, cutoff) = jobs::assessment_cutoff(None).expect("today");
    let request = AssessRequest {
        rule_set,
        source: RULES.into(),
        criteria: gongkai::assess::LaggardCriteria::shipped(),
        cycle: Some("matrix-before".into()),
        day,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    jobs::assess(&city.store, request, &Progress::default()).await.expect("assess");
    city.store.set_current_cycle("matrix-before", AuditEntry::new("test", "cycle")).await.expect("current");

    let probes = probes(&city);
    // Every mounted route has at least one row above, and every row names a mounted route.
    let client = city.client().await;
    let mounted: BTreeSet<(String, String)> = client
        .rocket()
        .routes()
        .map(|route| {
            (
                route.method.as_str().to_string(),
                route.uri.to_string().split('?').next().unwrap_or("").to_string(),
            )
        })
        .collect();
    let covered: BTreeSet<(String, String)> =
        probes.iter().map(|p| (p.method.as_str().to_string(), p.route.to_string())).collect();
    assert_eq!(mounted, covered, "routes without a row in the matrix (or rows for routes that are gone)");

    let mut clients = Vec::new();
    for user in ROLES {
        clients.push((user, city.signed_in(user).await));
    }
    let mut wrong = Vec::new();
    for probe in &probes {
        for (user, (client, csrf)) in &clients {
            let (status, location) = send(client, probe, csrf).await;
            // Another unit's finding is "not found" like a missing one, so ids cannot be probed.
            let hidden = status == Status::NotFound && probe.route.contains("findings/<id>");
            let refused = status == Status::Forbidden
                || hidden
                || status == Status::Unauthorized
                // A page that needs a session sends the browser to sign in (and back).
                || location.as_deref().is_some_and(|l| l.starts_with("/login?next="));
            let allowed = probe.allowed.contains(user);
            let as_expected = if allowed {
                !refused
            } else {
                status == Status::Forbidden
                    || hidden
                    || (probe.route == "/login" && status != Status::SeeOther)
            };
            if !as_expected {
                wrong.push(format!(
                    "{} {} as {user}: {status} {location:?} (allowed: {allowed})",
                    probe.method, probe.path
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{} requests broke the role matrix:\n{}", wrong.len(), wrong.join("\n"));
}

/// The dashboard's in-memory ranking follows a re-run of the same cycle: a stale ranking would
/// show leaders totals the store no longer holds.
#[tokio::test]
async fn a_shared_ranking_is_read_again_after_the_cycle_is_re_run() {
    use chrono::Utc;
    use gongkai::model::{CrawlKind, Finding, FindingStatus, Source};
    use gongkai::store::CrawlRunRecord;

    let city = City::new().await;
    let assess = |cycle: &'static str| {
        let store = city.store.clone();
        async move {
            let (day, cutoff) = jobs::assessment_cutoff(None).expect("today");
            let request = AssessRequest {
                rule_set: RuleSet::parse(RULES, "gov-website-2019.toml").expect("rules"),
                source: RULES.into(),
                criteria: gongkai::assess::LaggardCriteria::shipped(),
                cycle: Some(cycle.into()),
                day,
                cutoff,
                actor: "test".into(),
                save: true,
            };
            jobs::assess(&store, request, &Progress::default()).await.expect("assess");
        }
    };
    assess("shared").await;
    let unit = city.units[1].clone();
    let total_of = |rows: &[gongkai::assess::RankedScore]| {
        rows.iter().find(|r| r.unit == unit.to_string()).map(|r| r.score).expect("scored")
    };
    let before = total_of(&city.store.ranking_shared("shared").await.expect("ranking"));
    assert_eq!(before, total_of(&city.store.ranking_shared("shared").await.expect("again")));

    let now = Utc::now();
    let finding = Finding {
        id: None,
        unit: unit.clone(),
        check: "link.broken".into(),
        source: Source::Crawler,
        observed_at: now,
        url: Some("http://u2.example.cn/a".into()),
        detail: serde_json::json!({}),
        status: FindingStatus::Open,
        rectify_by: None,
    };
    let run = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: now,
        started_at: now,
        finished_at: now,
        units: vec![unit.clone()],
        stats: serde_json::json!({}),
    };
    city.store.record_crawl_run(&run, &[finding.clone(), finding.clone(), finding], &[]).await.expect("run");
    assess("shared").await;
    let after = total_of(&city.store.ranking_shared("shared").await.expect("after"));
    assert!(after < before, "the re-run's lower total {after} is read, not the cached {before}");
    assert_eq!(after, total_of(&city.store.ranking("shared").await.expect("direct")));
}
