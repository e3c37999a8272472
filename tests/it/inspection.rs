//! Inspectors' visits, self-assessments and the findings listing, through the binary (on an
//! embedded store in a temp dir) and through the library (in memory).

use std::collections::HashSet;
use std::process::Output;

use chrono::{DateTime, Duration, Utc};
use gongkai::inspection::read_self_assessment;
use gongkai::model::OrgCode;
use gongkai::store::{AuditEntry, FindingFilter, Store, StoreConfig};

use crate::support::{credit_code, gongkai, json, registry_csv, stderr};

const VISITS_HEADER: &str = "unit,inspector,group,date,method,check,note,rectify_by\n";

/// A temp dir with an embedded store that holds three registered units.
struct City {
    dir: tempfile::TempDir,
}

impl City {
    fn new() -> Self {
        let city = Self { dir: tempfile::tempdir().expect("temp dir") };
        let units = city.file("units.csv", registry_csv(3).as_bytes());
        json(&city.run(&["units", "import", &units, "--format", "json"]));
        city
    }

    fn db(&self) -> String {
        format!("surrealkv://{}", self.dir.path().join("db").display())
    }

    fn run(&self, args: &[&str]) -> Output {
        gongkai(&self.db(), args)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write fixture");
        path.display().to_string()
    }

    fn findings(&self, extra: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["findings", "--format", "json"];
        args.extend_from_slice(extra);
        json(&self.run(&args)).as_array().expect("array").clone()
    }

    async fn store(&self) -> Store {
        Store::connect(&StoreConfig::new(self.db())).await.expect("open store")
    }
}

fn rules_path() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scoring-rules/city-disclosure-2009.toml")
        .display()
        .to_string()
}

#[test]
fn visits_import_and_come_back_as_inspector_findings() {
    let city = City::new();
    let (a, b) = (credit_code(1), credit_code(2));
    let csv = format!(
        "{VISITS_HEADER}{a},李明,第一组,2026-11-02,现场检查,field.no_staff,未明确专人,2026-12-31\n\
         {a},李明,第一组,2026-11-02,现场检查,column.stale,通知公告栏目半年未更新,\n\
         {b},王芳,第三组,2026-11-05,电话督查,field.paper_docs_late,,\n\
         {b},王芳,第三组,2026-11-06,网站检查,,网站检查未发现问题,\n"
    );
    let file = city.file("visits.csv", csv.as_bytes());
    let report = json(&city.run(&["visits", "import", &file, "--rules", &rules_path(), "--format", "json"]));
    assert_eq!((report["visits"].as_u64(), report["findings"].as_u64()), (Some(3), Some(3)));

    let all = city.findings(&[]);
    assert_eq!(all.len(), 3);
    for finding in &all {
        let mut keys: Vec<&str> = finding.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["check", "detail", "id", "observed_at", "rectify_by", "source", "status", "unit", "url"]
        );
        assert_eq!(finding["source"], "inspector");
        assert_eq!(finding["status"], "open");
        assert!(finding["id"].as_str().is_some_and(|id| id.starts_with("finding:")), "{finding}");
    }
    // Newest first: the 5 November phone check leads.
    assert_eq!(all[0]["check"], "field.paper_docs_late");
    assert!(all[0]["observed_at"].as_str().is_some_and(|t| t.starts_with("2026-11-05")), "{}", all[0]);

    let no_staff = city.findings(&["--check", "field.no_staff"]);
    assert_eq!(no_staff.len(), 1);
    assert_eq!(no_staff[0]["unit"], a.as_str());
    assert_eq!(no_staff[0]["rectify_by"], "2026-12-31");
    assert_eq!(no_staff[0]["detail"]["inspector"], "李明");
    assert_eq!(no_staff[0]["detail"]["method"], "现场检查");
    assert_eq!(city.findings(&["--unit", &b]).len(), 1);

    let table = city.run(&["findings", "--unit", &a, "--format", "table"]);
    assert!(table.status.success(), "{}", stderr(&table));
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("栏目长期未更新"), "the check's Chinese title is shown:\n{table}");
    assert!(table.contains("共 2 条"), "{table}");
}

