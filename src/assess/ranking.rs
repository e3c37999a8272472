//! Ranking a cycle: overall and within each unit kind (ties share a rank), the change since the
//! previous cycle, laggard flags with their reasons, and how a supervising unit's subordinates
//! stand (the report's "supervising departments that do not push their subordinate units").

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::LaggardCriteria;
use crate::model::{Unchecked, Unit, UnitKind};
use crate::rules::{Score, SelfAssessmentGap};

/// One unit's scored result before ranking.
#[derive(Debug, Clone)]
pub struct ScoredUnit {
    /// The unit as registered.
    pub unit: Unit,
    /// Its score under the cycle's rule set. After [`ScoredUnit::fold_explanation`] (which
    /// [`super::score_units`] does) the explanation's tree is empty: read `explanation_json`.
    pub score: Score,
    /// Laggard reasons from the unit's own evidence (not started, on-and-off, overdue).
    pub evidence_reasons: Vec<String>,
    /// The met veto item's label as the tree gives it, read before the tree is folded.
    pub veto_label: Option<String>,
    /// How the unit's self-assessment compares with what was verified, read from the tree.
    pub self_assessment: Option<SelfAssessmentGap>,
    /// The explanation as JSON text once folded; `None` while the tree is in `score`.
    pub explanation_json: Option<String>,
}

impl ScoredUnit {
    /// A scored unit, with what ranking needs from the explanation tree read out of it.
    pub fn new(unit: Unit, score: Score, evidence_reasons: Vec<String>) -> Self {
        let veto_label = score.veto.as_deref().map(|veto| veto_label(&score, veto));
        let self_assessment = score.self_assessment_gap();
        Self { unit, score, evidence_reasons, veto_label, self_assessment, explanation_json: None }
    }

    /// Turns the explanation tree into its JSON text and drops the tree (its stamp stays). A
    /// province's trees take several times the memory of their text, and a cycle only stores
    /// the text.
    pub fn fold_explanation(&mut self) -> serde_json::Result<()> {
        if self.explanation_json.is_none() {
            self.explanation_json = Some(serde_json::to_string(&self.score.explanation)?);
            let explanation = &mut self.score.explanation;
            explanation.warnings = Vec::new();
            explanation.root.children = Vec::new();
            explanation.root.notes = Vec::new();
            explanation.root.evidence = Vec::new();
        }
        Ok(())
    }

    /// The unit's code and its explanation as JSON text (the folded text, or the tree's).
    pub fn into_explanation_json(self) -> serde_json::Result<(String, String)> {
        let text = match self.explanation_json {
            Some(text) => text,
            None => serde_json::to_string(&self.score.explanation)?,
        };
        Ok((self.unit.code.into(), text))
    }
}

/// How a supervising unit's subordinates stand in the same cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Subordinates {
    /// How many units name this one as their supervising unit (direct subordinates only).
    pub count: u32,
    /// How many of them are flagged as laggards this cycle.
    pub laggards: u32,
    /// Their mean total, rounded to two decimal places.
    pub average: Decimal,
}

/// One row of a ranking. The JSON field names are stable (scripts rely on them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RankedScore {
    /// The unit's unified social credit code (统一社会信用代码).
    pub unit: String,
    /// The unit's registered name.
    pub name: String,
    /// The unit's kind; `rank_in_kind` ranks within it.
    pub kind: UnitKind,
    /// The supervising unit's credit code, if the unit has one.
    pub parent_code: Option<String>,
    /// The total score under the cycle's rule set.
    pub score: Decimal,
    /// The grade band the total falls in (e.g. 优秀), if the rule set defines bands.
    pub grade: Option<String>,
    /// The id of the veto item that zeroed the score, if any.
    pub veto: Option<String>,
    /// No veto and a total at or above the pass mark.
    pub passed: bool,
    /// Overall rank, 1 = best; ties share a rank and skip the next ("1224").
    pub rank: u32,
    /// Rank among units of the same kind, same tie rule.
    pub rank_in_kind: u32,
    /// Overall rank in the previous cycle, if the unit was ranked then.
    pub previous_rank: Option<u32>,
    /// Places gained (positive) or lost (negative) since the previous cycle.
    pub rank_change: Option<i64>,
    /// At least one laggard criterion applies; `reasons` says which.
    pub laggard: bool,
    /// Why the unit is flagged, one Chinese sentence per criterion met; empty when not a laggard.
    pub reasons: Vec<String>,
    /// How the unit's direct subordinates stand; `None` for units that supervise none.
    pub subordinates: Option<Subordinates>,
    /// Points the unit claimed in its self-assessment, and points beyond what was verified.
    pub self_claimed: Option<Decimal>,
    /// Points claimed beyond those verified, zero when the unit did not over-claim.
    pub over_claim: Option<Decimal>,
    /// What could not be checked (未能核查); empty when the unit's evidence is complete.
    #[serde(default)]
    pub unchecked: Vec<Unchecked>,
}

