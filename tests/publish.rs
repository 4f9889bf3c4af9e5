//! `strata publish` / `strata verify` / `diff --from oci://` through the real binary,
//! against a real registry (Debian's `docker-registry` on 127.0.0.1, started per test)
//! and real oracles: `skopeo inspect --raw` for the manifests, and
//! `tests/publish_verifier.py`, a checker of cosign's simple-signing format written
//! from its published description (Python `cryptography`), sharing nothing with strata.
//!
//! Without `docker-registry`, `skopeo` or a Python with `cryptography` and `nacl`,
//! a test prints `SKIPPED:` and returns (under `CI=true` it fails).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::registry::{CuttingProxy, Registry, TokenServer, skopeo_raw, skopeo_tags};
use support::{Strata, git, project_root};

/// A git repository holding a copy of `example-repo/` (four environments), one commit on `main`.
fn example_origin(dir: &Path) -> PathBuf {
    let repo = dir.join("origin");
    support::copy_tree(&project_root().join("example-repo"), &repo);
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "shop"]);
    repo
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(o.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(o), stderr(o));
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

/// The Python that runs the verifier: one with `cryptography` and `nacl`.
fn python() -> Option<&'static str> {
    for p in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(p).args(["-c", "import cryptography, nacl"]).output().is_ok_and(|o| o.status.success());
        if ok {
            return Some(p);
        }
    }
    let why = "no python3 with `cryptography` and `nacl` (Debian: python3-cryptography python3-nacl)";
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}; required when CI=true");
    }
    eprintln!("SKIPPED: {} ({why}; with CI=true this fails)", std::thread::current().name().unwrap_or("a test"));
    None
}

fn verifier() -> PathBuf {
    project_root().join("tests/publish_verifier.py")
}

#[test]
fn publish_pushes_one_flux_artifact_per_environment_and_skips_blobs_present() {
    if !support::require_tool("skopeo") {
        return;
    }
    let Some(registry) = Registry::start(None) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_origin(tmp.path());
    let commit = git(&repo, &["rev-parse", "HEAD"]).trim().to_string();
    let created = git(&repo, &["log", "-1", "--date=format-local:%Y-%m-%dT%H:%M:%SZ", "--format=%cd"]);
    let to = registry.oci("shop/config");
    let run = |extra: &[&str]| {
        let mut args =
            vec!["publish", &to, "--format", "json", "--tag", "{environment}", "--tag", "{environment}-{commit}"];
        args.extend_from_slice(extra);
        Strata::in_dir(&repo).env("TZ", "UTC").run(&args)
    };
    let first = run(&[]);
    let published = json(&first);
    let artifacts = published["artifacts"].as_array().unwrap();
    let envs: Vec<&str> = artifacts.iter().map(|a| a["environment"].as_str().unwrap()).collect();
    assert_eq!(envs, ["eastus", "prod/westus", "staging", "westus"]);
    assert_eq!(published["revision"], format!("main@sha1:{commit}"));
    for a in artifacts {
        let env = a["environment"].as_str().unwrap();
        let tag = env.replace('/', "-");
        let want_tags = [format!("{to}:{tag}"), format!("{to}:{tag}-{commit}")];
        assert_eq!(a["tags"], serde_json::json!(want_tags));
        // skopeo reads both tags as the same manifest, with Flux's media types.
        let raw = skopeo_raw(&format!("{}/shop/config:{tag}", registry.host));
        let by_commit = skopeo_raw(&format!("{}/shop/config:{tag}-{commit}", registry.host));
        assert_eq!(raw, by_commit);
        assert_eq!(raw["mediaType"], "application/vnd.oci.image.manifest.v1+json");
        assert_eq!(raw["config"]["mediaType"], "application/vnd.cncf.flux.config.v1+json");
        assert_eq!(raw["layers"].as_array().unwrap().len(), 1);
        assert_eq!(raw["layers"][0]["mediaType"], "application/vnd.cncf.flux.content.v1.tar+gzip");
        let ann = &raw["annotations"];
        assert_eq!(ann["org.opencontainers.image.revision"], format!("main@sha1:{commit}"));
        assert_eq!(ann["org.opencontainers.image.created"], created.trim());
        assert_eq!(ann["dev.strata.environment"], env);
        assert_eq!(ann["dev.strata.version"], env!("CARGO_PKG_VERSION"));
        let wave = match env {
            "staging" => "staging",
            "eastus" => "canary",
            _ => "everywhere",
        };
        assert_eq!(ann["dev.strata.wave"], wave);
        assert!(ann.get("org.opencontainers.image.source").is_none(), "no origin remote, no source");
    }
    assert!(published["uploaded"].as_u64().unwrap() >= 5, "{published}");
    // Again: every blob is there, nothing is uploaded, the digests are the same.
    let again = json(&run(&[]));
    assert_eq!((again["uploaded"].as_u64(), again["present"].as_u64()), (Some(0), Some(8)), "{again}");
    assert_eq!(again["artifacts"], published["artifacts"]);
    // `--source` is the annotation Flux shows; another manifest over the same blobs.
    let sourced = json(&run(&["--source", "https://git.example.com/shop.git", "@eastus"]));
    assert_eq!(sourced["uploaded"], 0);
    let raw = skopeo_raw(&format!("{}/shop/config:eastus", registry.host));
    assert_eq!(raw["annotations"]["org.opencontainers.image.source"], "https://git.example.com/shop.git");
    assert_ne!(sourced["artifacts"][0]["digest"], published["artifacts"][0]["digest"]);
}

