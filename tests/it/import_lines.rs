//! Every importer reports problems on the file's own line numbers, whatever ends its lines:
//! CRLF (Excel, WPS: the office's normal case), LF, a BOM, quoted fields over several lines.

use std::collections::HashSet;

use chrono::{NaiveDate, Utc};
use gongkai::inspection::{VisitContext, read_self_assessment, read_visits};
use gongkai::model::OrgCode;
use gongkai::registry::read_registry;

use crate::support::{HEADER, credit_code};

/// The three line endings and a BOM variant, applied to a file written with `\n`.
fn variants(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let crlf = text.replace('\n', "\r\n");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(crlf.as_bytes());
    vec![("LF", text.as_bytes().to_vec()), ("CRLF", crlf.into_bytes()), ("BOM+CRLF", bom)]
}

/// A file of `rows` data lines from `row(n)`, where data row `bad` comes from `bad_row`. A
/// `NOTE` cell in each row is a quoted field over three lines in data row 3 and `备注`
/// elsewhere. Returns the text and the file line of the bad row.
fn file(
    header: &str,
    rows: usize,
    bad: usize,
    row: impl Fn(usize) -> String,
    bad_row: &str,
) -> (String, u64) {
    let mut text = header.to_string();
    let mut line = 1u64;
    let mut bad_line = 0;
    for n in 1..=rows {
        line += 1;
        if n == bad {
            bad_line = line;
            text.push_str(bad_row);
        } else {
            if n == 3 {
                // A cell over three lines: the two extra lines count.
                text.push_str(&row(n).replace("NOTE", "\"第一行\n第二行\n第三行\""));
                line += 2;
            } else {
                text.push_str(&row(n).replace("NOTE", "备注"));
            }
        }
        text.push('\n');
    }
    (text, bad_line)
}

fn codes(n: u32) -> HashSet<OrgCode> {
    (1..=n).map(|i| OrgCode::parse(&credit_code(i)).expect("code")).collect()
}

#[test]
fn registry_lines_are_right_for_crlf_lf_bom_and_multiline_fields() {
    let row = |n: usize| format!("{},NOTE,department,,http://u{n}.example.cn/,,", credit_code(n as u32));
    let (text, bad_line) =
        file(HEADER, 300, 201, row, "not-a-code,坏单位,department,,http://bad.example.cn/,,");
    assert!(bad_line > 200);
    for (name, bytes) in variants(&text) {
        let parsed = read_registry(&bytes).expect("readable");
        let lines: Vec<u64> = parsed.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![bad_line], "{name}: {:?}", parsed.problems);
        assert_eq!(parsed.rows.last().map(|r| r.line), Some(bad_line + 99), "{name}: last row");
    }
}

#[test]
fn visits_lines_are_right_for_crlf_lf_bom_and_multiline_fields() {
    let units = codes(300);
    let existing = HashSet::new();
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let header = "unit,inspector,group,date,method,check,note,rectify_by\n";
    let row = |n: usize| format!("{},李明,,2026-11-02,现场检查,field.no_staff,NOTE,", credit_code(n as u32));
    let bad = format!("{},李明,,2026-11-02,上门看看,field.no_staff,,", credit_code(201));
    let (text, bad_line) = file(header, 250, 201, row, &bad);
    for (name, bytes) in variants(&text) {
        let context = VisitContext { units: &units, existing: &existing, rules: None, today };
        let rejected = read_visits(&bytes, context).expect_err("one bad row");
        let lines: Vec<u64> = rejected.0.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![bad_line], "{name}: {:?}", rejected.0);
    }
}

#[test]
fn self_assessment_lines_are_right_for_crlf_lf_bom_and_multiline_fields() {
    let units = codes(300);
    let header = "unit,item,claimed,note\n";
    let row = |n: usize| format!("{},guide,5,NOTE", credit_code(n as u32));
    let bad = format!("{},guide,3.5.1,", credit_code(201));
    let (text, bad_line) = file(header, 250, 201, row, &bad);
    for (name, bytes) in variants(&text) {
        let rejected = read_self_assessment(&bytes, &units, Utc::now()).expect_err("one bad row");
        let lines: Vec<u64> = rejected.0.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![bad_line], "{name}: {:?}", rejected.0);
    }
}
