//! `kustomization.yaml`: reading and checking it.
//!
//! In: a target directory, read through the repository's [`Fs`]. Out: a
//! [`Kustomization`] with every patch file read and parsed, or every problem found,
//! each naming the file, line and column. Invariants: every field is either
//! understood or an error (never silently ignored); every file named is read
//! through the repository (relative to the target, never outside the repository).

// Readers return a `Diagnostic` for the one problem they found; errors are built
// once per bad input, never on a hot path, so their size does not matter.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use serde_json::{Map, Value};

use super::fields::{FieldSpec, ImageRule, parse_path};
use super::json6902::{self, JsonPatch};
use super::select::{LabelSelector, Pattern, Selector};
use crate::diag::{Diagnostic, Error};
use crate::manifest::{Resource, SourceSpan, yaml};
use crate::source::{self, EntryKind, Fs};
use crate::values::locate;

pub const FILE_NAME: &str = "kustomization.yaml";

/// The fields strata reads (see [`super::apply`] for the order they apply in).
const FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "patchesStrategicMerge",
    "patches",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "labels",
    "commonLabels",
    "commonAnnotations",
    "patchesJson6902",
    "replicas",
    "images",
];

/// Kustomize fields strata knows and does not support, with what to do instead.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("bases", "list plain YAML files under `resources:`, or move the shared objects into the version's templates"),
    ("components", "move the shared transforms into each target's kustomization.yaml"),
    ("configMapGenerator", "write the ConfigMap as a template in the version directory (`Files.get` reads files)"),
    ("secretGenerator", "write the Secret as a template in the version directory"),
    ("generatorOptions", "generators are not supported"),
    ("generators", "plugins are not supported"),
    ("transformers", "plugins are not supported"),
    ("validators", "plugins are not supported"),
    ("replacements", "set the value in parameters.yaml and use it in the templates"),
    ("vars", "set the value in parameters.yaml and use it in the templates"),
    ("crds", "custom resources merge as plain maps; lists in them are replaced"),
    ("configurations", "custom field specs are not supported; use a patch"),
    ("openapi", "strata uses the built-in Kubernetes merge keys"),
    ("helmCharts", "strata renders templates itself; put the chart's templates in a version directory"),
    ("helmGlobals", "strata renders templates itself"),
    ("buildMetadata", "not supported"),
    ("sortOptions", "strata orders resources itself (see `strata bundle --explain`)"),
];

/// A position in a file, with the text to quote under an error.
#[derive(Debug, Clone)]
pub struct Span {
    pub file: Arc<str>,
    pub text: Arc<str>,
    pub line: usize,
    pub col: usize,
    pub len: usize,
}

impl Span {
    pub fn diag(&self, message: impl Into<String>, label: &str) -> Diagnostic {
        Diagnostic::error(message)
            .at(self.file.to_string())
            .with_source_line(&self.text, self.line, self.col, self.len, label)
    }
}

/// Where a patch's own text sits in its file, to turn positions inside the patch into
/// positions in the file (an inline `patch: |` starts on the line after its key).
#[derive(Debug, Clone)]
pub struct PatchText {
    pub file: Arc<str>,
    pub file_text: Arc<str>,
    pub body: String,
    pub line_offset: usize,
    pub col_offset: usize,
    /// Positions inside `body` map exactly into the file.
    pub exact: bool,
    /// Where to point when nothing better is known.
    pub start: (usize, usize),
}

impl PatchText {
    /// The span in the file of (line, col) inside the patch text.
    pub fn span(&self, pos: Option<(usize, usize)>, len: usize) -> Span {
        let (line, col) = match pos {
            Some((l, c)) if self.exact => (l + self.line_offset, c + self.col_offset),
            _ => self.start,
        };
        Span { file: self.file.clone(), text: self.file_text.clone(), line, col, len }
    }

    /// The span of a key path inside the patch (deepest key found).
    pub fn locate(&self, path: &[String]) -> Span {
        let len = path.last().map(|k| k.chars().count()).unwrap_or(1);
        self.span(locate(&self.body, path), len)
    }
}

/// `options:` of a patch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PatchOptions {
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
}

/// What a patch does.
#[derive(Debug, Clone)]
pub enum PatchBody {
    /// One or more strategic merge patches (documents of one file).
    Strategic(Vec<StrategicDoc>),
    Json(JsonPatch),
}

#[derive(Debug, Clone)]
pub struct StrategicDoc {
    pub body: Value,
    /// 1-based line of the document's first line inside the patch text.
    pub line: usize,
}

/// One patch entry of kustomization.yaml.
#[derive(Debug, Clone)]
pub struct Patch {
    /// How the entry is called in messages: `patches[2]`.
    pub entry: String,
    /// The entry in kustomization.yaml.
    pub at: Span,
    pub target: Option<(Selector, Span)>,
    pub options: PatchOptions,
    pub body: PatchBody,
    pub text: PatchText,
}

