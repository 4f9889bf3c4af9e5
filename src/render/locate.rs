//! Where an object's fields sit in the template that produced it.
//!
//! Templates are YAML with `{{ }}` and `{% %}` in them, so they are not parsed: the
//! template's text is cut into its `---`-separated documents, lines that hold only template
//! code (`{% if %}`, `{{- include … | nindent }}`, `{# #}`) are blanked (their line numbers
//! kept), and the document that produced an output document is picked by its index and
//! `kind:`. Callers follow a key path in it with [`crate::yaml::locate`]. Used by the
//! render's own warnings and by `strata check` (`check::locate`).

use crate::yaml::locate::locate;

/// A template cut into its documents once, for the fields of many objects.
#[derive(Debug, Clone)]
pub struct TemplateDocs {
    docs: Vec<(usize, String)>,
}

impl TemplateDocs {
    pub fn new(text: &str) -> TemplateDocs {
        TemplateDocs { docs: documents(text) }
    }

    /// The document that produced output document `doc` of kind `kind`: (1-based first
    /// line, text with template-only lines blanked). The `doc`-th one when its `kind:` is
    /// the object's (or templated), else the only document whose `kind:` is the object's.
    pub fn document(&self, doc: usize, kind: &str) -> Option<(usize, &str)> {
        pick_document(&self.docs, doc, kind)
    }

    /// 1-based (line, column) of the key path `path` (or its deepest ancestor written)
    /// in the document that produced output document `doc` of kind `kind`.
    pub fn locate(&self, doc: usize, kind: &str, path: &[String]) -> Option<(usize, usize)> {
        let (first_line, body) = self.document(doc, kind)?;
        let (line, col) = locate(body, path)?;
        Some((first_line + line - 1, col))
    }
}

/// The template's documents: (1-based first line, text with template-only lines blanked).
fn documents(text: &str) -> Vec<(usize, String)> {
    let mut out = vec![(1usize, String::new())];
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("---") {
            out.push((i + 2, String::new()));
            continue;
        }
        let Some((_, body)) = out.last_mut() else { continue };
        if !template_only(line) {
            body.push_str(line);
        }
        body.push('\n');
    }
    // A leading `---` (or code before it) leaves an empty first part that renders nothing.
    if out.len() > 1 && out[0].1.trim().is_empty() {
        out.remove(0);
    }
    out
}

/// Whether a line holds only template code, no YAML of its own.
fn template_only(line: &str) -> bool {
    let t = line.trim();
    (t.starts_with("{%") && t.ends_with("%}"))
        || (t.starts_with("{#") && t.ends_with("#}"))
        || (t.starts_with("{{") && t.ends_with("}}"))
}

fn pick_document<'a>(docs: &'a [(usize, String)], doc: usize, kind: &str) -> Option<(usize, &'a str)> {
    let kind_of = |body: &str| -> Option<String> {
        let (line, _) = locate(body, &["kind".to_string()])?;
        let raw = body.lines().nth(line - 1)?.split_once(':')?.1.trim();
        Some(raw.trim_matches(['"', '\'']).to_string())
    };
    let fits = |body: &str| kind_of(body).is_none_or(|k| k == kind || k.contains("{{"));
    if let Some((line, body)) = docs.get(doc).filter(|(_, b)| fits(b)) {
        return Some((*line, body.as_str()));
    }
    let same: Vec<&(usize, String)> = docs.iter().filter(|(_, b)| kind_of(b).as_deref() == Some(kind)).collect();
    match same.as_slice() {
        [(line, body)] => Some((*line, body.as_str())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_the_document_that_made_the_object() {
        let t = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n---\n{% if true %}\nkind: Deployment\nmetadata:\n  annotations:\n    port: {{ Values.port }}\n{% endif %}\n";
        let docs = TemplateDocs::new(t);
        let path = |p: &str| p.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(docs.locate(1, "Deployment", &path("metadata.annotations.port")), Some((10, 5)));
        assert_eq!(docs.locate(0, "Service", &path("metadata.name")), Some((4, 3)));
        // Past the template's documents: the only one of that kind.
        assert_eq!(docs.locate(7, "Deployment", &path("metadata")), Some((8, 1)));
        assert_eq!(docs.locate(7, "ConfigMap", &path("metadata")), None);
    }
}
