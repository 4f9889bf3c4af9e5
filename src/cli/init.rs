//! `strata init`: write a new configuration repository.

use std::path::PathBuf;

use super::{Global, Outcome};
use crate::diag::Error;
use crate::init;

/// Create a new configuration repository that renders as created.
///
/// Writes strata.yaml (environments, one rollout wave each), schemas/ for the
/// editors' yaml-language-server modelines, and one component with a version
/// v1 (a Deployment and a Service) and one target per environment linked to it
/// (`app/staging/templates -> ../v1`). DIR must be new or empty.
///
/// Examples:
///   strata init shop-config
///   strata init shop-config --component web --environments staging,prod/eastus,prod/westus
///   cd new-repo && strata init
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/ci.md")]
pub struct InitArgs {
    /// The directory to create (new or empty).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The component's name.
    #[arg(long, value_name = "NAME", default_value = init::DEFAULT_COMPONENT)]
    pub component: String,
    /// The environments, in rollout order; nested ones with `/` (`prod/westus`).
    #[arg(long, value_name = "A,B,..", value_delimiter = ',', default_values_t = init::DEFAULT_ENVIRONMENTS.iter().map(|s| s.to_string()))]
    pub environments: Vec<String>,
}

pub fn run(_global: &Global, args: InitArgs) -> Result<Outcome, Error> {
    let written = init::init(&args.dir, &args.component, &args.environments)?;
    eprintln!("created {} files in {}", written.len(), args.dir.display());
    eprintln!("next: strata render --repo {}", args.dir.display());
    Ok(Outcome::Ok)
}
