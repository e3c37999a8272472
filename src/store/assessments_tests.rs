//! The staged save against an in-memory store: a save cut off before its flip leaves nothing
//! visible, a re-save replaces the cycle whole, and every reader reads the flipped generation.

use std::collections::{BTreeSet, HashMap};

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

use super::{BATCH_ROWS, CycleRecord, new_generation};
use crate::assess::{LaggardCriteria, RankedScore, ScoredUnit, rank, score_units};
use crate::model::check::{CONTENT_SPAM, LINK_BROKEN};
use crate::model::{
    Finding, FindingStatus, OrgCode, Source, Unit, UnitEvidence, UnitKind, synthetic_credit_code,
};
use crate::rules::RuleSet;
use crate::store::{AuditEntry, Store};

const RULES: &str = crate::rules::shipped::GOV_WEBSITE_2019.text;
const CYCLE: &str = "2026-Q4";

fn code(n: u32) -> OrgCode {
    synthetic_credit_code("450100", n).expect("code")
}

/// Units `from..from + n` scored as of 30 November: unit i has `(i + broken) % 5` broken links,
/// every 9th injected spam (a veto).
fn scored(from: u32, n: u32, broken: u32) -> Vec<ScoredUnit> {
    let observed = Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).single().expect("date");
    let mut units = Vec::new();
    let mut evidence = std::collections::BTreeMap::new();
    for i in from..from + n {
        units.push(Unit {
            code: code(i),
            name: format!("第{i}局"),
            kind: UnitKind::ALL[(i % 5) as usize],
            parent_code: None,
            website: Some(format!("http://u{i}.example.cn/")),
            catalogue_url: None,
            email: None,
        });
        let finding = |check: &str, j: u32| Finding {
            id: Some(format!("finding:{i}_{j}")),
            unit: code(i),
            check: check.to_string(),
            source: Source::Crawler,
            observed_at: observed,
            url: Some(format!("http://u{i}.example.cn/p{j}")),
            detail: serde_json::json!({}),
            status: FindingStatus::Open,
            rectify_by: None,
        };
        let mut unit_evidence = UnitEvidence::default();
        unit_evidence.findings.extend((0..(i + broken) % 5).map(|j| finding(LINK_BROKEN.id, j)));
        if i % 9 == 0 {
            unit_evidence.findings.push(finding(CONTENT_SPAM.id, 99));
        }
        evidence.insert(code(i), unit_evidence);
    }
    let rule_set = rule_set();
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
    score_units(&rule_set, &units, &evidence, &LaggardCriteria::shipped(), as_of).expect("scored")
}

fn rule_set() -> RuleSet {
    RuleSet::parse(RULES, "gov-website-2019.toml").expect("rule set")
}

fn ranked(scored: &[ScoredUnit]) -> Vec<RankedScore> {
    let rule_set = rule_set();
    rank(scored, &HashMap::new(), &LaggardCriteria::shipped(), rule_set.pass_mark())
}

/// The explanations' JSON text by unit, as `jobs::assess` hands it to the store.
fn trees(scored: &[ScoredUnit]) -> HashMap<String, String> {
    scored.iter().map(|s| s.clone().into_explanation_json().expect("json")).collect()
}

/// The tree a unit's explanation was folded from, as JSON.
fn tree(scored: &ScoredUnit) -> serde_json::Value {
    serde_json::from_str(scored.explanation_json.as_deref().expect("folded")).expect("json")
}

fn record() -> CycleRecord {
    let rule_set = rule_set();
    CycleRecord {
        cycle: CYCLE.into(),
        as_of: Utc.with_ymd_and_hms(2026, 11, 30, 15, 59, 59).single().expect("date"),
        rule_set_id: rule_set.id().into(),
        rule_set_version: rule_set.version().into(),
        rule_set_hash: rule_set.hash().into(),
        rule_set_title: rule_set.title().into(),
        rule_set_source: RULES.into(),
    }
}

async fn counts(store: &Store) -> (u64, u64) {
    let counts = store.row_counts(&["score", "score_explanation"]).await.expect("counts");
    (counts["score"], counts["score_explanation"])
}

