//! Tracking: the labels that tie every rendered object to its target, its
//! environment and its repository.
//!
//! In: a target (`shop/eastus`), `strata.yaml` `tracking:`, the repository's
//! root directory name and the target's patched resources. Out: the same
//! resources, each labelled with three labels: `<key>: <target>` (the key is
//! `tracking.label`, default `strata.dev/target`), `strata.dev/environment:
//! <environment>` and `strata.dev/repository: <id>`, every value being
//! [`label_value`] of the name (the id is `tracking.repository`, default the
//! root directory's name). A live diff later lists, in every listable kind,
//! the objects carrying the environment's and repository's labels
//! ([`Tracking::environment_selector`]) to find the ones a render no longer
//! contains (would-be-pruned) — whether a target, a component or a kind was
//! removed. The stage runs after patching ([`label_target`]), so objects a
//! kustomization adds are labelled too.
//!
//! Invariants: the value is always a valid Kubernetes label value; two
//! different addresses never get the same value; the same address always gets
//! the same value. CustomResourceDefinitions are never labelled, so they are
//! never offered for pruning: deleting a CRD deletes every custom resource of
//! its kind in the whole cluster (Helm never deletes CRDs for the same reason).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::diag::Diagnostic;
use crate::manifest::{ResId, Resource, TemplateOrigin, names};
use crate::repo::Target;
use crate::repo::config::TrackingConfig;
use crate::source::Fs;

/// The label key used when `tracking.label` is not set.
pub const DEFAULT_LABEL: &str = "strata.dev/target";
/// The label naming an object's environment ([`label_value`] of its name).
pub const ENVIRONMENT_LABEL: &str = "strata.dev/environment";
/// The label naming the repository an object was rendered from.
pub const REPOSITORY_LABEL: &str = "strata.dev/repository";

/// The label marking inventory ConfigMaps.
pub const INVENTORY_LABEL: &str = "strata.dev/inventory";
/// The data key of an inventory ConfigMap: one `group/Kind/namespace/name` a line.
pub const INVENTORY_KEY: &str = "objects";
/// The namespace of inventories when `tracking.inventoryNamespace` is not set.
pub const DEFAULT_INVENTORY_NAMESPACE: &str = "default";

/// Tracking as `strata.yaml` turns it on: the target label's key and the repository id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    /// The target label's key (`tracking.label`, default [`DEFAULT_LABEL`]).
    pub key: String,
    /// The value of [`REPOSITORY_LABEL`].
    pub repository: String,
    /// `tracking.inventory`: the namespace of the inventories, when they are on.
    pub inventory: Option<String>,
}

impl Tracking {
    /// The label selector of every object this repository rendered into
    /// `environment`: `strata.dev/environment=eastus,strata.dev/repository=shop-config`.
    pub fn environment_selector(&self, environment: &str) -> String {
        format!("{ENVIRONMENT_LABEL}={},{REPOSITORY_LABEL}={}", label_value(environment), self.repository)
    }

    /// Labels `resources` of the target at `target` (its address) in `environment`.
    pub fn label(&self, resources: &mut [Resource], target: &str, environment: &str) {
        let labels = [
            (self.key.as_str(), label_value(target)),
            (ENVIRONMENT_LABEL, label_value(environment)),
            (REPOSITORY_LABEL, self.repository.clone()),
        ];
        label_resources(resources, &labels);
    }

    /// The inventory of `environment` listing `ids` (the identities its bundle
    /// applies), when `tracking.inventory` is on: a ConfigMap
    /// `strata-inventory-<repository>-<environment>` in the inventory namespace,
    /// labelled with the environment, the repository and [`INVENTORY_LABEL`], its
    /// `objects` one [`inventory_line`] per object, sorted.
    pub fn inventory<'a>(&self, environment: &str, ids: impl IntoIterator<Item = &'a ResId>) -> Option<Resource> {
        let namespace = self.inventory.as_deref()?;
        let mut lines: Vec<String> = ids.into_iter().map(inventory_line).collect();
        lines.sort();
        lines.dedup();
        let objects: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let body = serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": inventory_name(&self.repository, environment),
                "namespace": namespace,
                "labels": {
                    ENVIRONMENT_LABEL: label_value(environment),
                    REPOSITORY_LABEL: self.repository,
                    INVENTORY_LABEL: "true",
                },
            },
            "data": { INVENTORY_KEY: objects },
        });
        let source = TemplateOrigin { template: std::sync::Arc::from(crate::repo::REPO_CONFIG), doc: 0 };
        Resource::new(body, source).ok()
    }
}

