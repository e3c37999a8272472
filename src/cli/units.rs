//! `gongkai units …`: import, list and show the registry.

use std::io::{self, Write};
use std::path::Path;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::output::{Format, Listing, print_json, print_listing, print_record_table};
use super::{BadInput, actor};
use crate::model::{OrgCode, Unit, UnitKind};
use crate::registry::{self, Rejected};
use crate::store::{AuditEntry, Store};

impl Listing for Unit {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("code", "代码"),
        ("name", "名称"),
        ("kind", "类型"),
        ("parent_code", "上级单位"),
        ("website", "网站"),
        ("catalogue_url", "公开目录"),
        ("email", "邮箱"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.code.to_string(),
            self.name.clone(),
            self.kind.to_string(),
            opt(self.parent_code.as_ref().map(ToString::to_string)),
            opt(self.website.clone()),
            opt(self.catalogue_url.clone()),
            opt(self.email.clone()),
        ]
    }
}

fn opt(value: Option<String>) -> String {
    value.unwrap_or_default()
}

#[derive(Serialize)]
struct ImportReport<'a> {
    file: &'a str,
    encoding: &'a str,
    added: usize,
    updated: usize,
    unchanged: usize,
    not_in_file: usize,
}

#[derive(Serialize)]
struct RejectionReport<'a> {
    file: &'a str,
    error: &'static str,
    problems: Vec<ProblemJson<'a>>,
}

#[derive(Serialize)]
struct ProblemJson<'a> {
    line: u64,
    field: &'a str,
    message: &'a str,
}

pub(super) async fn import(store: &Store, file: &Path, format: Format) -> anyhow::Result<()> {
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| BadInput::new(format!("无法读取文件 {shown}：{e}")))?;
    let spinner = ProgressBar::new_spinner().with_message(format!("校验 {shown}"));
    let parsed = match registry::read_registry(&bytes) {
        Ok(parsed) => parsed,
        Err(rejected) => {
            spinner.finish_and_clear();
            return Err(report_rejection(&shown, &rejected, format));
        }
    };
    spinner.set_message("与库中单位比对");
    let existing = store.units().await?;
    let plan = match registry::plan_import(&parsed, &existing) {
        Ok(plan) => plan,
        Err(rejected) => {
            spinner.finish_and_clear();
            return Err(report_rejection(&shown, &rejected, format));
        }
    };
    spinner.finish_and_clear();

    let total = plan.added.len() + plan.updated.len();
    let bar = ProgressBar::new(total as u64).with_style(
        ProgressStyle::with_template("写入单位 {bar:40} {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let audit = AuditEntry::new(actor(), "units.import").target(shown.clone()).detail(serde_json::json!({
        "added": plan.added.len(),
        "updated": plan.updated.len(),
        "unchanged": plan.unchanged,
        "encoding": parsed.encoding,
    }));
    let outcome = store.apply_unit_import(&plan, audit, |written| bar.set_position(written as u64)).await?;
    bar.finish_and_clear();

    let mut out = io::stdout().lock();
    match format {
        Format::Json => print_json(
            &ImportReport {
                file: &shown,
                encoding: parsed.encoding,
                added: outcome.added,
                updated: outcome.updated,
                unchanged: outcome.unchanged,
                not_in_file: outcome.not_in_file,
            },
            &mut out,
        )?,
        Format::Csv => {
            writeln!(out, "added,updated,unchanged,not_in_file")?;
            writeln!(
                out,
                "{},{},{},{}",
                outcome.added, outcome.updated, outcome.unchanged, outcome.not_in_file
            )?;
        }
        _ => {
            writeln!(
                out,
                "已导入 {shown}（{}）：新增 {}，更新 {}，未变 {}",
                parsed.encoding, outcome.added, outcome.updated, outcome.unchanged
            )?;
            if outcome.not_in_file > 0 {
                writeln!(
                    out,
                    "库中另有 {} 个单位不在本文件中，未作改动（导入不会删除单位）",
                    outcome.not_in_file
                )?;
            }
        }
    }
    Ok(())
}

/// Prints every problem (`LINE:FIELD: message` on stderr; also JSON on stdout when asked)
/// and returns the error that makes the command exit with code 2.
pub(super) fn report_rejection(file: &str, rejected: &Rejected, format: Format) -> anyhow::Error {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{file}：{rejected}");
    for problem in &rejected.0 {
        let _ = writeln!(err, "{problem}");
    }
    if format == Format::Json {
        let report = RejectionReport {
            file,
            error: "rejected",
            problems: rejected
                .0
                .iter()
                .map(|p| ProblemJson { line: p.line, field: &p.field, message: &p.message })
                .collect(),
        };
        let _ = print_json(&report, &mut io::stdout().lock());
    }
    BadInput::silent().into()
}

pub(super) async fn list(
    store: &Store,
    kind: Option<UnitKind>,
    parent: Option<&str>,
    format: Format,
) -> anyhow::Result<()> {
    let parent = parent.map(parse_code).transpose()?;
    let units: Vec<Unit> = store
        .units()
        .await?
        .into_iter()
        .filter(|u| kind.is_none_or(|k| u.kind == k))
        .filter(|u| parent.is_none() || u.parent_code == parent)
        .collect();
    print_listing(&units, format, &mut io::stdout().lock())?;
    Ok(())
}

/// A unit with its direct subordinates, for `units show`.
#[derive(Serialize)]
struct UnitDetail {
    #[serde(flatten)]
    unit: Unit,
    children: Vec<String>,
}

pub(super) async fn show(store: &Store, code: &str, format: Format) -> anyhow::Result<()> {
    let code = parse_code(code)?;
    let Some(unit) = store.unit(&code).await? else {
        return Err(BadInput::new(format!("未找到代码为 {code} 的单位")).into());
    };
    let children: Vec<Unit> =
        store.units().await?.into_iter().filter(|u| u.parent_code.as_ref() == Some(&code)).collect();
    let mut out = io::stdout().lock();
    match format {
        Format::Json => print_json(
            &UnitDetail { unit, children: children.iter().map(|c| c.code.to_string()).collect() },
            &mut out,
        )?,
        Format::Csv => print_listing(std::slice::from_ref(&unit), format, &mut out)?,
        Format::Table => {
            let mut pairs: Vec<(&str, String)> =
                Unit::COLUMNS.iter().map(|(_, heading)| *heading).zip(unit.cells()).collect();
            pairs[2].1 = format!("{}（{}）", unit.kind.label_zh(), unit.kind);
            let names: Vec<String> = children.iter().map(|c| format!("{} {}", c.code, c.name)).collect();
            pairs.push(("下级单位", if names.is_empty() { "无".into() } else { names.join("\n") }));
            print_record_table(&pairs, &mut out)?;
        }
    }
    Ok(())
}

fn parse_code(raw: &str) -> Result<OrgCode, BadInput> {
    OrgCode::parse(raw).map_err(|e| BadInput::new(format!("单位代码“{raw}”无效：{e}")))
}
