//! `gongkai rules check`, `gongkai assess` and `gongkai ranking`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use rust_decimal::Decimal;
use serde::Serialize;

use super::output::{Format, Listing, print_json, print_listing};
use super::{BadInput, actor};
use crate::assess::{LaggardCriteria, RankedScore};
use crate::jobs::{AssessRequest, Progress};
use crate::rules::{RuleSet, shipped};
use crate::store::Store;

/// Reads and validates a rule set, printing every problem (exit code 2) when it is invalid.
fn load_rule_set(path: &Path) -> anyhow::Result<(RuleSet, String)> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        // The shipped rule sets are usable by path even where the files are not on disk.
        Err(e) => shipped::at_path(&shown)
            .map(|file| file.text.to_string())
            .ok_or_else(|| BadInput::new(format!("无法读取规则集 {shown}：{e}")))?,
    };
    match RuleSet::parse(&text, &shown) {
        Ok(rule_set) => Ok((rule_set, text)),
        Err(error) => {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "{shown}：{} 处错误", error.problems.len());
            for problem in &error.problems {
                let _ = writeln!(err, "{problem}");
            }
            Err(BadInput::silent().into())
        }
    }
}

#[derive(Serialize)]
struct ExampleRow {
    name: String,
    expected_total: Decimal,
    actual_total: Option<Decimal>,
    expected_grade: Option<String>,
    actual_grade: Option<String>,
    expected_veto: Option<String>,
    actual_veto: Option<String>,
    pass: bool,
    mismatches: Vec<String>,
}

impl Listing for ExampleRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("name", "示例"),
        ("expected_total", "预期得分"),
        ("actual_total", "实际得分"),
        ("expected_grade", "预期等次"),
        ("actual_grade", "实际等次"),
        ("pass", "结果"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.expected_total.to_string(),
            self.actual_total.map(|t| t.to_string()).unwrap_or_default(),
            self.expected_grade.clone().unwrap_or_default(),
            self.actual_grade.clone().unwrap_or_default(),
            if self.pass { "通过".into() } else { format!("不符：{}", self.mismatches.join("；")) },
        ]
    }
}

/// `gongkai rules check FILE`: validate, then run the embedded examples.
pub(super) fn check(path: &Path, format: Format) -> anyhow::Result<()> {
    let (rule_set, _) = load_rule_set(path)?;
    let rows: Vec<ExampleRow> = rule_set
        .run_examples()
        .into_iter()
        .map(|outcome| ExampleRow {
            actual_total: outcome.actual.as_ref().map(|s| s.total),
            actual_grade: outcome.actual.as_ref().and_then(|s| s.grade.clone()),
            actual_veto: outcome.actual.as_ref().and_then(|s| s.veto.clone()),
            name: outcome.name,
            expected_total: outcome.expected.total,
            expected_grade: outcome.expected.grade,
            expected_veto: outcome.expected.veto,
            pass: outcome.pass,
            mismatches: outcome.mismatches,
        })
        .collect();
    let failed = rows.iter().filter(|r| !r.pass).count();
    let mut out = io::stdout().lock();
    if format == Format::Table {
        writeln!(
            out,
            "规则集 {}（{} 版）：{}\n适用单位：{}；满分 {}（加分后最高 {}）；合格线 {}\n内容哈希 {}",
            rule_set.id(),
            rule_set.version(),
            rule_set.title(),
            rule_set.unit_kinds().iter().map(|k| k.label_zh()).collect::<Vec<_>>().join("、"),
            rule_set.points(),
            rule_set.max_total(),
            rule_set.pass_mark(),
            rule_set.hash()
        )?;
    }
    print_listing(&rows, format, &mut out)?;
    if failed > 0 {
        return Err(BadInput::new(format!("{failed} 个示例与预期不符")).into());
    }
    if format == Format::Table {
        writeln!(out, "校验通过，{} 个示例全部符合预期", rows.len())?;
    }
    Ok(())
}

pub(super) struct AssessArgs<'a> {
    pub rules: &'a Path,
    pub cycle: Option<String>,
    pub as_of: Option<&'a str>,
    pub laggards: Option<&'a Path>,
    pub compare_with: Option<String>,
    pub dry_run: bool,
    pub format: Format,
}

/// `gongkai assess`: score every unit the rule set applies to and save the cycle (or, with
/// `--dry-run`, only show it; with `--compare-with`, show who would move against a saved cycle).
pub(super) async fn assess(store: &Store, args: AssessArgs<'_>) -> anyhow::Result<()> {
    let (rule_set, source) = load_rule_set(args.rules)?;
    let criteria = match args.laggards {
        None => LaggardCriteria::shipped(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| BadInput::new(format!("无法读取 {}：{e}", path.display())))?;
            LaggardCriteria::parse(&text, &path.display().to_string())
                .map_err(|e| BadInput::new(e.to_string()))?
        }
    };
    let (day, cutoff) = crate::jobs::assessment_cutoff(args.as_of)?;
    if args.cycle.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(BadInput::new("--cycle 不能为空").into());
    }
    let request = AssessRequest {
        rule_set,
        source,
        criteria,
        cycle: args.cycle,
        day,
        cutoff,
        actor: actor(),
        save: !args.dry_run,
    };
    // The baseline is read before anything is saved: it may be the cycle being re-run.
    let baseline = match &args.compare_with {
        Some(baseline) => {
            let before = store.ranking(baseline).await?;
            if before.is_empty() {
                return Err(BadInput::new(format!("周期 {baseline} 不存在或没有评分")).into());
            }
            Some(before)
        }
        None => None,
    };
    let outcome = crate::jobs::assess(store, request, &Progress::default()).await?;
    if let Some(before) = baseline {
        print_comparison(&before, &outcome.rows, args.format)?;
    }
    if args.dry_run {
        if args.format == Format::Table {
            println!("试算（--dry-run）：未保存任何结果");
        }
        return Ok(());
    }
    match args.format {
        // Through a `Value` so the keys come out sorted, as they always have.
        Format::Json => print_json(&serde_json::to_value(&outcome)?, &mut io::stdout().lock())?,
        _ => println!("{}", outcome.summary_zh()),
    }
    Ok(())
}

