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
//!
//! Speed: the rules and selectors of bindings are read once; the CEL values of an object
//! are made only when a binding matches, borrowing its JSON. An expression that reads
//! documents only through paths ([`super::Compiled::paths`]) is evaluated on what those
//! paths reach and its outcome kept ([`Memo`]): the next object whose paths reach the same
//! values (the same containers' images in another environment) gets it without evaluating.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::{Arc, Mutex};

use cel::Value as Cel;
use cel::common::types::{CelList, CelMap, CelMapKey, CelNull};
use cel::common::value::Val;
use serde_json::{Value, json};

use super::value::borrowed;
use super::{DOCUMENTS, DocPath, Evaluator, Scope, Segment, child, defaults};
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
    /// The binding's `validationActions`.
    actions: Vec<Action>,
    /// The policy's `matchConstraints`, and the binding's `matchResources` when it has one.
    constraints: Matcher,
    resources: Option<Matcher>,
}

impl Bound {
    fn new(policy: &Value, binding: &Value) -> Bound {
        let resources = binding["spec"].get("matchResources").map(Matcher::new);
        Bound {
            authorizer: policy["spec"].to_string().contains("authorizer"),
            actions: actions(binding),
            constraints: Matcher::new(&policy["spec"]["matchConstraints"]),
            resources,
            policy: policy.clone(),
            binding: binding.clone(),
        }
    }
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
        .filter_map(|b| Some(Bound::new(policies.get(str_at(b, "/spec/policyName"))?, b)))
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
    /// Outcomes already known, shared by every environment of the run.
    memo: &'a Memo,
}

impl<'a> Admission<'a> {
    pub fn new(
        ev: &'a Evaluator,
        bindings: &'a [Bound],
        objects: &'a [&'a Resource],
        resource_of: &'a dyn Fn(&str, &str) -> String,
        memo: &'a Memo,
    ) -> Admission<'a> {
        let namespaces = if bindings.is_empty() {
            HashMap::new()
        } else {
            objects.iter().filter(|r| r.id.kind == "Namespace").map(|r| (r.id.name.as_str(), *r)).collect()
        };
        Admission { ev, bindings, objects, resource_of, namespaces, memo }
    }
}

/// What an expression came to, as admission uses it.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Bool(bool),
    String(String),
    /// Any other value.
    Other,
}

impl From<Cel> for Outcome {
    fn from(value: Cel) -> Outcome {
        match value {
            Cel::Bool(b) => Outcome::Bool(b),
            Cel::String(s) => Outcome::String(s.to_string()),
            _ => Outcome::Other,
        }
    }
}

/// The outcomes of expressions that read documents only through field selections
/// ([`super::Compiled::paths`]), by expression and the values at those paths. Most objects
/// of a repository repeat from environment to environment in what a policy reads (a
/// container list, a replica count), so most evaluations are answered here. Shared by the
/// environments a run checks in parallel; emptied when it holds [`Memo::MAX_ENTRIES`].
#[derive(Default)]
pub struct Memo {
    /// How many outcomes, and the outcomes by expression and key.
    outcomes: Mutex<(usize, Outcomes)>,
    /// The keys of [`memo_key`]'s two hashes.
    keys: [RandomState; 2],
}

/// A [`memo_key`].
type Key = (u64, u64);

/// [`Memo`]'s outcomes by expression and key.
type Outcomes = HashMap<String, HashMap<Key, Result<Outcome, String>>>;

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.outcomes.lock().map_or(0, |o| o.0);
        f.debug_struct("Memo").field("entries", &entries).finish()
    }
}

impl Memo {
    const MAX_ENTRIES: usize = 1_000_000;

    fn get(&self, expr: &str, key: Key) -> Option<Result<Outcome, String>> {
        let outcomes = self.outcomes.lock().ok()?;
        outcomes.1.get(expr)?.get(&key).cloned()
    }

