//! A fast reader for block-style YAML: the shape templates and strata's own
//! emitter produce, read about ten times faster than through `yaml_serde`.
//!
//! In: a YAML stream. Out: `Some(documents)` exactly as [`super::parse`]'s
//! `yaml_serde` path would return them, or `None` when the text uses anything
//! this reader does not handle (anchors, aliases, tags, folded or multi-line
//! flow scalars, complex keys, directives, tabs in indentation, …) or is not
//! valid YAML; the caller then parses it with `yaml_serde`, which also produces
//! the error messages. Invariant: `Some(v)` is returned only when `yaml_serde`
//! gives `v` (checked by property tests against it), so declining is always safe.
//!
//! What it reads: documents split by `---` lines; block mappings and sequences
//! (including sequences at their key's indentation); plain, single- and
//! double-quoted scalars on one line; literal blocks (`|`, with indentation and
//! chomping indicators); one-line flow collections (`[a, b]`, `{a: 1}`);
//! comments and blank lines. Plain scalars are resolved like `yaml_serde`
//! (YAML 1.2 core schema: `null`/`~`, `true`/`false` in three spellings,
//! decimal, `0x`, `0o`, `0b` integers, floats; leading zeros stay strings).

mod flow;
mod scalar;
#[cfg(test)]
mod tests;

use flow::Flow;
use scalar::{plain_block, quoted, resolve_plain, split_key};
use serde_json::{Map, Value};

/// Deeper nesting is left to `yaml_serde` (which enforces its own limit).
const MAX_DEPTH: usize = 100;
/// libyaml refuses implicit keys longer than this.
const MAX_KEY_LEN: usize = 1000;

/// Parses a whole stream, or declines with `None`.
pub fn parse_stream(text: &str) -> Option<Vec<Value>> {
    if !printable(text) {
        return None;
    }
    let mut docs = Vec::new();
    let mut lines: Vec<Line<'_>> = Vec::new();
    // Whether a `---` was seen: the text before the first one is a document only
    // when it has content; the text after any `---` always is (maybe `null`).
    let mut started = false;
    // A final newline ends the last line rather than starting an empty one.
    let (body, final_break) = match text.strip_suffix('\n') {
        Some(b) => (b, true),
        None => (text, false),
    };
    let mut pieces = body.split('\n').peekable();
    while let Some(raw) = pieces.next() {
        let has_break = final_break || pieces.peek().is_some();
        if raw.starts_with("---") && (raw.len() == 3 || raw[3..].starts_with([' ', '\t'])) {
            if !is_blank_or_comment(&raw[3..]) {
                return None; // content after `---`
            }
            if started || lines.iter().any(|l| !l.is_blank_or_comment()) {
                docs.push(parse_document(&mut lines)?);
            }
            lines.clear();
            started = true;
            continue;
        }
        if raw.starts_with("...") || raw.starts_with('%') {
            return None;
        }
        lines.push(Line::new(raw, has_break)?);
    }
    docs.push(parse_document(&mut lines)?);
    Some(docs)
}

/// Characters YAML accepts in a stream (c-printable), without carriage returns,
/// which only `yaml_serde` handles here.
fn printable(text: &str) -> bool {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\t') {
        return true;
    }
    // NEL, LS and PS are line breaks to libyaml (YAML 1.1): left to it.
    text.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
            && !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')
    })
}

fn is_blank_or_comment(s: &str) -> bool {
    let t = s.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#')
}

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    /// The whole line, for literal blocks.
    raw: &'a str,
    /// Leading spaces (a sequence entry's content counts from after `- `).
    indent: usize,
    /// The line after its indentation.
    text: &'a str,
    /// Whether a line break ends the line (all but maybe the last).
    has_break: bool,
}

impl<'a> Line<'a> {
    fn new(raw: &'a str, has_break: bool) -> Option<Line<'a>> {
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        let text = &raw[indent..];
        if text.starts_with('\t') {
            return None; // a tab in indentation, even on a blank line, is an error to libyaml
        }
        Some(Line { raw, indent, text, has_break })
    }

    fn is_blank_or_comment(&self) -> bool {
        is_blank_or_comment(self.text)
    }
}

fn parse_document(lines: &mut [Line<'_>]) -> Option<Value> {
    let mut p = Parser { lines, i: 0, depth: 0 };
    p.skip_blank();
    if p.i == p.lines.len() {
        return Some(Value::Null);
    }
    let first = p.lines[p.i];
    // A document is a block mapping or a block sequence here; scalars and flow
    // collections at the top are rare enough to leave to `yaml_serde`.
    if !(is_entry(first.text) || split_key(first.text).is_some()) {
        return None;
    }
    let v = p.node(-1)?;
    p.skip_blank();
    (p.i == p.lines.len()).then_some(v)
}

/// `- x` or a lone `-`.
fn is_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

struct Parser<'l, 'a> {
    lines: &'l mut [Line<'a>],
    i: usize,
    depth: usize,
}

impl<'a> Parser<'_, 'a> {
    fn skip_blank(&mut self) {
        while self.i < self.lines.len() && self.lines[self.i].is_blank_or_comment() {
            self.i += 1;
        }
    }

