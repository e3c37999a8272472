//! Hostile-page benchmark (issue #11): deeply nested `<div>`s and `<table>`s, a 5 MB page of
//! ordinary markup, 10,000 links and a catalogue class page of nested tables, parsed the way
//! the crawler parses them (page checks with their links; the catalogue's class-page reader).
//!
//! `cargo run --example bench_hostile [-- --uncapped N]`
//!
//! Every case runs in a child process of its own (`bench_hostile --case NAME`), so that its
//! peak resident memory (VmHWM from /proc/self/status) is its own. The child measures its CPU
//! time (user + system, getrusage(RUSAGE_SELF) before and after the parse, the page already
//! built) and prints one line; the parent prints the table and the two targets: CPU
//! grows at most linearly from 20,000 to 80,000 nested divs, and a 5 MB hostile page costs
//! under 2 s of CPU. `html5ever-*` cases parse with html5ever alone (the parser's share). With
//! `--uncapped N` it also parses N nested divs with html5ever directly, without the nesting cap:
//! the cost before #11, which grows quadratically.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use gongkai::crawl::catalogue::{CatalogueProfile, PageContext, parse_class_page};
use gongkai::crawl::checks::{HiddenRules, parse_page};
use gongkai::model::synthetic_credit_code;
use url::Url;

/// The cases, by the name a child is started with, in the order of the table.
const CASES: [&str; 17] = [
    "divs-10000",
    "divs-20000",
    "divs-40000",
    "divs-80000",
    "divs-100000",
    "divs-1000000",
    "tables-100000",
    "tables-1000000",
    "ordinary-5mb",
    "links-10000",
    "catalogue-tables-100000",
    "catalogue-tables-1000000",
    "headings-500",
    "formatting-div-360000",
    "formatting-p-830000",
    "paragraphs-830000",
    "html5ever-paragraphs-830000",
];

/// User + system CPU seconds of this process so far. The one `unsafe` of the package (lints
/// deny it elsewhere): a benchmark's call to getrusage, which std does not wrap.
#[allow(unsafe_code)]
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given, which is zeroed plain data.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Peak resident memory of this process in kB (VmHWM).
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn divs(depth: usize) -> String {
    format!("{}<a href=\"/deep\">深处</a>{}", "<div>".repeat(depth), "</div>".repeat(depth))
}

fn tables(depth: usize) -> String {
    format!(
        "<table><tr><th>名称</th><th>生成日期</th></tr>{}<a href=\"/deep\">深处</a>{}</table>",
        "<tr><td><table>".repeat(depth),
        "</table></td></tr>".repeat(depth)
    )
}

/// About 5 MB of what real list pages are made of: a header, navigation, tables of dated
/// links, paragraphs and a footer, repeated.
fn ordinary(bytes: usize) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>南宁市测试局</title>\
         <style>.nav li{float:left}</style><script>var t = 1 < 2;</script></head><body>\
         <div class=\"header\"><h1>南宁市测试局</h1><ul class=\"nav\"><li><a href=\"/\">首页</a></li>\
         <li><a href=\"/xxgk/\">政府信息公开</a></li><li><a href=\"/gzdt/\">工作动态</a></li></ul></div>",
    );
    let mut i = 0;
    while html.len() < bytes {
        html.push_str(&format!(
            "<div class=\"box\"><h3>政务动态{i}</h3><table class=\"list\"><tr><td><a href=\"/gzdt/{i}.html\" \
             title=\"关于开展第{i}次政务公开工作的通知\">关于开展第{i}次政务公开工作的通知</a></td><td>2026-11-20</td></tr>\
             <tr><td><a href=\"/tzgg/{i}.html\">第{i}号公告</a></td><td>2026-11-19</td></tr></table>\
             <p>为进一步做好政府信息公开工作，<b>现将</b>有关事项通知如下。</p><ul><li>一、工作目标</li>\
             <li>二、主要任务<span style=\"color:red\">（重点）</span></li></ul></div>"
        ));
        i += 1;
    }
    html.push_str("<div class=\"footer\">主办单位：南宁市测试局 桂ICP备12345678号</div></body></html>");
    html
}

fn links(count: usize) -> String {
    let mut html = String::from("<html><body><ul>");
    for i in 0..count {
        html.push_str(&format!("<li><a href=\"/l/{i}.html\">链接{i}</a></li>"));
    }
    html.push_str("</ul></body></html>");
    html
}

/// `depth` nested elements that read as headings and mastheads (each reads up to 20,000 nodes
/// of its subtree), each holding a link, over a bulk of empty elements: the subtree reads add
/// up per level.
fn headings(depth: usize) -> String {
    format!(
        "{}{}{}",
        "<div class=\"title top\"><a href=\"/t\">标题</a>".repeat(depth),
        "<span></span>".repeat(400_000),
        "</div>".repeat(depth)
    )
}

/// Formatting elements left open when their block closes are reopened by the parser before
/// the next text ("reconstruct the active formatting elements"), hundreds at a time; `blocks`
/// blocks follow, closed explicitly (`</div>`) or implicitly (the next `<p>`).
fn formatting(blocks: usize, block: &str) -> String {
    let open: String = (0..500).map(|i| format!("<b id=\"b{i}\">")).collect();
    let (start, end) = if block.starts_with("<p>") { ("<p>", "") } else { ("<div>", "</div>") };
    format!("{start}{open}{end}{}", block.repeat(blocks))
}

