//! `gongkai schedule list|history|run NAME`: the scheduled jobs, their runs, one run now.

use std::io::{self, Write};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::BadInput;
use super::output::{Format, Listing, print_json, print_listing};
use crate::model::CityClock;
use crate::schedule::{self, RunError, RunOptions, Schedule, Trigger};
use crate::store::{ScheduleRunRecord, Store};

#[derive(Serialize)]
struct JobRow {
    name: String,
    kind: &'static str,
    cron: String,
    next_run: Option<DateTime<Utc>>,
    last_run: Option<DateTime<Utc>>,
    last_outcome: Option<String>,
    #[serde(skip)]
    kind_zh: &'static str,
}

fn time_cell(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| CityClock::default().format_second(t)).unwrap_or_else(|| "-".into())
}

impl Listing for JobRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("name", "任务"),
        ("kind", "类型"),
        ("cron", "cron 表达式"),
        ("next_run", "下次运行"),
        ("last_run", "上次运行"),
        ("last_outcome", "上次结果"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            format!("{} {}", self.kind, self.kind_zh),
            self.cron.clone(),
            time_cell(self.next_run),
            time_cell(self.last_run),
            self.last_outcome.clone().unwrap_or_else(|| "-".into()),
        ]
    }
}

impl Listing for ScheduleRunRecord {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("id", "编号"),
        ("job", "任务"),
        ("kind", "类型"),
        ("trigger", "触发"),
        ("started_at", "开始"),
        ("finished_at", "结束"),
        ("outcome", "结果"),
        ("counts", "计数"),
        ("error", "错误"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.job.clone(),
            self.kind.clone(),
            self.trigger.clone(),
            time_cell(Some(self.started_at)),
            time_cell(self.finished_at),
            self.outcome.clone(),
            self.counts.to_string(),
            self.error.clone().unwrap_or_default(),
        ]
    }
}

/// The schedule named by `file`, or the one in force for this database.
async fn schedule_for(store: &Store, file: Option<&Path>) -> anyhow::Result<Schedule> {
    match file {
        Some(path) => Ok(load_file(path)?),
        None => Ok(schedule::current_schedule(store).await.map_err(|e| BadInput::new(e.to_string()))?),
    }
}

/// Reads and validates a schedule file.
pub(super) fn load_file(path: &Path) -> Result<Schedule, BadInput> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BadInput::new(format!("无法读取定时任务表 {}：{e}", path.display())))?;
    Schedule::parse(&text, &path.display().to_string()).map_err(|e| BadInput::new(e.to_string()))
}

pub(super) async fn list(store: &Store, file: Option<&Path>, format: Format) -> anyhow::Result<()> {
    let schedule = schedule_for(store, file).await?;
    let runs = store.schedule_runs(None, 1_000).await?;
    let now = Utc::now();
    let rows: Vec<JobRow> = schedule
        .jobs
        .iter()
        .map(|job| {
            let last = runs.iter().find(|r| r.job == job.name);
            JobRow {
                name: job.name.clone(),
                kind: job.kind.as_str(),
                kind_zh: job.kind.label_zh(),
                cron: job.cron.clone(),
                next_run: job.next_after(now, schedule.time_zone),
                last_run: last.map(|r| r.started_at),
                last_outcome: last.map(|r| r.outcome.clone()),
            }
        })
        .collect();
    print_listing(&rows, format, &mut io::stdout().lock())?;
    Ok(())
}

pub(super) async fn history(
    store: &Store,
    job: Option<&str>,
    limit: usize,
    format: Format,
) -> anyhow::Result<()> {
    let runs = store.schedule_runs(job, limit).await?;
    print_listing(&runs, format, &mut io::stdout().lock())?;
    Ok(())
}

