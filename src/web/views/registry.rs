//! The office's view of the unit registry: every unit matching a search, with its parent's
//! name and its inspector group. Three queries and one per group, whatever the search.

use std::collections::HashMap;

use serde::Serialize;

use super::groups::group_of_units;
use crate::model::{Unit, UnitKind};
use crate::store::Store;
use crate::web::error::WebError;

/// One registry row as the page lists it.
#[derive(Debug, Serialize)]
pub struct UnitRow {
    /// The unit's credit code.
    pub code: String,
    /// The unit's name.
    pub name: String,
    /// The kind's id (e.g. `department`); the template shows it in Chinese.
    pub kind: &'static str,
    /// The credit code of the unit it reports to, if any.
    pub parent_code: Option<String>,
    /// The parent's name; none when the parent is not registered.
    pub parent_name: Option<String>,
    /// The website address as registered (shown as text).
    pub website: Option<String>,
    /// The disclosure catalogue's address as registered.
    pub catalogue_url: Option<String>,
    /// The inspector group the unit is assigned to.
    pub group: Option<String>,
}

/// The units matching a search, and how many the registry holds in all.
#[derive(Debug)]
pub struct Registry {
    /// The matching units, in the registry's order.
    pub units: Vec<UnitRow>,
    /// Every registered unit, matching or not.
    pub total: usize,
}

/// Whether `unit` matches the text `query` (code, name or an address, ignoring case) and `kind`.
fn matches(unit: &Unit, query: &str, kind: Option<UnitKind>) -> bool {
    let query = query.trim().to_lowercase();
    let text_ok = query.is_empty()
        || unit.code.as_str().to_lowercase().contains(&query)
        || unit.name.to_lowercase().contains(&query)
        || unit.website.as_deref().is_some_and(|w| w.to_lowercase().contains(&query))
        || unit.catalogue_url.as_deref().is_some_and(|c| c.to_lowercase().contains(&query));
    text_ok && kind.is_none_or(|k| unit.kind == k)
}

/// The registry's units matching `query` and `kind`, in the registry's order.
pub async fn unit_registry(store: &Store, query: &str, kind: Option<UnitKind>) -> Result<Registry, WebError> {
    let all = store.units().await?;
    let groups = group_of_units(store).await?;
    let names: HashMap<String, String> = all.iter().map(|u| (u.code.to_string(), u.name.clone())).collect();
    let units = all
        .iter()
        .filter(|unit| matches(unit, query, kind))
        .map(|unit| {
            let parent_code = unit.parent_code.as_ref().map(ToString::to_string);
            UnitRow {
                code: unit.code.to_string(),
                name: unit.name.clone(),
                kind: unit.kind.as_str(),
                parent_name: parent_code.as_ref().and_then(|p| names.get(p).cloned()),
                parent_code,
                website: unit.website.clone(),
                catalogue_url: unit.catalogue_url.clone(),
                group: groups.get(unit.code.as_str()).cloned(),
            }
        })
        .collect();
    Ok(Registry { units, total: all.len() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::synthetic_credit_code;

    fn unit(name: &str, kind: UnitKind) -> Unit {
        Unit {
            code: synthetic_credit_code("450100", 7).expect("code"),
            name: name.into(),
            kind,
            parent_code: None,
            website: Some("http://jyj.example.cn/".into()),
            catalogue_url: None,
            email: None,
        }
    }

    #[test]
    fn search_looks_at_code_name_and_addresses() {
        let u = unit("南宁市教育局", UnitKind::Department);
        assert!(matches(&u, "", None));
        assert!(matches(&u, "教育", None));
        assert!(matches(&u, "JYJ.EXAMPLE", None));
        assert!(matches(&u, &u.code.as_str()[..6].to_lowercase(), None));
        assert!(!matches(&u, "公安", None));
        assert!(!matches(&u, "教育", Some(UnitKind::District)));
        assert!(matches(&u, "教育", Some(UnitKind::Department)));
    }
}
