//! `gongkai notices draft|approve|publish|list|show`: notifications (通报) from the command
//! line. Who may do what is checked against the account named by `--by`, as on the web.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::BadInput;
use super::output::{Format, Listing, print_json, print_listing};
use crate::notify::{self, NoticeTemplate, NotifyError, PublishOptions, day_zh, status_zh};
use crate::store::{Notice, Store};

/// Refusals and mistakes the person can fix exit with code 2.
fn exit_code(error: NotifyError) -> anyhow::Error {
    match error {
        NotifyError::Refused(_)
        | NotifyError::BadInput(_)
        | NotifyError::NotFound(_)
        | NotifyError::Pdf(_) => BadInput::new(error.to_string()).into(),
        other => other.into(),
    }
}

fn print_notice(notice: &Notice, format: Format, out: &mut impl Write) -> io::Result<()> {
    if format == Format::Json {
        return print_json(notice, out);
    }
    writeln!(out, "通报 {}（{}）", notice.id, status_zh(&notice.status))?;
    writeln!(out, "文号：{}", notice.number.as_deref().unwrap_or("（审批时确定）"))?;
    writeln!(out, "标题：{}", notice.title)?;
    writeln!(out, "周期：{}，整改期限：{}", notice.cycle, day_zh(notice.deadline))?;
    writeln!(out, "起草：{}；审批：{}", notice.drafted_by, notice.approved_by.as_deref().unwrap_or("-"))?;
    writeln!(out, "被通报单位 {} 个：", notice.units.len())?;
    for unit in &notice.units {
        let ack = if unit.acknowledged_at.is_some() { "已签收" } else { "未签收" };
        writeln!(out, "  {} {}（{}）", unit.unit, unit.name, ack)?;
        for reason in &unit.reasons {
            writeln!(out, "    - {reason}")?;
        }
    }
    if !notice.deliveries.is_empty() {
        writeln!(out, "投递：")?;
        for d in &notice.deliveries {
            let to = d.address.as_deref().unwrap_or("单位门户");
            let error = d.error.as_deref().map(|e| format!("：{e}")).unwrap_or_default();
            writeln!(out, "  {} {} → {} {}（{} 次）{error}", d.unit, d.channel, to, d.status, d.attempts)?;
        }
    }
    Ok(())
}

pub(super) async fn draft(
    store: &Store,
    cycle: &str,
    by: &str,
    template: Option<&Path>,
    format: Format,
) -> anyhow::Result<()> {
    let template = match template {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| BadInput::new(format!("无法读取通报模板 {}：{e}", path.display())))?;
            NoticeTemplate::parse(&text, &path.display().to_string())
        }
        None => NoticeTemplate::shipped(),
    }
    .map_err(|e| BadInput::new(e.to_string()))?;
    let notice = notify::draft(store, cycle, by, &template).await.map_err(exit_code)?;
    print_notice(&notice, format, &mut io::stdout().lock())?;
    Ok(())
}

pub(super) async fn approve(store: &Store, id: &str, by: &str, format: Format) -> anyhow::Result<()> {
    let notice = notify::approve(store, id, by).await.map_err(exit_code)?;
    print_notice(&notice, format, &mut io::stdout().lock())?;
    Ok(())
}

#[derive(Serialize)]
struct PublishView<'a> {
    #[serde(flatten)]
    notice: &'a Notice,
    pdf: Option<&'a PathBuf>,
    html: Option<&'a PathBuf>,
    emails_sent: usize,
    emails_failed: usize,
}

