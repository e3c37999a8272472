//! A cycle's ranking as leaders read it: the rows (filtered by unit kind and laggard flag), the
//! summary figures, and what the charts are drawn from. The page and the JSON API return the
//! same [`RankingView`]; who may read it is the route's business.
//!
//! Cost: two or three queries whatever the number of units (the cycles, the cycle's ranking and,
//! for the chart's scale, one unit's explanation) — never one query per row, and never every
//! unit's explanation.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::assess::RankedScore;
use crate::model::UnitKind;
use crate::store::{CycleInfo, Store};
use crate::web::error::WebError;

/// The scale a rule set scores on when the cycle cannot say (the national rules' 100 points).
const DEFAULT_POINTS: Decimal = Decimal::ONE_HUNDRED;

/// One ranking row: the stored ranked score (same field names as `gongkai ranking --format json`)
/// plus what a reader needs that the row only has as an identifier.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RankingRow {
    /// The stored ranked score, its fields flattened into the row.
    #[serde(flatten)]
    pub score: RankedScore,
    /// The unit kind in Chinese.
    pub kind_label: &'static str,
    /// The unit claimed more in its self-assessment than was verified.
    pub over_claimed: bool,
}

impl From<RankedScore> for RankingRow {
    fn from(score: RankedScore) -> Self {
        Self {
            kind_label: score.kind.label_zh(),
            over_claimed: score.over_claim.is_some_and(|o| o > Decimal::ZERO),
            score,
        }
    }
}

/// Counts and the average over a set of rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RankingSummary {
    /// Rows counted.
    pub units: usize,
    /// Rows that passed: no veto and a total at or above the pass mark.
    pub passed: usize,
    /// Rows that did not pass (vetoed ones included).
    pub failed: usize,
    /// Rows a met veto item zeroed.
    pub vetoed: usize,
    /// Rows flagged as laggards (后进单位) by at least one criterion.
    pub laggards: usize,
    /// Units whose website or catalogue could not be checked (未能核查).
    pub unchecked: usize,
    /// Mean total, to two decimal places; none without rows.
    pub average: Option<Decimal>,
    /// The best total; none without rows.
    pub highest: Option<Decimal>,
    /// The worst total; none without rows.
    pub lowest: Option<Decimal>,
}

impl RankingSummary {
    /// Counts and averages `rows`; every figure is exact (Decimal), the average rounded to 2 places.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a RankedScore>) -> Self {
        let mut summary = RankingSummary {
            units: 0,
            passed: 0,
            failed: 0,
            vetoed: 0,
            laggards: 0,
            unchecked: 0,
            average: None,
            highest: None,
            lowest: None,
        };
        let mut sum = Decimal::ZERO;
        for row in rows {
            summary.units += 1;
            if row.passed {
                summary.passed += 1;
            } else {
                summary.failed += 1;
            }
            summary.vetoed += usize::from(row.veto.is_some());
            summary.laggards += usize::from(row.laggard);
            summary.unchecked += usize::from(!row.unchecked.is_empty());
            sum += row.score;
            summary.highest = Some(summary.highest.map_or(row.score, |h| h.max(row.score)));
            summary.lowest = Some(summary.lowest.map_or(row.score, |l| l.min(row.score)));
        }
        if summary.units > 0 {
            summary.average = Some((sum / Decimal::from(summary.units)).round_dp(2));
        }
        summary
    }
}

/// One unit kind's standing in the whole cycle (the per-kind chart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KindSummary {
    /// The kind summed up.
    pub kind: UnitKind,
    /// The kind in Chinese.
    pub label: &'static str,
    /// Its figures over the whole cycle, flattened into the object.
    #[serde(flatten)]
    pub summary: RankingSummary,
}

/// A choice of the unit-kind filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KindOption {
    /// The kind this choice filters on.
    pub kind: UnitKind,
    /// The kind in Chinese.
    pub label: &'static str,
    /// The filter currently applied.
    pub selected: bool,
}

/// What a cycle's totals are measured against, for the distribution chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ScoreScale {
    /// The rule set's deduction points (the chart's full scale).
    pub points: Decimal,
    /// The rule set's pass mark, when known. The store keeps the cycle's rule-set text but has
    /// no reader for it yet, so this is none for now and the page shows the passed/failed
    /// split instead (each row's `passed` is exact either way).
    pub pass_mark: Option<Decimal>,
}

/// A ranking page's or API answer's content.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RankingView {
    /// Every saved cycle, newest first (the cycle selector).
    pub cycles: Vec<CycleInfo>,
    /// The cycle shown: the one asked for, else the current one. None when nothing was assessed.
    pub cycle: Option<CycleInfo>,
    /// The unit-kind filter applied; none for every kind.
    pub kind: Option<UnitKind>,
    /// Only laggards are shown.
    pub laggards_only: bool,
    /// Every unit kind as a filter choice, the applied one marked.
    pub kinds: Vec<KindOption>,
    /// The cycle's scale; none when nothing was assessed.
    pub scale: Option<ScoreScale>,
    /// Figures over the shown rows (after the filters).
    pub summary: RankingSummary,
    /// The whole cycle, whatever the filters.
    pub cycle_summary: RankingSummary,
    /// Every kind present in the cycle, whatever the filters.
    pub by_kind: Vec<KindSummary>,
    /// The shown rows (after the filters), best first.
    pub rows: Vec<RankingRow>,
}

