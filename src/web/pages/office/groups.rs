//! Inspector groups: which units each group looks after and who is in it. A unit belongs to at
//! most one group; assigning it elsewhere moves it.

use minijinja::context;
use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, post, routes};

use super::{Posted, done, failed, parse_codes};
use crate::csrf_protected;
use crate::web::actions::groups::{assign_units, unassign_units};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::groups::groups_overview;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![groups, assign, unassign]
}

const PAGE: &str = "/office/groups";

#[get("/office/groups")]
async fn groups(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let overview = groups_overview(&state.store).await?;
    state.templates.page(
        "office/groups.html",
        &user,
        flash,
        context! { groups => overview.groups, unassigned => overview.unassigned },
    )
}

#[derive(FromForm)]
struct AssignForm {
    #[field(default = String::new())]
    csrf: String,
    group: String,
    units: String,
}

#[derive(FromForm)]
struct UnassignForm {
    #[field(default = String::new())]
    csrf: String,
    units: String,
}

csrf_protected!(AssignForm, UnassignForm);

#[post("/office/groups/assign", data = "<form>")]
async fn assign(state: &State<AppState>, user: CurrentUser, form: CsrfForm<AssignForm>) -> Posted {
    user.require_office()?;
    let group = form.group.trim();
    let codes = match parse_codes(&form.units) {
        Ok(codes) if codes.is_empty() => return failed(PAGE, "请填写要分配的单位代码"),
        Ok(codes) => codes,
        Err(message) => return failed(PAGE, message),
    };
    let moved = match assign_units(&state.store, &user, group, &codes).await? {
        Ok(moved) => moved,
        Err(refused) => return failed(PAGE, refused.0),
    };
    done(PAGE, format!("已将 {} 个单位分配给{group}（其中新分配或调入 {moved} 个）", codes.len()))
}

#[post("/office/groups/unassign", data = "<form>")]
async fn unassign(state: &State<AppState>, user: CurrentUser, form: CsrfForm<UnassignForm>) -> Posted {
    user.require_office()?;
    let codes = match parse_codes(&form.units) {
        Ok(codes) if codes.is_empty() => return failed(PAGE, "请填写要移出小组的单位代码"),
        Ok(codes) => codes,
        Err(message) => return failed(PAGE, message),
    };
    let removed = unassign_units(&state.store, &user, &codes).await?;
    done(PAGE, format!("已将 {removed} 个单位移出所在小组"))
}
