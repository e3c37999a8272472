//! A unit's self-assessment: the sheet it fills in (the current cycle's items with their
//! points, what it earned and what it claimed) and submitting claims.

use rocket::serde::json::Json;
use rocket::{State, get, post, routes};

use super::ApiResult;
use super::body::JsonObject;
use crate::store::SelfAssessmentOutcome;
use crate::web::actions::self_assessment::{
    ClaimInput, ClaimProblem, SelfAssessmentSheet, self_assessment_sheet, try_submit_self_assessment,
};
use crate::web::csrf::ApiWriter;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![sheet, submit]
}

#[get("/self-assessment")]
async fn sheet(state: &State<AppState>, user: CurrentUser) -> ApiResult<SelfAssessmentSheet> {
    let unit = user.own_unit()?;
    Ok(Json(self_assessment_sheet(&state.store, unit).await?))
}

/// `{"claims": [{"item": "…", "claimed": 12.5, "note": "…"}]}`; a claim replaces the unit's
/// earlier claim for the same item.
#[post("/self-assessment", data = "<body>")]
async fn submit(
    state: &State<AppState>,
    writer: ApiWriter,
    body: JsonObject,
) -> ApiResult<SelfAssessmentOutcome> {
    let user = writer.0;
    user.own_unit()?;
    let fields = body.fields();
    fields.only(super::requests::SELF_ASSESSMENT)?;
    let claims = fields.required_objects("claims", |claim| {
        claim.only(super::requests::CLAIM)?;
        Ok(ClaimInput {
            item: claim.text("item")?,
            claimed: claim.opt_number_text("claimed")?.unwrap_or_default(),
            note: claim.opt_text("note")?,
        })
    })?;
    match try_submit_self_assessment(&state.store, &user, &claims).await? {
        Ok(outcome) => Ok(Json(outcome)),
        Err(refused) => Err(WebError::bad(
            refused.0.iter().map(|p| problem_text(&claims, p)).collect::<Vec<_>>().join("；"),
        )),
    }
}

/// A refused claim, named by its place in the body where the item is found there.
fn problem_text(claims: &[ClaimInput], problem: &ClaimProblem) -> String {
    let index = problem.item.as_deref().and_then(|item| claims.iter().position(|c| c.item == item));
    match index {
        Some(index) => format!("字段“claims[{index}]”：{}", problem.message),
        None => problem.message.clone(),
    }
}
