//! Crawls and assessments started from the dashboard, run in the background: the start is
//! audited, the work is the library's ([`crate::jobs`], the same code the CLI runs), and the
//! outcome is summed up in lines and links for the job page.

use chrono::NaiveDate;

use super::audit::record;
use crate::crawl::catalogue::CatalogueProfile;
use crate::crawl::profile::SiteProfile;
use crate::jobs::{self, AssessRequest, CatalogueCrawl, JobError, Progress, SiteCrawl};
use crate::model::Unit;
use crate::store::{AuditEntry, Store};
use crate::web::jobs::{JobBoard, JobBusy, JobKind, JobLink, JobSummary};
use crate::web::views::ranking::ranking_href;

/// How many per-unit errors a crawl summary lists before saying "and N more".
const ERRORS_LISTED: usize = 20;

/// Which side of a unit a crawl checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, rocket::FromFormField)]
pub enum Scope {
    /// The website and the disclosure catalogue.
    Both,
    /// The website only.
    Site,
    /// The disclosure catalogue only.
    Catalogue,
}

impl Scope {
    /// The scope as the job's title names it.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Both => "网站与公开目录",
            Scope::Site => "网站",
            Scope::Catalogue => "公开目录",
        }
    }

    /// The scope as the audit record names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Both => "both",
            Scope::Site => "site",
            Scope::Catalogue => "catalogue",
        }
    }
}

/// A crawl as the form asked for it.
pub struct CrawlJob {
    /// Which side of the units to check.
    pub scope: Scope,
    /// The units to check.
    pub units: Vec<Unit>,
    /// The day the crawl is "as of".
    pub day: NaiveDate,
    /// The instant findings are stamped with.
    pub observed_at: chrono::DateTime<chrono::Utc>,
    /// Reach loopback and private addresses (the server was started with `--allow-private`).
    pub allow_private: bool,
}

/// Runs a crawl started from the dashboard: audits the start, crawls (through the workers when
/// any is alive) and sums the outcome up for the job page.
pub async fn run_crawl(
    store: &Store,
    audit: AuditEntry,
    job: CrawlJob,
    progress: &Progress,
) -> Result<JobSummary, String> {
    record(store, audit).await.map_err(|e| e.to_string())?;
    let mut summary = JobSummary::default();
    let mut data = serde_json::Map::new();
    if matches!(job.scope, Scope::Both | Scope::Site) {
        let profile = SiteProfile::builtin().map_err(|e| e.to_string())?;
        let request = SiteCrawl {
            profile,
            units: job.units.clone(),
            day: job.day,
            observed_at: job.observed_at,
            allow_private: job.allow_private,
        };
        let report =
            jobs::crawl_sites(store, request, progress).await.map_err(|e: JobError| e.to_string())?;
        let s = &report.summary;
        if s.cancelled {
            summary.cancelled = true;
            summary.lines.push(format!(
                "网站检查已取消：{} 个单位中 {} 个已完成并保存（可访问 {}），抓取页面 {} 个，发现问题 {} 条；\
                 未完成的单位未写入任何结果，保留原有结果",
                report.crawled.len(),
                s.written,
                s.reachable,
                s.pages,
                s.findings
            ));
        } else {
            summary.lines.push(format!(
                "检查网站 {} 个（可访问 {}，未登记网站 {}），抓取页面 {} 个，发现问题 {} 条",
                s.sites, s.reachable, s.without_website, s.pages, s.findings
            ));
        }
        list_errors(&mut summary.lines, s.errors.iter().map(|e| (&e.unit, &e.error)), "网站");
        data.insert("site".into(), serde_json::to_value(s).unwrap_or_default());
    }
    if summary.cancelled && job.scope == Scope::Both {
        summary.lines.push("公开目录检查因任务取消未进行".to_string());
    } else if matches!(job.scope, Scope::Both | Scope::Catalogue) {
        let profile = CatalogueProfile::builtin().map_err(|e| e.to_string())?;
        let request = CatalogueCrawl {
            profile,
            units: job.units,
            day: job.day,
            observed_at: job.observed_at,
            allow_private: job.allow_private,
        };
        let report =
            jobs::crawl_catalogues(store, request, progress).await.map_err(|e: JobError| e.to_string())?;
        let s = &report.summary;
        if s.cancelled {
            summary.cancelled = true;
            summary.lines.push(format!(
                "公开目录检查已取消：{} 个单位中 {} 个已完成并保存（可访问 {}），读取条目 {} 条，发现问题 {} 条；\
                 未完成的单位未写入任何结果，保留原有条目和结果",
                s.units, s.written, s.reachable, s.entries, s.findings
            ));
        } else if s.run.is_some() {
            summary.lines.push(format!(
                "检查公开目录 {} 个（可访问 {}），抓取页面 {} 个，读取条目 {} 条，发现问题 {} 条",
                s.units, s.reachable, s.pages, s.entries, s.findings
            ));
        } else {
            summary.lines.push("所选单位都没有登记公开目录地址，未检查公开目录".to_string());
        }
        list_errors(&mut summary.lines, s.errors.iter().map(|e| (&e.unit, &e.error)), "公开目录");
        data.insert("catalogue".into(), serde_json::to_value(s).unwrap_or_default());
    }
    if !summary.cancelled {
        summary
            .links
            .push(JobLink {
                href: "/office/jobs#assess".to_string(), label: "用新的检查结果评分".into()
            });
    }
    summary.data = serde_json::Value::Object(data);
    Ok(summary)
}

