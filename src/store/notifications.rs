//! Notifications (通报) in the store: the notice, the units it names with their reasons and
//! findings, its deliveries; and the rectification deadline it puts on the named findings,
//! which the scheduler's recheck later closes or flags overdue.
//!
//! Every state change is one transaction with its audit record. The rules that must hold on
//! the server (the drafter never approves their own notice; only a draft is edited; only an
//! approved notice is published) are checked inside the transaction that makes the change.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use surrealdb::types::{RecordId, RecordIdKey, SurrealValue};

use super::findings::{FINDING_FIELDS, FindingRow, record_key};
use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::model::Finding;

/// One section of a notice's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SurrealValue)]
pub struct NoticeSection {
    /// The section's heading (一、基本情况…), from the template.
    pub heading: String,
    /// The section's body, the template's wording with the cycle's figures filled in.
    pub text: String,
}

/// A finding a notice names, with its evidence in one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, SurrealValue)]
pub struct NoticeFinding {
    /// `finding:…`
    pub id: String,
    /// The check id that produced the finding (e.g. `link.broken`).
    pub check: String,
    /// The check's Chinese title, or the id when the vocabulary does not know it.
    pub title: String,
    /// The page the finding concerns, if any.
    pub url: Option<String>,
    /// The finding's detail as `key：value` pairs, cut to 160 characters.
    pub evidence: String,
}

/// A unit a notice names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SurrealValue)]
pub struct NoticeUnit {
    /// The unit's credit code.
    pub unit: String,
    /// The unit's registered name.
    pub name: String,
    /// Why the unit is named, in the template's wording (from the ranking's laggard reasons).
    pub reasons: Vec<String>,
    /// The open findings its score explanation cites, at most 20, in the explanation's order.
    pub findings: Vec<NoticeFinding>,
    /// When its rectification is due: 23:59:59 Beijing time on the last day, as UTC.
    pub deadline: DateTime<Utc>,
    /// Why the office added the unit by hand (`None` for units the ranking flagged).
    pub added_note: Option<String>,
    /// When the unit acknowledged the published notice in its portal.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The username of the unit account that acknowledged it.
    pub acknowledged_by: Option<String>,
}

/// One delivery of a published notice to one unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, SurrealValue)]
pub struct NoticeDelivery {
    /// The unit's credit code.
    pub unit: String,
    /// `portal` or `email`.
    pub channel: String,
    /// The e-mail address written to; `None` for portal deliveries.
    pub address: Option<String>,
    /// portal: `delivered` / `acknowledged`; e-mail: `sent` / `failed`.
    pub status: String,
    /// How many e-mail attempts have been made for this unit (portal: 1).
    pub attempts: i64,
    /// The last attempt's error, when it failed.
    pub error: Option<String>,
    /// When the delivery was recorded (the last attempt), UTC.
    pub at: DateTime<Utc>,
}

/// A notice with everything it names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// `notification:…`
    pub id: String,
    /// The assessment cycle the notice reports on (e.g. `2027-Q1`).
    pub cycle: String,
    /// `draft`, `approved`, `published` or `withdrawn`.
    pub status: String,
    /// The notice's title, from the template with the cycle filled in.
    pub title: String,
    /// The issuing office, as printed on the notice (发文机关).
    pub issuer: String,
    /// The document number (文号), fixed on approval from the template's pattern; `None` while a draft.
    pub number: Option<String>,
    /// The year the notice was drafted, which numbers it.
    pub year: i64,
    /// The notice's text, in order.
    pub sections: Vec<NoticeSection>,
    /// The template's TOML text the draft was made from (the number pattern, the wording).
    #[serde(skip)]
    pub template: String,
    /// The default rectification deadline given to the named units, UTC.
    pub deadline: DateTime<Utc>,
    /// Username of the office account that drafted it.
    pub drafted_by: String,
    /// When the draft was stored, UTC.
    pub created_at: DateTime<Utc>,
    /// Username of the account that approved it (never the drafter).
    pub approved_by: Option<String>,
    /// When it was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// Username of the account that published it.
    pub published_by: Option<String>,
    /// When it was published; deliveries and finding deadlines date from then.
    pub published_at: Option<DateTime<Utc>>,
    /// The units it names, with their reasons and findings.
    pub units: Vec<NoticeUnit>,
    /// Deliveries made since publication, one per unit and channel.
    pub deliveries: Vec<NoticeDelivery>,
}