/// Two clones of one commit, in directories of other names, checked out under
/// another umask, published under other time zones: the same digests.
#[test]
fn two_clones_give_identical_digests() {
    let Some(registry) = Registry::start(None) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let origin = example_origin(tmp.path());
    let clone = |name: &str, umask: &str| {
        let dir = tmp.path().join(name);
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("umask {umask} && git clone -q \"$0\" \"$1\""))
            .arg(&origin)
            .arg(&dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        dir
    };
    let (a, b) = (clone("first", "022"), clone("elsewhere/second-clone", "077"));
    let publish = |dir: &Path, repository: &str, tz: &str| {
        json(&Strata::in_dir(dir).env("TZ", tz).run(["publish", &registry.oci(repository), "--format", "json"]))
    };
    let (pa, pb) = (publish(&a, "one", "UTC"), publish(&b, "two", "Pacific/Kiritimati"));
    let digests = |p: &serde_json::Value| -> Vec<String> {
        p["artifacts"].as_array().unwrap().iter().map(|a| a["digest"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(digests(&pa).len(), 4);
    assert_eq!(digests(&pa), digests(&pb));
    // The render cache (`--cache`), cold then warm, gives the same artifacts.
    let cache = tmp.path().join("cache");
    for (repository, why) in [("three", "cold cache"), ("four", "warm cache")] {
        let args = ["publish", &registry.oci(repository), "--format", "json", "--cache", cache.to_str().unwrap()];
        assert_eq!(digests(&json(&Strata::in_dir(&b).run(args))), digests(&pa), "{why}");
    }
    assert!(cache.join("v1").is_dir(), "the cache keeps entries");
    // The clones' `origin` is the same path: the source annotation agrees too.
    let raw = skopeo_raw(&format!("{}/two:eastus", registry.host));
    assert_eq!(raw["annotations"]["org.opencontainers.image.source"], origin.display().to_string());
}

/// Signed with a cosign key (encrypted, `COSIGN_PASSWORD`) or a PKCS#8 key: the
/// independent verifier and `strata verify` accept; unsigned or another key: both refuse.
#[test]
fn signatures_are_what_a_cosign_verifier_accepts() {
    let Some(python) = python() else { return };
    let Some(registry) = Registry::start(None) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_origin(tmp.path());
    let keys = tmp.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let keypair = |name: &str, password: Option<&str>| {
        let mut cmd = Command::new(python);
        cmd.arg(verifier()).args(["keypair"]).arg(&keys).arg(name).args(password);
        assert!(cmd.status().unwrap().success());
    };
    keypair("cosign", Some("correct horse"));
    keypair("plain", None);
    keypair("other", None);
    let publish = |repository: &str, key: Option<&str>| {
        let to = registry.oci(repository);
        let mut args = vec!["publish".to_string(), to, "--format".into(), "json".into()];
        if let Some(k) = key {
            args.extend(["--sign-key".into(), keys.join(k).display().to_string()]);
        }
        json(&Strata::in_dir(&repo).env("COSIGN_PASSWORD", "correct horse").run(&args))
    };
    let signed = publish("signed", Some("cosign.key"));
    assert!(signed["artifacts"].as_array().unwrap().iter().all(|a| a["signature"].is_string()));
    publish("plain", Some("plain.key"));
    publish("unsigned", None);
    let oracle = |repository: &str, tag: &str, key: &str| {
        let out = Command::new(python)
            .arg(verifier())
            .args(["verify", &registry.host, repository, tag])
            .arg(keys.join(key))
            .output()
            .unwrap();
        out.status.code().unwrap()
    };
    let ours = |repository: &str, tag: &str, key: &str| {
        let at = format!("{}:{tag}", registry.oci(repository));
        let out = Strata::in_dir(&repo).run(["verify", &at, "--key", &keys.join(key).display().to_string()]);
        (out.status.code().unwrap(), stdout(&out))
    };
    for (repository, key, want) in [
        ("signed", "cosign.pub", 0),
        ("plain", "plain.pub", 0),
        ("signed", "other.pub", 1),
        ("plain", "cosign.pub", 1),
        ("unsigned", "cosign.pub", 1),
    ] {
        for tag in ["eastus", "staging", "westus", "prod-westus"] {
            assert_eq!(oracle(repository, tag, key), want, "verifier: {repository}:{tag} with {key}");
            let (code, out) = ours(repository, tag, key);
            assert_eq!(code, want, "strata verify {repository}:{tag} with {key}:\n{out}");
        }
    }
    // By digest, and a second signature (another key) kept beside the first.
    let digest = signed["artifacts"][0]["digest"].as_str().unwrap().to_string();
    let at = format!("{}@{digest}", registry.oci("signed"));
    let out = Strata::in_dir(&repo).run(["verify", &at, "--key", &keys.join("cosign.pub").display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    publish("signed", Some("other.key"));
    assert_eq!(oracle("signed", "eastus", "other.pub"), 0);
    assert_eq!(oracle("signed", "eastus", "cosign.pub"), 0);
    // A wrong password: exit 2, nothing pushed.
    let out = Strata::in_dir(&repo).env("COSIGN_PASSWORD", "wrong").run([
        "publish",
        &registry.oci("wrong"),
        "--sign-key",
        &keys.join("cosign.key").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));
}

/// A registry with basic authentication (htpasswd): the right credentials from
/// `--password-stdin` or the Docker configuration push; wrong ones end in exit 2
/// with the registry named and the secret nowhere.
#[test]
fn refused_credentials_name_the_registry_never_the_secret() {
    if !support::require_tool("htpasswd") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let htpasswd = tmp.path().join("htpasswd");
    let out = Command::new("htpasswd").args(["-Bbn", "ci", "s3cret-pass"]).output().unwrap();
    std::fs::write(&htpasswd, &out.stdout).unwrap();
    let Some(registry) = Registry::start(Some(&htpasswd)) else { return };
    let repo = example_origin(tmp.path());
    let to = registry.oci("private");
    let with_stdin = |password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["publish", &to, "@eastus", "--username", "ci", "--password-stdin"])
            .current_dir(&repo)
            .env("HOME", tmp.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let refused = with_stdin("not-the-password");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let err = stderr(&refused);
    assert!(err.contains(&registry.host) && err.contains("refused the credentials"), "{err}");
    assert!(!err.contains("not-the-password") && !stdout(&refused).contains("not-the-password"), "{err}");
    let ok = with_stdin("s3cret-pass");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert!(!stderr(&ok).contains("s3cret-pass"));
    // The Docker configuration, as `docker login` writes it.
    let docker = tmp.path().join("docker");
    std::fs::create_dir(&docker).unwrap();
    let auth = |user_pass: &str| {
        use base64::Engine;
        let auth = base64::engine::general_purpose::STANDARD.encode(user_pass);
        std::fs::write(
            docker.join("config.json"),
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host),
        )
        .unwrap();
        Strata::in_dir(&repo).env("DOCKER_CONFIG", &docker).run(["publish", &to, "@staging"])
    };
    let ok = auth("ci:s3cret-pass");
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let refused = auth("ci:bad-bad");
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("config.json") && !stderr(&refused).contains("bad-bad"), "{}", stderr(&refused));
    // Without credentials: refused too.
    let anonymous = Strata::in_dir(&repo).run(["publish", &to, "@staging"]);
    assert_eq!(anonymous.status.code(), Some(2), "{}", stderr(&anonymous));
}

/// Credential helpers as Docker runs them: `docker-credential-NAME get`, the registry
/// on standard input, `{"Username", "Secret"}` on standard output; `credHelpers`
/// (per registry) before `credsStore` (every registry). Here a shell script on `PATH`
/// that answers only for the test registry and logs what it was asked.
#[test]
fn credential_helpers_are_asked_for_the_registry() {
    if !support::require_tool("htpasswd") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let htpasswd = tmp.path().join("htpasswd");
    let out = Command::new("htpasswd").args(["-Bbn", "helped", "from-helper"]).output().unwrap();
    std::fs::write(&htpasswd, &out.stdout).unwrap();
    let Some(registry) = Registry::start(Some(&htpasswd)) else { return };
    let repo = example_origin(tmp.path());
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = tmp.path().join("asked");
    for (name, secret) in [("good", "from-helper"), ("bad", "not-from-helper")] {
        let script = bin.join(format!("docker-credential-{name}"));
        let body = format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread host\necho \"{name} $host\" >> '{}'\n\
             [ \"$host\" = '{}' ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"helped\",\"Secret\":\"{secret}\"}}' \"$host\"\n",
            log.display(),
            registry.host
        );
        std::fs::write(&script, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let docker = tmp.path().join("docker");
    std::fs::create_dir(&docker).unwrap();
    let publish = |config: String| {
        std::fs::write(docker.join("config.json"), config).unwrap();
        let _ = std::fs::remove_file(&log);
        let out = Strata::in_dir(&repo).env("DOCKER_CONFIG", &docker).env("PATH", &path).run([
            "publish",
            &registry.oci("helped"),
            "@eastus",
        ]);
        (out, std::fs::read_to_string(&log).unwrap_or_default())
    };
    let host = &registry.host;
    // credHelpers for this registry wins over a credsStore that would give a wrong secret.
    let (ok, asked) = publish(format!(r#"{{"credsStore":"bad","credHelpers":{{"{host}":"good"}}}}"#));
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(asked, format!("good {host}\n"));
    // credsStore alone: asked, and its wrong secret is refused without being shown.
    let (refused, asked) = publish(r#"{"credsStore":"bad"}"#.to_string());
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_eq!(asked, format!("bad {host}\n"));
    let err = stderr(&refused);
    assert!(err.contains(host) && err.contains("refused the credentials") && !err.contains("not-from-helper"), "{err}");
    // A helper for another registry only: not asked, anonymous, refused.
    let (anonymous, asked) = publish(r#"{"credHelpers":{"ghcr.io":"good"}}"#.to_string());
    assert_eq!(anonymous.status.code(), Some(2), "{}", stderr(&anonymous));
    assert_eq!(asked, "");
}

/// Bearer-token authentication: the registry (distribution's `silly` access controller)
/// answers 401 with a `Bearer realm=…` challenge; strata asks the token server with the
/// `--password-stdin` credentials as basic authentication, for the repository's push
/// scope, and publishes with the token. Without credentials the token is asked anonymously.
#[test]
fn token_authentication_asks_the_realm_with_the_credentials() {
    let tokens = TokenServer::start("t0k3n");
    let auth = format!("auth:\n  silly:\n    realm: {}\n    service: strata-test\n", tokens.realm);
    let Some(registry) = Registry::start_with(&auth) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_origin(tmp.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["publish", &registry.oci("tokened"), "@eastus", "--username", "ci", "--password-stdin"])
        .current_dir(&repo)
        .env("HOME", tmp.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"pa55word\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let asked = tokens.asked.lock().unwrap().clone();
    assert!(!asked.is_empty(), "the token server was not asked");
    use base64::Engine;
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("ci:pa55word"));
    for (authorization, query) in &asked {
        assert_eq!(authorization, &basic, "{query}");
        assert!(query.contains("service=strata-test") && query.contains("tokened"), "{query}");
    }
    assert!(asked.iter().any(|(_, q)| q.contains("push")), "{asked:?}");
    // Anonymous: the token is asked without an Authorization header.
    tokens.asked.lock().unwrap().clear();
    let out = Strata::in_dir(&repo).env("HOME", tmp.path()).run(["publish", &registry.oci("anonymous"), "@staging"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let asked = tokens.asked.lock().unwrap().clone();
    assert!(!asked.is_empty() && asked.iter().all(|(a, _)| a.is_empty()), "{asked:?}");
}

#[test]
fn bad_input_is_exit_2_with_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_origin(tmp.path());
    let run = |args: &[&str]| Strata::in_dir(&repo).run(args);
    for (args, says) in [
        (vec!["publish", "ghcr.io/shop"], "does not start with `oci://`"),
        (vec!["publish", "oci://ghcr.io/Shop"], "lowercase"),
        (vec!["publish", "oci://127.0.0.1:9/shop:v1"], "names a tag or digest"),
        (vec!["publish", "oci://127.0.0.1:9/shop", "--tag", "latest"], "gives tag `latest` to both"),
        (vec!["publish", "oci://127.0.0.1:9/shop", "--tag", "{environment}/x"], "invalid tag"),
        (vec!["verify", "oci://127.0.0.1:9/shop:eastus", "--key", "missing.pub"], "cannot read `missing.pub`"),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", stderr(&out));
    }
    // Uncommitted changes: refused, `--ref` publishes the commit.
    std::fs::write(repo.join("strata.yaml"), std::fs::read_to_string(repo.join("strata.yaml")).unwrap() + "\n# x\n")
        .unwrap();
    let out = run(&["publish", "oci://127.0.0.1:9/shop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("uncommitted changes") && stderr(&out).contains("--ref"), "{}", stderr(&out));
    // Nothing listening: the registry is named.
    let out = run(&["publish", "oci://127.0.0.1:9/shop", "--ref", "HEAD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("127.0.0.1:9"), "{}", stderr(&out));
}

/// A push cut in the middle (the connection closed on the fifth `PUT`, every later
/// connection refused): exit 2 naming the registry, and no tag in the repository.
/// Published again without the cut, the blobs already there are not uploaded again.
#[test]
fn an_interrupted_push_tags_nothing() {
    if !support::require_tool("skopeo") {
        return;
    }
    let Some(registry) = Registry::start(None) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_origin(tmp.path());
    let proxy = CuttingProxy::start(&registry.host, 4);
    let cut = Strata::in_dir(&repo).run(["publish", &format!("oci://{}/shop", proxy.host), "--tag", "{environment}-x"]);
    assert!(proxy.was_cut());
    assert_eq!(cut.status.code(), Some(2), "stdout:\n{}\nstderr:\n{}", stdout(&cut), stderr(&cut));
    assert!(stderr(&cut).contains(&proxy.host), "{}", stderr(&cut));
    assert_eq!(skopeo_tags(&format!("{}/shop", registry.host)), Vec::<String>::new());
    let whole = json(&Strata::in_dir(&repo).run(["publish", &registry.oci("shop"), "--format", "json"]));
    assert!(whole["present"].as_u64().unwrap() >= 2, "{whole}");
    let mut tags = skopeo_tags(&format!("{}/shop", registry.host));
    tags.sort();
    assert_eq!(tags, ["eastus", "prod-westus", "staging", "westus"]);
}

#[test]
fn unknown_tags_are_exit_2() {
    let Some(registry) = Registry::start(None) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_origin(tmp.path());
    let keys = tmp.path().join("k.pub");
    let public = p256::SecretKey::from_slice(&[1; 32]).unwrap().public_key();
    let pem = p256::pkcs8::EncodePublicKey::to_public_key_pem(&public, p256::pkcs8::LineEnding::LF).unwrap();
    std::fs::write(&keys, pem).unwrap();
    let out = Strata::in_dir(&repo).run([
        "verify",
        &format!("{}:nope", registry.oci("shop")),
        "--key",
        &keys.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}

/// `diff --from oci://…`: nothing after publishing; after a values change, exactly that change.
#[test]
fn diff_from_a_published_artifact_shows_exactly_the_change() {
    let Some(registry) = Registry::start(None) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = example_origin(tmp.path());
    let published = Strata::in_dir(&repo).run(["publish", &registry.oci("shop")]);
    assert_eq!(published.status.code(), Some(0), "{}", stderr(&published));
    let from = format!("{}:eastus", registry.oci("shop"));
    let same = Strata::in_dir(&repo).run(["diff", "--from", &from]);
    assert_eq!(same.status.code(), Some(0), "stdout:\n{}\nstderr:\n{}", stdout(&same), stderr(&same));
    // A values change in eastus only.
    std::fs::write(repo.join("api/eastus/parameters.yaml"), "replicas: 5\n").unwrap();
    let changed = Strata::in_dir(&repo).run(["diff", "--from", &from, "--format", "json"]);
    assert_eq!(changed.status.code(), Some(1), "{}", stderr(&changed));
    let report: serde_json::Value = serde_json::from_slice(&changed.stdout).unwrap();
    let text = report.to_string();
    let changes: Vec<&serde_json::Value> = report["environments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["targets"].as_array().unwrap())
        .flat_map(|t| t["resources"].as_array().unwrap())
        .collect();
    assert_eq!(changes.len(), 1, "{text}");
    let diff = changes[0]["diff"].as_str().unwrap_or_default();
    let edits: Vec<&str> = diff
        .lines()
        .filter(|l| (l.starts_with('-') || l.starts_with('+')) && !l.starts_with("---") && !l.starts_with("+++"))
        .collect();
    assert_eq!(edits, ["-  replicas: 2", "+  replicas: 5"], "{text}");
    // Secrets stay masked as in every diff, and `--to HEAD` (the published commit) is equal.
    assert!(!stdout(&same).contains("password"), "{}", stdout(&same));
    let to_head = Strata::in_dir(&repo).run(["diff", "--from", &from, "--to", "HEAD"]);
    assert_eq!(to_head.status.code(), Some(0), "{}", stderr(&to_head));
}

/// `rollout export --format flux --source oci://…`: an OCIRepository per environment
/// (verified with cosign when a key Secret is named), Kustomizations reading it, in wave order.
#[test]
fn flux_export_reads_published_artifacts() {
    let out = support::strata(&[
        "rollout",
        "export",
        "--repo",
        "example-repo",
        "--format",
        "flux",
        "--source",
        "oci://ghcr.io/shop/config",
        "--verify-secret",
        "cosign-pub",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let docs: Vec<serde_json::Value> = strata::facade::yaml::parse_documents(&stdout(&out)).expect("YAML documents");
    let kinds: Vec<(&str, &str)> =
        docs.iter().map(|d| (d["kind"].as_str().unwrap(), d["metadata"]["name"].as_str().unwrap())).collect();
    assert_eq!(
        kinds,
        [
            ("OCIRepository", "strata-staging"),
            ("Kustomization", "strata-staging"),
            ("OCIRepository", "strata-eastus"),
            ("Kustomization", "strata-eastus"),
            ("OCIRepository", "strata-prod-westus"),
            ("Kustomization", "strata-prod-westus"),
            ("OCIRepository", "strata-westus"),
            ("Kustomization", "strata-westus"),
        ]
    );
    // Within a wave, environments in name order (as the git export has them).
    let prod = &docs[4]["spec"];
    assert_eq!(prod["url"], "oci://ghcr.io/shop/config");
    assert_eq!(prod["ref"]["tag"], "prod-westus");
    assert_eq!(prod["verify"], serde_json::json!({"provider": "cosign", "secretRef": {"name": "cosign-pub"}}));
    let k = &docs[5]["spec"];
    assert_eq!(k["sourceRef"], serde_json::json!({"kind": "OCIRepository", "name": "strata-prod-westus"}));
    assert_eq!(k["path"], "./prod/westus");
    assert_eq!(k["dependsOn"], serde_json::json!([{"name": "strata-eastus"}]));
    assert_eq!(docs[7]["spec"]["dependsOn"], serde_json::json!([{"name": "strata-eastus"}]));
    assert_eq!(docs[3]["spec"]["dependsOn"], serde_json::json!([{"name": "strata-staging"}]));
    // Without `--verify-secret`, no `spec.verify`; `--source` with applicationset is refused.
    let plain = support::strata(&[
        "rollout",
        "export",
        "--repo",
        "example-repo",
        "--format",
        "flux",
        "--source",
        "oci://ghcr.io/shop/config",
    ]);
    assert!(!stdout(&plain).contains("verify"), "{}", stdout(&plain));
    let argo = support::strata(&[
        "rollout",
        "export",
        "--repo",
        "example-repo",
        "--format",
        "applicationset",
        "--source",
        "oci://x/y",
    ]);
    assert_eq!(argo.status.code(), Some(2));
}
