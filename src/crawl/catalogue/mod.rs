//! The disclosure catalogue (政府信息公开目录, DESIGN.md §4–§5): reading a unit's catalogue
//! through the shared fetching layer, the `catalogue.*` checks, and the update cadence.
//! Policy (classes, column synonyms, index grammar, windows, caps) comes from
//! `crawlers/catalogue.toml`.

pub mod cadence;
pub mod checks;
pub mod crawl;
pub mod index_grammar;
pub mod parse;
pub mod profile;

pub use cadence::{Cadence, cadence};
pub use checks::{CatalogueScan, CheckOutput, ClassScan, check_catalogue};
pub use crawl::{
    CatalogueOutcome, CatalogueProgress, crawl_unit, crawl_units, crawl_units_to, has_catalogue,
    scan_catalogue,
};
pub use index_grammar::{GrammarError, IndexGrammar, IndexProblem};
pub use parse::{ClassLink, ClassPage, PageContext, find_classes, parse_class_page};
pub use profile::{CatalogueProfile, CatalogueProfileError, Field};
