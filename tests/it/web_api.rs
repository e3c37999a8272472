//! The JSON API under /api/v1: tokens and sessions, the same role checks as the pages, CSRF on
//! session writes, 422s that name the field, and an OpenAPI document that matches the routes
//! and the answers.

use std::collections::BTreeSet;

use gongkai::assess::LaggardCriteria;
use gongkai::jobs::{self, AssessRequest, Progress};
use gongkai::model::FindingStatus;
use gongkai::rules::RuleSet;
use gongkai::store::AuditEntry;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::Client;
use serde_json::{Value, json};

use crate::web_support::{City, HOSTILE};

const RULES: &str = "scoring-rules/gov-website-2019.toml";

/// Scores the city under the shipped website rules as of 2026-11-20, as `gongkai assess` does.
async fn assess(city: &City) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(RULES);
    let source = std::fs::read_to_string(&path).expect("rule set");
    let rule_set = RuleSet::parse(&source, RULES).expect("valid rule set");
    let (day, cutoff) = jobs::assessment_cutoff(Some("2026-11-20")).expect("day");
    let request = AssessRequest {
        rule_set,
        source,
        criteria: LaggardCriteria::shipped(),
        cycle: None,
        day,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    jobs::assess(&city.store, request, &Progress::default()).await.expect("assessed").cycle
}

async fn token(city: &City, username: &str) -> String {
    city.store
        .create_api_token(username, "脚本", AuditEntry::new(username, "token.create"))
        .await
        .expect("token")
}

fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

/// A GET with a token (or none), answered as status and JSON.
async fn get(client: &Client, path: &str, token: Option<&str>) -> (Status, Value) {
    let mut request = client.get(path.to_string());
    if let Some(token) = token {
        request = request.header(bearer(token));
    }
    let response = request.dispatch().await;
    let status = response.status();
    let body = response.into_string().await.unwrap_or_default();
    let json = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path} answered non-JSON: {body}"));
    (status, json)
}

/// A POST of a JSON body (raw text, so malformed bodies can be sent too).
async fn post(client: &Client, path: &str, headers: Vec<Header<'static>>, body: &str) -> (Status, Value) {
    let mut request = client.post(path.to_string()).header(ContentType::JSON).body(body);
    for header in headers {
        request = request.header(header);
    }
    let response = request.dispatch().await;
    let status = response.status();
    let body = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path} answered non-JSON: {body}")))
}

fn path_of(finding: &str) -> String {
    format!("/api/v1/findings/{finding}")
}

#[tokio::test]
async fn a_unit_token_reads_its_own_unit_and_nothing_else() {
    let city = City::new().await;
    let token = token(&city, "unit1").await;
    let client = city.client().await;
    let (unit1, unit3) = (city.units[0].to_string(), city.units[2].to_string());

    let (status, me) = get(&client, "/api/v1/me", Some(&token)).await;
    assert_eq!(status, Status::Ok, "{me}");
    assert_eq!(me["account"]["username"], "unit1");
    assert_eq!(me["account"]["role"], "unit");
    assert_eq!(me["account"]["unit"], unit1.as_str());
    assert_eq!(me["via"], "token");
    assert_eq!(me["may"]["read_city"], false);
    assert_eq!(me["may"]["answer_findings"], true);
    let text = me.to_string();
    assert!(!text.contains("argon2") && !text.contains("hash"), "no password hash: {text}");

    let (status, detail) = get(&client, &format!("/api/v1/units/{unit1}"), Some(&token)).await;
    assert_eq!(status, Status::Ok, "{detail}");
    assert_eq!(detail["unit"]["code"], unit1.as_str());
    let spam = detail["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["id"] == city.spam_finding.as_str())
        .unwrap_or_else(|| panic!("the spam finding is listed: {detail}"));
    assert_eq!(spam["check"], "content.spam");
    assert_eq!(spam["snippet"], HOSTILE, "the snippet is plain JSON text, not HTML-escaped");
    let (status, findings) = get(&client, &format!("/api/v1/units/{unit1}/findings"), Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(findings, detail["findings"], "the part equals the whole's part");

    for path in [
        format!("/api/v1/units/{unit3}"),
        format!("/api/v1/units/{unit3}/findings"),
        format!("/api/v1/units/{unit3}/visits"),
        "/api/v1/rankings".to_string(),
        "/api/v1/accounts".to_string(),
        "/api/v1/groups/mine".to_string(),
    ] {
        let (status, error) = get(&client, &path, Some(&token)).await;
        assert_eq!(status, Status::Forbidden, "{path}: {error}");
        assert_eq!(error["status"], 403, "{path}");
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()), "{path}: {error}");
    }
    // Another unit's finding is "not found", exactly like one that does not exist.
    let (status, _) = get(&client, &path_of(&city.other_finding), Some(&token)).await;
    assert_eq!(status, Status::NotFound);
    let (status, error) = get(&client, &format!("/api/v1/units/{unit3}"), Some(&token)).await;
    assert_eq!(status, Status::Forbidden);
    assert!(!error.to_string().contains("丙局"), "nothing of the other unit leaks: {error}");

    let (_, units) = get(&client, "/api/v1/units", Some(&token)).await;
    let codes: Vec<&str> =
        units["units"].as_array().expect("units").iter().filter_map(|u| u["code"].as_str()).collect();
    assert_eq!(codes, [unit1.as_str()], "a unit lists only itself");
}

