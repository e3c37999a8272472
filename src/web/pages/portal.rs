//! The unit portal (DESIGN.md §2): a unit account sees only its own unit — its page (scores,
//! explanation, findings, history) is the shared unit page — and fills in its self-assessment.

use std::collections::HashMap;

use minijinja::context;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::findings::local_time;
use crate::csrf_protected;
use crate::web::actions::self_assessment::{
    ClaimInput, ClaimProblem, SelfAssessmentSheet, self_assessment_sheet, try_submit_self_assessment,
};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

/// The unit's self-assessment sheet: its template as a (name, source) pair, embedded in the
/// binary.
pub const TEMPLATES: &[(&str, &str)] =
    &[("portal/self_assessment.html", include_str!("../templates/portal/self_assessment.html"))];

/// `/my`: the unit account's own page and its self-assessment.
pub fn routes() -> Vec<rocket::Route> {
    routes![my_unit, sheet, submit]
}

const SHEET: &str = "/my/self-assessment";

/// A unit account's home is its own unit's page.
#[get("/my")]
fn my_unit(user: CurrentUser) -> Result<Redirect, WebError> {
    Ok(Redirect::to(format!("/units/{}", user.own_unit()?)))
}

/// One row of the sheet as the form shows it.
#[derive(Debug, Serialize)]
struct ItemRow {
    id: String,
    title: String,
    points: String,
    earned: Option<String>,
    previous: Option<String>,
    previous_at: Option<String>,
    /// What the field holds now: the previous claim, or what was just typed.
    claimed: String,
    note: String,
    error: Option<String>,
}

/// The sheet, with typed input and problems when a submission was refused.
async fn render(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<FlashMessage<'_>>,
    typed: Option<&[ClaimInput]>,
    problems: &[ClaimProblem],
) -> Result<RawHtml<String>, WebError> {
    let unit = user.own_unit()?.clone();
    let name = state.store.unit(&unit).await?.map(|u| u.name);
    let sheet: Result<SelfAssessmentSheet, String> = match self_assessment_sheet(&state.store, &unit).await {
        Ok(sheet) => Ok(sheet),
        // No cycle yet, or one this form cannot serve: say so on the page.
        Err(WebError::BadRequest(message)) => Err(message),
        Err(other) => return Err(other),
    };
    let mut errors: HashMap<&str, String> = HashMap::new();
    let mut general = Vec::new();
    for problem in problems {
        match problem.item.as_deref() {
            Some(item) if sheet.as_ref().is_ok_and(|s| s.items.iter().any(|i| i.id == item)) => {
                errors.insert(item, problem.message.clone());
            }
            _ => general.push(problem.message.clone()),
        }
    }
    let (cycle, rule_set, standing, items, unavailable) = match sheet {
        Err(message) => (None, None, None, Vec::new(), Some(message)),
        Ok(sheet) => {
            let items = sheet
                .items
                .iter()
                .map(|item| {
                    let input = typed.and_then(|typed| typed.iter().find(|c| c.item == item.id));
                    ItemRow {
                        id: item.id.clone(),
                        title: item.title.clone(),
                        points: item.points.to_string(),
                        earned: item.earned.map(|e| e.to_string()),
                        previous: item.claimed.map(|c| c.to_string()),
                        previous_at: item.submitted_at.map(local_time),
                        claimed: match input {
                            Some(input) => input.claimed.clone(),
                            None => item.claimed.map(|c| c.to_string()).unwrap_or_default(),
                        },
                        note: match input {
                            Some(input) => input.note.clone().unwrap_or_default(),
                            None => item.note.clone().unwrap_or_default(),
                        },
                        error: errors.remove(item.id.as_str()),
                    }
                })
                .collect::<Vec<_>>();
            let rule_set = format!("{} · {}", sheet.rule_set_title, sheet.rule_set_version);
            let standing =
                sheet.score.map(|score| context! { score => score.to_string(), veto => sheet.veto });
            (Some(sheet.cycle), Some(rule_set), standing, items, None)
        }
    };
    state.templates.page(
        "portal/self_assessment.html",
        user,
        flash,
        context! {
            unit => context! { code => unit.to_string(), name => name },
            cycle => cycle,
            rule_set => rule_set,
            standing => standing,
            items => items,
            unavailable => unavailable,
            general => general,
            refused => !problems.is_empty(),
        },
    )
}

#[get("/my/self-assessment")]
async fn sheet(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    render(state, &user, flash, None, &[]).await
}

#[derive(FromForm)]
struct ClaimForm {
    #[field(default = String::new())]
    item: String,
    #[field(default = String::new())]
    claimed: String,
    #[field(default = String::new())]
    note: String,
}

#[derive(FromForm)]
struct SheetForm {
    /// A missing token reads as empty and is refused like a wrong one (403).
    #[field(default = String::new())]
    csrf: String,
    #[field(default = Vec::new())]
    claims: Vec<ClaimForm>,
}

csrf_protected!(SheetForm);

#[post("/my/self-assessment", data = "<form>")]
async fn submit(
    state: &State<AppState>,
    user: CurrentUser,
    form: CsrfForm<SheetForm>,
) -> Result<Result<Flash<Redirect>, (Status, RawHtml<String>)>, WebError> {
    let claims: Vec<ClaimInput> = form
        .into_inner()
        .claims
        .into_iter()
        .map(|c| ClaimInput {
            item: c.item,
            claimed: c.claimed,
            note: if c.note.trim().is_empty() { None } else { Some(c.note) },
        })
        .collect();
    match try_submit_self_assessment(&state.store, &user, &claims).await {
        Ok(Ok(outcome)) => Ok(Ok(Flash::success(
            Redirect::to(SHEET),
            format!("已保存自评（{} 项），将在下一次评估中使用", outcome.claims),
        ))),
        Ok(Err(refused)) => {
            let page = render(state, &user, None, Some(&claims), &refused.0).await?;
            Ok(Err((Status::UnprocessableEntity, page)))
        }
        Err(WebError::BadRequest(message)) => {
            let problems = [ClaimProblem { item: None, message }];
            let page = render(state, &user, None, Some(&claims), &problems).await?;
            Ok(Err((Status::UnprocessableEntity, page)))
        }
        Err(other) => Err(other),
    }
}