/// A draft to store.
#[derive(Debug, Clone)]
pub struct NewNotice {
    /// The assessment cycle it reports on.
    pub cycle: String,
    /// The title, from the template.
    pub title: String,
    /// The issuing office (发文机关).
    pub issuer: String,
    /// The year of drafting, which numbers the notice.
    pub year: i64,
    /// The text, in order.
    pub sections: Vec<NoticeSection>,
    /// The template's TOML text (kept for the number pattern and wording at approval).
    pub template: String,
    /// The default rectification deadline, UTC.
    pub deadline: DateTime<Utc>,
    /// Username of the drafting account.
    pub drafted_by: String,
    /// The units named, with reasons and findings.
    pub units: Vec<NoticeUnit>,
}

/// A change to a notice that the rules refuse.
#[derive(Debug, thiserror::Error)]
pub enum NoticeWriteError {
    /// No notice has this id; holds the id as given.
    #[error("通报“{0}”不存在")]
    NotFound(String),
    /// The notice is not in a status that allows the action: its current status and the action, in Chinese.
    #[error("通报当前状态为“{0}”，不能{1}")]
    WrongStatus(String, &'static str),
    /// The drafter tried to approve their own draft.
    #[error("起草人不能审批自己起草的通报")]
    OwnDraft,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, SurrealValue)]
struct NoticeRow {
    id: RecordId,
    cycle: String,
    status: String,
    title: String,
    issuer: String,
    number: Option<String>,
    year: i64,
    sections: Vec<NoticeSection>,
    template: String,
    deadline: DateTime<Utc>,
    drafted_by: String,
    created_at: DateTime<Utc>,
    approved_by: Option<String>,
    approved_at: Option<DateTime<Utc>>,
    published_by: Option<String>,
    published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, SurrealValue)]
struct NewNoticeRow {
    cycle: String,
    status: String,
    title: String,
    issuer: String,
    year: i64,
    sections: Vec<NoticeSection>,
    template: String,
    deadline: DateTime<Utc>,
    drafted_by: String,
}

#[derive(Debug, Clone, SurrealValue)]
struct UnitRow {
    notification: RecordId,
    unit: String,
    name: String,
    reasons: Vec<String>,
    findings: Vec<NoticeFinding>,
    deadline: DateTime<Utc>,
    added_note: Option<String>,
    acknowledged_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<String>,
}

#[derive(Debug, Clone, SurrealValue)]
struct RectificationRow {
    status: String,
    overdue: bool,
}

#[derive(Debug, Clone, SurrealValue)]
struct DeliveryRow {
    notification: RecordId,
    unit: String,
    channel: String,
    address: Option<String>,
    status: String,
    attempts: i64,
    error: Option<String>,
    at: DateTime<Utc>,
}

const NOTICE_FIELDS: &str = "id, cycle, status, title, issuer, number, year, sections, template, deadline, \
    drafted_by, created_at, approved_by, approved_at, published_by, published_at";
const UNIT_FIELDS: &str =
    "notification, unit, name, reasons, findings, deadline, added_note, acknowledged_at, acknowledged_by";
const DELIVERY_FIELDS: &str = "notification, unit, channel, address, status, attempts, error, at";

/// A notice id as typed (`notification:abc` or `abc`); anything else is no notice.
pub fn notice_id(text: &str) -> Option<RecordId> {
    let text = text.trim();
    let id = if text.contains(':') {
        RecordId::parse_simple(text).ok()?
    } else {
        RecordId::new("notification", text)
    };
    let named = matches!(&id.key, RecordIdKey::String(key) if !key.is_empty());
    (id.table.as_str() == "notification" && named).then_some(id)
}

