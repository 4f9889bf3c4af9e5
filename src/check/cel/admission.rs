//! ValidatingAdmissionPolicies: every binding of an environment (rendered, or read from
//! `check.policies`) applied to that environment's objects as a create (or, given the
//! object as it was, an update), as the API server's admission applies it.
//!
//! Per binding and object: the policy's `matchConstraints` and the binding's
//! `matchResources` (resource rules with the operation, `CREATE` or `UPDATE`, `excludeResourceRules`,
//! `namespaceSelector` against the rendered Namespace's labels, `objectSelector`), the
//! params (`paramKind` + `paramRef`, found among the rendered objects), `matchConditions`,
//! `variables`, then each validation. A failed validation's message is the server's
//! (`ValidatingAdmissionPolicy 'p' with binding 'b' denied request: …`, or for a warning
//! `Validation failed for ValidatingAdmissionPolicy 'p' with binding 'b': …`); its action is
//! the binding's `validationActions` (Deny → error, Warn → warning, Audit → note). The
//! expressions see the object with the server's defaults ([`super::defaults`]). An
//! expression that fails to evaluate follows `failurePolicy` (Fail: refused; Ignore: let
//! through). `authorizer` cannot be answered offline: a policy reading it is noted, and
//! its checks that read it are treated as failing to evaluate.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cel::Value as Cel;
use serde_json::{Value, json};

use super::value::untyped;
use super::{Evaluator, Scope, child, defaults};
use crate::manifest::Resource;

/// What one binding's policy decided about one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `Deny`, `Warn` or `Audit` (the binding's strongest action), or `Audit` for an audit annotation.
    pub action: Action,
    pub message: String,
    /// The `object.…` path the failed expression reads first, for locating it.
    pub field: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Audit,
    Warn,
    Deny,
}

/// A policy and one of its bindings.
#[derive(Debug, Clone)]
pub struct Bound {
    pub policy: Value,
    pub binding: Value,
    /// The policy reads `authorizer` (which cannot be answered offline).
    pub authorizer: bool,
}

/// The bindings of an environment with their policies (bindings naming an absent policy
/// are left out: the server ignores them too).
pub fn bindings<'a>(objects: impl IntoIterator<Item = &'a Value> + Clone) -> Vec<Bound> {
    let of_kind = |k: &'static str| {
        objects.clone().into_iter().filter(move |o| {
            o.get("kind").and_then(Value::as_str) == Some(k)
                && o.get("apiVersion")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.starts_with("admissionregistration.k8s.io/"))
        })
    };
    let policies: BTreeMap<&str, &Value> = of_kind("ValidatingAdmissionPolicy").map(|p| (name(p), p)).collect();
    let mut out: Vec<Bound> = of_kind("ValidatingAdmissionPolicyBinding")
        .filter_map(|b| {
            let policy = policies.get(str_at(b, "/spec/policyName"))?;
            let authorizer = policy["spec"].to_string().contains("authorizer");
            Some(Bound { policy: (*policy).clone(), binding: b.clone(), authorizer })
        })
        .collect();
    out.sort_by(|a, b| name(&a.binding).cmp(name(&b.binding)));
    out
}

fn name(v: &Value) -> &str {
    str_at(v, "/metadata/name")
}

/// The string at `pointer` (object keys only, no `~` escapes), or "". Not
/// `Value::pointer`, which unescapes every segment with two string replacements: this runs
/// for every binding and object.
fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    pointer.split('/').skip(1).try_fold(v, |v, k| v.get(k)).and_then(Value::as_str).unwrap_or("")
}

/// What the admission of an environment needs besides the object: namespaces and params.
pub struct Admission<'a> {
    pub ev: &'a Evaluator,
    pub bindings: &'a [Bound],
    /// Every object of the environment (Namespaces for selectors and `namespaceObject`, params).
    pub objects: &'a [&'a Resource],
    /// The plural resource name of a kind (`apps`, `Deployment` → `deployments`).
    pub resource_of: &'a dyn Fn(&str, &str) -> String,
    /// The rendered Namespaces of `objects`, by name.
    namespaces: HashMap<&'a str, &'a Resource>,
}

