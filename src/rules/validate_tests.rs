//! Validation: every problem reported at once, each with its line and key path.

use rust_decimal_macros::dec;

use super::{Problem, RuleSet};

/// A small valid rule set; tests break it in one place at a time.
const BASE: &str = r#"[rule_set]
id = "t"
title = "测试"
version = "1"
applies_to = ["department"]
in_force_from = 2020-01-01
points = 10
pass_mark = 6

[[indicators]]
id = "a"
title = "甲"
points = 10

[[indicators.deductions]]
id = "links"
title = "断链"
check = "link.broken"
per_finding = 0.1
max = 5
"#;

fn problems(text: &str) -> Vec<Problem> {
    match RuleSet::parse(text, "t.toml") {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map_or(0, |i| i + 1)
}

#[test]
fn the_base_is_valid_and_exact() {
    let rules = RuleSet::parse(BASE, "t.toml").expect("valid");
    assert_eq!(rules.id(), "t");
    assert_eq!(rules.points(), dec!(10));
    assert_eq!(rules.hash().len(), 64);
    assert!(rules.hash().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn unknown_check_names_its_line_and_key() {
    let text = BASE.replace("\"link.broken\"", "\"link.brokn\"");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, line_of(&text, "link.brokn"));
    assert_eq!(found[0].key, "indicators[0].deductions[0].check");
    assert!(found[0].message.contains("未知检查项"), "{}", found[0].message);
    assert!(found[0].to_string().starts_with(&format!("t.toml:{}:", found[0].line)));
}

#[test]
fn indicator_points_must_add_up_to_the_total() {
    let text =
        BASE.replace("points = 10\n\n[[indicators.deductions]]", "points = 9\n\n[[indicators.deductions]]");
    let found = problems(&text);
    assert!(found.iter().any(|p| p.key == "rule_set.points" && p.message.contains("9")), "{found:?}");
}

#[test]
fn a_line_cap_above_its_indicator_is_refused() {
    let text = BASE.replace("max = 5", "max = 12");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, line_of(&text, "max = 12"));
    assert!(found[0].message.contains("超过所属指标分值"));
}

#[test]
fn bad_expressions_and_unknown_variables_name_their_line() {
    let text = format!(
        "{BASE}\n[[vetoes]]\nid = \"v\"\ntitle = \"否决\"\nwhen = \"count.home.stale >=\"\n\n[[vetoes]]\nid = \"w\"\ntitle = \"否决\"\nwhen = \"count.home.stael > 0\"\n\n[[vetoes]]\nid = \"x\"\ntitle = \"否决\"\nwhen = \"count.home.stale + 1\"\n"
    );
    let found = problems(&text);
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0].line, line_of(&text, "stale >=\""));
    assert!(found[0].message.contains("表达式无法解析"));
    assert_eq!(found[1].line, line_of(&text, "stael"));
    assert!(found[1].message.contains("count.home.stael"));
    assert_eq!(found[2].key, "vetoes[2].when");
    assert!(found[2].message.contains("真或假"), "{}", found[2].message);
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let text = BASE
        .replace("applies_to = [\"department\"]", "applies_to = [\"bureau\"]")
        .replace("pass_mark = 6", "pass_mark = 60")
        .replace("per_finding = 0.1", "per_finding = -1");
    let found = problems(&text);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        ["rule_set.applies_to[0]", "rule_set.pass_mark", "indicators[0].deductions[0].per_finding"],
        "{found:?}"
    );
    // In file order.
    assert!(found.windows(2).all(|w| w[0].line <= w[1].line));
}

#[test]
fn unknown_keys_are_refused_with_their_line() {
    let text = BASE.replace("per_finding = 0.1", "per_findng = 0.1");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].line, line_of(&text, "per_findng"));
    assert!(found[0].message.starts_with("TOML 格式错误"));
}

#[test]
fn extra_checks_must_be_field_ids() {
    let text =
        format!("{BASE}\n[checks]\n\"visit.no_staff\" = \"无专人\"\n\"field.no_staff\" = \"无专人\"\n");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.contains("field."));
}

#[test]
fn closed_findings_cannot_be_counted() {
    let text = format!("{BASE}\n[sources]\ncounted_statuses = [\"open\", \"closed\"]\n");
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "sources.counted_statuses[1]");
}

