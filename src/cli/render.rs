//! `strata render`: print the selected targets' resources.

use super::{Global, Outcome, ValuesArgs};
use crate::bundle::stream;
use crate::diag::Error;
use crate::order::{self, ComponentGraph};
use crate::{pipeline, repo};

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
pub struct RenderArgs {
    /// Targets to render: `component/environment`, `component`, `@environment`,
    /// or a glob like `*/prod/*`. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Render a git revision (tag, branch, commit, `HEAD~2`) instead of the work
    /// tree, read straight from git objects: no checkout, the work tree is untouched.
    #[arg(long = "ref", value_name = "REV")]
    pub rev: Option<String>,
    #[command(flatten)]
    pub values: ValuesArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

pub fn run(global: &Global, args: RenderArgs) -> Result<Outcome, Error> {
    let repo = repo::open::open_for_render(&global.repo, args.rev.as_deref(), &args.selectors)?;
    let targets = repo.select(&args.selectors)?;
    let compiled = pipeline::compile(&repo, &targets, &args.values.options()?)?;
    super::print_warnings(&compiled.warnings);
    let plans = order::plan(&ComponentGraph::from_repo(&repo)?, &compiled)?;
    let out = match args.format {
        Format::Yaml => stream::to_yaml(&plans),
        Format::Json => stream::to_json(&plans),
    };
    super::write_stdout(out.as_bytes())?;
    super::keep_until_exit((plans, out));
    super::keep_until_exit(compiled);
    Ok(Outcome::Ok)
}
