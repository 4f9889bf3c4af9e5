//! Positions in YAML text, for messages: the one place that finds where a key
//! path, a document or a block scalar sits in a file.
//!
//! A light scan of block-style YAML: it follows indentation, `- ` list items and
//! quoted keys, and finds the items of one-line flow sequences (`[a, b]`). Flow
//! mappings (`{a: 1}`) are not entered; then the deepest key found is returned,
//! which still points the user at the right place. Positions are 1-based.

/// 1-based (line, column) of the key at `path`, or of its deepest ancestor found.
pub fn locate(text: &str, path: &[String]) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut best = None;
    // The region we search: lines [start, end) with content indented more than `parent`.
    let mut start = 0usize;
    let mut parent: isize = -1;
    // When entering a list item, the item's first key sits on the `- ` line itself.
    let mut inline_first: Option<(usize, usize)> = None;
    for (depth, seg) in path.iter().enumerate() {
        let mut level: Option<usize> = None;
        let mut found = None;
        let mut item_count = 0usize;
        let want_index = seg.parse::<usize>().ok();
        let mut i = start;
        while i < lines.len() {
            let (ind, content) = match (inline_first, i == start) {
                (Some((l, col)), true) if l == i => (col, &lines[i][col..]),
                _ => {
                    let raw = lines[i];
                    let trimmed = raw.trim_start_matches(' ');
                    (raw.len() - trimmed.len(), trimmed)
                }
            };
            if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
                i += 1;
                continue;
            }
            // A list may sit at its key's own indentation (`key:\n- item`).
            let same_level_item =
                want_index.is_some() && ind as isize == parent && (content.starts_with("- ") || content == "-");
            if (ind as isize) <= parent && !same_level_item {
                break;
            }
            let lvl = *level.get_or_insert(ind);
            if ind < lvl {
                break;
            }
            if ind == lvl {
                if let Some(rest) = content.strip_prefix("- ").or(if content == "-" { Some("") } else { None }) {
                    if want_index == Some(item_count) {
                        let col = ind + 2 + (rest.len() - rest.trim_start().len());
                        found = Some((i, col, !rest.trim().is_empty()));
                        break;
                    }
                    item_count += 1;
                } else if key_of(content).as_deref() == Some(seg.as_str()) {
                    found = Some((i, ind, false));
                    break;
                }
            }
            i += 1;
        }
        let Some((line, col, inline)) = found else { return best };
        best = Some((line + 1, col + 1));
        if depth + 1 == path.len() {
            return best;
        }
        // `key: [a, b]`: the next segment is an item of a one-line flow sequence.
        if !inline && let Some(item) = path[depth + 1].parse::<usize>().ok().and_then(|n| flow_item(lines[line], n)) {
            return Some((line + 1, item + 1));
        }
        if inline {
            // A list item whose first key is on the `- ` line.
            inline_first = Some((line, col));
            start = line;
            parent = col as isize - 1;
        } else {
            inline_first = None;
            start = line + 1;
            parent = col as isize;
        }
    }
    best
}

/// 0-based character column of item `n` of the one-line flow sequence that is the
/// value of the key on `line` (`key: [a, b]`), if there is one.
fn flow_item(line: &str, n: usize) -> Option<usize> {
    let (_, value) = line.split_once(':')?;
    let open = line.len() - value.trim_start().len();
    if !line[open..].starts_with('[') {
        return None;
    }
    let (mut depth, mut quote, mut index, mut at_item_start) = (0usize, None, 0usize, false);
    for (i, c) in line.char_indices().skip_while(|(i, _)| *i < open) {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            continue;
        }
        if depth == 1 && at_item_start && !matches!(c, ' ' | '\t' | ',' | ']') {
            if index == n {
                return Some(line[..i].chars().count());
            }
            at_item_start = false;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '[' | '{' => {
                depth += 1;
                at_item_start |= depth == 1;
            }
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return None; // fewer than `n + 1` items
                }
            }
            ',' if depth == 1 => {
                index += 1;
                at_item_start = true;
            }
            _ => {}
        }
    }
    None
}

/// 1-based first line of each document of a YAML stream (the line after a `---`).
pub fn document_lines(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    let mut first_content_seen = false;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("---") {
            if first_content_seen {
                starts.push(i + 2);
            } else {
                starts[0] = i + 2;
            }
            first_content_seen = true;
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            first_content_seen = true;
        }
    }
    starts
}

/// Where the scalar value of a key path is written, to map positions inside the
/// value (an inline patch under `patch: |`) to positions in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScalarValue {
    /// The key (or list item) holding the value; (1, 1) when it is not found.
    pub key: (usize, usize),
    /// Whether the value is a literal block (`|`), whose lines are the file's lines.
    pub literal: bool,
    /// Indentation of the first non-blank line after the key: where a block's text starts.
    pub indent: usize,
}

/// The [`ScalarValue`] of `path` in `text`.
pub fn scalar_value(text: &str, path: &[String]) -> ScalarValue {
    let (line, col) = locate(text, path).unwrap_or((1, 1));
    let key_line = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    // The value follows the key's colon, or the dash of a list item.
    let after = if path.last().is_some_and(|s| s.parse::<usize>().is_ok()) {
        key_line.trim_start().strip_prefix('-').unwrap_or("").trim_start()
    } else {
        key_line.split_once(':').map(|(_, r)| r.trim_start()).unwrap_or("")
    };
    let indent =
        text.lines().skip(line).find(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).unwrap_or(0);
    ScalarValue { key: (line, col), literal: after.starts_with('|'), indent }
}

