//! Inspector groups and the units assigned to them (DESIGN.md §2). A group exists by having
//! inspectors or units; there is no group record to keep in step. A unit belongs to at most one
//! group: its assignment's record id is the unit code.

use std::collections::{BTreeMap, BTreeSet};

use surrealdb::types::{RecordId, SurrealValue};

use super::{AuditEntry, Store, StoreError, StoreResult};
use crate::model::{OrgCode, Role};

/// The longest group name, in characters.
const MAX_GROUP_CHARS: usize = 50;

/// Assigning units failed in a way the user can fix.
#[derive(Debug, thiserror::Error)]
pub enum AssignmentError {
    /// The unit is not registered; holds its code.
    #[error("单位 {0} 未登记，不能分配给检查小组")]
    UnknownUnit(OrgCode),
    /// The group name is empty or longer than 50 characters.
    #[error("小组名称不能为空，且不超过 {MAX_GROUP_CHARS} 个字符")]
    BadGroup,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One inspector group as the office's overview lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupSummary {
    /// The group's name, as inspector accounts carry it.
    pub name: String,
    /// Units assigned to the group.
    pub units: usize,
    /// Inspector accounts in the group that are not disabled.
    pub inspectors: usize,
}

#[derive(Debug, Clone, SurrealValue)]
struct AssignmentRow {
    id: RecordId,
    group: String,
    unit: String,
}

#[derive(Debug, Clone, SurrealValue)]
struct GroupCountRow {
    group: String,
    count: i64,
}

impl Store {
    /// Assigns units to a group in one transaction with the audit record, moving any of them out
    /// of the group they were in. Every unit must be registered: an unregistered code refuses the
    /// whole call and nothing is written. Returns how many units were newly assigned or moved
    /// (units already in the group keep their assignment date).
    pub async fn assign_units(
        &self,
        group: &str,
        units: &[OrgCode],
        audit: AuditEntry,
    ) -> Result<usize, AssignmentError> {
        let group = group.trim();
        if group.is_empty() || group.chars().count() > MAX_GROUP_CHARS {
            return Err(AssignmentError::BadGroup);
        }
        let codes: Vec<String> =
            units.iter().map(ToString::to_string).collect::<BTreeSet<_>>().into_iter().collect();
        let outcome = self
            .transaction("分配检查单位", async |txn| {
                let mut response = txn
                    .query(
                        "SELECT VALUE code FROM unit WHERE code IN $codes;
                         SELECT VALUE unit FROM assignment WHERE unit IN $codes AND `group` = $group;",
                    )
                    .bind(("codes", codes.clone()))
                    .bind(("group", group.to_string()))
                    .await?
                    .check()?;
                let registered: BTreeSet<String> = response.take::<Vec<String>>(0)?.into_iter().collect();
                if let Some(missing) = units.iter().find(|u| !registered.contains(u.as_str())) {
                    return Ok(Err(missing.clone()));
                }
                let already: BTreeSet<String> = response.take::<Vec<String>>(1)?.into_iter().collect();
                let rows: Vec<AssignmentRow> = codes
                    .iter()
                    .filter(|code| !already.contains(*code))
                    .map(|code| AssignmentRow {
                        id: RecordId::new("assignment", code.as_str()),
                        group: group.to_string(),
                        unit: code.clone(),
                    })
                    .collect();
                if !rows.is_empty() {
                    txn.query(
                        "INSERT INTO assignment $rows ON DUPLICATE KEY UPDATE \
                         `group` = $input.`group`, assigned_at = time::now()",
                    )
                    .bind(("rows", rows.clone()))
                    .await?
                    .check()?;
                }
                audit.write_in(txn).await?;
                Ok(Ok(rows.len()))
            })
            .await?;
        outcome.map_err(AssignmentError::UnknownUnit)
    }

    /// Takes units out of whatever group they are in, with the audit record. Returns how many
    /// were assigned.
    pub async fn unassign_units(&self, units: &[OrgCode], audit: AuditEntry) -> StoreResult<usize> {
        let codes: Vec<String> = units.iter().map(ToString::to_string).collect();
        self.transaction("取消分配检查单位", async |txn| {
            let mut response = txn
                .query("RETURN array::len((DELETE assignment WHERE unit IN $codes RETURN BEFORE))")
                .bind(("codes", codes.clone()))
                .await?
                .check()?;
            let removed: Option<i64> = response.take(0)?;
            audit.write_in(txn).await?;
            Ok(removed.unwrap_or(0).max(0) as usize)
        })
        .await
    }

    /// The units assigned to a group, by code.
    pub async fn group_units(&self, group: &str) -> StoreResult<Vec<OrgCode>> {
        let context = "读取小组单位";
        let mut response = self
            .db()
            .query("SELECT VALUE unit FROM assignment WHERE `group` = $group ORDER BY unit")
            .bind(("group", group.trim().to_string()))
            .await
            .map_err(StoreError::query(context))?;
        let codes: Vec<String> = response.take(0).map_err(StoreError::query(context))?;
        codes.iter().map(|code| parse_code(code)).collect()
    }

    /// The group a unit is assigned to, if any.
    pub async fn unit_group(&self, unit: &OrgCode) -> StoreResult<Option<String>> {
        let context = "读取单位所属小组";
        let mut response = self
            .db()
            .query("SELECT VALUE `group` FROM $id")
            .bind(("id", RecordId::new("assignment", unit.as_str())))
            .await
            .map_err(StoreError::query(context))?;
        let groups: Vec<String> = response.take(0).map_err(StoreError::query(context))?;
        Ok(groups.into_iter().next())
    }

    /// Every group that has units or inspectors, by name.
    pub async fn groups(&self) -> StoreResult<Vec<GroupSummary>> {
        let context = "读取检查小组";
        let mut response = self
            .db()
            .query(
                "SELECT `group`, count() AS count FROM assignment GROUP BY `group`;
                 SELECT inspector_group AS `group`, count() AS count FROM account
                    WHERE role = $role AND inspector_group != NONE AND disabled = false GROUP BY inspector_group;
                 SELECT VALUE inspector_group FROM account WHERE role = $role AND inspector_group != NONE;",
            )
            .bind(("role", Role::Inspector.as_str()))
            .await
            .map_err(StoreError::query(context))?;
        let units: Vec<GroupCountRow> = response.take(0).map_err(StoreError::query(context))?;
        let inspectors: Vec<GroupCountRow> = response.take(1).map_err(StoreError::query(context))?;
        // Groups whose inspectors are all disabled still exist.
        let named: Vec<String> = response.take(2).map_err(StoreError::query(context))?;
        let mut groups: BTreeMap<String, GroupSummary> = BTreeMap::new();
        fn entry<'a>(groups: &'a mut BTreeMap<String, GroupSummary>, name: &str) -> &'a mut GroupSummary {
            groups.entry(name.to_string()).or_insert_with(|| GroupSummary {
                name: name.to_string(),
                units: 0,
                inspectors: 0,
            })
        }
        for name in &named {
            entry(&mut groups, name);
        }
        for row in units {
            entry(&mut groups, &row.group).units = row.count.max(0) as usize;
        }
        for row in inspectors {
            entry(&mut groups, &row.group).inspectors = row.count.max(0) as usize;
        }
        Ok(groups.into_values().collect())
    }
}

fn parse_code(code: &str) -> StoreResult<OrgCode> {
    OrgCode::parse(code)
        .map_err(|e| StoreError::Corrupt { context: "assignment", message: format!("{code}: {e}") })
}