/// Runs one job now (recorded as a manual run); refused while another run of it is going.
pub(super) async fn run(
    store: &Store,
    name: &str,
    file: Option<&Path>,
    allow_private: bool,
    format: Format,
) -> anyhow::Result<()> {
    let schedule = schedule_for(store, file).await?;
    let Some(job) = schedule.job(name) else {
        let names: Vec<&str> = schedule.jobs.iter().map(|j| j.name.as_str()).collect();
        return Err(BadInput::new(format!("没有名为“{name}”的任务；现有任务：{}", names.join("、"))).into());
    };
    let mut options = RunOptions::new(schedule::instance_id("cli"));
    options.allow_private = allow_private;
    let record = match schedule::run_job(store, job, Utc::now(), Trigger::Manual, &options).await {
        Ok(record) => record,
        Err(RunError::Busy(..)) => {
            return Err(
                BadInput::new(format!("任务“{name}”正在运行，同一任务不会重叠运行；请稍后再试")).into()
            );
        }
        Err(RunError::Store(error)) => return Err(error.into()),
    };
    let mut out = io::stdout().lock();
    match format {
        Format::Json => print_json(&record, &mut out)?,
        _ => {
            writeln!(
                out,
                "任务 {}（{}）运行{}：{}",
                record.job,
                record.kind,
                outcome_zh(&record.outcome),
                record.counts
            )?;
            if let Some(error) = &record.error {
                writeln!(out, "错误：{error}")?;
            }
        }
    }
    if record.outcome == "failed" {
        anyhow::bail!("任务“{name}”运行失败");
    }
    Ok(())
}

fn outcome_zh(outcome: &str) -> &'static str {
    match outcome {
        "ok" => "完成",
        "failed" => "失败",
        _ => "中",
    }
}

/// `gongkai schedule …`
#[derive(Debug, clap::Subcommand)]
pub enum ScheduleCommand {
    /// 列出定时任务及下次运行时间 List the jobs and when each runs next
    List {
        /// 定时任务表文件（缺省为数据库中保存的或内置的 crawlers/schedule.toml）Schedule file
        #[arg(long)]
        schedule: Option<std::path::PathBuf>,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 运行记录，最新的在前 The runs, newest first
    History {
        /// 只看该任务 Only this job
        #[arg(long)]
        job: Option<String>,
        /// 最多列出条数 At most this many runs
        #[arg(long, default_value_t = 200)]
        limit: usize,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 立即运行一次某任务 Run one job now
    Run {
        name: String,
        /// 定时任务表文件 Schedule file
        #[arg(long)]
        schedule: Option<std::path::PathBuf>,
        /// 允许访问内网和本机地址 Allow loopback and private addresses
        #[arg(long)]
        allow_private: bool,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

/// Runs a `schedule` subcommand.
pub(super) async fn dispatch(store: &Store, command: ScheduleCommand) -> anyhow::Result<()> {
    match command {
        ScheduleCommand::List { schedule, format } => {
            list(store, schedule.as_deref(), Format::resolve(format)).await
        }
        ScheduleCommand::History { job, limit, format } => {
            history(store, job.as_deref(), limit, Format::resolve(format)).await
        }
        ScheduleCommand::Run { name, schedule, allow_private, format } => {
            run(store, &name, schedule.as_deref(), allow_private, Format::resolve(format)).await
        }
    }
}

/// Starts the scheduler for `gongkai serve`. `--schedule FILE` is validated and saved as the
/// schedule in force (so the dashboard shows it and every instance uses it).
pub(super) async fn start_scheduler(
    store: &Store,
    file: Option<&Path>,
    allow_private: bool,
) -> anyhow::Result<schedule::SchedulerHandle> {
    if let Some(path) = file {
        load_file(path)?;
        let text = std::fs::read_to_string(path)?;
        store.save_schedule(&text, &super::actor()).await?;
    }
    let mut options = RunOptions::new(schedule::instance_id("serve"));
    options.allow_private = allow_private;
    Ok(schedule::spawn(store.clone(), schedule::SchedulerConfig::new(options)))
}
