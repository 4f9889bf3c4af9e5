//! The module graph points one way (STYLE.md, "The shape"; docs/architecture.md).
//!
//! Reads every `src/**/*.rs`, collects the `crate::<module>` paths in its code
//! (`use crate::x::Y`, `use crate::{x, y::{..}}` groups over several lines, and
//! paths used inline such as `crate::x::f()`), and fails when a module names a
//! module on a later line of [`LAYERS`], or when the graph has a cycle. Each
//! offence is printed as `src/file.rs:line`.
//!
//! Decisions:
//! - Unit tests (`#[cfg(test)]` modules and `src/**/tests.rs`) obey the layering
//!   too: a test of a stage builds its input from earlier stages, never from a
//!   later one; a test that needs a later stage belongs in that stage or in
//!   `tests/`.
//! - Comments are not code: a doc link to a later module is not an import (it is
//!   still worth avoiding). `super::` paths stay inside their module and are not
//!   checked.
//! - `lib.rs` (the module list) and `main.rs` (the binary, which goes through
//!   `strata::run`) are not modules of the graph. A path through a root
//!   re-export (`crate::Error`) counts as an import of the module it comes from.
//!
//! `cargo test --test architecture -- --nocapture` prints the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layering, lowest first. A module may import only modules on earlier
/// lines; a module missing here fails the test until it is given its place.
const LAYERS: &[(&str, &str)] = &[
    ("fixtures", "#[cfg(test)] only: the paths of tests/fixtures/ for unit tests; a leaf"),
    ("diag", "errors and their rendering: a leaf every module may use"),
    ("yaml", "YAML parse, emit, positions: a leaf every module may use"),
    ("atomic", "writing files and directories atomically: a leaf (uses diag only)"),
    ("source", "trait Source (work tree, git, memory) → Fs"),
    ("repo", "Fs → Repo { components, targets }; opening a repository; selectors"),
    ("values", "layers with provenance → merged values; unread parameters"),
    ("manifest", "Resource { id, body, source }"),
    ("render", "templates + values → Resources"),
    ("patch", "kustomization.yaml → patched Resources"),
    ("namespace", "the target's namespace, given to namespaced objects without one"),
    ("tracking", "the label tying each object to its target"),
    ("compiled", "Compiled / CompiledTarget: the output of the stages above"),
    ("cache", "what a target's compilation reads; the render cache keyed by it (--cache DIR)"),
    ("pipeline", "the driver: runs the stages above for the selected targets"),
    ("order", "Compiled → Plans (apply phases)"),
    ("bundle", "Plans → files; render output; --check"),
    ("diff", "two Compiled → Report"),
    ("release", "cherry-pick onto release branches (git objects), port between version directories"),
    ("rollout", "waves + a revision diff → Plan (per-wave changes, risks); ApplicationSet / Flux export"),
    ("promote", "versions matrix, promote (links over an overlay, diffed), version new"),
    ("check", "Compiled → findings: schemas, rules, each at its template line"),
    ("review", "a revision diff + its rollout plan + check findings → one self-contained HTML page"),
    ("hydrate", "bundles → commits on environment branches (git objects, one ref transaction), push, sign"),
    ("cluster", "Compiled + a cluster → LiveReport"),
    ("publish", "bundles → reproducible OCI artifacts (Flux's format), cosign signatures, registry push / pull"),
    ("init", "a new repository's files, written with atomic"),
    ("fuzzing", "the fuzz targets' properties (fuzz/, replayed by its unit tests): calls parsers and merges"),
    (
        "reference",
        "the generated pages of docs/reference/: config from the JSON Schemas, check and update rules from their tables",
    ),
    ("facade", "re-exports for tests/ and benches/ only; nothing inside the crate uses it"),
    ("cli", "arguments in, one library call, output printed"),
];

/// One `crate::<module>` reference.
#[derive(Debug, Clone)]
struct Import {
    from: String,
    to: String,
    file: PathBuf,
    line: usize,
}

#[test]
fn modules_import_only_earlier_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let (declared, reexports) = crate_root(&lib);
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, (m, _))| (*m, i)).collect();

    let mut problems = Vec::new();
    for m in &declared {
        if !rank.contains_key(m.as_str()) {
            problems.push(format!("src/lib.rs: module `{m}` has no place in LAYERS (tests/architecture.rs)"));
        }
    }

    let mut imports = Vec::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(root).unwrap().to_path_buf();
        let Some(from) = module_of(file.strip_prefix(&src).unwrap()) else { continue };
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, name) in crate_paths(&text) {
            let to = if declared.contains(&name) {
                name
            } else if let Some(m) = reexports.get(&name) {
                m.clone()
            } else {
                problems.push(format!(
                    "{}:{line}: `crate::{name}` is neither a module nor a root re-export",
                    rel.display()
                ));
                continue;
            };
            if to != from {
                imports.push(Import { from: from.clone(), to, file: rel.clone(), line });
            }
        }
    }

    for i in &imports {
        let (Some(&f), Some(&t)) = (rank.get(i.from.as_str()), rank.get(i.to.as_str())) else { continue };
        if t > f {
            problems.push(format!(
                "{}:{}: `{}` imports `{}`, which comes later in the layering; move the shared piece down",
                i.file.display(),
                i.line,
                i.from,
                i.to
            ));
        }
    }

    let graph = graph(&imports);
    if let Some(cycle) = find_cycle(&graph) {
        let at: Vec<String> = cycle
            .windows(2)
            .map(|w| {
                let i = imports.iter().find(|i| i.from == w[0] && i.to == w[1]).unwrap();
                format!("{}:{} ({} → {})", i.file.display(), i.line, i.from, i.to)
            })
            .collect();
        problems.push(format!("module cycle {}: {}", cycle.join(" → "), at.join(", ")));
    }

    println!("module → imported modules");
    for (m, _) in LAYERS {
        if let Some(to) = graph.get(*m) {
            println!("  {m} → {}", to.iter().cloned().collect::<Vec<_>>().join(", "));
        } else if declared.iter().any(|d| d == m) {
            println!("  {m} → (nothing)");
        }
    }
    assert!(problems.is_empty(), "the module graph breaks the layering:\n{}", problems.join("\n"));
}

