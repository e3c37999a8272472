//! One unit's page: its facts, its score in a cycle, its trend, and the answer to "why did we
//! lose these points?" — the explanation tree with the items that lost points first, each down
//! to the findings that cost them and their evidence. The same [`UnitDetail`] serves the unit
//! itself, its group's inspectors, leaders and the office, and the JSON API; who may read it is
//! the route's business ([`CurrentUser::ensure_view_unit`](crate::web::session::CurrentUser)).
//!
//! Cost: three rounds of queries run concurrently within each round (facts and lists; the
//! cycle's score and tree; and, only when the tree cites findings a newer crawl has replaced,
//! the unit's full finding history), whatever the size of the city.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::ranking::{RankingRow, chosen_cycle};
use crate::model::{
    CityClock, Finding, FindingStatus, OrgCode, RectificationAction, RectificationSide, Source, UnitKind,
    check_info,
};
use crate::rules::{Cited, Explanation, Node, NodeKind};
use crate::store::{CycleInfo, FindingFilter, ScorePoint, Store, SubmittedClaim, VisitRecord};
use crate::web::error::WebError;

/// Longest snippet shown; crawled text is attacker-controlled and may be huge.
const MAX_SNIPPET_CHARS: usize = 2_000;
/// Longest value of any other evidence field.
const MAX_DETAIL_CHARS: usize = 500;

/// What the registry says about the unit.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UnitFacts {
    /// The unified social credit code (统一社会信用代码) the registry keys the unit by.
    pub code: String,
    /// The unit's registered Chinese name.
    pub name: String,
    /// The kind of body (department, institution, district, development zone…).
    pub kind: UnitKind,
    /// `kind` in Chinese, for the page.
    pub kind_label: &'static str,
    /// The credit code of the unit it reports to, if any.
    pub parent_code: Option<String>,
    /// The parent's name; none when there is no parent or it is no longer registered.
    pub parent_name: Option<String>,
    /// The website address as registered, shown as text (it may not be a valid link).
    pub website: Option<String>,
    /// The website as a link target: only an http(s) address is ever linked.
    pub website_link: Option<String>,
    /// The address of the disclosure catalogue (政府信息公开目录) as registered.
    pub catalogue_url: Option<String>,
    /// `catalogue_url` as a link target, under the same http(s)-only rule as `website_link`.
    pub catalogue_link: Option<String>,
    /// Where notices are e-mailed; none: portal delivery only.
    pub email: Option<String>,
    /// The inspector group the unit is assigned to.
    pub group: Option<String>,
}

/// A finding as the unit page shows it, in the tree (cited) and in the findings list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FindingView {
    /// The store's id (`finding:…`); none only for a citation of an unsaved finding.
    pub id: Option<String>,
    /// The finding's own page.
    pub href: Option<String>,
    /// The check id that produced it (e.g. `link.broken`).
    pub check: String,
    /// The check's Chinese title, for the vocabulary's checks.
    pub check_label: Option<&'static str>,
    /// Who recorded it: a crawler, an inspector or the unit's self-assessment.
    pub source: Source,
    /// When the problem was observed, UTC.
    pub observed_at: DateTime<Utc>,
    /// The observation day in Beijing.
    pub observed_day: String,
    /// The page the finding is about, as recorded (crawled text: shown escaped).
    pub url: Option<String>,
    /// `url` when it is an http(s) address (anything else is shown as text, never linked).
    pub link: Option<String>,
    /// The current status; none when the cited finding is no longer stored.
    pub status: Option<FindingStatus>,
    /// The day by which the unit must fix it, when one was set (by an inspector or a notice).
    pub rectify_by: Option<NaiveDate>,
    /// The evidence snippet (crawled text), cut to a readable length.
    pub snippet: Option<String>,
    /// The evidence's other fields.
    pub detail: Vec<DetailField>,
    /// Still current: not replaced by a newer crawl of the same kind.
    pub current: bool,
    /// The rectification loop has a move for the unit from the finding's status (rectify or
    /// dispute), so its page offers "答复" to the unit's account.
    pub answerable: bool,
}

/// One field of a finding's structured evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DetailField {
    /// The evidence field's key as the check wrote it (e.g. `keyword`).
    pub key: String,
    /// The key's Chinese name, or the key itself for a field this page has no name for.
    pub label: String,
    /// The value as text (lists joined with 、), cut to a readable length.
    pub value: String,
}