#[tokio::test]
async fn leaders_read_the_same_ranking_as_the_store_and_units_cannot() {
    let city = City::new().await;
    let cycle = assess(&city).await;
    let leader = token(&city, "leader1").await;
    let client = city.client().await;

    let (status, view) = get(&client, "/api/v1/rankings", Some(&leader)).await;
    assert_eq!(status, Status::Ok, "{view}");
    assert_eq!(view["cycle"]["cycle"], cycle.as_str());
    let api: Vec<(String, String)> = view["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (r["unit"].as_str().expect("unit").to_string(), r["score"].as_str().expect("score").to_string())
        })
        .collect();
    let stored: Vec<(String, String)> = city
        .store
        .ranking(&cycle)
        .await
        .expect("ranking")
        .into_iter()
        .map(|r| (r.unit, r.score.to_string()))
        .collect();
    assert_eq!(stored.len(), city.units.len());
    assert_eq!(api, stored, "same units, order and exact totals");

    let (status, only) = get(&client, "/api/v1/rankings?kind=institution", Some(&leader)).await;
    assert_eq!(status, Status::Ok);
    let rows = only["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "one institution in the city: {only}");
    assert_eq!(rows[0]["unit"], city.units[3].as_str());
    let (status, error) = get(&client, "/api/v1/rankings?kind=planet", Some(&leader)).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(error["error"].as_str().expect("message").contains("kind"), "{error}");
    let (status, _) = get(&client, "/api/v1/rankings?cycle=no-such-cycle", Some(&leader)).await;
    assert_eq!(status, Status::NotFound);

    let response = client.get("/api/v1/rankings.csv").header(bearer(&leader)).dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type().map(|c| c.sub().to_string()), Some("csv".into()));
    let bytes = response.into_bytes().await.expect("csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "Excel's BOM");
    let text = String::from_utf8(bytes).expect("utf-8");
    assert_eq!(text.lines().count(), 1 + city.units.len(), "{text}");
    assert!(text.contains(&stored[0].1), "the top total is in the file");

    let unit = token(&city, "unit1").await;
    let (status, _) = get(&client, "/api/v1/rankings", Some(&unit)).await;
    assert_eq!(status, Status::Forbidden);
    let response = client.get("/api/v1/rankings.csv").header(bearer(&unit)).dispatch().await;
    assert_eq!(response.status(), Status::Forbidden);

    // The unit's page as data carries its score in the current cycle and the explanation.
    let (status, detail) = get(&client, &format!("/api/v1/units/{}", city.units[0]), Some(&unit)).await;
    assert_eq!(status, Status::Ok);
    let own = stored.iter().find(|(code, _)| code == city.units[0].as_str()).expect("scored");
    assert_eq!(detail["score"]["score"], own.1.as_str());
    assert!(detail["explanation"]["root"].is_object(), "{detail}");
    let (_, history) = get(&client, &format!("/api/v1/units/{}/history", city.units[0]), Some(&unit)).await;
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
    assert_eq!(history[0]["total"], own.1.as_str());
}

