//! Units that no crawl reached — registered after the last crawl, left out of it, or with no
//! website or catalogue address in the registry — have no evidence of that kind at all. Scored
//! on empty evidence they would get full marks for nothing checked and could rank first, so
//! they are marked unchecked (未能核查), as a site that did not answer is.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::model::check::{CATALOGUE_UNCHECKED, Check, SITE_UNCHECKED};
use crate::model::{CrawlKind, Finding, FindingStatus, OrgCode, Source, Unit, UnitEvidence};

/// One kind of crawl whose absence is marked: its check and how to name what was not read.
struct Coverage {
    kind: CrawlKind,
    check: &'static Check,
    address: fn(&Unit) -> Option<String>,
    /// The reason when the registry gives the unit no address of this kind.
    unregistered: &'static str,
    /// The reason when it does, but no crawl of this kind covered the unit.
    not_crawled: &'static str,
}

const COVERAGE: [Coverage; 2] = [
    Coverage {
        kind: CrawlKind::Site,
        check: &SITE_UNCHECKED,
        address: |unit| unit.website.clone(),
        unregistered: "单位名录中未登记网站地址，网站各项检查均未能进行",
        not_crawled: "评估截止时网站检查尚未覆盖该单位（未抓取），网站各项检查均未能进行",
    },
    Coverage {
        kind: CrawlKind::Catalogue,
        check: &CATALOGUE_UNCHECKED,
        address: |unit| unit.catalogue_url.clone(),
        unregistered: "单位名录中未登记政府信息公开目录地址，目录各项检查均未能进行",
        not_crawled: "评估截止时公开目录检查尚未覆盖该单位（未抓取），目录各项检查均未能进行",
    },
];

/// Adds a `site.unchecked` (or `catalogue.unchecked`) finding, observed at `at`, to every unit
/// that no current website (or catalogue) crawl covered. Nothing is added for a kind the city
/// has not crawled at all by then: its assessments do without that evidence, and every unit is
/// alike.
pub fn mark_uncrawled(units: &[Unit], evidence: &mut BTreeMap<OrgCode, UnitEvidence>, at: DateTime<Utc>) {
    for coverage in &COVERAGE {
        let kind = coverage.kind.as_str();
        if !evidence.values().any(|e| e.crawled.contains(kind)) {
            continue;
        }
        for unit in units {
            let unit_evidence = evidence.entry(unit.code.clone()).or_default();
            if unit_evidence.crawled.contains(kind) {
                continue;
            }
            let address = (coverage.address)(unit).filter(|a| !a.trim().is_empty());
            let reason = if address.is_some() { coverage.not_crawled } else { coverage.unregistered };
            unit_evidence.findings.push(Finding {
                id: None,
                unit: unit.code.clone(),
                check: coverage.check.id.to_owned(),
                source: Source::Crawler,
                observed_at: at,
                url: address,
                detail: json!({ "reason": reason }),
                status: FindingStatus::Open,
                rectify_by: None,
            });
        }
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
        // Website coverage only here (a catalogue run of one unit also marks the others'
        // catalogues: the next test).
        let checks = |n: usize| -> Vec<String> {
            evidence[&units[n].code]
                .findings
                .iter()
                .filter(|f| f.check == SITE_UNCHECKED.id)
                .map(|f| f.check.clone())
                .collect()
        };
        assert!(checks(0).is_empty(), "the crawled unit keeps its own evidence");
        assert_eq!(checks(1), [SITE_UNCHECKED.id], "a catalogue run is no website evidence");
        assert_eq!(checks(2), [SITE_UNCHECKED.id], "a unit with no evidence at all");
        let added = &evidence[&units[2].code].findings[0];
        assert_eq!((added.source, added.observed_at), (Source::Crawler, at));
        assert_eq!(added.url.as_deref(), Some("http://u3.example.cn/"));
    }

    #[test]
    fn a_unit_no_catalogue_crawl_reached_or_without_a_catalogue_is_unchecked() {
        let mut units = [unit(1), unit(2), unit(3)];
        units[1].catalogue_url = Some("http://u2.example.cn/xxgk/".into());
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).single().expect("time");
        let mut evidence = BTreeMap::from([
            (units[0].code.clone(), crawled(&["site", "catalogue"])),
            (units[1].code.clone(), crawled(&["site"])),
            (units[2].code.clone(), crawled(&["site"])),
        ]);
        mark_uncrawled(&units, &mut evidence, at);
        let findings = |n: usize| evidence[&units[n].code].findings.clone();
        assert!(findings(0).is_empty(), "the crawled unit keeps its own evidence");
        let (missed, unregistered) = (findings(1), findings(2));
        assert_eq!(missed.len(), 1);
        assert_eq!(missed[0].check, CATALOGUE_UNCHECKED.id);
        assert_eq!(missed[0].url.as_deref(), Some("http://u2.example.cn/xxgk/"));
        assert!(missed[0].detail["reason"].as_str().is_some_and(|r| r.contains("未抓取")));
        assert_eq!(unregistered.len(), 1);
        assert_eq!(unregistered[0].url, None);
        assert!(unregistered[0].detail["reason"].as_str().is_some_and(|r| r.contains("未登记")));
    }

    #[test]
    fn nothing_is_marked_while_no_website_was_crawled() {
        let units = [unit(1), unit(2)];
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).single().expect("time");
        let mut evidence = BTreeMap::from([(units[0].code.clone(), crawled(&["probe"]))]);
        mark_uncrawled(&units, &mut evidence, at);
        assert!(evidence.values().all(|e| e.findings.is_empty()));
        // A catalogue crawl marks the catalogues it did not reach, and still no website.
        let mut evidence = BTreeMap::from([(units[0].code.clone(), crawled(&["catalogue"]))]);
        mark_uncrawled(&units, &mut evidence, at);
        let checks: Vec<&str> =
            evidence.values().flat_map(|e| e.findings.iter().map(|f| f.check.as_str())).collect();
        assert_eq!(checks, [CATALOGUE_UNCHECKED.id]);
    }
}