#[test]
fn component_weights_must_sum_to_one() {
    let text = format!(
        "{BASE}\n[[components]]\nid = \"m\"\ntitle = \"监测\"\nweight = 0.7\nsources = [\"crawler\"]\n\n[[components]]\nid = \"r\"\ntitle = \"评审\"\nweight = 0.2\nsources = [\"inspector\"]\n"
    );
    let found = problems(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.contains("0.9"), "{}", found[0].message);
}

#[test]
fn examples_are_checked_against_the_rule_set() {
    let text = format!(
        "{BASE}\n[[examples]]\nname = \"x\"\nexpect_total = 10\nexpect_grade = \"优\"\nmetrics = {{ \"nope\" = 1 }}\nfindings = [{{ check = \"field.nope\" }}]\n"
    );
    let found = problems(&text);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&"examples[0].expect_grade"), "{found:?}");
    assert!(keys.contains(&"examples[0].metrics.\"nope\""), "{found:?}");
    assert!(keys.contains(&"examples[0].findings[0].check"), "{found:?}");
}

#[test]
fn numbers_are_read_exactly_from_the_text() {
    // 0.1 has no exact binary representation; three of them must cost exactly 0.3.
    let text = format!(
        "{BASE}\n[[examples]]\nname = \"三个断链\"\nas_of = 2020-06-01\nexpect_total = 9.7\nfindings = [{{ check = \"link.broken\", count = 3 }}]\n"
    );
    let rules = RuleSet::parse(&text, "t.toml").expect("valid");
    let outcomes = rules.run_examples();
    assert!(outcomes[0].pass, "{:?}", outcomes[0].mismatches);
}

#[test]
fn a_formula_that_fails_at_scoring_time_costs_nothing_and_says_so() {
    use crate::model::{UnitEvidence, UnitKind};
    let text = format!(
        "{BASE}\n[metrics.\"x.rate\"]\ntitle = \"比率\"\ndefault = 0\n\n[[indicators.deductions]]\nid = \"ratio\"\ntitle = \"比值\"\nformula = \"10 / metric.x.rate\"\n"
    );
    let rules =
        RuleSet::parse(&text, "t.toml").expect("valid: a division by zero is only known at scoring time");
    let unit = super::golden_tests::unit(UnitKind::Department);
    let day = chrono::NaiveDate::from_ymd_opt(2020, 6, 1).expect("date");
    let s = rules.score(&unit, &UnitEvidence::default(), day);
    assert_eq!(s.total, dec!(10));
    assert_eq!(s.explanation.warnings.len(), 1, "{:?}", s.explanation.warnings);
    let mut ev = UnitEvidence::default();
    ev.metrics.insert("x.rate".to_string(), dec!(4));
    assert_eq!(rules.score(&unit, &ev, day).total, dec!(7.5));
    assert_eq!(rules.metrics().count(), 1);
}

/// Issue #10: the `[unchecked]` section (missing evidence → indicators scored zero).
#[test]
fn the_unchecked_section_names_every_mistake_with_its_line() {
    let base = format!("{BASE}\n[unchecked]\n\"site.unchecked\" = [\"a\"]\n");
    assert!(problems(&base).is_empty(), "{:?}", problems(&base));
    let cases = [
        (
            "\"site.unchecked\" = [\"a\"]",
            "\"site.unchecked\" = [\"b\"]",
            "未知指标“b”",
            "unchecked.\"site.unchecked\"[0]",
        ),
        (
            "\"site.unchecked\" = [\"a\"]",
            "\"site.unchecked\" = [\"a\", \"a\"]",
            "指标“a”重复",
            "unchecked.\"site.unchecked\"[1]",
        ),
        (
            "\"site.unchecked\" = [\"a\"]",
            "\"site.uncheked\" = [\"a\"]",
            "未知检查项“site.uncheked”",
            "unchecked.\"site.uncheked\"",
        ),
        (
            "\"site.unchecked\" = [\"a\"]",
            "\"link.broken\" = [\"a\"]",
            "不表示证据缺失",
            "unchecked.\"link.broken\"",
        ),
        (
            "\"site.unchecked\" = [\"a\"]",
            "\"site.unchecked\" = []",
            "应至少列出一个指标",
            "unchecked.\"site.unchecked\"",
        ),
    ];
    for (from, to, message, key) in cases {
        let text = base.replace(from, to);
        let found = problems(&text);
        assert_eq!(found.len(), 1, "{to}: {found:?}");
        assert!(found[0].message.contains(message), "{to}: {}", found[0].message);
        assert_eq!(found[0].key, key);
        assert_eq!(found[0].line, line_of(&text, to), "{to}");
    }
}
