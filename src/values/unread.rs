//! Unread parameters: values a `parameters.yaml` sets that no template reads.
//!
//! In: for every rendered target, its layers and what its templates read. Out:
//! one warning per (file, leaf path) that no target using the file read, sorted
//! by file and position; with `--strict` they become errors ([`as_errors`]).
//! A `parameters.yaml` is often shared by several targets (an environment's
//! directory above them): a leaf counts as read when any of them read it.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::sync::Arc;

use super::{Layer, LayerKind};
use crate::diag::{Diagnostic, Error, Severity};

/// The warnings, given each target's layers and a test of whether its
/// templates read a leaf path: [`Unread`] over all of them at once (tests).
#[cfg(test)]
pub fn unread_parameters<'a, R>(targets: impl IntoIterator<Item = (&'a [Layer], R)>) -> Vec<Diagnostic>
where
    R: Fn(&[String]) -> bool,
{
    let mut unread = Unread::default();
    for (layers, was_read) in targets {
        unread.add(layers, was_read);
    }
    unread.warnings(|_| None)
}

/// One target's share in the warnings without its layers (a target whose
/// objects came from the cache): per parameter file, each leaf path it sets
/// and whether the target's templates read it.
pub type Leaves = Vec<(String, Vec<(Vec<String>, bool)>)>;

/// The unread parameters, counted target by target, for a caller that renders targets
/// in batches and drops each batch before the next: it keeps, per (file, leaf
/// path), whether some target read it and the layer to quote, not the targets.
/// A file whose readers have all been added can be [`Unread::settle`]d: its
/// read leaves are let go, so that what is kept follows the files in flight
/// and the unread leaves, not the repository.
#[derive(Debug, Default)]
pub struct Unread {
    // File → leaf path → whether a target read it (else the layer to quote).
    seen: BTreeMap<Arc<str>, BTreeMap<Vec<String>, Seen>>,
}

/// What is known of a (file, leaf path) so far.
#[derive(Debug)]
enum Seen {
    /// A target read it.
    Read,
    /// No target read it yet; the layer to quote, unless it was seen only in
    /// [`Leaves`] (it is loaded if the leaf is still unread at the end).
    Unread(Option<Layer>),
}

impl Unread {
    /// One target: its layers and a test of whether its templates read a leaf path.
    pub fn add(&mut self, layers: &[Layer], was_read: impl Fn(&[String]) -> bool) {
        for l in layers.iter().filter(|l| l.kind == LayerKind::Parameters) {
            for leaf in counted(&l.data) {
                let read = was_read(&leaf);
                self.see(l.origin.clone(), leaf, read, || Some(l.clone()));
            }
        }
    }

    /// One target given by its [`Leaves`].
    pub fn add_leaves(&mut self, leaves: &Leaves) {
        for (origin, paths) in leaves {
            let origin: Arc<str> = Arc::from(origin.as_str());
            for (leaf, read) in paths {
                self.see(origin.clone(), leaf.clone(), *read, || None);
            }
        }
    }

    /// Every target that reads `file` has been added: its read leaves are final
    /// and let go (its unread ones stay, for the warnings).
    pub fn settle(&mut self, file: &str) {
        if let Some(leaves) = self.seen.get_mut(file) {
            leaves.retain(|_, seen| matches!(seen, Seen::Unread(_)));
            if leaves.is_empty() {
                self.seen.remove(file);
            }
        }
    }

    fn see(&mut self, origin: Arc<str>, leaf: Vec<String>, read: bool, layer: impl FnOnce() -> Option<Layer>) {
        match self.seen.entry(origin).or_default().entry(leaf) {
            Entry::Occupied(mut e) => match e.get_mut() {
                Seen::Read => {}
                seen if read => *seen = Seen::Read,
                Seen::Unread(known @ None) => *known = layer(),
                Seen::Unread(Some(_)) => {}
            },
            Entry::Vacant(e) => {
                e.insert(if read { Seen::Read } else { Seen::Unread(layer()) });
            }
        }
    }

    /// The [`Leaves`] of a target with `layers` whose templates read what `was_read` says.
    pub fn leaves(layers: &[Layer], was_read: impl Fn(&[String]) -> bool) -> Leaves {
        let parameters = layers.iter().filter(|l| l.kind == LayerKind::Parameters);
        parameters
            .map(|l| {
                let paths = counted(&l.data).map(|leaf| {
                    let read = was_read(&leaf);
                    (leaf, read)
                });
                (l.origin.to_string(), paths.collect())
            })
            .collect()
    }

    /// The warnings, sorted by file and position; `load` gives the layer of a
    /// file seen only in [`Leaves`] (for the line to quote).
    pub fn warnings(self, load: impl Fn(&str) -> Option<Layer>) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let leaves =
            self.seen.into_iter().flat_map(|(file, leaves)| leaves.into_iter().map(move |l| (file.clone(), l)));
        for (file, (leaf, seen)) in leaves {
            let Seen::Unread(layer) = seen else { continue };
            let Some(layer) = layer.or_else(|| load(&file)) else {
                out.push(unread_warning(&file, &leaf, None));
                continue;
            };
            out.push(unread_warning(&file, &leaf, Some(&layer)));
        }
        out.sort_by(|a, b| (&a.path, a.pos).cmp(&(&b.path, b.pos)));
        out
    }
}

