//! The layers of one target, in the precedence order of PRODUCT §2.
//!
//! In: the repository, a target, its version's `values.yaml`, a reader for
//! `parameters.yaml` files and the command-line layers. Out: the target's
//! layers, lowest precedence first, ready for [`Values::merge`]:
//!
//! 1. `<version>/values.yaml`
//! 2. `strata.yaml` → `values:` (repo-wide)
//! 3. `strata.yaml` → `environments.<env>.values:`
//! 4. `parameters.yaml` of each directory from the component root down to the
//!    target, outermost first
//! 5. `--values FILE` in order, then `--set`, then `--set-string`
//!    ([`command_line_layers`], built once per compilation)
//!
//! Reading is left to the caller (`parameters`), so that the driver can parse
//! each file once for every target that shares it.

use std::sync::Arc;

use serde_json::Value;

use super::{Layer, LayerKind, Values};
use crate::diag::{Diagnostic, Error};
use crate::repo::{self, Repo, Target};
use crate::source;

/// A values file as read: its text (to point at lines in messages; `None` when
/// there is no file) and its data.
#[derive(Debug, Clone)]
pub struct ValuesFile {
    pub text: Option<Arc<str>>,
    pub data: Arc<Value>,
}

/// Reads and parses one values file of the repository; `None` when it does not exist.
pub type ReadValuesFile<'a> = dyn Fn(&str) -> Result<Option<ValuesFile>, Error> + 'a;

/// Layer 5: every `--values` file (display path, text) in order, then every
/// `--set` expression, then every `--set-string` expression.
pub fn command_line_layers(
    values_files: &[(String, String)],
    set: &[String],
    set_string: &[String],
) -> Result<Vec<Layer>, Error> {
    let mut layers = Vec::new();
    for (path, text) in values_files {
        let data = super::parse_values_file(text, path)?;
        layers.push(Layer {
            kind: LayerKind::ValuesFile,
            origin: Arc::from(path.as_str()),
            text: Some(Arc::from(text.as_str())),
            prefix: vec![],
            data: Arc::new(data),
        });
    }
    // Helm parses every `--set` and `--set-string` into one tree (`set::parse_after`).
    let mut earlier = Value::Object(Default::default());
    for (exprs, typed, flag) in [(set, true, "--set"), (set_string, false, "--set-string")] {
        for e in exprs {
            layers.push(Layer {
                kind: LayerKind::Set,
                origin: Arc::from(format!("{flag} {e}").as_str()),
                text: None,
                prefix: vec![],
                data: Arc::new(super::set::parse_after(e, typed, &mut earlier)?),
            });
        }
    }
    Ok(layers)
}

/// The layers of `target`, lowest precedence first (the module documentation
/// lists them). Every layer must hold a mapping.
pub fn layers_for(
    repo: &Repo,
    target: &Target,
    defaults: ValuesFile,
    parameters: &ReadValuesFile<'_>,
    command_line: &[Layer],
) -> Result<Vec<Layer>, Error> {
    let mut layers = vec![Layer {
        kind: LayerKind::Defaults,
        origin: Arc::from(source::join(&target.version_dir, "values.yaml").as_str()),
        text: defaults.text,
        prefix: vec![],
        data: defaults.data,
    }];
    layers.extend(repo_layers(repo, &target.environment));
    for path in parameter_files(target) {
        if let Some(file) = parameters(&path)? {
            layers.push(Layer {
                kind: LayerKind::Parameters,
                origin: Arc::from(path.as_str()),
                text: file.text,
                prefix: vec![],
                data: file.data,
            });
        }
    }
    layers.extend(command_line.iter().cloned());
    for l in &layers {
        if !l.data.is_object() {
            return Err(Diagnostic::error(format!("values in `{}` must be a mapping", l.origin))
                .at(l.origin.to_string())
                .into());
        }
    }
    Ok(layers)
}

/// The one builder of a target's values: its layers ([`layers_for`]) merged.
/// `strata values`, `check` ([`values_for`]) and the pipeline (which reads each
/// file once for every target sharing it) all build them here; checking them
/// against the version's schema is [`validate_version_schema`].
pub fn merged_for(
    repo: &Repo,
    target: &Target,
    defaults: ValuesFile,
    parameters: &ReadValuesFile<'_>,
    command_line: &[Layer],
) -> Result<Values, Error> {
    Ok(Values::merge(layers_for(repo, target, defaults, parameters, command_line)?))
}

/// The merged values of the one target `selector` names (`frontend/eastus`),
/// with the command-line layers (`--values` files as (display path, text),
/// `--set`, `--set-string`) on top: what `strata values` shows.
pub fn values_of(
    repo: &Repo,
    selector: &str,
    values_files: &[(String, String)],
    set: &[String],
    set_string: &[String],
) -> Result<Values, Error> {
    let targets = repo.select(&[selector.to_string()])?;
    let [target] = targets[..] else {
        let names: Vec<String> = targets.iter().map(|t| t.address()).collect();
        return Err(Diagnostic::error(format!("`{selector}` selects {} targets; name one", targets.len()))
            .hint(format!("one of: {}", names.join(", ")))
            .into());
    };
    values_for(repo, target, &command_line_layers(values_files, set, set_string)?)
}

