//! `strata diff --live` without a cluster: the fixture repository
//! (`tests/fixtures/live/repo`, component `shop`, environment `eastus`), a copy of
//! `example-repo` (prune) and `tests/fixtures/live/migration` (conflicts after a
//! client-side apply) against a scripted API server answering with real
//! recorded responses.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use strata::cluster::connect::Forced;
use strata::cluster::live::{self, LiveOptions};
use strata::cluster::{Cluster, LiveReport};
use strata::compiled::Compiled;
use strata::diff::{Status, Vocabulary};
use strata::manifest::ResId;
use strata::pipeline::{self, Options};
use strata::repo::Repo;
use strata::source::{Fs, SourceInfo, WorkTreeSource};
use strata::tracking::Tracking;
use strata::yaml;
use support::apiserver::{ApiServer, Cluster as Recorded, Scenario, fixtures};

fn repo_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live/repo")
}

fn compile(changed: bool) -> Compiled {
    let values =
        changed.then(|| std::fs::read_to_string(repo_dir().parent().unwrap().join("changed-values.yaml")).unwrap());
    compile_repo(&repo_dir(), &[], values)
}

/// The repository at `dir` (and its targets matching `selectors`), with a values file's text.
fn compile_repo(dir: &Path, selectors: &[&str], values: Option<String>) -> Compiled {
    compile_with_repo(dir, selectors, values).1
}

fn compile_with_repo(dir: &Path, selectors: &[&str], values: Option<String>) -> (Repo, Compiled) {
    let repo = Repo::load(Fs::new(Arc::new(WorkTreeSource::new(dir, SourceInfo::default())))).unwrap();
    let selectors: Vec<String> = selectors.iter().map(|s| s.to_string()).collect();
    let targets = repo.select(&selectors).unwrap();
    let mut opts = Options::default();
    if let Some(v) = values {
        opts.values_files.push(("values.yaml".into(), v));
    }
    let out = pipeline::compile(&repo, &targets, &opts).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    (repo, out)
}

/// The manifests of a fixture directory, by identity.
fn manifests(dir: &str) -> BTreeMap<ResId, Value> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(fixtures().join(dir)).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        for doc in yaml::parse_documents(&text).unwrap() {
            out.insert(ResId::of(&doc).unwrap(), doc);
        }
    }
    out
}

/// The rendered objects, without the environment and repository labels (the
/// recordings predate them).
fn rendered(c: &Compiled) -> BTreeMap<ResId, Value> {
    c.resources()
        .map(|(_, r)| {
            let mut body = r.body.clone();
            if let Some(labels) = body.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
                let crd = r.id.kind == "CustomResourceDefinition";
                assert_eq!(labels.remove("strata.dev/environment").is_some(), !crd, "{}", r.id);
                assert_eq!(labels.remove("strata.dev/repository").is_some(), !crd, "{}", r.id);
            }
            (r.id.clone(), body)
        })
        .collect()
}

fn tracking(repository: &str) -> Option<Tracking> {
    Some(Tracking { key: "strata.dev/target".into(), repository: repository.into(), inventory: None })
}

fn opts() -> LiveOptions {
    LiveOptions { tracking: tracking("repo"), ..LiveOptions::default() }
}

fn diff(server: &ApiServer, compiled: &Compiled, opts: &LiveOptions) -> Result<LiveReport, strata::Error> {
    let config = kube::Config::new(server.url.parse().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        // The client spawns its worker on the runtime it is built in.
        let cluster = Cluster::from_config(config, "scripted".into()).unwrap();
        live::diff(&cluster, compiled, opts).await
    })
}

/// `status name` of every entry that is not unchanged.
fn changes(r: &LiveReport) -> Vec<String> {
    r.environments[0]
        .entries
        .iter()
        .filter(|e| e.status != Status::Unchanged)
        .map(|e| format!("{} {}", Vocabulary::Cluster.word(e.status), e.id))
        .collect()
}

