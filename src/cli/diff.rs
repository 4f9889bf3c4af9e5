//! `strata diff`: what a change does to the rendered output, per environment.

use super::cache::CacheArgs;
use super::revision::RevisionRangeArgs;
use super::{Global, Outcome, ValuesArgs};
use crate::diag::{Diagnostic, Error};
use crate::diff::output::{self, OutputOptions};
use crate::diff::{self, CompareOptions, text};
use crate::pipeline::Options;
use crate::publish::remote::{self, PublishedSide};

/// Compare the rendered output of two revisions, environment by environment.
///
/// Both sides are rendered through the same pipeline; a revision is read straight
/// from git objects (no checkout: the work tree, index and HEAD are untouched).
/// Resources are matched by identity (group, kind, namespace, name) per target and
/// compared on canonical YAML (keys sorted). Secret `data` / `stringData` values are
/// masked as `***` (`*** (before)` / `*** (after)` where they changed) unless
/// `--show-secrets`.
///
/// With `--from oci://HOST/REPOSITORY:TAG` (an artifact of `strata publish`), compares
/// the published bundle with the work tree (or `--to REV`): its environment, or the
/// targets the selectors pick.
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
///   strata diff --from oci://ghcr.io/shop/config:eastus   # what was published vs the work tree
///   strata diff --base origin/main --format markdown > comment.md
///   strata diff --base origin/main --name-only    # environments to redeploy
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/review.md")]
pub struct DiffArgs {
    /// Targets to compare (`component/environment`, `component`, `@environment`, a glob);
    /// applied to both sides. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    #[command(flatten)]
    pub range: RevisionRangeArgs,
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
    /// With `--format markdown`: link the `strata review` page of this change
    /// (where CI publishes it) in the comment's header.
    #[arg(long, value_name = "URL")]
    pub review_url: Option<String>,
    #[command(flatten)]
    pub live: super::live::LiveArgs,
    /// With `--from oci://…`: how to reach the registry.
    #[command(flatten)]
    pub registry: super::publish::RegistryArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

pub fn run(global: &Global, args: DiffArgs) -> Result<Outcome, Error> {
    if args.review_url.is_some() && args.format != Format::Markdown {
        return Err(Error::from(
            Diagnostic::error("`--review-url` names the review page in a markdown comment")
                .hint("add `--format markdown`, or leave out `--review-url`"),
        ));
    }
    let compare = CompareOptions { show_secrets: args.show_secrets, ..CompareOptions::default() };
    if args.live.live {
        let report = super::live::report(global, &args.selectors, &args.values, &compare, &args.live)?;
        return print(&report, &args);
    }
    if let Some(from) = args.range.from.as_deref().filter(|f| f.starts_with("oci://")) {
        let at = crate::publish::reference::OciRef::parse(from)?;
        let side = PublishedSide { credential: args.registry.credential(&at)?, at, insecure: args.registry.insecure };
        let to = args.range.to.as_deref();
        let opts = args.values.options()?;
        let (report, warnings) = remote::compare_published(&global.repo, &side, to, &args.selectors, &opts, &compare)?;
        super::print_warnings(&warnings);
        return print(&report, &args);
    }
    let sides = args.range.open(global, "strata diff", &["or `--live` to compare with a cluster"])?;
    let opts = Options { cache: args.cache.options(), ..args.values.options()? };
    let diff = diff::revisions::compare_sides(&sides, &args.selectors, &opts, &compare)?;
    super::print_warnings(&diff.warnings);
    print(&diff.report, &args)
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
        CompareOptions { show_secrets: self.show_secrets, ..CompareOptions::default() }
    }

    /// Writes the report; `command` is the markdown note's way to see it again.
    /// Exit 1 when something differs.
    pub fn print(&self, report: &diff::Report, command: Option<String>) -> Result<Outcome, Error> {
        let opts = OutputOptions {
            format: self.format.into(),
            stat: self.stat,
            color: text::color_wanted(),
            command,
            ..OutputOptions::default()
        };
        super::write_stdout(output::render(report, &opts).as_bytes())?;
        Ok(if report.differs() { Outcome::Found } else { Outcome::Ok })
    }
}

impl From<Format> for output::Format {
    fn from(f: Format) -> Self {
        match f {
            Format::Text => output::Format::Text,
            Format::Markdown => output::Format::Markdown,
            Format::Json => output::Format::Json,
        }
    }
}

/// Writes the report in the requested format; exit 1 when something differs.
fn print(report: &diff::Report, args: &DiffArgs) -> Result<Outcome, Error> {
    let opts = OutputOptions {
        format: args.format.into(),
        stat: args.stat,
        name_only: args.name_only,
        color: text::color_wanted(),
        command: Some(command_line(args)),
        review_url: args.review_url.clone(),
    };
    super::write_stdout(output::render(report, &opts).as_bytes())?;
    Ok(if report.differs() { Outcome::Found } else { Outcome::Ok })
}

/// The command that shows this diff in full, for the markdown note.
fn command_line(args: &DiffArgs) -> String {
    let live = args.live.live.then_some(("--live", ""));
    let live_flags = [("--ref", &args.live.revision.reference), ("--context", &args.live.context)];
    let live_flags = live_flags.into_iter().filter_map(|(flag, v)| Some((flag, v.as_deref()?)));
    output::command_line("strata diff", &args.selectors, live.into_iter().chain(args.range.flags()).chain(live_flags))
}
