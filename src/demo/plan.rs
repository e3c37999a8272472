//! Which unit's website and catalogue show which problems, in each era of the demo city.
//!
//! The spread is seeded, so every demo city is the same city: the tests, the docs and a
//! presenter can rely on its shape. Most units are healthy; a troubled minority carries the
//! problems the reference city's report names, overlapping so that some units are clearly
//! worse than others and the ranking has a tail. The earlier era differs for a few units —
//! some have since improved, some have slipped — so rank changes and trend lines have data.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::model::{Unit, UnitKind};

/// The seed of the demo city. Changing it changes which units carry which problems.
pub(super) const SEED: u64 = 20_091_231;

/// Share of units in the troubled pool, in eighths (3/8 ≈ 100 of 268).
const TROUBLED_EIGHTHS: usize = 3;

/// The two moments the demo city is observed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Era {
    /// The previous quarter: only the website rule set is assessed then.
    Earlier,
    /// The current quarter: both rule sets.
    Current,
}

/// How a site answers at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Availability {
    #[default]
    Up,
    /// Answers every request, but only after a short delay.
    Slow,
    /// Answers every request, website and catalogue, with `502 Bad Gateway`.
    Failing,
    /// Accepts connections and never answers (the crawler's timeout ends it).
    Silent,
    /// Refuses every connection: the server is down (the case of a dead site that once
    /// ranked first because nothing could be checked).
    Refused,
}

impl Availability {
    /// The site answers requests at all (slowly or not).
    pub(crate) fn answers(self) -> bool {
        matches!(self, Availability::Up | Availability::Slow)
    }
}

/// The techniques of `content.spam` the demo shows, one unit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spam {
    /// Gambling words in the footer, next to markup written as text.
    Lexicon,
    /// A hidden link whose text is a `<script>` tag and bold markup (shown escaped or not at all).
    HiddenLink,
    HiddenFrame,
    ScriptLink,
    MetaRefresh,
    /// Gambling links served only to a search engine's crawler.
    Cloaking,
    /// The site's title and masthead name a casino, not the unit.
    NameReplaced,
    /// The reference city's own hack: a gambling brand appended to a news article's title and
    /// heading, put before its first paragraph and spliced into a sentence, so the injected
    /// title also shows in the column list and on the home page.
    InjectedBrand,
}

impl Spam {
    pub(crate) const ALL: [Spam; 8] = [
        Spam::Lexicon,
        Spam::HiddenLink,
        Spam::HiddenFrame,
        Spam::ScriptLink,
        Spam::MetaRefresh,
        Spam::Cloaking,
        Spam::NameReplaced,
        Spam::InjectedBrand,
    ];
}

/// A planned defect of a linked annual report, each found by one check of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportDefect {
    /// The section on problems and improvements is left out (`report.section_missing`).
    SectionMissing,
    /// The request table does not add up (`report.table_inconsistent`).
    TableInconsistent,
}

/// Problems of one website. Counts refer to the unit kind's required columns and the profile's
/// identity items, in profile order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SiteDefects {
    pub stale_home: bool,
    /// The first N required columns are past their cadence.
    pub stale_columns: usize,
    /// The last N required columns are not linked from the home page.
    pub missing_columns: usize,
    /// The last linked required column lists nothing.
    pub empty_column: bool,
    /// Links on the home page to pages that answer 404.
    pub broken_links: usize,
    pub spam: Option<Spam>,
    /// Indices into the profile's identity items left out of the footer.
    pub missing_identity: Vec<usize>,
    pub no_annual_report: bool,
    /// What is wrong inside the annual report the site links (issue #17).
    pub report_defect: Option<ReportDefect>,
    /// Consultation messages older than the limit still marked unanswered.
    pub unanswered: usize,
}

/// Problems of one disclosure catalogue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CatalogueDefects {
    /// The catalogue root answers 404.
    pub root_missing: bool,
    /// One class page answers 500.
    pub broken_class: bool,
    /// The last N required classes are not linked from the root.
    pub missing_classes: usize,
    /// One linked class lists no entry.
    pub empty_class: bool,
    /// Entries whose index number breaks the grammar, names another unit or the wrong year
    /// (at most half of the smallest catalogue's 16 entries).
    pub invalid_index: usize,
    pub duplicate_index: bool,
    /// Entries without a publisher (one also without an index number).
    pub metadata_missing: usize,
    /// Nothing new for four months.
    pub stale: bool,
    /// Entries in three bursts half a year apart (抓一阵停一阵).
    pub bursty: bool,
}

