//! `docs/reference/rules.md`: the rules of `strata check` ([`crate::check::rules::RULES`])
//! and the API server's update rules that `strata rollout plan` flags as apply failures
//! ([`crate::rollout::risks::immutable::RULES`]), written from the tables in the code.

use crate::check::Level;
use crate::check::rules::RULES;
use crate::rollout::risks::immutable::{self, When};

/// The page.
pub fn page() -> String {
    let mut out = String::from(
        "# Rules reference\n\n\
         <!-- Generated from the rule tables in the code by src/reference/rules.rs; do not edit. Change \
         src/check/rules.rs or src/rollout/risks/immutable.rs, then run \
         `strata schema --docs docs/reference` (or `STRATA_REGENERATE=1 cargo test --lib reference`). -->\n\n\
         1. [`strata check` rules](#strata-check-rules)\n\
         2. [Updates the API server refuses](#updates-the-api-server-refuses) (`strata rollout plan`, risk `apply-failure`)\n",
    );
    out.push_str(&check_rules());
    out.push_str(&update_rules());
    out
}

fn check_rules() -> String {
    let mut out = format!(
        "\n## `strata check` rules\n\n\
         Each rule has a stable name and a default severity: `error` findings make `strata check` exit 1, \
         `warning` findings are printed (and fail with `--strict`). Change a severity, or turn a rule `off`, \
         per rule in `strata.yaml` ([`check.rules`](config.md#check)); run only some rules with \
         `strata check --rules schema,deprecated-api`.\n\n\
         To exempt one object, annotate it with `{}: \"probes,image-tag\"` (or `\"*\"` for every rule). \
         kube-linter's `{}<check>` annotations are honoured for the rules that stand for its checks \
         (last column).\n\n\
         | Rule | Default | What it checks | How to fix | kube-linter checks |\n|---|---|---|---|---|\n",
        crate::check::IGNORE_ANNOTATION,
        crate::check::KUBE_LINTER_IGNORE_PREFIX,
    );
    for r in RULES {
        let level = match r.default {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Off => "off",
        };
        let linter: Vec<String> = r.kube_linter.iter().map(|c| format!("`{c}`")).collect();
        let linter = if linter.is_empty() { "—".to_string() } else { linter.join(", ") };
        let row = [format!("`{}`", r.name), level.to_string(), r.why.to_string(), r.fix.to_string(), linter];
        out.push_str(&row_of(&row));
    }
    out
}

fn update_rules() -> String {
    let mut out = String::from(
        "\n## Updates the API server refuses\n\n\
         `strata rollout plan` reports an `apply-failure` risk when a change breaks one of these rules of the \
         API server's update validation (Kubernetes 1.36, from the `ValidateXxxUpdate` functions of \
         `pkg/apis/*/validation`, checked against a real kube-apiserver by `tests/rollout_risks.rs`). A field \
         the manifest leaves out counts as its server default, so writing the default out is no change. \
         Custom resources are checked against the `x-kubernetes-validations` transition rules \
         (`oldSelf`) of the CRDs the repository renders.\n\n\
         | Kind | Field | Manifest field | Server default | Refused when | The server says |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in immutable::RULES {
        let kind = if r.group.is_empty() { r.kind.to_string() } else { format!("{}/{}", r.group, r.kind) };
        let default = r.default.map(|d| format!("`{d}`")).unwrap_or_else(|| "—".to_string());
        let row =
            [kind, format!("`{}`", r.field), format!("`{}`", r.pointer), default, when(r.when), r.wording.to_string()];
        out.push_str(&row_of(&row));
    }
    out
}

/// [`When`] in words.
fn when(w: When) -> String {
    match w {
        When::Always => "any change".to_string(),
        When::ImmutableSet => "any change while the object is `immutable: true`".to_string(),
        When::JobCompletions => {
            "any change, except an Indexed Job keeping `completions` equal to `parallelism`".to_string()
        }
        When::JobTemplate => "any change; a Job created suspended may change its template's labels, annotations \
                              and scheduling directives (`nodeSelector`, `tolerations`, `affinity`, `schedulingGates`)"
            .to_string(),
        When::ClusterIp => "the manifest sets another address than the one allocated (left out, it stays); \
                            not for `type: ExternalName`"
            .to_string(),
        When::SpecExcept(keys) => {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            format!("a change of `spec` other than {}", keys.join(", "))
        }
    }
}

/// One table row; `|` inside a cell escaped.
fn row_of(cells: &[String]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
    format!("| {} |\n", cells.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_row() {
        let page = page();
        for r in RULES {
            assert!(page.contains(&format!("| `{}` | ", r.name)), "check rule {} has no row", r.name);
        }
        let rows = page.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Rule") && !l.starts_with("| Kind"));
        assert_eq!(rows.count(), RULES.len() + immutable::RULES.len());
        assert!(page.contains("| `image-tag` | warning | "));
        assert!(page.contains("| apps/StatefulSet | `spec` | `/spec` | — | a change of `spec` other than `replicas`,"));
        assert!(page.contains("| Secret | `type` | `/type` | `\"Opaque\"` | any change | field is immutable |"));
    }
}
