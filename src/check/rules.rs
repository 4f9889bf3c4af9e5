//! The rules of `strata check`: stable names, default severities, and the why and fix the
//! README documents. The practices come from the seeds (`../shared/seeds/`): health probes,
//! resource requests and limits, a locked-down security context, pinned images.

use super::config::Level;

/// One rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub default: Level,
    /// Why the rule exists (one line).
    pub why: &'static str,
    /// How to fix a finding (one line).
    pub fix: &'static str,
    /// kube-linter checks this rule stands for (`ignore-check.kube-linter.io/<check>`).
    pub kube_linter: &'static [&'static str],
}

use Level::{Error, Warning};

/// Every rule, in the order docs/reference/checks.md lists them.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    Rule { name: "schema", default: Error,
        why: "the API server refuses unknown fields, wrong types, missing required fields and values outside an enum (fieldValidation=Strict)",
        fix: "correct the field named in the finding; for a custom resource, add its CRD to the render or to `check.crds`",
        kube_linter: &[] },
    Rule { name: "deprecated-api", default: Error,
        why: "an apiVersion removed in the cluster's Kubernetes version cannot be applied; a deprecated one will be removed",
        fix: "move the object to the replacement apiVersion the finding names (Kubernetes deprecation guide)",
        kube_linter: &["no-extensions-v1beta"] },
    Rule { name: "server-validation", default: Error,
        why: "the API server validates names, labels, replicas, selectors, ports and schedules beyond what OpenAPI expresses",
        fix: "correct the value as the message says; the server would refuse the object",
        kube_linter: &["mismatching-selector", "invalid-target-ports"] },
    Rule { name: "cel", default: Error,
        why: "the API server evaluates the `x-kubernetes-validations` CEL rules of a CRD's schema and refuses an object that fails one",
        fix: "change the field the finding names so the rule holds; the message is the server's",
        kube_linter: &[] },
    Rule { name: "admission-policy", default: Error,
        why: "the API server applies the ValidatingAdmissionPolicies bound in the cluster (rendered or in `check.policies`) and refuses (Deny) or warns (Warn) on a failed validation",
        fix: "change the object so the policy's validation holds, or narrow the policy's or binding's match; the message is the server's",
        kube_linter: &[] },
    Rule { name: "probes", default: Warning,
        why: "without a readiness probe a Service sends traffic to pods that are not ready; without a liveness probe a hung process is never restarted",
        fix: "add `readinessProbe` and `livenessProbe` (httpGet, tcpSocket, grpc or exec) to every container of the workload",
        kube_linter: &["no-liveness-probe", "no-readiness-probe"] },
    Rule { name: "resources", default: Warning,
        why: "the scheduler places pods by their requests; a container without a memory limit can starve its node",
        fix: "set `resources.requests.cpu`, `resources.requests.memory` and `resources.limits.memory`",
        kube_linter: &["unset-cpu-requirements", "unset-memory-requirements"] },
    Rule { name: "run-as-non-root", default: Warning,
        why: "a process running as root in a container is one escape away from root on the node",
        fix: "set `securityContext.runAsNonRoot: true` (pod or container) and a non-zero `runAsUser` the image supports",
        kube_linter: &["run-as-non-root"] },
    Rule { name: "privilege-escalation", default: Warning,
        why: "setuid binaries can gain more privileges than the container started with",
        fix: "set `securityContext.allowPrivilegeEscalation: false` on every container",
        kube_linter: &["privilege-escalation-container"] },
    Rule { name: "drop-capabilities", default: Warning,
        why: "the default Linux capabilities (NET_RAW and others) are more than most processes need",
        fix: "set `securityContext.capabilities.drop: [ALL]` and add back only what the process needs",
        kube_linter: &["drop-net-raw-capability"] },
    Rule { name: "read-only-root-fs", default: Warning,
        why: "a writable root filesystem lets an attacker change the container's binaries",
        fix: "set `securityContext.readOnlyRootFilesystem: true` and mount an `emptyDir` where the process writes",
        kube_linter: &["no-read-only-root-fs"] },
    Rule { name: "privileged", default: Error,
        why: "a privileged container has every capability and the host's devices: it is root on the node",
        fix: "remove `securityContext.privileged: true`; grant the one capability needed instead",
        kube_linter: &["privileged-container"] },
    Rule { name: "host-namespaces", default: Error,
        why: "hostNetwork, hostPID and hostIPC share the node's namespaces with the pod",
        fix: "remove `hostNetwork`, `hostPID` and `hostIPC`, or exempt the object by annotation",
        kube_linter: &["host-network", "host-pid", "host-ipc"] },
    Rule { name: "image-tag", default: Warning,
        why: "`:latest` or a missing tag makes a rollout depend on what the registry holds that day",
        fix: "pin the image to a version tag or a digest (`@sha256:…`)",
        kube_linter: &["latest-tag"] },
    Rule { name: "dangling-service", default: Error,
        why: "a Service whose selector matches no pod template of the environment has no endpoints",
        fix: "make `spec.selector` a subset of a workload's pod template labels in the same namespace",
        kube_linter: &["dangling-service"] },
    Rule { name: "dangling-reference", default: Error,
        why: "a pod that mounts a missing ConfigMap, Secret or PVC, or runs as a missing ServiceAccount, never starts; an Ingress or HPA pointing at nothing does nothing",
        fix: "render the referenced object in the same environment, fix the name, or declare it in `check.external`",
        kube_linter: &["non-existent-service-account", "dangling-ingress", "dangling-horizontalpodautoscaler"] },
    Rule { name: "missing-namespace", default: Warning,
        why: "a namespaced object cannot be created before its Namespace exists",
        fix: "render the Namespace in the environment or declare it as `Namespace/<name>` in `check.external`",
        kube_linter: &[] },
    Rule { name: "duplicate-env", default: Error,
        why: "with a duplicate env var name only the last value counts, and server-side apply refuses the list",
        fix: "remove one of the entries",
        kube_linter: &["duplicate-env-var"] },
    Rule { name: "secret-env-value", default: Warning,
        why: "a password or token written as a literal env value is committed to the repository and visible to anyone who can read the pod",
        fix: "move the value to a Secret and use `valueFrom.secretKeyRef`",
        kube_linter: &["env-var-secret"] },
    Rule { name: "secret-literal-data", default: Warning,
        why: "a Secret with literal `data` or `stringData` puts the secret in git",
        fix: "use a SealedSecret, an ExternalSecret or a secret store, and render only the reference",
        kube_linter: &[] },
];