impl<'a> Admission<'a> {
    pub fn new(
        ev: &'a Evaluator,
        bindings: &'a [Bound],
        objects: &'a [&'a Resource],
        resource_of: &'a dyn Fn(&str, &str) -> String,
    ) -> Admission<'a> {
        let namespaces = if bindings.is_empty() {
            HashMap::new()
        } else {
            objects.iter().filter(|r| r.id.kind == "Namespace").map(|r| (r.id.name.as_str(), *r)).collect()
        };
        Admission { ev, bindings, objects, resource_of, namespaces }
    }
}

impl Admission<'_> {
    /// Every decision of every binding about `object` created, or with `old` an update of
    /// `old`, and the notes (policies using `authorizer`).
    pub fn decide(&self, object: &Resource, old: Option<&Resource>, notes: &mut Vec<String>) -> Vec<Decision> {
        let mut out = Vec::new();
        let namespace = self.namespace(object);
        let request = self.request(object, old.is_some());
        // The CEL values, converted once per object and only when a binding matches.
        let mut inputs: Option<Result<Scope, String>> = None;
        for bound in self.bindings {
            // On an update the object selector matches when the old or the new object does.
            let matches = |m: &Value| {
                matches(m, &request, &object.body, namespace.as_ref())
                    || old.is_some_and(|o| matches(m, &request, &o.body, namespace.as_ref()))
            };
            if !matches(&bound.policy["spec"]["matchConstraints"])
                || (bound.binding["spec"].get("matchResources").is_some()
                    && !matches(&bound.binding["spec"]["matchResources"]))
            {
                continue;
            }
            let inputs = inputs.get_or_insert_with(|| {
                // Policies see the object as the server stores it: with its defaults.
                let object = untyped(&defaults::applied(&object.body));
                let old = old.map_or(Cel::Null, |o| untyped(&defaults::applied(&o.body)));
                let (request, namespace) = (untyped(&request), namespace.as_ref().map_or(Cel::Null, untyped));
                let vars = [("object", &object), ("oldObject", &old), ("request", &request)];
                self.ev.scope(&[vars.as_slice(), &[("namespaceObject", &namespace)]].concat())
            });
            match inputs {
                Ok(scope) => out.extend(self.one(bound, object, scope, notes)),
                Err(e) => out.push(self.denial(bound, e.clone(), Vec::new())),
            }
        }
        out
    }

    fn one(&self, bound: &Bound, object: &Resource, inputs: &Scope, notes: &mut Vec<String>) -> Vec<Decision> {
        let policy_spec = &bound.policy["spec"];
        if bound.authorizer {
            notes.push(format!(
                "ValidatingAdmissionPolicy `{}` reads `authorizer`, which cannot be answered offline: its expressions that use it count as failing to evaluate (failurePolicy {})",
                name(&bound.policy),
                failure_policy(policy_spec)
            ));
        }
        let params = match self.params(bound, object) {
            Ok(p) => p,
            Err(message) => return vec![self.denial(bound, message, Vec::new())],
        };
        params.into_iter().flat_map(|p| self.evaluate(bound, inputs, p)).collect()
    }

    /// The rendered Namespace of a namespaced object (with the label the server adds), or a
    /// stand-in with only that label when the environment does not render it.
    fn namespace(&self, object: &Resource) -> Option<Value> {
        let ns = object.id.namespace.as_deref()?;
        let found = self.namespaces.get(ns);
        let mut body = found.map_or_else(
            || json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            |r| r.body.clone(),
        );
        body["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(ns);
        Some(body)
    }

    /// The admission request of a create of `object`, or of an update.
    fn request(&self, object: &Resource, update: bool) -> Value {
        let api = object.api_version();
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        let resource = (self.resource_of)(group, &object.id.kind);
        json!({
            "kind": {"group": group, "version": version, "kind": object.id.kind},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": object.id.kind},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": object.id.name,
            "namespace": object.id.namespace.as_deref().unwrap_or(""),
            "operation": if update { "UPDATE" } else { "CREATE" },
            "userInfo": {"username": "strata", "groups": ["system:authenticated"]},
            "dryRun": true,
        })
    }

    /// The params the binding names: `[None]` without `paramKind`, one per param found,
    /// or the server's refusal when none is found and `parameterNotFoundAction` is Deny.
    fn params(&self, bound: &Bound, object: &Resource) -> Result<Vec<Option<Value>>, String> {
        let Some(kind) = bound.policy["spec"].get("paramKind") else { return Ok(vec![None]) };
        let reference = &bound.binding["spec"]["paramRef"];
        let (api, k) = (str_at(kind, "/apiVersion"), str_at(kind, "/kind"));
        let wanted_ns = reference.get("namespace").and_then(Value::as_str).or(object.id.namespace.as_deref());
        let found: Vec<Option<Value>> = self
            .objects
            .iter()
            .filter(|r| r.api_version() == api && r.id.kind == k)
            .filter(|r| r.id.namespace.is_none() || r.id.namespace.as_deref() == wanted_ns)
            .filter(|r| match reference.get("name").and_then(Value::as_str) {
                Some(n) => r.id.name == n,
                None => selects(&reference["selector"], labels(&r.body)),
            })
            .map(|r| Some(r.body.clone()))
            .collect();
        if !found.is_empty() {
            return Ok(found);
        }
        match str_at(reference, "/parameterNotFoundAction") {
            "Deny" => Err(
                "failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction"
                    .to_string(),
            ),
            _ => Ok(Vec::new()),
        }
    }

    fn denial(&self, bound: &Bound, message: String, field: Vec<String>) -> Decision {
        let action = actions(&bound.binding).into_iter().max().unwrap_or(Action::Deny);
        let (policy, binding) = (name(&bound.policy), name(&bound.binding));
        // The server's words: the denial's cause, or the `Warning:` header it sends back.
        let message = match action {
            Action::Deny => {
                format!("ValidatingAdmissionPolicy '{policy}' with binding '{binding}' denied request: {message}")
            }
            _ => format!(
                "Validation failed for ValidatingAdmissionPolicy '{policy}' with binding '{binding}': {message}"
            ),
        };
        Decision { action, message, field }
    }

    fn evaluate(&self, bound: &Bound, inputs: &Scope, params: Option<Value>) -> Vec<Decision> {
        let spec = &bound.policy["spec"];
        let fail = failure_policy(spec) == "Fail";
        let params = params.as_ref().map_or(Cel::Null, untyped);
        let with_params = match child(inputs, &[("params", &params)]) {
            Ok(s) => s,
            Err(e) => return vec![self.denial(bound, e, Vec::new())],
        };
        let variables = self.variables(spec, &with_params);
        let scope = match child(&with_params, &[("variables", &variables)]) {
            Ok(s) => s,
            Err(e) => return vec![self.denial(bound, e, Vec::new())],
        };
        let run = |expr: &str| -> Result<Cel, String> {
            if expr.contains("authorizer") {
                return Err("authorizer is not available offline".to_string());
            }
            self.ev.run(&*self.ev.compile(expr)?, &scope)
        };
        // matchConditions: all must hold; an error follows failurePolicy.
        for c in spec["matchConditions"].as_array().into_iter().flatten() {
            match run(str_at(c, "/expression")) {
                Ok(Cel::Bool(true)) => {}
                Ok(_) => return Vec::new(),
                Err(e) if fail => {
                    let m = format!("failed to evaluate match condition '{}': {e}", str_at(c, "/name"));
                    return vec![self.denial(bound, m, Vec::new())];
                }
                Err(_) => return Vec::new(),
            }
        }
        let mut out = Vec::new();
        // The server answers a denied request with its first failed validation.
        let first_only = actions(&bound.binding).contains(&Action::Deny);
        for v in spec["validations"].as_array().into_iter().flatten() {
            if first_only && !out.is_empty() {
                break;
            }
            let expr = str_at(v, "/expression");
            let message = match run(expr) {
                Ok(Cel::Bool(true)) => continue,
                Ok(Cel::Bool(false)) => validation_message(v, expr, &run),
                Ok(_) => format!("expression '{expr}' resulted in error: expression did not evaluate to a boolean"),
                Err(_) if !fail => continue,
                Err(e) => format!("expression '{expr}' resulted in error: {e}"),
            };
            out.push(self.denial(bound, message, object_path(expr)));
        }
        for a in spec["auditAnnotations"].as_array().into_iter().flatten() {
            if let Ok(Cel::String(s)) = run(str_at(a, "/valueExpression")) {
                let message = format!("audit annotation `{}/{}`: {s}", name(&bound.policy), str_at(a, "/key"));
                out.push(Decision { action: Action::Audit, message, field: Vec::new() });
            }
        }
        out
    }

    /// `variables`, each in order (a later one may read an earlier one); one that fails
    /// to evaluate is left out (reading it is then an error, as on the server).
    fn variables(&self, spec: &Value, parent: &Scope) -> Cel {
        let mut done: std::collections::HashMap<cel::objects::Key, Cel> = std::collections::HashMap::new();
        for v in spec["variables"].as_array().into_iter().flatten() {
            let so_far = Cel::Map(cel::objects::Map { map: Arc::new(done.clone()) });
            let value = child(parent, &[("variables", &so_far)])
                .and_then(|scope| self.ev.run(&*self.ev.compile(str_at(v, "/expression"))?, &scope));
            if let Ok(value) = value {
                done.insert(cel::objects::Key::String(Arc::new(str_at(v, "/name").to_string())), value);
            }
        }
        Cel::Map(cel::objects::Map { map: Arc::new(done) })
    }
}

