//! `gongkai findings`: list findings, filtered by unit and check.

use std::collections::HashMap;
use std::io;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::BadInput;
use super::output::{Format, Listing, print_listing};
use crate::model::{Finding, OrgCode, check_info, is_check_id};
use crate::store::{FindingFilter, Store};

/// One listed finding. The JSON field names are the stable ones of DESIGN.md §4/§6; the
/// unit's name and the check's title are for people (table and CSV) only.
#[derive(Serialize)]
struct FindingView {
    id: Option<String>,
    unit: String,
    check: String,
    source: &'static str,
    observed_at: DateTime<Utc>,
    url: Option<String>,
    detail: serde_json::Value,
    status: &'static str,
    rectify_by: Option<NaiveDate>,
    #[serde(skip)]
    unit_name: String,
    #[serde(skip)]
    check_title: String,
}

impl FindingView {
    fn new(finding: Finding, unit_names: &HashMap<OrgCode, String>) -> Self {
        let check_title = match check_info(&finding.check) {
            Some(info) => info.title_zh.to_string(),
            // `field.*` titles live in the rule set; the id itself says which one.
            None => "规则集自定义检查项".to_string(),
        };
        Self {
            unit_name: unit_names.get(&finding.unit).cloned().unwrap_or_default(),
            check_title,
            id: finding.id,
            unit: finding.unit.to_string(),
            check: finding.check,
            source: finding.source.as_str(),
            observed_at: finding.observed_at,
            url: finding.url,
            detail: finding.detail,
            status: finding.status.as_str(),
            rectify_by: finding.rectify_by,
        }
    }
}

impl Listing for FindingView {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("id", "编号"),
        ("unit", "单位代码"),
        ("unit_name", "单位"),
        ("check", "检查项"),
        ("check_title", "问题"),
        ("source", "来源"),
        ("observed_at", "发现时间"),
        ("status", "状态"),
        ("rectify_by", "整改期限"),
        ("url", "网址"),
        ("detail", "详情"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone().unwrap_or_default(),
            self.unit.clone(),
            self.unit_name.clone(),
            self.check.clone(),
            self.check_title.clone(),
            self.source.to_string(),
            self.observed_at.to_rfc3339(),
            self.status.to_string(),
            self.rectify_by.map(|d| d.to_string()).unwrap_or_default(),
            self.url.clone().unwrap_or_default(),
            self.detail.to_string(),
        ]
    }
}

/// Lists findings, newest first. `all` includes findings of crawl runs a newer run replaced.
pub(super) async fn list(
    store: &Store,
    unit: Option<&str>,
    check: Option<&str>,
    all: bool,
    format: Format,
) -> anyhow::Result<()> {
    let unit = unit
        .map(|raw| OrgCode::parse(raw).map_err(|e| BadInput::new(format!("单位代码“{raw}”无效：{e}"))))
        .transpose()?;
    if let Some(check) = check.filter(|c| !is_check_id(c)) {
        return Err(
            BadInput::new(format!("检查项“{check}”格式无效，应如 column.stale 或 field.no_staff")).into()
        );
    }
    let filter = FindingFilter { unit, check: check.map(str::to_string), include_superseded: all };
    let findings = store.findings(&filter).await?;
    let unit_names: HashMap<OrgCode, String> =
        store.units().await?.into_iter().map(|u| (u.code, u.name)).collect();
    let views: Vec<FindingView> = findings.into_iter().map(|f| FindingView::new(f, &unit_names)).collect();
    print_listing(&views, format, &mut io::stdout().lock())?;
    Ok(())
}
