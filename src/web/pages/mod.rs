//! The HTML pages, one module per audience. Each lists its routes and its templates; the
//! access rules they apply live in [`super::access`].

pub mod auth;
pub mod findings;
pub mod inspector;
pub mod leader;
pub mod notices;
pub mod office;
pub mod portal;
pub mod schedule;

/// Every page route.
pub fn routes() -> Vec<rocket::Route> {
    [
        auth::routes(),
        leader::routes(),
        findings::routes(),
        inspector::routes(),
        portal::routes(),
        office::routes(),
        notices::routes(),
        schedule::routes(),
    ]
    .concat()
}

/// Every page template, by module.
pub const TEMPLATES: &[&[(&str, &str)]] = &[
    auth::TEMPLATES,
    leader::TEMPLATES,
    findings::TEMPLATES,
    inspector::TEMPLATES,
    portal::TEMPLATES,
    office::TEMPLATES,
    notices::TEMPLATES,
    schedule::TEMPLATES,
];