/// A unit kind from a query string: empty means "every kind"; anything else must be a kind.
pub fn parse_kind(raw: Option<&str>) -> Result<Option<UnitKind>, WebError> {
    match raw.map(str::trim).filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(raw) => {
            raw.parse().map(Some).map_err(|e: crate::model::UnknownUnitKind| WebError::bad(e.to_string()))
        }
    }
}

/// Every saved cycle (oldest first) and the one to show: the one named (which must exist: an
/// unknown cycle is "not found"), else the current one. Read together.
pub async fn cycles_and_choice(
    store: &Store,
    asked: Option<&str>,
) -> Result<(Vec<CycleInfo>, Option<CycleInfo>), WebError> {
    match asked_cycle(asked) {
        Some(asked) => {
            let cycles = store.cycles().await?;
            let chosen = find_cycle(&cycles, asked)?;
            Ok((cycles, Some(chosen)))
        }
        None => {
            let cycles = store.cycles().await?;
            let current = current_of(&cycles).cloned();
            Ok((cycles, current))
        }
    }
}

/// The cycle the dashboard shows by default, picked from the list already read instead of
/// asked for again: the one marked current, else the newest (the order `Store::current_cycle`
/// uses).
fn current_of(cycles: &[CycleInfo]) -> Option<&CycleInfo> {
    cycles.iter().max_by(|a, b| (a.current, a.created_at, &a.cycle).cmp(&(b.current, b.created_at, &b.cycle)))
}

