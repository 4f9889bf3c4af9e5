//! The pull-request comment: a heading, a summary table of the environments and
//! targets that differ, and a collapsible `<details>` block per target holding
//! its resources' diffs in ```` ```diff ```` fences.
//!
//! GitHub refuses comments over 65,536 characters, so the comment is kept under
//! [`MarkdownOptions::max_chars`] ([`MAX_CHARS`] by default): the heading and table come first; then every
//! target gets a block listing its resources, and blocks gain their diffs in report
//! order while the total fits. A closing note says what was cut and how to see it.

use std::fmt::Write as _;

use super::{EnvironmentReport, Report, Status, TargetReport, Vocabulary};

/// The most characters a pull-request comment of strata may have: GitHub refuses
/// comments over 65,536 characters, and this leaves room for text a workflow adds
/// around ours. Every markdown report (`diff`, `rollout plan`) keeps under it.
pub const MAX_CHARS: usize = 60_000;

/// Knobs of the markdown report.
#[derive(Debug, Clone)]
pub struct MarkdownOptions {
    /// The most characters the comment may have.
    pub max_chars: usize,
    /// Counts and names only, no diffs (`--stat`).
    pub stat: bool,
    /// A command that shows the whole diff, quoted in the note when something is cut.
    pub command: Option<String>,
    /// The `strata review` page of the change, linked under the title (`--review-url`).
    pub review_url: Option<String>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions { max_chars: MAX_CHARS, stat: false, command: None, review_url: None }
    }
}

/// Room kept for the closing note about what was cut.
const NOTE_RESERVE: usize = 1_500;

/// Renders the report as GitHub-flavoured markdown, at most `opts.max_chars` characters.
pub fn render(report: &Report, opts: &MarkdownOptions) -> String {
    let touched: Vec<&EnvironmentReport> = report.touched_environments().collect();
    let mut out = heading(report, &touched, opts.review_url.as_deref());
    if touched.is_empty() {
        return out;
    }
    let budget = opts.max_chars.saturating_sub(NOTE_RESERVE);
    let table = summary_table(report, &touched, out.len(), budget);
    out.push_str(&table.text);
    out.push('\n');
    let blocks = target_blocks(&touched, report.words, opts.stat, out.len(), budget);
    out.push_str(&blocks.text);
    if table.rows_cut + blocks.shortened.len() + blocks.left_out.len() > 0 {
        out.push_str(&cut_note(table.rows_cut, &blocks.shortened, &blocks.left_out, opts));
    }
    // The note is bounded by its reserve; this only guards a tiny `max_chars`.
    if out.len() > opts.max_chars {
        let mut end = opts.max_chars;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

/// The title and the one-line summary (the whole comment when nothing differs).
fn heading(report: &Report, touched: &[&EnvironmentReport], review_url: Option<&str>) -> String {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### strata diff: `{}` → `{}`\n",
        code(&report.before.describe()),
        code(&report.after.describe())
    );
    if let Some(url) = review_url {
        let _ = writeln!(head, "[Review page]({}): structural changes, rollout, versions and checks.\n", link(url));
    }
    if touched.is_empty() {
        let _ = writeln!(
            head,
            "No differences in the rendered output of {} environment{} ({}).",
            report.environments.len(),
            plural(report.environments.len()),
            report.describe()
        );
    } else {
        let _ = writeln!(
            head,
            "**{}**: {}.\n",
            super::environments_differ(touched.len(), report.environments.len()),
            report.describe()
        );
    }
    head
}

/// The summary table and how many of its rows did not fit.
struct Table {
    text: String,
    rows_cut: usize,
}

/// One row per target that differs, while the comment (`used` characters before the
/// table) stays within `budget`.
fn summary_table(report: &Report, touched: &[&EnvironmentReport], used: usize, budget: usize) -> Table {
    let words = report.words;
    let cols = columns(words);
    let mut table = String::new();
    let _ = write!(table, "| Environment | Target | Version |");
    for s in cols {
        let _ = write!(table, " {} |", capitalize(words.word(*s)));
    }
    let _ = write!(table, "\n|---|---|---|");
    for _ in cols {
        table.push_str("--:|");
    }
    table.push('\n');
    let mut rows_cut = 0;
    for env in touched {
        for t in env.targets.iter().filter(|t| t.counts.differs()) {
            let mut row = format!("| {} | {} | {} |", cell(&env.environment), cell(&t.address), cell(&t.versions()));
            for s in cols {
                let _ = write!(row, " {} |", t.counts.get(*s));
            }
            row.push('\n');
            if used + table.len() + row.len() > budget {
                rows_cut += 1;
            } else {
                table.push_str(&row);
            }
        }
    }
    let unchanged = report.environments.len() - touched.len();
    if unchanged > 0 {
        let _ = writeln!(table, "\n{unchanged} environment{} without differences.", plural(unchanged));
    }
    Table { text: table, rows_cut }
}

/// The target blocks that fit, and the targets whose diffs or blocks did not.
struct Blocks {
    text: String,
    /// Targets shown without their diffs.
    shortened: Vec<String>,
    /// Targets not shown at all.
    left_out: Vec<String>,
}

/// Every target gets at least its names block while those fit (`used` characters come
/// before them); then blocks are upgraded to show their diffs, in report order, while
/// the total fits in `budget`. With `stat`, no block shows diffs.
fn target_blocks(touched: &[&EnvironmentReport], words: Vocabulary, stat: bool, used: usize, budget: usize) -> Blocks {
    let blocks: Vec<(&TargetReport, String, Option<String>)> = touched
        .iter()
        .flat_map(|env| env.targets.iter().filter(|t| t.counts.differs()))
        .map(|t| (t, block(t, words, Detail::Names), (!stat).then(|| block(t, words, Detail::Diffs))))
        .collect();
    let mut used = used;
    let mut chosen: Vec<Option<&str>> = Vec::with_capacity(blocks.len());
    let mut left_out: Vec<String> = Vec::new();
    for (t, names, _) in &blocks {
        if used + names.len() <= budget {
            used += names.len();
            chosen.push(Some(names.as_str()));
        } else {
            chosen.push(None);
            left_out.push(t.address.clone());
        }
    }
    let mut shortened: Vec<String> = Vec::new();
    for ((t, names, full), pick) in blocks.iter().zip(chosen.iter_mut()) {
        let (Some(current), Some(full)) = (*pick, full) else { continue };
        if used - current.len() + full.len() <= budget {
            used = used - current.len() + full.len();
            *pick = Some(full.as_str());
        } else {
            debug_assert_eq!(current, names.as_str());
            shortened.push(t.address.clone());
        }
    }
    Blocks { text: chosen.into_iter().flatten().collect(), shortened, left_out }
}

/// The statuses that get a table column: unchanged last, conflicts only against a cluster.
fn columns(words: Vocabulary) -> &'static [Status] {
    match words {
        Vocabulary::Revisions => &[Status::Added, Status::Removed, Status::Changed, Status::Unchanged],
        Vocabulary::Cluster => &[Status::Added, Status::Changed, Status::Removed, Status::Conflict, Status::Unchanged],
    }
}

