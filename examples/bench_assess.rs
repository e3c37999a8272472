//! Benchmark: one full assessment of a province-sized registry (default 14,000 units) under the
//! national rule set — scoring and ranking in memory, then saving the cycle to an embedded store.
//!
//! `cargo run --example bench_assess -- [UNITS] [DB_DIR | ws://HOST:PORT]`
//! With a `ws://` address the cycle is saved to that SurrealDB server (user and password from
//! `GONGKAI_DB_USER` / `GONGKAI_DB_PASS`), to compare a server with the embedded store.
//! Prints wall times per phase and the process's peak resident memory.

#[path = "support/cpu_time.rs"]
mod cpu_time;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::assess::{LaggardCriteria, ScoredUnit, rank, score_units};
use gongkai::model::{
    Finding, FindingStatus, OrgCode, Source, Unit, UnitEvidence, UnitKind, synthetic_credit_code,
};
use gongkai::rules::RuleSet;
use gongkai::store::{AuditEntry, CycleRecord, Store, StoreConfig};
use rust_decimal::Decimal;

const RULES: &str = include_str!("../scoring-rules/gov-website-2019.toml");
const CHECKS: [&str; 6] = [
    "link.broken",
    "column.stale",
    "column.empty",
    "identity.missing",
    "catalogue.index_invalid",
    "column.missing",
];

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// CPU seconds (user + system, every thread) this process has used.
fn cpu_seconds() -> f64 {
    cpu_time::cpu_time("self").as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: u32 = std::env::args().nth(1).map_or(Ok(14_000), |a| a.parse())?;
    let db_dir = std::env::args().nth(2).unwrap_or_else(|| "/tmp/gongkai-bench-assess".into());
    let _ = std::fs::remove_dir_all(&db_dir);
    let rule_set = RuleSet::parse(RULES, "gov-website-2019.toml").map_err(|e| anyhow::anyhow!("{e}"))?;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 30).ok_or_else(|| anyhow::anyhow!("date"))?;
    let observed =
        Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).single().ok_or_else(|| anyhow::anyhow!("date"))?;

    // Deterministic spread of evidence: unit i has (i % 7) findings of rotating checks, one unit
    // in 50 a spam finding (veto), every unit a failure-ratio metric.
    let mut units = Vec::with_capacity(n as usize);
    let mut evidence: BTreeMap<OrgCode, UnitEvidence> = BTreeMap::new();
    for i in 0..n {
        let code = synthetic_credit_code("450100", i + 1)?;
        let kind = UnitKind::ALL[(i % 5) as usize];
        let mut unit_evidence = UnitEvidence::default();
        for j in 0..(i % 7) {
            unit_evidence.findings.push(Finding {
                id: Some(format!("finding:{i}_{j}")),
                unit: code.clone(),
                check: CHECKS[((i + j) % 6) as usize].to_string(),
                source: Source::Crawler,
                observed_at: observed,
                url: Some(format!("http://u{i}.example.cn/p{j}")),
                detail: serde_json::json!({}),
                status: FindingStatus::Open,
                rectify_by: None,
            });
        }
        if i % 50 == 0 {
            unit_evidence.findings.push(Finding {
                id: Some(format!("finding:{i}_spam")),
                unit: code.clone(),
                check: "content.spam".into(),
                source: Source::Crawler,
                observed_at: observed,
                url: None,
                detail: serde_json::json!({}),
                status: FindingStatus::Open,
                rectify_by: None,
            });
        }
        unit_evidence.metrics.insert("site.failure_ratio".into(), Decimal::new(i64::from(i % 4), 2));
        evidence.insert(code.clone(), unit_evidence);
        units.push(Unit {
            code,
            name: format!("单位{i}"),
            kind,
            parent_code: None,
            website: Some(format!("http://u{i}.example.cn/")),
            catalogue_url: None,
            email: None,
        });
    }

    let started = Instant::now();
    let cpu_started = cpu_seconds();
    let criteria = LaggardCriteria::shipped();
    let scored = score_units(&rule_set, &units, &evidence, &criteria, as_of)?;
    let scoring = started.elapsed();
    let scoring_cpu = cpu_seconds() - cpu_started;
    let ranked = rank(&scored, &HashMap::new(), &criteria, rule_set.pass_mark());
    let ranking = started.elapsed() - scoring;
    // As `jobs::assess` does: the units and their evidence are not needed once scored.
    drop((units, evidence));
    let scored_peak = peak_rss_kib();
    // As `jobs::assess` does: the explanations' JSON text (folded while scoring) by unit.
    let explanations =
        scored.into_iter().map(ScoredUnit::into_explanation_json).collect::<Result<HashMap<_, _>, _>>()?;

    let config = if db_dir.starts_with("ws://") {
        StoreConfig {
            url: db_dir.clone(),
            username: std::env::var("GONGKAI_DB_USER").ok(),
            password: std::env::var("GONGKAI_DB_PASS").ok(),
        }
    } else {
        StoreConfig::new(format!("surrealkv://{db_dir}"))
    };
    let store = Store::connect(&config).await?;
    let save_started = Instant::now();
    let save_cpu_started = cpu_seconds();
    let record = CycleRecord {
        cycle: "bench".into(),
        as_of: observed,
        rule_set_id: rule_set.id().into(),
        rule_set_version: rule_set.version().into(),
        rule_set_hash: rule_set.hash().into(),
        rule_set_title: rule_set.title().into(),
        rule_set_source: RULES.into(),
    };
    store.save_cycle(&record, &ranked, &explanations, AuditEntry::new("bench", "assess")).await?;
    let saving = save_started.elapsed();
    let saving_cpu = cpu_seconds() - save_cpu_started;
    store.close().await;

    let vetoed = ranked.iter().filter(|r| r.veto.is_some()).count();
    let laggards = ranked.iter().filter(|r| r.laggard).count();
    println!(
        "{n} units ({vetoed} vetoed, {laggards} laggards): scoring {:.2} s ({scoring_cpu:.2} s CPU), \
         ranking {:.3} s, saving {:.2} s ({saving_cpu:.2} s CPU); peak RSS {} MiB ({} MiB before saving)",
        scoring.as_secs_f64(),
        ranking.as_secs_f64(),
        saving.as_secs_f64(),
        peak_rss_kib() / 1024,
        scored_peak / 1024
    );
    Ok(())
}
