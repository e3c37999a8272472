//! The scheduler: a schedule of seconds leaves runs in `gongkai schedule history`; one
//! scheduler per database (lease), a take-over when its holder stops, one catch-up run after
//! downtime; and the availability veto computed from stored probe samples.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use gongkai::assess::LaggardCriteria;
use gongkai::crawl::profile::SiteProfile;
use gongkai::jobs::{self, AssessRequest, ProbeRound, Progress};
use gongkai::registry::{plan_import, read_registry};
use gongkai::rules::RuleSet;
use gongkai::schedule::{self, RunOptions, SchedulerConfig};
use gongkai::store::{AuditEntry, ProbeSampleRecord, ScheduleRunRecord, Store, StoreConfig};

use crate::fixture_server::Fixture;
use crate::support::{HEADER, credit_code, gongkai, json, stderr};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/gov-website-2019.toml");

/// Registers units `(n, website)`.
async fn register(store: &Store, units: &[(u32, String)]) {
    let mut csv = String::from(HEADER);
    for (n, website) in units {
        csv.push_str(&format!("{},第{n}局,department,,{website},,\n", credit_code(*n)));
    }
    let file = read_registry(csv.as_bytes()).expect("readable");
    let plan = plan_import(&file, &store.units().await.expect("units")).expect("valid");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import");
}

fn config(owner: &str, tick_ms: u64, ttl_ms: u64) -> SchedulerConfig {
    let mut run = RunOptions::new(owner);
    run.allow_private = true;
    run.lease_ttl = Duration::from_millis(ttl_ms.max(300));
    let mut config = SchedulerConfig::new(run);
    config.tick = Duration::from_millis(tick_ms);
    config.lease_ttl = Duration::from_millis(ttl_ms);
    config
}

