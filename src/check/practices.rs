//! Practice rules on pod templates (the seeds' health probes, resources, security context and
//! pinned images), and the pod-template walk that other rules share.

use serde_json::{Map, Value};

use super::{FieldPath, Found};
use crate::manifest::{Resource, workloads};

/// The pod spec of a Pod or a workload's pod template ([`workloads`]), with its path.
pub fn pod_spec(r: &Resource) -> Option<(FieldPath, &Map<String, Value>)> {
    let keys = workloads::find(&r.id.group, &r.id.kind)?.pod_spec();
    Some((FieldPath::root().join(&keys), follow(&r.body, &keys)?.as_object()?))
}

/// The labels of a workload's pod template (of the Pod itself for a Pod).
pub fn template_labels(r: &Resource) -> Option<&Map<String, Value>> {
    let keys = workloads::find(&r.id.group, &r.id.kind)?.template_labels();
    follow(&r.body, &keys)?.as_object()
}

fn follow<'a>(body: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(body, |v, k| v.get(k))
}

/// One container of a pod spec.
pub struct ContainerRef<'a> {
    pub path: FieldPath,
    pub body: &'a Map<String, Value>,
    pub init: bool,
}

impl ContainerRef<'_> {
    pub fn name(&self) -> &str {
        self.body.get("name").and_then(Value::as_str).unwrap_or("?")
    }

    fn security(&self, key: &str) -> Option<&Value> {
        self.body.get("securityContext")?.get(key).filter(|v| !v.is_null())
    }
}

/// `containers` and `initContainers` of a pod spec.
pub fn containers<'a>(spec_path: &FieldPath, spec: &'a Map<String, Value>) -> Vec<ContainerRef<'a>> {
    let mut out = Vec::new();
    for (key, init) in [("containers", false), ("initContainers", true)] {
        let list = spec.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (i, c) in list.iter().enumerate() {
            if let Some(body) = c.as_object() {
                out.push(ContainerRef { path: spec_path.join(&[key]).index(i), body, init });
            }
        }
    }
    out
}

/// Every practice finding of one object.
pub fn check(r: &Resource) -> Vec<Found> {
    let Some((spec_path, spec)) = pod_spec(r) else { return Vec::new() };
    let long_running = workloads::find(&r.id.group, &r.id.kind).is_some_and(|w| w.long_running);
    let mut out = Vec::new();
    host_namespaces(&spec_path, spec, &mut out);
    let pod_security = spec.get("securityContext");
    for c in containers(&spec_path, spec) {
        if !c.init && long_running {
            probes(&c, &mut out);
        }
        resources(&c, &mut out);
        security(&c, pod_security, &mut out);
        image_tag(&c, &mut out);
        env(&c, &mut out);
    }
    out
}

fn host_namespaces(spec_path: &FieldPath, spec: &Map<String, Value>, out: &mut Vec<Found>) {
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if spec.get(key) == Some(&Value::Bool(true)) {
            out.push(Found::error(
                "host-namespaces",
                spec_path.join(&[key]),
                format!("`{key}: true` shares the node's namespace"),
            ));
        }
    }
}

fn probes(c: &ContainerRef, out: &mut Vec<Found>) {
    let missing: Vec<&str> =
        ["readinessProbe", "livenessProbe"].into_iter().filter(|p| c.body.get(*p).is_none_or(Value::is_null)).collect();
    if !missing.is_empty() {
        let names: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
        out.push(Found::error(
            "probes",
            c.path.clone(),
            format!("container `{}` has no {}", c.name(), names.join(" or ")),
        ));
    }
}

