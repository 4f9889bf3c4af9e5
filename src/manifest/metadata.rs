//! Label and annotation values as the API server takes them: strings.
//!
//! In: an object body and a way to read a scalar's text as written. Out: the body
//! with every non-string label and annotation value turned into a string, and the
//! list of values changed ([`Stringified`]), so the stage that made the object can
//! warn at its source. Numbers, booleans and null become their YAML text as
//! written (`8080`, `1.50`, `True`, `~`), as kustomize does for annotations; a
//! mapping or a list is an error ([`NotAString`]): there is no text to give it.
//!
//! Where: the object's own `metadata`, and the object metadata a workload embeds
//! (pod templates, a CronJob's job template, a StatefulSet's volume claim
//! templates: [`super::workloads`]), which the API server checks just the same. Kustomize 5.5 converts
//! only the object's own annotations; strata converts labels and the embedded
//! metadata too, so that the output always applies.

use serde_json::Value;

/// One value turned into a string.
#[derive(Debug, Clone, PartialEq)]
pub struct Stringified {
    /// Key path of the value: `metadata.annotations.port` is
    /// `["metadata", "annotations", "port"]`.
    pub path: Vec<String>,
    /// The value before.
    pub was: Value,
    /// The string it became.
    pub text: String,
}

/// A label or annotation whose value is a mapping or a list.
#[derive(Debug, Clone, PartialEq)]
pub struct NotAString {
    pub path: Vec<String>,
    pub was: Value,
}

/// Turns every non-string label and annotation value of `body` into a string.
/// `scalar_text` gives a scalar's text as written at a key path, when it is known.
pub fn stringify_labels_and_annotations(
    body: &mut Value,
    scalar_text: &dyn Fn(&[String]) -> Option<String>,
) -> Result<Vec<Stringified>, Vec<NotAString>> {
    let api_version = body.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
    let embedded = super::workloads::find(super::group_of(api_version), kind).map(|w| w.embedded_metadata());
    let mut places: Vec<Vec<String>> = vec![vec!["metadata".to_string()]];
    for path in embedded.iter().flatten() {
        expand(body, path, &mut Vec::new(), &mut places);
    }
    let (mut done, mut bad) = (Vec::new(), Vec::new());
    for place in places {
        for field in ["labels", "annotations"] {
            let mut at = place.clone();
            at.push(field.to_string());
            let Some(map) = pointer_mut(body, &at).and_then(Value::as_object_mut) else { continue };
            for (key, value) in map.iter_mut() {
                let mut path = at.clone();
                path.push(key.clone());
                match value {
                    Value::String(_) => {}
                    Value::Array(_) | Value::Object(_) => bad.push(NotAString { path, was: value.clone() }),
                    scalar => {
                        let text = scalar_text(&path).unwrap_or_else(|| plain_text(scalar));
                        let was = std::mem::replace(scalar, Value::String(text.clone()));
                        done.push(Stringified { path, was, text });
                    }
                }
            }
        }
    }
    if bad.is_empty() { Ok(done) } else { Err(bad) }
}

/// The key paths `pattern` stands for in `body` (`*` expanded over list items).
fn expand(body: &Value, pattern: &[&str], prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let Some((first, rest)) = pattern.split_first() else {
        if body.is_object() {
            out.push(prefix.clone());
        }
        return;
    };
    match (*first, body) {
        ("*", Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                prefix.push(i.to_string());
                expand(item, rest, prefix, out);
                prefix.pop();
            }
        }
        (key, Value::Object(m)) => {
            if let Some(child) = m.get(key) {
                prefix.push(key.to_string());
                expand(child, rest, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn pointer_mut<'a>(body: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut cur = body;
    for seg in path {
        cur = match cur {
            Value::Object(m) => m.get_mut(seg)?,
            Value::Array(items) => items.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A scalar's text when the text as written is not known.
fn plain_text(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn no_text(_: &[String]) -> Option<String> {
        None
    }

    #[test]
    fn numbers_booleans_and_null_become_strings() {
        let mut body = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"v": 2, "app": "web"}, "annotations": {"port": 8080, "on": true, "n": null}},
            "spec": {"template": {"metadata": {"annotations": {"prometheus.io/port": 9090}}}}
        });
        let done = stringify_labels_and_annotations(&mut body, &no_text).unwrap();
        assert_eq!(body["metadata"]["labels"], json!({"v": "2", "app": "web"}));
        assert_eq!(body["metadata"]["annotations"], json!({"port": "8080", "on": "true", "n": "null"}));
        assert_eq!(body["spec"]["template"]["metadata"]["annotations"], json!({"prometheus.io/port": "9090"}));
        let paths: Vec<String> = done.iter().map(|s| s.path.join(".")).collect();
        assert_eq!(
            paths,
            [
                "metadata.labels.v",
                "metadata.annotations.port",
                "metadata.annotations.on",
                "metadata.annotations.n",
                "spec.template.metadata.annotations.prometheus.io/port"
            ]
        );
        assert_eq!(done[0].was, json!(2));
    }

    #[test]
    fn the_text_as_written_wins() {
        let mut body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"f": 1.5, "t": true}}});
        let text = |p: &[String]| (p.last().map(String::as_str) == Some("f")).then(|| "1.50".to_string());
        stringify_labels_and_annotations(&mut body, &text).unwrap();
        assert_eq!(body["metadata"]["annotations"], json!({"f": "1.50", "t": "true"}));
    }

    #[test]
    fn embedded_metadata_of_built_in_kinds_only() {
        let claims = json!([{"metadata": {"name": "d", "labels": {"size": 10}}}]);
        let mut sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "s"}, "spec": {"volumeClaimTemplates": claims}});
        let done = stringify_labels_and_annotations(&mut sts, &no_text).unwrap();
        assert_eq!(done[0].path.join("."), "spec.volumeClaimTemplates.0.metadata.labels.size");
        let mut cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"metadata": {"labels": {"a": 1}}, "spec": {"template": {"metadata": {"labels": {"b": 2}}}}}}});
        assert_eq!(stringify_labels_and_annotations(&mut cron, &no_text).unwrap().len(), 2);
        let mut custom = json!({"apiVersion": "example.com/v1", "kind": "Deployment", "metadata": {"name": "x"},
            "spec": {"template": {"metadata": {"labels": {"a": 1}}}}});
        assert!(stringify_labels_and_annotations(&mut custom, &no_text).unwrap().is_empty());
    }

    #[test]
    fn maps_and_lists_are_refused() {
        let mut body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"a": {"b": 1}, "l": [1]}}});
        let bad = stringify_labels_and_annotations(&mut body, &no_text).unwrap_err();
        let paths: Vec<String> = bad.iter().map(|b| b.path.join(".")).collect();
        assert_eq!(paths, ["metadata.annotations.a", "metadata.annotations.l"]);
    }
}
