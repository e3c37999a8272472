//! The crawler's fetching layer against real HTTP on 127.0.0.1: politeness, limits, charsets,
//! redirects and the address guard, each with a server that misbehaves the way real sites do.

use std::net::{IpAddr, Ipv4Addr};

use gongkai::crawl::{Admission, FetchConfig, FetchError, Fetcher, Frontier, FrontierConfig, extract_links};

use crate::fixture_server::{CHINESE, Fixture, HUGE_LEN, Silent};

/// Settings for reaching the fixture on loopback, with short waits so the tests stay quick.
fn loopback() -> FetchConfig {
    FetchConfig {
        allow_private: true,
        min_gap_ms: 0,
        retry_backoff_ms: 100,
        total_timeout_secs: 10,
        ..FetchConfig::default()
    }
}

fn fetcher(config: FetchConfig) -> Fetcher {
    Fetcher::new(config).expect("valid fetch settings")
}

#[tokio::test]
async fn a_page_is_fetched_with_its_headers_and_a_named_user_agent() {
    let site = Fixture::start().await;
    let page = fetcher(loopback()).fetch(&site.url("/")).await.expect("page");
    assert_eq!(page.status, 200);
    assert!(page.is_success() && page.is_html());
    assert_eq!(page.url, site.url("/"));
    assert!(page.redirects.is_empty());
    assert!(page.body.contains("南宁市测试局"));
    assert_eq!(page.encoding, Some("UTF-8"));
    assert!(!page.truncated);
    fetcher(loopback()).fetch(&site.url("/ua")).await.expect("page");
    let agents = site.user_agents();
    assert!(agents.iter().all(|ua| ua.starts_with("gongkai/") && ua.contains("government disclosure")));
}

#[tokio::test]
async fn an_error_status_is_a_page_for_the_checks_to_judge() {
    let site = Fixture::start().await;
    let page = fetcher(loopback()).fetch(&site.url("/missing")).await.expect("a 404 is an answer");
    assert_eq!(page.status, 404);
    assert!(!page.is_success());
    assert!(page.body.contains("页面未找到"));
}

#[tokio::test]
async fn gbk_pages_decode_whether_declared_in_header_meta_or_nowhere() {
    let site = Fixture::start().await;
    let fetcher = fetcher(loopback());
    for path in ["/gbk-header", "/gbk-meta", "/gbk-none"] {
        let page = fetcher.fetch(&site.url(path)).await.expect("page");
        assert_eq!(page.encoding, Some("GBK"), "{path}");
        assert!(page.body.contains(CHINESE), "{path} must decode to the original text");
        assert!(!page.body.contains('\u{FFFD}'), "{path} must decode without replacement characters");
    }
}

#[tokio::test]
async fn non_text_bodies_are_not_read() {
    let site = Fixture::start().await;
    let page = fetcher(loopback()).fetch(&site.url("/report.pdf")).await.expect("page");
    assert_eq!(page.status, 200);
    assert_eq!(page.content_type.as_deref(), Some("application/pdf"));
    assert_eq!(page.body, "");
    assert_eq!(page.encoding, None);
}

#[tokio::test]
async fn a_sixty_megabyte_page_is_cut_at_the_cap_and_the_rest_is_never_read() {
    let site = Fixture::start().await;
    let config = loopback();
    let cap = config.max_body_bytes;
    let page = fetcher(config).fetch(&site.url("/huge")).await.expect("a truncated page, not an error");
    assert!(page.truncated);
    assert_eq!(page.body.len(), cap);
    // The server could only push the cap plus what socket buffers hold before the client hung up;
    // a fetcher that read everything would have taken all 60 MiB.
    let written = site.huge_bytes_written().await;
    assert!(written < HUGE_LEN, "the server sent {written} bytes: the body was read past the cap");
}

#[tokio::test]
async fn a_small_cap_truncates_an_ordinary_page() {
    let site = Fixture::start().await;
    let page =
        fetcher(FetchConfig { max_body_bytes: 16, ..loopback() }).fetch(&site.url("/")).await.expect("page");
    assert!(page.truncated);
    assert_eq!(page.body, "<html><head><tit");
}

#[tokio::test]
async fn a_server_that_trickles_bytes_times_out() {
    let site = Fixture::start().await;
    let url = site.url("/trickle");
    let err = fetcher(FetchConfig { total_timeout_secs: 2, ..loopback() })
        .fetch(&url)
        .await
        .expect_err("one byte a second for 100 bytes cannot finish in 2 s");
    assert!(matches!(&err, FetchError::Timeout { seconds: 2, .. }), "{err:?}");
    assert_eq!(err.url(), url.as_str());
    assert!(err.to_string().contains("超过 2 秒"));
}

