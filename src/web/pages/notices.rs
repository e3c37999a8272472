//! Notifications (通报) in the dashboard: the office drafts from a cycle's laggards, edits the
//! draft (title, units removed or added with a reason) and publishes; a leader approves (never
//! the drafter: the store refuses it too); units acknowledge in their portal and see only their
//! own entry. Also each unit's probe history (the availability chart) and the notices that
//! named it.

use minijinja::context;
use rocket::form::FromForm;
use rocket::http::ContentType;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde::Serialize;

use super::findings::local_time;
use crate::csrf_protected;
use crate::model::Role;
use crate::notify::{self, NotifyError, PdfOptions, PublishOptions, day_zh, render, status_zh};
use crate::store::{Notice, NoticeUnit};
use crate::web::access::unit_code;
use crate::web::actions::notices::{add_unit as add_unit_to, remove_unit as remove_unit_from, retitle};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::notices::{Availability, NoticeList, availability, notice_list, unit_notices};

/// The notice list, notice, portal and availability pages: templates as (name, source) pairs,
/// embedded in the binary.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("notices/list.html", include_str!("../templates/notices/list.html")),
    ("notices/notice.html", include_str!("../templates/notices/notice.html")),
    ("notices/portal.html", include_str!("../templates/notices/portal.html")),
    ("notices/probes.html", include_str!("../templates/notices/probes.html")),
];

/// Rectification notices from draft to acknowledgement (`/notices`, `/office/notices`,
/// `/portal/notices`) and a unit's availability page.
pub fn routes() -> Vec<rocket::Route> {
    routes![
        list,
        draft,
        show,
        edit,
        remove_unit,
        add_unit,
        approve,
        publish,
        print,
        pdf,
        portal,
        acknowledge,
        probes
    ]
}

fn key(notice: &Notice) -> String {
    notice.id.trim_start_matches("notification:").to_string()
}

fn href(notice: &Notice) -> String {
    format!("/notices/{}", key(notice))
}

/// Workflow refusals go back to the page as a flash; everything else is an error page.
fn outcome(to: &str, result: Result<String, NotifyError>) -> Result<Flash<Redirect>, WebError> {
    match result {
        Ok(message) => Ok(Flash::success(Redirect::to(to.to_string()), message)),
        Err(NotifyError::Store(error)) => Err(error.into()),
        Err(error) => Ok(Flash::error(Redirect::to(to.to_string()), error.to_string())),
    }
}

fn require_office_or_leader(user: &CurrentUser) -> Result<(), WebError> {
    user.require(&[Role::Office, Role::Leader])
}

#[derive(Serialize)]
struct Row {
    href: String,
    number: Option<String>,
    title: String,
    cycle: String,
    status: &'static str,
    units: usize,
    acknowledged: usize,
    created_at: String,
}

#[get("/notices")]
async fn list(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    require_office_or_leader(&user)?;
    let NoticeList { notices, quarters, cycles } = notice_list(&state.store).await?;
    let rows: Vec<Row> = notices
        .iter()
        .map(|n| Row {
            href: href(n),
            number: n.number.clone(),
            title: n.title.clone(),
            cycle: n.cycle.clone(),
            status: status_zh(&n.status),
            units: n.units.len(),
            acknowledged: n.units.iter().filter(|u| u.acknowledged_at.is_some()).count(),
            created_at: local_time(n.created_at),
        })
        .collect();
    let office = user.account.role == Role::Office;
    state.templates.page("notices/list.html", &user, flash, context! { rows, quarters, cycles, office })
}

#[derive(FromForm)]
struct DraftForm {
    #[field(default = String::new())]
    csrf: String,
    cycle: String,
}

csrf_protected!(DraftForm);

#[post("/office/notices/draft", data = "<form>")]
async fn draft(
    state: &State<AppState>,
    user: CurrentUser,
    form: CsrfForm<DraftForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.require_office()?;
    let template = notify::NoticeTemplate::shipped().map_err(|e| WebError::Internal(e.to_string()))?;
    match notify::draft(&state.store, form.cycle.trim(), &user.account.username, &template).await {
        Ok(notice) => Ok(Flash::success(
            Redirect::to(href(&notice)),
            format!("已起草通报，点名 {} 个单位；请核对后提交领导审批", notice.units.len()),
        )),
        Err(error) => outcome("/notices", Err(error)),
    }
}

async fn load(state: &AppState, key: &str) -> Result<Notice, WebError> {
    state.store.notice(key).await?.ok_or(WebError::NotFound)
}