/// `labels:` entries.
#[derive(Debug, Clone)]
pub struct LabelRule {
    pub pairs: Vec<(String, String)>,
    pub specs: Vec<FieldSpec>,
}

/// `replicas:` entries.
#[derive(Debug, Clone)]
pub struct ReplicaRule {
    pub name: String,
    pub count: i64,
    pub at: Span,
}

/// A checked kustomization.yaml with every file it names read.
#[derive(Debug, Clone)]
pub struct Kustomization {
    /// Repository-relative path of the file.
    pub path: String,
    pub text: Arc<str>,
    /// Objects from files listed under `resources:`, added to the rendered ones.
    pub resources: Vec<Resource>,
    pub patches_strategic_merge: Vec<Patch>,
    pub patches: Vec<Patch>,
    pub namespace: Option<String>,
    pub name_prefix: String,
    pub name_suffix: String,
    pub labels: Vec<LabelRule>,
    pub common_labels: Vec<(String, String)>,
    pub common_annotations: Vec<(String, String)>,
    pub patches_json6902: Vec<Patch>,
    pub replicas: Vec<ReplicaRule>,
    pub images: Vec<ImageRule>,
}

/// Reads `<dir>/kustomization.yaml` if there is one.
pub fn load(fs: &Fs, dir: &str) -> Result<Option<Kustomization>, Error> {
    let path = source::join(dir, FILE_NAME);
    let Some(text) = fs.read_optional(&path)? else { return Ok(None) };
    parse(fs, dir, &path, &text).map(Some)
}

/// Parses kustomization text whose file is `path` inside target directory `dir`.
pub fn parse(fs: &Fs, dir: &str, path: &str, text: &str) -> Result<Kustomization, Error> {
    let value = yaml::parse_file(text, path)?;
    let doc = Doc { path: Arc::from(path), text: Arc::from(text), fs, dir };
    let mut k = Kustomization {
        path: path.to_string(),
        text: doc.text.clone(),
        resources: Vec::new(),
        patches_strategic_merge: Vec::new(),
        patches: Vec::new(),
        namespace: None,
        name_prefix: String::new(),
        name_suffix: String::new(),
        labels: Vec::new(),
        common_labels: Vec::new(),
        common_annotations: Vec::new(),
        patches_json6902: Vec::new(),
        replicas: Vec::new(),
        images: Vec::new(),
    };
    let top = match &value {
        Value::Null => return Ok(k),
        Value::Object(m) => m,
        _ => return Err(doc.err(&[], "kustomization.yaml must be a mapping of fields").into()),
    };
    let mut diags = Vec::new();
    for (key, v) in top {
        let p = vec![key.clone()];
        let r = match key.as_str() {
            "apiVersion" => doc.string(&p, v).and_then(|s| {
                if s == "kustomize.config.k8s.io/v1beta1" {
                    Ok(())
                } else {
                    Err(doc
                        .err(&p, format!("unsupported `apiVersion: {s}`; expected `kustomize.config.k8s.io/v1beta1`")))
                }
            }),
            "kind" => doc.string(&p, v).and_then(|s| {
                if s == "Kustomization" {
                    Ok(())
                } else {
                    Err(doc.err(&p, format!("unsupported `kind: {s}`; expected `Kustomization`")))
                }
            }),
            // Kustomize ignores a kustomization's own metadata when building; so does strata.
            "metadata" => doc.map(&p, v).map(|_| ()),
            "resources" => doc.resources(&p, v).map(|r| k.resources = r),
            "patchesStrategicMerge" => doc.strategic_merge_list(&p, v).map(|r| k.patches_strategic_merge = r),
            "patches" => doc.patch_list(&p, v).map(|r| k.patches = r),
            "patchesJson6902" => doc.json6902_list(&p, v).map(|r| k.patches_json6902 = r),
            "namespace" => doc.string(&p, v).map(|s| k.namespace = Some(s).filter(|s| !s.is_empty())),
            "namePrefix" => doc.string(&p, v).map(|s| k.name_prefix = s),
            "nameSuffix" => doc.string(&p, v).map(|s| k.name_suffix = s),
            "labels" => doc.label_rules(&p, v).map(|r| k.labels = r),
            "commonLabels" => doc.string_map(&p, v).map(|r| k.common_labels = r),
            "commonAnnotations" => doc.string_map(&p, v).map(|r| k.common_annotations = r),
            "replicas" => doc.replica_rules(&p, v).map(|r| k.replicas = r),
            "images" => doc.image_rules(&p, v).map(|r| k.images = r),
            other => Err(match UNSUPPORTED.iter().find(|(f, _)| *f == other) {
                Some((_, hint)) => {
                    doc.err(&p, format!("kustomize field `{other}` is not supported by strata")).hint(hint.to_string())
                }
                None => unknown_field(&doc, &p, other, FIELDS, "kustomization.yaml"),
            }),
        };
        if let Err(d) = r {
            diags.push(d);
        }
    }
    if diags.is_empty() { Ok(k) } else { Err(Error::many(diags)) }
}

