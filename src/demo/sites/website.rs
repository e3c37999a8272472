//! The pages of one demo unit's website, rendered on request from the unit's planned state and
//! the era's as-of day. A healthy site passes every check of the shipped profile; each planned
//! defect changes exactly the page a check looks at, the way real sites go wrong.
//!
//! Paths: `/` home, `/col/N/` required columns and `/col/N/M.html` their articles, `/hd/` the
//! consultation column, `/report/YYYY.html` annual reports, `/about/`, `/zt/N/` dead topic pages
//! (404), `/dzjg.png` the badge image.

use chrono::{Datelike, Days, NaiveDate};

use super::Page;
use crate::crawl::profile::{Cadence, ColumnSpec, IdentityItem};
use crate::demo::plan::{Spam, UnitState};
use crate::model::Unit;

/// Articles listed on each column page.
const ARTICLES_PER_COLUMN: usize = 3;
/// The gambling brand injected into the reference city's own 2009 report page (the seed).
const INJECTED_BRAND: &str = "bob最新官网";
/// Link texts of topic pages that have since been taken down (the broken links).
const DEAD_TOPICS: [&str; 6] = [
    "2018年重点工作专题",
    "财政预决算公开专栏（旧版）",
    "在线访谈",
    "网上调查",
    "历史文件库",
    "创建文明城市专题",
];

/// What a website page is rendered from.
pub(in crate::demo) struct SiteView<'a> {
    pub unit: &'a Unit,
    /// The unit's position in the registry: varies wording, dates and numbers between sites.
    pub index: usize,
    pub state: &'a UnitState,
    pub as_of: NaiveDate,
    pub columns: &'a [ColumnSpec],
    pub identity: &'a [IdentityItem],
}

