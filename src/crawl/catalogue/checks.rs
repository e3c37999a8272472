//! The `catalogue.*` checks of DESIGN.md §4 on what a crawl read, and the metrics that go with
//! them. Each finding about an entry names it (index number and URL). Findings per check and
//! unit are capped by the profile; the full counts are kept as metrics.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::cadence::{Cadence, cadence};
use super::profile::{CatalogueProfile, Field};
use crate::model::check::{
    CATALOGUE_CLASS_MISSING, CATALOGUE_INDEX_DUPLICATE, CATALOGUE_INDEX_INVALID, CATALOGUE_METADATA_MISSING,
    CATALOGUE_STALE, CATALOGUE_UNCHECKED, CATALOGUE_UNREACHABLE, Check,
};
use crate::model::{CatalogueEntry, Finding, FindingStatus, Metric, Source, Unit};

/// Duplicate groups list this many URLs at most.
const MAX_DUPLICATE_URLS: usize = 20;

/// One class as the crawl saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassScan {
    /// The class's name as the profile requires it (e.g. 政策法规).
    pub name: String,
    /// The class page linked from the root; `None` when the root has no link for the class.
    pub url: Option<String>,
    /// Entries read from the class's pages.
    pub entries: usize,
    /// Pages of the class fetched, following 下一页.
    pub pages: usize,
    /// A page of the class could not be fetched: (URL, reason).
    pub error: Option<(String, String)>,
    /// The class had a 下一页 still to follow when `max_pages_per_class` stopped it (a very
    /// long class, or an endless one): its newest pages were read, the rest were not.
    pub capped: bool,
}

/// What a catalogue crawl read for one unit.
#[derive(Debug, Clone, Default)]
pub struct CatalogueScan {
    /// The catalogue's root URL, as registered for the unit.
    pub root: String,
    /// The root could not be fetched or read: nothing else is known.
    pub root_error: Option<String>,
    /// Each required class, in the profile's order.
    pub classes: Vec<ClassScan>,
    /// Every entry read, over all classes.
    pub entries: Vec<CatalogueEntry>,
    /// Pages fetched in all, the root included.
    pub pages: usize,
    /// The entry cap of the profile stopped the crawl early.
    pub capped: bool,
    /// The unit's time budget ran out: classes not read are not judged (issue #11).
    pub budget_spent: bool,
}

/// Findings and metrics of one unit's catalogue.
#[derive(Debug, Clone, Default)]
pub struct CheckOutput {
    /// Problems found in the catalogue.
    pub findings: Vec<Finding>,
    /// Counts and cadence metrics (`catalogue.entries`, `catalogue.longest_gap_days`…).
    pub metrics: Vec<Metric>,
    /// The publishing cadence, for the unit's chart; `None` when the catalogue could not be judged.
    pub cadence: Option<Cadence>,
}

struct Emitter<'a> {
    unit: &'a Unit,
    observed_at: DateTime<Utc>,
    cap: usize,
    out: CheckOutput,
    counts: HashMap<&'static str, usize>,
}

impl Emitter<'_> {
    fn finding(&mut self, check: &Check, url: Option<String>, detail: Value) {
        let count = self.counts.entry(check.id).or_default();
        *count += 1;
        if *count > self.cap {
            return;
        }
        self.out.findings.push(Finding {
            id: None,
            unit: self.unit.code.clone(),
            check: check.id.to_owned(),
            source: Source::Crawler,
            observed_at: self.observed_at,
            url,
            detail,
            status: FindingStatus::Open,
            rectify_by: None,
        });
    }

    fn metric(&mut self, name: &str, value: Decimal) {
        self.out.metrics.push(Metric {
            unit: self.unit.code.clone(),
            name: name.to_owned(),
            value,
            observed_at: self.observed_at,
        });
    }
}

