//! Crawling one unit's website and running the checks on it, and many units at once under a
//! global limit. A site that fails, stalls or panics yields its own findings (or an error in
//! its outcome) and never stops the others.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout_at};
use url::Url;

use super::checks::broken::{LinkOutcome, Referrer};
use super::checks::columns::{ColumnPage, FoundColumn, Searched, SearchedPage};
use super::checks::spam::SpamMatcher;
use super::checks::{self, CheckContext, HiddenRules, ParsedPage, parse_page, site_host};
use super::fetch::{Fetcher, Page};
use super::frontier::{Admission, Frontier, normalize};
use super::parse_pool;
use super::profile::SiteProfile;
use super::{BuildError, FetchConfig};
use crate::model::check::{SITE_UNCHECKED, SITE_UNREACHABLE};
use crate::model::{Finding, Metric, OrgCode, Unit};

/// Live counters for a progress display; updated while sites are crawled.
#[derive(Debug, Default)]
pub struct CrawlProgress {
    /// Sites whose crawl has finished, reachable or not.
    pub sites_done: AtomicUsize,
    /// Pages fetched so far, over all sites.
    pub pages: AtomicUsize,
    /// Findings recorded so far, over all sites.
    pub findings: AtomicUsize,
}

/// Everything a crawl shares: fetchers, the profile, the lexicon and the day.
#[derive(Debug, Clone)]
pub struct CrawlEnv {
    /// Fetches as a visitor does; shared by every site so per-host limits hold across them.
    pub fetcher: Fetcher,
    /// Fetches as a search engine does, for the cloaking check (`None` when disabled).
    pub spider: Option<Fetcher>,
    /// The crawl profile: columns, cadences, limits.
    pub profile: Arc<SiteProfile>,
    /// The spam lexicon and injection shapes, compiled once per crawl.
    pub matcher: Arc<SpamMatcher>,
    /// The day freshness is judged against (a calendar day on the city clock).
    pub as_of: NaiveDate,
    /// The instant every finding and metric of this crawl is stamped with, UTC.
    pub observed_at: DateTime<Utc>,
    /// The annual report template (`crawlers/annual-report.toml`, issue #17).
    pub report: Arc<super::report::ReportTemplate>,
    /// The annual reports read in this crawl, for the city-wide near-duplicate check.
    pub reports: Arc<super::report::Registry>,
}