fn resources(c: &ContainerRef, out: &mut Vec<Found>) {
    let res = c.body.get("resources");
    let missing: Vec<String> = [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")]
        .into_iter()
        .filter(|(a, b)| res.and_then(|r| r.get(a)).and_then(|r| r.get(b)).is_none_or(Value::is_null))
        .map(|(a, b)| format!("`{a}.{b}`"))
        .collect();
    if !missing.is_empty() {
        let msg = format!("container `{}` sets no {}", c.name(), missing.join(", "));
        out.push(Found::error("resources", c.path.join(&["resources"]), msg));
    }
}

fn security(c: &ContainerRef, pod: Option<&Value>, out: &mut Vec<Found>) {
    let sc = c.path.join(&["securityContext"]);
    let name = c.name();
    if c.security("privileged") == Some(&Value::Bool(true)) {
        out.push(Found::error("privileged", sc.join(&["privileged"]), format!("container `{name}` is privileged")));
    }
    let pod_field = |k: &str| pod.and_then(|p| p.get(k)).filter(|v| !v.is_null());
    let non_root = c.security("runAsNonRoot").or_else(|| pod_field("runAsNonRoot")) == Some(&Value::Bool(true));
    let uid = c.security("runAsUser").or_else(|| pod_field("runAsUser")).and_then(Value::as_i64);
    if !non_root && uid.is_none_or(|u| u == 0) {
        let msg = format!("container `{name}` may run as root: set `runAsNonRoot: true`");
        out.push(Found::error("run-as-non-root", sc.join(&["runAsNonRoot"]), msg));
    }
    if c.security("allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
        let msg = format!("container `{name}` does not set `allowPrivilegeEscalation: false`");
        out.push(Found::error("privilege-escalation", sc.join(&["allowPrivilegeEscalation"]), msg));
    }
    let drop = c.security("capabilities").and_then(|c| c.get("drop")).and_then(Value::as_array);
    if !drop.is_some_and(|d| d.iter().any(|x| x.as_str().is_some_and(|s| s.eq_ignore_ascii_case("ALL")))) {
        let msg = format!("container `{name}` does not drop `ALL` capabilities");
        out.push(Found::error("drop-capabilities", sc.join(&["capabilities", "drop"]), msg));
    }
    if c.security("readOnlyRootFilesystem") != Some(&Value::Bool(true)) {
        let msg = format!("container `{name}` does not set `readOnlyRootFilesystem: true`");
        out.push(Found::error("read-only-root-fs", sc.join(&["readOnlyRootFilesystem"]), msg));
    }
}

fn image_tag(c: &ContainerRef, out: &mut Vec<Found>) {
    let Some(image) = c.body.get("image").and_then(Value::as_str) else { return };
    if image.contains("@sha256:") || image.contains('@') {
        return;
    }
    // A tag is after the last `:` that comes after the last `/` (a registry port is not a tag).
    let last = image.rsplit('/').next().unwrap_or(image);
    let field = c.path.join(&["image"]);
    match last.rsplit_once(':') {
        None => out.push(Found::error("image-tag", field, format!("image `{image}` has no tag"))),
        Some((_, "latest")) => out.push(Found::error("image-tag", field, format!("image `{image}` uses `:latest`"))),
        Some(_) => {}
    }
}

/// Env var names that hint at a secret; a literal value for one is a leak.
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-', '.']).collect();
    const WORDS: &[&str] = &["PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS", "CREDENTIAL"];
    words.iter().any(|w| WORDS.contains(w))
        || words.windows(2).any(|p| p[1] == "KEY" && matches!(p[0], "API" | "PRIVATE" | "ACCESS" | "SECRET" | "AUTH"))
}

fn env(c: &ContainerRef, out: &mut Vec<Found>) {
    let Some(list) = c.body.get("env").and_then(Value::as_array) else { return };
    let mut seen: Vec<&str> = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let Some(name) = e.get("name").and_then(Value::as_str) else { continue };
        let path = c.path.join(&["env"]).index(i);
        if seen.contains(&name) {
            let msg = format!("container `{}` sets env var `{name}` twice", c.name());
            out.push(Found::error("duplicate-env", path.join(&["name"]), msg));
        }
        seen.push(name);
        let literal = e.get("value").and_then(Value::as_str).filter(|v| !v.is_empty() && !v.starts_with("$("));
        if literal.is_some() && looks_secret(name) {
            let msg = format!("env var `{name}` of container `{}` holds a literal value", c.name());
            out.push(Found::error("secret-env-value", path.join(&["value"]), msg).hint("use `valueFrom.secretKeyRef`"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_names() {
        for yes in ["DB_PASSWORD", "API_KEY", "github-token", "AWS_SECRET_ACCESS_KEY", "PRIVATE_KEY"] {
            assert!(looks_secret(yes), "{yes}");
        }
        for no in ["CACHE_KEY_PREFIX", "TOKENIZER_MODEL", "LOG_LEVEL", "KEYSPACE"] {
            assert!(!looks_secret(no), "{no}");
        }
    }
}