#[tokio::test]
async fn revoked_missing_and_forged_tokens_get_a_json_401() {
    let city = City::new().await;
    let token = token(&city, "leader1").await;
    let client = city.client().await;
    assert_eq!(get(&client, "/api/v1/me", Some(&token)).await.0, Status::Ok);

    let id = city.store.api_tokens("leader1").await.expect("tokens")[0].id.clone();
    city.store
        .revoke_api_token(&id, "leader1", AuditEntry::new("leader1", "token.revoke"))
        .await
        .expect("revoke");
    let forged = format!("gk_{}", "0".repeat(64));
    for presented in [Some(token.as_str()), None, Some(forged.as_str()), Some("not-a-token")] {
        let mut request = client.get("/api/v1/me");
        if let Some(presented) = presented {
            request = request.header(bearer(presented));
        }
        let response = request.dispatch().await;
        assert_eq!(response.status(), Status::Unauthorized, "{presented:?}");
        assert!(response.headers().get_one("Location").is_none(), "an API caller is not redirected");
        assert_eq!(response.content_type(), Some(ContentType::JSON));
        let body: Value = serde_json::from_str(&response.into_string().await.expect("body")).expect("json");
        assert_eq!(body["status"], 401, "{body}");
    }
    let (status, _) = get(&client, "/api/v1/rankings", None).await;
    assert_eq!(status, Status::Unauthorized);
}

#[tokio::test]
async fn a_session_writes_only_with_the_csrf_header() {
    let city = City::new().await;
    let (client, csrf) = city.signed_in("unit1").await;
    let path = format!("{}/actions", path_of(&city.spam_finding));
    let body = json!({ "action": "rectify", "note": "已删除违规内容" }).to_string();

    let (status, me) = get(&client, "/api/v1/me", None).await;
    assert_eq!(status, Status::Ok, "a session reads without the header");
    assert_eq!(me["via"], "session");
    assert_eq!(me["writes_need_csrf_header"], true);

    let (status, error) = post(&client, &path, vec![], &body).await;
    assert_eq!(status, Status::Forbidden, "{error}");
    let (status, _) =
        post(&client, &path, vec![Header::new("X-CSRF-Token", "0".repeat(csrf.len()))], &body).await;
    assert_eq!(status, Status::Forbidden, "a wrong token is no token");
    let finding = city.store.finding(&city.spam_finding).await.expect("read").expect("finding");
    assert_eq!(finding.status, FindingStatus::Open, "nothing was written");
    assert!(city.store.finding_events(&city.spam_finding).await.expect("events").is_empty());

    let (status, answer) = post(&client, &path, vec![Header::new("X-CSRF-Token", csrf.clone())], &body).await;
    assert_eq!(status, Status::Ok, "{answer}");
    assert_eq!(answer["status"], "rectified");
    assert_eq!(answer["events"].as_array().map(Vec::len), Some(1));
    assert_eq!(answer["events"][0]["actor"], "unit1");
    assert_eq!(answer["allowed_actions"], json!([]), "the unit has nothing more to do until reviewed");
    let finding = city.store.finding(&city.spam_finding).await.expect("read").expect("finding");
    assert_eq!(finding.status, FindingStatus::Rectified);

    // The reviewer's move is refused to the unit, and the loop's table still applies.
    let confirm = json!({ "action": "confirm_fix" }).to_string();
    let (status, _) = post(&client, &path, vec![Header::new("X-CSRF-Token", csrf)], &confirm).await;
    assert_eq!(status, Status::Forbidden);
    let office = token(&city, "office1").await;
    let (status, closed) = post(&client, &path, vec![bearer(&office)], &confirm).await;
    assert_eq!(status, Status::Ok, "a token needs no CSRF header: {closed}");
    assert_eq!(closed["status"], "closed");
    let (status, error) = post(&client, &path, vec![bearer(&office)], &confirm).await;
    assert_eq!(status, Status::UnprocessableEntity, "closed is final: {error}");
}

