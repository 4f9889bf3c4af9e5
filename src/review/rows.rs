//! A unified diff as rows for the page, with word-level highlighting.
//!
//! In: the unified diff text of one object, exactly as the text report prints it
//! (Secrets masked the same way). Out: rows `[tag, plain, emphasized, plain, …]`:
//! `tag` is `@` (hunk header), ` ` (context), `-` or `+`; the segments alternate,
//! starting with plain text, and join to the line. A run of removed lines followed
//! by added lines is paired line by line, and each pair is compared word by word
//! (`similar`), so that only the words that changed are emphasized. The page
//! draws unified and side-by-side views from the same rows.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

/// Lines longer than this are not compared word by word (a CA bundle on one line).
const MAX_WORD_DIFF: usize = 2_000;

/// The rows of a unified diff (its `---` / `+++` header left out).
pub fn rows(diff: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let lines: Vec<&str> = diff.lines().filter(|l| !l.starts_with("--- ") && !l.starts_with("+++ ")).collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with('-') {
            let removed: Vec<&str> = lines[i..].iter().take_while(|l| l.starts_with('-')).map(|l| &l[1..]).collect();
            let j = i + removed.len();
            let added: Vec<&str> = lines[j..].iter().take_while(|l| l.starts_with('+')).map(|l| &l[1..]).collect();
            out.extend(paired(&removed, &added));
            i = j + added.len();
            continue;
        }
        let (tag, text) = match line.chars().next() {
            Some('@') => ("@", line),
            Some('+') => ("+", &line[1..]),
            Some(' ') => (" ", &line[1..]),
            _ => (" ", line),
        };
        out.push(row(tag, vec![text.to_string()]));
        i += 1;
    }
    out
}

/// Removed lines, then added lines; pairs compared word by word.
fn paired(removed: &[&str], added: &[&str]) -> Vec<Value> {
    let mut minus = Vec::with_capacity(removed.len());
    let mut plus = Vec::with_capacity(added.len());
    for k in 0..removed.len().max(added.len()) {
        match (removed.get(k), added.get(k)) {
            (Some(r), Some(a)) => {
                let (rs, as_) = words(r, a);
                minus.push(row("-", rs));
                plus.push(row("+", as_));
            }
            (Some(r), None) => minus.push(row("-", vec![r.to_string()])),
            (None, Some(a)) => plus.push(row("+", vec![a.to_string()])),
            (None, None) => {}
        }
    }
    minus.extend(plus);
    minus
}

/// The segments of two lines: plain and emphasized text, alternating.
fn words(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    if old.len() > MAX_WORD_DIFF || new.len() > MAX_WORD_DIFF {
        return (vec![old.to_string()], vec![new.to_string()]);
    }
    let diff = TextDiff::from_words(old, new);
    let (mut o, mut n) = (Segments::default(), Segments::default());
    for change in diff.iter_all_changes() {
        let v = change.value();
        match change.tag() {
            ChangeTag::Equal => {
                o.push(v, false);
                n.push(v, false);
            }
            ChangeTag::Delete => o.push(v, true),
            ChangeTag::Insert => n.push(v, true),
        }
    }
    (o.0, n.0)
}

/// Alternating plain / emphasized segments, starting with plain.
#[derive(Default)]
struct Segments(Vec<String>);

impl Segments {
    fn push(&mut self, text: &str, emphasized: bool) {
        // Index parity says which: even plain, odd emphasized.
        let want_odd = emphasized;
        if self.0.is_empty() {
            self.0.push(String::new());
        }
        if self.0.len().is_multiple_of(2) == want_odd {
            self.0.last_mut().expect("not empty").push_str(text);
        } else {
            self.0.push(text.to_string());
        }
    }
}

fn row(tag: &str, segments: Vec<String>) -> Value {
    let mut v = vec![Value::from(tag)];
    v.extend(segments.into_iter().map(Value::from));
    Value::Array(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pairs_changed_lines_and_emphasizes_the_changed_words() {
        let diff = "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a: 1\n-image: web:1.4 # pinned\n+image: web:1.5 # pinned\n+extra: true\n";
        let r = rows(diff);
        assert_eq!(
            r,
            vec![
                json!(["@", "@@ -1,3 +1,3 @@"]),
                json!([" ", "a: 1"]),
                json!(["-", "image: ", "web:1.4", " # pinned"]),
                json!(["+", "image: ", "web:1.5", " # pinned"]),
                json!(["+", "extra: true"]),
            ]
        );
        // Segments join to the line.
        for row in &r {
            let a = row.as_array().unwrap();
            let joined: String = a[1..].iter().map(|s| s.as_str().unwrap()).collect();
            assert!(diff.contains(&joined), "{joined}");
        }
    }

    #[test]
    fn a_line_that_starts_changed_begins_with_an_empty_plain_segment() {
        let r = rows("@@ -1 +1 @@\n-abc def\n+xyz def\n");
        assert_eq!(r[1], json!(["-", "", "abc", " def"]));
        assert_eq!(r[2], json!(["+", "", "xyz", " def"]));
    }
}
