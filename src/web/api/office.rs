//! The disclosure office's reads: accounts, the audit log, and the background jobs (crawls and
//! assessments started from the dashboard) with their progress.

use chrono::{DateTime, Utc};
use rocket::serde::json::Json;
use rocket::{State, get, routes};
use serde::Serialize;

use super::ApiResult;
use crate::model::Account;
use crate::store::AuditRecord;
use crate::web::error::WebError;
use crate::web::jobs::JobView;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::accounts::accounts as all_accounts;
use crate::web::views::audit::{AuditFilter, audit_log};

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![accounts, audit, jobs, job]
}

/// How many audit records one request returns at most, and by default.
const MAX_AUDIT: usize = 1_000;
const DEFAULT_AUDIT: usize = 100;

/// Every account, by user name (never a password hash).
#[get("/accounts")]
async fn accounts(state: &State<AppState>, user: CurrentUser) -> ApiResult<Vec<Account>> {
    user.require_office()?;
    Ok(Json(all_accounts(&state.store).await?))
}

/// One audit record: who did what to which target, when.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub(super) struct AuditItem {
    at: DateTime<Utc>,
    actor: String,
    action: String,
    target: Option<String>,
    detail: serde_json::Value,
}

impl From<AuditRecord> for AuditItem {
    fn from(record: AuditRecord) -> Self {
        AuditItem {
            at: record.at,
            actor: record.actor,
            action: record.action,
            target: record.target,
            detail: record.detail,
        }
    }
}

/// The newest audit records first; `limit` 1–1000 (default 100).
#[get("/audit?<limit>")]
async fn audit(state: &State<AppState>, user: CurrentUser, limit: Option<&str>) -> ApiResult<Vec<AuditItem>> {
    user.require_office()?;
    let limit = match limit.map(str::trim).filter(|l| !l.is_empty()) {
        None => DEFAULT_AUDIT,
        Some(raw) => raw.parse::<usize>().ok().filter(|n| (1..=MAX_AUDIT).contains(n)).ok_or_else(|| {
            WebError::bad(format!("参数“limit”无效：“{raw}”应为 1 到 {MAX_AUDIT} 之间的整数"))
        })?,
    };
    let records = audit_log(&state.store, &AuditFilter::default(), limit).await?;
    Ok(Json(records.into_iter().map(AuditItem::from).collect()))
}

/// The jobs this server remembers, newest first.
#[get("/jobs")]
async fn jobs(state: &State<AppState>, user: CurrentUser) -> ApiResult<Vec<JobView>> {
    user.require_office()?;
    Ok(Json(state.jobs.jobs()))
}

/// One job's state and progress, for a script waiting on it.
#[get("/jobs/<id>")]
async fn job(state: &State<AppState>, user: CurrentUser, id: &str) -> ApiResult<JobView> {
    user.require_office()?;
    let id: u64 = id.trim().parse().map_err(|_| WebError::NotFound)?;
    state.jobs.job(id).map(Json).ok_or(WebError::NotFound)
}