/// The leaf paths of a layer's data that count: all but `namespace`, which strata itself reads.
fn counted(data: &serde_json::Value) -> impl Iterator<Item = Vec<String>> + '_ {
    super::leaf_paths(data).into_iter().filter(|leaf| !(leaf.len() == 1 && leaf[0] == "namespace"))
}

/// The warning for a leaf no target read, quoting its line when its layer is known.
fn unread_warning(file: &str, leaf: &[String], layer: Option<&Layer>) -> Diagnostic {
    let dotted = leaf.join(".");
    let mut d = Diagnostic::warning(format!("parameter `{dotted}` is set but no template reads it"));
    match (layer.and_then(|l| l.position(leaf)), layer.and_then(|l| l.text.as_ref())) {
        (Some((l, c)), Some(text)) => {
            let len = leaf.last().map(|k| k.chars().count()).unwrap_or(1);
            d = d.at(file.to_string()).with_source_line(text, l, c, len, "not read by any template");
        }
        _ => d = d.at(file.to_string()),
    }
    d.hint("check the spelling against the version's values.yaml, or remove it")
}

/// `--strict`: the warnings of [`Unread::warnings`] as errors.
pub fn as_errors(mut warnings: Vec<Diagnostic>) -> Error {
    for w in &mut warnings {
        w.severity = Severity::Error;
        w.hints.push("`--strict` makes unread parameters errors".to_string());
    }
    Error::many(warnings)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn layer(kind: LayerKind, origin: &str, text: &str) -> Layer {
        let data = super::super::parse_values_file(text, origin).unwrap();
        Layer { kind, origin: Arc::from(origin), text: Some(Arc::from(text)), prefix: vec![], data: Arc::new(data) }
    }

    #[test]
    fn a_leaf_is_unread_when_no_target_sharing_its_file_reads_it() {
        let shared = layer(LayerKind::Parameters, "api/prod/parameters.yaml", "a: 1\nb: 2\nnamespace: x\n");
        let east = [shared.clone(), layer(LayerKind::Parameters, "api/prod/east/parameters.yaml", "c: 3\n")];
        let west = [shared, layer(LayerKind::Defaults, "api/v1/values.yaml", "d: 4\n")];
        let reads = |names: &'static [&'static str]| move |p: &[String]| names.contains(&p[0].as_str());
        let warnings = unread_parameters([(&east[..], reads(&["a"])), (&west[..], reads(&["d"]))]);
        let got: Vec<(String, String)> =
            warnings.iter().map(|d| (d.path.clone().unwrap(), d.pos.map(|p| p.line).unwrap().to_string())).collect();
        // `a` is read by east, `namespace` by strata, `d` is not a parameter.
        assert_eq!(
            got,
            [("api/prod/east/parameters.yaml".into(), "1".into()), ("api/prod/parameters.yaml".into(), "2".into())]
        );
        assert!(warnings[1].message.contains("parameter `b` is set"));
        let e = as_errors(warnings);
        assert!(e.diagnostics.iter().all(|d| d.severity == Severity::Error));
    }

    #[test]
    fn settled_files_keep_only_their_unread_leaves_and_stored_leaves_count_alike() {
        let shared = layer(LayerKind::Parameters, "api/parameters.yaml", "a: 1\nb: 2\nc: 3\n");
        let own = layer(LayerKind::Parameters, "api/east/parameters.yaml", "d: 4\n");
        let (east, west) = ([shared.clone(), own], [shared.clone()]);
        let reads = |names: &'static [&'static str]| move |p: &[String]| names.contains(&p[0].as_str());
        let want: Vec<String> = unread_parameters([(&east[..], reads(&["a", "d"])), (&west[..], reads(&["b"]))])
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert!(want.len() == 1 && want[0].contains("`c`"), "{want:?}");

        let mut u = Unread::default();
        u.add(&east, reads(&["a", "d"]));
        // east is `east`'s only reader: settled, nothing of it is kept.
        u.settle("api/east/parameters.yaml");
        assert!(!u.seen.contains_key("api/east/parameters.yaml"));
        // west given by its stored leaves, as a target from the cache is.
        u.add_leaves(&Unread::leaves(&west, reads(&["b"])));
        u.settle("api/parameters.yaml");
        let kept: Vec<&Vec<String>> = u.seen["api/parameters.yaml"].keys().collect();
        assert_eq!(kept, [&vec!["c".to_string()]], "only the unread leaf stays");
        // The warning quotes its line: the layer came with east.
        let got: Vec<String> = u.warnings(|_| None).iter().map(|d| d.to_string()).collect();
        assert_eq!(got, want);
    }
}
