//! The check vocabulary (DESIGN.md §4): stable ids that findings carry and rules refer to,
//! with the explanation a unit reads when it asks why it lost points.
//!
//! This is the one registry of checks. Each check is one constant below carrying its id, its
//! Chinese label, where its policy lives in the crawl profiles and the test that proves it;
//! code names a check through its constant (`HOME_STALE.id`), never by spelling the id. Only
//! the profiles (`crawlers/*.toml`) and rule sets (`scoring-rules/*.toml`) spell ids, and
//! `tests/it/check_registry.rs` fails when they name one that is not here, when a check's
//! test is gone, or when its profile section is.

/// One check of the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// The stable id findings carry and rule sets refer to, e.g. `home.stale`.
    pub id: &'static str,
    /// What the check means, in the words shown to units and leaders.
    pub title_zh: &'static str,
    /// Where the check's policy lives: a profile file and its section or key, e.g.
    /// `crawlers/site.toml [columns]`.
    pub profile: &'static str,
    /// The test that proves the check, as `module::function`: a module of `tests/it/`
    /// (`site_checks::…`) or a path under `src/` (`crawl::checks::home::tests::…`).
    pub test: &'static str,
}

/// `site.unreachable`: the home page did not answer one crawl or probe.
pub const SITE_UNREACHABLE: Check = Check {
    id: "site.unreachable",
    title_zh: "网站首页无法访问（单次探测失败）",
    profile: "crawlers/site.toml [fetch]",
    test: "site_checks::an_unreachable_home_page_is_one_finding_and_nothing_else",
};

/// `home.stale`: the home page carries no item newer than the home window.
pub const HOME_STALE: Check = Check {
    id: "home.stale",
    title_zh: "首页长期未更新",
    profile: "crawlers/site.toml home_window_days",
    test: "site_checks::home_page_older_than_two_weeks_is_stale_and_fourteen_days_is_not",
};

/// `column.missing`: a column the unit's kind must have is not linked.
pub const COLUMN_MISSING: Check = Check {
    id: "column.missing",
    title_zh: "缺少必设栏目",
    profile: "crawlers/site.toml [columns]",
    test: "site_checks::a_required_column_without_a_link_is_missing_but_a_synonym_counts",
};

/// `column.empty`: a required column lists nothing (or its page is dead).
pub const COLUMN_EMPTY: Check = Check {
    id: "column.empty",
    title_zh: "栏目为空（空白栏目）",
    profile: "crawlers/site.toml [columns]",
    test: "site_checks::an_empty_or_dead_column_is_empty_but_undated_items_are_not",
};

/// `column.stale`: a column's newest item is older than its cadence allows.
pub const COLUMN_STALE: Check = Check {
    id: "column.stale",
    title_zh: "栏目长期未更新",
    profile: "crawlers/site.toml [cadences]",
    test: "site_checks::stale_columns_carry_their_cadence_and_within_cadence_is_fine",
};

/// `link.broken`: a link on the site answers 4xx/5xx or cannot be fetched.
pub const LINK_BROKEN: Check = Check {
    id: "link.broken",
    title_zh: "链接无法访问（错链、断链）",
    profile: "crawlers/site.toml [links]",
    test: "site_checks::broken_internal_links_name_the_page_that_carries_them",
};

/// `content.spam`: injected gambling/porn content or links (a security incident).
pub const CONTENT_SPAM: Check = Check {
    id: "content.spam",
    title_zh: "被植入违规内容或链接（安全事件）",
    profile: "crawlers/site.toml [spam]",
    test: "site_checks::lexicon_words_are_found_with_a_snippet",
};

/// `identity.missing`: a required footer item (网站标识码, 备案号…) is not on the home page.
pub const IDENTITY_MISSING: Check = Check {
    id: "identity.missing",
    title_zh: "缺少网站标识码、备案号等必备信息",
    profile: "crawlers/site.toml [identity]",
    test: "site_checks::each_missing_footer_item_is_named_and_badges_in_images_count",
};

/// `report.annual_missing`: last year's annual report is not linked after its deadline.
pub const REPORT_ANNUAL_MISSING: Check = Check {
    id: "report.annual_missing",
    title_zh: "未按期发布上一年度政府信息公开年度报告",
    profile: "crawlers/site.toml [annual_report]",
    test: "site_checks::last_years_annual_report_is_due_after_the_deadline_only",
};

/// `report.section_missing`: the annual report lacks a section or table of the national
/// template (issue #17).
pub const REPORT_SECTION_MISSING: Check = Check {
    id: "report.section_missing",
    title_zh: "年度报告缺少规定格式的章节或表格",
    profile: "crawlers/annual-report.toml [sections]",
    test: "crawl::report::tests::a_report_missing_a_section_names_it",
};

/// `report.table_inconsistent`: the annual report's table numbers do not add up.
pub const REPORT_TABLE_INCONSISTENT: Check = Check {
    id: "report.table_inconsistent",
    title_zh: "年度报告表格数据不能自洽",
    profile: "crawlers/annual-report.toml [tables]",
    test: "crawl::report::tests::a_request_table_that_does_not_add_up_quotes_both_sides",
};

/// `report.stale_copy`: the annual report is last year's republished, or another unit's.
pub const REPORT_STALE_COPY: Check = Check {
    id: "report.stale_copy",
    title_zh: "年度报告沿用往年内容或与其他单位雷同",
    profile: "crawlers/annual-report.toml [copying]",
    test: "crawl::report::tests::last_years_report_republished_is_a_stale_copy",
};

/// `report.late`: the annual report's page shows a publication date after the deadline.
pub const REPORT_LATE: Check = Check {
    id: "report.late",
    title_zh: "年度报告逾期发布",
    profile: "crawlers/site.toml [annual_report.deadlines]",
    test: "crawl::report::tests::a_report_published_after_the_deadline_is_late",
};