#[derive(Serialize)]
struct UnitView {
    unit: String,
    name: String,
    reasons: Vec<String>,
    findings: Vec<crate::store::NoticeFinding>,
    deadline: String,
    added_note: Option<String>,
    acknowledged: Option<String>,
}

fn unit_view(unit: &NoticeUnit) -> UnitView {
    UnitView {
        unit: unit.unit.clone(),
        name: unit.name.clone(),
        reasons: unit.reasons.clone(),
        findings: unit.findings.clone(),
        deadline: day_zh(unit.deadline),
        added_note: unit.added_note.clone(),
        acknowledged: unit.acknowledged_at.map(local_time),
    }
}

#[get("/notices/<key>")]
async fn show(
    state: &State<AppState>,
    user: CurrentUser,
    key: &str,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    require_office_or_leader(&user)?;
    let notice = load(state, key).await?;
    let role = user.account.role;
    let may_approve =
        role == Role::Leader && notice.status == "draft" && notice.drafted_by != user.account.username;
    let units: Vec<UnitView> = notice.units.iter().map(unit_view).collect();
    let deliveries: Vec<serde_json::Value> = notice
        .deliveries
        .iter()
        .map(|d| {
            serde_json::json!({
                "unit": d.unit, "channel": d.channel, "address": d.address, "status": d.status,
                "attempts": d.attempts, "error": d.error, "at": local_time(d.at),
            })
        })
        .collect();
    state.templates.page(
        "notices/notice.html",
        &user,
        flash,
        context! {
            notice => &notice,
            href => href(&notice),
            status => status_zh(&notice.status),
            deadline => day_zh(notice.deadline),
            units,
            deliveries,
            office => role == Role::Office,
            may_approve,
        },
    )
}

#[derive(FromForm)]
struct EditForm {
    #[field(default = String::new())]
    csrf: String,
    title: String,
}

csrf_protected!(EditForm);

#[post("/office/notices/<key>/edit", data = "<form>")]
async fn edit(
    state: &State<AppState>,
    user: CurrentUser,
    key: &str,
    form: CsrfForm<EditForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.require_office()?;
    let notice = load(state, key).await?;
    outcome(&href(&notice), retitle(&state.store, &user, &notice, &form.title).await)
}

#[derive(FromForm)]
struct UnitForm {
    #[field(default = String::new())]
    csrf: String,
    unit: String,
    #[field(default = String::new())]
    note: String,
}

csrf_protected!(UnitForm);

#[post("/office/notices/<key>/remove", data = "<form>")]
async fn remove_unit(
    state: &State<AppState>,
    user: CurrentUser,
    key: &str,
    form: CsrfForm<UnitForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.require_office()?;
    let notice = load(state, key).await?;
    outcome(&href(&notice), remove_unit_from(&state.store, &user, &notice, &form.unit).await)
}

#[post("/office/notices/<key>/add", data = "<form>")]
async fn add_unit(
    state: &State<AppState>,
    user: CurrentUser,
    key: &str,
    form: CsrfForm<UnitForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.require_office()?;
    let notice = load(state, key).await?;
    let code = unit_code(form.unit.trim())?;
    outcome(&href(&notice), add_unit_to(&state.store, &user, &notice, &code, &form.note).await)
}

#[derive(FromForm)]
struct PlainForm {
    #[field(default = String::new())]
    csrf: String,
}

csrf_protected!(PlainForm);

#[post("/notices/<key>/approve", data = "<_form>")]
async fn approve(
    state: &State<AppState>,
    user: CurrentUser,
    key: &str,
    _form: CsrfForm<PlainForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.require(&[Role::Leader])?;
    let notice = load(state, key).await?;
    let result = notify::approve(&state.store, &notice.id, &user.account.username)
        .await
        .map(|n| format!("已审批，文号 {}", n.number.unwrap_or_default()));
    outcome(&href(&notice), result)
}

#[post("/office/notices/<key>/publish", data = "<_form>")]
async fn publish(
    state: &State<AppState>,
    user: CurrentUser,
    key: &str,
    _form: CsrfForm<PlainForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.require_office()?;
    let notice = load(state, key).await?;
    let result =
        notify::publish(&state.store, &notice.id, &user.account.username, &PublishOptions::default())
            .await
            .map(|o| {
                format!(
                    "已发布：{} 个单位门户已送达；邮件发送 {} 封，失败 {} 封（失败的由定时复查重发）",
                    o.notice.units.len(),
                    o.emails_sent,
                    o.emails_failed
                )
            });
    outcome(&href(&notice), result)
}