pub(super) async fn publish(
    store: &Store,
    id: &str,
    by: &str,
    smtp: Option<String>,
    out_dir: Option<PathBuf>,
    format: Format,
) -> anyhow::Result<()> {
    let options = PublishOptions { smtp, out: out_dir };
    let outcome = notify::publish(store, id, by, &options).await.map_err(exit_code)?;
    let mut out = io::stdout().lock();
    if format == Format::Json {
        let view = PublishView {
            notice: &outcome.notice,
            pdf: outcome.pdf.as_ref(),
            html: outcome.html.as_ref(),
            emails_sent: outcome.emails_sent,
            emails_failed: outcome.emails_failed,
        };
        print_json(&view, &mut out)?;
    } else {
        print_notice(&outcome.notice, format, &mut out)?;
        if let Some(pdf) = &outcome.pdf {
            writeln!(out, "已写出 {}", pdf.display())?;
        }
        if let Some(html) = &outcome.html {
            writeln!(out, "已写出 {}", html.display())?;
        }
        writeln!(
            out,
            "邮件：发送 {} 封，失败 {} 封（失败的由定时复查重发）",
            outcome.emails_sent, outcome.emails_failed
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct NoticeRow {
    id: String,
    number: Option<String>,
    status: String,
    cycle: String,
    title: String,
    units: usize,
    acknowledged: usize,
    drafted_by: String,
    approved_by: Option<String>,
}

impl Listing for NoticeRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("id", "编号"),
        ("number", "文号"),
        ("status", "状态"),
        ("cycle", "周期"),
        ("title", "标题"),
        ("units", "被通报单位"),
        ("acknowledged", "已签收"),
        ("drafted_by", "起草人"),
        ("approved_by", "审批人"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.number.clone().unwrap_or_default(),
            status_zh(&self.status).to_string(),
            self.cycle.clone(),
            self.title.clone(),
            self.units.to_string(),
            self.acknowledged.to_string(),
            self.drafted_by.clone(),
            self.approved_by.clone().unwrap_or_default(),
        ]
    }
}

pub(super) async fn list(store: &Store, format: Format) -> anyhow::Result<()> {
    let rows: Vec<NoticeRow> = store
        .notices()
        .await?
        .into_iter()
        .map(|n| NoticeRow {
            acknowledged: n.units.iter().filter(|u| u.acknowledged_at.is_some()).count(),
            units: n.units.len(),
            id: n.id,
            number: n.number,
            status: n.status,
            cycle: n.cycle,
            title: n.title,
            drafted_by: n.drafted_by,
            approved_by: n.approved_by,
        })
        .collect();
    print_listing(&rows, format, &mut io::stdout().lock())?;
    Ok(())
}

pub(super) async fn show(store: &Store, id: &str, format: Format) -> anyhow::Result<()> {
    let notice = store.notice(id).await?.ok_or_else(|| BadInput::new(format!("通报“{id}”不存在")))?;
    print_notice(&notice, format, &mut io::stdout().lock())?;
    Ok(())
}

/// `gongkai notices …`
#[derive(Debug, clap::Subcommand)]
pub enum NoticesCommand {
    /// 按周期的后进单位起草通报 Draft a notification from a cycle's laggards
    Draft {
        #[arg(long)]
        cycle: String,
        /// 起草人（公开办账号）The drafting office account
        #[arg(long)]
        by: String,
        /// 通报模板（缺省为内置 scoring-rules/notice.toml）Template file
        #[arg(long)]
        template: Option<PathBuf>,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 审批通报（领导小组账号，不能是起草人）Approve (a leader account, never the drafter)
    Approve {
        id: String,
        #[arg(long)]
        by: String,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 发布通报：生成 PDF 与网页，投递单位门户并发送邮件 Publish: PDF, page, portal, e-mail
    Publish {
        id: String,
        #[arg(long)]
        by: String,
        /// 邮件服务器 SMTP server, e.g. smtp://HOST:PORT (default: the smtp.url setting)
        #[arg(long, env = "GONGKAI_SMTP", hide_env_values = true)]
        smtp: Option<String>,
        /// 写出 <文号>.pdf 与 <文号>.html 的目录 Write <number>.pdf and .html here
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 列出通报 List notifications
    List {
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
    /// 查看一份通报及其投递情况 Show one notification and its deliveries
    Show {
        id: String,
        #[arg(long, value_enum)]
        format: Option<Format>,
    },
}

/// Runs a `notices` subcommand.
pub(super) async fn dispatch(store: &Store, command: NoticesCommand) -> anyhow::Result<()> {
    match command {
        NoticesCommand::Draft { cycle, by, template, format } => {
            draft(store, &cycle, &by, template.as_deref(), Format::resolve(format)).await
        }
        NoticesCommand::Approve { id, by, format } => approve(store, &id, &by, Format::resolve(format)).await,
        NoticesCommand::Publish { id, by, smtp, out, format } => {
            publish(store, &id, &by, smtp, out, Format::resolve(format)).await
        }
        NoticesCommand::List { format } => list(store, Format::resolve(format)).await,
        NoticesCommand::Show { id, format } => show(store, &id, Format::resolve(format)).await,
    }
}
