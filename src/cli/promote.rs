//! `strata promote`: repoint targets' `templates` links, with the rendered diff.

use super::diff::DiffOutputArgs;
use super::{Global, Outcome, ValuesArgs};
use crate::diag::Error;
use crate::promote::{self, Destination, PromoteRequest};
use crate::repo::arguments::{NameKind, check_name};
use crate::repo::open;

/// Move targets to another version by repointing their `templates` links.
///
/// Each link keeps its form: a relative symlink stays a relative symlink, a
/// link file stays a one-line link file. Before anything is written, every
/// affected target is rendered with its new version; any error (no such
/// version, a schema violation, a template error) exits 2 and changes nothing.
/// All links change, or none. Then the rendered diff of the promotion (work
/// tree before vs after) is printed, as `strata diff` prints it. A target
/// already on the version is reported, not an error.
///
/// Exit status, as `strata diff`: 0 no rendered difference, 1 differences, 2 error.
///
/// Examples:
///   strata promote frontend/eastus --to v2 --dry-run
///   strata promote frontend/eastus --to v2
///   strata promote @westus --like staging            # every component as in staging
///   strata promote frontend --wave canary --to v3    # only the canary wave's targets
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/release.md")]
pub struct PromoteArgs {
    /// Targets to promote (`component/environment`, `component`, `@environment`, a glob).
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// The version to move to (a version directory of each target's component).
    #[arg(long, value_name = "VERSION", required_unless_present = "like", conflicts_with = "like")]
    pub to: Option<String>,
    /// Take the version that the same component's target in ENV runs.
    #[arg(long, value_name = "ENV")]
    pub like: Option<String>,
    /// Only the targets in the environments of this strata.yaml `rollout:` wave.
    #[arg(long, value_name = "NAME")]
    pub wave: Option<String>,
    /// Print the diff, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: DiffOutputArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
}

pub fn run(global: &Global, args: PromoteArgs) -> Result<Outcome, Error> {
    let destination = match (&args.to, &args.like) {
        (Some(v), _) => Destination::Version(check_name(NameKind::Version, "--to", v)?.to_string()),
        (None, Some(env)) => Destination::Like(check_name(NameKind::Environment, "--like", env)?.to_string()),
        (None, None) => {
            return Err(crate::diag::Diagnostic::error("`strata promote` needs `--to VERSION` or `--like ENV`").into());
        }
    };
    let req = PromoteRequest { selectors: args.selectors.clone(), wave: args.wave.clone(), destination };
    let repo = open::open_worktree(&global.repo, &[])?;
    let compare = args.output.compare_options();
    let promotion = promote::plan(&repo, &req, &args.values.options()?, &compare)?;
    super::print_warnings(&promotion.warnings);
    eprint!("{}", promotion.unchanged_summary());
    let Some(report) = &promotion.report else {
        eprintln!("nothing to promote");
        return Ok(Outcome::Ok);
    };
    if !args.dry_run {
        promote::apply(&global.repo, &promotion)?;
    }
    eprint!("{}", promotion.changes_summary(args.dry_run));
    args.output.print(report, None)
}
