//! `strata port`: a change in one version directory merged into others (option 2 of the seed).

use super::diff::DiffOutputArgs;
use super::{Global, Outcome, ValuesArgs};
use crate::diag::{Diagnostic, Error};
use crate::release::port::{self, Change, PortOptions};
use crate::repo::arguments::{NameKind, check_name};

/// Carry a change made in one version directory to other versions, and show what it renders differently.
///
/// Takes what `--change REV` (against its first parent), `--change R1..R2` or
/// `--uncommitted` (the work tree against HEAD) changed under `COMPONENT/A/`, and
/// merges it into each `COMPONENT/B/` of the work tree, file by file (a 3-way merge:
/// base the A file before, theirs the A file after, ours the B file now). Modified
/// files are merged line by line; added files are added where B lacks them; deleted
/// files are deleted where B's copy equals A's before.
///
/// The ported versions are rendered in memory first; then all files of all versions
/// are written together, or none (a conflict or a render error writes nothing).
/// A conflict exits 2 naming each file and its conflicting lines, unless
/// `--conflict-markers` (markers are written, exit 1). Prints the rendered diff of
/// every target using a B version.
///
/// Exit status: 0 no rendered difference, 1 differences (or conflict markers
/// written), 2 error or conflict.
///
/// Examples:
///   strata port frontend --from-version v3 --to-version v2 --change HEAD
///   strata port frontend --from-version v3 --to-version v2 --to-version v1 --change v1.4..main
///   strata port api --from-version v2 --to-version v1 --uncommitted --dry-run
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/release.md")]
pub struct PortArgs {
    /// The component (its directory under the repository root).
    #[arg(value_name = "COMPONENT")]
    pub component: String,
    /// The version directory the change was made in.
    #[arg(long, value_name = "A")]
    pub from_version: String,
    /// A version directory to port the change to (repeatable).
    #[arg(long, value_name = "B", required = true)]
    pub to_version: Vec<String>,
    /// The change: a commit (against its first parent) or a range `R1..R2`.
    #[arg(long, value_name = "REV", required_unless_present = "uncommitted", conflicts_with = "uncommitted")]
    pub change: Option<String>,
    /// The change is the uncommitted work under `COMPONENT/A/` (work tree against HEAD).
    #[arg(long)]
    pub uncommitted: bool,
    /// Merge and render, print the diff, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write conflicting files with conflict markers instead of refusing (exit 1).
    #[arg(long)]
    pub conflict_markers: bool,
    #[command(flatten)]
    pub output: DiffOutputArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
}

pub fn run(global: &Global, args: PortArgs) -> Result<Outcome, Error> {
    let change = match (&args.change, args.uncommitted) {
        (Some(spec), _) => Change::parse(spec),
        (None, true) => Change::Uncommitted,
        (None, false) => return Err(Diagnostic::error("`strata port` needs `--change REV` or `--uncommitted`").into()),
    };
    let to_versions = args
        .to_version
        .iter()
        .map(|v| check_name(NameKind::Version, "--to-version", v).map(str::to_string))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = PortOptions {
        component: check_name(NameKind::Component, "COMPONENT", &args.component)?.to_string(),
        from_version: check_name(NameKind::Version, "--from-version", &args.from_version)?.to_string(),
        to_versions,
        change,
        dry_run: args.dry_run,
        conflict_markers: args.conflict_markers,
    };
    let compare = args.output.compare_options();
    let outcome = port::port(&global.repo, &opts, &args.values.options()?, &compare)?;
    super::print_warnings(&outcome.warnings);
    eprint!("{}", outcome.summary(args.dry_run));
    match &outcome.diff {
        Some(diff) => {
            super::print_warnings(&diff.warnings);
            let command = format!("strata port {} --from-version {}", args.component, args.from_version);
            args.output.print(&diff.report, Some(command))
        }
        None => {
            eprintln!("not rendered: the conflict markers written do not render; resolve them, then `strata diff`");
            Ok(Outcome::Found)
        }
    }
}