/// Waits (at most two minutes) until `done` holds for the job's runs; returns them.
async fn wait_for_runs(
    store: &Store,
    job: &str,
    done: impl Fn(&[ScheduleRunRecord]) -> bool,
) -> Vec<ScheduleRunRecord> {
    for _ in 0..1_200 {
        let runs = store.schedule_runs(Some(job), 1_000).await.expect("runs");
        if done(&runs) {
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the scheduler did not produce the expected runs of {job}");
}

fn finished(runs: &[ScheduleRunRecord]) -> Vec<&ScheduleRunRecord> {
    runs.iter().filter(|r| r.outcome != "running").collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_three_second_schedule_leaves_probe_runs_in_the_history() {
    let site = Fixture::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let store = Store::connect(&StoreConfig::new(&db)).await.expect("store");
    register(&store, &[(1, site.url("/").to_string()), (2, site.url("/down").to_string())]).await;
    let schedule = "[[job]]\nname = \"probe\"\nkind = \"probe\"\ncron = \"*/3 * * * * *\"\n";
    store.save_schedule(schedule, "test").await.expect("save schedule");
    let scheduler = schedule::spawn(store.clone(), config("serve:test", 200, 5_000));
    wait_for_runs(&store, "probe", |runs| finished(runs).len() >= 2).await;
    scheduler.stop().await;
    let samples =
        store.probe_samples(&[], Utc::now() - chrono::Duration::hours(1), Utc::now()).await.expect("samples");
    store.close().await;

    let output = gongkai(&db, &["schedule", "history", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let history = json(&output);
    let runs: Vec<&serde_json::Value> =
        history.as_array().expect("array").iter().filter(|r| r["outcome"] == "ok").collect();
    assert!(runs.len() >= 2, "{history}");
    for run in &runs {
        assert_eq!(run["job"], "probe");
        assert_eq!(run["kind"], "probe");
        assert_eq!(run["trigger"], "schedule", "{run}");
        assert_eq!(run["counts"]["sites"], 2, "{run}");
        assert_eq!(run["counts"]["failed"], 1, "the /down site fails every probe: {run}");
        let at: DateTime<Utc> = run["scheduled_for"].as_str().expect("time").parse().expect("rfc3339");
        assert_eq!(chrono::Timelike::second(&at) % 3, 0, "fires on the 3-second marks: {run}");
    }
    // Newest first.
    let first: DateTime<Utc> = runs[0]["started_at"].as_str().expect("t").parse().expect("t");
    let second: DateTime<Utc> = runs[1]["started_at"].as_str().expect("t").parse().expect("t");
    assert!(first > second);
    let down = samples.get(&credit_code(2)).expect("samples of the failing unit");
    assert!(down.len() >= 2 && down.iter().all(|s| s.failed && s.error.is_some()), "{down:?}");
    let up = samples.get(&credit_code(1)).expect("samples of the healthy unit");
    assert!(up.iter().all(|s| !s.failed), "{up:?}");

    let output = gongkai(&db, &["schedule", "list", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let jobs = json(&output);
    assert_eq!(jobs[0]["name"], "probe");
    assert!(jobs[0]["next_run"].is_string() && jobs[0]["last_outcome"] == "ok", "{jobs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_scheduler_runs_per_database_and_another_takes_over_when_it_stops() {
    let site = Fixture::start().await;
    let store = Store::memory().await.expect("store");
    register(&store, &[(1, site.url("/").to_string())]).await;
    let schedule = "[[job]]\nname = \"tick\"\nkind = \"probe\"\ncron = \"* * * * * *\"\n";
    store.save_schedule(schedule, "test").await.expect("save schedule");
    let a = schedule::spawn(store.clone(), config("serve:a", 100, 1_500));
    let b = schedule::spawn(store.clone(), config("serve:b", 100, 1_500));
    let runs = wait_for_runs(&store, "tick", |runs| finished(runs).len() >= 3).await;
    let owners: std::collections::BTreeSet<&str> = runs.iter().map(|r| r.owner.as_str()).collect();
    assert_eq!(owners.len(), 1, "only the lease holder runs jobs: {owners:?}");
    let holder = owners.into_iter().next().expect("one owner").to_string();
    let (stopped, other, survivor) = if holder == "serve:a" { (a, "serve:b", b) } else { (b, "serve:a", a) };
    stopped.stop().await;
    let runs = wait_for_runs(&store, "tick", |runs| finished(runs).iter().any(|r| r.owner == other)).await;
    survivor.stop().await;
    // Runs of one job never overlap: each starts after the previous one finished.
    let mut ordered = finished(&runs);
    ordered.sort_by_key(|r| r.started_at);
    for pair in ordered.windows(2) {
        let previous_end = pair[0].finished_at.expect("finished");
        assert!(pair[1].started_at >= previous_end, "{:?} overlaps {:?}", pair[1], pair[0]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn after_downtime_each_job_catches_up_with_one_run() {
    let site = Fixture::start().await;
    let store = Store::memory().await.expect("store");
    register(&store, &[(1, site.url("/").to_string())]).await;
    let schedule = "[[job]]\nname = \"hourly\"\nkind = \"probe\"\ncron = \"0 0 * * * *\"\n";
    store.save_schedule(schedule, "test").await.expect("save schedule");
    // The last scheduled run was five hours ago; the instance was down since.
    let long_ago = Utc::now() - chrono::Duration::hours(5);
    let earlier = ScheduleRunRecord {
        id: String::new(),
        job: "hourly".into(),
        kind: "probe".into(),
        trigger: "schedule".into(),
        scheduled_for: long_ago,
        started_at: long_ago,
        finished_at: None,
        outcome: "running".into(),
        counts: serde_json::json!({}),
        error: None,
        owner: "serve:crashed".into(),
    };
    let id = store.start_schedule_run(&earlier).await.expect("record");
    store.finish_schedule_run(&id, Ok(serde_json::json!({}))).await.expect("finish");
    let scheduler = schedule::spawn(store.clone(), config("serve:back", 100, 2_000));
    let runs = wait_for_runs(&store, "hourly", |runs| {
        runs.iter().any(|r| r.trigger == "catch_up" && r.outcome == "ok")
    })
    .await;
    // Let the loop tick a few more times: the missed fires stay one run.
    tokio::time::sleep(Duration::from_millis(800)).await;
    scheduler.stop().await;
    let runs_after = store.schedule_runs(Some("hourly"), 100).await.expect("runs");
    assert_eq!(runs_after.len(), 2, "the old run and one catch-up: {runs_after:?}");
    let caught = runs.iter().find(|r| r.trigger == "catch_up").expect("catch-up");
    let local = caught.scheduled_for.with_timezone(&Shanghai);
    assert_eq!((chrono::Timelike::minute(&local), chrono::Timelike::second(&local)), (0, 0));
    assert!(Utc::now() - caught.scheduled_for < chrono::Duration::hours(1), "the latest missed fire");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manual_run_is_refused_while_the_job_is_running_elsewhere() {
    let store = Store::memory().await.expect("store");
    let schedule_text = "[[job]]\nname = \"crawl\"\nkind = \"crawl\"\ncron = \"0 0 2 * * Mon\"\n";
    let parsed = gongkai::schedule::Schedule::parse(schedule_text, "t").expect("valid");
    let until = Utc::now() + chrono::Duration::minutes(5);
    assert!(store.try_lease("job:crawl", "serve:other", until).await.expect("lease"));
    let options = RunOptions::new("cli:test");
    let refused =
        schedule::run_job(&store, &parsed.jobs[0], Utc::now(), schedule::Trigger::Manual, &options).await;
    assert!(matches!(refused, Err(schedule::RunError::Busy(..))), "{refused:?}");
    assert!(store.schedule_runs(None, 10).await.expect("runs").is_empty(), "nothing recorded");
    // The same owner renews its own lease; a stranger cannot take it before it expires.
    assert!(store.try_lease("job:crawl", "serve:other", until).await.expect("renew"));
    assert!(!store.try_lease("job:crawl", "cli:test", until).await.expect("refused"));
    store.release_lease("job:crawl", "serve:other").await.expect("release");
    assert!(store.try_lease("job:crawl", "cli:test", until).await.expect("free now"));
}

/// 20 samples on each of the 7 days before noon (Beijing) on 2026-11-20, `failed` of them failed.
fn week_of_samples(unit: &str, failed: usize) -> Vec<ProbeSampleRecord> {
    let mut samples = Vec::new();
    for day in 14..=20 {
        for slot in 0..20u32 {
            let local = Shanghai
                .with_ymd_and_hms(2026, 11, day, slot / 2, (slot % 2) * 30, 0)
                .single()
                .expect("local time");
            samples.push(ProbeSampleRecord {
                unit: unit.to_string(),
                at: local.with_timezone(&Utc),
                failed: false,
                error: None,
            });
        }
    }
    for sample in samples.iter_mut().step_by(17).take(failed) {
        sample.failed = true;
        sample.error = Some("15 秒内无响应".into());
    }
    samples
}

#[tokio::test(flavor = "multi_thread")]
async fn the_availability_veto_triggers_from_sampled_data() {
    let site = Fixture::start().await;
    let store = Store::memory().await.expect("store");
    let website = site.url("/").to_string();
    register(&store, &[(1, website.clone()), (2, website)]).await;
    // Unit 1: 8 of 141 samples failed (5.67 %); unit 2: 6 of 141 (4.26 %).
    let mut samples = week_of_samples(&credit_code(1), 8);
    samples.extend(week_of_samples(&credit_code(2), 6));
    store.record_probe_samples(&samples, None).await.expect("samples");
    let noon = Shanghai.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).single().expect("noon").with_timezone(&Utc);
    let day = noon.with_timezone(&Shanghai).date_naive();
    let round = ProbeRound {
        profile: SiteProfile::builtin().expect("profile"),
        units: store.units().await.expect("units"),
        day,
        observed_at: noon,
        allow_private: true,
        spread: Duration::ZERO,
    };
    let summary = jobs::probe_sites(&store, round).await.expect("probe");
    let row = |n: u32| summary.units.iter().find(|r| r.unit == credit_code(n)).expect("row").clone();
    assert_eq!(row(1).failure_ratio.map(|r| r.to_string()).as_deref(), Some("0.0567"));
    assert_eq!(row(2).failure_ratio.map(|r| r.to_string()).as_deref(), Some("0.0426"));
    assert_eq!((row(1).probe_days, row(1).min_daily_probes), (Some(7), Some(20)));

    let text = std::fs::read_to_string(RULES).expect("rules");
    let rule_set = RuleSet::parse(&text, RULES).expect("valid rules");
    let (day, cutoff) = jobs::assessment_cutoff(Some("2026-11-20")).expect("day");
    let request = AssessRequest {
        rule_set,
        source: text,
        criteria: LaggardCriteria::shipped(),
        cycle: Some("veto".into()),
        day,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    jobs::assess(&store, request, &Progress::default()).await.expect("assess");
    let ranking = store.ranking("veto").await.expect("ranking");
    let score = |n: u32| ranking.iter().find(|r| r.unit == credit_code(n)).expect("scored").clone();
    assert_eq!(score(1).veto.as_deref(), Some("site_unreachable"), "{:?}", score(1));
    assert_ne!(score(2).veto.as_deref(), Some("site_unreachable"), "{:?}", score(2));
    assert!(score(1).laggard && score(1).reasons.iter().any(|r| r.starts_with("单项否决")));

    let history = store
        .probe_history(&credit_code(1), noon - chrono::Duration::days(7), Shanghai)
        .await
        .expect("history");
    let failed: u32 = history.iter().map(|d| d.failed).sum();
    let total: u32 = history.iter().map(|d| d.samples).sum();
    assert_eq!((failed, total), (8, 141));
}
