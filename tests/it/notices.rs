//! Notifications (通报) end to end: draft → approve → publish over a ranking with the CLI, one
//! e-mail per laggard unit with an address over real SMTP (to a server this test runs), a PDF
//! whose embedded font carries the Chinese text; and the deadline's recheck: fixed findings
//! closed, the rest overdue and counted in the next cycle.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use chrono_tz::Asia::Shanghai;
use gongkai::assess::LaggardCriteria;
use gongkai::crawl::catalogue::CatalogueProfile;
use gongkai::crawl::profile::SiteProfile;
use gongkai::jobs::{self, AssessRequest, Progress};
use gongkai::model::{Account, CrawlKind, Finding, FindingStatus, OrgCode, Role, Source};
use gongkai::registry::{plan_import, read_registry};
use gongkai::rules::RuleSet;
use gongkai::schedule::{RecheckContext, recheck};
use gongkai::store::{AuditEntry, CrawlRunRecord, NoticeWriteError, Store, StoreConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::fixture_server::Fixture;
use crate::support::{HEADER, credit_code, gongkai, json, stderr};

const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scoring-rules/gov-website-2019.toml");
const FAKE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

/// One message the test SMTP server accepted.
#[derive(Debug, Clone)]
struct Received {
    from: String,
    to: Vec<String>,
    data: String,
}

/// A minimal SMTP server on 127.0.0.1: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
    let port = listener.local_addr().expect("addr").port();
    let inbox: Arc<Mutex<Vec<Received>>> = Arc::default();
    let shared = inbox.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let inbox = shared.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read);
                let _ = write.write_all(b"220 test.local ESMTP\r\n").await;
                let (mut from, mut to) = (String::new(), Vec::new());
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        break;
                    }
                    let command = line.trim_end().to_string();
                    let upper = command.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") {
                        b"250-test.local\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("HELO")
                        || upper.starts_with("NOOP")
                        || upper.starts_with("RSET")
                    {
                        b"250 OK\r\n"
                    } else if upper.starts_with("MAIL FROM:") {
                        from = command[10..].trim().to_string();
                        to.clear();
                        b"250 OK\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to.push(command[8..].trim().trim_matches(['<', '>']).to_string());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 end with .\r\n").await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if lines.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        inbox.lock().expect("inbox").push(Received {
                            from: from.clone(),
                            to: to.clone(),
                            data,
                        });
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"502 not implemented\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, inbox)
}

fn code(n: u32) -> OrgCode {
    OrgCode::parse(&credit_code(n)).expect("code")
}

fn finding(unit: u32, check: &str, source: Source) -> Finding {
    Finding {
        id: None,
        unit: code(unit),
        check: check.to_string(),
        source,
        observed_at: Utc::now() - chrono::Duration::hours(1),
        url: Some(format!("http://u{unit}.example.cn/")),
        detail: serde_json::json!({ "snippet": "<script>alert(1)</script>" }),
        status: FindingStatus::Open,
        rectify_by: None,
    }
}

fn account(username: &str, role: Role, unit: Option<u32>) -> Account {
    Account {
        username: username.to_string(),
        role,
        unit: unit.map(code),
        inspector_group: None,
        display_name: None,
        disabled: false,
    }
}

/// Four departments (units 1 and 3 with e-mail), two of them with a vetoed home page; the
/// office, a leader and unit 1's contact; a cycle assessed today.
async fn seed(store: &Store, website: &str) {
    let csv = format!(
        "{HEADER}{a},甲局,department,,{website},,jia@example.cn\n{b},乙局,department,,{website},,\n\
         {c},丙局,department,,{website},,bing@example.cn\n{d},丁局,department,,{website},,ding@example.cn\n",
        a = credit_code(1),
        b = credit_code(2),
        c = credit_code(3),
        d = credit_code(4),
    );
    let file = read_registry(csv.as_bytes()).expect("readable");
    let plan = plan_import(&file, &store.units().await.expect("units")).expect("valid");
    store.apply_unit_import(&plan, AuditEntry::new("test", "units.import"), |_| {}).await.expect("import");
    let at = Utc::now() - chrono::Duration::hours(1);
    let run = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: at,
        started_at: at,
        finished_at: at,
        units: (1..=4).map(code).collect(),
        stats: serde_json::json!({}),
    };
    let findings = vec![
        finding(1, "home.stale", Source::Crawler),
        finding(1, "interaction.unanswered", Source::Crawler),
        finding(2, "home.stale", Source::Crawler),
    ];
    store.record_crawl_run(&run, &findings, &[]).await.expect("record run");
    for a in [
        account("ban", Role::Office, None),
        account("lingdao", Role::Leader, None),
        account("jia", Role::Unit, Some(1)),
    ] {
        store.create_account(&a, FAKE_HASH, AuditEntry::new("test", "account.add")).await.expect("account");
    }
    assess(store, "2026-Q4", Utc::now().with_timezone(&Shanghai).date_naive()).await;
}

