//! `gongkai self-assess import`: record units' self-assessment claims.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::output::{Format, print_json};
use super::units::report_rejection;
use super::{BadInput, actor};
use crate::inspection;
use crate::model::OrgCode;
use crate::store::{AuditEntry, Store};

#[derive(Serialize)]
struct ImportReport<'a> {
    file: &'a str,
    encoding: &'a str,
    units: usize,
    claims: usize,
    replaced: usize,
}

pub(super) async fn import(store: &Store, file: &Path, format: Format) -> anyhow::Result<()> {
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| BadInput::new(format!("无法读取文件 {shown}：{e}")))?;
    let units: HashSet<OrgCode> = store.units().await?.into_iter().map(|u| u.code).collect();
    let parsed = inspection::read_self_assessment(&bytes, &units, chrono::Utc::now())
        .map_err(|r| report_rejection(&shown, &r, format))?;

    let audit =
        AuditEntry::new(actor(), "self_assessment.import").target(shown.clone()).detail(serde_json::json!({
            "units": parsed.unit_count(),
            "claims": parsed.claims.len(),
            "encoding": parsed.encoding,
        }));
    let outcome = store.record_self_assessment(&parsed.claims, audit).await?;

    let mut out = io::stdout().lock();
    match format {
        Format::Json => print_json(
            &ImportReport {
                file: &shown,
                encoding: parsed.encoding,
                units: outcome.units,
                claims: outcome.claims,
                replaced: outcome.replaced,
            },
            &mut out,
        )?,
        Format::Csv => {
            writeln!(out, "units,claims,replaced")?;
            writeln!(out, "{},{},{}", outcome.units, outcome.claims, outcome.replaced)?;
        }
        Format::Table => {
            writeln!(
                out,
                "已导入 {shown}（{}）：{} 个单位的自评 {} 项",
                parsed.encoding, outcome.units, outcome.claims
            )?;
            if outcome.replaced > 0 {
                writeln!(out, "其中 {} 项替换了该单位此前提交的同项自评", outcome.replaced)?;
            }
        }
    }
    Ok(())
}
