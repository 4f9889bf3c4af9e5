//! One-line flow collections: `[a, b]`, `{a: 1}`.

use serde_json::{Map, Value};

use super::MAX_DEPTH;
use super::scalar::{is_indicator, quoted, resolve_plain};

/// One-line flow collections.
pub(super) struct Flow<'a> {
    pub(super) s: &'a str,
    pub(super) pos: usize,
    pub(super) depth: usize,
}

impl Flow<'_> {
    pub(super) fn skip_space(&mut self) {
        let rest = &self.s[self.pos..];
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t']).len();
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(super) fn value(&mut self) -> Option<Value> {
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
