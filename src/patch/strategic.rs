//! Strategic merge patch over `serde_json::Value`.
//!
//! In: an object, a patch and the [`Schema`] node of the object's kind. Out: the
//! patched object, or `None` when the patch deletes it (`$patch: delete` at the top).
//! The engine is pure: no I/O, no resource bookkeeping, so it can be benchmarked and
//! tested alone.
//!
//! The rules are kustomize v5's (kyaml `merge2`), so that an overlay gives the same
//! objects under strata as under `kubectl kustomize`:
//!
//! - maps merge key by key; a scalar in the patch replaces; `null` deletes (and a
//!   `null` for a missing key adds nothing);
//! - a list whose schema says `x-kubernetes-patch-strategy: merge` is associative:
//!   items with the same merge keys (containers and env by `name`, ports by
//!   `containerPort` + `protocol`, volumeMounts by `mountPath`, ...) merge, new items
//!   are added. Like kustomize, the items the patch names come first, in the patch's
//!   order, followed by the object's other items in their order;
//! - a merge list without keys (`finalizers`) is a set: the patch's values first,
//!   then the object's other values;
//! - every other list, and every list of a kind the schema does not know (custom
//!   resources), is replaced by the patch's list;
//! - `$patch: delete` removes a map, a list item or (at the top) the object;
//!   `$patch: replace` replaces a map or list instead of merging it; `$patch: merge`
//!   is the default.
//!
//! Kustomize leaves three API-server directives in the output as literal fields;
//! strata applies them as the API server does (`kubectl patch --type strategic`):
//! `$retainKeys` (keep only the listed keys of the object's map),
//! `$deleteFromPrimitiveList/<field>` (remove values from a list of scalars), and it
//! tolerates `$setElementOrder/<field>` (dropped; it only orders items).
//!
//! One deliberate difference from kyaml: when items merge on several keys (ports on
//! `containerPort` and `protocol`) and only one side gives the second key, kyaml
//! loses the patch's item; strata treats the missing key as matching.

use serde_json::{Map, Value};

use super::schema::{List, Node};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";

/// Why a patch could not be applied, with the field path where it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmpError {
    /// Dotted path of the field (`spec.template.spec.containers[name=web].ports`).
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for SmpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path, self.message)
        }
    }
}

/// Applies `patch` to `object`. `None` means the patch deleted the object.
pub fn merge(object: Value, patch: &Value, schema: Node<'_>) -> Result<Option<Value>, SmpError> {
    let mut path = Vec::new();
    walk(Some(object), Some(patch), schema, &mut path)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    List,
    Scalar,
}

fn kind_of(v: &Value) -> Option<Kind> {
    match v {
        Value::Null => None,
        Value::Object(_) => Some(Kind::Map),
        Value::Array(_) => Some(Kind::List),
        _ => Some(Kind::Scalar),
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Map => "a mapping",
        Kind::List => "a list",
        Kind::Scalar => "a scalar",
    }
}

fn err(path: &[String], message: impl Into<String>) -> SmpError {
    SmpError { path: dotted(path), message: message.into() }
}

/// `spec.containers[name=web].ports`: list items are written in brackets.
fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for seg in path {
        if !out.is_empty() && !seg.starts_with('[') {
            out.push('.');
        }
        out.push_str(seg);
    }
    out
}

/// Merges one node. `None` is a missing field; `Some(Value::Null)` an explicit null.
fn walk(
    dest: Option<Value>,
    patch: Option<&Value>,
    schema: Node<'_>,
    path: &mut Vec<String>,
) -> Result<Option<Value>, SmpError> {
    let dk = dest.as_ref().and_then(kind_of);
    let pk = patch.and_then(kind_of);
    let kind = dk.or(pk);
    if let (Some(d), Some(p)) = (dk, pk)
        && d != p
    {
        return Err(err(path, format!("the patch gives {} where the object has {}", kind_name(p), kind_name(d))));
    }
    match kind {
        None => Ok(match (dest, patch) {
            // A null the object itself carries stays when the patch does not mention it.
            (Some(Value::Null), None) => Some(Value::Null),
            _ => None,
        }),
        Some(Kind::Scalar) => Ok(match patch {
            Some(Value::Null) => None,
            Some(p) => Some(p.clone()),
            None => dest,
        }),
        Some(Kind::Map) => walk_map(dest, patch, schema, path),
        Some(Kind::List) => match schema.list().filter(|l| l.merge) {
            Some(list) => walk_merge_list(dest, patch, list, path),
            None => Ok(match patch {
                Some(Value::Null) => None,
                Some(p) => Some(p.clone()),
                None => dest,
            }),
        },
    }
}

