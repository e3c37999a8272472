//! `gongkai worker`: a crawler worker sharing queued crawls with other workers (issue #13), and
//! `gongkai workers`: who is working and how far each queued run has got.

use std::io::{self, Write};
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::output::{Format, Listing, print_listing};
use crate::jobs::{self, WorkerOptions};
use crate::store::{QueueProgress, Store, WorkerStatus};

/// How a worker runs.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// 同时检查的单位数 Units crawled at the same time
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// 租约秒数：检查进程失联超过该时间，其任务由其他进程接手 Lease in seconds: a worker silent
    /// this long loses its units to the other workers
    #[arg(long, default_value_t = jobs::DEFAULT_LEASE.as_secs())]
    pub lease_secs: u64,
    /// 允许访问内网和本机地址（发起检查时也须允许）Allow loopback and private addresses (the
    /// crawl's requester must allow them too)
    #[arg(long)]
    pub allow_private: bool,
}

/// Runs a worker until Ctrl-C or SIGTERM, then gives its units back to the queue.
pub(super) async fn work(store: &Store, args: WorkerArgs) -> anyhow::Result<()> {
    if args.concurrency == 0 || args.lease_secs < 3 {
        return Err(super::BadInput::new("--concurrency 须大于 0，--lease-secs 须不小于 3").into());
    }
    let options = WorkerOptions {
        concurrency: args.concurrency,
        lease: Duration::from_secs(args.lease_secs),
        allow_private: args.allow_private,
        ..WorkerOptions::default()
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    let registration = jobs::worker_name();
    eprintln!(
        "检查进程 {} 已启动：同时检查 {} 个单位，租约 {} 秒（Ctrl-C 停止）",
        registration.name, args.concurrency, args.lease_secs
    );
    let report = jobs::run_worker(store, registration, options, shutdown).await?;
    eprintln!(
        "检查进程 {} 已停止：完成 {} 个单位，{} 个单位的结果因租约被接手而未保存",
        report.name, report.tasks_done, report.tasks_lost
    );
    Ok(())
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            shutdown.cancel();
            return;
        }
    }
    let _ = ctrl_c.await;
    shutdown.cancel();
}

/// What `gongkai workers` prints: the workers, and the queued runs open or closed in the last
/// day.
#[derive(Debug, Serialize)]
struct QueueReport {
    workers: Vec<WorkerStatus>,
    runs: Vec<QueueProgress>,
}

impl Listing for WorkerStatus {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("name", "检查进程"),
        ("alive", "状态"),
        ("concurrency", "并发"),
        ("leases", "进行中"),
        ("tasks_done", "已完成"),
        ("heartbeat_at", "最近心跳"),
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.registration.name.clone(),
            if self.alive {
                "运行中"
            } else if self.stopped_at.is_some() {
                "已停止"
            } else {
                "失联"
            }
            .to_owned(),
            self.registration.concurrency.to_string(),
            self.leases.to_string(),
            self.tasks_done.to_string(),
            self.heartbeat_at.to_rfc3339(),
        ]
    }
}

/// Lists the workers and the queued runs.
pub(super) async fn list(store: &Store, format: Format) -> anyhow::Result<()> {
    let report = QueueReport {
        workers: store.workers(jobs::DEFAULT_LEASE).await?,
        runs: store.queued_runs(Duration::from_secs(24 * 3600)).await?,
    };
    let mut out = io::stdout().lock();
    if format == Format::Json {
        super::output::print_json(&report, &mut out)?;
        return Ok(());
    }
    print_listing(&report.workers, format, &mut out)?;
    for run in &report.runs {
        writeln!(
            out,
            "{} {}：共 {} 个单位，完成 {}，进行中 {}，排队 {}，取消 {}，接手 {}（{}）",
            run.run,
            run.kind,
            run.total,
            run.done,
            run.leased,
            run.queued,
            run.dropped,
            run.taken_over,
            run.status
        )?;
    }
    Ok(())
}
