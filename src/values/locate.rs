//! Finds the line and column of a key path in YAML text, for messages.
//!
//! A light scan of block-style YAML: it follows indentation, `- ` list items and
//! quoted keys. Flow collections (`{a: 1}`) are not entered; then the deepest
//! key found is returned, which still points the user at the right place.

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
    fn does_not_match_keys_of_siblings() {
        let t = "a:\n  x: 1\nb:\n  x: 2\n";
        assert_eq!(loc(t, "b.x"), Some((4, 3)));
    }
}
