//! `server-validation`: what the API server refuses beyond OpenAPI, for the cases users hit
//! most: names, labels and annotations, replicas, selectors against template labels, unique
//! container and port names, port ranges, volume mounts, restart policies, cron schedules,
//! HPA bounds and RBAC verbs; the rules the server's code requires per kind are in
//! [`server_kinds`].

use serde_json::{Map, Value};

use super::practices::{containers, pod_spec, template_labels};
use super::{FieldPath, Found, formats, server_kinds};
use crate::manifest::{Resource, names, workloads};

const RULE: &str = "server-validation";

fn err(field: FieldPath, msg: impl Into<String>) -> Found {
    Found::error(RULE, field, msg)
}

/// Every server-validation finding of one object.
pub fn check(r: &Resource) -> Vec<Found> {
    let mut out = Vec::new();
    metadata(r, &mut out);
    let spec = r.body.get("spec");
    let at = |k: &[&str]| FieldPath::root().join(k);
    if let Some(n) = spec.and_then(|s| s.get("replicas")).and_then(Value::as_i64).filter(|n| *n < 0) {
        out.push(err(at(&["spec", "replicas"]), format!("`{n}` must be greater than or equal to 0")));
    }
    match r.id.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => selector(r, &mut out),
        "Service" => service(r, &mut out),
        "CronJob" => cron_job(r, &mut out),
        "HorizontalPodAutoscaler" => hpa(r, &mut out),
        "Role" | "ClusterRole" => rbac_rules(r, &mut out),
        _ => {}
    }
    if let Some((path, spec)) = pod_spec(r) {
        pod(r, &path, spec, &mut out);
        server_kinds::pod(&path, spec, &mut out);
    }
    server_kinds::check(r, &mut out);
    out
}

fn metadata(r: &Resource, out: &mut Vec<Found>) {
    let Some(meta) = r.metadata() else { return };
    let name = r.id.name.as_str();
    let check_name: fn(&str) -> Option<String> = match (r.id.group.as_str(), r.id.kind.as_str()) {
        ("", "Namespace") => names::dns_label,
        ("", "Service") => names::dns1035_label,
        ("rbac.authorization.k8s.io", _) => names::path_segment,
        _ => names::dns_subdomain,
    };
    let at = |k: &[&str]| FieldPath::root().join(k);
    if let Some(m) = check_name(name) {
        out.push(err(at(&["metadata", "name"]), format!("invalid name: {m}")));
    }
    if let Some(ns) = r.id.namespace.as_deref()
        && let Some(m) = names::dns_label(ns)
    {
        out.push(err(at(&["metadata", "namespace"]), format!("invalid namespace: {m}")));
    }
    labels(meta.get("labels"), &at(&["metadata", "labels"]), out);
    if let Some(ann) = meta.get("annotations").and_then(Value::as_object) {
        for k in ann.keys() {
            if let Some(m) = names::qualified_name(k) {
                out.push(err(
                    at(&["metadata", "annotations"]).join(&[k.as_str()]),
                    format!("invalid annotation key {m}"),
                ));
            }
        }
        let size: usize = ann.iter().map(|(k, v)| k.len() + v.as_str().map_or(0, str::len)).sum();
        if size > 256 * 1024 {
            out.push(err(
                at(&["metadata", "annotations"]),
                format!("annotations total {size} bytes, more than 256 KiB"),
            ));
        }
    }
}

fn labels(labels: Option<&Value>, path: &FieldPath, out: &mut Vec<Found>) {
    let Some(map) = labels.and_then(Value::as_object) else { return };
    for (k, v) in map {
        if let Some(m) = names::qualified_name(k) {
            out.push(err(path.join(&[k.as_str()]), format!("invalid label key {m}")));
        }
        if let Some(m) = v.as_str().and_then(names::label_value) {
            out.push(err(path.join(&[k.as_str()]), format!("invalid label value {m}")));
        }
    }
}

/// Whether a label selector (`matchLabels` and `matchExpressions`) selects these labels.
pub fn selects(selector: &Value, labels: &Map<String, Value>) -> bool {
    let ml = selector.get("matchLabels").and_then(Value::as_object);
    let labels_ok = ml.is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    let exprs = selector.get("matchExpressions").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    labels_ok
        && exprs.iter().all(|e| {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> =
                e.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            let have = labels.get(key).and_then(Value::as_str);
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => have.is_some_and(|h| values.contains(&h)),
                Some("NotIn") => have.is_none_or(|h| !values.contains(&h)),
                Some("Exists") => have.is_some(),
                Some("DoesNotExist") => have.is_none(),
                _ => true,
            }
        })
}

fn selector(r: &Resource, out: &mut Vec<Found>) {
    let Some(sel) = r.body.pointer("/spec/selector").filter(|s| !s.is_null()) else { return };
    let Some(workload) = workloads::find(&r.id.group, &r.id.kind) else { return };
    let empty = Map::new();
    let labels = template_labels(r).unwrap_or(&empty);
    let sel_empty = sel.get("matchLabels").and_then(Value::as_object).is_none_or(Map::is_empty)
        && sel.get("matchExpressions").and_then(Value::as_array).is_none_or(Vec::is_empty);
    let path = FieldPath::root().join(&workload.template_labels());
    if sel_empty {
        out.push(err(FieldPath::root().join(&["spec", "selector"]), "empty selector is invalid for this workload"));
    } else if !selects(sel, labels) {
        let shown = serde_json::to_string(labels).unwrap_or_default();
        out.push(err(path, format!("`selector` does not match template `labels` {shown}")));
    }
}

