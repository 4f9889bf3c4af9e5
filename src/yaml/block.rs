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

use serde_json::{Map, Number, Value};

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

/// Splits `key: rest` into the key (as a string) and what follows the `:`.
/// `None` when the line is not a simple mapping entry.
fn split_key(text: &str) -> Option<(String, &str)> {
    let b = text.as_bytes();
    match b.first()? {
        b'"' | b'\'' => {
            let (key, len) = quoted(text)?;
            let after = text[len..].trim_start_matches([' ', '\t']);
            let rest = after.strip_prefix(':')?;
            if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
                return None;
            }
            Some((key, rest))
        }
        c if is_indicator(*c) && !starts_plain(b) => None,
        _ => {
            // The first `:` followed by a blank or the end of the line.
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b':' if i + 1 == b.len() || matches!(b[i + 1], b' ' | b'\t') => {
                        let key = text[..i].trim_end_matches([' ', '\t']);
                        if key.len() > MAX_KEY_LEN || key.is_empty() {
                            return None;
                        }
                        // Only keys that resolve to strings are read here.
                        return match resolve_plain(key)? {
                            Value::String(s) => Some((s, &text[i + 1..])),
                            _ => None,
                        };
                    }
                    b'#' if i > 0 && matches!(b[i - 1], b' ' | b'\t') => return None,
                    _ => {}
                }
                i += 1;
            }
            None
        }
    }
}

/// Characters that cannot start a plain scalar here (`-`, `?` and `:` followed by a
/// non-blank can, in YAML, but are left to `yaml_serde` when they start a key).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// `-x`, `?x`, `:x`: indicators followed by a non-blank start plain scalars.
fn starts_plain(b: &[u8]) -> bool {
    matches!(b[0], b'-' | b'?' | b':') && b.len() > 1 && !matches!(b[1], b' ' | b'\t')
}

/// A plain scalar in block context, up to a comment; `None` where YAML would
/// read something else (an indicator, `: `) or continue it.
fn plain_block(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    if is_indicator(b[0]) && !starts_plain(b) {
        return None;
    }
    let mut end = b.len();
    for i in 0..b.len() {
        match b[i] {
            b'#' if i > 0 && matches!(b[i - 1], b' ' | b'\t') => {
                end = i;
                break;
            }
            b':' if i + 1 == b.len() || matches!(b[i + 1], b' ' | b'\t') => return None,
            _ => {}
        }
    }
    let s = text[..end].trim_end_matches([' ', '\t']);
    (!s.is_empty()).then_some(s)
}

/// A quoted scalar at the start of `text` that ends on the same line: its value
/// and the bytes it spans.
fn quoted(text: &str) -> Option<(String, usize)> {
    let q = text.as_bytes()[0];
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        match (q, c) {
            (b'\'', '\'') => {
                if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, i + 1));
                }
            }
            (b'"', '"') => return Some((out, i + 1)),
            (b'"', '\\') => {
                let (_, e) = chars.next()?;
                match e {
                    '0' => out.push('\0'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    't' | '\t' => out.push('\t'),
                    'n' => out.push('\n'),
                    'v' => out.push('\u{b}'),
                    'f' => out.push('\u{c}'),
                    'r' => out.push('\r'),
                    'e' => out.push('\u{1b}'),
                    ' ' => out.push(' '),
                    '"' => out.push('"'),
                    '/' => out.push('/'),
                    '\\' => out.push('\\'),
                    'N' => out.push('\u{85}'),
                    '_' => out.push('\u{a0}'),
                    'L' => out.push('\u{2028}'),
                    'P' => out.push('\u{2029}'),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut code = 0u32;
                        for _ in 0..n {
                            let (_, h) = chars.next()?;
                            code = code * 16 + h.to_digit(16)?;
                        }
                        out.push(char::from_u32(code)?);
                    }
                    _ => return None,
                }
            }
            _ => out.push(c),
        }
    }
    None // not closed on this line
}

