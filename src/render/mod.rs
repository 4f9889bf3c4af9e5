//! Rendering: minijinja templates of one version, evaluated for one target.
//!
//! In: a version directory and a target's context (merged values, release,
//! component, target, repo, capabilities). Out: [`Resource`]s, each remembering
//! its template and document index. A [`VersionEnv`] is built once per version
//! and shared by every target that uses it: templates are loaded, parsed and
//! compiled once. Rendering is sandboxed (only `Files`, inside the version
//! directory) and bounded (fuel and a recursion limit), with Jinja2's default
//! whitespace rules, no auto-escaping, and strict undefined values.

pub mod context;
pub mod functions;
pub mod locate;
pub mod strings;

use std::ops::Range;
use std::sync::{Arc, LazyLock};

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;

use crate::diag::{Diagnostic, Error, line_col};
use crate::manifest::{Resource, TemplateOrigin};
use crate::source::{self, Fs, SourceInfo};
use crate::yaml;

pub use context::ReadTracker;

/// Names every template sees at the top level.
pub const CONTEXT_NAMES: &[&str] = &["Values", "Release", "Component", "Target", "Repo", "Capabilities", "Files"];

/// Bounds on one template render.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Instructions one template render may execute.
    pub fuel: u64,
    /// How deep macros, includes and imports may nest.
    pub recursion: usize,
    /// How deep `tpl` may nest (a value that renders itself would never end).
    pub tpl_depth: usize,
    /// The widest `indent` / `nindent`.
    pub indent_width: usize,
    /// The most bytes one target's templates may render together
    /// (`strata.yaml` `limits.maxOutputBytes`).
    pub max_output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 50_000_000,
            recursion: 64,
            tpl_depth: 8,
            indent_width: 1024,
            max_output_bytes: crate::repo::config::DEFAULT_MAX_OUTPUT_BYTES,
        }
    }
}

impl Limits {
    /// These limits with what `strata.yaml` `limits:` sets.
    pub fn with_config(self, config: Option<&crate::repo::config::LimitsConfig>) -> Limits {
        Limits { max_output_bytes: crate::repo::config::LimitsConfig::max_output_bytes(config), ..self }
    }
}

/// A template's output, refused once a target's renders pass their byte budget.
struct Budgeted {
    out: Vec<u8>,
    /// Bytes the target may still render.
    left: u64,
    over: bool,
}

impl std::io::Write for Budgeted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.over = true;
            return Err(std::io::Error::other("output limit reached"));
        }
        self.left -= buf.len() as u64;
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The files of a version that are templates: `*.yaml` / `*.yml`, except
/// `values.yaml`, partials (`_*`) and everything under `files/`.
pub fn is_template(rel: &str) -> bool {
    let name = source::file_name(rel);
    (name.ends_with(".yaml") || name.ends_with(".yml"))
        && !name.starts_with('_')
        && name != "values.yaml"
        && name != "values.yml"
        && !rel.starts_with("files/")
        && !rel.split('/').any(|s| s.starts_with('_'))
}

/// One version directory, loaded once: its templates compiled, its defaults parsed.
pub struct VersionEnv {
    pub version_dir: String,
    pub templates: Vec<String>,
    pub defaults: Arc<Value>,
    pub defaults_text: Option<Arc<str>>,
    /// `values.schema.json` if present, compiled (its `$ref`s read through `Fs`).
    pub schema: Option<Arc<crate::values::ValuesSchema>>,
    env: Environment<'static>,
    fs: Fs,
    limits: Limits,
}

impl std::fmt::Debug for VersionEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VersionEnv").field("version_dir", &self.version_dir).finish()
    }
}

/// What one target's templates rendered.
#[derive(Debug, Default)]
pub struct Rendered {
    pub resources: Vec<Resource>,
    /// Label and annotation values that were not strings, each at its template line.
    pub warnings: Vec<Diagnostic>,
}

