//! The terminal report: one line per environment and target, a marker line per
//! resource, and its unified diff. Colour is optional and never carries meaning
//! on its own: markers (`+ - ~ !`) and diff prefixes say everything.

use std::fmt::Write as _;

use super::{Report, Status};

/// Knobs of the text report.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// ANSI colours (the caller decides: a terminal, and `NO_COLOR` unset).
    pub color: bool,
    /// Counts and resource names only, no diffs (`--stat`).
    pub stat: bool,
}

/// Whether to colour stdout: only on a terminal, and never when `NO_COLOR` is set
/// to a non-empty value (<https://no-color.org>).
pub fn color_wanted() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

struct Paint(bool);

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.0 { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn status(&self, status: Status, s: &str) -> String {
        match status {
            Status::Added => self.wrap("32", s),
            Status::Removed => self.wrap("31", s),
            Status::Changed => self.wrap("33", s),
            Status::Conflict => self.wrap("1;31", s),
            Status::Unchanged => s.to_string(),
        }
    }
    /// Colours one line of a unified diff by its prefix.
    fn diff_line(&self, line: &str) -> String {
        if line.starts_with("+++") || line.starts_with("---") {
            self.bold(line)
        } else if line.starts_with('+') {
            self.wrap("32", line)
        } else if line.starts_with('-') {
            self.wrap("31", line)
        } else if line.starts_with("@@") {
            self.wrap("36", line)
        } else {
            line.to_string()
        }
    }
}

/// Renders the report for a terminal or a log.
pub fn render(report: &Report, opts: TextOptions) -> String {
    let p = Paint(opts.color);
    let words = report.words;
    let mut out = String::new();
    let _ =
        writeln!(out, "{}", p.bold(&format!("strata diff {} → {}", report.before.describe(), report.after.describe())));
    for env in &report.environments {
        out.push('\n');
        let _ = writeln!(out, "{}", p.bold(&format!("environment {}: {}", env.environment, env.describe(words))));
        if !env.counts.differs() {
            continue;
        }
        for t in &env.targets {
            let presence = t.presence().map(|s| format!("{}, ", words.word(s))).unwrap_or_default();
            // A live diff's prunes of a target gone from the repository: no version to show.
            let about = format!("{presence}{}", t.versions());
            let about = if about.is_empty() { String::new() } else { format!(" ({about})") };
            let _ = writeln!(out, "  target {}{about}: {}", t.address, t.counts.describe(words));
            for c in &t.changes {
                let source = c.source.as_deref().map(|s| format!("  ({s})")).unwrap_or_default();
                let line = format!("    {} {} {}{source}", c.status.marker(), words.word(c.status), c.id);
                let _ = writeln!(out, "{}", p.status(c.status, &line));
                if let Some(note) = &c.note {
                    let _ = writeln!(out, "      {note}");
                }
                if !opts.stat && !c.fields.is_empty() {
                    let _ = writeln!(out, "      fields: {}", super::structural::summary(&c.fields));
                }
                if !opts.stat {
                    for l in c.diff.lines() {
                        let _ = writeln!(out, "{}", p.diff_line(l));
                    }
                }
            }
        }
    }
    if !opts.stat {
        out.push_str(&groups(report));
    }
    let touched = report.touched_environments().count();
    out.push('\n');
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!("{}: {}", super::environments_differ(touched, report.environments.len()), report.describe()))
    );
    out
}

/// The most groups the text report lists.
const GROUPS_SHOWN: usize = 20;

/// The structural changes found in several environments ([`super::groups`]).
fn groups(report: &Report) -> String {
    let groups = super::groups::groups(report);
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nthe same change in several environments:\n");
    for g in groups.iter().take(GROUPS_SHOWN) {
        let c = &g.change;
        let _ = writeln!(out, "  {} {} {} {}: {}", c.kind.marker(), g.component, g.object, c.path, g.describe());
    }
    if groups.len() > GROUPS_SHOWN {
        let _ = writeln!(out, "  and {} more", groups.len() - GROUPS_SHOWN);
    }
    out
}

/// The environments in which something differs, one per line (`--name-only`).
pub fn environment_names(report: &Report) -> String {
    report.touched_environments().map(|e| format!("{}\n", e.environment)).collect()
}