/// The `+`/`-` lines of an entry's diff, without the header.
fn changed_lines(r: &LiveReport, id: &str) -> Vec<String> {
    let e = r.environments[0].entries.iter().find(|e| e.id.to_string() == id).unwrap_or_else(|| panic!("no {id}"));
    e.diff
        .as_deref()
        .unwrap_or_default()
        .lines()
        .filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---"))
        .map(str::to_string)
        .collect()
}

/// Kinds of the recorded discovery that can be listed, once each in its
/// preferred version, without Events and CustomResourceDefinitions.
const LISTABLE_KINDS: usize = 59;

#[test]
fn the_fixture_repository_renders_the_recorded_manifests() {
    assert_eq!(rendered(&compile(false)), manifests("desired"));
    let mut changed = manifests("desired");
    changed.extend(manifests("changed"));
    assert_eq!(rendered(&compile(true)), changed);
}

#[test]
fn an_unchanged_render_diffs_as_unchanged() {
    let server = ApiServer::start(Scenario::default());
    let r = diff(&server, &compile(false), &opts()).unwrap();
    assert_eq!(changes(&r), Vec::<String>::new());
    assert_eq!(r.environments[0].entries.len(), 11);
    assert!(!r.has_changes());

    // What went over the wire: discovery, then per object a GET and a dry-run
    // apply of exactly the rendered object, then label-selected lists.
    let reqs = server.requests();
    let desired = manifests("desired");
    let patches: Vec<_> = reqs.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), 11);
    for p in &patches {
        assert!(p.query().contains("dryRun=All") && p.query().contains("fieldManager=strata"), "{}", p.target);
        assert!(!p.query().contains("force"), "{}", p.target);
        assert_eq!(p.headers["content-type"], "application/apply-patch+yaml");
        let mut sent: Value = serde_json::from_slice(&p.body).unwrap();
        if let Some(labels) = sent.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
            labels.remove("strata.dev/environment");
            labels.remove("strata.dev/repository");
        }
        assert_eq!(Some(&sent), desired.get(&ResId::of(&sent).unwrap()), "{}", p.target);
    }
    assert!(
        reqs.iter().any(
            |r| r.path() == "/apis" && r.headers.get("accept").is_some_and(|a| a.contains("APIGroupDiscoveryList"))
        )
    );
    // The prune search: every listable kind of discovery, cluster-wide, by the
    // environment's and repository's labels.
    let lists: Vec<&str> =
        reqs.iter().filter(|r| r.query().contains("labelSelector")).map(|r| r.target.as_str()).collect();
    let selector = "labelSelector=strata.dev%2Fenvironment%3Deastus%2Cstrata.dev%2Frepository%3Drepo";
    assert!(lists.iter().all(|l| l.ends_with(selector) && !l.contains("/namespaces/")), "{lists:?}");
    for kind in [
        "/api/v1/configmaps?",
        "/api/v1/namespaces?",
        "/apis/rbac.authorization.k8s.io/v1/roles?",
        "/apis/k8spatterns.io/v1/configwatchers?",
    ] {
        assert!(lists.iter().any(|l| l.starts_with(kind)), "{kind} not listed: {lists:?}");
    }
    for never in [
        "/api/v1/events?",
        "/apis/events.k8s.io/v1/events?",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?",
        "/apis/autoscaling/v1/",
    ] {
        assert!(!lists.iter().any(|l| l.starts_with(never)), "{never} listed: {lists:?}");
    }
    assert_eq!(lists.len(), LISTABLE_KINDS, "{lists:?}");
    assert_eq!(reqs.len(), 2 + 2 * 11 + LISTABLE_KINDS, "discovery, GET and PATCH per object, the lists");
    server.finish();
}

