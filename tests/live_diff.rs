//! `strata diff --live` of the fixture repository (`tests/fixtures/live/repo`,
//! component `shop`, environment `eastus`) and `tests/fixtures/live/migration`
//! (conflicts after a client-side apply) against a scripted API server answering
//! with real recorded responses; then copies of `example-repo` (prune, inventory)
//! deployed on a real API server (`support::kapi`, skipped without
//! `../shared/kapi`) and diffed with the `strata` binary.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use strata::facade::cluster::connect::Forced;
use strata::facade::cluster::live::{self, LiveOptions};
use strata::facade::cluster::{Cluster, LiveReport};
use strata::facade::compiled::Compiled;
use strata::facade::diff::{Status, Vocabulary};
use strata::facade::manifest::ResId;
use strata::facade::pipeline::{self, Options};
use strata::facade::repo::Repo;
use strata::facade::source::{Fs, SourceInfo, WorkTreeSource};
use strata::facade::tracking::Tracking;
use strata::facade::yaml;
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

/// The rendered objects, by identity.
fn rendered(c: &Compiled) -> BTreeMap<ResId, Value> {
    c.resources().map(|(_, r)| (r.id.clone(), r.body.clone())).collect()
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
        let sent: Value = serde_json::from_slice(&p.body).unwrap();
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
        strata::facade::diff::text::render(&printed, Default::default()),
        strata::facade::diff::markdown::render(&printed, &Default::default()),
        strata::facade::diff::json::render(&printed, strata::facade::diff::json::JsonOptions::default())
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
    let rule = strata::facade::repo::config::IgnoreRule {
        group: Some("apps".into()),
        kind: Some("Deployment".into()),
        json_pointers: vec!["/spec/replicas".into()],
        ..Default::default()
    };
    let cm_rule = strata::facade::repo::config::IgnoreRule {
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
    let text = strata::facade::diff::text::render(&r.to_diff_report(&Default::default()), Default::default());
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
    let text = strata::facade::diff::text::render(&r.to_diff_report(&Default::default()), Default::default());
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
    let text = strata::facade::diff::text::render(&r.to_diff_report(&Default::default()), Default::default());
    assert!(text.contains("owned by `kubectl-client-side-apply`: .spec.volumeClaimTemplates; forcing the apply (`--force-conflicts`) would make this change\n"), "{text}");
    assert!(text.contains("-  replicas: 1\n+  replicas: 2\n"), "{text}");
}

#[path = "live_diff/real_server.rs"]
mod real_server;
