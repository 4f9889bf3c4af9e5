//! `strata review`: one self-contained HTML page for a change.

use std::path::PathBuf;

use super::revision::{RevisionRangeArgs, on_arg};
use super::{Global, Outcome, ValuesArgs};
use crate::atomic;
use crate::diag::Error;
use crate::review;

/// Write one self-contained HTML page that reviews a change.
///
/// Compares two revisions as `strata diff` does (targets with identical inputs
/// counted, not rendered; `diff.ignore` applied), plans the change over the
/// rollout waves as `strata rollout plan` does, and checks both renders as
/// `strata check` does. The page shows: a summary by wave with risks and blast
/// radius; the versions matrix before → after; a waves × environments grid
/// (click a cell to filter); every changed object with its structural changes
/// (lists matched by merge keys, "order changed"), its template file and line,
/// risks, findings and its diff, unified or side by side with word-level
/// highlighting (Secrets masked as in `strata diff`); the check findings on
/// changed objects, before and after, per rule; filters (environment, wave,
/// kind, change, text) and `j` / `k` for the next / previous change.
///
/// The page is one file: inline CSS and script, no fonts, no requests (its
/// Content-Security-Policy allows nothing else), usable offline from disk or a
/// CI artifact. Its root element states its totals: `data-environments`,
/// `data-objects`, `data-risks`, `data-findings`. Written atomically; the same
/// inputs give the same bytes.
///
/// Exit status: 0 nothing changes, 1 changes (the page is written either way), 2 error.
///
/// Examples:
///   strata review --from HEAD~1 --out review.html
///   strata review --base origin/main --out review.html @eastus
///   strata review --from v1.4.0 --to v1.5.0 frontend --out review.html
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(mut_args(on_arg("from", |a| a.help("The revision to review from: a tag, branch, commit or `HEAD~2`"))))]
#[command(mut_args(on_arg("to", |a| a.help(
    "The revision to review (default: the work tree, uncommitted changes included)"
))))]
#[command(mut_args(on_arg("base", |a| a.help(
    "Review from the merge base of REV and HEAD, like a pull request (`--base origin/main`)"
))))]
#[command(after_help = "Docs: docs/guide/review.md")]
pub struct ReviewArgs {
    /// Targets to review (`component/environment`, `component`, `@environment`, a glob);
    /// applied to both sides. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    #[command(flatten)]
    pub range: RevisionRangeArgs,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub values: ValuesArgs,
}

pub fn run(global: &Global, args: ReviewArgs) -> Result<Outcome, Error> {
    let sides = args.range.open(global, "strata review", &[])?;
    let review = review::review_sides(&sides, &args.selectors, &args.values.options()?)?;
    super::print_warnings(&review.warnings);
    atomic::write_file(&args.out, review.html.as_bytes())?;
    let t = review.totals;
    eprintln!(
        "wrote {}: {} environments, {} objects, {} risks, {} findings on changed objects ({} bytes)",
        args.out.display(),
        t.environments,
        t.objects,
        t.risks,
        t.findings,
        review.html.len()
    );
    Ok(if review.differs { Outcome::Found } else { Outcome::Ok })
}
