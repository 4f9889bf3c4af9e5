//! Nesting depth, checked in one linear pass before `yaml_serde` reads a text.
//!
//! libyaml (under `yaml_serde`) keeps one entry per open flow collection and
//! walks all of them for every token, so `[[[[…]]]]` 100,000 levels deep took
//! more than 20 seconds before its recursion limit refused it; and the
//! deserializer applies that limit only after loading a whole document's events.
//! [`check`] finds the first collection (flow, or block: an entry or a key indented
//! more than the one before) nested deeper than [`MAX_DEPTH`] and refuses the
//! text there, with its line and column, before libyaml sees it. What the scan
//! does not count (a block sequence at its key's indentation) the deserializer's
//! own limit (the same number) refuses, and [`super::parse`] words it the same way.
//!
//! The scan follows libyaml's tokenizer where it matters, so that a bracket
//! counts only where libyaml would open a flow collection: comments, quoted
//! scalars (also over several lines), block scalars (`|`, `>`), plain scalars
//! (where `[` and `{` are text in block context, also on continuation lines),
//! anchors, aliases and tags are skipped. It never counts deeper than the
//! nesting `yaml_serde` would build, so nothing it accepts today is refused.

use super::YamlError;

/// The deepest nesting of collections any YAML text may have: `yaml_serde`'s own
/// recursion limit, so no text it reads is refused by the scan.
pub const MAX_DEPTH: usize = 128;

/// Refuses `text` when collections in it nest deeper than [`MAX_DEPTH`].
pub fn check(text: &str) -> Result<(), YamlError> {
    let mut scan = Scan { depth: 0, blocks: Vec::new(), quote: None, block_scalar: None, plain_parent: None };
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        scan.line(line.as_bytes()).map_err(|at| too_deep(i + 1, line[..at].chars().count() + 1))?;
    }
    Ok(())
}

/// The error for nesting deeper than [`MAX_DEPTH`] at a 1-based line and column.
pub fn too_deep(line: usize, col: usize) -> YamlError {
    YamlError { message: format!("collections nest deeper than {MAX_DEPTH} levels"), line: Some(line), col: Some(col) }
}

/// What carries over from one line to the next.
struct Scan {
    /// Open flow collections.
    depth: usize,
    /// The columns of the open block collections (libyaml's indentation stack).
    blocks: Vec<usize>,
    /// Inside a quoted scalar that goes on past the line (`'` or `"`).
    quote: Option<u8>,
    /// Inside a block scalar's content.
    block_scalar: Option<BlockScalar>,
    /// A plain scalar in block context ended the last line; lines indented
    /// more than this column continue it.
    plain_parent: Option<isize>,
}

#[derive(Clone, Copy)]
struct BlockScalar {
    /// The column of the node the scalar belongs to: content is indented more.
    parent: isize,
    /// The content's indentation, once known (explicit, or the first non-empty line's).
    indent: Option<usize>,
}

impl Scan {
    /// Scans one line (without its break); `Err(column)` at a bracket too deep.
    fn line(&mut self, b: &[u8]) -> Result<(), usize> {
        let indent = b.iter().take_while(|&&c| c == b' ').count();
        let blank = b[indent..].iter().all(|&c| c == b' ' || c == b'\t');
        if let Some(bs) = &mut self.block_scalar {
            match bs.indent {
                _ if blank => return Ok(()),
                Some(n) if indent >= n => return Ok(()),
                None if indent as isize > bs.parent => {
                    bs.indent = Some(indent);
                    return Ok(());
                }
                _ => self.block_scalar = None,
            }
        }
        let mut i = 0;
        if let Some(q) = self.quote {
            match skip_quoted(b, 0, q) {
                Some(end) => {
                    self.quote = None;
                    i = end;
                }
                None => return Ok(()),
            }
        } else if self.depth == 0 {
            if is_marker(b) {
                self.plain_parent = None;
                self.blocks.clear();
                i = 3;
            } else if b.first() == Some(&b'%') {
                return Ok(());
            }
            match self.plain_parent.take() {
                Some(p) if !blank && indent as isize > p && b[indent] != b'#' => {
                    // A continuation line of a plain scalar: text up to a comment.
                    self.plain_parent = Some(p);
                    return Ok(());
                }
                Some(p) if blank => self.plain_parent = Some(p),
                _ => {}
            }
            if !blank && b[indent] != b'#' {
                // A line's first token closes the block collections indented more.
                while self.blocks.last().is_some_and(|&c| c > indent) {
                    self.blocks.pop();
                }
            }
        }
        self.tokens(b, i)
    }