/// What every reader shows of the cycle, and of unit `unit` in it.
async fn visible(store: &Store, unit: u32) -> (usize, usize, bool, bool, bool, usize, i64) {
    let cycles = store.cycles().await.expect("cycles").len();
    let ranking = store.ranking(CYCLE).await.expect("ranking").len();
    let current = store.current_cycle().await.expect("current").is_some();
    let unit_score = store.unit_score(CYCLE, &code(unit)).await.expect("unit score").is_some();
    let explanation = store.explanation(CYCLE, code(unit).as_str()).await.expect("explanation").is_some();
    let history = store.score_history(&code(unit)).await.expect("history").len();
    let assessed = store.annual_figures(2026).await.expect("annual").units_assessed;
    (cycles, ranking, current, unit_score, explanation, history, assessed)
}

#[tokio::test]
async fn a_save_cut_off_before_its_flip_shows_nothing_and_the_next_save_clears_its_rows() {
    let store = Store::memory().await.expect("store");
    let scored = scored(1, 30, 0);
    let rows = ranked(&scored);
    let explanations = trees(&scored);

    // A save that wrote two of its three batches and died.
    let orphan = new_generation();
    for batch in rows.chunks(10).take(2) {
        store.stage_scores(&record(), &orphan, batch, &explanations).await.expect("stage");
    }
    assert_eq!(counts(&store).await, (20, 20), "the batches were written");
    assert_eq!(visible(&store, 1).await, (0, 0, false, false, false, 0, 0), "a half-saved cycle shows");

    store
        .save_cycle(&record(), &rows, &trees(&scored), AuditEntry::new("test", "assess"))
        .await
        .expect("save");
    let ranking = store.ranking(CYCLE).await.expect("ranking");
    assert_eq!(ranking.len(), 30);
    let units: BTreeSet<&str> = ranking.iter().map(|r| r.unit.as_str()).collect();
    assert_eq!(units.len(), 30, "a unit ranked twice");
    assert_eq!(ranking, rows.clone().sorted_by_rank());
    assert_eq!(counts(&store).await, (30, 30), "the orphan rows are left");
    assert_eq!(visible(&store, 1).await, (1, 30, true, true, true, 1, 30));
}

#[tokio::test]
async fn re_saving_a_cycle_replaces_it_whole() {
    let store = Store::memory().await.expect("store");
    let first = scored(1, 12, 0);
    let first_rows = ranked(&first);
    store
        .save_cycle(&record(), &first_rows, &trees(&first), AuditEntry::new("test", "assess"))
        .await
        .expect("save");
    let saved_at = store.cycles().await.expect("cycles")[0].saved_at.expect("stamp");

    // The re-run scores other units (5..20) on other evidence. Staged and flipped by hand, so
    // the replaced rows can be looked at before they are deleted.
    let second = scored(5, 16, 2);
    let second_rows = ranked(&second);
    let generation = new_generation();
    store.stage_scores(&record(), &generation, &second_rows, &trees(&second)).await.expect("stage");
    assert_eq!(store.ranking(CYCLE).await.expect("ranking").len(), 12, "the re-run shows before its flip");
    assert_eq!(store.annual_figures(2026).await.expect("annual").units_assessed, 12);
    store
        .flip_cycle(&record(), &generation, second_rows.len(), AuditEntry::new("test", "assess"))
        .await
        .expect("flip");

    let ranking = store.ranking(CYCLE).await.expect("ranking");
    assert_eq!(ranking.len(), 16);
    assert_eq!(ranking, second_rows.clone().sorted_by_rank());
    assert!(store.unit_score(CYCLE, &code(1)).await.expect("unit score").is_none(), "a replaced row reads");
    assert!(store.explanation(CYCLE, code(1).as_str()).await.expect("explanation").is_none());
    assert!(store.score_history(&code(1)).await.expect("history").is_empty());
    let unit_7 = second_rows.iter().find(|r| r.unit == code(7).as_str()).expect("unit 7");
    assert_eq!(store.unit_score(CYCLE, &code(7)).await.expect("unit score").as_ref(), Some(unit_7));
    let history = store.score_history(&code(7)).await.expect("history");
    assert_eq!(history.iter().map(|p| p.total).collect::<Vec<Decimal>>(), vec![unit_7.score]);
    assert_eq!(store.annual_figures(2026).await.expect("annual").units_assessed, 16);
    let cycles = store.cycles().await.expect("cycles");
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].units, 16);
    assert_ne!(cycles[0].saved_at, Some(saved_at), "readers would keep the old ranking");

    assert_eq!(counts(&store).await, (12 + 16, 12 + 16), "the replaced rows are already gone");
    store.delete_replaced_generations(CYCLE, &generation).await.expect("delete");
    assert_eq!(counts(&store).await, (16, 16), "the replaced rows are left");

    // And through save_cycle as a whole: exactly the new rows, once.
    let third = scored(1, 3, 4);
    store
        .save_cycle(&record(), &ranked(&third), &trees(&third), AuditEntry::new("test", "assess"))
        .await
        .expect("save");
    assert_eq!(store.ranking(CYCLE).await.expect("ranking").len(), 3);
    assert_eq!(counts(&store).await, (3, 3));
}