/// One-line flow collections.
struct Flow<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl Flow<'_> {
    fn skip_space(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn value(&mut self) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.skip_space();
        let v = match self.peek()? {
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_space();
                    if self.peek()? == b']' {
                        self.pos += 1;
                        break;
                    }
                    let item = self.value()?;
                    self.skip_space();
                    if self.peek()? == b':' {
                        return None; // `[a: 1]`, a single-pair map
                    }
                    items.push(item);
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {}
                        _ => return None,
                    }
                }
                Value::Array(items)
            }
            b'{' => {
                self.pos += 1;
                let mut map = Map::new();
                loop {
                    self.skip_space();
                    if self.peek()? == b'}' {
                        self.pos += 1;
                        break;
                    }
                    let Value::String(key) = self.scalar()? else { return None };
                    self.skip_space();
                    if self.peek()? != b':' {
                        return None;
                    }
                    self.pos += 1;
                    if !matches!(self.peek()?, b' ' | b'\t') {
                        return None;
                    }
                    let v = self.value()?;
                    if map.insert(key, v).is_some() {
                        return None;
                    }
                    self.skip_space();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {}
                        _ => return None,
                    }
                }
                Value::Object(map)
            }
            _ => self.scalar()?,
        };
        self.depth -= 1;
        Some(v)
    }

    fn scalar(&mut self) -> Option<Value> {
        let rest = &self.s[self.pos..];
        match rest.as_bytes().first()? {
            b'"' | b'\'' => {
                let (s, len) = quoted(rest)?;
                self.pos += len;
                Some(Value::String(s))
            }
            b'-' if rest.len() > 1
                && !matches!(rest.as_bytes()[1], b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}') =>
            {
                self.plain(rest)
            }
            c if is_indicator(*c) => None,
            _ => self.plain(rest),
        }
    }

    /// A plain scalar in flow context: it ends at `,`, a bracket or `: `.
    fn plain(&mut self, rest: &str) -> Option<Value> {
        let b = rest.as_bytes();
        let mut end = 0;
        while end < b.len() {
            match b[end] {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if end + 1 == b.len() || matches!(b[end + 1], b' ' | b'\t' | b',' | b']' | b'}') => break,
                // libyaml refuses `:` before these inside a flow scalar (`{k: a:?b}`): declined.
                b':' if matches!(b[end + 1], b'?' | b'[' | b'{') => return None,
                b'#' if end > 0 && matches!(b[end - 1], b' ' | b'\t') => return None,
                _ => end += 1,
            }
        }
        let s = rest[..end].trim_end_matches([' ', '\t']);
        if s.is_empty() {
            return None;
        }
        self.pos += end;
        resolve_plain(s)
    }
}

// ---------------------------------------------------------------------------
// Plain scalars, resolved as `yaml_serde` does (and then as strata's value
// visitor accepts them: integers beyond 64 bits and non-finite floats are errors
// there, so they are declined here).

