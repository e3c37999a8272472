//! `/office/reports/annual?year=Y`: the draft of the city's annual disclosure report (issue
//! #17) for the office, every number beside the query that counted it. Office-only.

use chrono::Datelike;
use minijinja::context;
use rocket::http::ContentType;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, routes};

use crate::model::CityClock;
use crate::notify::{PdfOptions, annual as annual_draft};
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::annual_report::annual_report;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![annual, annual_pdf]
}

/// The draft for `year`, by default last year (the report the office is writing now).
#[get("/office/reports/annual?<year>")]
async fn annual(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
    year: Option<i32>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let this_year = CityClock::default().today().year();
    let year = year.unwrap_or(this_year - 1);
    let draft = annual_report(&state.store, year).await?;
    let years: Vec<i32> = (this_year - 4..=this_year).rev().collect();
    state.templates.page("office/annual_report.html", &user, flash, context! { d => draft, years => years })
}

/// The same draft as a PDF, set like the notices (`year` required: a file names its year).
#[get("/office/reports/annual.pdf?<year>")]
async fn annual_pdf(
    state: &State<AppState>,
    user: CurrentUser,
    year: i32,
) -> Result<(ContentType, Vec<u8>), WebError> {
    user.require_office()?;
    let draft = annual_report(&state.store, year).await?;
    let bytes =
        annual_draft::pdf(&draft, PdfOptions::default()).map_err(|e| WebError::BadRequest(e.to_string()))?;
    Ok((ContentType::PDF, bytes))
}