/// Changes whenever any cycle record is written (a re-run, a new cycle, a change of the
/// current one): what a ranking page shows depends on nothing else but its filters.
pub fn cycles_stamp(cycles: &[CycleInfo]) -> String {
    cycles
        .iter()
        .map(|c| {
            let saved = c.saved_at.map_or(String::from("-"), |at| at.to_rfc3339());
            format!("{}@{saved}{}", c.cycle, if c.current { "*" } else { "" })
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The cycle to show, for pages that need no list of cycles: the one named (which must exist),
/// else the current one. One read of the cycle list (kept in memory while the server watches
/// for changes).
pub async fn chosen_cycle(store: &Store, asked: Option<&str>) -> Result<Option<CycleInfo>, WebError> {
    Ok(cycles_and_choice(store, asked).await?.1)
}

/// A cycle named in a query string; blank means "not named".
fn asked_cycle(asked: Option<&str>) -> Option<&str> {
    asked.map(str::trim).filter(|c| !c.is_empty())
}

fn find_cycle(cycles: &[CycleInfo], asked: &str) -> Result<CycleInfo, WebError> {
    cycles.iter().find(|c| c.cycle == asked).cloned().ok_or(WebError::NotFound)
}

/// The filters applied to a ranking, best first order kept.
pub fn filtered(rows: &[RankedScore], kind: Option<UnitKind>, laggards_only: bool) -> Vec<RankedScore> {
    rows.iter()
        .filter(|row| kind.is_none_or(|k| row.kind == k))
        .filter(|row| !laggards_only || row.laggard)
        .cloned()
        .collect()
}

/// The ranked scores a CSV export carries: the cycle (asked for, else current) and its rows
/// after the filters. `None` when nothing was assessed yet.
pub async fn ranking_rows(
    store: &Store,
    cycle: Option<&str>,
    kind: Option<UnitKind>,
    laggards_only: bool,
) -> Result<Option<(CycleInfo, Vec<RankedScore>)>, WebError> {
    let Some(cycle) = chosen_cycle(store, cycle).await? else {
        return Ok(None);
    };
    let rows = store.ranking_shared(&cycle.cycle).await?;
    Ok(Some((cycle, filtered(&rows, kind, laggards_only))))
}

/// Assembles the ranking of `cycle` (default: the current cycle) with the filters applied.
pub async fn ranking_view(
    store: &Store,
    cycle: Option<&str>,
    kind: Option<UnitKind>,
    laggards_only: bool,
) -> Result<RankingView, WebError> {
    let (cycles, chosen) = cycles_and_choice(store, cycle).await?;
    ranking_view_of(store, cycles, chosen, kind, laggards_only).await
}

/// [`ranking_view`] for cycles already read (oldest first) and chosen ([`cycles_and_choice`]).
pub async fn ranking_view_of(
    store: &Store,
    mut cycles: Vec<CycleInfo>,
    chosen: Option<CycleInfo>,
    kind: Option<UnitKind>,
    laggards_only: bool,
) -> Result<RankingView, WebError> {
    cycles.reverse();
    let all = match &chosen {
        Some(cycle) => store.ranking_shared(&cycle.cycle).await?,
        None => std::sync::Arc::new(Vec::new()),
    };
    let scale = match (&chosen, all.first()) {
        (Some(cycle), Some(top)) => Some(cycle_scale(store, &cycle.cycle, &top.unit).await?),
        _ => None,
    };
    let cycle_summary = RankingSummary::of(all.iter());
    let by_kind = UnitKind::ALL
        .into_iter()
        .filter_map(|k| {
            let of_kind: Vec<&RankedScore> = all.iter().filter(|row| row.kind == k).collect();
            (!of_kind.is_empty()).then(|| KindSummary {
                kind: k,
                label: k.label_zh(),
                summary: RankingSummary::of(of_kind),
            })
        })
        .collect();
    let rows = filtered(&all, kind, laggards_only);
    Ok(RankingView {
        cycles,
        cycle: chosen,
        kind,
        laggards_only,
        kinds: UnitKind::ALL
            .into_iter()
            .map(|k| KindOption { kind: k, label: k.label_zh(), selected: kind == Some(k) })
            .collect(),
        scale,
        summary: RankingSummary::of(&rows),
        cycle_summary,
        by_kind,
        rows: rows.into_iter().map(RankingRow::from).collect(),
    })
}

/// The rule set's points as the cycle's explanations state them (every tree's root carries
/// them), read from one unit's explanation: the cycle record does not carry them, and one
/// explanation is a single indexed read.
async fn cycle_scale(store: &Store, cycle: &str, unit: &str) -> Result<ScoreScale, WebError> {
    let points = store
        .explanation(cycle, unit)
        .await?
        .as_ref()
        .and_then(|tree| tree.pointer("/root/available"))
        .and_then(|value| value.as_str().and_then(|text| text.parse().ok()))
        .filter(|points: &Decimal| *points > Decimal::ZERO)
        .unwrap_or(DEFAULT_POINTS);
    Ok(ScoreScale { points, pass_mark: None })
}

/// The ranking page of one cycle (cycle ids are the office's own text: encoded).
pub fn ranking_href(cycle: &str) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new()).append_pair("cycle", cycle).finish();
    format!("/rankings?{query}")
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;
    use crate::model::check::SITE_UNCHECKED;

    fn row(unit: &str, kind: UnitKind, score: Decimal, passed: bool, laggard: bool) -> RankedScore {
        RankedScore {
            unit: unit.into(),
            name: unit.into(),
            kind,
            parent_code: None,
            score,
            grade: None,
            veto: None,
            passed,
            rank: 1,
            rank_in_kind: 1,
            previous_rank: None,
            rank_change: None,
            laggard,
            reasons: Vec::new(),
            subordinates: None,
            self_claimed: None,
            over_claim: None,
            unchecked: Vec::new(),
        }
    }

    #[test]
    fn summary_counts_and_averages_exactly() {
        let mut rows = [
            row("a", UnitKind::Department, dec!(90.5), true, false),
            row("b", UnitKind::Department, dec!(59), false, true),
            row("c", UnitKind::District, dec!(70), true, false),
        ];
        rows[1].unchecked = vec![crate::model::Unchecked {
            check: SITE_UNCHECKED.id.into(),
            label: "网站未能核查".into(),
            reason: "网站首页无法访问".into(),
            error: None,
            url: None,
        }];
        let summary = RankingSummary::of(&rows);
        assert_eq!((summary.units, summary.passed, summary.failed, summary.laggards), (3, 2, 1, 1));
        assert_eq!(summary.unchecked, 1);
        assert_eq!(summary.average, Some(dec!(73.17)), "219.5 / 3 rounded to two places");
        assert_eq!((summary.highest, summary.lowest), (Some(dec!(90.5)), Some(dec!(59))));
        assert_eq!(RankingSummary::of(&[]).average, None);
    }

    #[test]
    fn filters_keep_order_and_combine() {
        let rows = vec![
            row("a", UnitKind::Department, dec!(90), true, false),
            row("b", UnitKind::District, dec!(80), true, true),
            row("c", UnitKind::Department, dec!(50), false, true),
        ];
        let codes = |rows: Vec<RankedScore>| rows.into_iter().map(|r| r.unit).collect::<Vec<_>>();
        assert_eq!(codes(filtered(&rows, None, false)), ["a", "b", "c"]);
        assert_eq!(codes(filtered(&rows, Some(UnitKind::Department), false)), ["a", "c"]);
        assert_eq!(codes(filtered(&rows, None, true)), ["b", "c"]);
        assert_eq!(codes(filtered(&rows, Some(UnitKind::Department), true)), ["c"]);
    }

    #[test]
    fn kinds_parse_from_the_query_or_are_refused() {
        assert_eq!(parse_kind(None).unwrap(), None);
        assert_eq!(parse_kind(Some(" ")).unwrap(), None);
        assert_eq!(parse_kind(Some("district")).unwrap(), Some(UnitKind::District));
        assert!(matches!(parse_kind(Some("<b>")), Err(WebError::BadRequest(_))));
    }

    #[test]
    fn over_claim_flag_needs_a_positive_gap() {
        let mut score = row("a", UnitKind::Department, dec!(80), true, false);
        score.over_claim = Some(dec!(0.00));
        assert!(!RankingRow::from(score.clone()).over_claimed);
        score.over_claim = Some(dec!(1.5));
        assert!(RankingRow::from(score).over_claimed);
    }
}
