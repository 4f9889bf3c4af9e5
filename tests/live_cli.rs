//! `strata diff --live` as users run it: the real binary, a kubeconfig, and the
//! scripted API server (exit codes, reports and every class of failure) or a real
//! one (`support::kapi`, skipped without `../shared/kapi`): the same reports from
//! the same cluster states, a conflict with another field manager, `--ref`.

mod support;

use std::path::{Path, PathBuf};

use support::Strata;
use support::apiserver::{ApiServer, Scenario};
use support::kapi::Kapi;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn live_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/live")
}

/// Runs strata from the project root with `HOME` in `home` and no `KUBECONFIG`
/// unless `env` sets it (see `support::Strata`).
fn strata(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = env.iter().fold(Strata::in_dir(support::project_root()).home(home), |s, (k, v)| s.env(k, v)).run(args);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// A copy of the fixture repository outside any git work tree, so that the
/// report's heading says `work tree` whatever the project's own git state.
fn repo_copy(home: &Path) -> PathBuf {
    let repo = home.join("repo");
    if !repo.exists() {
        support::copy_tree(&live_dir().join("repo"), &repo);
    }
    repo
}

fn diff_live(server: &ApiServer, home: &Path, extra: &[&str]) -> Run {
    let kubeconfig = server.kubeconfig(home, "test-token");
    let repo = repo_copy(home);
    let mut args =
        vec!["diff", "--live", "--repo", repo.to_str().unwrap(), "--kubeconfig", kubeconfig.to_str().unwrap()];
    args.extend_from_slice(extra);
    strata(home, &args, &[])
}

fn changed_values() -> String {
    live_dir().join("changed-values.yaml").display().to_string()
}

#[test]
fn no_difference_exits_0() {
    let home = tempfile::tempdir().unwrap();
    let server = ApiServer::start(Scenario::default());
    let r = diff_live(&server, home.path(), &[]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(
        r.stdout,
        "strata diff context scripted → work tree\n\nenvironment eastus: 11 unchanged\n\n0 of 1 environment differ: 11 unchanged\n"
    );
}

#[test]
fn differences_exit_1_in_every_format() {
    let home = tempfile::tempdir().unwrap();
    let server = ApiServer::start(Scenario { changed: true, legacy: true, ..Scenario::default() });
    let values = changed_values();
    let text = diff_live(&server, home.path(), &["-f", &values]);
    assert_eq!((text.code, text.stderr.as_str()), (1, ""));
    insta::assert_snapshot!("live_diff_text", text.stdout);

    let md = diff_live(&server, home.path(), &["-f", &values, "--format", "markdown"]);
    assert_eq!(md.code, 1);
    insta::assert_snapshot!("live_diff_markdown", md.stdout);

    let json = diff_live(&server, home.path(), &["-f", &values, "--format", "json"]);
    assert_eq!(json.code, 1);
    let j: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(j["from"]["label"], "context scripted");
    assert_eq!(
        j["environments"][0]["counts"],
        serde_json::json!({"create": 1, "update": 3, "unchanged": 8, "prune": 1, "conflict": 0})
    );
    let legacy = &j["environments"][0]["targets"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "shop-legacy")
        .unwrap();
    assert_eq!(legacy["status"], "prune");
    for leak in ["old-password", "new-password", "b2xk", "bmV3"] {
        assert!(!text.stdout.contains(leak) && !md.stdout.contains(leak) && !json.stdout.contains(leak), "{leak}");
    }
}

#[test]
fn a_conflict_exits_1_naming_the_manager() {
    let home = tempfile::tempdir().unwrap();
    let server = ApiServer::start(Scenario { ops_owns_target_port: true, ..Scenario::default() });
    let r = diff_live(&server, home.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("    ! conflict Service/shop/shop  (shop/v1/20-service.yaml)\n      owned by `ops`: .spec.ports[port=80,protocol=\"TCP\"].targetPort; forcing the apply (`--force-conflicts`) would make this change\n"), "{}", r.stdout);
    assert!(r.stdout.contains("-      targetPort: 9090\n+      targetPort: 8080\n"), "{}", r.stdout);
}

#[test]
fn kubeconfig_comes_from_the_environment_and_context_can_be_chosen() {
    let home = tempfile::tempdir().unwrap();
    let server = ApiServer::start(Scenario::default());
    let kubeconfig = server.kubeconfig(home.path(), "t");
    let repo = repo_copy(home.path());
    let repo = repo.to_str().unwrap();
    let r = strata(
        home.path(),
        &["diff", "--live", "--repo", repo, "--context", "scripted"],
        &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // ~/.kube/config when KUBECONFIG is unset.
    std::fs::create_dir_all(home.path().join(".kube")).unwrap();
    std::fs::copy(&kubeconfig, home.path().join(".kube/config")).unwrap();
    let r = strata(home.path(), &["diff", "--live", "--repo", repo], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let r = strata(home.path(), &["diff", "--live", "--repo", repo, "--context", "nope"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error: context `nope` is not in kubeconfig `"), "{}", r.stderr);
    assert!(r.stderr.contains("hint: contexts there: `scripted`"), "{}", r.stderr);
}

#[test]
fn no_kubeconfig_is_an_error_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let repo = repo_copy(home.path());
    let r = strata(home.path(), &["diff", "--live", "--repo", repo.to_str().unwrap()], &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.starts_with("error: no kubeconfig found\nhint: pass `--kubeconfig FILE`"), "{}", r.stderr);
}

#[test]
fn an_unreachable_server_exits_2_naming_context_and_request() {
    let home = tempfile::tempdir().unwrap();
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: gone\n  context:\n    cluster: c\n    user: u\ncurrent-context: gone\nusers:\n- name: u\n  user: {{}}\n"),
    )
    .unwrap();
    let repo = repo_copy(home.path());
    let r = strata(
        home.path(),
        &["diff", "--live", "--repo", repo.to_str().unwrap(), "--kubeconfig", kubeconfig.to_str().unwrap()],
        &[],
    );
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.starts_with("error: cannot reach the API server of context `gone`\n"), "{}", r.stderr);
    assert!(r.stderr.contains("= note: request: GET /apis (aggregated API discovery)\n"), "{}", r.stderr);
    assert!(r.stderr.contains(&format!("= note: server: http://127.0.0.1:{port}\n")), "{}", r.stderr);
}

#[test]
fn a_tls_failure_exits_2() {
    let home = tempfile::tempdir().unwrap();
    // The scripted server speaks plain HTTP; asking it for TLS fails the handshake.
    let server = ApiServer::start(Scenario::default());
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{}\ncontexts:\n- name: tls\n  context:\n    cluster: c\n    user: u\ncurrent-context: tls\nusers:\n- name: u\n  user:\n    token: t\n", server.port),
    )
    .unwrap();
    let repo = repo_copy(home.path());
    let r = strata(
        home.path(),
        &["diff", "--live", "--repo", repo.to_str().unwrap(), "--kubeconfig", kubeconfig.to_str().unwrap()],
        &[],
    );
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.starts_with("error: TLS failure talking to the API server of context `tls`\n"), "{}", r.stderr);
    assert!(r.stderr.contains("= note: request: GET /apis"), "{}", r.stderr);
}

#[test]
fn expired_credentials_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let server = ApiServer::start(Scenario { token: Some("fresh".into()), ..Scenario::default() });
    let r = diff_live(&server, home.path(), &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr.starts_with(
            "error: the API server of context `scripted` did not accept the credentials (401 Unauthorized)\n"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("= note: request: GET /apis"), "{}", r.stderr);
    assert!(r.stderr.contains("hint: the token or client certificate has probably expired"), "{}", r.stderr);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.headers.get("authorization").map(String::as_str) == Some("Bearer test-token"))
    );
}

#[test]
fn a_forbidden_request_exits_2_without_a_partial_report() {
    let home = tempfile::tempdir().unwrap();
    let server =
        ApiServer::start(Scenario { fail: Some(("GET /api/v1/configmaps?".into(), 403)), ..Scenario::default() });
    let r = diff_live(&server, home.path(), &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.starts_with("error: the API server of context `scripted` forbids the request (403 Forbidden): configmaps is forbidden: User \"dev\" cannot list"), "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "= note: request: GET /api/v1/configmaps?&labelSelector=strata.dev%2Fenvironment%3Deastus%2Cstrata.dev%2Frepository%3Drepo\n"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn ignore_rules_come_from_strata_yaml() {
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("repo");
    support::copy_tree(&live_dir().join("repo"), &repo);
    std::fs::write(
        repo.join("strata.yaml"),
        "tracking:\n  enabled: true\nignoreDifferences:\n- group: apps\n  kind: Deployment\n  jsonPointers: [/spec/replicas]\n",
    )
    .unwrap();
    let server = ApiServer::start(Scenario { changed: true, ..Scenario::default() });
    let kubeconfig = server.kubeconfig(home.path(), "t");
    let values = changed_values();
    let args = [
        "diff",
        "--live",
        "--repo",
        repo.to_str().unwrap(),
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "-f",
        &values,
    ];
    let r = strata(home.path(), &args, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("+        - image: registry.example.com/shop:1.1.0"), "{}", r.stdout);
    assert!(!r.stdout.contains("replicas"), "{}", r.stdout);

    std::fs::write(
        repo.join("strata.yaml"),
        "ignoreDifferences:\n- kind: Deployment\n  jsonPointers: [spec/replicas]\n",
    )
    .unwrap();
    let r = strata(home.path(), &args, &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.starts_with("error: invalid JSON pointer `spec/replicas` in `ignoreDifferences[0]`: a JSON pointer starts with `/`\n  --> strata.yaml\n"), "{}", r.stderr);
}

#[test]
fn a_bad_tracking_label_is_an_error_naming_strata_yaml() {
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("repo");
    support::copy_tree(&live_dir().join("repo"), &repo);
    std::fs::write(repo.join("strata.yaml"), "tracking:\n  enabled: true\n  label: Strata.dev/target\n").unwrap();
    let r = strata(home.path(), &["render", "--repo", repo.to_str().unwrap()], &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.starts_with("error: invalid tracking label `Strata.dev/target`: the prefix `Strata.dev` is not a lowercase DNS subdomain\n  --> strata.yaml\n"), "{}", r.stderr);
}

#[test]
fn a_bad_repository_id_is_an_error_naming_strata_yaml() {
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("repo");
    support::copy_tree(&live_dir().join("repo"), &repo);
    std::fs::write(repo.join("strata.yaml"), "tracking:\n  enabled: true\n  repository: shop/config\n").unwrap();
    let r = strata(home.path(), &["render", "--repo", repo.to_str().unwrap()], &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr
            .starts_with("error: invalid `tracking.repository` `shop/config`: not a label value\n  --> strata.yaml\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_bad_inventory_namespace_is_an_error_naming_strata_yaml() {
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("repo");
    support::copy_tree(&live_dir().join("repo"), &repo);
    let config = "tracking:\n  enabled: true\n  inventory: true\n  inventoryNamespace: Ops\n";
    std::fs::write(repo.join("strata.yaml"), config).unwrap();
    let r = strata(home.path(), &["render", "--repo", repo.to_str().unwrap()], &[]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(
        r.stderr.starts_with(
            "error: invalid `tracking.inventoryNamespace` `Ops`: not a namespace name\n  --> strata.yaml\n"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn live_flags_need_live_and_exclude_revisions() {
    let home = tempfile::tempdir().unwrap();
    let r = strata(home.path(), &["diff", "--kubeconfig", "x"], &[]);
    assert_eq!(r.code, 2, "clap rejects --kubeconfig without --live: {}", r.stderr);
    assert!(r.stderr.contains("the following required arguments were not provided:\n  --live"), "{}", r.stderr);
    let r = strata(home.path(), &["diff", "--live", "--from", "HEAD"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("the argument '--live' cannot be used with '--from <REV>'"), "{}", r.stderr);
}

// ---- the same against a real API server. Each test deploys the fixture
// repository (or `example-repo`) under its own namespace and repository id.

/// The fixture repository copied to `home/<name>` (its repository id), rendering
/// into namespace `<name>`, its bundle applied as strata applies it; with
/// `legacy`, also the tracked ConfigMap `shop-legacy` no manifest renders.
fn deploy_shop(kapi: &Kapi, home: &Path, name: &str, legacy: bool) -> PathBuf {
    let repo = home.join(kapi.namespace(name));
    support::copy_tree(&live_dir().join("repo"), &repo);
    let component = repo.join("shop/component.yaml");
    let text = std::fs::read_to_string(&component).unwrap().replace("namespace: shop", &format!("namespace: {name}"));
    std::fs::write(&component, text).unwrap();
    let dist = home.join(format!("{name}-dist"));
    let r = strata(home, &["bundle", "--repo", repo.to_str().unwrap(), "--out", dist.to_str().unwrap()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    kapi.apply_bundle(&dist.join("eastus"));
    if legacy {
        let labels =
            format!("strata.dev/target: shop.eastus, strata.dev/environment: eastus, strata.dev/repository: {name}");
        let cm = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: shop-legacy, namespace: {name}, labels: {{{labels}}}}}\ndata: {{old: \"true\"}}\n"
        );
        kapi.apply_server_side(&cm, "strata", false);
    }
    repo
}

fn diff_real(kapi: &Kapi, home: &Path, repo: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["diff", "--live", "--repo", repo.to_str().unwrap()];
    args.extend_from_slice(&["--kubeconfig", kapi.kubeconfig.to_str().unwrap()]);
    args.extend_from_slice(extra);
    strata(home, &args, &[])
}

/// A real server's report in the scripted server's names: context `scripted`,
/// namespace `shop`, repository `repo`.
fn as_scripted(text: &str, name: &str) -> String {
    text.replace("context kapi", "context scripted")
        .replace(&format!("strata.dev/repository: {name}"), "strata.dev/repository: repo")
        .replace(name, "shop")
}

/// A committed snapshot's content.
fn snapshot(name: &str) -> String {
    let text = std::fs::read_to_string(support::project_root().join(format!("tests/snapshots/live_cli__{name}.snap")))
        .unwrap();
    // insta keeps a snapshot without its trailing newlines.
    let body = text.splitn(3, "---\n").nth(2).unwrap();
    body.trim_end().to_string()
}

fn timed(test: &str, started: std::time::Instant) {
    eprintln!("{test}: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn real_server_an_applied_bundle_diffs_as_unchanged() {
    let Some(kapi) = support::kapi::server() else { return };
    let started = std::time::Instant::now();
    let home = tempfile::tempdir().unwrap();
    let repo = deploy_shop(kapi, home.path(), "cli-unchanged", false);
    let r = diff_real(kapi, home.path(), &repo, &[]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert_eq!(
        r.stdout,
        "strata diff context kapi → work tree\n\nenvironment eastus: 11 unchanged\n\n0 of 1 environment differ: 11 unchanged\n"
    );
    timed("real_server_an_applied_bundle_diffs_as_unchanged", started);
}

#[test]
fn real_server_differences_are_the_recorded_ones() {
    let Some(kapi) = support::kapi::server() else { return };
    let started = std::time::Instant::now();
    let home = tempfile::tempdir().unwrap();
    let name = "cli-changed";
    let repo = deploy_shop(kapi, home.path(), name, true);
    let values = changed_values();
    let text = diff_real(kapi, home.path(), &repo, &["-f", &values]);
    assert_eq!((text.code, text.stderr.as_str()), (1, ""));
    // What the scripted server answers from its recordings is what the real one says.
    assert_eq!(as_scripted(&text.stdout, name).trim_end(), snapshot("live_diff_text"));
    let md = diff_real(kapi, home.path(), &repo, &["-f", &values, "--format", "markdown"]);
    assert_eq!(md.code, 1);
    assert_eq!(as_scripted(&md.stdout, name).trim_end(), snapshot("live_diff_markdown"));
    timed("real_server_differences_are_the_recorded_ones", started);
}

#[test]
fn real_server_a_conflict_with_another_manager_says_what_forcing_would_change() {
    let Some(kapi) = support::kapi::server() else { return };
    let started = std::time::Instant::now();
    let home = tempfile::tempdir().unwrap();
    let name = "cli-conflict";
    let repo = deploy_shop(kapi, home.path(), name, false);
    // `ops` takes `targetPort` over.
    let edit = format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: shop, namespace: {name}}}\nspec:\n  ports: [{{port: 80, protocol: TCP, targetPort: 9090}}]\n"
    );
    kapi.apply_server_side(&edit, "ops", true);
    let r = diff_real(kapi, home.path(), &repo, &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let expected = format!(
        "    ! conflict Service/{name}/shop  (shop/v1/20-service.yaml)\n      owned by `ops`: .spec.ports[port=80,protocol=\"TCP\"].targetPort; forcing the apply (`--force-conflicts`) would make this change\n"
    );
    assert!(r.stdout.contains(&expected), "{}", r.stdout);
    assert!(r.stdout.contains("-      targetPort: 9090\n+      targetPort: 8080\n"), "{}", r.stdout);
    assert!(r.stdout.contains("environment eastus: 1 conflict, 10 unchanged\n"), "{}", r.stdout);
    // Nothing was changed: `ops` still owns the field.
    let svc = kapi.kubectl(&["get", "service", "shop", "-n", name, "-o", "jsonpath={.spec.ports[0].targetPort}"], None);
    assert_eq!(svc, "9090");
    timed("real_server_a_conflict_with_another_manager_says_what_forcing_would_change", started);
}

#[test]
fn real_server_live_ref_renders_a_git_revision() {
    let Some(kapi) = support::kapi::server() else { return };
    let started = std::time::Instant::now();
    let home = tempfile::tempdir().unwrap();
    let name = "cli-ref";
    let repo = deploy_shop(kapi, home.path(), name, false);
    support::git(&repo, &["init", "-q"]);
    support::git(&repo, &["add", "-A"]);
    support::git(&repo, &["commit", "-qm", "applied"]);
    std::fs::remove_file(repo.join("shop/v1/32-cronjob.yaml")).unwrap();
    support::git(&repo, &["commit", "-qam", "drop the cronjob"]);

    // HEAD~1 is what was applied; HEAD drops the CronJob, found by the CronJob list.
    let r = diff_real(kapi, home.path(), &repo, &["--stat", "--ref", "HEAD~1"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{}", r.stdout);
    assert!(r.stdout.starts_with("strata diff context kapi → HEAD~1 ("), "{}", r.stdout);
    assert!(r.stdout.contains("environment eastus: 11 unchanged\n"), "{}", r.stdout);
    let r = diff_real(kapi, home.path(), &repo, &["--stat", "--ref", "HEAD"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("environment eastus: 1 prune, 10 unchanged\n"), "{}", r.stdout);
    assert!(r.stdout.contains(&format!("    - prune batch/CronJob/{name}/invoices\n")), "{}", r.stdout);

    let r = diff_real(kapi, home.path(), &repo, &["--ref", "v9"]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    assert!(r.stderr.contains("given as `--ref v9`"), "{}", r.stderr);
    let r = strata(home.path(), &["diff", "--ref", "HEAD"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("the following required arguments were not provided:\n  --live"), "{}", r.stderr);
    timed("real_server_live_ref_renders_a_git_revision", started);
}
