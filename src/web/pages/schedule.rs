//! The office's schedule page: the jobs in force with their next run, the recent runs, and
//! the schedule's TOML to edit (validated before it is saved; the scheduler reads it on its
//! next tick). "Run now" starts one manual run in the background.

use chrono::Utc;
use minijinja::context;
use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::findings::local_time;
use crate::csrf_protected;
use crate::schedule::Schedule;
use crate::web::actions::schedule::{run_now as start_job, save_schedule};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::schedule::{ScheduleOverview, schedule_overview};

/// The schedule page's template as a (name, source) pair, embedded in the binary.
pub const TEMPLATES: &[(&str, &str)] =
    &[("office/schedule.html", include_str!("../templates/office/schedule.html"))];

/// `/office/schedule`: the crawl and assessment timetable, and running it now.
pub fn routes() -> Vec<rocket::Route> {
    routes![page, save, run_now]
}

#[derive(Serialize)]
struct JobRow {
    name: String,
    kind: &'static str,
    kind_zh: &'static str,
    cron: String,
    next_run: String,
}

#[derive(Serialize)]
struct RunRow {
    job: String,
    kind: String,
    trigger: String,
    started_at: String,
    finished_at: String,
    outcome: String,
    counts: String,
    error: String,
}

#[get("/office/schedule")]
async fn page(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let ScheduleOverview { text, runs, holder } = schedule_overview(&state.store).await?;
    let parsed = Schedule::parse(&text, "定时任务表");
    let now = Utc::now();
    let jobs: Vec<JobRow> = parsed
        .as_ref()
        .map(|s| {
            s.jobs
                .iter()
                .map(|j| JobRow {
                    name: j.name.clone(),
                    kind: j.kind.as_str(),
                    kind_zh: j.kind.label_zh(),
                    cron: j.cron.clone(),
                    next_run: j.next_after(now, s.time_zone).map(local_time).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let runs: Vec<RunRow> = runs
        .into_iter()
        .map(|r| RunRow {
            job: r.job,
            kind: r.kind,
            trigger: r.trigger,
            started_at: local_time(r.started_at),
            finished_at: r.finished_at.map(local_time).unwrap_or_default(),
            outcome: r.outcome,
            counts: r.counts.to_string(),
            error: r.error.unwrap_or_default(),
        })
        .collect();
    state.templates.page(
        "office/schedule.html",
        &user,
        flash,
        context! { text, jobs, runs, holder, problem => parsed.err().map(|e| e.to_string()) },
    )
}

#[derive(FromForm)]
struct ScheduleForm {
    #[field(default = String::new())]
    csrf: String,
    text: String,
}

csrf_protected!(ScheduleForm);

#[post("/office/schedule", data = "<form>")]
async fn save(
    state: &State<AppState>,
    user: CurrentUser,
    form: CsrfForm<ScheduleForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.require_office()?;
    let text = form.text.replace("\r\n", "\n");
    if let Err(refused) = save_schedule(&state.store, &user, &text).await? {
        return Ok(Flash::error(Redirect::to("/office/schedule"), refused.0));
    }
    Ok(Flash::success(Redirect::to("/office/schedule"), "定时任务表已保存，调度器将在下一次检查时按新表运行"))
}

#[derive(FromForm)]
struct RunForm {
    #[field(default = String::new())]
    csrf: String,
    job: String,
}

csrf_protected!(RunForm);

#[post("/office/schedule/run", data = "<form>")]
async fn run_now(
    state: &State<AppState>,
    user: CurrentUser,
    form: CsrfForm<RunForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.require_office()?;
    let name = match start_job(&state.store, &user, form.job.trim(), state.config.allow_private).await? {
        Ok(name) => name,
        Err(refused) => return Ok(Flash::error(Redirect::to("/office/schedule"), refused.0)),
    };
    Ok(Flash::success(
        Redirect::to("/office/schedule"),
        format!("任务 {name} 已开始运行，结果见下方运行记录"),
    ))
}