#[test]
fn a_changed_render_shows_exactly_what_changes() {
    let server = ApiServer::start(Scenario { changed: true, legacy: true, ..Scenario::default() });
    let r = diff(&server, &compile(true), &opts()).unwrap();
    assert_eq!(
        changes(&r),
        vec![
            "update ConfigMap/shop/shop-config",
            "update Secret/shop/shop-db",
            "create ConfigMap/shop/shop-extra",
            "update apps/Deployment/shop/shop",
            "prune ConfigMap/shop/shop-legacy",
        ]
    );
    assert_eq!(r.environments[0].count(Status::Unchanged), 8);
    assert_eq!(
        changed_lines(&r, "apps/Deployment/shop/shop"),
        vec![
            "-  replicas: 3",
            "+  replicas: 5",
            "-        - image: registry.example.com/shop:1.0.0",
            "+        - image: registry.example.com/shop:1.1.0"
        ]
    );
    assert_eq!(changed_lines(&r, "ConfigMap/shop/shop-config"), vec!["-  mode: prod", "+  mode: canary"]);
    assert_eq!(
        changed_lines(&r, "Secret/shop/shop-db"),
        vec!["-  password: '*** (before)'", "+  password: '*** (after)'"]
    );
    let extra = changed_lines(&r, "ConfigMap/shop/shop-extra");
    assert!(extra.contains(&"+  feature: 'on'".to_string()), "{extra:?}");
    assert!(extra.iter().all(|l| l.starts_with('+')));
    let legacy = r.environments[0].entries.iter().find(|e| e.id.name == "shop-legacy").unwrap();
    assert_eq!(legacy.target, "shop/eastus");
    assert!(changed_lines(&r, "ConfigMap/shop/shop-legacy").contains(&"-  old: 'true'".to_string()));

    // No Secret value in any form, anywhere in the report.
    let printed = r.to_diff_report(&Default::default());
    let all = format!(
        "{}{}{}{}",
        serde_json::to_string(&r).unwrap(),
        strata::diff::text::render(&printed, Default::default()),
        strata::diff::markdown::render(&printed, &Default::default()),
        strata::diff::json::render(&printed, strata::diff::json::JsonOptions::default())
    );
    for leak in ["old-password", "new-password", "b2xkLXBhc3N3b3Jk", "bmV3LXBhc3N3b3Jk"] {
        assert!(!all.contains(leak), "{leak} leaked");
    }
    // Noise the server adds is gone.
    for noise in ["managedFields", "resourceVersion", "uid:", "generation", "creationTimestamp", "status:"] {
        assert!(!all.contains(noise), "{noise} in the report");
    }
}

#[test]
fn show_secrets_shows_them() {
    let server = ApiServer::start(Scenario { changed: true, ..Scenario::default() });
    let r = diff(&server, &compile(true), &LiveOptions { show_secrets: true, ..opts() }).unwrap();
    assert_eq!(
        changed_lines(&r, "Secret/shop/shop-db"),
        vec!["-  password: b2xkLXBhc3N3b3Jk", "+  password: bmV3LXBhc3N3b3Jk"]
    );
}

#[test]
fn ignore_rules_hide_the_fields_they_name() {
    let server = ApiServer::start(Scenario { changed: true, ..Scenario::default() });
    let rule = strata::repo::config::IgnoreRule {
        group: Some("apps".into()),
        kind: Some("Deployment".into()),
        json_pointers: vec!["/spec/replicas".into()],
        ..Default::default()
    };
    let cm_rule = strata::repo::config::IgnoreRule {
        kind: Some("ConfigMap".into()),
        name: Some("shop-config".into()),
        json_pointers: vec!["/data/mode".into()],
        ..Default::default()
    };
    let r = diff(&server, &compile(true), &LiveOptions { ignore: vec![rule, cm_rule], ..opts() }).unwrap();
    assert_eq!(
        changed_lines(&r, "apps/Deployment/shop/shop"),
        vec!["-        - image: registry.example.com/shop:1.0.0", "+        - image: registry.example.com/shop:1.1.0"]
    );
    let cm = r.environments[0].entries.iter().find(|e| e.id.name == "shop-config").unwrap();
    assert_eq!(cm.status, Status::Unchanged);
}

