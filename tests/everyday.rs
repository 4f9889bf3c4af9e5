//! Everyday commands end to end through the real binary: `strata init` then
//! `render` / `bundle` / `values` on what it wrote, `strata values` on
//! `example-repo/`, and `strata completions` for every shell.

mod support;

use support::strata;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn init_then_render_bundle_and_values() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("new");
    let r = repo.to_str().unwrap();
    let out = strata(&["init", r, "--component", "web", "--environments", "staging,prod/eu,prod/us"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let render = strata(&["render", "--repo", r, "--strict"]);
    assert_eq!(render.status.code(), Some(0), "{}", text(&render.stderr));
    let yaml = text(&render.stdout);
    assert_eq!(yaml.matches("kind: Deployment").count(), 3, "{yaml}");
    assert!(yaml.contains("# Target: web/prod/us"), "{yaml}");
    assert!(text(&render.stderr).is_empty(), "warnings: {}", text(&render.stderr));

    // The new repository follows the practices `strata check` enforces: no error, no warning.
    let check = strata(&["check", "--repo", r, "--strict"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", text(&check.stdout), text(&check.stderr));
    assert!(text(&check.stdout).contains("0 errors, 0 warnings"), "{}", text(&check.stdout));

    let dist = tmp.path().join("dist");
    let bundle = strata(&["bundle", "--repo", r, "--out", dist.to_str().unwrap()]);
    assert_eq!(bundle.status.code(), Some(0), "{}", text(&bundle.stderr));
    assert!(dist.join("prod/eu").is_dir());

    let values = strata(&["values", "--repo", r, "web/prod/eu", "replicas", "--show-origin"]);
    assert_eq!(text(&values.stdout), "2  # web/prod/eu/parameters.yaml:2 (overrides web/v1/values.yaml:8)\n");

    // A second init into the same directory is refused and changes nothing.
    let again = strata(&["init", r]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("is not empty"), "{}", text(&again.stderr));
}

#[test]
fn values_of_example_repo_name_every_leaf() {
    let out = strata(&["values", "--repo", "example-repo", "frontend/prod/westus", "--show-origin"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    for line in yaml.lines().filter(|l| !l.trim_end().ends_with(':') && !l.trim_start().starts_with("- ")) {
        assert!(line.contains("  # frontend/") || line.contains("  # strata.yaml:"), "no origin: {line}\n{yaml}");
    }
    assert!(yaml.contains("domain: www.shop.example.com  # strata.yaml:29 (overrides strata.yaml:9)"), "{yaml}");
    let one = strata(&["values", "--repo", "example-repo", "frontend/prod/westus", "global.region"]);
    assert_eq!(text(&one.stdout), "westus\n");
    // The same from the committed revision, read from git objects.
    if support::require_tool("git") {
        let at_head =
            strata(&["values", "--repo", "example-repo", "--ref", "HEAD", "frontend/prod/westus", "global.region"]);
        assert_eq!(text(&at_head.stdout), "westus\n", "{}", text(&at_head.stderr));
    }
    let many = strata(&["values", "--repo", "example-repo", "frontend"]);
    assert_eq!(many.status.code(), Some(2));
    assert!(text(&many.stderr).contains("name one"), "{}", text(&many.stderr));
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = strata(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        for sub in ["render", "bundle", "values", "init", "completions"] {
            assert!(script.contains(sub), "{shell} completions do not name `{sub}`");
        }
    }
    assert_eq!(strata(&["completions", "tcsh"]).status.code(), Some(2));
}
