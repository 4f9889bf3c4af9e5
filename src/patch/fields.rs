//! Field transformers: labels, annotations, images and replicas.
//!
//! In: one resource body and a rule from kustomization.yaml. Out: the body with the
//! rule applied at every place kustomize v5 applies it. Where those places are is
//! data: the field-spec tables below, each row saying which kinds it applies to
//! (an empty group, version or kind matches any) and the path inside the object
//! (`/`-separated, `[]` after a list field, a list met along the way is entered
//! item by item), and whether missing fields are created.

use serde_json::{Map, Value};

/// Where a transformer writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub path: Vec<Segment>,
    pub create: bool,
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: String,
    /// Written `name[]`: the field is a list whose items the rest of the path applies to.
    pub list: bool,
}

/// (group, version, kind, path, create) — a row of a field-spec table.
pub type Row = (&'static str, &'static str, &'static str, &'static str, bool);

/// `commonLabels` and `labels` with `includeSelectors`: metadata, pod templates and selectors.
/// Selectors are created where they must exist (Services, Deployments, ...), and only
/// updated where they are optional (Jobs, affinity terms, policies).
pub const COMMON_LABELS: &[Row] = &[
    ("", "v1", "Service", "spec/selector", true),
    ("", "v1", "ReplicationController", "spec/selector", true),
    ("", "", "Deployment", "spec/selector/matchLabels", true),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "Deployment",
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    ("apps", "", "Deployment", "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", false),
    ("", "", "ReplicaSet", "spec/selector/matchLabels", true),
    ("", "", "DaemonSet", "spec/selector/matchLabels", true),
    ("apps", "", "StatefulSet", "spec/selector/matchLabels", true),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    (
        "apps",
        "",
        "StatefulSet",
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
        false,
    ),
    ("apps", "", "StatefulSet", "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels", false),
    ("batch", "", "Job", "spec/selector/matchLabels", false),
    ("batch", "", "CronJob", "spec/jobTemplate/spec/selector/matchLabels", false),
    ("policy", "", "PodDisruptionBudget", "spec/selector/matchLabels", false),
    ("networking.k8s.io", "", "NetworkPolicy", "spec/podSelector/matchLabels", false),
    ("networking.k8s.io", "", "NetworkPolicy", "spec/ingress/from/podSelector/matchLabels", false),
    ("networking.k8s.io", "", "NetworkPolicy", "spec/egress/to/podSelector/matchLabels", false),
];

/// Every object's labels and its pod templates' labels (`labels` with `includeTemplates`;
/// also part of `commonLabels`).
pub const TEMPLATE_LABELS: &[Row] = &[
    ("", "", "", "metadata/labels", true),
    ("", "v1", "ReplicationController", "spec/template/metadata/labels", true),
    ("", "", "Deployment", "spec/template/metadata/labels", true),
    ("", "", "ReplicaSet", "spec/template/metadata/labels", true),
    ("", "", "DaemonSet", "spec/template/metadata/labels", true),
    ("apps", "", "StatefulSet", "spec/template/metadata/labels", true),
    ("apps", "", "StatefulSet", "spec/volumeClaimTemplates[]/metadata/labels", true),
    ("batch", "", "Job", "spec/template/metadata/labels", true),
    ("batch", "", "CronJob", "spec/jobTemplate/metadata/labels", true),
    ("batch", "", "CronJob", "spec/jobTemplate/spec/template/metadata/labels", true),
];

/// Only the object's own labels (`labels` without options).
pub const METADATA_LABELS: &[Row] = &[("", "", "", "metadata/labels", true)];

