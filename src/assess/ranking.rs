//! Ranking a cycle: overall and within each unit kind (ties share a rank), the change since the
//! previous cycle, laggard flags with their reasons, and how a supervising unit's subordinates
//! stand (the report's "supervising departments that do not push their subordinate units").

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::LaggardCriteria;
use crate::model::{Unit, UnitKind};
use crate::rules::Score;

/// One unit's scored result before ranking.
#[derive(Debug, Clone)]
pub struct ScoredUnit {
    pub unit: Unit,
    pub score: Score,
    /// Laggard reasons from the unit's own evidence (not started, on-and-off, overdue).
    pub evidence_reasons: Vec<String>,
}

/// How a supervising unit's subordinates stand in the same cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subordinates {
    pub count: u32,
    pub laggards: u32,
    pub average: Decimal,
}

/// One row of a ranking. The JSON field names are stable (scripts rely on them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedScore {
    pub unit: String,
    pub name: String,
    pub kind: UnitKind,
    pub parent_code: Option<String>,
    pub score: Decimal,
    pub grade: Option<String>,
    pub veto: Option<String>,
    pub passed: bool,
    pub rank: u32,
    pub rank_in_kind: u32,
    pub previous_rank: Option<u32>,
    /// Places gained (positive) or lost (negative) since the previous cycle.
    pub rank_change: Option<i64>,
    pub laggard: bool,
    pub reasons: Vec<String>,
    pub subordinates: Option<Subordinates>,
    /// Points the unit claimed in its self-assessment, and points beyond what was verified.
    pub self_claimed: Option<Decimal>,
    pub over_claim: Option<Decimal>,
}

/// Competition ranking ("1224"): a unit's rank is one more than the number of units with a
/// strictly higher score, so equal scores share a rank and the next rank is skipped. Sorting
/// keeps it O(n log n) for a province's 14,000 units.
fn competition_ranks(scores: &[Decimal]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|a, b| scores[*b].cmp(&scores[*a]));
    let mut ranks = vec![0; scores.len()];
    let mut current = 0;
    for (position, index) in order.iter().enumerate() {
        if position == 0 || scores[*index] != scores[order[position - 1]] {
            current = position as u32 + 1;
        }
        ranks[*index] = current;
    }
    ranks
}

/// Ranks one cycle. `previous_ranks` maps unit codes to their overall rank in the previous
/// cycle; `pass_mark` is the rule set's. Rows come back best first, ties by code.
pub fn rank(
    scored: &[ScoredUnit],
    previous_ranks: &HashMap<String, u32>,
    criteria: &LaggardCriteria,
    pass_mark: Decimal,
) -> Vec<RankedScore> {
    let totals: Vec<Decimal> = scored.iter().map(|s| s.score.total).collect();
    let overall = competition_ranks(&totals);
    let mut in_kind = vec![0; scored.len()];
    let mut by_kind: BTreeMap<UnitKind, Vec<usize>> = BTreeMap::new();
    for (i, s) in scored.iter().enumerate() {
        by_kind.entry(s.unit.kind).or_default().push(i);
    }
    for indices in by_kind.values() {
        let kind_totals: Vec<Decimal> = indices.iter().map(|i| totals[*i]).collect();
        for (i, r) in indices.iter().zip(competition_ranks(&kind_totals)) {
            in_kind[*i] = r;
        }
    }

    let n = scored.len() as u32;
    // Bottom N %: the last ceil(n × N / 100) places.
    let bottom_places = (u64::from(n) * u64::from(criteria.bottom_percent)).div_ceil(100) as u32;
    let mut rows: Vec<RankedScore> = scored
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let code = s.unit.code.to_string();
            let previous_rank = previous_ranks.get(&code).copied();
            let rank_change = previous_rank.map(|p| i64::from(p) - i64::from(overall[i]));
            let mut reasons = Vec::new();
            if criteria.veto
                && let Some(veto) = &s.score.veto
            {
                reasons.push(format!("单项否决：{}", veto_label(&s.score, veto)));
            }
            if criteria.below_pass_mark && s.score.veto.is_none() && s.score.total < pass_mark {
                reasons.push(format!("低于合格线（{} < {}）", s.score.total, pass_mark));
            }
            if bottom_places > 0 && overall[i] > n - bottom_places {
                reasons.push(format!(
                    "总排名位于后 {}%（第 {} / {} 名）",
                    criteria.bottom_percent, overall[i], n
                ));
            }
            if criteria.drop_places > 0
                && let Some(change) = rank_change.filter(|c| *c <= -i64::from(criteria.drop_places))
            {
                reasons.push(format!("名次比上一周期下降 {} 位", -change));
            }
            let gap = s.score.self_assessment_gap();
            if let (Some(threshold), Some(gap)) = (criteria.over_claim_at_least, gap)
                && gap.over_claim() >= threshold
            {
                reasons.push(format!(
                    "自评 {} 分，核定 {} 分，高报 {} 分",
                    gap.claimed,
                    gap.granted,
                    gap.over_claim()
                ));
            }
            reasons.extend(s.evidence_reasons.iter().cloned());
            RankedScore {
                unit: code,
                name: s.unit.name.clone(),
                kind: s.unit.kind,
                parent_code: s.unit.parent_code.as_ref().map(ToString::to_string),
                score: s.score.total,
                grade: s.score.grade.clone(),
                veto: s.score.veto.clone(),
                passed: s.score.passed,
                rank: overall[i],
                rank_in_kind: in_kind[i],
                previous_rank,
                rank_change,
                laggard: !reasons.is_empty(),
                reasons,
                subordinates: None,
                self_claimed: gap.map(|g| g.claimed),
                over_claim: gap.map(|g| g.over_claim()),
            }
        })
        .collect();
    attach_subordinates(&mut rows);
    rows.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.unit.cmp(&b.unit)));
    rows
}