/// One object of an inventory: `group/Kind/namespace/name`, empty parts kept
/// (`/ConfigMap/shop/api-config`, `/Namespace//shop`, `apps/Deployment/shop/api`).
pub fn inventory_line(id: &ResId) -> String {
    format!("{}/{}/{}/{}", id.group, id.kind, id.namespace.as_deref().unwrap_or_default(), id.name)
}

/// The identities an inventory's `objects` lists; lines that are not
/// `group/Kind/namespace/name` are skipped.
pub fn inventory_ids(inventory: &Value) -> Vec<ResId> {
    let text = inventory.pointer(&format!("/data/{INVENTORY_KEY}")).and_then(Value::as_str).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split('/');
            let (group, kind, namespace, name) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || kind.is_empty() || name.is_empty() {
                return None;
            }
            Some(ResId {
                group: group.to_string(),
                kind: kind.to_string(),
                namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
                name: name.to_string(),
            })
        })
        .collect()
}

/// `strata-inventory-<repository>-<environment>` as a DNS subdomain: lowercase,
/// `/` and `_` → `-`; when that changed anything but `/`, 8 hex digits of the
/// SHA-256 of `repository/environment` are appended, so two names never meet.
fn inventory_name(repository: &str, environment: &str) -> String {
    let raw = format!("{repository}-{}", environment.replace('/', "-"));
    let name: String = raw.chars().map(|c| if c == '_' { '-' } else { c.to_ascii_lowercase() }).collect();
    if name == raw {
        return format!("strata-inventory-{name}");
    }
    let digest = Sha256::digest(format!("{repository}/{environment}").as_bytes());
    let hash: String = digest.iter().take(HASH_LEN / 2).map(|b| format!("{b:02x}")).collect();
    format!("strata-inventory-{name}-{hash}")
}

/// Tracking for the repository read through `fs` with `strata.yaml` `tracking:`
/// `config`: `None` when tracking is off. An invalid `tracking.label` or
/// `tracking.repository`, or a repository id that cannot be derived, is an
/// error naming `strata.yaml`.
pub fn settings(config: Option<&TrackingConfig>, fs: &Fs) -> Result<Option<Tracking>, Diagnostic> {
    let Some(key) = label_key(config)? else { return Ok(None) };
    let repository = match config.and_then(|c| c.repository.as_deref()) {
        Some(id) if names::is_label_name(id) => id.to_string(),
        Some(id) => {
            return Err(Diagnostic::error(format!("invalid `tracking.repository` `{id}`: not a label value"))
                .at(crate::repo::REPO_CONFIG)
                .hint("use at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit"));
        }
        None => match fs.source().root_name() {
            Some(name) if names::is_label_name(&name) => name,
            Some(name) => label_value(&name),
            None => {
                return Err(Diagnostic::error("cannot name this repository for the `strata.dev/repository` label")
                    .at(crate::repo::REPO_CONFIG)
                    .hint("set `tracking.repository` to a stable id (`repository: shop-config`)"));
            }
        },
    };
    let inventory = config
        .filter(|c| c.inventory)
        .map(|c| c.inventory_namespace.clone().unwrap_or_else(|| DEFAULT_INVENTORY_NAMESPACE.to_string()));
    if let Some(ns) = inventory.as_deref().filter(|ns| !names::is_dns_label(ns)) {
        return Err(Diagnostic::error(format!("invalid `tracking.inventoryNamespace` `{ns}`: not a namespace name"))
            .at(crate::repo::REPO_CONFIG)
            .hint("a namespace name is at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit"));
    }
    Ok(Some(Tracking { key, repository, inventory }))
}

/// Hex digits of the address hash appended to values that had to be changed.
const HASH_LEN: usize = 8;