/// Runs one case in this process and prints `bytes cpu_seconds peak_kb outcome`.
fn run_case(name: &str) -> anyhow::Result<()> {
    let url = Url::parse("http://site.gov.cn/")?;
    let rules = HiddenRules { tiny_font_px: 2, offscreen_px: 1000 };
    let number = |prefix: &str| name.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
    let html = if let Some(n) = number("divs-").or_else(|| number("uncapped-")) {
        divs(n)
    } else if let Some(n) = number("tables-").or_else(|| number("catalogue-tables-")) {
        tables(n)
    } else if name == "ordinary-5mb" {
        ordinary(5_000_000)
    } else if let Some(n) = number("links-") {
        links(n)
    } else if let Some(n) = number("headings-") {
        headings(n)
    } else if let Some(n) = number("formatting-div-") {
        formatting(n, "<div>字</div>")
    } else if let Some(n) = number("formatting-p-") {
        formatting(n, "<p>字")
    } else if let Some(n) = number("paragraphs-").or_else(|| number("html5ever-paragraphs-")) {
        "<p>字".repeat(n)
    } else {
        bail!("unknown case {name}");
    };
    let profile = CatalogueProfile::builtin()?;
    let code = synthetic_credit_code("450100", 1)?;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).context("date")?;
    // "5" resets the peak RSS to the current RSS (Linux ≥ 4.0), so the peak is the parse's with
    // the page held, as the crawler holds it; ignored where unsupported.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    let outcome = if name.starts_with("catalogue-") {
        let page =
            parse_class_page(&html, &url, &profile, PageContext { unit: &code, class: "政策文件", as_of });
        format!("table found {}, entries {}", page.table_found, page.entries.len())
    } else if name.starts_with("uncapped-") || name.starts_with("html5ever-") {
        let document = scraper::Html::parse_document(&html);
        format!("nodes {}", document.tree.nodes().count())
    } else {
        let page = parse_page(&html, &url, rules);
        format!(
            "text {} B, links {}, rows {}, flattened {}",
            page.text.len(),
            page.links.len(),
            page.rows.len(),
            page.flattened
        )
    };
    let cpu = cpu_seconds() - cpu;
    let wall = wall.elapsed().as_secs_f64();
    println!("{}\t{cpu:.3}\t{wall:.3}\t{}\t{outcome}", html.len(), peak_kb());
    Ok(())
}

/// One child's line.
struct Measured {
    name: String,
    bytes: usize,
    cpu: f64,
    wall: f64,
    peak_kb: u64,
    outcome: String,
}

fn measure(name: &str) -> anyhow::Result<Measured> {
    let output = Command::new(std::env::current_exe()?).args(["--case", name]).output()?;
    if !output.status.success() {
        bail!("case {name} failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let line = String::from_utf8(output.stdout)?;
    let fields: Vec<&str> = line.trim_end().splitn(5, '\t').collect();
    let [bytes, cpu, wall, peak, outcome] = fields[..] else { bail!("case {name} printed {line:?}") };
    Ok(Measured {
        name: name.to_owned(),
        bytes: bytes.parse()?,
        cpu: cpu.parse()?,
        wall: wall.parse()?,
        peak_kb: peak.parse()?,
        outcome: outcome.to_owned(),
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, name] = &args[..]
        && flag == "--case"
    {
        return run_case(name);
    }
    let mut cases: Vec<String> = CASES.iter().map(|c| (*c).to_owned()).collect();
    if let [flag, n] = &args[..]
        && flag == "--uncapped"
    {
        cases.push(format!("uncapped-{}", n.parse::<usize>().context("--uncapped N")?));
    }
    println!("{:<28} {:>9} {:>9} {:>9} {:>12}  outcome", "case", "size MB", "CPU s", "wall s", "peak RSS MB");
    let mut results = Vec::new();
    for case in &cases {
        let m = measure(case)?;
        println!(
            "{:<28} {:>9.2} {:>9.3} {:>9.3} {:>12.1}  {}",
            m.name,
            m.bytes as f64 / 1e6,
            m.cpu,
            m.wall,
            m.peak_kb as f64 / 1024.0,
            m.outcome
        );
        results.push(m);
    }
    let cpu = |name: &str| results.iter().find(|m| m.name == name).map(|m| m.cpu);
    if let (Some(small), Some(large)) = (cpu("divs-20000"), cpu("divs-80000")) {
        println!(
            "20,000 → 80,000 nested divs: CPU × {:.1} for 4 × the levels (linear: ≤ 4; quadratic: 16)",
            large / small.max(0.001)
        );
    }
    // The hostile pages of about 5 MB or more: each must cost under 2 s of CPU per 5 MB.
    for m in results.iter().filter(|m| m.bytes >= 3_000_000) {
        let per_5mb = m.cpu * 5e6 / m.bytes as f64;
        let verdict = if per_5mb < 2.0 { "under 2 s" } else { "OVER 2 s" };
        println!("{:<28} {per_5mb:>6.2} s CPU per 5 MB ({verdict})", m.name);
    }
    Ok(())
}