/// The environment could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// The fetcher could not be built from the profile's fetch settings.
    #[error(transparent)]
    Fetcher(#[from] BuildError),
    /// The spam lexicon could not be compiled.
    #[error("违规词库无法使用：{0}")]
    Lexicon(#[from] aho_corasick::BuildError),
    /// The annual report template (`crawlers/annual-report.toml`) could not be loaded.
    #[error(transparent)]
    Template(#[from] super::report::TemplateError),
}

impl CrawlEnv {
    /// `allow_private` from the command line widens the profile's fetch settings.
    pub fn new(
        profile: SiteProfile,
        allow_private: bool,
        as_of: NaiveDate,
        observed_at: DateTime<Utc>,
    ) -> Result<Self, EnvError> {
        let mut config: FetchConfig = profile.fetch.clone();
        config.allow_private |= allow_private;
        let fetcher = Fetcher::new(config)?;
        // The search engine's fetch of a home page counts against the host's limits too.
        let cloaking = &profile.spam.cloaking;
        let spider = if cloaking.enabled {
            Some(fetcher.with_identity(&cloaking.user_agent, cloaking.referer.as_deref())?)
        } else {
            None
        };
        let matcher = Arc::new(SpamMatcher::new(&profile.spam)?);
        let report = Arc::new(super::report::ReportTemplate::builtin()?);
        let reports = Arc::default();
        Ok(Self { fetcher, spider, profile: Arc::new(profile), matcher, as_of, observed_at, report, reports })
    }

    fn rules(&self) -> HiddenRules {
        HiddenRules {
            tiny_font_px: self.profile.spam.tiny_font_px,
            offscreen_px: self.profile.spam.offscreen_px,
        }
    }
}

/// What crawling one site produced.
#[derive(Debug, Clone)]
pub struct SiteOutcome {
    /// The unit whose site was crawled.
    pub unit: OrgCode,
    /// Problems found on the site.
    pub findings: Vec<Finding>,
    /// Measurements, e.g. `home.days_since_update`, that rule sets read by name.
    pub metrics: Vec<Metric>,
    /// Pages fetched from the site.
    pub pages: usize,
    /// The home page answered.
    pub reachable: bool,
    /// The crawl of this site stopped on an internal failure (not a site problem).
    pub error: Option<String>,
}

impl SiteOutcome {
    fn new(unit: &Unit) -> Self {
        Self {
            unit: unit.code.clone(),
            findings: Vec::new(),
            metrics: Vec::new(),
            pages: 0,
            reachable: false,
            error: None,
        }
    }
}

/// Probes a home page once: `None` when it answered, else the `site.unreachable` finding.
pub async fn probe(fetcher: &Fetcher, ctx: &CheckContext<'_>) -> Option<Finding> {
    let website = ctx.unit.website.as_deref()?;
    probe_result(ctx, website, home_fetch(fetcher, website).await).err()
}

async fn home_fetch(fetcher: &Fetcher, website: &str) -> Result<Page, String> {
    let url = Url::parse(website.trim()).map_err(|e| format!("网址无效：{e}"))?;
    fetcher.fetch(&url).await.map_err(|e| e.to_string())
}

/// Turns a home-page fetch into the page, or a `site.unreachable` finding (no answer, or an
/// answer ≥ 500).
fn probe_result(
    ctx: &CheckContext<'_>,
    website: &str,
    fetched: Result<Page, String>,
) -> Result<Page, Finding> {
    match fetched {
        Ok(page) if page.status < 500 => Ok(page),
        Ok(page) => Err(ctx.finding(
            &SITE_UNREACHABLE,
            Some(website),
            json!({ "status": page.status, "elapsed_ms": page.elapsed.as_millis() as u64 }),
        )),
        Err(error) => Err(ctx.finding(&SITE_UNREACHABLE, Some(website), json!({ "error": error }))),
    }
}

/// Crawls many units, at most `max_concurrent_sites` at a time. Outcomes come back in the
/// order of `units`; a unit whose task panicked gets an outcome with its error set.
pub async fn crawl_units(env: &CrawlEnv, units: Vec<Unit>, progress: Arc<CrawlProgress>) -> Vec<SiteOutcome> {
    let limit = Arc::new(Semaphore::new(env.profile.max_concurrent_sites));
    let mut tasks = JoinSet::new();
    let mut by_task = HashMap::new();
    for (index, unit) in units.iter().enumerate() {
        let (env, unit, limit, progress) = (env.clone(), unit.clone(), limit.clone(), progress.clone());
        let handle = tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let outcome = crawl_site(&env, &unit, &progress).await;
            progress.sites_done.fetch_add(1, Ordering::Relaxed);
            outcome
        });
        by_task.insert(handle.id(), index);
    }
    let mut outcomes: Vec<Option<SiteOutcome>> = vec![None; units.len()];
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, outcome)) => {
                if let Some(&index) = by_task.get(&id) {
                    outcomes[index] = Some(outcome);
                }
            }
            Err(error) => {
                if let Some(&index) = by_task.get(&error.id()) {
                    let mut outcome = SiteOutcome::new(&units[index]);
                    outcome.error = Some(format!("检查程序异常终止：{error}"));
                    progress.sites_done.fetch_add(1, Ordering::Relaxed);
                    outcomes[index] = Some(outcome);
                }
            }
        }
    }
    outcomes.into_iter().zip(&units).map(|(o, unit)| o.unwrap_or_else(|| SiteOutcome::new(unit))).collect()
}

