//! Diagnostics: the one shape every user-facing problem takes.
//!
//! A [`Diagnostic`] names a repository-relative file, a line and column where
//! known, a message, notes and hints. [`Error`] carries one or more of them and
//! the exit code they map to. Only [`Diagnostic::render`] turns them into text,
//! so every stage reports in the same style:
//!
//! ```text
//! error: undefined value `Values.database.host`
//!   --> api/v2/deployment.yaml:14:18
//!    |
//! 14 |   host: {{ Values.database.host }}
//!    |            ^^^^^^^^^^^^^^^^^^^^ not set in any values layer
//!    = note: rendering api/eastus (version v2)
//! hint: set `database.host` in api/eastus/parameters.yaml or api/v2/values.yaml
//! ```

use std::fmt::{self, Write as _};

/// How bad a diagnostic or a `strata check` finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    /// `error`, `warning`: the head of a rendered diagnostic.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A position in a file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// The source line shown under a diagnostic, with the underlined range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    /// The text of the line (no newline).
    pub text: String,
    /// 0-based character offset of the underline inside `text`.
    pub start: usize,
    /// Length of the underline in characters (at least 1).
    pub len: usize,
    /// Text after the carets.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// What reported it, shown after the severity: `error[probes]: …` for a
    /// `strata check` rule.
    pub code: Option<String>,
    pub message: String,
    /// Repository-relative path of the file to fix.
    pub path: Option<String>,
    pub pos: Option<Pos>,
    pub snippet: Option<Snippet>,
    pub notes: Vec<String>,
    /// Facts about what the diagnostic is about, shown after the notes as
    /// `   = {fact}` (`object: apps/Deployment/shop/web (apps/v1) in target …`).
    pub facts: Vec<String>,
    pub hints: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: None,
            message: message.into(),
            path: None,
            pos: None,
            snippet: None,
            notes: Vec::new(),
            facts: Vec::new(),
            hints: Vec::new(),
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(message) }
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn at_pos(mut self, path: impl Into<String>, line: usize, col: usize) -> Self {
        self.path = Some(path.into());
        self.pos = Some(Pos { line: line.max(1), col: col.max(1) });
        self
    }

    /// Sets the position and shows the line of `source` it points at, with
    /// `len` characters underlined.
    pub fn with_source_line(self, source: &str, line: usize, col: usize, len: usize, label: impl Into<String>) -> Self {
        match source.lines().nth(line.saturating_sub(1)) {
            Some(text) => self.with_line(text, line, col, len, label),
            None => self.at_line(line, col),
        }
    }

    /// [`Diagnostic::with_source_line`] when the caller holds the line's text
    /// (`text`, line `line` of its file) rather than the whole file.
    pub fn with_line(mut self, text: &str, line: usize, col: usize, len: usize, label: impl Into<String>) -> Self {
        let (text, start) = window(text.trim_end_matches('\r'), col.saturating_sub(1));
        self.snippet = Some(Snippet { text, start, len: len.max(1), label: label.into() });
        self.at_line(line, col)
    }

    fn at_line(self, line: usize, col: usize) -> Self {
        match self.path.clone() {
            Some(path) => self.at_pos(path, line, col),
            None => self,
        }
    }

    /// Names what reported the diagnostic ([`Diagnostic::code`]).
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Adds a fact ([`Diagnostic::facts`]).
    pub fn fact(mut self, fact: impl Into<String>) -> Self {
        self.facts.push(fact.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Renders the diagnostic as the multi-line text shown on stderr.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let head = self.severity.as_str();
        match &self.code {
            Some(code) => writeln!(out, "{head}[{code}]: {}", self.message),
            None => writeln!(out, "{head}: {}", self.message),
        }
        .ok();
        if let Some(path) = &self.path {
            match self.pos {
                Some(p) => {
                    let _ = writeln!(out, "  --> {path}:{}:{}", p.line, p.col);
                }
                None => {
                    let _ = writeln!(out, "  --> {path}");
                }
            }
        }
        if let (Some(s), Some(p)) = (&self.snippet, self.pos) {
            let num = p.line.to_string();
            let pad = " ".repeat(num.len());
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{num} | {}", s.text);
            let lead: String = s.text.chars().take(s.start).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            let carets = "^".repeat(s.len);
            if s.label.is_empty() {
                let _ = writeln!(out, "{pad} | {lead}{carets}");
            } else {
                let _ = writeln!(out, "{pad} | {lead}{carets} {}", s.label);
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "   = note: {n}");
        }
        for f in &self.facts {
            let _ = writeln!(out, "   = {f}");
        }
        for h in &self.hints {
            let _ = writeln!(out, "hint: {h}");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// The widest source line a snippet shows; longer lines are cut around the column.
const SNIPPET_WIDTH: usize = 120;

/// `line` cut to [`SNIPPET_WIDTH`] characters around the 0-based character `col`
/// (`…` marks a cut), and `col` inside what is kept.
fn window(line: &str, col: usize) -> (String, usize) {
    let count = line.chars().count();
    let col = col.min(count);
    if count <= SNIPPET_WIDTH {
        return (line.to_string(), col);
    }
    let from = col.saturating_sub(SNIPPET_WIDTH / 2).min(count - SNIPPET_WIDTH);
    let kept: String = line.chars().skip(from).take(SNIPPET_WIDTH).collect();
    let (head, tail) = (if from > 0 { "…" } else { "" }, if from + SNIPPET_WIDTH < count { "…" } else { "" });
    (format!("{head}{kept}{tail}"), col - from + usize::from(from > 0))
}

/// What an error means for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or usage: exit 2.
    Input,
    /// A bug in strata: exit 101.
    Bug,
    /// The system refused an operation on good input: writing an output (disk
    /// full, permission denied, read-only file system), standard output failing
    /// other than by a closed pipe. Not the input's fault: exit 3.
    Io,
    /// Our standard output was closed by its reader (`strata render | head`):
    /// not a failure; the process ends quietly with exit 0, as ripgrep does.
    BrokenPipe,
}

/// The error type of every stage: one or more diagnostics, reported together.
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub diagnostics: Vec<Diagnostic>,
}

impl Error {
    pub fn many(diagnostics: Vec<Diagnostic>) -> Self {
        Error { kind: ErrorKind::Input, diagnostics }
    }

    /// The system refused to write an output ([`ErrorKind::Io`]).
    pub fn io(d: Diagnostic) -> Self {
        Error { kind: ErrorKind::Io, diagnostics: vec![d] }
    }

    /// Standard output was closed by its reader ([`ErrorKind::BrokenPipe`]).
    pub fn broken_pipe() -> Self {
        Error { kind: ErrorKind::BrokenPipe, diagnostics: Vec::new() }
    }

    /// Adds a note to every diagnostic, as context on the way up.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        let note = note.into();
        for d in &mut self.diagnostics {
            d.notes.push(note.clone());
        }
        self
    }

    /// The messages alone, one per line; handy in tests.
    pub fn messages(&self) -> String {
        self.diagnostics.iter().map(|d| d.message.as_str()).collect::<Vec<_>>().join("\n")
    }
}

