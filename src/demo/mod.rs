//! The demo city behind `gongkai demo`: the reference city's 268 units with websites and
//! disclosure catalogues served by this process on loopback, a seeded spread of the problems
//! the checks look for, inspectors' visits and self-assessments, two quarters of crawls,
//! assessments under both shipped rule sets, and one account per role.
//!
//! [`build`] writes all of it into an empty store and returns the running servers with the
//! accounts' passwords; the command line prints those and serves the dashboard. Everything is
//! fixed — dates, defects, visits — except the passwords and the servers' ports, so a demo
//! shows the same city every time and can be scripted against.
//!
//! ```text
//! city        the shipped registry, its addresses rewritten to the demo servers
//! plan        which unit shows which problem, in the previous and the current quarter
//! sites       the servers and the pages they render
//! inspection  visits in four groups, self-assessments
//! accounts    one account per role, random passwords
//! pipeline    crawl and assess with the shipped profiles and rule sets
//! ```

mod accounts;
pub mod city;
#[cfg(test)]
mod crawl_tests;
mod inspection;
mod pipeline;
mod plan;
mod sites;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use serde::Serialize;

pub use accounts::DemoAccount;
pub use inspection::GROUPS;
pub use pipeline::{CrawlCounts, DemoCycle};
pub use sites::{BindError, DemoSites};

use crate::crawl::catalogue::CatalogueProfile;
use crate::crawl::profile::SiteProfile;
use crate::jobs::{JobError, Progress};
use crate::model::{Role, Unit};
use crate::registry::{RegistryFile, RegistryRow, plan_import};
use crate::rules::RuleSet;
use crate::rules::shipped::{self, ShippedFile};
use crate::store::{AuditEntry, Store, StoreError};
use city::RegistryError;
use inspection::NothingToInspect;
use plan::{CityPlan, Era};

/// The national website rule set, as shipped.
pub const WEBSITE_RULES: ShippedFile = shipped::GOV_WEBSITE_2019;
/// The reference city's yearly disclosure rule set, as shipped.
pub const CITY_RULES: ShippedFile = shipped::CITY_DISCLOSURE_2009;

/// The previous quarter's as-of day (only the website rule set is assessed then).
pub const EARLIER_AS_OF: NaiveDate = date(2026, 8, 31);
/// The current quarter's as-of day.
pub const CURRENT_AS_OF: NaiveDate = date(2026, 11, 20);
/// The first day inspectors visited; visits run up to the day before [`CURRENT_AS_OF`].
pub const VISITS_FROM: NaiveDate = date(2026, 9, 1);

/// Who the audit log names for everything the demo writes.
pub const DEMO_ACTOR: &str = "demo";

const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid demo date"),
    }
}