/// One unit's website and catalogue in one era.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct UnitState {
    pub availability: Availability,
    pub site: SiteDefects,
    pub catalogue: CatalogueDefects,
}

impl UnitState {
    /// Nothing wrong that a crawl could find (a slow site is still a healthy one).
    pub(crate) fn is_healthy(&self) -> bool {
        self.availability.answers()
            && self.site == SiteDefects::default()
            && self.catalogue == CatalogueDefects::default()
    }
}

/// The whole city's states, by unit index (registry order), for both eras.
#[derive(Debug, Clone)]
pub(crate) struct CityPlan {
    current: Vec<UnitState>,
    earlier: Vec<UnitState>,
    /// Units that carry problems now, in seeded order.
    troubled: Vec<usize>,
    /// Units without problems now, in seeded order.
    healthy: Vec<usize>,
}

/// What the plan needs to know about a unit.
struct Shape {
    kind: UnitKind,
    columns: usize,
    classes: usize,
    has_catalogue: bool,
}

impl CityPlan {
    /// Plans the city for `units` (registry order). `columns` and `classes` give how many
    /// required columns and catalogue classes a unit kind owes; `identity_items` how many footer
    /// items the profile requires.
    pub(crate) fn new(
        units: &[Unit],
        columns: impl Fn(UnitKind) -> usize,
        classes: impl Fn(UnitKind) -> usize,
        identity_items: usize,
    ) -> CityPlan {
        let shapes: Vec<Shape> = units
            .iter()
            .map(|u| Shape {
                kind: u.kind,
                columns: columns(u.kind),
                classes: classes(u.kind),
                has_catalogue: u.catalogue_url.as_deref().is_some_and(|c| !c.trim().is_empty()),
            })
            .collect();
        let mut rng = StdRng::seed_from_u64(SEED);
        let mut order: Vec<usize> = (0..units.len()).collect();
        order.shuffle(&mut rng);
        let troubled_count = units.len() * TROUBLED_EIGHTHS / 8;
        let (troubled, healthy) = order.split_at(troubled_count);
        let mut current = vec![UnitState::default(); units.len()];
        plan_current(&mut current, troubled, &shapes, identity_items, &mut rng);
        let earlier = plan_earlier(&current, troubled, healthy, &shapes, &mut rng);
        CityPlan { current, earlier, troubled: troubled.to_vec(), healthy: healthy.to_vec() }
    }

    pub(crate) fn state(&self, era: Era, unit: usize) -> &UnitState {
        let states = match era {
            Era::Earlier => &self.earlier,
            Era::Current => &self.current,
        };
        &states[unit]
    }

    /// Units with problems now, in seeded order.
    pub(crate) fn troubled(&self) -> &[usize] {
        &self.troubled
    }

    /// Units without problems now, in seeded order.
    pub(crate) fn healthy(&self) -> &[usize] {
        &self.healthy
    }
}

/// `k` distinct members of `pool` that satisfy `keep`, chosen by the seeded generator.
fn pick(pool: &[usize], k: usize, keep: impl Fn(usize) -> bool, rng: &mut StdRng) -> Vec<usize> {
    let candidates: Vec<usize> = pool.iter().copied().filter(|&u| keep(u)).collect();
    candidates.choose_multiple(rng, k).copied().collect()
}