fn walk_map(
    dest: Option<Value>,
    patch: Option<&Value>,
    schema: Node<'_>,
    path: &mut Vec<String>,
) -> Result<Option<Value>, SmpError> {
    let patch = match patch {
        None => return Ok(dest),
        Some(Value::Null) => return Ok(None),
        Some(Value::Object(p)) => p,
        Some(_) => unreachable!("kinds were checked"),
    };
    let (mut cur, merging) = match patch.get(DIRECTIVE) {
        None => (dest_map(dest), true),
        Some(Value::String(d)) if d == "merge" => (dest_map(dest), true),
        Some(Value::String(d)) if d == "delete" => return Ok(None),
        // The patch's map, merged with itself (its own nulls and directives resolved).
        Some(Value::String(d)) if d == "replace" => (Map::new(), false),
        Some(other) => {
            return Err(err(
                path,
                format!(
                    "unknown patch strategy `$patch: {}`; expected `merge`, `replace` or `delete`",
                    scalar_text(other)
                ),
            ));
        }
    };

    if merging && !cur.is_empty() {
        apply_server_directives(&mut cur, patch, path)?;
    }

    for (key, pv) in patch {
        if key == DIRECTIVE
            || key == RETAIN_KEYS
            || key.starts_with(DELETE_FROM_PRIMITIVE_LIST)
            || key.starts_with(SET_ELEMENT_ORDER)
        {
            continue;
        }
        path.push(key.clone());
        let field = schema.field(key);
        let result = match cur.get_mut(key) {
            Some(slot) => {
                let old = std::mem::take(slot);
                let r = walk(Some(old), Some(pv), field, path)?;
                match r {
                    Some(v) => *slot = v,
                    None => {
                        cur.shift_remove(key);
                    }
                }
                None
            }
            None => walk(None, Some(pv), field, path)?,
        };
        if let Some(v) = result {
            cur.insert(key.clone(), v);
        }
        path.pop();
    }
    Ok(Some(Value::Object(cur)))
}

fn dest_map(dest: Option<Value>) -> Map<String, Value> {
    match dest {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// `$retainKeys` and `$deleteFromPrimitiveList/<field>`, as the API server applies them
/// to the object before merging the rest of the patch.
fn apply_server_directives(
    cur: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    path: &[String],
) -> Result<(), SmpError> {
    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Some(list) = retain.as_array() else {
            return Err(err(path, "`$retainKeys` must be a list of field names"));
        };
        let mut keep = Vec::with_capacity(list.len());
        for k in list {
            match k.as_str() {
                Some(s) => keep.push(s),
                None => return Err(err(path, "`$retainKeys` must be a list of field names")),
            }
        }
        for k in patch.keys() {
            if !k.starts_with('$') && !keep.contains(&k.as_str()) {
                return Err(err(path, format!("the patch sets `{k}`, which its `$retainKeys` list does not keep")));
            }
        }
        cur.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (key, values) in patch {
        let Some(field) = key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) else { continue };
        let Some(values) = values.as_array() else {
            return Err(err(path, format!("`{key}` must be a list of values to delete")));
        };
        match cur.get_mut(field) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                if items.iter().any(|i| i.is_object() || i.is_array()) {
                    return Err(err(path, format!("`{key}`: `{field}` is not a list of scalars")));
                }
                items.retain(|i| !values.contains(i));
            }
            Some(_) => return Err(err(path, format!("`{key}`: `{field}` is not a list"))),
        }
    }
    Ok(())
}

/// A list whose schema says it merges: by keys, or as a set of scalars.
fn walk_merge_list(
    dest: Option<Value>,
    patch: Option<&Value>,
    list: List<'_>,
    path: &mut Vec<String>,
) -> Result<Option<Value>, SmpError> {
    let patch_items: &[Value] = match patch {
        None => return Ok(dest),
        Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(_) => unreachable!("kinds were checked"),
    };
    // A list-level directive is an item whose only key is `$patch`.
    let directive_at = patch_items.iter().position(|i| i.as_object().is_some_and(|m| m.contains_key(DIRECTIVE)));
    let directive = directive_at.and_then(|i| {
        let m = patch_items[i].as_object()?;
        (m.len() == 1).then(|| m[DIRECTIVE].clone())
    });
    let patch_items: Vec<&Value> = patch_items
        .iter()
        .enumerate()
        .filter(|(i, _)| directive.is_none() || Some(*i) != directive_at)
        .map(|(_, v)| v)
        .collect();
    let dest_items: Vec<Value> = match directive.as_ref().map(scalar_text).as_deref() {
        None | Some("merge") => match dest {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        Some("delete") => return Ok(None),
        Some("replace") => Vec::new(),
        Some(other) => {
            return Err(err(
                path,
                format!("unknown patch strategy `$patch: {other}`; expected `merge`, `replace` or `delete`"),
            ));
        }
    };
    let merged = if list.keys.is_empty() {
        merge_set(dest_items, &patch_items)
    } else {
        merge_keyed(dest_items, &patch_items, list, path)?
    };
    Ok(Some(Value::Array(merged)))
}

/// A set of scalars: the patch's values first, then the object's others.
fn merge_set(dest: Vec<Value>, patch: &[&Value]) -> Vec<Value> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for v in patch.iter().map(|v| (*v).clone()).chain(dest) {
        let t = scalar_text(&v);
        if v.is_null() || seen.contains(&t) {
            continue;
        }
        seen.push(t);
        out.push(v);
    }
    out
}

