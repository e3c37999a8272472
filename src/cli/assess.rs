//! `gongkai rules check`, `gongkai assess` and `gongkai ranking`.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use rust_decimal::Decimal;
use serde::Serialize;

use super::output::{Format, Listing, print_json, print_listing};
use super::{BadInput, actor};
use crate::assess::{LaggardCriteria, RankedScore, rank, score_units};
use crate::rules::RuleSet;
use crate::store::{AuditEntry, CycleRecord, Store};

/// Reads and validates a rule set, printing every problem (exit code 2) when it is invalid.
fn load_rule_set(path: &Path) -> anyhow::Result<(RuleSet, String)> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| BadInput::new(format!("无法读取规则集 {shown}：{e}")))?;
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
pub fn check(path: &Path, format: Format) -> anyhow::Result<()> {
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

/// The as-of day (default: today in China) and the instant that ends it: evidence observed
/// up to the end of that day counts.
pub fn as_of(raw: Option<&str>) -> Result<(NaiveDate, DateTime<Utc>), BadInput> {
    let day = match raw {
        None => Utc::now().with_timezone(&Shanghai).date_naive(),
        Some(raw) => NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map_err(|_| BadInput::new(format!("--as-of 日期“{raw}”无效，应为 YYYY-MM-DD")))?,
    };
    let end = day
        .succ_opt()
        .and_then(|next| next.and_hms_opt(0, 0, 0))
        .and_then(|midnight| Shanghai.from_local_datetime(&midnight).single())
        .map(|local| local.with_timezone(&Utc) - chrono::Duration::milliseconds(1))
        .ok_or_else(|| BadInput::new(format!("--as-of 日期 {day} 超出范围")))?;
    Ok((day, end))
}

pub struct AssessArgs<'a> {
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
pub async fn assess(store: &Store, args: AssessArgs<'_>) -> anyhow::Result<()> {
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
    let (day, end_of_day) = as_of(args.as_of)?;
    let cycle = args.cycle.unwrap_or_else(|| format!("{}-{day}", rule_set.id()));
    if cycle.trim().is_empty() {
        return Err(BadInput::new("--cycle 不能为空").into());
    }

    let units = store.units().await?;
    let evidence = store.evidence(end_of_day).await?;
    let scored = score_units(&rule_set, &units, &evidence, &criteria, day);
    if scored.is_empty() {
        return Err(
            BadInput::new(format!("没有适用规则集 {} 的单位，请先导入单位名录", rule_set.id())).into()
        );
    }
    let previous = previous_cycle(store, &cycle, rule_set.id()).await?;
    let previous_ranks: HashMap<String, u32> = match &previous {
        Some(previous) => store.ranking(previous).await?.into_iter().map(|r| (r.unit, r.rank)).collect(),
        None => HashMap::new(),
    };
    let rows = rank(&scored, &previous_ranks, &criteria, rule_set.pass_mark());

    if let Some(baseline) = args.compare_with {
        let before = store.ranking(&baseline).await?;
        if before.is_empty() {
            return Err(BadInput::new(format!("周期 {baseline} 不存在或没有评分")).into());
        }
        print_comparison(&before, &rows, args.format)?;
    }
    if args.dry_run {
        if args.format == Format::Table {
            println!("试算（--dry-run）：未保存任何结果");
        }
        return Ok(());
    }

    let explanations = scored
        .iter()
        .map(|s| Ok((s.unit.code.to_string(), serde_json::to_string(&s.score.explanation)?)))
        .collect::<Result<HashMap<String, String>, serde_json::Error>>()?;
    let record = CycleRecord {
        cycle: cycle.clone(),
        as_of: end_of_day,
        rule_set_id: rule_set.id().to_string(),
        rule_set_version: rule_set.version().to_string(),
        rule_set_hash: rule_set.hash().to_string(),
        rule_set_title: rule_set.title().to_string(),
        rule_set_source: source,
    };
    let laggards = rows.iter().filter(|r| r.laggard).count();
    let audit = AuditEntry::new(actor(), "assess").target(cycle.clone()).detail(serde_json::json!({
        "rule_set": rule_set.id(), "version": rule_set.version(), "hash": rule_set.hash(),
        "as_of": day.to_string(), "units": rows.len(), "laggards": laggards,
    }));
    store.save_cycle(&record, &rows, &explanations, audit).await?;

    let passed = rows.iter().filter(|r| r.passed).count();
    let vetoed = rows.iter().filter(|r| r.veto.is_some()).count();
    match args.format {
        Format::Json => print_json(
            &serde_json::json!({
                "cycle": cycle, "rule_set": rule_set.id(), "version": rule_set.version(),
                "hash": rule_set.hash(), "as_of": day.to_string(), "units": rows.len(),
                "passed": passed, "vetoed": vetoed, "laggards": laggards,
                "previous_cycle": previous,
            }),
            &mut io::stdout().lock(),
        )?,
        _ => println!(
            "周期 {cycle} 已评分：{} 个单位，合格 {passed}，单项否决 {vetoed}，后进 {laggards}（规则集 {} {}，截至 {day}）",
            rows.len(),
            rule_set.id(),
            rule_set.version()
        ),
    }
    Ok(())
}

/// The newest saved cycle of the same rule set other than `cycle` itself.
async fn previous_cycle(store: &Store, cycle: &str, rule_set_id: &str) -> anyhow::Result<Option<String>> {
    Ok(store
        .cycles()
        .await?
        .into_iter()
        .rfind(|c| c.cycle != cycle && c.ruleset_id == rule_set_id)
        .map(|c| c.cycle))
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

impl Listing for RankedScore {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("rank", "名次"),
        ("rank_in_kind", "类内名次"),
        ("unit", "代码"),
        ("name", "单位"),
        ("kind", "类型"),
        ("score", "得分"),
        ("grade", "等次"),
        ("rank_change", "名次变化"),
        ("laggard", "后进"),
        ("reasons", "原因"),
        ("subordinates", "下级单位"),
        ("over_claim", "自评高报"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.rank.to_string(),
            self.rank_in_kind.to_string(),
            self.unit.clone(),
            self.name.clone(),
            self.kind.label_zh().to_string(),
            self.score.to_string(),
            self.grade.clone().unwrap_or_default(),
            self.rank_change.map(|c| format!("{c:+}")).unwrap_or_default(),
            if self.laggard { "是".into() } else { String::new() },
            self.reasons.join("；"),
            self.subordinates
                .as_ref()
                .map(|s| format!("{} 个，后进 {}，平均 {}", s.count, s.laggards, s.average))
                .unwrap_or_default(),
            self.over_claim.filter(|o| !o.is_zero()).map(|o| o.to_string()).unwrap_or_default(),
        ]
    }
}

/// `gongkai ranking`: a saved cycle's ranking (the newest cycle by default).
pub async fn ranking(
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