/// `commonAnnotations`: every object and its pod templates.
pub const COMMON_ANNOTATIONS: &[Row] = &[
    ("", "", "", "metadata/annotations", true),
    ("", "v1", "ReplicationController", "spec/template/metadata/annotations", true),
    ("", "", "Deployment", "spec/template/metadata/annotations", true),
    ("", "", "ReplicaSet", "spec/template/metadata/annotations", true),
    ("", "", "DaemonSet", "spec/template/metadata/annotations", true),
    ("", "", "StatefulSet", "spec/template/metadata/annotations", true),
    ("batch", "", "Job", "spec/template/metadata/annotations", true),
    ("batch", "", "CronJob", "spec/jobTemplate/metadata/annotations", true),
    ("batch", "", "CronJob", "spec/jobTemplate/spec/template/metadata/annotations", true),
];

/// `replicas`: the kinds with a `spec.replicas` kustomize sets.
pub const REPLICAS: &[Row] = &[
    ("", "", "Deployment", "spec/replicas", true),
    ("", "", "ReplicationController", "spec/replicas", true),
    ("", "", "ReplicaSet", "spec/replicas", true),
    ("", "", "StatefulSet", "spec/replicas", true),
];

impl FieldSpec {
    pub fn from_row(r: &Row) -> FieldSpec {
        FieldSpec { group: r.0.into(), version: r.1.into(), kind: r.2.into(), path: parse_path(r.3), create: r.4 }
    }

    pub fn table(rows: &[Row]) -> Vec<FieldSpec> {
        rows.iter().map(FieldSpec::from_row).collect()
    }

    /// Whether this spec applies to objects of this group, version and kind.
    pub fn applies_to(&self, group: &str, version: &str, kind: &str) -> bool {
        (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
            && (self.kind.is_empty() || self.kind == kind)
    }
}

/// `a/b[]/c` → segments; `\/` escapes a slash inside a key.
pub fn parse_path(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    let push = |cur: &mut String, out: &mut Vec<Segment>| {
        let (name, list) = match cur.strip_suffix("[]") {
            Some(n) => (n.to_string(), true),
            None => (cur.clone(), false),
        };
        if !name.is_empty() {
            out.push(Segment { name, list });
        }
        cur.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => push(&mut cur, &mut out),
            c => cur.push(c),
        }
    }
    push(&mut cur, &mut out);
    out
}

/// Merges field-spec lists, dropping repeats (kustomize's `MergeAll`).
pub fn union(mut a: Vec<FieldSpec>, b: Vec<FieldSpec>) -> Vec<FieldSpec> {
    for s in b {
        if !a.iter().any(|x| x.group == s.group && x.version == s.version && x.kind == s.kind && x.path == s.path) {
            a.push(s);
        }
    }
    a
}

/// What [`visit`] does where a field of the path is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Create the missing maps along the way (not lists).
    Create,
    /// Leave the object alone.
    Skip,
}

impl FieldSpec {
    /// Whether this spec creates missing fields.
    pub fn missing(&self) -> Missing {
        if self.create { Missing::Create } else { Missing::Skip }
    }
}

/// Calls `f` on the node at `path` in `node`, entering lists item by item and, with
/// [`Missing::Create`], creating missing maps along the way. `f` receives `Value::Null`
/// for a created leaf; a leaf it leaves null is removed again.
pub fn visit(
    node: &mut Value,
    path: &[Segment],
    missing: Missing,
    f: &mut dyn FnMut(&mut Value) -> Result<(), String>,
) -> Result<(), String> {
    if let Value::Array(items) = node {
        for item in items {
            visit(item, path, missing, f)?;
        }
        return Ok(());
    }
    let Some((seg, rest)) = path.split_first() else { return f(node) };
    let Value::Object(map) = node else { return Ok(()) };
    if !map.contains_key(&seg.name) || map[&seg.name].is_null() {
        if missing == Missing::Skip || seg.list {
            return Ok(());
        }
        let fresh = if rest.is_empty() { Value::Null } else { Value::Object(Map::new()) };
        map.insert(seg.name.clone(), fresh);
        let child = map.get_mut(&seg.name).expect("just inserted");
        visit(child, rest, missing, f)?;
        if child.is_null() {
            map.shift_remove(&seg.name);
        }
        return Ok(());
    }
    let child = map.get_mut(&seg.name).expect("checked");
    if seg.list && !child.is_array() {
        return Ok(());
    }
    visit(child, rest, missing, f)
}