fn plan_current(
    states: &mut [UnitState],
    troubled: &[usize],
    shapes: &[Shape],
    identity_items: usize,
    rng: &mut StdRng,
) {
    // Availability first: a site that does not answer carries nothing else. The failing ones
    // have a catalogue, so that both sides fail and the unit reads as "not started".
    let mut cursor = troubled.iter().copied();
    let mut take = |n: usize, want: &dyn Fn(usize) -> bool| -> Vec<usize> {
        let mut taken = Vec::new();
        while taken.len() < n {
            match cursor.next() {
                Some(unit) if want(unit) => taken.push(unit),
                Some(_) => {}
                None => break,
            }
        }
        taken
    };
    let with_catalogue = |u: usize| shapes[u].has_catalogue;
    for unit in take(3, &with_catalogue) {
        states[unit].availability = Availability::Failing;
    }
    for unit in take(1, &with_catalogue) {
        states[unit].availability = Availability::Silent;
    }
    for unit in take(1, &with_catalogue) {
        states[unit].availability = Availability::Refused;
    }
    for unit in take(3, &|_| true) {
        states[unit].availability = Availability::Slow;
    }
    let answering: Vec<usize> =
        troubled.iter().copied().filter(|&u| states[u].availability.answers()).collect();

    // One unit per spam technique; the hidden-link one is a department (a big, visible case).
    let mut spam_units = Vec::new();
    for spam in Spam::ALL {
        let department = spam == Spam::HiddenLink;
        let chosen = answering
            .iter()
            .copied()
            .find(|u| !spam_units.contains(u) && (!department || shapes[*u].kind == UnitKind::Department));
        if let Some(unit) = chosen {
            states[unit].site.spam = Some(spam);
            spam_units.push(unit);
        }
    }

    for unit in pick(&answering, 5, |_| true, rng) {
        states[unit].site.stale_home = true;
    }
    for unit in pick(&answering, 24, |_| true, rng) {
        let most = shapes[unit].columns.clamp(1, 3);
        states[unit].site.stale_columns = rng.gen_range(1..=most);
    }
    for unit in pick(&answering, 14, |u| shapes[u].columns >= 2, rng) {
        let most = (shapes[unit].columns - 1).min(2);
        states[unit].site.missing_columns = rng.gen_range(1..=most);
    }
    for unit in pick(&answering, 6, |u| shapes[u].columns >= 2, rng) {
        states[unit].site.empty_column = true;
    }
    for unit in pick(&answering, 28, |_| true, rng) {
        states[unit].site.broken_links = rng.gen_range(1..=6);
    }
    let items: Vec<usize> = (0..identity_items).collect();
    for unit in pick(&answering, 24, |_| true, rng) {
        let n = rng.gen_range(1..=identity_items.min(3));
        let mut missing: Vec<usize> = items.choose_multiple(rng, n).copied().collect();
        missing.sort_unstable();
        states[unit].site.missing_identity = missing;
    }
    for unit in pick(&answering, 14, |_| true, rng) {
        states[unit].site.no_annual_report = true;
    }
    for unit in pick(&answering, 10, |_| true, rng) {
        states[unit].site.unanswered = rng.gen_range(1..=3);
    }

    let catalogued: Vec<usize> = answering.iter().copied().filter(|&u| shapes[u].has_catalogue).collect();
    let root_missing = pick(&catalogued, 4, |_| true, rng);
    for &unit in &root_missing {
        states[unit].catalogue.root_missing = true;
    }
    let readable: Vec<usize> = catalogued.iter().copied().filter(|u| !root_missing.contains(u)).collect();
    for unit in pick(&readable, 3, |_| true, rng) {
        states[unit].catalogue.broken_class = true;
    }
    for unit in pick(&readable, 14, |_| true, rng) {
        let most = (shapes[unit].classes.saturating_sub(3)).clamp(1, 4);
        states[unit].catalogue.missing_classes = rng.gen_range(1..=most);
    }
    for unit in pick(&readable, 8, |_| true, rng) {
        states[unit].catalogue.empty_class = true;
    }
    for unit in pick(&readable, 20, |_| true, rng) {
        states[unit].catalogue.invalid_index = rng.gen_range(2..=8);
    }
    for unit in pick(&readable, 8, |_| true, rng) {
        states[unit].catalogue.duplicate_index = true;
    }
    for unit in pick(&readable, 12, |_| true, rng) {
        states[unit].catalogue.metadata_missing = rng.gen_range(1..=6);
    }
    let stale = pick(&readable, 9, |_| true, rng);
    for &unit in &stale {
        states[unit].catalogue.stale = true;
    }
    for unit in pick(&readable, 9, |u| !stale.contains(&u), rng) {
        states[unit].catalogue.bursty = true;
    }

    // A troubled unit the draws missed still has something wrong with it.
    for &unit in troubled {
        if states[unit].is_healthy() {
            states[unit].site.broken_links = rng.gen_range(1..=3);
            states[unit].site.missing_identity = vec![rng.gen_range(0..identity_items.max(1))];
        }
    }

    // Three linked reports with a defect inside, chosen without the generator so that the
    // draws above and the earlier era stay as they were.
    let report_units: Vec<usize> =
        answering.iter().copied().filter(|&u| !states[u].site.no_annual_report).take(3).collect();
    let defects =
        [ReportDefect::SectionMissing, ReportDefect::TableInconsistent, ReportDefect::SectionMissing];
    for (unit, defect) in report_units.into_iter().zip(defects) {
        states[unit].site.report_defect = Some(defect);
    }
}