#[test]
fn every_bad_row_is_named_and_nothing_is_written() {
    let city = City::new();
    let a = credit_code(1);
    let unregistered = credit_code(9);
    let csv = format!(
        "{VISITS_HEADER}{a},李明,,2026-11-02,现场检查,field.no_staff,,\n\
         {unregistered},李明,,2026-11-02,现场检查,field.no_staff,,\n\
         {a},李明,,2026/11/02,现场检查,field.no_staff,,\n\
         {a},李明,,2999-01-01,现场检查,field.no_staff,,\n\
         {a},李明,,2026-11-02,上门看看,field.no_staff,,\n\
         {a},李明,,2026-11-02,现场检查,site.down,,\n\
         {a},李明,,2026-11-02,现场检查,field.no_staff,,2026-11-02\n"
    );
    let file = city.file("visits.csv", csv.as_bytes());
    let output = city.run(&["visits", "import", &file]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    for place in ["3:unit:", "4:date:", "5:date:", "6:method:", "7:check:", "8:rectify_by:"] {
        assert!(err.contains(place), "missing {place} in:\n{err}");
    }
    assert!(!err.lines().any(|l| l.starts_with("2:")), "the valid line 2 is not blamed:\n{err}");
    assert!(city.findings(&["--all"]).is_empty(), "nothing was written");

    // The valid row alone imports, so line 2's visit really was not stored the first time
    // (a stored visit would be refused as a duplicate).
    let good = city.file(
        "good.csv",
        format!("{VISITS_HEADER}{a},李明,,2026-11-02,现场检查,field.no_staff,,\n").as_bytes(),
    );
    assert_eq!(json(&city.run(&["visits", "import", &good, "--format", "json"]))["visits"], 1);
    let again = city.run(&["visits", "import", &good]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("2:visit:"), "{}", stderr(&again));
    assert_eq!(city.findings(&[]).len(), 1, "a sheet imported twice does not double its findings");
}

#[test]
fn a_gbk_sheet_imports_with_its_chinese_intact() {
    let city = City::new();
    let a = credit_code(3);
    let text = format!(
        "{VISITS_HEADER}{a},张伟,第八组,2026-10-20,听取汇报,field.system_missing,未建立保密审查制度,\n"
    );
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err(), "the fixture really is GBK, not UTF-8");
    let file = city.file("visits-gbk.csv", &bytes);
    let report = json(&city.run(&["visits", "import", &file, "--format", "json"]));
    assert_eq!(report["encoding"], "GBK");
    let findings = city.findings(&[]);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["detail"]["inspector"], "张伟");
    assert_eq!(findings[0]["detail"]["method"], "听取汇报");
    assert_eq!(findings[0]["detail"]["note"], "未建立保密审查制度");
}

#[test]
fn a_field_check_must_be_declared_in_the_rule_set_given() {
    let city = City::new();
    let a = credit_code(1);
    let csv = format!(
        "{VISITS_HEADER}{a},李明,,2026-11-02,现场检查,field.no_staff,,\n\
         {a},李明,,2026-11-02,现场检查,field.made_up,,\n"
    );
    let file = city.file("visits.csv", csv.as_bytes());
    let output = city.run(&["visits", "import", &file, "--rules", &rules_path()]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("3:check:") && err.contains("field.made_up"), "{err}");
    assert!(!err.contains("2:check:"), "field.no_staff is declared:\n{err}");
    assert!(city.findings(&[]).is_empty());

    // Without a rule set any well-formed field.* id is taken as the inspector wrote it.
    let report = json(&city.run(&["visits", "import", &file, "--format", "json"]));
    assert_eq!(report["findings"], 2);
}

#[tokio::test]
async fn self_assessment_claims_are_exact_and_a_new_submission_replaces_the_old() {
    let city = City::new();
    let (a, b) = (credit_code(1), credit_code(2));
    let first = city.file(
        "first.csv",
        format!("unit,item,claimed,note\n{a},guide,12.30,已更新指南\n{a},catalogue,6,\n{b},guide,7.5,\n")
            .as_bytes(),
    );
    let report = json(&city.run(&["self-assess", "import", &first, "--format", "json"]));
    assert_eq!((report["units"].as_u64(), report["claims"].as_u64()), (Some(2), Some(3)));
    assert_eq!(report["replaced"], 0);

    let second =
        city.file("second.csv", format!("unit,item,claimed,note\n{a},guide,8.50,复核后下调\n").as_bytes());
    let report = json(&city.run(&["self-assess", "import", &second, "--format", "json"]));
    assert_eq!(report["replaced"], 1);

    let store = city.store().await;
    let evidence = store.evidence(Utc::now() + Duration::minutes(1)).await.expect("evidence");
    let unit_a = OrgCode::parse(&a).expect("code");
    let mut claims: Vec<(String, String, Option<String>)> = evidence[&unit_a]
        .self_claims
        .iter()
        .map(|c| (c.item.clone(), c.claimed.to_string(), c.note.clone()))
        .collect();
    claims.sort();
    assert_eq!(
        claims,
        [
            ("catalogue".to_string(), "6".to_string(), None),
            ("guide".to_string(), "8.50".to_string(), Some("复核后下调".to_string())),
        ],
        "the guide claim was replaced, the catalogue claim kept, and 8.50 kept its scale"
    );
    let unit_b = OrgCode::parse(&b).expect("code");
    assert_eq!(evidence[&unit_b].self_claims[0].claimed.to_string(), "7.5", "other units are untouched");
    store.close().await;
}

