//! The stream `strata render` prints: every plan's objects in one document.
//!
//! In: the environments' [`Plan`]s, in order. Out: multi-document YAML with the
//! `# Source:` / `# Target:` comments of the bundle files ([`to_yaml`]), or a
//! JSON array of the bodies ([`to_json`]), environment by environment, in apply
//! order. The YAML is the bundle's files concatenated without the split into
//! phase files.

use rayon::prelude::*;
use serde_json::Value;

use crate::atomic::Spool;
use crate::diag::{Diagnostic, Error};
use crate::order::{Placed, Plan};
use crate::pipeline::Options;
use crate::repo::{Repo, Target};

/// The formats `strata render` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// [`to_yaml`].
    Yaml,
    /// [`to_json`].
    Json,
}

/// Compiles `targets` batch by batch ([`super::batches::plan_each`]) and
/// appends each batch's objects to `out` in `format`: the bytes of [`to_yaml`]
/// or [`to_json`] over every plan, without holding every object. Returns the
/// warnings. On an error, `out` holds part of the output: print it only on success.
pub fn render(
    repo: &Repo,
    targets: &[&Target],
    opts: &Options,
    format: Format,
    out: &mut Spool,
) -> Result<Vec<Diagnostic>, Error> {
    let mut first = true;
    if format == Format::Json {
        out.push(b"[")?;
    }
    let streamed = super::batches::plan_each(repo, targets, opts, |_, plans| match format {
        Format::Yaml => out.push(to_yaml(&plans).as_bytes()),
        Format::Json => {
            for body in plans.iter().flat_map(|p| p.objects.iter()).map(|o| &o.resource.body) {
                out.push(if first { b"\n  " } else { b",\n  " })?;
                out.push(json_element(body).as_bytes())?;
                first = false;
            }
            Ok(())
        }
    })?;
    if format == Format::Json {
        out.push(if first { b"]\n" } else { b"\n]\n" })?;
    }
    Ok(streamed.warnings)
}

/// One element of [`to_json`]'s array: pretty JSON indented one level (a JSON
/// string holds no line break, so every line break starts a line of the value).
fn json_element(body: &Value) -> String {
    serde_json::to_string_pretty(body).expect("JSON values serialize").replace('\n', "\n  ")
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
                super::write_document(&mut out, o);
            }
            out
        })
        .collect();
    chunks.concat()
}

/// A JSON array of every resource, in the same order as the YAML.
#[cfg(test)]
pub fn to_json(plans: &[Plan<'_>]) -> String {
    let all: Vec<&Value> = plans.iter().flat_map(|p| p.objects.iter()).map(|o| &o.resource.body).collect();
    let mut s = serde_json::to_string_pretty(&all).expect("JSON values serialize");
    s.push('\n');
    s
}