    /// A block collection may start at column `i` (an entry, or a key): it opens
    /// one when indented more than the innermost one, as libyaml's indentation does.
    fn block_node(&mut self, i: usize) -> Result<isize, usize> {
        if self.blocks.last().is_none_or(|&c| c < i) {
            self.blocks.push(i);
            if self.blocks.len() + self.depth > MAX_DEPTH {
                return Err(i);
            }
        }
        Ok(i as isize)
    }

    /// Scans the tokens of a line from byte `i`.
    fn tokens(&mut self, b: &[u8], mut i: usize) -> Result<(), usize> {
        // The column of the block node the line's values belong to.
        let mut node = b.iter().take_while(|&&c| c == b' ').count() as isize - 1;
        while i < b.len() {
            let c = b[i];
            let next = b.get(i + 1).copied();
            let blank_after = next.is_none_or(|n| n == b' ' || n == b'\t');
            let flow = self.depth > 0;
            match c {
                b' ' | b'\t' => i += 1,
                b'#' => return Ok(()),
                b'[' | b'{' => {
                    self.depth += 1;
                    if self.depth + self.blocks.len() > MAX_DEPTH {
                        return Err(i);
                    }
                    i += 1;
                }
                b']' | b'}' => {
                    self.depth = self.depth.saturating_sub(1);
                    i += 1;
                }
                b',' if flow => i += 1,
                b'-' | b'?' if blank_after && !flow => {
                    node = self.block_node(i)?;
                    i += 1;
                }
                b'?' | b':' if blank_after || flow => i += 1,
                b'\'' | b'"' => match skip_quoted(b, i + 1, c) {
                    Some(end) => {
                        if !flow && is_key_end(b, end) {
                            node = self.block_node(i)?;
                        }
                        i = end;
                    }
                    None => {
                        self.quote = Some(c);
                        return Ok(());
                    }
                },
                b'&' | b'*' | b'!' => i = skip_property(b, i + 1),
                b'|' | b'>' if !flow => {
                    self.block_scalar = Some(BlockScalar { parent: node, indent: explicit_indent(b, i + 1, node) });
                    return Ok(());
                }
                _ => {
                    let (end, key) = skip_plain(b, i, flow);
                    if !flow && key {
                        node = self.block_node(i)?;
                    } else if !flow && end == b.len() {
                        self.plain_parent = Some(node);
                    }
                    i = end;
                }
            }
        }
        Ok(())
    }
}

/// Whether a `: ` (a key's end) follows byte `i`, after blanks.
fn is_key_end(b: &[u8], i: usize) -> bool {
    let rest = &b[i..];
    let n = rest.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    rest.get(n) == Some(&b':') && rest.get(n + 1).is_none_or(|&c| c == b' ' || c == b'\t')
}

/// `---` or `...` at the start of a line, alone or followed by a blank.
fn is_marker(b: &[u8]) -> bool {
    (b.starts_with(b"---") || b.starts_with(b"...")) && b.get(3).is_none_or(|&c| c == b' ' || c == b'\t')
}