    fn put(&self, expr: &str, key: Key, outcome: Result<Outcome, String>) {
        let Ok(mut outcomes) = self.outcomes.lock() else { return };
        if outcomes.0 >= Memo::MAX_ENTRIES {
            *outcomes = Default::default();
        }
        outcomes.0 += 1;
        match outcomes.1.get_mut(expr) {
            Some(known) => {
                known.insert(key, outcome);
            }
            None => {
                outcomes.1.insert(expr.to_string(), HashMap::from([(key, outcome)]));
            }
        }
    }
}

/// An admission request's facts, as rules match them.
struct Request<'r> {
    group: &'r str,
    version: &'r str,
    kind: &'r str,
    resource: String,
    name: &'r str,
    /// "" for a cluster-scoped object.
    namespace: &'r str,
    operation: &'static str,
}

impl Request<'_> {
    /// The `request` policies read.
    fn json(&self) -> Value {
        let (group, version) = (self.group, self.version);
        json!({
            "kind": {"group": group, "version": version, "kind": self.kind},
            "resource": {"group": group, "version": version, "resource": self.resource},
            "requestKind": {"group": group, "version": version, "kind": self.kind},
            "requestResource": {"group": group, "version": version, "resource": self.resource},
            "name": self.name,
            "namespace": self.namespace,
            "operation": self.operation,
            "userInfo": {"username": "strata", "groups": ["system:authenticated"]},
            "dryRun": true,
        })
    }
}

/// One object's documents ([`super::DOCUMENTS`] but params), each made when first read.
struct Documents<'o> {
    object: &'o Resource,
    old: Option<&'o Resource>,
    request: Request<'o>,
    /// The object and the old object as the server stores them: with their defaults.
    defaulted: OnceCell<(Cow<'o, Value>, Option<Cow<'o, Value>>)>,
    request_json: OnceCell<Value>,
    namespace: OnceCell<Option<Value>>,
}

impl Documents<'_> {
    /// Document `d` of [`super::DOCUMENTS`] (`params`, 4, is the caller's).
    fn get(&self, admission: &Admission, d: usize) -> Option<&Value> {
        let defaulted = || {
            self.defaulted
                .get_or_init(|| (defaults::applied(&self.object.body), self.old.map(|o| defaults::applied(&o.body))))
        };
        match d {
            0 => Some(&defaulted().0),
            1 => defaulted().1.as_deref(),
            2 => Some(self.request_json.get_or_init(|| self.request.json())),
            3 => self.namespace.get_or_init(|| admission.namespace(self.object)).as_ref(),
            _ => None,
        }
    }
}

