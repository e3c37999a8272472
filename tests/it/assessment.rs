//! Assessment end to end: evidence in the store → `gongkai assess` → `gongkai ranking`.

use std::str::FromStr;

use chrono::{TimeZone, Utc};
use gongkai::model::{CrawlKind, Finding, FindingStatus, OrgCode, Source};
use gongkai::registry::{plan_import, read_registry};
use gongkai::store::{AuditEntry, CrawlRunRecord, Store, StoreConfig};
use rust_decimal::Decimal;

use crate::support::{HEADER, credit_code, gongkai, json};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/gov-website-2019.toml");

fn decimal(value: &serde_json::Value) -> Decimal {
    Decimal::from_str(value.as_str().expect("decimal as string")).expect("decimal")
}

fn code(n: u32) -> OrgCode {
    OrgCode::parse(&credit_code(n)).expect("code")
}

fn finding(unit: u32, check: &str, day: u32) -> Finding {
    Finding {
        id: None,
        unit: code(unit),
        check: check.to_string(),
        source: Source::Crawler,
        observed_at: Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).single().expect("date"),
        url: Some(format!("http://u{unit}.example.cn/")),
        detail: serde_json::json!({ "snippet": "<script>alert(1)</script>" }),
        status: FindingStatus::Open,
        rectify_by: None,
    }
}

/// A registry of four departments (unit 2 supervises unit 4) and one site crawl per set.
async fn seed(db: &str, runs: &[(u32, Vec<Finding>)]) {
    let store = Store::connect(&StoreConfig::new(db)).await.expect("store");
    let csv = format!(
        "{HEADER}{a},甲局,department,,http://u1.example.cn/,,\n{b},乙局,department,,http://u2.example.cn/,,\n\
         {c},丙局,department,,http://u3.example.cn/,,\n{d},丁中心,institution,{b},http://u4.example.cn/,,\n",
        a = credit_code(1),
        b = credit_code(2),
        c = credit_code(3),
        d = credit_code(4),
    );
    let file = read_registry(csv.as_bytes()).expect("readable");
    let plan = plan_import(&file, &store.units().await.expect("units")).expect("valid");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import");
    for (day, findings) in runs {
        let at = Utc.with_ymd_and_hms(2026, 11, *day, 3, 0, 0).single().expect("date");
        let run = CrawlRunRecord {
            kind: CrawlKind::Site,
            as_of: at,
            started_at: at,
            finished_at: at,
            units: (1..=4).map(code).collect(),
            stats: serde_json::json!({}),
        };
        store.record_crawl_run(&run, findings, &[]).await.expect("record run");
    }
    store.close().await;
}