/// Runs every catalogue check on `scan`.
pub fn check_catalogue(
    unit: &Unit,
    profile: &CatalogueProfile,
    scan: &CatalogueScan,
    as_of: NaiveDate,
    observed_at: DateTime<Utc>,
) -> CheckOutput {
    let mut emit = Emitter {
        unit,
        observed_at,
        cap: profile.max_findings_per_check,
        out: CheckOutput::default(),
        counts: HashMap::new(),
    };
    if let Some(reason) = &scan.root_error {
        emit.finding(
            &CATALOGUE_UNREACHABLE,
            Some(scan.root.clone()),
            json!({ "url": scan.root, "reason": reason, "message": format!("公开目录首页无法访问：{reason}") }),
        );
        // 未能核查: none of the catalogue could be checked, which is not "nothing wrong". A
        // single class page that fails is a problem found (catalogue.unreachable) in a
        // catalogue that was otherwise checked.
        emit.finding(
            &CATALOGUE_UNCHECKED,
            Some(scan.root.clone()),
            json!({ "url": scan.root, "reason": "公开目录首页无法访问，目录各项检查均未能进行", "error": reason }),
        );
        return emit.out;
    }
    if scan.budget_spent {
        // 未能核查 in part: what was read is judged; what was not is not "nothing wrong".
        let budget = profile.unit_budget_secs;
        emit.finding(
            &CATALOGUE_UNCHECKED,
            Some(scan.root.clone()),
            json!({ "url": scan.root, "reason": format!("公开目录检查超出时间预算（{budget} 秒），仅部分核查"),
                    "budget_secs": budget, "pages": scan.pages }),
        );
    }
    // Caps are not findings (the newest pages, which the checks judge, come first), but what
    // was left unread is recorded for whoever disputes a count (issue #11).
    let capped_classes = scan.classes.iter().filter(|class| class.capped).count();
    if capped_classes > 0 {
        emit.metric("catalogue.classes_capped", Decimal::from(capped_classes));
    }
    if scan.capped {
        emit.metric("catalogue.entries_capped", Decimal::from(profile.max_entries_per_unit));
    }
    check_classes(&mut emit, profile, scan);
    check_entries(&mut emit, profile, scan, as_of);
    emit.out
}

fn check_classes(emit: &mut Emitter<'_>, profile: &CatalogueProfile, scan: &CatalogueScan) {
    let required = profile.classes_for(emit.unit.kind);
    let mut present = 0usize;
    for name in required {
        let class = scan.classes.iter().find(|c| c.name == *name);
        match class {
            None | Some(ClassScan { url: None, .. }) => emit.finding(
                &CATALOGUE_CLASS_MISSING,
                Some(scan.root.clone()),
                json!({ "class": name, "reason": "absent", "message": format!("公开目录缺少“{name}”类目") }),
            ),
            Some(ClassScan { error: Some((url, reason)), .. }) => emit.finding(
                &CATALOGUE_UNREACHABLE,
                Some(url.clone()),
                json!({ "class": name, "url": url, "reason": reason,
                        "message": format!("“{name}”类目页无法访问：{reason}") }),
            ),
            // Not read before the budget ran out: unknown, not empty.
            Some(ClassScan { entries: 0, .. }) if scan.budget_spent => {}
            Some(ClassScan { entries: 0, url, .. }) => emit.finding(
                &CATALOGUE_CLASS_MISSING,
                url.clone(),
                json!({ "class": name, "reason": "empty", "url": url, "message": format!("“{name}”类目没有条目") }),
            ),
            Some(_) => present += 1,
        }
    }
    emit.metric("catalogue.classes_required", Decimal::from(required.len()));
    emit.metric("catalogue.classes_present", Decimal::from(present));
}

