//! Visible injection (issue #10) against fixture websites served on 127.0.0.1: the reference
//! city's hacked 2009 report rebuilt from its capture, unseen brands of other shapes in other
//! placements, and the government's own pages that use the same words legitimately.

use std::collections::HashMap;

use chrono::{NaiveDate, TimeZone, Utc};
use gongkai::crawl::profile::SiteProfile;
use gongkai::crawl::site::{CrawlEnv, CrawlProgress, SiteOutcome, crawl_site};
use gongkai::model::{Finding, OrgCode, Unit, UnitKind};
use serde_json::{Value, json};

use crate::page_server::{Answer, PageServer};
use crate::support::credit_code;

const NAME: &str = "南宁市人民政府办公室";

/// A running fixture website (path → HTML); stops when dropped.
struct Server(PageServer);

impl Server {
    async fn start(pages: HashMap<String, String>) -> Server {
        Server(
            PageServer::start(move |request| match pages.get(&request.path) {
                Some(body) => Answer::html(body.clone()),
                None => Answer::status(404),
            })
            .await,
        )
    }

    fn url(&self, path: &str) -> String {
        self.0.url(path)
    }
}

async fn crawl(pages: HashMap<String, String>, name: &str) -> (SiteOutcome, Server) {
    let server = Server::start(pages).await;
    let mut profile = SiteProfile::builtin().expect("profile");
    profile.fetch.min_gap_ms = 0;
    profile.fetch.total_timeout_secs = 5;
    profile.spam.cloaking.enabled = false;
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    let observed = Utc.with_ymd_and_hms(2026, 11, 20, 4, 0, 0).single().expect("time");
    let env = CrawlEnv::new(profile, true, day, observed).expect("environment");
    let unit = Unit {
        code: OrgCode::parse(&credit_code(7)).expect("code"),
        name: name.to_owned(),
        kind: UnitKind::Department,
        parent_code: None,
        website: Some(server.url("/")),
        catalogue_url: None,
        email: None,
    };
    (crawl_site(&env, &unit, &CrawlProgress::default()).await, server)
}

fn spam(outcome: &SiteOutcome) -> Vec<&Finding> {
    outcome.findings.iter().filter(|f| f.check == "content.spam").collect()
}

fn injected(outcome: &SiteOutcome) -> Vec<&Finding> {
    spam(outcome).into_iter().filter(|f| f.detail["technique"] == "injected phrase").collect()
}

fn page(title: &str, body: &str) -> String {
    format!("<html><head><title>{title}</title></head><body>{body}</body></html>")
}

/// A home page with the unit's name, a news column and items linking to articles.
fn home(name: &str, items: &[(&str, &str)], extra: &str) -> String {
    let list: String = items
        .iter()
        .map(|(href, text)| format!("<li><a href=\"{href}\">{text}</a> <span>11-18</span></li>"))
        .collect();
    page(
        name,
        &format!(
            "<header><h1>{name}</h1></header><ul class=\"nav\"><li><a href=\"/\">首页</a></li>\
             <li><a href=\"/xwzx/\">新闻中心</a></li></ul><ul class=\"news\">{list}</ul>{extra}\
             <footer>主办单位：{name}</footer>"
        ),
    )
}

/// The news column's list page.
fn column(items: &[(&str, &str)]) -> String {
    let list: String = items
        .iter()
        .map(|(href, text)| format!("<li><a href=\"{href}\">{text}</a> <span>2026-11-18</span></li>"))
        .collect();
    page(
        "新闻中心",
        &format!(
            "<div class=\"position\">当前位置：<a href=\"/\">主页</a> &gt; 新闻中心</div><ul>{list}</ul>"
        ),
    )
}

/// An article page: title, heading, meta line and paragraphs, as the hacked report has them.
fn article(title: &str, heading: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    page(
        title,
        &format!(
            "<div class=\"position\">当前位置: <a href=\"/\">主页</a> &gt; 信息公开 &gt; <a href=\"/xwzx/\">新闻中心</a></div>\
             <h1>{heading}</h1><div class=\"info\">发布时间:2022-10-04 07:50:26 人气: 作者:admin</div>\
             <div class=\"content\">{body}</div>"
        ),
    )
}

