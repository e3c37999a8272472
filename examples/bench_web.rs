//! Load benchmark of the dashboard: the rankings page and a unit's detail page under 64
//! concurrent clients on loopback, measured with `wrk` (Debian's package) against the real
//! server with a signed-in session.
//!
//! ```text
//! cargo run --release --example bench_web -- demo            # the demo city (268 units)
//! cargo run --release --example bench_web -- synthetic 14000 # 14,000 synthetic units
//! ```
//! Options after the mode: `--seconds N` (default 10), `--connections N` (default 64).
//! The store is an embedded surrealkv database in a temporary directory.
//!
//! wrk runs on the same 2 cores as the server, so each row also states the server's CPU time
//! per request (from /proc, the server runs in this process). The same run then serves the
//! same rendered bytes from a plain nginx (Debian's `nginx-light`) as the ceiling: no server on
//! this machine answers those bytes faster.

#[path = "support/cpu_time.rs"]
mod cpu_time;

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};
use gongkai::auth::hash_password;
use gongkai::jobs::{self, AssessRequest, Progress};
use gongkai::model::{Account, CrawlKind, Finding, FindingStatus, Role, Source, synthetic_credit_code};
use gongkai::registry::{plan_import, read_registry};
use gongkai::rules::RuleSet;
use gongkai::store::{AuditEntry, CrawlRunRecord, Store, StoreConfig};
use gongkai::web::{WebConfig, build};

const RULES: &str = include_str!("../scoring-rules/gov-website-2019.toml");
const PASSWORD: &str = "bench-password-123";

/// Registers `n` units with findings on every third one and saves two cycles of the national
/// website rule set (so pages show rank changes and trend lines).
async fn synthetic_city(store: &Store, n: u32) -> anyhow::Result<()> {
    let mut csv = String::from("code,name,kind,parent_code,website,catalogue_url,email\n");
    for i in 0..n {
        let code = synthetic_credit_code("450100", i + 1)?;
        if i % 10 == 9 {
            let parent = synthetic_credit_code("450100", i)?;
            csv.push_str(&format!(
                "{code},南宁市第{i}事业单位,institution,{parent},http://u{i}.example.cn/,,\n"
            ));
        } else {
            csv.push_str(&format!("{code},南宁市第{i}局,department,,http://u{i}.example.cn/,,\n"));
        }
    }
    let file = read_registry(csv.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let plan = plan_import(&file, &[]).map_err(|e| anyhow::anyhow!("{e}"))?;
    store.apply_unit_import(&plan, AuditEntry::new("bench", "units.import"), |_| {}).await?;
    let units = store.units().await?;
    let rules = RuleSet::parse(RULES, "gov-website-2019.toml").map_err(|e| anyhow::anyhow!("{e}"))?;
    for (cycle, day) in [("2026-Q3", 20), ("2026-Q4", 27)] {
        let at = Utc.with_ymd_and_hms(2026, 11, day, 4, 0, 0).single().context("date")?;
        let findings: Vec<Finding> = units
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 == (day as usize) % 3)
            .flat_map(|(_, unit)| {
                ["column.stale", "link.broken"].map(|check| Finding {
                    id: None,
                    unit: unit.code.clone(),
                    check: check.to_string(),
                    source: Source::Crawler,
                    observed_at: at,
                    url: unit.website.clone(),
                    detail: serde_json::json!({ "column": "通知公告", "days": 200 }),
                    status: FindingStatus::Open,
                    rectify_by: None,
                })
            })
            .collect();
        let run = CrawlRunRecord {
            kind: CrawlKind::Site,
            as_of: at,
            started_at: at,
            finished_at: at,
            units: units.iter().map(|u| u.code.clone()).collect(),
            stats: serde_json::json!({}),
        };
        store.record_crawl_run(&run, &findings, &[]).await?;
        let (day, cutoff) = jobs::assessment_cutoff(Some(&at.date_naive().to_string()))?;
        let request = AssessRequest {
            rule_set: rules.clone(),
            source: RULES.to_string(),
            criteria: gongkai::assess::LaggardCriteria::shipped(),
            cycle: Some(cycle.to_string()),
            day,
            cutoff,
            actor: "bench".into(),
            save: true,
        };
        jobs::assess(store, request, &Progress::default()).await?;
    }
    let leader = Account {
        username: "bench-leader".into(),
        role: Role::Leader,
        unit: None,
        inspector_group: None,
        display_name: None,
        disabled: false,
    };
    store.create_account(&leader, &hash_password(PASSWORD)?, AuditEntry::new("bench", "account.add")).await?;
    Ok(())
}

