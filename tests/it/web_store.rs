//! The store operations the web dashboard relies on: inspector groups, the rectification loop,
//! the current cycle, per-unit history, settings, API tokens and account management.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use gongkai::assess::RankedScore;
use gongkai::inspection::{ClaimRow, PlannedVisit, VisitKey, VisitMethod};
use gongkai::model::{
    Account, CrawlKind, Finding, FindingStatus, OrgCode, RectificationAction, RectificationError, Role,
    SelfClaim, Source, UnitKind,
};
use gongkai::registry::{plan_import, read_registry};
use gongkai::store::{
    AccountUpdateError, AssignmentError, AuditEntry, CrawlRunRecord, CycleError, CycleRecord, FindingFilter,
    GroupSummary, RectificationWriteError, Store, StoreConfig, TokenError,
};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::support::{credit_code, registry_csv};

/// A PHC string that satisfies the schema; hashing a real password is slow and beside the point.
const FAKE_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";

fn code(n: u32) -> OrgCode {
    OrgCode::parse(&credit_code(n)).expect("code")
}

fn at(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 3, 0, 0).single().expect("date")
}

fn audit(action: &str) -> AuditEntry {
    AuditEntry::new("tester", action)
}

/// A store in memory with `n` registered units (codes `credit_code(1..=n)`).
async fn city(n: u32) -> Store {
    let store = Store::memory().await.expect("mem store");
    register(&store, n).await;
    store
}

async fn register(store: &Store, n: u32) {
    let file = read_registry(registry_csv(n).as_bytes()).expect("valid file");
    let plan = plan_import(&file, &store.units().await.expect("units")).expect("valid plan");
    store.apply_unit_import(&plan, audit("units.import"), |_| {}).await.expect("import");
}

fn finding(unit: u32, check: &str, status: FindingStatus, case: usize) -> Finding {
    Finding {
        id: None,
        unit: code(unit),
        check: check.to_string(),
        source: Source::Crawler,
        observed_at: at(11, 10),
        url: Some(format!("http://u{unit}.example.cn/")),
        detail: serde_json::json!({ "case": case }),
        status,
        rectify_by: None,
    }
}

/// Records one site crawl of `units` carrying `findings`; earlier site findings of the same
/// units become superseded.
async fn crawl(store: &Store, units: &[u32], day: u32, findings: &[Finding]) {
    let run = CrawlRunRecord {
        kind: CrawlKind::Site,
        as_of: at(11, day),
        started_at: at(11, day),
        finished_at: at(11, day),
        units: units.iter().copied().map(code).collect(),
        stats: serde_json::json!({}),
    };
    store.record_crawl_run(&run, findings, &[]).await.expect("record run");
}

/// The stored findings' ids by their `detail.case`.
async fn ids_by_case(store: &Store) -> HashMap<u64, String> {
    store
        .findings(&FindingFilter { include_superseded: true, ..FindingFilter::default() })
        .await
        .expect("findings")
        .into_iter()
        .map(|f| (f.detail["case"].as_u64().expect("case"), f.id.expect("stored id")))
        .collect()
}

async fn finding_audits(store: &Store) -> usize {
    store
        .audit_entries(1_000)
        .await
        .expect("audit")
        .iter()
        .filter(|e| e.action.starts_with("finding."))
        .count()
}

fn account(username: &str, role: Role, unit: Option<u32>, group: Option<&str>) -> Account {
    Account {
        username: username.to_string(),
        role,
        unit: unit.map(code),
        inspector_group: group.map(str::to_string),
        display_name: None,
        disabled: false,
    }
}

async fn add_account(store: &Store, account: &Account) {
    store.create_account(account, FAKE_HASH, audit("accounts.add")).await.expect("create account");
}

// ---------------------------------------------------------------------------------------------
// The rectification loop

const STATUSES: [FindingStatus; 5] = [
    FindingStatus::Open,
    FindingStatus::Rectified,
    FindingStatus::Disputed,
    FindingStatus::Confirmed,
    FindingStatus::Closed,
];

