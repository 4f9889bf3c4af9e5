//! The generator fields: `configMapGenerator`, `secretGenerator` and
//! `generatorOptions`, checked, with every literal parsed and every file read (through
//! the repository's `Fs`, relative to the target directory) as kustomize reads them.

use super::file::{GeneratorEntry, GeneratorOptionsEntry};
use super::files::{TargetDir, child};
use crate::diag::Diagnostic;
use crate::patch::generators::{Behavior, DataValue, Generator, GeneratorKind};
use crate::source;
use crate::yaml::typed::field_name;

impl TargetDir<'_> {
    /// The generator list at `key_path`, with `generatorOptions` (`global`) merged into
    /// each entry's `options` as kustomize merges them.
    pub fn generators(
        &self,
        key_path: &[String],
        kind: GeneratorKind,
        entries: &[GeneratorEntry],
        global: Option<&GeneratorOptionsEntry>,
    ) -> Result<Vec<Generator>, Diagnostic> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            out.push(self.generator(&child(key_path, i), kind, entry, global)?);
        }
        Ok(out)
    }

    fn generator(
        &self,
        entry_path: &[String],
        kind: GeneratorKind,
        entry: &GeneratorEntry,
        global: Option<&GeneratorOptionsEntry>,
    ) -> Result<Generator, Diagnostic> {
        let Some(name) = entry.name.clone().filter(|n| !n.is_empty()) else {
            return Err(self.err(entry_path, format!("a `{}` entry needs a `name`", entry_path[0])));
        };
        let behavior = match entry.behavior.as_deref() {
            None | Some("") | Some("create") => Behavior::Create,
            Some("merge") => Behavior::Merge,
            Some("replace") => Behavior::Replace,
            Some(other) => {
                return Err(self
                    .err(&child(entry_path, "behavior"), format!("unknown `behavior: {other}`"))
                    .hint("expected `create`, `merge` or `replace`"));
            }
        };
        if kind == GeneratorKind::ConfigMap && entry.type_.is_some() {
            return Err(self
                .err(&child(entry_path, "type"), "`type` is for `secretGenerator` entries")
                .hint("a ConfigMap has no type; remove it"));
        }
        let data = self.generator_data(entry_path, entry)?;
        let Merged { labels, annotations, hash, immutable } = merged_options(entry.options.as_ref(), global);
        Ok(Generator {
            kind,
            entry: field_name(entry_path),
            at: self.span(entry_path),
            name,
            namespace: entry.namespace.clone().filter(|n| !n.is_empty()),
            behavior,
            data,
            secret_type: entry.type_.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| "Opaque".into()),
            labels,
            annotations,
            hash,
            immutable,
        })
    }

    /// The entry's data in kustomize's order of sources (env files, literals, files),
    /// each key once.
    fn generator_data(
        &self,
        entry_path: &[String],
        entry: &GeneratorEntry,
    ) -> Result<Vec<(String, DataValue)>, Diagnostic> {
        let mut out: Vec<(String, DataValue)> = Vec::new();
        let mut add = |key_path: Vec<String>, key: String, value: DataValue| {
            if out.iter().any(|(k, _)| *k == key) {
                return Err(self
                    .err(&key_path, format!("`{}` repeats the key `{key}`", field_name(entry_path)))
                    .hint("each key may come from one literal, file or env file line only"));
            }
            out.push((key, value));
            Ok(())
        };
        let envs = entry.env.iter().map(|e| (child(entry_path, "env"), e));
        let envs =
            envs.chain(entry.envs.iter().flatten().enumerate().map(|(i, e)| (child(&child(entry_path, "envs"), i), e)));
        for (key_path, rel) in envs {
            for (key, value) in self.env_file(&key_path, rel)? {
                add(key_path.clone(), key, DataValue::Text(value))?;
            }
        }
        for (i, lit) in entry.literals.iter().flatten().enumerate() {
            let key_path = child(&child(entry_path, "literals"), i);
            let Some((key, value)) = lit.split_once('=') else {
                return Err(self
                    .err(&key_path, format!("literal `{lit}` is not `KEY=VALUE`"))
                    .hint("write the key, `=`, then the value"));
            };
            if key.is_empty() {
                return Err(self.err(&key_path, format!("literal `{lit}` has an empty key")));
            }
            add(key_path, key.to_string(), DataValue::Text(remove_quotes(value).to_string()))?;
        }
        for (i, spec) in entry.files.iter().flatten().enumerate() {
            let key_path = child(&child(entry_path, "files"), i);
            let (key, rel) = match spec.split('=').collect::<Vec<_>>()[..] {
                [rel] => (source::file_name(rel).to_string(), rel),
                [key, rel] if !key.is_empty() && !rel.is_empty() => (key.to_string(), rel),
                _ => {
                    return Err(self
                        .err(&key_path, format!("`{spec}` is neither a path nor `KEY=PATH`"))
                        .hint("key names and file paths cannot contain `=`"));
                }
            };
            let (_, bytes) = self.read_bytes(&key_path, rel)?;
            let value = match std::str::from_utf8(&bytes) {
                Ok(text) => DataValue::Text(text.to_string()),
                Err(_) => DataValue::Binary(bytes.to_vec()),
            };
            add(key_path, key, value)?;
        }
        Ok(out)
    }

    /// The `KEY=VALUE` lines of an env file, read as kustomize reads them: leading
    /// blanks dropped, `#` comments and blank lines skipped, the value kept as written.
    fn env_file(&self, key_path: &[String], rel: &str) -> Result<Vec<(String, String)>, Diagnostic> {
        let (path, bytes) = self.read_bytes(key_path, rel)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let at = |line: usize, message: String| {
            Diagnostic::error(message).at(path.clone()).with_source_line(&text, line, 1, 1, "").note(format!(
                "env file of `{}` in {}",
                field_name(key_path),
                self.path
            ))
        };
        let mut out = Vec::new();
        for (n, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let raw = if n == 0 { raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw) } else { raw };
            let Ok(line) = std::str::from_utf8(raw) else {
                return Err(at(n + 1, format!("line {} of `{path}` is not UTF-8", n + 1)));
            };
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match line.split_once('=') {
                Some((key, value)) if !key.is_empty() => out.push((key.to_string(), value.to_string())),
                Some(_) => return Err(at(n + 1, format!("line {} of `{path}` has an empty key", n + 1))),
                None => {
                    return Err(at(n + 1, format!("line {} of `{path}` (`{line}`) is not `KEY=VALUE`", n + 1)).hint(
                        "kustomize would read the value from the environment of the build; strata's output depends only on the repository, so write the value",
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// kustomize's `removeQuotes`: one pair of matching surrounding quotes is dropped.
fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') { &s[1..s.len() - 1] } else { s }
}

type Pairs = Vec<(String, String)>;

/// A generator's options once `generatorOptions` is merged in.
struct Merged {
    labels: Pairs,
    annotations: Pairs,
    hash: bool,
    immutable: bool,
}

/// An entry's `options` over `generatorOptions`: the entry wins for labels and
/// annotations; either turns `disableNameSuffixHash` and `immutable` on.
fn merged_options(local: Option<&GeneratorOptionsEntry>, global: Option<&GeneratorOptionsEntry>) -> Merged {
    let pairs = |f: fn(&GeneratorOptionsEntry) -> Option<&Pairs>| {
        let mut out: Pairs = global.and_then(f).cloned().unwrap_or_default();
        for (k, v) in local.and_then(f).into_iter().flatten() {
            out.retain(|(ok, _)| ok != k);
            out.push((k.clone(), v.clone()));
        }
        out
    };
    let flag = |f: fn(&GeneratorOptionsEntry) -> Option<bool>| {
        local.and_then(f).unwrap_or(false) || global.and_then(f).unwrap_or(false)
    };
    Merged {
        labels: pairs(|o| o.labels.as_ref().map(|p| &p.0)),
        annotations: pairs(|o| o.annotations.as_ref().map(|p| &p.0)),
        hash: !flag(|o| o.disable_name_suffix_hash),
        immutable: flag(|o| o.immutable),
    }
}

#[cfg(test)]
mod tests {
    use super::remove_quotes;

    #[test]
    fn quotes_are_removed_only_in_pairs() {
        for (s, want) in [("\"a\"", "a"), ("'a'", "a"), ("\"a'", "\"a'"), ("\"", "\""), ("a", "a"), ("''", "")] {
            assert_eq!(remove_quotes(s), want);
        }
    }
}
