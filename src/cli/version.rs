//! `strata version new`: start a version directory as a copy of another.

use super::{Global, Outcome};
use crate::diag::Error;
use crate::promote;
use crate::repo::arguments::{NameKind, check_name};
use crate::repo::open;

/// Manage a component's version directories.
#[derive(Debug, clap::Args)]
#[command(after_help = "Docs: docs/guide/release.md")]
pub struct VersionArgs {
    #[command(subcommand)]
    pub command: VersionCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum VersionCommand {
    New(NewArgs),
}

/// Start version NEW of COMPONENT as a copy of version OLD.
///
/// Copies every file (templates, partials, `files/`, values.yaml, the schema);
/// links inside the version are copied as links. Refuses when COMPONENT/NEW
/// exists or NEW is not a plain directory name. No target points at the new
/// version, so nothing renders differently; move targets with `strata promote`.
///
/// Examples:
///   strata version new frontend v4 --from v3
///   strata promote frontend/staging --to v4 --dry-run
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/release.md")]
pub struct NewArgs {
    /// The component (a top-level directory with targets).
    pub component: String,
    /// The new version's directory name (`v4`, `2.1.0`).
    pub new: String,
    /// The version to copy.
    #[arg(long, value_name = "OLD")]
    pub from: String,
}

pub fn run(global: &Global, args: VersionArgs) -> Result<Outcome, Error> {
    let VersionCommand::New(args) = args.command;
    let component = check_name(NameKind::Component, "COMPONENT", &args.component)?;
    let new = check_name(NameKind::Version, "NEW", &args.new)?;
    let from = check_name(NameKind::Version, "--from", &args.from)?;
    let repo = open::open_worktree(&global.repo, &[])?;
    let made = promote::new_version(&global.repo, &repo, component, new, from)?;
    eprintln!(
        "created {} from {}/{} ({} files, {} links); no target uses it yet",
        made.dir, args.component, args.from, made.files, made.links
    );
    Ok(Outcome::Ok)
}
