//! The draft of the city's own annual report on government information disclosure (issue #17):
//! the six sections of the national format (`crawlers/annual-report.toml`, the 2021 version),
//! filled from what the platform holds for the year ([`crate::store::annual`]). Every number
//! names the query that counted it; the figures only the office knows (requests, fees,
//! reconsiderations) are left as empty forms with the template's consistency rules beside them.
//!
//! Pure: [`draft`] turns the store's figures and the template into the draft; [`html`] lays it
//! out through the same template engine as the notices. `gongkai report annual` prints it.

use minijinja::{Environment, context};
use serde::Serialize;
use std::collections::BTreeSet;

use super::{NoticeTemplate, NotifyError, PdfError, PdfOptions};
use crate::crawl::report::ReportTemplate;
use crate::model::UnitKind;
use crate::model::check::check_info;

use crate::store::annual::{self, ANNUAL_QUERIES, AnnualFigures, AnnualQuery, KeyCount};
use crate::store::{Notice, NoticeSection};

/// One number of the draft, with the query that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    /// A stable key within the draft, e.g. `units.department`, `problems.column.stale.units`.
    pub key: String,
    /// What the number is, in Chinese.
    pub label: String,
    /// The number.
    pub value: i64,
    /// The key of the query in [`AnnualDraft::queries`] that counted it.
    pub query: String,
}

/// A table of the template the office fills in by hand: its rows and columns, empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormTable {
    /// The template's table id (`requests`, …).
    pub id: String,
    /// The table's name.
    pub name: String,
    /// Column headings.
    pub columns: Vec<String>,
    /// Row labels.
    pub rows: Vec<String>,
    /// The equations the filled-in numbers must satisfy, in words and as expressions.
    pub rules: Vec<FormRule>,
}

/// One consistency rule of a hand-filled table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FormRule {
    /// The rule in words.
    pub name: String,
    /// `left = right`, as written in the template (over row or column ids).
    pub equation: String,
    /// Whether it holds in every column (`columns`) or every row (`rows`).
    pub over: String,
}

/// One section of the national format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftSection {
    /// The template's section id (`summary`, `proactive`, …).
    pub id: String,
    /// The numbered heading (一、总体情况).
    pub heading: String,
    /// Draft prose, built from the figures.
    pub paragraphs: Vec<String>,
    /// The numbers the platform counted for this section.
    pub figures: Vec<Figure>,
    /// Tables the office fills in by hand.
    pub forms: Vec<FormTable>,
}

/// The draft report for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnnualDraft {
    /// The calendar year reported on.
    pub year: i32,
    /// The title.
    pub title: String,
    /// The national format followed.
    pub template: String,
    /// The six sections, in the format's order.
    pub sections: Vec<DraftSection>,
    /// Every query the figures name, with its SurrealQL (`$from`/`$to`: the year's bounds).
    pub queries: Vec<AnnualQuery>,
    /// `$from`, as bound to the queries (RFC 3339).
    pub from: String,
    /// `$to`, as bound to the queries (RFC 3339).
    pub to: String,
}

/// Chinese numbering of the sections.
const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

fn figure(key: impl Into<String>, label: impl Into<String>, value: i64, query: &AnnualQuery) -> Figure {
    Figure { key: key.into(), label: label.into(), value, query: query.key.to_owned() }
}

/// The count under `key` in `counts` (0 when absent).
fn count_of(counts: &[KeyCount], key: &str) -> i64 {
    counts.iter().filter(|c| c.key() == key).map(|c| c.n).sum()
}

/// The check's Chinese title, or its id when the registry does not know it.
fn check_title(id: &str) -> String {
    check_info(id).map_or_else(|| id.to_owned(), |c| c.title_zh.to_owned())
}

/// The tables of `section` in `template`, as empty forms.
fn forms(template: &ReportTemplate, section: &str) -> Vec<FormTable> {
    template
        .tables
        .iter()
        .filter(|t| t.section == section)
        .map(|t| FormTable {
            id: t.id.clone(),
            name: t.name.clone(),
            columns: t.columns.iter().map(|c| c.name.clone()).collect(),
            rows: t.rows.iter().map(|r| r.name.clone()).collect(),
            rules: t
                .rules
                .iter()
                .map(|r| FormRule {
                    name: r.name.clone(),
                    equation: format!("{} = {}", r.left.source, r.right.source),
                    over: format!("{:?}", r.over).to_lowercase(),
                })
                .collect(),
        })
        .collect()
}