/// Crawls one unit's site and runs every website check.
pub async fn crawl_site(env: &CrawlEnv, unit: &Unit, progress: &CrawlProgress) -> SiteOutcome {
    let mut outcome = SiteOutcome::new(unit);
    let ctx = CheckContext { unit, as_of: env.as_of, observed_at: env.observed_at, profile: &env.profile };
    let Some(website) = unit.website.as_deref().map(str::trim).filter(|w| !w.is_empty()) else {
        // 未能核查 (issue #10): a unit with no registered website cannot be checked either, and
        // "nothing checked" must never read as "nothing wrong".
        progress.findings.fetch_add(1, Ordering::Relaxed);
        outcome.findings.push(ctx.finding(
            &SITE_UNCHECKED,
            None,
            json!({ "reason": "单位名录中未登记网站地址，网站各项检查均未能进行" }),
        ));
        return outcome;
    };
    // Issue #11: the site's budget covers everything from the home page on.
    let deadline = Instant::now() + Duration::from_secs(env.profile.site_budget_secs);
    let fetched = home_fetch(&env.fetcher, website).await;
    progress.pages.fetch_add(1, Ordering::Relaxed);
    outcome.pages = 1;
    let home_page = match probe_result(&ctx, website, fetched) {
        Ok(page) => page,
        Err(finding) => {
            // 未能核查 (issue #10): nothing on the site could be checked, which is not "nothing wrong".
            let error = match finding.detail.get("error").and_then(|e| e.as_str()) {
                Some(error) => error.to_owned(),
                None => format!("HTTP {}", finding.detail["status"]),
            };
            let unchecked = ctx.finding(
                &SITE_UNCHECKED,
                Some(website),
                json!({ "reason": "网站首页无法访问，网站各项检查均未能进行", "error": error }),
            );
            progress.findings.fetch_add(2, Ordering::Relaxed);
            outcome.findings.push(finding);
            outcome.findings.push(unchecked);
            return outcome;
        }
    };
    outcome.reachable = true;
    let mut home_page = home_page;
    let (body, base, rules) = (std::mem::take(&mut home_page.body), home_page.url.clone(), env.rules());
    // Parsed off the async runtime, in a bounded pool (#11); a parse that panicked leaves an
    // empty home page, as an empty body would.
    let home = parse_pool::parse(move || parse_page(&body, &base, rules)).await.unwrap_or_default();
    let mut crawl = SiteCrawl::new(env, &ctx, home_page, home, deadline);
    crawl.run(progress).await;
    let (mut findings, metrics) = crawl.finish(progress).await;
    if crawl.timed_out {
        // 未能核查 (issue #10): the site's time budget ran out before every page was read.
        let budget = env.profile.site_budget_secs;
        findings.push(ctx.finding(
            &SITE_UNCHECKED,
            Some(website),
            json!({ "reason": format!("网站检查超出时间预算（{budget} 秒），部分页面未能检查"),
                    "budget_secs": budget, "pages": crawl.pages }),
        ));
    }
    outcome.pages = crawl.pages;
    progress.findings.fetch_add(findings.len(), Ordering::Relaxed);
    outcome.findings = findings;
    outcome.metrics = metrics;
    outcome
}

/// Fetches a URL and parses it off the async threads (a 5 MB page takes a while to parse, and
/// must not hold up other sites' timers). The page comes back without its body, which is no
/// longer needed; the parse result says why there is nothing to check when there is not.
async fn fetch_and_parse(
    fetcher: &Fetcher,
    url: &Url,
    rules: HiddenRules,
) -> (Result<Page, String>, Result<ParsedPage, String>) {
    let mut page = match fetcher.fetch(url).await {
        Ok(page) => page,
        Err(error) => {
            let error = error.to_string();
            return (Err(error.clone()), Err(error));
        }
    };
    let parsed = if page.is_success() && page.is_html() {
        let (body, base) = (std::mem::take(&mut page.body), page.url.clone());
        parse_pool::parse(move || parse_page(&body, &base, rules)).await
    } else if page.is_success() {
        Err(format!("不是网页（{}）", page.content_type.as_deref().unwrap_or("未知类型")))
    } else {
        Err(format!("HTTP {}", page.status))
    };
    page.body = String::new();
    (Ok(page), parsed)
}

/// A URL in the frontier's canonical form (fragment dropped, host lower-cased), so that
/// lookups by URL agree with what the frontier queued and the fetcher fetched.
fn canonical(url: &Url) -> Url {
    normalize(url).unwrap_or_else(|| url.clone())
}

/// Frames of a home page's frameset read at most.
const MAX_FRAMES: usize = 6;