impl SiteView<'_> {
    /// The page at `path`; `spider` when the request came from a search engine's crawler.
    pub(crate) fn render(&self, path: &str, spider: bool) -> Page {
        let path = path.split(['?', '#']).next().unwrap_or("/");
        let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Page::html(self.home(spider)),
            ["col", column] => self.column_index(column).map_or_else(Page::not_found, |c| self.column(c)),
            ["col", column, article] => match (self.column_index(column), article.strip_suffix(".html")) {
                (Some(c), Some(n)) if n.parse::<usize>().is_ok_and(|n| n < ARTICLES_PER_COLUMN) => {
                    Page::html(self.article(c, n.parse().unwrap_or(0)))
                }
                _ => Page::not_found(),
            },
            ["hd"] => Page::html(self.consultation()),
            ["hd", message] if message.ends_with(".html") => Page::html(self.message(message)),
            ["report", file] => match file.strip_suffix(".html").and_then(|y| y.parse::<i32>().ok()) {
                Some(year) if self.reports().contains(&year) => Page::html(self.report(year)),
                _ => Page::not_found(),
            },
            ["about"] => Page::html(self.about()),
            ["dzjg.png"] => Page::png(),
            _ => Page::not_found(),
        }
    }

    /// The name the site shows in its title and masthead.
    fn shown_name(&self) -> &str {
        if self.state.site.spam == Some(Spam::NameReplaced) {
            "澳门金沙娱乐城官方网站"
        } else {
            &self.unit.name
        }
    }

    fn document(&self, title: &str, head: &str, body: &str) -> String {
        format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title>{head}</head>\
             <body><div class=\"top\"><a href=\"/\">{name}</a></div>{body}</body></html>",
            name = self.shown_name()
        )
    }

    /// Required columns linked from the home page: all but the last `missing_columns`.
    fn linked_columns(&self) -> usize {
        self.columns.len().saturating_sub(self.state.site.missing_columns)
    }

    fn column_index(&self, segment: &str) -> Option<usize> {
        segment.parse::<usize>().ok().filter(|c| *c < self.linked_columns())
    }

    /// The link text a site uses for a column: one of the profile's synonyms, varied by site.
    fn column_text(&self, column: usize) -> &str {
        let synonyms = &self.columns[column].synonyms;
        synonyms.get((self.index + column) % synonyms.len().max(1)).map_or("", String::as_str)
    }

    /// A date `days` before the as-of day, written the way this site writes dates.
    fn date(&self, days: u64) -> String {
        let day = self.as_of.checked_sub_days(Days::new(days)).unwrap_or(self.as_of);
        match self.index % 3 {
            0 => day.format("%Y-%m-%d").to_string(),
            1 => format!("{}年{}月{}日", day.year(), day.month(), day.day()),
            _ => day.format("%Y/%m/%d").to_string(),
        }
    }

    /// Small per-site offset, so that sites are not updated on the same days.
    fn jitter(&self) -> u64 {
        (self.index % 4) as u64
    }

    fn home(&self, spider: bool) -> String {
        let site = &self.state.site;
        let nav: String = (0..self.linked_columns())
            .map(|c| format!("<li><a href=\"/col/{c}/\">{}</a></li>", self.column_text(c)))
            .collect();
        // Healthy home pages range from yesterday to nine days old: the older ones lose a
        // point or two for slow updates without being stale.
        let newest = if site.stale_home { 24 + 3 * self.jitter() } else { 1 + (self.index * 7 % 10) as u64 };
        let news: String = (0..4u64)
            .map(|i| {
                let (column, article) = (0, i as usize % ARTICLES_PER_COLUMN);
                let title = self.article_title(column, article);
                let date = if self.index % 4 == 3 {
                    let day = self.as_of.checked_sub_days(Days::new(newest + 3 * i)).unwrap_or(self.as_of);
                    format!("[{}]", day.format("%m-%d"))
                } else {
                    self.date(newest + 3 * i)
                };
                let href = if self.linked_columns() > 0 {
                    format!("/col/{column}/{article}.html")
                } else {
                    "/about/".to_owned()
                };
                format!("<li><a href=\"{href}\">{title}</a> <span class=\"date\">{date}</span></li>")
            })
            .collect();
        let reports: String = self
            .reports()
            .iter()
            .map(|y| {
                format!(
                    "<li><a href=\"/report/{y}.html\">{}{y}年政府信息公开工作年度报告</a></li>",
                    self.unit.name
                )
            })
            .collect();
        let dead: String = (0..site.broken_links)
            .map(|k| format!("<li><a href=\"/zt/{k}/\">{}</a></li>", DEAD_TOPICS[k % DEAD_TOPICS.len()]))
            .collect();
        let footer: String = self
            .identity
            .iter()
            .enumerate()
            .filter(|(i, _)| !site.missing_identity.contains(i))
            .map(|(_, item)| self.identity_item(item))
            .collect::<Vec<_>>()
            .join(" ");
        let (head, injected) = self.spam_markup(spider);
        let body = format!(
            "<header><h1>{name}</h1></header>\
             <ul class=\"nav\"><li><a href=\"/\">首页</a></li>{nav}<li><a href=\"/about/\">机构概况</a></li>\
             <li><a href=\"/hd/\">咨询留言</a></li></ul>\
             <div class=\"news\"><h2>最新动态</h2><ul>{news}</ul></div>\
             <div class=\"topics\"><h2>专题专栏</h2><ul>{reports}{dead}</ul></div>\
             <div class=\"links\"><a href=\"http://www.gov.cn/\">中国政府网</a> \
             <a href=\"http://www.gxzf.gov.cn/\">广西壮族自治区人民政府门户网站</a></div>\
             {injected}<footer>{footer}</footer>",
            name = self.shown_name()
        );
        self.document(self.shown_name(), &head, &body)
    }

    /// Markup injected into the home page: `(in the head, in the body)`.
    fn spam_markup(&self, spider: bool) -> (String, String) {
        let none = (String::new(), String::new());
        match self.state.site.spam {
            // Both live in the pages' own text, not in extra markup.
            None | Some(Spam::NameReplaced | Spam::InjectedBrand) => none,
            Some(Spam::Lexicon) => (
                String::new(),
                "<div class=\"friend\">友情链接：<a href=\"http://www.amxpj-demo.example.com/\">\
                 &lt;b&gt;澳门新葡京&lt;/b&gt;</a> 注册送彩金，线上娱乐平台</div>"
                    .to_owned(),
            ),
            Some(Spam::HiddenLink) => (
                String::new(),
                "<div style=\"display:none\"><a href=\"http://www.bet-demo.example.com/\">\
                 &lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;百家乐&lt;/b&gt;在线</a></div>"
                    .to_owned(),
            ),
            Some(Spam::HiddenFrame) => (
                String::new(),
                "<iframe src=\"http://www.casino-demo.example.com/ad.html\" width=\"0\" height=\"0\" \
                 frameborder=\"0\"></iframe>"
                    .to_owned(),
            ),
            Some(Spam::ScriptLink) => (
                String::new(),
                "<script>document.write('<a href=\"http://www.sbo-demo.example.com/\" \
                 style=\"color:#fff\">真人娱乐</a>');</script>"
                    .to_owned(),
            ),
            Some(Spam::MetaRefresh) => (
                "<meta http-equiv=\"refresh\" content=\"60; url=http://www.jump-demo.example.com/\">".to_owned(),
                String::new(),
            ),
            Some(Spam::Cloaking) if spider => (
                String::new(),
                "<div class=\"seo\"><a href=\"http://www.ag-demo.example.com/\">AG真人 百家乐 注册送彩金</a></div>"
                    .to_owned(),
            ),
            Some(Spam::Cloaking) => none,
        }
    }

    /// One footer item, written as real sites write it; an item the demo does not know is
    /// shown by its first pattern.
    fn identity_item(&self, item: &IdentityItem) -> String {
        let n = self.index + 1;
        match item.name.as_str() {
            "网站标识码" => format!("<span>网站标识码：{}</span>", 4_501_000_000u64 + n as u64),
            "ICP 备案号" => {
                format!("<a href=\"https://beian.miit.gov.cn/\">桂ICP备{:08}号</a>", 10_000_000 + n)
            }
            "公安机关备案号" => {
                format!(
                    "<a href=\"http://www.beian.gov.cn/\">桂公网安备 {}号</a>",
                    45_010_202_000_000u64 + n as u64
                )
            }
            "党政机关网站标识" => format!(
                "<a href=\"http://bszs.conac.cn/sitename?id={n}\"><img src=\"/dzjg.png\" alt=\"党政机关\"></a>"
            ),
            "主办单位" => format!("<span>主办单位：{}</span>", self.unit.name),
            _ => format!("<span>{}</span>", item.patterns.first().map_or("", String::as_str)),
        }
    }

    /// Annual reports the site links: last year's and the year before, or only the older one.
    fn reports(&self) -> Vec<i32> {
        let last = self.as_of.year() - 1;
        if self.state.site.no_annual_report { vec![last - 1] } else { vec![last, last - 1] }
    }

    /// Days before the as-of day of a column's articles, newest first.
    fn column_ages(&self, column: usize) -> [u64; ARTICLES_PER_COLUMN] {
        let stale = column < self.state.site.stale_columns;
        let j = self.jitter();
        let newest = match (self.columns[column].cadence, stale) {
            (Cadence::News, false) => 1 + j,
            (Cadence::News, true) => 30 + 9 * j,
            (Cadence::Notice | Cadence::Policy, false) => 12 + 7 * j,
            (Cadence::Notice | Cadence::Policy, true) => 210 + 11 * j,
            (_, false) => 40 + 13 * j,
            (_, true) => 400 + 17 * j,
        };
        let step = match self.columns[column].cadence {
            Cadence::News => 6,
            Cadence::Notice | Cadence::Policy => 35,
            _ => 90,
        };
        [newest, newest + step, newest + 2 * step]
    }

    /// The column a planned empty column empties: the last linked one that is a list (a
    /// presence-only column such as the guide is one document and cannot be "empty").
    fn emptied_column(&self) -> Option<usize> {
        if !self.state.site.empty_column {
            return None;
        }
        emptied_column(&self.columns[..self.linked_columns()])
    }

    fn column(&self, column: usize) -> Page {
        let name = self.column_text(column);
        let empty = self.emptied_column() == Some(column);
        let items: String = if empty {
            "<p class=\"empty\">暂无信息</p>".to_owned()
        } else {
            let rows: String = self
                .column_ages(column)
                .iter()
                .enumerate()
                .map(|(n, days)| {
                    format!(
                        "<li><a href=\"/col/{column}/{n}.html\">{}</a> <span class=\"date\">{}</span></li>",
                        self.article_title(column, n),
                        self.date(*days)
                    )
                })
                .collect();
            format!("<ul class=\"list\">{rows}</ul>")
        };
        let body =
            format!("<div class=\"crumb\"><a href=\"/\">首页</a> &gt; {name}</div><h2>{name}</h2>{items}");
        Page::html(self.document(&format!("{name} - {}", self.shown_name()), "", &body))
    }

    fn article_title(&self, column: usize, n: usize) -> String {
        let short = short_name(&self.unit.name);
        let titles: [String; 3] = match self.columns.get(column).map(|c| c.cadence) {
            Some(Cadence::News) | None => [
                format!("{short}召开第四季度重点工作推进会"),
                format!("{short}开展政务公开专题培训"),
                format!("市领导到{short}调研指导工作"),
            ],
            Some(Cadence::Notice) => [
                "关于开展政府信息公开工作年度考评的通知".to_owned(),
                format!("{short}关于公布权责清单的公告"),
                "关于调整对外办公时间的通知".to_owned(),
            ],
            Some(Cadence::Policy) => [
                format!("{short}关于印发《政府信息公开工作规程》的通知"),
                "关于进一步规范行政执法行为的实施意见".to_owned(),
                "关于印发依申请公开办理细则的通知".to_owned(),
            ],
            Some(Cadence::Plan) => [
                format!("{short}年度工作要点"),
                format!("{short}“十四五”发展规划中期评估报告"),
                format!("{short}上年度工作总结"),
            ],
            Some(_) => [
                "干部任前公示".to_owned(),
                format!("{short}公开招聘工作人员公告"),
                "关于人员任免的通知".to_owned(),
            ],
        };
        let title = titles[n % titles.len()].clone();
        if self.is_hacked_article(column, n) { format!("{title}{INJECTED_BRAND}") } else { title }
    }

    /// The news article a seed-style hack rewrote: the newest one of the first column.
    fn is_hacked_article(&self, column: usize, n: usize) -> bool {
        self.state.site.spam == Some(Spam::InjectedBrand) && column == 0 && n == 0
    }

    fn article(&self, column: usize, n: usize) -> String {
        let title = self.article_title(column, n);
        // The seed's placements: before the first paragraph and in the middle of a sentence.
        let (lead, splice) =
            if self.is_hacked_article(column, n) { (INJECTED_BRAND, INJECTED_BRAND) } else { ("", "") };
        let body = format!(
            "<h2>{title}</h2><div class=\"info\">来源：{name} 发布日期：{date}</div>\
             <div class=\"content\"><p>{lead}为深入贯彻《中华人民共和国政府信息公开条例》，{name}认真落实各项工作部署，\
             进一步做好政府信息主动公开、依申请公开和政策解读工作，{splice}切实保障人民群众的知情权、参与权和监督权。</p></div>\
             <p><a href=\"/col/{column}/\">返回列表</a></p>",
            name = self.unit.name,
            date = self.date(self.column_ages(column)[n])
        );
        self.document(&format!("{title} - {}", self.shown_name()), "", &body)
    }

    /// The consultation column: answered messages, one recent message still waiting (within
    /// the limit), and the planned unanswered ones beyond it.
    fn consultation(&self) -> String {
        let mut rows = vec![
            (1, "咨询社保卡补办流程", 200, "已回复"),
            (2, "咨询政府信息公开申请方式", 75, "已回复"),
            (3, "反映小区道路照明问题", 9 + self.jitter(), "待回复"),
        ];
        let unanswered = ["咨询低保申请条件", "反映噪音扰民问题", "咨询公租房申请进度"];
        for k in 0..self.state.site.unanswered {
            rows.push((4 + k, unanswered[k % unanswered.len()], 110 + 25 * k as u64, "未回复"));
        }
        let body: String = rows
            .iter()
            .map(|(n, title, days, status)| {
                format!(
                    "<tr><td><a href=\"/hd/{n}.html\">{title}</a></td><td>{}</td><td>{status}</td></tr>",
                    self.date(*days)
                )
            })
            .collect();
        let body = format!(
            "<h2>咨询留言</h2><table class=\"messages\"><tr><th>标题</th><th>留言时间</th><th>状态</th></tr>{body}</table>"
        );
        self.document(&format!("咨询留言 - {}", self.shown_name()), "", &body)
    }

    fn message(&self, file: &str) -> String {
        let body = format!(
            "<h2>留言详情</h2><p>留言编号：{}</p><p>答复单位：{}</p>",
            file.trim_end_matches(".html"),
            self.unit.name
        );
        self.document(&format!("留言详情 - {}", self.shown_name()), "", &body)
    }

    /// The unit's complete report for `year`, its narrative its own, its planned defect applied.
    fn report(&self, year: i32) -> String {
        super::report::unit_report(&self.unit.name, year, self.index, self.state.site.report_defect).html()
    }

    fn about(&self) -> String {
        let body = format!(
            "<h2>机构概况</h2><p>{}负责本系统政府信息公开工作的组织协调，办公室设专人负责信息公开日常工作。</p>",
            self.unit.name
        );
        self.document(&format!("机构概况 - {}", self.shown_name()), "", &body)
    }
}

/// The last of `linked` columns whose content is judged: where a planned empty column goes.
pub(in crate::demo) fn emptied_column(linked: &[ColumnSpec]) -> Option<usize> {
    linked.iter().rposition(|c| c.cadence.judges_content())
}

/// A unit's name without the city prefix, for headlines.
pub(in crate::demo) fn short_name(name: &str) -> &str {
    name.strip_prefix("南宁市").filter(|rest| !rest.is_empty()).unwrap_or(name)
}
