//! Spreadsheet downloads for the dashboard.
//!
//! The ranking CSV carries the same columns, in the same order and with the same cell text, as
//! `gongkai ranking --format csv`, so an office that built a spreadsheet around one can use the
//! other. Two things differ because this file goes to a person's Excel rather than to a script:
//! the header row is in Chinese, and the file starts with a UTF-8 byte-order mark (without it
//! Excel on Windows reads the bytes as the local code page and Chinese turns into mojibake).

use csv::{Terminator, WriterBuilder};

use crate::assess::RankedScore;

/// Excel's cue that a CSV file is UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The ranking columns: (stable field key, Chinese heading). Mirrors the CLI's
/// `impl Listing for RankedScore` in src/cli/assess.rs; `ranking_cells` fills them.
pub const RANKING_COLUMNS: &[(&str, &str)] = &[
    ("rank", "名次"),
    ("rank_in_kind", "类内名次"),
    ("unit", "代码"),
    ("name", "单位"),
    ("kind", "类型"),
    ("score", "得分"),
    ("grade", "等次"),
    ("rank_change", "名次变化"),
    ("laggard", "后进"),
    ("reasons", "原因"),
    ("subordinates", "下级单位"),
    ("over_claim", "自评高报"),
    ("unchecked", "未能核查"),
];

/// One ranking row as the cells of `RANKING_COLUMNS`. Decimals keep the text they were stored
/// with ("87.50" stays "87.50"): the file is a record of the result, not a re-rendering of it.
pub fn ranking_cells(row: &RankedScore) -> Vec<String> {
    vec![
        row.rank.to_string(),
        row.rank_in_kind.to_string(),
        row.unit.clone(),
        row.name.clone(),
        row.kind.label_zh().to_string(),
        row.score.to_string(),
        row.grade.clone().unwrap_or_default(),
        row.rank_change.map(|c| format!("{c:+}")).unwrap_or_default(),
        if row.laggard { "是".into() } else { String::new() },
        row.reasons.join("；"),
        row.subordinates
            .as_ref()
            .map(|s| format!("{} 个，后进 {}，平均 {}", s.count, s.laggards, s.average))
            .unwrap_or_default(),
        row.over_claim.filter(|o| !o.is_zero()).map(|o| o.to_string()).unwrap_or_default(),
        row.unchecked.iter().map(crate::model::Unchecked::summary_zh).collect::<Vec<_>>().join("；"),
    ]
}

/// Columns whose text comes from data files (the units registry, the rule set) rather than
/// from numbers this program formats. Only these are guarded against spreadsheet formulas, so
/// a rank change of "+2" or a score of "-5.00" reaches the spreadsheet untouched.
const FREE_TEXT_COLUMNS: &[&str] = &["name", "grade", "reasons", "unchecked"];

/// The ranking as a CSV file for Excel: BOM, Chinese header row, one row per unit in the order
/// given (the caller's filter and sort are kept).
pub fn ranking_csv(rows: &[RankedScore]) -> Result<Vec<u8>, csv::Error> {
    let mut buffer = UTF8_BOM.to_vec();
    {
        // RFC 4180 line ends: what Excel itself writes.
        let mut writer = WriterBuilder::new().terminator(Terminator::CRLF).from_writer(&mut buffer);
        writer.write_record(RANKING_COLUMNS.iter().map(|(_, heading)| heading))?;
        for row in rows {
            let cells = ranking_cells(row).into_iter().zip(RANKING_COLUMNS).map(|(cell, (key, _))| {
                if FREE_TEXT_COLUMNS.contains(key) { neutralise_formula(cell) } else { cell }
            });
            writer.write_record(cells)?;
        }
        writer.flush()?;
    }
    Ok(buffer)
}