#[tokio::test]
async fn malformed_bodies_are_refused_with_the_field_named_and_nothing_written() {
    let city = City::new().await;
    let unit = token(&city, "unit1").await;
    let client = city.client().await;
    let path = format!("{}/actions", path_of(&city.spam_finding));
    let cases = [
        (r#"{"action": 5}"#, "action"),
        (r#"{"note": "只有说明"}"#, "action"),
        (r#"{"action": "explode"}"#, "action"),
        (r#"{"action": "rectify", "notes": "拼错了"}"#, "notes"),
        (r#"{"action": "rectify", "note": ["x"]}"#, "note"),
        (r#"{"action": "rectify""#, "JSON"),
        (r#"["rectify"]"#, "JSON"),
    ];
    for (body, named) in cases {
        let (status, error) = post(&client, &path, vec![bearer(&unit)], body).await;
        assert_eq!(status, Status::UnprocessableEntity, "{body}: {error}");
        assert_eq!(error["status"], 422);
        let message = error["error"].as_str().expect("message");
        assert!(message.contains(named), "{body}: “{message}” should name {named}");
    }
    let (status, error) =
        post(&client, &path, vec![bearer(&unit)], &json!({ "action": "dispute" }).to_string()).await;
    assert_eq!(status, Status::UnprocessableEntity, "a dispute needs its reason: {error}");
    let finding = city.store.finding(&city.spam_finding).await.expect("read").expect("finding");
    assert_eq!(finding.status, FindingStatus::Open);

    let inspector = token(&city, "inspector1").await;
    let visits = format!("/api/v1/units/{}/visits", city.units[0]);
    let cases = [
        (
            json!({ "date": "2026-11-01", "method": "onsite", "findings": [{ "check": "no.such.check" }] }),
            "findings[0].check",
        ),
        (
            json!({ "date": "2026-11-01", "method": "onsite", "findings": [{ "check": "column.stale" }, 7] }),
            "findings[1]",
        ),
        (
            json!({ "date": "2026-11-01", "method": "onsite", "findings": [{ "chek": "column.stale" }] }),
            "findings[0].chek",
        ),
        (json!({ "date": "2026-11-01" }), "method"),
        (json!({ "date": "11/01/2026", "method": "onsite" }), "date"),
        (json!({ "date": "2026-11-01", "method": "onsite", "findings": "column.stale" }), "findings"),
    ];
    for (body, named) in cases {
        let (status, error) = post(&client, &visits, vec![bearer(&inspector)], &body.to_string()).await;
        assert_eq!(status, Status::UnprocessableEntity, "{body}: {error}");
        let message = error["error"].as_str().expect("message");
        assert!(message.contains(named), "{body}: “{message}” should name {named}");
    }
    assert!(city.store.visits_for(&city.units[0]).await.expect("visits").is_empty(), "nothing was written");
}

#[tokio::test]
async fn inspectors_record_visits_for_their_group_only() {
    let city = City::new().await;
    let client = city.client().await;
    let inspector1 = token(&city, "inspector1").await;
    let inspector2 = token(&city, "inspector2").await;
    let body = json!({
        "date": "2026-11-18",
        "method": "现场检查",
        "note": "听取汇报并现场查看",
        "findings": [{ "check": "column.stale", "note": "通知公告栏目半年未更新", "rectify_by": "2026-12-31" }]
    })
    .to_string();

    let (status, refused) =
        post(&client, &format!("/api/v1/units/{}/visits", city.units[0]), vec![bearer(&inspector2)], &body)
            .await;
    assert_eq!(status, Status::Forbidden, "another group's inspector: {refused}");
    let (status, _) =
        post(&client, &format!("/api/v1/units/{}/visits", city.units[2]), vec![bearer(&inspector1)], &body)
            .await;
    assert_eq!(status, Status::Forbidden, "a unit outside the group");
    let unit = token(&city, "unit1").await;
    let (status, _) =
        post(&client, &format!("/api/v1/units/{}/visits", city.units[0]), vec![bearer(&unit)], &body).await;
    assert_eq!(status, Status::Forbidden, "a unit cannot record visits");
    assert!(city.store.visits_for(&city.units[0]).await.expect("visits").is_empty());

    let (status, recorded) =
        post(&client, &format!("/api/v1/units/{}/visits", city.units[0]), vec![bearer(&inspector1)], &body)
            .await;
    assert_eq!(status, Status::Created, "{recorded}");
    assert_eq!(recorded["findings"], 1);
    assert_eq!(recorded["inspector"], "inspector1");
    let (status, visits) =
        get(&client, &format!("/api/v1/units/{}/visits", city.units[0]), Some(&inspector1)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(visits.as_array().map(Vec::len), Some(1), "{visits}");
    assert_eq!(visits[0]["method"], "现场检查");
    assert_eq!(visits[0]["findings"], 1);

    let (status, group) = get(&client, "/api/v1/groups/mine", Some(&inspector1)).await;
    assert_eq!(status, Status::Ok, "{group}");
    assert_eq!(group["group"], "第一组");
    let codes: BTreeSet<&str> =
        group["units"].as_array().expect("units").iter().filter_map(|u| u["code"].as_str()).collect();
    assert_eq!(codes, BTreeSet::from([city.units[0].as_str(), city.units[1].as_str()]));
    let follow: Vec<&str> =
        group["follow_up"].as_array().expect("list").iter().filter_map(|f| f["check"].as_str()).collect();
    assert!(follow.contains(&"content.spam") && follow.contains(&"column.stale"), "{follow:?}");
    assert!(
        group["follow_up"].as_array().expect("list").iter().all(|f| f["unit"] != city.units[2].as_str()),
        "nothing of units outside the group"
    );
    let (_, units) = get(&client, "/api/v1/units", Some(&inspector1)).await;
    assert_eq!(units["units"].as_array().map(Vec::len), Some(2), "{units}");
}

#[tokio::test]
async fn office_sets_the_current_cycle_and_reads_accounts_and_audit() {
    let city = City::new().await;
    let cycle = assess(&city).await;
    let client = city.client().await;
    let office = token(&city, "office1").await;
    let leader = token(&city, "leader1").await;
    let body = json!({ "cycle": cycle }).to_string();

    let (status, _) = post(&client, "/api/v1/cycles/current", vec![bearer(&leader)], &body).await;
    assert_eq!(status, Status::Forbidden, "leaders change nothing");
    let (status, _) = post(
        &client,
        "/api/v1/cycles/current",
        vec![bearer(&office)],
        &json!({ "cycle": "无此周期" }).to_string(),
    )
    .await;
    assert_eq!(status, Status::NotFound);
    let (status, current) = post(&client, "/api/v1/cycles/current", vec![bearer(&office)], &body).await;
    assert_eq!(status, Status::Ok, "{current}");
    assert_eq!(current["cycle"], cycle.as_str());
    assert_eq!(current["current"], true);
    let (_, shown) = get(&client, "/api/v1/cycles/current", Some(&leader)).await;
    assert_eq!(shown["cycle"], cycle.as_str());

    let (status, accounts) = get(&client, "/api/v1/accounts", Some(&office)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(accounts.as_array().map(Vec::len), Some(6));
    assert!(!accounts.to_string().contains("argon2"), "never a hash");
    assert_eq!(get(&client, "/api/v1/accounts", Some(&leader)).await.0, Status::Forbidden);

    let (status, audit) = get(&client, "/api/v1/audit?limit=1", Some(&office)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(audit.as_array().map(Vec::len), Some(1));
    assert_eq!(audit[0]["action"], "cycles.set_current", "newest first: {audit}");
    assert_eq!(audit[0]["actor"], "office1");
    let (status, error) = get(&client, "/api/v1/audit?limit=0", Some(&office)).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(error["error"].as_str().expect("message").contains("limit"));
    let (status, jobs) = get(&client, "/api/v1/jobs", Some(&office)).await;
    assert_eq!((status, jobs), (Status::Ok, json!([])));
    assert_eq!(get(&client, "/api/v1/jobs/99", Some(&office)).await.0, Status::NotFound);
}

#[tokio::test]
async fn units_submit_their_self_assessment_through_the_api() {
    let city = City::new().await;
    assess(&city).await;
    let client = city.client().await;
    let unit = token(&city, "unit1").await;

    let (status, sheet) = get(&client, "/api/v1/self-assessment", Some(&unit)).await;
    assert_eq!(status, Status::Ok, "{sheet}");
    let item = sheet["items"][0]["id"].as_str().expect("an item").to_string();
    let (status, error) = post(
        &client,
        "/api/v1/self-assessment",
        vec![bearer(&unit)],
        &json!({ "claims": [{ "item": item, "claimed": true }] }).to_string(),
    )
    .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(error["error"].as_str().expect("message").contains("claims[0].claimed"), "{error}");
    let (status, error) = post(&client, "/api/v1/self-assessment", vec![bearer(&unit)], "{}").await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(error["error"].as_str().expect("message").contains("claims"), "{error}");
    assert!(city.store.self_claims_for(&city.units[0]).await.expect("claims").is_empty());

    let (status, outcome) = post(
        &client,
        "/api/v1/self-assessment",
        vec![bearer(&unit)],
        &json!({ "claims": [{ "item": item, "claimed": "1.50", "note": "自查" }] }).to_string(),
    )
    .await;
    assert_eq!(status, Status::Ok, "{outcome}");
    assert_eq!(outcome["claims"], 1);
    let stored = city.store.self_claims_for(&city.units[0]).await.expect("claims");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].claim.claimed.to_string(), "1.50", "the exact text is kept");

    let leader = token(&city, "leader1").await;
    let (status, _) =
        post(&client, "/api/v1/self-assessment", vec![bearer(&leader)], &json!({ "claims": [] }).to_string())
            .await;
    assert_eq!(status, Status::Forbidden);
}

/// `<code>` in a Rocket route is `{code}` in OpenAPI.
fn openapi_path(rocket_path: &str) -> String {
    rocket_path.replace('<', "{").replace("..>", "}").replace('>', "}")
}

#[tokio::test]
async fn the_openapi_document_and_the_mounted_routes_agree() {
    let city = City::new().await;
    let client = city.client().await;
    let (status, document) = get(&client, "/api/v1/openapi.json", None).await;
    assert_eq!(status, Status::Ok, "the document needs no sign-in");
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "/api/v1");

    let mounted: BTreeSet<(String, String)> = client
        .rocket()
        .routes()
        .filter_map(|route| {
            let path = route.uri.path().strip_prefix("/api/v1")?.to_string();
            Some((route.method.as_str().to_lowercase(), openapi_path(&path)))
        })
        .collect();
    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object().expect("path item").keys().map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    assert!(mounted.len() >= 20, "the API is mounted: {mounted:?}");
    let undocumented: Vec<_> = mounted.difference(&documented).collect();
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(undocumented.is_empty(), "mounted but not documented: {undocumented:?}");
    assert!(unmounted.is_empty(), "documented but not mounted: {unmounted:?}");

    for (method, path) in &documented {
        let operation = &document["paths"][path][method];
        let description = operation["description"].as_str().unwrap_or_default();
        assert!(description.contains("允许的角色"), "{method} {path} names its roles");
        for name in path.split('{').skip(1).filter_map(|rest| rest.split('}').next()) {
            let declared = operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
            assert!(declared, "{method} {path} declares its path parameter {name}");
        }
        if path != "/openapi.json" {
            assert!(operation["security"].as_array().is_some_and(|s| !s.is_empty()), "{method} {path}");
        }
    }
    let bearer = &document["components"]["securitySchemes"]["bearerAuth"];
    assert_eq!((bearer["type"].as_str(), bearer["scheme"].as_str()), (Some("http"), Some("bearer")));
}

/// Checks `value` against a schema of the document (the subset the document uses: `$ref`,
/// `allOf`, `oneOf`, `anyOf`, `const`, `enum`, `type`, `properties` with `required`, `items`). An object
/// with documented properties may carry no undocumented ones, so the document cannot drift
/// from the answers without this noticing.
fn conforms(document: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(target) = schema["$ref"].as_str()
        && schema.get("properties").is_none()
    {
        let resolved = document.pointer(target.trim_start_matches('#')).expect("reference resolves");
        return conforms(document, resolved, value, at, problems);
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(branches) = schema[keyword].as_array() {
            let fits = branches.iter().any(|branch| {
                let mut inner = Vec::new();
                conforms(document, branch, value, at, &mut inner);
                inner.is_empty()
            });
            if !fits {
                problems.push(format!("{at}: matches no {keyword} branch: {value}"));
            }
            return;
        }
    }
    if schema.get("allOf").is_some() || schema.get("properties").is_some() {
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        collect_shape(document, schema, &mut properties, &mut required);
        let Some(object) = value.as_object() else {
            problems.push(format!("{at}: expected an object, got {value}"));
            return;
        };
        for name in &required {
            if !object.contains_key(name) {
                problems.push(format!("{at}: missing {name}"));
            }
        }
        for (name, item) in object {
            match properties.get(name) {
                Some(schema) => conforms(document, schema, item, &format!("{at}.{name}"), problems),
                None => problems.push(format!("{at}: undocumented property {name}")),
            }
        }
        return;
    }
    if let Some(expected) = schema.get("const")
        && value != expected
    {
        problems.push(format!("{at}: expected {expected}, got {value}"));
    }
    if let Some(choices) = schema["enum"].as_array()
        && !choices.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {choices:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let fits = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !fits {
            problems.push(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (index, item) in values.iter().enumerate() {
            conforms(document, items, item, &format!("{at}[{index}]"), problems);
        }
    }
}

fn collect_shape(
    document: &Value,
    schema: &Value,
    properties: &mut serde_json::Map<String, Value>,
    required: &mut Vec<String>,
) {
    // A `$ref` beside `properties` adds them to the referenced object (an internally tagged
    // enum's variant: the variant's fields and the tag).
    if let Some(target) = schema["$ref"].as_str() {
        let resolved = document.pointer(target.trim_start_matches('#')).expect("reference resolves");
        collect_shape(document, resolved, properties, required);
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        collect_shape(document, part, properties, required);
    }
    if let Some(own) = schema["properties"].as_object() {
        properties.extend(own.clone());
    }
    required.extend(
        schema["required"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(String::from)),
    );
}

#[tokio::test]
async fn answers_match_their_documented_schemas() {
    let city = City::new().await;
    let cycle = assess(&city).await;
    let client = city.client().await;
    let (_, document) = get(&client, "/api/v1/openapi.json", None).await;
    let office = token(&city, "office1").await;
    let leader = token(&city, "leader1").await;
    let inspector = token(&city, "inspector1").await;
    let unit = token(&city, "unit1").await;
    let (office, leader, inspector, unit) =
        (office.as_str(), leader.as_str(), inspector.as_str(), unit.as_str());
    // A visit and a move, so visits and events are not empty lists.
    let visit = json!({ "date": "2026-11-18", "method": "phone", "findings": [{ "check": "column.stale" }] });
    let path = format!("/api/v1/units/{}/visits", city.units[0]);
    assert_eq!(post(&client, &path, vec![bearer(inspector)], &visit.to_string()).await.0, Status::Created);
    let path = format!("{}/actions", path_of(&city.spam_finding));
    let dispute = json!({ "action": "dispute", "note": "<b>不是我们的页面</b>" }).to_string();
    assert_eq!(post(&client, &path, vec![bearer(unit)], &dispute).await.0, Status::Ok);

    let code = city.units[0].to_string();
    let finding = city.spam_finding.clone();
    let reads: Vec<(&str, String, &str)> = vec![
        ("/me", "/api/v1/me".into(), unit),
        ("/me", "/api/v1/me".into(), inspector),
        ("/cycles", "/api/v1/cycles".into(), leader),
        ("/cycles/current", "/api/v1/cycles/current".into(), unit),
        ("/rankings", format!("/api/v1/rankings?cycle={cycle}&laggards=false"), leader),
        ("/units", "/api/v1/units".into(), office),
        ("/units/{code}", format!("/api/v1/units/{code}"), unit),
        ("/units/{code}/findings", format!("/api/v1/units/{code}/findings"), leader),
        ("/units/{code}/history", format!("/api/v1/units/{code}/history"), inspector),
        ("/units/{code}/visits", format!("/api/v1/units/{code}/visits"), unit),
        ("/findings/{id}", format!("/api/v1/findings/{finding}"), inspector),
        ("/self-assessment", "/api/v1/self-assessment".into(), unit),
        ("/groups/mine", "/api/v1/groups/mine".into(), inspector),
        ("/accounts", "/api/v1/accounts".into(), office),
        ("/audit", "/api/v1/audit".into(), office),
        ("/jobs", "/api/v1/jobs".into(), office),
    ];
    for (template, url, token) in reads {
        let (status, answer) = get(&client, &url, Some(token)).await;
        assert_eq!(status, Status::Ok, "{url}: {answer}");
        let schema =
            &document["paths"][template]["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        assert!(schema.is_object(), "{template} documents its answer");
        let mut problems = Vec::new();
        conforms(&document, schema, &answer, template, &mut problems);
        assert!(problems.is_empty(), "{url} differs from its schema:\n{}", problems.join("\n"));
    }
    let (_, finding) =
        get(&client, &format!("/api/v1/findings/{}", city.spam_finding), Some(inspector)).await;
    assert_eq!(finding["status"], "disputed");
    assert_eq!(finding["events"][0]["note"], "<b>不是我们的页面</b>", "notes come back as plain text");
    let allowed: BTreeSet<&str> =
        finding["allowed_actions"].as_array().expect("list").iter().filter_map(Value::as_str).collect();
    assert_eq!(allowed, BTreeSet::from(["withdraw", "uphold"]), "the group's inspector decides on a dispute");
}

/// Checks a body against `template`'s documented request body, posts it, and checks the answer
/// against the documented success answer.
async fn post_as_documented(
    client: &Client,
    document: &Value,
    (template, url): (&str, &str),
    token: &str,
    body: &Value,
) -> Value {
    let operation = &document["paths"][template]["post"];
    let mut problems = Vec::new();
    let request = &operation["requestBody"]["content"]["application/json"]["schema"];
    conforms(document, request, body, &format!("{template} body"), &mut problems);
    let (status, answer) = post(client, url, vec![bearer(token)], &body.to_string()).await;
    assert!(status.code < 300, "{url}: {status} {answer}");
    let schema = &operation["responses"][status.code.to_string()]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{template} documents its {status} answer");
    conforms(document, schema, &answer, template, &mut problems);
    assert!(problems.is_empty(), "{url} differs from its schema:\n{}", problems.join("\n"));
    answer
}

/// The component schemas are generated from the Rust types; writes and errors answer with
/// types too, so their answers (and the bodies the API accepts) are held to the document as
/// the reads are. A field added to an answer's type but missing from the document fails here.
#[tokio::test]
async fn writes_and_errors_match_their_documented_schemas() {
    let city = City::new().await;
    let cycle = assess(&city).await;
    let client = city.client().await;
    let (_, document) = get(&client, "/api/v1/openapi.json", None).await;
    let office = token(&city, "office1").await;
    let inspector = token(&city, "inspector1").await;
    let unit = token(&city, "unit1").await;

    let visit = json!({
        "date": "2026-11-18",
        "method": "website",
        "note": "抽查",
        "findings": [{ "check": "column.stale", "note": "栏目久未更新", "rectify_by": "2026-12-31" }]
    });
    let url = format!("/api/v1/units/{}/visits", city.units[0]);
    let recorded =
        post_as_documented(&client, &document, ("/units/{code}/visits", &url), &inspector, &visit).await;
    assert_eq!(recorded["findings"], 1);

    let url = format!("{}/actions", path_of(&city.spam_finding));
    let dispute = json!({ "action": "dispute", "note": "不是我们的页面" });
    let detail =
        post_as_documented(&client, &document, ("/findings/{id}/actions", &url), &unit, &dispute).await;
    assert_eq!(detail["status"], "disputed");

    let (_, sheet) = get(&client, "/api/v1/self-assessment", Some(&unit)).await;
    let item = sheet["items"][0]["id"].as_str().expect("an item").to_string();
    let claims = json!({ "claims": [{ "item": item, "claimed": "1.50", "note": "自查" }] });
    let outcome = post_as_documented(
        &client,
        &document,
        ("/self-assessment", "/api/v1/self-assessment"),
        &unit,
        &claims,
    )
    .await;
    assert_eq!(outcome["claims"], 1);

    let current = json!({ "cycle": cycle });
    let answer = post_as_documented(
        &client,
        &document,
        ("/cycles/current", "/api/v1/cycles/current"),
        &office,
        &current,
    )
    .await;
    assert_eq!(answer["current"], true);

    // An error answer is the documented `Error`, and a body with an undocumented field is not
    // what the document describes (and the API refuses it).
    let (status, error) = get(&client, "/api/v1/me", Some("gk_forged")).await;
    assert_eq!(status, Status::Unauthorized);
    let mut problems = Vec::new();
    conforms(&document, &json!({ "$ref": "#/components/schemas/Error" }), &error, "401", &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let extra = json!({ "cycle": cycle, "colour": "red" });
    let request = &document["paths"]["/cycles/current"]["post"]["requestBody"]["content"]["application/json"];
    conforms(&document, &request["schema"], &extra, "body", &mut problems);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let (status, _) =
        post(&client, "/api/v1/cycles/current", vec![bearer(&office)], &extra.to_string()).await;
    assert_eq!(status, Status::UnprocessableEntity);
}
