//! Backups that restore exactly, and writes that a `kill -9` cannot leave half done: the real
//! `gongkai` binary on an embedded store in a temp dir, killed mid-write, then reopened.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gongkai::store::{Store, StoreConfig};

use crate::support::{credit_code, gongkai, registry_csv, stderr};

fn db_url(dir: &Path, name: &str) -> String {
    format!("surrealkv://{}", dir.join(name).display())
}

async fn open(url: &str) -> Store {
    Store::connect(&StoreConfig::new(url)).await.expect("store opens")
}

fn spawn(db: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_gongkai"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("GONGKAI_DB")
        .env("RUST_MIN_STACK", "10485760")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start gongkai")
}

/// Runs `args` to the end once and returns how long it took.
fn timed(db: &str, args: &[&str]) -> Duration {
    let start = Instant::now();
    let output = gongkai(db, args);
    assert!(output.status.success(), "{}", stderr(&output));
    start.elapsed()
}

/// Starts `args` and kills it with SIGKILL after `after`; true when it was still running.
fn kill_after(db: &str, args: &[&str], after: Duration) -> bool {
    let mut child = spawn(db, args);
    std::thread::sleep(after);
    let running = child.try_wait().expect("status").is_none();
    child.kill().expect("kill -9"); // SIGKILL on Unix
    child.wait().expect("reaped");
    running
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restores_into_a_fresh_store_table_for_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = db_url(dir.path(), "source");
    let registry = dir.path().join("units.csv");
    std::fs::write(&registry, registry_csv(60)).expect("write csv");
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/city-disclosure-2009.toml");
    timed(&source, &["units", "import", registry.to_str().expect("path")]);
    timed(&source, &["assess", "--rules", rules, "--cycle", "2026-Q4"]);
    let backup = dir.path().join("backups/gongkai.surql");
    timed(&source, &["backup", backup.to_str().expect("path")]);
    assert!(backup.is_file());

    let target = db_url(dir.path(), "restored");
    timed(&target, &["restore", backup.to_str().expect("path")]);
    let (a, b) = {
        let (source, target) = (open(&source).await, open(&target).await);
        let snapshots = (source.snapshot().await.expect("source"), target.snapshot().await.expect("target"));
        source.close().await;
        target.close().await;
        snapshots
    };
    assert!(a.get("unit").is_some_and(|rows| rows.len() == 60), "{:?}", a.keys().collect::<Vec<_>>());
    assert!(a.get("score").is_some_and(|rows| rows.len() == 60));
    assert!(a.get("audit").is_some_and(|rows| !rows.is_empty()));
    let (a, b) = (comparable(&a), comparable(&b));
    let differing: Vec<&String> = a.keys().filter(|table| a.get(*table) != b.get(*table)).collect();
    assert!(differing.is_empty(), "tables that differ after restore: {differing:?}");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());

    // Restoring over data is refused, and nothing is changed.
    let again = gongkai(&target, &["restore", backup.to_str().expect("path")]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("不是空的"), "{}", stderr(&again));
}

