//! The pages of one demo unit's disclosure catalogue (政府信息公开目录), in the city's standard
//! form (DESIGN.md §5): a root listing the classes, class pages with a table and 下一页, and a
//! page per entry. Entries are generated from the unit's planned state, so a healthy catalogue
//! has every required class, valid index numbers and a steady monthly cadence.
//!
//! Paths (under the catalogue root `/xxgk/`): `/xxgk/` root, `/xxgk/cK/P.html` page P of class
//! K, `/xxgk/doc/SERIAL.html` an entry.

use chrono::{Datelike, Days, NaiveDate};

use super::Page;
use super::website::short_name;
use crate::demo::plan::UnitState;
use crate::model::{Unit, UnitKind};

/// The catalogue root's path; units' `catalogue_url` points here.
pub(in crate::demo) const ROOT: &str = "/xxgk/";
/// Rows per class page: the first class of every catalogue runs to a second page.
const PAGE_SIZE: usize = 6;
/// Days a healthy catalogue's entries span: one entry every two to five weeks.
const SPAN_DAYS: u64 = 540;
/// The longest silence of a steady catalogue that paused once (days).
const PAUSE_DAYS: u64 = 65;
/// An organisation code that belongs to no demo unit (index numbers naming another unit).
const FOREIGN_ORG: &str = "45010000X";

/// What a catalogue page is rendered from.
pub(in crate::demo) struct CatalogueView<'a> {
    pub unit: &'a Unit,
    pub index: usize,
    pub state: &'a UnitState,
    pub as_of: NaiveDate,
    /// The classes the unit's kind owes, in profile order.
    pub classes: &'a [String],
}

/// One generated entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::demo) struct Entry {
    pub class: usize,
    pub serial: usize,
    pub index_no: String,
    pub title: String,
    pub publisher: String,
    pub date: NaiveDate,
    pub doc_no: String,
}