fn summary(f: &AnnualFigures) -> (Vec<String>, Vec<Figure>) {
    let mut figures = Vec::new();
    let total: i64 = f.units_by_kind.iter().map(|c| c.n).sum();
    let mut by_kind = Vec::new();
    for kind in UnitKind::ALL {
        let n = count_of(&f.units_by_kind, kind.as_str());
        figures.push(figure(format!("units.{}", kind.as_str()), kind.label_zh(), n, &annual::UNITS_BY_KIND));
        if n > 0 {
            by_kind.push(format!("{}{n}个", kind.label_zh()));
        }
    }
    figures.push(figure("units.total", "登记单位合计", total, &annual::UNITS_BY_KIND));
    figures.push(figure("site_runs", "网站检查轮次", f.site_runs, &annual::SITE_RUNS));
    figures.push(figure("site_units", "网站检查覆盖单位", f.site_units, &annual::SITE_UNITS));
    figures.push(figure("catalogue_runs", "公开目录检查轮次", f.catalogue_runs, &annual::CATALOGUE_RUNS));
    let cycles = f.cycles.len() as i64;
    figures.push(figure("cycles", "开展考评次数", cycles, &annual::CYCLES));
    for cycle in &f.cycles {
        figures.push(figure(
            format!("cycles.{}", cycle.cycle),
            format!("考评周期 {}（{}）参评单位", cycle.cycle, cycle.ruleset_id),
            cycle.units,
            &annual::CYCLES,
        ));
    }
    figures.push(figure("units_assessed", "参评单位（去重）", f.units_assessed, &annual::UNITS_ASSESSED));
    figures.push(figure("visits", "实地检查次数", f.visits, &annual::VISITS));
    figures.push(figure("units_visited", "实地检查单位（去重）", f.units_visited, &annual::UNITS_VISITED));
    let kinds = if by_kind.is_empty() { String::new() } else { format!("，其中{}", by_kind.join("、")) };
    let paragraphs = vec![
        format!("{}年，本市纳入政府信息公开检查的单位共{total}个{kinds}。", f.year),
        format!(
            "全年完成网站检查{}轮，覆盖{}个单位；完成公开目录检查{}轮。开展考评{cycles}次，参评单位{}个；\
             检查组实地检查{}次，涉及{}个单位。",
            f.site_runs, f.site_units, f.catalogue_runs, f.units_assessed, f.visits, f.units_visited
        ),
    ];
    (paragraphs, figures)
}

fn proactive(f: &AnnualFigures) -> (Vec<String>, Vec<Figure>) {
    let figures = vec![figure(
        "catalogue_entries",
        "公开目录中本年度成文的条目",
        f.catalogue_entries,
        &annual::CATALOGUE_ENTRIES,
    )];
    let paragraphs = vec![
        format!(
            "各单位政府信息公开目录中，成文日期在{}年的信息共{}条（以最近一次目录检查所见为准）。",
            f.year, f.catalogue_entries
        ),
        "下表由各单位报送数据汇总后填写。".to_owned(),
    ];
    (paragraphs, figures)
}

/// The units in each of `template`'s problem groups, in the groups' order: units with a finding
/// of one of the group's checks, or the supervisors of the units in the group it names.
fn group_units(
    f: &AnnualFigures,
    template: &ReportTemplate,
) -> Vec<(String, String, BTreeSet<String>, bool)> {
    let mut groups: Vec<(String, String, BTreeSet<String>, bool)> = Vec::new();
    for group in &template.problem_groups {
        let (units, supervisors) = match &group.subordinates_of {
            Some(of) => {
                let below = groups
                    .iter()
                    .find(|(id, ..)| id == of)
                    .map(|(_, _, units, _)| units.clone())
                    .unwrap_or_default();
                let parents = f
                    .supervision
                    .iter()
                    .filter(|s| below.contains(&s.code))
                    .map(|s| s.parent_code.clone())
                    .collect();
                (parents, true)
            }
            None => {
                let units = f
                    .check_units
                    .iter()
                    .filter(|cu| group.checks.contains(&cu.check))
                    .map(|cu| cu.unit.clone())
                    .collect();
                (units, false)
            }
        };
        groups.push((group.id.clone(), group.title.clone(), units, supervisors));
    }
    groups
}