/// `interaction.unanswered`: a consultation message has had no reply beyond the limit.
pub const INTERACTION_UNANSWERED: Check = Check {
    id: "interaction.unanswered",
    title_zh: "互动留言超过期限未答复",
    profile: "crawlers/site.toml [interaction]",
    test: "site_checks::messages_unanswered_beyond_three_months_are_reported",
};

/// `catalogue.unreachable`: the disclosure catalogue (or one of its classes) cannot be read.
pub const CATALOGUE_UNREACHABLE: Check = Check {
    id: "catalogue.unreachable",
    title_zh: "政府信息公开目录无法访问或解析",
    profile: "crawlers/catalogue.toml [fetch]",
    test: "catalogue::a_catalogue_root_that_404s_is_unreachable_and_nothing_else",
};

/// `catalogue.class_missing`: a class the unit's kind must have is absent or empty.
pub const CATALOGUE_CLASS_MISSING: Check = Check {
    id: "catalogue.class_missing",
    title_zh: "公开目录缺少应设类目或类目无内容",
    profile: "crawlers/catalogue.toml [classes]",
    test: "catalogue::an_absent_class_is_named",
};

/// `catalogue.index_invalid`: an index number breaks the grammar, names another organisation
/// or another year.
pub const CATALOGUE_INDEX_INVALID: Check = Check {
    id: "catalogue.index_invalid",
    title_zh: "索引号不符合编码规则",
    profile: "crawlers/catalogue.toml [index]",
    test: "catalogue::an_index_breaking_the_grammar_is_named_with_its_url",
};

/// `catalogue.index_duplicate`: two entries share an index number.
pub const CATALOGUE_INDEX_DUPLICATE: Check = Check {
    id: "catalogue.index_duplicate",
    title_zh: "索引号重复",
    profile: "crawlers/catalogue.toml [index]",
    test: "catalogue::a_duplicate_index_is_one_finding_naming_both_entries",
};

/// `catalogue.metadata_missing`: an entry lacks a mandatory field.
pub const CATALOGUE_METADATA_MISSING: Check = Check {
    id: "catalogue.metadata_missing",
    title_zh: "目录条目缺少必填元数据",
    profile: "crawlers/catalogue.toml mandatory",
    test: "catalogue::missing_mandatory_metadata_is_named_per_entry",
};

/// `catalogue.stale`: the catalogue's newest entry is older than the stale window.
pub const CATALOGUE_STALE: Check = Check {
    id: "catalogue.stale",
    title_zh: "公开目录长期无新增条目",
    profile: "crawlers/catalogue.toml stale_days",
    test: "catalogue::an_old_catalogue_is_stale_with_its_gap_profile",
};

/// `site.unchecked`: missing evidence — the website could not be checked (dead, no address
/// registered, or its crawl ran out of time).
pub const SITE_UNCHECKED: Check = Check {
    id: "site.unchecked",
    title_zh: "网站未能核查",
    profile: "crawlers/site.toml site_budget_secs",
    test: "unchecked::a_unit_without_a_registered_website_is_recorded_as_unchecked",
};

/// `catalogue.unchecked`: missing evidence — the catalogue could not be checked, or only in
/// part.
pub const CATALOGUE_UNCHECKED: Check = Check {
    id: "catalogue.unchecked",
    title_zh: "公开目录未能核查",
    profile: "crawlers/catalogue.toml unit_budget_secs",
    test: "catalogue::an_endless_catalogue_stops_at_the_unit_budget",
};

/// The checks the crawlers and inspectors report. Rule sets may add `field.*` ids of their own.
pub const CHECKS: &[Check] = &[
    SITE_UNREACHABLE,
    HOME_STALE,
    COLUMN_MISSING,
    COLUMN_EMPTY,
    COLUMN_STALE,
    LINK_BROKEN,
    CONTENT_SPAM,
    IDENTITY_MISSING,
    REPORT_ANNUAL_MISSING,
    REPORT_SECTION_MISSING,
    REPORT_TABLE_INCONSISTENT,
    REPORT_STALE_COPY,
    REPORT_LATE,
    INTERACTION_UNANSWERED,
    CATALOGUE_UNREACHABLE,
    CATALOGUE_CLASS_MISSING,
    CATALOGUE_INDEX_INVALID,
    CATALOGUE_INDEX_DUPLICATE,
    CATALOGUE_METADATA_MISSING,
    CATALOGUE_STALE,
    SITE_UNCHECKED,
    CATALOGUE_UNCHECKED,
];

/// The vocabulary's checks that record missing evidence (未能核查) rather than a problem found:
/// the crawl could not look, so whatever it would have judged is unknown. Rule sets say in
/// their `[unchecked]` section which indicators that costs; rankings flag such units.
pub const MISSING_EVIDENCE_CHECKS: &[&str] = &[SITE_UNCHECKED.id, CATALOGUE_UNCHECKED.id];

/// Whether a vocabulary check id records missing evidence.
pub fn is_missing_evidence(id: &str) -> bool {
    MISSING_EVIDENCE_CHECKS.contains(&id)
}

/// Looks a check up by id.
pub fn check_info(id: &str) -> Option<&'static Check> {
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
            assert!(
                check.profile.starts_with("crawlers/") && check.profile.contains(".toml "),
                "{}",
                check.id
            );
            assert!(check.test.contains("::") && !check.test.contains(' '), "{}", check.id);
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
        assert!(is_missing_evidence(SITE_UNCHECKED.id) && !is_missing_evidence(SITE_UNREACHABLE.id));
        assert_eq!(check_info("home.stale"), Some(&HOME_STALE));
    }
}
