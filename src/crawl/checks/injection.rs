//! Visible injection (issue #10): a gambling brand's advertising phrase glued onto an article's
//! title and heading, put in front of or into its paragraphs, and carried by the title into the
//! link texts of list pages and the home page. The reference city's own 2009 report was hacked
//! this way (`南宁市2009年政府信息公开工作报告bob最新官网`), with a brand no lexicon knew.
//!
//! So nothing here is a list of brands. A phrase is found by its *shape* — a brand token followed
//! by words naming a site (官网, 登录入口, 网页版, app下载…) or a gambling category (体育, 娱乐…),
//! all of them data in `[spam.injection]` — and judged by its *position*: glued onto the end or
//! the start of a title, heading, link text or paragraph, or spliced into a sentence, and by how
//! often it recurs. A government's own words of the same shape (南宁市人民政府官网, 爱南宁APP下载,
//! 体育彩票) are recognised by the legitimate markers, the allow-list and the unit's name.
//!
//! Shapes come in three tiers; the stronger the shape, the less position evidence it needs:
//! - strong: a Latin brand with a site word (`bob最新官网`), a Chinese brand with a category and
//!   a site word (`开云体育官网`), or any phrase holding a lexicon word: reported wherever it
//!   stands, unless right after a verb that refers to it (登录, 访问…);
//! - medium: a Latin brand with a category (`bob体育`), a Chinese brand with two category words
//!   (`开云体育娱乐`), or with a strong site word (`华体会登录入口`): needs an affix position or
//!   two placements;
//! - weak: a Chinese brand with only a plain site word (`华体会官网`), a Latin brand with a generic
//!   word (`pg电子`): needs to end a title, heading or link text or to start a paragraph, and no
//!   plain mention elsewhere unless it is glued on twice.

use std::collections::{BTreeMap, BTreeSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde_json::{Value, json};

use super::CheckContext;
use super::Keyed;
use super::page::ParsedPage;
use crate::crawl::profile::{InjectionSettings, SpamSettings};
use crate::model::check::CONTENT_SPAM;

/// Characters quoted either side of a phrase.
const CONTEXT_CHARS: usize = 20;
/// Chinese characters read before a phrase's words, to find where its brand begins.
const WINDOW_CHARS: usize = 8;
/// Sightings kept per site at most: a hostile site must not grow memory without bound.
const MAX_SIGHTINGS: usize = 5_000;
/// Runs of phrase words judged per page at most (brands are settled by comparing them pairwise).
const MAX_CHAINS: usize = 400;
/// Characters that may join the words of one phrase (`开云·体育-官网`).
const JOINERS: [char; 8] = [' ', '·', '-', '—', '_', '|', '｜', '•'];

/// Characters that end a sentence, and how far a sentence reaches at most either side of a word.
const SENTENCE_ENDS: [char; 7] = ['。', '！', '？', '；', '!', '?', ';'];
const SENTENCE_REACH: usize = 40;

/// The technique name findings carry.
pub const TECHNIQUE: &str = "injected phrase";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Site,
    /// A site word government pages do not put after a name of their own (最新官网, 登录入口…).
    StrongSite,
    Category,
    Generic,
    Decoration,
}

/// How much a phrase's shape says by itself (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shape {
    /// A Chinese brand with only a plain site word, or a Latin brand with a generic word: needs an
    /// affix position and no plain mention elsewhere.
    Weak,
    /// A Latin brand with a category, a Chinese brand with two categories or a strong site word:
    /// needs an affix position or two placements.
    Medium,
    /// A Latin brand with a site word, a Chinese brand with category and site word, or a phrase
    /// holding a lexicon word: reported wherever it stands, unless referred to.
    Strong,
}

/// Where on a page a phrase sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Place {
    /// The page's `<title>`.
    Title,
    /// A heading (`h1`–`h6` or an element styled as a title).
    Heading,
    /// The n-th paragraph (1-based).
    Paragraph(usize),
    /// A text block that is not a numbered paragraph.
    Text,
    /// The visible text of a link (list pages and the home page carry titles this way).
    LinkText,
}

/// How a phrase stands in its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// In front of the text, which goes on after it.
    Start,
    /// Appended to the text.
    End,
    /// Spliced into the text.
    Middle,
    /// The text is (nearly) the phrase alone: a name, not an injection by position.
    Whole,
    /// Right after a verb that refers to it (登录……官网): a mention.
    Reference,
}

/// One phrase seen in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// The phrase as the page shows it.
    pub phrase: String,
    /// The phrase normalised (ASCII lower-cased, joiners removed): what sightings are grouped by.
    pub key: String,
    /// The phrase's tier: how much position evidence it needs.
    pub shape: Shape,
    /// Where on the page it was seen.
    pub place: Place,
    /// How it stands in its text (glued on, spliced in, the whole text, a mention).
    pub position: Position,
    /// The phrase with up to 20 characters either side, for the finding's evidence.
    pub snippet: String,
}

