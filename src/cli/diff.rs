//! `strata diff`: what a change does to the rendered output, per environment.

use super::{Global, Outcome, ValuesArgs};
use crate::diag::{Diagnostic, Error};
use crate::diff::revisions::on_side;
use crate::diff::{self, CompareOptions, RevisionSide, markdown, text};
use crate::repo::{self, open};
use crate::source::{GitRepo, Revision};

/// Compare the rendered output of two revisions, environment by environment.
///
/// Both sides are rendered through the same pipeline; a revision is read straight
/// from git objects (no checkout: the work tree, index and HEAD are untouched).
/// Resources are matched by identity (group, kind, namespace, name) per target and
/// compared on canonical YAML (keys sorted). Secret `data` / `stringData` values are
/// masked as `***` (`*** (before)` / `*** (after)` where they changed) unless
/// `--show-secrets`.
///
/// With `--live`, compares the work tree's render (or `--ref REV`'s) with a
/// cluster instead (kubeconfig, `--context`): read-only, each object read and
/// server-side-apply dry-run; status, managedFields, resourceVersion, uid,
/// generation, timestamps and strata.yaml's `ignoreDifferences` ignored; a
/// conflict says whether forcing it would change anything; with `tracking` on,
/// objects the environment no longer renders (a removed target, component or
/// kind) are listed as `prune`.
///
/// Exit status, as diff(1): 0 no differences, 1 differences, 2 error.
///
/// Examples:
///   strata diff --live --context prod-westus @prod/westus
///   strata diff --live --ref v1.4.0 @eastus       # what would deploying v1.4.0 do?
///   strata diff --from v1.4.0                     # v1.4.0 against the work tree
///   strata diff --from v1.4.0 --to v1.5.0 @eastus
///   strata diff --base origin/main --format markdown > comment.md
///   strata diff --base origin/main --name-only    # environments to redeploy
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    /// Targets to compare (`component/environment`, `component`, `@environment`, a glob);
    /// applied to both sides. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// The revision to compare from: a tag, branch, commit or `HEAD~2`.
    #[arg(long, value_name = "REV", conflicts_with = "base")]
    pub from: Option<String>,
    /// The revision to compare to (default: the work tree, uncommitted changes included).
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// Compare from the merge base of REV and HEAD, like a pull request's diff
    /// (`--base origin/main`).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Output format: `text` (colour on a terminal unless NO_COLOR is set), `markdown`
    /// (a pull-request comment under 60,000 characters), `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Counts and resource names only, no diffs.
    #[arg(long)]
    pub stat: bool,
    /// Print only the environments that differ, one per line.
    #[arg(long, conflicts_with_all = ["stat", "format"])]
    pub name_only: bool,
    /// Show Secret values instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub live: super::live::LiveArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

pub fn run(global: &Global, args: DiffArgs) -> Result<Outcome, Error> {
    let compare = CompareOptions { show_secrets: args.show_secrets };
    if args.live.live {
        let report = super::live::report(global, &args.selectors, &args.values, &compare, &args.live)?;
        return print(&report, &args);
    }
    let sides = open_sides(global, args.from.as_deref(), args.to.as_deref(), args.base.as_deref(), "strata diff")?;
    let (before, after) = (&sides.before, &sides.after);
    let (bt, at) = repo::select_both(before, after, &args.selectors)?;
    let opts = args.values.options()?;
    let before = RevisionSide { repo: before, targets: &bt, name: &sides.from_side, label: &sides.from_label };
    let after = RevisionSide { repo: after, targets: &at, name: &sides.to_side, label: &sides.to_label };
    let diff = diff::compare_revisions(before, after, &opts, &compare)?;
    super::print_warnings(&diff.warnings);
    print(&diff.report, &args)
}

/// The two repositories of a comparison between revisions, and how to name them.
pub(super) struct Sides {
    pub before: repo::Repo,
    pub after: repo::Repo,
    /// `--from v1.4.0`, `--to v1.5.0`, `the work tree`: for messages.
    pub from_side: String,
    pub to_side: String,
    /// `v1.4.0`, `work tree`: for reports.
    pub from_label: String,
    pub to_label: String,
}

