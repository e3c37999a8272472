//! Units: the list each role may see, one unit's page as data ([`UnitDetail`]) and its parts,
//! and an inspector's visit record.

use rocket::http::Status;
use rocket::response::status::Custom;
use rocket::serde::json::Json;
use rocket::{State, get, post, routes};

use super::ApiResult;
use super::body::{Fields, JsonObject};
use crate::store::{ScorePoint, VisitRecord};
use crate::web::access::unit_code;
use crate::web::actions::visit::{
    RecordedVisit, VisitFindingInput, VisitInput, VisitProblem, try_record_visit,
};
use crate::web::csrf::ApiWriter;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::unit_detail::{FindingView, UnitDetail, unit_detail};
use crate::web::views::units::{UnitList, visible_units};

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![units, unit, unit_findings, unit_history, unit_visits, record_visit]
}

/// The units the caller may see: all for office and leaders, the group's for an inspector, its
/// own for a unit account.
#[get("/units")]
async fn units(state: &State<AppState>, user: CurrentUser) -> ApiResult<UnitList> {
    Ok(Json(visible_units(&state.store, &user).await?))
}

/// The unit's page as data, after the same access check as the page.
async fn detail(
    state: &AppState,
    user: &CurrentUser,
    code: &str,
    cycle: Option<&str>,
) -> Result<UnitDetail, WebError> {
    let code = unit_code(code)?;
    user.ensure_view_unit(&state.store, &code).await?;
    unit_detail(&state.store, &code, cycle).await
}

/// Everything the unit's page shows: facts, score in `cycle` (default current) with the
/// explanation tree, findings with evidence, visits, self-assessment claims, history.
#[get("/units/<code>?<cycle>")]
async fn unit(
    state: &State<AppState>,
    user: CurrentUser,
    code: &str,
    cycle: Option<&str>,
) -> ApiResult<UnitDetail> {
    Ok(Json(detail(state, &user, code, cycle).await?))
}

/// The unit's current findings (those no newer crawl replaced), newest first.
#[get("/units/<code>/findings")]
async fn unit_findings(
    state: &State<AppState>,
    user: CurrentUser,
    code: &str,
) -> ApiResult<Vec<FindingView>> {
    Ok(Json(detail(state, &user, code, None).await?.findings))
}

/// The unit's score in every cycle of the rule set of `cycle` (default current).
#[get("/units/<code>/history?<cycle>")]
async fn unit_history(
    state: &State<AppState>,
    user: CurrentUser,
    code: &str,
    cycle: Option<&str>,
) -> ApiResult<Vec<ScorePoint>> {
    Ok(Json(detail(state, &user, code, cycle).await?.history))
}

/// The inspectors' visits to the unit, newest first.
#[get("/units/<code>/visits")]
async fn unit_visits(state: &State<AppState>, user: CurrentUser, code: &str) -> ApiResult<Vec<VisitRecord>> {
    Ok(Json(detail(state, &user, code, None).await?.visits))
}

/// An inspector of the unit's group records a visit with the problems found on it.
#[post("/units/<code>/visits", data = "<body>")]
async fn record_visit(
    state: &State<AppState>,
    writer: ApiWriter,
    code: &str,
    body: JsonObject,
) -> Result<Custom<Json<RecordedVisit>>, WebError> {
    let user = writer.0;
    let code = unit_code(code)?;
    let input = visit_input(body.fields())?;
    match try_record_visit(&state.store, &user, &code, &input).await? {
        Ok(recorded) => Ok(Custom(Status::Created, Json(recorded))),
        Err(refused) => Err(WebError::bad(refused.0.iter().map(problem_text).collect::<Vec<_>>().join("；"))),
    }
}

/// The body's fields, checked for their JSON types; their content is the action's to check.
fn visit_input(fields: Fields<'_>) -> Result<VisitInput, WebError> {
    fields.only(super::requests::VISIT)?;
    Ok(VisitInput {
        date: fields.text("date")?,
        method: fields.text("method")?,
        note: fields.opt_text("note")?,
        findings: fields.objects("findings", |row| {
            row.only(super::requests::VISIT_FINDING)?;
            Ok(VisitFindingInput {
                check: row.opt_text("check")?.unwrap_or_default(),
                note: row.opt_text("note")?,
                rectify_by: row.opt_text("rectify_by")?,
            })
        })?,
    })
}

/// A refusal of the visit, naming the field by its place in the body (`findings[0].check`).
fn problem_text(problem: &VisitProblem) -> String {
    let path = match problem.finding {
        Some(row) => format!("findings[{}].{}", row.saturating_sub(1), problem.field),
        None => problem.field.clone(),
    };
    format!("字段“{path}”：{}", problem.message)
}