/// The veto's label as the explanation tree gives it, falling back to its id.
fn veto_label(score: &Score, veto: &str) -> String {
    score
        .explanation
        .root
        .find(crate::rules::NodeKind::Veto, veto)
        .map_or_else(|| veto.to_string(), |node| node.label.clone())
}

/// Fills in each supervising unit's summary of its direct subordinates in this cycle.
fn attach_subordinates(rows: &mut [RankedScore]) {
    let mut children: HashMap<String, (u32, u32, Decimal)> = HashMap::new();
    for row in rows.iter() {
        if let Some(parent) = &row.parent_code {
            let entry = children.entry(parent.clone()).or_insert((0, 0, Decimal::ZERO));
            entry.0 += 1;
            entry.1 += u32::from(row.laggard);
            entry.2 += row.score;
        }
    }
    for row in rows.iter_mut() {
        if let Some((count, laggards, sum)) = children.get(&row.unit) {
            row.subordinates = Some(Subordinates {
                count: *count,
                laggards: *laggards,
                average: (sum / Decimal::from(*count)).round_dp(2),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_a_rank_and_skip_the_next() {
        let scores: Vec<Decimal> = [90, 85, 90, 70, 85].iter().map(|s| Decimal::from(*s)).collect();
        assert_eq!(competition_ranks(&scores), vec![1, 3, 1, 5, 3]);
    }

    #[test]
    fn ranks_match_the_definition_on_many_scores() {
        // The definition: one more than the number of strictly higher scores.
        let scores: Vec<Decimal> = (0..500u32).map(|i| Decimal::new(i64::from(i * 7919 % 97), 1)).collect();
        let expected: Vec<u32> =
            scores.iter().map(|s| 1 + scores.iter().filter(|o| *o > s).count() as u32).collect();
        assert_eq!(competition_ranks(&scores), expected);
    }

    /// Ten units under the shipped national rules; unit i has i broken links (0.5 points each).
    fn scored_units() -> Vec<ScoredUnit> {
        use crate::model::{Finding, FindingStatus, Source, UnitEvidence, synthetic_credit_code};
        let rules = crate::rules::RuleSet::parse(
            include_str!("../../scoring-rules/gov-website-2019.toml"),
            "gov-website-2019.toml",
        )
        .expect("shipped rules");
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        (0..10u32)
            .map(|i| {
                let code = synthetic_credit_code("450100", i + 1).expect("code");
                let unit = Unit {
                    code: code.clone(),
                    name: format!("单位{i}"),
                    kind: UnitKind::Department,
                    parent_code: None,
                    website: None,
                    catalogue_url: None,
                    email: None,
                };
                let findings = (0..i)
                    .map(|_| Finding {
                        id: None,
                        unit: code.clone(),
                        check: "link.broken".into(),
                        source: Source::Crawler,
                        observed_at: chrono::DateTime::from_timestamp(1_795_000_000, 0).expect("time"),
                        url: None,
                        detail: serde_json::json!({}),
                        status: FindingStatus::Open,
                        rectify_by: None,
                    })
                    .collect();
                let evidence = UnitEvidence { findings, ..UnitEvidence::default() };
                let score = rules.score(&unit, &evidence, as_of);
                ScoredUnit { unit, score, evidence_reasons: Vec::new() }
            })
            .collect()
    }

    #[test]
    fn bottom_percent_and_drops_flag_the_right_units() {
        let scored = scored_units();
        let criteria = LaggardCriteria { bottom_percent: 20, drop_places: 3, ..LaggardCriteria::default() };
        // Unit 0 was last before and is first now; unit 5 was first and is sixth now (−5).
        let code = |i: usize| scored[i].unit.code.to_string();
        let previous: HashMap<String, u32> = [(code(0), 10), (code(5), 1)].into_iter().collect();
        let rows = rank(&scored, &previous, &criteria, Decimal::from(60));
        let flagged: Vec<String> = rows.iter().filter(|r| r.laggard).map(|r| r.unit.clone()).collect();
        assert_eq!(flagged, vec![code(5), code(8), code(9)], "{rows:#?}");
        let five = rows.iter().find(|r| r.unit == code(5)).expect("unit 5");
        assert_eq!((five.rank, five.rank_change), (6, Some(-5)));
        assert!(five.reasons.iter().any(|r| r.contains("下降 5 位")), "{:?}", five.reasons);
        let zero = rows.iter().find(|r| r.unit == code(0)).expect("unit 0");
        assert_eq!((zero.rank, zero.rank_change, zero.laggard), (1, Some(9), false));
    }

    #[test]
    fn all_equal_scores_are_all_first() {
        let scores = vec![Decimal::from(60); 4];
        assert_eq!(competition_ranks(&scores), vec![1, 1, 1, 1]);
    }
}