pub fn find(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

/// The rule a kube-linter check name stands for.
pub fn from_kube_linter(check: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.kube_linter.contains(&check))
}

/// The rule name closest to a misspelt one (edit distance at most 3).
pub fn closest(name: &str) -> Option<&'static str> {
    RULES.iter().map(|r| (distance(name, r.name), r.name)).filter(|(d, _)| *d <= 3).min().map(|(_, n)| n)
}

/// The rule table of docs/reference/checks.md: name, default severity, why, fix.
#[cfg(test)]
pub fn markdown_table() -> String {
    let mut out = String::from("| Rule | Default | Why | Fix |\n|---|---|---|---|\n");
    for r in RULES {
        let level = match r.default {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Off => "off",
        };
        out.push_str(&format!("| `{}` | {level} | {} | {} |\n", r.name, r.why, r.fix));
    }
    out
}

/// Levenshtein distance, for "did you mean" hints.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(r.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}", r.name);
            assert!(RULES[..i].iter().all(|o| o.name != r.name), "{} twice", r.name);
            assert!(!r.why.ends_with('.') && !r.fix.ends_with('.'), "{}", r.name);
        }
        assert_eq!(from_kube_linter("latest-tag").map(|r| r.name), Some("image-tag"));
        assert_eq!(closest("dangling-services"), Some("dangling-service"));
        assert_eq!(closest("zzzzzzzzzz"), None);
        assert_eq!(markdown_table().lines().count(), RULES.len() + 2);
    }

    #[test]
    fn docs_list_every_rule() {
        let page = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference/checks.md"));
        let table = markdown_table();
        assert!(page.contains(&table), "docs/reference/checks.md's rule table is stale; the current one:\n{table}");
    }
}
