//! The check vocabulary (DESIGN.md §4): stable ids that findings carry and rules refer to,
//! with the explanation a unit reads when it asks why it lost points.

/// One check of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    pub id: &'static str,
    /// What the check means, in the words shown to units and leaders.
    pub title_zh: &'static str,
}

/// The checks the crawlers and inspectors report. Rule sets may add `field.*` ids of their own.
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo { id: "site.unreachable", title_zh: "网站首页无法访问（单次探测失败）" },
    CheckInfo { id: "home.stale", title_zh: "首页长期未更新" },
    CheckInfo { id: "column.missing", title_zh: "缺少必设栏目" },
    CheckInfo { id: "column.empty", title_zh: "栏目为空（空白栏目）" },
    CheckInfo { id: "column.stale", title_zh: "栏目长期未更新" },
    CheckInfo { id: "link.broken", title_zh: "链接无法访问（错链、断链）" },
    CheckInfo { id: "content.spam", title_zh: "被植入违规内容或链接（安全事件）" },
    CheckInfo { id: "identity.missing", title_zh: "缺少网站标识码、备案号等必备信息" },
    CheckInfo {
        id: "report.annual_missing", title_zh: "未按期发布上一年度政府信息公开年度报告"
    },
    CheckInfo { id: "interaction.unanswered", title_zh: "互动留言超过期限未答复" },
    CheckInfo { id: "catalogue.unreachable", title_zh: "政府信息公开目录无法访问或解析" },
    CheckInfo { id: "catalogue.class_missing", title_zh: "公开目录缺少应设类目或类目无内容" },
    CheckInfo { id: "catalogue.index_invalid", title_zh: "索引号不符合编码规则" },
    CheckInfo { id: "catalogue.index_duplicate", title_zh: "索引号重复" },
    CheckInfo { id: "catalogue.metadata_missing", title_zh: "目录条目缺少必填元数据" },
    CheckInfo { id: "catalogue.stale", title_zh: "公开目录长期无新增条目" },
    CheckInfo { id: "site.unchecked", title_zh: "网站未能核查" },
    CheckInfo { id: "catalogue.unchecked", title_zh: "公开目录未能核查" },
];

/// The vocabulary's checks that record missing evidence (未能核查) rather than a problem found:
/// the crawl could not look, so whatever it would have judged is unknown. Rule sets say in
/// their `[unchecked]` section which indicators that costs; rankings flag such units.
pub const MISSING_EVIDENCE_CHECKS: &[&str] = &["site.unchecked", "catalogue.unchecked"];

/// Whether a vocabulary check id records missing evidence.
pub fn is_missing_evidence(id: &str) -> bool {
    MISSING_EVIDENCE_CHECKS.contains(&id)
}

/// Looks a check up by id.
pub fn check_info(id: &str) -> Option<&'static CheckInfo> {
    CHECKS.iter().find(|c| c.id == id)
}

/// Whether an id has the shape of a check id: lower-case dotted words, e.g. `field.no_staff`.
pub fn is_check_id(id: &str) -> bool {
    let mut parts = id.split('.');
    let first_ok = parts.next().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest: Vec<&str> = parts.collect();
    first_ok
        && !rest.is_empty()
        && rest.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vocabulary_id_is_well_formed_and_unique() {
        for (i, check) in CHECKS.iter().enumerate() {
            assert!(is_check_id(check.id), "{}", check.id);
            assert!(CHECKS[i + 1..].iter().all(|c| c.id != check.id), "duplicate {}", check.id);
        }
        assert!(is_check_id("field.no_staff"));
        assert!(!is_check_id("field"));
        assert!(!is_check_id("Field.x"));
        assert!(!is_check_id("field..x"));
    }

    #[test]
    fn missing_evidence_checks_are_in_the_vocabulary() {
        for id in MISSING_EVIDENCE_CHECKS {
            assert!(check_info(id).is_some_and(|c| c.title_zh.contains("未能核查")), "{id}");
        }
        assert!(is_missing_evidence("site.unchecked") && !is_missing_evidence("site.unreachable"));
    }
}
