//! `strata hydrate`: each environment's bundle committed to its branch.

use std::fmt::Write as _;
use std::path::PathBuf;

use super::revision::{RevisionArgs, on_arg};
use super::{Global, Outcome};
use crate::diag::Error;
use crate::hydrate::{self, HydrateOptions, Hydrated};

/// Commit each environment's bundle to its branch (the rendered manifests
/// pattern), from git objects only: the work tree, index and HEAD stay as they are.
///
/// For each selected environment, a commit on `--branch` (default
/// `env/{environment}`) whose tree at `--path` (default: the branch's root) is
/// exactly what `strata bundle --out DIR @ENVIRONMENT` writes (`index.json`
/// included, the files under `ENVIRONMENT/`), plus `hydrator.metadata` and a
/// short `README.md` in the fields and words of Argo CD's source hydrator.
/// Stale files under the path are removed; files elsewhere on the branch are
/// kept (and counted). No commit when the bundle is unchanged ("unchanged",
/// exit 0: `README.md`, `hydrator.metadata` and `index.json`'s `source` do not
/// count). The parent is the branch's tip; the message names the source commit
/// and its subject, with `Argocd-reference-commit-*` trailers; author and
/// committer are git config's identity (or `--committer`) at the source
/// commit's date, so hydrating a commit twice writes the same commit.
///
/// Every object is written before any branch moves; the branches move in one
/// reference transaction, each expecting the tip it was built on (a branch
/// moved meanwhile fails the run and nothing is overwritten). `--push REMOTE`
/// then runs one `git push --atomic` with `--force-with-lease` per branch (git
/// must be on PATH: gix cannot push); with `--push`, a branch builds on
/// `REMOTE/BRANCH` as last fetched.
///
/// Selectors pick environments: an environment with a selected target is
/// hydrated whole. Without `--ref`, `HEAD` is hydrated and uncommitted changes
/// are refused (`--allow-dirty` hydrates `HEAD` without them). A plaintext
/// Secret (`data` / `stringData`) is refused, naming its template, unless it
/// is declared in `strata.yaml` `check.external` or `--allow-secrets` is given.
///
/// Exit codes: 0 hydrated or unchanged, 2 bad input, a refused push or a
/// branch moved meanwhile.
///
/// Examples:
///   strata hydrate
///   strata hydrate @eastus --ref v1.4.0
///   strata hydrate --branch deploy --path 'clusters/{environment}'
///   strata hydrate --into ../deploy-repo --push origin --sign
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(mut_args(on_arg("reference", |a| a.help(
    "Hydrate this git revision (tag, branch, commit); default `HEAD`"
))))]
#[command(after_help = "Docs: docs/guide/ci.md")]
pub struct HydrateArgs {
    /// Environments to hydrate: `@environment`, `component/environment`, a glob;
    /// none means every environment.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    #[command(flatten)]
    pub revision: RevisionArgs,
    /// The branch of each environment; `{environment}` is replaced.
    #[arg(long, value_name = "TEMPLATE", default_value = "env/{environment}")]
    pub branch: String,
    /// Where the bundle goes on its branch (default: the root); `{environment}` is replaced.
    #[arg(long, value_name = "TEMPLATE", default_value = "")]
    pub path: String,
    /// Write the branches into this local repository (a "deploy" repository) instead.
    #[arg(long, value_name = "PATH")]
    pub into: Option<PathBuf>,
    /// Hydrate `HEAD` even though the work tree has uncommitted changes.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Push every moved branch to REMOTE in one atomic push.
    #[arg(long, value_name = "REMOTE")]
    pub push: Option<String>,
    #[command(flatten)]
    pub cache: super::cache::CacheArgs,
    /// Sign the commits as `git commit -S` would (`gpg.format` ssh or openpgp).
    #[arg(long)]
    pub sign: bool,
    /// The committer, `Name <email>` (default: git config `user.name` / `user.email`).
    #[arg(long, value_name = "NAME <EMAIL>")]
    pub committer: Option<String>,
    /// The source repository's URL in `hydrator.metadata` (default: `remote.origin.url`).
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
    /// Commit plaintext Secrets too.
    #[arg(long)]
    pub allow_secrets: bool,
    /// Write `BRANCH-next` instead (started at `BRANCH`), and print per hydrated
    /// path a pull-request body for merging it into `BRANCH`: checks, rollout
    /// plan and rendered diff, under 60,000 characters. Each body starts with
    /// `<!-- strata hydrate --next: BRANCH-next -> BRANCH -->`.
    #[arg(long)]
    pub next: bool,
}

pub fn run(global: &Global, args: HydrateArgs) -> Result<Outcome, Error> {
    let opts = HydrateOptions {
        reference: args.revision.reference.clone(),
        branch: args.branch.clone(),
        path: args.path.clone(),
        into: args.into.clone(),
        allow_dirty: args.allow_dirty,
        push: args.push.clone(),
        sign: args.sign,
        committer: args.committer.clone(),
        repo_url: args.repo_url.clone(),
        allow_secrets: args.allow_secrets,
        next: args.next,
        cache: args.cache.options(),
    };
    let done = hydrate::hydrate(&global.repo, &args.selectors, &opts)?;
    super::print_warnings(&done.warnings);
    eprint!("{}", summary(&done));
    let bodies: Vec<&str> = done.bodies.iter().map(|(_, body)| body.as_str()).collect();
    if !bodies.is_empty() {
        super::write_stdout(bodies.join("\n").as_bytes())?;
    }
    Ok(Outcome::Ok)
}

/// One line per branch, for stderr.
fn summary(done: &Hydrated) -> String {
    let short = |id: &gix::ObjectId| id.to_hex_with_len(12).to_string();
    let mut out = String::new();
    for b in &done.branches {
        let envs: Vec<&str> = b.places.iter().flat_map(|p| p.environments.iter().map(String::as_str)).collect();
        let what = format!("`{}` ({})", b.name, envs.join(", "));
        match (b.new, b.base) {
            (None, _) if b.already => {
                let _ = write!(out, "{what}: unchanged (hydrated from this commit already)");
            }
            (None, _) => {
                let _ = write!(out, "{what}: unchanged");
            }
            (Some(new), Some(old)) => {
                let _ = write!(out, "{what}: {} -> {}", short(&old), short(&new));
            }
            (Some(new), None) => {
                let _ = write!(out, "{what}: new at {}", short(&new));
            }
        }
        if b.kept > 0 {
            let _ =
                write!(out, "; kept {} file{} outside the hydrated paths", b.kept, if b.kept == 1 { "" } else { "s" });
        }
        out.push('\n');
    }
    let _ = write!(out, "hydrated from {} ({}: {})", done.dry.given, done.dry.short(), done.dry.subject);
    if let Some(remote) = &done.pushed {
        let _ = write!(out, "; pushed to `{remote}`");
    }
    out.push('\n');
    out
}
