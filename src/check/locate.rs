//! Where a finding's field sits in the template that produced its object.
//!
//! The template is cut into its documents by [`TemplateDocs`] (template-only lines
//! blanked, the document picked by index and `kind:`), and [`locate`] follows the field
//! path by indentation. The position is the
//! field's key when it is written in the template, else the nearest enclosing key that is,
//! and nothing when not even the first key is found: never a made-up line.

use super::PathSeg;
use crate::render::locate::TemplateDocs;
use crate::yaml::locate::locate;

/// A field's place in a template: 1-based line and column, and the part of the field
/// path found there (the whole path when the key itself is written in the template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: usize,
    pub column: usize,
    /// How many segments of the field path the position stands for.
    pub depth: usize,
    /// Display of the path found (`spec.template.spec.containers[0]`).
    pub located: String,
}

/// The position of `field` of the object of kind `kind` that is the `doc`-th output document
/// of the template `text`.
#[cfg(test)]
pub fn in_template(text: &str, doc: usize, kind: &str, field: &[PathSeg]) -> Option<Located> {
    Template::new(text).locate(doc, kind, field)
}

/// A template cut into its documents and lines once, for the findings of many objects.
#[derive(Debug, Clone)]
pub struct Template {
    docs: TemplateDocs,
    text: String,
    /// Where each line starts in `text`.
    lines: Vec<usize>,
}

impl Template {
    pub fn new(text: &str) -> Template {
        let lines = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Template { docs: TemplateDocs::new(text), text: text.to_string(), lines }
    }

    /// Line `n` (1-based), without its end.
    pub fn line(&self, n: usize) -> Option<&str> {
        let start = *self.lines.get(n.checked_sub(1)?)?;
        let end = self.lines.get(n).map_or(self.text.len(), |e| e - 1);
        self.text.get(start..end).map(|l| l.trim_end_matches('\r'))
    }

    /// [`in_template`] on this template.
    pub fn locate(&self, doc: usize, kind: &str, field: &[PathSeg]) -> Option<Located> {
        let (first_line, body) = self.docs.document(doc, kind)?;
        in_document(first_line, body, field)
    }
}

fn in_document(first_line: usize, body: &str, field: &[PathSeg]) -> Option<Located> {
    let path: Vec<String> = field
        .iter()
        .map(|s| match s {
            PathSeg::Key(k) => k.clone(),
            PathSeg::Index(i) => i.to_string(),
        })
        .collect();
    // The deepest prefix of the path whose last key is found: each found key moves the position.
    let mut best: Option<((usize, usize), usize)> = None;
    for depth in 1..=path.len() {
        match locate(body, &path[..depth]) {
            Some(at) if written_at(body, at, &field[depth - 1], best.map(|b| b.0)) => best = Some((at, depth)),
            _ => break,
        }
    }
    let ((line, column), depth) = match best {
        Some(b) => b,
        // The whole object: its `kind:` line, when written.
        None if path.is_empty() => (locate(body, &["kind".to_string()])?, 0),
        None => return None,
    };
    let located = super::FieldPath(field[..depth].to_vec()).to_string();
    Some(Located { line: first_line + line - 1, column, depth, located })
}

/// Whether the position [`locate`] gave for a path stands for its last segment: a key is
/// written there (`key:`), or a list item starts there (a position past its parent's).
/// [`locate`] answers with the deepest ancestor it finds, which this tells apart.
fn written_at(body: &str, (line, col): (usize, usize), seg: &PathSeg, parent: Option<(usize, usize)>) -> bool {
    match seg {
        PathSeg::Index(_) => parent != Some((line, col)),
        PathSeg::Key(k) => {
            let Some(text) = body.lines().nth(line - 1) else { return false };
            let rest: String = text.chars().skip(col - 1).collect();
            [k.clone(), format!("\"{k}\""), format!("'{k}'")]
                .iter()
                .any(|q| rest.strip_prefix(q.as_str()).is_some_and(|r| r.trim_start().starts_with(':')))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = "{% import \"h.j2\" as h -%}\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ Release.Name }}\n  labels:\n    {{- h.labels() | nindent(4) }}\nspec:\n  {%- if not Values.autoscaling %}\n  replica: {{ Values.replicas }}\n  {%- endif %}\n  template:\n    spec:\n      containers:\n        - name: app\n          image: x\n";

    const ITEM: &str = "spec:\n  containers:\n    - envFrom:\n      - configMapRef:\n          name: x\n";

    fn keys(path: &str) -> Vec<PathSeg> {
        path.split('.')
            .map(|s| match s.parse::<usize>() {
                Ok(i) => PathSeg::Index(i),
                Err(_) => PathSeg::Key(s.to_string()),
            })
            .collect()
    }

    #[test]
    fn exact_key_in_the_right_document() {
        let at = in_template(TEMPLATE, 1, "Deployment", &keys("spec.replica")).unwrap();
        assert_eq!((at.line, at.column, at.depth), (15, 3, 2));
        assert_eq!(at.located, "spec.replica");
        let at = in_template(TEMPLATE, 1, "Deployment", &keys("spec.template.spec.containers.0.image")).unwrap();
        assert_eq!((at.line, at.depth), (21, 6));
    }

    #[test]
    fn nearest_enclosing_key_when_the_field_is_not_written() {
        let at =
            in_template(TEMPLATE, 1, "Deployment", &keys("spec.template.spec.containers.0.readinessProbe")).unwrap();
        assert_eq!((at.line, at.column), (20, 11));
        assert_eq!(at.located, "spec.template.spec.containers[0]");
        let at = in_template(ITEM, 0, "Pod", &keys("spec.containers.0.envFrom.0.configMapRef.name")).unwrap();
        assert_eq!((at.line, at.column, at.depth), (5, 11, 7));
        let at = in_template(ITEM, 0, "Pod", &keys("spec.containers.0.envFrom.0.configMapRef.optional")).unwrap();
        assert_eq!((at.line, at.column, at.located.as_str()), (4, 9, "spec.containers[0].envFrom[0].configMapRef"));
        let at = in_template(TEMPLATE, 1, "Deployment", &keys("metadata.labels.app")).unwrap();
        assert_eq!((at.line, at.located.as_str()), (11, "metadata.labels"));
    }

    #[test]
    fn lines_by_number_without_their_ends() {
        let t = Template::new("a: 1\r\nb: 2\n\nc: 3");
        let lines: Vec<Option<&str>> = (0..=5).map(|n| t.line(n)).collect();
        assert_eq!(lines, [None, Some("a: 1"), Some("b: 2"), Some(""), Some("c: 3"), None]);
    }

    #[test]
    fn never_invents_a_line() {
        assert_eq!(in_template(TEMPLATE, 1, "Deployment", &keys("status.replicas")), None);
        // The output document index past the template's documents: the only Deployment.
        assert_eq!(in_template(TEMPLATE, 5, "Deployment", &keys("spec.replica")).map(|a| a.line), Some(15));
        assert_eq!(in_template(TEMPLATE, 5, "ConfigMap", &keys("data")), None);
        // The whole object: its kind line.
        assert_eq!(in_template(TEMPLATE, 0, "Service", &[]).map(|a| a.line), Some(3));
    }
}