#[test]
fn a_conflict_names_the_owning_manager() {
    let server = ApiServer::start(Scenario { ops_owns_target_port: true, ..Scenario::default() });
    let r = diff(&server, &compile(false), &opts()).unwrap();
    assert_eq!(changes(&r), vec!["conflict Service/shop/shop"]);
    let e = r.environments[0].entries.iter().find(|e| e.status == Status::Conflict).unwrap();
    let c = e.conflict.as_ref().unwrap();
    assert_eq!(c.managers, vec!["ops"]);
    assert_eq!(c.fields, vec![".spec.ports[port=80,protocol=\"TCP\"].targetPort"]);
    // Forcing would take `targetPort` back: the diff says how.
    assert_eq!(c.forced, Some(Forced::Changes));
    assert_eq!(changed_lines(&r, "Service/shop/shop"), vec!["-      targetPort: 9090", "+      targetPort: 8080"]);
    let text = strata::diff::text::render(&r.to_diff_report(&Default::default()), Default::default());
    assert!(
        text.contains("    ! conflict Service/shop/shop  (shop/v1/20-service.yaml)\n      owned by `ops`: .spec.ports[port=80,protocol=\"TCP\"].targetPort; forcing the apply (`--force-conflicts`) would make this change\n"),
        "{text}"
    );
    // The forced dry-run is a dry-run too, sent only after the conflict.
    let patches: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path().ends_with("/services/shop"))
        .map(|r| r.query().to_string())
        .collect();
    assert_eq!(patches, ["&dryRun=All&fieldManager=strata", "&dryRun=All&force=true&fieldManager=strata"]);
    server.finish();
}

#[test]
fn a_custom_resource_whose_crd_is_in_the_bundle_is_reported_as_not_served_yet() {
    let server = ApiServer::start(Scenario { crd_installed: false, ..Scenario::default() });
    let r = diff(&server, &compile(false), &opts()).unwrap();
    assert_eq!(
        changes(&r),
        vec![
            "create apiextensions.k8s.io/CustomResourceDefinition/configwatchers.k8spatterns.io",
            "create k8spatterns.io/ConfigWatcher/shop/shop-watcher"
        ]
    );
    let cw = r.environments[0].entries.iter().find(|e| e.id.kind == "ConfigWatcher").unwrap();
    assert!(
        cw.note
            .as_deref()
            .unwrap()
            .contains("not served yet: its CustomResourceDefinition `configwatchers.k8spatterns.io` is in this bundle")
    );
    assert!(
        !server.requests().iter().any(|r| r.path().contains("configwatchers/")),
        "a kind that is not served is never requested"
    );
}

#[test]
fn a_custom_resource_without_its_crd_is_an_error() {
    let server = ApiServer::start(Scenario { crd_installed: false, ..Scenario::default() });
    let mut c = compile(false);
    for t in &mut c.targets {
        t.resources.retain(|r| r.id.kind != "CustomResourceDefinition");
    }
    let e = diff(&server, &c, &opts()).unwrap_err();
    assert_eq!(e.messages(), "the cluster of context `scripted` does not serve `k8spatterns.io/v1` `ConfigWatcher`");
    assert_eq!(e.diagnostics[0].path.as_deref(), Some("shop/v1/50-configwatcher.yaml"));
}

#[test]
fn servers_without_aggregated_discovery_work_the_same() {
    let server =
        ApiServer::start(Scenario { aggregated_discovery: false, changed: true, legacy: true, ..Scenario::default() });
    let r = diff(&server, &compile(true), &opts()).unwrap();
    assert_eq!(changes(&r).len(), 5);
    assert!(server.requests().iter().any(|r| r.path() == "/apis/apps/v1"));
}

