//! A cycle's ranking for office and leaders: the same [`RankingView`] the ranking page shows,
//! and the same CSV file its export button downloads.

use rocket::http::{ContentType, Header};
use rocket::serde::json::Json;
use rocket::{Responder, State, get, routes};

use super::{ApiResult, flag};
use crate::web::error::WebError;
use crate::web::export::ranking_csv;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::ranking::{RankingView, parse_kind, ranking_rows, ranking_view};

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![rankings, rankings_csv]
}

/// `cycle` (default: the current one; unknown → 404), `kind` (a unit kind) and `laggards`
/// (true: laggards only).
#[get("/rankings?<cycle>&<kind>&<laggards>")]
async fn rankings(
    state: &State<AppState>,
    user: CurrentUser,
    cycle: Option<&str>,
    kind: Option<&str>,
    laggards: Option<&str>,
) -> ApiResult<RankingView> {
    user.require_reader()?;
    let kind = kind_parameter(kind)?;
    let laggards = flag("laggards", laggards)?;
    Ok(Json(ranking_view(&state.store, cycle, kind, laggards).await?))
}

/// The `kind` parameter, named in its refusal.
fn kind_parameter(raw: Option<&str>) -> Result<Option<crate::model::UnitKind>, WebError> {
    parse_kind(raw).map_err(|error| WebError::bad(format!("参数“kind”无效：{error}")))
}

/// The ranking as the spreadsheet file the ranking page exports.
#[derive(Responder)]
struct CsvFile {
    body: Vec<u8>,
    content_type: ContentType,
    disposition: Header<'static>,
}

impl CsvFile {
    /// The download is named after the cycle (`ranking-<cycle>.csv`), encoded for any text.
    fn new(body: Vec<u8>, cycle: &str) -> Self {
        let stem = format!("ranking-{cycle}");
        let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        // RFC 5987: every byte outside the attribute characters is percent-encoded.
        let encoded: String = stem
            .bytes()
            .map(|b| if safe(char::from(b)) { char::from(b).to_string() } else { format!("%{b:02X}") })
            .collect();
        let ascii: String = stem.chars().map(|c| if safe(c) { c } else { '_' }).collect();
        CsvFile {
            body,
            content_type: ContentType::new("text", "csv").with_params(("charset", "utf-8")),
            disposition: Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{ascii}.csv\"; filename*=UTF-8''{encoded}.csv"),
            ),
        }
    }
}

#[get("/rankings.csv?<cycle>&<kind>&<laggards>")]
async fn rankings_csv(
    state: &State<AppState>,
    user: CurrentUser,
    cycle: Option<&str>,
    kind: Option<&str>,
    laggards: Option<&str>,
) -> Result<CsvFile, WebError> {
    user.require_reader()?;
    let kind = kind_parameter(kind)?;
    let laggards = flag("laggards", laggards)?;
    // Before the first assessment there is nothing to export, as on the ranking page.
    let (cycle, rows) = ranking_rows(&state.store, cycle, kind, laggards).await?.ok_or(WebError::NotFound)?;
    let body = ranking_csv(&rows).map_err(|e| WebError::Internal(format!("生成 CSV 失败：{e}")))?;
    Ok(CsvFile::new(body, &cycle.cycle))
}