/// The demo could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The database already holds units (their count); the demo never mixes with real data.
    #[error("演示城市须建在空数据库中，而该数据库已登记 {0} 个单位；请另选一个数据库目录")]
    StoreNotEmpty(usize),
    /// The shipped registry could not be read or rewritten to the demo servers.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A demo website server could not bind its loopback address.
    #[error(transparent)]
    Bind(#[from] BindError),
    /// A shipped rule set failed to parse: its path and the parser's message.
    #[error("内置规则集 {0} 无法使用：{1}")]
    Rules(String, String),
    /// A shipped crawl profile failed to load, or the demo notice could not be drafted.
    #[error("抓取配置无法使用：{0}")]
    Crawl(String),
    /// A demo account could not be created; the store's message.
    #[error("演示账号无法创建：{0}")]
    Account(String),
    /// The current cycle could not be set; the store's message.
    #[error("无法设置当前评估周期：{0}")]
    Cycle(String),
    /// Units could not be assigned to an inspector group; the store's message.
    #[error("检查小组无法分配单位：{0}")]
    Assignment(String),
    /// The city has no unit for inspectors to visit.
    #[error(transparent)]
    Inspection(#[from] NothingToInspect),
    /// A crawl or assessment job failed.
    #[error(transparent)]
    Job(#[from] JobError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How much the demo city holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DemoCounts {
    /// Units registered and served.
    pub units: usize,
    /// What the previous quarter's crawl found.
    pub earlier_crawl: CrawlCounts,
    /// What the current quarter's crawl found.
    pub current_crawl: CrawlCounts,
    /// Inspectors' visits recorded.
    pub visits: usize,
    /// Findings those visits recorded.
    pub inspector_findings: usize,
    /// Units that submitted a self-assessment.
    pub self_assessed_units: usize,
    /// Self-assessment claims, over all units.
    pub claims: usize,
    /// Responses the demo servers had written when the build finished.
    pub pages_served: u64,
}

/// A built demo city. Keep it (its `sites` above all) for as long as the demo is served:
/// dropping it stops the websites.
#[derive(Debug)]
pub struct DemoCity {
    /// The running websites; dropping them stops the demo sites.
    pub sites: DemoSites,
    /// One account per role, with its generated password.
    pub accounts: Vec<DemoAccount>,
    /// Oldest first.
    pub cycles: Vec<DemoCycle>,
    /// The cycle marked current for the dashboard.
    pub current_cycle: String,
    /// How much the city holds, for the summary the command prints.
    pub counts: DemoCounts,
}

impl DemoCity {
    /// The demo account of `role`, if the demo made one.
    pub fn account(&self, role: Role) -> Option<&DemoAccount> {
        self.accounts.iter().find(|a| a.role == role)
    }
}

/// The seeded plan of the demo city for `units` (registry order), sized by the shipped
/// profiles.
pub(crate) fn new_plan(units: &[Unit]) -> Result<CityPlan, DemoError> {
    let site = SiteProfile::builtin().map_err(|e| DemoError::Crawl(e.to_string()))?;
    let catalogue = CatalogueProfile::builtin().map_err(|e| DemoError::Crawl(e.to_string()))?;
    Ok(CityPlan::new(
        units,
        |kind| site.columns_for(kind).len(),
        |kind| catalogue.classes_for(kind).len(),
        site.identity.len(),
    ))
}

fn rule_set(file: ShippedFile) -> Result<RuleSet, DemoError> {
    RuleSet::parse(file.text, file.path).map_err(|e| DemoError::Rules(file.path.to_owned(), e.to_string()))
}

/// Builds the demo city into `store`, which must hold no units yet. `progress` shows each
/// stage as it runs (the crawls and assessments report their own counters); marking it finished
/// or failed is left to the caller. The servers keep running in the returned [`DemoCity`].
pub async fn build(store: &Store, progress: &Progress) -> Result<DemoCity, DemoError> {
    let existing = store.units().await?.len();
    if existing > 0 {
        return Err(DemoError::StoreNotEmpty(existing));
    }
    let website_rules = rule_set(WEBSITE_RULES)?;
    let city_rules = rule_set(CITY_RULES)?;
    let units = city::registry_units()?;
    let plan = new_plan(&units)?;
    let inspection = inspection::plan_inspection(&units, &plan, VISITS_FROM, CURRENT_AS_OF - Days::new(1))?;

    progress.stage("启动演示网站与公开目录", units.len());
    let world = sites::World::new(
        units.clone(),
        plan,
        SiteProfile::builtin().map_err(|e| DemoError::Crawl(e.to_string()))?,
        CatalogueProfile::builtin().map_err(|e| DemoError::Crawl(e.to_string()))?,
        (EARLIER_AS_OF, CURRENT_AS_OF),
    );
    let sites = DemoSites::start(Arc::new(world)).await?;
    progress.advance(sites.len());
    let served = city::served_units(&units, sites.addresses());

    progress.stage("导入演示单位", 1);
    import_units(store, &served).await?;
    progress.advance(1);

    // The previous quarter: the sites as they were then, crawled and scored as of then.
    sites.world().set_era(Era::Earlier);
    let earlier_crawl = pipeline::crawl_city(store, &served, EARLIER_AS_OF, progress).await?;
    let mut cycles =
        vec![pipeline::assess(store, &website_rules, WEBSITE_RULES.text, EARLIER_AS_OF, progress).await?];

    // The current quarter, with the inspectors' visits and the units' self-assessments.
    sites.world().set_era(Era::Current);
    let current_crawl = pipeline::crawl_city(store, &served, CURRENT_AS_OF, progress).await?;
    progress.stage("记录特邀监察员检查与单位自评", 2);
    let visits = store
        .record_visits(
            &inspection.visits,
            evidence_audit("visits.import", serde_json::json!({ "visits": inspection.visits.len() })),
        )
        .await?;
    progress.advance(1);
    let claims = store
        .record_self_assessment(
            &inspection.claims,
            evidence_audit(
                "self_assessment.import",
                serde_json::json!({ "claims": inspection.claims.len() }),
            ),
        )
        .await?;
    progress.advance(1);
    let website_cycle =
        pipeline::assess(store, &website_rules, WEBSITE_RULES.text, CURRENT_AS_OF, progress).await?;
    let current_cycle = website_cycle.cycle.clone();
    cycles.push(website_cycle);
    cycles.push(pipeline::assess(store, &city_rules, CITY_RULES.text, CURRENT_AS_OF, progress).await?);
    let audit = AuditEntry::new(DEMO_ACTOR, "cycle.set_current").target(current_cycle.clone());
    store.set_current_cycle(&current_cycle, audit).await.map_err(|e| DemoError::Cycle(e.to_string()))?;

    progress.stage("创建演示账号与检查小组", GROUPS.len() + 1);
    let (first_group, _) = GROUPS[0];
    let unit_name = units.iter().find(|u| u.code == inspection.demo_unit).map_or("", |u| u.name.as_str());
    let accounts = accounts::create_accounts(store, first_group, &inspection.demo_unit, unit_name).await?;
    progress.advance(1);
    // The notification loop (issue #12) on the current cycle: published, partly acknowledged, one overdue.
    pipeline::notices::publish_demo_notice(
        store,
        &current_cycle,
        CURRENT_AS_OF,
        "demo-office",
        "demo-leader",
    )
    .await?;
    for (group, members) in &inspection.assignments {
        let audit = AuditEntry::new(DEMO_ACTOR, "group.assign")
            .target(group.clone())
            .detail(serde_json::json!({ "units": members.len(), "demo": true }));
        store.assign_units(group, members, audit).await.map_err(|e| DemoError::Assignment(e.to_string()))?;
        progress.advance(1);
    }

    let counts = DemoCounts {
        units: served.len(),
        earlier_crawl,
        current_crawl,
        visits: visits.visits,
        inspector_findings: visits.findings,
        self_assessed_units: claims.units,
        claims: claims.claims,
        pages_served: sites.pages_served(),
    };
    Ok(DemoCity { sites, accounts, cycles, current_cycle, counts })
}

fn evidence_audit(action: &str, mut detail: serde_json::Value) -> AuditEntry {
    detail["demo"] = serde_json::json!(true);
    AuditEntry::new(DEMO_ACTOR, action).target("演示城市").detail(detail)
}

/// Imports the units as `gongkai units import` would, parent links checked, with one audit
/// record.
async fn import_units(store: &Store, units: &[Unit]) -> Result<(), DemoError> {
    let file = RegistryFile {
        rows: units
            .iter()
            .enumerate()
            .map(|(i, unit)| RegistryRow { line: i as u64 + 2, unit: unit.clone() })
            .collect(),
        problems: Vec::new(),
        codes_with_problems: HashSet::new(),
        encoding: "UTF-8",
    };
    let plan = plan_import(&file, &[]).map_err(RegistryError)?;
    let audit = AuditEntry::new(DEMO_ACTOR, "units.import")
        .target("docs/examples/units-268.csv")
        .detail(serde_json::json!({ "units": units.len(), "demo": true }));
    store.apply_unit_import(&plan, audit, |_| {}).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rule_sets_parse_and_the_dates_are_in_order() {
        assert!(rule_set(WEBSITE_RULES).is_ok());
        assert!(rule_set(CITY_RULES).is_ok());
        assert!(EARLIER_AS_OF < VISITS_FROM && VISITS_FROM < CURRENT_AS_OF);
    }
}