#[derive(Serialize)]
struct Movement {
    unit: String,
    name: String,
    before: Option<Decimal>,
    after: Decimal,
    change: Option<Decimal>,
    rank_before: Option<u32>,
    rank_after: u32,
    why: Vec<String>,
}

impl Listing for Movement {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("unit", "代码"),
        ("name", "单位"),
        ("before", "原得分"),
        ("after", "新得分"),
        ("change", "变化"),
        ("rank_before", "原名次"),
        ("rank_after", "新名次"),
        ("why", "原因"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.unit.clone(),
            self.name.clone(),
            self.before.map(|d| d.to_string()).unwrap_or_default(),
            self.after.to_string(),
            self.change.map(|d| format!("{d:+}")).unwrap_or_default(),
            self.rank_before.map(|r| r.to_string()).unwrap_or_default(),
            self.rank_after.to_string(),
            self.why.join("；"),
        ]
    }
}

/// What-if: every unit whose score, rank, grade or veto would change, biggest moves first.
fn print_comparison(before: &[RankedScore], after: &[RankedScore], format: Format) -> anyhow::Result<()> {
    let old: HashMap<&str, &RankedScore> = before.iter().map(|r| (r.unit.as_str(), r)).collect();
    let mut moves: Vec<Movement> = after
        .iter()
        .filter_map(|new| {
            let previous = old.get(new.unit.as_str());
            let mut why = Vec::new();
            match previous {
                None => why.push("原周期未评分".to_string()),
                Some(p) => {
                    if p.veto != new.veto {
                        why.push(format!(
                            "单项否决：{} → {}",
                            p.veto.as_deref().unwrap_or("无"),
                            new.veto.as_deref().unwrap_or("无")
                        ));
                    }
                    if p.grade != new.grade {
                        why.push(format!(
                            "等次：{} → {}",
                            p.grade.as_deref().unwrap_or("无"),
                            new.grade.as_deref().unwrap_or("无")
                        ));
                    }
                    if p.score != new.score {
                        why.push(format!("得分 {} → {}", p.score, new.score));
                    }
                    if p.laggard != new.laggard {
                        why.push(if new.laggard {
                            "新列为后进".into()
                        } else {
                            "不再列为后进".into()
                        });
                    }
                }
            }
            let moved =
                previous.is_none_or(|p| p.score != new.score || p.rank != new.rank || !why.is_empty());
            moved.then(|| Movement {
                unit: new.unit.clone(),
                name: new.name.clone(),
                before: previous.map(|p| p.score),
                after: new.score,
                change: previous.map(|p| new.score - p.score),
                rank_before: previous.map(|p| p.rank),
                rank_after: new.rank,
                why,
            })
        })
        .collect();
    moves.sort_by(|a, b| {
        let magnitude = |m: &Movement| m.change.map_or(Decimal::MAX, |c| c.abs());
        magnitude(b).cmp(&magnitude(a)).then_with(|| a.unit.cmp(&b.unit))
    });
    let mut out = io::stdout().lock();
    if format == Format::Table {
        writeln!(out, "与原周期相比有变化的单位：{} 个", moves.len())?;
    }
    print_listing(&moves, format, &mut out)?;
    Ok(())
}

/// The same columns as the dashboard's CSV export: one definition for both.
impl Listing for RankedScore {
    const COLUMNS: &'static [(&'static str, &'static str)] = crate::web::export::RANKING_COLUMNS;

    fn cells(&self) -> Vec<String> {
        crate::web::export::ranking_cells(self)
    }
}

/// `gongkai ranking`: a saved cycle's ranking (the newest cycle by default).
pub(super) async fn ranking(
    store: &Store,
    cycle: Option<String>,
    kind: Option<crate::model::UnitKind>,
    laggards_only: bool,
    format: Format,
) -> anyhow::Result<()> {
    let cycle = match cycle {
        Some(cycle) => cycle,
        None => store
            .cycles()
            .await?
            .pop()
            .map(|c| c.cycle)
            .ok_or_else(|| BadInput::new("还没有任何评估周期，请先运行 gongkai assess"))?,
    };
    let rows: Vec<RankedScore> = store
        .ranking(&cycle)
        .await?
        .into_iter()
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .filter(|r| !laggards_only || r.laggard)
        .collect();
    if rows.is_empty() && !laggards_only && kind.is_none() {
        return Err(BadInput::new(format!("周期 {cycle} 不存在或没有评分")).into());
    }
    let mut out = io::stdout().lock();
    if format == Format::Table {
        writeln!(out, "周期 {cycle} 排名")?;
    }
    print_listing(&rows, format, &mut out)?;
    Ok(())
}
