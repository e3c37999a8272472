//! The office imports the unit registry's CSV (DESIGN.md §5) from the browser: all or nothing,
//! with every bad row named, the same checks as `gongkai units import`, and one audit record.

use crate::registry::{Rejected, plan_import, read_registry};
use crate::store::{AuditEntry, ImportOutcome, Store};
use crate::web::error::WebError;
use crate::web::session::CurrentUser;

/// What an import changed, and how the file was encoded.
#[derive(Debug)]
pub struct UnitImport {
    /// How many units were added, updated and left unchanged.
    pub outcome: ImportOutcome,
    /// The encoding the file was read in, e.g. `UTF-8` or `GBK`.
    pub encoding: &'static str,
}

/// Reads `bytes` (from `source`, named in the audit record) as the registry and applies it.
/// A file with bad rows, or one that contradicts the registry, is refused as a whole.
pub async fn import_units(
    store: &Store,
    user: &CurrentUser,
    source: &str,
    bytes: &[u8],
) -> Result<Result<UnitImport, Rejected>, WebError> {
    let parsed = match read_registry(bytes) {
        Ok(parsed) => parsed,
        Err(rejected) => return Ok(Err(rejected)),
    };
    let existing = store.units().await?;
    let plan = match plan_import(&parsed, &existing) {
        Ok(plan) => plan,
        Err(rejected) => return Ok(Err(rejected)),
    };
    let audit = AuditEntry::new(&user.account.username, "units.import").target(source.to_string()).detail(
        serde_json::json!({
            "added": plan.added.len(),
            "updated": plan.updated.len(),
            "unchanged": plan.unchanged,
            "encoding": parsed.encoding,
        }),
    );
    let outcome = store.apply_unit_import(&plan, audit, |_| {}).await?;
    Ok(Ok(UnitImport { outcome, encoding: parsed.encoding }))
}