/// A snapshot's rows as JSON, with decimal fields compared by value: SurrealQL's parser
/// normalises decimal literals, so an export/import brings `80.0` back as `80` (same number,
/// fewer trailing zeros). Everything else must match exactly.
fn comparable(snapshot: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, Vec<serde_json::Value>> {
    snapshot
        .iter()
        .map(|(table, rows)| {
            let rows = rows
                .iter()
                .map(|row| {
                    let mut row: serde_json::Value = serde_json::from_str(row).expect("JSON row");
                    if let Some(fields) = row.as_object_mut() {
                        for value in fields.values_mut() {
                            let number = value.as_str().and_then(|s| s.parse::<rust_decimal::Decimal>().ok());
                            if let Some(number) = number {
                                *value = serde_json::Value::String(number.normalize().to_string());
                            }
                        }
                    }
                    row
                })
                .collect();
            (table.clone(), rows)
        })
        .collect()
}

/// Every unit's name, by code.
async fn names(url: &str) -> BTreeMap<String, String> {
    let store = open(url).await;
    let units = store.units().await.expect("units");
    store.close().await;
    units.into_iter().map(|u| (u.code.to_string(), u.name)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_import_killed_mid_write_leaves_the_old_or_the_new_registry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let n = 4_000;
    let first = registry_csv(n);
    let renamed = first.replace("南宁市第", "南宁市新第");
    let (old_file, new_file) = (dir.path().join("old.csv"), dir.path().join("new.csv"));
    std::fs::write(&old_file, &first).expect("write");
    std::fs::write(&new_file, &renamed).expect("write");

    // How long a full re-import takes, to kill the next ones part-way through it.
    let probe = db_url(dir.path(), "probe");
    let old_args = ["units", "import", old_file.to_str().expect("path")];
    let new_args = ["units", "import", new_file.to_str().expect("path")];
    timed(&probe, &old_args);
    let full = timed(&probe, &new_args);

    let db = db_url(dir.path(), "db");
    timed(&db, &old_args);
    let before = names(&db).await;
    assert_eq!(before.len(), n as usize);
    let mut killed_while_running = 0;
    for fraction in [0.5, 0.7, 0.9] {
        if kill_after(&db, &new_args, full.mul_f64(fraction)) {
            killed_while_running += 1;
        }
        let after = names(&db).await;
        assert_eq!(after.len(), n as usize, "killed at {fraction}: units lost or half added");
        let renamed_count = after.values().filter(|name| name.contains("新第")).count();
        assert!(
            renamed_count == 0 || renamed_count == n as usize,
            "killed at {fraction}: {renamed_count} of {n} units renamed — a partial registry"
        );
    }
    assert!(killed_while_running > 0, "no kill landed while the import ran (full run: {full:?})");
    // The store still works: the import runs to the end.
    timed(&db, &new_args);
    assert!(names(&db).await.values().all(|name| name.contains("新第")));
    assert_eq!(credit_code(1).len(), 18);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_assessment_killed_mid_write_leaves_no_partial_cycle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let n = 3_000u32;
    let registry = dir.path().join("units.csv");
    std::fs::write(&registry, registry_csv(n)).expect("write csv");
    let rules = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/city-disclosure-2009.toml");
    let db = db_url(dir.path(), "db");
    timed(&db, &["units", "import", registry.to_str().expect("path")]);
    let probe = db_url(dir.path(), "probe");
    timed(&probe, &["units", "import", registry.to_str().expect("path")]);
    let full = timed(&probe, &["assess", "--rules", rules, "--cycle", "probe"]);

    let mut killed_while_running = 0;
    for (i, fraction) in [0.5, 0.7, 0.9].into_iter().enumerate() {
        let cycle = format!("kill-{i}");
        if kill_after(&db, &["assess", "--rules", rules, "--cycle", &cycle], full.mul_f64(fraction)) {
            killed_while_running += 1;
        }
        let store = open(&db).await;
        let cycles: Vec<String> =
            store.cycles().await.expect("cycles").into_iter().map(|c| c.cycle).collect();
        // Rows of a save killed before its flip may remain, invisible (the next save of that
        // cycle deletes them): count what readers see.
        let mut scores = 0;
        for c in &cycles {
            scores += store.ranking(c).await.expect("ranking").len();
        }
        let ranking = store.ranking(&cycle).await.expect("ranking").len();
        store.close().await;
        let saved = cycles.contains(&cycle);
        assert_eq!(
            ranking,
            if saved { n as usize } else { 0 },
            "killed at {fraction}: cycle {cycle} is partial"
        );
        assert_eq!(scores, cycles.len() * n as usize, "killed at {fraction}: scores without their cycle");
    }
    assert!(killed_while_running > 0, "no kill landed while the assessment ran (full run: {full:?})");
}