/// How much a target's block shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// The resources' names and statuses.
    Names,
    /// The names, then each resource's diff in a fence.
    Diffs,
}

/// One target's collapsible block.
fn block(t: &TargetReport, words: Vocabulary, detail: Detail) -> String {
    let mut b = String::new();
    let presence = t.presence().map(|s| format!(" ({})", words.word(s))).unwrap_or_default();
    let _ = writeln!(
        b,
        "<details><summary><code>{}</code>{presence}: {}</summary>\n",
        html(&t.address),
        html(&t.counts.describe(words))
    );
    for c in &t.changes {
        let source = c.source.as_deref().map(|s| format!(" from `{}`", code(s))).unwrap_or_default();
        let _ = writeln!(b, "- **{}** `{}`{source}", words.word(c.status), code(&c.id.to_string()));
        if let Some(note) = &c.note {
            let _ = writeln!(b, "  {}", html(note));
        }
        if !c.fields.is_empty() {
            let _ = writeln!(b, "  fields: `{}`", code(&super::structural::summary(&c.fields)));
        }
    }
    if detail == Detail::Diffs {
        for c in t.changes.iter().filter(|c| !c.diff.is_empty()) {
            let fence = "`".repeat(longest_backtick_run(&c.diff).max(2) + 1);
            let _ = write!(b, "\n{fence}diff\n{}", c.diff);
            if !c.diff.ends_with('\n') {
                b.push('\n');
            }
            let _ = writeln!(b, "{fence}");
        }
    }
    b.push_str("\n</details>\n\n");
    b
}

fn cut_note(rows_cut: usize, shortened: &[String], left_out: &[String], opts: &MarkdownOptions) -> String {
    let mut n = format!("> [!NOTE]\n> This comment was cut to stay under {} characters.", opts.max_chars);
    let list = |names: &[String]| -> String {
        // Bounded, so the note fits in its reserve.
        let mut s = String::new();
        for (i, name) in names.iter().enumerate() {
            if s.len() > 300 {
                let _ = write!(s, " and {} more", names.len() - i);
                break;
            }
            if i > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "`{}`", code(name));
        }
        s
    };
    if !shortened.is_empty() {
        let _ = write!(n, " Diffs left out for {}.", list(shortened));
    }
    if !left_out.is_empty() {
        let _ = write!(n, " Targets left out: {}.", list(left_out));
    }
    if rows_cut > 0 {
        let _ = write!(n, " {rows_cut} table row{} left out.", plural(rows_cut));
    }
    match &opts.command {
        Some(cmd) => {
            let _ = write!(n, " Run `{}` to see everything.", code(cmd));
        }
        None => n.push_str(" Run `strata diff` locally to see everything."),
    }
    n.push('\n');
    n
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut cur) = (0, 0);
    for ch in s.chars() {
        if ch == '`' {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Text for inside inline code: a backtick would end it early.
fn code(s: &str) -> String {
    s.replace('`', "'")
}

/// A URL inside a markdown link: characters that would end it are percent-encoded.
fn link(url: &str) -> String {
    url.replace(' ', "%20").replace('(', "%28").replace(')', "%29").replace('<', "%3C").replace('>', "%3E")
}

/// Text for a table cell.
fn cell(s: &str) -> String {
    if s.is_empty() { "—".to_string() } else { html(s).replace('|', "\\|") }
}

/// Text for HTML or markdown prose.
fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