/// The previous quarter: most units as now, but some healthy units then had problems they have
/// since fixed, and some troubled units were still fine.
fn plan_earlier(
    current: &[UnitState],
    troubled: &[usize],
    healthy: &[usize],
    shapes: &[Shape],
    rng: &mut StdRng,
) -> Vec<UnitState> {
    let mut earlier = current.to_vec();
    for (i, unit) in pick(healthy, 24, |_| true, rng).into_iter().enumerate() {
        let state = &mut earlier[unit];
        match i % 6 {
            0 => state.site.stale_columns = shapes[unit].columns.min(2),
            1 => state.site.missing_identity = vec![0, 2],
            2 => state.site.broken_links = 5,
            3 => state.site.no_annual_report = true,
            4 if i < 12 => state.site.stale_home = true,
            _ if shapes[unit].has_catalogue => state.catalogue.invalid_index = 8,
            _ => state.site.broken_links = 4,
        }
    }
    for unit in pick(troubled, 16, |u| current[u].site.spam.is_none(), rng) {
        earlier[unit] = UnitState::default();
    }
    earlier
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::synthetic_credit_code;

    fn units(n: u32) -> Vec<Unit> {
        (0..n)
            .map(|i| Unit {
                code: synthetic_credit_code("450100", i + 1).expect("code"),
                name: format!("单位{i}"),
                kind: if i % 3 == 0 { UnitKind::Department } else { UnitKind::Institution },
                parent_code: None,
                website: Some(format!("http://u{i}.example.cn/")),
                catalogue_url: (i % 7 != 0).then(|| format!("http://u{i}.example.cn/xxgk/")),
                email: None,
            })
            .collect()
    }

    fn plan() -> CityPlan {
        CityPlan::new(
            &units(268),
            |k| if k == UnitKind::Department { 5 } else { 2 },
            |k| if k == UnitKind::Department { 14 } else { 6 },
            5,
        )
    }

    #[test]
    fn the_plan_is_the_same_every_time() {
        let (a, b) = (plan(), plan());
        assert_eq!(a.current, b.current);
        assert_eq!(a.earlier, b.earlier);
    }

    #[test]
    fn most_units_are_healthy_and_every_troubled_one_is_not() {
        let plan = plan();
        let healthy = (0..plan.current.len()).filter(|&u| plan.state(Era::Current, u).is_healthy()).count();
        assert!(healthy * 2 > plan.current.len(), "{healthy} healthy of {}", plan.current.len());
        assert!(plan.troubled().iter().all(|&u| !plan.state(Era::Current, u).is_healthy()));
        assert_eq!(plan.troubled().len() + plan.healthy().len(), plan.current.len());
    }

    #[test]
    fn every_spam_technique_and_availability_appears() {
        let plan = plan();
        let states: Vec<&UnitState> = (0..plan.current.len()).map(|u| plan.state(Era::Current, u)).collect();
        for spam in Spam::ALL {
            assert_eq!(states.iter().filter(|s| s.site.spam == Some(spam)).count(), 1, "{spam:?}");
        }
        for availability in
            [Availability::Failing, Availability::Silent, Availability::Refused, Availability::Slow]
        {
            assert!(states.iter().any(|s| s.availability == availability), "{availability:?}");
        }
        assert!(states.iter().any(|s| s.catalogue.bursty) && states.iter().any(|s| s.catalogue.stale));
    }

    #[test]
    fn some_units_changed_between_the_eras() {
        let plan = plan();
        let changed =
            (0..plan.current.len()).filter(|&u| plan.state(Era::Earlier, u) != plan.state(Era::Current, u));
        assert!(changed.count() >= 30);
    }
}