fn by_unit(ranking: &serde_json::Value, n: u32) -> serde_json::Value {
    ranking
        .as_array()
        .expect("array")
        .iter()
        .find(|row| row["unit"] == credit_code(n))
        .cloned()
        .unwrap_or_else(|| panic!("unit {n} missing from {ranking}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn veto_deductions_ties_and_supervisors_show_in_the_ranking() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    // Run of 10 November: unit 1 carries injected spam (a veto), unit 2 three broken links
    // (0.5 each under the shipped rules), units 3 and 4 nothing.
    let first = vec![
        finding(1, "content.spam", 10),
        finding(2, "link.broken", 10),
        finding(2, "link.broken", 10),
        finding(2, "link.broken", 10),
    ];
    seed(&db, &[(10, first)]).await;

    let saved = json(&gongkai(
        &db,
        &["assess", "--rules", RULES, "--cycle", "c1", "--as-of", "2026-11-15", "--format", "json"],
    ));
    assert_eq!(saved["units"], 4);
    assert_eq!(saved["vetoed"], 1);

    let ranking = json(&gongkai(&db, &["ranking", "--cycle", "c1", "--format", "json"]));
    let (one, two, three, four) =
        (by_unit(&ranking, 1), by_unit(&ranking, 2), by_unit(&ranking, 3), by_unit(&ranking, 4));
    for key in ["unit", "kind", "score", "grade", "veto", "rank", "rank_in_kind", "laggard", "reasons"] {
        assert!(one.get(key).is_some(), "field {key} missing: {one}");
    }
    assert_eq!(one["veto"], "security_incident");
    assert_eq!(decimal(&one["score"]), Decimal::ZERO);
    assert_eq!(one["laggard"], true);
    assert!(one["reasons"][0].as_str().is_some_and(|r| r.starts_with("单项否决")), "{one}");
    assert_eq!(decimal(&two["score"]), Decimal::from(100) - Decimal::from(3) * Decimal::new(5, 1));
    // Units 3 and 4 tie on full marks and share rank 1; unit 2 is third, unit 1 last.
    assert_eq!((three["rank"].as_u64(), four["rank"].as_u64()), (Some(1), Some(1)));
    assert_eq!(two["rank"], 3);
    assert_eq!(one["rank"], 4);
    assert_eq!(four["rank_in_kind"], 1, "the only institution");
    assert_eq!(two["subordinates"]["count"], 1, "unit 2 supervises unit 4: {two}");
    assert_eq!(two["veto"], serde_json::Value::Null);

    // The scores' explanation cites the finding behind the deduction.
    let store = Store::connect(&StoreConfig::new(db.as_str())).await.expect("store");
    let explanation = store.explanation("c1", &credit_code(2)).await.expect("read").expect("stored");
    store.close().await;
    let text = explanation.to_string();
    assert!(text.contains("link.broken") && text.contains("http://u2.example.cn/"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_crawl_moves_units_and_an_old_as_of_reproduces_the_old_cycle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    // 10 November: unit 1 vetoed. 20 November: unit 1 fixed, unit 3 now has four broken links.
    let first = vec![finding(1, "content.spam", 10)];
    let second = vec![
        finding(3, "link.broken", 20),
        finding(3, "link.broken", 20),
        finding(3, "link.broken", 20),
        finding(3, "link.broken", 20),
    ];
    seed(&db, &[(10, first), (20, second)]).await;
    let criteria = dir.path().join("laggards.toml");
    std::fs::write(&criteria, "[laggards]\nveto = true\ndrop_places = 1\n").expect("write criteria");
    let criteria = criteria.to_str().expect("utf-8 path");

    json(&gongkai(
        &db,
        &[
            "assess",
            "--rules",
            RULES,
            "--cycle",
            "nov-a",
            "--as-of",
            "2026-11-15",
            "--laggards",
            criteria,
            "--format",
            "json",
        ],
    ));
    let later = json(&gongkai(
        &db,
        &[
            "assess",
            "--rules",
            RULES,
            "--cycle",
            "nov-b",
            "--as-of",
            "2026-11-25",
            "--laggards",
            criteria,
            "--format",
            "json",
        ],
    ));
    assert_eq!(later["previous_cycle"], "nov-a");

    let ranking = json(&gongkai(&db, &["ranking", "--cycle", "nov-b", "--format", "json"]));
    let (one, three) = (by_unit(&ranking, 1), by_unit(&ranking, 3));
    assert_eq!(one["veto"], serde_json::Value::Null, "the newer run replaced the vetoed one");
    assert_eq!((one["previous_rank"].as_u64(), one["rank"].as_u64()), (Some(4), Some(1)));
    assert_eq!(one["rank_change"], 3);
    assert_eq!(three["rank_change"], -3);
    assert_eq!(three["laggard"], true);
    assert!(three["reasons"].to_string().contains("下降 3 位"), "{three}");

    // Re-assessing as of the 15th sees only the first run again: identical scores.
    let again = json(&gongkai(
        &db,
        &[
            "assess",
            "--rules",
            RULES,
            "--cycle",
            "nov-a2",
            "--as-of",
            "2026-11-15",
            "--laggards",
            criteria,
            "--dry-run",
            "--compare-with",
            "nov-a",
            "--format",
            "json",
        ],
    ));
    assert_eq!(again, serde_json::json!([]), "nothing moves against the cycle it reproduces");

    // What-if against nov-a with today's evidence: units 1 and 3 move, with reasons; nothing saved.
    let moves = json(&gongkai(
        &db,
        &[
            "assess",
            "--rules",
            RULES,
            "--cycle",
            "what-if",
            "--as-of",
            "2026-11-25",
            "--dry-run",
            "--compare-with",
            "nov-a",
            "--format",
            "json",
        ],
    ));
    let moved: Vec<&str> =
        moves.as_array().expect("array").iter().filter_map(|m| m["unit"].as_str()).collect();
    assert!(moved.contains(&credit_code(1).as_str()) && moved.contains(&credit_code(3).as_str()), "{moves}");
    let unit_one =
        moves.as_array().expect("array").iter().find(|m| m["unit"] == credit_code(1)).expect("unit 1");
    assert!(unit_one["why"].to_string().contains("security_incident"), "{unit_one}");
    let missing = gongkai(&db, &["ranking", "--cycle", "what-if", "--format", "json"]);
    assert_eq!(missing.status.code(), Some(2), "a dry run saves nothing");
}

#[test]
fn shipped_rule_sets_check_and_a_broken_one_names_its_lines() {
    for file in ["gov-website-2019.toml", "city-disclosure-2009.toml"] {
        let path = format!("{}/scoring-rules/{file}", env!("CARGO_MANIFEST_DIR"));
        let output = gongkai("mem://", &["rules", "check", &path, "--format", "json"]);
        let examples = json(&output);
        assert!(!examples.as_array().expect("array").is_empty(), "{file} has examples");
        assert!(examples.as_array().expect("array").iter().all(|e| e["pass"] == true), "{examples}");
        let dead_site = examples
            .as_array()
            .expect("array")
            .iter()
            .find(|e| e["name"].as_str().is_some_and(|n| n.starts_with("网站拒绝连接")));
        assert!(
            dead_site.is_some_and(|e| e["expected_total"] != "100"),
            "{file}: a dead-site example (未能核查)"
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let broken = dir.path().join("broken.toml");
    let text = std::fs::read_to_string(RULES).expect("rules").replacen(
        "check = \"link.broken\"",
        "check = \"link.brokn\"",
        1,
    );
    std::fs::write(&broken, text).expect("write");
    let output = gongkai("mem://", &["rules", "check", broken.to_str().expect("path")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("link.brokn") && stderr.contains("broken.toml:"), "{stderr}");
}

#[test]
fn over_claiming_in_the_self_assessment_is_reported_and_flagged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write fixture");
        path.display().to_string()
    };
    let units = write(
        "units.csv",
        format!(
            "{HEADER}{},甲局,department,,http://u1.example.cn/,,\n{},乙局,department,,http://u2.example.cn/,,\n",
            credit_code(1),
            credit_code(2)
        ),
    );
    // An inspector finds no designated staff at unit 1 (10 points of the 20 for organisation);
    // both units claim the full 20.
    let visits = write(
        "visits.csv",
        format!(
            "unit,inspector,group,date,method,check,note,rectify_by\n{},李明,第一组,2009-10-12,现场检查,field.no_staff,未明确专人,\n",
            credit_code(1)
        ),
    );
    let claims = write(
        "claims.csv",
        format!(
            "unit,item,claimed,note,submitted_at\n{a},organisation,20,,2009-11-01\n{b},organisation,20,,2009-11-01\n",
            a = credit_code(1),
            b = credit_code(2)
        ),
    );
    let city = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/city-disclosure-2009.toml");
    for args in [
        vec!["units", "import", units.as_str()],
        vec!["visits", "import", visits.as_str(), "--rules", city],
        vec!["self-assess", "import", claims.as_str()],
        vec!["assess", "--rules", city, "--cycle", "2009", "--as-of", "2009-12-31"],
    ] {
        let output = gongkai(&db, &args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let ranking = json(&gongkai(&db, &["ranking", "--cycle", "2009", "--format", "json"]));
    let (one, two) = (by_unit(&ranking, 1), by_unit(&ranking, 2));
    assert_eq!(decimal(&one["self_claimed"]), Decimal::from(20));
    assert_eq!(decimal(&one["over_claim"]), Decimal::from(10), "{one}");
    assert!(one["reasons"].to_string().contains("高报 10"), "{one}");
    assert_eq!(decimal(&two["over_claim"]), Decimal::ZERO);
    assert!(!two["reasons"].to_string().contains("高报"), "{two}");
}