fn check_entries(emit: &mut Emitter<'_>, profile: &CatalogueProfile, scan: &CatalogueScan, as_of: NaiveDate) {
    let code = &emit.unit.code;
    let mut invalid = 0usize;
    let mut incomplete = 0usize;
    let mut by_index: HashMap<&str, Vec<&CatalogueEntry>> = HashMap::new();
    for entry in &scan.entries {
        let missing: Vec<&str> =
            profile.mandatory.iter().filter(|f| is_missing(entry, **f)).map(|f| f.as_str()).collect();
        if !missing.is_empty() {
            incomplete += 1;
            let labels: Vec<&str> =
                profile.mandatory.iter().filter(|f| is_missing(entry, **f)).map(|f| f.label_zh()).collect();
            emit.finding(
                &CATALOGUE_METADATA_MISSING,
                entry.url.clone(),
                json!({ "index_no": entry.index_no, "url": entry.url, "title": entry.title, "class": entry.class,
                        "missing": missing, "message": format!("目录条目缺少{}", labels.join("、")) }),
            );
        }
        let Some(index_no) = entry.index_no.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
            continue;
        };
        by_index.entry(index_no).or_default().push(entry);
        if let Err(problem) = profile.grammar.check(index_no, code, entry.created_on) {
            invalid += 1;
            let mut detail = json!({ "index_no": index_no, "url": entry.url, "title": entry.title,
                                     "class": entry.class, "created_on": entry.created_on,
                                     "message": problem.message_zh() });
            if let (Value::Object(map), Ok(Value::Object(extra))) =
                (&mut detail, serde_json::to_value(&problem))
            {
                map.extend(extra);
            }
            emit.finding(&CATALOGUE_INDEX_INVALID, entry.url.clone(), detail);
        }
    }
    let mut duplicated = 0usize;
    let mut groups: Vec<(&str, Vec<&CatalogueEntry>)> =
        by_index.into_iter().filter(|(_, e)| e.len() > 1).collect();
    groups.sort_by_key(|(index, _)| *index);
    for (index_no, entries) in groups {
        duplicated += entries.len() - 1;
        let urls: Vec<Option<&String>> =
            entries.iter().take(MAX_DUPLICATE_URLS).map(|e| e.url.as_ref()).collect();
        let titles: Vec<&str> = entries.iter().take(MAX_DUPLICATE_URLS).map(|e| e.title.as_str()).collect();
        emit.finding(
            &CATALOGUE_INDEX_DUPLICATE,
            entries.get(1).and_then(|e| e.url.clone()),
            json!({ "index_no": index_no, "count": entries.len(), "urls": urls, "titles": titles,
                    "message": format!("索引号“{index_no}”被 {} 个条目重复使用", entries.len()) }),
        );
    }
    emit.metric("catalogue.entries", Decimal::from(scan.entries.len()));
    emit.metric("catalogue.index_invalid_entries", Decimal::from(invalid));
    emit.metric("catalogue.index_duplicate_entries", Decimal::from(duplicated));
    emit.metric("catalogue.metadata_missing_entries", Decimal::from(incomplete));

    let dates: Vec<NaiveDate> = scan.entries.iter().filter_map(|e| e.created_on).collect();
    let profile_cadence = cadence(&dates, as_of, profile.cadence_months);
    emit.metric("catalogue.entries_window", Decimal::from(profile_cadence.total));
    emit.metric("catalogue.active_months", Decimal::from(profile_cadence.active_months));
    emit.metric("catalogue.longest_gap_days", Decimal::from(profile_cadence.longest_gap_days));
    if let Some(b) = profile_cadence.burstiness {
        emit.metric("catalogue.burstiness", b);
    }
    if let Some(share) = profile_cadence.max_month_share {
        emit.metric("catalogue.max_month_share", share);
    }
    if let Some(days) = profile_cadence.days_since_newest {
        emit.metric("catalogue.days_since_newest", Decimal::from(days));
    }
    let stale = profile_cadence.days_since_newest.is_none_or(|d| d > i64::from(profile.stale_days));
    if stale {
        let message = match (profile_cadence.newest, profile_cadence.days_since_newest) {
            (Some(newest), Some(days)) => {
                format!(
                    "公开目录最新条目生成于 {newest}，已 {days} 天无新增（窗口 {} 天）",
                    profile.stale_days
                )
            }
            _ => "公开目录没有带生成日期的条目".to_owned(),
        };
        let monthly: Vec<Value> =
            profile_cadence.monthly.iter().map(|(m, c)| json!({ "month": m, "count": c })).collect();
        emit.finding(
            &CATALOGUE_STALE,
            Some(scan.root.clone()),
            json!({ "newest": profile_cadence.newest, "days_since_newest": profile_cadence.days_since_newest,
                    "window_days": profile.stale_days, "longest_gap_days": profile_cadence.longest_gap_days,
                    "burstiness": profile_cadence.burstiness, "max_month_share": profile_cadence.max_month_share,
                    "active_months": profile_cadence.active_months, "monthly": monthly, "message": message }),
        );
    }
    emit.out.cadence = Some(profile_cadence);
}

