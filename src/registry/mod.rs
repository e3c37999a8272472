//! The units registry: reading the office's CSV and planning what an import changes.
//! Writing the plan is the store's job ([`crate::store::Store::apply_unit_import`]).

mod csv_file;
mod plan;

pub use crate::text::problem::{Rejected, RowProblem};
pub use csv_file::{RegistryFile, RegistryRow, read_registry, web_address};
pub use plan::{ImportPlan, plan_import};