/// The plural resource names CRDs declare, by (group, kind).
pub fn crd_plurals<'a>(bodies: impl IntoIterator<Item = &'a Value>) -> BTreeMap<(String, String), String> {
    let crds = bodies.into_iter().filter(|b| b.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition"));
    crds.map(|c| {
        let key = (str_at(c, "/spec/group").to_string(), str_at(c, "/spec/names/kind").to_string());
        (key, str_at(c, "/spec/names/plural").to_string())
    })
    .collect()
}

/// The resource a kind is served as: the CRD's plural, else the built-in rule (`Ingress` →
/// `ingresses`, `NetworkPolicy` → `networkpolicies`, `Endpoints` → `endpoints`).
pub fn resource_name(crd_plurals: &BTreeMap<(String, String), String>, group: &str, kind: &str) -> String {
    if let Some(p) = crd_plurals.get(&(group.to_string(), kind.to_string())) {
        return p.clone();
    }
    let lower = kind.to_lowercase();
    if lower == "endpoints" {
        lower
    } else if lower.ends_with('s') || lower.ends_with("ch") || lower.ends_with('x') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y').filter(|s| !s.ends_with(['a', 'e', 'o', 'u'])) {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    }
}

fn failure_policy(spec: &Value) -> &str {
    spec.get("failurePolicy").and_then(Value::as_str).unwrap_or("Fail")
}

/// The binding's `validationActions`.
fn actions(binding: &Value) -> Vec<Action> {
    let list = binding["spec"]["validationActions"].as_array();
    list.into_iter()
        .flatten()
        .filter_map(|a| match a.as_str()? {
            "Deny" => Some(Action::Deny),
            "Warn" => Some(Action::Warn),
            "Audit" => Some(Action::Audit),
            _ => None,
        })
        .collect()
}

/// A failed validation's message: `messageExpression`, else `message`, else the server's default.
fn validation_message(v: &Value, expr: &str, run: &dyn Fn(&str) -> Result<Cel, String>) -> String {
    if let Some(me) = v.get("messageExpression").and_then(Value::as_str)
        && let Ok(Cel::String(s)) = run(me)
        && !s.trim().is_empty()
    {
        return s.to_string();
    }
    match v.get("message").and_then(Value::as_str) {
        Some(m) if !m.trim().is_empty() => m.to_string(),
        _ => format!("failed expression: {}", expr.trim()),
    }
}

/// The first `object.a.b` path an expression reads: where a finding points.
fn object_path(expr: &str) -> Vec<String> {
    let Some(at) = expr.find("object.") else { return Vec::new() };
    if at > 0 && expr[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.') {
        return Vec::new();
    }
    let rest = &expr[at + "object.".len()..];
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len());
    let mut path: Vec<String> = rest[..end].split('.').filter(|s| !s.is_empty()).map(String::from).collect();
    // `object.spec.containers.all(...)`: the last name is a function, not a field.
    if rest[end..].starts_with('(') {
        path.pop();
    }
    path
}