#[test]
fn without_tracking_nothing_is_listed_or_pruned() {
    let server = ApiServer::start(Scenario { legacy: true, ..Scenario::default() });
    let r = diff(&server, &compile(false), &LiveOptions::default()).unwrap();
    assert!(changes(&r).is_empty());
    assert!(!server.requests().iter().any(|r| r.query().contains("labelSelector")));
}

#[test]
fn a_forbidden_list_fails_the_whole_diff() {
    let server = ApiServer::start(Scenario {
        changed: true,
        fail: Some(("GET /api/v1/configmaps?".into(), 403)),
        ..Scenario::default()
    });
    let e = diff(&server, &compile(true), &opts()).unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    assert!(
        d.message.starts_with(
            "the API server of context `scripted` forbids the request (403 Forbidden): configmaps is forbidden"
        ),
        "{}",
        d.message
    );
    assert!(
        d.notes.contains(
            &"request: GET /api/v1/configmaps?&labelSelector=strata.dev%2Fenvironment%3Deastus%2Cstrata.dev%2Frepository%3Drepo"
                .to_string()
        ),
        "{:?}",
        d.notes
    );
}

#[test]
fn a_first_deploy_creates_everything_in_the_new_namespace() {
    let server = ApiServer::start(Scenario { namespace_exists: false, ..Scenario::default() });
    let r = diff(&server, &compile(false), &opts()).unwrap();
    let env = &r.environments[0];
    assert_eq!(env.count(Status::Added), 10, "{:?}", changes(&r));
    assert_eq!(env.count(Status::Unchanged), 1, "the cluster-scoped CRD exists already");
    let cm = env.entries.iter().find(|e| e.id.name == "shop-config").unwrap();
    assert_eq!(
        cm.note.as_deref(),
        Some("namespace `shop` does not exist yet (this bundle creates it), so it was not dry-run")
    );
    let ns = env.entries.iter().find(|e| e.id.kind == "Namespace").unwrap();
    assert_eq!((ns.status, ns.note.as_deref()), (Status::Added, None), "the namespace itself is dry-run");
    // Masked even though it was never sent through the server.
    let secret = env.entries.iter().find(|e| e.id.kind == "Secret").unwrap();
    assert!(secret.diff.as_deref().unwrap().contains("+  password: '***'"), "{:?}", secret.diff);
    assert!(!secret.diff.as_deref().unwrap().contains("old-password"));
}

#[test]
fn a_missing_namespace_the_bundle_does_not_create_is_an_error() {
    let server = ApiServer::start(Scenario { namespace_exists: false, ..Scenario::default() });
    let mut c = compile(false);
    for t in &mut c.targets {
        t.resources.retain(|r| r.id.kind != "Namespace");
    }
    let e = diff(&server, &c, &opts()).unwrap_err();
    assert_eq!(
        e.diagnostics[0].message,
        "namespace `shop` of `ConfigMap/shop/shop-config` does not exist on the cluster"
    );
    assert_eq!(e.diagnostics[0].path.as_deref(), Some("shop/v1/10-configmap.yaml"));
}

// ---- prune: the `prune/` cluster, where `example-repo` `@eastus` was applied
// with tracking on, beside another repository's objects in the same environment.

/// A copy of `example-repo` under a directory of that name (its default
/// repository id), changed by `edit`.
fn example_repo(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("example-repo");
    support::copy_tree(&support::project_root().join("example-repo"), &dir);
    edit(&dir);
    (home, dir)
}

fn diff_example(edit: impl FnOnce(&Path)) -> (ApiServer, LiveReport) {
    let (_home, dir) = example_repo(edit);
    let (repo, compiled) = compile_with_repo(&dir, &["@eastus"], None);
    let server = ApiServer::start(Scenario { cluster: Recorded::Prune, ..Scenario::default() });
    let selected: std::collections::BTreeSet<String> = compiled.targets.iter().map(|t| t.target.address()).collect();
    let unselected = repo
        .targets()
        .filter(|t| t.environment == "eastus" && !selected.contains(&t.address()))
        .map(|t| strata::tracking::label_value(&t.address()))
        .collect();
    let opts = LiveOptions { tracking: tracking("example-repo"), unselected, ..LiveOptions::default() };
    let r = diff(&server, &compiled, &opts).unwrap();
    (server, r)
}

