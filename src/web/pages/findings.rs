//! One finding with its evidence, where it stands in the rectification loop, its history, and
//! the moves the person looking at it may make (DESIGN.md §2: the unit answers, an inspector of
//! its group or the office decides).
//!
//! Evidence is attacker-controlled text (a crawled page): it is only ever shown through
//! auto-escaping, and a URL becomes a link only when it is http(s).

use chrono::{DateTime, NaiveDate, Utc};
use minijinja::context;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde::Serialize;

use crate::csrf_protected;
use crate::model::{
    CityClock, Finding, FindingEvent, FindingStatus, RectificationAction, Role, status_label_zh,
};
use crate::rules::shipped;
use crate::web::actions::finding::act_on_finding;
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::finding::{finding_detail, visible_finding};

/// The finding page's template as a (name, source) pair, embedded in the binary.
pub const TEMPLATES: &[(&str, &str)] =
    &[("findings/finding.html", include_str!("../templates/findings/finding.html"))];

/// `/findings/<id>` and the rectification moves posted from it.
pub fn routes() -> Vec<rocket::Route> {
    routes![finding_page, act]
}

/// A time as people here read it: Beijing time, to the minute.
pub(super) fn local_time(at: DateTime<Utc>) -> String {
    CityClock::default().format_minute(at)
}

/// The finding page's address. Ids are `finding:…`; anything outside a safe set is
/// percent-encoded so that a strange key cannot break out of the path.
pub(super) fn finding_href(id: &str) -> String {
    let mut path = String::from("/findings/");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b':' | b'_' | b'-') {
            path.push(byte as char);
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// A URL from evidence, only if it is one a browser should be offered as a link.
fn safe_link(raw: Option<&str>) -> Option<String> {
    let url = url::Url::parse(raw?.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// What a detail key means, for the evidence list.
fn detail_label(key: &str) -> &str {
    match key {
        "column" => "栏目",
        "days" => "天数",
        "keyword" | "keywords" => "关键词",
        "technique" => "手法",
        "page" => "所在页面",
        "target" => "链接目标",
        "status" => "HTTP 状态",
        "error" => "错误",
        "inspector" => "监察员",
        "group" => "小组",
        "method" => "检查方式",
        "note" => "说明",
        "newest" | "newest_date" => "最新日期",
        "cadence" => "更新周期类别",
        "item" => "缺少的项目",
        "class" => "目录类别",
        "index" => "索引号",
        "title" => "标题",
        other => other,
    }
}

/// One piece of structured evidence, as text.
#[derive(Debug, Serialize)]
struct DetailItem {
    label: String,
    value: String,
    /// Long values are shown in a wrapping monospace block.
    long: bool,
}

fn detail_items(detail: &serde_json::Value) -> Vec<DetailItem> {
    let Some(object) = detail.as_object() else { return Vec::new() };
    object
        .iter()
        .filter(|(key, value)| key.as_str() != "snippet" && !value.is_null())
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            DetailItem { label: detail_label(key).to_string(), long: value.chars().count() > 60, value }
        })
        .collect()
}

/// A finding as the pages of this module list and show it.
#[derive(Debug, Serialize)]
pub(super) struct FindingView {
    pub id: String,
    pub href: String,
    pub unit: String,
    pub check: String,
    pub check_title: String,
    pub source: &'static str,
    pub status: &'static str,
    pub observed: String,
    pub observed_at: String,
    pub rectify_by: Option<NaiveDate>,
    /// The deadline passed while the finding still needs the unit to act.
    pub overdue: bool,
    pub url: Option<String>,
    /// The URL as text when it is not offered as a link.
    pub url_text: Option<String>,
    pub snippet: Option<String>,
    details: Vec<DetailItem>,
}

pub(super) fn finding_view(finding: &Finding, today: NaiveDate) -> FindingView {
    let id = finding.id.clone().unwrap_or_default();
    let url = safe_link(finding.url.as_deref());
    let awaiting_unit = matches!(finding.status, FindingStatus::Open | FindingStatus::Confirmed);
    FindingView {
        href: finding_href(&id),
        id,
        unit: finding.unit.to_string(),
        check_title: shipped::check_title(&finding.check).unwrap_or(&finding.check).to_string(),
        check: finding.check.clone(),
        source: finding.source.as_str(),
        status: finding.status.as_str(),
        observed: CityClock::default().format_date(finding.observed_at),
        observed_at: local_time(finding.observed_at),
        rectify_by: finding.rectify_by,
        overdue: awaiting_unit && finding.rectify_by.is_some_and(|due| due < today),
        url_text: if url.is_none() { finding.url.clone() } else { None },
        url,
        snippet: finding.detail.get("snippet").and_then(|s| s.as_str()).map(str::to_string),
        details: detail_items(&finding.detail),
    }
}

#[derive(Debug, Serialize)]
struct EventView {
    at: String,
    actor: String,
    role: &'static str,
    action: &'static str,
    from: &'static str,
    to: &'static str,
    note: Option<String>,
}

impl From<&FindingEvent> for EventView {
    fn from(event: &FindingEvent) -> Self {
        EventView {
            at: local_time(event.at),
            actor: event.actor.clone(),
            role: event.role.label_zh(),
            action: event.action.label_zh(),
            from: event.from.as_str(),
            to: event.to.as_str(),
            note: event.note.clone(),
        }
    }
}

/// The words on each move's button, as the people making them say it.
fn button_label(action: RectificationAction) -> &'static str {
    match action {
        RectificationAction::Rectify => "已整改",
        RectificationAction::Dispute => "有异议",
        RectificationAction::ConfirmFix => "确认整改，销号",
        RectificationAction::RejectFix => "仍未整改",
        RectificationAction::Uphold => "维持（问题属实）",
        RectificationAction::Withdraw => "撤销（异议成立）",
        RectificationAction::SeenFixed => "复查已整改，销号",
    }
}

