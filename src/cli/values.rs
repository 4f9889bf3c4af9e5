//! `strata values`: the merged values of one target, optionally with origins.

use super::revision::RevisionArgs;
use super::{Global, Outcome, ValueLayersArgs};
use crate::diag::Error;
use crate::values::{self, show};

/// Print the merged values one target renders with, and where each comes from.
///
/// The layers, lowest precedence first: the version's values.yaml, strata.yaml
/// `values:`, strata.yaml `environments.<env>.values:`, each parameters.yaml from
/// the component down to the target, `--values` files, `--set`, `--set-string`.
///
/// With --show-origin each leaf is followed by a comment naming the file and
/// line that set it and, highest first, the layers it overrode
/// (`# frontend/prod/westus/parameters.yaml:3 (overrides strata.yaml:29)`);
/// keys deleted with `null` are listed at the end (`# deleted: a.b by file:line`).
/// With KEY.PATH only that value is printed (a scalar bare, for scripts).
///
/// Examples:
///   strata values --repo example-repo frontend/prod/westus --show-origin
///   strata values frontend/eastus image.tag
///   strata values frontend/eastus global --show-origin --set global.region=x
///   strata values api/staging --format json --show-origin
///   strata values --ref HEAD~1 frontend/eastus replicas
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/ci.md")]
pub struct ValuesCmdArgs {
    /// The target: `component/environment`.
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Print only this value: `image.tag`, `ports[0]`, `a\.b` for a dot in a key.
    #[arg(value_name = "KEY.PATH")]
    pub key: Option<String>,
    /// Annotate each value with the file:line that set it and what it overrode.
    #[arg(long)]
    pub show_origin: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    #[command(flatten)]
    pub revision: RevisionArgs,
    #[command(flatten)]
    pub layers: ValueLayersArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

pub fn run(global: &Global, args: ValuesCmdArgs) -> Result<Outcome, Error> {
    let layers = args.layers.options(false)?;
    let repo = args.revision.open(global, std::slice::from_ref(&args.target))?.repo;
    let merged = values::layers::values_of(&repo, &args.target, &layers.values_files, &layers.set, &layers.set_string)?;
    let format = match args.format {
        Format::Yaml => show::Format::Yaml,
        Format::Json => show::Format::Json,
    };
    let out = show::show(&merged, args.key.as_deref(), args.show_origin, format)?;
    super::write_stdout(out.as_bytes())?;
    Ok(Outcome::Ok)
}
