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

/// Requests per second and the 99th-percentile latency wrk reports.
fn wrk(url: &str, cookie: &str, seconds: u32, connections: u32) -> anyhow::Result<(String, String)> {
    let output = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", "-H"])
        .arg(format!("Cookie: {cookie}"))
        .arg(url)
        .output()
        .context("run wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .context(format!("wrk output:\n{text}"))?;
    let p99 = text
        .lines()
        .find(|l| l.trim_start().starts_with("99%"))
        .and_then(|l| l.split_whitespace().nth(1))
        .context(format!("wrk output:\n{text}"))?;
    if text.contains("Non-2xx") {
        bail!("wrk saw error responses:\n{text}");
    }
    Ok((rps.to_string(), p99.to_string()))
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
    for (page, path) in [("rankings", "/rankings".to_string()), ("unit detail", format!("/units/{unit}"))] {
        let url = format!("{base}{path}");
        // One request first, so a broken page fails loudly instead of being measured.
        let status = reqwest::Client::new().get(&url).header("Cookie", &cookie).send().await?.status();
        if !status.is_success() {
            bail!("{path} answered {status}");
        }
        let (rps, p99) = tokio::task::spawn_blocking({
            let (url, cookie) = (url.clone(), cookie.clone());
            move || wrk(&url, &cookie, seconds, connections)
        })
        .await??;
        println!("{page:12} {rps:>10} req/s   p99 {p99:>9}   {path}");
    }
    Ok(())
}
