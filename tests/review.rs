//! `strata review` on the issue's example: a git copy of `example-repo/` with one
//! commit that reorders the database container's env list, adds a port, changes its
//! image and moves `frontend/eastus` to v2 (`tests/cases/git-review-example/setup.sh`,
//! whose json diff is that case's snapshot).
//!
//! The page's totals equal the json reports of `diff`, `rollout plan` and `check`;
//! in a real headless Chromium (skipped visibly without it, failing under `CI=true`)
//! the DOM shows those numbers, no request leaves the page, and filtering and
//! "next change" work.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::Strata;
use support::webdriver::Browser;

/// The case's history built in a temporary directory (`repo/` inside it).
fn example_change() -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    let case = support::project_root().join("tests/cases/git-review-example");
    let out = std::process::Command::new("sh")
        .arg("-eu")
        .arg(case.join("setup.sh"))
        .current_dir(work.path())
        .env("CASE", &case)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "setup.sh: {}", String::from_utf8_lossy(&out.stderr));
    work
}

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let mut argv = vec!["--repo", "repo"];
    argv.extend(args);
    let out = Strata::in_dir(dir).run(&argv);
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "strata {args:?}: exit {code}: {}", String::from_utf8_lossy(&out.stderr));
    (code, String::from_utf8(out.stdout).unwrap())
}

fn json_of(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&run(dir, args).1).unwrap()
}

/// What the json reports say the page must show.
struct Expected {
    environments: usize,
    objects: usize,
    risks: usize,
    findings: usize,
    /// (object id, environment) of every changed object.
    sections: BTreeSet<(String, String)>,
}

fn expected(dir: &Path) -> Expected {
    let diff = json_of(dir, &["diff", "--from", "HEAD~1", "--format", "json"]);
    let plan = json_of(dir, &["rollout", "plan", "--from", "HEAD~1", "--format", "json"]);
    let check = json_of(dir, &["check", "--format", "json"]);
    let envs = diff["environments"].as_array().unwrap();
    let mut sections = BTreeSet::new();
    let mut live = BTreeSet::new();
    for e in envs {
        for t in e["targets"].as_array().unwrap() {
            for r in t["resources"].as_array().unwrap() {
                let id = r["id"].as_str().unwrap().to_string();
                sections.insert((id.clone(), e["environment"].as_str().unwrap().to_string()));
                if r["status"] != "removed" {
                    live.insert((t["address"].as_str().unwrap().to_string(), id));
                }
            }
        }
    }
    let id_of = |o: &Value| {
        let parts = [&o["group"], &o["kind"], &o["namespace"], &o["name"]];
        parts.iter().filter_map(|p| p.as_str()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("/")
    };
    let findings = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| live.contains(&(f["target"].as_str().unwrap().to_string(), id_of(&f["object"]))))
        .count();
    Expected {
        environments: envs.iter().filter(|e| e["differs"] == true).count(),
        objects: sections.len(),
        risks: plan["risks"].as_u64().unwrap() as usize,
        findings,
        sections,
    }
}

/// `strata review --from HEAD~1 --out r.html`; the page's bytes.
fn review(dir: &Path, out: &str) -> (PathBuf, String) {
    let (code, _) = run(dir, &["review", "--from", "HEAD~1", "--out", out]);
    assert_eq!(code, 1, "something changes");
    let path = dir.join(out);
    (path.clone(), std::fs::read_to_string(path).unwrap())
}

/// The value of `data-NAME` on the page's root element.
fn root_attr(html: &str, name: &str) -> usize {
    let root = &html[html.find("<html").unwrap()..];
    let root = &root[..root.find('>').unwrap()];
    let key = format!("data-{name}=\"");
    let v = &root[root.find(&key).unwrap_or_else(|| panic!("no {key} in {root}")) + key.len()..];
    v[..v.find('"').unwrap()].parse().unwrap()
}

