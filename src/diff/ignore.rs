//! `diff.ignore`: fields a repository chooses not to review, in the shape of
//! Argo CD's `ignoreDifferences` (group / kind / name / namespace selectors and
//! RFC 6901 JSON pointers).
//!
//! In: the rules of `strata.yaml` `diff.ignore` and the two bodies of one object.
//! Out: the bodies without the fields the matching rules name, and how many of
//! those fields differed ("3 fields hidden by diff.ignore"): every diff format
//! says how much it hid. Nothing is ignored by default.
//!
//! Invariants: applying the rules is pure; a pointer that names nothing hides
//! nothing; a bad pointer is an error at its line of `strata.yaml`, before any
//! render ([`check`]).

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::manifest::ResId;
use crate::repo::config::IgnoreRule;
use crate::yaml;

/// Whether `rule` applies to the object `id`; omitted selectors match anything.
pub fn matches(rule: &IgnoreRule, id: &ResId) -> bool {
    rule.group.as_deref().is_none_or(|g| g == id.group)
        && rule.kind.as_deref().is_none_or(|k| k == id.kind)
        && rule.name.as_deref().is_none_or(|n| n == id.name)
        && rule.namespace.as_deref().is_none_or(|ns| Some(ns) == id.namespace.as_deref())
}

/// The bodies without the fields the rules matching `id` name, and how many of
/// those fields differed between the sides. `None` when no rule matches (the
/// bodies are used as they are).
pub fn apply(
    rules: &[IgnoreRule],
    id: &ResId,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Option<(Option<Value>, Option<Value>, usize)> {
    let pointers: Vec<&str> =
        rules.iter().filter(|r| matches(r, id)).flat_map(|r| r.json_pointers.iter().map(String::as_str)).collect();
    if pointers.is_empty() {
        return None;
    }
    let (mut b, mut a) = (before.cloned(), after.cloned());
    let mut hidden = 0;
    for p in pointers {
        let get = |v: &Option<Value>| v.as_ref().and_then(|v| v.pointer(p)).cloned();
        let (bv, av) = (get(&b), get(&a));
        // A field counts as hidden when it differed; both sides must exist to differ.
        if bv != av && b.is_some() && a.is_some() {
            hidden += 1;
        }
        for side in [&mut b, &mut a].into_iter().flatten() {
            remove(side, p);
        }
    }
    Some((b, a, hidden))
}

/// Removes the value a pointer names (array entries by index).
fn remove(v: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return };
    let last = last.replace("~1", "/").replace("~0", "~");
    match v.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.remove(&last);
        }
        Some(Value::Array(a)) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|i| *i < a.len()) {
                a.remove(i);
            }
        }
        _ => {}
    }
}

