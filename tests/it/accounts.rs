//! `gongkai accounts`: argon2-hashed passwords from stdin, roles bound to units and groups.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use gongkai::auth::verify_password;
use gongkai::store::{Store, StoreConfig};

use crate::support::{HEADER, credit_code};

fn gongkai_with_stdin(db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gongkai"))
        .arg("--db")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gongkai");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn accounts_are_created_hashed_bound_and_listed_without_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let units = dir.path().join("units.csv");
    std::fs::write(&units, format!("{HEADER}{},甲局,department,,http://u1.example.cn/,,\n", credit_code(1)))
        .expect("write units");
    let import = gongkai_with_stdin(&db, &["units", "import", units.to_str().expect("path")], "");
    assert!(import.status.success());

    let unit = credit_code(1);
    let add = |args: &[&str], password: &str| gongkai_with_stdin(&db, args, &format!("{password}\n"));
    let ok = add(
        &[
            "accounts",
            "add",
            "--role",
            "unit",
            "--unit",
            &unit,
            "--username",
            "jia.lianluo",
            "--password-stdin",
        ],
        "政务公开-2026-甲局",
    );
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let inspector = add(
        &[
            "accounts",
            "add",
            "--role",
            "inspector",
            "--group",
            "第一组",
            "--username",
            "li.ming",
            "--password-stdin",
        ],
        "inspector-pass-1",
    );
    assert!(inspector.status.success(), "{}", String::from_utf8_lossy(&inspector.stderr));

    // Refusals, each with exit code 2 and nothing created.
    let refusals: [(&[&str], &str, &str); 5] = [
        (
            &["accounts", "add", "--role", "unit", "--username", "no.unit", "--password-stdin"],
            "long-enough-pass",
            "--unit",
        ),
        (
            &[
                "accounts",
                "add",
                "--role",
                "unit",
                "--unit",
                &credit_code(2),
                "--username",
                "ghost",
                "--password-stdin",
            ],
            "long-enough-pass",
            "未登记",
        ),
        (
            &["accounts", "add", "--role", "leader", "--username", "short.pw", "--password-stdin"],
            "short",
            "密码至少",
        ),
        (
            &["accounts", "add", "--role", "leader", "--username", "jia.lianluo", "--password-stdin"],
            "long-enough-pass",
            "已存在",
        ),
        (
            &["accounts", "add", "--role", "leader", "--username", "no.stdin"],
            "long-enough-pass",
            "--password-stdin",
        ),
    ];
    for (args, password, expected) in refusals {
        let output = add(args, password);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }

    let list = gongkai_with_stdin(&db, &["accounts", "list", "--format", "json"], "");
    let accounts: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    let rows = accounts.as_array().expect("array");
    assert_eq!(rows.len(), 2, "{accounts}");
    assert!(!accounts.to_string().contains("argon2") && !accounts.to_string().contains("password"));
    let contact = rows.iter().find(|a| a["username"] == "jia.lianluo").expect("unit account");
    assert_eq!((contact["role"].as_str(), contact["unit"].as_str()), (Some("unit"), Some(unit.as_str())));

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::connect(&StoreConfig::new(db.as_str())).await.expect("store");
        let (_, hash) = store.account("jia.lianluo").await.expect("read").expect("exists");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("政务公开-2026-甲局", &hash));
        assert!(!verify_password("政务公开-2026-乙局", &hash));
        let audit = store.audit_entries(10).await.expect("audit");
        assert_eq!(audit.iter().filter(|e| e.action == "accounts.add").count(), 2);
        store.close().await;
    });
}
