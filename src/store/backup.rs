//! Backups: the whole database as one SurrealQL file (SurrealDB's own export), and a restore of
//! such a file into an empty store. Works on the embedded engine (`surrealkv://`, `mem://`);
//! SurrealDB's SDK does not export over `ws://` — back a server up with its own `surreal export`.

use std::collections::BTreeMap;
use std::path::Path;

use surrealdb::types::Value;

use super::{Store, StoreError, StoreResult};

/// Tables that hold the office's data. A restore refuses a store in which any of them has a
/// row: importing over live data would mix two states.
const DATA_TABLES: [&str; 7] =
    ["unit", "account", "assessment", "score", "score_explanation", "finding", "audit"];

fn backup_error(action: &str, path: &Path, error: impl std::fmt::Display) -> StoreError {
    StoreError::Backup(format!("{action} {}：{error}", path.display()))
}

impl Store {
    /// Writes the whole database (schema and every record) to `path`.
    pub async fn backup(&self, path: &Path) -> StoreResult<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| backup_error("无法创建目录", parent, e))?;
        }
        // Written beside the target first, so a failed export never leaves half a backup
        // under the name the operator asked for.
        let partial = path.with_extension("partial");
        self.db().export(&partial).await.map_err(|e| backup_error("导出失败", path, e))?;
        std::fs::rename(&partial, path).map_err(|e| backup_error("无法写入", path, e))
    }

    /// Loads a backup made by [`Store::backup`] into this store, which must hold no data.
    pub async fn restore(&self, path: &Path) -> StoreResult<()> {
        if !path.is_file() {
            return Err(backup_error("找不到备份文件", path, "文件不存在"));
        }
        let counts = self.row_counts(&DATA_TABLES).await?;
        if let Some((table, rows)) = counts.iter().find(|(_, rows)| **rows > 0) {
            return Err(StoreError::Backup(format!(
                "目标数据库不是空的（表 {table} 已有 {rows} 行）：请恢复到新的数据库目录"
            )));
        }
        // The backup brings its own record of the schema it was made with.
        self.db()
            .query("DELETE schema_version")
            .await
            .and_then(surrealdb::IndexedResults::check)
            .map_err(|e| backup_error("导入失败", path, e))?;
        self.db().import(path).await.map_err(|e| backup_error("导入失败", path, e))?;
        // Accounts and tokens were replaced wholesale.
        self.reads.clear();
        // The backup may come from an older version: bring its schema up to this one.
        super::apply_schema(self.db()).await
    }

    /// How many rows each of `tables` holds.
    pub async fn row_counts(&self, tables: &[&str]) -> StoreResult<BTreeMap<String, u64>> {
        let context = "统计行数";
        let mut counts = BTreeMap::new();
        for table in tables {
            let mut response = self
                .db()
                .query("SELECT VALUE count() FROM type::table($table) GROUP ALL")
                .bind(("table", table.to_string()))
                .await
                .map_err(StoreError::query(context))?;
            let rows: Vec<i64> = response.take(0).map_err(StoreError::query(context))?;
            counts.insert(table.to_string(), rows.first().copied().unwrap_or(0).max(0) as u64);
        }
        Ok(counts)
    }

    /// Every table of the database with all of its rows in id order, as SurrealQL text: two
    /// stores with equal snapshots hold the same data (used to check restores).
    pub async fn snapshot(&self) -> StoreResult<BTreeMap<String, Vec<String>>> {
        let context = "读取全部数据";
        let mut response = self.db().query("INFO FOR DB").await.map_err(StoreError::query(context))?;
        let info: Option<Value> = response.take(0).map_err(StoreError::query(context))?;
        let tables: Vec<String> = match info.map(Value::into_json_value) {
            Some(serde_json::Value::Object(info)) => match info.get("tables") {
                Some(serde_json::Value::Object(tables)) => tables.keys().cloned().collect(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let mut snapshot = BTreeMap::new();
        for table in tables {
            let mut response = self
                .db()
                .query("SELECT * FROM type::table($table) ORDER BY id")
                .bind(("table", table.clone()))
                .await
                .map_err(StoreError::query(context))?;
            let rows: Vec<Value> = response.take(0).map_err(StoreError::query(context))?;
            snapshot.insert(table, rows.into_iter().map(|row| row.into_json_value().to_string()).collect());
        }
        Ok(snapshot)
    }
}