impl Sighting {
    /// Whether the position alone says the phrase was put there.
    fn injected(&self) -> bool {
        matches!(self.position, Position::Start | Position::End | Position::Middle)
    }

    /// Whether it counts as evidence for a phrase of this shape.
    fn counts(&self, shape: Shape) -> bool {
        self.injected() || (shape == Shape::Strong && self.position == Position::Whole)
    }
}

/// The words of `[spam.injection]` as automata, built once per crawl.
#[derive(Debug, Clone)]
pub struct InjectionMatcher {
    words: Option<AhoCorasick>,
    kinds: Vec<Word>,
    lexicon: Vec<String>,
    report_markers: Vec<String>,
    ad_markers: Vec<String>,
    latin_stopwords: BTreeSet<String>,
    settings: InjectionSettings,
}

/// A run of phrase words in a text, by byte offsets.
#[derive(Debug, Clone, Copy)]
struct Chain {
    start: usize,
    end: usize,
    site: bool,
    strong_site: bool,
    category: bool,
    generic: bool,
    /// Words other than decorations.
    words: usize,
}

impl Chain {
    fn new(start: usize, end: usize, word: Word) -> Self {
        let mut chain =
            Self { start, end, site: false, strong_site: false, category: false, generic: false, words: 0 };
        chain.add(end, word);
        chain
    }

    fn add(&mut self, end: usize, word: Word) {
        self.end = end;
        match word {
            Word::Site => self.site = true,
            Word::StrongSite => (self.site, self.strong_site) = (true, true),
            Word::Category => self.category = true,
            Word::Generic => self.generic = true,
            Word::Decoration => return,
        }
        self.words += 1;
    }
}

/// A chain with what stands before it, before the brand is settled.
struct Raw {
    field: usize,
    chain: Chain,
    chain_key: String,
    /// Chinese characters right before the chain (at most `WINDOW_CHARS`), and where they start.
    window: String,
    window_start: usize,
    /// A Latin brand right before the chain, or right before the Chinese window.
    latin: Option<(usize, String)>,
}

