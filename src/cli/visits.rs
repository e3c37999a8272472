//! `gongkai visits import`: record special inspectors' visits and the findings they observed.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::output::{Format, print_json};
use super::units::report_rejection;
use super::{BadInput, actor};
use crate::inspection::{self, VisitContext};
use crate::model::{CityClock, OrgCode};
use crate::rules::{RuleSet, shipped};
use crate::store::{AuditEntry, Store};

#[derive(Serialize)]
struct ImportReport<'a> {
    file: &'a str,
    encoding: &'a str,
    visits: usize,
    findings: usize,
}

pub(super) async fn import(
    store: &Store,
    file: &Path,
    rules: Option<&Path>,
    format: Format,
) -> anyhow::Result<()> {
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| BadInput::new(format!("无法读取文件 {shown}：{e}")))?;
    let rule_set = rules.map(load_rule_set).transpose()?;
    let units: HashSet<OrgCode> = store.units().await?.into_iter().map(|u| u.code).collect();
    let existing = store.visit_keys().await?;
    let context = VisitContext {
        units: &units,
        existing: &existing,
        rules: rule_set.as_ref(),
        today: CityClock::default().today(),
    };
    let parsed =
        inspection::read_visits(&bytes, context).map_err(|r| report_rejection(&shown, &r, format))?;

    let audit = AuditEntry::new(actor(), "visits.import").target(shown.clone()).detail(serde_json::json!({
        "visits": parsed.visits.len(),
        "findings": parsed.finding_count(),
        "encoding": parsed.encoding,
        "rules": rule_set.as_ref().map(|r| format!("{} {}", r.id(), r.version())),
    }));
    let outcome = store.record_visits(&parsed.visits, audit).await?;

    let mut out = io::stdout().lock();
    match format {
        Format::Json => print_json(
            &ImportReport {
                file: &shown,
                encoding: parsed.encoding,
                visits: outcome.visits,
                findings: outcome.findings,
            },
            &mut out,
        )?,
        Format::Csv => {
            writeln!(out, "visits,findings")?;
            writeln!(out, "{},{}", outcome.visits, outcome.findings)?;
        }
        Format::Table => writeln!(
            out,
            "已导入 {shown}（{}）：检查 {} 次，发现问题 {} 条",
            parsed.encoding, outcome.visits, outcome.findings
        )?,
    }
    Ok(())
}

/// Reads the rule set whose `field.*` checks a sheet may use; its problems exit with code 2.
fn load_rule_set(path: &Path) -> anyhow::Result<RuleSet> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // The shipped rule sets are usable by path even where the files are not on disk.
        Err(e) => shipped::at_path(&shown)
            .map(|file| file.text.to_string())
            .ok_or_else(|| BadInput::new(format!("无法读取规则集 {shown}：{e}")))?,
    };
    RuleSet::parse(&text, &shown).map_err(|error| {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{shown}：{} 处错误", error.problems.len());
        for problem in &error.problems {
            let _ = writeln!(err, "{problem}");
        }
        BadInput::silent().into()
    })
}
