//! The disclosure office's pages (DESIGN.md §2): the unit registry, accounts, inspector groups,
//! crawls and assessments run from the browser, the current cycle, and the audit log.
//!
//! Every route here is office-only: each handler starts with `user.require_office()?`, and
//! every write is read through [`CsrfForm`](crate::web::csrf::CsrfForm) and carries an audit
//! record naming the office user.

mod accounts;
mod annual_report;
mod audit;
mod cycles;
mod groups;
mod jobs;
mod units;

use crate::web::views::ranking::ranking_href;
use chrono::{DateTime, Utc};
use rocket::http::Status;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};

use crate::model::{CityClock, OrgCode, Unit};
// Job pages record the start of a job on its own (`office/jobs.rs` imports it from here).
use crate::web::actions::audit::record;
use crate::web::error::WebError;

/// The office's pages: templates as (name, source) pairs, embedded in the binary.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("office/units.html", include_str!("../templates/office/units.html")),
    ("office/accounts.html", include_str!("../templates/office/accounts.html")),
    ("office/groups.html", include_str!("../templates/office/groups.html")),
    ("office/jobs.html", include_str!("../templates/office/jobs.html")),
    ("office/job.html", include_str!("../templates/office/job.html")),
    ("office/cycles.html", include_str!("../templates/office/cycles.html")),
    ("office/audit.html", include_str!("../templates/office/audit.html")),
    ("office/annual_report.html", include_str!("../templates/office/annual_report.html")),
];

/// Every `/office/…` route, gathered from the submodules.
pub fn routes() -> Vec<rocket::Route> {
    [
        units::routes(),
        accounts::routes(),
        groups::routes(),
        jobs::routes(),
        cycles::routes(),
        audit::routes(),
        annual_report::routes(),
    ]
    .concat()
}

/// What a form post ends in: back to the page with a flash (post/redirect/get), or the page
/// shown again with what was wrong and what was typed (422).
type Posted = Result<Result<Flash<Redirect>, (Status, RawHtml<String>)>, WebError>;

/// The page shown again because the form was refused.
fn refused(page: RawHtml<String>) -> Posted {
    Ok(Err((Status::UnprocessableEntity, page)))
}

fn done(to: &str, message: impl Into<String>) -> Posted {
    Ok(Ok(Flash::success(Redirect::to(to.to_string()), message.into())))
}

fn failed(to: &str, message: impl Into<String>) -> Posted {
    Ok(Ok(Flash::error(Redirect::to(to.to_string()), message.into())))
}

/// A time as the office reads it: Beijing time, to the second.
fn local_time(at: DateTime<Utc>) -> String {
    CityClock::default().format_second(at)
}

/// Today in Beijing, the default "as of" day of crawls and assessments.
fn today() -> String {
    CityClock::default().format_date(Utc::now())
}

/// Unit codes as an office pastes them: one per line, or separated by commas (ASCII or
/// Chinese), 顿号, semicolons or blanks. Every malformed code is named, not just the first.
fn parse_codes(text: &str) -> Result<Vec<OrgCode>, String> {
    let mut codes = Vec::new();
    let mut bad = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；')) {
        if raw.is_empty() {
            continue;
        }
        match OrgCode::parse(raw) {
            Ok(code) if codes.contains(&code) => {}
            Ok(code) => codes.push(code),
            Err(error) => bad.push(format!("“{raw}”（{error}）")),
        }
    }
    if bad.is_empty() { Ok(codes) } else { Err(format!("单位代码无效：{}", bad.join("；"))) }
}

/// Looks codes up in the registry; names every code that is not registered.
fn registered_units(all: &[Unit], codes: &[OrgCode]) -> Result<Vec<Unit>, String> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for code in codes {
        match all.iter().find(|unit| &unit.code == code) {
            Some(unit) => found.push(unit.clone()),
            None => missing.push(code.to_string()),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(format!("以下单位未登记：{}", missing.join("、")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::synthetic_credit_code;

    #[test]
    fn codes_are_read_in_any_common_separation() {
        let a = synthetic_credit_code("450100", 1).expect("code").to_string();
        let b = synthetic_credit_code("450100", 2).expect("code").to_string();
        let text = format!("{a}，{b}\n {a} ;");
        let codes = parse_codes(&text).expect("valid");
        assert_eq!(codes.iter().map(ToString::to_string).collect::<Vec<_>>(), vec![a.clone(), b]);
        let error = parse_codes(&format!("{a}、12345、ABC")).expect_err("bad codes");
        assert!(error.contains("12345") && error.contains("ABC"), "{error}");
        assert!(parse_codes(" \n ").expect("empty").is_empty());
    }
}
