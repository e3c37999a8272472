//! The unit registry: search it, and import the office's CSV (DESIGN.md §5) from the browser,
//! all-or-nothing, with every bad row named.

use minijinja::context;
use rocket::data::Capped;
use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::request::FlashMessage;
use rocket::response::content::RawHtml;
use rocket::{State, get, post, routes};
use serde::Serialize;
use tokio::io::AsyncReadExt;

use super::{Posted, done, refused};
use crate::csrf_protected;
use crate::model::UnitKind;
use crate::registry::Rejected;
use crate::web::actions::registry::{UnitImport, import_units};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;
use crate::web::views::registry::unit_registry;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![units, import]
}

/// One refused row, as "第 N 行 字段：说明".
#[derive(Debug, Serialize)]
struct ProblemRow {
    line: u64,
    field: String,
    message: String,
}

/// The search the page was opened with.
#[derive(Debug, Default, Serialize)]
struct Search {
    q: String,
    kind: String,
}

/// The CSV columns by the name the office knows them by.
fn column_label(field: &str) -> String {
    let label = match field {
        "code" => "单位代码",
        "name" => "单位名称",
        "kind" => "单位类型",
        "parent_code" => "上级单位代码",
        "website" => "网站",
        "catalogue_url" => "公开目录地址",
        "email" => "邮箱",
        _ => return field.to_string(),
    };
    format!("{label}（{field}）")
}

async fn units_page(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<FlashMessage<'_>>,
    search: Search,
    problems: Option<Vec<ProblemRow>>,
) -> Result<RawHtml<String>, WebError> {
    let kind = search.kind.parse::<UnitKind>().ok();
    let registry = unit_registry(&state.store, &search.q, kind).await?;
    let kinds: Vec<_> =
        UnitKind::ALL.iter().map(|k| context! { value => k.as_str(), label => k.label_zh() }).collect();
    state.templates.page(
        "office/units.html",
        user,
        flash,
        context! { units => registry.units, total => registry.total, search => search, kinds => kinds, problems => problems },
    )
}

#[get("/office/units?<q>&<kind>")]
async fn units(
    state: &State<AppState>,
    user: CurrentUser,
    flash: Option<FlashMessage<'_>>,
    q: Option<&str>,
    kind: Option<&str>,
) -> Result<RawHtml<String>, WebError> {
    user.require_office()?;
    let search =
        Search { q: q.unwrap_or_default().trim().to_string(), kind: kind.unwrap_or_default().to_string() };
    units_page(state, &user, flash, search, None).await
}

/// The import form: a CSV file, or its text pasted into the box (a multipart form either way).
#[derive(FromForm)]
struct ImportForm<'r> {
    #[field(default = String::new())]
    csrf: String,
    file: Option<Capped<TempFile<'r>>>,
    #[field(default = String::new())]
    text: String,
}

csrf_protected!(ImportForm<'_>);

/// The uploaded file's bytes, or the pasted text's; `None` when neither was given.
async fn upload_bytes(form: &ImportForm<'_>) -> Result<Option<(String, Vec<u8>)>, String> {
    if let Some(file) = form.file.as_ref().filter(|file| !file.is_empty()) {
        if !file.is_complete() {
            return Err("文件太大，超出了上传大小上限".to_string());
        }
        let mut bytes = Vec::new();
        let mut reader = file.open().await.map_err(|e| format!("无法读取上传的文件：{e}"))?;
        reader.read_to_end(&mut bytes).await.map_err(|e| format!("无法读取上传的文件：{e}"))?;
        let name = file.name().map(|n| format!("文件 {n}")).unwrap_or_else(|| "上传的文件".to_string());
        return Ok(Some((name, bytes)));
    }
    if !form.text.trim().is_empty() {
        return Ok(Some(("网页粘贴的内容".to_string(), form.text.as_bytes().to_vec())));
    }
    Ok(None)
}

fn problem_rows(rejected: &Rejected) -> Vec<ProblemRow> {
    rejected
        .0
        .iter()
        .map(|p| ProblemRow { line: p.line, field: column_label(&p.field), message: p.message.clone() })
        .collect()
}

#[post("/office/units/import", data = "<form>")]
async fn import(state: &State<AppState>, user: CurrentUser, form: CsrfForm<ImportForm<'_>>) -> Posted {
    user.require_office()?;
    let refuse = async |problems: Vec<ProblemRow>| {
        refused(units_page(state, &user, None, Search::default(), Some(problems)).await?)
    };
    let (source, bytes) = match upload_bytes(&form).await {
        Ok(Some(upload)) => upload,
        Ok(None) => {
            return refuse(vec![ProblemRow {
                line: 0,
                field: "文件".into(),
                message: "请选择 CSV 文件，或把内容粘贴到文本框中".into(),
            }])
            .await;
        }
        Err(message) => return refuse(vec![ProblemRow { line: 0, field: "文件".into(), message }]).await,
    };
    let UnitImport { outcome, encoding } = match import_units(&state.store, &user, &source, &bytes).await? {
        Ok(import) => import,
        Err(rejected) => return refuse(problem_rows(&rejected)).await,
    };
    let mut message = format!(
        "已导入{source}（{}编码）：新增 {} 个，更新 {} 个，未变 {} 个",
        encoding, outcome.added, outcome.updated, outcome.unchanged
    );
    if outcome.not_in_file > 0 {
        message.push_str(&format!("；库中另有 {} 个单位不在本次导入中，未作改动", outcome.not_in_file));
    }
    done("/office/units", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_in_chinese_with_their_csv_name() {
        assert_eq!(column_label("code"), "单位代码（code）");
        assert_eq!(column_label("其他"), "其他");
    }
}
