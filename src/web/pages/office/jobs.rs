//! Crawls and assessments started from the browser. The work itself is the library's
//! ([`crate::jobs`], the same code the CLI runs); this module checks the request, hands the
//! work to the [`JobBoard`](crate::web::jobs::JobBoard) and shows its progress: a page that
//! refreshes itself while the job runs (no JavaScript needed) and the same as JSON for scripts.
//! A running crawl can be cancelled there (audited): it stops starting units, abandons the ones
//! in flight with nothing written, and keeps what it completed.

use chrono::NaiveDate;
use minijinja::context;
use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::serde::json::Json;
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::{Posted, failed, local_time, parse_codes, record, registered_units, today};
use crate::assess::LaggardCriteria;
use crate::csrf_protected;
use crate::jobs::{self, AssessRequest};
use crate::model::Unit;
use crate::rules::RuleSet;
use crate::rules::shipped;
use crate::store::AuditEntry;
use crate::web::actions::jobs::{CrawlJob, Scope};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::jobs::{CancelRefused, JobState, JobView};
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::{actions, views};

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![jobs_page, job_page, job_status, start_crawl, start_assessment, cancel_job]
}

const PAGE: &str = "/office/jobs";

/// A shipped rule set as the form offers it.
#[derive(Debug, Serialize)]
struct RuleSetChoice {
    file: &'static str,
    id: String,
    title: String,
    version: String,
}

/// The shipped rule set a form names by file name (the form's value), with its exact text.
fn shipped_rule_set(file: &str) -> Result<(RuleSet, &'static str), String> {
    let found = shipped::by_file(file).ok_or_else(|| format!("规则集“{file}”不存在"))?;
    Ok((found.rule_set.clone(), found.file.text))
}

/// The shipped rule sets as the form offers them (those that load; see [`shipped::shipped`]).
fn rule_set_choices() -> Vec<RuleSetChoice> {
    shipped::shipped()
        .iter()
        .map(|s| RuleSetChoice {
            file: s.file.file_name(),
            id: s.rule_set.id().to_string(),
            title: s.rule_set.title().to_string(),
            version: s.rule_set.version().to_string(),
        })
        .collect()
}

/// A job as pages show it: the board's view plus local times and the bar's width.
#[derive(Debug, Serialize)]
struct JobRow {
    #[serde(flatten)]
    view: JobView,
    started: String,
    finished: Option<String>,
    running: bool,
    /// 0–100, for the progress bar.
    percent: u64,
    stage: String,
    done: u64,
    total: u64,
    pages: u64,
    found: u64,
    /// The page offers the 取消 button.
    cancellable: bool,
    cancel_requested: bool,
}

impl From<JobView> for JobRow {
    fn from(view: JobView) -> Self {
        let number = |key: &str| view.progress.get(key).and_then(serde_json::Value::as_u64).unwrap_or(0);
        let (done, total) = (number("done"), number("total"));
        let running = view.state == JobState::Running;
        let percent = match (running, total) {
            (false, _) => 100,
            (true, 0) => 0,
            (true, total) => (done.min(total) * 100) / total,
        };
        JobRow {
            started: local_time(view.started_at),
            finished: view.finished_at.map(local_time),
            running,
            percent,
            stage: view.progress.get("stage").and_then(|s| s.as_str()).unwrap_or_default().to_string(),
            done,
            total,
            pages: number("pages"),
            found: number("found"),
            cancellable: view.cancellable,
            cancel_requested: view.cancel_requested,
            view,
        }
    }
}

#[get("/office/jobs")]
async fn jobs_page(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let jobs: Vec<JobRow> = state.jobs.jobs().into_iter().map(JobRow::from).collect();
    let overview = views::jobs::overview(&state.store).await?;
    state.templates.page(
        "office/jobs.html",
        &user,
        flash,
        context! {
            jobs => jobs,
            rule_sets => rule_set_choices(),
            today => today(),
            units => overview.units,
            cluster => overview.cluster,
            allow_private => state.config.allow_private,
        },
    )
}

#[get("/office/jobs/<id>")]
async fn job_page(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
    id: u64,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let job = state.jobs.job(id).map(JobRow::from).ok_or(WebError::NotFound)?;
    state.templates.page("office/job.html", &user, flash, context! { job => job })
}

/// The job as JSON, for scripts that start a job and wait for it.
#[get("/office/jobs/<id>/status")]
async fn job_status(state: &State<AppState>, user: CurrentUser, id: u64) -> Result<Json<JobView>, WebError> {
    user.require_office()?;
    state.jobs.job(id).map(Json).ok_or(WebError::NotFound)
}

/// The day a job is "as of": the form's date, or today.
fn as_of_day(raw: &str) -> Result<NaiveDate, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return NaiveDate::parse_from_str(&today(), "%Y-%m-%d").map_err(|e| e.to_string());
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| format!("日期“{raw}”无效，应为 YYYY-MM-DD"))
}

#[derive(FromForm)]
struct CrawlForm {
    #[field(default = String::new())]
    csrf: String,
    scope: Scope,
    /// Empty: every registered unit.
    #[field(default = String::new())]
    units: String,
    #[field(default = String::new())]
    as_of: String,
}