/// The identity of a list item: its value for each merge key (`None` when absent).
fn tuple_of(item: &Value, keys: &[String]) -> Vec<Option<String>> {
    keys.iter().map(|k| item.get(k).filter(|v| !v.is_null()).map(scalar_text).filter(|s| !s.is_empty())).collect()
}

/// Two identities match when they agree wherever both have a value, and both have
/// at least one value in common.
fn tuples_match(a: &[Option<String>], b: &[Option<String>]) -> bool {
    let mut common = false;
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (Some(x), Some(y)) if x == y => common = true,
            (Some(_), Some(_)) => return false,
            _ => {}
        }
    }
    common
}

fn merge_keyed(
    dest: Vec<Value>,
    patch: &[&Value],
    list: List<'_>,
    path: &mut Vec<String>,
) -> Result<Vec<Value>, SmpError> {
    let keys = list.keys;
    let item_schema = list.item();
    let mut dest: Vec<Option<Value>> = dest.into_iter().map(Some).collect();
    let dest_tuples: Vec<Vec<Option<String>>> =
        dest.iter().map(|d| d.as_ref().map(|v| tuple_of(v, keys)).unwrap_or_default()).collect();
    let mut out = Vec::with_capacity(dest.len() + patch.len());
    let mut patch_tuples: Vec<Vec<Option<String>>> = Vec::new();
    for p in patch {
        let t = tuple_of(p, keys);
        let keyless = t.iter().all(Option::is_none);
        // Like kustomize, a second patch item for the same identity is ignored.
        if !keyless && patch_tuples.iter().any(|s| tuples_match(s, &t)) {
            continue;
        }
        patch_tuples.push(t.clone());
        let matched = if keyless {
            None
        } else {
            (0..dest.len()).find(|&i| dest[i].is_some() && tuples_match(&dest_tuples[i], &t))
        };
        path.push(format!("[{}]", describe_tuple(keys, &t)));
        let old = matched.and_then(|i| dest[i].take());
        let r = walk(old, Some(p), item_schema, path)?;
        path.pop();
        if let Some(v) = r {
            out.push(v);
        }
    }
    out.extend(dest.into_iter().flatten());
    // Kustomize drops null and empty items from merged lists.
    out.retain(|v| !v.is_null() && !v.as_object().is_some_and(Map::is_empty));
    Ok(out)
}

fn describe_tuple(keys: &[String], t: &[Option<String>]) -> String {
    let parts: Vec<String> = keys.iter().zip(t).filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}"))).collect();
    if parts.is_empty() { "?".to_string() } else { parts.join(",") }
}

