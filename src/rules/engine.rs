//! The scoring engine: vetoes, then not-applicable handling, then each weighted
//! assessment method over the capped indicators, then the gated bonus.
//!
//! Pure and deterministic: the same rule set, evidence and as-of day always give the same
//! score, whatever order the evidence comes in. Every point is a `Decimal`; rounding to the
//! rule set's decimals (half away from zero) happens once for the base score and once for
//! the bonus, so what a unit reads adds up.

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::model::{Finding, Unchecked, Unit, UnitEvidence, is_missing_evidence};

use super::evidence::{ALL_SOURCES, Context, View, counted};
use super::explain::{Explanation, Node, NodeKind, Score};
use super::expr::Expr;
use super::spec::{Component, ComponentBasis, Indicator, Line, LineRule, NaMethod};
use super::validate::Validated;

pub(super) fn score(
    rs: &Validated,
    hash: &str,
    unit: &Unit,
    evidence: &UnitEvidence,
    as_of: NaiveDate,
) -> Score {
    let mut warnings = Vec::new();
    if !rs.meta.applies_to.contains(&unit.kind) {
        warnings.push(format!("本规则集不适用于“{}”类单位", unit.kind.label_zh()));
    }
    if !rs.meta.in_force.contains(as_of) {
        warnings.push(format!("评估日期 {as_of} 不在本规则集的有效期内"));
    }
    let ignored = evidence.findings.iter().filter(|f| f.unit != unit.code).count();
    if ignored > 0 {
        warnings.push(format!("有 {ignored} 条问题记录属于其他单位，未计入"));
    }
    let findings = counted(rs, unit, evidence, as_of);
    let global =
        Context::new(rs, unit, evidence, View::new(&findings, &ALL_SOURCES, &rs.sources), true, as_of);
    let unchecked = unchecked(rs, &findings);
    let mut s = Scorer { rs, hash, warnings, as_of, unchecked };

    let mut root = Node::new(NodeKind::Assessment, rs.meta.id.clone(), rs.meta.title.clone());
    root.available = Some(rs.meta.points);
    for missing in &s.unchecked {
        root.notes.push(format!("未能核查：{}", missing.summary_zh()));
    }
    for (check, winner, loser) in &global.view.overruled {
        root.notes.push(format!(
            "检查项 {check}：{} 与 {} 均有记录，以 {} 为准",
            source_zh(*winner),
            source_zh(*loser),
            source_zh(*winner)
        ));
    }

    // 1. Vetoes: any one met fails the unit, no further scoring.
    let (veto, veto_node) = s.vetoes(&global);
    root.children.push(veto_node);
    if let Some(veto) = veto {
        let total = Decimal::ZERO;
        root.score = Some(total);
        root.notes.push("触发单项否决，不再计分".to_string());
        return s.finish(unit, root, total, Some(veto));
    }

    // 2. Not-applicable indicators and the points each applicable one carries.
    let (points, na_node) = s.not_applicable(&global);
    let applicable: Decimal = points.iter().flatten().sum();
    if let Some(node) = na_node {
        root.children.push(node);
    }

    // 3. Each assessment method, weighted.
    let mut base = Decimal::ZERO;
    for component in &rs.components {
        let (component_score, node) = s.component(component, &points, applicable, unit, evidence, &findings);
        base += component.weight * component_score;
        root.children.push(node);
    }
    let base = round(base, rs.meta.decimals).clamp(Decimal::ZERO, rs.meta.points);
    root.score = Some(base);

    // 4. Bonus, counted only above the gate.
    let mut total = base;
    if let Some(bonus) = &rs.bonus {
        let mut node = Node::new(NodeKind::Bonus, "bonus", "加分项");
        node.available = Some(bonus.max);
        if base > bonus.above {
            let mut sum = Decimal::ZERO;
            for item in &bonus.items {
                let (points, mut child) = s.line(item, &global, NodeKind::BonusItem);
                if points > Decimal::ZERO {
                    child.gained = Some(points);
                    sum += points;
                    node.children.push(child);
                }
            }
            let gained = round(sum.min(bonus.max), rs.meta.decimals);
            if sum > bonus.max {
                node.cap = Some(bonus.max);
                node.notes.push(format!(
                    "加分合计 {} 分，超过上限 {} 分，按 {} 分计",
                    sum.normalize(),
                    bonus.max,
                    bonus.max
                ));
            }
            node.gained = Some(gained);
            total += gained;
        } else {
            node.gained = Some(Decimal::ZERO);
            node.notes.push(format!("基础得分 {base} 分未超过 {} 分，加分项不计", bonus.above));
        }
        root.children.push(node);
    }
    s.finish(unit, root, total, None)
}

