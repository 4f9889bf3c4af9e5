//! `strata check` on a repository: the selected targets compiled by the pipeline, their
//! objects grouped per environment, the `check:` block of `strata.yaml` validated (each
//! problem at its line), the files of `check.crds` read through the repository's [`Fs`],
//! the engine run, and each finding located in its template ([`super::locate`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;

use super::config::{CheckConfig, CheckOptions, KubeVersion};
use super::{CheckEnvironment, Finding, Report, locate};
use crate::compiled::CompiledTarget;
use crate::diag::{Diagnostic, Error};
use crate::pipeline::{self, Options};
use crate::repo::Repo;
use crate::source::Fs;
use crate::values;
use crate::yaml;

/// What `strata check` asks for beyond the selectors.
#[derive(Debug, Clone, Default)]
pub struct RepoCheckOptions {
    /// `--rules`: run only these rules.
    pub only_rules: Option<Vec<String>>,
    /// `--strict`: warnings fail the run and a kind without a schema is an error.
    pub strict: bool,
    /// How the targets are compiled (values files, `--set`, unread parameters).
    pub compile: Options,
}

/// A finished check: the report and the warnings of the compilation.
#[derive(Debug)]
pub struct RepoCheck {
    pub report: Report,
    pub warnings: Vec<Diagnostic>,
}

/// Checks the targets `selectors` choose: as creates, or with `before` (`--from REV`) each
/// object found among the same targets rendered there as an update of it. Bad input (a
/// configuration problem, an unknown rule, a target that does not render) is an error;
/// findings are in the report.
pub fn check_repo(
    repo: &Repo,
    before: Option<&Repo>,
    selectors: &[String],
    opts: &RepoCheckOptions,
) -> Result<RepoCheck, Error> {
    let config = repo.config.check.clone().unwrap_or_default();
    config_problems(repo, &config)?;
    let mut check_opts = CheckOptions {
        only_rules: opts.only_rules.clone(),
        strict: opts.strict,
        kube_version: repo.config.kube_version.as_deref().and_then(KubeVersion::parse),
        extra_crds: Vec::new(),
        extra_policies: Vec::new(),
        memo: Default::default(),
    };
    let problems = check_opts.problems();
    if !problems.is_empty() {
        return Err(Error::many(problems));
    }
    (check_opts.extra_crds, check_opts.extra_policies) = read_extra(repo, &config)?;
    let targets = repo.select(selectors)?;
    let Some(old) = before else {
        // Batch by batch of environments, as `strata bundle`: the objects of one batch are
        // held at a time, and a batch is checked while the next renders. Findings are
        // located once all are in: a template line found in every environment is located once.
        let mut reports = Vec::new();
        let streamed = pipeline::compile_each(repo, &targets, &opts.compile, |batch| {
            let environments = check_environments(batch.environments(), None);
            reports.push(super::run(&environments, &config, &check_opts));
        })?;
        let mut report = super::engine::merge(reports);
        locate_findings(&repo.fs, &mut report);
        value_origins(repo, &opts.compile, &mut report)?;
        return Ok(RepoCheck { report, warnings: streamed.warnings });
    };
    let compiled = pipeline::compile(repo, &targets, &opts.compile)?;
    let (old_targets, _) = crate::repo::select_both(old, repo, selectors)?;
    let previous = pipeline::compile(old, &old_targets, &opts.compile)?;
    let environments = check_environments(compiled.environments(), Some(&previous.environments()));
    let mut report = super::run(&environments, &config, &check_opts);
    locate_findings(&repo.fs, &mut report);
    value_origins(repo, &opts.compile, &mut report)?;
    Ok(RepoCheck { report, warnings: compiled.warnings.clone() })
}

/// The environments of a compilation as the engine takes them, each with its objects as
/// rendered at `previous` (`--from REV`) when given.
fn check_environments<'a>(
    environments: BTreeMap<&'a str, Vec<&'a CompiledTarget>>,
    previous: Option<&BTreeMap<&'a str, Vec<&'a CompiledTarget>>>,
) -> Vec<CheckEnvironment<'a>> {
    environments
        .into_iter()
        .map(|(name, ts)| CheckEnvironment {
            name: name.to_string(),
            objects: ts.iter().flat_map(|t| t.resources.iter().map(|r| (t.target.address(), r))).collect(),
            previous: previous.map(|envs| {
                let old = envs.get(name).into_iter().flatten();
                old.flat_map(|t| t.resources.iter().map(|r| (&r.id, r))).collect()
            }),
        })
        .collect()
}

