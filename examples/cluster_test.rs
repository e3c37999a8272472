//! The cluster test of issue #13, run by `scripts/cluster-test`: a real SurrealDB server, one
//! `gongkai serve`, several `gongkai worker` processes and loopback websites, with one worker
//! killed (`kill -9`) in the middle of a crawl. It checks from the store that every unit was
//! crawled and written exactly once, and prints as its last line
//! `cluster: N units, M workers (1 killed), each unit crawled once, 0 lost`.
//!
//! `cargo run --example cluster_test -- --surreal PATH --gongkai PATH [--units 500] [--workers 3]`
//! `cargo run --example cluster_test -- --surreal PATH --gongkai PATH --bench [--units 2000]`:
//! the same crawl with 1 worker and then with 3, against the same server, timed.

#[path = "support/loopback_sites.rs"]
mod loopback_sites;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use gongkai::model::CrawlKind;
use gongkai::store::{Store, StoreConfig};

/// Each site answers after this long, so that a crawl lasts long enough to kill a worker in it.
const SITE_DELAY: Duration = Duration::from_millis(60);
const LEASE_SECS: u64 = 6;
const WORKER_CONCURRENCY: usize = 8;

struct Options {
    surreal: PathBuf,
    gongkai: PathBuf,
    units: usize,
    workers: usize,
    bench: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut args = std::env::args().skip(1);
    let (mut surreal, mut gongkai, mut units, mut workers, mut bench) = (None, None, None, 3, false);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--surreal" => surreal = args.next().map(PathBuf::from),
            "--gongkai" => gongkai = args.next().map(PathBuf::from),
            "--units" => units = Some(args.next().context("--units N")?.parse()?),
            "--workers" => workers = args.next().context("--workers N")?.parse()?,
            "--bench" => bench = true,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(Options {
        surreal: surreal.context("--surreal PATH (scripts/surreal-server builds it)")?,
        gongkai: gongkai.context("--gongkai PATH (target/debug/gongkai)")?,
        units: units.unwrap_or(if bench { 2000 } else { 500 }),
        workers,
        bench,
    })
}

/// A child process killed when dropped, whatever happens to the test.
struct Process {
    name: String,
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Everything the test starts, and where their logs go.
struct Cluster {
    dir: PathBuf,
    db_url: String,
    server: Process,
}

impl Cluster {
    fn gongkai(&self, gongkai: &Path, args: &[&str], log: &str) -> anyhow::Result<Command> {
        let mut command = Command::new(gongkai);
        command
            .args(["--db", &self.db_url, "--db-user", "root", "--db-pass", "root"])
            .args(args)
            .env("RUST_MIN_STACK", "10485760")
            .env("GONGKAI_LOG", "info")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(self.dir.join(format!("{log}.out")))?)
            .stderr(std::fs::File::create(self.dir.join(format!("{log}.err")))?);
        Ok(command)
    }

