//! The special inspectors' pages (DESIGN.md §2): their group's units with what needs following
//! up, and the visit form they fill in on site — often on a phone, so every page is one column
//! and works without JavaScript.

use std::collections::HashMap;

use minijinja::context;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::findings::{FindingView, finding_view};
use crate::csrf_protected;
use crate::model::{CityClock, FindingStatus, OrgCode};
use crate::web::access;
use crate::web::actions::visit::{
    VisitFindingInput, VisitInput, VisitProblem, check_choices, methods, try_record_visit,
};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::inspector::{inspector_home, unit_open_findings};

/// The inspector's unit list and visit form: templates as (name, source) pairs, embedded in the
/// binary.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("inspector/home.html", include_str!("../templates/inspector/home.html")),
    ("inspector/visit.html", include_str!("../templates/inspector/visit.html")),
];

/// `/inspector`: the group's units, and recording a visit with its findings.
pub fn routes() -> Vec<rocket::Route> {
    routes![home, visit_form, record_visit]
}

/// Finding rows the visit form shows at first.
const DEFAULT_ROWS: usize = 3;
/// The most finding rows one form offers.
const MAX_ROWS: usize = 30;

/// A finding on the follow-up list, with its unit's name.
#[derive(Debug, Serialize)]
struct FollowUp {
    unit_name: String,
    #[serde(flatten)]
    finding: FindingView,
}

#[get("/inspector")]
async fn home(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    let group = user.own_group()?.to_string();
    let view = inspector_home(&state.store, &group).await?;
    let today = CityClock::default().today();

    // Answers waiting for a decision first, then deadlines already missed.
    let follow_up = |wanted: &dyn Fn(&FindingView) -> bool| -> Vec<FollowUp> {
        view.open
            .iter()
            .map(|f| (f, finding_view(&f.finding, today)))
            .filter(|(_, finding)| wanted(finding))
            .map(|(f, finding)| FollowUp { unit_name: f.unit_name.clone(), finding })
            .collect()
    };
    let answered = follow_up(&|v| {
        v.status == FindingStatus::Rectified.as_str() || v.status == FindingStatus::Disputed.as_str()
    });
    let overdue = follow_up(&|v| v.overdue);

    state.templates.page(
        "inspector/home.html",
        &user,
        flash,
        context! {
            group => group,
            cycle => view.cycle,
            units => view.units,
            answered => answered,
            overdue => overdue,
        },
    )
}

/// What the form shows: the input so far (or the defaults) and the problems found in it.
struct VisitPage {
    input: VisitInput,
    rows: usize,
    problems: Vec<VisitProblem>,
}

#[derive(Debug, Serialize)]
struct RowView {
    number: usize,
    check: String,
    note: String,
    rectify_by: String,
    errors: HashMap<String, String>,
}

async fn render_visit(
    state: &AppState,
    user: &CurrentUser,
    code: &OrgCode,
    page: VisitPage,
) -> Result<RawHtml<String>, WebError> {
    user.ensure_record_visit(&state.store, code).await?;
    let unit = state.store.unit(code).await?.ok_or(WebError::NotFound)?;
    let today = CityClock::default().today();
    let open: Vec<FindingView> =
        unit_open_findings(&state.store, code).await?.iter().map(|f| finding_view(f, today)).collect();

    let mut visit_errors: HashMap<String, String> = HashMap::new();
    let mut row_errors: HashMap<usize, HashMap<String, String>> = HashMap::new();
    for problem in &page.problems {
        let slot = match problem.finding {
            None => &mut visit_errors,
            Some(row) => row_errors.entry(row).or_default(),
        };
        slot.entry(problem.field.clone())
            .and_modify(|m| {
                m.push('；');
                m.push_str(&problem.message);
            })
            .or_insert_with(|| problem.message.clone());
    }
    let rows: Vec<RowView> = (0..page.rows.max(page.input.findings.len()))
        .map(|i| {
            let row = page.input.findings.get(i).cloned().unwrap_or_default();
            RowView {
                number: i + 1,
                check: row.check,
                note: row.note.unwrap_or_default(),
                rectify_by: row.rectify_by.unwrap_or_default(),
                errors: row_errors.remove(&(i + 1)).unwrap_or_default(),
            }
        })
        .collect();
    let known_checks: Vec<String> =
        check_choices().into_iter().flat_map(|g| g.checks.into_iter().map(|c| c.id)).collect();

    state.templates.page(
        "inspector/visit.html",
        user,
        None,
        context! {
            unit => context! { code => unit.code.to_string(), name => unit.name },
            group => user.own_group()?,
            today => today.to_string(),
            date => page.input.date,
            method => page.input.method,
            note => page.input.note.unwrap_or_default(),
            methods => methods(),
            groups => check_choices(),
            known_checks => known_checks,
            rows => rows,
            can_add => page.rows < MAX_ROWS,
            refused => !page.problems.is_empty(),
            problem_count => page.problems.len(),
            errors => visit_errors,
            open => open,
        },
    )
}