/// The missing evidence among the counted findings: every check that records it (the
/// vocabulary's, and those the rule set's `[unchecked]` section names), one entry per check,
/// from its latest finding. The findings come in canonical order, so the choice is stable.
fn unchecked(rs: &Validated, findings: &[&Finding]) -> Vec<Unchecked> {
    let mut latest: Vec<&Finding> = Vec::new();
    for f in findings {
        if !is_missing_evidence(&f.check) && !rs.unchecked.iter().any(|u| u.check == f.check) {
            continue;
        }
        match latest.iter_mut().find(|l| l.check == f.check) {
            Some(slot) if f.observed_at >= slot.observed_at => *slot = f,
            Some(_) => {}
            None => latest.push(f),
        }
    }
    latest
        .into_iter()
        .map(|f| Unchecked::from_finding(f, rs.checks.get(&f.check).map_or(f.check.as_str(), String::as_str)))
        .collect()
}

fn round(value: Decimal, decimals: u32) -> Decimal {
    value.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero)
}

fn source_zh(source: crate::model::Source) -> &'static str {
    match source {
        crate::model::Source::Crawler => "网站监测",
        crate::model::Source::Inspector => "实地检查",
        crate::model::Source::SelfReported => "单位自评",
    }
}

struct Scorer<'r> {
    rs: &'r Validated,
    hash: &'r str,
    warnings: Vec<String>,
    as_of: NaiveDate,
    unchecked: Vec<Unchecked>,
}

