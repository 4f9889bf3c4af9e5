//! Rendering: templates to resources, error positions, limits.

use super::*;

#[test]
fn a_rendered_list_is_its_items() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n---\napiVersion: v1\nkind: List\nitems: []\n";
    let out = parse_rendered(text, &Arc::from("web/v1/list.yaml")).unwrap();
    let ids: Vec<String> = out.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(ids, ["ConfigMap/a", "Secret/b"]);
}

#[test]
fn narrows_undefined_to_the_missing_values_path() {
    let v = serde_json::json!({"a": {"b": 1}, "apiUrl": "x"});
    assert_eq!(first_missing_values_path("replace('X', Values.apiUrll)", &v), Some((13, "Values.apiUrll".into())));
    assert_eq!(first_missing_values_path("Values.a.b + Values.a.c.d", &v), Some((13, "Values.a.c".into())));
    assert_eq!(first_missing_values_path("Values.a.b", &v), None);
    assert_eq!(first_missing_values_path("MyValues.zz", &v), None);
}

/// A version with one template, loaded under `limits`, and the diagnostic its render gives.
fn render_error(template: &str, limits: Limits) -> Diagnostic {
    let memory = crate::source::MemorySource::from_entries(&[("app/v1/cm.yaml", template)]);
    let version = VersionEnv::load(&Fs::new(Arc::new(memory)), "app/v1", limits).expect("compiles");
    let Err(e) = version.env.get_template("cm.yaml").and_then(|t| t.render(())) else { panic!("renders") };
    version.map_error(&e, None)
}

#[test]
fn runaway_templates_name_the_limit_they_ran_into() {
    let recursive = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}";
    let d = render_error(recursive, Limits::default());
    assert!(d.message.starts_with("template recursion is too deep"), "{}", d.message);
    assert_eq!(d.notes, ["calls may nest 64 deep"]);
    let d = render_error(recursive, Limits { recursion: 20, ..Limits::default() });
    assert_eq!(d.notes, ["calls may nest 20 deep"]);

    let endless = "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}";
    let d = render_error(endless, Limits { fuel: 2_000_000, ..Limits::default() });
    assert!(d.message.contains("ran out of fuel"), "{}", d.message);
    assert_eq!(d.notes, ["each template may execute 2 million instructions"]);
    let d = render_error(endless, Limits { fuel: 1_500, ..Limits::default() });
    assert_eq!(d.notes, ["each template may execute 1500 instructions"]);
    assert_eq!(in_words(Limits::default().fuel), "50 million");
}

#[test]
fn only_the_engine_recursion_limit_reads_as_recursion() {
    let mut env = Environment::new();
    env.set_recursion_limit(8);
    let e = env.render_str("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", ()).unwrap_err();
    assert!(is_recursion_limit(&e));
    assert!(!is_recursion_limit(&minijinja::Error::new(ErrorKind::InvalidOperation, "cannot do that")));
    let e = env.render_str("{{ 1 + }}", ()).unwrap_err();
    assert!(!is_recursion_limit(&e));
}

#[test]
fn which_files_are_templates() {
    for (f, yes) in [
        ("deployment.yaml", true),
        ("sub/svc.yml", true),
        ("values.yaml", false),
        ("_helpers.yaml", false),
        ("files/nginx.yaml", false),
        ("_partials/x.yaml", false),
        ("notes.txt", false),
    ] {
        assert_eq!(is_template(f), yes, "{f}");
    }
}