/// The text of the plain scalar written on the line of the key at `path` (`port: 8080`
/// gives `8080`), without a trailing comment; `None` when the key is not written
/// there, or its value is quoted, a block, a flow collection, an alias or tagged.
pub fn plain_scalar_text(text: &str, path: &[String]) -> Option<String> {
    let (line, col) = locate(text, path)?;
    let key = path.last()?;
    let content = text.lines().nth(line - 1)?.get(col - 1..)?;
    if key_of(content).as_deref() != Some(key.as_str()) {
        return None;
    }
    let after_key = match content.chars().next() {
        Some(q @ ('"' | '\'')) => &content[1 + content[1..].find(q)? + 1..],
        _ => content,
    };
    let value = after_key.split_once(':')?.1;
    let value = match value.find(" #") {
        Some(i) => &value[..i],
        None => value,
    }
    .trim();
    let special = ['"', '\'', '|', '>', '{', '[', '&', '*', '!'];
    (!value.is_empty() && !value.starts_with(special)).then(|| value.to_string())
}

fn key_of(content: &str) -> Option<String> {
    let (key, rest) = if let Some(q) = content.strip_prefix('"') {
        let end = q.find('"')?;
        (q[..end].to_string(), &q[end + 1..])
    } else if let Some(q) = content.strip_prefix('\'') {
        let end = q.find('\'')?;
        (q[..end].to_string(), &q[end + 1..])
    } else {
        let end = content.find(": ").or_else(|| content.strip_suffix(':').map(|s| s.len()))?;
        let end = if content[..end].contains(" #") { return None } else { end };
        (content[..end].trim_end().to_string(), &content[end..])
    };
    rest.trim_start().starts_with(':').then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(text: &str, path: &str) -> Option<(usize, usize)> {
        let p: Vec<String> = path.split('.').map(String::from).collect();
        locate(text, &p)
    }

    #[test]
    fn finds_nested_keys_and_list_items() {
        let t = "# top\nimage:\n  repo: x\n  tag: \"1\"\nports:\n  - name: http\n    port: 80\n  - name: metrics\n    port: 9090\n\"quoted\": 1\nempty:\n";
        assert_eq!(loc(t, "image.tag"), Some((4, 3)));
        assert_eq!(loc(t, "ports.1.port"), Some((9, 5)));
        assert_eq!(loc(t, "ports.0.name"), Some((6, 5)));
        assert_eq!(loc(t, "quoted"), Some((10, 1)));
        assert_eq!(loc(t, "empty"), Some((11, 1)));
        // The deepest ancestor when the leaf is in flow style.
        assert_eq!(loc("a:\n  b: {c: 1}\n", "a.b.c"), Some((2, 3)));
        assert_eq!(loc(t, "nope"), None);
    }

    #[test]
    fn finds_items_of_lists_at_their_key_indentation() {
        let t = "patches:\n- path: a.yaml\n- target:\n    kind: X\n  patch: |\n    y\nimages:\n- name: n\n";
        assert_eq!(loc(t, "patches.1.target.kind"), Some((4, 5)));
        assert_eq!(loc(t, "patches.1.patch"), Some((5, 3)));
        assert_eq!(loc(t, "images.0.name"), Some((8, 3)));
        assert_eq!(loc(t, "images.1"), Some((7, 1)));
    }

    #[test]
    fn finds_items_of_flow_sequences() {
        assert_eq!(loc("dependsOn: [database, db]\n", "dependsOn.1"), Some((1, 23)));
        assert_eq!(loc("a:\n  b: ['x, y', [1, 2], z]\n", "a.b.2"), Some((2, 23)));
        assert_eq!(loc("a:\n  b: ['x, y', [1, 2], z]\n", "a.b.1"), Some((2, 15)));
        // Past the end: the key.
        assert_eq!(loc("a: [x]\n", "a.1"), Some((1, 1)));
        assert_eq!(loc("a: []\n", "a.0"), Some((1, 1)));
    }

    #[test]
    fn finds_document_starts_and_literal_blocks() {
        assert_eq!(document_lines("a: 1\n---\nb: 2\n"), vec![1, 3]);
        assert_eq!(document_lines("# c\n---\nb: 2\n"), vec![3]);
        let t = "patches:\n- patch: |\n    kind: X\n";
        let v = scalar_value(t, &["patches".into(), "0".into(), "patch".into()]);
        assert_eq!(v, ScalarValue { key: (2, 3), literal: true, indent: 4 });
    }

    #[test]
    fn plain_scalars_as_written() {
        let t = "metadata:\n  annotations:\n    port: 8080\n    f: 1.50 # ratio\n    \"q\": True\n    s: \"x\"\n    m: {a: 1}\n    e:\n";
        let text = |k: &str| plain_scalar_text(t, &["metadata".to_string(), "annotations".to_string(), k.to_string()]);
        assert_eq!(text("port").as_deref(), Some("8080"));
        assert_eq!(text("f").as_deref(), Some("1.50"));
        assert_eq!(text("q").as_deref(), Some("True"));
        assert_eq!((text("s"), text("m"), text("e"), text("nope")), (None, None, None, None));
    }

    #[test]
    fn does_not_match_keys_of_siblings() {
        let t = "a:\n  x: 1\nb:\n  x: 2\n";
        assert_eq!(loc(t, "b.x"), Some((4, 3)));
    }
}