fn unit_row(notice: &RecordId, unit: &NoticeUnit) -> UnitRow {
    UnitRow {
        notification: notice.clone(),
        unit: unit.unit.clone(),
        name: unit.name.clone(),
        reasons: unit.reasons.clone(),
        findings: unit.findings.clone(),
        deadline: unit.deadline,
        added_note: unit.added_note.clone(),
        acknowledged_at: unit.acknowledged_at,
        acknowledged_by: unit.acknowledged_by.clone(),
    }
}

impl Store {
    /// Stores a draft with its units; returns its id.
    pub async fn create_notice(&self, notice: &NewNotice) -> StoreResult<String> {
        let key = format!("n{}{:04x}", Utc::now().format("%Y%m%d%H%M%S"), rand::random::<u16>());
        let id = RecordId::new("notification", key.as_str());
        let row = NewNoticeRow {
            cycle: notice.cycle.clone(),
            status: "draft".into(),
            title: notice.title.clone(),
            issuer: notice.issuer.clone(),
            year: notice.year,
            sections: notice.sections.clone(),
            template: notice.template.clone(),
            deadline: notice.deadline,
            drafted_by: notice.drafted_by.clone(),
        };
        let units: Vec<UnitRow> = notice.units.iter().map(|u| unit_row(&id, u)).collect();
        let audit = AuditEntry::new(notice.drafted_by.as_str(), "notice.draft")
            .target(record_key(&id))
            .detail(serde_json::json!({ "cycle": notice.cycle, "units": units.len() }));
        self.transaction("保存通报草稿", async |txn| {
            txn.query("CREATE $id CONTENT $row")
                .bind(("id", id.clone()))
                .bind(("row", row))
                .await?
                .check()?;
            if !units.is_empty() {
                txn.query("INSERT INTO notification_unit $rows").bind(("rows", units)).await?.check()?;
            }
            audit.write_in(txn).await
        })
        .await?;
        Ok(record_key(&id))
    }