/// The byte after the closing quote of a scalar whose content starts at `i`;
/// `None` when it does not close on this line.
fn skip_quoted(b: &[u8], mut i: usize, q: u8) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' if q == b'"' => i += 2,
            b'\'' if q == b'\'' && b.get(i + 1) == Some(&b'\'') => i += 2,
            c if c == q => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of an anchor, alias or tag name starting at `i` (libyaml: anchors are
/// letters, digits, `-` and `_`; tags also take URI characters, brackets included).
fn skip_property(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// A block scalar header's explicit indentation (`|2`, `>-1`): the content's
/// indentation, counted from the parent node's column.
fn explicit_indent(b: &[u8], i: usize, parent: isize) -> Option<usize> {
    let header = &b[i..b.len().min(i + 2)];
    let digit = header.iter().find(|c| c.is_ascii_digit())?;
    Some((parent.max(0) + (digit - b'0') as isize) as usize)
}

/// The end of a plain scalar starting at `i`, and whether it is a key (`: ` follows).
/// In block context it runs to `: `, ` #` or the end of the line; in flow context
/// flow indicators end it too.
fn skip_plain(b: &[u8], mut i: usize, flow: bool) -> (usize, bool) {
    let start = i;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        match c {
            b':' if next.is_none_or(|n| n == b' ' || n == b'\t' || flow && b",[]{}".contains(&n)) => {
                return (i, true);
            }
            b'#' if i > start && matches!(b[i - 1], b' ' | b'\t') => return (i, false),
            b',' | b'[' | b']' | b'{' | b'}' if flow => return (i, false),
            _ => i += 1,
        }
    }
    (i, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(text: &str) -> bool {
        check(text).is_ok()
    }

    fn nested(n: usize) -> String {
        format!("deep: {}{}\n", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn deep_flow_nesting_is_refused_at_the_bracket() {
        // The mapping holding `deep` is the first level.
        assert!(depth_ok(&nested(MAX_DEPTH - 1)));
        let e = check(&format!("a: 1\n{}", nested(MAX_DEPTH))).unwrap_err();
        assert_eq!((e.line, e.col), (Some(2), Some(6 + MAX_DEPTH)), "{e:?}");
        assert!(e.message.contains("deeper than 128 levels"), "{e:?}");
        // Over several lines, in JSON, in a mapping.
        let json = format!("{}1{}", "{\"a\":\n".repeat(200), "}".repeat(200));
        assert!(!depth_ok(&json));
    }

    /// Around the limit, in every shape: the scan refuses only what `yaml_serde`
    /// refuses too, and refuses the block shapes it counts before `yaml_serde` runs.
    #[test]
    fn the_limit_is_yaml_serdes() {
        type Shape = (&'static str, fn(usize) -> String);
        let shapes: [Shape; 6] = [
            ("flow", |d| format!("{}1{}\n", "[".repeat(d), "]".repeat(d))),
            ("flow under a key", |d| format!("k: {}1{}\n", "[".repeat(d), "]".repeat(d))),
            ("compact", |d| format!("{}x\n", "- ".repeat(d))),
            ("keys", |d| {
                (0..d).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect::<String>() + &" ".repeat(d) + "v\n"
            }),
            ("entries", |d| (0..d).map(|i| format!("{}- k:\n", "  ".repeat(i))).collect::<String>()),
            ("mixed", |d| format!("{}{}1{}\n", "- ".repeat(d / 2), "[".repeat(d - d / 2), "]".repeat(d - d / 2))),
        ];
        for (name, make) in shapes {
            for d in 120..140 {
                let text = make(d);
                let (scan, serde) = (check(&text).is_ok(), crate::yaml::parse_documents_slow(&text).is_ok());
                assert!(scan || !serde, "{name} {d}: the scan refuses what yaml_serde reads");
                if d > MAX_DEPTH + 1 && name != "entries" {
                    assert!(!scan, "{name} {d}: not refused by the scan");
                }
            }
        }
    }

    #[test]
    fn brackets_in_text_do_not_count() {
        let deep = "[".repeat(300);
        let texts = [
            format!("a: '{deep}'\n"),
            format!("a: \"{deep}\\\"\"\n"),
            format!("a: \"x\n  {deep}\n  \"\n"),
            format!("a: 'it''s\n  {deep}'\n"),
            format!("a: x{deep}\n"),
            format!("a: x\n  {deep}\n  more {deep}\n"),
            format!("# {deep}\na: 1 # {deep}\n"),
            format!("a: |\n  {deep}\n  {deep}\n\n  x\nb: 1\n"),
            format!("- key: >-\n    {deep}\n  other: 1\n"),
            format!("a: |2\n   {deep}\n"),
            format!("a: &x{deep} 1\nb: !t{deep} 2\n"),
            format!("a: [x, 'y{deep}', \"{deep}\"]\n"),
        ];
        for t in texts {
            assert!(depth_ok(&t), "{t}");
        }
    }

    #[test]
    fn text_that_looks_like_a_scalar_but_is_not_still_counts() {
        let deep = "[".repeat(200);
        let texts = [
            // The block scalar ends where a key at the parent's indentation starts.
            format!("- key: |\n    text\n  other: {deep}\n"),
            // A comment line ends a plain scalar; the next line is a key again.
            format!("a: x\n# c\nb: {deep}\n"),
            // After a quoted scalar closes on a later line.
            format!("a: 'x\n  y'\nb: {deep}\n"),
            format!("--- {deep}\n"),
        ];
        for t in texts {
            assert!(!depth_ok(&t), "{t}");
        }
    }

    /// No false refusals: every YAML and JSON file of the project that `yaml_serde`
    /// reads (fixtures, kustomize cases, the example repository) passes the scan.
    #[test]
    fn every_file_yaml_serde_reads_passes() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml" || x == "json") {
                    out.push(p);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for d in ["tests", "example-repo", "schemas", "src"] {
            walk(&root.join(d), &mut files);
        }
        let mut read = 0;
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else { continue };
            if crate::yaml::parse_documents_slow(&text).is_ok() {
                read += 1;
                assert!(check(&text).is_ok(), "{}: {:?}", f.display(), check(&text));
            }
        }
        assert!(read > 100, "only {read} files read");
    }
}
