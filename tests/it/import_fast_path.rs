//! The import's write path (issue #16): new units by plain INSERT, changed ones by update, in
//! one transaction with the audit record. What is stored must be exactly the file, and a
//! failure anywhere must leave the store as it was.

use gongkai::model::{OrgCode, Unit};
use gongkai::registry::{ImportPlan, plan_import, read_registry};
use gongkai::store::{AuditEntry, ImportOutcome, Store};

use crate::support::{credit_code, registry_csv};

fn units_of(csv: &str) -> Vec<Unit> {
    read_registry(csv.as_bytes()).expect("readable").rows.into_iter().map(|r| r.unit).collect()
}

async fn plan_for(store: &Store, csv: &str) -> ImportPlan {
    let file = read_registry(csv.as_bytes()).expect("readable");
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    plan_import(&file, &store.units().await.expect("units")).expect("valid plan")
}

async fn import(store: &Store, csv: &str) -> ImportOutcome {
    let plan = plan_for(store, csv).await;
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import")
}

fn sorted(mut units: Vec<Unit>) -> Vec<Unit> {
    units.sort_by(|a, b| a.code.cmp(&b.code));
    units
}

#[tokio::test]
async fn mixed_import_stores_exactly_the_files_values() {
    let store = Store::memory().await.expect("mem store");
    let first = registry_csv(30);
    import(&store, &first).await;

    // Line 1 is the header, line k+1 is unit k. Change four units in four different ways
    // (including clearing optional fields, which an update must not keep), keep 25, leave
    // one out of the file, and add three new ones, one of them under a new unit.
    let mut lines: Vec<String> = first.lines().map(String::from).collect();
    lines[1] = lines[1].replace("南宁市第0局", "南宁市第0局（更名）");
    lines[2] = format!("{},南宁市第1局,department,,http://u1.example.cn/,,", credit_code(2));
    lines[3] = lines[3].replace("department,,", &format!("department,{},", credit_code(1)));
    lines[4] = lines[4].replace("http://u3.example.cn/,", "https://new3.example.cn/,");
    lines.remove(30);
    lines.push(format!("{},新设甲,devzone,,https://a.example.cn/,,", credit_code(9_001)));
    lines.push(format!(
        "{},新设乙,institution,{},https://b.example.cn/,,",
        credit_code(9_002),
        credit_code(9_001)
    ));
    lines.push(format!("{},新设丙,district,,https://c.example.cn/,,x@example.cn", credit_code(9_003)));
    let second = lines.join("\n") + "\n";

    let outcome = import(&store, &second).await;
    assert_eq!((outcome.added, outcome.updated, outcome.unchanged, outcome.not_in_file), (3, 4, 25, 1));

    // The store is the second file plus the one unit it left out, untouched.
    let left_out =
        units_of(&first).into_iter().find(|u| u.code.as_str() == credit_code(30)).expect("unit 29");
    let mut expected = units_of(&second);
    expected.push(left_out);
    assert_eq!(store.units().await.expect("units"), sorted(expected));
    let cleared = store.unit(&OrgCode::parse(&credit_code(2)).expect("code")).await.expect("read");
    assert_eq!(cleared.map(|u| (u.catalogue_url, u.email)), Some((None, None)));

    // The same file again changes nothing.
    let again = import(&store, &second).await;
    assert_eq!((again.added, again.updated, again.unchanged, again.not_in_file), (0, 0, 32, 1));
}

#[tokio::test]
async fn a_failure_among_the_updates_undoes_the_new_units_and_the_audit() {
    // New units are written before changed ones: 2,500 new units (two statements) go in,
    // then an update the schema refuses. Nothing of it may remain, not even the audit record.
    let store = Store::memory().await.expect("mem store");
    let first = registry_csv(30);
    import(&store, &first).await;
    let before = store.units().await.expect("units");

    let mut plan = ImportPlan::default();
    for n in 0..2_500 {
        let mut unit = before[0].clone();
        unit.code = OrgCode::parse(&credit_code(50_000 + n)).expect("code");
        unit.parent_code = None;
        plan.added.push(unit);
    }
    let mut renamed = before[1].clone();
    renamed.name = "改名".into();
    let mut broken = before[2].clone();
    broken.name = String::new();
    plan.updated = vec![renamed, broken];

    let result = store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await;
    assert!(result.is_err(), "the store must refuse the empty name");
    assert_eq!(store.units().await.expect("units"), before, "the store must be as it was");
    assert_eq!(store.audit_entries(10).await.expect("audit").len(), 1, "only the first import is audited");
}

#[tokio::test]
async fn a_plan_whose_new_unit_was_registered_meanwhile_writes_nothing() {
    // Two imports planned against the same store: the second to commit finds one of its "new"
    // units already there. It must fail whole rather than overwrite what it never compared.
    let store = Store::memory().await.expect("mem store");
    let ours = registry_csv(20);
    let stale = plan_for(&store, &ours).await;
    assert_eq!(stale.added.len(), 20);

    let theirs = format!(
        "code,name,kind,parent_code,website,catalogue_url,email\n{},别处登记,district,,https://other.example.cn/,,\n",
        credit_code(7)
    );
    import(&store, &theirs).await;

    let result = store.apply_unit_import(&stale, AuditEntry::new("test", "units.import"), |_| {}).await;
    assert!(result.is_err(), "a stale plan must not overwrite a unit registered meanwhile");
    assert_eq!(store.units().await.expect("units"), units_of(&theirs));
    assert_eq!(store.audit_entries(10).await.expect("audit").len(), 1);
}

#[tokio::test]
async fn progress_counts_every_written_unit_once() {
    let store = Store::memory().await.expect("mem store");
    import(&store, &registry_csv(10)).await;
    let mut lines: Vec<String> = registry_csv(2_100).lines().map(String::from).collect();
    lines[1] = lines[1].replace("南宁市第0局", "南宁市第0局（更名）");
    let plan = plan_for(&store, &(lines.join("\n") + "\n")).await;
    assert_eq!((plan.added.len(), plan.updated.len(), plan.unchanged), (2_090, 1, 9));

    let seen = std::sync::Mutex::new(Vec::new());
    let push = |written| seen.lock().expect("lock").push(written);
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), push).await.expect("import");
    let seen = seen.into_inner().expect("lock");
    assert_eq!(seen.last(), Some(&2_091), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
}