impl InjectionMatcher {
    /// Builds the matcher from `[spam.injection]` and the lexicon (a phrase holding a lexicon word is strong).
    pub fn new(spam: &SpamSettings) -> Result<Self, aho_corasick::BuildError> {
        let settings = &spam.injection;
        let mut patterns = Vec::new();
        let mut kinds = Vec::new();
        for (list, kind) in [
            (&settings.strong_site_words, Word::StrongSite),
            (&settings.site_words, Word::Site),
            (&settings.category_words, Word::Category),
            (&settings.generic_words, Word::Generic),
            (&settings.decorations, Word::Decoration),
        ] {
            for word in list.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
                patterns.push(word.to_owned());
                kinds.push(kind);
            }
        }
        let words = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(&patterns)?,
            )
        };
        Ok(Self {
            words,
            kinds,
            lexicon: trimmed(&spam.lexicon).map(|w| w.to_lowercase()).collect(),
            report_markers: trimmed(&spam.report_markers).collect(),
            ad_markers: trimmed(&spam.ad_markers).collect(),
            latin_stopwords: settings.latin_stopwords.iter().map(|w| w.trim().to_ascii_lowercase()).collect(),
            settings: settings.clone(),
        })
    }

    /// Every phrase of an injection's shape on `page` that is not the government's own, with
    /// where it sits. Whether it is reported is decided over the whole site ([`SiteInjections`]).
    pub fn scan(&self, page: &ParsedPage, unit_name: &str) -> Vec<Sighting> {
        let mut fields: Vec<(Place, &str)> = vec![(Place::Title, page.title.as_str())];
        fields.extend(page.headings.iter().map(|h| (Place::Heading, h.as_str())));
        fields.extend(
            page.blocks.iter().map(|b| (b.paragraph.map_or(Place::Text, Place::Paragraph), b.text.as_str())),
        );
        fields.extend(page.links.iter().map(|l| (Place::LinkText, l.text.as_str())));
        let mut raws = Vec::new();
        'fields: for (field, (_, text)) in fields.iter().enumerate() {
            for chain in self.chains(text) {
                if raws.len() >= MAX_CHAINS {
                    break 'fields;
                }
                raws.push(raw(field, text, chain));
            }
        }
        let mut sightings = Vec::new();
        for (i, candidate) in raws.iter().enumerate() {
            let (place, text) = fields[candidate.field];
            let Some((start, brand)) = self.brand(candidate, &raws, i) else { continue };
            if let Some(sighting) = self.sighting(place, text, start, &brand, candidate, unit_name) {
                sightings.push(sighting);
            }
        }
        sightings
    }

    /// Runs of phrase words that hold at least one word other than a decoration.
    fn chains(&self, text: &str) -> Vec<Chain> {
        let Some(words) = &self.words else { return Vec::new() };
        let mut chains = Vec::new();
        let mut current: Option<Chain> = None;
        for found in words.find_iter(text) {
            let kind = self.kinds[found.pattern().as_usize()];
            if let Some(chain) = current.as_mut() {
                let gap = &text[chain.end..found.start()];
                let joined =
                    gap.is_empty() || (gap.chars().count() == 1 && gap.chars().all(|c| JOINERS.contains(&c)));
                if joined {
                    chain.add(found.end(), kind);
                    continue;
                }
                chains.extend(current.take());
            }
            current = Some(Chain::new(found.start(), found.end(), kind));
        }
        chains.extend(current);
        chains.retain(|c| c.words > 0);
        chains
    }

    /// Where the brand before a chain starts, and the brand. A Chinese brand ends where other
    /// sightings of the same words on the page stop agreeing (the same phrase glued onto
    /// different texts), or else after the last boundary word (通知, 报告, 的…); never before a
    /// referring word (通过, 下载, 可…).
    fn brand(&self, candidate: &Raw, raws: &[Raw], index: usize) -> Option<(usize, String)> {
        let max = self.settings.max_brand_chars;
        if candidate.window.is_empty() {
            let (start, latin) = candidate.latin.clone()?;
            return (!self.is_stopword(&latin)).then_some((start, latin));
        }
        let window: Vec<char> = candidate.window.chars().collect();
        let shared = raws
            .iter()
            .enumerate()
            .filter(|(j, other)| {
                *j != index && other.chain_key == candidate.chain_key && other.window != candidate.window
            })
            .map(|(_, other)| common_suffix_chars(&candidate.window, &other.window))
            .max()
            .unwrap_or(0);
        let chars = if shared >= 2 {
            shared.min(max)
        } else {
            let mut keep = window.len().min(max);
            for boundary in self.settings.boundary_words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
                if let Some(at) = candidate.window.rfind(boundary) {
                    let after = candidate.window[at + boundary.len()..].chars().count();
                    keep = keep.min(after);
                }
            }
            keep
        };
        let chars = chars.min(self.after_referring(&window));
        let brand: String = window[window.len() - chars..].iter().collect();
        let start = candidate.window_start + candidate.window.len() - brand.len();
        // A Latin token glued in front of the whole window is part of the brand (`ayx爱游戏`).
        match &candidate.latin {
            Some((latin_start, latin)) if chars == window.len() && !self.is_stopword(latin) => {
                Some((*latin_start, format!("{latin}{brand}")))
            }
            _ if chars < 2 => None,
            _ => Some((start, brand)),
        }
    }

    /// How many of `window`'s last characters follow its last referring word (通过, 下载, 可…):
    /// `官方APP` in `市民可通过官方APP购票` is the organiser's own app, and `民可通过` no brand.
    /// Read on the whole window, so that a brand cut to its longest never keeps half a verb
    /// (`载九游会` of `请下载九游会`).
    fn after_referring(&self, window: &[char]) -> usize {
        let text: String = window.iter().collect();
        self.settings
            .referring_words
            .iter()
            .map(|w| w.trim())
            .filter(|w| !w.is_empty())
            .filter_map(|word| text.rfind(word).map(|at| text[at + word.len()..].chars().count()))
            .min()
            .unwrap_or(window.len())
    }

    /// Whether a sentence reports on fighting gambling rather than advertising it.
    pub(super) fn reports(&self, sentence: &str) -> bool {
        self.report_markers.iter().any(|m| sentence.contains(m.as_str()))
            && !self.ad_markers.iter().any(|m| sentence.contains(m.as_str()))
    }

    fn is_stopword(&self, latin: &str) -> bool {
        self.latin_stopwords.contains(&latin.to_ascii_lowercase())
    }

    fn sighting(
        &self,
        place: Place,
        text: &str,
        start: usize,
        brand: &str,
        candidate: &Raw,
        unit_name: &str,
    ) -> Option<Sighting> {
        let chain = candidate.chain;
        // A lexicon word reaching into the brand belongs to the phrase (`澳门新葡京官网`), and
        // makes it an advertisement whatever else the brand holds, unless its sentence reports
        // on fighting gambling (取缔非法娱乐城).
        let lower = text.to_ascii_lowercase();
        let lexicon_start = self
            .lexicon
            .iter()
            .flat_map(|word| lower.match_indices(word.as_str()))
            .filter(|(at, word)| *at < chain.end && at + word.len() > start)
            .map(|(at, _)| at)
            .min()
            .filter(|_| !self.reports(sentence_around(text, start, chain.end)));
        let start = lexicon_start.map_or(start, |at| at.min(start));
        if lexicon_start.is_none() && self.is_legitimate(text, start, chain.end, brand, unit_name) {
            return None;
        }
        let phrase = &text[start..chain.end];
        let latin = brand.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
        let shape = if lexicon_start.is_some() {
            Shape::Strong
        } else if latin {
            match (chain.site, chain.category, chain.generic) {
                (true, _, _) => Shape::Strong,
                (_, true, _) => Shape::Medium,
                _ => Shape::Weak,
            }
        } else {
            match (chain.site, chain.category) {
                (true, true) => Shape::Strong,
                (false, true) if chain.words >= 2 => Shape::Medium,
                (true, false) if chain.strong_site => Shape::Medium,
                (true, false) => Shape::Weak,
                _ => return None,
            }
        };
        Some(Sighting {
            phrase: phrase.to_owned(),
            key: normalise(phrase),
            shape,
            place,
            position: self.position(place, text, start, chain.end),
            snippet: snippet(text, start, chain.end),
        })
    }

    /// The government's own words: a brand with a legitimate marker (市, 政府, 广西…), a brand
    /// sharing two characters with the unit's name, or a phrase overlapping an allowed phrase.
    fn is_legitimate(&self, text: &str, start: usize, end: usize, brand: &str, unit_name: &str) -> bool {
        let chinese: String = brand.chars().filter(|c| is_cjk(*c)).collect();
        if self.settings.legit_markers.iter().map(|m| m.trim()).any(|m| !m.is_empty() && chinese.contains(m))
        {
            return true;
        }
        let name: Vec<char> = unit_name.chars().collect();
        let brand_chars: Vec<char> = chinese.chars().collect();
        if brand_chars.windows(2).any(|pair| name.windows(2).any(|n| n == pair)) {
            return true;
        }
        let latin: String =
            brand.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
        if !latin.is_empty() && unit_name.to_ascii_lowercase().contains(&latin) {
            return true;
        }
        // ASCII lower-casing keeps byte offsets.
        let lower = text.to_ascii_lowercase();
        self.settings
            .allow_phrases
            .iter()
            .map(|p| p.trim().to_ascii_lowercase())
            .filter(|p| !p.is_empty())
            .any(|allowed| {
                lower.match_indices(allowed.as_str()).any(|(at, m)| at < end && at + m.len() > start)
            })
    }

    fn position(&self, place: Place, text: &str, start: usize, end: usize) -> Position {
        let (before, after) = (&text[..start], &text[end..]);
        let remainder = before.chars().chain(after.chars()).filter(|c| c.is_alphanumeric()).count();
        if remainder < self.settings.min_remainder_chars {
            return Position::Whole;
        }
        let quoted =
            before.chars().next_back().is_some_and(|c| matches!(c, '“' | '‘' | '"' | '\'' | '「' | '『'))
                && after.chars().next().is_some_and(|c| matches!(c, '”' | '’' | '"' | '\'' | '」' | '』'));
        if quoted {
            // Injected copy is never put in quotation marks; a quoted phrase is being talked about.
            return Position::Reference;
        }
        let lead = before.trim_end_matches(is_separator);
        if lead.is_empty() {
            return Position::Start;
        }
        let lead = lead.trim_end_matches(is_opening);
        if self.settings.mention_verbs.iter().map(|v| v.trim()).any(|v| !v.is_empty() && lead.ends_with(v)) {
            return Position::Reference;
        }
        if after.trim_start_matches(|c| is_separator(c) || is_closing(c)).is_empty() {
            return Position::End;
        }
        // A title is often `article - site`: a phrase ending or starting one of its parts is an
        // affix of that part.
        if matches!(place, Place::Title | Place::Heading | Place::LinkText) {
            if after.starts_with(JOINERS) || after.starts_with(['–', '｜']) {
                return Position::End;
            }
            if before.ends_with(JOINERS) || before.ends_with(['–', '｜']) {
                return Position::Start;
            }
        }
        Position::Middle
    }
}

