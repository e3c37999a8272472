//! The schedule as data (`crawlers/schedule.toml`): a list of jobs, each a kind and a cron
//! expression in the `cron` crate's syntax (seconds first; Sunday = 1), evaluated in the
//! schedule's time zone.

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The shipped schedule.
pub const SHIPPED_SCHEDULE: &str = include_str!("../../crawlers/schedule.toml");

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Probe every unit's home page once (availability samples).
    Probe,
    /// Crawl every unit's website.
    Crawl,
    /// Crawl every unit's disclosure catalogue.
    Catalogue,
    /// Score every unit under `rules` and save a cycle named after the date.
    Assess,
    /// Re-crawl units whose findings reached their rectification deadline; close or flag them.
    Recheck,
}

impl JobKind {
    /// The name written in the schedule's `kind` and in run records.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Probe => "probe",
            JobKind::Crawl => "crawl",
            JobKind::Catalogue => "catalogue",
            JobKind::Assess => "assess",
            JobKind::Recheck => "recheck",
        }
    }

    /// The kind's Chinese name, as the dashboard's schedule page shows it.
    pub fn label_zh(self) -> &'static str {
        match self {
            JobKind::Probe => "首页可访问性探测",
            JobKind::Crawl => "网站检查",
            JobKind::Catalogue => "公开目录检查",
            JobKind::Assess => "评分",
            JobKind::Recheck => "整改复查",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleFile {
    #[serde(default = "default_zone")]
    time_zone: String,
    #[serde(default)]
    job: Vec<JobFile>,
}

fn default_zone() -> String {
    crate::model::CityClock::DEFAULT_ZONE.name().into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct JobFile {
    name: String,
    kind: JobKind,
    cron: String,
    rules: Option<String>,
    laggards: Option<String>,
    #[serde(default)]
    spread_minutes: u32,
    #[serde(default)]
    spread_seconds: u32,
}

/// One job of the schedule, its cron expression parsed.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The job's name, unique within the schedule; runs are recorded under it.
    pub name: String,
    /// What the job does.
    pub kind: JobKind,
    /// The expression as written.
    pub cron: String,
    /// The parsed expression (the `cron` crate's syntax, seconds first), evaluated in the schedule's zone.
    pub schedule: cron::Schedule,
    /// `assess`: the rule set (a file, or one of the shipped `scoring-rules/*.toml` paths).
    pub rules: Option<String>,
    /// `assess`: laggard criteria file (default: the shipped criteria).
    pub laggards: Option<String>,
    /// `probe`: spread the units over this long.
    pub spread: std::time::Duration,
}

impl JobSpec {
    /// The fire times strictly after `after`, in UTC.
    pub fn fires_after(&self, after: DateTime<Utc>, zone: Tz) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        self.schedule.after(&after.with_timezone(&zone)).map(|t| t.with_timezone(&Utc))
    }

    /// The next fire time after `after`.
    pub fn next_after(&self, after: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        self.fires_after(after, zone).next()
    }
}

/// A parsed, validated schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The zone cron times are read in (default: the city clock's, Asia/Shanghai).
    pub time_zone: Tz,
    /// The jobs, in file order.
    pub jobs: Vec<JobSpec>,
}

/// The schedule file could not be used; the message names the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("定时任务表 {origin} 有误：{message}")]
pub struct ScheduleError {
    /// Where the schedule came from: a path, the shipped file's name, or the dashboard's saved copy.
    pub origin: String,
    /// What is wrong, in Chinese, naming the line or the job.
    pub message: String,
}