/// The modules `lib.rs` declares, and the names it re-exports (name → module).
fn crate_root(lib: &str) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut modules = BTreeSet::new();
    let mut reexports = BTreeMap::new();
    for line in lib.lines().map(str::trim) {
        let declared = ["pub mod ", "pub(crate) mod ", "mod "].iter().find_map(|p| line.strip_prefix(p));
        if let Some(m) = declared {
            modules.insert(m.trim_end_matches(';').trim().to_string());
        } else if let Some(u) = line.strip_prefix("pub use ") {
            let (module, rest) = u.split_once("::").expect("`pub use module::...` in lib.rs");
            let names = rest.trim_end_matches(';').trim_matches(|c| c == '{' || c == '}' || c == ';');
            for name in names.split(',').map(|n| n.trim().rsplit(' ').next().unwrap_or("")) {
                let name = name.rsplit("::").next().unwrap_or(name);
                if !name.is_empty() {
                    reexports.insert(name.to_string(), module.trim().to_string());
                }
            }
        }
    }
    (modules, reexports)
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// `pipeline.rs` → `pipeline`, `cli/diff.rs` → `cli`; `lib.rs` and `main.rs` → none.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "main.rs" => None,
        f => Some(f.trim_end_matches(".rs").to_string()),
    }
}

/// Every `crate::<name>` in the code of `text` (comments removed), with its line;
/// in a `crate::{a, b::c}` group, each item's first segment.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let code = strip_comments(text);
    let bytes = code.as_bytes();
    let line_at = |i: usize| 1 + bytes[..i].iter().filter(|&&b| b == b'\n').count();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find("crate::") {
        let start = from + pos;
        from = start + "crate::".len();
        if start > 0 && (ident(bytes[start - 1]) || bytes[start - 1] == b':') {
            continue; // `$crate::` in macros, `strata::crate::` never
        }
        let mut i = from;
        if bytes.get(i) == Some(&b'{') {
            // A group: the first segment of each item at depth 1.
            let mut depth = 1;
            let mut at_item = true;
            i += 1;
            while i < bytes.len() && depth > 0 {
                match bytes[i] {
                    b'{' => depth += 1,
                    b'}' => depth -= 1,
                    b',' if depth == 1 => at_item = true,
                    b if ident(b) && at_item && depth == 1 => {
                        let s = i;
                        while i < bytes.len() && ident(bytes[i]) {
                            i += 1;
                        }
                        out.push((line_at(s), code[s..i].to_string()));
                        at_item = false;
                        continue;
                    }
                    _ => {}
                }
                i += 1;
            }
            from = i;
        } else {
            let s = i;
            while i < bytes.len() && ident(bytes[i]) {
                i += 1;
            }
            if i > s {
                out.push((line_at(s), code[s..i].to_string()));
            }
        }
    }
    out
}

/// `text` with `//` and `/* */` comments blanked, newlines kept (so lines still count).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("//") {
            let end = r.find('\n').unwrap_or(r.len());
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("/*") {
            let end = r.find("*/").map_or(r.len(), |e| e + 2);
            out.extend(r[..end].chars().filter(|&c| c == '\n'));
            rest = &r[end..];
        } else if rest.starts_with('"') {
            // A string literal is copied whole, so that `"//"` is not a comment.
            let end = string_end(rest);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The length of the string literal `s` starts with (`"` included at both ends).
fn string_end(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

fn graph(imports: &[Import]) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for i in imports {
        g.entry(i.from.clone()).or_default().insert(i.to.clone());
    }
    g
}

/// A cycle of the graph as a path `a → b → … → a`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn import_scanner_reads_groups_and_skips_comments() {
    let text = "use crate::diag::Error;\n/// see [`crate::cli`]\nuse crate::{\n    repo::{self, Repo},\n    values,\n};\nfn f() { crate::render::go(\"//\"); } // crate::bundle\n";
    let got: Vec<(usize, String)> = crate_paths(text);
    let want: Vec<(usize, String)> =
        [(1, "diag"), (4, "repo"), (5, "values"), (7, "render")].iter().map(|(l, m)| (*l, m.to_string())).collect();
    assert_eq!(got, want);
}

#[test]
fn cycles_are_found() {
    let g: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .iter()
        .map(|(f, t)| (f.to_string(), BTreeSet::from([t.to_string()])))
        .collect();
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
}

/// `pub(crate)` by default: `lib.rs` makes public only the facade (what tests and
/// benchmarks use) and, behind its feature, `fuzzing`; everything else is reached
/// through them or through the binary, so the compiler reports unused code.
#[test]
fn only_the_facade_is_public() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).expect("src/lib.rs");
    let public: Vec<&str> = lib.lines().filter_map(|l| l.trim().strip_prefix("pub mod ")).collect();
    assert_eq!(public, ["facade;", "fuzzing;"], "src/lib.rs: only `facade` and `fuzzing` are `pub mod`");
}