/// Sets `entries` in the map at each place `specs` name (labels, annotations).
pub fn set_entries(
    body: &mut Value,
    gvk: (&str, &str, &str),
    specs: &[FieldSpec],
    entries: &[(String, String)],
) -> Result<(), String> {
    for spec in specs {
        if !spec.applies_to(gvk.0, gvk.1, gvk.2) {
            continue;
        }
        visit(body, &spec.path, spec.missing(), &mut |leaf| {
            if leaf.is_null() {
                *leaf = Value::Object(Map::new());
            }
            let Value::Object(m) = leaf else {
                return Err(format!("`{}` is not a mapping", display_path(&spec.path)));
            };
            for (k, v) in entries {
                m.insert(k.clone(), Value::String(v.clone()));
            }
            Ok(())
        })?;
    }
    Ok(())
}

pub fn display_path(path: &[Segment]) -> String {
    path.iter().map(|s| if s.list { format!("{}[]", s.name) } else { s.name.clone() }).collect::<Vec<_>>().join(".")
}

/// An `images:` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRule {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRule {
    /// Whether `image` is this rule's image: the name, optionally with a tag and a
    /// digest (`nginx`, `nginx:1.25`, `nginx@sha256:…`), and nothing else.
    pub fn matches(&self, image: &str) -> bool {
        let (name, tag, digest) = split_image(image);
        let tag_ok = tag.is_none_or(|t| t.chars().all(|c| c.is_ascii_alphanumeric() || "_.{}-".contains(c)));
        let digest_ok = digest.is_none_or(|d| {
            d.strip_prefix("sha256:")
                .is_some_and(|h| h.chars().all(|c| c.is_ascii_alphanumeric() || "_.{}-".contains(c)))
        });
        name == self.name && tag_ok && digest_ok
    }

    /// The image this rule turns `image` into.
    pub fn rewrite(&self, image: &str) -> String {
        let (name, mut tag, mut digest) = split_image(image);
        let name = self.new_name.as_deref().unwrap_or(name);
        match (&self.new_tag, &self.digest) {
            (Some(t), Some(d)) => {
                tag = Some(t);
                digest = Some(d);
            }
            (Some(t), None) => {
                tag = Some(t);
                digest = None;
            }
            (None, Some(d)) => {
                tag = None;
                digest = Some(d);
            }
            (None, None) => {}
        }
        let mut out = name.to_string();
        if let Some(t) = tag.filter(|t| !t.is_empty()) {
            out.push(':');
            out.push_str(t);
        }
        if let Some(d) = digest.filter(|d| !d.is_empty()) {
            out.push('@');
            out.push_str(d);
        }
        out
    }
}

/// `registry:5000/app:1.0@sha256:…` → (`registry:5000/app`, `1.0`, `sha256:…`): a
/// colon before the first slash is a registry port, not a tag.
pub fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let search_from = image.find('/').filter(|&i| i > 0).unwrap_or(0);
    let rest = &image[search_from..];
    let at = rest.find('@').map(|i| i + search_from);
    let colon = rest.find(':').map(|i| i + search_from);
    match (colon, at) {
        (None, None) => (image, None, None),
        (c, Some(a)) if c.is_none_or(|c| a < c) => (&image[..a], None, Some(&image[a + 1..])),
        (Some(c), Some(a)) => (&image[..c], Some(&image[c + 1..a]), Some(&image[a + 1..])),
        (Some(c), None) => (&image[..c], Some(&image[c + 1..]), None),
        (None, Some(_)) => unreachable!("handled above"),
    }
}

