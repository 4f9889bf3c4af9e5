//! `strata versions` output: the matrix (or the cells that moved) as an aligned
//! text table that fits [`WIDTH`] columns, a markdown table, or JSON.
//!
//! Text abbreviates the widest columns with `…` until a line fits, and the
//! legend spells out every abbreviated heading; markdown and JSON are never
//! abbreviated. The JSON shapes are documented in docs/guide/release.md ("Releases").

use std::fmt::Write as _;

use super::versions::{Matrix, Move};
use crate::diff::output::Format;

/// The widest a text line may be.
pub const WIDTH: usize = 100;
/// The narrowest a column is abbreviated to.
const MIN_COLUMN: usize = 4;

/// The matrix as an aligned table with a legend.
/// The matrix in `format`.
pub fn matrix(m: &Matrix, format: Format) -> String {
    match format {
        Format::Text => matrix_text(m),
        Format::Markdown => matrix_markdown(m),
        Format::Json => matrix_json(m),
    }
}

/// The cells that moved from revision `from` to `to` (the work tree when
/// `None`) in `format`.
pub fn moves(from: &str, to: Option<&str>, moves: &[Move], format: Format) -> String {
    let to = to.unwrap_or(crate::repo::open::WORK_TREE_LABEL);
    match format {
        Format::Text => moves_text(from, to, moves),
        Format::Markdown => moves_markdown(from, to, moves),
        Format::Json => moves_json(from, to, moves),
    }
}

pub fn matrix_text(m: &Matrix) -> String {
    if m.components.is_empty() {
        return "no targets\n".to_string();
    }
    let (header, rows) = matrix_grid(m, "*");
    let mut out = table(&header, &rows);
    out.push('\n');
    for w in m.waves.iter().filter(|w| !w.environments.is_empty()) {
        let _ = writeln!(out, "wave {}: {}", w.name, w.environments.join(", "));
    }
    out.push_str("* behind the component's newest version (the last of `versions`: v10 after v9, 1.10 after 1.9)\n");
    out.push_str("unused: versions no target runs\n");
    out
}

/// The matrix as a markdown table, for a pull-request comment.
pub fn matrix_markdown(m: &Matrix) -> String {
    let mut out = String::from("### Versions\n\n");
    if m.components.is_empty() {
        out.push_str("No targets.\n");
        return out;
    }
    let (header, rows) = matrix_grid(m, " (behind)");
    out.push_str(&markdown_table(&header, &rows));
    out.push_str("\n_(behind)_: not on the component's newest version, the last of _versions_ in version order.\n");
    out
}

/// The moved cells as a table: one row per component and one column per
/// environment with a move, `v1 → v2` where a cell moved.
pub fn moves_text(from: &str, to: &str, moves: &[Move]) -> String {
    let mut out = format!("strata versions {from} → {to}: {}\n", moved_count(moves));
    if moves.is_empty() {
        return out;
    }
    out.push('\n');
    let (header, rows) = moves_grid(moves);
    out.push_str(&table(&header, &rows));
    if moves.iter().any(|m| m.from.is_none() || m.to.is_none()) {
        out.push_str("\n(none): no such target on that side\n");
    }
    out
}

pub fn moves_markdown(from: &str, to: &str, moves: &[Move]) -> String {
    let mut out = format!("### Versions `{from}` → `{to}`: {}\n", moved_count(moves));
    if !moves.is_empty() {
        out.push('\n');
        let (header, rows) = moves_grid(moves);
        out.push_str(&markdown_table(&header, &rows));
    }
    out
}

pub fn matrix_json(m: &Matrix) -> String {
    serde_json::to_string_pretty(m).expect("a matrix serializes") + "\n"
}

pub fn moves_json(from: &str, to: &str, moves: &[Move]) -> String {
    let v = serde_json::json!({ "from": from, "to": to, "moves": moves });
    serde_json::to_string_pretty(&v).expect("moves serialize") + "\n"
}

fn moved_count(moves: &[Move]) -> String {
    match moves.len() {
        0 => "no version moved".to_string(),
        1 => "1 cell moved".to_string(),
        n => format!("{n} cells moved"),
    }
}

/// Heading and rows: component, one column per environment (`-` where the
/// component has no target), its versions and the unused ones.
fn matrix_grid(m: &Matrix, behind_mark: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["component".to_string()];
    header.extend(m.environments.iter().cloned());
    header.extend(["versions".to_string(), "unused".to_string()]);
    let rows = m
        .components
        .iter()
        .map(|c| {
            let mut row = vec![c.name.clone()];
            for env in &m.environments {
                row.push(match c.version_in(env) {
                    Some(v) if c.behind.contains(env) => format!("{v}{behind_mark}"),
                    Some(v) => v.to_string(),
                    None => "-".to_string(),
                });
            }
            let or_dash = |v: &[String]| if v.is_empty() { "-".to_string() } else { v.join(" ") };
            row.extend([or_dash(&c.versions), or_dash(&c.unused)]);
            row
        })
        .collect();
    (header, rows)
}