fn labels(body: &Value) -> BTreeMap<String, String> {
    let l = body["metadata"]["labels"].as_object();
    l.into_iter().flatten().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect()
}

/// A label selector (`matchLabels`, `matchExpressions`) against labels; an absent selector selects all.
pub fn selects(selector: &Value, labels: BTreeMap<String, String>) -> bool {
    if let Some(m) = selector.get("matchLabels").and_then(Value::as_object)
        && !m.iter().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
    {
        return false;
    }
    selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten().all(|e| {
        let key = str_at(e, "/key");
        let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        match str_at(e, "/operator") {
            "In" => labels.get(key).is_some_and(|v| values.contains(&v.as_str())),
            "NotIn" => labels.get(key).is_none_or(|v| !values.contains(&v.as_str())),
            "Exists" => labels.contains_key(key),
            "DoesNotExist" => !labels.contains_key(key),
            _ => false,
        }
    })
}

/// `matchConstraints` / `matchResources` against a create request.
fn matches(m: &Value, request: &Value, object: &Value, namespace: Option<&Value>) -> bool {
    if m.is_null() {
        return true;
    }
    let rule_hits = |rules: &Value| rules.as_array().into_iter().flatten().any(|r| rule_matches(r, request));
    if m.get("resourceRules").is_some() && !rule_hits(&m["resourceRules"]) {
        return false;
    }
    if rule_hits(&m["excludeResourceRules"]) {
        return false;
    }
    if let Some(sel) = m.get("namespaceSelector")
        && let Some(ns) = namespace
        && !selects(sel, labels(ns))
    {
        return false;
    }
    m.get("objectSelector").is_none_or(|sel| selects(sel, labels(object)))
}

fn rule_matches(rule: &Value, request: &Value) -> bool {
    let list = |k: &str| -> Vec<&str> { rule[k].as_array().into_iter().flatten().filter_map(Value::as_str).collect() };
    let any = |k: &str, v: &str| list(k).iter().any(|x| *x == "*" || *x == v);
    let resource = str_at(request, "/resource/resource");
    let names = list("resourceNames");
    let scope = rule.get("scope").and_then(Value::as_str).unwrap_or("*");
    let namespaced = !str_at(request, "/namespace").is_empty();
    any("operations", str_at(request, "/operation"))
        && any("apiGroups", str_at(request, "/resource/group"))
        && any("apiVersions", str_at(request, "/resource/version"))
        && list("resources").iter().any(|r| *r == "*" || *r == resource || *r == "*/*")
        && (names.is_empty() || names.contains(&str_at(request, "/name")))
        && match scope {
            "Namespaced" => namespaced,
            "Cluster" => !namespaced,
            _ => true,
        }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