fn port_range(v: Option<&Value>, lo: i64, path: FieldPath, out: &mut Vec<Found>) {
    if let Some(n) = v.and_then(Value::as_i64).filter(|n| !(lo..=65535).contains(n)) {
        out.push(err(path, format!("`{n}` must be between {lo} and 65535, inclusive")));
    }
}

fn service(r: &Resource, out: &mut Vec<Found>) {
    let ports = r.body.pointer("/spec/ports").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let base = FieldPath::root().join(&["spec", "ports"]);
    let mut names = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let at = base.index(i);
        port_range(p.get("port"), 1, at.join(&["port"]), out);
        match p.get("targetPort") {
            Some(Value::String(s)) => {
                if let Some(m) = names::port_name(s) {
                    out.push(err(at.join(&["targetPort"]), m));
                }
            }
            t => port_range(t, 1, at.join(&["targetPort"]), out),
        }
        match p.get("name").and_then(Value::as_str) {
            Some(n) if names.contains(&n) => out.push(err(at.join(&["name"]), format!("duplicate port name `{n}`"))),
            Some(n) => names.push(n),
            None if ports.len() > 1 => {
                out.push(err(at.join(&["name"]), "a port name is required when a Service has more than one port"))
            }
            None => {}
        }
    }
}

fn cron_job(r: &Resource, out: &mut Vec<Found>) {
    if let Some(s) = r.body.pointer("/spec/schedule").and_then(Value::as_str)
        && let Some(m) = formats::cron(s)
    {
        out.push(err(FieldPath::root().join(&["spec", "schedule"]), format!("invalid schedule `{s}`: {m}")));
    }
}

fn hpa(r: &Resource, out: &mut Vec<Found>) {
    let min = r.body.pointer("/spec/minReplicas").and_then(Value::as_i64);
    let max = r.body.pointer("/spec/maxReplicas").and_then(Value::as_i64);
    if let (Some(min), Some(max)) = (min, max)
        && max < min
    {
        let msg = format!("`{max}` must be greater than or equal to `minReplicas` ({min})");
        out.push(err(FieldPath::root().join(&["spec", "maxReplicas"]), msg));
    }
    if let Some(min) = min.filter(|m| *m < 1) {
        out.push(err(FieldPath::root().join(&["spec", "minReplicas"]), format!("`{min}` must be greater than 0")));
    }
}

fn rbac_rules(r: &Resource, out: &mut Vec<Found>) {
    let rules = r.body.get("rules").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for (i, rule) in rules.iter().enumerate() {
        if rule.get("verbs").and_then(Value::as_array).is_none_or(Vec::is_empty) {
            let at = FieldPath::root().join(&["rules"]).index(i).join(&["verbs"]);
            out.push(err(at, "verbs must contain at least one value"));
        }
    }
}

fn pod(r: &Resource, path: &FieldPath, spec: &Map<String, Value>, out: &mut Vec<Found>) {
    let restart = spec.get("restartPolicy").and_then(Value::as_str);
    let allowed: &[&str] = match r.id.kind.as_str() {
        "Job" | "CronJob" => &["OnFailure", "Never"],
        "Pod" => &["Always", "OnFailure", "Never"],
        _ => &["Always"],
    };
    if let Some(p) = restart.filter(|p| !allowed.contains(p)) {
        let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
        out.push(err(
            path.join(&["restartPolicy"]),
            format!("`{p}` is not allowed here: valid values: {}", list.join(", ")),
        ));
    }
    if restart.is_none() && matches!(r.id.kind.as_str(), "Job" | "CronJob") {
        out.push(err(path.join(&["restartPolicy"]), "a Job's pods need `restartPolicy` `OnFailure` or `Never`"));
    }
    let mut volumes: Vec<&str> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    let claims = r.body.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array);
    volumes.extend(claims.into_iter().flatten().filter_map(|c| c.pointer("/metadata/name").and_then(Value::as_str)));
    let mut names: Vec<&str> = Vec::new();
    for c in containers(path, spec) {
        let name = c.name();
        if let Some(m) = names::dns_label(name) {
            out.push(err(c.path.join(&["name"]), format!("invalid container name: {m}")));
        }
        if names.contains(&name) {
            out.push(err(c.path.join(&["name"]), format!("duplicate container name `{name}`")));
        }
        names.push(c.body.get("name").and_then(Value::as_str).unwrap_or(""));
        container_ports(c.body, &c.path, out);
        let mounts = c.body.get("volumeMounts").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for (i, m) in mounts.iter().enumerate() {
            if let Some(n) = m.get("name").and_then(Value::as_str).filter(|n| !volumes.contains(n)) {
                let at = c.path.join(&["volumeMounts"]).index(i).join(&["name"]);
                out.push(err(at, format!("volume `{n}` not found in the pod's volumes")));
            }
        }
    }
}

fn container_ports(c: &Map<String, Value>, path: &FieldPath, out: &mut Vec<Found>) {
    let ports = c.get("ports").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut names = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let at = path.join(&["ports"]).index(i);
        port_range(p.get("containerPort"), 1, at.join(&["containerPort"]), out);
        port_range(p.get("hostPort"), 0, at.join(&["hostPort"]), out);
        if let Some(n) = p.get("name").and_then(Value::as_str) {
            if let Some(m) = names::port_name(n) {
                out.push(err(at.join(&["name"]), m));
            } else if names.contains(&n) {
                out.push(err(at.join(&["name"]), format!("duplicate port name `{n}`")));
            }
            names.push(n);
        }
    }
}
