//! A unit (单位) under the disclosure scheme: the thing every finding, score and
//! notification is about.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::OrgCode;

/// The kind of a unit decides which catalogue classes and website columns it owes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// City government department (市直部门).
    Department,
    /// Public enterprise or institution (企事业单位).
    Institution,
    /// Organisation authorised by law to administer public affairs (法律法规授权组织).
    Authorised,
    /// County or district government (县区).
    District,
    /// Development zone (开发区).
    Devzone,
}

impl UnitKind {
    /// Every kind, in the order listings and forms show them.
    pub const ALL: [UnitKind; 5] = [
        UnitKind::Department,
        UnitKind::Institution,
        UnitKind::Authorised,
        UnitKind::District,
        UnitKind::Devzone,
    ];

    /// The identifier used in files, JSON and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Department => "department",
            UnitKind::Institution => "institution",
            UnitKind::Authorised => "authorised",
            UnitKind::District => "district",
            UnitKind::Devzone => "devzone",
        }
    }

    /// The name a Chinese user reads.
    pub fn label_zh(self) -> &'static str {
        match self {
            UnitKind::Department => "政府部门",
            UnitKind::Institution => "企事业单位",
            UnitKind::Authorised => "法律法规授权组织",
            UnitKind::District => "县区",
            UnitKind::Devzone => "开发区",
        }
    }

    /// Other names an office's spreadsheet may use for the kind.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            UnitKind::Department => &["部门", "市直部门", "政府部门"],
            UnitKind::Institution => &["企事业单位", "事业单位", "公共企事业单位"],
            UnitKind::Authorised => &["授权组织", "法律法规授权组织"],
            UnitKind::District => &["县区", "区县", "县（区）"],
            UnitKind::Devzone => &["开发区"],
        }
    }
}

/// The text was not one of the kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("单位类型“{0}”无效，应为 department、institution、authorised、district、devzone 之一")]
pub struct UnknownUnitKind(pub String);

impl FromStr for UnitKind {
    type Err = UnknownUnitKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        UnitKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(wanted) || kind.aliases().contains(&wanted))
            .ok_or_else(|| UnknownUnitKind(wanted.to_string()))
    }
}

impl fmt::Display for UnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One registered unit. The field names are the registry CSV's columns and the stable
/// JSON names of `gongkai units list --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Unit {
    /// The unit's unified social credit code (or 9-character organisation code), validated.
    pub code: OrgCode,
    /// The unit's registered name, as on its seal (e.g. 南宁市教育局).
    pub name: String,
    /// What kind of unit it is; decides its required columns, classes and rule sets.
    pub kind: UnitKind,
    /// The supervising unit's code, for units that report to another (e.g. a bureau's institutions).
    pub parent_code: Option<OrgCode>,
    /// The home page (http or https) the website crawl starts from.
    pub website: Option<String>,
    /// The disclosure catalogue's root page; a unit without one gets no catalogue crawl.
    pub catalogue_url: Option<String>,
    /// Where notices are e-mailed; `None`: portal delivery only.
    pub email: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_identifiers_and_chinese_names() {
        assert_eq!("department".parse(), Ok(UnitKind::Department));
        assert_eq!(" DevZone ".parse(), Ok(UnitKind::Devzone));
        assert_eq!("事业单位".parse(), Ok(UnitKind::Institution));
        assert_eq!("法律法规授权组织".parse(), Ok(UnitKind::Authorised));
        assert_eq!("bureau".parse::<UnitKind>(), Err(UnknownUnitKind("bureau".to_string())));
    }

    #[test]
    fn identifiers_round_trip() {
        for kind in UnitKind::ALL {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
    }
}