fn trimmed(list: &[String]) -> impl Iterator<Item = String> + '_ {
    list.iter().map(|w| w.trim().to_owned()).filter(|w| !w.is_empty())
}

/// The sentence of `text` holding the bytes `start..end`, at most `SENTENCE_REACH` characters
/// either side (page text runs list items and menus together without sentence ends).
pub(super) fn sentence_around(text: &str, start: usize, end: usize) -> &str {
    let reach_back = text[..start].char_indices().rev().nth(SENTENCE_REACH - 1).map_or(0, |(at, _)| at);
    let from = text[..start]
        .rfind(SENTENCE_ENDS)
        .map_or(0, |at| at + text[at..].chars().next().map_or(1, char::len_utf8))
        .max(reach_back);
    let reach_on = text[end..].char_indices().nth(SENTENCE_REACH).map_or(text.len(), |(at, _)| end + at);
    let to = text[end..].find(SENTENCE_ENDS).map_or(text.len(), |at| end + at).min(reach_on);
    &text[from..to]
}

fn raw(field: usize, text: &str, chain: Chain) -> Raw {
    let before = &text[..chain.start];
    let before = before.strip_suffix(JOINERS).unwrap_or(before);
    let mut window_start = before.len();
    for (at, c) in before.char_indices().rev().take(WINDOW_CHARS) {
        if !is_cjk(c) {
            break;
        }
        window_start = at;
    }
    let window = before[window_start..].to_owned();
    let mut latin_start = window_start;
    for (at, c) in before[..window_start].char_indices().rev() {
        if !c.is_ascii_alphanumeric() {
            break;
        }
        latin_start = at;
    }
    let token = &before[latin_start..window_start];
    let latin = (token.len() >= 2 && token.chars().any(|c| c.is_ascii_alphabetic()) && token.len() <= 20)
        .then(|| (latin_start, token.to_owned()));
    Raw { field, chain, chain_key: normalise(&text[chain.start..chain.end]), window, window_start, latin }
}

