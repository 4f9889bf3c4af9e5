//! `strata diff`: what a change does to the rendered output, per environment.

use super::{Global, Outcome, ValuesArgs};
use crate::diag::{Diagnostic, Error, Severity};
use crate::diff::{self, CompareOptions, Side, markdown, text};
use crate::pipeline::{self, Compiled};
use crate::repo::{Repo, Selector, Target};
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
/// With `--live`, compares the work tree's render with a cluster instead
/// (kubeconfig, `--context`): read-only, each object read and server-side-apply
/// dry-run; status, managedFields, resourceVersion, uid, generation, timestamps
/// and strata.yaml's `ignoreDifferences` ignored; with `tracking` on, objects a
/// target no longer renders are listed as `prune`.
///
/// Exit status, as diff(1): 0 no differences, 1 differences, 2 error.
///
/// Examples:
///   strata diff --live --context prod-westus @prod/westus
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
    if args.live.live {
        let report = super::live::report(global, &args.selectors, &args.values, args.show_secrets, &args.live)?;
        return print(&report, &args);
    }
    let git = super::open_git(global)?;
    let from = match (&args.from, &args.base) {
        (Some(rev), _) => resolve(&git, rev, "--from")?,
        (None, Some(base)) => {
            let base_rev = resolve(&git, base, "--base")?;
            let head = resolve(&git, "HEAD", "--base")?;
            let mut merge_base = git.merge_base(&base_rev, &head)?;
            merge_base.spec = format!("merge-base({base}, HEAD)");
            merge_base
        }
        (None, None) => {
            return Err(Diagnostic::error("`strata diff` needs a revision to compare from")
                .hint("pass `--from REV` (a tag, branch or commit) or `--base REV` (the merge base of REV and HEAD)")
                .hint("or `--live` to compare with a cluster")
                .into());
        }
    };
    let to = args.to.as_deref().map(|rev| resolve(&git, rev, "--to")).transpose()?;
    let from_side = format!("--from {}", from.spec);
    let to_side = match &to {
        Some(rev) => format!("--to {}", rev.spec),
        None => "the work tree".to_string(),
    };

    let before = super::open_revision(&git, &from).map_err(|e| on_side(e, &from_side))?;
    let after = match &to {
        Some(rev) => super::open_revision(&git, rev),
        None => super::open_worktree(global),
    }
    .map_err(|e| on_side(e, &to_side))?;

    let (mut bt, mut at) = select_both(&before, &after, &args.selectors)?;
    let opts = args.values.options()?;
    // Targets whose every input is identical on both sides render the same: they
    // are counted, not rendered (`--strict` renders everything, to check it all).
    let identical =
        if opts.strict { Default::default() } else { diff::inputs::identical_targets(&before, &bt, &after, &at) };
    let skipped: Vec<Target> = at.iter().filter(|t| identical.contains(&t.address())).map(|t| (*t).clone()).collect();
    bt.retain(|t| !identical.contains(&t.address()));
    at.retain(|t| !identical.contains(&t.address()));
    let (b, a) = rayon::join(|| pipeline::compile(&before, &bt, &opts), || pipeline::compile(&after, &at, &opts));
    let b: Compiled = b.map_err(|e| on_side(e, &from_side))?;
    let a: Compiled = a.map_err(|e| on_side(e, &to_side))?;
    // The after side is what the user is working on; the before side's warnings are history.
    super::print_warnings(&a.warnings);

    let mut report = diff::compare(&b, &a, &CompareOptions { show_secrets: args.show_secrets });
    report.add_identical(&skipped);
    report.before = Side { label: from.spec.clone(), ..Side::from_info(&b.info) };
    report.after = Side {
        label: to.as_ref().map_or_else(|| "work tree".to_string(), |r| r.spec.clone()),
        ..Side::from_info(&a.info)
    };

    print(&report, &args)
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

fn resolve(git: &GitRepo, rev: &str, flag: &str) -> Result<Revision, Error> {
    git.resolve(rev).map_err(|d| d.note(format!("given as `{flag} {rev}`")).into())
}

/// Names the side whose rendering failed in every error message.
fn on_side(mut e: Error, side: &str) -> Error {
    for d in &mut e.diagnostics {
        if d.severity == Severity::Error {
            d.message = format!("while rendering {side}: {}", d.message);
        }
    }
    e
}

/// The targets the selectors pick on each side. A selector may match on one side only
/// (a component added or removed); one that matches on neither is an error.
fn select_both<'a, 'b>(
    before: &'a Repo,
    after: &'b Repo,
    selectors: &[String],
) -> Result<(Vec<&'a Target>, Vec<&'b Target>), Error> {
    if selectors.is_empty() {
        return Ok((before.targets().collect(), after.targets().collect()));
    }
    let parsed = selectors.iter().map(|s| Selector::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let mut diags = Vec::new();
    for (sel, text) in parsed.iter().zip(selectors) {
        if !before.targets().chain(after.targets()).any(|t| sel.matches(t)) {
            let known: Vec<String> = after.targets().take(8).map(Target::address).collect();
            diags.push(
                Diagnostic::error(format!("selector `{text}` matches no target on either side"))
                    .note(format!("targets include: {}", known.join(", ")))
                    .hint("use `component/environment`, `component`, `@environment`, or a glob like `*/prod/*`"),
            );
        }
    }
    if !diags.is_empty() {
        return Err(Error::many(diags));
    }
    Ok((pick(before, &parsed), pick(after, &parsed)))
}

fn pick<'r>(repo: &'r Repo, selectors: &[Selector]) -> Vec<&'r Target> {
    repo.targets().filter(|t| selectors.iter().any(|s| s.matches(t))).collect()
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
    for (flag, v) in
        [("--from", &args.from), ("--to", &args.to), ("--base", &args.base), ("--context", &args.live.context)]
    {
        if let Some(v) = v {
            c.push_str(&format!(" {flag} {v}"));
        }
    }
    c
}
