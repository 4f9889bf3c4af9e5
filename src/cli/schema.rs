//! `strata schema`: write the JSON Schemas of `strata.yaml` and `component.yaml`.

use std::path::PathBuf;

use super::{Global, Outcome};
use crate::diag::Error;
use crate::repo::schemas;

/// Write the JSON Schemas of `strata.yaml` and `component.yaml`.
///
/// Editors with yaml-language-server pick them up from a modeline:
///   # yaml-language-server: $schema=../schemas/component.schema.json
///
/// Examples:
///   strata schema --out schemas
///   strata schema --out schemas --check
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/reference/config.md")]
pub struct SchemaArgs {
    /// Directory to write `strata.schema.json` and `component.schema.json` into.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub out: PathBuf,
    /// Only compare with the files in DIR; exit 1 when they are stale.
    #[arg(long)]
    pub check: bool,
}

pub fn run(_global: &Global, args: SchemaArgs) -> Result<Outcome, Error> {
    if !args.check {
        schemas::write(&args.out, |path| eprintln!("wrote {}", path.display()))?;
        return Ok(Outcome::Ok);
    }
    let stale = schemas::stale(&args.out);
    if stale.is_empty() {
        return Ok(Outcome::Ok);
    }
    eprint!("{}", schemas::stale_report(&args.out, &stale));
    Ok(Outcome::Found)
}
