//! Catalogue entries: replaced per unit on each catalogue crawl, in the same transaction as the
//! unit's findings and metrics of the run that read them (see `runs.rs`); listed per unit and
//! class; searched by title across all units with the n-gram full-text index.

use chrono::NaiveDate;
use surrealdb::engine::any::Any;
use surrealdb::method::Transaction;
use surrealdb::types::{RecordId, SurrealValue};

use super::{Store, StoreError, StoreResult};
use crate::model::{CatalogueEntry, OrgCode};

/// Rows written per INSERT statement.
const CHUNK: usize = 1_000;
/// Rows a listing or search returns at most.
pub(super) const MAX_LISTED: usize = 100_000;

#[derive(Debug, Clone, SurrealValue)]
struct EntryRow {
    unit: String,
    class: String,
    index_no: Option<String>,
    title: String,
    publisher: Option<String>,
    created_on: Option<NaiveDate>,
    doc_no: Option<String>,
    topic: Option<String>,
    genre: Option<String>,
    service: Option<String>,
    url: Option<String>,
    run: Option<RecordId>,
}

fn entry_row(entry: &CatalogueEntry, run: Option<&RecordId>) -> EntryRow {
    EntryRow {
        unit: entry.unit.to_string(),
        class: entry.class.clone(),
        index_no: entry.index_no.clone(),
        title: entry.title.clone(),
        publisher: entry.publisher.clone(),
        created_on: entry.created_on,
        doc_no: entry.doc_no.clone(),
        topic: entry.topic.clone(),
        genre: entry.genre.clone(),
        service: entry.service.clone(),
        url: entry.url.clone(),
        run: run.cloned(),
    }
}

impl TryFrom<EntryRow> for CatalogueEntry {
    type Error = StoreError;

    fn try_from(row: EntryRow) -> Result<Self, Self::Error> {
        let unit = OrgCode::parse(&row.unit).map_err(|e| StoreError::Corrupt {
            context: "catalogue_entry",
            message: format!("{}: {e}", row.unit),
        })?;
        Ok(CatalogueEntry {
            unit,
            class: row.class,
            index_no: row.index_no,
            title: row.title,
            publisher: row.publisher,
            created_on: row.created_on,
            doc_no: row.doc_no,
            topic: row.topic,
            genre: row.genre,
            service: row.service,
            url: row.url,
        })
    }
}

const ENTRY_FIELDS: &str =
    "unit, class, index_no, title, publisher, created_on, doc_no, topic, genre, service, url, run";

/// The words of a search, each cut into overlapping 2-character chunks so that the n-gram
/// index (n ≤ 3) can match words of any length: `编程之道` → `编程 程之 之道`.
pub(super) fn search_terms(query: &str) -> (String, Vec<String>) {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    let mut chunks = Vec::new();
    for word in &words {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() <= 2 {
            chunks.push(word.clone());
        } else {
            chunks.extend(chars.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
    (chunks.join(" "), words)
}

/// Replaces a unit's catalogue entries inside an open transaction (the one that writes the
/// unit's results of a catalogue crawl run, see [`Store::record_run_unit`]).
pub(super) async fn replace_entries_in(
    txn: &Transaction<Any>,
    unit: &OrgCode,
    entries: &[CatalogueEntry],
    run: &RecordId,
) -> surrealdb::Result<()> {
    txn.query("DELETE catalogue_entry WHERE unit = $unit").bind(("unit", unit.to_string())).await?.check()?;
    for chunk in entries.chunks(CHUNK) {
        let rows: Vec<EntryRow> = chunk.iter().map(|e| entry_row(e, Some(run))).collect();
        txn.query("INSERT INTO catalogue_entry $rows").bind(("rows", rows)).await?.check()?;
    }
    Ok(())
}

impl Store {
    /// A unit's catalogue entries, optionally of one class, by class then newest first.
    pub async fn catalogue_entries(
        &self,
        unit: &OrgCode,
        class: Option<&str>,
    ) -> StoreResult<Vec<CatalogueEntry>> {
        let context = "读取公开目录";
        let class_clause = if class.is_some() { "AND class = $class" } else { "" };
        let mut response = self
            .db()
            .query(format!(
                "SELECT {ENTRY_FIELDS} FROM catalogue_entry WHERE unit = $unit {class_clause} \
                 ORDER BY class, created_on DESC, index_no LIMIT {MAX_LISTED}"
            ))
            .bind(("unit", unit.to_string()))
            .bind(("class", class.map(str::to_owned)))
            .await
            .map_err(StoreError::query(context))?;
        let rows: Vec<EntryRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(CatalogueEntry::try_from).collect()
    }

    /// Entries of all units (or one) whose title contains every word of `query`, best match
    /// first, at most `limit`. Chinese words of any length are found through the n-gram index.
    pub async fn search_catalogue(
        &self,
        query: &str,
        unit: Option<&OrgCode>,
        limit: usize,
    ) -> StoreResult<Vec<CatalogueEntry>> {
        let context = "检索公开目录";
        let (terms, words) = search_terms(query);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let mut conditions = vec!["title @1@ $terms".to_owned()];
        for i in 0..words.len() {
            conditions.push(format!("string::contains(string::lowercase(title), $w{i})"));
        }
        if unit.is_some() {
            conditions.push("unit = $unit".to_owned());
        }
        let limit = limit.clamp(1, MAX_LISTED);
        let mut request = self
            .db()
            .query(format!(
                "SELECT {ENTRY_FIELDS}, search::score(1) AS score, created_on FROM catalogue_entry \
                 WHERE {} ORDER BY score DESC, created_on DESC LIMIT {limit}",
                conditions.join(" AND ")
            ))
            .bind(("terms", terms))
            .bind(("unit", unit.map(ToString::to_string)));
        for (i, word) in words.into_iter().enumerate() {
            request = request.bind((format!("w{i}"), word));
        }
        let mut response = request.await.map_err(StoreError::query(context))?;
        let rows: Vec<EntryRow> = response.take(0).map_err(StoreError::query(context))?;
        rows.into_iter().map(CatalogueEntry::try_from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_cut_into_overlapping_pairs() {
        assert_eq!(search_terms("编程之道"), ("编程 程之 之道".to_owned(), vec!["编程之道".to_owned()]));
        assert_eq!(
            search_terms(" 红楼  办法 "),
            ("红楼 办法".to_owned(), vec!["红楼".to_owned(), "办法".to_owned()])
        );
        assert_eq!(search_terms("税"), ("税".to_owned(), vec!["税".to_owned()]));
        assert_eq!(search_terms("PDF"), ("pd df".to_owned(), vec!["pdf".to_owned()]));
        assert_eq!(search_terms("  "), (String::new(), vec![]));
    }
}