impl Schedule {
    /// Parses and validates a schedule's TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ScheduleError> {
        let error = |message: String| ScheduleError { origin: origin.to_string(), message };
        let file: ScheduleFile = toml::from_str(text).map_err(|e| {
            error(match e.span() {
                Some(span) => format!("第 {} 行：{}", line_of(text, span.start), e.message()),
                None => e.message().to_string(),
            })
        })?;
        let time_zone: Tz = file
            .time_zone
            .parse()
            .map_err(|_| error(format!("time_zone“{}”不是有效的时区名", file.time_zone)))?;
        let mut seen = HashSet::new();
        let mut jobs = Vec::new();
        for (index, job) in file.job.into_iter().enumerate() {
            let place = format!("第 {} 个任务“{}”", index + 1, job.name);
            let name = job.name.trim().to_string();
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) {
                return Err(error(format!("{place}：name 只能由字母、数字、-、_、. 组成")));
            }
            if !seen.insert(name.clone()) {
                return Err(error(format!("{place}：name 与前面的任务重复")));
            }
            let schedule = cron::Schedule::from_str(job.cron.trim()).map_err(|e| {
                error(format!(
                    "{place}：cron“{}”无效（{e}）；须为 6 或 7 段，秒在最前，如 \"0 0 * * * *\"",
                    job.cron
                ))
            })?;
            if job.kind == JobKind::Assess && job.rules.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(error(format!("{place}：assess 任务须用 rules 指定规则集")));
            }
            if job.kind != JobKind::Assess && (job.rules.is_some() || job.laggards.is_some()) {
                return Err(error(format!("{place}：只有 assess 任务可以设置 rules、laggards")));
            }
            let spread = u64::from(job.spread_minutes) * 60 + u64::from(job.spread_seconds);
            if spread > 0 && job.kind != JobKind::Probe {
                return Err(error(format!("{place}：只有 probe 任务可以设置 spread_minutes")));
            }
            jobs.push(JobSpec {
                name,
                kind: job.kind,
                cron: job.cron.trim().to_string(),
                schedule,
                rules: job.rules,
                laggards: job.laggards,
                spread: std::time::Duration::from_secs(spread),
            });
        }
        Ok(Self { time_zone, jobs })
    }

    /// The shipped schedule.
    pub fn shipped() -> Result<Self, ScheduleError> {
        Self::parse(SHIPPED_SCHEDULE, "crawlers/schedule.toml")
    }

    /// The job called `name`, if the schedule has one.
    pub fn job(&self, name: &str) -> Option<&JobSpec> {
        self.jobs.iter().find(|job| job.name == name)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].bytes().filter(|b| *b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_shipped_schedule_probes_24_times_a_day() {
        let schedule = Schedule::shipped().expect("valid");
        let probe = schedule.jobs.iter().find(|j| j.kind == JobKind::Probe).expect("a probe job");
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("time");
        let end = start + chrono::Duration::days(1);
        let fires = probe.fires_after(start - chrono::Duration::seconds(1), schedule.time_zone);
        assert_eq!(fires.take_while(|t| *t < end).count(), 24);
        let kinds: HashSet<JobKind> = schedule.jobs.iter().map(|j| j.kind).collect();
        assert_eq!(kinds.len(), 5, "every kind is shipped");
    }

    #[test]
    fn the_quarterly_assessment_fires_on_the_first_of_a_quarter_in_beijing() {
        let schedule = Schedule::shipped().expect("valid");
        let assess = schedule.jobs.iter().find(|j| j.kind == JobKind::Assess).expect("assess");
        let after = Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).single().expect("time");
        let next = assess.next_after(after, schedule.time_zone).expect("next");
        // 2027-01-01 06:00 in Beijing is 2026-12-31 22:00 UTC.
        assert_eq!(next.to_rfc3339(), "2026-12-31T22:00:00+00:00");
    }

    #[test]
    fn bad_schedules_name_the_job_and_the_problem() {
        let five_fields = "[[job]]\nname = \"p\"\nkind = \"probe\"\ncron = \"0 * * * *\"\n";
        let e = Schedule::parse(five_fields, "x.toml").expect_err("5 fields");
        assert!(e.message.contains("第 1 个任务“p”") && e.message.contains("6 或 7 段"), "{e}");
        let no_rules = "[[job]]\nname = \"a\"\nkind = \"assess\"\ncron = \"0 0 6 1 * *\"\n";
        assert!(Schedule::parse(no_rules, "x").expect_err("rules").message.contains("rules"));
        let twice = "[[job]]\nname = \"a\"\nkind = \"probe\"\ncron = \"0 * * * * *\"\n\
                     [[job]]\nname = \"a\"\nkind = \"crawl\"\ncron = \"0 * * * * *\"\n";
        assert!(Schedule::parse(twice, "x").expect_err("dup").message.contains("重复"));
        let typo = "[[job]]\nname = \"a\"\nkind = \"probe\"\ncorn = \"0 * * * * *\"\n";
        assert!(Schedule::parse(typo, "x").expect_err("typo").message.contains("第"));
    }
}