    /// The indentation of the next line with content, if any.
    fn next_indent(&mut self) -> Option<usize> {
        self.skip_blank();
        self.lines.get(self.i).map(|l| l.indent)
    }

    /// Parses the node starting at the current line (which has content), inside a
    /// block whose indentation is `parent` (-1 at the top).
    fn node(&mut self, parent: isize) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let line = self.lines[self.i];
        let v = if is_entry(line.text) {
            self.sequence(line.indent)
        } else if let Some(first) = split_key(line.text) {
            self.mapping(line.indent, first)
        } else {
            // A scalar or flow collection alone on its line.
            self.i += 1;
            self.inline_value(line.text, parent)
        };
        self.depth -= 1;
        v
    }

    /// A block sequence whose `-` sit at column `col`.
    fn sequence(&mut self, col: usize) -> Option<Value> {
        let mut items = Vec::new();
        while self.next_indent() == Some(col) && is_entry(self.lines[self.i].text) {
            let line = self.lines[self.i];
            let rest = &line.text[1..];
            let content = rest.trim_start_matches([' ', '\t']);
            if rest[..rest.len() - content.len()].contains('\t') {
                return None; // libyaml is picky about tabs after `-`
            }
            if content.is_empty() || content.starts_with('#') {
                // `-` alone: the item is on the following lines, or null.
                self.i += 1;
                match self.next_indent() {
                    Some(n) if n > col => items.push(self.node(col as isize)?),
                    _ => items.push(Value::Null),
                }
                continue;
            }
            // Rewrite `- content` as `content` at its own column and parse it there.
            let shift = line.text.len() - content.len();
            self.lines[self.i] = Line { indent: col + shift, text: content, ..line };
            items.push(self.node(col as isize)?);
        }
        self.check_dedent(col)?;
        Some(Value::Array(items))
    }

    /// A block mapping whose keys sit at column `col`; `first` is the current
    /// line's key and the text after its `:`.
    fn mapping(&mut self, col: usize, first: (String, &'a str)) -> Option<Value> {
        let mut map = Map::new();
        let mut first = Some(first);
        while self.next_indent() == Some(col) {
            let line = self.lines[self.i];
            if is_entry(line.text) {
                break; // the end of an indentless sequence's parent
            }
            let (key, rest) = match first.take() {
                Some(f) => f,
                None => split_key(line.text)?,
            };
            let slot = match map.entry(key) {
                serde_json::map::Entry::Vacant(v) => v,
                serde_json::map::Entry::Occupied(_) => return None, // duplicate: `yaml_serde` reports it
            };
            self.i += 1;
            let trimmed = rest.trim_start_matches([' ', '\t']);
            if (trimmed.is_empty() || trimmed.starts_with('#')) && rest[..rest.len() - trimmed.len()].contains('\t') {
                return None; // a tab before the end of the line: left to libyaml
            }
            let rest = trimmed;
            let value = if rest.is_empty() || rest.starts_with('#') {
                match self.next_indent() {
                    Some(n) if n > col => self.node(col as isize)?,
                    Some(n) if n == col && is_entry(self.lines[self.i].text) => self.sequence(col)?,
                    _ => Value::Null,
                }
            } else {
                self.inline_value(rest, col as isize)?
            };
            slot.insert(value);
        }
        self.check_dedent(col)?;
        Some(Value::Object(map))
    }

    /// After a block at `col`, the next content must be less indented.
    fn check_dedent(&mut self, col: usize) -> Option<()> {
        match self.next_indent() {
            Some(n) if n > col => None,
            _ => Some(()),
        }
    }

    /// A value written on the line just consumed: a scalar, a one-line flow
    /// collection or the header of a literal block. `parent` is the indentation
    /// of the enclosing block; nothing may continue the value on deeper lines.
    fn inline_value(&mut self, text: &'a str, parent: isize) -> Option<Value> {
        let v = match text.as_bytes()[0] {
            b'|' => return self.literal(text, parent),
            b'[' | b'{' => {
                let mut f = Flow { s: text, pos: 0, depth: self.depth };
                let v = f.value()?;
                f.skip_space();
                if !is_blank_or_comment(&f.s[f.pos..]) {
                    return None;
                }
                v
            }
            b'"' | b'\'' => {
                let (s, len) = quoted(text)?;
                if !is_blank_or_comment(&text[len..]) {
                    return None;
                }
                Value::String(s)
            }
            _ => {
                let s = plain_block(text)?;
                resolve_plain(s)?
            }
        };
        // A deeper line would continue a multi-line scalar (or be an error).
        match self.next_indent() {
            Some(n) if n as isize > parent => None,
            _ => Some(v),
        }
    }

    /// A literal block scalar; `header` starts with `|`.
    fn literal(&mut self, header: &str, parent: isize) -> Option<Value> {
        let (chomp, explicit) = literal_header(header)?;
        let base = parent.max(0) as usize;
        let indent = match explicit {
            Some(d) => base + d,
            None => self.detect_literal_indent(parent)?,
        };
        if (indent as isize) <= parent {
            return None;
        }
        let (mut out, trailing, last_break) = self.literal_lines(indent)?;
        chomp.apply(&mut out, trailing, last_break);
        match self.next_indent() {
            Some(n) if n as isize > parent => None,
            _ => Some(Value::String(out)),
        }
    }

    /// A literal block's indentation when its header does not give it: that of
    /// the first non-empty line, which must be deeper than `parent`.
    fn detect_literal_indent(&self, parent: isize) -> Option<usize> {
        let mut leading_max = 0;
        let mut found = None;
        for l in &self.lines[self.i..] {
            if l.raw.trim_start_matches(' ').is_empty() {
                leading_max = leading_max.max(l.raw.len());
                continue;
            }
            found = Some(l.indent);
            break;
        }
        let n = found?;
        if (n as isize) <= parent || leading_max > n {
            return None; // empty block, or a leading line with too many spaces
        }
        Some(n)
    }

    /// The content lines of a literal block indented by `indent`, joined by their
    /// breaks; `None` when there are none. Also returns how many breaks of empty
    /// lines follow the last content line, and whether that line itself ended
    /// with a break (chomping decides which of them are kept).
    fn literal_lines(&mut self, indent: usize) -> Option<(String, usize, bool)> {
        let mut out = String::new();
        let mut trailing = 0usize;
        let mut last_break = false;
        let mut any = false;
        while self.i < self.lines.len() {
            let line = self.lines[self.i];
            let raw = line.raw;
            let spaces = raw.len() - raw.trim_start_matches(' ').len();
            if spaces == raw.len() && spaces <= indent {
                trailing += usize::from(line.has_break); // an empty line
                self.i += 1;
                continue;
            }
            if spaces < indent {
                break; // less indented: the block ended
            }
            if any {
                out.push('\n');
            }
            for _ in 0..trailing {
                out.push('\n');
            }
            trailing = 0;
            out.push_str(&raw[indent..]);
            last_break = line.has_break;
            any = true;
            self.i += 1;
        }
        any.then_some((out, trailing, last_break))
    }
}

