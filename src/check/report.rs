//! Report formats: `text` for people, `json` for tools, `sarif` (2.1.0) for code scanning,
//! `github` for workflow-command annotations. Pure functions of a [`Report`]; byte-stable.

use std::io::Write;

use rayon::prelude::*;
use serde_json::{Value, json};

use super::rules::RULES;
use super::{Finding, Report, Severity};
use crate::diag::Diagnostic;

/// Where a finding points when no column is known: `template:line`, else the
/// template and the document inside it.
fn location(f: &Finding) -> String {
    match f.line {
        Some(line) => format!("{}:{line}", f.template),
        None => format!("{} (document {})", f.template, f.doc + 1),
    }
}

/// A finding as a [`Diagnostic`], rendered by the one renderer in the style of
/// render errors: the template line under the location with the key underlined,
/// a note when that line is the nearest enclosing key rather than the field's
/// own, the values layer that set the value, the object.
pub fn diagnostic(f: &Finding) -> Diagnostic {
    let head = Diagnostic { severity: f.severity, ..Diagnostic::error(format!("{}{}", f.message, field_note(f))) };
    let mut d = head.code(f.rule);
    d = match (f.line, f.column, &f.source_line) {
        (Some(line), Some(col), Some(text)) => {
            let start = col.saturating_sub(1).min(text.chars().count());
            let rest: String = text.chars().skip(start).collect();
            let key_len = rest.find(':').unwrap_or(rest.trim_end().len()).max(1);
            let d = d.at(&f.template).with_line(text, line, col, key_len, "");
            match f.located.as_deref().filter(|at| *at != f.field.to_string()) {
                Some(at) => {
                    d.note(format!("`{}` is not written in the template; this is `{at}`, which holds it", f.field))
                }
                None => d,
            }
        }
        (Some(line), Some(col), None) => d.at_pos(&f.template, line, col),
        (Some(_), None, _) => d.at(location(f)),
        (None, _, _) => d.at(location(f)).note("the template does not show where this field is written"),
    };
    if let Some(v) = &f.value {
        d = d.fact(format!("value set at {v}"));
    }
    d = d.fact(format!("object: {} ({}) in target {}", f.object, f.api_version, f.target));
    match &f.hint {
        Some(h) => d.hint(h),
        None => d,
    }
}

fn field_note(f: &Finding) -> String {
    if f.field.is_root() { String::new() } else { format!(" at `{}`", f.field) }
}

/// The formats `strata check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// [`text`].
    Text,
    /// The report's fields and the counts, as JSON.
    Json,
    /// SARIF 2.1.0: one run, the rules with their why and fix, one result per finding.
    Sarif,
    /// GitHub workflow commands: `::error file=…,line=…,title=…::message`.
    Github,
}

/// The report in `format`, as [`write`] writes it.
pub fn render(report: &Report, format: Format) -> String {
    let mut out = Vec::new();
    write(report, format, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("reports are UTF-8")
}

/// Writes the report in `format` to `out` finding by finding, without holding the
/// whole output (a large repository's report is tens of megabytes).
pub fn write(report: &Report, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    match format {
        Format::Text => {
            write_each(&report.findings, out, |f| diagnostic(f).render() + "\n")?;
            for n in &report.notes {
                writeln!(out, "note: {n}")?;
            }
            writeln!(out, "{}", summary(report))
        }
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &JsonReport { report, errors: report.errors(), warnings: report.warnings() },
            )?;
            out.write_all(b"\n")
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif_document(report))?;
            out.write_all(b"\n")
        }
        Format::Github => write_each(&report.findings, out, github_line),
    }
}

/// Findings made into text in parallel, a chunk at a time (the output is never held
/// whole), and written in their order.
fn write_each(
    findings: &[Box<Finding>],
    out: &mut dyn Write,
    text: impl Fn(&Finding) -> String + Sync,
) -> std::io::Result<()> {
    const CHUNK: usize = 2048;
    for chunk in findings.chunks(CHUNK) {
        let texts: Vec<String> = chunk.par_iter().map(|f| text(f)).collect();
        for t in texts {
            out.write_all(t.as_bytes())?;
        }
    }
    Ok(())
}

/// One block per finding ([`diagnostic`]), then a summary line.
pub fn text(report: &Report) -> String {
    render(report, Format::Text)
}

/// The json report: the report's fields, then the counts.
#[derive(serde::Serialize)]
struct JsonReport<'r> {
    #[serde(flatten)]
    report: &'r Report,
    errors: usize,
    warnings: usize,
}

/// The findings as SARIF results, made one at a time while they are written.
struct SarifResults<'r>(&'r [Box<Finding>]);

impl serde::Serialize for SarifResults<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|f| sarif_result(f)))
    }
}

/// `2 errors, 1 warning in 14 objects`.
pub fn summary(report: &Report) -> String {
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    format!(
        "{}, {} in {}",
        plural(report.errors(), "error"),
        plural(report.warnings(), "warning"),
        plural(report.objects, "object")
    )
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The SARIF document around the results ([`SarifResults`], written as they are made).
fn sarif_document(report: &Report) -> impl serde::Serialize + '_ {
    #[derive(serde::Serialize)]
    struct Doc<'r> {
        #[serde(rename = "$schema")]
        schema: &'static str,
        version: &'static str,
        runs: [Run<'r>; 1],
    }
    #[derive(serde::Serialize)]
    struct Run<'r> {
        tool: Value,
        results: SarifResults<'r>,
    }
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            let level = match r.default {
                super::Level::Error => "error",
                super::Level::Warning => "warning",
                super::Level::Off => "none",
            };
            json!({
                "id": r.name,
                "shortDescription": {"text": r.why},
                "help": {"text": r.fix},
                "defaultConfiguration": {"level": level},
            })
        })
        .collect();
    Doc {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [Run {
            tool: json!({"driver": {
                "name": "strata",
                "informationUri": "https://strata.dev",
                "rules": rules,
            }}),
            results: SarifResults(&report.findings),
        }],
    }
}

