//! What leaders (and the office) read: the ranking of a cycle with its charts and CSV export,
//! and a unit's page — the same page a unit account and its group's inspectors see for that
//! unit, with the actions each role has there.

use std::sync::Arc;

use minijinja::{Value, context};
use rocket::http::{ContentType, Header};
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{Responder, State, get, routes};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::model::{Role, UnitKind};
use crate::web::access;
use crate::web::charts::{self, TrendPoint, TrendSeries};
use crate::web::error::WebError;
use crate::web::export;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::ranking::{
    RankingRow, RankingView, cycles_and_choice, cycles_stamp, parse_kind, ranking_rows, ranking_view_of,
};
use crate::web::views::unit_detail::{UnitDetail, detail_stamp, unit_detail};

/// The ranking, unit and evidence pages: templates as (name, source) pairs, embedded in the
/// binary.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("leader/rankings.html", include_str!("../templates/leader/rankings.html")),
    ("leader/rankings_body.html", include_str!("../templates/leader/rankings_body.html")),
    ("leader/unit.html", include_str!("../templates/leader/unit.html")),
    ("leader/unit_body.html", include_str!("../templates/leader/unit_body.html")),
    ("leader/evidence.html", include_str!("../templates/leader/evidence.html")),
];

/// `/rankings` (page and CSV) and `/units/<code>`.
pub fn routes() -> Vec<rocket::Route> {
    routes![rankings, rankings_csv, unit_page]
}

/// Rows per ranking page: a province's 14,000 units would make a page no phone can open.
/// Summary figures and charts always cover every row of the filters.
const ROWS_PER_PAGE: usize = 300;

/// The ranking filters as a query string, for links that keep them.
fn ranking_query(
    cycle: Option<&str>,
    kind: Option<UnitKind>,
    laggards_only: bool,
    page: Option<usize>,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(cycle) = cycle {
        query.append_pair("cycle", cycle);
    }
    if let Some(kind) = kind {
        query.append_pair("kind", kind.as_str());
    }
    if laggards_only {
        query.append_pair("laggards", "true");
    }
    if let Some(page) = page.filter(|p| *p > 1) {
        query.append_pair("page", &page.to_string());
    }
    query.finish()
}

/// Pagination links for the ranking table.
#[derive(Debug, Serialize)]
struct Pager {
    page: usize,
    pages: usize,
    first_row: usize,
    last_row: usize,
    previous: Option<String>,
    next: Option<String>,
}

#[get("/rankings?<cycle>&<kind>&<laggards>&<page>")]
async fn rankings(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
    cycle: Option<&str>,
    kind: Option<&str>,
    laggards: Option<bool>,
    page: Option<usize>,
) -> Result<RawHtml<String>, WebError> {
    user.require_reader()?;
    let kind = parse_kind(kind)?;
    let laggards_only = laggards.unwrap_or(false);
    let (cycles, chosen) = cycles_and_choice(&state.store, cycle).await?;
    let shown_cycle = chosen.as_ref().map(|c| c.cycle.clone());
    // The content depends on the cycles' stamps, the filters and the page, and on the role only
    // in what an empty ranking says; the reader's name and CSRF token stay in the layout.
    let stamp = cycles_stamp(&cycles);
    let key = format!(
        "{}\n{}\n{laggards_only}\n{}\n{}",
        shown_cycle.as_deref().unwrap_or(""),
        kind.map_or("", UnitKind::as_str),
        page.unwrap_or(1),
        user.role().as_str()
    );
    let body = match state.ranking_pages.get(&stamp, &key) {
        Some(body) => body,
        None => {
            let view = ranking_view_of(&state.store, cycles, chosen, kind, laggards_only).await?;
            let body: Arc<str> = Arc::from(ranking_body(state, view, page, user.role())?);
            state.ranking_pages.put(&stamp, &key, body.clone());
            body
        }
    };
    state.templates.page(
        "leader/rankings.html",
        &user,
        flash,
        context! { cycle => shown_cycle, body => Value::from_safe_string(body.to_string()) },
    )
}