/// The table of the design, written out here independently of the model.
fn expected_move(action: RectificationAction, from: FindingStatus) -> Option<FindingStatus> {
    use FindingStatus::*;
    use RectificationAction::*;
    let table = [
        (Rectify, Open, Rectified),
        (Rectify, Confirmed, Rectified),
        (Dispute, Open, Disputed),
        (ConfirmFix, Rectified, Closed),
        (RejectFix, Rectified, Open),
        (Withdraw, Disputed, Closed),
        (Uphold, Disputed, Confirmed),
        (SeenFixed, Open, Closed),
    ];
    table.iter().find(|(a, f, _)| *a == action && *f == from).map(|(_, _, to)| *to)
}

#[tokio::test]
async fn every_move_of_the_rectification_table_is_allowed_or_refused_through_the_store() {
    let store = city(1).await;
    let cases: Vec<(FindingStatus, RectificationAction)> = STATUSES
        .iter()
        .flat_map(|from| RectificationAction::ALL.iter().map(move |action| (*from, *action)))
        .collect();
    let findings: Vec<Finding> =
        cases.iter().enumerate().map(|(case, (from, _))| finding(1, "link.broken", *from, case)).collect();
    crawl(&store, &[1], 10, &findings).await;
    let ids = ids_by_case(&store).await;

    let mut allowed = 0;
    for (case, (from, action)) in cases.iter().enumerate() {
        let id = &ids[&(case as u64)];
        let before = store.finding(id).await.expect("read").expect("stored");
        assert_eq!(before.status, *from);
        let role = if action.side() == gongkai::model::RectificationSide::Unit {
            Role::Unit
        } else {
            Role::Inspector
        };
        let result = store.act_on_finding(id, *action, Some("  理由说明  "), "actor1", role).await;
        match expected_move(*action, *from) {
            Some(to) => {
                allowed += 1;
                let moved = result.unwrap_or_else(|e| panic!("{action} from {from:?} refused: {e}"));
                assert_eq!(moved.status, to, "{action} from {from:?}");
                assert_eq!(moved.id.as_deref(), Some(id.as_str()));
                let stored = store.finding(id).await.expect("read").expect("stored");
                assert_eq!(stored, Finding { status: to, ..before.clone() }, "only the status changes");
                let events = store.finding_events(id).await.expect("events");
                assert_eq!(events.len(), 1, "{action} from {from:?}");
                let event = &events[0];
                assert_eq!((event.from, event.to, event.action), (*from, to, *action));
                assert_eq!((event.actor.as_str(), event.role), ("actor1", role));
                assert_eq!(event.note.as_deref(), Some("理由说明"), "kept trimmed");
                assert_eq!(event.finding, *id);
                assert_eq!(event.unit, code(1));
            }
            None => {
                match result {
                    Err(RectificationWriteError::Refused(RectificationError::NotAllowed {
                        action: refused,
                        from: seen,
                    })) => assert_eq!((refused, seen), (*action, *from)),
                    other => panic!("{action} from {from:?} should be refused, got {other:?}"),
                }
                let stored = store.finding(id).await.expect("read").expect("stored");
                assert_eq!(stored, before, "a refused move leaves the finding as it was");
                assert!(store.finding_events(id).await.expect("events").is_empty());
            }
        }
    }
    assert_eq!(allowed, 8, "the table has eight moves");
    assert_eq!(finding_audits(&store).await, 8, "one audit record per move, none for refusals");
    let about_unit = store.audit_for_target(&credit_code(1), 100).await.expect("audit");
    assert_eq!(about_unit.iter().filter(|e| e.action.starts_with("finding.")).count(), 8);
}

