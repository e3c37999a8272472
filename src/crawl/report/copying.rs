//! Near-duplicate reports across the city (`report.stale_copy`, kind `near_duplicate`): a unit
//! that files another unit's report with its own name on it. Only the narrative is compared —
//! the tables and their labels are the template's and the same for everyone — with the unit's
//! name, digits, spaces and punctuation removed, as character shingles summarised by a MinHash
//! signature: cheap to keep for every unit of a crawl and to compare pairwise.

use std::sync::Mutex;

use rust_decimal::Decimal;
use serde_json::json;

use super::checks::{FoundSection, find_sections, truncate};
use super::extract::ReportText;
use super::template::ReportTemplate;
use crate::crawl::checks::CheckContext;
use crate::model::check::REPORT_STALE_COPY;
use crate::model::{Finding, OrgCode};

/// One unit's report, summarised for comparison.
#[derive(Debug, Clone)]
pub struct Fingerprint {
    /// The unit whose report it is.
    pub unit: OrgCode,
    /// The unit's name, quoted in the finding on a later report found to be a near-duplicate.
    pub unit_name: String,
    /// Where the report was read (its page or PDF), quoted likewise.
    pub url: String,
    signature: Vec<u64>,
    /// The narrative's beginning, quoted in findings.
    excerpt: String,
}

/// The narrative of a report: the lines of the sections that hold no table (or, when no
/// heading was found, every line), normalised.
fn narrative(template: &ReportTemplate, text: &ReportText, unit_name: &str) -> String {
    let found: Vec<FoundSection<'_>> = find_sections(template, &text.lines);
    let tabled: Vec<&str> = template.tables.iter().map(|t| t.section.as_str()).collect();
    let mut keep = vec![found.is_empty(); text.lines.len()];
    for (i, section) in found.iter().enumerate() {
        let end = found.get(i + 1).map_or(text.lines.len(), |next| next.line);
        if !tabled.contains(&section.spec.id.as_str()) {
            keep[section.line + 1..end.max(section.line + 1)].iter_mut().for_each(|k| *k = true);
        }
    }
    let short = unit_name.strip_prefix("南宁市").unwrap_or(unit_name);
    text.lines
        .iter()
        .zip(keep)
        .filter(|(_, keep)| *keep)
        .map(|(line, _)| line.replace(unit_name, "").replace(short, ""))
        .flat_map(|line| line.chars().collect::<Vec<_>>())
        .filter(|c| c.is_alphabetic() && !c.is_ascii())
        .collect()
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// FNV-1a over a shingle's characters.
fn shingle_hash(chars: &[char]) -> u64 {
    chars.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, c| (h ^ u64::from(*c)).wrapping_mul(0x0100_0000_01B3))
}

/// The MinHash signature of `text`'s `k`-character shingles (`None` when shorter than `min`).
fn signature(text: &str, k: usize, hashes: usize, min: usize) -> Option<Vec<u64>> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() < min.max(k) {
        return None;
    }
    let shingles: Vec<u64> = chars.windows(k).map(shingle_hash).collect();
    Some(
        (0..hashes as u64)
            .map(|seed| shingles.iter().map(|s| mix(s ^ mix(seed))).min().unwrap_or(u64::MAX))
            .collect(),
    )
}

/// Estimated Jaccard similarity of two signatures, exactly (agreeing positions / length).
fn similarity(a: &[u64], b: &[u64]) -> Decimal {
    let agree = a.iter().zip(b).filter(|(x, y)| x == y).count();
    if a.is_empty() { Decimal::ZERO } else { Decimal::from(agree) / Decimal::from(a.len()) }
}

/// The report's fingerprint, if its narrative is long enough to judge.
pub fn fingerprint(
    ctx: &CheckContext<'_>,
    template: &ReportTemplate,
    url: &str,
    text: &ReportText,
) -> Option<Fingerprint> {
    let copying = &template.copying;
    let narrative = narrative(template, text, &ctx.unit.name);
    let signature = signature(&narrative, copying.shingle_chars, copying.hashes, copying.min_chars)?;
    Some(Fingerprint {
        unit: ctx.unit.code.clone(),
        unit_name: ctx.unit.name.clone(),
        url: url.to_owned(),
        signature,
        excerpt: truncate(&narrative),
    })
}

/// The reports of one crawl (shared by its sites): each report is compared with those of other
/// units seen before it. The later of two near-duplicates carries the finding, naming the
/// earlier one; which of the two copied cannot be told from the text.
#[derive(Debug, Default)]
pub struct Registry {
    seen: Mutex<Vec<Fingerprint>>,
}

impl Registry {
    /// Compares `print` with the reports seen so far and keeps it.
    pub fn admit(
        &self,
        ctx: &CheckContext<'_>,
        template: &ReportTemplate,
        print: Fingerprint,
    ) -> Option<Finding> {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let best = seen
            .iter()
            .filter(|other| other.unit != print.unit)
            .map(|other| (similarity(&print.signature, &other.signature), other))
            .max_by(|a, b| a.0.cmp(&b.0));
        let finding = best.filter(|(s, _)| *s >= template.copying.near_duplicate).map(|(s, other)| {
            ctx.finding(
                &REPORT_STALE_COPY,
                Some(&print.url),
                json!({
                    "key": format!("near_duplicate:{}", other.unit),
                    "kind": "near_duplicate",
                    "similarity": s.round_dp(2).to_string(),
                    "threshold": template.copying.near_duplicate.to_string(),
                    "other_unit": other.unit.to_string(), "other_name": other.unit_name,
                    "other_url": other.url, "quote": print.excerpt, "other_quote": other.excerpt,
                }),
            )
        });
        seen.push(print);
        finding
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_copies_agree_and_different_texts_do_not() {
        let a = "本机关坚持以公开为常态、不公开为例外，围绕全市中心工作，持续加强政策解读与回应关切，\
                 规范依申请公开办理流程，强化政府信息公开平台建设，推进基层政务公开标准化规范化。";
        let b = a.replace("推进基层", "深化基层");
        let c = "今年重点推进了行政审批制度改革，优化营商环境，编制了权责清单并向社会公布，\
                 组织开展了三次业务培训，覆盖全体工作人员，信息发布审核机制进一步健全。";
        let sig = |t: &str| signature(t, 5, 128, 20).expect("long enough");
        assert!(similarity(&sig(a), &sig(&b)) >= Decimal::new(75, 2), "{}", similarity(&sig(a), &sig(&b)));
        assert!(similarity(&sig(a), &sig(c)) < Decimal::new(10, 2));
        assert_eq!(similarity(&sig(a), &sig(a)), Decimal::ONE);
        assert!(signature("太短", 5, 128, 20).is_none());
    }
}