fn unknown_field(doc: &Doc<'_>, p: &[String], field: &str, known: &[&str], what: &str) -> Diagnostic {
    let mut d = doc.err(p, format!("unknown field `{field}` in {what}"));
    if let Some(best) = known
        .iter()
        .filter(|k| edit_distance(k, field) <= 2.max(field.len() / 4))
        .min_by_key(|k| edit_distance(k, field))
    {
        d = d.hint(format!("did you mean `{best}`?"));
    } else {
        d = d
            .hint(format!("the fields are: {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")));
    }
    d
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The file being read, for positions and for reading the files it names.
struct Doc<'a> {
    path: Arc<str>,
    text: Arc<str>,
    fs: &'a Fs,
    dir: &'a str,
}

type R<T> = Result<T, Diagnostic>;

impl Doc<'_> {
    fn span(&self, p: &[String]) -> Span {
        let (line, col) = locate(&self.text, p).unwrap_or((1, 1));
        let len = match p.last() {
            Some(k) if k.parse::<usize>().is_err() => k.chars().count(),
            _ => 1,
        };
        Span { file: self.path.clone(), text: self.text.clone(), line, col, len }
    }

    fn err(&self, p: &[String], message: impl Into<String>) -> Diagnostic {
        self.span(p).diag(message, "")
    }

    fn field_name(p: &[String]) -> String {
        let mut out = String::new();
        for seg in p {
            if seg.parse::<usize>().is_ok() {
                out.push_str(&format!("[{seg}]"));
            } else {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(seg);
            }
        }
        out
    }

    fn string(&self, p: &[String], v: &Value) -> R<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(_) | Value::Bool(_) => Err(self
                .err(p, format!("`{}` must be a string, found `{v}`", Self::field_name(p)))
                .hint(format!("quote the value: \"{v}\""))),
            _ => Err(self.err(p, format!("`{}` must be a string", Self::field_name(p)))),
        }
    }

    fn bool(&self, p: &[String], v: &Value) -> R<bool> {
        v.as_bool().ok_or_else(|| self.err(p, format!("`{}` must be `true` or `false`", Self::field_name(p))))
    }

    fn map<'v>(&self, p: &[String], v: &'v Value) -> R<&'v Map<String, Value>> {
        v.as_object().ok_or_else(|| self.err(p, format!("`{}` must be a mapping", Self::field_name(p))))
    }

    fn list<'v>(&self, p: &[String], v: &'v Value) -> R<&'v [Value]> {
        match v {
            Value::Null => Ok(&[]),
            Value::Array(a) => Ok(a),
            _ => Err(self.err(p, format!("`{}` must be a list", Self::field_name(p)))),
        }
    }

    fn check_fields(&self, p: &[String], m: &Map<String, Value>, known: &[&str], what: &str) -> R<()> {
        for k in m.keys() {
            if !known.contains(&k.as_str()) {
                let mut q = p.to_vec();
                q.push(k.clone());
                return Err(unknown_field(self, &q, k, known, what));
            }
        }
        Ok(())
    }

    fn string_map(&self, p: &[String], v: &Value) -> R<Vec<(String, String)>> {
        if v.is_null() {
            return Ok(Vec::new());
        }
        let m = self.map(p, v)?;
        let mut out = Vec::new();
        for (k, val) in m {
            let mut q = p.to_vec();
            q.push(k.clone());
            out.push((k.clone(), self.string(&q, val)?));
        }
        Ok(out)
    }

    /// A path relative to the target directory, checked to stay inside the repository.
    fn relative_path(&self, p: &[String], rel: &str) -> R<String> {
        if rel.contains("://") || rel.starts_with("github.com/") || rel.starts_with("git@") {
            return Err(self
                .err(p, format!("remote `{rel}` is not supported; strata reads only files inside the repository"))
                .hint("vendor the files into the repository and list them by relative path"));
        }
        if rel.starts_with('/') || rel.get(1..3) == Some(":\\") || rel.get(1..3) == Some(":/") {
            return Err(self
                .err(p, format!("absolute path `{rel}`; paths are relative to the target directory `{}`", self.dir))
                .hint("write the path relative to the directory holding kustomization.yaml"));
        }
        let mut parts: Vec<&str> = self.dir.split('/').filter(|s| !s.is_empty()).collect();
        for seg in rel.split('/') {
            match seg {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(self
                            .err(p, format!("`{rel}` leaves the repository"))
                            .hint("files named in kustomization.yaml must be inside the repository"));
                    }
                }
                s => parts.push(s),
            }
        }
        Ok(parts.join("/"))
    }

    fn read_file(&self, p: &[String], rel: &str) -> R<(String, String)> {
        let path = self.relative_path(p, rel)?;
        match self.fs.kind(&path) {
            Ok(None) => Err(self
                .err(p, format!("`{rel}` does not exist (looked for `{path}`)"))
                .hint(format!("paths are relative to `{}`", if self.dir.is_empty() { "." } else { self.dir }))),
            Ok(Some(EntryKind::Dir)) => Err(self
                .err(p, format!("`{rel}` is a directory; strata reads plain YAML files only"))
                .hint("list the YAML files themselves (other kustomizations are not supported)")),
            Err(d) => Err(d),
            Ok(Some(_)) => {
                let text = self.fs.read_string(&path)?;
                Ok((path, text))
            }
        }
    }

    fn resources(&self, p: &[String], v: &Value) -> R<Vec<Resource>> {
        let mut out = Vec::new();
        for (i, item) in self.list(p, v)?.iter().enumerate() {
            let q = [p, &[i.to_string()]].concat();
            let rel = self.string(&q, item)?;
            let (path, text) = self.read_file(&q, &rel)?;
            let docs = yaml::parse_documents(&text).map_err(|e| e.into_diagnostic(&path, &text))?;
            let template: Arc<str> = Arc::from(path.as_str());
            for (doc, body) in docs.into_iter().enumerate() {
                if body.is_null() {
                    continue;
                }
                out.push(Resource::new(body, SourceSpan { template: template.clone(), doc })?);
            }
        }
        Ok(out)
    }

    /// Where an inline value of key `p` starts, for positions inside it.
    fn inline_text(&self, p: &[String], body: &str) -> PatchText {
        let span = self.span(p);
        let key_line = self.text.lines().nth(span.line.saturating_sub(1)).unwrap_or("");
        // The value follows the key's colon, or the dash of a list item.
        let after = if p.last().is_some_and(|s| s.parse::<usize>().is_ok()) {
            key_line.trim_start().strip_prefix('-').unwrap_or("").trim_start()
        } else {
            key_line.split_once(':').map(|(_, r)| r.trim_start()).unwrap_or("")
        };
        let block = after.starts_with('|') || after.starts_with('>');
        // The content's indentation: the first non-blank line after the key.
        let indent = self
            .text
            .lines()
            .skip(span.line)
            .find(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .unwrap_or(0);
        PatchText {
            file: self.path.clone(),
            file_text: self.text.clone(),
            body: body.to_string(),
            line_offset: span.line,
            col_offset: indent,
            exact: block && after.starts_with('|'),
            start: (span.line, span.col),
        }
    }

    fn file_text(&self, path: &str, text: String) -> PatchText {
        PatchText {
            file: Arc::from(path),
            file_text: Arc::from(text.as_str()),
            body: text,
            line_offset: 0,
            col_offset: 0,
            exact: true,
            start: (1, 1),
        }
    }

    /// Parses patch text as kustomize tells the kinds apart: a list of operations is
    /// a JSON patch; mappings are strategic merge patches.
    fn patch_body(&self, text: &PatchText, want: Option<&str>) -> R<PatchBody> {
        let docs = yaml::parse_documents(&text.body).map_err(|e| {
            let span = text.span(e.line.zip(e.col), 1);
            span.diag(format!("invalid YAML in patch: {}", e.message), "")
        })?;
        let starts = doc_start_lines(&text.body);
        let docs: Vec<(usize, Value)> = docs
            .into_iter()
            .enumerate()
            .filter(|(_, d)| !d.is_null())
            .map(|(i, d)| (starts.get(i).copied().unwrap_or(1), d))
            .collect();
        let Some((_, first)) = docs.first() else {
            return Err(text.span(None, 1).diag("the patch is empty", ""));
        };
        if first.is_array() || want == Some("json") {
            if docs.len() > 1 {
                return Err(text
                    .span(Some((docs[1].0, 1)), 3)
                    .diag("a JSON patch must be a single list of operations", ""));
            }
            let ops = json6902::from_value(first).map_err(|e| {
                let pos = e.op.and_then(|i| locate(&text.body, &[i.to_string()]));
                text.span(pos, 1).diag(e.message, "").hint(
                    "each operation needs `op` (add, remove, replace, move, copy, test), `path`, and `value` or `from`",
                )
            })?;
            return Ok(PatchBody::Json(ops));
        }
        let mut out = Vec::new();
        for (line, d) in docs {
            if !d.is_object() {
                return Err(text.span(Some((line, 1)), 1).diag(
                    "a patch must be a strategic merge patch (a mapping) or a JSON patch (a list of operations)",
                    "",
                ));
            }
            let missing: Vec<&str> =
                [("apiVersion", "/apiVersion"), ("kind", "/kind"), ("metadata.name", "/metadata/name")]
                    .iter()
                    .filter(|(_, ptr)| d.pointer(ptr).and_then(Value::as_str).is_none_or(str::is_empty))
                    .map(|(n, _)| *n)
                    .collect();
            if !missing.is_empty() {
                return Err(text
                    .span(Some((line, 1)), 1)
                    .diag(
                        format!(
                            "strategic merge patch has no {}",
                            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                        ),
                        "",
                    )
                    .hint("kustomize needs `apiVersion`, `kind` and `metadata.name` in every strategic merge patch; with a `target`, the name is not used to select"));
            }
            out.push(StrategicDoc { body: d, line });
        }
        Ok(PatchBody::Strategic(out))
    }

    fn selector(&self, p: &[String], v: &Value) -> R<Selector> {
        let m = self.map(p, v)?;
        const KNOWN: &[&str] =
            &["group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"];
        self.check_fields(p, m, KNOWN, "a patch `target`")?;
        let mut s = Selector::default();
        for (k, val) in m {
            let q = [p, std::slice::from_ref(k)].concat();
            let text = self.string(&q, val)?;
            let bad = |e: String| {
                self.err(&q, e).hint("target fields are regular expressions matched against the whole value")
            };
            match k.as_str() {
                "labelSelector" => s.labels = Some(LabelSelector::parse(&text).map_err(|e| self.err(&q, e))?),
                "annotationSelector" => s.annotations = Some(LabelSelector::parse(&text).map_err(|e| self.err(&q, e))?),
                field => {
                    let pat = Some(Pattern::new(&text).map_err(bad)?);
                    match field {
                        "group" => s.group = pat,
                        "version" => s.version = pat,
                        "kind" => s.kind = pat,
                        "name" => s.name = pat,
                        _ => s.namespace = pat,
                    }
                }
            }
        }
        Ok(s)
    }

    fn patch_list(&self, p: &[String], v: &Value) -> R<Vec<Patch>> {
        let mut out = Vec::new();
        for (i, item) in self.list(p, v)?.iter().enumerate() {
            let q = [p, &[i.to_string()]].concat();
            let m = self.map(&q, item)?;
            self.check_fields(&q, m, &["path", "patch", "target", "options"], "a `patches` entry")?;
            let text = self.patch_source(&q, m)?;
            let mut options = PatchOptions::default();
            if let Some(o) = m.get("options") {
                let oq = [&q[..], &["options".to_string()]].concat();
                let om = self.map(&oq, o)?;
                self.check_fields(&oq, om, &["allowNameChange", "allowKindChange"], "patch `options`")?;
                for (k, val) in om {
                    let b = self.bool(&[&oq[..], std::slice::from_ref(k)].concat(), val)?;
                    if k == "allowNameChange" {
                        options.allow_name_change = b;
                    } else {
                        options.allow_kind_change = b;
                    }
                }
            }
            let target = match m.get("target") {
                Some(t) => {
                    let tq = [&q[..], &["target".to_string()]].concat();
                    Some((self.selector(&tq, t)?, self.span(&tq)))
                }
                None => None,
            };
            let body = self.patch_body(&text, None)?;
            match (&body, &target) {
                (PatchBody::Json(_), None) => {
                    return Err(self
                        .err(&q, format!("`{}` is a JSON patch without a `target`", Self::field_name(&q)))
                        .hint("add `target:` with the kind and name of the objects to patch"));
                }
                (PatchBody::Strategic(docs), Some(_)) if docs.len() > 1 => {
                    return Err(self
                        .err(&q, format!("`{}` has {} strategic merge patches and a `target`", Self::field_name(&q), docs.len()))
                        .hint("give each document its own `patches` entry, or drop `target` to select by each patch's kind and name"));
                }
                _ => {}
            }
            out.push(Patch { entry: Self::field_name(&q), at: self.span(&q), target, options, body, text });
        }
        Ok(out)
    }

    /// `path:` or `patch:`, exactly one of them.
    fn patch_source(&self, q: &[String], m: &Map<String, Value>) -> R<PatchText> {
        match (m.get("path"), m.get("patch")) {
            (Some(_), Some(_)) => {
                Err(self.err(q, format!("`{}` has both `path` and `patch`; give one", Self::field_name(q))))
            }
            (None, None) => Err(self
                .err(q, format!("`{}` has neither `path` nor `patch`", Self::field_name(q)))
                .hint("name a patch file with `path:` or write the patch inline under `patch: |`")),
            (Some(path), None) => {
                let pq = [q, &["path".to_string()]].concat();
                let rel = self.string(&pq, path)?;
                let (file, text) = self.read_file(&pq, &rel)?;
                Ok(self.file_text(&file, text))
            }
            (None, Some(patch)) => {
                let pq = [q, &["patch".to_string()]].concat();
                let body = self.string(&pq, patch)?;
                Ok(self.inline_text(&pq, &body))
            }
        }
    }

    fn strategic_merge_list(&self, p: &[String], v: &Value) -> R<Vec<Patch>> {
        let mut out = Vec::new();
        for (i, item) in self.list(p, v)?.iter().enumerate() {
            let q = [p, &[i.to_string()]].concat();
            let s = self.string(&q, item)?;
            // Kustomize takes an entry holding YAML as an inline patch, anything else as a path.
            let text = if s.contains('\n') {
                self.inline_text(&q, &s)
            } else {
                let (file, text) = self.read_file(&q, &s)?;
                self.file_text(&file, text)
            };
            let body = self.patch_body(&text, Some("strategic"))?;
            if let PatchBody::Json(_) = body {
                return Err(self
                    .err(&q, "`patchesStrategicMerge` holds a JSON patch")
                    .hint("move it to `patches` with a `target`"));
            }
            out.push(Patch {
                entry: Self::field_name(&q),
                at: self.span(&q),
                target: None,
                options: PatchOptions::default(),
                body,
                text,
            });
        }
        Ok(out)
    }

    fn json6902_list(&self, p: &[String], v: &Value) -> R<Vec<Patch>> {
        let mut out = Vec::new();
        for (i, item) in self.list(p, v)?.iter().enumerate() {
            let q = [p, &[i.to_string()]].concat();
            let m = self.map(&q, item)?;
            self.check_fields(&q, m, &["path", "patch", "target"], "a `patchesJson6902` entry")?;
            let tq = [&q[..], &["target".to_string()]].concat();
            let Some(t) = m.get("target") else {
                return Err(self
                    .err(&q, format!("`{}` has no `target`", Self::field_name(&q)))
                    .hint("add `target:` with the kind and name of the object to patch"));
            };
            let text = self.patch_source(&q, m)?;
            let target = Some((self.selector(&tq, t)?, self.span(&tq)));
            let body = self.patch_body(&text, Some("json"))?;
            out.push(Patch {
                entry: Self::field_name(&q),
                at: self.span(&q),
                target,
                options: PatchOptions::default(),
                body,
                text,
            });
        }
        Ok(out)
    }

    fn label_rules(&self, p: &[String], v: &Value) -> R<Vec<LabelRule>> {
        let mut out = Vec::new();
        for (i, item) in self.list(p, v)?.iter().enumerate() {
            let q = [p, &[i.to_string()]].concat();
            let m = self.map(&q, item)?;
            self.check_fields(&q, m, &["pairs", "includeSelectors", "includeTemplates", "fields"], "a `labels` entry")?;
            let sub = |k: &str| [&q[..], &[k.to_string()]].concat();
            let pairs = match m.get("pairs") {
                Some(v) => self.string_map(&sub("pairs"), v)?,
                None => Vec::new(),
            };
            let flag = |k: &str| -> R<bool> { m.get(k).map(|v| self.bool(&sub(k), v)).unwrap_or(Ok(false)) };
            let (selectors, templates) = (flag("includeSelectors")?, flag("includeTemplates")?);
            let mut specs = Vec::new();
            if let Some(fields) = m.get("fields") {
                for (j, f) in self.list(&sub("fields"), fields)?.iter().enumerate() {
                    let fq = [&sub("fields")[..], &[j.to_string()]].concat();
                    specs.push(self.field_spec(&fq, f)?);
                }
            }
            use super::fields::{COMMON_LABELS, METADATA_LABELS, TEMPLATE_LABELS, union};
            let defaults = if selectors {
                union(FieldSpec::table(COMMON_LABELS), FieldSpec::table(TEMPLATE_LABELS))
            } else if templates {
                FieldSpec::table(TEMPLATE_LABELS)
            } else {
                FieldSpec::table(METADATA_LABELS)
            };
            out.push(LabelRule { pairs, specs: union(specs, defaults) });
        }
        Ok(out)
    }

    fn field_spec(&self, q: &[String], v: &Value) -> R<FieldSpec> {
        let m = self.map(q, v)?;
        self.check_fields(q, m, &["path", "group", "version", "kind", "create"], "a field spec")?;
        let get = |k: &str| -> R<String> {
            m.get(k).map(|v| self.string(&[q, &[k.to_string()]].concat(), v)).unwrap_or(Ok(String::new()))
        };
        let path = get("path")?;
        if path.is_empty() {
            return Err(self.err(q, "a field spec needs a `path`"));
        }
        let create = match m.get("create") {
            Some(v) => self.bool(&[q, &["create".to_string()]].concat(), v)?,
            None => false,
        };
        Ok(FieldSpec {
            group: get("group")?,
            version: get("version")?,
            kind: get("kind")?,
            path: parse_path(&path),
            create,
        })
    }

    fn replica_rules(&self, p: &[String], v: &Value) -> R<Vec<ReplicaRule>> {
        let mut out = Vec::new();
        for (i, item) in self.list(p, v)?.iter().enumerate() {
            let q = [p, &[i.to_string()]].concat();
            let m = self.map(&q, item)?;
            self.check_fields(&q, m, &["name", "count"], "a `replicas` entry")?;
            let name = match m.get("name") {
                Some(n) => self.string(&[&q[..], &["name".to_string()]].concat(), n)?,
                None => return Err(self.err(&q, "a `replicas` entry needs a `name`")),
            };
            let cq = [&q[..], &["count".to_string()]].concat();
            let count = match m.get("count") {
                Some(Value::Number(n)) if n.as_i64().is_some_and(|c| c >= 0) => n.as_i64().unwrap_or(0),
                Some(_) => return Err(self.err(&cq, "`count` must be a whole number of replicas (0 or more)")),
                None => return Err(self.err(&q, "a `replicas` entry needs a `count`")),
            };
            out.push(ReplicaRule { name, count, at: self.span(&q) });
        }
        Ok(out)
    }

    fn image_rules(&self, p: &[String], v: &Value) -> R<Vec<ImageRule>> {
        let mut out = Vec::new();
        for (i, item) in self.list(p, v)?.iter().enumerate() {
            let q = [p, &[i.to_string()]].concat();
            let m = self.map(&q, item)?;
            if m.contains_key("tagSuffix") {
                return Err(self
                    .err(&[&q[..], &["tagSuffix".to_string()]].concat(), "`tagSuffix` is not supported by strata")
                    .hint("kustomize 5.5 applies it twice to pod-spec images; give the whole tag with `newTag`"));
            }
            self.check_fields(&q, m, &["name", "newName", "newTag", "digest"], "an `images` entry")?;
            let get = |k: &str| -> R<Option<String>> {
                m.get(k).map(|v| self.string(&[&q[..], &[k.to_string()]].concat(), v).map(Some)).unwrap_or(Ok(None))
            };
            let Some(name) = get("name")? else {
                return Err(self.err(&q, "an `images` entry needs the `name` of the image to change"));
            };
            let rule = ImageRule { name, new_name: get("newName")?, new_tag: get("newTag")?, digest: get("digest")? };
            if rule.new_name.is_none() && rule.new_tag.is_none() && rule.digest.is_none() {
                return Err(self
                    .err(&q, format!("`images` entry for `{}` changes nothing", rule.name))
                    .hint("set `newName`, `newTag` or `digest`"));
            }
            out.push(rule);
        }
        Ok(out)
    }
}

