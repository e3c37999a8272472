//! Staying on the unit's site (issue #11): a site crawl never fetches a page on another site
//! (another registrable domain or, for IP addresses and `localhost`, another host) unless the
//! profile allow-lists that host or it is the unit's registered catalogue host; a catalogue
//! crawl never follows a 下一页 to another site. `127.0.0.1` and `localhost` are the same
//! machine but two hosts, so one loopback server plays "another site" and records every request.
//!
//! Subdomains of one registrable domain (`xxgk.nj.gov.cn` beside `www.nj.gov.cn`) cannot be
//! served on loopback without a resolver of our own; the unit tests of `crawl::same_site` and
//! `crawl::frontier` cover them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::crawl::catalogue::{CatalogueProfile, CatalogueProgress, crawl_unit};
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::site::{CrawlProgress, crawl_site};
use gongkai::crawl::{FetchConfig, Fetcher};
use gongkai::model::{OrgCode, Unit, UnitKind};

use crate::catalogue_fixtures::Catalogue;
use crate::politeness::{CountingServer, env, unit};
use crate::support::org_code;

const PAGE: &str =
    "<html><head><meta charset=\"utf-8\"><title>页面</title></head><body><p>内容</p></body></html>";

/// The other site: answers every path, and records it.
async fn other_site() -> CountingServer {
    CountingServer::start(Duration::ZERO, Arc::new(|_: &str| Some(PAGE.to_owned()))).await
}

/// A unit's site on `127.0.0.1` whose home page links to a page of its own and to `/offsite`
/// on the other site, reached as `localhost`.
async fn home_linking_to(other: &CountingServer) -> CountingServer {
    let offsite = other.url("localhost", "/offsite.html");
    let home = format!(
        "<html><head><meta charset=\"utf-8\"><title>测试单位</title></head><body>\
         <a href=\"/own.html\">本站页面</a><a href=\"{offsite}\">外站页面</a></body></html>"
    );
    let respond = move |path: &str| match path {
        "/" => Some(home.clone()),
        "/own.html" => Some(PAGE.to_owned()),
        _ => None,
    };
    CountingServer::start(Duration::ZERO, Arc::new(respond)).await
}

fn profile(follow_hosts: &[&str]) -> SiteProfile {
    let mut profile = SiteProfile::builtin().expect("profile");
    profile.fetch.min_gap_ms = 0;
    profile.fetch.total_timeout_secs = 5;
    profile.links.follow_hosts = follow_hosts.iter().map(|h| (*h).to_owned()).collect();
    profile
}

#[tokio::test]
async fn links_to_another_site_are_not_followed() {
    let other = other_site().await;
    let site = home_linking_to(&other).await;
    let outcome =
        crawl_site(&env(profile(&[])), &unit(1, site.url("127.0.0.1", "/")), &CrawlProgress::default()).await;
    assert!(outcome.reachable);
    assert!(
        site.paths().contains(&"/own.html".to_owned()),
        "the site's own page is crawled: {:?}",
        site.paths()
    );
    assert_eq!(other.paths(), Vec::<String>::new(), "nothing on the other site is fetched");
}

#[tokio::test]
async fn allow_listed_and_catalogue_hosts_are_followed() {
    let other = other_site().await;
    let site = home_linking_to(&other).await;
    let home = site.url("127.0.0.1", "/");
    let outcome =
        crawl_site(&env(profile(&["LocalHost"])), &unit(1, home.clone()), &CrawlProgress::default()).await;
    assert!(outcome.reachable);
    assert_eq!(other.paths(), ["/offsite.html"], "a host in follow_hosts is part of the site");

    let other = other_site().await;
    let site = home_linking_to(&other).await;
    let mut with_catalogue = unit(2, site.url("127.0.0.1", "/"));
    with_catalogue.catalogue_url = Some(other.url("localhost", "/xxgk/index.html"));
    crawl_site(&env(profile(&[])), &with_catalogue, &CrawlProgress::default()).await;
    assert_eq!(other.paths(), ["/offsite.html"], "the registered catalogue's host is part of the site");
}

