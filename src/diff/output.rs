//! A [`Report`] as the text a command prints: one renderer ([`text`],
//! [`markdown`], [`json`]) chosen by [`Format`], or only the names of the
//! environments that differ.

use super::{Report, json, markdown, text};

/// The formats a report is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Markdown,
    Json,
}

/// How a report is printed.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    pub format: Format,
    /// Counts and resource names only, no diffs (`--stat`).
    pub stat: bool,
    /// Only the environments that differ, one a line (`--name-only`).
    pub name_only: bool,
    /// ANSI colours in [`Format::Text`] (the caller decides: [`text::color_wanted`]).
    pub color: bool,
    /// For [`Format::Markdown`]: the command that shows the whole diff, quoted
    /// when something is cut.
    pub command: Option<String>,
    /// For [`Format::Markdown`]: the `strata review` page, linked in the header.
    pub review_url: Option<String>,
}

/// The report in `opts`' format.
pub fn render(report: &Report, opts: &OutputOptions) -> String {
    if opts.name_only {
        return text::environment_names(report);
    }
    let stat = opts.stat;
    match opts.format {
        Format::Text => text::render(report, text::TextOptions { color: opts.color, stat }),
        Format::Markdown => markdown::render(
            report,
            &markdown::MarkdownOptions {
                stat,
                command: opts.command.clone(),
                review_url: opts.review_url.clone(),
                ..Default::default()
            },
        ),
        Format::Json => json::render(report, json::JsonOptions { stat }),
    }
}

/// A command line to quote in a report: `command`, the selectors, then each
/// flag given with its value (`strata diff @eastus --from v1.4.0`); a flag
/// whose value is empty is a switch (`--live`).
pub fn command_line<'f, 'v>(
    command: &str,
    selectors: &[String],
    flags: impl IntoIterator<Item = (&'f str, &'v str)>,
) -> String {
    let mut c = String::from(command);
    for s in selectors {
        c.push(' ');
        c.push_str(s);
    }
    for (flag, v) in flags {
        c.push(' ');
        c.push_str(flag);
        if !v.is_empty() {
            c.push(' ');
            c.push_str(v);
        }
    }
    c
}