/// The printable page (office and leaders; a unit sees its own entry in the portal).
#[get("/notices/<key>/print")]
async fn print(state: &State<AppState>, user: CurrentUser, key: &str) -> Result<RawHtml<String>, WebError> {
    require_office_or_leader(&user)?;
    let notice = load(state, key).await?;
    let template = notify::NoticeTemplate::parse(&notice.template, "模板")
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let html = render::html(&notice, &template.addressees).map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(RawHtml(html))
}

#[get("/notices/<key>/pdf")]
async fn pdf(
    state: &State<AppState>,
    user: CurrentUser,
    key: &str,
) -> Result<(ContentType, Vec<u8>), WebError> {
    require_office_or_leader(&user)?;
    let notice = load(state, key).await?;
    let (_, bytes) =
        notify::documents(&notice, PdfOptions::default()).map_err(|e| WebError::BadRequest(e.to_string()))?;
    Ok((ContentType::PDF, bytes))
}

#[derive(Serialize)]
struct PortalNotice {
    key: String,
    number: Option<String>,
    title: String,
    issuer: String,
    published_at: String,
    sections: Vec<crate::store::NoticeSection>,
    mine: UnitView,
}

/// A unit's notices: the text and only its own entry (never another unit's findings).
#[get("/portal/notices")]
async fn portal(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    let unit = user.own_unit()?.to_string();
    let notices: Vec<PortalNotice> = unit_notices(&state.store, &unit)
        .await?
        .into_iter()
        .filter_map(|n| {
            let mine = n.units.iter().find(|u| u.unit == unit).map(unit_view)?;
            Some(PortalNotice {
                key: key(&n),
                number: n.number.clone(),
                title: n.title.clone(),
                issuer: n.issuer.clone(),
                published_at: n.published_at.map(local_time).unwrap_or_default(),
                sections: n.sections.iter().filter(|s| !s.text.contains("{unit_list}")).cloned().collect(),
                mine,
            })
        })
        .collect();
    state.templates.page("notices/portal.html", &user, flash, context! { notices })
}

#[post("/portal/notices/<key>/ack", data = "<_form>")]
async fn acknowledge(
    state: &State<AppState>,
    user: CurrentUser,
    key: &str,
    _form: CsrfForm<PlainForm>,
) -> Result<Flash<Redirect>, WebError> {
    user.own_unit()?;
    let result = notify::acknowledge(&state.store, key, &user.account.username)
        .await
        .map(|()| "已签收通报".to_string());
    outcome("/portal/notices", result)
}

#[derive(Serialize)]
struct Bar {
    day: String,
    samples: u32,
    failed: u32,
    percent: String,
    x: u32,
    height: u32,
    y: u32,
}

/// A unit's probe history (day by day, the share of samples that failed) and the notices
/// that named it: for everyone who may see the unit.
#[get("/units/<code>/availability")]
async fn probes(
    state: &State<AppState>,
    user: CurrentUser,
    code: &str,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    let code = unit_code(code)?;
    user.ensure_view_unit(&state.store, &code).await?;
    let unit = state.store.unit(&code).await?.ok_or(WebError::NotFound)?;
    let Availability { days: history, notices } = availability(&state.store, &code).await?;
    const HEIGHT: u32 = 120;
    let bars: Vec<Bar> = history
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let height = (d.failed * HEIGHT).checked_div(d.samples).unwrap_or(0);
            let percent = if d.samples == 0 {
                "0".to_string()
            } else {
                (rust_decimal::Decimal::from(d.failed * 100) / rust_decimal::Decimal::from(d.samples))
                    .round_dp(1)
                    .normalize()
                    .to_string()
            };
            Bar {
                day: d.day.format("%m-%d").to_string(),
                samples: d.samples,
                failed: d.failed,
                percent,
                x: i as u32 * 22 + 30,
                height,
                y: HEIGHT + 10 - height,
            }
        })
        .collect();
    let notices: Vec<serde_json::Value> = notices
        .iter()
        .map(|n| {
            let mine = n.units.iter().find(|u| u.unit == code.as_str());
            serde_json::json!({
                "number": n.number, "title": n.title,
                "published_at": n.published_at.map(local_time),
                "deadline": mine.map(|u| day_zh(u.deadline)),
                "acknowledged": mine.and_then(|u| u.acknowledged_at).map(local_time),
                "href": if user.account.role == Role::Unit { "/portal/notices".to_string() } else { href(n) },
            })
        })
        .collect();
    let width = bars.len() as u32 * 22 + 40;
    state.templates.page(
        "notices/probes.html",
        &user,
        flash,
        context! { unit => unit.name, code => code.to_string(), bars, width, notices },
    )
}
