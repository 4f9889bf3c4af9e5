//! `strata completions`: print a shell completion script.

use clap::CommandFactory;

use super::{Cli, Global, Outcome};
use crate::diag::Error;

/// Print the completion script for a shell on stdout.
///
/// Install (then open a new shell):
///   bash:       strata completions bash > ~/.local/share/bash-completion/completions/strata
///   zsh:        strata completions zsh > "${fpath[1]}/_strata"
///   fish:       strata completions fish > ~/.config/fish/completions/strata.fish
///   PowerShell: strata completions powershell >> $PROFILE
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[command(after_help = "Docs: docs/guide/ci.md")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(_global: &Global, args: CompletionsArgs) -> Result<Outcome, Error> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "strata", &mut out);
    super::write_stdout(&out)?;
    Ok(Outcome::Ok)
}