/// The state of one site's crawl.
struct SiteCrawl<'a> {
    env: &'a CrawlEnv,
    ctx: &'a CheckContext<'a>,
    home_url: Url,
    home: ParsedPage,
    site: String,
    frontier: Option<Frontier>,
    /// The first page found linking to each URL.
    referrers: HashMap<Url, Referrer>,
    /// Column and consultation pages, kept for their checks.
    wanted: HashSet<Url>,
    kept: HashMap<Url, Result<ParsedPage, String>>,
    columns: Vec<FoundColumn>,
    /// Where the columns were looked for (home page, disclosure landing page, “more” pages).
    searched: Searched,
    /// The disclosure landing page, its section indexes and its “more” pages: navigation, not
    /// items, when a column page repeats them.
    section_nav: HashSet<Url>,
    /// Consultation channels linked from the home page or the landing page.
    channels: Vec<Url>,
    findings: Vec<Finding>,
    spam: Vec<checks::Keyed>,
    /// Phrases of an injection's shape seen so far, judged over the whole site at the end.
    injections: checks::injection::SiteInjections,
    broken: Vec<Finding>,
    /// Link texts and titles that may announce the annual report.
    report_texts: Vec<String>,
    /// Links whose text may announce the annual report, with their targets (to read it).
    report_links: Vec<(String, Url)>,
    external: HashSet<Url>,
    pages: usize,
    /// When the site's budget (`site_budget_secs`) runs out: no fetch starts after it, and a
    /// fetch still running then is abandoned (issue #11).
    deadline: Instant,
    /// The budget ran out: pages were left unread, so the site is only partly checked.
    timed_out: bool,
    /// Pages whose markup nested deeper than [`crate::crawl::nesting::MAX_DEPTH`], with the
    /// levels flattened: findings on them say so, since the unit may dispute what was read.
    flattened: HashMap<String, usize>,
    /// Pages of the home page's `<frameset>`: what a visitor sees as the home page (after
    /// [`SiteCrawl::merge_frames`], those that could be read).
    frames: Vec<Url>,
}

impl<'a> SiteCrawl<'a> {
    /// `home` is `home_page` parsed; the page's body is no longer needed.
    fn new(
        env: &'a CrawlEnv,
        ctx: &'a CheckContext<'a>,
        home_page: Page,
        mut home: ParsedPage,
        deadline: Instant,
    ) -> Self {
        let home_url = home_page.url.clone();
        // Column and consultation pages are looked up by the frontier's form of their URL.
        for link in &mut home.links {
            link.url = canonical(&link.url);
        }
        let site = site_host(home_url.host_str().unwrap_or_default()).to_ascii_lowercase();
        let frames = frame_sources(&home.frameset, &home_url);
        let mut frontier = Frontier::new(&home_url, env.profile.frontier.clone());
        if let Some(frontier) = frontier.as_mut() {
            for original in &home_page.redirects {
                if let Some(host) = original.host_str() {
                    frontier.allow_host(host);
                }
            }
            if let Some(host) = home_url.host_str() {
                let twin = match host.strip_prefix("www.") {
                    Some(bare) => bare.to_owned(),
                    None => format!("www.{host}"),
                };
                frontier.allow_host(&twin);
            }
            // Issue #11: the registered catalogue's host and the profile's `follow_hosts` too.
            let catalogue = ctx.unit.catalogue_url.as_deref().and_then(|u| Url::parse(u.trim()).ok());
            let listed = env.profile.links.follow_hosts.iter().map(String::as_str);
            frontier.allow_hosts(listed.chain(catalogue.as_ref().and_then(Url::host_str)));
        }
        Self {
            env,
            ctx,
            home_url,
            home,
            site,
            frontier,
            referrers: HashMap::new(),
            wanted: HashSet::new(),
            kept: HashMap::new(),
            columns: Vec::new(),
            searched: Searched::default(),
            section_nav: HashSet::new(),
            channels: Vec::new(),
            findings: Vec::new(),
            spam: Vec::new(),
            injections: Default::default(),
            broken: Vec::new(),
            report_texts: Vec::new(),
            report_links: Vec::new(),
            external: HashSet::new(),
            pages: 1,
            deadline,
            timed_out: false,
            flattened: HashMap::new(),
            frames,
        }
    }

    /// Checks that look at one page alone, and queueing its links.
    fn absorb(&mut self, url: &Url, depth: u32, page: &ParsedPage) {
        let ctx = self.ctx;
        if page.flattened > 0 {
            self.flattened.insert(url.to_string(), page.flattened);
        }
        self.spam.extend(checks::spam::check_page(ctx, &self.env.matcher, url.as_str(), page, &self.site));
        self.injections.absorb(self.env.matcher.injection(), ctx, url.as_str(), page);
        self.report_texts.push(page.title.clone());
        let patterns = &self.env.profile.annual_report.patterns;
        for link in &page.links {
            if patterns.iter().any(|p| link.text.contains(p.as_str())) {
                self.report_texts.push(link.text.clone());
                self.report_links.push((link.text.clone(), canonical(&link.url)));
            }
            let admission = match self.frontier.as_mut() {
                Some(frontier) => frontier.push(&link.url, depth + 1),
                None => Admission::NotWeb,
            };
            let target = canonical(&link.url);
            let tracked = match admission {
                Admission::Queued => true,
                Admission::OffSite if self.env.profile.links.check_external => {
                    self.external.insert(target.clone())
                }
                _ => false,
            };
            if tracked {
                self.referrers
                    .entry(target)
                    .or_insert_with(|| Referrer { page: url.to_string(), text: link.text.clone() });
            }
        }
    }

