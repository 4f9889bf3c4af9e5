//! Label and annotation values of rendered objects made strings, with a warning at
//! the template line that wrote each one.
//!
//! In: the objects one template rendered, its output text (for each value's text as
//! written) and its source text (for the line to point at). Out: the objects with
//! every label and annotation value a string ([`crate::manifest::metadata`]) and one
//! warning per value changed; a mapping or a list as a value is an error. The
//! warnings become errors under `--strict` (the pipeline decides).

use std::cell::OnceCell;

use crate::diag::Diagnostic;
use crate::manifest::Resource;
use crate::manifest::metadata::{self, NotAString, Stringified};
use crate::yaml::{self, locate::plain_scalar_text};

use super::locate::TemplateDocs;

/// Makes the values strings in `resources`, all rendered by the template at
/// `template` (repository path) whose source is `source` and whose output is `output`.
/// Returns the warnings, or the errors.
pub fn labels_and_annotations(
    resources: &mut [Resource],
    output: &str,
    template: &str,
    source: impl Fn() -> Option<String>,
) -> Result<Vec<Diagnostic>, Vec<Diagnostic>> {
    // The output is cut into documents only when a value needs its text (seldom).
    let split = OnceCell::new();
    let split = || split.get_or_init(|| (yaml::locate::document_lines(output), output.lines().collect::<Vec<_>>()));
    let mut changed: Vec<(usize, Stringified)> = Vec::new();
    let mut refused: Vec<(usize, NotAString)> = Vec::new();
    for (i, r) in resources.iter_mut().enumerate() {
        let doc_index = r.source.doc;
        let text_of = |path: &[String]| {
            let (starts, lines) = split();
            plain_scalar_text(&document_text(lines, starts, doc_index), path)
        };
        match metadata::stringify_labels_and_annotations(&mut r.body, &text_of) {
            Ok(done) => changed.extend(done.into_iter().map(|s| (i, s))),
            Err(bad) => refused.extend(bad.into_iter().map(|b| (i, b))),
        }
    }
    if changed.is_empty() && refused.is_empty() {
        return Ok(Vec::new());
    }
    let source = source().unwrap_or_default();
    let docs = TemplateDocs::new(&source);
    let at = |d: Diagnostic, i: usize, path: &[String]| {
        let r = &resources[i];
        match docs.locate(r.source.doc, &r.id.kind, path) {
            Some((line, col)) => {
                let len = path.last().map(|k| k.chars().count()).unwrap_or(1);
                d.at(template).with_source_line(&source, line, col, len, "")
            }
            None => d.at(template),
        }
        .note(format!("object `{}`", resources[i].id))
    };
    if !refused.is_empty() {
        return Err(refused
            .into_iter()
            .map(|(i, b)| {
                let what = if b.was.is_array() { "a list" } else { "a mapping" };
                let d = Diagnostic::error(format!("{} is {what}; it must be a string", describe(&b.path)));
                at(d, i, &b.path).hint("label and annotation values are strings: render the value as text (`| toJson | quote` for structured data)")
            })
            .collect());
    }
    Ok(changed
        .into_iter()
        .map(|(i, s)| {
            let was = match &s.was {
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Null => "null",
                _ => "a number",
            };
            let d = Diagnostic::warning(format!("{} is {was}; strata writes it as the string \"{}\"", describe(&s.path), s.text));
            at(d, i, &s.path).hint(format!(
                "the API server refuses a label or annotation that is not a string: quote it in the template (`\"{}\"`, or `| quote`)",
                s.text
            ))
        })
        .collect())
}

/// `annotation `port``, `label `app` of spec.template.metadata`.
fn describe(path: &[String]) -> String {
    let (key, field) =
        (path.last().map(String::as_str).unwrap_or(""), path.len().checked_sub(2).map(|i| path[i].as_str()));
    let what = if field == Some("labels") { "label" } else { "annotation" };
    let place = &path[..path.len().saturating_sub(2)];
    if place == ["metadata"] {
        format!("{what} `{key}`")
    } else {
        format!("{what} `{key}` in `{}`", crate::yaml::typed::field_name(place))
    }
}

/// The text of output document `doc`, as lines of `lines` from its start to the next.
fn document_text(lines: &[&str], starts: &[usize], doc: usize) -> String {
    let Some(&start) = starts.get(doc) else { return String::new() };
    let end = starts.get(doc + 1).map(|n| n.saturating_sub(2)).unwrap_or(lines.len());
    lines.get(start.saturating_sub(1)..end.max(start.saturating_sub(1))).map(|l| l.join("\n")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::render::parse_rendered;

    const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    port: {{ Values.port }}\n    ratio: 1.50\nspec:\n  template:\n    metadata:\n      labels:\n        v: {{ Values.v }}\n";

    #[test]
    fn warns_at_the_template_line_with_the_text_as_written() {
        let output = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    port: 8080\n    ratio: 1.50\nspec:\n  template:\n    metadata:\n      labels:\n        v: True\n";
        let mut rs = parse_rendered(output, &Arc::from("app/v1/web.yaml")).unwrap();
        let w = labels_and_annotations(&mut rs, output, "app/v1/web.yaml", || Some(TEMPLATE.to_string())).unwrap();
        let got: Vec<(String, usize)> = w.iter().map(|d| (d.message.clone(), d.pos.unwrap().line)).collect();
        assert_eq!(
            got,
            [
                ("annotation `port` is a number; strata writes it as the string \"8080\"".to_string(), 11),
                ("annotation `ratio` is a number; strata writes it as the string \"1.50\"".to_string(), 12),
                (
                    "label `v` in `spec.template.metadata` is a boolean; strata writes it as the string \"True\""
                        .to_string(),
                    17
                ),
            ]
        );
        assert_eq!(w[0].path.as_deref(), Some("app/v1/web.yaml"));
        assert_eq!(rs[1].body["metadata"]["annotations"]["ratio"], "1.50");
        assert_eq!(rs[1].body["spec"]["template"]["metadata"]["labels"]["v"], "True");
    }

    #[test]
    fn a_mapping_is_an_error() {
        let output = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    a: {b: 1}\n";
        let mut rs = parse_rendered(output, &Arc::from("t.yaml")).unwrap();
        let e = labels_and_annotations(&mut rs, output, "t.yaml", || Some(output.to_string())).unwrap_err();
        assert_eq!(e[0].message, "annotation `a` is a mapping; it must be a string");
        assert_eq!(e[0].pos.map(|p| p.line), Some(6));
    }
}