impl<'a> Admission<'a> {
    /// Every decision of every binding about `object` created, or with `old` an update of
    /// `old`, and the notes (policies using `authorizer`).
    pub fn decide<'o>(
        &self,
        object: &'o Resource,
        old: Option<&'o Resource>,
        notes: &mut Vec<String>,
    ) -> Vec<Decision> {
        let mut out = Vec::new();
        if self.bindings.is_empty() {
            return out;
        }
        let docs = Documents {
            object,
            old,
            request: self.request(object, old.is_some()),
            defaulted: OnceCell::new(),
            request_json: OnceCell::new(),
            namespace: OnceCell::new(),
        };
        // Every document as CEL values, for expressions that read more than field
        // selections: made once per object, when one needs it.
        let whole: OnceCell<Scope> = OnceCell::new();
        let whole = || {
            whole.get_or_init(|| {
                let mut scope = self.ev.root().new_inner_scope();
                for (d, name) in DOCUMENTS.iter().enumerate().take(4) {
                    scope.add_variable_as_val(*name, docs.get(self, d).map_or(null(), borrowed));
                }
                // What a policy without params or variables reads for them.
                scope.add_variable_as_val("params", null());
                scope.add_variable_as_val("variables", Box::new(CelMap::from(HashMap::new())));
                scope
            })
        };
        let namespace = || docs.get(self, 3);
        for bound in self.bindings {
            // On an update the object selector matches when the old or the new object does.
            let matches = |m: &Matcher| {
                m.matches(&docs.request, &object.body, &namespace)
                    || old.is_some_and(|o| m.matches(&docs.request, &o.body, &namespace))
            };
            if !matches(&bound.constraints) || bound.resources.as_ref().is_some_and(|m| !matches(m)) {
                continue;
            }
            out.extend(self.one(bound, &docs, &whole, notes));
        }
        out
    }

    fn one<'s>(
        &self,
        bound: &Bound,
        docs: &Documents,
        whole: &dyn Fn() -> &'s Scope<'s, 's>,
        notes: &mut Vec<String>,
    ) -> Vec<Decision> {
        let policy_spec = &bound.policy["spec"];
        if bound.authorizer {
            notes.push(format!(
                "ValidatingAdmissionPolicy `{}` reads `authorizer`, which cannot be answered offline: its expressions that use it count as failing to evaluate (failurePolicy {})",
                name(&bound.policy),
                failure_policy(policy_spec)
            ));
        }
        let params = match self.params(bound, docs.object) {
            Ok(p) => p,
            Err(message) => return vec![self.denial(bound, message, Vec::new())],
        };
        params.into_iter().flat_map(|p| self.evaluate(bound, docs, whole, p)).collect()
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
    fn request<'r>(&self, object: &'r Resource, update: bool) -> Request<'r> {
        let api = object.api_version();
        let (group, version) = api.rsplit_once('/').unwrap_or(("", api));
        Request {
            group,
            version,
            kind: &object.id.kind,
            resource: (self.resource_of)(group, &object.id.kind),
            name: &object.id.name,
            namespace: object.id.namespace.as_deref().unwrap_or(""),
            operation: if update { "UPDATE" } else { "CREATE" },
        }
    }

    /// The params the binding names: `[None]` without `paramKind`, one per param found,
    /// or the server's refusal when none is found and `parameterNotFoundAction` is Deny.
    fn params(&self, bound: &Bound, object: &Resource) -> Result<Vec<Option<&'a Value>>, String> {
        let Some(kind) = bound.policy["spec"].get("paramKind") else { return Ok(vec![None]) };
        let reference = &bound.binding["spec"]["paramRef"];
        let (api, k) = (str_at(kind, "/apiVersion"), str_at(kind, "/kind"));
        let wanted_ns = reference.get("namespace").and_then(Value::as_str).or(object.id.namespace.as_deref());
        let found: Vec<Option<&'a Value>> = self
            .objects
            .iter()
            .filter(|r| r.api_version() == api && r.id.kind == k)
            .filter(|r| r.id.namespace.is_none() || r.id.namespace.as_deref() == wanted_ns)
            .filter(|r| match reference.get("name").and_then(Value::as_str) {
                Some(n) => r.id.name == n,
                None => selects(&reference["selector"], labels(&r.body)),
            })
            .map(|r| Some(&r.body))
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
        let action = bound.actions.iter().copied().max().unwrap_or(Action::Deny);
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

    fn evaluate<'s>(
        &self,
        bound: &Bound,
        docs: &Documents,
        whole: &dyn Fn() -> &'s Scope<'s, 's>,
        params: Option<&Value>,
    ) -> Vec<Decision> {
        let spec = &bound.policy["spec"];
        let fail = failure_policy(spec) == "Fail";
        let document = |d: usize| if d == 4 { params } else { docs.get(self, d) };
        // For the expressions that read more than documents' fields: every document, with
        // this policy's params and variables hiding the empty ones.
        let scope: OnceCell<Scope> = OnceCell::new();
        let scope = || {
            scope.get_or_init(|| {
                let mut scope = whole().new_inner_scope();
                if let Some(p) = params {
                    scope.add_variable_as_val("params", borrowed(p));
                }
                if spec["variables"].as_array().is_some_and(|v| !v.is_empty()) {
                    let variables = self.variables(spec, &scope);
                    let variables: Box<dyn Val> = variables.try_into().unwrap_or_else(|_| null());
                    scope.add_variable_as_val("variables", variables);
                }
                scope
            })
        };
        let run = |expr: &str| self.outcome(bound, expr, &document, &scope);
        // matchConditions: all must hold; an error follows failurePolicy.
        for c in spec["matchConditions"].as_array().into_iter().flatten() {
            match run(str_at(c, "/expression")) {
                Ok(Outcome::Bool(true)) => {}
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
        let first_only = bound.actions.contains(&Action::Deny);
        for v in spec["validations"].as_array().into_iter().flatten() {
            if first_only && !out.is_empty() {
                break;
            }
            let expr = str_at(v, "/expression");
            let message = match run(expr) {
                Ok(Outcome::Bool(true)) => continue,
                Ok(Outcome::Bool(false)) => validation_message(v, expr, &run),
                Ok(_) => format!("expression '{expr}' resulted in error: expression did not evaluate to a boolean"),
                Err(_) if !fail => continue,
                Err(e) => format!("expression '{expr}' resulted in error: {e}"),
            };
            out.push(self.denial(bound, message, object_path(expr)));
        }
        for a in spec["auditAnnotations"].as_array().into_iter().flatten() {
            if let Ok(Outcome::String(s)) = run(str_at(a, "/valueExpression")) {
                let message = format!("audit annotation `{}/{}`: {s}", name(&bound.policy), str_at(a, "/key"));
                out.push(Decision { action: Action::Audit, message, field: Vec::new() });
            }
        }
        out
    }

    /// What `expr` comes to: known from the [`Memo`] when it reads documents only through
    /// paths and the values they reach were met before, else evaluated on those values (and
    /// kept), or, when it reads more, in `full` (every document, params and variables).
    fn outcome<'v, 'c>(
        &self,
        bound: &Bound,
        expr: &str,
        document: &dyn Fn(usize) -> Option<&'v Value>,
        full: &dyn Fn() -> &'c Scope<'c, 'c>,
    ) -> Result<Outcome, String> {
        if bound.authorizer && expr.contains("authorizer") {
            return Err("authorizer is not available offline".to_string());
        }
        let program = self.ev.compile(expr)?;
        let Some(paths) = &program.paths else { return self.ev.run(&program, full()).map(Outcome::from) };
        let key = memo_key(self.memo, paths, document);
        if let Some(known) = self.memo.get(expr, key) {
            return known;
        }
        let mut only = self.ev.root().new_inner_scope();
        for (d, name) in DOCUMENTS.iter().enumerate() {
            let fields: Vec<&[Segment]> = paths.iter().filter(|(p, _)| *p == d).map(|(_, f)| f.as_slice()).collect();
            if !fields.is_empty() {
                only.add_variable_as_val(*name, document(d).map_or(null(), |v| projection(v, &fields)));
            }
        }
        let outcome = self.ev.run(&program, &only).map(Outcome::from);
        self.memo.put(expr, key, outcome.clone());
        outcome
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

/// What decides an expression's outcome: what each of its paths reaches (the value
/// there, where the path stops: a field absent, a value without fields or elements; the
/// elements or keys it iterates), hashed twice with independent random keys ([`Memo`]'s):
/// 128 bits, so that distinct values share a key with a chance of about 2⁻⁸⁸ in a run of
/// a million entries. Every part is written with a tag, strings with their length, so that
/// no two distinct walks write the same bytes.
fn memo_key<'v>(memo: &Memo, paths: &[DocPath], document: &dyn Fn(usize) -> Option<&'v Value>) -> Key {
    let mut hashers = [memo.keys[0].build_hasher(), memo.keys[1].build_hasher()];
    for (d, path) in paths {
        for h in &mut hashers {
            h.write_usize(*d);
            match document(*d) {
                Some(value) => hash_path(value, path, h),
                None => h.write_u8(b'N'),
            }
        }
    }
    let [a, b] = hashers.map(|h| h.finish());
    (a, b)
}

/// What `path` reaches from `value`, into a hasher (see [`memo_key`] and [`projection`]).
fn hash_path(value: &Value, path: &[Segment], h: &mut impl Hasher) {
    let Some((step, rest)) = path.split_first() else {
        h.write_u8(b'V');
        return hash_value(value, h);
    };
    match (step, value) {
        (Segment::Nothing, _) => h.write_u8(b'Z'),
        (Segment::Field(k), Value::Object(map)) => match map.get(k) {
            Some(v) => {
                h.write_u8(b'F');
                hash_path(v, rest, h);
            }
            None => h.write_u8(b'A'),
        },
        (Segment::Index(i), Value::Array(items)) => {
            h.write_u8(b'I');
            h.write_usize(items.len());
            if let Some(v) = usize::try_from(*i).ok().and_then(|i| items.get(i)) {
                hash_path(v, rest, h);
            }
        }
        (Segment::Each, Value::Array(items)) => {
            h.write_u8(b'L');
            h.write_usize(items.len());
            items.iter().for_each(|v| hash_path(v, rest, h));
        }
        // A map's keys (what is read beyond a key is read of the key, a string).
        (Segment::Each, Value::Object(map)) => {
            h.write_u8(b'M');
            h.write_usize(map.len());
            for k in map.keys() {
                h.write_usize(k.len());
                h.write(k.as_bytes());
            }
        }
        // A step the value cannot take: it is read whole.
        _ => {
            h.write_u8(b'X');
            hash_value(value, h);
        }
    }
}

/// Feeds a JSON value to a hasher as CEL sees it (an integer and a float apart).
fn hash_value(value: &Value, h: &mut impl Hasher) {
    match value {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => h.write_u8(if *b { 2 } else { 1 }),
        Value::Number(n) => match n.as_i64() {
            Some(i) => {
                h.write_u8(3);
                h.write_i64(i);
            }
            None => {
                h.write_u8(4);
                h.write_u64(n.as_f64().unwrap_or(0.0).to_bits());
            }
        },
        Value::String(s) => {
            h.write_u8(5);
            h.write_usize(s.len());
            h.write(s.as_bytes());
        }
        Value::Array(items) => {
            h.write_u8(6);
            h.write_usize(items.len());
            items.iter().for_each(|i| hash_value(i, h));
        }
        Value::Object(map) => {
            h.write_u8(7);
            h.write_usize(map.len());
            for (k, v) in map {
                h.write_usize(k.len());
                h.write(k.as_bytes());
                hash_value(v, h);
            }
        }
    }
}

/// `value` as CEL values holding what `paths` reach and no more: the fields they select,
/// every element or key they iterate (an element nothing reads is `null`), the whole value
/// where a path ends or a step cannot be taken. What [`hash_path`] hashes, as values.
fn projection<'v>(value: &'v Value, paths: &[&[Segment]]) -> Box<dyn Val + 'v> {
    if paths.iter().any(|p| p.is_empty()) {
        return borrowed(value);
    }
    let live: Vec<&[Segment]> = paths.iter().copied().filter(|p| p[0] != Segment::Nothing).collect();
    if live.is_empty() {
        return null();
    }
    let below = |test: &dyn Fn(&Segment) -> bool| -> Vec<&[Segment]> {
        live.iter().filter(|p| test(&p[0])).map(|p| &p[1..]).collect()
    };
    match value {
        Value::Object(map) if live.iter().all(|p| matches!(p[0], Segment::Field(_) | Segment::Each)) => {
            let each = live.iter().any(|p| p[0] == Segment::Each);
            let mut out: HashMap<CelMapKey<'v>, Box<dyn Val + 'v>> = HashMap::new();
            for (k, v) in map {
                let fields = below(&|s| matches!(s, Segment::Field(f) if f == k));
                if !fields.is_empty() {
                    out.insert(CelMapKey::from(k.as_str()), projection(v, &fields));
                } else if each {
                    out.insert(CelMapKey::from(k.as_str()), null());
                }
            }
            Box::new(CelMap::from(out))
        }
        Value::Array(items) if live.iter().all(|p| matches!(p[0], Segment::Index(_) | Segment::Each)) => {
            let elements = items.iter().enumerate().map(|(i, v)| {
                let reads = below(&|s| *s == Segment::Each || *s == Segment::Index(i as i64));
                if reads.is_empty() { null() } else { projection(v, &reads) }
            });
            Box::new(CelList::from(elements.collect::<Vec<_>>()))
        }
        _ => borrowed(value),
    }
}

