//! Text handling shared by every input path: files, websites, forms.

pub mod encoding;
