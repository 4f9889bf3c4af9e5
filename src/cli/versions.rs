//! `strata versions`: which version each target runs.

use super::diff::Format;
use super::revision::{RevisionArgs, on_arg};
use super::{Global, Outcome};
use crate::diag::Error;
use crate::promote::{self, report};
use crate::repo::open::Range;

/// Show the matrix component × environment → version.
///
/// Environments are columns in `rollout:` wave order when strata.yaml declares
/// waves, then the others sorted. Per component: its versions (oldest first:
/// `v10` after `v9`, `1.10` after `1.9`, other names first and by name), the
/// versions no target uses, and, marked `*`, the targets behind its newest version.
/// With `--from REV`, only the cells that moved between two revisions (`v1 → v2`).
///
/// Examples:
///   strata versions
///   strata versions frontend api --format markdown
///   strata versions --ref v1.4.0
///   strata versions --from v1.4.0 --to v1.5.0
///   strata versions --from HEAD --format json     # what uncommitted work moves
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(mut_args(on_arg("reference", |a| a.conflicts_with_all(["from", "to"]))))]
#[command(after_help = "Docs: docs/guide/release.md")]
pub struct VersionsArgs {
    /// Targets to show (`component/environment`, `component`, `@environment`, a glob).
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    #[command(flatten)]
    pub revision: RevisionArgs,
    /// Show only the cells that moved since this revision.
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    /// The revision the cells moved to (default: the work tree).
    #[arg(long, value_name = "REV", requires = "from")]
    pub to: Option<String>,
    /// Output format: `text` (an aligned table, at most 100 columns), `markdown`, `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(global: &Global, args: VersionsArgs) -> Result<Outcome, Error> {
    let out = match &args.from {
        Some(from) => {
            let range = Range { from: Some(from), to: args.to.as_deref(), base: None };
            let moves = promote::moves_between(&global.repo, range, &args.selectors)?;
            report::moves(from, args.to.as_deref(), &moves, args.format.into())
        }
        None => {
            let m = promote::matrix_at(&global.repo, args.revision.reference.as_deref(), &args.selectors)?;
            report::matrix(&m, args.format.into())
        }
    };
    super::write_stdout(out.as_bytes())?;
    Ok(Outcome::Ok)
}