/// A cell that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`) is
/// prefixed with an apostrophe, which Excel and WPS show as plain text. A unit name is data,
/// and opening the export must never execute it.
fn neutralise_formula(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}") } else { cell }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::assess::Subordinates;
    use crate::model::UnitKind;

    fn row(rank: u32, unit: &str, name: &str, score: rust_decimal::Decimal) -> RankedScore {
        RankedScore {
            unit: unit.into(),
            name: name.into(),
            kind: UnitKind::Department,
            parent_code: None,
            score,
            grade: Some("良好".into()),
            veto: None,
            passed: true,
            rank,
            rank_in_kind: rank,
            previous_rank: None,
            rank_change: None,
            laggard: false,
            reasons: Vec::new(),
            subordinates: None,
            self_claimed: None,
            over_claim: None,
            unchecked: Vec::new(),
        }
    }

    /// Parses the export the way a spreadsheet would, after checking and stripping the BOM.
    fn parse(bytes: &[u8]) -> Vec<Vec<String>> {
        let body = bytes.strip_prefix(UTF8_BOM).expect("export starts with the UTF-8 BOM");
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body)
            .records()
            .map(|r| r.expect("valid CSV").iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn starts_with_bom_then_the_chinese_header() {
        let bytes = ranking_csv(&[]).unwrap();
        assert_eq!(&bytes[..3], [0xEF, 0xBB, 0xBF]);
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert_eq!(
            text,
            "名次,类内名次,代码,单位,类型,得分,等次,名次变化,后进,原因,下级单位,自评高报,未能核查\r\n"
        );
    }

    #[test]
    fn one_row_per_unit_with_exact_decimal_text() {
        let mut first = row(1, "11110000MB0000001X", "市发展和改革委员会", dec!(87.50));
        first.rank_change = Some(2);
        first.subordinates = Some(Subordinates { count: 3, laggards: 1, average: dec!(80.10) });
        first.over_claim = Some(dec!(2.5));
        let mut second = row(2, "111100000000000002", "市教育局", dec!(61.00));
        second.laggard = true;
        second.rank_change = Some(-3);
        second.reasons = vec!["低于合格线".into(), "连续两期后进".into()];
        second.over_claim = Some(dec!(0.00));
        second.grade = None;
        second.unchecked = vec![crate::model::Unchecked {
            check: "site.unchecked".into(),
            label: "网站未能核查".into(),
            reason: "网站首页无法访问".into(),
            error: Some("连接被拒绝".into()),
            url: Some("http://127.0.0.1:9/".into()),
        }];

        let records = parse(&ranking_csv(&[first, second]).unwrap());
        assert_eq!(records.len(), 3, "header plus one row per unit");
        assert_eq!(records[0].len(), RANKING_COLUMNS.len());
        assert_eq!(
            records[1],
            [
                "1",
                "1",
                "11110000MB0000001X",
                "市发展和改革委员会",
                "政府部门",
                "87.50",
                "良好",
                "+2",
                "",
                "",
                "3 个，后进 1，平均 80.10",
                "2.5",
                ""
            ]
        );
        assert_eq!(
            records[2],
            [
                "2",
                "2",
                "111100000000000002",
                "市教育局",
                "政府部门",
                "61.00",
                "",
                "-3",
                "是",
                "低于合格线；连续两期后进",
                "",
                "",
                "网站未能核查：网站首页无法访问（连接被拒绝）"
            ]
        );
    }

    #[test]
    fn keeps_the_callers_order() {
        let rows = [row(3, "C", "丙", dec!(70)), row(1, "A", "甲", dec!(90)), row(2, "B", "乙", dec!(80))];
        let records = parse(&ranking_csv(&rows).unwrap());
        let codes: Vec<&str> = records[1..].iter().map(|r| r[2].as_str()).collect();
        assert_eq!(codes, ["C", "A", "B"]);
    }

    #[test]
    fn names_that_look_like_formulas_are_shown_as_text_but_numbers_are_not_touched() {
        let mut hostile = row(1, "X1", "=HYPERLINK(\"http://evil\",\"点我\")", dec!(-5.00));
        hostile.rank_change = Some(4);
        hostile.reasons = vec!["@SUM(A1)".into()];
        let records = parse(&ranking_csv(&[hostile]).unwrap());
        assert_eq!(records[1][3], "'=HYPERLINK(\"http://evil\",\"点我\")");
        assert_eq!(records[1][9], "'@SUM(A1)");
        assert_eq!(records[1][5], "-5.00");
        assert_eq!(records[1][7], "+4");
    }

    #[test]
    fn quotes_commas_and_newlines_in_names_survive_a_round_trip() {
        let name = "某局,\"综合\"办公室\n二处";
        let records = parse(&ranking_csv(&[row(1, "Q1", name, dec!(90))]).unwrap());
        assert_eq!(records.len(), 2);
        assert_eq!(records[1][3], name);
    }
}
