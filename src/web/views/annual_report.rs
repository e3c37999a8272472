//! The city's annual report draft for one year (issue #17), as the office's page reads it: the
//! store's figures for the year laid into the national format by [`crate::notify::annual`].

use crate::crawl::report::ReportTemplate;
use crate::notify::annual::{self, AnnualDraft};
use crate::store::Store;
use crate::web::error::WebError;

/// Years the page drafts for (the regulation dates from 2008; nothing is counted beyond 2100).
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The draft of `year`'s report; a year outside [`YEARS`] is bad input.
pub async fn annual_report(store: &Store, year: i32) -> Result<AnnualDraft, WebError> {
    if !YEARS.contains(&year) {
        return Err(WebError::bad(format!("年度“{year}”不在 2000–2100 之间")));
    }
    let template = ReportTemplate::builtin().map_err(|e| WebError::Internal(e.to_string()))?;
    let figures = store.annual_figures(year).await?;
    Ok(annual::draft(&figures, &template))
}