/// Competition ranking ("1224"): a unit's rank is one more than the number of units with a
/// strictly better key, so equal keys share a rank and the next rank is skipped. Sorting
/// keeps it O(n log n) for a province's 14,000 units.
fn competition_ranks<K: Ord>(scores: &[K]) -> Vec<u32> {
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
    // The ranking key: the total, then whether everything could be checked. A unit that could
    // not be checked (未能核查) never ranks above a checked unit with the same total; its
    // zeroed indicators (the rule set's `[unchecked]`) keep it below healthy ones.
    let keys: Vec<(Decimal, bool)> =
        scored.iter().map(|s| (s.score.total, s.score.unchecked.is_empty())).collect();
    let overall = competition_ranks(&keys);
    let mut in_kind = vec![0; scored.len()];
    let mut by_kind: BTreeMap<UnitKind, Vec<usize>> = BTreeMap::new();
    for (i, s) in scored.iter().enumerate() {
        by_kind.entry(s.unit.kind).or_default().push(i);
    }
    for indices in by_kind.values() {
        let kind_keys: Vec<(Decimal, bool)> = indices.iter().map(|i| keys[*i]).collect();
        for (i, r) in indices.iter().zip(competition_ranks(&kind_keys)) {
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
                reasons.push(format!("单项否决：{}", s.veto_label.as_deref().unwrap_or(veto)));
            }
            if criteria.unchecked && !s.score.unchecked.is_empty() {
                let what: Vec<String> = s.score.unchecked.iter().map(Unchecked::summary_zh).collect();
                reasons.push(format!("未能核查（{}）", what.join("；")));
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
            let gap = s.self_assessment;
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
                unchecked: s.score.unchecked.clone(),
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
    use crate::model::check::{
        CATALOGUE_CLASS_MISSING, CATALOGUE_UNCHECKED, CATALOGUE_UNREACHABLE, COLUMN_EMPTY, COLUMN_MISSING,
        COLUMN_STALE, IDENTITY_MISSING, LINK_BROKEN, SITE_UNCHECKED, SITE_UNREACHABLE,
    };

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
        let rules = crate::rules::shipped::GOV_WEBSITE_2019;
        let rules = crate::rules::RuleSet::parse(rules.text, rules.path).expect("shipped rules");
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
                        check: LINK_BROKEN.id.into(),
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
                ScoredUnit::new(unit, score, Vec::new())
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

    type Found = (&'static str, crate::model::Source, usize);

    /// A department's evidence in a test: findings, metrics, and whether it claims full marks.
    struct Case {
        n: u32,
        findings: &'static [Found],
        metrics: &'static [(&'static str, i64)],
        full_claims: bool,
    }

    /// A department scored under a shipped rule set, as of a day the set is in force.
    fn scored(rules: &crate::rules::RuleSet, case: &Case) -> ScoredUnit {
        use crate::model::{Finding, FindingStatus, SelfClaim, UnitEvidence, synthetic_credit_code};
        let code = synthetic_credit_code("450100", case.n).expect("code");
        let unit = Unit {
            code: code.clone(),
            name: format!("单位{}", case.n),
            kind: UnitKind::Department,
            parent_code: None,
            website: Some(format!("http://u{}.example.cn/", case.n)),
            catalogue_url: None,
            email: None,
        };
        let as_of =
            rules.in_force().until.unwrap_or(chrono::NaiveDate::from_ymd_opt(2019, 12, 31).expect("date"));
        let observed = as_of.and_hms_opt(0, 0, 0).expect("time").and_utc();
        let mut evidence = UnitEvidence::default();
        for (check, source, count) in case.findings {
            for _ in 0..*count {
                evidence.findings.push(Finding {
                    id: None,
                    unit: code.clone(),
                    check: (*check).into(),
                    source: *source,
                    observed_at: observed,
                    url: Some(format!("http://u{}.example.cn/", case.n)),
                    detail: serde_json::json!({ "reason": "网站首页无法访问", "error": "连接被拒绝" }),
                    status: FindingStatus::Open,
                    rectify_by: None,
                });
            }
        }
        for (name, value) in case.metrics {
            evidence.metrics.insert((*name).into(), Decimal::from(*value));
        }
        if case.full_claims {
            for (item, claimed) in
                [("organisation", 20), ("proactive", 40), ("application", 20), ("supervision", 20)]
            {
                let claimed = Decimal::from(claimed);
                evidence.self_claims.push(SelfClaim {
                    unit: code.clone(),
                    item: item.into(),
                    claimed,
                    note: None,
                });
            }
        }
        let score = rules.score(&unit, &evidence, as_of);
        ScoredUnit::new(unit, score, Vec::new())
    }

    #[test]
    fn a_dead_site_never_outranks_a_healthy_one_under_both_shipped_rule_sets() {
        use crate::model::Source::{Crawler, Inspector};
        const DEAD: &[Found] = &[
            (SITE_UNREACHABLE.id, Crawler, 1),
            (SITE_UNCHECKED.id, Crawler, 1),
            (CATALOGUE_UNREACHABLE.id, Crawler, 1),
            (CATALOGUE_UNCHECKED.id, Crawler, 1),
        ];
        // Checked units whose many problems cost exactly what the dead site lost: 75 points
        // under the national rules (25 left: 25 + 15 + 15 + 20 lost, each capped), and under the
        // city's rules no self-assessment plus 50 points lost on site
        // (0.2 × 0 + 0.4 × 100 + 0.4 × 50 = 60, the dead unit's 0.2 × 100 + 0.4 × 0 + 0.4 × 100).
        const POOR_GOV: &[Found] = &[
            (COLUMN_MISSING.id, Crawler, 5),
            (COLUMN_EMPTY.id, Crawler, 4),
            (COLUMN_STALE.id, Crawler, 8),
            (CATALOGUE_UNREACHABLE.id, Crawler, 1),
            (CATALOGUE_CLASS_MISSING.id, Crawler, 5),
            (LINK_BROKEN.id, Crawler, 20),
            (IDENTITY_MISSING.id, Crawler, 3),
            ("field.search_unusable", Inspector, 1),
            ("field.interaction_results_hidden", Inspector, 2),
        ];
        const POOR_CITY: &[Found] = &[
            ("field.no_staff", Inspector, 1),
            ("field.system_missing", Inspector, 3),
            ("field.paper_docs_late", Inspector, 1),
            ("field.complaint_unhandled", Inspector, 2),
            ("field.no_appraisal", Inspector, 1),
            ("field.no_accountability", Inspector, 1),
            ("field.application_no_channel", Inspector, 1),
        ];
        let parse =
            |text: &str, origin: &str| crate::rules::RuleSet::parse(text, origin).expect("shipped rules");
        let (gov, city) =
            (crate::rules::shipped::GOV_WEBSITE_2019, crate::rules::shipped::CITY_DISCLOSURE_2009);
        let (gov, city) = (parse(gov.text, gov.path), parse(city.text, city.path));
        let received: &'static [(&'static str, i64)] = &[("application.received", 12)];
        let sets = [
            (
                &gov,
                [
                    Case { n: 2, findings: DEAD, metrics: &[], full_claims: false },
                    Case { n: 1, findings: &[], metrics: &[], full_claims: false },
                    Case {
                        n: 3,
                        findings: POOR_GOV,
                        metrics: &[("interaction.avg_reply_days", 30)],
                        full_claims: false,
                    },
                ],
                [25, 100, 25],
            ),
            (
                &city,
                [
                    Case { n: 2, findings: DEAD, metrics: received, full_claims: true },
                    Case { n: 1, findings: &[], metrics: received, full_claims: true },
                    Case { n: 3, findings: POOR_CITY, metrics: received, full_claims: false },
                ],
                [60, 100, 60],
            ),
        ];
        let criteria = LaggardCriteria::shipped();
        for (rules, cases, totals) in sets {
            // The dead unit comes first, so that only the ranking key can put it last.
            let units: Vec<ScoredUnit> = cases.iter().map(|c| scored(rules, c)).collect();
            let actual: Vec<Decimal> = units.iter().map(|u| u.score.total).collect();
            assert_eq!(actual, totals.map(Decimal::from), "{}", rules.id());
            let rows = rank(&units, &HashMap::new(), &criteria, rules.pass_mark());
            let order: Vec<(&str, u32)> = rows.iter().map(|r| (r.name.as_str(), r.rank)).collect();
            assert_eq!(order, [("单位1", 1), ("单位3", 2), ("单位2", 3)], "{}: {rows:#?}", rules.id());
            let dead = &rows[2];
            assert_eq!(dead.unchecked.len(), 2, "{}", rules.id());
            assert_eq!(dead.rank_in_kind, 3, "the same key orders the unit's kind");
            assert!(dead.laggard, "{}", rules.id());
            assert!(
                dead.reasons.iter().any(|r| r.starts_with("未能核查（")
                    && r.contains("网站未能核查：网站首页无法访问（连接被拒绝）")),
                "{}: {:?}",
                rules.id(),
                dead.reasons
            );
            assert!(rows[0].unchecked.is_empty() && rows[1].unchecked.is_empty());
        }
    }

    #[test]
    fn unchecked_units_with_equal_totals_share_a_rank_after_the_checked_ones() {
        let keys = [
            (Decimal::from(60), false),
            (Decimal::from(60), true),
            (Decimal::from(60), false),
            (Decimal::from(59), true),
        ];
        assert_eq!(competition_ranks(&keys), vec![2, 1, 2, 4]);
    }

    #[test]
    fn all_equal_scores_are_all_first() {
        let scores = vec![Decimal::from(60); 4];
        assert_eq!(competition_ranks(&scores), vec![1, 1, 1, 1]);
    }
}