    /// One notice with its units and deliveries.
    pub async fn notice(&self, id: &str) -> StoreResult<Option<Notice>> {
        let Some(id) = notice_id(id) else { return Ok(None) };
        let context = "读取通报";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {NOTICE_FIELDS} FROM $id;
                 SELECT {UNIT_FIELDS} FROM notification_unit WHERE notification = $id ORDER BY unit;
                 SELECT {DELIVERY_FIELDS} FROM notification_delivery WHERE notification = $id ORDER BY unit, channel;"
            ))
            .bind(("id", id))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<NoticeRow> = response.take(0).map_err(StoreError::query(context))?;
        let units: Vec<UnitRow> = response.take(1).map_err(StoreError::query(context))?;
        let deliveries: Vec<DeliveryRow> = response.take(2).map_err(StoreError::query(context))?;
        Ok(rows.into_iter().next().map(|row| assemble(row, units, deliveries)))
    }

    /// Every notice, newest first, with units and deliveries.
    pub async fn notices(&self) -> StoreResult<Vec<Notice>> {
        let context = "读取通报";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {NOTICE_FIELDS} FROM notification ORDER BY created_at DESC;
                 SELECT {UNIT_FIELDS} FROM notification_unit ORDER BY unit;
                 SELECT {DELIVERY_FIELDS} FROM notification_delivery ORDER BY unit, channel;"
            ))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<NoticeRow> = response.take(0).map_err(StoreError::query(context))?;
        let units: Vec<UnitRow> = response.take(1).map_err(StoreError::query(context))?;
        let deliveries: Vec<DeliveryRow> = response.take(2).map_err(StoreError::query(context))?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mine = |n: &RecordId| *n == row.id;
                let u = units.iter().filter(|u| mine(&u.notification)).cloned().collect();
                let d = deliveries.iter().filter(|d| mine(&d.notification)).cloned().collect();
                assemble(row, u, d)
            })
            .collect())
    }

    /// Published notices that name `unit`, newest first.
    pub async fn notices_for_unit(&self, unit: &str) -> StoreResult<Vec<Notice>> {
        let context = "读取单位的通报";
        let mut response = self
            .db()
            .query("SELECT VALUE notification FROM notification_unit WHERE unit = $unit")
            .bind(("unit", unit.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let ids: Vec<RecordId> = response.take(0).map_err(StoreError::query(context))?;
        let mut notices = Vec::new();
        for id in ids {
            if let Some(notice) = self.notice(&record_key(&id)).await?
                && notice.status == "published"
            {
                notices.push(notice);
            }
        }
        notices.sort_by_key(|n| std::cmp::Reverse(n.published_at));
        Ok(notices)
    }

    /// Replaces a draft's title, text and units (the office's edits). Refused unless a draft.
    pub async fn update_notice_draft(
        &self,
        id: &str,
        title: &str,
        sections: &[NoticeSection],
        units: &[NoticeUnit],
        actor: &str,
    ) -> Result<(), NoticeWriteError> {
        let record = notice_id(id).ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        let current = self.notice(id).await?.ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        if current.status != "draft" {
            return Err(NoticeWriteError::WrongStatus(current.status, "修改"));
        }
        let rows: Vec<UnitRow> = units.iter().map(|u| unit_row(&record, u)).collect();
        let audit = AuditEntry::new(actor, "notice.edit")
            .target(record_key(&record))
            .detail(serde_json::json!({ "units": rows.len() }));
        let (title, sections) = (title.to_string(), sections.to_vec());
        self.transaction("修改通报草稿", async |txn| {
            txn.query(
                "IF $id.status != 'draft' { THROW 'not a draft' };
                 UPDATE $id SET title = $title, sections = $sections;
                 DELETE notification_unit WHERE notification = $id;",
            )
            .bind(("id", record.clone()))
            .bind(("title", title))
            .bind(("sections", sections))
            .await?
            .check()?;
            if !rows.is_empty() {
                txn.query("INSERT INTO notification_unit $rows").bind(("rows", rows)).await?.check()?;
            }
            audit.write_in(txn).await
        })
        .await?;
        Ok(())
    }

    /// Approves a draft: fixes its number (`pattern` with `{year}` and `{seq}`, the next
    /// sequence number of the year) and its text. The drafter can never approve their own:
    /// checked here, inside the transaction, whatever the caller checked before.
    pub async fn approve_notice(
        &self,
        id: &str,
        approver: &str,
        pattern: &str,
    ) -> Result<Notice, NoticeWriteError> {
        let record = notice_id(id).ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        let current = self.notice(id).await?.ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        if current.status != "draft" {
            return Err(NoticeWriteError::WrongStatus(current.status, "审批"));
        }
        if current.drafted_by == approver {
            return Err(NoticeWriteError::OwnDraft);
        }
        let audit = AuditEntry::new(approver, "notice.approve").target(record_key(&record));
        let (year, pattern) = (current.year, pattern.to_string());
        self.transaction("审批通报", async |txn| {
            txn.query(
                "LET $n = $id.*;
                 IF $n.status != 'draft' { THROW '通报已不是草稿' };
                 IF $n.drafted_by = $approver { THROW '起草人不能审批自己起草的通报' };
                 LET $seq = ((SELECT VALUE seq FROM notification WHERE year = $year AND seq != NONE ORDER BY seq DESC LIMIT 1)[0] ?? 0) + 1;
                 UPDATE $id SET status = 'approved', approved_by = $approver, approved_at = time::now(), seq = $seq,
                     number = string::replace(string::replace($pattern, '{year}', <string> $year), '{seq}', <string> $seq);",
            )
            .bind(("id", record.clone()))
            .bind(("approver", approver.to_string()))
            .bind(("year", year))
            .bind(("pattern", pattern))
            .await?
            .check()?;
            audit.write_in(txn).await
        })
        .await?;
        self.notice(id).await?.ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))
    }

    /// Publishes an approved notice: portal deliveries for every named unit, and the notice's
    /// deadline (and a link back to it) on every named finding still open.
    pub async fn publish_notice(&self, id: &str, publisher: &str) -> Result<Notice, NoticeWriteError> {
        let record = notice_id(id).ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        let current = self.notice(id).await?.ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        if current.status != "approved" {
            return Err(NoticeWriteError::WrongStatus(current.status, "发布"));
        }
        let now = Utc::now();
        let portal: Vec<DeliveryRow> = current
            .units
            .iter()
            .map(|u| DeliveryRow {
                notification: record.clone(),
                unit: u.unit.clone(),
                channel: "portal".into(),
                address: None,
                status: "delivered".into(),
                attempts: 1,
                error: None,
                at: now,
            })
            .collect();
        let mut deadlines: Vec<(RecordId, NaiveDate)> = Vec::new();
        for unit in &current.units {
            let day = crate::model::CityClock::default().date_of(unit.deadline);
            for finding in &unit.findings {
                if let Ok(fid) = RecordId::parse_simple(&finding.id) {
                    deadlines.push((fid, day));
                }
            }
        }
        let audit = AuditEntry::new(publisher, "notice.publish")
            .target(record_key(&record))
            .detail(serde_json::json!({ "number": current.number, "units": current.units.len() }));
        self.transaction("发布通报", async |txn| {
            txn.query(
                "IF $id.status != 'approved' { THROW '通报尚未审批' };
                 UPDATE $id SET status = 'published', published_by = $by, published_at = $now;",
            )
            .bind(("id", record.clone()))
            .bind(("by", publisher.to_string()))
            .bind(("now", now))
            .await?
            .check()?;
            if !portal.is_empty() {
                txn.query("INSERT INTO notification_delivery $rows").bind(("rows", portal)).await?.check()?;
            }
            for (finding, day) in deadlines {
                txn.query(
                    "UPDATE $finding SET rectify_by = $day, notification = $id \
                     WHERE status != 'closed' AND (rectify_by = NONE OR rectify_by > $day)",
                )
                .bind(("finding", finding))
                .bind(("day", day))
                .bind(("id", record.clone()))
                .await?
                .check()?;
            }
            audit.write_in(txn).await
        })
        .await?;
        self.notice(id).await?.ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))
    }

    /// Records an e-mail delivery attempt (replacing the earlier record for that unit).
    pub async fn record_email_delivery(
        &self,
        id: &str,
        unit: &str,
        address: &str,
        outcome: Result<(), String>,
    ) -> StoreResult<()> {
        let Some(record) = notice_id(id) else { return Ok(()) };
        let (status, error) = match outcome {
            Ok(()) => ("sent", None),
            Err(error) => ("failed", Some(error)),
        };
        self.db()
            .query(
                "LET $old = (SELECT VALUE attempts FROM notification_delivery \
                     WHERE notification = $id AND unit = $unit AND channel = 'email')[0] ?? 0;
                 DELETE notification_delivery WHERE notification = $id AND unit = $unit AND channel = 'email';
                 CREATE notification_delivery CONTENT { notification: $id, unit: $unit, channel: 'email',
                     address: $address, status: $status, attempts: $old + 1, error: $error, at: time::now() };",
            )
            .bind(("id", record))
            .bind(("unit", unit.to_string()))
            .bind(("address", address.to_string()))
            .bind(("status", status.to_string()))
            .bind(("error", error))
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(StoreError::query("记录邮件投递"))?;
        Ok(())
    }

    /// A unit acknowledges a published notice in its portal. Returns whether it named the unit.
    pub async fn acknowledge_notice(&self, id: &str, unit: &str, by: &str) -> Result<bool, NoticeWriteError> {
        let record = notice_id(id).ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        let current = self.notice(id).await?.ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        if current.status != "published" {
            return Err(NoticeWriteError::WrongStatus(current.status, "签收"));
        }
        if !current.units.iter().any(|u| u.unit == unit) {
            return Ok(false);
        }
        let audit = AuditEntry::new(by, "notice.acknowledge").target(unit.to_string());
        self.transaction("签收通报", async |txn| {
            txn.query(
                "UPDATE notification_unit SET acknowledged_at = time::now(), acknowledged_by = $by \
                     WHERE notification = $id AND unit = $unit AND acknowledged_at = NONE;
                 UPDATE notification_delivery SET status = 'acknowledged', at = time::now() \
                     WHERE notification = $id AND unit = $unit AND channel = 'portal';",
            )
            .bind(("id", record.clone()))
            .bind(("unit", unit.to_string()))
            .bind(("by", by.to_string()))
            .await?
            .check()?;
            audit.write_in(txn).await
        })
        .await?;
        Ok(true)
    }

    /// Withdraws a notice that was not published yet.
    pub async fn withdraw_notice(&self, id: &str, actor: &str) -> Result<(), NoticeWriteError> {
        let record = notice_id(id).ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        let current = self.notice(id).await?.ok_or_else(|| NoticeWriteError::NotFound(id.to_string()))?;
        if !matches!(current.status.as_str(), "draft" | "approved") {
            return Err(NoticeWriteError::WrongStatus(current.status, "撤回"));
        }
        let audit = AuditEntry::new(actor, "notice.withdraw").target(record_key(&record));
        self.transaction("撤回通报", async |txn| {
            txn.query("UPDATE $id SET status = 'withdrawn'").bind(("id", record.clone())).await?.check()?;
            audit.write_in(txn).await
        })
        .await?;
        Ok(())
    }

    /// Findings whose rectification deadline is over (before `today`) and that the recheck has
    /// not judged yet: not closed, not replaced by a newer crawl, not flagged overdue.
    pub async fn findings_past_deadline(&self, today: NaiveDate) -> StoreResult<Vec<Finding>> {
        let context = "读取已到整改期限的问题";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {FINDING_FIELDS} FROM finding WHERE rectify_by != NONE AND rectify_by < $today \
                 AND status != 'closed' AND superseded = false AND overdue_at = NONE ORDER BY unit, check"
            ))
            .bind(("today", today))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<FindingRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(Finding::try_from).collect()
    }

    /// Current (not superseded, not closed) findings of a unit with a check: what a re-crawl
    /// found again.
    pub async fn current_findings(&self, unit: &str, check: &str) -> StoreResult<Vec<Finding>> {
        let context = "读取问题";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {FINDING_FIELDS} FROM finding WHERE unit = $unit AND check = $check \
                 AND superseded = false AND status != 'closed'"
            ))
            .bind(("unit", unit.to_string()))
            .bind(("check", check.to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<FindingRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(Finding::try_from).collect()
    }

    /// The recheck found the problem gone: the finding is closed, with its event.
    pub async fn close_rechecked_finding(&self, finding: &Finding, actor: &str) -> StoreResult<()> {
        let Some(id) = finding.id.as_deref().and_then(|i| RecordId::parse_simple(i).ok()) else {
            return Ok(());
        };
        let audit = AuditEntry::new(actor, "finding.recheck_closed").target(finding.unit.to_string());
        let (unit, from) = (finding.unit.to_string(), finding.status.as_str().to_string());
        self.transaction("复查关闭问题", async |txn| {
            txn.query(
                "UPDATE $id SET status = 'closed';
                 CREATE finding_event CONTENT { finding: $id, unit: $unit, actor: $actor, role: 'office',
                     action: 'seen_fixed', from: $from, to: 'closed', note: '整改复查：重新检查时问题已不存在' };",
            )
            .bind(("id", id.clone()))
            .bind(("unit", unit))
            .bind(("actor", actor.to_string()))
            .bind(("from", from))
            .await?
            .check()?;
            audit.write_in(txn).await
        })
        .await
    }

    /// The recheck found the problem still there past its deadline: the finding and the
    /// findings of the re-crawl that found it again are flagged overdue and carry the deadline
    /// (so the next cycle counts them), and an audit record names the unit for the inspectors.
    pub async fn flag_overdue(&self, finding: &Finding, again: &[Finding], actor: &str) -> StoreResult<()> {
        let ids: Vec<RecordId> = std::iter::once(finding)
            .chain(again)
            .filter_map(|f| f.id.as_deref().and_then(|i| RecordId::parse_simple(i).ok()))
            .collect();
        let audit = AuditEntry::new(actor, "finding.overdue").target(finding.unit.to_string()).detail(
            serde_json::json!({ "finding": finding.id, "check": finding.check, "rectify_by": finding.rectify_by }),
        );
        let (source, deadline) = (finding.id.clone().unwrap_or_default(), finding.rectify_by);
        let source = RecordId::parse_simple(&source).ok();
        self.transaction("标记逾期问题", async |txn| {
            txn.query(
                "LET $notice = $source.notification;
                 UPDATE $ids SET overdue_at = time::now(), rectify_by = $deadline, notification = $notice;",
            )
            .bind(("ids", ids))
            .bind(("deadline", deadline))
            .bind(("source", source))
            .await?
            .check()?;
            audit.write_in(txn).await
        })
        .await
    }

    /// Overdue findings (flagged by the recheck, still not closed): the inspectors' follow-up.
    pub async fn overdue_findings(&self) -> StoreResult<Vec<Finding>> {
        let context = "读取逾期问题";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {FINDING_FIELDS} FROM finding WHERE overdue_at != NONE AND status != 'closed' \
                 AND superseded = false ORDER BY unit, check"
            ))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<FindingRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(Finding::try_from).collect()
    }

    /// How the findings a notice named ended: (named, closed without being overdue, overdue).
    pub async fn notice_rectification(&self, notice: &Notice) -> StoreResult<(usize, usize, usize)> {
        let ids: Vec<RecordId> = notice
            .units
            .iter()
            .flat_map(|u| &u.findings)
            .filter_map(|f| RecordId::parse_simple(&f.id).ok())
            .collect();
        if ids.is_empty() {
            return Ok((0, 0, 0));
        }
        let context = "读取通报整改情况";
        let mut response = self
            .db()
            .query("SELECT status, overdue_at != NONE AS overdue FROM $ids")
            .bind(("ids", ids.clone()))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<RectificationRow> = response.take(0).map_err(StoreError::query(context))?;
        let on_time = rows.iter().filter(|r| r.status == "closed" && !r.overdue).count();
        let overdue = rows.iter().filter(|r| r.overdue).count();
        Ok((ids.len(), on_time, overdue))
    }

    /// E-mail deliveries that failed and have been tried fewer than `max_attempts` times.
    pub async fn failed_email_deliveries(
        &self,
        max_attempts: i64,
    ) -> StoreResult<Vec<(String, NoticeDelivery)>> {
        let context = "读取失败的邮件投递";
        let mut response = self
            .db()
            .query(format!(
                "SELECT {DELIVERY_FIELDS} FROM notification_delivery \
                 WHERE channel = 'email' AND status = 'failed' AND attempts < $max"
            ))
            .bind(("max", max_attempts))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<DeliveryRow> = response.take(0).map_err(StoreError::query(context))?;
        Ok(rows.into_iter().map(|row| (record_key(&row.notification), delivery(row))).collect())
    }
}

