//! `content.spam`: injected gambling/porn content and the tricks that hide it from the site's
//! own staff while search engines see it (DESIGN.md §4). Each finding's detail names the
//! technique and quotes a short snippet. Hidden links and redirects count only when they leave
//! the site for a domain not on the allow-list: hidden drop-down menus pointing inside the
//! site are ordinary web design.

use std::collections::BTreeSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde_json::{Value, json};
use url::Url;

use super::page::truncate;
use super::{CheckContext, ParsedPage, is_foreign};
use crate::crawl::profile::SpamSettings;
use crate::model::Finding;

/// Characters quoted either side of a lexicon hit.
const CONTEXT_CHARS: usize = 20;

/// The lexicon as one automaton, built once per crawl.
#[derive(Debug, Clone)]
pub struct SpamMatcher {
    automaton: AhoCorasick,
    words: Vec<String>,
}

impl SpamMatcher {
    pub fn new(settings: &SpamSettings) -> Result<Self, aho_corasick::BuildError> {
        let words: Vec<String> =
            settings.lexicon.iter().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect();
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&words)?;
        Ok(Self { automaton, words })
    }

    /// The distinct lexicon words in `text`, each with a snippet around its first occurrence.
    pub fn hits(&self, text: &str) -> Vec<(String, String)> {
        let mut seen = BTreeSet::new();
        let mut hits = Vec::new();
        for found in self.automaton.find_iter(text) {
            let word = &self.words[found.pattern().as_usize()];
            if seen.insert(word.clone()) {
                hits.push((word.clone(), snippet(text, found.start(), found.end())));
            }
        }
        hits
    }
}

fn snippet(text: &str, start: usize, end: usize) -> String {
    let before: String =
        text[..start].chars().rev().take(CONTEXT_CHARS).collect::<Vec<_>>().into_iter().rev().collect();
    let after: String = text[end..].chars().take(CONTEXT_CHARS).collect();
    format!("{before}{}{after}", &text[start..end])
}

/// A finding with the key the site crawl de-duplicates by (the same injected footer on every
/// page is one problem, not three hundred).
pub struct Keyed {
    pub key: String,
    pub finding: Finding,
}

fn keyed(ctx: &CheckContext<'_>, url: &str, technique: &str, key_part: &str, detail: Value) -> Keyed {
    let mut detail = detail;
    detail["technique"] = json!(technique);
    Keyed { key: format!("{technique}|{key_part}"), finding: ctx.finding("content.spam", Some(url), detail) }
}

/// Every technique that one page shows by itself.
pub fn check_page(
    ctx: &CheckContext<'_>,
    matcher: &SpamMatcher,
    url: &str,
    page: &ParsedPage,
    site: &str,
) -> Vec<Keyed> {
    let allow = &ctx.profile.spam.allow_domains;
    let mut out = Vec::new();
    for (word, snippet) in matcher.hits(&format!("{} {}", page.title, page.text)) {
        out.push(keyed(ctx, url, "lexicon", &word, json!({ "word": word, "snippet": snippet, "page": url })));
    }
    for hidden in &page.hidden {
        if is_foreign(&hidden.url, site, allow) {
            let technique = if hidden.element == "iframe" { "hidden iframe" } else { "hidden link" };
            out.push(keyed(
                ctx,
                url,
                technique,
                hidden.url.as_str(),
                json!({ "css": hidden.technique, "target": hidden.url.as_str(), "snippet": hidden.text, "page": url }),
            ));
        }
    }
    for script in &page.scripts {
        let foreign: Vec<Url> =
            script_urls(script).into_iter().filter(|u| is_foreign(u, site, allow)).collect();
        let lower = script.to_ascii_lowercase();
        let writes = lower.contains("document.write") || lower.contains("innerhtml");
        let redirects =
            ["location.href", "location.replace", "window.location", "location.assign", "top.location"]
                .iter()
                .any(|m| lower.contains(m));
        let words = matcher.hits(script);
        if let Some(target) = foreign.first() {
            let quote = snippet_around(script, target.as_str());
            if writes {
                out.push(keyed(
                    ctx,
                    url,
                    "script-written link",
                    target.as_str(),
                    json!({ "target": target.as_str(), "snippet": quote, "page": url }),
                ));
            } else if redirects {
                out.push(keyed(
                    ctx,
                    url,
                    "script redirect",
                    target.as_str(),
                    json!({ "target": target.as_str(), "snippet": quote, "page": url }),
                ));
            }
        } else if writes && !words.is_empty() {
            let (word, quote) = &words[0];
            out.push(keyed(
                ctx,
                url,
                "script-written link",
                word,
                json!({ "word": word, "snippet": quote, "page": url }),
            ));
        }
    }
    if let Some(target) = &page.meta_refresh
        && is_foreign(target, site, allow)
    {
        out.push(keyed(
            ctx,
            url,
            "meta refresh",
            target.as_str(),
            json!({ "target": target.as_str(), "page": url }),
        ));
    }
    out
}

