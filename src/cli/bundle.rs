//! `strata bundle`: write per-environment, apply-ordered bundles.

use std::path::PathBuf;

use super::cache::CacheArgs;
use super::revision::{RevisionArgs, on_arg};
use super::{Global, Outcome, ValuesArgs};
use crate::bundle::{self, BundleOptions, check, write};
use crate::diag::Error;
use crate::pipeline::Options;

/// Write each environment's objects as numbered, apply-ordered YAML files plus
/// an `index.json`, for CI to apply or hand to Argo CD / Flux.
///
/// Layout: `DIR/<environment>/NN-wave-W-<phase>.yaml` (with `--per-target`,
/// `DIR/<component>/<environment>/NN-wave-W-<phase>.yaml`), one file per apply
/// phase (CustomResourceDefinitions, then Namespaces, then everything else, per
/// wave); applying the files in name order applies the objects in order. An
/// environment path like `prod/westus` becomes nested directories. `DIR` is
/// relative to the current directory, not to `--repo`.
///
/// Nothing is written unless everything renders: the bundle is written beside
/// DIR, environment by environment (so that memory holds a few environments'
/// objects, not the repository's), and renamed into place. An existing DIR is
/// replaced only if it is empty or a strata bundle.
///
/// Exit codes: 0 written (or fresh with `--check`), 1 stale with `--check`,
/// 2 bad input.
///
/// Examples:
///   strata bundle --repo example-repo --out dist
///   strata bundle --repo example-repo --out dist @prod/westus
///   strata bundle --repo example-repo --out dist --check
///   strata bundle --repo example-repo --out dist --per-target
///   strata bundle --repo example-repo --explain @eastus
///   strata bundle --repo example-repo --out dist --ref v1.4.0
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(mut_args(on_arg("reference", |a| a.help(
    "Bundle a git revision (tag, branch, commit, `HEAD~2`) instead of the work tree, \
     read straight from git objects: no checkout, the work tree is untouched"
))))]
#[command(after_help = "Docs: docs/guide/ci.md")]
pub struct BundleArgs {
    /// Targets to bundle: `component/environment`, `component`, `@environment`,
    /// or a glob like `*/prod/*`. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// The bundle directory to write (or compare with `--check`).
    #[arg(long, value_name = "DIR", required_unless_present = "explain")]
    pub out: Option<PathBuf>,
    /// Compare DIR with a fresh render instead of writing: list added, removed
    /// and changed files and exit 1 when it is stale. The `source` recorded in
    /// `index.json` (commit, ref, dirty) is reported but not compared.
    #[arg(long, requires = "out")]
    pub check: bool,
    /// Print, per environment and phase file, every object with the rule that
    /// put it there (on stdout).
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub revision: RevisionArgs,
    /// One directory per target, `DIR/<component>/<environment>/NN-...yaml`, instead
    /// of one per environment: what `strata rollout export --format applicationset`
    /// points Argo CD at.
    #[arg(long)]
    pub per_target: bool,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
}

pub fn run(global: &Global, args: BundleArgs) -> Result<Outcome, Error> {
    let repo = args.revision.open(global, &args.selectors)?.repo;
    let targets = repo.select(&args.selectors)?;
    let opts = Options { cache: args.cache.options(), ..args.values.options()? };
    let knobs = BundleOptions { per_target: args.per_target, explain: args.explain };
    let produce = |sink: &mut (dyn bundle::Sink + Send)| -> Result<bundle::Produced, Error> {
        let made = bundle::produce(&repo, &targets, &opts, knobs, sink)?;
        super::print_warnings(&made.warnings);
        if args.explain {
            super::write_stdout(made.explain.as_bytes())?;
        }
        Ok(made)
    };
    let Some(dir) = args.out.as_deref() else {
        produce(&mut bundle::Discard)?;
        return Ok(Outcome::Ok);
    };
    if args.check {
        let mut checker = check::Checker::open(dir)?;
        produce(&mut checker)?;
        let staleness = checker.finish();
        eprint!("{}", staleness.note());
        if !staleness.is_fresh() {
            super::write_stdout(staleness.report().as_bytes())?;
        }
        eprint!("{}", staleness.verdict(dir));
        return Ok(if staleness.is_fresh() { Outcome::Ok } else { Outcome::Found });
    }
    let mut staged = write::Staged::begin(dir)?;
    let made = produce(&mut staged)?;
    let warnings = staged.commit()?;
    super::print_warnings(&warnings);
    eprint!("{}", made.summary(dir, knobs));
    Ok(Outcome::Ok)
}
