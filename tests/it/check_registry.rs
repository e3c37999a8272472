//! The check registry (`gongkai::model::CHECKS`) holds each check's id, label, profile section
//! and test. These tests keep those entries honest: the named test exists and is a test, the
//! named profile section is in the shipped profile, and every check id the shipped profiles
//! and rule sets name is registered (rule sets' own `field.*` ids excepted).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gongkai::model::{CHECKS, check_info};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The source file of a test named `module::function`: a module of `tests/it/` when one has
/// that name, otherwise a module path under `src/` (a trailing `tests` module is inline).
fn test_file(test: &str) -> Option<(PathBuf, &str)> {
    let mut parts: Vec<&str> = test.split("::").collect();
    let name = parts.pop()?;
    let first = parts.first()?;
    let it = root().join("tests/it").join(format!("{first}.rs"));
    if it.is_file() {
        let main = read(&root().join("tests/it/main.rs"));
        assert!(
            main.lines().any(|l| l.trim() == format!("mod {first};")),
            "tests/it/{first}.rs is not registered"
        );
        return Some((root().join("tests/it").join(format!("{}.rs", parts.join("/"))), name));
    }
    if parts.last() == Some(&"tests") {
        parts.pop();
    }
    let module = parts.join("/");
    [format!("src/{module}.rs"), format!("src/{module}/mod.rs")]
        .into_iter()
        .map(|p| root().join(p))
        .find(|p| p.is_file())
        .map(|p| (p, name))
}

/// Whether `source` defines a test function `name`: `fn name(` under a `#[test]` or
/// `#[tokio::test]` attribute (attributes may stack, doc comments may sit between).
fn defines_test(source: &str, name: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    lines.iter().enumerate().any(|(i, line)| {
        let line = line.trim_start();
        let defines =
            [format!("fn {name}("), format!("async fn {name}(")].iter().any(|d| line.starts_with(d.as_str()));
        defines
            && lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("#[") || l.starts_with("///"))
                .any(|l| l == "#[test]" || l.starts_with("#[tokio::test"))
    })
}

#[test]
fn every_check_names_a_test_that_exists() {
    let mut missing = Vec::new();
    for check in CHECKS {
        match test_file(check.test) {
            Some((file, name)) if file.is_file() && defines_test(&read(&file), name) => {}
            _ => missing.push(format!("{}: {}", check.id, check.test)),
        }
    }
    assert!(missing.is_empty(), "checks whose named test is not a test: {missing:#?}");
    // The lookup itself can fail: a name that is no test is reported.
    assert!(test_file("site_checks::no_such_test").is_some_and(|(f, n)| !defines_test(&read(&f), n)));
    assert!(
        test_file(
            "crawl::checks::home::tests::a_home_page_is_stale_after_the_window_and_without_any_dated_item"
        )
        .is_some_and(|(f, n)| defines_test(&read(&f), n))
    );
}

/// The value at a dotted key of a TOML document.
fn lookup<'a>(document: &'a toml::Value, key: &str) -> Option<&'a toml::Value> {
    key.split('.').try_fold(document, |value, part| value.get(part))
}

#[test]
fn every_check_names_a_profile_section_that_exists() {
    for check in CHECKS {
        let (file, section) = check.profile.split_once(' ').unwrap_or_else(|| panic!("{}", check.id));
        let key = section.trim_matches(|c| c == '[' || c == ']');
        let document: toml::Value =
            toml::from_str(&read(&root().join(file))).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(lookup(&document, key).is_some(), "{}: {file} has no `{key}`", check.id);
        assert!(lookup(&document, &format!("{key}.no_such_key")).is_none());
    }
}

/// The check ids a profile or rule set names: values of `check` keys, keys of the
/// `[unchecked]` and `precedence_by_check` tables, and `count.<id>` in expressions.
fn named_ids(value: &toml::Value, key: &str, out: &mut BTreeSet<String>) {
    match value {
        toml::Value::String(s) if key == "check" => {
            out.insert(s.clone());
        }
        toml::Value::String(s) => {
            for (at, _) in s.match_indices("count.") {
                let id: String = s[at + "count.".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_' || *c == '.')
                    .collect();
                // `count.stale_dynamic` names a derived count, not a check: ids have a dot.
                if id.contains('.') {
                    out.insert(id.trim_end_matches('.').to_owned());
                }
            }
        }
        toml::Value::Array(items) => items.iter().for_each(|v| named_ids(v, key, out)),
        toml::Value::Table(table) => {
            for (k, v) in table {
                if key == "unchecked" || key == "precedence_by_check" {
                    out.insert(k.clone());
                }
                named_ids(v, k, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_check_id_the_profiles_and_rule_sets_name_is_registered() {
    let mut named = BTreeSet::new();
    for dir in ["crawlers", "scoring-rules"] {
        let entries = std::fs::read_dir(root().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            if path.extension().is_some_and(|e| e == "toml") {
                let document: toml::Value =
                    toml::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                named_ids(&document, "", &mut named);
            }
        }
    }
    // The shipped rule sets use most of the vocabulary: the walk found them.
    assert!(
        named.contains("link.broken") && named.contains("site.unchecked") && named.contains("content.spam")
    );
    // A misspelt id, wherever a rule set puts it, is caught.
    let misspelt: toml::Value = toml::from_str(
        "check = \"link.brokn\"\nwhen = \"count.home.stal >= 1\"\n[unchecked]\n\"site.uncheked\" = []\n",
    )
    .expect("toml");
    let mut caught = BTreeSet::new();
    named_ids(&misspelt, "", &mut caught);
    assert_eq!(caught, BTreeSet::from(["home.stal", "link.brokn", "site.uncheked"].map(String::from)));
    assert!(caught.iter().all(|id| check_info(id).is_none()));
    let unknown: Vec<&String> =
        named.iter().filter(|id| !id.starts_with("field.") && check_info(id).is_none()).collect();
    assert!(unknown.is_empty(), "ids named in profiles or rule sets but not registered: {unknown:?}");
}
