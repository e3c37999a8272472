//! No two files of `src/` import each other, directly or in a loop (issue #15): a loop means
//! neither file can be read, changed or moved without the other. This test reads every
//! `use crate::…` / `use super::…` tree and every inline `crate::…` path of the library's code
//! (test modules at the end of a file aside), resolves each to the file that defines the module,
//! and fails naming every loop it finds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path (`["crawl", "checks", "spam"]`) for each source file, and back.
struct Modules {
    root: PathBuf,
    by_file: BTreeMap<PathBuf, Vec<String>>,
}

impl Modules {
    fn read(root: &Path) -> Modules {
        let mut by_file = BTreeMap::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let relative = path.strip_prefix(root).expect("under src");
                    let mut parts: Vec<String> = relative
                        .iter()
                        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
                        .collect();
                    if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
                        parts.pop();
                    }
                    by_file.insert(path, parts);
                }
            }
        }
        Modules { root: root.to_path_buf(), by_file }
    }

    /// The file defining the longest prefix of `path` that is a module (an item's path names
    /// its module's file).
    fn file_of(&self, path: &[String]) -> Option<PathBuf> {
        for len in (1..=path.len()).rev() {
            let prefix = &path[..len];
            let mut file = self.root.clone();
            prefix.iter().for_each(|p| file.push(p));
            let flat = file.with_extension("rs");
            if self.by_file.contains_key(&flat) {
                return Some(flat);
            }
            let nested = file.join("mod.rs");
            if self.by_file.contains_key(&nested) {
                return Some(nested);
            }
        }
        None
    }
}

/// Code without comments, string literals and the test module at the end of a file.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '"' && !escaped {
                        break;
                    }
                    escaped = c == '\\' && !escaped;
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Expands a use tree (`a::{b, c::{d, e as f}}`) into its paths, each as segments.
fn expand(prefix: &[String], tree: &str, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> =
            tree[..open].split("::").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        let base: Vec<String> = prefix.iter().cloned().chain(head).collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let (mut depth, mut start) = (0, 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&base, &inner[start..i], out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        expand(&base, &inner[start..], out);
    } else if !tree.is_empty() {
        let name = tree.split(" as ").next().unwrap_or(tree);
        let mut path = prefix.to_vec();
        path.extend(
            name.split("::").map(str::trim).filter(|s| !s.is_empty() && *s != "self").map(str::to_owned),
        );
        out.push(path);
    }
}

/// Every module path `file` (at `module`) reaches, resolved against the crate root.
fn imports(code: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut raw = Vec::new();
    for statement in code.split(';') {
        let statement = statement.trim_start();
        let statement = statement
            .strip_prefix("pub(crate) ")
            .or_else(|| statement.strip_prefix("pub(super) "))
            .unwrap_or(statement);
        let statement = statement.strip_prefix("pub ").unwrap_or(statement);
        if let Some(tree) = statement.strip_prefix("use ") {
            expand(&[], tree, &mut raw);
        }
    }
    // Paths written inline, outside `use`: `crate::crawl::nesting::MAX_DEPTH`.
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest: String =
            code[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
        raw.push(rest.split("::").filter(|s| !s.is_empty()).map(str::to_owned).collect());
    }
    // `super` is the enclosing module, for a `mod.rs` as for a flat file.
    let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
    raw.into_iter()
        .filter_map(|path| match path.first().map(String::as_str) {
            Some("crate") => Some(path[1..].to_vec()),
            Some("super") => {
                let mut up = parent.clone();
                let mut rest = &path[1..];
                while rest.first().is_some_and(|s| s == "super") {
                    up.pop();
                    rest = &rest[1..];
                }
                Some(up.into_iter().chain(rest.iter().cloned()).collect())
            }
            _ => None,
        })
        .collect()
}

/// Strongly connected groups of more than one file (Tarjan's algorithm).
fn loops(graph: &BTreeMap<PathBuf, BTreeSet<PathBuf>>) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        graph: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        found: Vec<Vec<PathBuf>>,
    }
    fn visit<'a>(state: &mut State<'a>, node: &'a PathBuf) {
        let n = state.index.len();
        state.index.insert(node, n);
        state.low.insert(node, n);
        state.stack.push(node);
        state.on_stack.insert(node);
        for next in state.graph.get(node).into_iter().flatten() {
            if !state.index.contains_key(next) {
                visit(state, next);
                let low = state.low[next].min(state.low[node]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(next) {
                let low = state.index[next].min(state.low[node]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut group = Vec::new();
            while let Some(top) = state.stack.pop() {
                state.on_stack.remove(top);
                group.push(top.clone());
                if top == node {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                state.found.push(group);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node) {
            visit(&mut state, node);
        }
    }
    state.found
}

fn graph_of(modules: &Modules) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut graph = BTreeMap::new();
    for (file, module) in &modules.by_file {
        let text = std::fs::read_to_string(file).expect("read source");
        // A `mod.rs` (or lib.rs) declares and re-exports its children: reaching down into its
        // own directory is what a parent does, not an import that can form a loop.
        let own_dir = file
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
            .then(|| file.parent().map(Path::to_path_buf))
            .flatten();
        let targets: BTreeSet<PathBuf> = imports(&code_of(&text), module)
            .iter()
            .filter_map(|path| modules.file_of(path))
            .filter(|target| target != file)
            .filter(|target| own_dir.as_ref().is_none_or(|dir| !target.starts_with(dir)))
            .collect();
        graph.insert(file.clone(), targets);
    }
    graph
}

#[test]
fn no_two_source_files_import_each_other_directly_or_in_a_loop() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = Modules::read(&root);
    let graph = graph_of(&modules);
    // The reader works: a known import is seen (site.rs reads the fetcher).
    let site = root.join("crawl/site.rs");
    assert!(graph[&site].contains(&root.join("crawl/fetch.rs")), "{:?}", graph[&site]);
    let found = loops(&graph);
    let names: Vec<String> = found
        .iter()
        .map(|group| {
            group
                .iter()
                .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
                .collect::<Vec<_>>()
                .join(" ⇄ ")
        })
        .collect();
    assert!(names.is_empty(), "files that import each other:\n{}", names.join("\n"));
}

#[test]
fn the_loop_finder_finds_a_loop_of_three_and_the_use_reader_expands_trees() {
    let p = |s: &str| PathBuf::from(s);
    let mut graph = BTreeMap::new();
    graph.insert(p("a"), BTreeSet::from([p("b")]));
    graph.insert(p("b"), BTreeSet::from([p("c")]));
    graph.insert(p("c"), BTreeSet::from([p("a")]));
    graph.insert(p("d"), BTreeSet::from([p("a")]));
    assert_eq!(loops(&graph), vec![vec![p("a"), p("b"), p("c")]]);

    let module: Vec<String> = vec!["web".into(), "pages".into()];
    let code = code_of(
        "use super::{error::WebError, views::{a, b as c}};\n// use crate::store::X;\nlet x = crate::model::check::HOME_STALE;",
    );
    let found = imports(&code, &module);
    let strings: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        strings,
        ["web::error::WebError", "web::views::a", "web::views::b", "model::check::HOME_STALE"]
    );
}