/// `--strict`: warnings as errors, each saying why it is one.
pub fn warnings_as_errors(mut warnings: Vec<Diagnostic>) -> Error {
    for w in &mut warnings {
        w.severity = Severity::Error;
        w.hints.push("`--strict` makes this warning an error".to_string());
    }
    Error::many(warnings)
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Error { kind: ErrorKind::Input, diagnostics: vec![d] }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            f.write_str(&d.render())?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Converts a byte offset in `source` into a 1-based line and column (in characters).
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_the_expression() {
        let src = "a: 1\n  host: {{ Values.database.host }}\n";
        let d = Diagnostic::error("undefined value `Values.database.host`")
            .at("api/v2/deployment.yaml")
            .with_source_line(src, 2, 12, 20, "not set in any values layer")
            .hint("set `database.host`");
        let text = d.render();
        assert_eq!(
            text,
            "error: undefined value `Values.database.host`\n  --> api/v2/deployment.yaml:2:12\n  |\n2 |   host: {{ Values.database.host }}\n  |            ^^^^^^^^^^^^^^^^^^^^ not set in any values layer\nhint: set `database.host`\n"
        );
    }

    #[test]
    fn code_and_facts() {
        let d = Diagnostic::warning("container `web` has no `readinessProbe`")
            .code("probes")
            .at("api/v1/deployment.yaml")
            .with_line("    - name: web", 9, 7, 4, "")
            .note("a note")
            .fact("object: apps/Deployment/web")
            .hint("add one");
        assert_eq!(
            d.render(),
            "warning[probes]: container `web` has no `readinessProbe`\n  --> api/v1/deployment.yaml:9:7\n  |\n9 |     - name: web\n  |       ^^^^\n   = note: a note\n   = object: apps/Deployment/web\nhint: add one\n"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("deep: {}", "[".repeat(100_000));
        let d = Diagnostic::error("too deep").at("p.yaml").with_source_line(&line, 1, 135, 1, "here");
        let s = d.snippet.as_ref().unwrap();
        assert_eq!(s.text.chars().count(), SNIPPET_WIDTH + 2, "{}", s.text);
        assert!(s.text.starts_with('…') && s.text.ends_with('…'));
        assert_eq!(s.start, 61);
        let d = Diagnostic::error("x").at("p.yaml").with_source_line(&line, 1, 3, 1, "");
        let s = d.snippet.unwrap();
        assert_eq!((s.start, &s.text[..6]), (2, "deep: "));
        assert_eq!(window("short", 9), ("short".to_string(), 5));
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé\nx", 0), (1, 1));
        assert_eq!(line_col("ab\ncé\nx", 3), (2, 1));
        assert_eq!(line_col("ab\ncé\nx", 7), (3, 1));
        assert_eq!(line_col("ab\ncé\nx", 100), (3, 2));
    }
}
