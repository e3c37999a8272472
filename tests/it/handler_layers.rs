//! Handlers read through `web/views/` and write through `web/actions/` (issue #15,
//! docs/architecture.md): a route in `src/web/pages/` or `src/web/api/` touches the store
//! directly only to fetch one record by id. This test reads every handler file and fails naming
//! each store call that is not such a fetch, each handler-side alias of the store, and each
//! helper that takes the store as a `Store` (a query hidden one call away).

use std::path::{Path, PathBuf};

use regex::Regex;

/// The store methods a handler may call itself: each fetches one record by its id, which the
/// handler needs before it can authorise or answer "not found". Everything else — listings,
/// reads of more than one query, every write — goes through a view or an action.
const ALLOWED: &[&str] = &[
    // A unit by its code (page headings, "not found" for an unknown code).
    "unit",    // A finding by its id (the rectification page and API).
    "finding", // A notice by its key (every notice page loads its notice first).
    "notice",
];

/// Handler files not checked yet, relative to the crate root.
const EXCLUDED: &[&str] = &[];

/// Code without comments, string and char literals, and the test module at the end.
fn code_of(text: &str) -> String {
    let text = text.find("#[cfg(test)]").map_or(text, |at| &text[..at]);
    let literals = Regex::new(r##"(?s)//[^\n]*|/\*.*?\*/|r#*"[^"]*"#*|"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])'"##)
        .expect("literal pattern");
    // Each literal or comment becomes `""` followed by its line breaks, so line numbers hold.
    literals
        .replace_all(text, |m: &regex::Captures<'_>| {
            format!("\"\"{}", "\n".repeat(m[0].matches('\n').count()))
        })
        .into_owned()
}

/// What is wrong with one file's code, one line per problem.
fn violations(code: &str) -> Vec<String> {
    let call = Regex::new(r"\bstore\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:::\s*<[^>]*>\s*)?\(").expect("call");
    let alias = Regex::new(r"=\s*&?\s*(?:[A-Za-z_][A-Za-z0-9_]*\s*\.\s*)?store\s*;").expect("alias");
    // `&Store` in a signature, or the type imported (an enum variant named `Store` is fine).
    let store_type = Regex::new(r"&\s*(?:crate::store::)?Store\b|\bstore::Store\b|\bstore::\{[^}]*\bStore\b")
        .expect("type");
    let line = |at: usize| code[..at].matches('\n').count() + 1;
    let mut found = Vec::new();
    for call in call.captures_iter(code) {
        let method = &call[1];
        if !ALLOWED.contains(&method) {
            let at = call.get(0).map_or(0, |m| m.start());
            found.push(format!("line {}: store.{method}(…) — move it into a view or an action", line(at)));
        }
    }
    for alias in alias.find_iter(code) {
        found.push(format!(
            "line {}: the store bound to a name — pass `&state.store` to a view or an action",
            line(alias.start())
        ));
    }
    for named in store_type.find_iter(code) {
        found.push(format!(
            "line {}: `Store` in a handler file — a helper taking the store is a view or an action",
            line(named.start())
        ));
    }
    found
}

fn handler_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read handler directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            handler_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn handlers_fetch_at_most_one_record_by_id_from_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    handler_files(&root.join("src/web/pages"), &mut files);
    handler_files(&root.join("src/web/api"), &mut files);
    files.sort();
    assert!(files.len() >= 20, "the handler directories were not found: {files:?}");
    let mut problems = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(root).expect("under the crate").to_string_lossy().replace('\\', "/");
        if EXCLUDED.contains(&relative.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read handler file");
        problems.extend(violations(&code_of(&text)).into_iter().map(|p| format!("{relative} {p}")));
    }
    assert!(problems.is_empty(), "handlers reaching past views/actions:\n{}", problems.join("\n"));
}

/// The scanner itself: it must see a listing split over lines, an alias and a helper, and must
/// let a fetch by id, the store passed along, and text in comments or strings through.
#[test]
fn the_scanner_tells_a_fetch_by_id_from_a_query() {
    let bad = "let rows = state\n    .store\n    .notices()\n    .await?;\nlet store = &state.store;\n\
               async fn helper(store: &Store) {}\nstate.store.set_current_cycle(c, audit).await?;";
    let found = violations(&code_of(bad));
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found[0].starts_with("line 2: store.notices"), "{found:?}");
    assert!(found[1].starts_with("line 7: store.set_current_cycle"), "{found:?}");

    let good = "let unit = state.store.unit(&code).await?;\nuser.ensure_view_unit(&state.store, &code).await?;\n\
                // state.store.units() was here\nlet text = \"store.units()\";\nuse crate::store::CycleInfo;\n\
                Err(NotifyError::Store(error)) => Err(error.into()),\n\
                #[cfg(test)]\nmod tests { fn t() { state.store.units(); } }";
    assert_eq!(violations(&code_of(good)), Vec::<String>::new());
}