    fn spawn(&self, gongkai: &Path, args: &[&str], log: &str) -> anyhow::Result<Process> {
        let child = self.gongkai(gongkai, args, log)?.spawn().with_context(|| format!("start {log}"))?;
        Ok(Process { name: log.to_owned(), child })
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts the SurrealDB server on a free port with its data in `dir`, and waits until it takes
/// connections.
async fn start_server(surreal: &Path, dir: &Path) -> anyhow::Result<Cluster> {
    let port = free_port()?;
    let data = dir.join("db");
    let child = Command::new(surreal)
        .args([
            "start",
            "--user",
            "root",
            "--pass",
            "root",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--log",
            "warn",
        ])
        .arg(format!("surrealkv://{}", data.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("surreal.out"))?)
        .stderr(std::fs::File::create(dir.join("surreal.err"))?)
        .spawn()
        .with_context(|| format!("start {}", surreal.display()))?;
    let cluster = Cluster {
        dir: dir.to_owned(),
        db_url: format!("ws://127.0.0.1:{port}"),
        server: Process { name: "surreal".into(), child },
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(store) = connect(&cluster).await {
            store.close().await;
            return Ok(cluster);
        }
        ensure!(
            Instant::now() < deadline,
            "the SurrealDB server did not start: {}",
            cluster.log("surreal.err")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn connect(cluster: &Cluster) -> anyhow::Result<Store> {
    let config = StoreConfig {
        url: cluster.db_url.clone(),
        username: Some("root".into()),
        password: Some("root".into()),
    };
    Ok(Store::connect(&config).await?)
}

/// Writes the registry CSV of the loopback sites and imports it with `gongkai units import`.
fn import_units(cluster: &Cluster, gongkai: &Path, units: &[gongkai::model::Unit]) -> anyhow::Result<()> {
    let mut csv = String::from("code,name,kind,parent_code,website,catalogue_url,email\n");
    for unit in units {
        writeln!(csv, "{},{},department,,{},,", unit.code, unit.name, unit.website.as_deref().unwrap_or(""))?;
    }
    let file = cluster.dir.join("units.csv");
    std::fs::write(&file, csv)?;
    let status = cluster
        .gongkai(gongkai, &["units", "import", &file.display().to_string(), "--format", "json"], "import")?
        .status()?;
    ensure!(status.success(), "units import failed: {}", cluster.log("import.err"));
    Ok(())
}

async fn start_workers(
    cluster: &Cluster,
    gongkai: &Path,
    store: &Store,
    n: usize,
) -> anyhow::Result<Vec<Process>> {
    let concurrency = WORKER_CONCURRENCY.to_string();
    let lease = LEASE_SECS.to_string();
    let mut workers = Vec::new();
    for i in 0..n {
        let args = ["worker", "--allow-private", "--concurrency", &concurrency, "--lease-secs", &lease];
        workers.push(cluster.spawn(gongkai, &args, &format!("worker{i}"))?);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while store.workers(Duration::from_secs(LEASE_SECS)).await?.iter().filter(|w| w.alive).count() < n {
        ensure!(Instant::now() < deadline, "workers did not register: {}", cluster.log("worker0.err"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(workers)
}

/// The summary `gongkai crawl --format json` printed.
fn crawl_summary(cluster: &Cluster) -> anyhow::Result<serde_json::Value> {
    let out = cluster.log("crawl.out");
    serde_json::from_str(&out).with_context(|| format!("crawl output: {out}\n{}", cluster.log("crawl.err")))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let dir = std::env::temp_dir().join(format!("gongkai-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = if options.bench { bench(&options, &dir).await } else { kill_test(&options, &dir).await };
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        eprintln!("logs kept in {}", dir.display());
    }
    result
}

/// Crawls with all workers, kills one mid-run, and checks the run from the store.
async fn kill_test(options: &Options, dir: &Path) -> anyhow::Result<()> {
    ensure!(options.workers >= 2, "the kill test needs at least 2 workers");
    let served = Arc::new(AtomicU64::new(0));
    let units =
        loopback_sites::start_sites(options.units, 10, served.clone(), SITE_DELAY, loopback_sites::SMALL)
            .await?;
    let cluster = start_server(&options.surreal, dir).await?;
    eprintln!("server {} ({}); importing {} units", cluster.db_url, cluster.server.name, units.len());
    import_units(&cluster, &options.gongkai, &units)?;
    let store = connect(&cluster).await?;
    let serve_port = free_port()?.to_string();
    let _serve = cluster.spawn(&options.gongkai, &["serve", "--port", &serve_port], "serve")?;
    let mut workers = start_workers(&cluster, &options.gongkai, &store, options.workers).await?;

    let started = Instant::now();
    let mut crawl = cluster.spawn(
        &options.gongkai,
        &["crawl", "--only", "site", "--allow-private", "--format", "json"],
        "crawl",
    )?;
    // Kill a worker once a fifth of the units are done and it holds leases.
    let victim = workers.remove(0);
    let victim_name = loop {
        ensure!(crawl.child.try_wait()?.is_none(), "the crawl ended before a worker could be killed");
        let runs = store.queued_runs(Duration::from_secs(3600)).await?;
        let done = runs.first().map_or(0, |r| r.done);
        let holder = store
            .workers(Duration::from_secs(LEASE_SECS))
            .await?
            .into_iter()
            .find(|w| w.registration.pid == victim.child.id() && w.leases > 0);
        if let Some(worker) = holder.filter(|_| done * 5 >= units.len() as u64) {
            break worker.registration.name;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut victim = victim;
    victim.child.kill()?; // SIGKILL: no clean shutdown, leases left to expire
    let _ = victim.child.wait();
    let killed_at = Instant::now();
    eprintln!("killed {victim_name} after {:.1} s", started.elapsed().as_secs_f64());
    // How long its units wait before another worker takes them over.
    let taken_over = loop {
        let held = store
            .workers(Duration::from_secs(LEASE_SECS))
            .await?
            .into_iter()
            .find(|w| w.registration.name == victim_name)
            .map_or(0, |w| w.leases);
        if held == 0 {
            break killed_at.elapsed();
        }
        ensure!(
            killed_at.elapsed() < Duration::from_secs(120),
            "the killed worker's units were never taken over"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    let status = loop {
        if let Some(status) = crawl.child.try_wait()? {
            break status;
        }
        ensure!(started.elapsed() < Duration::from_secs(1200), "the crawl did not finish in 20 minutes");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let wall = started.elapsed();
    ensure!(status.success(), "gongkai crawl failed: {}", cluster.log("crawl.err"));
    let summary = crawl_summary(&cluster)?;
    let run_key = summary["run"].as_str().context("the summary names its run")?;
    let run = store.open_run(run_key, CrawlKind::Site)?;
    let progress = store.queue_progress(&run).await?.context("the crawl was queued for the workers")?;

    // Every unit listed in the run once, every task done, none lost.
    let listed: Vec<String> = store.crawl_run_units(&run).await?;
    let distinct: BTreeSet<&String> = listed.iter().collect();
    let expected: BTreeSet<String> = units.iter().map(|u| u.code.to_string()).collect();
    let lost = expected.iter().filter(|code| !distinct.contains(code)).count();
    ensure!(distinct.len() == listed.len(), "a unit is listed twice in the run");
    ensure!(
        progress.done == units.len() as u64 && progress.total == units.len() as u64,
        "tasks: {progress:?}"
    );
    ensure!(progress.taken_over > 0, "the killed worker's units were not taken over: {progress:?}");
    // Exactly the findings each unit's (one) completed task reported, and no finding twice.
    let findings = store.run_findings(&run).await?;
    let mut per_unit: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for finding in &findings {
        *per_unit.entry(finding.unit.to_string()).or_default() += 1;
        let key = (
            finding.unit.to_string(),
            finding.check.clone(),
            finding.url.clone(),
            finding.detail.to_string(),
        );
        ensure!(seen.insert(key), "duplicate finding for {} {}", finding.unit, finding.check);
    }
    for (unit, task) in store.task_summaries(&run).await? {
        ensure!(task.error.is_none(), "unit {unit} failed: {:?}", task.error);
        let written = per_unit.get(&unit).copied().unwrap_or(0);
        ensure!(
            written == task.findings,
            "unit {unit}: {written} findings written, its task reported {}",
            task.findings
        );
    }
    ensure!(!findings.is_empty(), "the fixture sites have findings to write");
    ensure!(summary["written"] == units.len() as u64, "the crawl's summary: {summary}");
    let dead = store.workers(Duration::from_secs(LEASE_SECS)).await?;
    let alive = dead.iter().filter(|w| w.alive).count();
    eprintln!(
        "crawl: {} units in {:.1} s wall ({} findings, {} tasks taken over); killed worker's units taken over after {:.1} s (lease {} s); {} workers alive",
        units.len(),
        wall.as_secs_f64(),
        findings.len(),
        progress.taken_over,
        taken_over.as_secs_f64(),
        LEASE_SECS,
        alive
    );
    store.close().await;
    ensure!(lost == 0, "{lost} units lost");
    println!(
        "cluster: {} units, {} workers (1 killed), each unit crawled once, {lost} lost",
        units.len(),
        options.workers
    );
    Ok(())
}

/// The same crawl with 1 worker and with 3, against the same server; prints the times.
async fn bench(options: &Options, dir: &Path) -> anyhow::Result<()> {
    let served = Arc::new(AtomicU64::new(0));
    let units =
        loopback_sites::start_sites(options.units, 10, served.clone(), SITE_DELAY, loopback_sites::SMALL)
            .await?;
    let cluster = start_server(&options.surreal, dir).await?;
    import_units(&cluster, &options.gongkai, &units)?;
    let store = connect(&cluster).await?;
    let mut times = Vec::new();
    for n in [1, 3] {
        let workers = start_workers(&cluster, &options.gongkai, &store, n).await?;
        let started = Instant::now();
        let status = cluster
            .gongkai(
                &options.gongkai,
                &["crawl", "--only", "site", "--allow-private", "--format", "json"],
                "crawl",
            )?
            .status()?;
        let wall = started.elapsed().as_secs_f64();
        ensure!(status.success(), "crawl failed: {}", cluster.log("crawl.err"));
        let summary = crawl_summary(&cluster)?;
        ensure!(summary["written"] == units.len() as u64, "crawl summary: {summary}");
        println!("{n} worker(s) × {WORKER_CONCURRENCY}: {} units in {wall:.1} s", units.len());
        times.push(wall);
        drop(workers);
        // Killed workers stay registered until their heartbeat is old: wait them out, so that
        // the next round counts only its own.
        tokio::time::sleep(Duration::from_secs(LEASE_SECS + 1)).await;
    }
    store.close().await;
    println!("ratio 1 → 3 workers: {:.2}× faster", times[0] / times[1]);
    Ok(())
}