/// The unit's registered name appears neither in the home page's title nor in its header: the
/// page has been taken over or its name replaced.
pub fn check_name(ctx: &CheckContext<'_>, url: &str, home: &ParsedPage) -> Option<Finding> {
    let name = ctx.unit.name.trim();
    if name.is_empty() || home.masthead.contains(name) {
        return None;
    }
    Some(ctx.finding(
        "content.spam",
        Some(url),
        json!({ "technique": "organisation name replaced", "expected": name, "title": truncate(&home.title, 80), "page": url }),
    ))
}

/// Cloaking: the home page served to a search engine carries foreign links or lexicon words
/// that the page served to a browser does not.
pub fn check_cloaking(
    ctx: &CheckContext<'_>,
    matcher: &SpamMatcher,
    url: &str,
    normal: &ParsedPage,
    spider: &ParsedPage,
    site: &str,
) -> Option<Finding> {
    let allow = &ctx.profile.spam.allow_domains;
    let hosts = |page: &ParsedPage| -> BTreeSet<String> {
        page.links
            .iter()
            .filter(|l| is_foreign(&l.url, site, allow))
            .filter_map(|l| l.url.host_str().map(str::to_owned))
            .collect()
    };
    let words = |page: &ParsedPage| -> BTreeSet<String> {
        matcher.hits(&format!("{} {}", page.title, page.text)).into_iter().map(|(w, _)| w).collect()
    };
    let extra_hosts: Vec<String> = hosts(spider).difference(&hosts(normal)).cloned().collect();
    let extra_words: Vec<String> = words(spider).difference(&words(normal)).cloned().collect();
    if extra_hosts.is_empty() && extra_words.is_empty() {
        return None;
    }
    let title_changed = spider.title != normal.title;
    Some(ctx.finding(
        "content.spam",
        Some(url),
        json!({
            "technique": "cloaking",
            "user_agent": ctx.profile.spam.cloaking.user_agent,
            "extra_hosts": extra_hosts,
            "extra_words": extra_words,
            "spider_title": if title_changed { Some(truncate(&spider.title, 80)) } else { None },
            "page": url,
        }),
    ))
}

/// Absolute http(s) URLs written out in script text.
fn script_urls(script: &str) -> Vec<Url> {
    let mut urls = Vec::new();
    let mut rest = script;
    while let Some(at) = rest.find("http") {
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | ')' | ';'))
            .unwrap_or(candidate.len());
        if let Ok(url) = Url::parse(&candidate[..end])
            && matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
        {
            urls.push(url);
        }
        rest = &candidate[4.min(candidate.len())..];
    }
    urls
}

fn snippet_around(text: &str, needle: &str) -> String {
    match text.find(needle) {
        Some(at) => truncate(&snippet(text, at, at + needle.len()), 120),
        None => truncate(text.trim(), 120),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicon_hits_are_distinct_and_quoted() {
        let settings = crate::crawl::profile::SiteProfile::builtin().expect("profile").spam;
        let matcher = SpamMatcher::new(&settings).expect("lexicon");
        let hits = matcher.hits("欢迎访问澳门赌场官网，百家乐、百家乐在线");
        let words: Vec<&str> = hits.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(words, ["澳门赌场", "百家乐"]);
        assert!(hits[0].1.contains("欢迎访问澳门赌场官网"));
        assert!(matcher.hits("南宁市财政局关于预算公开的通知").is_empty());
    }

    #[test]
    fn urls_are_read_out_of_scripts() {
        let urls = script_urls(
            "document.write('<a href=\"http://bet.example.com/x\">x</a>');var u='https://a.gov.cn';",
        );
        let hosts: Vec<_> = urls.iter().filter_map(|u| u.host_str()).collect();
        assert_eq!(hosts, ["bet.example.com", "a.gov.cn"]);
    }
}