/// Checks objects already compiled (the renders of a comparison, `strata review`)
/// with the repository's `check:` settings, each finding located in its template.
/// In the environments named in `partial` only some targets were rendered: the
/// cross-object rules ([`super::references::CROSS_OBJECT_RULES`]) are left out there.
pub fn check_compiled(
    repo: &Repo,
    compiled: &crate::compiled::Compiled,
    partial: &BTreeSet<String>,
) -> Result<Report, Error> {
    let config = repo.config.check.clone().unwrap_or_default();
    config_problems(repo, &config)?;
    let mut opts = CheckOptions {
        only_rules: None,
        strict: false,
        kube_version: repo.config.kube_version.as_deref().and_then(KubeVersion::parse),
        extra_crds: Vec::new(),
        extra_policies: Vec::new(),
        memo: Default::default(),
    };
    (opts.extra_crds, opts.extra_policies) = read_extra(repo, &config)?;
    let per_object: Vec<String> = super::rules::RULES
        .iter()
        .map(|r| r.name.to_string())
        .filter(|r| !super::references::CROSS_OBJECT_RULES.contains(&r.as_str()))
        .collect();
    let partial_opts = CheckOptions { only_rules: Some(per_object), ..opts.clone() };
    let (mut whole, mut part): (Vec<CheckEnvironment<'_>>, Vec<CheckEnvironment<'_>>) = (Vec::new(), Vec::new());
    for (name, ts) in compiled.environments() {
        let objects = ts.iter().flat_map(|t| t.resources.iter().map(|r| (t.target.address(), r))).collect();
        let env = CheckEnvironment { name: name.to_string(), objects, previous: None };
        if partial.contains(name) { part.push(env) } else { whole.push(env) }
    }
    let mut report = super::run(&whole, &config, &opts);
    let rest = super::run(&part, &config, &partial_opts);
    report.findings.extend(rest.findings);
    report.objects += rest.objects;
    locate_findings(&repo.fs, &mut report);
    Ok(report)
}

/// The problems of `strata.yaml` `check:`, each at its line.
fn config_problems(repo: &Repo, config: &CheckConfig) -> Result<(), Error> {
    let text = repo.config_text.as_deref();
    let diags: Vec<Diagnostic> =
        config.problems_at().into_iter().map(|(path, d)| at_config_line(d, text, &path)).collect();
    if diags.is_empty() { Ok(()) } else { Err(Error::many(diags)) }
}

/// `d` pointed at `strata.yaml`, at the key `path` when the text has it.
fn at_config_line(d: Diagnostic, text: Option<&str>, path: &[String]) -> Diagnostic {
    let d = d.at("strata.yaml");
    match text.and_then(|t| yaml::locate::locate(t, path).map(|(l, c)| (t, l, c))) {
        Some((t, line, col)) => {
            let len = path.last().map_or(1, |k| k.chars().count());
            d.with_source_line(t, line, col, len, "")
        }
        None => d,
    }
}

/// The CRDs of `check.crds` and the admission policies and bindings of `check.policies`.
fn read_extra(repo: &Repo, config: &CheckConfig) -> Result<(Vec<serde_json::Value>, Vec<serde_json::Value>), Error> {
    let text = repo.config_text.as_deref();
    let crds = read_kinds(&repo.fs, "crds", &config.crds, text, &["CustomResourceDefinition"])?;
    let policy_kinds = ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"];
    let policies = read_kinds(&repo.fs, "policies", &config.policies, text, &policy_kinds)?;
    Ok((crds, policies))
}

/// The objects of the given kinds in the files of `check.<key>` (other objects are ignored):
/// CRDs of `check.crds`, admission policies and bindings of `check.policies`.
fn read_kinds(
    fs: &Fs,
    key: &str,
    paths: &[String],
    config_text: Option<&str>,
    kinds: &[&str],
) -> Result<Vec<serde_json::Value>, Error> {
    let mut out = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let at = ["check".to_string(), key.to_string(), i.to_string()];
        let text = fs.read_string(path).map_err(|e| {
            let d = Diagnostic::error(format!("cannot read `check.{key}` file `{path}`: {}", e.message))
                .hint("list paths relative to the repository root");
            Error::from(at_config_line(d, config_text, &at))
        })?;
        let docs = yaml::parse::parse_documents(&text).map_err(|e| Error::from(e.into_diagnostic(path, &text)))?;
        out.extend(
            docs.into_iter().filter(|d| d.get("kind").and_then(|k| k.as_str()).is_some_and(|k| kinds.contains(&k))),
        );
    }
    Ok(out)
}

