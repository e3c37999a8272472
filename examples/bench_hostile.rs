//! Hostile-page benchmark (issue #11): deeply nested `<div>`s and `<table>`s, parsed the way the
//! crawler parses them (page checks with their links, and a catalogue class page).
//!
//! `cargo run --example bench_hostile [-- --uncapped N]`
//!
//! Per case it prints the page size, the process CPU time (user + system, the figures getrusage
//! reports, read from /proc/self/stat) and the case's peak resident memory (VmHWM from
//! /proc/self/status, reset before each case through /proc/self/clear_refs). With
//! `--uncapped N` it also parses N nested divs with html5ever directly, without the nesting cap:
//! the cost before #11, which grows quadratically.

use std::time::Instant;

use chrono::NaiveDate;
use gongkai::crawl::catalogue::{CatalogueProfile, PageContext, parse_class_page};
use gongkai::crawl::checks::{HiddenRules, parse_page};
use gongkai::model::synthetic_credit_code;
use url::Url;

/// Process CPU seconds (user + system), in clock ticks of 1/100 s as Linux reports them.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain blanks.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, i.e. 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        .unwrap_or_else(|| "?".into())
}

/// Runs one case and prints its line.
fn measure(name: &str, html: &str, run: impl FnOnce(&str) -> String) {
    // "5" resets the peak RSS to the current RSS (Linux ≥ 4.0); ignored where unsupported.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (cpu, wall) = (cpu_seconds(), Instant::now());
    let outcome = run(html);
    println!(
        "{name:<28} {:>6.1} MB  cpu {:>6.2} s  wall {:>6.2} s  peak RSS {:>10}  {outcome}",
        html.len() as f64 / 1e6,
        cpu_seconds() - cpu,
        wall.elapsed().as_secs_f64(),
        peak_memory()
    );
}

fn divs(depth: usize) -> String {
    format!("{}<a href=\"/deep\">深处</a>{}", "<div>".repeat(depth), "</div>".repeat(depth))
}

fn main() -> anyhow::Result<()> {
    let url = Url::parse("http://site.gov.cn/")?;
    let rules = HiddenRules { tiny_font_px: 2, offscreen_px: 1000 };
    let check = |html: &str| {
        let page = parse_page(html, &url, rules);
        format!("text {} B, links {}, flattened {}", page.text.len(), page.links.len(), page.flattened)
    };
    for depth in [20_000, 40_000, 80_000, 1_000_000] {
        measure(&format!("nested divs {depth}"), &divs(depth), check);
    }
    let tables = |depth: usize| {
        format!(
            "<table><tr><th>名称</th><th>生成日期</th></tr>{}<a href=\"/deep\">深处</a>{}</table>",
            "<tr><td><table>".repeat(depth),
            "</table></td></tr>".repeat(depth)
        )
    };
    measure("nested tables 100000", &tables(100_000), check);
    let profile = CatalogueProfile::builtin()?;
    let code = synthetic_credit_code("450100", 1)?;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 20).ok_or_else(|| anyhow::anyhow!("date"))?;
    measure("catalogue tables 100000", &tables(100_000), |html| {
        let page =
            parse_class_page(html, &url, &profile, PageContext { unit: &code, class: "政策文件", as_of });
        format!("table found {}, entries {}", page.table_found, page.entries.len())
    });
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--uncapped") {
        let depth: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
        measure(&format!("uncapped html5ever {depth}"), &divs(depth), |html| {
            let document = scraper::Html::parse_document(html);
            format!("nodes {}", document.tree.nodes().count())
        });
    }
    Ok(())
}