    /// Whether `url` is on the unit's site (issue #11): pages outside the crawl's order (landing,
    /// “more”, column and consultation pages) are fetched only there, like the crawl's own.
    fn on_site(&self, url: &Url) -> bool {
        self.frontier.as_ref().is_none_or(|frontier| frontier.on_site(url))
    }

    /// Whether the site's budget has run out (and, if so, remembers it).
    fn out_of_budget(&mut self) -> bool {
        if Instant::now() >= self.deadline {
            self.timed_out = true;
        }
        self.timed_out
    }

    /// Fetches and parses `url` within the site's budget; `None` when the budget ran out first.
    async fn fetch_budgeted(
        &mut self,
        url: &Url,
        progress: &CrawlProgress,
    ) -> Option<(Result<Page, String>, Result<ParsedPage, String>)> {
        if self.out_of_budget() {
            return None;
        }
        let fetched =
            timeout_at(self.deadline, fetch_and_parse(&self.env.fetcher, url, self.env.rules())).await;
        let Ok((page, parsed)) = fetched else {
            self.timed_out = true;
            return None;
        };
        progress.pages.fetch_add(1, Ordering::Relaxed);
        self.pages += 1;
        if let Ok(parsed) = &parsed
            && parsed.flattened > 0
        {
            self.flattened.insert(url.to_string(), parsed.flattened);
        }
        Some((page, parsed))
    }

    /// Fetches one page the checks look at outside the crawl's order (its links in the
    /// frontier's form, like the home page's); `None` when the site's budget ran out first.
    async fn fetch_aside(
        &mut self,
        url: &Url,
        progress: &CrawlProgress,
    ) -> Option<Result<ParsedPage, String>> {
        let (_, parsed) = self.fetch_budgeted(url, progress).await?;
        Some(parsed.map(|mut page| {
            for link in &mut page.links {
                link.url = canonical(&link.url);
            }
            page
        }))
    }

    /// A home page built of frames is, to a visitor, its frames' pages together: their text,
    /// links and footer become the home page's for every check that reads it.
    async fn merge_frames(&mut self, progress: &CrawlProgress) {
        for url in std::mem::take(&mut self.frames) {
            let Some(Ok(frame)) = self.fetch_aside(&url, progress).await else { continue };
            self.frames.push(url);
            let home = &mut self.home;
            for (into, from) in [
                (&mut home.text, frame.text),
                (&mut home.masthead, frame.masthead),
                (&mut home.attr_text, frame.attr_text),
            ] {
                if !from.is_empty() {
                    into.push(' ');
                    into.push_str(&from);
                }
            }
            home.links.extend(frame.links);
            home.hidden.extend(frame.hidden);
            home.scripts.extend(frame.scripts);
            home.rows.extend(frame.rows);
            home.headings.extend(frame.headings);
            home.blocks.extend(frame.blocks);
        }
    }

