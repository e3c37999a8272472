//! Units that no website crawl reached — registered after the last crawl, or left out of it —
//! have no website evidence at all. Scored on empty evidence they would get full marks for
//! nothing checked and could rank first, so they are marked unchecked (未能核查), as a site
//! that did not answer is.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::model::check::SITE_UNCHECKED;
use crate::model::{CrawlKind, Finding, FindingStatus, OrgCode, Source, Unit, UnitEvidence};

/// Adds a `site.unchecked` finding, observed at `at`, to every unit that no current website
/// crawl covered. Nothing is added while the city has not crawled any website by then: its
/// assessments read inspections and self-assessments only, and every unit is alike.
pub fn mark_uncrawled(units: &[Unit], evidence: &mut BTreeMap<OrgCode, UnitEvidence>, at: DateTime<Utc>) {
    let site = CrawlKind::Site.as_str();
    if !evidence.values().any(|e| e.crawled.contains(site)) {
        return;
    }
    for unit in units {
        let unit_evidence = evidence.entry(unit.code.clone()).or_default();
        if unit_evidence.crawled.contains(site) {
            continue;
        }
        unit_evidence.findings.push(Finding {
            id: None,
            unit: unit.code.clone(),
            check: SITE_UNCHECKED.id.to_owned(),
            source: Source::Crawler,
            observed_at: at,
            url: unit.website.clone(),
            detail: json!({ "reason": "评估截止时网站检查尚未覆盖该单位（未抓取），网站各项检查均未能进行" }),
            status: FindingStatus::Open,
            rectify_by: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::{UnitKind, synthetic_credit_code};

    fn unit(n: u32) -> Unit {
        Unit {
            code: synthetic_credit_code("450100", n).expect("code"),
            name: format!("单位{n}"),
            kind: UnitKind::Department,
            parent_code: None,
            website: Some(format!("http://u{n}.example.cn/")),
            catalogue_url: None,
            email: None,
        }
    }

    fn crawled(kinds: &[&str]) -> UnitEvidence {
        UnitEvidence { crawled: kinds.iter().map(|k| (*k).to_owned()).collect(), ..UnitEvidence::default() }
    }

    #[test]
    fn a_unit_no_website_crawl_reached_is_unchecked_once_the_city_crawls() {
        let units = [unit(1), unit(2), unit(3)];
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).single().expect("time");
        let mut evidence = BTreeMap::from([
            (units[0].code.clone(), crawled(&["site"])),
            (units[1].code.clone(), crawled(&["catalogue"])),
        ]);
        mark_uncrawled(&units, &mut evidence, at);
        let checks = |n: usize| -> Vec<String> {
            evidence[&units[n].code].findings.iter().map(|f| f.check.clone()).collect()
        };
        assert!(checks(0).is_empty(), "the crawled unit keeps its own evidence");
        assert_eq!(checks(1), [SITE_UNCHECKED.id], "a catalogue run is no website evidence");
        assert_eq!(checks(2), [SITE_UNCHECKED.id], "a unit with no evidence at all");
        let added = &evidence[&units[2].code].findings[0];
        assert_eq!((added.source, added.observed_at), (Source::Crawler, at));
        assert_eq!(added.url.as_deref(), Some("http://u3.example.cn/"));
    }

    #[test]
    fn nothing_is_marked_while_no_website_was_crawled() {
        let units = [unit(1), unit(2)];
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).single().expect("time");
        let mut evidence = BTreeMap::from([(units[0].code.clone(), crawled(&["catalogue", "probe"]))]);
        mark_uncrawled(&units, &mut evidence, at);
        assert!(evidence.values().all(|e| e.findings.is_empty()));
    }
}