/// A piece of evidence an explanation node cites.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// A finding, with its current status and evidence when it is still stored.
    Finding(Box<FindingView>),
    /// A count or a metric an expression read.
    Value {
        /// The variable's name in the rule expression (a check id or a metric).
        name: String,
        /// Its Chinese title, from the rule file.
        label: String,
        /// The value the expression read at assessment time.
        value: Decimal,
        /// Not measured: the rule file's declared default was used.
        defaulted: bool,
    },
    /// A self-assessment claim.
    Claim {
        /// The self-assessment item's id, as in the rule file.
        item: String,
        /// The points the unit claimed, before caps and verification.
        claimed: Decimal,
    },
}

/// The node kinds of src/rules/explain.rs, read back from the stored tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TreeKind {
    /// The root: the whole rule set and the final base score.
    Assessment,
    /// The group of veto items (单项否决).
    Vetoes,
    /// One veto item whose condition was met (the engine lists only those).
    Veto,
    /// The indicators excluded as not applicable (不适用) and where their points went.
    NotApplicable,
    /// One assessment method (e.g. website inspection), with its weight.
    Component,
    /// One scored indicator (指标).
    Indicator,
    /// One deduction line under an indicator: what was found and what it cost.
    Deduction,
    /// One self-assessed indicator: points claimed and points granted.
    SelfClaim,
    /// The bonus group (加分项).
    Bonus,
    /// One bonus line that earned points.
    BonusItem,
    /// Under an indicator: the evidence it depends on could not be collected (未能核查).
    Unchecked,
    /// A kind this version does not know (a newer engine wrote the tree): shown plainly.
    #[serde(other)]
    Other,
}

/// One node of the explanation tree, with what the page needs to show it at a glance.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TreeNode {
    /// What the node stands for; decides which point fields are meaningful.
    pub kind: TreeKind,
    /// The rule file's id for the item, or a fixed id for groups (e.g. `vetoes`).
    pub id: String,
    /// The Chinese title from the rule file.
    pub label: String,
    /// A unique element id on the page, for the "lost points" list to link to.
    pub anchor: String,
    /// Points at stake before any deduction.
    pub available: Option<Decimal>,
    /// Points deducted here, as the engine recorded them (already capped).
    pub lost: Option<Decimal>,
    /// Points earned here (bonus nodes only).
    pub gained: Option<Decimal>,
    /// Points the node ends with, after deductions and caps.
    pub score: Option<Decimal>,
    /// The cap that limited the node's points, when one did.
    pub cap: Option<Decimal>,
    /// A component's weight in the total (e.g. 0.6).
    pub weight: Option<Decimal>,
    /// On a self-claim node: the points the unit claimed.
    pub claimed: Option<Decimal>,
    /// Points this node cost the unit; zero for nodes that cannot lose points.
    pub points_lost: Decimal,
    /// `points_lost` is above zero (a flag the template can test directly).
    pub has_lost: bool,
    /// A veto that was met (the unit scores zero).
    pub veto_met: bool,
    /// Shown expanded: it cost points or holds something that did. Full marks stay collapsed.
    pub open: bool,
    /// The engine's explanations in Chinese: conditions, formulas, caps.
    pub notes: Vec<String>,
    /// The findings, values and claims the node's points rest on.
    pub evidence: Vec<Evidence>,
    /// Sub-nodes; inside a component, those that lost points first, the costliest first.
    pub children: Vec<TreeNode>,
}

/// The explanation of one score, stamped as the engine stamped it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ExplanationView {
    /// The rule set's id.
    pub rule_set: String,
    /// The rule set's version as written in its file.
    pub version: String,
    /// SHA-256 of the rule file's text (hex), to tell apart two edits with one version.
    pub hash: String,
    /// The day (city clock) the unit was assessed as of.
    pub as_of: NaiveDate,
    /// Things the reader should know that are not point changes, in Chinese.
    pub warnings: Vec<String>,
    /// The tree's root (an `assessment` node).
    pub root: TreeNode,
}