    /// Finds the required columns where real sites put them: the home page (with its frames),
    /// the disclosure landing page linked from it, and the pages the landing page's and the
    /// home page's “more” links lead to. Columns (and consultation channels) found become pages
    /// to keep during the crawl.
    async fn discover_columns(&mut self, progress: &CrawlProgress) {
        let env = self.env;
        let search = &env.profile.column_search;
        let home_url = self.home_url.clone();
        self.searched.pages.push(home_url.to_string());
        self.searched.pages.extend(self.frames.iter().map(Url::to_string));
        let landing_url = checks::columns::landing_link(&self.home.links, search)
            .map(|l| l.url.clone())
            .filter(|u| *u != canonical(&home_url) && self.on_site(u));
        let mut landing = None;
        if let Some(url) = landing_url {
            match self.fetch_aside(&url, progress).await {
                None => {}
                Some(Ok(page)) => {
                    self.searched.pages.push(url.to_string());
                    self.section_nav.insert(url.clone());
                    self.section_nav.extend(
                        page.links
                            .iter()
                            .filter(|l| l.url.path().ends_with('/') && l.url.query().is_none())
                            .map(|l| l.url.clone()),
                    );
                    landing = Some((url, page));
                }
                Some(Err(reason)) => self.searched.unreadable.push((url.to_string(), reason)),
            }
        }
        // Blocks whose heading is plain text lead to their column only through “more”: the
        // landing page's first (the disclosure columns live there), then the home page's.
        let canonical_home = canonical(&home_url);
        let mut skip = vec![&home_url, &canonical_home];
        skip.extend(landing.as_ref().map(|(url, _)| url));
        let landing_links = landing.as_ref().map(|(_, p)| p.links.as_slice()).unwrap_or_default();
        let targets = checks::columns::more_links(
            landing_links.iter().chain(&self.home.links),
            search,
            &skip,
            search.max_more_pages,
        );
        let mut more: Vec<(Url, ParsedPage)> = Vec::new();
        let targets: Vec<Url> = targets.into_iter().filter(|t| self.on_site(t)).collect();
        for target in targets {
            match self.fetch_aside(&target, progress).await {
                None => break,
                Some(Ok(page)) => {
                    self.searched.pages.push(target.to_string());
                    self.section_nav.insert(target.clone());
                    more.push((target, page));
                }
                Some(Err(reason)) => self.searched.unreadable.push((target.to_string(), reason)),
            }
        }
        let mut pages = vec![SearchedPage {
            url: &home_url,
            title: &self.home.title,
            links: &self.home.links,
            via_more: false,
        }];
        if let Some((url, page)) = &landing {
            pages.push(SearchedPage { url, title: &page.title, links: &page.links, via_more: false });
        }
        for (url, page) in &more {
            pages.push(SearchedPage { url, title: &page.title, links: &page.links, via_more: true });
        }
        let (columns, missing) = checks::columns::find(self.ctx, home_url.as_str(), &pages, &self.searched);
        let settings = &env.profile.interaction;
        self.channels =
            checks::interaction::channel_links(self.home.links.iter().chain(landing_links), settings);
        let channels = std::mem::take(&mut self.channels);
        self.channels =
            channels.into_iter().filter(|url| self.on_site(url)).take(settings.max_pages).collect();
        // A column linked to another site is found (not missing) but not read: its page is not
        // the unit's to answer for unless the office lists its host in `[links] follow_hosts`.
        let judged: Vec<Url> = columns
            .iter()
            .filter(|c| c.spec.cadence.judges_content() && self.on_site(&c.url))
            .map(|c| c.url.clone())
            .collect();
        self.wanted.extend(judged);
        self.wanted.extend(self.channels.iter().cloned());
        for (url, page) in landing.into_iter().chain(more) {
            if self.wanted.contains(&url) {
                self.kept.insert(url, Ok(page));
            }
        }
        self.columns = columns;
        // Pages left unread for want of time may have held the columns: a column is missing
        // only when every page it could be on was read (otherwise site.unchecked says why).
        if !self.timed_out {
            self.findings.extend(missing);
        }
    }

    async fn run(&mut self, progress: &CrawlProgress) {
        self.merge_frames(progress).await;
        self.discover_columns(progress).await;
        let home = std::mem::take(&mut self.home);
        let home_url = self.home_url.clone();
        if let Some(frontier) = self.frontier.as_mut() {
            frontier.pop(); // the home page, already fetched
        }
        self.absorb(&home_url, 0, &home);
        self.home = home;
        // As many at once as the host allows: its `[[fetch.hosts]]` override, or the default.
        let batch = self.env.fetcher.config().concurrency_for(self.home_url.host_str().unwrap_or_default());
        loop {
            if self.out_of_budget() {
                break;
            }
            let mut queued = Vec::new();
            while queued.len() < batch {
                match self.frontier.as_mut().and_then(Frontier::pop) {
                    Some(next) => queued.push(next),
                    None => break,
                }
            }
            if queued.is_empty() {
                break;
            }
            let mut fetches = JoinSet::new();
            for next in queued {
                let (fetcher, rules, deadline) = (self.env.fetcher.clone(), self.env.rules(), self.deadline);
                fetches.spawn(async move {
                    let fetched = timeout_at(deadline, fetch_and_parse(&fetcher, &next.url, rules)).await;
                    (next, fetched)
                });
            }
            while let Some(joined) = fetches.join_next().await {
                let Ok((next, fetched)) = joined else { continue };
                // A page the budget cut short was not read: no finding, broken link or other.
                let Ok((result, parsed)) = fetched else {
                    self.timed_out = true;
                    continue;
                };
                progress.pages.fetch_add(1, Ordering::Relaxed);
                self.pages += 1;
                self.take(next.url, next.depth, result, parsed);
            }
        }
        let external: Vec<Url> = self.external.iter().cloned().collect();
        for url in external {
            // Issue #11: the budget holds before and during every fetch, external links included.
            if self.out_of_budget() {
                break;
            }
            let Ok(result) = timeout_at(self.deadline, self.env.fetcher.fetch(&url)).await else {
                self.timed_out = true;
                break;
            };
            progress.pages.fetch_add(1, Ordering::Relaxed);
            self.pages += 1;
            self.record_link(&url, &result.map_err(|e| e.to_string()));
        }
        // Columns beyond the caps or on another host are still judged.
        let missing: Vec<Url> = self.wanted.iter().filter(|u| !self.kept.contains_key(*u)).cloned().collect();
        for url in missing {
            let Some((_, parsed)) = self.fetch_budgeted(&url, progress).await else { break };
            self.kept.insert(url, parsed);
        }
    }

