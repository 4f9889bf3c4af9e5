//! The revision flags, declared once and flattened into every command that
//! reads a revision: `--ref REV` ([`RevisionArgs`]) and `--from REV [--to REV]
//! | --base REV` ([`RevisionRangeArgs`]). Opening what they name, with the
//! merge-base policy and the error notes, is [`crate::repo::open`]'s.
//!
//! A command words the flag's help for itself with
//! `#[command(mut_args(on_arg("reference", |a| a.help("..."))))]` on its
//! arguments struct ([`on_arg`]); the flag, its value and its meaning stay the
//! ones declared here.

use super::Global;
use crate::diag::Error;
use crate::repo::open::{self, Opened, Range, Sides};

/// For `#[command(mut_args(...))]`: `f` applied to the argument `id`, which
/// stays in its place (clap's `mut_arg` moves it last, which would reorder the
/// shell completions).
pub fn on_arg(id: &'static str, f: impl Fn(clap::Arg) -> clap::Arg) -> impl FnMut(clap::Arg) -> clap::Arg {
    move |a| if a.get_id() == id { f(a) } else { a }
}

/// `--ref REV`: read a git revision instead of the work tree.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RevisionArgs {
    /// Read a git revision (tag, branch, commit) instead of the work tree.
    #[arg(long = "ref", value_name = "REV")]
    pub reference: Option<String>,
}

impl RevisionArgs {
    /// The work tree, or the revision `--ref` names ([`open::open_at`]).
    pub fn open(&self, global: &Global, selectors: &[String]) -> Result<Opened, Error> {
        open::open_at(&global.repo, "--ref", self.reference.as_deref(), selectors)
    }
}

/// `--from REV [--to REV] | --base REV`: the two sides of a comparison.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RevisionRangeArgs {
    /// The revision to compare from: a tag, branch, commit or `HEAD~2`.
    #[arg(long, value_name = "REV", conflicts_with = "base")]
    pub from: Option<String>,
    /// The revision to compare to (default: the work tree, uncommitted changes included).
    #[arg(long, value_name = "REV")]
    pub to: Option<String>,
    /// Compare from the merge base of REV and HEAD, like a pull request's diff
    /// (`--base origin/main`).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
}

impl RevisionRangeArgs {
    pub fn range(&self) -> Range<'_> {
        Range { from: self.from.as_deref(), to: self.to.as_deref(), base: self.base.as_deref() }
    }

    /// Both sides ([`open::open_range`]); `command` and `alternatives` word the
    /// error when neither `--from` nor `--base` is given.
    pub fn open(&self, global: &Global, command: &str, alternatives: &[&str]) -> Result<Sides, Error> {
        open::open_range(&global.repo, self.range(), command, alternatives)
    }

    /// The flags given, with their values, for a command line quoted in a report.
    pub fn flags(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [("--from", &self.from), ("--to", &self.to), ("--base", &self.base)]
            .into_iter()
            .filter_map(|(flag, v)| Some((flag, v.as_deref()?)))
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::super::Cli;

    /// The help and the relations each command gives the flags it flattens.
    #[test]
    fn commands_word_the_flags_they_flatten() {
        let cli = Cli::command();
        let arg = |path: &[&str], id: &str| {
            let mut c = &cli;
            for p in path {
                c = c.find_subcommand(p).unwrap();
            }
            let a = c.get_arguments().find(|a| a.get_id() == id).unwrap_or_else(|| panic!("{path:?} {id}"));
            (a.get_long().map(str::to_string), a.get_help().map(|h| h.to_string()).unwrap_or_default())
        };
        for (path, id, long, help) in [
            (&["render"][..], "reference", "ref", "Render a git revision (tag, branch, commit, `HEAD~2`)"),
            (&["bundle"], "reference", "ref", "Bundle a git revision (tag, branch, commit, `HEAD~2`)"),
            (&["check"], "reference", "ref", "Check a git revision (tag, branch, commit) instead"),
            (&["values"], "reference", "ref", "Read a git revision (tag, branch, commit) instead"),
            (&["versions"], "reference", "ref", "Read a git revision (tag, branch, commit) instead"),
            (&["diff"], "reference", "ref", "With `--live`: render this git revision"),
            (&["diff"], "from", "from", "The revision to compare from"),
            (&["diff"], "base", "base", "Compare from the merge base of REV and HEAD"),
            (&["rollout", "plan"], "from", "from", "The revision to plan from"),
            (&["rollout", "plan"], "to", "to", "The revision to plan to"),
            (&["rollout", "plan"], "base", "base", "Plan from the merge base of REV and HEAD"),
        ] {
            let (got_long, got_help) = arg(path, id);
            assert_eq!(got_long.as_deref(), Some(long), "{path:?}");
            assert!(got_help.starts_with(help), "{path:?} {id}: {got_help}");
        }
        let usage = |args: &[&str]| Cli::try_parse_from(args).map(|_| ()).map_err(|e| e.kind());
        use clap::Parser as _;
        use clap::error::ErrorKind;
        assert_eq!(usage(&["strata", "versions", "--ref", "a", "--from", "b"]), Err(ErrorKind::ArgumentConflict));
        assert_eq!(usage(&["strata", "diff", "--ref", "a"]), Err(ErrorKind::MissingRequiredArgument));
        assert_eq!(usage(&["strata", "diff", "--from", "a", "--base", "b"]), Err(ErrorKind::ArgumentConflict));
        assert_eq!(usage(&["strata", "diff", "--live", "--ref", "a"]), Ok(()));
        assert_eq!(usage(&["strata", "render", "--ref", "a"]), Ok(()));
    }
}
