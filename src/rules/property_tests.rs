//! Properties that hold for any evidence: a score stays within its bounds, and the order
//! of the evidence never changes it.

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::model::{Finding, FindingStatus, SelfClaim, Source, UnitEvidence, UnitKind};

use super::RuleSet;
use super::golden_tests::{city, code, gov, unit};

const CHECKS: &[&str] = &[
    "site.unreachable",
    "home.stale",
    "column.missing",
    "column.empty",
    "column.stale",
    "link.broken",
    "content.spam",
    "identity.missing",
    "report.annual_missing",
    "interaction.unanswered",
    "catalogue.unreachable",
    "catalogue.class_missing",
    "catalogue.index_invalid",
    "catalogue.index_duplicate",
    "catalogue.metadata_missing",
    "catalogue.stale",
    "field.no_staff",
    "field.paper_docs_late",
    "field.search_unusable",
    "field.service_online_unavailable",
    "field.application_late",
    "field.unknown_to_both",
];

const METRICS: &[&str] = &[
    "site.failure_ratio",
    "site.probe_days",
    "site.min_daily_probes",
    "home.days_since_update",
    "unit.public_services",
    "interaction.avg_reply_days",
    "review.interpretation",
    "review.service",
    "review.interaction",
    "review.innovation",
    "application.received",
    "application.max_reply_working_days",
    "catalogue.longest_gap_days",
];

const ITEMS: &[&str] = &["organisation", "proactive", "application", "supervision", "nope"];

fn finding() -> impl Strategy<Value = Finding> {
    (
        0..CHECKS.len(),
        prop_oneof![Just(Source::Crawler), Just(Source::Inspector), Just(Source::SelfReported)],
        prop_oneof![
            Just(FindingStatus::Open),
            Just(FindingStatus::Rectified),
            Just(FindingStatus::Disputed),
            Just(FindingStatus::Confirmed),
            Just(FindingStatus::Closed)
        ],
        0i64..800,
        prop_oneof![Just("news"), Just("notice"), Just("plan")],
        0u32..5,
    )
        .prop_map(|(check, source, status, days_ago, cadence, n)| {
            let on =
                NaiveDate::from_ymd_opt(2010, 3, 31).unwrap_or_default() - chrono::Duration::days(days_ago);
            Finding {
                id: Some(format!("f{n}")),
                unit: code(),
                check: CHECKS[check].to_string(),
                source,
                observed_at: Utc.from_utc_datetime(&on.and_time(NaiveTime::MIN)),
                url: Some(format!("http://x.gov.cn/{n}")),
                detail: serde_json::json!({ "cadence": cadence }),
                status,
                rectify_by: None,
            }
        })
}

/// Decimals from -5.00 to 400.00 in hundredths: exact, no floats.
fn decimal() -> impl Strategy<Value = Decimal> {
    (-500i64..40_000).prop_map(|n| Decimal::new(n, 2))
}

fn evidence() -> impl Strategy<Value = UnitEvidence> {
    (
        prop::collection::vec(finding(), 0..40),
        prop::collection::btree_map(prop::sample::select(METRICS), decimal(), 0..8),
        prop::collection::vec((prop::sample::select(ITEMS), decimal()), 0..6),
    )
        .prop_map(|(findings, metrics, claims)| UnitEvidence {
            findings,
            metrics: metrics.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            self_claims: claims
                .into_iter()
                .map(|(item, claimed)| SelfClaim {
                    unit: code(),
                    item: item.to_string(),
                    claimed,
                    note: None,
                })
                .collect(),
            crawled: Default::default(),
        })
}

fn kind() -> impl Strategy<Value = UnitKind> {
    prop::sample::select(UnitKind::ALL.to_vec())
}

fn check_bounds(
    rules: &RuleSet,
    kind: UnitKind,
    ev: &UnitEvidence,
    as_of: NaiveDate,
) -> Result<(), TestCaseError> {
    let s = rules.score(&unit(kind), ev, as_of);
    prop_assert!(s.total >= Decimal::ZERO, "{} < 0", s.total);
    prop_assert!(s.total <= rules.max_total(), "{} > {}", s.total, rules.max_total());
    prop_assert!(s.veto.is_none() || s.total.is_zero());
    prop_assert_eq!(s.passed, s.veto.is_none() && s.total >= rules.pass_mark());
    Ok(())
}

fn check_order(
    rules: &RuleSet,
    kind: UnitKind,
    ev: &UnitEvidence,
    as_of: NaiveDate,
) -> Result<(), TestCaseError> {
    let forward = rules.score(&unit(kind), ev, as_of);
    let mut reversed = ev.clone();
    reversed.findings.reverse();
    reversed.self_claims.reverse();
    let mut rotated = ev.clone();
    if !rotated.findings.is_empty() {
        let len = rotated.findings.len();
        rotated.findings.rotate_left((len / 2 + 1) % len);
    }
    prop_assert_eq!(&forward, &rules.score(&unit(kind), &reversed, as_of));
    prop_assert_eq!(&forward, &rules.score(&unit(kind), &rotated, as_of));
    Ok(())
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2010, 3, 31).unwrap_or_default()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn national_score_stays_within_bounds(kind in kind(), ev in evidence()) {
        check_bounds(&gov(), kind, &ev, as_of())?;
    }

    #[test]
    fn city_score_stays_within_bounds(kind in kind(), ev in evidence()) {
        check_bounds(&city(), kind, &ev, as_of())?;
    }

    #[test]
    fn national_score_ignores_evidence_order(kind in kind(), ev in evidence()) {
        check_order(&gov(), kind, &ev, as_of())?;
    }

    #[test]
    fn city_score_ignores_evidence_order(kind in kind(), ev in evidence()) {
        check_order(&city(), kind, &ev, as_of())?;
    }

    #[test]
    fn shuffled_evidence_scores_the_same(ev in evidence(), seed in any::<u64>()) {
        let rules = gov();
        let mut shuffled = ev.clone();
        // A deterministic Fisher–Yates driven by the seed.
        let mut state = seed | 1;
        for i in (1..shuffled.findings.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let j = (state % (i as u64 + 1)) as usize;
            shuffled.findings.swap(i, j);
        }
        let u = unit(UnitKind::Department);
        prop_assert_eq!(rules.score(&u, &ev, as_of()), rules.score(&u, &shuffled, as_of()));
    }
}
