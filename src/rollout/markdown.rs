//! The plan as a pull-request comment: a heading, a table of the waves, then a
//! section per wave.
//!
//! Kept under [`MAX_CHARS`], the one comment budget of `diff`'s markdown report:
//! when the full comment is longer, the per-wave lists (targets, images, then
//! risks) are shortened to fewer lines each until it fits, and a closing note
//! says how many lines were cut and which command shows them all.

use std::fmt::Write as _;

use super::text::{objects, settings, summary};
use super::{Plan, WavePlan};

pub use crate::diff::markdown::MAX_CHARS;

/// Renders the plan, at most `max_chars` characters; `command` is quoted in the
/// note when something is cut.
pub fn render(plan: &Plan, max_chars: usize, command: &str) -> String {
    let mut limit = usize::MAX;
    loop {
        let (text, cut) = render_limited(plan, limit);
        let note = if cut == 0 {
            String::new()
        } else {
            format!(
                "\n> **Note:** {cut} list lines were cut to keep this comment under {max_chars} characters; \
                 run `{command}` to see them all.\n"
            )
        };
        if text.len() + note.len() <= max_chars || limit == 0 {
            let mut out = text + &note;
            truncate(&mut out, max_chars);
            return out;
        }
        limit = if limit == usize::MAX { 64 } else { limit / 2 };
    }
}

/// The comment with each list cut to `limit` lines; returns it and the lines cut.
fn render_limited(plan: &Plan, limit: usize) -> (String, usize) {
    let mut out = String::new();
    let _ = writeln!(out, "### Rollout plan: `{}` → `{}`\n", plan.before.describe(), plan.after.describe());
    let _ = writeln!(out, "{}\n", summary(plan));
    out.push_str("| # | wave | environments | targets changed | objects | risks | blast radius so far |\n");
    out.push_str("| ---: | --- | --- | ---: | --- | ---: | --- |\n");
    for (i, w) in plan.waves.iter().enumerate() {
        let objs = if w.changes() { objects(&w.counts) } else { "no change".to_string() };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} of {} | {objs} | {} | {} |",
            i + 1,
            w.name,
            w.environments.join(", "),
            w.changed_targets.len(),
            w.changed_targets.len() + w.unchanged_targets,
            w.risks.len(),
            w.cumulative.describe()
        );
    }
    let cut: usize = plan.waves.iter().enumerate().map(|(i, w)| wave(&mut out, i, w, limit)).sum();
    (out, cut)
}

/// Writes one wave's section; returns how many lines its lists lost to `limit`.
fn wave(out: &mut String, i: usize, w: &WavePlan, limit: usize) -> usize {
    let s = settings(w);
    let s = if s.is_empty() { String::new() } else { format!(" ({s})") };
    let _ = writeln!(out, "\n#### {}. {}{s}\n", i + 1, w.name);
    if !w.changes() {
        let _ =
            writeln!(out, "No change in {} ({} targets unchanged).", w.environments.join(", "), w.unchanged_targets);
        return 0;
    }
    let _ = writeln!(
        out,
        "{} targets changed, {} unchanged; objects: {}.\n",
        w.changed_targets.len(),
        w.unchanged_targets,
        objects(&w.counts)
    );
    let mut cut = 0;
    if !w.risks.is_empty() {
        out.push_str("**Risks**\n\n");
        let lines: Vec<String> = w
            .risks
            .iter()
            .map(|r| {
                format!(
                    "- :warning: **{}**: `{}` `{}` `{}`: {}; remedy: {}",
                    r.kind.word(),
                    r.target,
                    r.object,
                    r.field,
                    r.message,
                    r.remedy
                )
            })
            .collect();
        cut += list(out, &lines, limit);
    }
    let kinds: Vec<String> = w.kinds.iter().map(|(k, c)| format!("- {k}: {}", objects(c))).collect();
    out.push_str("\n**Objects by kind**\n\n");
    cut += list(out, &kinds, limit);
    if !w.versions.is_empty() {
        out.push_str("\n**Versions**\n\n");
        let lines: Vec<String> =
            w.versions.iter().map(|v| format!("- `{}` {} ({})", v.component, v.describe(), v.environment)).collect();
        cut += list(out, &lines, limit);
    }
    if !w.images.is_empty() {
        out.push_str("\n**Images**\n\n");
        let lines: Vec<String> = w
            .images
            .iter()
            .map(|im| {
                let (from, to) = (im.from.as_deref().unwrap_or("(none)"), im.to.as_deref().unwrap_or("(none)"));
                format!("- `{}` `{}` container `{}`: `{from}` → `{to}`", im.target, im.object, im.container)
            })
            .collect();
        cut += list(out, &lines, limit);
    }
    out.push_str("\n**Targets changed**\n\n");
    let lines: Vec<String> = w.changed_targets.iter().map(|(a, v)| format!("- `{a}` ({v})")).collect();
    cut += list(out, &lines, limit);
    cut
}

/// Writes up to `limit` lines, then `- … and N more`; returns N.
fn list(out: &mut String, lines: &[String], limit: usize) -> usize {
    for l in lines.iter().take(limit) {
        out.push_str(l);
        out.push('\n');
    }
    let rest = lines.len().saturating_sub(limit);
    if rest > 0 {
        let _ = writeln!(out, "- … and {rest} more");
    }
    rest
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}
