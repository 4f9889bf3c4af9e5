//! `strata release`: release branches and tags (option 1 of the seed).

use super::diff::DiffOutputArgs;
use super::{Global, Outcome, ValuesArgs};
use crate::diag::Error;
use crate::release::cherry_pick::{self, PickOptions};

/// Release branches and tags, written through git objects only.
#[derive(Debug, clap::Args)]
#[command(after_help = "Docs: docs/guide/release.md")]
pub struct ReleaseArgs {
    #[command(subcommand)]
    pub command: ReleaseCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReleaseCommand {
    CherryPick(CherryPickArgs),
}

/// Pick commits onto a release branch, tag the result, and show what it renders differently.
///
/// Creates the branch at `--onto` when it does not exist (default name: `release/vN`
/// for `--onto vN.M`, e.g. `v1.0` → `release/v1`), then merges each COMMIT onto its
/// tip in order (a 3-way tree merge: base the commit's parent, ours the branch,
/// theirs the commit). Each pick is a commit with the original author, the committer
/// from git config (or `--committer`), and the message followed by `(cherry picked
/// from commit <id>)`, as `git cherry-pick -x` writes. Then the branch moves and
/// `--tag` is created (annotated with `--message`, else lightweight).
///
/// Only git objects and references are written: the work tree, the index and HEAD
/// are untouched, and a branch checked out in a work tree is refused. A conflict
/// exits 2 naming each file and the conflicting lines, and moves no reference.
///
/// Prints the rendered diff between the branch's old tip (or `--onto`) and the new
/// tip, for every environment; `--dry-run` prints it and moves nothing.
///
/// Exit status: 0 no rendered difference, 1 differences, 2 error or conflict.
///
/// Examples:
///   strata release cherry-pick main --onto v1.0 --tag v1.1
///   strata release cherry-pick 3f2a1c9 8be0d41 --onto v1.0 --branch release/v1 --dry-run
///   strata release cherry-pick v1.1..main --onto v1.1 --tag v1.2 --message "v1.2: the TLS fix"
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/release.md")]
pub struct CherryPickArgs {
    /// Commits to pick, in order: ids, revisions (`main`, `HEAD~1`), or ranges `A..B`.
    #[arg(value_name = "COMMIT", required = true)]
    pub commits: Vec<String>,
    /// The revision a new branch starts at (a tag such as `v1.0`).
    #[arg(long, value_name = "REF")]
    pub onto: String,
    /// The branch to pick onto (default: `release/vN` from `--onto vN.M`).
    #[arg(long, value_name = "NAME")]
    pub branch: Option<String>,
    /// Tag the new tip.
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// The tag's message: makes `--tag` an annotated tag.
    #[arg(long, value_name = "TEXT", requires = "tag")]
    pub message: Option<String>,
    /// The committer, `Name <email>` (default: git config `user.name` / `user.email`).
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub committer: Option<String>,
    /// For a merge commit: the parent (from 1) its change is taken against.
    #[arg(long, value_name = "N")]
    pub mainline: Option<usize>,
    /// Merge and render, print the diff, move nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub output: DiffOutputArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
}

pub fn run(global: &Global, args: ReleaseArgs) -> Result<Outcome, Error> {
    match args.command {
        ReleaseCommand::CherryPick(args) => cherry_pick(global, args),
    }
}

fn cherry_pick(global: &Global, args: CherryPickArgs) -> Result<Outcome, Error> {
    let opts = PickOptions {
        onto: args.onto.clone(),
        branch: args.branch.clone(),
        tag: args.tag.clone(),
        message: args.message.clone(),
        committer: args.committer.clone(),
        mainline: args.mainline,
        dry_run: args.dry_run,
    };
    let compare = args.output.compare_options();
    let outcome = cherry_pick::cherry_pick(&global.repo, &args.commits, &opts, &args.values.options()?, &compare)?;
    super::print_warnings(&outcome.diff.warnings);
    eprint!("{}", outcome.summary(&opts));
    let command = format!("strata release cherry-pick {} --onto {}", args.commits.join(" "), args.onto);
    args.output.print(&outcome.diff.report, Some(command))
}
