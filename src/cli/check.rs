//! `strata check`: validate the rendered objects of the selected targets.

use super::cache::CacheArgs;
use super::revision::{RevisionArgs, on_arg};
use super::{Global, Outcome, ValueLayersArgs};
use crate::check::{self, RepoCheckOptions, report};
use crate::diag::Error;
use crate::pipeline::Options;
use crate::repo::open;

/// Validate rendered objects against the Kubernetes and CRD schemas and named
/// practice rules; each finding points at the template line that produced it.
///
/// Rules (the README's "Checks" table has a why and a fix for each): schema,
/// deprecated-api, server-validation, cel (CRD x-kubernetes-validations),
/// admission-policy (ValidatingAdmissionPolicies), probes, resources,
/// run-as-non-root, privilege-escalation, drop-capabilities, read-only-root-fs,
/// privileged, host-namespaces, image-tag, dangling-service, dangling-reference,
/// missing-namespace, duplicate-env, secret-env-value, secret-literal-data. Severities and exemptions: `strata.yaml` `check:` (rules, crds,
/// external, policies) and, per object, the annotation `strata.dev/ignore-check: "a,b"`.
///
/// Exit status: 0 clean or warnings only, 1 errors found (with --strict,
/// warnings too), 2 bad input (an unknown rule, a target that does not render).
///
/// Examples:
///   strata check --repo example-repo
///   strata check @eastus --rules schema,deprecated-api
///   strata check --format sarif > strata.sarif
///   strata check --format github       # annotations in a GitHub Actions job
///   strata check --ref main --strict
///   strata check --from origin/main     # CRD transition rules, admission on UPDATE
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(mut_args(on_arg("reference", |a| a.help("Check a git revision (tag, branch, commit) instead of the work tree"))))]
#[command(after_help = "Docs: docs/reference/rules.md")]
pub struct CheckArgs {
    /// Targets to check: `component/environment`, `component`, `@environment`,
    /// or a glob like `*/prod/*`. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// Run only these rules (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub rules: Option<Vec<String>>,
    /// Warnings fail the check too (exit 1), a kind without a schema is an error,
    /// and parameters that no template reads are errors.
    #[arg(long)]
    pub strict: bool,
    /// Output format: text (with template snippets), json, sarif (2.1.0), github
    /// (workflow command annotations).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Check as the updates a sync from REV would make: each object also rendered at REV
    /// is an update of it (CRD transition rules reading `oldSelf`, ratcheting; admission
    /// policies with operation UPDATE and `oldObject`), any other a create.
    #[arg(long, value_name = "REV")]
    pub from: Option<String>,
    #[command(flatten)]
    pub revision: RevisionArgs,
    #[command(flatten)]
    pub layers: ValueLayersArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

pub fn run(global: &Global, args: CheckArgs) -> Result<Outcome, Error> {
    let opts = RepoCheckOptions {
        only_rules: args.rules,
        strict: args.strict,
        compile: Options { cache: args.cache.options(), ..args.layers.options(args.strict)? },
    };
    let repo = args.revision.open(global, &args.selectors)?.repo;
    let before = match &args.from {
        Some(rev) => Some(open::open_at(&global.repo, "--from", Some(rev), &args.selectors)?.repo),
        None => None,
    };
    let done = check::check_repo(&repo, before.as_ref(), &args.selectors, &opts)?;
    super::print_warnings(&done.warnings);
    let format = match args.format {
        Format::Text => report::Format::Text,
        Format::Json => report::Format::Json,
        Format::Sarif => report::Format::Sarif,
        Format::Github => report::Format::Github,
    };
    super::write_stdout_with(|out| report::write(&done.report, format, out))?;
    let outcome = if done.report.exit_code(args.strict) == 0 { Outcome::Ok } else { Outcome::Found };
    // The findings go with the process: freeing them one by one (a hundred thousand on a
    // big repository, ~0.1 s) would only delay the exit.
    std::mem::forget(done);
    Ok(outcome)
}