#[tokio::test]
async fn an_explanation_reads_back_as_the_tree_written_in_every_batch() {
    let store = Store::memory().await.expect("store");
    // More units than a batch holds, so that trees of a later batch are checked too.
    let n = BATCH_ROWS as u32 + 7;
    let scored = scored(1, n, 1);
    let rows = ranked(&scored);
    store
        .save_cycle(&record(), &rows, &trees(&scored), AuditEntry::new("test", "assess"))
        .await
        .expect("save");
    assert_eq!(store.ranking(CYCLE).await.expect("ranking").len(), n as usize);
    for s in [&scored[0], &scored[9], &scored[n as usize - 1]] {
        let read = store.explanation(CYCLE, s.unit.code.as_str()).await.expect("read").expect("saved");
        assert_eq!(read, tree(s), "{}", s.unit.code);
    }
    // A vetoed unit's tree says so: the trees are not all alike.
    let vetoed = store.explanation(CYCLE, scored[8].unit.code.as_str()).await.expect("read").expect("saved");
    assert_eq!(scored[8].score.veto.is_some(), vetoed.to_string().contains("触发单项否决"));
    assert!(scored[8].score.veto.is_some());
}

#[tokio::test]
async fn a_cycle_saved_before_generations_reads_after_the_upgrade_and_is_replaced_whole() {
    let store = Store::memory().await.expect("store");
    let first = scored(1, 8, 0);
    let rows = ranked(&first);
    store
        .save_cycle(&record(), &rows, &trees(&first), AuditEntry::new("test", "assess"))
        .await
        .expect("save");
    // Turn it into what the previous version left: no generations, the explanation inside the
    // score row, and the unique index over (cycle, unit).
    store
        .db()
        .query(
            "DEFINE FIELD OVERWRITE generation ON assessment TYPE option<string>;
             DEFINE FIELD OVERWRITE generation ON score TYPE option<string>;
             REMOVE INDEX score_cycle_generation_unit ON score;
             FOR $e IN (SELECT unit, text FROM score_explanation) {
                 UPDATE score SET explanation = $e.text WHERE unit = $e.unit;
             };
             UPDATE assessment UNSET generation;
             UPDATE score UNSET generation;
             REMOVE FIELD generation ON assessment;
             REMOVE FIELD generation ON score;
             DEFINE FIELD OVERWRITE explanation ON score TYPE string;
             DELETE score_explanation;
             DEFINE INDEX score_cycle_unit ON score FIELDS cycle, unit UNIQUE;
             DELETE schema_version;",
        )
        .await
        .and_then(surrealdb::IndexedResults::check)
        .expect("downgrade");
    let legacy: Vec<Option<String>> = store
        .db()
        .query("SELECT VALUE generation FROM score")
        .await
        .and_then(|mut r| r.take(0))
        .expect("generations");
    assert_eq!(legacy, vec![None; 8], "the rows still carry a generation");

    super::super::apply_schema(store.db()).await.expect("upgrade");
    assert_eq!(store.ranking(CYCLE).await.expect("ranking"), rows.clone().sorted_by_rank());
    let read = store.explanation(CYCLE, first[3].unit.code.as_str()).await.expect("read").expect("moved");
    assert_eq!(read, tree(&first[3]));
    assert_eq!(counts(&store).await, (8, 8));

    let again = scored(1, 8, 3);
    store
        .save_cycle(&record(), &ranked(&again), &trees(&again), AuditEntry::new("test", "assess"))
        .await
        .expect("re-save");
    assert_eq!(store.ranking(CYCLE).await.expect("ranking"), ranked(&again).sorted_by_rank());
    assert_eq!(counts(&store).await, (8, 8), "the upgraded rows were not replaced");
}

/// Rows ordered as `Store::ranking` returns them.
trait SortedByRank {
    fn sorted_by_rank(self) -> Self;
}

impl SortedByRank for Vec<RankedScore> {
    fn sorted_by_rank(mut self) -> Self {
        self.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.unit.cmp(&b.unit)));
        self
    }
}