fn delivery(row: DeliveryRow) -> NoticeDelivery {
    NoticeDelivery {
        unit: row.unit,
        channel: row.channel,
        address: row.address,
        status: row.status,
        attempts: row.attempts,
        error: row.error,
        at: row.at,
    }
}

fn assemble(row: NoticeRow, units: Vec<UnitRow>, deliveries: Vec<DeliveryRow>) -> Notice {
    Notice {
        id: record_key(&row.id),
        cycle: row.cycle,
        status: row.status,
        title: row.title,
        issuer: row.issuer,
        number: row.number,
        year: row.year,
        sections: row.sections,
        template: row.template,
        deadline: row.deadline,
        drafted_by: row.drafted_by,
        created_at: row.created_at,
        approved_by: row.approved_by,
        approved_at: row.approved_at,
        published_by: row.published_by,
        published_at: row.published_at,
        units: units
            .into_iter()
            .map(|u| NoticeUnit {
                unit: u.unit,
                name: u.name,
                reasons: u.reasons,
                findings: u.findings,
                deadline: u.deadline,
                added_note: u.added_note,
                acknowledged_at: u.acknowledged_at,
                acknowledged_by: u.acknowledged_by,
            })
            .collect(),
        deliveries: deliveries.into_iter().map(delivery).collect(),
    }
}
