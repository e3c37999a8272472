//! The jobs against an in-memory store: what an assessment saves must be what the ranking reads
//! back, and bad requests must be refused before anything is written.

use chrono::{TimeZone, Utc};

use super::{AssessRequest, JobError, Progress, assess, assessment_cutoff, select_units};
use crate::assess::LaggardCriteria;
use crate::model::check::{CONTENT_SPAM, LINK_BROKEN};
use crate::model::{CrawlKind, Finding, FindingStatus, OrgCode, Source, synthetic_credit_code};
use crate::registry::{plan_import, read_registry};
use crate::rules::RuleSet;
use crate::store::{AuditEntry, CrawlRunRecord, Store};

const RULES: &str = crate::rules::shipped::GOV_WEBSITE_2019.text;

fn code(n: u32) -> OrgCode {
    synthetic_credit_code("450100", n).expect("valid code")
}

fn finding(unit: u32, check: &str) -> Finding {
    Finding {
        id: None,
        unit: code(unit),
        check: check.to_string(),
        source: Source::Crawler,
        observed_at: Utc.with_ymd_and_hms(2026, 11, 10, 2, 0, 0).single().expect("date"),
        url: Some(format!("http://u{unit}.example.cn/")),
        detail: serde_json::json!({}),
        status: FindingStatus::Open,
        rectify_by: None,
    }
}

/// Four departments; on 10 November unit 1 carried injected spam (a veto) and unit 2 three
/// broken links.
async fn seeded_store() -> Store {
    let store = Store::memory().await.expect("store");
    let mut csv = String::from("code,name,kind,parent_code,website,catalogue_url,email\n");
    for n in 1..=4 {
        csv.push_str(&format!("{},第{n}局,department,,http://u{n}.example.cn/,,\n", code(n)));
    }
    let file = read_registry(csv.as_bytes()).expect("readable");
    let plan = plan_import(&file, &[]).expect("valid");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import");
    let at = Utc.with_ymd_and_hms(2026, 11, 10, 3, 0, 0).single().expect("date");
    let run = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: at,
        started_at: at,
        finished_at: at,
        units: (1..=4).map(code).collect(),
        stats: serde_json::json!({}),
    };
    let findings = [
        finding(1, CONTENT_SPAM.id),
        finding(2, LINK_BROKEN.id),
        finding(2, LINK_BROKEN.id),
        finding(2, LINK_BROKEN.id),
    ];
    store.record_crawl_run(&run, &findings, &[]).await.expect("record run");
    store
}

fn request(cycle: &str, save: bool) -> AssessRequest {
    let (day, cutoff) = assessment_cutoff(Some("2026-11-15")).expect("valid day");
    AssessRequest {
        rule_set: RuleSet::parse(RULES, "gov-website-2019.toml").expect("shipped rules are valid"),
        source: RULES.to_string(),
        criteria: LaggardCriteria::shipped(),
        cycle: Some(cycle.to_string()),
        day,
        cutoff,
        actor: "test".to_string(),
        save,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_cycle_reads_back_with_the_counts_the_job_reported() {
    let store = seeded_store().await;
    let progress = Progress::default();
    let outcome = assess(&store, request("c1", true), &progress).await.expect("assessed");

    assert_eq!((outcome.cycle.as_str(), outcome.rule_set.as_str()), ("c1", "gov-website-2019"));
    assert_eq!(outcome.as_of, "2026-11-15");
    assert_eq!((outcome.units, outcome.vetoed, outcome.passed), (4, 1, 3), "unit 1 is vetoed to 0 points");
    assert_eq!(outcome.previous_cycle, None);

    let ranking = store.ranking("c1").await.expect("ranking");
    assert_eq!(ranking.len(), outcome.units);
    assert_eq!(ranking.iter().filter(|r| r.laggard).count(), outcome.laggards);
    assert!(outcome.laggards >= 1, "a vetoed unit is a laggard under the shipped criteria");
    let vetoed: Vec<&str> = ranking.iter().filter(|r| r.veto.is_some()).map(|r| r.unit.as_str()).collect();
    assert_eq!(vetoed, [code(1).to_string()]);
    let ranked = |rows: &[crate::assess::RankedScore]| -> Vec<(String, u32)> {
        rows.iter().map(|r| (r.unit.clone(), r.rank)).collect()
    };
    let mut returned = ranked(&outcome.rows);
    returned.sort();
    let mut stored = ranked(&ranking);
    stored.sort();
    assert_eq!(returned, stored, "the rows returned are the rows saved");

    let cycles = store.cycles().await.expect("cycles");
    assert_eq!(cycles.iter().map(|c| c.cycle.as_str()).collect::<Vec<_>>(), ["c1"]);
    let seen = progress.snapshot();
    assert_eq!((seen.stage.as_str(), seen.total, seen.done), ("保存评分", 1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_ranks_against_the_previous_cycle_without_saving() {
    let store = seeded_store().await;
    assess(&store, request("c1", true), &Progress::default()).await.expect("first cycle");

    let what_if = assess(&store, request("c2", false), &Progress::default()).await.expect("dry run");
    assert_eq!(what_if.previous_cycle.as_deref(), Some("c1"));
    assert_eq!(what_if.units, 4);
    assert!(
        what_if.rows.iter().all(|r| r.previous_rank.is_some()),
        "every unit was ranked in c1: {:?}",
        what_if.rows
    );
    assert!(store.ranking("c2").await.expect("ranking").is_empty(), "nothing saved");
    assert_eq!(store.cycles().await.expect("cycles").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_are_refused_as_bad_input_before_anything_is_saved() {
    let empty = Store::memory().await.expect("store");
    let refused = assess(&empty, request("c1", true), &Progress::default()).await;
    assert!(matches!(&refused, Err(JobError::BadInput(m)) if m.contains("gov-website-2019")), "{refused:?}");
    assert!(matches!(select_units(&empty, &[]).await, Err(JobError::BadInput(_))));

    let store = seeded_store().await;
    let blank = assess(&store, request("  ", true), &Progress::default()).await;
    assert!(matches!(blank, Err(JobError::BadInput(_))), "{blank:?}");
    assert!(store.cycles().await.expect("cycles").is_empty());

    let unknown = select_units(&store, &[code(9).to_string()]).await;
    assert!(
        matches!(&unknown, Err(JobError::BadInput(m)) if m.contains(&code(9).to_string())),
        "{unknown:?}"
    );
    assert!(matches!(select_units(&store, &["not-a-code".into()]).await, Err(JobError::BadInput(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn units_are_selected_in_the_order_asked_and_only_once() {
    let store = seeded_store().await;
    let asked = [code(3).to_string(), code(1).to_string(), code(3).to_string()];
    let selected = select_units(&store, &asked).await.expect("selected");
    assert_eq!(selected.iter().map(|u| u.code.clone()).collect::<Vec<_>>(), [code(3), code(1)]);
    assert_eq!(select_units(&store, &[]).await.expect("all").len(), 4);
}
