//! The stream `strata render` prints: every plan's objects in one document.
//!
//! In: the environments' [`Plan`]s, in order. Out: multi-document YAML with the
//! `# Source:` / `# Target:` comments of the bundle files ([`to_yaml`]), or a
//! JSON array of the bodies ([`to_json`]), environment by environment, in apply
//! order. The YAML is the bundle's files concatenated without the split into
//! phase files.

use rayon::prelude::*;
use serde_json::Value;

use crate::order::{Placed, Plan};

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
pub fn to_json(plans: &[Plan<'_>]) -> String {
    let all: Vec<&Value> = plans.iter().flat_map(|p| p.objects.iter()).map(|o| &o.resource.body).collect();
    let mut s = serde_json::to_string_pretty(&all).expect("JSON values serialize");
    s.push('\n');
    s
}