/// Signs in through the login form and returns the `Cookie` header value of the session.
async fn session_cookie(base: &str, username: &str, password: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let page = http.get(format!("{base}/login")).send().await?;
    let login_cookie = cookie_pairs(&page);
    let html = page.text().await?;
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).context("login form token")? + marker.len();
    let token = html[start..].split('"').next().context("token end")?.to_string();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf", token.as_str()),
            ("username", username),
            ("password", password),
            ("next", ""),
        ])
        .finish();
    let response = http
        .post(format!("{base}/login"))
        .header("Cookie", login_cookie)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await?;
    let session = cookie_pairs(&response);
    if !session.contains("gk_session=") {
        bail!("login failed: {}", response.status());
    }
    Ok(session)
}

fn cookie_pairs(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// What one wrk run measured.
struct Load {
    requests_per_second: String,
    p99: String,
    requests: u64,
}

/// Runs wrk against `url` and reads its requests per second, 99th-percentile latency and
/// request count. Error responses fail the benchmark instead of being measured.
fn wrk(url: &str, cookie: &str, seconds: u32, connections: u32) -> anyhow::Result<Load> {
    let output = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", "-H"])
        .arg(format!("Cookie: {cookie}"))
        .arg(url)
        .output()
        .context("run wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let field = |prefix: &str, index: usize| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(index))
            .map(str::to_string)
            .context(format!("wrk output:\n{text}"))
    };
    if text.contains("Non-2xx") {
        bail!("wrk saw error responses:\n{text}");
    }
    Ok(Load {
        requests_per_second: field("Requests/sec:", 1)?,
        p99: field("99%", 1)?,
        requests: text
            .lines()
            .find(|l| l.contains(" requests in "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .context(format!("wrk output:\n{text}"))?,
    })
}

/// CPU time (user + system) this process has used: the dashboard runs inside it.
fn own_cpu() -> Duration {
    cpu_time::cpu_time("self")
}

/// CPU time of nginx's master and worker processes.
fn nginx_cpu(master: u32) -> Duration {
    let children =
        std::fs::read_to_string(format!("/proc/{master}/task/{master}/children")).unwrap_or_default();
    let master = master.to_string();
    children.split_whitespace().chain([master.as_str()]).map(cpu_time::cpu_time).sum()
}

/// A plain nginx (Debian's package) serving already rendered pages: the ceiling of what any
/// server on this machine answers for the same bytes.
struct Nginx {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    /// Serves `pages` (file name, HTML) from a temporary directory on a free loopback port.
    fn serve(pages: &[(&str, &str)]) -> anyhow::Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        // nginx's workers run as `nobody` when started by root: they must be able to read.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        for (name, html) in pages {
            std::fs::write(dir.path().join(name), html)?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let root = dir.path().display();
        let config = format!(
            "worker_processes 2;\ndaemon off;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; client_body_temp_path {root}/body; proxy_temp_path {root}/proxy;\n\
             fastcgi_temp_path {root}/fastcgi; uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;\n\
             server {{ listen 127.0.0.1:{port}; root {root}; default_type text/html; }} }}\n"
        );
        let config_path = dir.path().join("nginx.conf");
        std::fs::write(&config_path, config)?;
        let child = Command::new("nginx")
            .arg("-c")
            .arg(&config_path)
            .arg("-p")
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("start nginx (apt-get install nginx-light)")?;
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Ok(Self { child, base: format!("http://127.0.0.1:{port}"), _dir: dir })
    }
}

impl Drop for Nginx {
    /// SIGTERM, not `Child::kill`'s SIGKILL: nginx's master then stops its workers, which would
    /// otherwise outlive it (holding this process's output open).
    fn drop(&mut self) {
        let stopped = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        if !stopped.is_ok_and(|s| s.success()) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// One measured row: throughput, p99 and the server's CPU per request.
fn measure(
    url: &str,
    cookie: &str,
    seconds: u32,
    connections: u32,
    cpu: impl Fn() -> Duration,
) -> anyhow::Result<String> {
    let before = cpu();
    let load = wrk(url, cookie, seconds, connections)?;
    let used = cpu().saturating_sub(before);
    let per_request = used.as_secs_f64() * 1000.0 / load.requests.max(1) as f64;
    Ok(format!("{:>10} req/s   p99 {:>9}   {per_request:6.3} ms CPU/req", load.requests_per_second, load.p99))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let option = |name: &str, default: u32| -> anyhow::Result<u32> {
        match args.iter().position(|a| a == name) {
            Some(i) => Ok(args.get(i + 1).context(format!("{name} needs a value"))?.parse()?),
            None => Ok(default),
        }
    };
    let (seconds, connections) = (option("--seconds", 10)?, option("--connections", 64)?);
    let dir = tempfile::tempdir()?;
    let store = Store::connect(&StoreConfig::new(format!("surrealkv://{}", dir.path().display()))).await?;
    let started = Instant::now();
    let (label, username, password, _demo) = match args.first().map(String::as_str) {
        Some("synthetic") => {
            let n: u32 = args.get(1).map_or(Ok(14_000), |a| a.parse())?;
            synthetic_city(&store, n).await?;
            (format!("{n} synthetic units"), "bench-leader".to_string(), PASSWORD.to_string(), None)
        }
        _ => {
            let city = gongkai::demo::build(&store, &Progress::default()).await?;
            let leader = city.account(Role::Leader).context("demo leader")?.clone();
            (format!("demo city ({} units)", city.counts.units), leader.username, leader.password, Some(city))
        }
    };
    let setup = started.elapsed();
    let ranking = store.current_cycle().await?.context("a cycle")?;
    let rows = store.ranking(&ranking.cycle).await?;
    let unit = rows.iter().find(|r| r.laggard).or(rows.first()).context("a scored unit")?.unit.clone();

    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let rocket = build(store.clone(), WebConfig { port, ..WebConfig::default() }).await?;
    tokio::spawn(rocket.launch());
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let cookie = session_cookie(&base, &username, &password).await?;
    println!(
        "{label}: set up in {:.1} s; cycle {}; {seconds} s per page, {connections} connections",
        setup.as_secs_f64(),
        ranking.cycle
    );
    let mut rendered = Vec::new();
    for (page, path) in [("rankings", "/rankings".to_string()), ("unit detail", format!("/units/{unit}"))] {
        let url = format!("{base}{path}");
        // One request first, so a broken page fails loudly instead of being measured; its
        // bytes are what nginx serves for the ceiling.
        let response = reqwest::Client::new().get(&url).header("Cookie", &cookie).send().await?;
        if !response.status().is_success() {
            bail!("{path} answered {}", response.status());
        }
        rendered.push((page, path.clone(), response.text().await?));
        let row = tokio::task::spawn_blocking({
            let (url, cookie) = (url.clone(), cookie.clone());
            move || measure(&url, &cookie, seconds, connections, own_cpu)
        })
        .await??;
        println!("gongkai  {page:12} {row}   {path}");
    }
    // The ceiling, in the same run: nginx serving the same rendered bytes.
    let files: Vec<(String, &str)> = rendered
        .iter()
        .enumerate()
        .map(|(i, (_, _, html))| (format!("page{i}.html"), html.as_str()))
        .collect();
    let pages: Vec<(&str, &str)> = files.iter().map(|(name, html)| (name.as_str(), *html)).collect();
    let nginx = Nginx::serve(&pages)?;
    let master = nginx.child.id();
    for ((page, path, html), (file, _)) in rendered.iter().zip(&files) {
        let url = format!("{}/{file}", nginx.base);
        let row = tokio::task::spawn_blocking({
            let url = url.clone();
            move || measure(&url, "", seconds, connections, || nginx_cpu(master))
        })
        .await??;
        println!("nginx    {page:12} {row}   {path} ({} KiB)", html.len() / 1024);
    }
    Ok(())
}