/// The value of a plain scalar; `None` to decline.
pub fn resolve_plain(s: &str) -> Option<Value> {
    let b = s.as_bytes();
    // Fast exit for the common case: words that start with a letter other than the
    // first letters of `null`, `true`, `false` (and their spellings).
    match b[0] {
        b'n' | b'N' | b't' | b'T' | b'f' | b'F' => {}
        c if c.is_ascii_alphabetic() || c == b'/' || c == b'_' || c >= 0x80 => {
            return Some(Value::String(s.to_string()));
        }
        _ => {}
    }
    match s {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    if !(b[0].is_ascii_digit() || matches!(b[0], b'+' | b'-' | b'.')) {
        return Some(Value::String(s.to_string()));
    }
    if let Some(u) = unsigned(s) {
        return Some(Value::Number(u.into()));
    }
    if let Some(i) = negative(s) {
        return Some(Value::Number(i.into()));
    }
    if unsigned_wide(s) || negative_wide(s) {
        return None; // beyond 64 bits: an error in strata's visitor
    }
    if !leading_zero_digits(s) {
        let unsigned = match s.strip_prefix('+') {
            Some(u) if u.starts_with(['+', '-']) => None,
            Some(u) => Some(u),
            None => Some(s),
        };
        if let Some(u) = unsigned {
            if matches!(u, ".inf" | ".Inf" | ".INF")
                || matches!(s, "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN")
            {
                return None; // non-finite: an error in strata's visitor
            }
            if let Ok(f) = u.parse::<f64>()
                && f.is_finite()
            {
                return Some(Value::Number(Number::from_f64(f)?));
            }
        }
    }
    Some(Value::String(s.to_string()))
}

/// `0123`, `-01`: digits after a leading zero are a string (YAML 1.2).
fn leading_zero_digits(s: &str) -> bool {
    let d = s.strip_prefix(['-', '+']).unwrap_or(s);
    d.len() > 1 && d.starts_with('0') && d[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Radix prefixes and the digits after them.
fn radix(s: &str) -> Option<(u32, &str)> {
    for (p, r) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = s.strip_prefix(p) {
            return Some((r, rest));
        }
    }
    None
}

fn unsigned(s: &str) -> Option<u64> {
    let u = s.strip_prefix('+').unwrap_or(s);
    if let Some((r, rest)) = radix(u) {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(n) = u64::from_str_radix(rest, r) {
            return Some(n);
        }
    }
    if u.starts_with(['+', '-']) || leading_zero_digits(s) {
        return None;
    }
    u.parse::<u64>().ok()
}

fn negative(s: &str) -> Option<i64> {
    if let Some(rest) = s.strip_prefix('-')
        && let Some((r, digits)) = radix(rest)
        && let Ok(n) = i64::from_str_radix(&format!("-{digits}"), r)
    {
        return Some(n);
    }
    if leading_zero_digits(s) {
        return None;
    }
    s.parse::<i64>().ok()
}

fn unsigned_wide(s: &str) -> bool {
    let u = s.strip_prefix('+').unwrap_or(s);
    if let Some((r, rest)) = radix(u)
        && !rest.starts_with(['+', '-'])
        && u128::from_str_radix(rest, r).is_ok()
    {
        return true;
    }
    !u.starts_with(['+', '-']) && !leading_zero_digits(s) && u.parse::<u128>().is_ok()
}

fn negative_wide(s: &str) -> bool {
    if let Some(rest) = s.strip_prefix('-')
        && let Some((r, digits)) = radix(rest)
        && i128::from_str_radix(&format!("-{digits}"), r).is_ok()
    {
        return true;
    }
    !leading_zero_digits(s) && s.parse::<i128>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;
    use proptest::prelude::*;

    /// The fast path either declines or agrees with `yaml_serde`.
    fn agrees(text: &str) -> Result<bool, String> {
        let slow = yaml::parse_documents_slow(text);
        match parse_stream(text) {
            None => Ok(false),
            Some(fast) => match slow {
                Ok(s) if s == fast => Ok(true),
                Ok(s) => Err(format!("fast {fast:?}\nslow {s:?}\ntext {text:?}")),
                Err(e) => Err(format!("fast {fast:?}\nslow error {e}\ntext {text:?}")),
            },
        }
    }

    /// (text, whether the fast path must read it rather than decline)
    const CASES: &[(&str, bool)] = &[
        ("", true),
        ("\n", true),
        ("# only a comment\n", true),
        ("---\n", true),
        ("---\n---\n", true),
        ("a: 1\n---\n", true),
        ("# c\n---\na: 1\n", true),
        ("a: 1\n---\n# only\n---\nb: 2", true),
        ("--- # c\na: 1\n", true),
        ("a: 1\nb:\n  c: [x, 'y', \"z\"]\n  d: {e: 1, f: [g]}\n", true),
        ("k: [a, b,]\nl: []\nm: {}\n", true),
        ("a:\n- 1\n- 2\nb: 3\n", true),
        ("a:\n  - x: 1\n    y: 2\n  -   z: 3\n      w: 4\n  -\n    v: 5\n  -\n", true),
        ("- a\n- - b\n  - c\n", true),
        ("- a\n -b\n", false),
        ("a: |\n  x\n\n\nb: 1\n", true),
        ("a: |+\n  x\n\n\nb: 1\n", true),
        ("a: |-\n  x\n  \n", true),
        ("a: |+\n  x\n\n# c\nb: 1\n", true),
        ("a: |+\n  x\n\n  # c\nb: 1\n", true),
        ("a: |\n  x\n   \nb: 1\n", true),
        ("a: |\n\n  x\n    y\n  z\n", true),
        ("a: |2\n   x\n", true),
        ("a: |-2\n   x\n", true),
        ("- |2\n   x\n", true),
        ("a:\n- |2\n   x\n", true),
        ("a: |\n  no final newline", true),
        ("a: |+\n  x\n\n", true),
        ("a: |\n  x\n \t\n", false),
        ("a: 1\n\t\n", false),
        ("-x: 1\n?y: 2\n:z: 3\n", true),
        ("a: |\nb: 1\n", false),
        ("a: |\n    x\n  y\n", false),
        ("a: >\n  folded\n", false),
        ("a: 012\nb: 0x1F\nc: 1e3\nd: +1\ne: .5\nf: 1_000\ng: -0\nh: 0.0\ni: 1.\nj: 9223372036854775808\n", true),
        ("a: -0x10\nb: 0o17\nc: 0b101\nd: 1e400\ne: 00\nf: -01\ng: +.5\nh: 1e\ni: Infinity\nj: +-1\nk: 0x\n", true),
        ("a: ~\nb: Null\nc: NULL\nd: True\ne: FALSE\nf: yes\ng: On\nh: 2024-01-01\ni: --\nj: -v\nk: :x\nl: ?x\n", true),
        ("a: .inf\n", false),
        ("a: .NaN\n", false),
        ("a: 99999999999999999999\n", false),
        ("a: -99999999999999999999\n", false),
        ("a: \"\\x41\\u00e9\\N\\t\\\\\\\"\"\nb: 'it''s'\nc: \"\"\nd: ''\n", true),
        ("a: \"\\q\"\n", false),
        ("a: x\t# c\nb:\tc\n", true),
        ("a: x # c\nb: x#y\nc: http://x:80/p?q=1#f\nd: a: b\n", false),
        ("a: x # c\nb: x#y\nc: http://x:80/p?q=1#f\n", true),
        ("a: b\n  c\n", false),
        ("a: 'multi\n  line'\n", false),
        ("a: [x,\n  y]\n", false),
        ("a: &x 1\nb: *x\n", false),
        ("a: !!str 1\n", false),
        ("? a\n: b\n", false),
        ("a: 1\na: 2\n", false),
        ("1: a\n", false),
        ("null: a\n", false),
        ("\"quoted key\": 1\n'k:2': x\n", true),
        ("a b: c d\n", true),
        ("a:b: c\n", true),
        ("%YAML 1.2\n---\na: 1\n", false),
        ("a: 1\n...\n", false),
        ("a: 1\r\nb: 2\r\n", false),
        ("a:\n\t- 1\n", false),
        ("  a: 1\n  b: 2\n", true),
        ("  a: 1\nb: 2\n", false),
        ("a:\n  b: 1\n c: 2\n", false),
        ("- a\nb: 1\n", false),
        ("a: 1\n- b\n", false),
        ("just a scalar\n", false),
        ("a: [a: 1]\n", false),
        ("a: {b}\n", false),
        ("a: [-1, -x, \"q\"]\n", true),
        ("a: [-x, b]\n", true),
        ("a: - b\n", false),
        ("a: -\n", false),
        ("k: [a, b] extra\n", false),
        ("a: 'x' # c\nb: \"y\"   \n", true),
        ("a: 'x' y\n", false),
        ("a: \u{7f}\n", false),
        ("a: é日本\n", true),
        ("a: \u{85}x\n", false),
        // Found by `cargo fuzz` (block_yaml): `:?` inside a flow scalar is an error to libyaml.
        ("- {name: A, value::?x: a}\n", false),
        ("k: [a:?b]\n", false),
        ("k: [a:[b]]\n", false),
    ];

    #[test]
    fn reads_block_yaml_like_yaml_serde() {
        let mut wrong = Vec::new();
        let samples = SAMPLES.iter().map(|s| (*s, true));
        for (text, read) in CASES.iter().copied().chain(samples) {
            match agrees(text) {
                Err(e) => wrong.push(e),
                Ok(r) if r != read => {
                    wrong.push(format!("{text:?}: fast path {} it", if r { "read" } else { "declined" }))
                }
                Ok(_) => {}
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    }

    const SAMPLES: &[&str] = &[
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web # the name\n  labels:\n    app: web\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: app\n          image: \"nginx:1.25\"\n          args: [\"--port=80\", -v]\n          ports:\n            - containerPort: 80\n          resources: {}\n",
        "data:\n  conf: |\n    line one\n      indented\n\n    # not a comment\n    last\n  keep: |+\n    a\n\n  strip: |-\n    b\n  two: |2\n      c\nnext: 'it''s'\n",
        "list:\n- a\n- b: 1\n  c: [x, {y: z}]\n-\n  - nested\n  - 0x1F\nafter: ~\n---\n# second\nk: \"esc\\t\\u00e9\"\n",
        "a:\n  b:\n    c: 1.5e3\n  d: -012\n  e: true\n  'f g': null\n  h: 'x: y'\n  i: http://x:80/#frag\n",
    ];

    fn word() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "a",
                "name",
                "on",
                "y",
                "null",
                "~",
                "True",
                "012",
                "0x1F",
                "1_000",
                "1e3",
                "-1",
                "+1",
                ".5",
                ".inf",
                "1:20",
                "a b",
                "-",
                "-x",
                "?x",
                ":x",
                "a: b",
                "a #b",
                "#x",
                "&a",
                "*a",
                "!t",
                "|",
                ">",
                "'",
                "\"",
                "[a]",
                "{a}",
                "a,b",
                "---",
                "...",
                "é",
                "\u{85}",
                "a\tb",
                " a",
                "a ",
                "",
                "it's",
                "say \"hi\"",
            ])
            .prop_map(String::from),
            "[a-z0-9:#\\- .'\"\\[\\]{},|>&*!]{0,8}",
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            (-1e6f64..1e6).prop_map(|f| Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)),
            word().prop_map(Value::String),
            prop::collection::vec(word(), 1..4).prop_map(|ls| Value::String(ls.join("\n"))),
            prop::collection::vec(word(), 1..4).prop_map(|ls| Value::String(ls.join("\n") + "\n\n")),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((word(), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn document() -> impl Strategy<Value = Value> {
        prop::collection::vec((word(), value()), 1..5).prop_map(|kv| Value::Object(kv.into_iter().collect()))
    }

    /// Small edits that turn valid YAML into the cases parsers get wrong.
    fn mutate(text: &str, edits: &[(usize, usize)]) -> String {
        const INSERTS: &[&str] = &[
            " ", "  ", ":", ": ", "#", " #", "-", "- ", "\n", "\n  ", "'", "\"", "|", "|-", "|+", "|2", ">", "[", "]",
            "{", "}", ",", "\t", "---\n", "&a ", "*a", "!t ", "? ", "\\", "x", "\n- ", "0", ".",
        ];
        let mut s = text.to_string();
        for &(at, what) in edits {
            let mut at = at % (s.len() + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            if what % 5 == 0 && at < s.len() {
                let mut end = at + 1;
                while !s.is_char_boundary(end) {
                    end += 1;
                }
                s.replace_range(at..end, "");
            } else {
                s.insert_str(at, INSERTS[what % INSERTS.len()]);
            }
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: std::env::var("BLOCK_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2000), ..ProptestConfig::default() })]

        /// strata's own output is always read by the fast path, correctly.
        #[test]
        fn reads_what_strata_emits(docs in prop::collection::vec(document(), 1..4)) {
            let mut text = String::new();
            for d in &docs {
                text.push_str("---\n");
                yaml::write_document(&mut text, d);
            }
            let fast = parse_stream(&text);
            prop_assert_eq!(fast.as_ref(), Some(&docs), "text:\n{}", text);
        }

        /// Whatever yaml_serde's emitter writes, the fast path reads the same or declines.
        #[test]
        fn agrees_on_yaml_serde_output(doc in document()) {
            let text = serde_yaml::to_string(&doc).expect("emits");
            agrees(&text).map_err(TestCaseError::fail)?;
        }

        /// Mutated hand-written YAML (flow collections, comments, literal blocks,
        /// sequences at their key's indentation, quoting): the same promise.
        #[test]
        fn agrees_or_declines_on_mutated_samples(i in 0..SAMPLES.len(), edits in prop::collection::vec((any::<usize>(), any::<usize>()), 1..4)) {
            let text = mutate(SAMPLES[i], &edits);
            agrees(&text).map_err(TestCaseError::fail)?;
        }

        /// Mutated documents: any value the fast path returns is yaml_serde's.
        #[test]
        fn agrees_or_declines_on_mutations(doc in document(), edits in prop::collection::vec((any::<usize>(), any::<usize>()), 1..4)) {
            let text = mutate(&yaml::to_string(&doc), &edits);
            agrees(&text).map_err(TestCaseError::fail)?;
        }
    }
}