#[test]
fn the_json_diff_reports_the_reorder_as_order_changed_and_nothing_else_on_that_list() {
    let work = example_change();
    let diff = json_of(work.path(), &["diff", "--from", "HEAD~1", "--format", "json"]);
    let env_path = "spec.template.spec.containers[name=postgres].env";
    let mut seen = 0;
    for e in diff["environments"].as_array().unwrap() {
        for t in e["targets"].as_array().unwrap() {
            for r in t["resources"].as_array().unwrap().iter().filter(|r| r["kind"] == "StatefulSet") {
                let changes: Vec<&Value> = r["changes"].as_array().unwrap().iter().collect();
                let on_env: Vec<&&Value> =
                    changes.iter().filter(|c| c["path"].as_str().unwrap().starts_with(env_path)).collect();
                assert_eq!(on_env.len(), 1, "{}", e["environment"]);
                assert_eq!(on_env[0]["kind"], "order changed");
                let paths: Vec<&str> = changes.iter().map(|c| c["path"].as_str().unwrap()).collect();
                assert_eq!(
                    paths,
                    [
                        env_path,
                        "spec.template.spec.containers[name=postgres].image",
                        "spec.template.spec.containers[name=postgres].ports[containerPort=9187]"
                    ]
                );
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 4, "the database changes in every environment");
    // The same three changes, grouped: in 4 of 4 environments.
    let groups = diff["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3);
    assert!(groups.iter().all(|g| g["environments"].as_array().unwrap().len() == 4 && g["of"] == 4));
}

#[test]
fn the_page_states_the_json_reports_totals_and_is_byte_stable() {
    let work = example_change();
    let want = expected(work.path());
    let (_, html) = review(work.path(), "r.html");
    assert_eq!(root_attr(&html, "environments"), want.environments);
    assert_eq!(root_attr(&html, "objects"), want.objects);
    assert_eq!(root_attr(&html, "risks"), want.risks);
    assert_eq!(root_attr(&html, "findings"), want.findings);
    assert!((want.environments, want.objects) == (4, 9) && want.findings > 0, "the example changes as described");
    // Self-contained: the policy allows nothing but inline style and the script's hash.
    assert!(html.contains(
        r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-"#
    ));
    for outside in ["<link", " src=", "@import", "url("] {
        assert!(!html.contains(outside), "the page refers to something outside: {outside}");
    }
    let (_, again) = review(work.path(), "r2.html");
    assert_eq!(html, again, "same inputs, same bytes");
    // Environments rendered in part (targets with identical inputs): the page says
    // which rules it left out there; `--strict` renders them all and leaves none out.
    assert!(
        html.contains("(dangling-service, dangling-reference, missing-namespace) were not evaluated in 4 environments")
    );
    let (code, _) = run(work.path(), &["review", "--strict", "--from", "HEAD~1", "--out", "strict.html"]);
    assert_eq!(code, 1);
    let strict = std::fs::read_to_string(work.path().join("strict.html")).unwrap();
    assert!(!strict.contains("were not evaluated"));
    assert_eq!(root_attr(&strict, "findings"), want.findings);
}

#[test]
fn the_page_in_headless_chromium() {
    let Some(browser) = Browser::start() else { return };
    let work = example_change();
    let want = expected(work.path());
    let (path, _) = review(work.path(), "r.html");
    let started = std::time::Instant::now();
    browser.open(&format!("file://{}", path.display()));
    let dom = browser.eval(
        r#"const root = document.documentElement;
           const sections = [...document.querySelectorAll("section[data-object]")];
           return {
             environments: +root.dataset.environments, objects: +root.dataset.objects,
             risks: +root.dataset.risks, findings: +root.dataset.findings,
             sections: sections.map(s => [s.dataset.object, s.dataset.environment]),
             requests: performance.getEntriesByType("resource").length,
           };"#,
        json!([]),
    );
    let opened = started.elapsed();
    assert_eq!(dom["environments"], want.environments);
    assert_eq!(dom["objects"], want.objects);
    assert_eq!(dom["risks"], want.risks);
    assert_eq!(dom["findings"], want.findings);
    let sections: BTreeSet<(String, String)> = serde_json::from_value(dom["sections"].clone()).unwrap();
    assert_eq!(sections, want.sections, "one section per changed object and environment");
    let distinct: BTreeSet<&String> = sections.iter().map(|(_, e)| e).collect();
    assert_eq!(distinct.len(), want.environments);
    assert_eq!(dom["requests"], 0, "no request leaves the page");
    // And none could: the page's policy refuses a request made from it.
    let violated = browser.eval(
        r#"return new Promise(done => {
             document.addEventListener("securitypolicyviolation", e => done(e.effectiveDirective));
             fetch("http://127.0.0.1:9/").catch(() => {});
             setTimeout(() => done("none"), 3000);
           });"#,
        json!([]),
    );
    assert_eq!(violated, "connect-src", "the Content-Security-Policy blocks requests");

    // Filtering: by environment, by text; then j / k walk the objects shown.
    let shown = |b: &Browser| -> Vec<String> {
        let v = b.eval(
            r#"return [...document.querySelectorAll("section[data-object]")].filter(s => !s.hidden)
                 .map(s => s.dataset.object + "@" + s.dataset.environment);"#,
            json!([]),
        );
        serde_json::from_value(v).unwrap()
    };
    let set = |b: &Browser, id: &str, value: &str| {
        b.eval(
            r#"const e = document.getElementById(arguments[0]); e.value = arguments[1];
               e.dispatchEvent(new Event(e.tagName === "SELECT" ? "change" : "input"));"#,
            json!([id, value]),
        );
    };
    let key = |b: &Browser, k: &str| -> String {
        let v = b.eval(
            r#"document.dispatchEvent(new KeyboardEvent("keydown", {key: arguments[0]}));
               return document.documentElement.dataset.current || "";"#,
            json!([k]),
        );
        v.as_str().unwrap().to_string()
    };
    set(&browser, "f-environment", "staging");
    assert_eq!(shown(&browser), ["apps/StatefulSet/shop/database@staging"]);
    let filtered = started.elapsed();
    set(&browser, "f-environment", "");
    set(&browser, "f-text", "PodDisruptionBudget");
    assert_eq!(shown(&browser), ["policy/PodDisruptionBudget/web/frontend@eastus"]);
    set(&browser, "f-text", "");
    set(&browser, "f-kind", "StatefulSet");
    let statefulsets = shown(&browser);
    assert_eq!(statefulsets.len(), 4);
    assert_eq!(key(&browser, "j"), statefulsets[0]);
    assert_eq!(key(&browser, "j"), statefulsets[1]);
    assert_eq!(key(&browser, "k"), statefulsets[0]);
    // The object navigated to is drawn: its structural changes and diff rows.
    let drawn = browser.eval(
        r#"const s = document.querySelector("section.current");
           return [s.querySelectorAll(".fields li").length, s.querySelectorAll(".diff em").length > 0,
                   s.querySelector(".fields li").textContent, [...s.querySelectorAll(".notes")].map(n => n.textContent)];"#,
        json!([]),
    );
    assert_eq!((&drawn[0], &drawn[1]), (&json!(3), &json!(true)), "three field changes, words highlighted");
    let first = drawn[2].as_str().unwrap();
    assert!(first.starts_with("order changed spec.template.spec.containers[name=postgres].env "), "{first}");
    let notes = drawn[3].as_array().unwrap();
    assert_eq!(notes.len(), 1, "the StatefulSet's one finding: {notes:?}");
    let note = notes[0].as_str().unwrap();
    assert!(note.starts_with("warning [read-only-root-fs] spec.template.spec.containers[0]"), "{note}");
    assert!(note.contains(" (database/v1/statefulset.yaml:"), "at its template line: {note}");
    eprintln!("review page: opened in {opened:?}, filtered by {filtered:?}");
}

/// The figure of docs/guide/review.md: a page given in `STRATA_REVIEW_PAGE` (`strata review` of the
/// medium benchmark), opened and filtered in headless Chromium, timed.
/// `STRATA_REVIEW_PAGE=/tmp/r.html cargo test --test review -- --ignored --nocapture`
#[test]
#[ignore = "a measurement: needs STRATA_REVIEW_PAGE"]
fn page_speed() {
    let Ok(page) = std::env::var("STRATA_REVIEW_PAGE") else { return };
    let Some(browser) = Browser::start() else { return };
    let started = std::time::Instant::now();
    browser.open(&format!("file://{page}"));
    let objects = browser.eval("return document.querySelectorAll('section[data-object]').length;", json!([]));
    let opened = started.elapsed();
    let timing = browser.eval(
        r#"const n = performance.getEntriesByType("navigation")[0];
           return {response: Math.round(n.responseEnd), interactive: Math.round(n.domInteractive),
                   loaded: Math.round(n.domContentLoadedEventEnd), complete: Math.round(n.loadEventEnd)};"#,
        json!([]),
    );
    eprintln!("navigation timing (ms): {timing}");
    let env = browser.eval(
        r#"const f = document.getElementById("f-environment"); f.value = f.options[1].value;
           f.dispatchEvent(new Event("change"));
           return [f.value, [...document.querySelectorAll("section[data-object]")].filter(s => !s.hidden).length];"#,
        json!([]),
    );
    let filtered = started.elapsed();
    browser.eval(r#"document.dispatchEvent(new KeyboardEvent("keydown", {key: "j"}));"#, json!([]));
    let navigated = started.elapsed();
    eprintln!(
        "{objects} objects: opened in {opened:?}; filtered to {env} by {filtered:?}; next change by {navigated:?}"
    );
    assert!(filtered < std::time::Duration::from_secs(2), "opens and filters in under 2 s");
}
