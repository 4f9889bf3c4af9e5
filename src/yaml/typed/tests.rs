//! Typed reading: unknown fields, did-you-mean, respelled names, positions.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::*;

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Config {
    name: Option<String>,
    depends_on: Vec<String>,
    replicas: Option<u32>,
    enabled: bool,
    groups: BTreeMap<String, Group>,
    extra: Option<Value>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    members: Vec<String>,
}

const OPTIONS: TypedOptions<'static> = TypedOptions {
    names: &[("Group", "a group")],
    foreign: &[("bases", "list files instead")],
    foreign_tool: "x",
    any_case: false,
};

/// Message, position and hints of one diagnostic.
type Found = (String, Option<(usize, usize)>, Vec<String>);

fn errors(text: &str) -> Vec<Found> {
    read::<Config>(text, "app/conf.yaml", &OPTIONS)
        .unwrap_err()
        .into_iter()
        .map(|d| (d.message, d.pos.map(|p| (p.line, p.col)), d.hints))
        .collect()
}

#[test]
fn reads_typed_values() {
    let text =
        "name: web\ndependsOn: [db]\nreplicas: 3\nenabled: true\ngroups:\n  a:\n    members: [x]\nextra: {k: [1, v]}\n";
    let c: Config = read(text, "conf.yaml", &OPTIONS).unwrap();
    assert_eq!(c.name.as_deref(), Some("web"));
    assert_eq!((c.depends_on, c.replicas, c.enabled), (vec!["db".to_string()], Some(3), true));
    assert_eq!(c.groups["a"].members, ["x"]);
    assert_eq!(c.extra, Some(serde_json::json!({"k": [1, "v"]})));
    assert_eq!(read::<Config>("# empty\n", "conf.yaml", &OPTIONS).unwrap(), Config::default());
}

/// (text, message, line:col, first hint) — one class of problem each.
#[test]
fn problems_name_the_field_and_position() {
    type Case<'a> = (&'a str, &'a str, (usize, usize), Option<&'a str>);
    let cases: &[Case<'_>] = &[
        (
            "name: a\ndependson: [b]\n",
            "unknown field `dependson` in conf.yaml",
            (2, 1),
            Some("did you mean `dependsOn`?"),
        ),
        (
            "zzz: 1\n",
            "unknown field `zzz` in conf.yaml",
            (1, 1),
            Some("the fields are: `name`, `dependsOn`, `replicas`, `enabled`, `groups`, `extra`"),
        ),
        (
            "groups:\n  a:\n    member: [x]\n",
            "unknown field `member` in a group",
            (3, 5),
            Some("did you mean `members`?"),
        ),
        ("bases: []\n", "x field `bases` is not supported by strata", (1, 1), Some("list files instead")),
        ("name: 1.5\n", "`name` must be a string, found `1.5`", (1, 1), Some("quote the value: \"1.5\"")),
        ("name: [a]\n", "`name` must be a string", (1, 1), None),
        ("replicas: -1\n", "`replicas` must be a whole number (0 or more)", (1, 1), None),
        ("replicas: 1.5\n", "`replicas` must be a whole number (0 or more)", (1, 1), None),
        ("enabled: yes\n", "`enabled` must be `true` or `false`", (1, 1), None),
        ("dependsOn: a\n", "`dependsOn` must be a list", (1, 1), None),
        ("dependsOn: [a, [b]]\n", "`dependsOn[1]` must be a string", (1, 16), None),
        ("groups:\n  a: {}\n", "`groups.a` needs a `members`", (2, 3), None),
        ("groups: 1\n", "`groups` must be a mapping", (1, 1), None),
        ("- a\n", "conf.yaml must be a mapping of fields", (1, 1), None),
    ];
    for (text, message, pos, hint) in cases {
        let got = errors(text);
        assert_eq!(got.len(), 1, "{text:?}: {got:?}");
        let (m, p, hints) = &got[0];
        assert_eq!((m.as_str(), *p, hints.first().map(String::as_str)), (*message, Some(*pos), *hint), "{text:?}");
    }
}

#[test]
fn every_field_at_fault_is_reported() {
    let got = errors("bases: []\nname: 1\nfoo: bar\nenabled: true\n");
    let messages: Vec<&str> = got.iter().map(|(m, _, _)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "x field `bases` is not supported by strata",
            "`name` must be a string, found `1`",
            "unknown field `foo` in conf.yaml"
        ]
    );
}

/// With `any_case`, a field in another letter case is read and reported; a name
/// matching no field in any case is still unknown, with its did-you-mean hint.
#[test]
fn fields_in_any_letter_case() {
    let any = TypedOptions { any_case: true, ..OPTIONS };
    let text = "Name: web\nDEPENDSON: [db]\ngroups:\n  a:\n    Members: [x]\n";
    let (c, respelled): (Config, _) = read_respelled(text, "conf.yaml", &any).unwrap();
    assert_eq!((c.name.as_deref(), c.depends_on.len(), c.groups["a"].members.len()), (Some("web"), 1, 1));
    let got: Vec<(String, &str)> = respelled.iter().map(|r| (field_name(&r.path), r.name)).collect();
    assert_eq!(
        got,
        [("Name".into(), "name"), ("DEPENDSON".into(), "dependsOn"), ("groups.a.Members".into(), "members")]
    );
    let w = respelled[1].warning("conf.yaml", text);
    assert_eq!(w.message, "`DEPENDSON` is spelt `dependsOn`; read as `dependsOn`");
    assert_eq!(w.pos.map(|p| (p.line, p.col)), Some((2, 1)));
    let written = Respelled::as_written(&respelled, &["groups".into(), "a".into(), "members".into()]);
    assert_eq!(written, ["groups", "a", "Members"]);
    // A typo is still a typo; `BASES` is still foreign; without `any_case`, case matters.
    let e = read_respelled::<Config>("dependson: [b]\nDependsOm: [c]\n", "conf.yaml", &any).unwrap_err();
    assert_eq!(e[0].message, "unknown field `DependsOm` in conf.yaml");
    assert_eq!(e[0].hints[0], "did you mean `dependsOn`?");
    let e = read_respelled::<Config>("BASES: []\n", "conf.yaml", &any).unwrap_err();
    assert_eq!(e[0].message, "x field `BASES` is not supported by strata");
    assert!(read::<Config>("Name: web\n", "conf.yaml", &OPTIONS).is_err());
}

#[test]
fn syntax_errors_come_from_the_parser() {
    let d = read::<Config>("a: [1\n", "conf.yaml", &OPTIONS).unwrap_err();
    assert!(d[0].message.starts_with("invalid YAML"), "{}", d[0].message);
}