    /// One fetched URL: link check, page checks, links queued, kept if a check needs it later.
    fn take(
        &mut self,
        url: Url,
        depth: u32,
        result: Result<Page, String>,
        parsed: Result<ParsedPage, String>,
    ) {
        self.record_link(&url, &result);
        if let Ok(page) = &parsed {
            self.absorb(&url, depth, page);
        }
        if self.wanted.contains(&url) {
            self.kept.insert(url, parsed);
        }
    }

    fn record_link(&mut self, url: &Url, result: &Result<Page, String>) {
        let outcome = match result {
            Ok(page) => LinkOutcome::Status(page.status),
            Err(error) => LinkOutcome::Failed(error.clone()),
        };
        let referrer = self
            .referrers
            .get(url)
            .cloned()
            .unwrap_or_else(|| Referrer { page: self.home_url.to_string(), text: String::new() });
        if let Some(finding) = checks::broken::check(self.ctx, url.as_str(), &outcome, &referrer) {
            self.broken.push(finding);
        }
    }

    /// Checks that need the whole crawl, then everything gathered.
    async fn finish(&mut self, progress: &CrawlProgress) -> (Vec<Finding>, Vec<Metric>) {
        let ctx = self.ctx;
        let home_url = self.home_url.to_string();
        let mut findings = std::mem::take(&mut self.findings);
        let (home_findings, mut metrics) = checks::home::check(ctx, &home_url, &self.home);
        findings.extend(home_findings);
        // The site's navigation, which column pages repeat in list rows but which are not
        // items: the home page, the columns, and other section indexes (paths ending in `/`)
        // linked from the home page. Articles the home page features still count as items.
        let mut nav: HashSet<Url> = self
            .home
            .links
            .iter()
            .filter(|l| l.url.path().ends_with('/') && l.url.query().is_none())
            .map(|l| l.url.clone())
            .collect();
        nav.insert(self.home_url.clone());
        nav.extend(self.wanted.iter().cloned());
        nav.extend(self.section_nav.iter().cloned());
        for column in &self.columns {
            let page = match self.kept.get(&column.url) {
                Some(Ok(page)) => ColumnPage::Parsed(page),
                Some(Err(reason)) => ColumnPage::Unavailable(reason.clone()),
                // Left unread when the budget ran out: site.unchecked covers it, not a finding.
                None if self.timed_out => continue,
                // On another site: not fetched, so not judged (see `discover_columns`).
                None if !self.on_site(&column.url) => continue,
                None => ColumnPage::Unavailable("未抓取".to_owned()),
            };
            findings.extend(checks::columns::check(ctx, column, page, &nav, &self.searched));
        }
        findings.extend(checks::identity::check(ctx, &home_url, &self.home));
        findings.append(&mut self.broken);
        self.spam.extend(self.injections.findings(ctx, self.env.profile.spam.injection.max_placements));
        let mut seen = HashSet::new();
        for keyed in std::mem::take(&mut self.spam) {
            if seen.insert(keyed.key) {
                findings.push(keyed.finding);
            }
        }
        findings.extend(checks::spam::check_name(ctx, &home_url, &self.home));
        if let Some(spider) = &self.env.spider
            && !self.out_of_budget()
            && let Ok(Ok(page)) = timeout_at(self.deadline, spider.fetch(&self.home_url)).await
        {
            progress.pages.fetch_add(1, Ordering::Relaxed);
            self.pages += 1;
            if page.is_success() && page.is_html() {
                let (body, base, rules) = (page.body, page.url, self.env.rules());
                let seen_by_spider =
                    parse_pool::parse(move || parse_page(&body, &base, rules)).await.unwrap_or_default();
                findings.extend(checks::spam::check_cloaking(
                    ctx,
                    &self.env.matcher,
                    &home_url,
                    &self.home,
                    &seen_by_spider,
                    &self.site,
                ));
            }
        }
        let capped = self.timed_out || self.frontier.as_ref().is_none_or(Frontier::capped);
        findings.extend(checks::annual::check(
            ctx,
            &home_url,
            self.report_texts.iter().map(String::as_str),
            capped,
        ));
        if self.env.profile.annual_report.read_report {
            let links: Vec<(String, Url)> =
                self.report_links.iter().filter(|(_, url)| self.on_site(url)).cloned().collect();
            let env = self.env;
            let fetch = checks::annual::ReportFetch {
                fetcher: &env.fetcher,
                deadline: self.deadline,
                template: &env.report,
                registry: &env.reports,
            };
            let read = checks::annual::read_report(ctx, fetch, &links).await;
            progress.pages.fetch_add(read.pages, Ordering::Relaxed);
            self.pages += read.pages;
            self.timed_out |= read.timed_out;
            findings.extend(read.findings);
        }
        findings.extend(self.check_interaction(progress).await);
        self.note_flattening(&mut findings);
        if !self.flattened.is_empty() {
            metrics.push(ctx.metric("site.flattened_pages", Decimal::from(self.flattened.len())));
        }
        (findings, metrics)
    }

