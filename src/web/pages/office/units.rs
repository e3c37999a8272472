//! The unit registry: search it, and import the office's CSV (DESIGN.md §5) from the browser,
//! all-or-nothing, with every bad row named.

use std::collections::HashMap;

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
use crate::model::{Unit, UnitKind};
use crate::registry::{Rejected, plan_import, read_registry};
use crate::store::{AuditEntry, Store};
use crate::web::csrf::CsrfForm;
use crate::web::error::WebError;
use crate::web::session::CurrentUser;
use crate::web::state::AppState;

pub(super) fn routes() -> Vec<rocket::Route> {
    routes![units, import]
}

/// One registry row as the page lists it.
#[derive(Debug, Serialize)]
struct UnitRow {
    code: String,
    name: String,
    kind: &'static str,
    parent_code: Option<String>,
    parent_name: Option<String>,
    website: Option<String>,
    catalogue_url: Option<String>,
    group: Option<String>,
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

/// Which group each unit is assigned to.
pub(super) async fn group_of_units(store: &Store) -> Result<HashMap<String, String>, WebError> {
    let mut groups = HashMap::new();
    for group in store.groups().await? {
        for code in store.group_units(&group.name).await? {
            groups.insert(code.to_string(), group.name.clone());
        }
    }
    Ok(groups)
}

fn matches(unit: &Unit, query: &str, kind: Option<UnitKind>) -> bool {
    let query = query.trim().to_lowercase();
    let text_ok = query.is_empty()
        || unit.code.as_str().to_lowercase().contains(&query)
        || unit.name.to_lowercase().contains(&query)
        || unit.website.as_deref().is_some_and(|w| w.to_lowercase().contains(&query))
        || unit.catalogue_url.as_deref().is_some_and(|c| c.to_lowercase().contains(&query));
    text_ok && kind.is_none_or(|k| unit.kind == k)
}

async fn units_page(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<FlashMessage<'_>>,
    search: Search,
    problems: Option<Vec<ProblemRow>>,
) -> Result<RawHtml<String>, WebError> {
    let all = state.store.units().await?;
    let groups = group_of_units(&state.store).await?;
    let names: HashMap<String, String> = all.iter().map(|u| (u.code.to_string(), u.name.clone())).collect();
    let kind = search.kind.parse::<UnitKind>().ok();
    let rows: Vec<UnitRow> = all
        .iter()
        .filter(|unit| matches(unit, &search.q, kind))
        .map(|unit| {
            let parent_code = unit.parent_code.as_ref().map(ToString::to_string);
            UnitRow {
                code: unit.code.to_string(),
                name: unit.name.clone(),
                kind: unit.kind.as_str(),
                parent_name: parent_code.as_ref().and_then(|p| names.get(p).cloned()),
                parent_code,
                website: unit.website.clone(),
                catalogue_url: unit.catalogue_url.clone(),
                group: groups.get(unit.code.as_str()).cloned(),
            }
        })
        .collect();
    let kinds: Vec<_> =
        UnitKind::ALL.iter().map(|k| context! { value => k.as_str(), label => k.label_zh() }).collect();
    state.templates.page(
        "office/units.html",
        user,
        flash,
        context! { units => rows, total => all.len(), search => search, kinds => kinds, problems => problems },
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
    let parsed = match read_registry(&bytes) {
        Ok(parsed) => parsed,
        Err(rejected) => return refuse(problem_rows(&rejected)).await,
    };
    let existing = state.store.units().await?;
    let plan = match plan_import(&parsed, &existing) {
        Ok(plan) => plan,
        Err(rejected) => return refuse(problem_rows(&rejected)).await,
    };
    let audit = AuditEntry::new(&user.account.username, "units.import").target(source.clone()).detail(
        serde_json::json!({
            "added": plan.added.len(),
            "updated": plan.updated.len(),
            "unchanged": plan.unchanged,
            "encoding": parsed.encoding,
        }),
    );
    let outcome = state.store.apply_unit_import(&plan, audit, |_| {}).await?;
    let mut message = format!(
        "已导入{source}（{}编码）：新增 {} 个，更新 {} 个，未变 {} 个",
        parsed.encoding, outcome.added, outcome.updated, outcome.unchanged
    );
    if outcome.not_in_file > 0 {
        message.push_str(&format!("；库中另有 {} 个单位不在本次导入中，未作改动", outcome.not_in_file));
    }
    done("/office/units", message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::synthetic_credit_code;

    fn unit(name: &str, kind: UnitKind) -> Unit {
        Unit {
            code: synthetic_credit_code("450100", 7).expect("code"),
            name: name.into(),
            kind,
            parent_code: None,
            website: Some("http://jyj.example.cn/".into()),
            catalogue_url: None,
            email: None,
        }
    }

    #[test]
    fn search_looks_at_code_name_and_addresses() {
        let u = unit("南宁市教育局", UnitKind::Department);
        assert!(matches(&u, "", None));
        assert!(matches(&u, "教育", None));
        assert!(matches(&u, "JYJ.EXAMPLE", None));
        assert!(matches(&u, &u.code.as_str()[..6].to_lowercase(), None));
        assert!(!matches(&u, "公安", None));
        assert!(!matches(&u, "教育", Some(UnitKind::District)));
        assert!(matches(&u, "教育", Some(UnitKind::Department)));
    }

    #[test]
    fn columns_are_named_in_chinese_with_their_csv_name() {
        assert_eq!(column_label("code"), "单位代码（code）");
        assert_eq!(column_label("其他"), "其他");
    }
}
