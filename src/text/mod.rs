//! Text handling shared by every input path: files, websites, forms.

pub mod csv_table;
pub mod encoding;
pub mod problem;
