//! `strata schema`: write the JSON Schemas of `strata.yaml` and `component.yaml`,
//! and the reference pages generated from the code.

use std::path::PathBuf;

use super::{Global, Outcome};
use crate::diag::Error;
use crate::reference;
use crate::repo::schemas;

/// Write the JSON Schemas of `strata.yaml` and `component.yaml`.
///
/// Editors with yaml-language-server pick them up from a modeline:
///   # yaml-language-server: $schema=../schemas/component.schema.json
///
/// With --docs, also the reference pages generated from the code: `config.md`
/// (the fields of both files, from the schemas) and `rules.md` (the rules of
/// `strata check` and the updates the API server refuses).
///
/// Examples:
///   strata schema --out schemas
///   strata schema --out schemas --docs docs/reference --check
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/reference/config.md")]
pub struct SchemaArgs {
    /// Directory to write `strata.schema.json` and `component.schema.json` into.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub out: PathBuf,
    /// Also write the reference pages `config.md` and `rules.md` into DIR
    /// (`docs/reference` in strata's repository).
    #[arg(long, value_name = "DIR")]
    pub docs: Option<PathBuf>,
    /// Only compare with the files in DIR; exit 1 when they are stale.
    #[arg(long)]
    pub check: bool,
}

pub fn run(_global: &Global, args: SchemaArgs) -> Result<Outcome, Error> {
    let docs = args.docs.as_deref();
    if !args.check {
        schemas::write(&args.out, |path| eprintln!("wrote {}", path.display()))?;
        if let Some(dir) = docs {
            reference::write(dir, |path| eprintln!("wrote {}", path.display()))?;
        }
        return Ok(Outcome::Ok);
    }
    let mut stale = schemas::stale(&args.out);
    stale.extend(docs.map(reference::stale).unwrap_or_default());
    if stale.is_empty() {
        return Ok(Outcome::Ok);
    }
    eprint!("{}", schemas::stale_report(&args.out, docs, &stale));
    Ok(Outcome::Found)
}