/// An item that cost points, for the list at the top of the page.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LostItem {
    /// The tree node's element id, for the link down to it.
    pub anchor: String,
    /// The assessment method (component) the item belongs to, if any.
    pub component: Option<String>,
    /// The item's Chinese title.
    pub label: String,
    /// Points the item cost; zero for a veto (a met veto zeroes the whole score).
    pub points_lost: Decimal,
    /// Points the item had at stake.
    pub available: Option<Decimal>,
    /// A veto item that was met, rather than an indicator that lost points.
    pub veto: bool,
    /// The item scored zero because evidence it depends on could not be collected (未能核查).
    pub unchecked: bool,
    /// How many findings the item's deductions cite.
    pub findings: usize,
}

/// A self-assessment claim beside what the rule set granted for the item.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ClaimView {
    /// The self-assessment item's id, as in the rule file.
    pub item: String,
    /// The item's title, from the explanation tree.
    pub label: Option<String>,
    /// The points the unit claimed.
    pub claimed: Decimal,
    /// The points the rule set granted after caps and verification; none when the tree has no such item.
    pub granted: Option<Decimal>,
    /// The item's points at stake, from the tree.
    pub available: Option<Decimal>,
    /// Claimed beyond what was granted.
    pub over_claimed: bool,
    /// The unit's own remark on the claim.
    pub note: Option<String>,
    /// When the claim was submitted, UTC.
    pub submitted_at: DateTime<Utc>,
}

/// Everything the unit page shows.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct UnitDetail {
    /// The registry's facts about the unit.
    pub unit: UnitFacts,
    /// The cycle shown: the one asked for, else the current one; none before any assessment.
    pub cycle: Option<CycleInfo>,
    /// The unit's score in that cycle; none when the cycle did not score it.
    pub score: Option<RankingRow>,
    /// The unit's totals in every cycle of the shown cycle's rule set, oldest first.
    pub history: Vec<ScorePoint>,
    /// Why the score is what it is; none when unscored or the stored tree cannot be read.
    pub explanation: Option<ExplanationView>,
    /// The met vetoes and the items that lost points, for the list at the top.
    pub lost_items: Vec<LostItem>,
    /// Current findings (every status), newest first.
    pub findings: Vec<FindingView>,
    /// The inspectors' recorded visits to the unit, newest first.
    pub visits: Vec<VisitRecord>,
    /// The unit's self-assessment claims, each beside what was granted.
    pub claims: Vec<ClaimView>,
}

/// What a kept unit page was computed from: the store's change stamp, which moves with every
/// write that could change any unit's page. `None` while the store does not watch for changes:
/// then no page may be kept.
pub fn detail_stamp(store: &Store) -> Option<String> {
    store.change_stamp().map(|n| n.to_string())
}

