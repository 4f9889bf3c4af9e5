//! `strata render`: print the selected targets' resources.

use super::cache::CacheArgs;
use super::revision::{RevisionArgs, on_arg};
use super::{Global, Outcome, ValuesArgs};
use crate::atomic::Spool;
use crate::bundle::stream;
use crate::diag::Error;
use crate::pipeline::Options;
use crate::repo;

/// Render targets to multi-document YAML (or JSON) on stdout.
///
/// Output is grouped by environment (sorted) and in apply order inside each
/// (waves, CRDs and Namespaces, component `dependsOn`, kind order; see
/// `strata bundle --explain`). Each document is preceded by `# Source:` (the
/// template that produced it) and `# Target:` comments.
///
/// Examples:
///   strata render --repo example-repo @eastus
///   strata render frontend/staging --set replicas=3
///   strata render '*/prod/*' --format json
///   strata render --ref v1.4.0 @eastus
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(mut_args(on_arg("reference", |a| a.help(
    "Render a git revision (tag, branch, commit, `HEAD~2`) instead of the work tree, \
     read straight from git objects: no checkout, the work tree is untouched"
))))]
#[command(after_help = "Docs: docs/guide/ci.md")]
pub struct RenderArgs {
    /// Targets to render: `component/environment`, `component`, `@environment`,
    /// or a glob like `*/prod/*`. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    #[command(flatten)]
    pub revision: RevisionArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

pub fn run(global: &Global, args: RenderArgs) -> Result<Outcome, Error> {
    let repo = repo::open::open_for_render(&global.repo, args.revision.reference.as_deref(), &args.selectors)?;
    let targets = repo.select(&args.selectors)?;
    let format = match args.format {
        Format::Yaml => stream::Format::Yaml,
        Format::Json => stream::Format::Json,
    };
    let mut out = Spool::new();
    let warnings = stream::render(
        &repo,
        &targets,
        &Options { cache: args.cache.options(), ..args.values.options()? },
        format,
        &mut out,
    )?;
    super::print_warnings(&warnings);
    super::write_stdout_from(out)
}