/// Issue #11: the total deadline covers the whole redirect chain, not each hop. Six requests of
/// 2 s each (12 s) cannot finish under a 5 s deadline even though every hop alone would.
#[tokio::test]
async fn a_slow_redirect_chain_fails_at_the_total_deadline() {
    let site = Fixture::start().await;
    let url = site.url("/slowhop/5");
    let started = std::time::Instant::now();
    let err = fetcher(FetchConfig { total_timeout_secs: 5, ..loopback() })
        .fetch(&url)
        .await
        .expect_err("a 12 s chain cannot finish in 5 s");
    assert!(matches!(&err, FetchError::Timeout { seconds: 5, .. }), "{err:?}");
    assert!(err.to_string().contains("总时限"), "{err}");
    assert!(err.url().contains("/slowhop/"), "{err}");
    let seen: usize = (0..=5).map(|n| site.hits(&format!("/slowhop/{n}"))).sum();
    assert!(seen < 6, "the server saw {seen} of the chain's 6 requests");
    assert_eq!(site.hits("/slowhop/0"), 0, "the end of the chain was never reached");
    // Generous bound: per-hop deadlines would take 12 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_port_that_accepts_and_never_answers_times_out() {
    let silent = Silent::start().await;
    let err = fetcher(FetchConfig { total_timeout_secs: 2, ..loopback() })
        .fetch(&silent.url())
        .await
        .expect_err("no answer");
    assert!(matches!(err, FetchError::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn a_closed_port_is_a_connection_failure() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let url = url::Url::parse(&format!("http://{addr}/")).expect("url");
    let err = fetcher(loopback()).fetch(&url).await.expect_err("nothing listens");
    assert!(matches!(err, FetchError::Connect { .. }), "{err:?}");
    assert!(err.to_string().starts_with("无法建立连接"));
}

#[tokio::test]
async fn redirects_are_followed_within_the_cap() {
    let site = Fixture::start().await;
    let config = FetchConfig { max_redirects: 3, ..loopback() };
    let page = fetcher(config.clone()).fetch(&site.url("/hop/3")).await.expect("three hops are allowed");
    assert_eq!(page.url, site.url("/hop/0"));
    assert_eq!(page.redirects, [site.url("/hop/3"), site.url("/hop/2"), site.url("/hop/1")]);
    assert!(page.body.contains("arrived"));

    let err = fetcher(config).fetch(&site.url("/hop/20")).await.expect_err("too many hops");
    assert!(matches!(err, FetchError::TooManyRedirects { limit: 3, .. }), "{err:?}");
    assert_eq!(site.hits("/hop/17"), 1, "the fourth redirect is received…");
    assert_eq!(site.hits("/hop/16"), 0, "…and not followed");
}

#[tokio::test]
async fn redirect_loops_are_detected() {
    let site = Fixture::start().await;
    let fetcher = fetcher(loopback());
    let err = fetcher.fetch(&site.url("/loop-a")).await.expect_err("a ↔ b");
    assert!(
        matches!(&err, FetchError::RedirectLoop { target, .. } if **target == site.url("/loop-a")),
        "{err:?}"
    );
    assert_eq!(site.hits("/loop-a"), 1);
    assert_eq!(site.hits("/loop-b"), 1);
    let err = fetcher.fetch(&site.url("/self")).await.expect_err("a page redirecting to itself");
    assert!(matches!(err, FetchError::RedirectLoop { .. }), "{err:?}");
}

#[tokio::test]
async fn too_many_requests_is_retried_after_the_wait_asked_for() {
    let site = Fixture::start().await;
    let page = fetcher(loopback()).fetch(&site.url("/busy")).await.expect("page");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("served"));
    assert_eq!(site.hits("/busy"), 2);
}

#[tokio::test]
async fn retries_are_bounded_and_long_waits_are_not_sat_out() {
    let site = Fixture::start().await;
    let fetcher = fetcher(FetchConfig { max_retries: 2, ..loopback() });
    let page = fetcher.fetch(&site.url("/down")).await.expect("the last answer is returned");
    assert_eq!(page.status, 503);
    assert_eq!(site.hits("/down"), 3, "one request and two retries");

    let page = fetcher.fetch(&site.url("/closed")).await.expect("answer");
    assert_eq!(page.status, 503);
    assert_eq!(site.hits("/closed"), 1, "an hour's Retry-After is beyond the cap: no retry");
}

#[tokio::test]
async fn no_more_than_four_requests_are_in_flight_per_host() {
    let site = Fixture::start().await;
    let fetcher = fetcher(loopback());
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let fetcher = fetcher.clone();
        let url = site.url("/slow");
        tasks.spawn(async move { fetcher.fetch(&url).await.map(|p| p.status) });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.expect("task").expect("page"), 200);
    }
    assert_eq!(site.hits("/slow"), 10);
    assert!(site.max_in_flight() <= 4, "{} requests were in flight at once", site.max_in_flight());
}