/// Assembles `code`'s page for `cycle` (default: the current cycle). An unregistered unit or an
/// unknown cycle is "not found".
pub async fn unit_detail(store: &Store, code: &OrgCode, cycle: Option<&str>) -> Result<UnitDetail, WebError> {
    let current_only = FindingFilter { unit: Some(code.clone()), ..FindingFilter::default() };
    let (unit, chosen, history, findings, visits, claims, group) = tokio::try_join!(
        async { Ok::<_, WebError>(store.unit(code).await?) },
        chosen_cycle(store, cycle),
        async { Ok::<_, WebError>(store.score_history(code).await?) },
        async { Ok::<_, WebError>(store.findings(&current_only).await?) },
        async { Ok::<_, WebError>(store.visits_for(code).await?) },
        async { Ok::<_, WebError>(store.self_claims_for(code).await?) },
        async { Ok::<_, WebError>(store.unit_group(code).await?) },
    )?;
    let unit = unit.ok_or(WebError::NotFound)?;

    let cycle_id = chosen.as_ref().map(|c| c.cycle.as_str());
    let (score, tree, parent) = tokio::try_join!(
        async {
            Ok::<_, WebError>(match cycle_id {
                Some(cycle) => store.unit_score(cycle, code).await?,
                None => None,
            })
        },
        async {
            Ok::<_, WebError>(match cycle_id {
                Some(cycle) => store.explanation(cycle, code.as_str()).await?,
                None => None,
            })
        },
        async {
            Ok::<_, WebError>(match &unit.parent_code {
                Some(parent) => store.unit(parent).await?,
                None => None,
            })
        },
    )?;
    let raw = tree.and_then(|tree| match serde_json::from_value::<Explanation>(tree) {
        Ok(raw) => Some(raw),
        Err(error) => {
            tracing::warn!(unit = %code, error = %error, "stored explanation unreadable");
            None
        }
    });

    // The tree cites findings by id; their evidence (snippet, status) is in the findings. A
    // citation a newer crawl has replaced is not among the current ones: read the history once.
    let mut known: HashMap<String, (&Finding, bool)> =
        findings.iter().filter_map(|f| Some((f.id.clone()?, (f, true)))).collect();
    let cited = raw.as_ref().map(|r| cited_ids(&r.root)).unwrap_or_default();
    let history_findings = if cited.iter().any(|id| !known.contains_key(*id)) {
        store.findings(&FindingFilter { include_superseded: true, ..current_only }).await?
    } else {
        Vec::new()
    };
    for finding in &history_findings {
        if let Some(id) = &finding.id {
            known.entry(id.clone()).or_insert((finding, false));
        }
    }

    let explanation = raw.map(|raw| explanation_view(raw, &known));
    let lost_items = explanation.as_ref().map(|e| lost_items(&e.root)).unwrap_or_default();
    let claims = claim_views(claims, explanation.as_ref());
    let history = match &chosen {
        Some(cycle) => history.into_iter().filter(|p| p.ruleset_id == cycle.ruleset_id).collect(),
        None => history,
    };
    Ok(UnitDetail {
        unit: UnitFacts {
            code: unit.code.to_string(),
            kind_label: unit.kind.label_zh(),
            kind: unit.kind,
            parent_code: unit.parent_code.as_ref().map(ToString::to_string),
            parent_name: parent.map(|p| p.name),
            website_link: web_link(unit.website.as_deref()),
            catalogue_link: web_link(unit.catalogue_url.as_deref()),
            name: unit.name,
            website: unit.website,
            catalogue_url: unit.catalogue_url,
            email: unit.email,
            group,
        },
        cycle: chosen,
        score: score.map(RankingRow::from),
        history,
        explanation,
        lost_items,
        findings: findings.iter().map(|f| finding_view(f, true)).collect(),
        visits,
        claims,
    })
}

/// An address that may be put in an `href`: http or https only, so a unit's data can never
/// make the page run a `javascript:` (or `data:`) URL.
pub fn web_link(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    let parsed = url::Url::parse(raw).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// The finding's own page. Store ids are `finding:` and an alphanumeric key; anything else in
/// an id is percent-encoded so it stays one path segment.
pub fn finding_href(id: &str) -> String {
    let mut path = String::from("/findings/");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b':' | b'-' | b'_' | b'.') {
            path.push(char::from(byte));
        } else {
            path.push_str(&format!("%{byte:02X}"));
        }
    }
    path
}

/// Text cut to `max` characters, marked when cut.
fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The Chinese name of an evidence field the crawlers and inspectors write.
fn detail_label(key: &str) -> Option<&'static str> {
    Some(match key {
        "url" => "地址",
        "reason" => "原因",
        "target" => "目标",
        "page" => "所在页面",
        "class" => "类目",
        "title" => "标题",
        "newest" => "最新日期",
        "message" => "说明",
        "index_no" => "索引号",
        "word" | "keyword" => "关键词",
        "text" => "文字",
        "status" => "状态码",
        "patterns" => "特征",
        "error" => "错误",
        "count" => "数量",
        "column" => "栏目",
        "cadence" => "更新周期",
        "year" => "年份",
        "month" => "月份",
        "days" => "天数",
        "window_days" => "时间窗口（天）",
        "days_since_newest" => "距最近更新（天）",
        "technique" => "手法",
        "synonyms" => "同义词",
        "link_text" => "链接文字",
        "item" => "事项",
        "expected" => "应为",
        "deadline" => "期限",
        "note" => "备注",
        "budget_secs" => "时间预算（秒）",
        "pages" => "已读页面数",
        "flattened" => "嵌套过深已展平的层数",
        "flattened_note" => "说明",
        _ => return None,
    })
}

fn detail_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) => items.iter().map(detail_value).collect::<Vec<_>>().join("、"),
        other => other.to_string(),
    }
}

