//! `kustomization.yaml` as written: the serde types [`crate::yaml::typed`] reads
//! the file into, before any file it names is read or any value is checked.
//!
//! Every field is optional (an empty value is no value, as for kustomize); unknown
//! fields are errors, and the kustomize fields strata does not support are errors
//! that say what to do instead ([`FOREIGN`]).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::yaml::typed::TypedOptions;

/// How messages name the file's nested mappings, by the type that reads them.
const NAMES: &[(&str, &str)] = &[
    ("PatchEntry", "a `patches` entry"),
    ("Json6902Entry", "a `patchesJson6902` entry"),
    ("TargetEntry", "a patch `target`"),
    ("OptionsEntry", "patch `options`"),
    ("LabelEntry", "a `labels` entry"),
    ("FieldSpecEntry", "a field spec"),
    ("ReplicaEntry", "a `replicas` entry"),
    ("ImageEntry", "an `images` entry"),
    ("GeneratorEntry", "a generator entry"),
    ("GeneratorOptionsEntry", "generator `options`"),
    ("ReplacementEntry", "a `replacements` entry"),
    ("SourceEntry", "a replacement `source`"),
    ("ReplacementTargetEntry", "a replacement target"),
    ("FieldOptionsEntry", "replacement `options`"),
];

/// Kustomize fields strata knows and does not support, with what to do instead.
const FOREIGN: &[(&str, &str)] = &[
    ("bases", "list plain YAML files under `resources:`, or move the shared objects into the version's templates"),
    ("components", "move the shared transforms into each target's kustomization.yaml"),
    ("generators", "plugins are not supported (a render depends on the repository only); use templates or a patch"),
    ("transformers", "plugins are not supported (a render depends on the repository only); use templates or a patch"),
    ("validators", "plugins are not supported (a render depends on the repository only); use templates or a patch"),
    ("vars", "use `replacements`, or set the value in parameters.yaml and use it in the templates"),
    ("crds", "custom resources merge as plain maps; lists in them are replaced"),
    ("configurations", "custom field specs are not supported; use a patch"),
    ("openapi", "strata uses the built-in Kubernetes merge keys"),
    ("helmCharts", "strata renders templates itself; put the chart's templates in a version directory"),
    ("helmGlobals", "strata renders templates itself"),
    ("buildMetadata", "not supported"),
    ("sortOptions", "strata orders resources itself (see `strata bundle --explain`)"),
];

/// Kustomize reads its file with Go's `encoding/json`, which matches field names in
/// any letter case (`patchesJSON6902`, as kustomize's own documentation spells it).
pub(super) const OPTIONS: TypedOptions<'static> =
    TypedOptions { names: NAMES, foreign: FOREIGN, foreign_tool: "kustomize", any_case: true };

/// The fields strata reads, in the order the file's problems are reported (see
/// [`super::super::apply`] for the order they apply in).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct KustomizationYaml {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    /// Kustomize ignores a kustomization's own metadata when building; so does
    /// strata, once it is known to be a mapping.
    #[serde(rename = "metadata")]
    pub _metadata: Option<Map<String, Value>>,
    pub resources: Option<Vec<String>>,
    pub patches_strategic_merge: Option<Vec<String>>,
    pub patches: Option<Vec<PatchEntry>>,
    pub namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub labels: Option<Vec<LabelEntry>>,
    pub common_labels: Option<StringPairs>,
    pub common_annotations: Option<StringPairs>,
    pub patches_json6902: Option<Vec<Json6902Entry>>,
    pub replicas: Option<Vec<ReplicaEntry>>,
    pub images: Option<Vec<ImageEntry>>,
    pub config_map_generator: Option<Vec<GeneratorEntry>>,
    pub secret_generator: Option<Vec<GeneratorEntry>>,
    pub generator_options: Option<GeneratorOptionsEntry>,
    pub replacements: Option<Vec<ReplacementEntry>>,
}

/// A `configMapGenerator` or `secretGenerator` entry (`type` is for Secrets only).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct GeneratorEntry {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub behavior: Option<String>,
    pub literals: Option<Vec<String>>,
    pub files: Option<Vec<String>>,
    pub envs: Option<Vec<String>>,
    /// kustomize's older, single-file spelling of `envs`.
    pub env: Option<String>,
    pub options: Option<GeneratorOptionsEntry>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

/// `generatorOptions`, or a generator's `options`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct GeneratorOptionsEntry {
    pub labels: Option<StringPairs>,
    pub annotations: Option<StringPairs>,
    pub disable_name_suffix_hash: Option<bool>,
    pub immutable: Option<bool>,
}

/// A `replacements` entry: `path` to a file of replacements, or one written inline.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplacementEntry {
    pub path: Option<String>,
    pub source: Option<SourceEntry>,
    pub targets: Option<Vec<ReplacementTargetEntry>>,
}

/// A replacement's `source`: one object, and the field to copy.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct SourceEntry {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub field_path: Option<String>,
    pub options: Option<FieldOptionsEntry>,
}

/// One of a replacement's `targets`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ReplacementTargetEntry {
    pub select: Option<TargetEntry>,
    pub reject: Option<Vec<TargetEntry>>,
    pub field_paths: Option<Vec<String>>,
    pub options: Option<FieldOptionsEntry>,
}

/// `options` of a replacement source or target.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FieldOptionsEntry {
    pub delimiter: Option<String>,
    pub index: Option<i64>,
    pub create: Option<bool>,
}

/// A `patches` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PatchEntry {
    pub path: Option<String>,
    pub patch: Option<String>,
    pub target: Option<TargetEntry>,
    pub options: Option<OptionsEntry>,
}

/// A `patchesJson6902` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Json6902Entry {
    pub path: Option<String>,
    pub patch: Option<String>,
    pub target: Option<TargetEntry>,
}

/// A patch `target`: regular expressions and label selectors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct TargetEntry {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

/// A patch's `options`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct OptionsEntry {
    pub allow_name_change: Option<bool>,
    pub allow_kind_change: Option<bool>,
}

/// A `labels` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct LabelEntry {
    pub pairs: Option<StringPairs>,
    pub include_selectors: Option<bool>,
    pub include_templates: Option<bool>,
    pub fields: Option<Vec<FieldSpecEntry>>,
}

/// A field spec of a `labels` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FieldSpecEntry {
    pub path: Option<String>,
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub create: Option<bool>,
}

/// A `replicas` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplicaEntry {
    pub name: Option<String>,
    pub count: Option<i64>,
}

/// An `images` entry.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ImageEntry {
    pub name: Option<String>,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
    /// Read to be refused with a reason (see [`super::transforms`]).
    pub tag_suffix: Option<IgnoredAny>,
}

/// A mapping of strings to strings, in the order written (`commonLabels`).
#[derive(Debug, Default, Clone)]
pub(super) struct StringPairs(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for StringPairs {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<StringPairs, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = StringPairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StringPairs, A::Error> {
                let mut out = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    out.push(pair);
                }
                Ok(StringPairs(out))
            }
        }
        d.deserialize_map(Pairs)
    }
}
