//! The command line: one file per subcommand, no business logic here.
//!
//! Each subcommand has `XxxArgs` (clap derive; the doc comment is its `--help`)
//! and `fn run(&Global, XxxArgs) -> Result<Outcome>`. [`exit_code`] is the one
//! place outcomes become exit codes: 0 success, 1 found something, 2 bad input
//! or usage, 101 a bug.

pub mod bundle;
pub mod diff;
pub mod live;
pub mod render;
pub mod schema;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::diag::{Diagnostic, Error, ErrorKind};
use crate::pipeline::Options;
use crate::repo::Repo;
use crate::source::{Fs, GitRepo, Revision, SourceInfo, WorkTreeSource};

/// strata compiles a GitOps configuration repository (components × versions ×
/// environments) into rendered, validated, apply-ordered Kubernetes manifests.
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, max_term_width = 100)]
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
    Diff(diff::DiffArgs),
    Schema(schema::SchemaArgs),
}

/// How a successful run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report: exit 0.
    Ok,
    /// Found something (a difference, a failed check, a stale bundle): exit 1.
    Found,
}

/// Values options shared by every command that renders.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ValuesArgs {
    /// A values file applied above every target's parameters (repeatable, in order).
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// Set a value, Helm's syntax: `a.b=c`, `list[0]=x`, `a=1,b=2` (repeatable).
    #[arg(long, value_name = "EXPR")]
    pub set: Vec<String>,
    /// Set a value that stays a string (repeatable).
    #[arg(long = "set-string", value_name = "EXPR")]
    pub set_string: Vec<String>,
    /// Treat parameters that no template reads as errors.
    #[arg(long)]
    pub strict: bool,
}

impl ValuesArgs {
    pub fn options(&self) -> Result<Options, Error> {
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
            strict: self.strict,
            ..Options::default()
        })
    }
}

/// Opens the repository at `--repo`: as it is in the work tree, or at a git
/// revision (`--ref`), read from git objects without a checkout. Only the
/// components `selectors` can match are discovered when they name them.
pub fn open_repo(global: &Global, rev: Option<&str>, selectors: &[String]) -> Result<Repo, Error> {
    match rev {
        None => open_worktree_for(global, selectors),
        Some(rev) => {
            let git = open_git(global)?;
            let rev = git.resolve(rev)?;
            Repo::load_for(Fs::new(Arc::new(git.source(&rev)?)), selectors)
        }
    }
}

/// [`open_repo`] for `strata render`: when the selectors name components and no
/// file they use mentions `Repo`, the work tree's git status (`Repo.Dirty`, which
/// nothing would print) is not computed, so that rendering one target of a large
/// repository does not look at every file in it.
pub fn open_repo_for_render(global: &Global, rev: Option<&str>, selectors: &[String]) -> Result<Repo, Error> {
    if rev.is_some() || selectors.is_empty() {
        return open_repo(global, rev, selectors);
    }
    let root = &global.repo;
    check_root(root)?;
    let repo = Repo::load_for(Fs::new(Arc::new(WorkTreeSource::new(root.clone(), SourceInfo::default()))), selectors)?;
    // Each component's directory, and versions that lie outside their component.
    let mut dirs: Vec<&str> = repo.components.iter().map(|c| c.name.as_str()).collect();
    let outside: Vec<&str> = repo
        .targets()
        .map(|t| t.version_dir.as_str())
        .filter(|v| !dirs.iter().any(|c| v.starts_with(&format!("{c}/"))))
        .collect();
    dirs.extend(outside);
    let info = if crate::diff::inputs::tree_mentions_repo(&repo.fs, &dirs) {
        worktree_info(root)
    } else {
        crate::source::head_info(root)
    };
    Ok(Repo { fs: Fs::new(Arc::new(WorkTreeSource::new(root.clone(), info))), ..repo })
}

fn check_root(root: &Path) -> Result<(), Error> {
    let meta = std::fs::metadata(root).map_err(|e| {
        Diagnostic::error(format!("cannot open repository `{}`: {e}", root.display()))
            .hint("pass the configuration repository's root with `--repo DIR`")
    })?;
    if !meta.is_dir() {
        return Err(Diagnostic::error(format!("`{}` is not a directory", root.display())).into());
    }
    Ok(())
}

/// Opens the repository at `--repo` as it is in the work tree.
pub fn open_worktree(global: &Global) -> Result<Repo, Error> {
    open_worktree_for(global, &[])
}

/// Opens the work tree, discovering only what `selectors` need ([`Repo::load_for`]).
pub fn open_worktree_for(global: &Global, selectors: &[String]) -> Result<Repo, Error> {
    let root = &global.repo;
    check_root(root)?;
    // The git status behind `Repo.Dirty` and discovering the repository each
    // look at every file: one thread each.
    let (info, repo) = std::thread::scope(|s| {
        let info = s.spawn(|| worktree_info(root));
        let repo =
            Repo::load_for(Fs::new(Arc::new(WorkTreeSource::new(root.clone(), SourceInfo::default()))), selectors);
        (info.join(), repo)
    });
    let info = info.unwrap_or_else(|_| SourceInfo { dirty: true, ..SourceInfo::default() });
    // The work-tree source keeps no state: the one that knows the commit replaces it.
    Ok(Repo { fs: Fs::new(Arc::new(WorkTreeSource::new(root.clone(), info))), ..repo? })
}

/// The git repository holding `--repo`; revisions opened from one `GitRepo` share its object cache.
pub fn open_git(global: &Global) -> Result<GitRepo, Error> {
    Ok(GitRepo::discover(&global.repo)?)
}

/// The configuration repository at a resolved revision.
pub fn open_revision(git: &GitRepo, rev: &Revision) -> Result<Repo, Error> {
    Repo::load(Fs::new(Arc::new(git.source(rev)?)))
}

/// Commit, ref and dirty flag of the git work tree holding `root`, if any.
pub fn worktree_info(root: &Path) -> SourceInfo {
    crate::source::worktree_info(root)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Outcome, Error> {
    match cli.command {
        Command::Render(args) => render::run(&cli.global, args),
        Command::Bundle(args) => bundle::run(&cli.global, args),
        Command::Diff(args) => diff::run(&cli.global, args),
        Command::Schema(args) => schema::run(&cli.global, args),
    }
}

/// Keeps a command's large results until the process ends instead of freeing
/// them: the operating system reclaims the memory at once, while dropping a
/// compiled repository object by object costs about 5% of a `bundle` run.
pub fn leave_to_exit<T>(results: T) {
    std::mem::forget(results);
}

/// What `render` and `bundle` share: select the targets, compile them with the
/// values options, and print the warnings.
pub fn compile_selected(
    repo: &Repo,
    selectors: &[String],
    values: &ValuesArgs,
) -> Result<crate::compiled::Compiled, Error> {
    let targets = repo.select(selectors)?;
    let opts = values.options()?;
    let compiled = crate::pipeline::compile(repo, &targets, &opts)?;
    print_warnings(&compiled.warnings);
    Ok(compiled)
}

/// Prints warnings to stderr.
pub fn print_warnings(warnings: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = err.write_all(w.render().as_bytes());
    }
}

/// Writes data to stdout; a closed pipe ends quietly.
pub fn write_stdout(data: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(data).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Diagnostic::error(format!("cannot write to stdout: {e}")).into()),
    }
}

/// Maps a result to the process exit code, printing errors on stderr.
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
                ErrorKind::Bug => 101,
            }
        }
    }
}