fn prunes(r: &LiveReport) -> Vec<String> {
    r.environments[0]
        .entries
        .iter()
        .filter(|e| e.status == Status::Removed)
        .map(|e| format!("{} of {}", e.id, e.target))
        .collect()
}

#[test]
fn an_applied_environment_diffs_as_unchanged_and_other_repositories_are_left_alone() {
    let (server, r) = diff_example(|_| {});
    assert_eq!(changes(&r), Vec::<String>::new());
    assert_eq!(r.environments[0].count(Status::Unchanged), 11);
    // The cluster holds eastus objects of another repository (`shop`, `watcher`,
    // `billing` targets) and kubectl-applied copies in `mig`: none is a prune.
    // The cost the README states: discovery, GET and PATCH per object, one LIST per kind.
    assert_eq!(server.requests().len(), 2 + 2 * 11 + LISTABLE_KINDS);
    server.finish();
}

/// The three objects `frontend/eastus` renders, as `prunes` lists them.
const FRONTEND_EASTUS_OBJECTS: [&str; 3] = [
    "ConfigMap/web/frontend-nginx of frontend/eastus",
    "Service/web/frontend of frontend/eastus",
    "apps/Deployment/web/frontend of frontend/eastus",
];

#[test]
fn a_deleted_target_lists_exactly_its_objects_as_prune() {
    let (_server, r) = diff_example(|dir| std::fs::remove_dir_all(dir.join("frontend/eastus")).unwrap());
    assert_eq!(prunes(&r), FRONTEND_EASTUS_OBJECTS);
    assert_eq!(changes(&r).len(), 3, "{:?}", changes(&r));
    assert_eq!(r.environments[0].count(Status::Unchanged), 8);
    let e = r.environments[0].entries.iter().find(|e| e.id.name == "frontend-nginx").unwrap();
    assert_eq!(e.note.as_deref(), Some("target `frontend/eastus` is no longer in the repository"));
    assert!(changed_lines(&r, "ConfigMap/web/frontend-nginx").iter().all(|l| l.starts_with('-')));
}

#[test]
fn a_deleted_component_lists_its_objects_as_prune() {
    let (_server, r) = diff_example(|dir| std::fs::remove_dir_all(dir.join("frontend")).unwrap());
    assert_eq!(prunes(&r).len(), 3, "{:?}", prunes(&r));
    assert!(prunes(&r).iter().all(|p| p.ends_with(" of frontend/eastus")), "{:?}", prunes(&r));
    assert_eq!(changes(&r).len(), 3);
}

#[test]
fn a_kind_dropped_from_an_environment_is_found() {
    // The api's NetworkPolicy is the environment's only one.
    let (server, r) = diff_example(|dir| std::fs::remove_file(dir.join("api/v1/networkpolicy.yaml")).unwrap());
    assert_eq!(prunes(&r), vec!["networking.k8s.io/NetworkPolicy/shop/api-allow-frontend of api/eastus"]);
    assert_eq!(changes(&r).len(), 1);
    assert!(server.requests().iter().any(|q| q.target.starts_with("/apis/networking.k8s.io/v1/networkpolicies?")));
}

#[test]
fn objects_of_targets_not_selected_are_not_prunes() {
    let (_home, dir) = example_repo(|_| {});
    let (repo, compiled) = compile_with_repo(&dir, &["api/eastus"], None);
    let server = ApiServer::start(Scenario { cluster: Recorded::Prune, ..Scenario::default() });
    let unselected = repo
        .targets()
        .filter(|t| t.environment == "eastus" && t.component != "api")
        .map(|t| strata::tracking::label_value(&t.address()))
        .collect();
    let opts = LiveOptions { tracking: tracking("example-repo"), unselected, ..LiveOptions::default() };
    let r = diff(&server, &compiled, &opts).unwrap();
    assert_eq!(changes(&r), Vec::<String>::new());
    // Without knowing the other targets, their objects would be prunes.
    let r = diff(&server, &compiled, &LiveOptions { tracking: tracking("example-repo"), ..LiveOptions::default() })
        .unwrap();
    assert_eq!(prunes(&r).len(), 7, "{:?}", prunes(&r));
}

