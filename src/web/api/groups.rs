//! An inspector's group: its units and the findings there that still need following up.

use rocket::serde::json::Json;
use rocket::{State, get, routes};

use super::ApiResult;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::groups::{MyGroup, my_group as group_view};

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![my_group]
}

#[get("/groups/mine")]
async fn my_group(state: &State<AppState>, user: CurrentUser) -> ApiResult<MyGroup> {
    Ok(Json(group_view(&state.store, user.own_group()?).await?))
}