/// The snippet and the other fields of a finding's evidence.
fn split_detail(detail: &serde_json::Value) -> (Option<String>, Vec<DetailField>) {
    let Some(object) = detail.as_object() else {
        return (None, Vec::new());
    };
    let snippet = object
        .get("snippet")
        .map(detail_value)
        .filter(|s| !s.trim().is_empty())
        .map(|s| shortened(&s, MAX_SNIPPET_CHARS));
    let fields = object
        .iter()
        .filter(|(key, value)| key.as_str() != "snippet" && !value.is_null())
        .map(|(key, value)| DetailField {
            label: detail_label(key).map_or_else(|| key.clone(), str::to_string),
            key: key.clone(),
            value: shortened(&detail_value(value), MAX_DETAIL_CHARS),
        })
        .collect();
    (snippet, fields)
}

fn finding_view(finding: &Finding, current: bool) -> FindingView {
    let (snippet, detail) = split_detail(&finding.detail);
    FindingView {
        href: finding.id.as_deref().map(finding_href),
        id: finding.id.clone(),
        check_label: check_info(&finding.check).map(|c| c.title_zh),
        check: finding.check.clone(),
        source: finding.source,
        observed_at: finding.observed_at,
        observed_day: CityClock::default().format_date(finding.observed_at),
        link: web_link(finding.url.as_deref()),
        url: finding.url.clone(),
        status: Some(finding.status),
        rectify_by: finding.rectify_by,
        snippet,
        detail,
        answerable: current && unit_may_answer(finding.status),
        current,
    }
}

fn unit_may_answer(status: FindingStatus) -> bool {
    RectificationAction::available(status).into_iter().any(|action| action.side() == RectificationSide::Unit)
}

// --- The stored tree ([`Explanation`], as the engine wrote it) as the page shows it ---

impl From<NodeKind> for TreeKind {
    fn from(kind: NodeKind) -> Self {
        match kind {
            NodeKind::Assessment => TreeKind::Assessment,
            NodeKind::Vetoes => TreeKind::Vetoes,
            NodeKind::Veto => TreeKind::Veto,
            NodeKind::NotApplicable => TreeKind::NotApplicable,
            NodeKind::Component => TreeKind::Component,
            NodeKind::Indicator => TreeKind::Indicator,
            NodeKind::Deduction => TreeKind::Deduction,
            NodeKind::SelfClaim => TreeKind::SelfClaim,
            NodeKind::Bonus => TreeKind::Bonus,
            NodeKind::BonusItem => TreeKind::BonusItem,
            NodeKind::Unchecked => TreeKind::Unchecked,
            NodeKind::Unknown => TreeKind::Other,
        }
    }
}

fn explanation_view(
    explanation: Explanation,
    findings: &HashMap<String, (&Finding, bool)>,
) -> ExplanationView {
    let mut counter = 0;
    ExplanationView {
        rule_set: explanation.rule_set,
        version: explanation.version,
        hash: explanation.hash,
        as_of: explanation.as_of,
        warnings: explanation.warnings,
        root: node_view(explanation.root, findings, &mut counter),
    }
}

/// Every finding id cited anywhere in the tree.
fn cited_ids(root: &Node) -> Vec<&str> {
    root.walk()
        .into_iter()
        .flat_map(|node| &node.evidence)
        .filter_map(|e| match e {
            Cited::Finding { id: Some(id), .. } => Some(id.as_str()),
            _ => None,
        })
        .collect()
}

/// What the node cost the unit. An indicator's (and a deduction's) `lost` is already
/// capped; a component or a self-claimed item lost what it did not score. The
/// not-applicable node's `lost` is points moved elsewhere, not lost.
fn points_lost(node: &Node) -> Decimal {
    let lost = match node.kind {
        NodeKind::Indicator | NodeKind::Deduction => node.lost.unwrap_or_default(),
        NodeKind::Component | NodeKind::SelfClaim => match (node.available, node.score) {
            (Some(available), Some(score)) => available - score,
            _ => Decimal::ZERO,
        },
        _ => Decimal::ZERO,
    };
    lost.max(Decimal::ZERO)
}