#[get("/inspector/units/<code>/visit?<rows>")]
async fn visit_form(
    state: &State<AppState>,
    user: CurrentUser,
    code: &str,
    rows: Option<usize>,
) -> Result<RawHtml<String>, WebError> {
    let code = access::unit_code(code)?;
    let input = VisitInput { date: CityClock::default().today().to_string(), ..VisitInput::default() };
    let rows = rows.unwrap_or(DEFAULT_ROWS).clamp(1, MAX_ROWS);
    render_visit(state, &user, &code, VisitPage { input, rows, problems: Vec::new() }).await
}

#[derive(FromForm)]
struct FindingRowForm {
    #[field(default = String::new())]
    check: String,
    #[field(default = String::new())]
    note: String,
    #[field(default = String::new())]
    rectify_by: String,
}

#[derive(FromForm)]
struct VisitForm {
    /// A missing token reads as empty and is refused like a wrong one (403).
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    date: String,
    #[field(default = String::new())]
    method: String,
    #[field(default = String::new())]
    note: String,
    #[field(default = Vec::new())]
    findings: Vec<FindingRowForm>,
    /// Set by the "再加一条" button: show the form again with one more row, save nothing.
    more: Option<String>,
}

csrf_protected!(VisitForm);

fn blank_to_none(text: String) -> Option<String> {
    if text.trim().is_empty() { None } else { Some(text) }
}

impl VisitForm {
    fn into_input(self) -> (VisitInput, bool) {
        let more = self.more.is_some();
        let input = VisitInput {
            date: self.date,
            method: self.method,
            note: blank_to_none(self.note),
            findings: self
                .findings
                .into_iter()
                .take(MAX_ROWS)
                .map(|row| VisitFindingInput {
                    check: row.check,
                    note: blank_to_none(row.note),
                    rectify_by: blank_to_none(row.rectify_by),
                })
                .collect(),
        };
        (input, more)
    }
}

#[post("/inspector/units/<code>/visit", data = "<form>")]
async fn record_visit(
    state: &State<AppState>,
    user: CurrentUser,
    code: &str,
    form: CsrfForm<VisitForm>,
) -> Result<Result<Flash<Redirect>, (Status, RawHtml<String>)>, WebError> {
    let code = access::unit_code(code)?;
    let (input, more) = form.into_inner().into_input();
    if more {
        let rows = (input.findings.len() + 1).min(MAX_ROWS);
        let page = render_visit(state, &user, &code, VisitPage { input, rows, problems: Vec::new() }).await?;
        return Ok(Err((Status::Ok, page)));
    }
    match try_record_visit(&state.store, &user, &code, &input).await? {
        Ok(recorded) => Ok(Ok(Flash::success(
            Redirect::to(format!("/units/{code}")),
            format!("已保存检查记录（{} 条问题）", recorded.findings),
        ))),
        Err(refused) => {
            let rows = input.findings.len().max(DEFAULT_ROWS);
            let page =
                render_visit(state, &user, &code, VisitPage { input, rows, problems: refused.0 }).await?;
            Ok(Err((Status::UnprocessableEntity, page)))
        }
    }
}