/// Opens both sides of `--from REV [--to REV] | --base REV` (`--to` defaults to
/// the work tree); `command` names the command in the error when neither is given.
pub(super) fn open_sides(
    global: &Global,
    from: Option<&str>,
    to: Option<&str>,
    base: Option<&str>,
    command: &str,
) -> Result<Sides, Error> {
    let git = GitRepo::discover(&global.repo)?;
    let from = match (from, base) {
        (Some(rev), _) => resolve(&git, rev, "--from")?,
        (None, Some(base)) => {
            let base_rev = resolve(&git, base, "--base")?;
            let head = resolve(&git, "HEAD", "--base")?;
            let mut merge_base = git.merge_base(&base_rev, &head)?;
            merge_base.spec = format!("merge-base({base}, HEAD)");
            merge_base
        }
        (None, None) => {
            let d = Diagnostic::error(format!("`{command}` needs a revision to compare from"))
                .hint("pass `--from REV` (a tag, branch or commit) or `--base REV` (the merge base of REV and HEAD)");
            let d = if command == "strata diff" { d.hint("or `--live` to compare with a cluster") } else { d };
            return Err(d.into());
        }
    };
    let to = to.map(|rev| resolve(&git, rev, "--to")).transpose()?;
    let from_side = format!("--from {}", from.spec);
    let (to_side, to_label) = match &to {
        Some(rev) => (format!("--to {}", rev.spec), rev.spec.clone()),
        None => ("the work tree".to_string(), "work tree".to_string()),
    };
    let before = open::open_revision(&git, &from).map_err(|e| on_side(e, &from_side))?;
    let after = match &to {
        Some(rev) => open::open_revision(&git, rev),
        None => open::open_worktree(&global.repo, &[]),
    }
    .map_err(|e| on_side(e, &to_side))?;
    Ok(Sides { before, after, from_side, to_side, from_label: from.spec, to_label })
}

/// How a command that writes (promote, release cherry-pick, port) prints the
/// rendered diff of what it did: `strata diff`'s formats and exit codes.
#[derive(Debug, Clone, clap::Args)]
pub struct DiffOutputArgs {
    /// Output format of the diff: `text`, `markdown`, `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Counts and resource names only, no diffs.
    #[arg(long)]
    pub stat: bool,
    /// Show Secret values instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
}

impl DiffOutputArgs {
    pub fn compare_options(&self) -> CompareOptions {
        CompareOptions { show_secrets: self.show_secrets }
    }

    /// Writes the report; `command` is the markdown note's way to see it again.
    /// Exit 1 when something differs.
    pub fn print(&self, report: &diff::Report, command: Option<String>) -> Result<Outcome, Error> {
        let stat = self.stat;
        let out = match self.format {
            Format::Text => text::render(report, text::TextOptions { color: text::color_wanted(), stat }),
            Format::Markdown => {
                markdown::render(report, &markdown::MarkdownOptions { stat, command, ..Default::default() })
            }
            Format::Json => diff::json::render(report, diff::json::JsonOptions { stat }),
        };
        super::write_stdout(out.as_bytes())?;
        Ok(if report.differs() { Outcome::Found } else { Outcome::Ok })
    }
}

/// Writes the report in the requested format; exit 1 when something differs.
fn print(report: &diff::Report, args: &DiffArgs) -> Result<Outcome, Error> {
    let out = if args.name_only {
        text::environment_names(report)
    } else {
        match args.format {
            Format::Text => text::render(report, text::TextOptions { color: text::color_wanted(), stat: args.stat }),
            Format::Markdown => markdown::render(
                report,
                &markdown::MarkdownOptions { stat: args.stat, command: Some(command_line(args)), ..Default::default() },
            ),
            Format::Json => diff::json::render(report, diff::json::JsonOptions { stat: args.stat }),
        }
    };
    super::write_stdout(out.as_bytes())?;
    Ok(if report.differs() { Outcome::Found } else { Outcome::Ok })
}

pub(super) fn resolve(git: &GitRepo, rev: &str, flag: &str) -> Result<Revision, Error> {
    git.resolve(rev).map_err(|d| d.note(format!("given as `{flag} {rev}`")).into())
}

/// The command that shows this diff in full, for the markdown note.
fn command_line(args: &DiffArgs) -> String {
    let mut c = String::from("strata diff");
    for s in &args.selectors {
        c.push(' ');
        c.push_str(s);
    }
    if args.live.live {
        c.push_str(" --live");
    }
    for (flag, v) in [
        ("--from", &args.from),
        ("--to", &args.to),
        ("--base", &args.base),
        ("--ref", &args.live.reference),
        ("--context", &args.live.context),
    ] {
        if let Some(v) = v {
            c.push_str(&format!(" {flag} {v}"));
        }
    }
    c
}
