//! `strata render`: print the selected targets' resources.

use rayon::prelude::*;
use serde_json::Value;

use super::{Global, Outcome, ValuesArgs};
use crate::bundle;
use crate::diag::Error;
use crate::order::{self, ComponentGraph, Placed, Plan};

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
    let repo = super::open_repo_for_render(global, args.rev.as_deref(), &args.selectors)?;
    let compiled = super::compile_selected(&repo, &args.selectors, &args.values)?;
    let plans = order::plan(&ComponentGraph::from_repo(&repo)?, &compiled)?;
    let out = match args.format {
        Format::Yaml => to_yaml(&plans),
        Format::Json => to_json(&plans),
    };
    super::write_stdout(out.as_bytes())?;
    super::leave_to_exit((plans, out));
    super::leave_to_exit(compiled);
    Ok(Outcome::Ok)
}

/// Multi-document YAML with `# Source:` and `# Target:` comments, environment
/// by environment, in apply order.
pub fn to_yaml(plans: &[Plan<'_>]) -> String {
    // Written in parallel, in chunks of documents joined in order.
    let objects: Vec<&Placed<'_>> = plans.iter().flat_map(|p| p.objects.iter()).collect();
    let chunks: Vec<String> = objects
        .par_chunks(256)
        .map(|chunk| {
            let mut out = String::with_capacity(chunk.len() * 1024);
            for o in chunk {
                bundle::write_document(&mut out, o);
            }
            out
        })
        .collect();
    chunks.concat()
}

/// A JSON array of every resource, in the same order as the YAML.
pub fn to_json(plans: &[Plan<'_>]) -> String {
    let all: Vec<&Value> = plans.iter().flat_map(|p| p.objects.iter()).map(|o| &o.resource.body).collect();
    let mut s = serde_json::to_string_pretty(&all).expect("JSON values serialize");
    s.push('\n');
    s
}