fn node_view(node: Node, findings: &HashMap<String, (&Finding, bool)>, counter: &mut usize) -> TreeNode {
    *counter += 1;
    let anchor = format!("item-{counter}");
    let points_lost = points_lost(&node);
    let kind = TreeKind::from(node.kind);
    let mut children: Vec<TreeNode> =
        node.children.into_iter().map(|c| node_view(c, findings, counter)).collect();
    if kind == TreeKind::Component {
        // Items that lost points first, the costliest first; full marks after, in rule order.
        children.sort_by_key(|c| std::cmp::Reverse(c.points_lost));
    }
    let veto_met = kind == TreeKind::Veto;
    let open = match kind {
        TreeKind::Assessment | TreeKind::Veto | TreeKind::Unchecked => true,
        TreeKind::Vetoes => !children.is_empty(),
        TreeKind::NotApplicable | TreeKind::Bonus | TreeKind::BonusItem => false,
        _ => points_lost > Decimal::ZERO || children.iter().any(|c| c.open),
    };
    TreeNode {
        kind,
        id: node.id,
        label: node.label,
        anchor,
        available: node.available,
        lost: node.lost,
        gained: node.gained,
        score: node.score,
        cap: node.cap,
        weight: node.weight,
        claimed: node.claimed,
        has_lost: points_lost > Decimal::ZERO,
        points_lost,
        veto_met,
        open,
        notes: node.notes,
        evidence: node.evidence.into_iter().map(|e| cited_view(e, findings)).collect(),
        children,
    }
}

fn cited_view(cited: Cited, findings: &HashMap<String, (&Finding, bool)>) -> Evidence {
    match cited {
        Cited::Finding { id, check, source, url, observed_at } => {
            let stored = id.as_ref().and_then(|id| findings.get(id));
            let view = match stored {
                Some((finding, current)) => finding_view(finding, *current),
                // Cited but no longer stored: what the citation itself recorded.
                None => FindingView {
                    href: None,
                    id,
                    check_label: check_info(&check).map(|c| c.title_zh),
                    check,
                    source,
                    observed_at,
                    observed_day: CityClock::default().format_date(observed_at),
                    link: web_link(url.as_deref()),
                    url,
                    status: None,
                    rectify_by: None,
                    snippet: None,
                    detail: Vec::new(),
                    current: false,
                    answerable: false,
                },
            };
            Evidence::Finding(Box::new(view))
        }
        Cited::Value { name, label, value, defaulted } => Evidence::Value { name, label, value, defaulted },
        Cited::Claim { item, claimed } => Evidence::Claim { item, claimed },
    }
}

/// Findings cited by a node and everything below it.
fn cited_findings(node: &TreeNode) -> usize {
    node.evidence.iter().filter(|e| matches!(e, Evidence::Finding(_))).count()
        + node.children.iter().map(cited_findings).sum::<usize>()
}

/// The vetoes met and the items that lost points, the vetoes first and then the costliest.
fn lost_items(root: &TreeNode) -> Vec<LostItem> {
    let mut items = Vec::new();
    for top in &root.children {
        match top.kind {
            TreeKind::Vetoes => {
                items.extend(top.children.iter().filter(|v| v.veto_met).map(|veto| LostItem {
                    anchor: veto.anchor.clone(),
                    component: None,
                    label: veto.label.clone(),
                    points_lost: Decimal::ZERO,
                    available: None,
                    veto: true,
                    unchecked: false,
                    findings: cited_findings(veto),
                }));
            }
            TreeKind::Component => {
                items.extend(top.children.iter().filter(|item| item.has_lost).map(|item| LostItem {
                    anchor: item.anchor.clone(),
                    component: Some(top.label.clone()),
                    label: item.label.clone(),
                    points_lost: item.points_lost,
                    available: item.available,
                    veto: false,
                    unchecked: item.children.iter().any(|c| c.kind == TreeKind::Unchecked),
                    findings: cited_findings(item),
                }));
            }
            _ => {}
        }
    }
    items.sort_by(|a, b| b.veto.cmp(&a.veto).then_with(|| b.points_lost.cmp(&a.points_lost)));
    items
}