/// The label key to use, when tracking is on; `None` when it is off.
/// An invalid `tracking.label` is an error naming `strata.yaml`.
pub fn label_key(config: Option<&TrackingConfig>) -> Result<Option<String>, Diagnostic> {
    let Some(cfg) = config.filter(|c| c.enabled) else { return Ok(None) };
    let key = cfg.label.clone().unwrap_or_else(|| DEFAULT_LABEL.to_string());
    validate_key(&key).map_err(|why| {
        Diagnostic::error(format!("invalid tracking label `{key}`: {why}"))
            .at(crate::repo::REPO_CONFIG)
            .hint("a label key is `prefix/name` or `name`: the name at most 63 characters of letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit; the prefix a DNS subdomain")
            .hint(format!("or leave `tracking.label` out to use `{DEFAULT_LABEL}`"))
    })?;
    Ok(Some(key))
}

/// The tracking stage: when `strata.yaml` turns tracking on (`tracking`, the
/// [`settings`] derived once per compilation), labels every object of `target`
/// ([`Tracking::label`]); otherwise leaves them alone.
pub fn label_target(resources: &mut [Resource], tracking: Option<&Tracking>, target: &Target) {
    if let Some(t) = tracking {
        t.label(resources, &target.address(), &target.environment);
    }
}

/// The label value of a target address.
///
/// The rule, in order:
/// 1. an address made only of ASCII letters, digits, `-`, `_` and `/`, starting
///    and ending with a letter or digit, at most 63 characters long, maps to
///    itself with every `/` turned into `.`: `shop/eastus` → `shop.eastus`,
///    `api/prod/westus` → `api.prod.westus`;
/// 2. any other address (a `.` in it, characters a label cannot hold, or too
///    long) is changed: `/` → `.`, every other character outside
///    `[A-Za-z0-9._-]` → `-`, cut to 54 characters, leading and trailing
///    non-alphanumerics trimmed, then `-` and the first 8 hex digits of the
///    SHA-256 of the address appended (`shop/west us` → `shop.west-us-<hash>`).
///
/// Rule 1 values contain no `-`+8-hex suffix of a changed address and no two
/// addresses share a rule 1 value (the `/` ↔ `.` swap is reversible because
/// rule 1 addresses hold no `.`), so values never collide except through a
/// SHA-256 prefix collision.
pub fn label_value(address: &str) -> String {
    let plain = address.len() <= names::DNS_LABEL_MAX
        && address.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'/')
        && address.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && address.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    if plain {
        return address.replace('/', ".");
    }
    let mapped: String = address
        .chars()
        .map(|c| match c {
            '/' => '.',
            c if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' => c,
            _ => '-',
        })
        .collect();
    let keep = names::DNS_LABEL_MAX - HASH_LEN - 1;
    let cut: String = mapped.chars().take(keep).collect();
    let trimmed = cut.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let digest = Sha256::digest(address.as_bytes());
    let hash: String = digest.iter().take(HASH_LEN / 2).map(|b| format!("{b:02x}")).collect();
    if trimmed.is_empty() { hash } else { format!("{trimmed}-{hash}") }
}

/// Labels every resource but CustomResourceDefinitions with each `key: value`,
/// replacing a value a template may have set (strata owns the labels).
pub fn label_resources(resources: &mut [Resource], set: &[(&str, String)]) {
    for r in resources.iter_mut() {
        if r.id.group == "apiextensions.k8s.io" && r.id.kind == "CustomResourceDefinition" {
            continue;
        }
        let meta = r.metadata_mut();
        let labels = meta.entry("labels").or_insert_with(|| Value::Object(Map::new()));
        if !labels.is_object() {
            // `labels: null` or a scalar: the server would reject it anyway;
            // a mapping with our label is what the user meant.
            *labels = Value::Object(Map::new());
        }
        if let Some(map) = labels.as_object_mut() {
            for (key, value) in set {
                map.insert(key.to_string(), Value::String(value.clone()));
            }
        }
    }
}

