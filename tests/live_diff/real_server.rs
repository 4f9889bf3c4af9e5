//! Prune and inventory against a real kube-apiserver (`tests/support/kapi.rs`).

use super::*;

// ---- prune and inventory on a real API server: `example-repo` `@eastus` applied
// with tracking on (the bundle, through `kubectl apply --server-side`), then
// diffed with the `strata` binary. Each test has its own repository id and
// namespaces (`<test>-shop`, `<test>-web`), so tests share the server.

/// `example-repo` copied to `home/<name>`, `<name>` its repository id, every
/// namespace it renders prefixed with `<name>-`, with or without the inventory.
fn relocated_example(home: &Path, name: &str, inventory: bool) -> std::path::PathBuf {
    let dir = home.join(name);
    support::copy_tree(&support::project_root().join("example-repo"), &dir);
    let edit = |rel: &str, from: &[&str], to: &dyn Fn(&str) -> String| {
        let p = dir.join(rel);
        let mut text = std::fs::read_to_string(&p).unwrap();
        for f in from {
            assert!(text.contains(f), "{rel}: {f}");
            text = text.replace(f, &to(f));
        }
        std::fs::write(&p, text).unwrap();
    };
    let ns = |line: &str| line.replace(": ", &format!(": {name}-"));
    edit("api/component.yaml", &["namespace: shop"], &ns);
    edit("database/component.yaml", &["namespace: shop"], &ns);
    edit("frontend/component.yaml", &["namespace: web"], &ns);
    edit("platform/v1/values.yaml", &["name: web", "name: shop"], &ns);
    // The admission policy is cluster-scoped: one name per test, as the namespaces.
    let policy = |line: &str| line.replace("deployment-min-replicas", &format!("{name}-deployment-min-replicas"));
    edit(
        "platform/v1/admission-policy.yaml",
        &["name: deployment-min-replicas", "policyName: deployment-min-replicas"],
        &policy,
    );
    let inventory = if inventory { "\n  inventory: true" } else { "" };
    let tracking = format!("  enabled: true\n  repository: {name}{inventory}\n");
    edit("strata.yaml", &["  enabled: true\n  repository: example-repo\n"], &|_| tracking.clone());
    dir
}

/// `strata bundle @eastus` of `repo`, applied to the server as its README says.
fn deploy_eastus(kapi: &support::kapi::Kapi, repo: &Path) {
    let out = tempfile::tempdir().unwrap();
    let dist = out.path().join("dist");
    let args = ["bundle", "--repo", repo.to_str().unwrap(), "--out", dist.to_str().unwrap(), "@eastus"];
    let run = support::Strata::in_dir(repo).run(args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    kapi.apply_bundle(&dist.join("eastus"));
}

/// `strata diff --live @eastus --format json` of `repo` (plus `extra`): the exit
/// code and, per target, `status id` of each change with its note.
fn live_json(kapi: &support::kapi::Kapi, repo: &Path, extra: &[&str]) -> (i32, Vec<String>) {
    let mut args = vec!["diff", "--live", "--format", "json", "--repo", repo.to_str().unwrap()];
    args.extend_from_slice(&["--kubeconfig", kapi.kubeconfig.to_str().unwrap()]);
    args.extend_from_slice(if extra.is_empty() { &["@eastus"][..] } else { extra });
    let run = support::Strata::in_dir(repo).run(&args);
    let code = run.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "exit {code}: {}", String::from_utf8_lossy(&run.stderr));
    let j: Value = serde_json::from_slice(&run.stdout).unwrap();
    let mut lines = Vec::new();
    for env in j["environments"].as_array().unwrap() {
        for t in env["targets"].as_array().unwrap() {
            for r in t["resources"].as_array().unwrap() {
                let note = r["note"].as_str().map(|n| format!(" ({n})")).unwrap_or_default();
                lines.push(format!(
                    "{} {} of {}{note}",
                    r["status"].as_str().unwrap(),
                    r["id"].as_str().unwrap(),
                    t["address"].as_str().unwrap()
                ));
            }
        }
        lines.push(format!("{}: {}", env["environment"].as_str().unwrap(), env["counts"]));
    }
    (code, lines)
}

/// The counts line of `eastus` in [`live_json`]'s words.
fn counts(create: u32, update: u32, unchanged: u32, prune: u32) -> String {
    format!(
        "eastus: {{\"create\":{create},\"prune\":{prune},\"update\":{update},\"conflict\":0,\"unchanged\":{unchanged}}}"
    )
}