/// The chomping and explicit indentation indicators of a literal block header
/// (`|`, `|-`, `|+2`, `|2-`); `None` when anything else follows on the line.
fn literal_header(header: &str) -> Option<(Chomp, Option<usize>)> {
    let mut chomp = Chomp::Clip;
    let mut explicit = None;
    let mut rest = &header[1..];
    for _ in 0..2 {
        match rest.as_bytes().first() {
            Some(b'-') if chomp == Chomp::Clip => chomp = Chomp::Strip,
            Some(b'+') if chomp == Chomp::Clip => chomp = Chomp::Keep,
            Some(d @ b'1'..=b'9') if explicit.is_none() => explicit = Some((d - b'0') as usize),
            _ => break,
        }
        rest = &rest[1..];
    }
    if !(rest.is_empty() || rest.starts_with([' ', '\t']) && is_blank_or_comment(rest)) {
        return None;
    }
    Some((chomp, explicit))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

impl Chomp {
    /// Ends a literal block's text: strip drops the final break and the empty
    /// lines after it, clip keeps the break, keep keeps both.
    fn apply(self, out: &mut String, trailing: usize, last_break: bool) {
        if self != Chomp::Strip && last_break {
            out.push('\n');
        }
        if self == Chomp::Keep {
            for _ in 0..trailing {
                out.push('\n');
            }
        }
    }
}