fn moves_grid(moves: &[Move]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut envs: Vec<&str> = Vec::new();
    let mut components: Vec<&str> = Vec::new();
    for m in moves {
        if !envs.contains(&m.environment.as_str()) {
            envs.push(&m.environment);
        }
        if !components.contains(&m.component.as_str()) {
            components.push(&m.component);
        }
    }
    let mut header = vec!["component".to_string()];
    header.extend(envs.iter().map(|e| e.to_string()));
    let rows = components
        .iter()
        .map(|c| {
            let mut row = vec![c.to_string()];
            for e in &envs {
                let cell = moves.iter().find(|m| m.component == *c && m.environment == *e);
                row.push(cell.map(Move::describe).unwrap_or_default());
            }
            row
        })
        .collect();
    (header, rows)
}

/// An aligned table (two spaces between columns) no wider than [`WIDTH`]:
/// while too wide, the widest column loses a character; cut cells keep both
/// ends around a `…`.
/// Abbreviated headings are spelled out below the table.
fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let len = |s: &String| s.chars().count();
    let mut widths: Vec<usize> = header.iter().map(len).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(len(cell));
        }
    }
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    // The first column (the component) is cut last.
    while total(&widths) > WIDTH {
        let widest = |from: usize| {
            (from..widths.len()).filter(|i| widths[*i] > MIN_COLUMN).max_by_key(|i| (widths[*i], usize::MAX - i))
        };
        let Some(i) = widest(1).or_else(|| widest(0)) else { break };
        widths[i] -= 1;
    }
    let mut out = String::new();
    let mut spelled = Vec::new();
    for (r, row) in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)).enumerate() {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(c, w)| abbreviate(c, *w)).collect();
        if r == 0 {
            spelled.extend(row.iter().zip(&cells).filter(|(full, cut)| full != cut).map(|(f, c)| format!("{c} = {f}")));
        }
        let line: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    if !spelled.is_empty() {
        out.push('\n');
        out.push_str(&wrap("abbreviated:", &spelled));
    }
    out
}

/// `head` then `items` separated by `, `, in lines of at most [`WIDTH`]
/// characters; continuation lines are indented by two spaces.
fn wrap(head: &str, items: &[String]) -> String {
    let mut out = String::new();
    let mut line = head.to_string();
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() { format!("{item},") } else { item.clone() };
        if line.chars().count() + 1 + piece.chars().count() > WIDTH && line.trim() != head {
            out.push_str(&line);
            out.push('\n');
            line = format!("  {piece}");
        } else {
            line.push(' ');
            line.push_str(&piece);
        }
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// `s` cut to `width` characters in the middle (`prod/w…stus`), so that both
/// ends stay readable: names of regions differ at the end, version lists end
/// with the newest.
fn abbreviate(s: &str, width: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= width {
        return s.to_string();
    }
    let keep = width.saturating_sub(1);
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut cut: String = chars[..head].iter().collect();
    cut.push('…');
    cut.extend(&chars[chars.len() - tail..]);
    cut
}

fn markdown_table(header: &[String], rows: &[Vec<String>]) -> String {
    let escape = |s: &String| s.replace('|', "\\|");
    let mut out = String::new();
    let _ = writeln!(out, "| {} |", header.iter().map(escape).collect::<Vec<_>>().join(" | "));
    let _ = writeln!(out, "|{}", " --- |".repeat(header.len()));
    for row in rows {
        let _ = writeln!(out, "| {} |", row.iter().map(escape).collect::<Vec<_>>().join(" | "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_tables_are_abbreviated_to_fit() {
        let header: Vec<String> =
            ["component"].iter().map(|s| s.to_string()).chain((0..12).map(|i| format!("region-number-{i}"))).collect();
        let rows = vec![std::iter::once("web".to_string()).chain((0..12).map(|_| "v1".to_string())).collect()];
        let t = table(&header, &rows);
        assert!(t.lines().all(|l| l.chars().count() <= WIDTH), "{t}");
        assert!(t.starts_with("component  re…-0  "), "{t}");
        assert!(t.contains(" re…-0 = region-number-0,"), "{t}");
        let narrow = table(&["a".into(), "b".into()], &[vec!["1".into(), "2".into()]]);
        assert_eq!(narrow, "a  b\n1  2\n");
    }
}