// ---- conflicts after a client-side `kubectl apply` (`migration/`).

fn migration(values: Option<&str>) -> LiveReport {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live/migration");
    let compiled = compile_repo(&dir, &[], values.map(str::to_string));
    let server = ApiServer::start(Scenario { cluster: Recorded::Migration, ..Scenario::default() });
    let r = diff(&server, &compiled, &LiveOptions::default()).unwrap();
    let forced: Vec<&str> = server
        .requests()
        .iter()
        .filter(|q| q.method == "PATCH" && q.query().contains("force=true"))
        .map(|q| q.path().rsplit('/').next().unwrap())
        .map(|n| if n == "database" { "database" } else { "api-allow-frontend" })
        .collect();
    assert_eq!(forced.len(), 2, "one forced dry-run per conflict");
    server.finish();
    r
}

#[test]
fn a_client_side_applied_object_with_identical_values_is_a_conflict_without_a_diff() {
    let r = migration(None);
    assert_eq!(
        changes(&r),
        vec![
            "conflict networking.k8s.io/NetworkPolicy/mig/api-allow-frontend",
            "conflict apps/StatefulSet/mig/database"
        ]
    );
    for e in &r.environments[0].entries {
        let c = e.conflict.as_ref().unwrap();
        assert_eq!(c.managers, vec!["kubectl-client-side-apply"]);
        assert_eq!(c.forced, Some(Forced::Identical), "{}", e.id);
        assert_eq!(e.diff, None, "{}", e.id);
    }
    let text = strata::diff::text::render(&r.to_diff_report(&Default::default()), Default::default());
    assert!(text.contains("    ! conflict networking.k8s.io/NetworkPolicy/mig/api-allow-frontend  (api/v1/networkpolicy.yaml)\n      owned by `kubectl-client-side-apply`: .spec.ingress; values are identical: adopt them with `kubectl apply --server-side --force-conflicts`\n"), "{text}");
    assert!(
        text.contains("owned by `kubectl-client-side-apply`: .spec.volumeClaimTemplates; values are identical"),
        "{text}"
    );
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["environments"][0]["entries"][0]["conflict"]["forced"], "identical");
}

#[test]
fn a_client_side_applied_object_with_different_values_shows_what_forcing_would_change() {
    let r = migration(Some("replicas: 2\n"));
    let sts = r.environments[0].entries.iter().find(|e| e.id.kind == "StatefulSet").unwrap();
    assert_eq!(sts.status, Status::Conflict);
    assert_eq!(sts.conflict.as_ref().unwrap().forced, Some(Forced::Changes));
    assert_eq!(changed_lines(&r, "apps/StatefulSet/mig/database"), vec!["-  replicas: 1", "+  replicas: 2"]);
    let np = r.environments[0].entries.iter().find(|e| e.id.kind == "NetworkPolicy").unwrap();
    assert_eq!(np.conflict.as_ref().unwrap().forced, Some(Forced::Identical));
    let text = strata::diff::text::render(&r.to_diff_report(&Default::default()), Default::default());
    assert!(text.contains("owned by `kubectl-client-side-apply`: .spec.volumeClaimTemplates; forcing the apply (`--force-conflicts`) would make this change\n"), "{text}");
    assert!(text.contains("-  replicas: 1\n+  replicas: 2\n"), "{text}");
}

// ---- the inventory (`tracking.inventory: true`).

fn with_inventory() -> Option<Tracking> {
    Some(Tracking { inventory: Some("default".into()), ..tracking("example-repo").unwrap() })
}

