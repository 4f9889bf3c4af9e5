//! The `check:` block of `strata.yaml` and the knobs of one run.

use serde_json::Value;

use crate::diag::Diagnostic;

use super::rules;

/// `strata.yaml` `check:`: typed with the rest of `strata.yaml` in [`crate::repo::config`].
pub use crate::repo::config::CheckConfig;
/// What a rule does when it finds something (`strata.yaml` `check.rules` values).
pub use crate::repo::config::CheckLevel as Level;

impl CheckConfig {
    /// Problems of the configuration itself: unknown rule names, malformed external entries.
    /// The messages name the key; the caller adds `strata.yaml`'s line.
    pub fn problems(&self) -> Vec<Diagnostic> {
        self.problems_at().into_iter().map(|(_, d)| d).collect()
    }

    /// [`CheckConfig::problems`], each with the key path in `strata.yaml` it is about
    /// (`check.rules.<name>`, `check.external.<index>`).
    pub fn problems_at(&self) -> Vec<(Vec<String>, Diagnostic)> {
        let key = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let mut out = Vec::new();
        for name in self.rules.keys() {
            if rules::find(name).is_none() {
                out.push((key(&["check", "rules", name]), unknown_rule(name, "check.rules")));
            }
        }
        for (i, e) in self.external.iter().enumerate() {
            let parts = e.split('/').count();
            if !(2..=3).contains(&parts) || e.split('/').any(str::is_empty) {
                let d = Diagnostic::error(format!(
                    "`check.external` entry `{e}` is not `Kind/name` or `Kind/namespace/name`"
                ))
                .hint("for example `Secret/shop/db-password` or `Namespace/monitoring`");
                out.push((key(&["check", "external", &i.to_string()]), d));
            }
        }
        out
    }

    /// The level of a rule: the configured one, else its default.
    pub fn level(&self, rule: &str) -> Level {
        self.rules.get(rule).copied().or_else(|| rules::find(rule).map(|r| r.default)).unwrap_or(Level::Off)
    }

    /// Whether `kind`/`namespace`/`name` is declared to exist outside the render.
    pub fn is_external(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.external.iter().any(|e| {
            let parts: Vec<&str> = e.split('/').collect();
            let name_ok = |n: &str| n == "*" || n == name;
            match parts.as_slice() {
                [k, n] => k.eq_ignore_ascii_case(kind) && name_ok(n),
                [k, ns, n] => k.eq_ignore_ascii_case(kind) && (*ns == "*" || Some(*ns) == namespace) && name_ok(n),
                _ => false,
            }
        })
    }
}

/// An error for a rule name no rule has, with the closest name as a hint.
pub fn unknown_rule(name: &str, place: &str) -> Diagnostic {
    let d = Diagnostic::error(format!("unknown rule `{name}` in `{place}`"));
    match rules::closest(name) {
        Some(c) => d.hint(format!("did you mean `{c}`?")),
        None => d.hint(format!("known rules: {}", rules::RULES.iter().map(|r| r.name).collect::<Vec<_>>().join(", "))),
    }
}

/// A Kubernetes minor version (`1.33`), from `strata.yaml` `kubeVersion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    /// Reads `1.33`, `v1.33.2`, `1.33.0-gke.1`; the patch level does not matter here.
    pub fn parse(s: &str) -> Option<KubeVersion> {
        let s = s.trim().trim_start_matches('v');
        let mut it = s.split(['.', '-', '+']);
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        Some(KubeVersion { major, minor })
    }
}

impl std::fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The knobs of one run.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// `--rules`: run only these rules (validated with [`CheckOptions::problems`]).
    pub only_rules: Option<Vec<String>>,
    /// `--strict`: a kind without a schema is an error, not a warning.
    pub strict: bool,
    /// `strata.yaml` `kubeVersion`; the built-in schemas' version when unset.
    pub kube_version: Option<KubeVersion>,
    /// CustomResourceDefinitions read from `check.crds`, in addition to those rendered.
    pub extra_crds: Vec<Value>,
    /// ValidatingAdmissionPolicies and bindings read from `check.policies`, in addition to
    /// those rendered.
    pub extra_policies: Vec<Value>,
    /// Admission expressions' outcomes known so far, shared by every batch of the run.
    pub memo: std::sync::Arc<crate::check::cel::admission::Memo>,
}

impl CheckOptions {
    pub fn problems(&self) -> Vec<Diagnostic> {
        let names = self.only_rules.iter().flatten();
        names.filter(|n| rules::find(n).is_none()).map(|n| unknown_rule(n, "--rules")).collect()
    }

    pub(crate) fn selected(&self, rule: &str) -> bool {
        self.only_rules.as_ref().is_none_or(|r| r.iter().any(|n| n == rule))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_check_block() {
        let c: CheckConfig = serde_json::from_value(serde_json::json!({
            "rules": {"image-tag": "error", "probes": "off"},
            "crds": ["crds/backup.yaml"],
            "external": ["Secret/shop/db", "Namespace/monitoring"]
        }))
        .unwrap();
        assert_eq!(c.level("image-tag"), Level::Error);
        assert_eq!(c.level("probes"), Level::Off);
        assert_eq!(c.level("schema"), Level::Error);
        assert!(c.is_external("Secret", Some("shop"), "db"));
        assert!(!c.is_external("Secret", Some("other"), "db"));
        assert!(c.is_external("Namespace", None, "monitoring"));
        assert!(c.problems().is_empty());
    }

    #[test]
    fn unknown_rule_names_the_closest() {
        let c: CheckConfig = serde_json::from_value(serde_json::json!({"rules": {"probe": "off"}})).unwrap();
        let p = c.problems();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].message, "unknown rule `probe` in `check.rules`");
        assert_eq!(p[0].hints, vec!["did you mean `probes`?".to_string()]);
        assert!(serde_json::from_value::<CheckConfig>(serde_json::json!({"rulez": {}})).is_err());
    }

    #[test]
    fn kube_versions() {
        assert_eq!(KubeVersion::parse("1.33.0"), Some(KubeVersion { major: 1, minor: 33 }));
        assert_eq!(KubeVersion::parse("v1.29"), Some(KubeVersion { major: 1, minor: 29 }));
        assert_eq!(KubeVersion::parse("1.30.1-gke.2"), Some(KubeVersion { major: 1, minor: 30 }));
        assert!(KubeVersion::parse("latest").is_none());
    }
}
