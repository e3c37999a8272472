//! The index-number grammar as data: a regular expression with named parts `org` (the
//! organisation code, which must be the unit's), `year` (which must be the creation date's
//! year) and, optionally, `serial`. The default is the city's `ORGCODE/YYYY-NNNNN`.

use chrono::{Datelike, NaiveDate};
use regex::Regex;
use serde::Serialize;

use crate::model::OrgCode;

/// A compiled grammar.
#[derive(Debug, Clone)]
pub struct IndexGrammar {
    regex: Regex,
    has_org: bool,
    has_year: bool,
}

/// The pattern cannot serve as a grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrammarError {
    /// The regular expression does not compile; the regex crate's message.
    #[error("正则表达式无效：{0}")]
    Regex(String),
}

/// Why an index number is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum IndexProblem {
    /// It does not have the shape the grammar describes.
    Grammar,
    /// Its organisation part names another organisation.
    OrgMismatch {
        /// The `org` part as written.
        found: String,
        /// The codes it may carry: the unit's credit code and its 9-character organisation part.
        expected: Vec<String>,
    },
    /// Its year differs from the creation date's year.
    YearMismatch {
        /// The `year` part as written.
        found: String,
        /// The year of the entry's creation date (生成日期).
        expected: i32,
    },
}

impl IndexProblem {
    /// The explanation a unit reads.
    pub fn message_zh(&self) -> String {
        match self {
            IndexProblem::Grammar => "索引号不符合编码规则".to_owned(),
            IndexProblem::OrgMismatch { found, expected } => {
                format!("索引号中的机构代码“{found}”不是本单位的代码（应为 {}）", expected.join(" 或 "))
            }
            IndexProblem::YearMismatch { found, expected } => {
                format!("索引号中的年份“{found}”与生成日期的年份 {expected} 不一致")
            }
        }
    }
}

impl IndexGrammar {
    /// Compiles `pattern`, anchored at both ends whatever it says, and notes whether it has `org`
    /// and `year` parts to compare.
    pub fn new(pattern: &str) -> Result<Self, GrammarError> {
        // Anchored whatever the operator wrote: the whole index number must match.
        let anchored = format!("^(?:{})$", pattern.trim().trim_start_matches('^').trim_end_matches('$'));
        let regex = Regex::new(&anchored).map_err(|e| GrammarError::Regex(e.to_string()))?;
        let names: Vec<&str> = regex.capture_names().flatten().collect();
        Ok(Self { has_org: names.contains(&"org"), has_year: names.contains(&"year"), regex })
    }

    /// Checks one index number of `unit`'s catalogue. The organisation part may be the unit's
    /// code as registered or, for an 18-character credit code, the organisation code embedded
    /// in it; `created_on` is compared when present.
    pub fn check(
        &self,
        index_no: &str,
        unit: &OrgCode,
        created_on: Option<NaiveDate>,
    ) -> Result<(), IndexProblem> {
        let index_no = index_no.trim();
        let captures = self.regex.captures(index_no).ok_or(IndexProblem::Grammar)?;
        if self.has_org {
            let found = captures.name("org").map(|m| m.as_str()).unwrap_or_default();
            let accepted = accepted_orgs(unit);
            if !accepted.iter().any(|code| code.eq_ignore_ascii_case(found)) {
                return Err(IndexProblem::OrgMismatch { found: found.to_owned(), expected: accepted });
            }
        }
        if self.has_year
            && let (Some(year), Some(date)) = (captures.name("year"), created_on)
        {
            let found = year.as_str();
            if found.parse::<i32>().ok() != Some(date.year()) {
                return Err(IndexProblem::YearMismatch { found: found.to_owned(), expected: date.year() });
            }
        }
        Ok(())
    }
}

/// The organisation codes an index number of `unit` may carry.
fn accepted_orgs(unit: &OrgCode) -> Vec<String> {
    let mut codes = vec![unit.as_str().to_owned()];
    if unit.organisation_part() != unit.as_str() {
        codes.push(unit.organisation_part().to_owned());
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{organisation_check_character, synthetic_credit_code};

    const DEFAULT: &str = r"^(?P<org>[0-9A-Z]{9}|[0-9A-Z]{18})/(?P<year>\d{4})-(?P<serial>\d{5})$";

    fn org(n: u32) -> OrgCode {
        let body = format!("{n:08}");
        let check = organisation_check_character(&body).expect("digits");
        OrgCode::parse(&format!("{body}{check}")).expect("valid code")
    }

    fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn a_nine_character_code_matches_itself() {
        let grammar = IndexGrammar::new(DEFAULT).expect("valid");
        let unit = org(1434);
        let index = format!("{}/2026-00012", unit.as_str());
        assert_eq!(grammar.check(&index, &unit, day(2026, 3, 1)), Ok(()));
        assert_eq!(grammar.check(&index, &unit, None), Ok(()));
    }

    #[test]
    fn a_credit_code_accepts_itself_and_its_embedded_organisation_code() {
        let grammar = IndexGrammar::new(DEFAULT).expect("valid");
        let unit = synthetic_credit_code("450100", 7).expect("valid");
        let embedded = unit.organisation_part().to_owned();
        assert_eq!(embedded.len(), 9);
        for code in [unit.as_str(), embedded.as_str()] {
            assert_eq!(grammar.check(&format!("{code}/2025-00001"), &unit, day(2025, 1, 2)), Ok(()));
        }
        let other = org(99);
        match grammar.check(&format!("{}/2025-00001", other.as_str()), &unit, day(2025, 1, 2)) {
            Err(IndexProblem::OrgMismatch { found, expected }) => {
                assert_eq!(found, other.as_str());
                assert_eq!(expected, [unit.as_str().to_owned(), embedded]);
            }
            other => panic!("expected an organisation mismatch, got {other:?}"),
        }
    }

    #[test]
    fn shape_and_year_are_checked() {
        let grammar = IndexGrammar::new(DEFAULT).expect("valid");
        let unit = org(5);
        let code = unit.as_str();
        for bad in
            [format!("{code}/2026-0001"), format!("{code}-2026-00001"), "abc".to_owned(), String::new()]
        {
            assert_eq!(grammar.check(&bad, &unit, day(2026, 1, 1)), Err(IndexProblem::Grammar), "{bad}");
        }
        assert_eq!(
            grammar.check(&format!("{code}/2025-00001"), &unit, day(2026, 1, 1)),
            Err(IndexProblem::YearMismatch { found: "2025".into(), expected: 2026 })
        );
    }

    #[test]
    fn other_grammars_are_data() {
        // A city writing `YYYY-ORG-NNNN` instead.
        let grammar =
            IndexGrammar::new(r"(?P<year>\d{4})-(?P<org>[0-9A-Z]{9})-(?P<serial>\d{4})").expect("valid");
        let unit = org(8);
        assert_eq!(grammar.check(&format!("2024-{}-0001", unit.as_str()), &unit, day(2024, 5, 5)), Ok(()));
        assert_eq!(
            grammar.check(&format!("{}/2024-00001", unit.as_str()), &unit, day(2024, 5, 5)),
            Err(IndexProblem::Grammar)
        );
        assert!(IndexGrammar::new("(?P<org>").is_err());
    }
}