fn placements(finding: &Finding) -> Vec<Value> {
    finding.detail["placements"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_hacked_2009_report_is_found_in_every_placement() {
    const HACKED: &str = "南宁市2009年政府信息公开工作报告bob最新官网";
    let mut pages = HashMap::new();
    pages.insert("/".to_owned(), home(NAME, &[("/xwzx/2022/1004.html", HACKED)], ""));
    pages.insert(
        "/xwzx/".to_owned(),
        column(&[("/xwzx/2022/1004.html", HACKED), ("/xwzx/2022/1001.html", "市政府召开常务会议")]),
    );
    pages.insert(
        "/xwzx/2022/1004.html".to_owned(),
        article(
            HACKED,
            HACKED,
            &[
                "bob最新官网本报告根据《中华人民共和国政府信息公开条例》(以下简称《条例》)要求,由南宁市人民政府办公厅编制。\
                 进一步加强领导,完善制度建设,丰富公开形式,bob最新官网将政府信息公开各项工作引向深入。",
                "在自治区召开了实施《条例》准备工作会议后,市委、市政府领导高度重视,立即组织相关部门进行了研究和部署。",
                "我市在市政府门户网站上建设的“政民互动”平台开设了《政风行风面对面》、《南宁生活指南》、bob最新官网《政协提案》等大型栏目。",
                "制定宣传计划,充分利用报社、bob最新官网电视台、公开栏、电子信息屏、触摸屏等形式宣传政府信息公开工作的重要意义。",
            ],
        ),
    );
    pages.insert(
        "/xwzx/2022/1001.html".to_owned(),
        article("市政府召开常务会议", "市政府召开常务会议", &["会议研究部署了近期重点工作。"]),
    );
    let (outcome, server) = crawl(pages, NAME).await;
    let found = injected(&outcome);
    assert_eq!(found.len(), 1, "{:#?}", spam(&outcome));
    let finding = found[0];
    let article_url = server.url("/xwzx/2022/1004.html");
    assert_eq!(finding.url.as_deref(), Some(article_url.as_str()));
    assert_eq!(finding.detail["phrase"], "bob最新官网");
    assert_eq!(finding.detail["page"], article_url.as_str());
    assert_eq!(finding.detail["pages"], 3);
    assert!(finding.detail["snippet"].as_str().is_some_and(|s| s.contains("bob最新官网")));
    let placed = placements(finding);
    for expected in [
        json!({ "where": "title" }),
        json!({ "where": "heading" }),
        json!({ "where": "paragraph", "n": 1 }),
        json!({ "where": "paragraph", "n": 3 }),
        json!({ "where": "paragraph", "n": 4 }),
        json!({ "where": "link text", "page": server.url("/xwzx/") }),
        json!({ "where": "link text", "page": server.url("/") }),
    ] {
        assert!(placed.contains(&expected), "{expected} not in {placed:#?}");
    }
    assert!(!placed.contains(&json!({ "where": "paragraph", "n": 2 })), "{placed:#?}");
    // The brand is in no lexicon: no other spam technique fires.
    assert_eq!(spam(&outcome).len(), 1, "{:#?}", spam(&outcome));
}

#[tokio::test]
async fn unseen_brands_in_other_shapes_and_placements_are_found() {
    // (path, title, heading, paragraphs, the phrase expected)
    let articles: [(&str, &str, &str, &[&str], &str); 8] = [
        (
            "/xwzx/a1.html",
            "我市持续优化营商环境",
            "我市持续优化营商环境",
            &["今年以来，我市持续优化营商环境，kaiyun官方网站推动经济高质量发展。", "各部门协同推进。"],
            "kaiyun官方网站",
        ),
        (
            "/xwzx/a2.html",
            "南宁市开展2024年全民健身月活动开云体育官网",
            "南宁市开展2024年全民健身月活动开云体育官网",
            &["全市各级各部门积极组织群众参加健身活动。"],
            "开云体育官网",
        ),
        (
            "/xwzx/a3.html",
            "市政务公开办召开工作推进会",
            "市政务公开办召开工作推进会",
            &["hth登录入口市政务公开办召开工作推进会，部署下一阶段重点工作。"],
            "hth登录入口",
        ),
        (
            "/xwzx/a4.html",
            "关于做好冬季安全生产工作的通知",
            "关于做好冬季安全生产工作的通知乐鱼体育网页版",
            &["各县（区）人民政府，市直各单位：现将有关事项通知如下。"],
            "乐鱼体育网页版",
        ),
        (
            "/xwzx/a5.html",
            "我市推进重大项目建设",
            "我市推进重大项目建设",
            &["今年以来，我市ayx爱游戏app下载加快推进重大项目建设。", "项目进展顺利，成效明显。"],
            "ayx爱游戏app下载",
        ),
        (
            "/xwzx/a6.html",
            "关于印发政务公开工作要点的通知华体会官网",
            "关于印发政务公开工作要点的通知华体会官网",
            &["各单位要认真贯彻落实。"],
            "华体会官网",
        ),
        (
            "/xwzx/a7.html",
            "bob综合体育南宁市召开政务公开工作会议",
            "南宁市召开政务公开工作会议",
            &["会议总结了上一年度的工作。"],
            "bob综合体育",
        ),
        (
            "/xwzx/a8.html",
            "我市扎实推进民生实事",
            "我市扎实推进民生实事",
            &["扎实推进各项民生实事，九游会体育登录入口确保取得实效。", "群众满意度不断提高。"],
            "九游会体育登录入口",
        ),
    ];
    let mut pages = HashMap::new();
    let items: Vec<(&str, &str)> = articles.iter().map(|(path, title, ..)| (*path, *title)).collect();
    pages.insert("/".to_owned(), home(NAME, &items[..3], ""));
    pages.insert("/xwzx/".to_owned(), column(&items));
    for (path, title, heading, paragraphs, _) in &articles {
        pages.insert((*path).to_owned(), article(title, heading, paragraphs));
    }
    let (outcome, server) = crawl(pages, NAME).await;
    let found = injected(&outcome);
    let phrases: Vec<&str> = found.iter().filter_map(|f| f.detail["phrase"].as_str()).collect();
    assert_eq!(found.len(), articles.len(), "{phrases:?}");
    for (path, title, _, _, phrase) in &articles {
        let finding = found
            .iter()
            .find(|f| f.detail["phrase"] == *phrase)
            .unwrap_or_else(|| panic!("{phrase} not found among {phrases:?}"));
        assert_eq!(finding.url.as_deref(), Some(server.url(path).as_str()), "{phrase}");
        // A phrase glued onto the title is in the column list's link text too.
        if title.contains(phrase) {
            let list = json!({ "where": "link text", "page": server.url("/xwzx/") });
            assert!(placements(finding).contains(&list), "{phrase}: {:#?}", placements(finding));
        }
    }
    let where_of = |phrase: &str| -> Vec<Value> {
        found.iter().find(|f| f.detail["phrase"] == phrase).map(|f| placements(f)).unwrap_or_default()
    };
    assert!(where_of("kaiyun官方网站").contains(&json!({ "where": "paragraph", "n": 1 })));
    assert!(where_of("乐鱼体育网页版").contains(&json!({ "where": "heading" })));
    assert!(!where_of("乐鱼体育网页版").contains(&json!({ "where": "title" })));
    assert!(where_of("bob综合体育").contains(&json!({ "where": "title" })));
    assert!(where_of("九游会体育登录入口").contains(&json!({ "where": "paragraph", "n": 1 })));
}

#[tokio::test]
async fn the_governments_own_words_and_crackdown_news_are_not_spam() {
    let articles: [(&str, &str, &[&str]); 4] = [
        (
            "/xwzx/b1.html",
            "我市破获一批网络赌博案件",
            &[
                "市公安局开展打击网络赌博专项行动，破获利用百家乐、六合彩等赌博网站组织赌博的案件12起。",
                "百家乐、六合彩等网络赌博危害大，市民要远离赌博网站。",
                "警方提醒：所谓“百家乐官网”“六合彩平台”都是诈骗陷阱，切勿登录。",
            ],
        ),
        (
            "/xwzx/b2.html",
            "南宁市体育局关于举办2024年全民健身运动会的通知",
            &[
                "为推动群众体育和竞技体育协调发展，市本级体育彩票公益金用于支持全民健身和体育赛事。",
                "详情请登录南宁市体育局官网或南宁体育官网查询，丰富群众体育娱乐生活。",
                "体育彩票公益金使用情况将在南宁市体育局官方网站公示。",
            ],
        ),
        (
            "/xwzx/b3.html",
            "关于推广使用爱南宁APP的通知",
            &[
                "市民可在应用商店搜索“爱南宁”进行APP下载，或登录南宁市人民政府官网、广西政务服务网办理。",
                "爱南宁APP下载量已突破500万次。",
            ],
        ),
        (
            "/xwzx/b4.html",
            "南宁市12345政务服务便民热线2024年工作总结",
            &["南宁市12345政务服务便民热线官方网站已开通，市民可通过12345热线APP下载办理。"],
        ),
    ];
    let unit = "南宁市12345政务服务便民热线";
    let mut pages = HashMap::new();
    let items: Vec<(&str, &str)> = articles.iter().map(|(path, title, _)| (*path, *title)).collect();
    pages.insert(
        "/".to_owned(),
        home(
            unit,
            &items,
            "<div class=\"links\"><a href=\"http://www.nanning.gov.cn/\">南宁市人民政府官网</a>\
             <a href=\"/app/\">爱南宁APP下载</a><a href=\"http://zwfw.gxzf.gov.cn/\">广西政务服务网</a></div>",
        ),
    );
    pages.insert("/xwzx/".to_owned(), column(&items));
    for (path, title, paragraphs) in &articles {
        pages.insert((*path).to_owned(), article(title, title, paragraphs));
    }
    pages.insert("/app/".to_owned(), article("爱南宁APP下载", "爱南宁APP下载", &["扫码即可下载安装。"]));
    let (outcome, _server) = crawl(pages, unit).await;
    assert!(outcome.pages >= 7, "{} pages", outcome.pages);
    assert!(spam(&outcome).is_empty(), "{:#?}", spam(&outcome));
}

#[tokio::test]
async fn injected_ad_copy_with_a_lexicon_word_is_still_spam() {
    let mut pages = HashMap::new();
    pages.insert("/".to_owned(), home(NAME, &[("/xwzx/c1.html", "市政府召开常务会议")], ""));
    pages.insert("/xwzx/".to_owned(), column(&[("/xwzx/c1.html", "市政府召开常务会议")]));
    pages.insert(
        "/xwzx/c1.html".to_owned(),
        article(
            "市政府召开常务会议",
            "市政府召开常务会议",
            &["会议研究部署了近期重点工作。百家乐在线开户，注册送彩金。"],
        ),
    );
    let (outcome, server) = crawl(pages, NAME).await;
    let words: Vec<&str> = spam(&outcome)
        .iter()
        .filter(|f| f.detail["technique"] == "lexicon")
        .filter_map(|f| f.detail["word"].as_str())
        .collect();
    assert_eq!(words, ["百家乐", "注册送彩金"], "{:#?}", spam(&outcome));
    assert!(spam(&outcome).iter().all(|f| f.url.as_deref() == Some(server.url("/xwzx/c1.html").as_str())));
}

#[tokio::test]
async fn a_phrase_in_a_site_wide_template_is_one_finding_naming_every_page() {
    let footer = "<div class=\"footer\">技术支持：bob最新官网</div>";
    let items: Vec<(String, String)> =
        (1..=5).map(|i| (format!("/xwzx/d{i}.html"), format!("市政府召开第{i}次常务会议"))).collect();
    let links: Vec<(&str, &str)> = items.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let mut pages = HashMap::new();
    pages.insert("/".to_owned(), home(NAME, &links, footer));
    pages.insert("/xwzx/".to_owned(), column(&links).replace("</body>", &format!("{footer}</body>")));
    for (path, title) in &items {
        let body = article(title, title, &["会议研究部署了近期重点工作。"]);
        pages.insert(path.clone(), body.replace("</body>", &format!("{footer}</body>")));
    }
    let (outcome, server) = crawl(pages, NAME).await;
    let found = injected(&outcome);
    assert_eq!(found.len(), 1, "{:#?}", spam(&outcome));
    assert_eq!(found[0].detail["phrase"], "bob最新官网");
    assert_eq!(found[0].detail["pages"], 7);
    let base = server.url("");
    let named: Vec<String> = placements(found[0])
        .iter()
        .filter_map(|p| p["page"].as_str())
        .map(|p| p.trim_start_matches(base.as_str()).to_owned())
        .collect();
    assert_eq!(named.len(), 6, "the other six pages are named: {named:?}");
}

/// The two shapes that the accuracy corpus's sports bureau and hidden-menu sites showed as false
/// positives: a headline naming the organiser's own app after a referring verb, carried into
/// the home page and the list, and the statistics snippets government sites embed (CNZZ writes
/// a `<script src>` through `unescape`). A gambling link written by a script is still reported.
#[tokio::test]
async fn an_organisers_own_app_and_statistics_snippets_are_not_spam_but_a_written_link_is() {
    const HEADLINE: &str = "CBA联赛南宁赛区比赛门票开售 市民可通过官方APP购票";
    // A test host, not the allow-listed cnzz.com: the snippet's shape alone must clear it.
    const CNZZ: &str = "<script type=\"text/javascript\">document.write(unescape(\"%3Cspan id='cnzz_stat_icon_1280866'%3E%3C/span%3E%3Cscript src='https://s9.stat-demo.example.com/z_stat.php%3Fid%3D1280866%26show%3Dpic' type='text/javascript'%3E%3C/script%3E\"));</script>";
    const TONGJI: &str = "<script>var _hmt = _hmt || [];(function(){var hm = document.createElement(\"script\");hm.src = \"https://hm.baidu.com/hm.js?5b1c2e3f4a\";var s = document.getElementsByTagName(\"script\")[0];s.parentNode.insertBefore(hm, s);})();</script>";
    let unit = "南宁市体育局";
    let items = [("/xwzx/a1.html", HEADLINE), ("/xwzx/a2.html", "南宁市体育局召开全民健身工作会议")];
    let mut pages = HashMap::new();
    pages.insert("/".to_owned(), home(unit, &items, &format!("{CNZZ}{TONGJI}")));
    pages.insert("/xwzx/".to_owned(), column(&items));
    pages.insert(
        "/xwzx/a1.html".to_owned(),
        article(
            &format!("{HEADLINE}_{unit}"),
            HEADLINE,
            &[
                &format!("为做好相关工作，南宁市体育局近日召开专题会议，研究部署{HEADLINE}有关事项。"),
                "市民可通过官方APP或关注官方网站购票，也可登录官网查询赛程，请下载官方APP实名购票。",
            ],
        ),
    );
    let written = "<script>document.write('<a href=\"http://www.sbo-demo.example.com/\" style=\"color:#fff\">真人娱乐</a>')</script>";
    pages.insert(
        "/xwzx/a2.html".to_owned(),
        article(
            "南宁市体育局召开全民健身工作会议",
            "南宁市体育局召开全民健身工作会议",
            &[written, "会议部署了下一阶段工作。"],
        ),
    );
    let (outcome, server) = crawl(pages, unit).await;
    assert!(outcome.pages >= 4, "{} pages", outcome.pages);
    let found = spam(&outcome);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].detail["technique"], "script-written link");
    assert_eq!(found[0].detail["target"], "http://www.sbo-demo.example.com/");
    assert_eq!(found[0].url.as_deref(), Some(server.url("/xwzx/a2.html").as_str()));
}
