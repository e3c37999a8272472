//! Assessment cycles: every saved cycle, and which one the dashboard shows by default.

use minijinja::context;
use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::{Posted, done, local_time};
use crate::csrf_protected;
use crate::model::CityClock;
use crate::web::actions::cycles::set_current_cycle;
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::ranking::cycles_and_choice;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![cycles, set_current]
}

#[derive(Debug, Serialize)]
struct CycleRow {
    cycle: String,
    ranking_href: String,
    ruleset_id: String,
    ruleset_title: Option<String>,
    ruleset_version: Option<String>,
    as_of: String,
    created_at: String,
    units: i64,
    /// Marked current by the office.
    marked: bool,
    /// What the dashboard shows by default: the marked one, else the newest.
    shown: bool,
}

#[get("/office/cycles")]
async fn cycles(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let (cycles, current) = cycles_and_choice(&state.store, None).await?;
    let shown = current.map(|c| c.cycle);
    let rows: Vec<CycleRow> = cycles
        .into_iter()
        .rev()
        .map(|c| CycleRow {
            shown: shown.as_deref() == Some(c.cycle.as_str()),
            marked: c.current,
            as_of: CityClock::default().format_date(c.as_of),
            created_at: local_time(c.created_at),
            ranking_href: super::ranking_href(&c.cycle),
            cycle: c.cycle,
            ruleset_id: c.ruleset_id,
            ruleset_title: c.ruleset_title,
            ruleset_version: c.ruleset_version,
            units: c.units,
        })
        .collect();
    state.templates.page("office/cycles.html", &user, flash, context! { cycles => rows })
}

#[derive(FromForm)]
struct CurrentForm {
    #[field(default = String::new())]
    csrf: String,
    cycle: String,
}

csrf_protected!(CurrentForm);

#[post("/office/cycles/current", data = "<form>")]
async fn set_current(state: &State<AppState>, user: CurrentUser, form: CsrfForm<CurrentForm>) -> Posted {
    user.require_office()?;
    let cycle = form.cycle.trim();
    set_current_cycle(&state.store, &user, cycle).await?;
    done("/office/cycles", format!("已将 {cycle} 设为当前评估周期，排名页默认显示该周期"))
}