fn sarif_result(f: &Finding) -> Value {
    let index = RULES.iter().position(|r| r.name == f.rule).unwrap_or(0);
    let mut physical = json!({"artifactLocation": {"uri": f.template}});
    if let Some(line) = f.line {
        physical["region"] = json!({"startLine": line});
        if let Some(col) = f.column {
            physical["region"]["startColumn"] = json!(col);
        }
    }
    let mut text = format!("{}{} ({} in target {})", f.message, field_note(f), f.object, f.target);
    if let Some(h) = &f.hint {
        text.push_str(&format!("; hint: {h}"));
    }
    json!({
        "ruleId": f.rule,
        "ruleIndex": index,
        "level": sarif_level(f.severity),
        "message": {"text": text},
        "locations": [{
            "physicalLocation": physical,
            "logicalLocations": [{"fullyQualifiedName": format!("{}#{}", f.object, f.field), "kind": "object"}],
        }],
        "partialFingerprints": {"strata/v1": format!("{}|{}|{}|{}", f.rule, f.environment, f.object, f.field)},
    })
}

/// One finding as a workflow command line.
fn github_line(f: &Finding) -> String {
    let mut props = format!("file={}", escape_property(&f.template));
    if let Some(line) = f.line {
        props.push_str(&format!(",line={line}"));
        if let Some(col) = f.column {
            props.push_str(&format!(",col={col}"));
        }
    }
    props.push_str(&format!(",title={}", escape_property(&format!("strata check {} ({})", f.rule, f.target))));
    let msg = format!("{}{} in {}", f.message, field_note(f), f.object);
    format!("::{} {props}::{}\n", f.severity.as_str(), escape_data(&msg))
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{FieldPath, Finding};
    use crate::manifest::ResId;

    fn report() -> Report {
        let object = ResId {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
        };
        let field = FieldPath::root().join(&["spec", "replica"]);
        let f = Finding {
            rule: "schema",
            severity: Severity::Error,
            environment: "eastus".into(),
            target: "api/eastus".into(),
            object,
            api_version: "apps/v1".into(),
            template: "api/v1/deployment.yaml".into(),
            doc: 0,
            field,
            line: Some(7),
            column: Some(3),
            located: Some("spec.replica".into()),
            value: None,
            source_line: Some("  replica: 3".into()),
            message: "unknown field `replica` (did you mean `replicas`?)".into(),
            hint: None,
        };
        Report { findings: vec![Box::new(f)], objects: 3, notes: Vec::new() }
    }

    #[test]
    fn text_names_rule_place_and_object() {
        assert_eq!(
            text(&report()),
            "error[schema]: unknown field `replica` (did you mean `replicas`?) at `spec.replica`\n  --> api/v1/deployment.yaml:7:3\n  |\n7 |   replica: 3\n  |   ^^^^^^^\n   = object: apps/Deployment/shop/web (apps/v1) in target api/eastus\n\n1 error, 0 warnings in 3 objects\n"
        );
    }

    #[test]
    fn text_without_a_line_names_the_document() {
        let mut r = report();
        let f = &mut r.findings[0];
        (f.line, f.column, f.source_line, f.located) = (None, None, None, None);
        f.severity = Severity::Warning;
        f.value = Some("api/eastus/parameters.yaml:2:1".into());
        f.hint = Some("spell it `replicas`".into());
        assert_eq!(
            text(&r),
            "warning[schema]: unknown field `replica` (did you mean `replicas`?) at `spec.replica`\n  --> api/v1/deployment.yaml (document 1)\n   = note: the template does not show where this field is written\n   = value set at api/eastus/parameters.yaml:2:1\n   = object: apps/Deployment/shop/web (apps/v1) in target api/eastus\nhint: spell it `replicas`\n\n0 errors, 1 warning in 3 objects\n"
        );
    }

    #[test]
    fn github_escapes() {
        assert_eq!(
            render(&report(), Format::Github),
            "::error file=api/v1/deployment.yaml,line=7,col=3,title=strata check schema (api/eastus)::unknown field `replica` (did you mean `replicas`?) at `spec.replica` in apps/Deployment/shop/web\n"
        );
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn sarif_shape() {
        let v: Value = serde_json::from_str(&render(&report(), Format::Sarif)).unwrap();
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), RULES.len());
        let r = &run["results"][0];
        assert_eq!(r["ruleId"], "schema");
        assert_eq!(r["level"], "error");
        assert_eq!(r["locations"][0]["physicalLocation"]["region"]["startLine"], 7);
        assert_eq!(run["tool"]["driver"]["rules"][r["ruleIndex"].as_u64().unwrap() as usize]["id"], "schema");
    }

    #[test]
    fn json_has_counts() {
        let v: Value = serde_json::from_str(&render(&report(), Format::Json)).unwrap();
        assert_eq!(v["errors"], 1);
        assert_eq!(v["findings"][0]["field"], "spec.replica");
        assert_eq!(v["findings"][0]["fieldSegments"], json!(["spec", "replica"]));
    }
}
