//! `identity.missing`: a footer item the profile requires (网站标识码, ICP 备案号, 公安机关备案号,
//! 党政机关网站标识, 主办单位) is not on the home page. Badges are often images, so image
//! descriptions and link targets count as well as the text.

use serde_json::json;

use super::{CheckContext, ParsedPage};
use crate::model::Finding;

pub fn check(ctx: &CheckContext<'_>, url: &str, home: &ParsedPage) -> Vec<Finding> {
    let haystacks = [home.text.as_str(), home.attr_text.as_str()];
    ctx.profile
        .identity
        .iter()
        .filter(|item| {
            !item
                .patterns
                .iter()
                .filter(|p| !p.trim().is_empty())
                .any(|pattern| haystacks.iter().any(|h| contains_ignore_ascii_case(h, pattern)))
        })
        .map(|item| {
            ctx.finding(
                "identity.missing",
                Some(url),
                json!({ "item": item.name, "patterns": item.patterns }),
            )
        })
        .collect()
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack.contains(needle) || haystack.to_ascii_lowercase().contains(&needle.to_ascii_lowercase())
}