fn problems(f: &AnnualFigures, template: &ReportTemplate) -> (Vec<String>, Vec<Figure>) {
    let mut figures = Vec::new();
    let mut lines = Vec::new();
    let mut grouped = Vec::new();
    let numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];
    let groups = group_units(f, template);
    for (i, (id, title, units, supervisors)) in
        groups.iter().filter(|(_, _, units, _)| !units.is_empty()).enumerate()
    {
        let n = i64::try_from(units.len()).unwrap_or(i64::MAX);
        let (label, query) = if *supervisors {
            (format!("{title}（主管单位数）"), &annual::SUPERVISION)
        } else {
            (format!("{title}（单位数）"), &annual::CHECK_UNITS)
        };
        figures.push(figure(format!("problem_groups.{id}"), label, n, query));
        let number = numerals.get(i).copied().unwrap_or("…");
        let whom = if *supervisors { "个主管单位" } else { "个单位" };
        grouped.push(format!("（{number}）{title}，涉及{n}{whom}。"));
    }
    let mut checks: Vec<&str> = f.units_by_check.iter().map(KeyCount::key).collect();
    checks.dedup();
    // Most widespread first, then by id, so the draft reads from the biggest problem down.
    checks.sort_by_key(|c| (std::cmp::Reverse(count_of(&f.units_by_check, c)), c.to_string()));
    for check in checks {
        let title = check_title(check);
        let units = count_of(&f.units_by_check, check);
        let findings = count_of(&f.findings_by_check, check);
        figures.push(figure(
            format!("problems.{check}.units"),
            format!("{title}（单位数）"),
            units,
            &annual::UNITS_BY_CHECK,
        ));
        figures.push(figure(
            format!("problems.{check}.findings"),
            format!("{title}（问题条数）"),
            findings,
            &annual::FINDINGS_BY_CHECK,
        ));
        lines.push(format!("{title}：{units}个单位，现存问题{findings}条"));
    }
    figures.push(figure("notices", "印发通报", f.notices, &annual::NOTICES));
    figures.push(figure("units_notified", "通报点名单位", f.units_notified, &annual::UNITS_NOTIFIED));
    figures.push(figure(
        "notified_findings",
        "通报限期整改问题",
        f.notified_findings,
        &annual::NOTIFIED_FINDINGS,
    ));
    figures.push(figure(
        "rectified_on_time",
        "按期整改到位",
        f.rectified_on_time,
        &annual::RECTIFIED_ON_TIME,
    ));
    figures.push(figure("overdue", "逾期未整改", f.overdue, &annual::OVERDUE));
    let mut paragraphs = grouped;
    paragraphs.push(if lines.is_empty() {
        format!("{}年检查未发现问题。", f.year)
    } else {
        format!("{}年检查发现的问题按检查项：{}。", f.year, lines.join("；"))
    });
    paragraphs.push(format!(
        "改进情况：全年印发通报{}期，点名{}个单位，限期整改问题{}条，其中按期整改到位{}条，逾期未整改{}条。",
        f.notices, f.units_notified, f.notified_findings, f.rectified_on_time, f.overdue
    ));
    (paragraphs, figures)
}