#[test]
fn real_server_prunes_what_the_environment_no_longer_renders() {
    let Some(kapi) = support::kapi::server() else { return };
    let started = std::time::Instant::now();
    let home = tempfile::tempdir().unwrap();
    let name = kapi.namespace("prune");
    let repo = relocated_example(home.path(), &name, false);
    deploy_eastus(kapi, &repo);

    // As applied: unchanged, and other tests' objects (other repository ids) are not prunes.
    assert_eq!(live_json(kapi, &repo, &[]), (0, vec![counts(0, 0, 13, 0)]));
    let (web, shop) = (format!("{name}-web"), format!("{name}-shop"));
    let variant = |what: &str, edit: &dyn Fn(&Path)| {
        let copy = home.path().join(what).join(&name);
        support::copy_tree(&repo, &copy);
        edit(&copy);
        live_json(kapi, &copy, &[])
    };
    // A deleted target: exactly its three objects, noted.
    let gone = "(target `frontend/eastus` is no longer in the repository)";
    let frontend = vec![
        format!("prune ConfigMap/{web}/frontend-nginx of frontend/eastus {gone}"),
        format!("prune Service/{web}/frontend of frontend/eastus {gone}"),
        format!("prune apps/Deployment/{web}/frontend of frontend/eastus {gone}"),
        counts(0, 0, 10, 3),
    ];
    let deleted = variant("target", &|d| std::fs::remove_dir_all(d.join("frontend/eastus")).unwrap());
    assert_eq!(deleted, (1, frontend.clone()));
    // A deleted component: the same three.
    assert_eq!(variant("component", &|d| std::fs::remove_dir_all(d.join("frontend")).unwrap()), (1, frontend));
    // The environment's only NetworkPolicy: found by the NetworkPolicy list.
    let dropped = variant("kind", &|d| std::fs::remove_file(d.join("api/v1/networkpolicy.yaml")).unwrap());
    let np = format!("prune networking.k8s.io/NetworkPolicy/{shop}/api-allow-frontend of api/eastus");
    assert_eq!(dropped, (1, vec![np, counts(0, 0, 12, 1)]));
    // Only `api/eastus` selected: the other targets' objects are theirs, not prunes.
    assert_eq!(live_json(kapi, &repo, &["api/eastus"]), (0, vec![counts(0, 0, 4, 0)]));
    eprintln!("real_server_prunes_what_the_environment_no_longer_renders: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn real_server_inventory_finds_objects_whose_labels_were_removed_by_hand() {
    let Some(kapi) = support::kapi::server() else { return };
    let started = std::time::Instant::now();
    let home = tempfile::tempdir().unwrap();
    let name = kapi.namespace("inventory");
    let repo = relocated_example(home.path(), &name, true);
    deploy_eastus(kapi, &repo);
    assert_eq!(live_json(kapi, &repo, &[]), (0, vec![counts(0, 0, 14, 0)]), "13 objects and the inventory");

    // Someone removed the frontend Deployment's environment and repository labels.
    let web = format!("{name}-web");
    let unlabel = ["label", "deployment", "frontend", "-n", &web, "strata.dev/environment-", "strata.dev/repository-"];
    kapi.kubectl(&unlabel, None);
    // A partial diff neither compares nor reads the inventory.
    assert_eq!(live_json(kapi, &repo, &["api/eastus"]), (0, vec![counts(0, 0, 4, 0)]));
    // Then the target is deleted: the inventory still names the Deployment.
    std::fs::remove_dir_all(repo.join("frontend/eastus")).unwrap();
    let inventory = format!("ConfigMap/default/strata-inventory-{name}-eastus");
    let gone = "(target `frontend/eastus` is no longer in the repository)";
    assert_eq!(
        live_json(kapi, &repo, &[]),
        (
            1,
            vec![
                format!("prune ConfigMap/{web}/frontend-nginx of frontend/eastus {gone}"),
                format!("prune Service/{web}/frontend of frontend/eastus {gone}"),
                format!(
                    "prune apps/Deployment/{web}/frontend of frontend/eastus (listed in the live inventory, but without this environment's tracking labels)"
                ),
                format!("update {inventory} of inventory"),
                counts(0, 1, 10, 3),
            ]
        )
    );
    eprintln!(
        "real_server_inventory_finds_objects_whose_labels_were_removed_by_hand: {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