fn null() -> Box<dyn Val + 'static> {
    Box::new(CelNull)
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
fn validation_message(v: &Value, expr: &str, run: &dyn Fn(&str) -> Result<Outcome, String>) -> String {
    if let Some(me) = v.get("messageExpression").and_then(Value::as_str)
        && let Ok(Outcome::String(s)) = run(me)
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

fn labels(body: &Value) -> &serde_json::Map<String, Value> {
    static EMPTY: std::sync::LazyLock<serde_json::Map<String, Value>> = std::sync::LazyLock::new(serde_json::Map::new);
    body["metadata"]["labels"].as_object().unwrap_or(&EMPTY)
}

/// A label selector (`matchLabels`, `matchExpressions`) against labels; an absent selector
/// selects all, an unknown operator nothing.
pub fn selects(selector: &Value, labels: &serde_json::Map<String, Value>) -> bool {
    let label = |k: &str| labels.get(k).map(|v| v.as_str().unwrap_or(""));
    if let Some(m) = selector.get("matchLabels").and_then(Value::as_object)
        && !m.iter().all(|(k, v)| label(k) == v.as_str())
    {
        return false;
    }
    selector.get("matchExpressions").and_then(Value::as_array).into_iter().flatten().all(|e| {
        let key = str_at(e, "/key");
        let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        match str_at(e, "/operator") {
            "In" => label(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => label(key).is_none_or(|v| !values.contains(&v)),
            "Exists" => label(key).is_some(),
            "DoesNotExist" => label(key).is_none(),
            _ => false,
        }
    })
}

/// `matchConstraints` / `matchResources`, read once per binding.
#[derive(Debug, Clone, Default)]
struct Matcher {
    /// `resourceRules` (absent: every resource).
    rules: Option<Vec<Rule>>,
    exclude: Vec<Rule>,
    namespace_selector: Option<Value>,
    object_selector: Option<Value>,
}

impl Matcher {
    fn new(m: &Value) -> Matcher {
        Matcher {
            rules: m.get("resourceRules").map(Rule::list),
            exclude: Rule::list(&m["excludeResourceRules"]),
            namespace_selector: m.get("namespaceSelector").cloned(),
            object_selector: m.get("objectSelector").cloned(),
        }
    }

    /// Whether a request about `object` (in `namespace`, asked only when a selector needs it) matches.
    fn matches<'n>(&self, request: &Request, object: &Value, namespace: &dyn Fn() -> Option<&'n Value>) -> bool {
        if self.rules.as_ref().is_some_and(|rules| !rules.iter().any(|r| r.matches(request))) {
            return false;
        }
        if self.exclude.iter().any(|r| r.matches(request)) {
            return false;
        }
        if let Some(sel) = &self.namespace_selector
            && let Some(ns) = namespace()
            && !selects(sel, labels(ns))
        {
            return false;
        }
        self.object_selector.as_ref().is_none_or(|sel| selects(sel, labels(object)))
    }
}

/// One of `resourceRules`.
#[derive(Debug, Clone)]
struct Rule {
    operations: Vec<String>,
    groups: Vec<String>,
    versions: Vec<String>,
    resources: Vec<String>,
    names: Vec<String>,
    scope: String,
}

impl Rule {
    fn list(rules: &Value) -> Vec<Rule> {
        let strings = |r: &Value, k: &str| -> Vec<String> {
            r[k].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect()
        };
        let rules = rules.as_array().into_iter().flatten();
        rules
            .map(|r| Rule {
                operations: strings(r, "operations"),
                groups: strings(r, "apiGroups"),
                versions: strings(r, "apiVersions"),
                resources: strings(r, "resources"),
                names: strings(r, "resourceNames"),
                scope: r.get("scope").and_then(Value::as_str).unwrap_or("*").to_string(),
            })
            .collect()
    }

    fn matches(&self, request: &Request) -> bool {
        let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
        let namespaced = !request.namespace.is_empty();
        any(&self.operations, request.operation)
            && any(&self.groups, request.group)
            && any(&self.versions, request.version)
            && self.resources.iter().any(|r| r == "*" || *r == request.resource || r == "*/*")
            && (self.names.is_empty() || self.names.iter().any(|n| n == request.name))
            && match self.scope.as_str() {
                "Namespaced" => namespaced,
                "Cluster" => !namespaced,
                _ => true,
            }
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