#[test]
fn the_live_inventory_finds_objects_whose_labels_were_removed_by_hand() {
    // What was applied: `@eastus` and its inventory.
    let (_applied_home, applied_dir) = example_repo(|_| {});
    let applied = compile_repo(&applied_dir, &["@eastus"], None);
    let inventory = with_inventory().unwrap().inventory("eastus", applied.resources().map(|(_, r)| &r.id)).unwrap();
    // Then someone removed the frontend Deployment's environment and repository
    // labels, and the target was deleted.
    let deployment = "/apis/apps/v1/namespaces/web/deployments/frontend".to_string();
    let scenario = Scenario {
        cluster: Recorded::Prune,
        extra: vec![inventory.body.clone()],
        unlabelled: vec![deployment.clone()],
        ..Scenario::default()
    };
    let (_home, dir) = example_repo(|dir| std::fs::remove_dir_all(dir.join("frontend/eastus")).unwrap());
    let compiled = compile_repo(&dir, &["@eastus"], None);

    let server = ApiServer::start(scenario.clone());
    let r = diff(&server, &compiled, &LiveOptions { tracking: with_inventory(), ..LiveOptions::default() }).unwrap();
    assert_eq!(prunes(&r), FRONTEND_EASTUS_OBJECTS);
    let d = r.environments[0].entries.iter().find(|e| e.id.kind == "Deployment" && e.id.name == "frontend").unwrap();
    assert_eq!(d.note.as_deref(), Some("listed in the live inventory, but without this environment's tracking labels"));
    // The inventory itself is updated: the frontend's three lines go.
    let inv = "ConfigMap/default/strata-inventory-example-repo-eastus";
    assert!(changes(&r).contains(&format!("update {inv}")), "{:?}", changes(&r));
    let lines = changed_lines(&r, inv);
    assert_eq!(
        lines,
        vec!["-    /ConfigMap/web/frontend-nginx", "-    /Service/web/frontend", "-    apps/Deployment/web/frontend"]
    );
    assert_eq!(r.environments[0].entries.iter().find(|e| e.id.to_string() == inv).unwrap().target, "inventory");
    // One GET for the one object only the inventory names.
    assert_eq!(server.requests().iter().filter(|q| q.target == deployment).count(), 1);
    server.finish();

    // Without the inventory the unlabelled Deployment is not found.
    let server = ApiServer::start(scenario);
    let r = diff(&server, &compiled, &LiveOptions { tracking: tracking("example-repo"), ..LiveOptions::default() })
        .unwrap();
    assert_eq!(prunes(&r).len(), 2, "{:?}", prunes(&r));
}

#[test]
fn a_partial_diff_neither_compares_nor_reads_the_inventory() {
    let (_applied_home, dir) = example_repo(|_| {});
    let applied = compile_repo(&dir, &["@eastus"], None);
    let inventory = with_inventory().unwrap().inventory("eastus", applied.resources().map(|(_, r)| &r.id)).unwrap();
    let server = ApiServer::start(Scenario {
        cluster: Recorded::Prune,
        extra: vec![inventory.body.clone()],
        ..Scenario::default()
    });
    let compiled = compile_repo(&dir, &["api/eastus"], None);
    let others = ["database.eastus", "frontend.eastus", "platform.eastus"];
    let opts = LiveOptions {
        tracking: with_inventory(),
        unselected: others.iter().map(|s| s.to_string()).collect(),
        partial: ["eastus".to_string()].into(),
        ..LiveOptions::default()
    };
    let r = diff(&server, &compiled, &opts).unwrap();
    assert_eq!(changes(&r), Vec::<String>::new(), "the live inventory is neither a prune nor an update");
    assert_eq!(r.environments[0].entries.len(), 4, "the api's four objects");
    assert!(!server.requests().iter().any(|q| q.path().ends_with("/strata-inventory-example-repo-eastus")));
}
