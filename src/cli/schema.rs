//! `strata schema`: write the JSON Schemas of `strata.yaml` and `component.yaml`.

use std::path::PathBuf;

use super::{Global, Outcome};
use crate::diag::{Diagnostic, Error};
use crate::repo::config;

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
pub struct SchemaArgs {
    /// Directory to write `strata.schema.json` and `component.schema.json` into.
    #[arg(long, value_name = "DIR", default_value = "schemas")]
    pub out: PathBuf,
    /// Only compare with the files in DIR; exit 1 when they are stale.
    #[arg(long)]
    pub check: bool,
}

pub fn run(_global: &Global, args: SchemaArgs) -> Result<Outcome, Error> {
    let mut stale = Vec::new();
    for (name, text) in config::schemas() {
        let path = args.out.join(name);
        let current = std::fs::read_to_string(&path).ok();
        if current.as_deref() == Some(text.as_str()) {
            continue;
        }
        if args.check {
            stale.push(path.display().to_string());
            continue;
        }
        std::fs::create_dir_all(&args.out)
            .and_then(|_| {
                let tmp = args.out.join(format!(".{name}.tmp"));
                std::fs::write(&tmp, &text)?;
                std::fs::rename(&tmp, &path)
            })
            .map_err(|e| Diagnostic::error(format!("cannot write `{}`: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    if stale.is_empty() {
        Ok(Outcome::Ok)
    } else {
        for s in &stale {
            eprintln!("stale: {s}");
        }
        eprintln!("hint: run `strata schema --out {}` to regenerate", args.out.display());
        Ok(Outcome::Found)
    }
}
