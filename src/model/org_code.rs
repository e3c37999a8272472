//! Organisation identifiers: the 9-character organisation code (GB 11714-1997) and the
//! 18-character unified social credit code (GB 32100-2015).
//!
//! Both carry a check character. Validating it catches the typical registry mistake — one
//! mistyped or transposed character — before a unit is registered under a code that no
//! catalogue index number will ever match.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A validated organisation identifier, stored without separators and in upper case.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct OrgCode(String);

/// Why a string is not an organisation identifier. Messages are for Chinese civil servants.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrgCodeError {
    /// Neither 9 nor 18 characters after separators are removed; holds the length found.
    #[error("长度应为 9 位（组织机构代码）或 18 位（统一社会信用代码），实际为 {0} 位")]
    Length(usize),
    /// A character outside the code's alphabet.
    #[error("第 {position} 位字符“{found}”不是允许的字符")]
    Character {
        /// Where it stands, counting from 1.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The last character does not match the one computed from the others (a typo or a
    /// transposition somewhere).
    #[error("校验码错误：应为“{expected}”，实际为“{found}”")]
    CheckCharacter {
        /// The check character the body computes to.
        expected: char,
        /// The check character written.
        found: char,
    },
    /// A credit code's administrative division code (characters 3–8) is not all digits.
    #[error("第 3–8 位行政区划码应为数字")]
    Division,
}

/// GB 11714-1997: weights of the eight body characters.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// GB 32100-2015: the 31 characters allowed (no I, O, S, V, Z) and the weights 3^i mod 31.
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

impl OrgCode {
    /// Parses a code as people write it: surrounding blanks, lower case and the hyphen of
    /// the printed organisation-code form (`12345678-9`) are accepted and normalised away.
    pub fn parse(input: &str) -> Result<Self, OrgCodeError> {
        let trimmed = input.trim();
        let normalised: String = if trimmed.len() == 10 && trimmed.as_bytes().get(8) == Some(&b'-') {
            trimmed.chars().filter(|c| *c != '-').collect()
        } else {
            trimmed.to_string()
        }
        .to_ascii_uppercase();
        match normalised.chars().count() {
            9 => check_organisation_code(&normalised)?,
            18 => check_credit_code(&normalised)?,
            n => return Err(OrgCodeError::Length(n)),
        }
        Ok(Self(normalised))
    }

    /// The code, upper case, without separators.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 9-character organisation code a catalogue index number may carry for this unit:
    /// the code itself, or characters 9–17 of a unified social credit code.
    pub fn organisation_part(&self) -> &str {
        if self.0.len() == 18 { &self.0[8..17] } else { &self.0 }
    }
}

fn org_value(position: usize, c: char) -> Result<u32, OrgCodeError> {
    match c {
        '0'..='9' => Ok(c as u32 - '0' as u32),
        'A'..='Z' => Ok(c as u32 - 'A' as u32 + 10),
        _ => Err(OrgCodeError::Character { position, found: c }),
    }
}

/// Computes the GB 11714 check character of an 8-character body.
pub fn organisation_check_character(body: &str) -> Result<char, OrgCodeError> {
    let mut sum = 0;
    for (i, (c, weight)) in body.chars().zip(ORG_WEIGHTS).enumerate() {
        sum += org_value(i + 1, c)? * weight;
    }
    Ok(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('0'),
    })
}

fn check_organisation_code(code: &str) -> Result<(), OrgCodeError> {
    let expected = organisation_check_character(&code[..8])?;
    let found = code[8..].chars().next().unwrap_or(' ');
    if !(found.is_ascii_digit() || found == 'X') {
        return Err(OrgCodeError::Character { position: 9, found });
    }
    if expected != found {
        return Err(OrgCodeError::CheckCharacter { expected, found });
    }
    Ok(())
}

/// Computes the GB 32100 check character of a 17-character body.
pub fn credit_check_character(body: &str) -> Result<char, OrgCodeError> {
    let mut sum = 0;
    for (i, (c, weight)) in body.chars().zip(USCC_WEIGHTS).enumerate() {
        let value = USCC_ALPHABET.find(c).ok_or(OrgCodeError::Character { position: i + 1, found: c })?;
        sum += value as u32 * weight;
    }
    let index = (31 - sum % 31) % 31;
    Ok(USCC_ALPHABET.as_bytes()[index as usize] as char)
}

fn check_credit_code(code: &str) -> Result<(), OrgCodeError> {
    let expected = credit_check_character(&code[..17])?;
    if !code[2..8].bytes().all(|b| b.is_ascii_digit()) {
        return Err(OrgCodeError::Division);
    }
    let found = code[17..].chars().next().unwrap_or(' ');
    if !USCC_ALPHABET.contains(found) {
        return Err(OrgCodeError::Character { position: 18, found });
    }
    if expected != found {
        return Err(OrgCodeError::CheckCharacter { expected, found });
    }
    Ok(())
}

/// A valid unified social credit code for made-up data (demo city, tests, benchmarks):
/// a government body (`11`) in the given 6-digit division whose organisation part is the
/// 8-digit serial `n` with its check character. Real codes never use serials this small
/// together with the demo divisions, but nothing guarantees it: never mix with real data.
pub fn synthetic_credit_code(division: &str, n: u32) -> Result<OrgCode, OrgCodeError> {
    let org_body = format!("{n:08}");
    let body = format!("11{division}{org_body}{}", organisation_check_character(&org_body)?);
    let check = credit_check_character(&body)?;
    OrgCode::parse(&format!("{body}{check}"))
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for OrgCode {
    type Error = OrgCodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrgCode> for String {
    fn from(code: OrgCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_example_of_gb_11714() {
        // The worked example of GB 11714-1997: body D2143569, check character X.
        assert_eq!(organisation_check_character("D2143569"), Ok('X'));
        assert!(OrgCode::parse("D2143569-X").is_ok());
        assert_eq!(OrgCode::parse("d2143569x").map(|c| c.0), Ok("D2143569X".to_string()));
    }

    #[test]
    fn wrong_organisation_check_character_names_the_expected_one() {
        assert_eq!(
            OrgCode::parse("D21435691"),
            Err(OrgCodeError::CheckCharacter { expected: 'X', found: '1' })
        );
    }

    #[test]
    fn check_value_eleven_maps_to_zero() {
        // Find a body whose weighted sum is divisible by 11 and make sure '0' is expected.
        // 00000000 sums to 0 → 11 - 0 = 11 → '0'.
        assert_eq!(organisation_check_character("00000000"), Ok('0'));
    }

    #[test]
    fn credit_code_embeds_the_organisation_code() {
        let code = OrgCode::parse("9144030071526726XG").expect("published code");
        assert_eq!(code.organisation_part(), "71526726X");
        assert!(OrgCode::parse(code.organisation_part()).is_ok());
    }

    #[test]
    fn credit_code_rejects_letters_outside_the_alphabet() {
        assert_eq!(
            OrgCode::parse("91440300715267I6XG"),
            Err(OrgCodeError::Character { position: 15, found: 'I' })
        );
    }

    #[test]
    fn wrong_lengths_are_reported() {
        assert_eq!(OrgCode::parse("1234567"), Err(OrgCodeError::Length(7)));
        assert_eq!(OrgCode::parse(""), Err(OrgCodeError::Length(0)));
    }
}