/// The draft for `figures.year`, following `template`'s sections.
pub fn draft(figures: &AnnualFigures, template: &ReportTemplate) -> AnnualDraft {
    let mut sections = Vec::new();
    for (index, spec) in template.sections.iter().enumerate() {
        let (paragraphs, numbers) = match spec.id.as_str() {
            "summary" => summary(figures),
            "proactive" => proactive(figures),
            "requests" => {
                (vec!["本节数据由各单位报送、市政府信息公开工作主管部门汇总后填写。".to_owned()], Vec::new())
            }
            "review" => {
                (vec!["本节数据由各单位报送、市政府信息公开工作主管部门汇总后填写。".to_owned()], Vec::new())
            }
            "problems" => problems(figures, template),
            _ => (
                vec![
                    "本年度收取信息处理费情况及其他需要报告的事项，由市政府信息公开工作主管部门填写。"
                        .to_owned(),
                ],
                Vec::new(),
            ),
        };
        sections.push(DraftSection {
            id: spec.id.clone(),
            heading: format!("{}、{}", NUMERALS.get(index).copied().unwrap_or(""), spec.name),
            paragraphs,
            figures: numbers,
            forms: forms(template, &spec.id),
        });
    }
    let (from, to) = annual::year_bounds(figures.year).unzip();
    AnnualDraft {
        year: figures.year,
        title: format!("{}年政府信息公开工作年度报告（草稿）", figures.year),
        template: template.version.clone(),
        sections,
        queries: ANNUAL_QUERIES.to_vec(),
        from: from.map(|d| d.to_rfc3339()).unwrap_or_default(),
        to: to.map(|d| d.to_rfc3339()).unwrap_or_default(),
    }
}

impl AnnualDraft {
    /// The figure under `key`, if the draft has one.
    pub fn figure(&self, key: &str) -> Option<&Figure> {
        self.sections.iter().flat_map(|s| &s.figures).find(|f| f.key == key)
    }
}