/// What a target passes to its templates.
pub struct TargetContext<'a> {
    pub values: Arc<Value>,
    pub tracker: Arc<ReadTracker>,
    pub release_name: &'a str,
    pub namespace: &'a str,
    pub component: &'a str,
    pub version: &'a str,
    pub target_name: &'a str,
    pub environment: &'a str,
    pub target_path: &'a str,
    pub repo: &'a SourceInfo,
    pub kube_version: &'a str,
    /// For messages: `frontend/eastus (version v1)`.
    pub address: &'a str,
}

/// `Capabilities.KubeVersion` when `strata.yaml` sets no `kubeVersion`.
pub const DEFAULT_KUBE_VERSION: &str = "1.33.0";

impl<'a> TargetContext<'a> {
    /// The context of `target`: its merged values, the namespace it deploys
    /// into (`Release.Namespace` is `default` without one), the revision the
    /// repository was read from, `strata.yaml`'s `kubeVersion`, and its address
    /// for messages.
    pub fn for_target(
        target: &'a crate::repo::Target,
        values: Arc<Value>,
        tracker: Arc<ReadTracker>,
        namespace: Option<&'a str>,
        repo: &'a SourceInfo,
        kube_version: Option<&'a str>,
        address: &'a str,
    ) -> Self {
        TargetContext {
            values,
            tracker,
            release_name: &target.component,
            namespace: namespace.unwrap_or("default"),
            component: &target.component,
            version: &target.version,
            target_name: source::file_name(&target.environment),
            environment: &target.environment,
            target_path: &target.dir,
            repo,
            kube_version: kube_version.unwrap_or(DEFAULT_KUBE_VERSION),
            address,
        }
    }
}

impl VersionEnv {
    pub fn load(fs: &Fs, version_dir: &str, limits: Limits) -> Result<VersionEnv, Error> {
        let mut files = Vec::new();
        context::walk_files(fs, version_dir, "", &mut files)?;
        let templates: Vec<String> = files.into_iter().filter(|f| is_template(f)).collect();

        let values_path = source::join(version_dir, "values.yaml");
        let (defaults, defaults_text) = match fs.read_optional(&values_path)? {
            Some(text) => (crate::values::parse_values_file(&text, &values_path)?, Some(Arc::from(text.as_str()))),
            None => (Value::Object(Default::default()), None),
        };
        let schema = crate::values::ValuesSchema::load(fs, version_dir)?.map(Arc::new);

        let mut env = Environment::new();
        // Jinja2's default whitespace rules, except that a template's trailing newline is kept.
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_fuel(Some(limits.fuel));
        env.set_recursion_limit(limits.recursion);
        functions::register(&mut env, limits);
        let loader_fs = fs.clone();
        let loader_dir = version_dir.to_string();
        env.set_loader(move |name: &str| load_template(&loader_fs, &loader_dir, name));

        let me = VersionEnv {
            version_dir: version_dir.to_string(),
            templates,
            defaults: Arc::new(defaults),
            defaults_text,
            schema,
            env,
            fs: fs.clone(),
            limits,
        };
        // Compile every template now, once, so syntax errors are reported once per version.
        let mut diags = Vec::new();
        for t in &me.templates {
            if let Err(e) = me.env.get_template(t) {
                // A file the loader could not read (over the size limit, not UTF-8): its own error.
                match fs.read_string(&source::join(version_dir, t)) {
                    Err(d) if e.name().is_none() => diags.push(d),
                    _ => diags.push(me.map_error(&e, None)),
                }
            }
        }
        if !diags.is_empty() {
            return Err(Error::many(diags));
        }
        Ok(me)
    }