/// Applies an image rule to every `image` of every `containers` / `initContainers`
/// list anywhere in the object (kustomize looks everywhere, so custom resources
/// embedding pod specs are covered), except in CustomResourceDefinitions. Returns
/// whether some image matched the rule (even if it already had the new value).
pub fn set_images(body: &mut Value, kind: &str, rule: &ImageRule) -> bool {
    if kind == "CustomResourceDefinition" {
        return false;
    }
    fn walk(node: &mut Value, rule: &ImageRule, matched: &mut bool) {
        match node {
            Value::Object(m) => {
                for (k, v) in m.iter_mut() {
                    walk(v, rule, matched);
                    if (k == "containers" || k == "initContainers")
                        && let Value::Array(items) = v
                    {
                        for c in items {
                            if let Some(Value::String(img)) = c.get_mut("image")
                                && rule.matches(img)
                            {
                                *img = rule.rewrite(img);
                                *matched = true;
                            }
                        }
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, rule, matched)),
            _ => {}
        }
    }
    let mut matched = false;
    walk(body, rule, &mut matched);
    matched
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn images_split_like_docker_references() {
        let cases = [
            ("nginx", ("nginx", None, None)),
            ("nginx:1.25", ("nginx", Some("1.25"), None)),
            ("nginx@sha256:abc", ("nginx", None, Some("sha256:abc"))),
            ("nginx:1.25@sha256:abc", ("nginx", Some("1.25"), Some("sha256:abc"))),
            ("registry:5000/app", ("registry:5000/app", None, None)),
            ("registry:5000/app:2", ("registry:5000/app", Some("2"), None)),
        ];
        for (image, want) in cases {
            assert_eq!(split_image(image), want, "{image}");
        }
    }

    #[test]
    fn image_rules_rewrite_tags_digests_and_names() {
        let rule = |n: Option<&str>, t: Option<&str>, d: Option<&str>| ImageRule {
            name: "nginx".into(),
            new_name: n.map(Into::into),
            new_tag: t.map(Into::into),
            digest: d.map(Into::into),
        };
        // (rule, image, result; None = not matched)
        let cases = [
            (rule(None, Some("2"), None), "nginx:1", Some("nginx:2")),
            (rule(None, Some("2"), None), "nginx", Some("nginx:2")),
            (rule(None, None, Some("sha256:ff")), "nginx:1", Some("nginx@sha256:ff")),
            (rule(None, Some("2"), Some("sha256:ff")), "nginx@sha256:00", Some("nginx:2@sha256:ff")),
            (rule(Some("reg/nginx"), None, None), "nginx:1", Some("reg/nginx:1")),
            (rule(None, Some("2"), None), "nginxx:1", None),
            (rule(None, Some("2"), None), "docker.io/library/nginx:1", None),
        ];
        for (r, image, want) in cases {
            let got = r.matches(image).then(|| r.rewrite(image));
            assert_eq!(got.as_deref(), want, "{image}");
        }
    }

    #[test]
    fn visit_creates_maps_and_enters_lists() {
        let mut body =
            json!({"spec": {"ingress": [{"from": [{"podSelector": {"matchLabels": {"a": "1"}}}, {"ipBlock": {}}]}]}});
        let specs = vec![FieldSpec {
            group: String::new(),
            version: String::new(),
            kind: String::new(),
            path: parse_path("spec/ingress/from/podSelector/matchLabels"),
            create: false,
        }];
        set_entries(&mut body, ("", "v1", "X"), &specs, &[("b".into(), "2".into())]).unwrap();
        assert_eq!(body["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"], json!({"a": "1", "b": "2"}));
        assert_eq!(body["spec"]["ingress"][0]["from"][1], json!({"ipBlock": {}}));

        let mut svc = json!({"spec": {}});
        set_entries(&mut svc, ("", "v1", "Service"), &FieldSpec::table(COMMON_LABELS), &[("a".into(), "1".into())])
            .unwrap();
        assert_eq!(svc, json!({"spec": {"selector": {"a": "1"}}}));
    }

    #[test]
    fn escaped_slashes_stay_in_keys() {
        let p = parse_path("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret");
        assert_eq!(p.len(), 3);
        assert_eq!(p[2].name, "nginx.ingress.kubernetes.io/auth-secret");
        let p = parse_path("spec/containers[]/image");
        assert!(p[1].list);
    }
}