/// Checks `diff.ignore`: every rule has pointers, every pointer is a non-empty
/// RFC 6901 pointer. Each problem names `strata.yaml` at the pointer's line
/// (`config_text` is the file's text, when there is one).
pub fn check(rules: &[IgnoreRule], config_text: Option<&str>) -> Result<(), Vec<Diagnostic>> {
    let mut out = Vec::new();
    let at = |d: Diagnostic, path: &[String]| {
        let d = d.at(crate::repo::REPO_CONFIG);
        match config_text.and_then(|t| yaml::locate::locate(t, path).map(|(l, c)| (t, l, c))) {
            Some((t, line, col)) => d.with_source_line(t, line, col, 1, ""),
            None => d,
        }
    };
    for (i, rule) in rules.iter().enumerate() {
        let key = |rest: &[&str]| -> Vec<String> {
            ["diff", "ignore", &i.to_string()].iter().chain(rest).map(|s| s.to_string()).collect()
        };
        if rule.json_pointers.is_empty() {
            let d = Diagnostic::error(format!("`diff.ignore[{i}]` has no `jsonPointers`"))
                .hint("list the fields to hide, like `jsonPointers: [/spec/replicas]`");
            out.push(at(d, &key(&[])));
        }
        for (j, p) in rule.json_pointers.iter().enumerate() {
            let why = pointer_problem(p);
            if let Some(why) = why {
                let d = Diagnostic::error(format!("invalid JSON pointer `{p}` in `diff.ignore[{i}]`: {why}")).hint(
                    "write RFC 6901 pointers such as `/spec/replicas` or `/metadata/annotations/example.com~1hash`",
                );
                out.push(at(d, &key(&["jsonPointers", &j.to_string()])));
            }
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// What is wrong with `p` as a JSON pointer of an ignore rule (`diff.ignore`, the live
/// diff's `ignoreDifferences`), if anything.
pub fn pointer_problem(p: &str) -> Option<&'static str> {
    let b = p.as_bytes();
    let bad_escape = b.iter().enumerate().any(|(i, &c)| c == b'~' && !matches!(b.get(i + 1), Some(b'0') | Some(b'1')));
    if p.is_empty() {
        Some("the empty pointer would match the whole object")
    } else if !p.starts_with('/') {
        Some("a JSON pointer starts with `/`")
    } else if bad_escape {
        Some("`~` must be followed by `0` (for `~`) or `1` (for `/`)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep() -> ResId {
        ResId { group: "apps".into(), kind: "Deployment".into(), namespace: Some("shop".into()), name: "web".into() }
    }

    fn rule(kind: Option<&str>, name: Option<&str>, pointers: &[&str]) -> IgnoreRule {
        IgnoreRule {
            kind: kind.map(str::to_string),
            name: name.map(str::to_string),
            json_pointers: pointers.iter().map(|p| p.to_string()).collect(),
            ..IgnoreRule::default()
        }
    }

    #[test]
    fn hides_matching_fields_and_counts_those_that_differed() {
        let b = json!({"spec": {"replicas": 1, "paused": false, "template": {"metadata": {"annotations": {"a.io/hash": "1"}}}}});
        let a = json!({"spec": {"replicas": 3, "paused": false, "template": {"metadata": {"annotations": {"a.io/hash": "2"}}}}});
        let rules = [rule(
            Some("Deployment"),
            None,
            &["/spec/replicas", "/spec/paused", "/spec/template/metadata/annotations/a.io~1hash"],
        )];
        let (hb, ha, hidden) = apply(&rules, &dep(), Some(&b), Some(&a)).unwrap();
        assert_eq!(hidden, 2, "paused was equal");
        assert_eq!(hb, ha);
        assert_eq!(ha.unwrap(), json!({"spec": {"template": {"metadata": {"annotations": {}}}}}));
        // Other kinds and names are left alone.
        assert!(apply(&[rule(Some("StatefulSet"), None, &["/spec"])], &dep(), Some(&b), Some(&a)).is_none());
        assert!(apply(&[rule(None, Some("api"), &["/spec"])], &dep(), Some(&b), Some(&a)).is_none());
        // A pointer naming nothing hides nothing; a list entry by index.
        let l = json!({"spec": {"args": ["a", "b"]}});
        let (lb, _, hidden) =
            apply(&[rule(None, None, &["/spec/missing", "/spec/args/0"])], &dep(), Some(&l), Some(&l)).unwrap();
        assert_eq!((lb.unwrap(), hidden), (json!({"spec": {"args": ["b"]}}), 0));
    }

    #[test]
    fn bad_pointers_are_errors_at_their_line() {
        let text = "diff:\n  ignore:\n    - kind: Deployment\n      jsonPointers:\n        - /spec/replicas\n        - spec/x\n";
        let rules = [rule(Some("Deployment"), None, &["/spec/replicas", "spec/x"])];
        let e = check(&rules, Some(text)).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("starts with `/`"), "{}", e[0].message);
        assert_eq!(e[0].path.as_deref(), Some("strata.yaml"));
        assert_eq!(e[0].pos.map(|p| p.line), Some(6));
        for (ps, msg) in [(&[""][..], "empty pointer"), (&["/a~2"], "`~` must be followed"), (&[], "no `jsonPointers`")]
        {
            let e = check(&[rule(None, None, ps)], None).unwrap_err();
            assert!(e[0].message.contains(msg), "{ps:?}: {}", e[0].message);
        }
        assert!(check(&[rule(None, None, &["/a~0b~1c"])], None).is_ok());
    }
}