/// The ranking page's content for one page of rows: summaries, charts, the table and links
/// that keep the filters. Rendered without the reader (see [`FragmentCache`]).
///
/// [`FragmentCache`]: crate::web::fragments::FragmentCache
fn ranking_body(
    state: &AppState,
    mut view: RankingView,
    page: Option<usize>,
    role: Role,
) -> Result<String, WebError> {
    let (kind, laggards_only) = (view.kind, view.laggards_only);
    let scores: Vec<Decimal> = view.rows.iter().map(|row| row.score.score).collect();
    let distribution = view
        .scale
        .as_ref()
        .map(|scale| charts::score_distribution(&scores, scale.pass_mark, scale.points))
        .unwrap_or_else(|| charts::score_distribution(&[], None, Decimal::ZERO));
    let kind_rows: Vec<(String, Decimal, usize)> = view
        .by_kind
        .iter()
        .map(|k| (k.label.to_string(), k.summary.average.unwrap_or_default(), k.summary.laggards))
        .collect();
    let kind_chart = charts::kind_bars(&kind_rows);

    // Links keep the cycle shown, so a CSV or a next page is of the same cycle even if the
    // office changes the current one meanwhile.
    let shown_cycle = view.cycle.as_ref().map(|c| c.cycle.clone());
    let rows_total = view.rows.len();
    let pages = rows_total.div_ceil(ROWS_PER_PAGE).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let start = (page - 1) * ROWS_PER_PAGE;
    // Only this page's rows go to the template; the rest are not serialised at all.
    let rows: Vec<RankingRow> =
        std::mem::take(&mut view.rows).into_iter().skip(start).take(ROWS_PER_PAGE).collect();
    let link = |p: usize| {
        format!("/rankings?{}", ranking_query(shown_cycle.as_deref(), kind, laggards_only, Some(p)))
    };
    let pager = Pager {
        page,
        pages,
        first_row: if rows.is_empty() { 0 } else { start + 1 },
        last_row: start + rows.len(),
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    };
    let csv_href =
        format!("/rankings.csv?{}", ranking_query(shown_cycle.as_deref(), kind, laggards_only, None));
    // A unit's page opens on the cycle the ranking shows.
    let unit_query = ranking_query(shown_cycle.as_deref(), None, false, None);
    state.templates.render(
        "leader/rankings_body.html",
        context! {
            view => view,
            rows => rows,
            pager => pager,
            csv_href => csv_href,
            unit_query => unit_query,
            role => role.as_str(),
            distribution_chart => Value::from_safe_string(distribution.into_string()),
            kind_chart => Value::from_safe_string(kind_chart.into_string()),
        },
    )
}

/// A CSV file download.
#[derive(Responder)]
struct CsvDownload {
    body: Vec<u8>,
    content_type: ContentType,
    disposition: Header<'static>,
}

/// `attachment; filename="ranking-<cycle>.csv"`. Cycle ids are the office's text: characters
/// a header or a file system might choke on are replaced in `filename`, and the exact name
/// follows in `filename*` (RFC 6266) whenever anything was replaced.
fn attachment(cycle: &str) -> String {
    let name = format!("ranking-{cycle}.csv");
    let plain: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .collect();
    if plain == name {
        format!("attachment; filename=\"{plain}\"")
    } else {
        let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
        format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{}", encoded.replace('+', "%20"))
    }
}

#[get("/rankings.csv?<cycle>&<kind>&<laggards>")]
async fn rankings_csv(
    state: &State<AppState>,
    user: CurrentUser,
    cycle: Option<&str>,
    kind: Option<&str>,
    laggards: Option<bool>,
) -> Result<CsvDownload, WebError> {
    user.require_reader()?;
    let kind = parse_kind(kind)?;
    let Some((cycle, rows)) = ranking_rows(&state.store, cycle, kind, laggards.unwrap_or(false)).await?
    else {
        return Err(WebError::NotFound);
    };
    let body = export::ranking_csv(&rows).map_err(|e| WebError::Internal(format!("导出 CSV：{e}")))?;
    Ok(CsvDownload {
        body,
        content_type: ContentType::CSV,
        disposition: Header::new("Content-Disposition", attachment(&cycle.cycle)),
    })
}

/// What the signed-in person can do from a unit's page.
#[derive(Debug, Default, Serialize)]
struct UnitActions {
    /// The unit's own account: submit the self-assessment, answer findings.
    own_unit: bool,
    /// An inspector of the unit's group: record a visit.
    record_visit: bool,
}

