//! Reading the units registry CSV (DESIGN.md §5) into validated [`Unit`]s.
//!
//! Every row is checked before anything is written; problems are collected, not returned at
//! the first one, so an office fixes a broken file in one pass.

use std::collections::{HashMap, HashSet};

use email_address::EmailAddress;
use url::Url;

use super::{Rejected, RowProblem};
use crate::model::{OrgCode, Unit, UnitKind};
use crate::text::csv_table::Table;

const REQUIRED_COLUMNS: [&str; 4] = ["code", "name", "kind", "website"];
const OPTIONAL_COLUMNS: [&str; 3] = ["parent_code", "catalogue_url", "email"];
const MAX_NAME_CHARS: usize = 200;

/// A unit read from the file, with the line it came from (for later cross-row checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRow {
    /// The line of the file the row is on (the header is line 1).
    pub line: u64,
    /// The unit the row describes.
    pub unit: Unit,
}

/// A registry file after the per-row checks: the rows that passed and the problems of the
/// rest. Parent links are checked later, against the store as well
/// ([`super::plan_import`]), so that one run reports every problem of the file.
#[derive(Debug, Clone)]
pub struct RegistryFile {
    /// The rows that passed every per-row check, in file order.
    pub rows: Vec<RegistryRow>,
    /// The problems of the rows that did not.
    pub problems: Vec<RowProblem>,
    /// Codes of rows that failed other checks: a child naming one of them as its parent is
    /// not also told that its parent is missing.
    pub codes_with_problems: HashSet<OrgCode>,
    /// The encoding the file was read in, e.g. `UTF-8` or `GBK`.
    pub encoding: &'static str,
}

/// Parses and checks a registry file's bytes: encoding, header, every field of every row,
/// and duplicate codes within the file. Fails outright only when the file cannot be read
/// as a table at all (encoding, header).
pub fn read_registry(bytes: &[u8]) -> Result<RegistryFile, Rejected> {
    let table = Table::read(bytes, &REQUIRED_COLUMNS, &OPTIONAL_COLUMNS)?;
    let mut problems = table.problems.clone();
    let mut rows = Vec::new();
    let mut codes_with_problems = HashSet::new();
    let mut first_line_of: HashMap<OrgCode, u64> = HashMap::new();
    for (line, record) in &table.rows {
        let line = *line;
        match unit(&table, record, line) {
            Ok(unit) => {
                if let Some(first) = first_line_of.get(&unit.code) {
                    problems.push(RowProblem::new(
                        line,
                        "code",
                        format!("单位代码 {} 与第 {first} 行重复", unit.code),
                    ));
                } else {
                    first_line_of.insert(unit.code.clone(), line);
                    rows.push(RegistryRow { line, unit });
                }
            }
            Err((code, mut row_problems)) => {
                codes_with_problems.extend(code);
                problems.append(&mut row_problems);
            }
        }
    }
    Ok(RegistryFile { rows, problems, codes_with_problems, encoding: table.encoding })
}

/// Checks every field of one row, collecting all of its problems (and the row's code, when
/// that much was valid).
fn unit(
    table: &Table,
    record: &csv::StringRecord,
    line: u64,
) -> Result<Unit, (Option<OrgCode>, Vec<RowProblem>)> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| problems.push(RowProblem::new(line, field, message));
    let get = |column: &str| table.get(record, column);

    let code = match get("code") {
        None => {
            problem("code", "必填".into());
            None
        }
        Some(raw) => OrgCode::parse(raw).map_err(|e| problem("code", format!("“{raw}”：{e}"))).ok(),
    };
    let name = match get("name") {
        None => {
            problem("name", "必填".into());
            None
        }
        Some(name) if name.chars().count() > MAX_NAME_CHARS => {
            problem("name", format!("名称过长（超过 {MAX_NAME_CHARS} 个字符）"));
            None
        }
        Some(name) => Some(name.to_string()),
    };
    let kind = match get("kind") {
        None => {
            problem("kind", "必填".into());
            None
        }
        Some(raw) => raw.parse::<UnitKind>().map_err(|e| problem("kind", e.to_string())).ok(),
    };
    let parent_code = match get("parent_code") {
        None => None,
        Some(raw) => match OrgCode::parse(raw) {
            Ok(parent) => Some(parent),
            Err(e) => {
                problem("parent_code", format!("“{raw}”：{e}"));
                None
            }
        },
    };
    let website = match get("website") {
        None => {
            problem("website", "必填".into());
            None
        }
        Some(raw) => web_address(raw).map_err(|m| problem("website", m)).ok(),
    };
    let catalogue_url =
        get("catalogue_url").and_then(|raw| web_address(raw).map_err(|m| problem("catalogue_url", m)).ok());
    let email = get("email").and_then(|raw| {
        raw.parse::<EmailAddress>()
            .map(|_| raw.to_string())
            .map_err(|e| problem("email", format!("“{raw}”不是有效的电子邮件地址（{e}）")))
            .ok()
    });

    match (code, name, kind) {
        (Some(code), Some(name), Some(kind)) if problems.is_empty() => {
            if parent_code.as_ref() == Some(&code) {
                return Err((
                    Some(code),
                    vec![RowProblem::new(line, "parent_code", "上级单位不能是本单位自身")],
                ));
            }
            Ok(Unit { code, name, kind, parent_code, website, catalogue_url, email })
        }
        (code, _, _) => Err((code, problems)),
    }
}

/// Accepts an absolute http(s) address with a host, as the crawler will need it.
pub fn web_address(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|e| format!("“{raw}”不是有效的网址（{e}）"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("“{raw}”应以 http:// 或 https:// 开头"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("“{raw}”缺少主机名"));
    }
    Ok(url.to_string())
}