#[tokio::test]
async fn loopback_targets_are_refused_without_allow_private() {
    let site = Fixture::start().await;
    let fetcher = fetcher(FetchConfig { allow_private: false, ..loopback() });

    let err = fetcher.fetch(&site.url("/")).await.expect_err("literal loopback address");
    assert!(
        matches!(err, FetchError::PrivateAddress { address, .. } if address == IpAddr::V4(Ipv4Addr::LOCALHOST)),
        "{err:?}"
    );
    assert!(err.to_string().contains("127.0.0.1"));

    // A name is refused after resolution: `localhost` resolves to loopback only.
    let by_name = url::Url::parse(&format!("http://localhost:{}/", site.port())).expect("url");
    let err = fetcher.fetch(&by_name).await.expect_err("a name resolving to loopback");
    assert!(matches!(&err, FetchError::PrivateAddress { address, .. } if address.is_loopback()), "{err:?}");

    assert_eq!(site.connections(), 0, "nothing may reach a refused address");
}

#[tokio::test]
async fn every_redirect_hop_is_checked_against_the_address_policy() {
    let site = Fixture::start().await;
    let internal = Fixture::start().await;
    // Only the first fixture is let through; everything it redirects to is checked as usual.
    let guarded = fetcher(FetchConfig {
        allow_private: false,
        private_allowlist: vec![format!("127.0.0.1:{}", site.port())],
        ..loopback()
    });

    let page = guarded.fetch(&site.url("/")).await.expect("the allow-listed fixture is reachable");
    assert_eq!(page.status, 200);

    let to_internal = site.url(&format!("/redirect?to=http://127.0.0.1:{}/", internal.port()));
    let err = guarded.fetch(&to_internal).await.expect_err("redirect to another loopback port");
    assert!(matches!(err, FetchError::PrivateAddress { .. }), "{err:?}");
    assert_eq!(internal.connections(), 0);

    // Refused before connecting: no packet may ever go to 10.0.0.1.
    let err = guarded.fetch(&site.url("/redirect?to=http://10.0.0.1/")).await.expect_err("private");
    assert!(
        matches!(err, FetchError::PrivateAddress { address, .. } if address == IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        "{err:?}"
    );
    assert!(err.url().starts_with("http://10.0.0.1/"));

    let to_name = site.url(&format!("/redirect?to=http://localhost:{}/", internal.port()));
    let err = guarded.fetch(&to_name).await.expect_err("redirect to a name resolving to loopback");
    assert!(matches!(err, FetchError::PrivateAddress { .. }), "{err:?}");
    assert_eq!(internal.connections(), 0);

    // Control: with private targets allowed, the same redirect is followed.
    let open = fetcher(loopback());
    let page = open.fetch(&to_internal).await.expect("followed when allowed");
    assert_eq!(page.url.port(), Some(internal.port()));
    assert_eq!(internal.connections(), 1);
}

#[tokio::test]
async fn non_web_schemes_are_refused() {
    let url = url::Url::parse("file:///etc/passwd").expect("url");
    let err = fetcher(loopback()).fetch(&url).await.expect_err("file URL");
    assert!(matches!(err, FetchError::UnsupportedScheme { .. }), "{err:?}");
}

#[tokio::test]
async fn an_endless_calendar_ends_at_the_page_cap() {
    let site = Fixture::start().await;
    let fetcher = fetcher(loopback());
    let config = FrontierConfig { max_pages: 25, max_depth: 10_000 };
    let mut frontier = Frontier::new(&site.url("/cal?d=0"), config).expect("frontier");
    let mut fetched = 0;
    while let Some(next) = frontier.pop() {
        let page = fetcher.fetch(&next.url).await.expect("calendar page");
        fetched += 1;
        assert!(fetched <= 25, "the crawl must stop at the page cap");
        for link in extract_links(&page.body, &page.url) {
            frontier.push(&link.url, next.depth + 1);
        }
    }
    assert_eq!(fetched, 25);
    assert!(frontier.capped());
    assert_eq!(frontier.admitted(), 25);
    // `#today` links back to the same day and must not be fetched twice.
    assert_eq!(site.hits("/cal?d=0"), 1);
}

#[tokio::test]
async fn a_small_site_is_crawled_once_per_page_and_stays_on_its_host() {
    let site = Fixture::start().await;
    let fetcher = fetcher(loopback());
    let mut frontier = Frontier::new(&site.url("/"), FrontierConfig::default()).expect("frontier");
    let mut admissions = Vec::new();
    while let Some(next) = frontier.pop() {
        let page = fetcher.fetch(&next.url).await.expect("page");
        for link in extract_links(&page.body, &page.url) {
            admissions.push(frontier.push(&link.url, next.depth + 1));
        }
    }
    assert_eq!(admissions, [Admission::Queued, Admission::Duplicate, Admission::OffSite]);
    assert_eq!(site.hits("/news/"), 1);
    assert!(!frontier.capped());
}

#[tokio::test]
async fn malformed_html_still_yields_its_links() {
    let site = Fixture::start().await;
    let page = fetcher(loopback()).fetch(&site.url("/malformed")).await.expect("page");
    let links = extract_links(&page.body, &page.url);
    let paths: Vec<&str> = links.iter().map(|l| l.url.path()).collect();
    assert_eq!(paths, ["/a", "/b"]);
}
