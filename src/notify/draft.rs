//! A draft from a cycle's laggards: each named unit with its reasons (the ranking's, in the
//! template's wording), the findings its score explanation cites (with their evidence), and
//! the deadline the template's rectification period gives.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::template::{NoticeTemplate, fill};
use crate::model::{CityClock, Finding, FindingStatus, OrgCode, check_info};
use crate::store::{NewNotice, NoticeFinding, NoticeSection, NoticeUnit, Store, StoreError};

/// At most this many findings are named per unit (the worst first is the explanation's order).
const MAX_FINDINGS_PER_UNIT: usize = 20;
/// Evidence is cut to this many characters.
const EVIDENCE_CHARS: usize = 160;

/// The end (23:59:59 in Beijing) of the day `days` after `today`.
pub fn deadline_after(today: NaiveDate, days: u32) -> DateTime<Utc> {
    let day = today + chrono::Duration::days(i64::from(days));
    day.and_hms_opt(23, 59, 59).and_then(|t| CityClock::default().instant(t)).unwrap_or_else(Utc::now)
}

/// "2027年1月5日".
pub fn day_zh(at: DateTime<Utc>) -> String {
    let d = CityClock::default().date_of(at);
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The draft for `cycle`'s laggards, drafted by `by` on `today`.
pub async fn build_draft(
    store: &Store,
    cycle: &str,
    by: &str,
    template: &NoticeTemplate,
    today: NaiveDate,
) -> Result<Option<NewNotice>, StoreError> {
    let ranking = store.ranking(cycle).await?;
    if ranking.is_empty() {
        return Ok(None);
    }
    let deadline = deadline_after(today, template.rectification_days);
    let mut units = Vec::new();
    for row in ranking.iter().filter(|r| r.laggard) {
        let reasons = row.reasons.iter().map(|r| template.word(r)).collect();
        let findings = named_findings(store, cycle, &row.unit).await?;
        units.push(NoticeUnit {
            unit: row.unit.clone(),
            name: row.name.clone(),
            reasons,
            findings,
            deadline,
            added_note: None,
            acknowledged_at: None,
            acknowledged_by: None,
        });
    }
    let title = fill(&template.title, &[("cycle", cycle)]);
    let (total, named) = (ranking.len().to_string(), units.len().to_string());
    let deadline_text = day_zh(deadline);
    let values = [
        ("issuer", template.issuer.as_str()),
        ("cycle", cycle),
        ("units", total.as_str()),
        ("named", named.as_str()),
        ("deadline", deadline_text.as_str()),
        ("year", &today.year().to_string()),
        ("title", title.as_str()),
    ];
    let sections = template
        .sections
        .iter()
        .map(|(heading, text)| NoticeSection { heading: heading.clone(), text: fill(text, &values) })
        .collect();
    Ok(Some(NewNotice {
        cycle: cycle.to_string(),
        title,
        issuer: template.issuer.clone(),
        year: i64::from(today.year()),
        sections,
        template: template.source.clone(),
        deadline,
        drafted_by: by.to_string(),
        units,
    }))
}

/// The findings a unit's score explanation cites that are still open, else its open findings.
pub async fn named_findings(
    store: &Store,
    cycle: &str,
    unit: &str,
) -> Result<Vec<NoticeFinding>, StoreError> {
    let mut cited = BTreeSet::new();
    if let Some(explanation) = store.explanation(cycle, unit).await? {
        collect_finding_ids(&explanation, &mut cited);
    }
    let mut findings: Vec<Finding> = Vec::new();
    for id in cited {
        if let Some(finding) = store.finding(&id).await?
            && finding.status != FindingStatus::Closed
        {
            findings.push(finding);
        }
    }
    if findings.is_empty()
        && let Ok(code) = OrgCode::parse(unit)
    {
        findings = store.open_findings_for_units(&[code]).await?;
    }
    findings.truncate(MAX_FINDINGS_PER_UNIT);
    Ok(findings.iter().map(notice_finding).collect())
}

fn collect_finding_ids(value: &serde_json::Value, into: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(s) if s.starts_with("finding:") => {
            into.insert(s.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_finding_ids(v, into)),
        serde_json::Value::Object(map) => map.values().for_each(|v| collect_finding_ids(v, into)),
        _ => {}
    }
}

/// A finding as a notice names it: what, where, and the evidence in one line.
pub fn notice_finding(finding: &Finding) -> NoticeFinding {
    let title =
        check_info(&finding.check).map(|c| c.title_zh.to_string()).unwrap_or_else(|| finding.check.clone());
    let evidence = match &finding.detail {
        serde_json::Value::Object(map) if !map.is_empty() => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}：{s}"),
                    other => format!("{k}：{other}"),
                })
                .collect();
            parts.join("；")
        }
        _ => String::new(),
    };
    let mut evidence: String = evidence.chars().take(EVIDENCE_CHARS).collect();
    if evidence.chars().count() == EVIDENCE_CHARS {
        evidence.push('…');
    }
    NoticeFinding {
        id: finding.id.clone().unwrap_or_default(),
        check: finding.check.clone(),
        title,
        url: finding.url.clone(),
        evidence,
    }
}