#[derive(FromForm)]
struct AssessForm {
    #[field(default = String::new())]
    csrf: String,
    rule_set: String,
    /// Empty: `<rule set id>-<day>`.
    #[field(default = String::new())]
    cycle: String,
    #[field(default = String::new())]
    as_of: String,
    make_current: bool,
}

#[derive(FromForm)]
struct CancelForm {
    #[field(default = String::new())]
    csrf: String,
}

csrf_protected!(CrawlForm, AssessForm, CancelForm);

fn started(id: u64) -> Posted {
    Ok(Ok(Flash::success(Redirect::to(format!("{PAGE}/{id}")), format!("任务 {id} 已开始"))))
}

/// The units a crawl covers, or why it cannot run.
fn crawl_units(all: Vec<Unit>, codes: &str) -> Result<Vec<Unit>, String> {
    if all.is_empty() {
        return Err("还没有登记任何单位，请先在“单位”页导入单位名录".to_string());
    }
    let codes = parse_codes(codes)?;
    if codes.is_empty() {
        return Ok(all);
    }
    registered_units(&all, &codes)
}

#[post("/office/jobs/crawl", data = "<form>")]
async fn start_crawl(state: &State<AppState>, user: CurrentUser, form: CsrfForm<CrawlForm>) -> Posted {
    user.require_office()?;
    let day = match as_of_day(&form.as_of) {
        Ok(day) => day,
        Err(message) => return failed(PAGE, message),
    };
    let units = match crawl_units(views::jobs::registered_units(&state.store).await?, &form.units) {
        Ok(units) => units,
        Err(message) => return failed(PAGE, message),
    };
    let everyone = form.units.trim().is_empty();
    let scope = form.scope;
    // A crawl of today is stamped now; one of a past day at noon that day, reproducibly.
    let as_of =
        if form.as_of.trim().is_empty() || day.to_string() == today() { None } else { Some(day.to_string()) };
    let (day, observed_at) = match jobs::crawl_instant(as_of.as_deref()) {
        Ok(instant) => instant,
        Err(error) => return failed(PAGE, error.to_string()),
    };
    let title = format!(
        "检查{} · {} · 截至 {day}",
        scope.label(),
        if everyone {
            format!("全部 {} 个单位", units.len())
        } else {
            format!("{} 个指定单位", units.len())
        }
    );
    let audit = AuditEntry::new(&user.account.username, "jobs.crawl").target(scope.as_str()).detail(
        serde_json::json!({
            "as_of": day.to_string(),
            "units": if everyone { serde_json::json!("all") } else {
                serde_json::json!(units.iter().map(|u| u.code.to_string()).collect::<Vec<_>>())
            },
            "allow_private": state.config.allow_private,
        }),
    );
    let request = CrawlJob { scope, units, day, observed_at, allow_private: state.config.allow_private };
    let started_job =
        actions::jobs::start_crawl(&state.jobs, &state.store, title, &user.account.username, audit, request);
    match started_job {
        Ok(id) => started(id),
        Err(busy) => failed(PAGE, busy.to_string()),
    }
}

#[post("/office/jobs/assess", data = "<form>")]
async fn start_assessment(state: &State<AppState>, user: CurrentUser, form: CsrfForm<AssessForm>) -> Posted {
    user.require_office()?;
    let form = form.into_inner();
    let (rule_set, source) = match shipped_rule_set(&form.rule_set) {
        Ok(found) => found,
        Err(message) => return failed(PAGE, message),
    };
    let day = match as_of_day(&form.as_of) {
        Ok(day) => day,
        Err(message) => return failed(PAGE, message),
    };
    let (day, cutoff) = match jobs::assessment_cutoff(Some(&day.to_string())) {
        Ok(cutoff) => cutoff,
        Err(error) => return failed(PAGE, error.to_string()),
    };
    let cycle = match cycle_name(&form.cycle, rule_set.id(), day) {
        Ok(cycle) => cycle,
        Err(message) => return failed(PAGE, message),
    };
    if views::jobs::registered_units(&state.store).await?.is_empty() {
        return failed(PAGE, "还没有登记任何单位，请先在“单位”页导入单位名录");
    }
    let actor = user.account.username.clone();
    let title = format!("{}（{} 版）· 周期 {cycle} · 截至 {day}", rule_set.title(), rule_set.version());
    let audit = AuditEntry::new(&actor, "jobs.assess").target(cycle.clone()).detail(serde_json::json!({
        "rule_set": rule_set.id(), "version": rule_set.version(), "as_of": day.to_string(),
        "make_current": form.make_current,
    }));
    let request = AssessRequest {
        rule_set,
        source: source.to_string(),
        criteria: LaggardCriteria::shipped(),
        cycle: Some(cycle),
        day,
        cutoff,
        actor: actor.clone(),
        save: true,
    };
    let make_current = form.make_current;
    let started_job =
        actions::jobs::start_assessment(&state.jobs, &state.store, title, audit, request, make_current);
    match started_job {
        Ok(id) => started(id),
        Err(busy) => failed(PAGE, busy.to_string()),
    }
}