/// The unit's claims beside what the explanation granted for each item.
fn claim_views(claims: Vec<SubmittedClaim>, explanation: Option<&ExplanationView>) -> Vec<ClaimView> {
    let mut granted: HashMap<&str, &TreeNode> = HashMap::new();
    if let Some(explanation) = explanation {
        let mut stack = vec![&explanation.root];
        while let Some(node) = stack.pop() {
            if node.kind == TreeKind::SelfClaim {
                granted.entry(node.id.as_str()).or_insert(node);
            }
            stack.extend(node.children.iter());
        }
    }
    claims
        .into_iter()
        .map(|submitted| {
            let node = granted.get(submitted.claim.item.as_str());
            let granted = node.and_then(|n| n.score);
            ClaimView {
                label: node.map(|n| n.label.clone()),
                available: node.and_then(|n| n.available),
                over_claimed: granted.is_some_and(|g| submitted.claim.claimed > g),
                granted,
                item: submitted.claim.item,
                claimed: submitted.claim.claimed,
                note: submitted.claim.note,
                submitted_at: submitted.submitted_at,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;
    use serde_json::json;

    use super::*;

    #[test]
    fn only_http_addresses_become_links() {
        assert_eq!(web_link(Some(" http://a.example.cn/x ")), Some("http://a.example.cn/x".into()));
        assert_eq!(web_link(Some("https://a.example.cn")), Some("https://a.example.cn/".into()));
        for hostile in
            ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "//evil", "a.example.cn"]
        {
            assert_eq!(web_link(Some(hostile)), None, "{hostile}");
        }
        assert_eq!(web_link(None), None);
    }

    #[test]
    fn finding_links_stay_one_segment() {
        assert_eq!(finding_href("finding:abc123"), "/findings/finding:abc123");
        assert_eq!(finding_href("finding:⟨a/b?c⟩"), "/findings/finding:%E2%9F%A8a%2Fb%3Fc%E2%9F%A9");
    }

    #[test]
    fn the_snippet_is_kept_apart_and_long_text_is_cut() {
        let long = "字".repeat(MAX_DETAIL_CHARS + 10);
        let (snippet, fields) = split_detail(
            &json!({ "snippet": "<b>x</b>", "keyword": "博彩", "patterns": ["a", "b"], "text": long, "n": null }),
        );
        assert_eq!(snippet.as_deref(), Some("<b>x</b>"), "kept verbatim: the template escapes it");
        let field = |key: &str| fields.iter().find(|f| f.key == key).cloned();
        assert_eq!(field("keyword").map(|f| (f.label, f.value)), Some(("关键词".into(), "博彩".into())));
        assert_eq!(field("patterns").map(|f| f.value), Some("a、b".into()));
        let text = field("text").expect("text").value;
        assert_eq!(text.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(text.ends_with('…'));
        assert!(field("n").is_none() && field("snippet").is_none());
        assert_eq!(split_detail(&json!("plain")), (None, Vec::new()));
    }

    fn sample_tree() -> Explanation {
        serde_json::from_str(
            r#"{
            "rule_set": "r", "version": "1", "hash": "h", "unit": "u", "as_of": "2026-11-30", "warnings": [],
            "root": { "kind": "assessment", "id": "r", "label": "测评", "available": "100", "score": "88.5",
              "children": [
                { "kind": "vetoes", "id": "vetoes", "label": "单项否决", "notes": ["未触发单项否决"] },
                { "kind": "component", "id": "c", "label": "监测", "available": "100", "score": "88.5", "weight": "1",
                  "children": [
                    { "kind": "indicator", "id": "full", "label": "满分项", "available": "20", "lost": "0", "score": "20" },
                    { "kind": "indicator", "id": "small", "label": "小失分", "available": "30", "lost": "1.5", "score": "28.5",
                      "children": [{ "kind": "deduction", "id": "d1", "label": "断链", "lost": "1.5",
                        "notes": ["3 个问题 × 0.5 分"],
                        "evidence": [{ "type": "finding", "id": "finding:a", "check": "link.broken", "source": "crawler",
                                       "url": "javascript:alert(1)", "observed_at": "2026-11-20T03:00:00Z" }] }] },
                    { "kind": "indicator", "id": "big", "label": "大失分", "available": "50", "lost": "10", "score": "40",
                      "children": [{ "kind": "deduction", "id": "d2", "label": "栏目不更新", "lost": "10",
                        "evidence": [{ "type": "value", "name": "count.x", "label": "x", "value": "2", "defaulted": false }] }] }
                  ] },
                { "kind": "bonus", "id": "bonus", "label": "加分项", "available": "5", "gained": "0" }
              ] }
        }"#,
        )
        .expect("tree")
    }

    #[test]
    fn lost_items_come_first_costliest_first_and_full_marks_stay_closed() {
        let view = explanation_view(sample_tree(), &HashMap::new());
        let component = &view.root.children[1];
        let order: Vec<&str> = component.children.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(order, ["big", "small", "full"]);
        assert!(component.open && component.children[0].open && component.children[1].open);
        assert!(!component.children[2].open, "full marks are collapsed");
        assert!(!view.root.children[0].open, "no veto met");
        assert!(!view.root.children[2].open, "the bonus is not why points were lost");
        assert_eq!(component.points_lost, dec!(11.5));
        let items = lost_items(&view.root);
        let summary: Vec<(&str, Decimal, usize)> =
            items.iter().map(|i| (i.label.as_str(), i.points_lost, i.findings)).collect();
        assert_eq!(summary, [("大失分", dec!(10), 0), ("小失分", dec!(1.5), 1)]);
        assert_eq!(items[1].anchor, component.children[1].anchor);
    }

    #[test]
    fn a_cited_finding_that_is_gone_keeps_its_citation_but_no_unsafe_link() {
        let view = explanation_view(sample_tree(), &HashMap::new());
        let deduction = &view.root.children[1].children[1].children[0];
        let Evidence::Finding(finding) = &deduction.evidence[0] else { panic!("a finding") };
        assert_eq!(finding.id.as_deref(), Some("finding:a"));
        assert_eq!(finding.check_label, Some("链接无法访问（错链、断链）"));
        assert_eq!((finding.link.as_deref(), finding.status, finding.current), (None, None, false));
        assert_eq!(finding.observed_day, "2026-11-20");
    }

    #[test]
    fn an_indicator_zeroed_for_missing_evidence_is_listed_as_unchecked_and_opened() {
        let raw: Explanation = serde_json::from_str(
            r#"{
            "rule_set": "r", "version": "1", "hash": "h", "unit": "u", "as_of": "2026-11-30",
            "root": { "kind": "assessment", "id": "r", "label": "测评", "available": "100", "score": "75",
              "children": [{ "kind": "component", "id": "all", "label": "综合评价", "available": "100", "score": "75",
                "children": [
                  { "kind": "indicator", "id": "usability", "label": "功能设计与安全", "available": "25", "lost": "25",
                    "score": "0", "notes": ["本指标依赖的证据未能核查，得 0 分（没有证据不能得满分）"],
                    "children": [{ "kind": "unchecked", "id": "site.unchecked", "label": "网站未能核查",
                      "notes": ["未能核查：网站未能核查：网站首页无法访问（连接被拒绝）"],
                      "evidence": [{ "type": "finding", "id": "finding:d", "check": "site.unchecked",
                                     "source": "crawler", "observed_at": "2026-11-20T03:00:00Z" }] }] },
                  { "kind": "indicator", "id": "service", "label": "办事服务", "available": "75", "lost": "0", "score": "75" }
                ] }] }
        }"#,
        )
        .expect("tree");
        let view = explanation_view(raw, &HashMap::new());
        let indicator = &view.root.children[0].children[0];
        assert!(indicator.open && indicator.children[0].open);
        assert_eq!(indicator.children[0].kind, TreeKind::Unchecked);
        assert_eq!(indicator.children[0].points_lost, Decimal::ZERO, "the indicator carries the loss, once");
        let items = lost_items(&view.root);
        assert_eq!(items.len(), 1);
        assert!(items[0].unchecked && items[0].points_lost == dec!(25) && items[0].findings == 1);
    }

    #[test]
    fn a_met_veto_is_listed_and_opened() {
        let raw: Explanation = serde_json::from_str(
            r#"{
            "rule_set": "r", "version": "1", "hash": "h", "unit": "u", "as_of": "2026-11-30",
            "root": { "kind": "assessment", "id": "r", "label": "测评", "available": "100", "score": "0",
              "children": [{ "kind": "vetoes", "id": "vetoes", "label": "单项否决",
                "children": [{ "kind": "veto", "id": "spam", "label": "安全事件", "notes": ["否决条件成立"],
                  "evidence": [{ "type": "finding", "id": "finding:s", "check": "content.spam", "source": "crawler",
                                 "observed_at": "2026-11-20T03:00:00Z" }] }] },
                { "kind": "mystery", "id": "m", "label": "新节点" }] }
        }"#,
        )
        .expect("tree");
        let view = explanation_view(raw, &HashMap::new());
        assert!(view.root.children[0].open && view.root.children[0].children[0].veto_met);
        assert_eq!(view.root.children[1].kind, TreeKind::Other);
        let items = lost_items(&view.root);
        assert_eq!(items.len(), 1);
        assert!(items[0].veto && items[0].findings == 1);
    }
}