/// 1-based first line of each document of a YAML stream (after a `---` line).
fn doc_start_lines(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    let mut first_content_seen = false;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("---") {
            if first_content_seen {
                starts.push(i + 2);
            } else {
                starts[0] = i + 2;
            }
            first_content_seen = true;
        } else if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
            first_content_seen = true;
        }
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;

    fn load_with(files: &[(&str, &str)]) -> Result<Kustomization, Error> {
        let mut m = MemorySource::new();
        for (p, t) in files {
            m.file(p, t);
        }
        let fs = Fs::new(Arc::new(m));
        load(&fs, "web/prod").map(|k| k.expect("kustomization.yaml is there"))
    }

    /// (kustomization.yaml, message, line:col) — one class of bad input each.
    #[test]
    fn bad_kustomizations_name_the_field_and_line() {
        let cases: &[(&str, &str, (usize, usize))] = &[
            ("kind: Component\n", "unsupported `kind: Component`", (1, 1)),
            ("apiVersion: kustomize.config.k8s.io/v1\n", "unsupported `apiVersion", (1, 1)),
            ("namespace: a\nnamePrefx: p-\n", "unknown field `namePrefx` in kustomization.yaml", (2, 1)),
            ("vars: []\n", "kustomize field `vars` is not supported", (1, 1)),
            ("patches:\n- path: a.yaml\n  patch: x\n", "has both `path` and `patch`", (2, 3)),
            ("patches:\n- target:\n    kind: X\n", "has neither `path` nor `patch`", (2, 3)),
            (
                "patches:\n- patch: |\n    - op: add\n      path: /a\n      value: 1\n",
                "is a JSON patch without a `target`",
                (2, 3),
            ),
            ("patches:\n- target:\n    knd: X\n  patch: x\n", "unknown field `knd` in a patch `target`", (3, 5)),
            ("patches:\n- target:\n    name: \"web-(\"\n  patch: x\n", "invalid regular expression `web-(`", (3, 5)),
            ("patches:\n- target:\n    labelSelector: \"a in (b\"\n  patch: x\n", "unbalanced `(`", (3, 5)),
            ("patches:\n- options:\n    allowNameChange: yes\n  path: p.yaml\n", "must be `true` or `false`", (3, 5)),
            (
                "patches:\n- patch: |\n    kind: Deployment\n    spec: {}\n",
                "strategic merge patch has no `apiVersion`, `metadata.name`",
                (3, 5),
            ),
            (
                "patches:\n- patch: |\n    - op: jump\n      path: /a\n  target:\n    kind: X\n",
                "operation 0 is not a valid JSON patch operation",
                (3, 7),
            ),
            ("patchesJson6902:\n- path: ops.yaml\n", "has no `target`", (2, 3)),
            ("resources:\n- https://github.com/x/y\n", "remote `https://github.com/x/y` is not supported", (2, 3)),
            ("resources:\n- /etc/passwd\n", "absolute path `/etc/passwd`", (2, 3)),
            ("resources:\n- ../../..\n", "leaves the repository", (2, 3)),
            ("resources:\n- ../v1\n", "is a directory", (2, 3)),
            ("replicas:\n- name: web\n  count: -1\n", "`count` must be a whole number", (3, 3)),
            ("replicas:\n- count: 2\n", "needs a `name`", (2, 3)),
            ("images:\n- name: nginx\n", "changes nothing", (2, 3)),
            ("images:\n- name: nginx\n  tagSuffix: -x\n", "`tagSuffix` is not supported", (3, 3)),
            ("commonLabels:\n  version: 2\n", "`commonLabels.version` must be a string, found `2`", (2, 3)),
            ("labels:\n- pairs: {a: b}\n  includeSelector: true\n", "unknown field `includeSelector`", (3, 3)),
            ("namespace: [a]\n", "`namespace` must be a string", (1, 1)),
            ("- a\n", "must be a mapping of fields", (1, 1)),
        ];
        for (text, want, (line, col)) in cases {
            let files = [
                ("web/prod/kustomization.yaml", *text),
                ("web/prod/p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"),
                ("web/v1/x.yaml", ""),
            ];
            let e = match load_with(&files) {
                Ok(_) => panic!("accepted: {text}"),
                Err(e) => e,
            };
            let d = &e.diagnostics[0];
            assert!(d.message.contains(want), "{text}\n  got: {}\n  wanted: {want}", d.message);
            assert_eq!(d.path.as_deref(), Some("web/prod/kustomization.yaml"), "{text}");
            let pos = d.pos.map(|p| (p.line, p.col));
            assert_eq!(pos, Some((*line, *col)), "{text}: {}", d.message);
        }
    }

    #[test]
    fn every_problem_of_the_file_is_reported() {
        let e = load_with(&[("web/prod/kustomization.yaml", "bases: []\nnamePrefix: 1\nfoo: bar\n")]).unwrap_err();
        assert_eq!(e.diagnostics.len(), 3, "{}", e.messages());
    }

    #[test]
    fn files_are_read_relative_to_the_target() {
        let k = load_with(&[
            (
                "web/prod/kustomization.yaml",
                "resources:\n- ../shared/extra.yaml\npatches:\n- path: patches/p.yaml\npatchesStrategicMerge:\n- |-\n  apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n",
            ),
            ("web/shared/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n---\n"),
            ("web/prod/patches/p.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"),
        ])
        .unwrap();
        assert_eq!(k.resources.len(), 1);
        assert_eq!(&*k.resources[0].source.template, "web/shared/extra.yaml");
        assert_eq!(&*k.patches[0].text.file, "web/prod/patches/p.yaml");
        // The inline patch's lines map into kustomization.yaml (line 7 is its `apiVersion`).
        assert_eq!(k.patches_strategic_merge[0].text.span(Some((1, 1)), 1).line, 7);
    }

    #[test]
    fn missing_patch_files_name_the_resolved_path() {
        let e = load_with(&[("web/prod/kustomization.yaml", "patches:\n- path: nope.yaml\n")]).unwrap_err();
        assert!(
            e.messages().contains("`nope.yaml` does not exist (looked for `web/prod/nope.yaml`)"),
            "{}",
            e.messages()
        );
    }
}