/// The merged values of `target` read straight from the repository, without
/// rendering: what `strata values` shows, and the values `check` traces a
/// field's value to. Validated against the version's
/// `values.schema.json` like a render.
pub fn values_for(repo: &Repo, target: &Target, command_line: &[Layer]) -> Result<Values, Error> {
    let read = |path: &str| -> Result<Option<ValuesFile>, Error> {
        let Some(text) = repo.fs.read_optional(path)? else { return Ok(None) };
        let data = super::parse_values_file(&text, path)?;
        Ok(Some(ValuesFile { text: Some(Arc::from(text.as_str())), data: Arc::new(data) }))
    };
    let defaults = read(&source::join(&target.version_dir, "values.yaml"))?
        .unwrap_or_else(|| ValuesFile { text: None, data: Arc::new(Value::Object(Default::default())) });
    let values = merged_for(repo, target, defaults, &read, command_line)?;
    let schema = super::ValuesSchema::load(&repo.fs, &target.version_dir)?;
    validate_version_schema(&values, schema.as_ref())?;
    Ok(values)
}

/// Layers 2 and 3: `strata.yaml` `values:` and `environments.<environment>.values:`.
fn repo_layers(repo: &Repo, environment: &str) -> Vec<Layer> {
    let repo_wide = repo.config.values.as_ref().map(|v| (vec!["values".to_string()], v));
    let per_environment = repo
        .config
        .environments
        .get(environment)
        .and_then(|e| e.values.as_ref())
        .map(|v| (vec!["environments".to_string(), environment.to_string(), "values".to_string()], v));
    [repo_wide, per_environment]
        .into_iter()
        .flatten()
        .map(|(prefix, v)| Layer {
            kind: LayerKind::Repo,
            origin: Arc::from(repo::REPO_CONFIG),
            text: repo.config_text.clone(),
            prefix,
            data: Arc::new(v.clone()),
        })
        .collect()
}

/// Layer 4's files ([`Target::parameter_files`]).
pub fn parameter_files(target: &Target) -> Vec<String> {
    target.parameter_files()
}

/// Validates `values` against the version's `values.schema.json`, when it has one.
pub fn validate_version_schema(values: &Values, schema: Option<&super::ValuesSchema>) -> Result<(), Error> {
    let Some(schema) = schema else { return Ok(()) };
    super::validate_schema(values, schema).map_err(Error::many)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Fs, MemorySource};

    fn repo(files: &[(&str, &str)]) -> Repo {
        Repo::load(Fs::new(Arc::new(MemorySource::from_entries(files)))).unwrap()
    }

    #[test]
    fn layers_come_in_the_documented_order() {
        let r = repo(&[
            ("strata.yaml", "values: {a: repo}\nenvironments:\n  prod/west:\n    values: {a: env}\n"),
            ("api/v1/d.yaml", ""),
            ("api/parameters.yaml", "a: component\n"),
            ("api/prod/west/templates", "-> ../../v1"),
            ("api/prod/west/parameters.yaml", "a: target\n"),
        ]);
        let t = r.targets().next().unwrap().clone();
        let read = |path: &str| -> Result<Option<ValuesFile>, Error> {
            let Some(text) = r.fs.read_optional(path)? else { return Ok(None) };
            let data = super::super::parse_values_file(&text, path)?;
            Ok(Some(ValuesFile { text: Some(Arc::from(text.as_str())), data: Arc::new(data) }))
        };
        let defaults = ValuesFile { text: None, data: Arc::new(serde_json::json!({"a": "defaults"})) };
        let cli = command_line_layers(&[("more.yaml".into(), "a: file\n".into())], &["a=set".into()], &["a=1".into()])
            .unwrap();
        let layers = layers_for(&r, &t, defaults, &read, &cli).unwrap();
        let origins: Vec<(&str, LayerKind)> = layers.iter().map(|l| (&*l.origin, l.kind)).collect();
        assert_eq!(
            origins,
            [
                ("api/v1/values.yaml", LayerKind::Defaults),
                ("strata.yaml", LayerKind::Repo),
                ("strata.yaml", LayerKind::Repo),
                ("api/parameters.yaml", LayerKind::Parameters),
                ("api/prod/west/parameters.yaml", LayerKind::Parameters),
                ("more.yaml", LayerKind::ValuesFile),
                ("--set a=set", LayerKind::Set),
                ("--set-string a=1", LayerKind::Set),
            ]
        );
        assert_eq!(layers[2].prefix, ["environments", "prod/west", "values"]);
        assert_eq!(Values::merge(layers).merged["a"], "1");
        assert_eq!(
            parameter_files(&t),
            ["api/parameters.yaml", "api/prod/parameters.yaml", "api/prod/west/parameters.yaml"]
        );
    }
}