/// A scalar as kustomize compares it: its text (`80` and `"80"` are the same key).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::Schema;
    use super::*;
    use serde_json::json;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": spec}}})
    }

    fn run(object: Value, patch: Value) -> Result<Option<Value>, SmpError> {
        let s = Schema::builtin();
        let root = s.root(object["apiVersion"].as_str().unwrap_or(""), object["kind"].as_str().unwrap_or(""));
        merge(object, &patch, root)
    }

    fn pod_spec(v: Option<Value>) -> Value {
        v.expect("not deleted")["spec"]["template"]["spec"].clone()
    }

    /// (name, pod spec before, pod spec patch, pod spec after)
    #[test]
    fn pod_spec_merges_like_kustomize() {
        let cases: Vec<(&str, Value, Value, Value)> = vec![
            (
                "containers merge by name; patched ones first",
                json!({"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}),
                json!({"containers": [{"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}]}),
                json!({"containers": [{"name": "b", "image": "b:2"}, {"name": "c", "image": "c:1"}, {"name": "a", "image": "a:1"}]}),
            ),
            (
                "env merges by name inside a container",
                json!({"containers": [{"name": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]}),
                json!({"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}]}]}),
                json!({"containers": [{"name": "a", "env": [{"name": "Y", "value": "3"}, {"name": "X", "value": "1"}]}]}),
            ),
            (
                "ports merge by containerPort (numbers and strings alike)",
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]}),
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 9090}]}]}),
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "web"}, {"containerPort": 9090}]}]}),
            ),
            (
                "a missing protocol matches",
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP", "name": "old"}]}]}),
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "new"}]}]}),
                json!({"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP", "name": "new"}]}]}),
            ),
            (
                "tolerations have no merge strategy: replaced",
                json!({"tolerations": [{"key": "a", "operator": "Exists"}]}),
                json!({"tolerations": [{"key": "b", "operator": "Exists"}]}),
                json!({"tolerations": [{"key": "b", "operator": "Exists"}]}),
            ),
            (
                "$patch: delete removes a list item",
                json!({"containers": [{"name": "a"}, {"name": "b"}]}),
                json!({"containers": [{"name": "a", "$patch": "delete"}]}),
                json!({"containers": [{"name": "b"}]}),
            ),
            (
                "$patch: replace on a list",
                json!({"containers": [{"name": "a"}, {"name": "b"}]}),
                json!({"containers": [{"$patch": "replace"}, {"name": "c"}]}),
                json!({"containers": [{"name": "c"}]}),
            ),
            (
                "$patch: replace on a map",
                json!({"securityContext": {"runAsUser": 1, "fsGroup": 2}}),
                json!({"securityContext": {"$patch": "replace", "runAsNonRoot": true}}),
                json!({"securityContext": {"runAsNonRoot": true}}),
            ),
            (
                "null deletes; null for a missing field adds nothing",
                json!({"nodeSelector": {"a": "1", "b": "2"}}),
                json!({"nodeSelector": {"a": null, "c": null}, "hostname": null}),
                json!({"nodeSelector": {"b": "2"}}),
            ),
            (
                "$retainKeys drops the other keys of the object",
                json!({"volumes": [{"name": "v", "configMap": {"name": "c"}}]}),
                json!({"volumes": [{"name": "v", "$retainKeys": ["name", "secret"], "secret": {"secretName": "s"}}]}),
                json!({"volumes": [{"name": "v", "secret": {"secretName": "s"}}]}),
            ),
            (
                "$deleteFromPrimitiveList removes scalars",
                json!({"containers": [{"name": "a", "args": ["x", "y", "z"]}]}),
                json!({"containers": [{"name": "a", "$deleteFromPrimitiveList/args": ["y"]}]}),
                json!({"containers": [{"name": "a", "args": ["x", "z"]}]}),
            ),
            (
                "$setElementOrder is tolerated",
                json!({"containers": [{"name": "a"}]}),
                json!({"$setElementOrder/containers": [{"name": "a"}], "containers": [{"name": "a", "image": "i"}]}),
                json!({"containers": [{"name": "a", "image": "i"}]}),
            ),
        ];
        for (name, before, patch, after) in cases {
            let got = run(deployment(before), deployment(patch)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(pod_spec(got), after, "{name}");
        }
    }

    #[test]
    fn finalizers_are_a_set_with_the_patch_first() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "finalizers": ["a", "b"]}});
        let patch = json!({"metadata": {"finalizers": ["c", "a"]}});
        let got = run(obj, patch).unwrap().unwrap();
        assert_eq!(got["metadata"]["finalizers"], json!(["c", "a", "b"]));
    }

    #[test]
    fn custom_resource_lists_are_replaced() {
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"items": [{"name": "a", "v": 1}, {"name": "b"}]}});
        let patch = json!({"spec": {"items": [{"name": "a", "v": 2}]}});
        let got = run(obj, patch).unwrap().unwrap();
        assert_eq!(got["spec"]["items"], json!([{"name": "a", "v": 2}]));
    }

    #[test]
    fn top_level_delete_deletes_the_object() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(run(obj, json!({"$patch": "delete"})).unwrap(), None);
    }

    #[test]
    fn errors_name_the_path() {
        let cases: Vec<(Value, Value, &str)> = vec![
            (
                deployment(json!({"containers": [{"name": "a"}]})),
                deployment(json!({"containers": {"name": "a"}})),
                "spec.template.spec.containers: the patch gives a mapping where the object has a list",
            ),
            (
                deployment(json!({"containers": [{"name": "a"}]})),
                deployment(json!({"containers": [{"name": "a", "$patch": "drop"}]})),
                "spec.template.spec.containers[name=a]: unknown patch strategy `$patch: drop`",
            ),
            (
                deployment(json!({"volumes": [{"name": "v", "emptyDir": {}}]})),
                deployment(json!({"volumes": [{"name": "v", "$retainKeys": ["name"], "secret": {}}]})),
                "which its `$retainKeys` list does not keep",
            ),
        ];
        for (obj, patch, want) in cases {
            let e = run(obj, patch).unwrap_err();
            let got = format!("{}: {}", e.path, e.message);
            assert!(got.contains(want), "{got}\n  wanted: {want}");
        }
    }
}