/// Sightings of one site, kept until the crawl ends: a phrase glued onto an article's title is
/// also in the link texts of the list pages that link to it, and is judged on all of them.
#[derive(Debug, Default)]
pub struct SiteInjections {
    sightings: Vec<(String, Sighting)>,
}

impl SiteInjections {
    /// Scans one page of the site.
    pub fn absorb(
        &mut self,
        matcher: &InjectionMatcher,
        ctx: &CheckContext<'_>,
        url: &str,
        page: &ParsedPage,
    ) {
        for sighting in matcher.scan(page, &ctx.unit.name) {
            if self.sightings.len() >= MAX_SIGHTINGS {
                return;
            }
            self.sightings.push((url.to_owned(), sighting));
        }
    }

    /// One finding per phrase for the whole site: its URL is the page that shows the phrase in
    /// most places (the hacked article rather than the lists linking to it); placements on other
    /// pages name their page, and `pages` counts the pages showing it. The same phrase in a
    /// site-wide template is one finding, not one per page.
    pub fn findings(&self, ctx: &CheckContext<'_>, max_placements: usize) -> Vec<Keyed> {
        let groups = self.groups();
        let mut out = Vec::new();
        for (key, members) in groups {
            let shape = members.iter().map(|(_, s)| s.shape).max().unwrap_or(Shape::Weak);
            if !decide(shape, &members) {
                continue;
            }
            let evidence: Vec<&(String, Sighting)> =
                members.iter().copied().filter(|(_, s)| s.counts(shape)).collect();
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for (page, sighting) in &evidence {
                if sighting.place != Place::LinkText {
                    *counts.entry(page.as_str()).or_default() += 1;
                }
            }
            let first_page = evidence.first().map(|(p, _)| p.as_str()).unwrap_or_default();
            let primary = evidence
                .iter()
                .map(|(p, _)| p.as_str())
                .max_by_key(|p| (counts.get(p).copied().unwrap_or(0), *p == first_page))
                .unwrap_or(first_page)
                .to_owned();
            let mut ordered: Vec<&(String, Sighting)> =
                evidence.iter().copied().filter(|(p, _)| *p == primary).collect();
            ordered.extend(evidence.iter().copied().filter(|(p, _)| *p != primary));
            let mut placements: Vec<Value> = Vec::new();
            for (page, sighting) in &ordered {
                let placement = placement(sighting.place, page, page == &primary);
                if !placements.contains(&placement) && placements.len() < max_placements {
                    placements.push(placement);
                }
            }
            let lead = ordered.first().map(|(_, s)| s);
            let pages: BTreeSet<&str> = evidence.iter().map(|(p, _)| p.as_str()).collect();
            let detail = json!({
                "technique": TECHNIQUE,
                "phrase": lead.map(|s| s.phrase.clone()).unwrap_or_else(|| key.clone()),
                "placements": placements,
                "snippet": lead.map(|s| s.snippet.clone()).unwrap_or_default(),
                "page": primary,
                "pages": pages.len(),
            });
            out.push(Keyed {
                key: format!("{TECHNIQUE}|{key}"),
                finding: ctx.finding(&CONTENT_SPAM, Some(&primary), detail),
            });
        }
        out
    }

    /// Sightings grouped by phrase; a phrase read with a longer brand on one page
    /// (`城市开云体育官网`) joins the shorter reading of another (`开云体育官网`).
    fn groups(&self) -> BTreeMap<String, Vec<&(String, Sighting)>> {
        let mut keys: Vec<&str> = self.sightings.iter().map(|(_, s)| s.key.as_str()).collect();
        keys.sort_by_key(|k| (k.chars().count(), *k));
        keys.dedup();
        let mut canonical: BTreeMap<&str, &str> = BTreeMap::new();
        for (i, key) in keys.iter().enumerate() {
            let shorter = keys[..i].iter().find(|k| key.ends_with(**k) && canonical.get(**k) == Some(*k));
            canonical.insert(key, shorter.copied().unwrap_or(key));
        }
        let mut groups: BTreeMap<String, Vec<&(String, Sighting)>> = BTreeMap::new();
        for entry in &self.sightings {
            let key = canonical.get(entry.1.key.as_str()).copied().unwrap_or(entry.1.key.as_str());
            groups.entry(key.to_owned()).or_default().push(entry);
        }
        groups
    }
}