impl Scorer<'_> {
    fn finish(self, unit: &Unit, root: Node, total: Decimal, veto: Option<String>) -> Score {
        let rs = self.rs;
        let grade = rs.grades.iter().find(|g| total >= g.min).map(|g| g.name.clone());
        let passed = veto.is_none() && total >= rs.meta.pass_mark;
        Score {
            total,
            grade,
            veto,
            passed,
            unchecked: self.unchecked,
            explanation: Explanation {
                rule_set: rs.meta.id.clone(),
                version: rs.meta.version.clone(),
                hash: self.hash.to_string(),
                unit: unit.code.to_string(),
                as_of: self.as_of,
                warnings: self.warnings,
                root,
            },
        }
    }

    /// A condition; an evaluation failure counts as "not met" and is reported.
    fn condition(&mut self, expr: &Expr, cx: &Context<'_>, node: &mut Node) -> bool {
        match expr.eval_bool(&cx.env) {
            Ok(b) => b,
            Err(e) => {
                let message = format!("“{}”：{e}，按条件不成立处理", expr.source());
                node.notes.push(message.clone());
                self.warnings.push(format!("{}：{message}", node.label));
                false
            }
        }
    }

    fn vetoes(&mut self, cx: &Context<'_>) -> (Option<String>, Node) {
        let mut node = Node::new(NodeKind::Vetoes, "vetoes", "单项否决");
        let mut hit = None;
        for veto in &self.rs.vetoes {
            let mut child = Node::new(NodeKind::Veto, veto.id.clone(), veto.title.clone());
            if self.condition(&veto.when, cx, &mut child) {
                child.notes.push(format!("否决条件成立：{}", veto.when.source()));
                if let Some(note) = &veto.note {
                    child.notes.push(note.clone());
                }
                child.evidence = cx.cite_refs(veto.when.refs(), &self.rs.counters);
                hit.get_or_insert_with(|| veto.id.clone());
                node.children.push(child);
            }
        }
        if hit.is_none() {
            node.notes.push("未触发单项否决".to_string());
        }
        (hit, node)
    }

    /// The points each indicator carries for this unit: `None` when it does not apply.
    fn not_applicable(&mut self, cx: &Context<'_>) -> (Vec<Option<Decimal>>, Option<Node>) {
        let rs = self.rs;
        let mut node = Node::new(NodeKind::NotApplicable, "not_applicable", "不适用指标");
        let mut points: Vec<Option<Decimal>> = Vec::new();
        for ind in &rs.indicators {
            let na = match &ind.not_applicable_when {
                Some(expr) => self.condition(expr, cx, &mut node),
                None => false,
            };
            if na {
                let mut child = Node::new(NodeKind::Indicator, ind.id.clone(), ind.title.clone());
                child.available = Some(ind.points);
                if let Some(expr) = &ind.not_applicable_when {
                    child.notes.push(format!("不适用条件成立：{}", expr.source()));
                    child.evidence = cx.cite_refs(expr.refs(), &rs.counters);
                }
                node.children.push(child);
            }
            points.push((!na).then_some(ind.points));
        }
        if node.children.is_empty() && node.notes.is_empty() {
            return (points, None);
        }
        let applicable: Decimal = points.iter().flatten().sum();
        let missing = rs.meta.points - applicable;
        node.lost = Some(missing);
        if applicable.is_zero() {
            node.notes.push("所有指标均不适用，按全部指标适用计分".to_string());
            return (rs.indicators.iter().map(|i| Some(i.points)).collect(), Some(node));
        }
        match rs.na_method {
            NaMethod::Scale => node.notes.push(format!(
                "不适用指标共 {} 分；其余指标得分按 {} ÷ {} 折算",
                missing.normalize(),
                rs.meta.points.normalize(),
                applicable.normalize()
            )),
            NaMethod::Spread => {
                points = spread(&points, missing, applicable, rs.meta.decimals);
                node.notes.push(format!("不适用指标共 {} 分，按分值比例分摊到其余指标", missing.normalize()));
            }
        }
        (points, Some(node))
    }

    fn component(
        &mut self,
        component: &Component,
        points: &[Option<Decimal>],
        applicable: Decimal,
        unit: &Unit,
        evidence: &UnitEvidence,
        findings: &[&crate::model::Finding],
    ) -> (Decimal, Node) {
        let rs = self.rs;
        let mut node = Node::new(NodeKind::Component, component.id.clone(), component.title.clone());
        node.weight = Some(component.weight);
        node.available = Some(rs.meta.points);
        let mut raw = Decimal::ZERO;
        match &component.basis {
            ComponentBasis::Evidence { sources, uses_metrics } => {
                let cx = Context::new(
                    rs,
                    unit,
                    evidence,
                    View::new(findings, sources, &rs.sources),
                    *uses_metrics,
                    self.as_of,
                );
                for (ind, pts) in rs.indicators.iter().zip(points) {
                    if let Some(pts) = pts {
                        let (score, child) = self.indicator(ind, *pts, &cx);
                        raw += score;
                        node.children.push(child);
                    }
                }
            }
            ComponentBasis::SelfClaims { verified_by } => {
                let check = (!verified_by.is_empty()).then(|| {
                    Context::new(
                        rs,
                        unit,
                        evidence,
                        View::new(findings, verified_by, &rs.sources),
                        true,
                        self.as_of,
                    )
                });
                for (ind, pts) in rs.indicators.iter().zip(points) {
                    if let Some(pts) = pts {
                        let verified = check.as_ref().map(|cx| self.indicator(ind, *pts, cx));
                        let (score, child) = self_claim(ind, *pts, unit, evidence, verified);
                        raw += score;
                        node.children.push(child);
                    }
                }
            }
        }
        let mut score = raw;
        if rs.na_method == NaMethod::Scale && applicable < rs.meta.points && !applicable.is_zero() {
            score = raw * rs.meta.points / applicable;
            node.notes.push(format!(
                "适用指标得分 {} 分（满分 {} 分），折算为 {} 分",
                raw.normalize(),
                applicable.normalize(),
                round(score, rs.meta.decimals)
            ));
        }
        node.score = Some(round(score, rs.meta.decimals));
        (score, node)
    }

    fn indicator(&mut self, ind: &Indicator, points: Decimal, cx: &Context<'_>) -> (Decimal, Node) {
        let mut node = Node::new(NodeKind::Indicator, ind.id.clone(), ind.title.clone());
        node.available = Some(points);
        let missing = self.missing_evidence(ind, cx);
        if !missing.is_empty() {
            node.notes.push("本指标依赖的证据未能核查，得 0 分（没有证据不能得满分）".to_string());
            node.children = missing;
            node.lost = Some(points);
            node.score = Some(Decimal::ZERO);
            return (Decimal::ZERO, node);
        }
        let mut lost = Decimal::ZERO;
        for line in &ind.lines {
            let (p, mut child) = self.line(line, cx, NodeKind::Deduction);
            if p > Decimal::ZERO || !child.notes.is_empty() {
                child.lost = Some(p);
                lost += p;
                node.children.push(child);
            }
        }
        if lost > points {
            node.cap = Some(points);
            node.notes.push(format!(
                "扣分合计 {} 分，超过指标分值 {} 分，按 {} 分计",
                lost.normalize(),
                points.normalize(),
                points.normalize()
            ));
            lost = points;
        }
        node.lost = Some(lost);
        node.score = Some(points - lost);
        (points - lost, node)
    }

    /// One node per missing-evidence check that zeroes `ind` (rule set's `[unchecked]`) and
    /// has a counted finding in this assessment method's view: why, and the finding cited.
    fn missing_evidence(&self, ind: &Indicator, cx: &Context<'_>) -> Vec<Node> {
        let mut nodes = Vec::new();
        for rule in self.rs.unchecked.iter().filter(|u| u.indicators.contains(&ind.id)) {
            let found = cx.view.findings(&rule.check, &[], self.as_of);
            if found.is_empty() {
                continue;
            }
            let title = self.rs.checks.get(&rule.check).map_or(rule.check.as_str(), String::as_str);
            let mut node = Node::new(NodeKind::Unchecked, rule.check.clone(), title);
            for f in &found {
                let note = format!("未能核查：{}", Unchecked::from_finding(f, title).summary_zh());
                if !node.notes.contains(&note) {
                    node.notes.push(note);
                }
            }
            node.evidence = found.into_iter().map(super::evidence::cite_finding).collect();
            nodes.push(node);
        }
        nodes
    }

    /// The points of one deduction line or bonus item (never negative), with its node.
    fn line(&mut self, line: &Line, cx: &Context<'_>, kind: NodeKind) -> (Decimal, Node) {
        let counters = &self.rs.counters;
        let mut node = Node::new(kind, line.id.clone(), line.title.clone());
        if let Some(when) = &line.when
            && !self.condition(when, cx, &mut node)
        {
            return (Decimal::ZERO, node);
        }
        let mut points = match &line.rule {
            LineRule::PerFinding { count, per } => {
                let n = cx.number(&format!("count.{count}"));
                node.evidence = cx.cite_findings(count, counters);
                if n > Decimal::ZERO {
                    node.notes.push(format!("{n} 个问题 × {} 分", per.normalize()));
                }
                n * per
            }
            LineRule::Thresholds { metric, bands } => {
                let name = format!("metric.{metric}");
                let value = cx.number(&name);
                node.evidence.push(cx.cite_value(&name));
                match bands.iter().rev().find(|b| value >= b.at_least) {
                    Some(band) => {
                        node.notes.push(format!("{metric} = {value}，达到 {} 档", band.at_least.normalize()));
                        band.points
                    }
                    None => Decimal::ZERO,
                }
            }
            LineRule::Formula(expr) => {
                node.evidence = cx.cite_refs(expr.refs(), counters);
                match expr.eval_number(&cx.env) {
                    Ok(v) => {
                        if v > Decimal::ZERO {
                            node.notes.push(format!("公式：{}", expr.source()));
                        }
                        v.max(Decimal::ZERO)
                    }
                    Err(e) => {
                        let message = format!("“{}”：{e}，按 0 分处理", expr.source());
                        node.notes.push(message.clone());
                        self.warnings.push(format!("{}：{message}", line.title));
                        Decimal::ZERO
                    }
                }
            }
            LineRule::Fixed(points) => {
                if let Some(when) = &line.when {
                    node.evidence = cx.cite_refs(when.refs(), counters);
                    node.notes.push(format!("条件成立：{}", when.source()));
                }
                *points
            }
        };
        if let Some(max) = line.max
            && points > max
        {
            node.cap = Some(max);
            node.notes.push(format!("本项最多 {} 分", max.normalize()));
            points = max;
        }
        (points, node)
    }
}