async fn assess(store: &Store, cycle: &str, day: chrono::NaiveDate) {
    let text = std::fs::read_to_string(RULES).expect("rules");
    let rule_set = RuleSet::parse(&text, RULES).expect("valid");
    let (day, cutoff) = jobs::assessment_cutoff(Some(&day.to_string())).expect("day");
    let request = AssessRequest {
        rule_set,
        source: text,
        criteria: LaggardCriteria::shipped(),
        cycle: Some(cycle.into()),
        day,
        cutoff,
        actor: "test".into(),
        save: true,
    };
    jobs::assess(store, request, &Progress::default()).await.expect("assess");
}

/// Runs the binary off the async runtime (the SMTP server lives on it).
async fn cli(db: &str, args: &[&str]) -> std::process::Output {
    let (db, args): (String, Vec<String>) =
        (db.to_string(), args.iter().map(std::string::ToString::to_string).collect());
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        gongkai(&db, &args)
    })
    .await
    .expect("cli")
}

/// The PDF's streams, inflated where they are compressed.
fn pdf_streams(pdf: &[u8]) -> Vec<Vec<u8>> {
    let mut streams = Vec::new();
    let mut rest = pdf;
    while let Some(start) = find(rest, b"stream") {
        let mut body = &rest[start + 6..];
        if body.starts_with(b"\r\n") {
            body = &body[2..];
        } else if body.starts_with(b"\n") {
            body = &body[1..];
        }
        let Some(end) = find(body, b"endstream") else { break };
        let raw = &body[..end];
        let mut inflated = Vec::new();
        if flate2::read::ZlibDecoder::new(raw).read_to_end(&mut inflated).is_ok() && !inflated.is_empty() {
            streams.push(inflated);
        } else {
            streams.push(raw.to_vec());
        }
        rest = &body[end + 9..];
    }
    streams
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread")]
async fn draft_approve_publish_mails_each_laggard_and_writes_a_chinese_pdf() {
    let site = Fixture::start().await;
    let (port, inbox) = smtp_server().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let store = Store::connect(&StoreConfig::new(&db)).await.expect("store");
    seed(&store, site.url("/").as_ref()).await;
    let ranking = store.ranking("2026-Q4").await.expect("ranking");
    store.close().await;
    let laggards: BTreeSet<String> = ranking.iter().filter(|r| r.laggard).map(|r| r.unit.clone()).collect();
    assert!(laggards.contains(&credit_code(1)) && laggards.contains(&credit_code(2)), "{ranking:?}");
    let emails: std::collections::BTreeMap<String, &str> = [
        (credit_code(1), "jia@example.cn"),
        (credit_code(3), "bing@example.cn"),
        (credit_code(4), "ding@example.cn"),
    ]
    .into_iter()
    .collect();
    let expected_mail: BTreeSet<String> =
        laggards.iter().filter_map(|u| emails.get(u)).map(std::string::ToString::to_string).collect();

    let output =
        cli(&db, &["notices", "draft", "--cycle", "2026-Q4", "--by", "ban", "--format", "json"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let draft = json(&output);
    assert_eq!(draft["status"], "draft");
    assert!(draft["number"].is_null());
    let id = draft["id"].as_str().expect("id").to_string();
    let named: BTreeSet<String> = draft["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| u["unit"].as_str().expect("unit").to_string())
        .collect();
    assert_eq!(named, laggards);
    let first = draft["units"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["unit"] == credit_code(1))
        .expect("unit 1");
    assert!(first["deadline"].is_string());
    assert!(
        first["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r.as_str().is_some_and(|r| r.starts_with("网站存在单项否决问题"))),
        "{first}"
    );

    // The drafter's office account and a unit account may not approve: exit 2, nothing changes.
    for by in ["ban", "jia"] {
        let refused = cli(&db, &["notices", "approve", &id, "--by", by]).await;
        assert_eq!(refused.status.code(), Some(2), "{by}: {}", stderr(&refused));
    }
    let output = cli(&db, &["notices", "approve", &id, "--by", "lingdao", "--format", "json"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let approved = json(&output);
    assert_eq!(approved["status"], "approved");
    let year = Utc::now().with_timezone(&Shanghai).format("%Y").to_string();
    let number = format!("南政开办〔{year}〕1号");
    assert_eq!(approved["number"], number.as_str());

    let out = dir.path().join("out");
    let smtp = format!("smtp://127.0.0.1:{port}");
    let output = cli(
        &db,
        &[
            "notices",
            "publish",
            &id,
            "--by",
            "ban",
            "--smtp",
            &smtp,
            "--out",
            out.to_str().expect("utf-8"),
            "--format",
            "json",
        ],
    )
    .await;
    assert!(output.status.success(), "{}", stderr(&output));

    let received = inbox.lock().expect("inbox").clone();
    let recipients: BTreeSet<String> = received.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(received.len(), expected_mail.len(), "one e-mail per laggard with an address: {received:?}");
    assert_eq!(recipients, expected_mail);
    assert!(
        received.iter().all(|m| m.from.contains("gongkai@localhost") && m.data.contains("application/pdf"))
    );

    let pdf = std::fs::read(out.join(format!("{number}.pdf"))).expect("pdf written");
    // Kept for people to look at, beside the browser test's screenshots.
    let artifacts = std::env::var_os("GONGKAI_ARTIFACTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-artifacts"));
    if std::fs::create_dir_all(&artifacts).is_ok() {
        let _ = std::fs::write(artifacts.join("notice.pdf"), &pdf);
    }
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(find(&pdf, b"/FontFile2").is_some() || find(&pdf, b"/FontFile3").is_some(), "a font is embedded");
    let text: String = pdf_streams(&pdf).iter().map(|s| String::from_utf8_lossy(s).to_uppercase()).collect();
    // The ToUnicode map of the embedded font maps glyphs back to 通 (U+901A) and 报 (U+62A5).
    assert!(text.contains("901A") && text.contains("62A5"), "the PDF carries the Chinese text");
    let html = std::fs::read_to_string(out.join(format!("{number}.html"))).expect("html written");
    assert!(html.contains(&number) && html.contains("甲局"));
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>alert"), "evidence is escaped");

    let output = cli(&db, &["notices", "show", &id, "--format", "json"]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let shown = json(&output);
    assert_eq!(shown["status"], "published");
    let deliveries = shown["deliveries"].as_array().expect("deliveries");
    let portal = deliveries.iter().filter(|d| d["channel"] == "portal" && d["status"] == "delivered").count();
    let sent = deliveries.iter().filter(|d| d["channel"] == "email" && d["status"] == "sent").count();
    assert_eq!((portal, sent), (laggards.len(), expected_mail.len()), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_email_is_recorded_and_the_drafter_never_approves_in_the_store() {
    let site = Fixture::start().await;
    let store = Store::memory().await.expect("store");
    seed(&store, site.url("/").as_ref()).await;
    let template = gongkai::notify::NoticeTemplate::shipped().expect("template");
    let notice = gongkai::notify::draft(&store, "2026-Q4", "ban", &template).await.expect("draft");
    let own = store.approve_notice(&notice.id, "ban", &template.number_pattern).await;
    assert!(matches!(own, Err(NoticeWriteError::OwnDraft)), "{own:?}");
    gongkai::notify::approve(&store, &notice.id, "lingdao").await.expect("approve");
    // Nothing listens on this port: every e-mail fails, is recorded with its error, and the
    // notice is published all the same (portal delivery).
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let options =
        gongkai::notify::PublishOptions { smtp: Some(format!("smtp://127.0.0.1:{port}")), out: None };
    let outcome = gongkai::notify::publish(&store, &notice.id, "ban", &options).await.expect("publish");
    assert_eq!(outcome.emails_sent, 0);
    assert!(outcome.emails_failed >= 1);
    let failed = store.failed_email_deliveries(10).await.expect("failed");
    assert_eq!(failed.len(), outcome.emails_failed);
    assert!(failed.iter().all(|(_, d)| d.attempts == 1 && d.error.as_deref().is_some_and(|e| !e.is_empty())));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deadline_leads_to_a_recheck_that_closes_fixed_findings_and_flags_the_rest_overdue() {
    let site = Fixture::start().await;
    let store = Store::memory().await.expect("store");
    seed(&store, site.url("/").as_ref()).await;
    // An inspector's finding on unit 1, open, with the same rectification period.
    let today = Utc::now().with_timezone(&Shanghai).date_naive();
    let mut visit_finding = finding(1, "field.no_staff", Source::Inspector);
    visit_finding.rectify_by = Some(today + chrono::Duration::days(30));
    let at = Utc::now() - chrono::Duration::hours(1);
    let run = CrawlRunRecord {
        kind: CrawlKind::Catalogue,
        as_of: at,
        started_at: at,
        finished_at: at,
        units: vec![],
        stats: serde_json::json!({}),
    };
    store.record_crawl_run(&run, &[visit_finding], &[]).await.expect("inspector finding");
    let template = gongkai::notify::NoticeTemplate::shipped().expect("template");
    let notice = gongkai::notify::draft(&store, "2026-Q4", "ban", &template).await.expect("draft");
    gongkai::notify::approve(&store, &notice.id, "lingdao").await.expect("approve");
    let options = gongkai::notify::PublishOptions::default();
    let published =
        gongkai::notify::publish(&store, &notice.id, "ban", &options).await.expect("publish").notice;
    let unit1 = published.units.iter().find(|u| u.unit == credit_code(1)).expect("unit 1 named");
    let fixed_id =
        unit1.findings.iter().find(|f| f.check == "interaction.unanswered").expect("named").id.clone();
    let deadline = published.deadline.with_timezone(&Shanghai).date_naive();
    let fixed = store.finding(&fixed_id).await.expect("read").expect("exists");
    assert_eq!(fixed.rectify_by, Some(deadline), "the notice's deadline is on the named finding");

    // The unit acknowledges in its portal.
    gongkai::notify::acknowledge(&store, &notice.id, "jia").await.expect("acknowledge");
    let acked = store.notice(&notice.id).await.expect("read").expect("notice");
    assert!(acked.units.iter().find(|u| u.unit == credit_code(1)).expect("unit 1").acknowledged_at.is_some());
    assert!(acked.deliveries.iter().any(|d| d.unit == credit_code(1) && d.status == "acknowledged"));

    // Before the deadline nothing is due; the day after, the recheck re-crawls unit 1's site.
    let context = RecheckContext {
        allow_private: true,
        site_profile: SiteProfile::builtin().expect("profile"),
        catalogue_profile: CatalogueProfile::builtin().expect("profile"),
    };
    let early = recheck(&store, &context, deadline, Utc::now()).await.expect("recheck");
    assert_eq!(early.due, 0);
    let after = deadline + chrono::Duration::days(1);
    let counts = recheck(&store, &context, after, Utc::now()).await.expect("recheck");
    assert!(counts.due >= 3, "{counts:?}");
    assert!(counts.closed >= 1 && counts.overdue >= 2, "{counts:?}");
    // The fixture's site has no unanswered message: closed. Its home page has no dated item:
    // still stale, overdue.
    let fixed = store.finding(&fixed_id).await.expect("read").expect("exists");
    assert_eq!(fixed.status, FindingStatus::Closed);
    let overdue = store.overdue_findings().await.expect("overdue");
    let unit1: Vec<&Finding> = overdue.iter().filter(|f| f.unit == code(1)).collect();
    assert!(unit1.iter().any(|f| f.check == "home.stale" && f.rectify_by == Some(deadline)), "{overdue:?}");
    assert!(unit1.iter().any(|f| f.check == "field.no_staff"), "{overdue:?}");
    // A second recheck does not judge the same findings again.
    let again = recheck(&store, &context, after, Utc::now()).await.expect("recheck");
    assert_eq!((again.closed, again.overdue), (0, 0), "{again:?}");

    // The next cycle names the overdue findings as a laggard reason.
    assess(&store, "2027-Q1", after).await;
    let next = store.ranking("2027-Q1").await.expect("ranking");
    let row = next.iter().find(|r| r.unit == credit_code(1)).expect("unit 1");
    assert!(row.reasons.iter().any(|r| r.contains("超过整改期限")), "{:?}", row.reasons);
}