/// Whether the sightings of a phrase of this shape make it an injection.
fn decide(shape: Shape, members: &[&(String, Sighting)]) -> bool {
    let evidence: Vec<&(String, Sighting)> =
        members.iter().copied().filter(|(_, s)| s.counts(shape)).collect();
    // Title and heading usually repeat each other: one slot per page.
    let slots: BTreeSet<(&str, Place)> = evidence
        .iter()
        .map(|(page, s)| {
            let place = match s.place {
                Place::Heading => Place::Title,
                other => other,
            };
            (page.as_str(), place)
        })
        .collect();
    let affix = evidence.iter().any(|(_, s)| matches!(s.position, Position::Start | Position::End));
    let appended = evidence.iter().any(|(_, s)| {
        s.position == Position::End && matches!(s.place, Place::Title | Place::Heading | Place::LinkText)
    });
    let starts = evidence.iter().any(|(_, s)| s.position == Position::Start);
    let mentioned = members.iter().any(|(_, s)| !s.injected());
    match shape {
        Shape::Strong => !evidence.is_empty(),
        Shape::Medium => affix || slots.len() >= 2,
        Shape::Weak => (appended || starts) && (slots.len() >= 2 || !mentioned),
    }
}

fn placement(place: Place, page: &str, primary: bool) -> Value {
    let mut value = match place {
        Place::Title => json!({ "where": "title" }),
        Place::Heading => json!({ "where": "heading" }),
        Place::Paragraph(n) => json!({ "where": "paragraph", "n": n }),
        Place::Text => json!({ "where": "text" }),
        Place::LinkText => json!({ "where": "link text" }),
    };
    if place == Place::LinkText || !primary {
        value["page"] = json!(page);
    }
    value
}

fn normalise(phrase: &str) -> String {
    phrase.chars().filter(|c| !JOINERS.contains(c) && !c.is_whitespace()).collect::<String>().to_lowercase()
}

fn common_suffix_chars(a: &str, b: &str) -> usize {
    a.chars().rev().zip(b.chars().rev()).take_while(|(x, y)| x == y).count()
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

/// Whitespace and the characters that separate a title's parts.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || JOINERS.contains(&c)
        || matches!(c, '–' | ':' | '：' | ',' | '，' | '、' | '>' | '»' | '/')
}

fn is_opening(c: char) -> bool {
    matches!(c, '“' | '‘' | '"' | '\'' | '《' | '「' | '『' | '(' | '（' | '[' | '【')
}

fn is_closing(c: char) -> bool {
    matches!(
        c,
        '。' | '.'
            | '!'
            | '！'
            | '?'
            | '？'
            | ';'
            | '；'
            | '”'
            | '’'
            | '"'
            | '\''
            | '》'
            | '」'
            | '』'
            | ')'
            | '）'
            | ']'
            | '】'
    )
}

