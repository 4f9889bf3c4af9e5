//! `strata.yaml` and `component.yaml`: the typed configuration files.
//!
//! Both are read with unknown fields rejected, so a typo is an error naming the
//! file and line rather than a setting silently ignored. Their JSON Schemas in
//! `schemas/` are generated from these types (`strata schema`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::yaml::typed::{self, TypedOptions};

/// `strata.yaml`: repository-wide settings. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "strata.yaml", description = "Repository-wide settings of a strata configuration repository")]
pub struct RepoConfig {
    /// Values shared by every target (layer 2 of 5, above each version's `values.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Value>,
    /// Settings per environment, keyed by environment path (`eastus`, `prod/westus`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, EnvironmentConfig>,
    /// Rollout waves: groups of environments deployed one after another.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rollout: Vec<RolloutWave>,
    /// The Kubernetes version templates see as `Capabilities.KubeVersion` (default `1.33.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_version: Option<String>,
    /// Label every rendered object with its target, so that `diff --live` can find
    /// objects a render no longer contains (off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<TrackingConfig>,
    /// Fields to ignore when comparing with a live cluster, in the spirit of
    /// Argo CD's `ignoreDifferences`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore_differences: Vec<IgnoreRule>,
    /// `strata check`: rule severities, extra CRDs, objects that exist outside the render.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckConfig>,
    /// Diffs between revisions (`strata diff`, `review`, `rollout plan`, `promote`):
    /// fields not to review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<DiffConfig>,
    /// Limits on what a repository may make strata read and write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsConfig>,
}

/// `strata.yaml` `limits:`; each is refused with an error naming the file or target
/// and the limit.
///
/// ```yaml
/// limits:
///   maxOutputBytes: 134217728   # 128 MiB per target
///   maxFileBytes: 16777216      # 16 MiB per file
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LimitsConfig {
    /// The most YAML one target's templates may render, in bytes (default 64 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_output_bytes: Option<u64>,
    /// The largest file strata reads from the repository (templates, values,
    /// parameters, schemas, kustomizations, patches, `Files`), in bytes (default 8 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_file_bytes: Option<u64>,
}

/// The default of `limits.maxOutputBytes`: 64 MiB.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 64 << 20;
pub use crate::source::DEFAULT_MAX_FILE_BYTES;

impl LimitsConfig {
    pub fn max_output_bytes(this: Option<&LimitsConfig>) -> u64 {
        this.and_then(|l| l.max_output_bytes).unwrap_or(DEFAULT_MAX_OUTPUT_BYTES)
    }

    pub fn max_file_bytes(this: Option<&LimitsConfig>) -> u64 {
        this.and_then(|l| l.max_file_bytes).unwrap_or(DEFAULT_MAX_FILE_BYTES)
    }
}

/// `strata.yaml` `check:`: how `strata check` judges the render (rules in
/// `docs/reference/rules.md`).
///
/// ```yaml
/// check:
///   rules: {image-tag: error, read-only-root-fs: off}
///   crds: [platform/crds/backup.yaml]
///   external: [Secret/shop/db-password, ConfigMap/global-settings, Namespace/monitoring]
///   policies: [platform/policies/replicas.yaml]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CheckConfig {
    /// Severity per rule name (`schema`, `probes`, ...; see `docs/reference/rules.md`):
    /// `error`, `warning` or `off`; rules not named keep their default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, CheckLevel>,
    /// Repository-relative files holding CustomResourceDefinitions of custom resources
    /// that the render does not include.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crds: Vec<String>,
    /// Objects that exist in the cluster without being rendered: `Kind/name` (any
    /// namespace) or `Kind/namespace/name`; `*` as the name matches any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external: Vec<String>,
    /// Repository-relative files holding ValidatingAdmissionPolicies and their bindings
    /// that the cluster enforces but the render does not include.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
}

/// What a check rule does when it finds something: `error` fails the check (exit 1),
/// `warning` is printed (and fails only with `--strict`), `off` does not run the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckLevel {
    Error,
    Warning,
    Off,
}

/// Settings of one environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnvironmentConfig {
    /// Values shared by every component in this environment (layer 3 of 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Value>,
}

/// One wave of a rollout.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RolloutWave {
    /// Name of the wave (`canary`, `wave-1`).
    pub name: String,
    /// Environments in this wave; globs allowed (`prod/*`). When `rollout:` is
    /// set, every environment belongs to exactly one wave.
    pub environments: Vec<String>,
    /// Wait before this wave: `true` (until someone resumes it) or a duration
    /// (`30m`, `1h30m`, `45s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Pause>,
    /// How many of the wave's targets update at once: a count (`2`) or a
    /// percentage (`"25%"`); omitted means all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_update: Option<MaxUpdate>,
}

