//! Inspector groups: which units each group looks after and who is in it. A unit belongs to at
//! most one group; assigning it elsewhere moves it.

use std::collections::{HashMap, HashSet};

use minijinja::context;
use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::{Posted, done, failed, parse_codes};
use crate::csrf_protected;
use crate::store::{AssignmentError, AuditEntry};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![groups, assign, unassign]
}

const PAGE: &str = "/office/groups";

#[derive(Debug, Serialize)]
struct UnitRef {
    code: String,
    name: String,
}

#[derive(Debug, Serialize)]
struct InspectorRef {
    username: String,
    display_name: Option<String>,
    disabled: bool,
}

#[derive(Debug, Serialize)]
struct GroupView {
    name: String,
    units: Vec<UnitRef>,
    inspectors: Vec<InspectorRef>,
}

#[get("/office/groups")]
async fn groups(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let units = state.store.units().await?;
    let names: HashMap<String, String> = units.iter().map(|u| (u.code.to_string(), u.name.clone())).collect();
    let mut assigned = HashSet::new();
    let mut views = Vec::new();
    for group in state.store.groups().await? {
        let codes = state.store.group_units(&group.name).await?;
        let inspectors = state.store.inspectors_in(&group.name).await?;
        assigned.extend(codes.iter().map(ToString::to_string));
        views.push(GroupView {
            units: codes
                .iter()
                .map(|code| UnitRef {
                    code: code.to_string(),
                    name: names.get(code.as_str()).cloned().unwrap_or_default(),
                })
                .collect(),
            inspectors: inspectors
                .into_iter()
                .map(|a| InspectorRef {
                    username: a.username,
                    display_name: a.display_name,
                    disabled: a.disabled,
                })
                .collect(),
            name: group.name,
        });
    }
    let unassigned: Vec<UnitRef> = units
        .iter()
        .filter(|u| !assigned.contains(u.code.as_str()))
        .map(|u| UnitRef { code: u.code.to_string(), name: u.name.clone() })
        .collect();
    state.templates.page(
        "office/groups.html",
        &user,
        flash,
        context! { groups => views, unassigned => unassigned },
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
    let listed: Vec<String> = codes.iter().map(ToString::to_string).collect();
    let audit = AuditEntry::new(&user.account.username, "groups.assign")
        .target(group.to_string())
        .detail(serde_json::json!({ "units": listed }));
    let moved = match state.store.assign_units(group, &codes, audit).await {
        Ok(moved) => moved,
        Err(AssignmentError::Store(error)) => return Err(error.into()),
        Err(refusal) => return failed(PAGE, refusal.to_string()),
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
    let listed: Vec<String> = codes.iter().map(ToString::to_string).collect();
    let audit = AuditEntry::new(&user.account.username, "groups.unassign")
        .detail(serde_json::json!({ "units": listed }));
    let removed = state.store.unassign_units(&codes, audit).await?;
    done(PAGE, format!("已将 {removed} 个单位移出所在小组"))
}