const PAGE: &str = r##"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{{ d.title }}</title>
<style>
  body { font-family: "Droid Sans Fallback", "WenQuanYi Zen Hei", "Noto Sans CJK SC", sans-serif;
         max-width: 60em; margin: 2em auto; line-height: 1.8; color: #111; }
  h1 { text-align: center; font-size: 1.5em; }
  .basis { text-align: center; color: #555; }
  h2 { font-size: 1.15em; margin-top: 1.5em; }
  p { text-indent: 2em; }
  table { border-collapse: collapse; margin: .5em 0 1em; }
  td, th { border: 1px solid #999; padding: .2em .5em; font-size: .9em; }
  td.n { text-align: right; }
  td.blank { min-width: 3em; }
  code { font-size: .85em; white-space: pre-wrap; }
  .rules li { font-size: .9em; }
</style>
</head>
<body>
<h1>{{ d.title }}</h1>
<p class="basis">依据：{{ d.template }}；统计期：{{ d.from }} 至 {{ d.to }}（不含）</p>
{% for s in d.sections %}
<h2 id="{{ s.id }}">{{ s.heading }}</h2>
{% for p in s.paragraphs %}<p>{{ p }}</p>
{% endfor %}
{% if s.figures %}<table class="figures"><tr><th>项目</th><th>数量</th><th>统计查询</th></tr>
{% for f in s.figures %}<tr><td>{{ f.label }}</td><td class="n">{{ f.value }}</td><td><a href="#q-{{ f.query }}">{{ f.query }}</a></td></tr>
{% endfor %}</table>{% endif %}
{% for t in s.forms %}<h3>{{ t.name }}（手工填写）</h3>
<table class="form"><tr><th></th>{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in t.rows %}<tr><td>{{ r }}</td>{% for c in t.columns %}<td class="blank"></td>{% endfor %}</tr>
{% endfor %}</table>
{% if t.rules %}<ul class="rules">{% for r in t.rules %}<li>{{ r.name }}：<code>{{ r.equation }}</code>（{% if r.over == "columns" %}逐列{% else %}逐行{% endif %}）</li>{% endfor %}</ul>{% endif %}
{% endfor %}
{% endfor %}
<h2>附：统计查询</h2>
<dl>
{% for q in d.queries %}<dt id="q-{{ q.key }}">{{ q.key }}：{{ q.description }}</dt><dd><code>{{ q.surql }}</code></dd>
{% endfor %}</dl>
</body>
</html>
"##;

/// The draft as a printable page (text escaped by the template engine).
pub fn html(draft: &AnnualDraft) -> Result<String, minijinja::Error> {
    let mut env = Environment::new();
    env.add_template("annual.html", PAGE)?;
    env.get_template("annual.html")?.render(context! { d => draft })
}

/// The draft as a document the notices' PDF renderer lays out: the issuing office's masthead,
/// the year as the number line, one section per part with its prose, its figures (each with its
/// query's key), its forms and their rules, and the queries at the end.
fn as_document(draft: &AnnualDraft, template: &NoticeTemplate) -> Notice {
    let mut sections: Vec<NoticeSection> = draft
        .sections
        .iter()
        .map(|s| {
            let mut lines = s.paragraphs.clone();
            for f in &s.figures {
                lines.push(format!("{}：{}（统计查询：{}）", f.label, f.value, f.query));
            }
            for t in &s.forms {
                lines.push(format!("{}（手工填写）：{}", t.name, t.rows.join("；")));
                for r in &t.rules {
                    lines.push(format!("核对规则：{}（{}）", r.name, r.equation));
                }
            }
            NoticeSection { heading: s.heading.clone(), text: lines.join("\n") }
        })
        .collect();
    let queries: Vec<String> =
        draft.queries.iter().map(|q| format!("{}：{} —— {}", q.key, q.description, q.surql)).collect();
    sections.push(NoticeSection {
        heading: format!("附：统计查询（$from、$to 为 {} 至 {}）", draft.from, draft.to),
        text: queries.join("\n"),
    });
    let now = chrono::Utc::now();
    Notice {
        id: format!("annual-report-{}", draft.year),
        cycle: String::new(),
        status: "draft".into(),
        title: draft.title.clone(),
        issuer: template.issuer.clone(),
        number: Some(format!("依据{}", draft.template)),
        year: i64::from(draft.year),
        sections,
        template: template.source.clone(),
        deadline: now,
        drafted_by: String::new(),
        created_at: now,
        approved_by: None,
        approved_at: None,
        published_by: None,
        published_at: None,
        units: Vec::new(),
        deliveries: Vec::new(),
    }
}

/// The draft as PDF bytes, set by the notices' renderer in the shipped notice template's fonts.
pub fn pdf(draft: &AnnualDraft, options: PdfOptions) -> Result<Vec<u8>, NotifyError> {
    let template = NoticeTemplate::shipped().map_err(|e| NotifyError::BadInput(e.to_string()))?;
    let cjk = super::pdf::load_font(&template.font_path().ok_or(PdfError::NoFont)?)?;
    let latin = template.latin_font_path().map(|p| super::pdf::load_font(&p)).transpose()?;
    let fonts = super::pdf::PdfFonts { cjk, latin };
    Ok(super::pdf::pdf(&as_document(draft, &template), "", &fonts, options)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::annual::{AnnualCycle, CheckUnit, Supervision};

    fn counts(pairs: &[(&str, i64)], check: bool) -> Vec<KeyCount> {
        pairs
            .iter()
            .map(|(k, n)| KeyCount {
                kind: (!check).then(|| (*k).to_owned()),
                check: check.then(|| (*k).to_owned()),
                n: *n,
            })
            .collect()
    }

    fn figures() -> AnnualFigures {
        AnnualFigures {
            year: 2026,
            units_by_kind: counts(&[("department", 3), ("district", 1)], false),
            catalogue_entries: 12,
            site_runs: 2,
            site_units: 4,
            catalogue_runs: 1,
            cycles: vec![AnnualCycle {
                cycle: "c1".into(),
                ruleset_id: "gov-website-2019".into(),
                as_of: chrono::Utc::now(),
                units: 4,
            }],
            units_assessed: 4,
            visits: 3,
            units_visited: 2,
            notices: 1,
            units_notified: 1,
            notified_findings: 2,
            rectified_on_time: 1,
            overdue: 1,
            findings_by_check: counts(&[("home.stale", 1), ("link.broken", 5)], true),
            units_by_check: counts(&[("home.stale", 1), ("link.broken", 2)], true),
            check_units: [
                ("home.stale", "U1"),
                ("link.broken", "U1"),
                ("link.broken", "U2"),
                ("site.unreachable", "U3"),
            ]
            .into_iter()
            .map(|(check, unit)| CheckUnit { check: check.into(), unit: unit.into() })
            .collect(),
            supervision: [("U3", "P1"), ("U4", "P2")]
                .into_iter()
                .map(|(code, parent)| Supervision { code: code.into(), parent_code: parent.into() })
                .collect(),
        }
    }

    #[test]
    fn every_section_of_the_format_in_order_with_its_numbers_and_queries() {
        let template = ReportTemplate::builtin().expect("template");
        let draft = draft(&figures(), &template);
        let headings: Vec<&str> = draft.sections.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(
            headings,
            [
                "一、总体情况",
                "二、主动公开政府信息情况",
                "三、收到和处理政府信息公开申请情况",
                "四、政府信息公开行政复议、行政诉讼情况",
                "五、存在的主要问题及改进情况",
                "六、其他需要报告的事项"
            ]
        );
        let value = |key: &str| draft.figure(key).map(|f| f.value);
        assert_eq!(value("units.total"), Some(4));
        assert_eq!(value("units.department"), Some(3));
        assert_eq!(value("units.institution"), Some(0));
        assert_eq!(value("problems.link.broken.units"), Some(2));
        assert_eq!(value("problems.link.broken.findings"), Some(5));
        // Every figure names a query the draft lists.
        let keys: Vec<&str> = draft.queries.iter().map(|q| q.key).collect();
        for figure in draft.sections.iter().flat_map(|s| &s.figures) {
            assert!(keys.contains(&figure.query.as_str()), "{figure:?}");
        }
        // Grouped as the reference report names them: a unit counts once per group; the
        // supervisors' group counts the parents of the units that have not started.
        assert_eq!(value("problem_groups.not_started"), Some(1));
        assert_eq!(value("problem_groups.on_and_off"), Some(1));
        assert_eq!(value("problem_groups.no_staff"), Some(2), "U1 and U2, U1 counted once");
        assert_eq!(value("problem_groups.supervisors"), Some(1), "P1 supervises U3; P2's U4 is fine");
        let problems = &draft.sections[4];
        assert!(
            problems.paragraphs[0].starts_with("（一）工作没有得到有效开展"),
            "{:?}",
            problems.paragraphs
        );
        assert!(problems.paragraphs[3].contains("涉及1个主管单位"), "{:?}", problems.paragraphs);
        // Then check by check, the most widespread problem first, under its registry title.
        let first_check =
            problems.figures.iter().find(|f| f.key.starts_with("problems.")).expect("per-check figures");
        assert_eq!(first_check.key, "problems.link.broken.units");
        assert!(problems.paragraphs[4].contains(&check_title("link.broken")), "{:?}", problems.paragraphs);
        // The request table is an empty form with its balance rule.
        let requests = &draft.sections[2].forms[0];
        assert_eq!(requests.id, "requests");
        assert!(
            requests
                .rules
                .iter()
                .any(|r| r.equation == "received + carried_over = handled + carried_forward")
        );
    }

    #[test]
    fn the_pdf_is_set_by_the_notices_renderer_with_every_section() {
        let template = ReportTemplate::builtin().expect("template");
        let draft = draft(&figures(), &template);
        let bytes = pdf(&draft, PdfOptions { compress: false }).expect("a CJK font is installed");
        assert!(bytes.starts_with(b"%PDF"));
        let document = as_document(&draft, &NoticeTemplate::shipped().expect("template"));
        let text = super::super::render::text(&document, "");
        for section in &draft.sections {
            assert!(text.contains(&section.heading), "{}", section.heading);
        }
        assert!(text.contains("登记单位合计：4（统计查询：units_by_kind）"), "{text}");
        assert!(text.contains("SELECT kind, count() AS n FROM unit"));
    }

    #[test]
    fn the_page_escapes_and_lists_every_query() {
        let template = ReportTemplate::builtin().expect("template");
        let mut figures = figures();
        figures.cycles[0].cycle = "<script>x</script>".into();
        let page = html(&draft(&figures, &template)).expect("page");
        assert!(!page.contains("<script>x"));
        assert!(page.contains("SELECT kind, count() AS n FROM unit"));
        assert!(page.contains("收到和处理政府信息公开申请情况表（手工填写）"));
    }
}
