//! `--next`: the promotion flow of GitOps Promoter and Argo CD's `hydrateTo`.
//! Each environment is hydrated to `BRANCH-next` (built on `BRANCH-next`, or on
//! `BRANCH` when there is none yet), and a pull-request body says what merging
//! it into `BRANCH` changes.
//!
//! In: the branches just hydrated and the source repository. Out: per
//! hydrated path whose bundle differs from `BRANCH`'s, one markdown body,
//! under the pull-request comment budget ([`MAX_CHARS`]): the check summary of
//! the new revision, the rollout plan (waves, risks) and the rendered diff
//! between the source commit `BRANCH` was hydrated from (its
//! `hydrator.metadata` `drySha`) and the new one, as `strata diff --from OLD
//! --to NEW @ENVIRONMENT --format markdown` prints it.

use std::fmt::Write as _;

use gix::ObjectId;

use super::commit::{DryCommit, METADATA, README};
use super::{Branch, files, tip, tree_of};
use crate::check::report::summary;
use crate::check::repository::{RepoCheckOptions, check_repo};
use crate::diag::Error;
use crate::diff::markdown::{MAX_CHARS, MarkdownOptions};
use crate::diff::{CompareOptions, RevisionSide, compare_revisions, markdown};
use crate::pipeline::Options;
use crate::repo::open::{self, Opened};
use crate::repo::{self as repo_mod, waves};
use crate::rollout;
use crate::source::{GitRepo, Revision};

/// The branch `name` (`env/eastus-next`) is promoted into (`env/eastus`).
pub fn promoted_into(name: &str) -> &str {
    name.strip_suffix("-next").unwrap_or(name)
}

/// One body per hydrated path with something to promote: `(BRANCH-next, body)`.
pub fn bodies(
    repo: &gix::Repository,
    git: &GitRepo,
    dry: &DryCommit,
    branches: &[Branch],
) -> Result<Vec<(String, String)>, Error> {
    let mut out = Vec::new();
    for b in branches {
        let Some(next_tip) = b.new.or(b.local) else { continue };
        let target = promoted_into(&b.name);
        let target_tip = tip(repo, &format!("refs/heads/{target}"))?;
        let next_tree = tree_of(repo, next_tip, &b.name)?;
        for place in &b.places {
            let next_files = files::tree_files(repo, next_tree, &place.path)?;
            let old = match target_tip {
                Some(t) => Some(files::tree_files(repo, tree_of(repo, t, target)?, &place.path)?),
                None => None,
            };
            if let Some(old) = &old
                && files::same_bundle(repo, old, &next_files, &[README, METADATA])?
            {
                continue;
            }
            let before = old.as_ref().and_then(|o| dry_sha(repo, o));
            let body = body(git, dry, &b.name, target, &place.environments, before)?;
            out.push((b.name.clone(), body));
        }
    }
    Ok(out)
}

/// `drySha` of a hydrated path's `hydrator.metadata`.
fn dry_sha(repo: &gix::Repository, files: &files::Files) -> Option<ObjectId> {
    let blob = repo.find_blob(*files.get(METADATA)?).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&blob.data).ok()?;
    ObjectId::from_hex(v.get("drySha")?.as_str()?.as_bytes()).ok()
}

fn body(
    git: &GitRepo,
    dry: &DryCommit,
    next: &str,
    target: &str,
    environments: &[String],
    before: Option<ObjectId>,
) -> Result<String, Error> {
    let selectors: Vec<String> = environments.iter().map(|e| format!("@{e}")).collect();
    let after = opened(git, dry.sha, &selectors)?;
    let mut out = format!("<!-- strata hydrate --next: {next} -> {target} -->\n");
    let _ = writeln!(out, "## Promote `{}`: {}\n", environments.join("`, `"), dry.subject);
    let _ = writeln!(
        out,
        "Merging `{next}` into `{target}` applies the bundle hydrated from {} ({}).\n",
        dry.short(),
        dry.subject
    );
    let check = check_repo(
        &after.repo,
        None,
        &selectors,
        &RepoCheckOptions { only_rules: None, strict: false, compile: Options::default() },
    )?;
    let _ = writeln!(out, "**Checks** (`strata check`): {}\n", summary(&check.report));
    let Some(before) = before else {
        let _ = writeln!(out, "`{target}` holds no hydrated bundle yet: every object is new.");
        return Ok(out);
    };
    let before = opened(git, before, &selectors)?;
    let (bt, at) = repo_mod::select_both(&before.repo, &after.repo, &selectors)?;
    let diff = compare_revisions(
        RevisionSide::of(&before, &bt),
        RevisionSide::of(&after, &at),
        &Options::default(),
        &CompareOptions::default(),
    )?;
    let command = format!("strata diff --from {} --to {} {}", before.label, after.label, selectors.join(" "));
    let plan = rollout::plan(&waves::resolve(&after.repo)?, &diff);
    let budget = MAX_CHARS.saturating_sub(out.len());
    let plan_text = rollout::markdown::render(&plan, budget / 3, &command.replace("diff", "rollout plan"));
    let _ = writeln!(out, "{plan_text}");
    let diff_budget = MAX_CHARS.saturating_sub(out.len() + 1);
    let opts = MarkdownOptions {
        max_chars: diff_budget,
        stat: false,
        command: Some(format!("{command} --format markdown")),
        review_url: None,
    };
    out.push_str(&markdown::render(&diff.report, &opts));
    Ok(out)
}

/// The source repository at `commit`, labelled by its short id.
fn opened(git: &GitRepo, commit: ObjectId, selectors: &[String]) -> Result<Opened, Error> {
    let label = commit.to_hex_with_len(12).to_string();
    let rev = Revision { spec: commit.to_string(), commit, reference: None };
    let name = format!("--ref {label}");
    let repo = open::open_revision(git, &rev, &name, selectors)?;
    Ok(Opened { repo, name, label })
}
