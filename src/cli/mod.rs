//! The command line: one file per subcommand, no business logic here.
//!
//! Each subcommand has `XxxArgs` (clap derive; the doc comment is its `--help`)
//! and `fn run(&Global, XxxArgs) -> Result<Outcome>`. [`exit_code`] is the one
//! place outcomes become exit codes: 0 success, 1 found something, 2 bad input
//! or usage, 3 the system refused an operation on good input (writing an output:
//! disk full, permission denied), 101 a bug (also a panic, see `main.rs`).

pub mod bundle;
pub mod cache;
pub mod check;
pub mod completions;
pub mod diff;
pub mod hydrate;
pub mod init;
pub mod live;
pub mod port;
pub mod promote;
pub mod publish;
pub mod release;
pub mod render;
pub mod review;
pub mod revision;
pub mod rollout;
pub mod schema;
pub mod values;
pub mod verify;
pub mod version;
pub mod versions;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::diag::{Diagnostic, Error, ErrorKind};
use crate::pipeline::Options;

/// strata compiles a GitOps configuration repository (components × versions ×
/// environments) into rendered, validated, apply-ordered Kubernetes manifests.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, max_term_width = 100)]
#[command(after_help = "Docs: README.md (guides by task in docs/guide/, reference in docs/reference/)")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct Global {
    /// The configuration repository's root directory.
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub repo: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Render(render::RenderArgs),
    Bundle(bundle::BundleArgs),
    Hydrate(hydrate::HydrateArgs),
    Diff(diff::DiffArgs),
    Check(check::CheckArgs),
    Schema(schema::SchemaArgs),
    Release(release::ReleaseArgs),
    Port(port::PortArgs),
    Rollout(rollout::RolloutArgs),
    Review(review::ReviewArgs),
    Versions(versions::VersionsArgs),
    Promote(promote::PromoteArgs),
    Version(version::VersionArgs),
    Values(values::ValuesCmdArgs),
    Init(init::InitArgs),
    Completions(completions::CompletionsArgs),
    Publish(publish::PublishArgs),
    Verify(verify::VerifyArgs),
}

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report: exit 0.
    Ok,
    /// Found something (a difference, a failed check, a stale bundle): exit 1.
    Found,
}

/// The value layers of the command line: `--values`, `--set`, `--set-string`
/// (PRODUCT §2, layer 5), for every command that builds a target's values.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ValueLayersArgs {
    /// A values file applied above every target's parameters (repeatable, in order).
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value, Helm's syntax: `a.b=c`, `list[0]=x`, `a=1,b=2` (repeatable).
    #[arg(long, value_name = "EXPR")]
    pub set: Vec<String>,
    /// Set a value that stays a string (repeatable).
    #[arg(long = "set-string", value_name = "EXPR")]
    pub set_string: Vec<String>,
}

impl ValueLayersArgs {
    /// Compile options with these layers; `strict` makes warnings errors.
    pub fn options(&self, strict: bool) -> Result<Options, Error> {
        let mut values_files = Vec::new();
        for p in &self.values {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Diagnostic::error(format!("cannot read values file `{}`: {e}", p.display())).at(p.display().to_string())
            })?;
            values_files.push((p.display().to_string(), text));
        }
        Ok(Options {
            values_files,
            set: self.set.clone(),
            set_string: self.set_string.clone(),
            strict,
            ..Options::default()
        })
    }
}

/// Values options shared by every command that renders: the layers and `--strict`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ValuesArgs {
    #[command(flatten)]
    pub layers: ValueLayersArgs,
    /// Treat warnings as errors: parameters that no template reads, label or
    /// annotation values that are not strings, kustomization fields in another letter case.
    #[arg(long)]
    pub strict: bool,
}

impl ValuesArgs {
    pub fn options(&self) -> Result<Options, Error> {
        self.layers.options(self.strict)
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        Command::Render(args) => render::run(&cli.global, args),
        Command::Bundle(args) => bundle::run(&cli.global, args),
        Command::Hydrate(args) => hydrate::run(&cli.global, args),
        Command::Diff(args) => diff::run(&cli.global, args),
        Command::Check(args) => check::run(&cli.global, args),
        Command::Schema(args) => schema::run(&cli.global, args),
        Command::Release(args) => release::run(&cli.global, args),
        Command::Port(args) => port::run(&cli.global, args),
        Command::Rollout(args) => rollout::run(&cli.global, args),
        Command::Review(args) => review::run(&cli.global, args),
        Command::Versions(args) => versions::run(&cli.global, args),
        Command::Promote(args) => promote::run(&cli.global, args),
        Command::Version(args) => version::run(&cli.global, args),
        Command::Values(args) => values::run(&cli.global, args),
        Command::Init(args) => init::run(&cli.global, args),
        Command::Completions(args) => completions::run(&cli.global, args),
        Command::Publish(args) => publish::run(&cli.global, args),
        Command::Verify(args) => verify::run(&cli.global, args),
    }
}