fn validate_key(key: &str) -> Result<(), String> {
    let q = names::QualifiedName::split(key);
    if q.bad_name() {
        return Err(format!("the name part `{}` is not a valid label name", q.name));
    }
    if let Some(p) = q.bad_prefix() {
        return Err(format!("the prefix `{p}` is not a lowercase DNS subdomain"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::TemplateOrigin;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn label_values_follow_the_documented_rule() {
        let long = format!("{}/eastus", "a".repeat(70));
        let cases: &[(&str, &str)] = &[
            ("shop/eastus", "shop.eastus"),
            ("api/prod/westus", "api.prod.westus"),
            ("my_app/staging-2", "my_app.staging-2"),
            ("shop/west us", "shop.west-us-"),
            ("shop.x/eastus", "shop.x.eastus-"),
            ("shop/x.eastus", "shop.x.eastus-"),
            ("-shop/eastus-", "shop.eastus-"),
            ("shop/østus", "shop.-stus-"),
            (&long, &"a".repeat(54)),
        ];
        for (address, expect) in cases {
            let v = label_value(address);
            assert!(names::is_label_value(&v), "{address} → {v} is not a valid label value");
            assert!(v.starts_with(expect), "{address} → {v}, expected it to start with {expect}");
            let changed = expect.ends_with('-') || address.len() > 63;
            if changed {
                assert_eq!(v.len(), expect.trim_end_matches('-').len() + 1 + HASH_LEN, "{address} → {v}");
            } else {
                assert_eq!(&v, expect);
            }
        }
    }

    #[test]
    fn the_readme_example_holds() {
        // docs/reference/live-diff.md: `shop/west us` → `shop.west-us-2fc1f34c`.
        assert_eq!(label_value("shop/west us"), "shop.west-us-2fc1f34c");
    }

    #[test]
    fn addresses_that_would_collide_get_different_values() {
        // The same text after `/` → `.`, told apart by the hash.
        let pairs = [("shop.x/eastus", "shop/x.eastus"), ("shop/west us", "shop/west-us"), ("a/b c", "a/b_c")];
        for (a, b) in pairs {
            assert_ne!(label_value(a), label_value(b), "{a} and {b}");
        }
        let long_a = format!("{}/a", "x".repeat(70));
        let long_b = format!("{}/b", "x".repeat(70));
        assert_ne!(label_value(&long_a), label_value(&long_b));
        assert_eq!(label_value(&long_a), label_value(&long_a), "stable");
    }

    #[test]
    fn label_keys_are_validated() {
        let on = |label: Option<&str>| TrackingConfig {
            enabled: true,
            label: label.map(str::to_string),
            ..TrackingConfig::default()
        };
        assert_eq!(label_key(None).unwrap(), None);
        assert_eq!(label_key(Some(&TrackingConfig::default())).unwrap(), None);
        assert_eq!(label_key(Some(&on(None))).unwrap().as_deref(), Some("strata.dev/target"));
        assert_eq!(label_key(Some(&on(Some("example.com/owner")))).unwrap().as_deref(), Some("example.com/owner"));
        assert_eq!(label_key(Some(&on(Some("owner")))).unwrap().as_deref(), Some("owner"));
        for bad in ["", "Example.com/x", "a/b/c", "x/-y", "/name", "prefix/"] {
            let d = label_key(Some(&on(Some(bad)))).unwrap_err();
            assert!(d.message.starts_with(&format!("invalid tracking label `{bad}`")), "{}", d.message);
            assert_eq!(d.path.as_deref(), Some("strata.yaml"));
        }
    }

    #[test]
    fn the_repository_id_is_set_or_the_root_directory_name() {
        use crate::source::{MemorySource, SourceInfo, WorkTreeSource};
        let on = |repository: Option<&str>| TrackingConfig {
            enabled: true,
            repository: repository.map(str::to_string),
            ..TrackingConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let tree = |name: &str| {
            let root = dir.path().join(name);
            std::fs::create_dir_all(&root).unwrap();
            Fs::new(std::sync::Arc::new(WorkTreeSource::new(root, SourceInfo::default())))
        };
        let memory = Fs::new(std::sync::Arc::new(MemorySource::new()));
        let id = |cfg: &TrackingConfig, fs: &Fs| settings(Some(cfg), fs).map(|t| t.unwrap().repository);
        assert_eq!(settings(None, &tree("x")).unwrap(), None, "tracking off");
        assert_eq!(id(&on(None), &tree("shop-config")).unwrap(), "shop-config");
        assert_eq!(id(&on(None), &tree("shop.config")).unwrap(), "shop.config");
        assert_eq!(id(&on(None), &tree("my config")).unwrap(), label_value("my config"));
        assert_eq!(id(&on(Some("platform")), &tree("checkout-1234")).unwrap(), "platform");
        assert_eq!(id(&on(Some("platform")), &memory).unwrap(), "platform");
        let e = id(&on(None), &memory).unwrap_err();
        assert_eq!(e.message, "cannot name this repository for the `strata.dev/repository` label");
        assert_eq!(e.path.as_deref(), Some("strata.yaml"));
        let e = id(&on(Some("shop/config")), &memory).unwrap_err();
        assert!(e.message.starts_with("invalid `tracking.repository` `shop/config`"), "{}", e.message);
        // `--repo .` is named by the directory it stands for.
        let dot = Fs::new(std::sync::Arc::new(WorkTreeSource::new(".", SourceInfo::default())));
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(dot.source().root_name().as_deref(), cwd.file_name().and_then(|n| n.to_str()));
    }

    #[test]
    fn the_three_labels_and_the_environment_selector() {
        let t = Tracking { key: DEFAULT_LABEL.into(), repository: "shop-config".into(), inventory: None };
        let src = TemplateOrigin { template: Arc::from("shop/v1/x.yaml"), doc: 0 };
        let mut rs = vec![
            Resource::new(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}), src).unwrap(),
        ];
        t.label(&mut rs, "shop/prod/westus", "prod/westus");
        assert_eq!(
            rs[0].body["metadata"]["labels"],
            json!({"strata.dev/target": "shop.prod.westus", "strata.dev/environment": "prod.westus", "strata.dev/repository": "shop-config"})
        );
        assert_eq!(
            t.environment_selector("prod/westus"),
            "strata.dev/environment=prod.westus,strata.dev/repository=shop-config"
        );
    }

    #[test]
    fn inventories_list_identities_that_read_back() {
        let t = Tracking { key: DEFAULT_LABEL.into(), repository: "Shop_config".into(), inventory: Some("ops".into()) };
        let id = |g: &str, k: &str, ns: Option<&str>, n: &str| ResId {
            group: g.into(),
            kind: k.into(),
            namespace: ns.map(str::to_string),
            name: n.into(),
        };
        let ids = [
            id("apps", "Deployment", Some("web"), "frontend"),
            id("", "Namespace", None, "web"),
            id("", "ConfigMap", Some("web"), "nginx"),
        ];
        let inv = t.inventory("prod/westus", &ids).unwrap();
        assert_eq!(inv.id.namespace.as_deref(), Some("ops"));
        assert!(inv.id.name.starts_with("strata-inventory-shop-config-prod-westus-"), "{}", inv.id.name);
        assert_eq!(
            inv.body["data"]["objects"],
            "/ConfigMap/web/nginx\n/Namespace//web\napps/Deployment/web/frontend\n"
        );
        assert_eq!(inv.body["metadata"]["labels"]["strata.dev/environment"], "prod.westus");
        assert_eq!(inv.body["metadata"]["labels"]["strata.dev/inventory"], "true");
        let mut back = inventory_ids(&inv.body);
        back.sort();
        let mut want = ids.to_vec();
        want.sort();
        assert_eq!(back, want);
        let plain = Tracking { repository: "shop".into(), ..t.clone() };
        assert_eq!(plain.inventory("eastus", &ids).unwrap().id.name, "strata-inventory-shop-eastus");
        assert!(Tracking { inventory: None, ..t }.inventory("eastus", &ids).is_none(), "off");
        // Lines that are not identities are skipped.
        let junk = json!({"data": {"objects": "nonsense\n/ConfigMap/web/a/b\n//web/x\n/ConfigMap/web/ok\n"}});
        assert_eq!(inventory_ids(&junk), vec![id("", "ConfigMap", Some("web"), "ok")]);
    }

    #[test]
    fn every_object_but_crds_is_labelled() {
        let src = TemplateOrigin { template: Arc::from("shop/v1/x.yaml"), doc: 0 };
        let mk = |v: Value| Resource::new(v, src.clone()).unwrap();
        let mut rs = vec![
            mk(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})),
            mk(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "labels": {"x": "1", "strata.dev/target": "forged"}}}),
            ),
            mk(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": null}})),
            mk(
                json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "ws.example.com"}}),
            ),
        ];
        label_resources(&mut rs, &[(DEFAULT_LABEL, "shop.eastus".to_string())]);
        assert_eq!(rs[0].body["metadata"]["labels"], json!({"strata.dev/target": "shop.eastus"}));
        assert_eq!(rs[1].body["metadata"]["labels"], json!({"x": "1", "strata.dev/target": "shop.eastus"}));
        assert_eq!(rs[2].body["metadata"]["labels"], json!({"strata.dev/target": "shop.eastus"}));
        assert!(rs[3].body["metadata"].get("labels").is_none());
    }
}