    /// Renders every template for one target: the objects, with every label and
    /// annotation value a string ([`strings`]), and a warning for each value that was not.
    pub fn render(&self, cx: &TargetContext<'_>) -> Result<Rendered, Error> {
        let kube = cx.kube_version.trim_start_matches('v');
        let mut parts = kube.split('.');
        let (major, minor) = (parts.next().unwrap_or("1"), parts.next().unwrap_or("0"));
        let ctx = minijinja::context! {
            Values => context::TrackedMap::root(cx.values.clone(), cx.tracker.clone()),
            Release => minijinja::context! { Name => cx.release_name, Namespace => cx.namespace, Revision => 1 },
            Component => minijinja::context! { Name => cx.component, Version => cx.version },
            Target => minijinja::context! { Name => cx.target_name, Environment => cx.environment, Path => cx.target_path },
            Repo => minijinja::context! {
                Commit => cx.repo.commit.clone().unwrap_or_default(),
                Ref => cx.repo.reference.clone().unwrap_or_default(),
                Dirty => cx.repo.dirty,
            },
            Capabilities => minijinja::context! {
                KubeVersion => minijinja::context! { Version => format!("v{kube}"), Major => major, Minor => minor },
            },
            Files => minijinja::Value::from_object(context::FilesObject { fs: self.fs.clone(), version_dir: self.version_dir.clone() }),
        };
        let mut out = Rendered::default();
        let mut diags = Vec::new();
        let mut left = self.limits.max_output_bytes;
        for name in &self.templates {
            let path: Arc<str> = Arc::from(source::join(&self.version_dir, name).as_str());
            let mut sink = Budgeted { out: Vec::new(), left, over: false };
            let rendered = self.env.get_template(name).and_then(|t| t.render_captured_to(&ctx, &mut sink).map(drop));
            if sink.over {
                return Err(self.output_limit(&path, cx).into());
            }
            left = sink.left;
            let text = match rendered {
                Ok(_) => {
                    String::from_utf8(sink.out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
                }
                Err(e) => {
                    diags.push(self.map_error(&e, Some(cx)));
                    continue;
                }
            };
            let mut rs = match parse_rendered(&text, &path) {
                Ok(rs) => rs,
                Err(d) => {
                    diags.push(d.note(format!("rendering {}", cx.address)));
                    continue;
                }
            };
            let source = || self.fs.read_string(&path).ok();
            match strings::labels_and_annotations(&mut rs, &text, &path, source) {
                Ok(warnings) => out.warnings.extend(warnings),
                Err(errors) => diags.extend(errors.into_iter().map(|d| d.note(format!("rendering {}", cx.address)))),
            }
            out.resources.extend(rs);
        }
        if diags.is_empty() { Ok(out) } else { Err(Error::many(diags)) }
    }

    /// The error for a target whose templates render more than `limits.maxOutputBytes`.
    fn output_limit(&self, template: &str, cx: &TargetContext<'_>) -> Diagnostic {
        Diagnostic::error(format!(
            "the templates of {} render more than the limit of {} bytes for one target",
            cx.address, self.limits.max_output_bytes
        ))
        .at(template.to_string())
        .note(format!("`{template}` was rendering when the output passed the limit"))
        .hint("look for a loop that runs away, or raise `limits.maxOutputBytes` in strata.yaml")
    }

    /// Turns a minijinja error into a diagnostic at the template, line and expression.
    fn map_error(&self, e: &minijinja::Error, cx: Option<&TargetContext<'_>>) -> Diagnostic {
        let name = e.name().unwrap_or("<template>");
        let path = if name == "<string>" { self.version_dir.clone() } else { source::join(&self.version_dir, name) };
        let text = self.fs.read_string(&path).ok();
        let range = widen_over_lookups(text.as_deref(), e.range());
        let expr = match (&text, &range) {
            (Some(t), Some(r)) if r.end <= t.len() => t.get(r.clone()).map(|s| s.trim().to_string()),
            _ => None,
        };
        let narrowed = narrow_to_missing_value(e, text.as_deref(), expr.as_deref(), range.clone(), cx);
        let expr = narrowed.as_ref().map(|missing| missing.path.clone()).or(expr);
        let (message, label) = self.describe(e, expr.as_deref());
        let mut d = Diagnostic::error(message).at(path.clone());
        d = point_at(d, &path, text.as_deref(), range, e.line(), narrowed.as_ref(), label);
        if let Some(cx) = cx {
            d = d.note(format!("rendering {}", cx.address));
        }
        self.explain(d, e, expr.as_deref())
    }

    /// The message and the caret's label for an error, by its kind.
    fn describe(&self, e: &minijinja::Error, expr: Option<&str>) -> (String, &'static str) {
        let detail = e.detail().map(str::to_string);
        match e.kind() {
            ErrorKind::UndefinedError => match expr {
                Some(x) => (
                    format!("undefined value `{x}`"),
                    if x.starts_with("Values.") { "not set in any values layer" } else { "undefined" },
                ),
                None => ("undefined value".to_string(), "undefined"),
            },
            ErrorKind::SyntaxError => (format!("template syntax error: {}", detail.unwrap_or_default()), "here"),
            ErrorKind::OutOfFuel => (
                "template does too much work: it ran out of fuel (a runaway loop or recursion?)".to_string(),
                "while evaluating this",
            ),
            ErrorKind::TemplateNotFound => {
                (format!("template not found: {}", detail.unwrap_or_default()), "imported here")
            }
            _ if is_recursion_limit(e) => (
                "template recursion is too deep: a macro, include or import calls itself without end?".to_string(),
                "while evaluating this",
            ),
            _ => (detail.unwrap_or_else(|| e.to_string()), "here"),
        }
    }

    /// The hint for an undefined `Values.…`, and the limit an error ran into.
    fn explain(&self, mut d: Diagnostic, e: &minijinja::Error, expr: Option<&str>) -> Diagnostic {
        if let (ErrorKind::UndefinedError, Some(x)) = (e.kind(), expr)
            && let Some(rest) = x.strip_prefix("Values.")
        {
            let rest = rest.split(['|', ' ']).next().unwrap_or(rest);
            d = d.hint(format!(
                "set `{rest}` in the target's parameters.yaml or in {}/values.yaml, or write `{x} | default(...)`",
                self.version_dir
            ));
        }
        if is_recursion_limit(e) {
            d = d.note(format!("calls may nest {} deep", self.limits.recursion));
        }
        if e.kind() == ErrorKind::OutOfFuel {
            d = d.note(format!("each template may execute {} instructions", in_words(self.limits.fuel)));
        }
        d
    }
}

/// An attribute lookup's range starts at the `.`; widen it over the object it is
/// looked up on (`Values.database.host`).
fn widen_over_lookups(text: Option<&str>, range: Option<Range<usize>>) -> Option<Range<usize>> {
    match (text, range) {
        (Some(t), Some(r)) if r.end <= t.len() && t.is_char_boundary(r.start) => {
            let b = t.as_bytes();
            let mut start = r.start;
            if b.get(start) == Some(&b'.') {
                while start > 0
                    && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_' || b[start - 1] == b'.')
                {
                    start -= 1;
                }
            }
            Some(start..r.end)
        }
        (_, range) => range,
    }
}

/// A `Values.…` path the merged values do not set, at its byte offset in the template.
struct MissingValue {
    offset: usize,
    path: String,
}

/// Narrows an undefined error to the `Values.…` path that is not set, when the
/// failing expression is larger (a filter call with it as argument).
fn narrow_to_missing_value(
    e: &minijinja::Error,
    text: Option<&str>,
    expr: Option<&str>,
    range: Option<Range<usize>>,
    cx: Option<&TargetContext<'_>>,
) -> Option<MissingValue> {
    let (ErrorKind::UndefinedError, Some(x), Some(cx), Some(r)) = (e.kind(), expr, cx, range) else { return None };
    let (off, path) = first_missing_values_path(x, &cx.values)?;
    let lead = text.and_then(|t| t.get(r.clone())).map(|s| s.len() - s.trim_start().len()).unwrap_or(0);
    Some(MissingValue { offset: r.start + lead + off, path })
}

/// Shows the template line with a caret under the failing expression (or the narrowed
/// `Values.…` path), or at least its line.
fn point_at(
    d: Diagnostic,
    path: &str,
    text: Option<&str>,
    range: Option<Range<usize>>,
    line: Option<usize>,
    narrowed: Option<&MissingValue>,
    label: &str,
) -> Diagnostic {
    match (text, range, line) {
        (Some(t), Some(_), _) if narrowed.is_some() => {
            let missing = narrowed.expect("checked");
            let (line, col) = line_col(t, missing.offset);
            d.with_source_line(t, line, col, missing.path.chars().count(), label)
        }
        (Some(t), Some(r), _) if r.start <= t.len() => {
            let (line, col) = line_col(t, r.start);
            let len = t.get(r).map(|s| s.lines().next().unwrap_or("").chars().count()).unwrap_or(1);
            d.with_source_line(t, line, col, len, label)
        }
        (Some(t), None, Some(line)) => d.with_source_line(t, line, 1, 1, label),
        (None, _, Some(line)) => d.at_pos(path.to_string(), line, 1),
        _ => d,
    }
}

/// Whether `e` is the engine's recursion limit. minijinja 3 has no error kind for it
/// (it raises `InvalidOperation`), so the error is recognised by comparison with the
/// one the engine itself raises for a macro that calls itself: no message is written here.
fn is_recursion_limit(e: &minijinja::Error) -> bool {
    static RECURSION_LIMIT: LazyLock<Option<(ErrorKind, String)>> = LazyLock::new(|| {
        let mut env = Environment::new();
        env.set_recursion_limit(1);
        let probe = env.render_str("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", ()).err()?;
        Some((probe.kind(), probe.detail()?.to_string()))
    });
    RECURSION_LIMIT.as_ref().is_some_and(|(kind, detail)| e.kind() == *kind && e.detail() == Some(detail.as_str()))
}

/// `50 million` for a round number of millions, the digits otherwise.
fn in_words(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) { format!("{} million", n / 1_000_000) } else { n.to_string() }
}