fn snippet(text: &str, start: usize, end: usize) -> String {
    let before: String =
        text[..start].chars().rev().take(CONTEXT_CHARS).collect::<Vec<_>>().into_iter().rev().collect();
    let after: String = text[end..].chars().take(CONTEXT_CHARS).collect();
    format!("{before}{}{after}", &text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::checks::{HiddenRules, parse_page};
    use crate::crawl::profile::SiteProfile;

    const UNIT: &str = "南宁市人民政府办公室";

    fn matcher() -> InjectionMatcher {
        InjectionMatcher::new(&SiteProfile::builtin().expect("profile").spam).expect("matcher")
    }

    fn page(html: &str) -> ParsedPage {
        let url = url::Url::parse("http://site.gov.cn/a/1.html").expect("url");
        parse_page(html, &url, HiddenRules { tiny_font_px: 2, offscreen_px: 1000 })
    }

    /// `(phrase, place, position)` of every sighting.
    fn seen(html: &str) -> Vec<(String, Place, Position)> {
        matcher().scan(&page(html), UNIT).into_iter().map(|s| (s.phrase, s.place, s.position)).collect()
    }

    fn phrases(html: &str) -> BTreeSet<String> {
        seen(html).into_iter().map(|(p, _, _)| p).collect()
    }

    fn judged(html: &str) -> bool {
        let sightings: Vec<(String, Sighting)> =
            matcher().scan(&page(html), UNIT).into_iter().map(|s| ("p".to_owned(), s)).collect();
        let refs: Vec<&(String, Sighting)> = sightings.iter().collect();
        let shape = refs.iter().map(|(_, s)| s.shape).max();
        shape.is_some_and(|shape| decide(shape, &refs))
    }

    #[test]
    fn the_seed_pages_placements_are_all_found() {
        let found = seen(
            "<title>南宁市2009年政府信息公开工作报告bob最新官网</title>\
             <h1>南宁市2009年政府信息公开工作报告bob最新官网</h1>\
             <p>bob最新官网本报告根据《条例》要求，由南宁市人民政府办公厅编制。丰富公开形式,bob最新官网将政府信息公开各项工作引向深入。</p>\
             <p>开设了《南宁生活指南》、bob最新官网《政协提案》等大型栏目。</p>",
        );
        let expected = [
            (Place::Title, Position::End),
            (Place::Heading, Position::End),
            (Place::Paragraph(1), Position::Start),
            (Place::Paragraph(1), Position::Middle),
            (Place::Paragraph(2), Position::Middle),
        ];
        assert_eq!(found.len(), expected.len(), "{found:?}");
        for ((phrase, place, position), (want_place, want_position)) in found.iter().zip(expected) {
            assert_eq!(phrase, "bob最新官网");
            assert_eq!((*place, *position), (want_place, want_position), "{found:?}");
        }
    }

    #[test]
    fn a_chinese_brand_begins_where_the_title_ends_or_where_repeats_disagree() {
        // One sighting: the brand begins after the title's last boundary word (活动, 通知).
        assert_eq!(
            phrases("<title>南宁市开展2024年全民健身月活动开云体育官网</title>"),
            BTreeSet::from(["开云体育官网".to_owned()])
        );
        assert_eq!(
            phrases("<title>关于印发政务公开工作要点的通知华体会官网</title>"),
            BTreeSet::from(["华体会官网".to_owned()])
        );
        // Repeats glued onto different texts agree only on the brand.
        assert_eq!(
            phrases(
                "<title>热烈祝贺我市荣获全国文明城市星空体育官方网站</title><p>星空体育官方网站本市今年以来加快建设。</p>"
            ),
            BTreeSet::from(["星空体育官方网站".to_owned()])
        );
        // A Latin token glued in front belongs to the brand; a stop word does not make one.
        assert_eq!(
            phrases("<p>今年以来，我市ayx爱游戏app下载加快推进项目建设。</p>"),
            BTreeSet::from(["ayx爱游戏app下载".to_owned()])
        );
        assert!(phrases("<p>附件请下载PDF官网版本或者WPS官网版本阅读。</p>").is_empty());
    }

    #[test]
    fn unseen_brands_of_every_shape_are_judged_injected() {
        for html in [
            "<p>今年以来，我市持续优化营商环境kaiyun官方网站推动高质量发展。</p>",
            "<title>南宁市开展2024年全民健身月活动开云体育官网</title>",
            "<p>hth登录入口我市召开政务公开工作推进会，部署下一阶段工作。</p>",
            "<h1>关于做好冬季安全生产工作的通知乐鱼体育网页版</h1>",
            "<title>bob综合体育南宁市召开政务公开工作会议</title>",
            "<title>关于印发政务公开工作要点的通知华体会官网</title>",
            "<div>扎实推进各项工作，九游会体育登录入口确保取得实效。</div>",
            "<p>会议要求，澳门新葡京官网各单位要高度重视。</p>",
            "<p>会议要求，AG真人各单位要高度重视。</p>",
        ] {
            assert!(judged(html), "{html}: {:?}", seen(html));
        }
    }

    #[test]
    fn the_governments_own_words_are_not_injections() {
        for html in [
            "<title>南宁市人民政府官网</title><p>请登录南宁市人民政府官网查询。</p>",
            "<a href=\"/app\">爱南宁APP下载</a><a href=\"http://zwfw.gxzf.gov.cn/\">广西政务服务网</a>",
            "<title>关于推广使用爱南宁APP的通知</title><p>市民可在应用商店搜索“爱南宁”进行APP下载，或登录南宁市人民政府官网办理。</p>",
            "<title>南宁市体育局关于举办2024年全民健身运动会的通知</title><h1>南宁市体育局</h1>\
             <p>为推动群众体育和竞技体育协调发展，市本级体育彩票公益金用于支持全民健身和体育赛事。</p>\
             <p>详情请登录南宁市体育局官网或南宁体育官网查询，丰富群众体育娱乐生活。</p>",
            "<title>南宁市12345政务服务便民热线2024年工作总结</title><p>南宁市12345政务服务便民热线官方网站已开通。</p>",
            "<p>百家乐、六合彩等网络赌博危害大，市民要远离赌博网站。</p>",
            "<title>我市举办文化娱乐场所安全培训</title><p>全市文化娱乐场所负责人参加培训。</p>",
            "<p>公安机关依法取缔非法AG真人网站，查处赌博窝点。</p>",
            "<p>统一身份认证登录入口位于首页右上角，企业登录入口在其下方。</p>",
        ] {
            assert!(!judged(html), "{html}: {:?}", seen(html));
        }
    }

    #[test]
    fn a_brand_never_holds_a_referring_word() {
        // The organiser's own site or app after a referring verb or function word: no brand.
        for html in [
            "<title>CBA联赛南宁赛区比赛门票开售 市民可通过官方APP购票_南宁市体育局</title>\
             <h1>CBA联赛南宁赛区比赛门票开售 市民可通过官方APP购票</h1>\
             <p>研究部署CBA联赛南宁赛区比赛门票开售 市民可通过官方APP购票有关事项。</p>\
             <a href=\"/a/4.html\">CBA联赛南宁赛区比赛门票开售 市民可通过官方APP购票</a>",
            "<title>马拉松报名今日开启 选手请下载官方APP报名</title><p>选手请下载官方APP完成报名和缴费。</p>",
            "<title>市民可关注官方网站了解赛事安排</title><p>欢迎广大群众关注官方网站获取最新赛程。</p>",
            "<title>考生请登录官网查询成绩</title><p>考生请登录官网查询成绩，或拨打咨询电话。</p>",
            "<p>市民朋友可在官方APP上预约场馆，也可扫码官方APP小程序。</p>",
            "<p>选手凭官方APP电子票入场，观众需使用官方APP实名购票。</p>",
        ] {
            assert!(phrases(html).is_empty(), "{html}: {:?}", seen(html));
            assert!(!judged(html), "{html}");
        }
        // Repeats that agree on the referring verb alone do not make it a brand either.
        assert!(phrases("<p>市民可通过官方APP购票。</p><p>游客请通过官方APP预约。</p>").is_empty());
    }

    #[test]
    fn injected_brands_beside_referring_words_are_still_caught() {
        for (html, phrase) in [
            (
                "<title>CBA联赛南宁赛区比赛门票开售 市民可通过官方APP购票-开云体育官方APP</title>",
                "开云体育官方APP",
            ),
            ("<p>乐鱼体育网页版选手请下载官方APP完成报名和缴费。</p>", "乐鱼体育网页版"),
            ("<p>星空体育官方网站市民可关注官方网站了解赛事安排。</p>", "星空体育官方网站"),
            ("<p>考生请登录官网查询成绩，bob最新官网或拨打咨询电话。</p>", "bob最新官网"),
            // A brand right after a function word is still a brand.
            ("<p>今年以来，市民可华体会体育官网办理业务量增长。</p>", "华体会体育官网"),
            ("<title>关于做好冬季安全生产工作的通知请下载九游会体育app下载</title>", "九游会体育app下载"),
        ] {
            assert!(phrases(html).contains(phrase), "{html}: {:?}", seen(html));
            assert!(judged(html), "{html}: {:?}", seen(html));
        }
    }

    #[test]
    fn a_sentence_ends_at_its_punctuation_or_its_reach() {
        let text = "第一句。打击赌博，百家乐在线！第三句";
        let at = text.find("百家乐").expect("word");
        assert_eq!(sentence_around(text, at, at + "百家乐".len()), "打击赌博，百家乐在线");
        let long = format!("{}百家乐{}", "甲".repeat(60), "乙".repeat(60));
        let at = long.find("百家乐").expect("word");
        let sentence = sentence_around(&long, at, at + "百家乐".len());
        assert_eq!(sentence.chars().count(), SENTENCE_REACH * 2 + 3);
    }

    #[test]
    fn separators_and_decorations_belong_to_the_phrase() {
        assert_eq!(
            phrases("<title>关于做好防汛工作的通知_开云体育(中国)官方网站-登录入口</title>"),
            BTreeSet::from(["开云体育(中国)官方网站-登录入口".to_owned()])
        );
        assert_eq!(
            phrases("<title>南宁市召开全市政务公开工作会议-半岛·综合体育官网</title>"),
            BTreeSet::from(["半岛·综合体育官网".to_owned()])
        );
        assert!(judged("<title>南宁市召开全市政务公开工作会议-半岛·综合体育官网</title>"));
    }

    #[test]
    fn quoted_or_referred_phrases_are_mentions() {
        assert!(!judged("<p>警方提醒：所谓“百家乐官网”都是诈骗陷阱，切勿登录。</p>"));
        assert!(!judged("<p>今年以来，个别市民访问bob最新官网后被骗。</p>"));
        assert!(judged("<p>今年以来，个别市民bob最新官网后被骗。</p>"));
    }

    #[test]
    fn weak_shapes_need_the_title_and_medium_shapes_an_affix() {
        // A strong site word lifts a Chinese brand to medium: an affix is enough.
        assert!(judged("<p>今年以来，我市加快推进项目建设华体会登录入口</p>"));
        assert!(!judged("<p>今年以来，我市华体会登录入口加快推进项目建设。</p>"));
        // A Chinese brand with only a site word, in the middle of a sentence once: a mention.
        assert!(!judged("<p>今年以来，市民通过华体会官网办理业务。</p>"));
        assert!(!judged("<p>今年以来，我市华体会官网办理业务量增长。</p>"));
        // In front of a paragraph, or ending a part of the title, it is glued on.
        assert!(judged("<p>华体会官网今年以来，我市办理业务量增长。</p>"));
        assert!(judged("<title>关于印发政务公开工作要点的通知华体会官网_南宁市人民政府</title>"));
        // Named at the start of a paragraph and referred to later: the site's own service.
        assert!(!judged("<p>智桂通官网今年以来全面上线。市民可登录智桂通官网办理。</p>"));
        // A Latin brand with a category word spliced once is not enough; at the start it is.
        assert!(!judged("<p>今年以来，我市bob体育加快推进项目建设。</p>"));
        assert!(judged("<p>bob体育今年以来，我市加快推进项目建设。</p>"));
    }
}