fn is_missing(entry: &CatalogueEntry, field: Field) -> bool {
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    match field {
        Field::IndexNo => blank(&entry.index_no),
        Field::Title => entry.title.trim().is_empty(),
        Field::Publisher => blank(&entry.publisher),
        Field::CreatedOn => entry.created_on.is_none(),
        Field::DocNo => blank(&entry.doc_no),
        Field::Topic => blank(&entry.topic),
        Field::Genre => blank(&entry.genre),
        Field::Service => blank(&entry.service),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OrgCode, UnitKind, organisation_check_character};

    fn unit(kind: UnitKind) -> Unit {
        let body = "00000042";
        let check = organisation_check_character(body).expect("digits");
        Unit {
            code: OrgCode::parse(&format!("{body}{check}")).expect("valid"),
            name: "测试局".into(),
            kind,
            parent_code: None,
            website: None,
            catalogue_url: Some("http://gk.example.cn/".into()),
            email: None,
        }
    }

    fn entry(unit: &Unit, class: &str, serial: u32, date: NaiveDate) -> CatalogueEntry {
        CatalogueEntry {
            unit: unit.code.clone(),
            class: class.into(),
            index_no: Some(format!("{}/{}-{serial:05}", unit.code.as_str(), chrono::Datelike::year(&date))),
            title: format!("条目{serial}"),
            publisher: Some("测试局".into()),
            created_on: Some(date),
            doc_no: None,
            topic: None,
            genre: None,
            service: None,
            url: Some(format!("http://gk.example.cn/doc/{serial}.html")),
        }
    }

    fn complete_scan(unit: &Unit, profile: &CatalogueProfile, as_of: NaiveDate) -> CatalogueScan {
        let mut scan = CatalogueScan { root: "http://gk.example.cn/".into(), ..CatalogueScan::default() };
        for (i, class) in profile.classes_for(unit.kind).iter().enumerate() {
            scan.classes.push(ClassScan {
                name: class.clone(),
                url: Some(format!("http://gk.example.cn/{i}/")),
                entries: 1,
                pages: 1,
                error: None,
                capped: false,
            });
            scan.entries.push(entry(unit, class, i as u32 + 1, as_of - chrono::Days::new(i as u64)));
        }
        scan
    }

    fn checks(out: &CheckOutput) -> Vec<&str> {
        out.findings.iter().map(|f| f.check.as_str()).collect()
    }

    #[test]
    fn a_complete_catalogue_has_no_findings() {
        let profile = CatalogueProfile::builtin().expect("profile");
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        for kind in [UnitKind::Department, UnitKind::Institution, UnitKind::Authorised] {
            let unit = unit(kind);
            let out =
                check_catalogue(&unit, &profile, &complete_scan(&unit, &profile, as_of), as_of, Utc::now());
            assert!(out.findings.is_empty(), "{kind}: {:?}", out.findings);
        }
    }

    #[test]
    fn duplicates_are_one_finding_per_index_number_naming_the_second_entry() {
        let profile = CatalogueProfile::builtin().expect("profile");
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        let unit = unit(UnitKind::Institution);
        let mut scan = complete_scan(&unit, &profile, as_of);
        let mut copy = scan.entries[0].clone();
        copy.url = Some("http://gk.example.cn/doc/copy.html".into());
        scan.entries.push(copy.clone());
        scan.entries.push(copy);
        let out = check_catalogue(&unit, &profile, &scan, as_of, Utc::now());
        assert_eq!(checks(&out), [CATALOGUE_INDEX_DUPLICATE.id]);
        assert_eq!(out.findings[0].url.as_deref(), Some("http://gk.example.cn/doc/copy.html"));
        assert_eq!(out.findings[0].detail["count"], 3);
        let dup = out.metrics.iter().find(|m| m.name == "catalogue.index_duplicate_entries").expect("metric");
        assert_eq!(dup.value, Decimal::from(2));
    }

    #[test]
    fn findings_per_check_are_capped_but_counted() {
        let mut profile = CatalogueProfile::builtin().expect("profile");
        profile.max_findings_per_check = 3;
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        let unit = unit(UnitKind::Institution);
        let mut scan = complete_scan(&unit, &profile, as_of);
        for e in &mut scan.entries {
            e.publisher = None;
        }
        let out = check_catalogue(&unit, &profile, &scan, as_of, Utc::now());
        assert_eq!(checks(&out), [CATALOGUE_METADATA_MISSING.id; 3]);
        let missing =
            out.metrics.iter().find(|m| m.name == "catalogue.metadata_missing_entries").expect("metric");
        assert_eq!(missing.value, Decimal::from(6));
        assert_eq!(out.findings[0].detail["missing"], json!(["publisher"]));
    }

    #[test]
    fn an_unreachable_root_leaves_the_catalogue_unchecked() {
        let profile = CatalogueProfile::builtin().expect("profile");
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
        let unit = unit(UnitKind::Department);
        let scan = CatalogueScan {
            root: "http://gk.example.cn/".into(),
            root_error: Some("HTTP 404".into()),
            ..CatalogueScan::default()
        };
        let out = check_catalogue(&unit, &profile, &scan, as_of, Utc::now());
        assert_eq!(checks(&out), [CATALOGUE_UNREACHABLE.id, CATALOGUE_UNCHECKED.id]);
        assert_eq!(out.findings[1].detail["error"], "HTTP 404");
        assert!(out.metrics.is_empty());
    }
}