#[tokio::test]
async fn a_finding_goes_round_the_loop_and_its_events_come_back_in_order() {
    let store = city(1).await;
    crawl(&store, &[1], 10, &[finding(1, "column.missing", FindingStatus::Open, 0)]).await;
    let id = ids_by_case(&store).await[&0].clone();

    // A dispute needs its reason: without one nothing is written.
    let refused =
        store.act_on_finding(&id, RectificationAction::Dispute, Some("   "), "jia", Role::Unit).await;
    assert!(
        matches!(refused, Err(RectificationWriteError::Refused(RectificationError::NoteRequired(_)))),
        "{refused:?}"
    );
    assert_eq!(store.finding(&id).await.expect("read").expect("stored").status, FindingStatus::Open);
    assert!(store.finding_events(&id).await.expect("events").is_empty());
    assert_eq!(finding_audits(&store).await, 0);

    let steps = [
        (
            RectificationAction::Dispute,
            Some("栏目在“信息公开”下"),
            "jia",
            Role::Unit,
            FindingStatus::Disputed,
        ),
        (RectificationAction::Uphold, None, "li", Role::Inspector, FindingStatus::Confirmed),
        (RectificationAction::Rectify, Some("已补建栏目"), "jia", Role::Unit, FindingStatus::Rectified),
        (RectificationAction::RejectFix, Some("栏目仍为空"), "gkb", Role::Office, FindingStatus::Open),
        (RectificationAction::SeenFixed, None, "li", Role::Inspector, FindingStatus::Closed),
    ];
    for (action, note, actor, role, to) in steps {
        let moved = store.act_on_finding(&id, action, note, actor, role).await.expect("allowed move");
        assert_eq!(moved.status, to);
    }
    let events = store.finding_events(&id).await.expect("events");
    let seen: Vec<_> = events.iter().map(|e| (e.action, e.to, e.actor.as_str(), e.role)).collect();
    let expected: Vec<_> = steps.iter().map(|(a, _, actor, role, to)| (*a, *to, *actor, *role)).collect();
    assert_eq!(seen, expected);
    assert_eq!(events[0].from, FindingStatus::Open);
    assert_eq!(events[0].note.as_deref(), Some("栏目在“信息公开”下"));
    assert_eq!(events[1].note, None);
    assert!(events.windows(2).all(|w| w[0].at <= w[1].at && w[0].to == w[1].from), "a chain of moves");

    // Closed is final.
    let after = store.act_on_finding(&id, RectificationAction::Rectify, None, "jia", Role::Unit).await;
    assert!(matches!(after, Err(RectificationWriteError::Refused(_))), "{after:?}");
    assert_eq!(store.finding_events(&id).await.expect("events").len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_answers_at_once_move_a_finding_only_once() {
    let store = city(1).await;
    crawl(&store, &[1], 10, &[finding(1, "home.stale", FindingStatus::Open, 0)]).await;
    let id = ids_by_case(&store).await[&0].clone();
    let (a, b) = tokio::join!(
        store.act_on_finding(&id, RectificationAction::Rectify, Some("甲"), "one", Role::Unit),
        store.act_on_finding(&id, RectificationAction::Rectify, Some("乙"), "two", Role::Unit),
    );
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "{a:?} / {b:?}");
    assert_eq!(store.finding_events(&id).await.expect("events").len(), 1);
    assert_eq!(store.finding(&id).await.expect("read").expect("stored").status, FindingStatus::Rectified);
}

#[tokio::test]
async fn bad_finding_ids_are_simply_not_found() {
    let store = city(1).await;
    crawl(&store, &[1], 10, &[finding(1, "home.stale", FindingStatus::Open, 0)]).await;
    let real = ids_by_case(&store).await[&0].clone();
    let unit_id = format!("unit:{}", credit_code(1));
    for bad in [
        "",
        "finding",
        "finding:",
        ":abc",
        "finding:nosuchfinding",
        "`finding",
        "finding:`x",
        &unit_id,
        "💥:💥",
    ] {
        assert_eq!(store.finding(bad).await.expect("no error"), None, "{bad:?}");
        assert!(store.finding_events(bad).await.expect("no error").is_empty(), "{bad:?}");
        let acted = store.act_on_finding(bad, RectificationAction::Rectify, None, "x", Role::Unit).await;
        assert!(matches!(acted, Err(RectificationWriteError::NotFound(_))), "{bad:?}: {acted:?}");
    }
    assert!(store.finding(&real).await.expect("read").is_some(), "the real id is found");
    assert_eq!(finding_audits(&store).await, 0);
}

#[tokio::test]
async fn the_follow_up_list_holds_open_findings_of_the_given_units_only() {
    let store = city(3).await;
    // A first crawl of unit 3 whose finding the second crawl of unit 3 replaces.
    crawl(&store, &[3], 5, &[finding(3, "home.stale", FindingStatus::Open, 0)]).await;
    crawl(
        &store,
        &[1, 2, 3],
        10,
        &[
            finding(1, "home.stale", FindingStatus::Open, 1),
            finding(1, "link.broken", FindingStatus::Closed, 2),
            finding(2, "column.empty", FindingStatus::Rectified, 3),
            finding(2, "column.stale", FindingStatus::Disputed, 4),
            finding(2, "column.missing", FindingStatus::Confirmed, 5),
            finding(3, "link.broken", FindingStatus::Open, 6),
        ],
    )
    .await;
    let cases = |findings: Vec<Finding>| {
        let mut cases: Vec<u64> = findings.iter().map(|f| f.detail["case"].as_u64().expect("case")).collect();
        cases.sort_unstable();
        cases
    };
    let list = store.open_findings_for_units(&[code(1), code(2)]).await.expect("list");
    assert_eq!(cases(list), vec![1, 3, 4, 5]);
    let list = store.open_findings_for_units(&[code(3)]).await.expect("list");
    assert_eq!(cases(list), vec![6], "the superseded finding of the first crawl is left out");
    assert!(store.open_findings_for_units(&[]).await.expect("list").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Inspector groups

#[tokio::test]
async fn assignments_move_units_between_groups_and_refuse_unregistered_codes() {
    let store = city(4).await;
    add_account(&store, &account("li.ming", Role::Inspector, None, Some("第一组"))).await;
    let mut away = account("zhao.lei", Role::Inspector, None, Some("第一组"));
    away.disabled = true;
    add_account(&store, &away).await;
    add_account(&store, &account("wang.fang", Role::Inspector, None, Some("第二组"))).await;
    add_account(&store, &account("chen.jing", Role::Inspector, None, Some("第三组"))).await;
    add_account(&store, &account("jia.lianluo", Role::Unit, Some(1), None)).await;

    assert_eq!(store.assign_units("第一组", &[code(1), code(2)], audit("assign")).await.expect("assign"), 2);
    assert_eq!(store.group_units("第一组").await.expect("units"), vec![code(1), code(2)]);
    assert_eq!(store.unit_group(&code(2)).await.expect("group").as_deref(), Some("第一组"));

    // Unit 2 moves to group two; unit 3 is new there.
    assert_eq!(
        store.assign_units(" 第二组 ", &[code(3), code(2)], audit("assign")).await.expect("assign"),
        2
    );
    assert_eq!(store.group_units("第一组").await.expect("units"), vec![code(1)]);
    assert_eq!(store.group_units("第二组").await.expect("units"), vec![code(2), code(3)]);
    assert_eq!(store.unit_group(&code(2)).await.expect("group").as_deref(), Some("第二组"));
    assert_eq!(
        store.assign_units("第二组", &[code(2)], audit("assign")).await.expect("again"),
        0,
        "already there"
    );

    // One unregistered code refuses the whole call: unit 4 is not assigned, nothing is audited.
    let audits = store.audit_entries(1_000).await.expect("audit").len();
    let stranger = code(99);
    let refused = store.assign_units("第一组", &[code(4), stranger.clone()], audit("assign")).await;
    match refused {
        Err(AssignmentError::UnknownUnit(named)) => assert_eq!(named, stranger),
        other => panic!("expected UnknownUnit, got {other:?}"),
    }
    assert!(AssignmentError::UnknownUnit(stranger.clone()).to_string().contains(stranger.as_str()));
    assert_eq!(store.unit_group(&code(4)).await.expect("group"), None);
    assert_eq!(store.group_units("第一组").await.expect("units"), vec![code(1)]);
    assert_eq!(store.audit_entries(1_000).await.expect("audit").len(), audits);
    assert!(matches!(
        store.assign_units("  ", &[code(4)], audit("assign")).await,
        Err(AssignmentError::BadGroup)
    ));

    let summary =
        |name: &str, units: usize, inspectors: usize| GroupSummary { name: name.into(), units, inspectors };
    assert_eq!(
        store.groups().await.expect("groups"),
        vec![summary("第一组", 1, 1), summary("第三组", 0, 1), summary("第二组", 2, 1)],
        "by name; the disabled inspector is not counted, a group without units is listed"
    );
    let members: Vec<String> =
        store.inspectors_in("第一组").await.expect("members").into_iter().map(|a| a.username).collect();
    assert_eq!(members, vec!["li.ming", "zhao.lei"]);

    assert_eq!(store.unassign_units(&[code(3), code(4)], audit("unassign")).await.expect("unassign"), 1);
    assert_eq!(store.unit_group(&code(3)).await.expect("group"), None);
    assert_eq!(store.group_units("第二组").await.expect("units"), vec![code(2)]);
}

// ---------------------------------------------------------------------------------------------
// Cycles and history

fn cycle_record(cycle: &str, as_of: DateTime<Utc>) -> CycleRecord {
    CycleRecord {
        cycle: cycle.to_string(),
        as_of,
        rule_set_id: "gov-website".to_string(),
        rule_set_version: "2019.1".to_string(),
        rule_set_hash: "ab".repeat(32),
        rule_set_title: "政府网站检查指标".to_string(),
        rule_set_source: "# rules".to_string(),
    }
}

fn score(unit: u32, total: i64, rank: u32, laggard: bool) -> RankedScore {
    RankedScore {
        unit: credit_code(unit),
        name: format!("第{unit}局"),
        kind: UnitKind::Department,
        parent_code: None,
        score: Decimal::new(total, 1),
        grade: Some(if laggard { "较差" } else { "良好" }.to_string()),
        veto: None,
        passed: !laggard,
        rank,
        rank_in_kind: rank,
        previous_rank: None,
        rank_change: None,
        laggard,
        reasons: Vec::new(),
        subordinates: None,
        self_claimed: None,
        over_claim: None,
        unchecked: Vec::new(),
    }
}

async fn save(store: &Store, cycle: &str, as_of: DateTime<Utc>, rows: &[RankedScore]) {
    store
        .save_cycle(&cycle_record(cycle, as_of), rows, &HashMap::new(), audit("assess"))
        .await
        .expect("save cycle");
}

async fn current_flags(store: &Store) -> Vec<(String, bool)> {
    store.cycles().await.expect("cycles").into_iter().map(|c| (c.cycle, c.current)).collect()
}

#[tokio::test]
async fn the_current_cycle_switches_and_survives_a_re_run() {
    let store = city(2).await;
    assert_eq!(store.current_cycle().await.expect("none"), None);
    save(&store, "2026-Q3", at(9, 30), &[score(1, 900, 1, false)]).await;
    save(&store, "2026-Q4", at(12, 31), &[score(1, 800, 1, false)]).await;

    let newest = store.current_cycle().await.expect("current").expect("some cycle");
    assert_eq!(newest.cycle, "2026-Q4", "none marked: the newest");
    assert!(!newest.current);
    assert_eq!(newest.ruleset_title.as_deref(), Some("政府网站检查指标"));
    assert_eq!(newest.ruleset_version.as_deref(), Some("2019.1"));

    store.set_current_cycle("2026-Q3", audit("cycle.current")).await.expect("set");
    assert_eq!(store.current_cycle().await.expect("current").expect("some").cycle, "2026-Q3");
    assert_eq!(current_flags(&store).await, vec![("2026-Q3".into(), true), ("2026-Q4".into(), false)]);

    store.set_current_cycle("2026-Q4", audit("cycle.current")).await.expect("set");
    assert_eq!(current_flags(&store).await, vec![("2026-Q3".into(), false), ("2026-Q4".into(), true)]);

    let audits = store.audit_entries(1_000).await.expect("audit").len();
    match store.set_current_cycle("2027-Q1", audit("cycle.current")).await {
        Err(CycleError::UnknownCycle(name)) => assert_eq!(name, "2027-Q1"),
        other => panic!("expected UnknownCycle, got {other:?}"),
    }
    assert_eq!(current_flags(&store).await, vec![("2026-Q3".into(), false), ("2026-Q4".into(), true)]);
    assert_eq!(store.audit_entries(1_000).await.expect("audit").len(), audits, "a refusal is not audited");

    // Re-running the current cycle keeps it current; re-running another does not make it so.
    save(&store, "2026-Q4", at(12, 31), &[score(1, 810, 1, false)]).await;
    save(&store, "2026-Q3", at(9, 30), &[score(1, 910, 1, false)]).await;
    assert_eq!(current_flags(&store).await, vec![("2026-Q3".into(), false), ("2026-Q4".into(), true)]);
}

#[tokio::test]
async fn a_units_history_is_ordered_by_as_of_date() {
    let store = city(2).await;
    // Saved out of order: the later cycle first.
    save(&store, "late", at(12, 1), &[score(1, 700, 2, true), score(2, 950, 1, false)]).await;
    save(&store, "early", at(6, 1), &[score(1, 880, 1, false), score(2, 850, 2, false)]).await;
    save(&store, "middle", at(9, 1), &[score(2, 900, 1, false)]).await;

    let history = store.score_history(&code(1)).await.expect("history");
    let points: Vec<_> =
        history.iter().map(|p| (p.cycle.as_str(), p.total, p.rank, p.laggard, p.as_of)).collect();
    assert_eq!(
        points,
        vec![
            ("early", Decimal::new(880, 1), 1, false, at(6, 1)),
            ("late", Decimal::new(700, 1), 2, true, at(12, 1)),
        ],
        "unit 1 was not scored in the middle cycle"
    );
    assert_eq!(history[1].grade.as_deref(), Some("较差"));
    assert_eq!(history[0].ruleset_id, "gov-website");
    let cycles: Vec<String> =
        store.score_history(&code(2)).await.expect("history").into_iter().map(|p| p.cycle).collect();
    assert_eq!(cycles, vec!["early", "middle", "late"]);

    let one = store.unit_score("late", &code(1)).await.expect("read").expect("scored");
    assert_eq!((one.score, one.rank, one.laggard), (Decimal::new(700, 1), 2, true));
    assert_eq!(store.unit_score("middle", &code(1)).await.expect("read"), None);
    assert_eq!(store.unit_score("nope", &code(2)).await.expect("read"), None);
}

fn visit(unit: u32, inspector: &str, day: u32, method: VisitMethod, checks: &[&str]) -> PlannedVisit {
    let date = NaiveDate::from_ymd_opt(2026, 11, day).expect("date");
    PlannedVisit {
        key: VisitKey { unit: code(unit), inspector: inspector.to_string(), date, method },
        group: Some("第一组".to_string()),
        note: Some(format!("{day} 日检查")),
        findings: checks
            .iter()
            .map(|check| Finding {
                source: Source::Inspector,
                observed_at: at(11, day),
                ..finding(unit, check, FindingStatus::Open, 0)
            })
            .collect(),
        line: 2,
    }
}

#[tokio::test]
async fn a_units_visits_and_claims_come_back_for_its_page() {
    let store = city(2).await;
    let visits = [
        visit(1, "李明", 2, VisitMethod::OnSite, &["field.no_staff", "column.stale"]),
        visit(1, "王芳", 9, VisitMethod::Phone, &[]),
        visit(1, "李明", 5, VisitMethod::Website, &["link.broken"]),
        visit(2, "王芳", 6, VisitMethod::Briefing, &["field.no_staff"]),
    ];
    store.record_visits(&visits, audit("visits.import")).await.expect("record visits");
    let listed = store.visits_for(&code(1)).await.expect("visits");
    let summary: Vec<_> =
        listed.iter().map(|v| (v.date.to_string(), v.inspector.as_str(), v.method, v.findings)).collect();
    assert_eq!(
        summary,
        vec![
            ("2026-11-09".to_string(), "王芳", VisitMethod::Phone, 0),
            ("2026-11-05".to_string(), "李明", VisitMethod::Website, 1),
            ("2026-11-02".to_string(), "李明", VisitMethod::OnSite, 2),
        ]
    );
    assert!(listed.iter().all(|v| v.id.starts_with("visit:") && v.group.as_deref() == Some("第一组")));
    assert_eq!(listed[0].note.as_deref(), Some("9 日检查"));
    let json = serde_json::to_value(&listed[0]).expect("json");
    assert_eq!(json["method"], "电话督查");

    let claim = |unit: u32, item: &str, claimed: i64, day: u32| ClaimRow {
        line: 2,
        claim: SelfClaim {
            unit: code(unit),
            item: item.to_string(),
            claimed: Decimal::new(claimed, 2),
            note: None,
        },
        submitted_at: at(11, day),
    };
    store
        .record_self_assessment(
            &[claim(1, "updates", 1230, 3), claim(1, "catalogue", 800, 3), claim(2, "updates", 500, 3)],
            audit("self.import"),
        )
        .await
        .expect("claims");
    // A later submission replaces the unit's claim for the same item.
    store
        .record_self_assessment(&[claim(1, "updates", 1100, 8)], audit("self.import"))
        .await
        .expect("claims");
    let claims = store.self_claims_for(&code(1)).await.expect("claims");
    let seen: Vec<_> =
        claims.iter().map(|c| (c.claim.item.as_str(), c.claim.claimed, c.submitted_at)).collect();
    assert_eq!(
        seen,
        vec![("catalogue", Decimal::new(800, 2), at(11, 3)), ("updates", Decimal::new(1100, 2), at(11, 8))]
    );
    assert!(claims.iter().all(|c| c.claim.unit == code(1)));
}

#[tokio::test]
async fn audit_for_target_lists_only_that_targets_records_newest_first() {
    let store = city(1).await;
    for n in 0..3 {
        store
            .set_setting("k", &n.to_string(), audit(&format!("setting.{n}")).target("甲"))
            .await
            .expect("set");
    }
    store.set_setting("k", "x", audit("setting.other").target("乙")).await.expect("set");
    let records = store.audit_for_target("甲", 2).await.expect("audit");
    let actions: Vec<&str> = records.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, vec!["setting.2", "setting.1"]);
    assert!(store.audit_for_target("丙", 10).await.expect("audit").is_empty());
    assert_eq!(store.setting("k").await.expect("read").as_deref(), Some("x"));
    assert_eq!(store.setting("missing").await.expect("read"), None);
}

// ---------------------------------------------------------------------------------------------
// Settings, tokens and accounts

#[tokio::test(flavor = "multi_thread")]
async fn the_cookie_secret_is_made_once_and_kept() {
    let store = Store::memory().await.expect("mem store");
    let (a, b) = tokio::join!(store.cookie_secret(), store.cookie_secret());
    let (a, b) = (a.expect("secret"), b.expect("secret"));
    assert_eq!(a, b, "concurrent first calls end with one value");
    assert_eq!(store.cookie_secret().await.expect("secret"), a, "stable");
    assert_ne!(a, [0u8; 64]);
    let other = Store::memory().await.expect("mem store");
    assert_ne!(other.cookie_secret().await.expect("secret"), a, "a new store makes its own");
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_round_trip_and_only_their_hash_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("surrealkv://{}", dir.path().join("db").display());
    let store = Store::connect(&StoreConfig::new(db.as_str())).await.expect("store");
    add_account(&store, &account("gkb.admin", Role::Office, None, None)).await;
    add_account(&store, &account("other.user", Role::Leader, None, None)).await;

    let token =
        store.create_api_token("gkb.admin", "夜间导出脚本", audit("token.create")).await.expect("token");
    assert!(token.starts_with("gk_") && token.len() == 3 + 64, "{token}");
    let second = store.create_api_token("gkb.admin", "备用", audit("token.create")).await.expect("token");
    assert_ne!(token, second);
    assert!(matches!(
        store.create_api_token("nobody", "x", audit("token.create")).await,
        Err(TokenError::UnknownAccount(_))
    ));
    assert!(matches!(
        store.create_api_token("gkb.admin", " ", audit("token.create")).await,
        Err(TokenError::BadLabel)
    ));

    let found = store.account_for_token(&token).await.expect("lookup").expect("accepted");
    assert_eq!((found.username.as_str(), found.role), ("gkb.admin", Role::Office));
    for junk in [
        "",
        "gk_",
        "gk_zz",
        &token[..token.len() - 1],
        &format!("gk_{}", "0".repeat(64)),
        &token.to_uppercase(),
    ] {
        assert_eq!(store.account_for_token(junk).await.expect("lookup"), None, "{junk:?}");
    }

    let listed = store.api_tokens("gkb.admin").await.expect("tokens");
    assert_eq!(listed.len(), 2);
    let first = listed.iter().find(|t| t.label == "夜间导出脚本").expect("listed");
    assert!(first.last_used_at.is_some(), "stamped when used");
    assert!(listed.iter().find(|t| t.label == "备用").expect("listed").last_used_at.is_none());
    assert!(store.api_tokens("other.user").await.expect("tokens").is_empty());

    // Another account cannot revoke it; its owner can.
    assert!(matches!(
        store.revoke_api_token(&first.id, "other.user", audit("token.revoke")).await,
        Err(TokenError::NotFound)
    ));
    assert!(store.account_for_token(&token).await.expect("lookup").is_some());
    assert!(matches!(
        store.revoke_api_token("api_token:nope", "gkb.admin", audit("x")).await,
        Err(TokenError::NotFound)
    ));
    assert!(matches!(
        store.revoke_api_token("garbage", "gkb.admin", audit("x")).await,
        Err(TokenError::NotFound)
    ));
    store.revoke_api_token(&first.id, "gkb.admin", audit("token.revoke")).await.expect("revoke");
    assert_eq!(store.account_for_token(&token).await.expect("lookup"), None, "revoked");
    assert!(store.api_tokens("gkb.admin").await.expect("tokens").iter().any(|t| t.revoked));

    // A disabled account's tokens stop working, and work again once it is enabled.
    assert!(store.account_for_token(&second).await.expect("lookup").is_some());
    store.set_account_disabled("gkb.admin", true, audit("account.disable")).await.expect("disable");
    assert_eq!(store.account_for_token(&second).await.expect("lookup"), None, "disabled");
    store.set_account_disabled("gkb.admin", false, audit("account.enable")).await.expect("enable");
    assert!(store.account_for_token(&second).await.expect("lookup").is_some());
    store.close().await;

    // Read the table back with a plain SurrealDB client: the hash is there, the token is not.
    let raw = surrealdb::engine::any::connect(db.as_str()).await.expect("raw connect");
    raw.use_ns("gongkai").use_db("main").await.expect("ns");
    let mut response = raw.query("SELECT * FROM api_token; SELECT * FROM audit").await.expect("select");
    let tokens: surrealdb::types::Value = response.take(0).expect("rows");
    let audits: surrealdb::types::Value = response.take(1).expect("rows");
    let (tokens, audits) = (format!("{tokens:?}"), format!("{audits:?}"));
    for secret in [&token, &second] {
        let body = &secret[3..];
        assert!(!tokens.contains(body) && !audits.contains(body), "token text stored");
        assert!(tokens.contains(&hex::encode(Sha256::digest(secret.as_bytes()))), "hash stored: {tokens}");
    }
}

#[tokio::test]
async fn accounts_are_disabled_and_their_passwords_replaced_with_an_audit_record() {
    let store = city(1).await;
    add_account(&store, &account("jia.lianluo", Role::Unit, Some(1), None)).await;
    let new_hash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdA$bmV3aGFzaG5ld2hhc2hoYXNo";

    store
        .set_password_hash("jia.lianluo", new_hash, audit("account.password").target("jia.lianluo"))
        .await
        .expect("set");
    let (found, hash) = store.account("jia.lianluo").await.expect("read").expect("exists");
    assert_eq!(hash, new_hash);
    assert!(!found.disabled);

    store
        .set_account_disabled("jia.lianluo", true, audit("account.disable").target("jia.lianluo"))
        .await
        .expect("set");
    assert!(store.account("jia.lianluo").await.expect("read").expect("exists").0.disabled);
    assert!(store.accounts().await.expect("list").iter().all(|a| a.disabled), "the listing shows it");
    let actions: Vec<String> = store
        .audit_for_target("jia.lianluo", 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|r| r.action)
        .collect();
    assert_eq!(actions, vec!["account.disable", "account.password"]);

    let audits = store.audit_entries(1_000).await.expect("audit").len();
    assert!(matches!(
        store.set_account_disabled("nobody", true, audit("account.disable")).await,
        Err(AccountUpdateError::NotFound(name)) if name == "nobody"
    ));
    assert!(matches!(
        store.set_password_hash("nobody", new_hash, audit("account.password")).await,
        Err(AccountUpdateError::NotFound(_))
    ));
    assert!(store.account("nobody").await.expect("read").is_none(), "not created by the update");
    assert_eq!(store.audit_entries(1_000).await.expect("audit").len(), audits);
}