fn list_errors<'a>(
    lines: &mut Vec<String>,
    errors: impl ExactSizeIterator<Item = (&'a String, &'a String)>,
    what: &str,
) {
    let count = errors.len();
    for (unit, error) in errors.take(ERRORS_LISTED) {
        lines.push(format!("单位 {unit} 的{what}检查出错：{error}"));
    }
    if count > ERRORS_LISTED {
        lines.push(format!("另有 {} 个单位的{what}检查出错，未一一列出", count - ERRORS_LISTED));
    }
}

/// Runs an assessment started from the dashboard: audits the start, scores and saves the cycle,
/// and makes it current when asked.
pub async fn run_assessment(
    store: &Store,
    audit: AuditEntry,
    request: AssessRequest,
    make_current: bool,
    progress: &Progress,
) -> Result<JobSummary, String> {
    record(store, audit).await.map_err(|e| e.to_string())?;
    let actor = request.actor.clone();
    let outcome = jobs::assess(store, request, progress).await.map_err(|e: JobError| e.to_string())?;
    let mut summary = JobSummary {
        lines: vec![outcome.summary_zh()],
        links: vec![
            JobLink {
                href: ranking_href(&outcome.cycle),
                label: format!("查看周期 {} 的排名", outcome.cycle),
            },
            JobLink { href: "/office/cycles".into(), label: "评估周期".into() },
        ],
        data: serde_json::to_value(&outcome).unwrap_or_default(),
        cancelled: false,
    };
    if let Some(previous) = &outcome.previous_cycle {
        summary.lines.push(format!("名次变化与上一周期 {previous} 相比"));
    }
    if make_current {
        let audit = AuditEntry::new(actor, "cycles.set_current").target(outcome.cycle.clone());
        store
            .set_current_cycle(&outcome.cycle, audit)
            .await
            .map_err(|e| format!("评分已保存，但未能设为当前周期：{e}"))?;
        summary.lines.push(format!("已将周期 {} 设为当前周期", outcome.cycle));
    }
    Ok(summary)
}

/// Starts a crawl on the job board, in the background: the audit record is written when it
/// starts (with the job's id), and the job can be cancelled from its page.
pub fn start_crawl(
    board: &JobBoard,
    store: &Store,
    title: String,
    started_by: &str,
    audit: AuditEntry,
    job: CrawlJob,
) -> Result<u64, JobBusy> {
    let progress = Progress::default();
    let (watcher, canceller) = (progress.clone(), progress.clone());
    let store = store.clone();
    board.start_cancellable(
        JobKind::Crawl,
        title,
        started_by,
        move || serde_json::to_value(watcher.snapshot()).unwrap_or_default(),
        move || canceller.cancel(),
        move |id| async move {
            let audit = with_job(audit, id);
            finish(&progress, run_crawl(&store, audit, job, &progress).await)
        },
    )
}

/// Starts an assessment on the job board, in the background (it cannot be stopped part-way).
pub fn start_assessment(
    board: &JobBoard,
    store: &Store,
    title: String,
    audit: AuditEntry,
    request: AssessRequest,
    make_current: bool,
) -> Result<u64, JobBusy> {
    let progress = Progress::default();
    let watcher = progress.clone();
    let store = store.clone();
    let started_by = request.actor.clone();
    board.start(
        JobKind::Assess,
        title,
        started_by,
        move || serde_json::to_value(watcher.snapshot()).unwrap_or_default(),
        move |id| async move {
            let audit = with_job(audit, id);
            finish(&progress, run_assessment(&store, audit, request, make_current, &progress).await)
        },
    )
}

/// Adds the job's id to a start record's detail, so the log ties the record to the job page.
fn with_job(mut audit: AuditEntry, id: u64) -> AuditEntry {
    if let serde_json::Value::Object(map) = &mut audit.detail {
        map.insert("job".into(), serde_json::json!(id));
    }
    audit
}

/// Records the outcome in the progress as well, so the snapshot says how the job ended.
fn finish(progress: &Progress, outcome: Result<JobSummary, String>) -> Result<JobSummary, String> {
    match &outcome {
        Ok(summary) if summary.cancelled => progress.cancelled(),
        Ok(_) => progress.finish(),
        Err(message) => progress.fail(message.clone()),
    }
    outcome
}