/// Asks a running crawl to stop. The request is audited first (a job is never stopped
/// unaudited); the job then saves the units it completed and ends as 已取消.
#[post("/office/jobs/<id>/cancel", data = "<form>")]
async fn cancel_job(
    state: &State<AppState>,
    user: CurrentUser,
    id: u64,
    form: CsrfForm<CancelForm>,
) -> Posted {
    user.require_office()?;
    let _ = form;
    let here = format!("{PAGE}/{id}");
    let job = state.jobs.job(id).ok_or(WebError::NotFound)?;
    if job.state != JobState::Running {
        return failed(&here, CancelRefused::NotRunning.to_string());
    }
    if !job.cancellable {
        let refused = if job.cancel_requested {
            CancelRefused::AlreadyRequested
        } else {
            CancelRefused::NotCancellable
        };
        return failed(&here, refused.to_string());
    }
    let audit = AuditEntry::new(&user.account.username, "jobs.cancel").target(id.to_string()).detail(
        serde_json::json!({ "job": id, "kind": job.kind, "title": job.title, "progress": job.progress }),
    );
    record(&state.store, audit).await?;
    match state.jobs.cancel(id) {
        Ok(_) => {
            Ok(Ok(Flash::success(Redirect::to(here), format!("已请求取消任务 {id}，正在保存已完成的单位"))))
        }
        Err(CancelRefused::NotFound) => Err(WebError::NotFound),
        Err(refused) => failed(&here, refused.to_string()),
    }
}

/// The cycle's id: the form's, or `<rule set id>-<day>` as the CLI names it.
fn cycle_name(raw: &str, rule_set_id: &str, day: NaiveDate) -> Result<String, String> {
    let cycle = raw.trim();
    if cycle.is_empty() {
        return Ok(format!("{rule_set_id}-{day}"));
    }
    if cycle.chars().count() > 64 || cycle.chars().any(char::is_control) {
        return Err("周期名称最多 64 个字符，且不能含控制字符".to_string());
    }
    Ok(cycle.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::jobs::{JobKind, JobSummary};

    #[test]
    fn every_shipped_rule_set_loads() {
        let choices = rule_set_choices();
        assert_eq!(choices.len(), shipped::FILES.len());
        assert!(shipped_rule_set("city-disclosure-2009.toml").is_ok());
        assert!(shipped_rule_set("laggards.toml").is_err());
        assert!(choices.iter().any(|c| c.id == "gov-website-2019"));
    }

    #[test]
    fn cycles_are_named_after_the_rule_set_and_day_by_default() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        assert_eq!(cycle_name("  ", "gov-website-2019", day).as_deref(), Ok("gov-website-2019-2026-11-30"));
        assert_eq!(cycle_name(" 2026年度 ", "x", day).as_deref(), Ok("2026年度"));
        assert!(cycle_name("a\nb", "x", day).is_err());
        assert!(cycle_name(&"长".repeat(65), "x", day).is_err());
    }

    fn view(state: JobState, done: u64, total: u64) -> JobView {
        JobView {
            id: 1,
            kind: JobKind::Crawl,
            kind_label: "",
            title: String::new(),
            started_by: String::new(),
            started_at: chrono::Utc::now(),
            finished_at: None,
            elapsed_seconds: 0,
            state,
            progress: serde_json::json!({ "stage": "抓取网站", "done": done, "total": total }),
            summary: None,
            error: None,
            cancellable: state == JobState::Running,
            cancel_requested: false,
        }
    }

    #[test]
    fn the_bar_is_full_when_done_and_never_overflows() {
        assert_eq!(JobRow::from(view(JobState::Running, 1, 4)).percent, 25);
        assert_eq!(JobRow::from(view(JobState::Running, 9, 4)).percent, 100);
        assert_eq!(JobRow::from(view(JobState::Running, 0, 0)).percent, 0);
        assert_eq!(JobRow::from(view(JobState::Finished, 0, 0)).percent, 100);
    }

    #[test]
    fn a_running_job_page_refreshes_itself_and_a_finished_one_does_not() {
        let templates =
            crate::web::templates::Templates::new(crate::web::pages::TEMPLATES).expect("templates");
        let render = |job: JobView| {
            templates
                .render("office/job.html", context! { job => JobRow::from(job), csrf => "t" })
                .expect("renders")
        };
        let running = render(view(JobState::Running, 1, 4));
        assert!(running.contains(r#"<meta http-equiv="refresh" content="2">"#), "{running}");
        assert!(
            running.contains(r#"<progress class="progress" max="100" value="25">"#)
                && running.contains("1 / 4"),
            "{running}"
        );
        let finished = render(JobView {
            summary: Some(JobSummary { lines: vec!["周期 x 已评分".into()], ..Default::default() }),
            ..view(JobState::Finished, 4, 4)
        });
        assert!(!finished.contains("http-equiv"), "{finished}");
        assert!(finished.contains("周期 x 已评分"));
    }
}
