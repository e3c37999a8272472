//! Assessment cycles as lists show them (the office's cycles page, the notices page's choice
//! of cycle, `GET /cycles`). One query.

use crate::store::{CycleInfo, Store};
use crate::web::error::WebError;

/// Every saved cycle, oldest first.
pub async fn cycle_list(store: &Store) -> Result<Vec<CycleInfo>, WebError> {
    Ok(store.cycles().await?)
}