impl CatalogueView<'_> {
    pub(crate) fn render(&self, path: &str) -> Page {
        let defects = &self.state.catalogue;
        let path = path.split(['?', '#']).next().unwrap_or(ROOT);
        let Some(rest) = path.strip_prefix(ROOT) else { return Page::not_found() };
        if defects.root_missing {
            return Page::not_found();
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] | ["index.html"] => Page::html(self.root()),
            ["doc", file] => match file.strip_suffix(".html").and_then(|s| s.parse::<usize>().ok()) {
                Some(serial) => self
                    .entries()
                    .iter()
                    .find(|e| e.serial == serial)
                    .map_or_else(Page::not_found, |e| Page::html(self.entry_page(e))),
                None => Page::not_found(),
            },
            [class, file] => {
                let class = class.strip_prefix('c').and_then(|k| k.parse::<usize>().ok());
                let page = file.strip_suffix(".html").and_then(|p| p.parse::<usize>().ok());
                match (class, page) {
                    (Some(class), Some(page)) if class < self.linked_classes() && page >= 1 => {
                        if defects.broken_class && class == 1 {
                            Page::status(500, "服务器内部错误")
                        } else {
                            self.class_page(class, page)
                        }
                    }
                    _ => Page::not_found(),
                }
            }
            _ => Page::not_found(),
        }
    }

    /// Classes linked from the root: all but the last `missing_classes`.
    fn linked_classes(&self) -> usize {
        self.classes.len().saturating_sub(self.state.catalogue.missing_classes)
    }

    /// The linked class left without entries, if the plan empties one.
    fn emptied_class(&self) -> Option<usize> {
        (self.state.catalogue.empty_class && self.linked_classes() > 2).then(|| self.linked_classes() - 1)
    }

    fn document(&self, title: &str, body: &str) -> String {
        format!(
            "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><div class=\"top\">{name} · 政府信息公开目录</div>{body}</body></html>",
            name = self.unit.name
        )
    }

    fn root(&self) -> String {
        let entries = self.entries();
        let links: String = (0..self.linked_classes())
            .map(|k| {
                let count = entries.iter().filter(|e| e.class == k).count();
                format!("<li><a href=\"c{k}/1.html\">{}</a> ({count})</li>", self.classes[k])
            })
            .collect();
        let body = format!(
            "<h2>政府信息公开目录</h2><p>本目录按市政府信息公开目录编制规则编制。</p><ul class=\"classes\">{links}</ul>"
        );
        self.document(&format!("{}政府信息公开目录", self.unit.name), &body)
    }

    fn class_page(&self, class: usize, page: usize) -> Page {
        let entries: Vec<Entry> = self.entries().into_iter().filter(|e| e.class == class).collect();
        let pages = entries.len().div_ceil(PAGE_SIZE).max(1);
        if page > pages {
            return Page::not_found();
        }
        let rows: String = entries
            .iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|e| {
                format!(
                    "<tr><td>{}</td><td><a href=\"../doc/{}.html\">{}</a></td><td>{}</td><td>{}</td><td>{}</td>\
                     <td>{}</td><td>{}</td><td>{}</td></tr>",
                    e.index_no,
                    e.serial,
                    e.title,
                    e.publisher,
                    e.date.format("%Y-%m-%d"),
                    e.doc_no,
                    topic(e.class),
                    genre(e.serial),
                    service(e.serial)
                )
            })
            .collect();
        let rows =
            if rows.is_empty() { "<tr><td colspan=\"8\">暂无信息</td></tr>".to_owned() } else { rows };
        let pager = if page < pages {
            format!("<div class=\"pager\">共 {pages} 页 <a href=\"{}.html\">下一页</a></div>", page + 1)
        } else {
            format!("<div class=\"pager\">共 {pages} 页</div>")
        };
        let name = &self.classes[class];
        let body = format!(
            "<table class=\"nav\"><tr><td><a href=\"../\">目录首页</a> &gt; {name}</td></tr></table>\
             <table class=\"list\"><tr><th>索引号</th><th>名称</th><th>发布机构</th><th>生成日期</th><th>文号</th>\
             <th>主题分类</th><th>体裁分类</th><th>服务对象分类</th></tr>{rows}</table>{pager}"
        );
        Page::html(self.document(&format!("{name} - {}政府信息公开目录", self.unit.name), &body))
    }

    fn entry_page(&self, entry: &Entry) -> String {
        let body = format!(
            "<h2>{title}</h2><table class=\"meta\"><tr><td>索引号：{index}</td><td>发布机构：{publisher}</td></tr>\
             <tr><td>生成日期：{date}</td><td>文号：{doc}</td></tr></table>\
             <div class=\"content\"><p>{title}全文。</p></div>",
            title = entry.title,
            index = entry.index_no,
            publisher = entry.publisher,
            date = entry.date.format("%Y-%m-%d"),
            doc = entry.doc_no
        );
        self.document(&entry.title, &body)
    }

    /// How many entries the catalogue holds: government bodies publish more than institutions.
    fn entry_count(&self) -> usize {
        match self.unit.kind {
            UnitKind::Department | UnitKind::District | UnitKind::Devzone => 32,
            UnitKind::Institution | UnitKind::Authorised => 16,
        }
    }

    /// Every entry, newest first, with the planned defects applied.
    pub(crate) fn entries(&self) -> Vec<Entry> {
        let defects = &self.state.catalogue;
        let count = self.entry_count();
        let jitter = 2 + (self.index % 5) as u64;
        let step = SPAN_DAYS / count as u64;
        let mut ages: Vec<u64> = (0..count as u64)
            .map(|e| {
                if defects.bursty {
                    // Three bursts of two-day steps, about half a year apart.
                    jitter + (e % 3) * 190 + (e / 3) * 2
                } else if defects.stale {
                    120 + jitter + e * step
                } else {
                    jitter + e * step
                }
            })
            .collect();
        // A third of the steady catalogues paused for about two months once: enough for the
        // city rule set's first on-and-off deduction, not for a laggard flag.
        let paused = self.index % 3 == 1 && !defects.bursty && !defects.stale && !defects.broken_class;
        if paused && step < PAUSE_DAYS {
            for age in ages.iter_mut().skip(count / 2) {
                *age += PAUSE_DAYS - step;
            }
        }
        ages.sort_unstable();
        // Entries go to the classes the root links, so a missing class shows as missing, not
        // as a gap in the catalogue's cadence.
        let classes = self.linked_classes().max(1);
        let emptied = self.emptied_class();
        let code = self.index_org();
        let mut entries: Vec<Entry> = ages
            .iter()
            .enumerate()
            .map(|(e, age)| {
                let date = self.as_of.checked_sub_days(Days::new(*age)).unwrap_or(self.as_of);
                let serial = count - e;
                // Every other entry goes to the first class, which then runs to several pages.
                let class = if e % 2 == 0 || classes == 1 { 0 } else { 1 + (e / 2) % (classes - 1) };
                let class = if Some(class) == emptied { 0 } else { class };
                Entry {
                    class,
                    serial,
                    index_no: format!("{code}/{}-{serial:05}", date.year()),
                    title: entry_title(&self.unit.name, &self.classes[class], serial),
                    publisher: self.unit.name.clone(),
                    date,
                    doc_no: format!("{}〔{}〕{}号", doc_prefix(&self.unit.name), date.year(), serial),
                }
            })
            .collect();
        // Index numbers that break the grammar, name another unit or the wrong year: the
        // oldest entries, every other one.
        let invalid = defects.invalid_index.min(count / 2);
        for j in 0..invalid {
            let entry = &mut entries[count - 1 - 2 * j];
            let year = entry.date.year();
            entry.index_no = match j % 4 {
                0 => format!("{code}/{}-{:05}", year - 1, entry.serial),
                1 => format!("{year}-{:05}", entry.serial),
                2 => format!("{FOREIGN_ORG}/{year}-{:05}", entry.serial),
                _ => format!("{code}-{year}-{:03}", entry.serial),
            };
        }
        // Two recent entries of the first class (always linked, never the broken one).
        if defects.duplicate_index && count > 5 {
            entries[4].index_no = entries[2].index_no.clone();
        }
        for j in 0..defects.metadata_missing.min(count / 2) {
            let entry = &mut entries[count - 2 - 2 * j];
            entry.publisher.clear();
            if j == 0 {
                entry.index_no.clear();
            }
        }
        entries
    }

    /// The organisation code a unit writes in its index numbers: half of the units with a
    /// credit code use the nine-character organisation code inside it, as the grammar allows.
    fn index_org(&self) -> &str {
        if self.index.is_multiple_of(2) {
            self.unit.code.organisation_part()
        } else {
            self.unit.code.as_str()
        }
    }
}

fn entry_title(unit: &str, class: &str, serial: usize) -> String {
    let short = short_name(unit);
    match serial % 4 {
        0 => format!("{short}{class}信息（第{serial}期）"),
        1 => format!("{short}关于公开{class}事项的通知"),
        2 => format!("{short}{class}工作情况公告"),
        _ => format!("关于印发{short}{class}管理办法的通知"),
    }
}

/// The issuing prefix of document numbers (文号), e.g. 邕教发 — made from the unit's name.
fn doc_prefix(unit: &str) -> String {
    let first: String = short_name(unit).chars().take(2).collect();
    format!("邕{first}发")
}

fn topic(class: usize) -> &'static str {
    ["综合政务", "城乡建设", "财政金融", "劳动人事", "科技教育", "卫生健康"][class % 6]
}

fn genre(serial: usize) -> &'static str {
    ["通知", "公告", "意见", "报告", "办法"][serial % 5]
}

fn service(serial: usize) -> &'static str {
    ["公众", "企业", "社会组织"][serial % 3]
}