/// Fills each finding's line, column and source line from its template's text (each
/// template read once; each place — template, document, kind, field — located once, in
/// parallel: the findings of one template line in every environment share it).
fn locate_findings(fs: &Fs, report: &mut Report) {
    type Place<'a> = (&'a str, usize, &'a str, &'a [super::PathSeg]);
    fn place_of(f: &Finding) -> Place<'_> {
        (f.template.as_str(), f.doc, f.object.kind.as_str(), f.field.0.as_slice())
    }
    // Each finding's place, as an index into the distinct places.
    let mut index: HashMap<Place<'_>, usize> = HashMap::new();
    let of_finding: Vec<usize> = report
        .findings
        .iter()
        .map(|f| {
            let next = index.len();
            *index.entry(place_of(f)).or_insert(next)
        })
        .collect();
    let mut places: Vec<Place<'_>> = vec![("", 0, "", &[]); index.len()];
    for (p, i) in index {
        places[i] = p;
    }
    let names: BTreeSet<&str> = places.iter().map(|p| p.0).collect();
    let texts: HashMap<&str, locate::Template> = names
        .into_par_iter()
        .filter_map(|t| fs.read_string(t).ok().map(|text| (t, locate::Template::new(&text))))
        .collect();
    // A place's strings are shared by its findings (the same template line in every
    // environment: thousands of findings, one copy).
    type Spot = (usize, usize, std::sync::Arc<str>, Option<std::sync::Arc<str>>);
    let spots: Vec<Option<Spot>> = places
        .par_iter()
        .map(|&(template, doc, kind, field)| {
            let template = texts.get(template)?;
            let at = template.locate(doc, kind, field)?;
            let source = template.line(at.line).map(std::sync::Arc::from);
            Some((at.line, at.column, std::sync::Arc::from(at.located), source))
        })
        .collect();
    report.findings.par_iter_mut().zip(of_finding).for_each(|(f, i)| {
        let Some((line, column, located, source)) = &spots[i] else { return };
        f.line = Some(*line);
        f.column = Some(*column);
        f.located = Some(located.clone());
        f.source_line = source.clone();
    });
}

/// For findings whose template line writes the field's value as one value
/// (`key: {{ Values.a.b }}`, filters allowed), the values file and line that set it.
/// The values are built as `strata values` builds them ([`values::values_for`]);
/// a problem building them is an error, as it is when rendering.
fn value_origins(repo: &Repo, compile: &Options, report: &mut Report) -> Result<(), Error> {
    let command_line = values::command_line_layers(&compile.values_files, &compile.set, &compile.set_string)?;
    let mut by_target: HashMap<String, Option<values::Values>> = HashMap::new();
    for f in &mut report.findings {
        if f.located.as_deref() != Some(f.field.to_string().as_str()) {
            continue;
        }
        let Some(path) = f.source_line.as_deref().and_then(single_value) else { continue };
        if !by_target.contains_key(&f.target) {
            let target = repo.targets().find(|t| t.address() == f.target);
            let merged = target.map(|t| values::values_for(repo, t, &command_line)).transpose()?;
            by_target.insert(f.target.clone(), merged);
        }
        let Some(layer) = by_target[&f.target].as_ref().and_then(|v| v.origin_of(&path)) else { continue };
        f.value = Some(layer.describe(&path));
    }
    Ok(())
}

/// The value path of a template line whose value is one `{{ Values.a.b }}` expression.
fn single_value(line: &str) -> Option<Vec<String>> {
    let t = line.trim().trim_start_matches("- ");
    let value = t.split_once(": ").map_or(t, |(_, v)| v).trim().trim_matches(['"', '\'']);
    let inner = value.strip_prefix("{{")?.strip_suffix("}}")?.trim_matches('-').trim();
    let expr = inner.split('|').next()?.trim();
    let path = expr.strip_prefix("Values.")?;
    let ok = path.split('.').all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    (ok && !value[2..].contains("{{")).then(|| path.split('.').map(String::from).collect())
}

#[cfg(test)]
mod tests {
    use super::single_value;

    #[test]
    fn single_value_expressions() {
        let p = |l: &str| single_value(l).map(|v| v.join("."));
        assert_eq!(p("  replica: {{ Values.replicas }}").as_deref(), Some("replicas"));
        assert_eq!(p("  name: \"{{- Values.image.tag | quote }}\"").as_deref(), Some("image.tag"));
        assert_eq!(p("  image: {{ Values.repo }}:{{ Values.tag }}"), None);
        assert_eq!(p("  name: {{ Release.Name }}"), None);
        assert_eq!(p("  replicas: 3"), None);
    }
}
