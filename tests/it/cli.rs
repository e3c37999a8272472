//! The `gongkai` binary as operators and scripts use it.

use crate::support::{
    HEADER, credit_code, example_registry_path, gongkai, org_code, registry_csv, stderr, stdout,
};

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn db(&self) -> String {
        format!("surrealkv://{}", self.dir.path().join("db").display())
    }

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write fixture");
        path.display().to_string()
    }
}

fn units_json(db: &str) -> Vec<serde_json::Value> {
    let output = gongkai(db, &["units", "list", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("JSON array")
}

#[test]
fn reference_city_imports_and_lists_back_as_json() {
    let scratch = Scratch::new();
    let path = example_registry_path();
    let output =
        gongkai(&scratch.db(), &["units", "import", path.to_str().expect("utf-8 path"), "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    assert_eq!(report["added"], 268);
    assert_eq!(report["encoding"], "UTF-8");

    let units = units_json(&scratch.db());
    assert_eq!(units.len(), 268);
    let mut keys: Vec<&str> = units[0].as_object().expect("object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["catalogue_url", "code", "email", "kind", "name", "parent_code", "website"]);
    let districts = units.iter().filter(|u| u["kind"] == "district").count();
    assert_eq!(districts, 12);
}

#[test]
fn broken_file_is_refused_line_by_line_and_nothing_is_written() {
    let scratch = Scratch::new();
    let good = credit_code(1);
    let mut wrong_check = credit_code(2);
    wrong_check.replace_range(17.., if wrong_check.ends_with('0') { "1" } else { "0" });
    let csv = format!(
        "{HEADER}{good},南宁市财政局,department,,http://czj.example.cn/,,\n\
         {wrong_check},南宁市教育局,department,,http://jyj.example.cn/,,\n\
         {},,bureau,,ftp://x.example.cn/,,not-an-email\n\
         {good},重复单位,department,,http://dup.example.cn/,,\n\
         {},南宁市第一中学,institution,{},http://school.example.cn/,,\n",
        credit_code(3),
        org_code(4),
        credit_code(99),
    );
    let file = scratch.file("broken.csv", csv.as_bytes());
    let output = gongkai(&scratch.db(), &["units", "import", &file]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let err = stderr(&output);
    let problem_lines: Vec<&str> = err.lines().skip(1).collect();
    let located: Vec<String> =
        problem_lines.iter().map(|l| l.splitn(3, ':').take(2).collect::<Vec<_>>().join(":")).collect();
    assert_eq!(
        located,
        ["3:code", "4:email", "4:kind", "4:name", "4:website", "5:code", "6:parent_code"],
        "{err}"
    );
    assert!(err.contains("校验码错误"), "{err}");
    assert!(err.contains("与第 2 行重复"), "{err}");
    assert!(units_json(&scratch.db()).is_empty(), "a refused file writes nothing");
}

#[test]
fn last_row_bad_means_nothing_imported() {
    let scratch = Scratch::new();
    let mut csv = registry_csv(500);
    csv.push_str(&format!("{},坏行,department,,not a url,,\n", credit_code(501)));
    let file = scratch.file("last-bad.csv", csv.as_bytes());
    let output = gongkai(&scratch.db(), &["units", "import", &file]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("502:website:"), "{}", stderr(&output));
    assert!(units_json(&scratch.db()).is_empty());
}

#[test]
fn excel_style_files_import_bom_quotes_blank_lines_and_gbk() {
    let scratch = Scratch::new();
    // UTF-8 with BOM, a quoted name holding a comma, CRLF endings and blank trailing rows.
    let mut utf8 = vec![0xEF, 0xBB, 0xBF];
    utf8.extend_from_slice(
        format!(
            "code,name,kind,parent_code,website,catalogue_url,email\r\n\
             {},\"南宁市住房和城乡建设局（城建, 规划）\",department,,http://zjj.example.cn,,\r\n\
             ,,,,,,\r\n\r\n\r\n",
            credit_code(10)
        )
        .as_bytes(),
    );
    let file = scratch.file("bom.csv", &utf8);
    let output = gongkai(&scratch.db(), &["units", "import", &file, "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));

    // GBK without any declaration, as saved by a Chinese-locale spreadsheet.
    let gbk_text = format!(
        "{HEADER}{},南宁市青秀区人民政府,县区,,http://qxq.example.cn/,,\n{},南宁市青秀区教育局,部门,{},http://qxjy.example.cn/,,\n",
        credit_code(11),
        credit_code(12),
        credit_code(11)
    );
    let gbk = encoding_rs::GBK.encode(&gbk_text).0.into_owned();
    assert_ne!(gbk, gbk_text.as_bytes(), "the fixture really is GBK");
    let file = scratch.file("gbk.csv", &gbk);
    let output = gongkai(&scratch.db(), &["units", "import", &file, "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["encoding"], "GBK");

    let units = units_json(&scratch.db());
    let names: Vec<&str> = units.iter().filter_map(|u| u["name"].as_str()).collect();
    assert!(names.contains(&"南宁市住房和城乡建设局（城建, 规划）"), "{names:?}");
    assert!(names.contains(&"南宁市青秀区人民政府"), "{names:?}");
    let district = units.iter().find(|u| u["name"] == "南宁市青秀区人民政府").expect("district");
    assert_eq!(district["kind"], "district");
}

#[test]
fn binary_garbage_is_refused_with_an_encoding_message() {
    let scratch = Scratch::new();
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let file = scratch.file("garbage.csv", &garbage);
    let output = gongkai(&scratch.db(), &["units", "import", &file]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(units_json(&scratch.db()).is_empty());
}

#[test]
fn csv_export_imports_again_unchanged_and_show_lists_children() {
    let scratch = Scratch::new();
    let file = scratch.file("units.csv", registry_csv(20).as_bytes());
    assert!(gongkai(&scratch.db(), &["units", "import", &file]).status.success());
    let export = gongkai(&scratch.db(), &["units", "list", "--format", "csv"]);
    assert!(export.status.success());
    let exported = scratch.file("export.csv", &export.stdout);
    let again = gongkai(&scratch.db(), &["units", "import", &exported, "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!((report["added"].as_u64(), report["unchanged"].as_u64()), (Some(0), Some(20)));

    // Unit 10 (index 9) is the subordinate of unit 9 (index 8).
    let parent = credit_code(9);
    let shown = gongkai(&scratch.db(), &["units", "show", &parent, "--format", "json"]);
    let detail: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("JSON");
    assert_eq!(detail["children"], serde_json::json!([credit_code(10)]));
    let table = gongkai(&scratch.db(), &["units", "show", &parent, "--format", "table"]);
    assert!(stdout(&table).contains("下级单位") && stdout(&table).contains("南宁市第9事业单位"));

    let missing = gongkai(&scratch.db(), &["units", "show", &credit_code(555)]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("未找到"));
}

#[test]
fn serve_reports_an_address_it_cannot_listen_on() {
    // 192.0.2.1 (TEST-NET-1) is never an address of this machine.
    let output = gongkai("mem://", &["serve", "--address", "192.0.2.1", "--port", "8123"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("网页服务无法启动"), "{}", stderr(&output));
}

#[test]
fn demo_never_deletes_a_directory_it_did_not_make() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let precious = scratch.path().join("precious.txt");
    std::fs::write(&precious, "keep").expect("file");
    let dir = scratch.path().to_string_lossy().to_string();
    let output = gongkai("mem://", &["demo", "--dir", &dir]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("不是演示数据库"), "{}", stderr(&output));
    assert!(precious.exists());
}

#[test]
fn a_locked_embedded_store_gets_a_clear_message() {
    let scratch = Scratch::new();
    let db = scratch.db();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let _holder = runtime
        .block_on(gongkai::store::Store::connect(&gongkai::store::StoreConfig::new(db.clone())))
        .expect("first process opens the store");
    let output = gongkai(&db, &["units", "list"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("正被另一个进程使用"), "{}", stderr(&output));
}

#[test]
fn missing_file_names_the_path() {
    let output = gongkai("mem://", &["units", "import", "/nonexistent/units.csv"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("/nonexistent/units.csv"));
}