/// Prints warnings to stderr.
pub fn print_warnings(warnings: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = err.write_all(w.render().as_bytes());
    }
}

/// Writes data to stdout. A closed pipe is [`Error::broken_pipe`], which
/// [`exit_code`] turns into a quiet exit 0.
pub fn write_stdout(data: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(data).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Error::broken_pipe()),
        Err(e) => Err(Error::io(Diagnostic::error(format!("cannot write to stdout: {e}")))),
    }
}

/// Writes to stdout through a buffer what `write` writes, as [`write_stdout`], without
/// holding the whole output in memory first.
pub fn write_stdout_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Error> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Error::broken_pipe()),
        Err(e) => Err(Error::io(Diagnostic::error(format!("cannot write to stdout: {e}")))),
    }
}

/// Writes a command's held-back output ([`Spool`]) to stdout, as [`write_stdout`].
pub fn write_stdout_from(spool: crate::atomic::Spool) -> Result<Outcome, Error> {
    let mut out = std::io::stdout().lock();
    match spool.copy_to(&mut out).and_then(|_| out.flush()) {
        Ok(()) => Ok(Outcome::Ok),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Error::broken_pipe()),
        Err(e) => Err(Error::io(Diagnostic::error(format!("cannot write to stdout: {e}")))),
    }
}

/// Maps a result to the process exit code, printing errors on stderr. The only
/// place a run's end is decided; `main` passes the code to `process::exit`.
pub fn exit_code(result: Result<Outcome, Error>) -> i32 {
    match result {
        Ok(Outcome::Ok) => 0,
        Ok(Outcome::Found) => 1,
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(e.to_string().as_bytes());
            let n = e.diagnostics.iter().filter(|d| d.severity == crate::diag::Severity::Error).count();
            if n > 1 {
                let _ = writeln!(err, "error: {n} problems found");
            }
            match e.kind {
                ErrorKind::Input => 2,
                ErrorKind::Io => 3,
                ErrorKind::Bug => 101,
                // Carries no diagnostics: nothing was printed.
                ErrorKind::BrokenPipe => 0,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// The docs page a help text ends with (`Docs: PATH …`).
    fn docs_page(help: &str) -> Option<String> {
        let last = help.trim_end().lines().last()?;
        last.strip_prefix("Docs: ")?.split_whitespace().next().map(str::to_string)
    }

    fn walk(cmd: &mut clap::Command, path: &str, pages: &mut Vec<(String, Option<String>)>) {
        let path = if path.is_empty() { cmd.get_name().to_string() } else { format!("{path} {}", cmd.get_name()) };
        for long in [true, false] {
            let help = if long { cmd.render_long_help() } else { cmd.render_help() };
            pages.push((format!("{path}{}", if long { " --help" } else { " -h" }), docs_page(&help.to_string())));
        }
        for sub in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
            walk(sub, &path, pages);
        }
    }

    #[test]
    fn every_help_ends_with_its_docs_page() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut cmd = Cli::command();
        cmd.build();
        let mut pages = Vec::new();
        walk(&mut cmd, "", &mut pages);
        assert!(
            pages.iter().any(|(help, _)| help == "strata release cherry-pick --help"),
            "nested commands are walked"
        );
        for (help, page) in &pages {
            let Some(page) = page else { panic!("`{help}` does not end with `Docs: PATH`") };
            assert!(root.join(page).is_file(), "`{help}` names {page}, which is no page");
        }
        let page_of = |h: &str| pages.iter().find(|(help, _)| help == h).and_then(|(_, p)| p.clone());
        assert_eq!(page_of("strata check --help").as_deref(), Some("docs/reference/rules.md"));
        assert_eq!(page_of("strata rollout plan -h").as_deref(), Some("docs/guide/rollout.md"));
        assert_eq!(docs_page("Usage: x\n\nDocs: a.md (more)\n"), Some("a.md".to_string()));
        assert_eq!(docs_page("Docs: a.md\nOptions:\n"), None);
    }
}
