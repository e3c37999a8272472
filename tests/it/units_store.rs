//! The registry import against a real SurrealDB: in memory and on disk.

use gongkai::model::{OrgCode, Unit, UnitKind};
use gongkai::registry::{ImportPlan, plan_import, read_registry};
use gongkai::store::{AuditEntry, Store, StoreConfig};

use crate::support::{credit_code, example_registry_path, registry_csv};

async fn import(store: &Store, csv: &[u8]) -> gongkai::store::ImportOutcome {
    let file = read_registry(csv).expect("valid file");
    let existing = store.units().await.expect("read units");
    let plan = plan_import(&file, &existing).expect("valid plan");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import")
}

#[tokio::test]
async fn reference_city_registry_round_trips_in_memory() {
    let store = Store::memory().await.expect("mem store");
    let bytes = std::fs::read(example_registry_path()).expect("example file");
    let outcome = import(&store, &bytes).await;
    assert_eq!((outcome.added, outcome.updated, outcome.unchanged), (268, 0, 0));

    let units = store.units().await.expect("units");
    let expected: Vec<Unit> = {
        let mut rows: Vec<Unit> =
            read_registry(&bytes).expect("valid").rows.into_iter().map(|r| r.unit).collect();
        rows.sort_by(|a, b| a.code.cmp(&b.code));
        rows
    };
    assert_eq!(units, expected, "what is read back is exactly what was imported");
    let count = |kind| units.iter().filter(|u| u.kind == kind).count();
    assert_eq!(
        [
            count(UnitKind::Department),
            count(UnitKind::Institution),
            count(UnitKind::District),
            count(UnitKind::Devzone)
        ],
        [88, 161, 12, 7]
    );
}

#[tokio::test]
async fn reimport_reports_added_updated_unchanged_and_keeps_others() {
    let store = Store::memory().await.expect("mem store");
    import(&store, registry_csv(30).as_bytes()).await;

    // Rename one unit, add one, leave 28 as they were and drop one from the file.
    let mut lines: Vec<String> = registry_csv(30).lines().map(String::from).collect();
    lines[1] = lines[1].replace("南宁市第0局", "南宁市第0局（更名）");
    lines.remove(30);
    lines.push(format!("{},新设单位,devzone,,https://new.example.cn/,,", credit_code(9_999)));
    let outcome = import(&store, (lines.join("\n") + "\n").as_bytes()).await;
    assert_eq!((outcome.added, outcome.updated, outcome.unchanged, outcome.not_in_file), (1, 1, 28, 1));

    let renamed = store.unit(&OrgCode::parse(&credit_code(1)).expect("code")).await.expect("read");
    assert_eq!(renamed.map(|u| u.name), Some("南宁市第0局（更名）".to_string()));
    assert_eq!(store.units().await.expect("units").len(), 31, "import never deletes");
}

#[tokio::test]
async fn a_write_that_fails_half_way_leaves_nothing_behind() {
    // 5,000 valid units and, last, one the database refuses (an empty name breaks the
    // schema's assertion). The write spans several statements; the transaction must undo
    // all of them.
    let store = Store::memory().await.expect("mem store");
    let mut plan = ImportPlan::default();
    for row in read_registry(registry_csv(5_000).as_bytes()).expect("readable").rows {
        plan.added.push(row.unit);
    }
    let mut bad = plan.added[0].clone();
    bad.code = OrgCode::parse(&credit_code(77_777)).expect("code");
    bad.name = String::new();
    plan.added.push(bad);

    let result = store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await;
    assert!(result.is_err(), "the store must refuse the empty name");
    assert!(store.units().await.expect("units").is_empty(), "no unit of the failed import may remain");
}

#[tokio::test]
async fn embedded_store_keeps_data_after_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = StoreConfig::new(format!("surrealkv://{}", dir.path().join("db").display()));
    let store = Store::connect(&config).await.expect("open embedded store");
    import(&store, registry_csv(50).as_bytes()).await;
    store.close().await;
    let reopened = Store::connect(&config).await.expect("reopen after close");
    let units = reopened.units().await.expect("units");
    assert_eq!(units.len(), 50);
    assert_eq!(units.iter().filter(|u| u.parent_code.is_some()).count(), 5);
}

#[tokio::test]
async fn hundred_thousand_rows_import_in_one_go() {
    // On the embedded engine, the default: SurrealDB 3.3's mem:// engine slows down
    // quadratically with the size of one transaction, surrealkv:// does not.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = StoreConfig::new(format!("surrealkv://{}", dir.path().join("db").display()));
    let store = Store::connect(&config).await.expect("embedded store");
    let csv = registry_csv(100_000);
    let outcome = import(&store, csv.as_bytes()).await;
    assert_eq!(outcome.added, 100_000);
    let units = store.units().await.expect("units");
    assert_eq!(units.len(), 100_000);
    assert_eq!(units.iter().filter(|u| u.kind == UnitKind::Institution).count(), 10_000);
}

#[tokio::test]
async fn import_is_audited() {
    let store = Store::memory().await.expect("mem store");
    import(&store, registry_csv(3).as_bytes()).await;
    let entries = store.audit_entries(10).await.expect("audit");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].action, "units.import");
    assert_eq!(entries[0].actor, "test");
}
