//! `content.spam`: injected gambling/porn content and the tricks that hide it from the site's
//! own staff while search engines see it (DESIGN.md §4). Each finding's detail names the
//! technique and quotes a short snippet. Hidden links and redirects count only when they leave
//! the site for a domain not on the allow-list: hidden drop-down menus pointing inside the
//! site are ordinary web design.

use std::collections::BTreeSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde_json::{Value, json};
use url::Url;

use super::injection::{InjectionMatcher, sentence_around};
use super::page::truncate;
use super::{CheckContext, Keyed, ParsedPage, is_foreign};
use crate::crawl::profile::SpamSettings;
use crate::model::Finding;
use crate::model::check::CONTENT_SPAM;

/// Characters quoted either side of a lexicon hit.
const CONTEXT_CHARS: usize = 20;

/// The lexicon as one automaton, and the injection shapes, built once per crawl.
#[derive(Debug, Clone)]
pub struct SpamMatcher {
    automaton: AhoCorasick,
    words: Vec<String>,
    injection: InjectionMatcher,
}

impl SpamMatcher {
    /// Compiles the lexicon (blank words dropped) and the injection shapes of `settings`.
    pub fn new(settings: &SpamSettings) -> Result<Self, aho_corasick::BuildError> {
        let words: Vec<String> =
            settings.lexicon.iter().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty()).collect();
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&words)?;
        Ok(Self { automaton, injection: InjectionMatcher::new(settings)?, words })
    }

    /// The injection shapes of `[spam.injection]`.
    pub fn injection(&self) -> &InjectionMatcher {
        &self.injection
    }

    /// Like [`SpamMatcher::hits`], for text a reader sees: a word whose sentence reports on
    /// fighting gambling (打击, 查处…) is the government's news, not an advertisement, unless the
    /// sentence also carries an advertising inducement (注册送, 首存…).
    pub fn visible_hits(&self, text: &str) -> Vec<(String, String)> {
        let mut seen = BTreeSet::new();
        let mut hits = Vec::new();
        for found in self.automaton.find_iter(text) {
            let word = &self.words[found.pattern().as_usize()];
            if seen.contains(word) {
                continue;
            }
            if self.injection.reports(sentence_around(text, found.start(), found.end())) {
                continue;
            }
            seen.insert(word.clone());
            hits.push((word.clone(), snippet(text, found.start(), found.end())));
        }
        hits
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

fn keyed(ctx: &CheckContext<'_>, url: &str, technique: &str, key_part: &str, detail: Value) -> Keyed {
    let mut detail = detail;
    detail["technique"] = json!(technique);
    Keyed { key: format!("{technique}|{key_part}"), finding: ctx.finding(&CONTENT_SPAM, Some(url), detail) }
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
    for (word, snippet) in matcher.visible_hits(&format!("{} {}", page.title, page.text)) {
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
        // A script writing a `<script src>` or an image beacon (CNZZ, 51.la statistics) writes
        // no link: only an anchor or a frame leading off the site is one.
        let written = if writes { written_link(script, site, allow) } else { None };
        if let Some((target, markup)) = written {
            let quote = snippet_around(&markup, target.as_str());
            out.push(keyed(
                ctx,
                url,
                "script-written link",
                target.as_str(),
                json!({ "target": target.as_str(), "snippet": quote, "page": url }),
            ));
        } else if let Some(target) = foreign.first().filter(|_| redirects) {
            let quote = snippet_around(script, target.as_str());
            out.push(keyed(
                ctx,
                url,
                "script redirect",
                target.as_str(),
                json!({ "target": target.as_str(), "snippet": quote, "page": url }),
            ));
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
        &CONTENT_SPAM,
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
        &CONTENT_SPAM,
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
    located_urls(script).into_iter().map(|(_, url)| url).collect()
}

/// Absolute http(s) URLs written out in script text, with where each begins.
fn located_urls(script: &str) -> Vec<(usize, Url)> {
    let mut urls = Vec::new();
    let mut rest = script;
    while let Some(at) = rest.find("http") {
        let offset = script.len() - rest.len() + at;
        let candidate = &rest[at..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | ')' | ';'))
            .unwrap_or(candidate.len());
        if let Ok(url) = Url::parse(&candidate[..end])
            && matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
        {
            urls.push((offset, url));
        }
        rest = &candidate[4.min(candidate.len())..];
    }
    urls
}

/// The first link off the site that a script writes into the page, with the script's markup
/// decoded (`unescape("%3Ca href=…")`, `'\x3ca href=…'`): an `href` (of an anchor or an area) or
/// the `src` of a frame. When the link's address is put together at run time
/// (`'<a href="' + u + '">'`), any foreign address in the script is its target.
fn written_link(script: &str, site: &str, allow: &[String]) -> Option<(Url, String)> {
    let markup = decode_script(script);
    let lower = markup.to_ascii_lowercase();
    let mut assembled = false;
    // An `href` inside a tag (`<a class=x href=…`), not a property (`location.href = …`). Tags
    // are looked for within `TAG_REACH` bytes, so that a hostile script cannot make this slow.
    let in_tag = |at: usize| {
        let before = &lower[reach_back(&lower, at)..at];
        before.ends_with(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '/'))
            && before.rfind('<') > before.rfind('>')
    };
    let mut attributes: Vec<usize> =
        lower.match_indices("href").filter(|(at, _)| in_tag(*at)).map(|(at, m)| at + m.len()).collect();
    for frame in ["<iframe", "<frame"] {
        for (at, _) in lower.match_indices(frame) {
            let tag = &lower[at..reach_on(&lower, at)];
            let tag_end = tag.find('>').map_or(tag.len(), |end| end);
            if let Some(src) = tag[..tag_end].find("src") {
                attributes.push(at + src + "src".len());
            }
        }
    }
    attributes.sort_unstable();
    for at in attributes {
        let rest = markup[at..].trim_start();
        let Some(value) = rest.strip_prefix('=') else { continue };
        let value = value.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
        let end = value
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\' | '>' | '+'))
            .unwrap_or(value.len());
        let address = &value[..end];
        if address.is_empty() {
            assembled = true;
            continue;
        }
        let absolute = if address.starts_with("//") { format!("http:{address}") } else { address.to_owned() };
        if let Ok(target) = Url::parse(&absolute)
            && matches!(target.scheme(), "http" | "https")
            && is_foreign(&target, site, allow)
        {
            return Some((target, markup));
        }
    }
    if !assembled {
        return None;
    }
    // Not the address of a script or an image the script also writes (a statistics counter).
    let target = located_urls(&markup)
        .into_iter()
        .filter(|(at, _)| {
            let before = lower[reach_back(&lower, *at)..*at]
                .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'));
            !before.trim_end_matches('=').trim_end().ends_with("src")
        })
        .map(|(_, url)| url)
        .find(|u| is_foreign(u, site, allow))?;
    Some((target, markup))
}

/// Bytes read around an attribute to find its tag.
const TAG_REACH: usize = 2048;

/// Where `TAG_REACH` bytes before `at` begin, on a character boundary.
fn reach_back(text: &str, at: usize) -> usize {
    let mut from = at.saturating_sub(TAG_REACH);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    from
}

/// Where `TAG_REACH` bytes after `at` end, on a character boundary.
fn reach_on(text: &str, at: usize) -> usize {
    let mut to = (at + TAG_REACH).min(text.len());
    while !text.is_char_boundary(to) {
        to += 1;
    }
    to
}

/// Script text with the escapes that hide markup from a plain reading undone: `unescape`'s
/// `%XX` and `%uXXXX`, and the string escapes `\xXX`, `\uXXXX` and `\/`.
fn decode_script(script: &str) -> String {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    while let Some(c) = rest.chars().next() {
        let escaped = match c {
            '%' if rest[1..].starts_with(['u', 'U']) => hex_char(rest.get(2..6)).map(|ch| (ch, 6)),
            '%' => hex_char(rest.get(1..3)).map(|ch| (ch, 3)),
            '\\' if rest[1..].starts_with('x') => hex_char(rest.get(2..4)).map(|ch| (ch, 4)),
            '\\' if rest[1..].starts_with('u') => hex_char(rest.get(2..6)).map(|ch| (ch, 6)),
            '\\' if rest[1..].starts_with('/') => Some(('/', 2)),
            _ => None,
        };
        let (ch, len) = escaped.unwrap_or((c, c.len_utf8()));
        out.push(ch);
        rest = &rest[len..];
    }
    out
}

/// The character a run of hexadecimal digits encodes, if it is one.
fn hex_char(digits: Option<&str>) -> Option<char> {
    let digits = digits?;
    if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok().and_then(char::from_u32)
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
    fn visible_lexicon_words_in_crackdown_sentences_are_news() {
        let settings = crate::crawl::profile::SiteProfile::builtin().expect("profile").spam;
        let matcher = SpamMatcher::new(&settings).expect("lexicon");
        let words =
            |text: &str| -> Vec<String> { matcher.visible_hits(text).into_iter().map(|(w, _)| w).collect() };
        assert!(words("市公安局破获利用百家乐组织赌博案件12起。百家乐、六合彩等网络赌博危害大。").is_empty());
        assert_eq!(words("我局依法查处。百家乐在线开户，天天返利"), ["百家乐"]);
        // An inducement marks advertising even beside a report marker.
        assert_eq!(words("严禁赌博？百家乐注册送彩金"), ["百家乐", "注册送彩金"]);
        // The plain lexicon (hidden text, scripts, cloaking) still sees every word.
        assert_eq!(matcher.hits("市公安局破获利用百家乐组织赌博案件。").len(), 1);
    }

    /// The host of the link a script writes, as `check_page` sees it (allow-list of site.toml).
    fn written(script: &str) -> Option<String> {
        let allow = crate::crawl::profile::SiteProfile::builtin().expect("profile").spam.allow_domains;
        written_link(script, "www.site.gov.cn", &allow).and_then(|(u, _)| u.host_str().map(str::to_owned))
    }

    #[test]
    fn analytics_snippets_write_no_link() {
        // CNZZ: an escaped `<script src>`; with a test host, so the allow-list does not decide.
        let cnzz = "var cnzz_protocol = ((\"https:\" == document.location.protocol) ? \"https://\" : \"http://\");\
            document.write(unescape(\"%3Cspan id='cnzz_stat_icon_1234'%3E%3C/span%3E%3Cscript src='\" + cnzz_protocol + \"s9.stat-demo.example.com/z_stat.php%3Fid%3D1234' type='text/javascript'%3E%3C/script%3E\"));";
        assert_eq!(written(cnzz), None);
        let literal = cnzz.replace("\" + cnzz_protocol + \"", "https://");
        assert!(literal.contains("src='https://s9.stat-demo.example.com/"));
        assert_eq!(written(&literal), None);
        // An image beacon, Baidu Tongji and 51.la.
        assert_eq!(
            written("document.write('<img src=\"http://count.stat-demo.example.com/p.gif?id=9\" width=0>');"),
            None
        );
        assert_eq!(
            written(
                "var hm=document.createElement('script');hm.src='https://hm.baidu.com/hm.js?5b1c';document.write('');"
            ),
            None
        );
        assert_eq!(written("document.write('<script src=\"//js.users.51.la/21.js\"><\\/script>');"), None);
        // Setting `location.href` is a redirect, not a written link.
        assert_eq!(written("document.write('');location.href='http://bet.example.com/';"), None);
    }

    #[test]
    fn written_anchors_and_frames_to_foreign_hosts_are_links() {
        let demo = "document.write('<a href=\"http://www.sbo-demo.example.com/\" style=\"color:#fff\">真人娱乐</a>')";
        assert_eq!(written(demo).as_deref(), Some("www.sbo-demo.example.com"));
        // Escaped forms: `unescape`'s %3C, `\x3c` and `\u003c`.
        assert_eq!(
            written("document.write(unescape('%3Ca%20href%3D%22http%3A%2F%2Fbet1.example.com%2F%22%3E%E5%BD%A9%3C/a%3E'))")
                .as_deref(),
            Some("bet1.example.com")
        );
        assert_eq!(
            written(
                "el.innerHTML='\\x3ca href=\\x22https://bet2.example.com/x\\x22\\x3e\\u5f69\\x3c/a\\x3e';"
            )
            .as_deref(),
            Some("bet2.example.com")
        );
        assert_eq!(
            written("document.write(\"<iframe width=0 height=0 src='//bet3.example.com/'></iframe>\")")
                .as_deref(),
            Some("bet3.example.com")
        );
        // An address put together at run time: any foreign address in the script.
        assert_eq!(
            written("var u='http://bet4.example.com/';document.write('<a href=\"'+u+'\">彩</a>');")
                .as_deref(),
            Some("bet4.example.com")
        );
        // … but not the address of a counter the script also writes.
        assert_eq!(
            written(
                "var u='/tzgg/';document.write('<a href=\"'+u+'\">通知</a><img src=\"http://count.stat-demo.example.com/p.gif\">');"
            ),
            None
        );
        // Links to the site itself or to trusted hosts are not spam.
        assert_eq!(
            written("document.write('<a href=\"http://www.site.gov.cn/x\">x</a><a href=\"/y\">y</a>')"),
            None
        );
        assert_eq!(
            written(
                "document.write('<a href=\"https://www.cnzz.com/stat/website.php?web_id=1\">站长统计</a>')"
            ),
            None
        );
    }

    #[test]
    fn escapes_that_hide_markup_are_undone() {
        assert_eq!(decode_script("%3Ca%20href%3D%27x%27%3E"), "<a href='x'>");
        assert_eq!(decode_script("\\x3cb\\u003e%u5F69\\/"), "<b>彩/");
        // Not escapes: left as they are, multi-byte text included.
        assert_eq!(decode_script("100% 彩%zz\\n%u12"), "100% 彩%zz\\n%u12");
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