    /// A finding on a page whose markup was flattened says so (issue #11): the unit disputing
    /// it learns that the page nested deeper than a browser builds, and how many levels were
    /// folded into their enclosing element before the checks read it.
    fn note_flattening(&self, findings: &mut [Finding]) {
        for finding in findings {
            let Some(levels) = finding.url.as_deref().and_then(|url| self.flattened.get(url)) else {
                continue;
            };
            if let Some(detail) = finding.detail.as_object_mut() {
                detail.insert("flattened".into(), json!(levels));
                detail.insert(
                    "flattened_note".into(),
                    json!(format!(
                        "该页元素嵌套超过 {} 层，更深的 {levels} 层已并入外层元素后检查（与浏览器的处理一致）",
                        crate::crawl::nesting::MAX_DEPTH
                    )),
                );
            }
        }
    }

    /// Reads the consultation channels, following links on to the message lists of those
    /// whose page lists no dated message (at most `follow_depth` levels and `max_pages`
    /// pages), and reports the unanswered messages found.
    async fn check_interaction(&mut self, progress: &CrawlProgress) -> Vec<Finding> {
        let settings = &self.env.profile.interaction;
        let mut visited: HashSet<Url> = HashSet::new();
        let mut level: Vec<Url> = self.channels.clone();
        let mut lists: Vec<Url> = Vec::new();
        for depth in 0..=settings.follow_depth {
            let mut next = Vec::new();
            for url in level {
                if visited.len() >= settings.max_pages || !visited.insert(url.clone()) {
                    continue;
                }
                if !self.kept.contains_key(&url) {
                    let Some(parsed) = self.fetch_aside(&url, progress).await else { break };
                    self.kept.insert(url.clone(), parsed);
                }
                let Some(Ok(page)) = self.kept.get(&url) else { continue };
                if checks::interaction::lists_messages(page, self.env.as_of) {
                    lists.push(url);
                } else if depth < settings.follow_depth {
                    let onward = checks::interaction::onward_links(page, settings);
                    next.extend(onward.iter().map(canonical).filter(|url| self.on_site(url)));
                }
            }
            level = next;
        }
        let pages: Vec<(&str, &ParsedPage)> = lists
            .iter()
            .filter_map(|url| match self.kept.get(url) {
                Some(Ok(page)) => Some((url.as_str(), page)),
                _ => None,
            })
            .collect();
        checks::interaction::check(self.ctx, &pages)
    }
}

/// Frames a home page's `<frameset>` shows (`frameset`, from its parse), on the home page's
/// own host, at most [`MAX_FRAMES`]. Inline `<iframe>`s are not frames of the page: they embed
/// other content.
fn frame_sources(frameset: &[Url], base: &Url) -> Vec<Url> {
    let mut frames: Vec<Url> = Vec::new();
    for url in frameset {
        if url.host_str() == base.host_str() && !frames.contains(url) {
            frames.push(canonical(url));
        }
        if frames.len() >= MAX_FRAMES {
            break;
        }
    }
    frames
}