/// The first `Values.a.b` path in `expr` that the merged values do not set, with
/// its byte offset in `expr`.
fn first_missing_values_path(expr: &str, values: &Value) -> Option<(usize, String)> {
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(found) = expr[i..].find("Values.") {
        let start = i + found;
        let boundary = start == 0
            || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_' || bytes[start - 1] == b'.');
        let mut end = start + "Values.".len();
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] == b'.') {
            end += 1;
        }
        let path = expr[start..end].trim_end_matches('.');
        if boundary {
            let mut cur = Some(values);
            let mut missing = None;
            let mut len = "Values".len();
            for seg in path.split('.').skip(1) {
                len += 1 + seg.len();
                cur = cur.and_then(|v| v.get(seg));
                if cur.is_none() {
                    missing = Some(len);
                    break;
                }
            }
            if let Some(len) = missing {
                return Some((start, path[..len].to_string()));
            }
        }
        i = end.max(start + 1);
    }
    None
}

fn load_template(fs: &Fs, version_dir: &str, name: &str) -> Result<Option<String>, minijinja::Error> {
    let mut parts = Vec::new();
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(minijinja::Error::new(
                        ErrorKind::InvalidOperation,
                        format!("template `{name}` is outside the version directory"),
                    ));
                }
            }
            s => parts.push(s),
        }
    }
    let path = source::join(version_dir, &parts.join("/"));
    fs.read_optional(&path).map_err(|d| minijinja::Error::new(ErrorKind::InvalidOperation, d.message))
}

/// Splits a template's output into resources; empty documents are dropped.
pub fn parse_rendered(text: &str, template: &Arc<str>) -> Result<Vec<Resource>, Diagnostic> {
    let docs = yaml::parse_documents(text).map_err(|e| {
        let mut d =
            Diagnostic::error(format!("template rendered invalid YAML: {}", e.message)).at(template.to_string());
        if let Some(line) = e.line {
            // The parser often stops at the next line (or the end); show the
            // nearest line with content at or before it.
            let lines: Vec<&str> = text.lines().collect();
            let mut n = line.min(lines.len());
            while n > 1 && lines.get(n - 1).is_none_or(|l| l.trim().is_empty()) {
                n -= 1;
            }
            let shown = lines.get(n.saturating_sub(1)).copied().unwrap_or("");
            d = d.note(format!("line {n} of the rendered output: `{shown}`"));
        }
        d.hint("check the indentation the template produces, e.g. `toYaml | nindent(N)`")
    })?;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        if doc.is_null() || doc.as_object().is_some_and(|m| m.is_empty()) {
            continue;
        }
        for item in crate::manifest::expand_lists(doc) {
            out.push(Resource::new(item, TemplateOrigin { template: template.clone(), doc: i })?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