/// Gives the missing points to the applicable indicators in proportion to their points.
/// Shares are rounded down to the published decimals and the remainder goes to the
/// largest indicator (the first of equals), so the points still add up exactly.
fn spread(
    points: &[Option<Decimal>],
    missing: Decimal,
    applicable: Decimal,
    decimals: u32,
) -> Vec<Option<Decimal>> {
    let mut out: Vec<Option<Decimal>> = points
        .iter()
        .map(|p| {
            p.map(|p| {
                p + (missing * p / applicable).round_dp_with_strategy(decimals, RoundingStrategy::ToZero)
            })
        })
        .collect();
    let given: Decimal = out.iter().flatten().sum::<Decimal>() - applicable;
    let mut largest: Option<usize> = None;
    for (i, p) in points.iter().enumerate() {
        if let Some(p) = p
            && largest.is_none_or(|j| points[j].is_some_and(|q| *p > q))
        {
            largest = Some(i);
        }
    }
    if let Some(i) = largest
        && let Some(p) = out[i].as_mut()
    {
        *p += missing - given;
    }
    out
}

/// A self-assessed indicator: the unit's claim, within the indicator's points, and where
/// verification applies, no more than the verified evidence shows.
fn self_claim(
    ind: &Indicator,
    points: Decimal,
    unit: &Unit,
    evidence: &UnitEvidence,
    verified: Option<(Decimal, Node)>,
) -> (Decimal, Node) {
    let mut node = Node::new(NodeKind::SelfClaim, ind.id.clone(), ind.title.clone());
    node.available = Some(points);
    let mut claims: Vec<_> =
        evidence.self_claims.iter().filter(|c| c.unit == unit.code && c.item == ind.id).collect();
    claims.sort_by(|a, b| (a.claimed, &a.note).cmp(&(b.claimed, &b.note)));
    // With several claims for one item, the lowest counts: order must not matter and a
    // unit gains nothing by submitting twice.
    // Claims are made on the published points; when not-applicable points were spread
    // onto this indicator, the claim is scaled to the indicator's new points.
    let claimed = claims
        .iter()
        .map(|c| c.claimed)
        .min()
        .map(|c| if points == ind.points || ind.points.is_zero() { c } else { c * points / ind.points });
    for c in &claims {
        node.evidence.push(super::explain::Cited::Claim { item: c.item.clone(), claimed: c.claimed });
    }
    node.claimed = claimed;
    let mut score = match claimed {
        None => {
            node.notes.push("未提交自评，按 0 分计".to_string());
            Decimal::ZERO
        }
        Some(c) if c > points => {
            node.cap = Some(points);
            node.notes.push(format!("自评 {} 分超过分值，按 {} 分计", c.normalize(), points.normalize()));
            points
        }
        Some(c) if c < Decimal::ZERO => {
            node.notes.push("自评分为负数，按 0 分计".to_string());
            Decimal::ZERO
        }
        Some(c) => c,
    };
    if let Some((checked, check_node)) = verified
        && score > checked
    {
        node.notes.push(format!(
            "自评 {} 分高于核查得分 {} 分，以核查为准",
            score.normalize(),
            checked.normalize()
        ));
        node.children.push(check_node);
        score = checked;
    }
    node.score = Some(score);
    node.lost = Some(points - score);
    (score, node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn spread_adds_up_exactly() {
        let points = [Some(dec!(40)), None, Some(dec!(20)), Some(dec!(15))];
        let out = spread(&points, dec!(25), dec!(75), 2);
        let sum: Decimal = out.iter().flatten().sum();
        assert_eq!(sum, dec!(100));
        assert_eq!(out[0], Some(dec!(53.34)));
        assert_eq!(out[1], None);
        assert_eq!(out[2], Some(dec!(26.66)));
        assert_eq!(out[3], Some(dec!(20.00)));
    }
}
