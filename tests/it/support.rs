//! Helpers shared by the integration tests.

use std::process::{Command, Output};

use gongkai::model::{organisation_check_character, synthetic_credit_code};

/// A valid 9-character organisation code made from a number.
pub(crate) fn org_code(n: u32) -> String {
    let body = format!("{n:08}");
    let check = organisation_check_character(&body).expect("digits are valid");
    format!("{body}{check}")
}

/// A valid 18-character unified social credit code of a government body in Nanning
/// (450100) whose organisation part is `org_code(n)`.
pub(crate) fn credit_code(n: u32) -> String {
    synthetic_credit_code("450100", n).expect("valid code").to_string()
}

pub(crate) const HEADER: &str = "code,name,kind,parent_code,website,catalogue_url,email\n";

/// A registry CSV with `n` departments and, for every tenth of them, one subordinate
/// institution. Returns the CSV text.
pub(crate) fn registry_csv(n: u32) -> String {
    let mut csv = String::from(HEADER);
    for i in 0..n {
        let code = credit_code(i + 1);
        if i % 10 == 9 {
            let parent = credit_code(i);
            csv.push_str(&format!(
                "{code},南宁市第{i}事业单位,institution,{parent},http://u{i}.example.cn/,,\n"
            ));
        } else {
            csv.push_str(&format!(
                "{code},南宁市第{i}局,department,,http://u{i}.example.cn/,http://u{i}.example.cn/xxgk/,gk{i}@example.cn\n"
            ));
        }
    }
    csv
}

/// The example registry shipped in docs/, shaped like the reference city.
pub(crate) fn example_registry_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/units-268.csv")
}

/// Runs the `gongkai` binary on a database, ignoring any `GONGKAI_DB` of the environment.
pub(crate) fn gongkai(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gongkai"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("GONGKAI_DB")
        .env("RUST_MIN_STACK", "10485760")
        .output()
        .expect("run gongkai")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The JSON a successful command printed (the test fails with its stderr otherwise).
pub(crate) fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("JSON output")
}