#[tokio::test]
async fn twelve_thirty_stays_twelve_thirty_through_the_store() {
    let store = Store::memory().await.expect("mem store");
    let code = credit_code(1);
    let units_csv = registry_csv(1);
    let file = gongkai::registry::read_registry(units_csv.as_bytes()).expect("valid");
    let plan = gongkai::registry::plan_import(&file, &[]).expect("plan");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("units");

    let units: HashSet<OrgCode> = [OrgCode::parse(&code).expect("code")].into();
    let submitted: DateTime<Utc> = "2026-11-20T02:00:00Z".parse().expect("time");
    let csv = format!("unit,item,claimed,note,submitted_at\n{code},guide,12.30,,2026-11-20T10:00:00+08:00\n");
    let parsed = read_self_assessment(csv.as_bytes(), &units, Utc::now()).expect("valid");
    assert_eq!(parsed.claims[0].submitted_at, submitted);
    let outcome = store
        .record_self_assessment(&parsed.claims, AuditEntry::new("test", "self_assessment.import"))
        .await
        .expect("write");
    assert_eq!(outcome.claims, 1);

    let before = store.evidence(submitted - Duration::seconds(1)).await.expect("evidence");
    assert!(
        before.values().all(|e| e.self_claims.is_empty()),
        "a claim does not count before it was submitted"
    );
    let after = store.evidence(submitted).await.expect("evidence");
    let claim = &after.values().next().expect("one unit").self_claims[0];
    assert_eq!(claim.claimed.to_string(), "12.30");
    assert_eq!(claim.claimed.scale(), 2);
    let audit = store.audit_entries(1).await.expect("audit");
    assert_eq!(audit[0].action, "self_assessment.import");
}

#[tokio::test]
async fn a_bad_self_assessment_is_refused_whole() {
    let city = City::new();
    let a = credit_code(1);
    let csv = format!(
        "unit,item,claimed,note\n{a},guide,5,\n{a},report,-2,\n{a},staff,3.5.1,\n{a},guide,4,\n{},guide,1,\n",
        credit_code(8)
    );
    let file = city.file("bad.csv", csv.as_bytes());
    let output = city.run(&["self-assess", "import", &file]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    for place in ["3:claimed:", "4:claimed:", "5:item:", "6:unit:"] {
        assert!(err.contains(place), "missing {place} in:\n{err}");
    }
    let store = city.store().await;
    let evidence = store.evidence(Utc::now() + Duration::minutes(1)).await.expect("evidence");
    assert!(evidence.values().all(|e| e.self_claims.is_empty()), "nothing was written");
    let audit = store.audit_entries(5).await.expect("audit");
    assert!(audit.iter().all(|e| e.action != "self_assessment.import"));
    store.close().await;
}

#[tokio::test]
async fn a_visits_import_is_audited_and_its_visit_remembered() {
    let city = City::new();
    let a = credit_code(2);
    let csv = format!("{VISITS_HEADER}{a},李明,第一组,2026-11-02,现场检查,home.stale,,\n");
    let file = city.file("visits.csv", csv.as_bytes());
    json(&city.run(&["visits", "import", &file, "--format", "json"]));
    let store = city.store().await;
    let audit = store.audit_entries(1).await.expect("audit");
    assert_eq!(audit[0].action, "visits.import");
    assert_eq!(audit[0].detail["findings"], 1);
    let keys = store.visit_keys().await.expect("visits");
    assert_eq!(keys.len(), 1);
    let findings = store.findings(&FindingFilter::default()).await.expect("findings");
    assert_eq!(findings[0].source, gongkai::model::Source::Inspector);
    store.close().await;
}

#[test]
fn the_documented_examples_import_against_the_example_registry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    let path = |name: &str| docs.join(name).display().to_string();
    json(&gongkai(&db, &["units", "import", &path("units-268.csv"), "--format", "json"]));

    let visits = json(&gongkai(
        &db,
        &["visits", "import", &path("visits.csv"), "--rules", &rules_path(), "--format", "json"],
    ));
    assert_eq!((visits["visits"].as_u64(), visits["findings"].as_u64()), (Some(3), Some(3)));
    let claims =
        json(&gongkai(&db, &["self-assess", "import", &path("self-assessment.csv"), "--format", "json"]));
    assert_eq!((claims["units"].as_u64(), claims["claims"].as_u64()), (Some(2), Some(3)));

    let csv = gongkai(&db, &["findings", "--unit", "000010073", "--format", "csv"]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(csv.starts_with("id,unit,unit_name,check,check_title,"), "{csv}");
    assert_eq!(csv.lines().count(), 3, "header and the unit's two findings:\n{csv}");
    assert!(csv.contains("南宁市人民政府办公厅"), "{csv}");
}
