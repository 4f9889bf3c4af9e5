//! No function in `src/` is longer than [`MAX_LINES`] lines.
//!
//! A long function hides the steps of its algorithm; splitting it into named steps is
//! what makes the next change easy to place. The scan relies on rustfmt's layout (the
//! tree is formatted, `cargo fmt --check` runs in `.ci/run`):
//!
//! - a function starts at its `fn` line (after `pub`, `const`, `async`, ... and
//!   attributes, which are not counted) and ends at the first `}` line at the same
//!   indentation; its length counts both lines;
//! - a signature that ends in `;` (a trait method without a body) or a one-line body
//!   is not a long function;
//! - test code is not scanned: files named `tests.rs` and `#[cfg(test)] mod ... { }`
//!   blocks are skipped, because a table of cases reads best as one long function.

use std::fs;
use std::path::{Path, PathBuf};

/// The longest function body, in lines from `fn` to its closing brace, that `src/` may hold.
const MAX_LINES: usize = 80;

/// Functions allowed over the limit, as `(file, function)`: none. A function that
/// must stay long is listed here with the reason beside it.
const ALLOWED: &[(&str, &str)] = &[];

#[test]
fn no_function_in_src_is_over_the_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();

    let mut too_long = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        if relative.ends_with("/tests.rs") {
            continue;
        }
        let text = fs::read_to_string(file).unwrap();
        for function in functions(&text) {
            if function.lines > MAX_LINES && !allowed(&relative, &function.name) {
                too_long.push(format!(
                    "{relative}:{}: fn {} is {} lines",
                    function.start_line, function.name, function.lines
                ));
            }
        }
    }
    assert!(
        too_long.is_empty(),
        "functions over {MAX_LINES} lines (split them into named steps):\n{}",
        too_long.join("\n")
    );
}

fn allowed(file: &str, function: &str) -> bool {
    ALLOWED.iter().any(|&(allowed_file, allowed_function)| allowed_file == file && allowed_function == function)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            out.push(path);
        }
    }
}

#[derive(Debug, PartialEq)]
struct Function {
    name: String,
    /// 1-based line of the `fn` keyword.
    start_line: usize,
    lines: usize,
}

/// Every function with a multi-line body in `text`, nested ones included.
fn functions(text: &str) -> Vec<Function> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let indent = indentation(line);
        if line.trim() == "#[cfg(test)]" && lines.get(index + 1).is_some_and(|next| opens_module(next)) {
            index = closing_line(&lines, index + 1, indent).map_or(lines.len(), |end| end + 1);
            continue;
        }
        if let Some(name) = function_name(line)
            && let Some(end) = body_end(&lines, index, indent)
        {
            found.push(Function { name: name.to_string(), start_line: index + 1, lines: end - index + 1 });
        }
        index += 1;
    }
    found
}

fn opens_module(line: &str) -> bool {
    let trimmed = line.trim_start();
    let trimmed = trimmed.strip_prefix("pub ").unwrap_or(trimmed);
    trimmed.starts_with("mod ") && trimmed.trim_end().ends_with('{')
}

/// The name declared by a line that starts a function, if it does.
fn function_name(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    loop {
        let before = rest;
        for qualifier in ["pub ", "const ", "async ", "unsafe ", "default "] {
            rest = rest.strip_prefix(qualifier).unwrap_or(rest);
        }
        if rest.starts_with("pub(")
            && let Some(close) = rest.find(") ")
        {
            rest = &rest[close + 2..];
        }
        if rest.starts_with("extern \"")
            && let Some(close) = rest[8..].find("\" ")
        {
            rest = &rest[8 + close + 2..];
        }
        if rest == before {
            break;
        }
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The index of the line that closes the body of the function starting at `start`, or
/// `None` when it has no body (`;`) or its body fits on its signature's last line.
fn body_end(lines: &[&str], start: usize, indent: usize) -> Option<usize> {
    let signature_end = (start..lines.len()).find(|&index| {
        let trimmed = lines[index].trim_end();
        trimmed.ends_with('{') || trimmed.ends_with(';') || trimmed.ends_with('}')
    })?;
    if !lines[signature_end].trim_end().ends_with('{') {
        return None;
    }
    closing_line(lines, signature_end, indent)
}

/// The first line after `from` that is a lone `}` at `indent`.
fn closing_line(lines: &[&str], from: usize, indent: usize) -> Option<usize> {
    (from + 1..lines.len()).find(|&index| {
        let line = lines[index];
        indentation(line) == indent && line.trim_end().trim_start() == "}"
    })
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

#[test]
fn the_scanner_measures_from_fn_to_its_closing_brace() {
    let text = "\
pub(crate) fn outer(
    a: u32,
) -> u32 {
    fn inner() {
        let _ = 1;
    }
    a
}

trait T {
    fn declared(&self);
    fn one_line(&self) -> u32 { 1 }
}

#[cfg(test)]
mod tests {
    fn skipped() {
        let _ = 1;
    }
}

const fn after() -> u32 {
    2
}
";
    let found = functions(text);
    let summary: Vec<(&str, usize, usize)> =
        found.iter().map(|function| (function.name.as_str(), function.start_line, function.lines)).collect();
    assert_eq!(summary, [("outer", 1, 8), ("inner", 4, 3), ("after", 22, 3)]);
}