#[tokio::test]
async fn a_catalogue_never_pages_on_to_another_site() {
    let other = other_site().await;
    let code = org_code(301);
    let profile = CatalogueProfile::builtin().expect("profile");
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    let classes = profile.classes_for(UnitKind::Institution).to_vec();
    let catalogue = Catalogue::complete("d", &code, &classes, 3, as_of);
    let mut pages: HashMap<String, String> = catalogue
        .pages()
        .into_iter()
        .map(|(path, answer)| (path, String::from_utf8(answer.body).expect("utf-8 fixture")))
        .collect();
    // Class 0 pages on to the other site; class 1 pages on to a second page of its own.
    let offsite = other.url("localhost", "/d/c0/2.html");
    let page = pages.get_mut("/d/c0/1.html").expect("class page");
    *page = page.replace("</body>", &format!("<a href=\"{offsite}\">下一页</a></body>"));
    let page = pages.get_mut("/d/c1/1.html").expect("class page");
    *page = page.replace("</body>", "<a href=\"2.html\">下一页</a></body>");
    pages.insert("/d/c1/2.html".to_owned(), pages["/d/c1/1.html"].replace("2.html", "1.html"));
    let pages = Arc::new(pages);
    let site =
        CountingServer::start(Duration::ZERO, Arc::new(move |path: &str| pages.get(path).cloned())).await;

    let fetcher = Fetcher::new(FetchConfig {
        allow_private: true,
        min_gap_ms: 0,
        total_timeout_secs: 5,
        ..FetchConfig::default()
    })
    .expect("fetcher");
    let unit = Unit {
        code: OrgCode::parse(&code).expect("code"),
        name: "南宁市测试单位".into(),
        kind: UnitKind::Institution,
        parent_code: None,
        website: None,
        catalogue_url: Some(site.url("127.0.0.1", &catalogue.root_path())),
        email: None,
    };
    let observed = Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).single().expect("time");
    let outcome = crawl_unit(&fetcher, &profile, &unit, as_of, observed, &CatalogueProgress::default())
        .await
        .expect("unit has a catalogue");
    assert!(outcome.scan.root_error.is_none());
    let seen = site.paths();
    assert!(seen.contains(&"/d/c0/1.html".to_owned()), "{seen:?}");
    assert!(seen.contains(&"/d/c1/2.html".to_owned()), "a 下一页 on the site is followed: {seen:?}");
    assert_eq!(other.paths(), Vec::<String>::new(), "a 下一页 to another site is not followed");
}

/// Pages fetched outside the crawl's order stay on the site too: a required column, the
/// disclosure landing page and a consultation channel linked to another site are not fetched,
/// and the column is found (not missing) but not judged (no empty or stale column from a page
/// the crawler never read).
#[tokio::test]
async fn columns_landing_and_channels_on_another_site_are_not_fetched() {
    let other = other_site().await;
    let profile = profile(&[]);
    let columns = profile.columns_for(UnitKind::Department);
    let mut nav = String::new();
    for (i, column) in columns.iter().enumerate() {
        // The first required column lives on the other site; the rest on the unit's own.
        let href = if i == 0 { other.url("localhost", "/column/") } else { format!("/c{i}/") };
        nav.push_str(&format!("<li><a href=\"{href}\">{}</a></li>", column.synonyms[0]));
    }
    let home = format!(
        "<html><head><meta charset=\"utf-8\"><title>测试单位</title></head><body><ul>{nav}\
         <li><a href=\"{}\">政府信息公开</a></li><li><a href=\"{}\">咨询留言</a></li></ul></body></html>",
        other.url("localhost", "/xxgk/"),
        other.url("localhost", "/hd/"),
    );
    let respond = move |path: &str| if path == "/" { Some(home.clone()) } else { Some(PAGE.to_owned()) };
    let site = CountingServer::start(Duration::ZERO, Arc::new(respond)).await;
    let outcome =
        crawl_site(&env(profile.clone()), &unit(3, site.url("127.0.0.1", "/")), &CrawlProgress::default())
            .await;
    assert!(outcome.reachable);
    assert_eq!(other.paths(), Vec::<String>::new(), "nothing on the other site is fetched");
    let first = &columns[0].name;
    for finding in outcome.findings.iter().filter(|f| f.check.starts_with("column.")) {
        assert_ne!(finding.detail["column"].as_str(), Some(first.as_str()), "{finding:?}");
    }
    // The columns on the site itself were read and judged (their pages list nothing).
    assert!(
        outcome.findings.iter().any(|f| f.check == "column.empty"),
        "{:?}",
        outcome.findings.iter().map(|f| &f.check).collect::<Vec<_>>()
    );
}