#[get("/units/<code>?<cycle>")]
async fn unit_page(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
    code: &str,
    cycle: Option<&str>,
) -> Result<RawHtml<String>, WebError> {
    let code = access::unit_code(code)?;
    user.ensure_view_unit(&state.store, &code).await?;
    let actions = UnitActions {
        own_unit: user.ensure_own_unit(&code).is_ok(),
        record_visit: user.role() == Role::Inspector
            && user.ensure_record_visit(&state.store, &code).await.is_ok(),
    };
    let reader = user.require_reader().is_ok();
    // The content depends on the store's data (the change stamp moves with every write that
    // could touch it), the unit, the cycle asked for and what this reader may do there.
    let stamp = detail_stamp(&state.store);
    let key =
        format!("{code}\n{}\n{}{}{reader}", cycle.unwrap_or(""), actions.own_unit, actions.record_visit);
    let kept = stamp.as_deref().and_then(|stamp| {
        Some((state.unit_pages.get(stamp, &format!("{key}\ntitle"))?, state.unit_pages.get(stamp, &key)?))
    });
    let (title, body) = match kept {
        Some(kept) => kept,
        None => {
            let detail = unit_detail(&state.store, &code, cycle).await?;
            let title: Arc<str> = Arc::from(detail.unit.name.as_str());
            let body: Arc<str> = Arc::from(unit_body(state, &detail, &actions, reader)?);
            if let Some(stamp) = &stamp {
                state.unit_pages.put(stamp, &format!("{key}\ntitle"), title.clone());
                state.unit_pages.put(stamp, &key, body.clone());
            }
            (title, body)
        }
    };
    state.templates.page(
        "leader/unit.html",
        &user,
        flash,
        context! { title => title.as_ref(), body => Value::from_safe_string(body.to_string()) },
    )
}

/// A unit's page content: facts, score, explanation, findings, visits, claims and the trend
/// chart. Rendered without the reader but for their actions (see [`FragmentCache`]).
///
/// [`FragmentCache`]: crate::web::fragments::FragmentCache
fn unit_body(
    state: &AppState,
    detail: &UnitDetail,
    actions: &UnitActions,
    reader: bool,
) -> Result<String, WebError> {
    let trend = charts::trend(&[TrendSeries {
        label: detail.unit.name.clone(),
        points: detail
            .history
            .iter()
            .map(|point| TrendPoint {
                cycle: point.cycle.clone(),
                total: point.total,
                rank: Some(point.rank),
            })
            .collect(),
    }]);
    let cycle_query = |cycle: &str| {
        url::form_urlencoded::Serializer::new(String::new()).append_pair("cycle", cycle).finish()
    };
    let history_links: Vec<String> = detail
        .history
        .iter()
        .map(|p| format!("/units/{}?{}", detail.unit.code, cycle_query(&p.cycle)))
        .collect();
    state.templates.render(
        "leader/unit_body.html",
        context! {
            detail => detail,
            history_links => history_links,
            actions => actions,
            reader => reader,
            trend_chart => Value::from_safe_string(trend.into_string()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_cycle_names_are_the_file_name() {
        assert_eq!(attachment("gov-2026-11-30"), "attachment; filename=\"ranking-gov-2026-11-30.csv\"");
    }

    #[test]
    fn other_cycle_names_are_replaced_and_given_exactly_in_filename_star() {
        let header = attachment("2026年\"Q4\"\r\n");
        assert!(
            header.starts_with("attachment; filename=\"ranking-2026__Q4___.csv\"; filename*=UTF-8''"),
            "{header}"
        );
        assert!(!header.contains('\r') && !header.contains('\n'));
        assert!(header.contains("%E5%B9%B4%22Q4%22%0D%0A.csv"), "{header}");
    }

    #[test]
    fn ranking_links_keep_the_filters() {
        assert_eq!(
            ranking_query(Some("c 1"), Some(UnitKind::District), true, Some(2)),
            "cycle=c+1&kind=district&laggards=true&page=2"
        );
        assert_eq!(ranking_query(None, None, false, Some(1)), "");
    }
}