#[derive(Debug, Serialize)]
struct ActionButton {
    value: &'static str,
    label: &'static str,
    /// The unit's side of the loop (the others are decisions).
    answer: bool,
    needs_note: bool,
}

/// Where "back" goes for this person.
fn back_link(user: &CurrentUser, unit: &str) -> (String, &'static str) {
    match user.role() {
        Role::Inspector => ("/inspector".into(), "返回本组单位"),
        Role::Unit => ("/my".into(), "返回本单位"),
        Role::Office | Role::Leader => (format!("/units/{unit}"), "返回单位页面"),
    }
}

/// The finding page; `refusal` and `note` re-show a move that was refused, with what was typed.
async fn render(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    flash: Option<FlashMessage<'_>>,
    refusal: Option<String>,
    note: &str,
) -> Result<RawHtml<String>, WebError> {
    let finding = visible_finding(&state.store, user, id).await?;
    let unit = state.store.unit(&finding.unit).await?;
    let detail = finding_detail(&state.store, user, finding).await?;
    let actions: Vec<ActionButton> = detail
        .allowed_actions
        .iter()
        .map(|&action| ActionButton {
            value: action.as_str(),
            label: button_label(action),
            answer: action.side() == crate::model::RectificationSide::Unit,
            needs_note: action.note_required(),
        })
        .collect();
    let view = finding_view(&detail.finding, CityClock::default().today());
    let (back_href, back_label) = back_link(user, &view.unit);
    state.templates.page(
        "findings/finding.html",
        user,
        flash,
        context! {
            finding => view,
            status_label => detail.status_label,
            unit_name => unit.map(|u| u.name),
            events => detail.events.iter().map(EventView::from).collect::<Vec<_>>(),
            actions => actions,
            refusal => refusal,
            note => note,
            back_href => back_href,
            back_label => back_label,
        },
    )
}

#[get("/findings/<id>")]
async fn finding_page(
    state: &State<AppState>,
    user: CurrentUser,
    id: &str,
    flash: Option<FlashMessage<'_>>,
) -> Result<RawHtml<String>, WebError> {
    render(state, &user, id, flash, None, "").await
}

/// A post ends in a redirect with a flash, or the page again with what was refused (422).
type Posted = Result<Result<Flash<Redirect>, (Status, RawHtml<String>)>, WebError>;

#[derive(FromForm)]
struct ActForm {
    /// A missing token reads as empty and is refused like a wrong one (403).
    #[field(default = String::new())]
    csrf: String,
    #[field(default = String::new())]
    action: String,
    #[field(default = String::new())]
    note: String,
}

csrf_protected!(ActForm);

#[post("/findings/<id>/act", data = "<form>")]
async fn act(state: &State<AppState>, user: CurrentUser, id: &str, form: CsrfForm<ActForm>) -> Posted {
    let form = form.into_inner();
    let refused = async |message: String| -> Posted {
        let page = render(state, &user, id, None, Some(message), &form.note).await?;
        Ok(Err((Status::UnprocessableEntity, page)))
    };
    visible_finding(&state.store, &user, id).await?;
    let Ok(action) = form.action.parse::<RectificationAction>() else {
        // Nothing was chosen, or a forged value: say so without echoing it.
        return refused("请选择要执行的操作".to_string()).await;
    };
    match act_on_finding(&state.store, &user, id, action, Some(&form.note)).await {
        Ok(finding) => {
            let href = finding_href(finding.id.as_deref().unwrap_or(id));
            let message =
                format!("已提交“{}”，问题状态：{}", button_label(action), status_label_zh(finding.status));
            Ok(Ok(Flash::success(Redirect::to(href), message)))
        }
        Err(WebError::BadRequest(message)) => refused(message).await,
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_addresses_become_links() {
        assert_eq!(safe_link(Some("http://u1.example.cn/a?b=1")), Some("http://u1.example.cn/a?b=1".into()));
        assert_eq!(safe_link(Some("javascript:alert(1)")), None);
        assert_eq!(safe_link(Some("data:text/html,<script>")), None);
        assert_eq!(safe_link(Some("not a url")), None);
        assert_eq!(safe_link(None), None);
    }

    #[test]
    fn finding_addresses_cannot_leave_their_path() {
        assert_eq!(finding_href("finding:abc_1"), "/findings/finding:abc_1");
        assert_eq!(finding_href("finding:⟨a/b⟩"), "/findings/finding:%E2%9F%A8a%2Fb%E2%9F%A9");
    }
}