/// A wave's `pause`: `true` waits for someone; a duration (`30m`) waits that long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Pause {
    Manual(bool),
    /// A duration: digits followed by `h`, `m` or `s`, repeated (`1h30m`).
    Duration(#[schemars(regex(pattern = r"^([0-9]+[hms])+$"))] String),
}

/// A wave's `maxUpdate`: a count of targets or a percentage of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum MaxUpdate {
    Count(u32),
    /// `25%`: a percentage from 0 to 100.
    Percent(#[schemars(regex(pattern = r"^([0-9]|[1-9][0-9]|100)%$"))] String),
}

/// `strata.yaml` `tracking:`: labels that tie each rendered object to its target,
/// environment and repository, so that objects no longer rendered can be found and pruned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrackingConfig {
    /// Whether to add the tracking labels to every rendered object (but CRDs).
    #[serde(default)]
    pub enabled: bool,
    /// Label key (default `strata.dev/target`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A stable id of this repository, the value of the `strata.dev/repository`
    /// label (a label value: letters, digits, `-`, `_`, `.`, at most 63; default: the
    /// name of the repository root directory). Set it when checkouts of the
    /// repository live in directories of different names (CI runners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// End each environment's bundle with an inventory: a ConfigMap listing the
    /// identities of the objects it applies, which `strata diff --live` reads to
    /// find objects whose labels were removed by hand (default `false`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inventory: bool,
    /// The namespace of the inventory ConfigMaps (default `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_namespace: Option<String>,
}

/// `strata.yaml` `diff:`: what diffs between revisions leave out.
///
/// ```yaml
/// diff:
///   ignore:
///     - kind: Deployment
///       jsonPointers: [/spec/template/metadata/annotations/checksum~1config]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DiffConfig {
    /// Fields hidden from every diff format for matching objects (each format says
    /// how many it hid); nothing is hidden by default.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<IgnoreRule>,
}

/// Fields ignored in diffs for matching objects (`ignoreDifferences`: live diffs;
/// `diff.ignore`: diffs between revisions).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IgnoreRule {
    /// API group (empty for the core group); omitted means any group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind; omitted means any kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Object name; omitted means any name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace; omitted means any namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// JSON pointers (RFC 6901) of the fields to ignore, like `/spec/replicas`.
    #[serde(default)]
    pub json_pointers: Vec<String>,
}

/// `component.yaml`: settings of one component. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "component.yaml", description = "Settings of one strata component")]
pub struct ComponentConfig {
    /// Namespace of the component's objects (`Release.Namespace`); a target's
    /// `parameters.yaml` may override it with a top-level `namespace:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Components this one applies after (by name): their objects come first in
    /// every environment's bundle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    /// Who to ask about this component (names, e-mail addresses or teams; free text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// A line about what the component is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Parses a typed configuration file, one diagnostic per problem, each naming
/// `path` and the position.
pub fn parse_config<T: serde::de::DeserializeOwned + Default>(text: &str, path: &str) -> Result<T, Vec<Diagnostic>> {
    typed::read(text, path, &TypedOptions::default()).map_err(|diags| {
        let hint = format!("see schemas/{}.schema.json for the fields it takes", schema_name(path));
        diags.into_iter().map(|d| d.hint(hint.clone())).collect()
    })
}

fn schema_name(path: &str) -> &'static str {
    if path.ends_with("component.yaml") { "component" } else { "strata" }
}

/// The JSON Schemas of the configuration files, as written to `schemas/`.
pub fn schemas() -> Vec<(&'static str, String)> {
    let strata = schemars::schema_for!(RepoConfig);
    let component = schemars::schema_for!(ComponentConfig);
    let pretty = |s: &schemars::Schema| serde_json::to_string_pretty(s).expect("schemas serialize") + "\n";
    vec![("strata.schema.json", pretty(&strata)), ("component.schema.json", pretty(&component))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_errors_with_positions() {
        let e =
            parse_config::<ComponentConfig>("namespace: shop\ndependson: [db]\n", "api/component.yaml").unwrap_err();
        assert_eq!(e[0].message, "unknown field `dependson` in component.yaml");
        assert_eq!(e[0].pos.map(|p| p.line), Some(2));
        assert_eq!(e[0].path.as_deref(), Some("api/component.yaml"));
        assert_eq!(
            e[0].hints,
            ["did you mean `dependsOn`?", "see schemas/component.schema.json for the fields it takes"]
        );
    }

    #[test]
    fn reads_a_full_component() {
        let c: ComponentConfig = parse_config("namespace: shop\ndependsOn: [db]\nowners: [a@b]\n", "c.yaml").unwrap();
        assert_eq!(c.namespace.as_deref(), Some("shop"));
        assert_eq!(c.depends_on, vec!["db"]);
        let e: ComponentConfig = parse_config("# nothing\n", "c.yaml").unwrap();
        assert_eq!(e, ComponentConfig::default());
    }
}
