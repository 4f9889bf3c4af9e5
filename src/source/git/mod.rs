//! A git revision: the configuration repository as it is in a commit, read
//! straight from git objects with gix. No checkout, no temporary work tree, and
//! nothing in the work tree, the index or `HEAD` is touched.
//!
//! In: a directory inside a git work tree (the configuration root, possibly a
//! subdirectory such as `example-repo/`) and a revision (`v1.0`, `main`,
//! `HEAD~2`, a commit id). Out: a [`GitSource`] whose root is the tree at that
//! directory's path in the revision. Symbolic links are tree entries with the
//! link mode; their target is the blob content, and [`crate::source::Fs`]
//! resolves them inside that tree exactly as it does on disk.
//!
//! Invariants: every tree and blob is read from the object database at most
//! once per [`GitRepo`], keyed by object id, so two revisions opened from one
//! `GitRepo` (the two sides of a diff) share identical files and directories
//! instead of reading them twice.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use gix::ObjectId;

use super::{DirEntry, EntryKind, Source, SourceInfo};
use crate::diag::Diagnostic;

/// An opened git repository and the place of the configuration root inside its work tree.
/// Cheap to share: revisions opened from it share one object cache.
pub struct GitRepo {
    objects: Arc<Objects>,
    /// The configuration root relative to the work tree, `/`-separated (`""` at the top).
    prefix: String,
    /// The work tree, when the repository has one (not for a bare repository).
    workdir: Option<PathBuf>,
}

/// A revision resolved to a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// What the user asked for (`v1.0`), or a description for computed revisions.
    pub spec: String,
    pub commit: ObjectId,
    /// The full reference name when `spec` names a reference (`refs/tags/v1.0`).
    pub reference: Option<String>,
}

/// The object database behind a mutex (gix handles are not `Sync`), plus the
/// caches that make each object read once. Decoded directory listings and
/// blob bytes are kept by object id.
struct Objects {
    repo: Mutex<gix::Repository>,
    /// For reading objects from several threads at once: each thread gets its
    /// own handle ([`Objects::with_local`]) instead of waiting for `repo`.
    shared: gix::ThreadSafeRepository,
    /// Tells this object database's per-thread handles from another's.
    id: usize,
    /// Keyed by object id with gix's hasher (an id is already a hash: its first
    /// bytes are used as they are); read far more often than written.
    trees: RwLock<gix::hashtable::HashMap<ObjectId, Arc<Listing>>>,
    blobs: RwLock<gix::hashtable::HashMap<ObjectId, Arc<[u8]>>>,
}

/// One directory: entry name → kind and object id, sorted by name.
type Listing = BTreeMap<String, (EntryKind, ObjectId)>;

impl GitRepo {
    /// Finds the git repository holding `root` (the `--repo` directory). `root` itself
    /// need not exist in the work tree: a configuration root deleted since a revision
    /// can still be read at that revision.
    pub fn discover(root: &Path) -> Result<GitRepo, Diagnostic> {
        let (existing, missing) = existing_ancestor(root).map_err(|e| {
            Diagnostic::error(format!("cannot open `{}`: {e}", root.display()))
                .hint("pass the configuration repository's root with `--repo DIR`")
        })?;
        let repo = gix::discover(&existing).map_err(|e| {
            Diagnostic::error(format!("`{}` is not inside a git repository: {e}", root.display())).hint(
                "reading a revision needs git history: run strata inside a clone, or pass `--repo` pointing into one",
            )
        })?;
        let workdir = repo.workdir().map(Path::to_path_buf);
        let prefix = match &workdir {
            Some(wd) => {
                let wd = wd
                    .canonicalize()
                    .map_err(|e| Diagnostic::error(format!("cannot open the git work tree `{}`: {e}", wd.display())))?;
                let inside = existing.strip_prefix(&wd).map_err(|_| {
                    Diagnostic::error(format!(
                        "`{}` is inside the git directory, not the work tree of `{}`",
                        root.display(),
                        wd.display()
                    ))
                })?;
                let mut parts: Vec<String> = Vec::new();
                for c in inside.components().chain(missing.iter().map(|m| Component::Normal(m.as_os_str()))) {
                    let Component::Normal(s) = c else { continue };
                    let s = s.to_str().ok_or_else(|| {
                        Diagnostic::error(format!("the path `{}` is not valid UTF-8", root.display()))
                    })?;
                    parts.push(s.to_string());
                }
                parts.join("/")
            }
            // A bare repository: its trees are the configuration root.
            None => String::new(),
        };
        Ok(GitRepo {
            objects: Arc::new(Objects {
                shared: repo.clone().into_sync(),
                id: NEXT_OBJECTS_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                repo: Mutex::new(repo),
                trees: RwLock::default(),
                blobs: RwLock::default(),
            }),
            prefix,
            workdir,
        })
    }

    /// Runs `f` with the gix repository, for the commands that write git objects
    /// and references (`strata release cherry-pick`). Objects written through it are
    /// readable by the sources opened from this `GitRepo` (the cache is keyed by id).
    pub fn with_repository<R>(&self, f: impl FnOnce(&gix::Repository) -> R) -> R {
        f(&self.objects.lock_repo())
    }

    /// The configuration root's path inside the work tree (`""` at the top).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn workdir(&self) -> Option<&Path> {
        self.workdir.as_deref()
    }

    /// Resolves a revision (anything `git rev-parse` takes that names a commit, or a tag of one).
    pub fn resolve(&self, spec: &str) -> Result<Revision, Diagnostic> {
        let repo = self.objects.lock_repo();
        let unknown = |detail: String| {
            Diagnostic::error(format!("unknown revision `{spec}`")).note(detail).hint(format!(
                "name a branch, tag or commit that exists locally (`git log --oneline`, `git tag`); \
                     in a shallow CI clone, fetch it first: `git fetch origin {spec}` or `git fetch --tags --unshallow`"
            ))
        };
        let id = repo.rev_parse_single(spec).map_err(|e| unknown(e.to_string()))?;
        let commit = id
            .object()
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| unknown(format!("`{spec}` does not name a commit: {e}")))?;
        // A name that is a reference is recorded by its full name; `HEAD` by the branch it is on.
        let reference = match repo.try_find_reference(spec) {
            Ok(Some(r)) if r.name().as_bstr() == "HEAD" => {
                repo.head_name().ok().flatten().map(|n| n.as_bstr().to_string())
            }
            Ok(Some(r)) => Some(r.name().as_bstr().to_string()),
            _ => None,
        };
        Ok(Revision { spec: spec.to_string(), commit: commit.id, reference })
    }

    /// The best common ancestor of two commits, as `git merge-base` finds it.
    pub fn merge_base(&self, one: &Revision, two: &Revision) -> Result<Revision, Diagnostic> {
        let repo = self.objects.lock_repo();
        let base = repo
            .merge_base(one.commit, two.commit)
            .map_err(|e| {
                Diagnostic::error(format!("cannot compute the merge base of `{}` and `{}`: {e}", one.spec, two.spec))
            })?
            .ok_or_else(|| {
                Diagnostic::error(format!("`{}` and `{}` have no common ancestor", one.spec, two.spec)).hint(
                    "in a shallow CI clone, fetch more history: `git fetch --unshallow` or a larger `fetch-depth`",
                )
            })?;
        Ok(Revision { spec: format!("merge-base({}, {})", one.spec, two.spec), commit: base.detach(), reference: None })
    }

    /// The configuration root as it is at `rev`.
    pub fn source(&self, rev: &Revision) -> Result<GitSource, Diagnostic> {
        let root = {
            let repo = self.objects.lock_repo();
            let commit = repo
                .find_commit(rev.commit)
                .map_err(|e| Diagnostic::error(format!("cannot read commit {} of `{}`: {e}", rev.commit, rev.spec)))?;
            let tree =
                commit.tree().map_err(|e| Diagnostic::error(format!("cannot read the tree of `{}`: {e}", rev.spec)))?;
            if self.prefix.is_empty() {
                tree.id
            } else {
                let entry = tree
                    .lookup_entry_by_path(&self.prefix)
                    .map_err(|e| Diagnostic::error(format!("cannot read `{}` at `{}`: {e}", self.prefix, rev.spec)))?;
                match entry {
                    Some(e) if e.mode().is_tree() => e.object_id(),
                    _ => {
                        return Err(Diagnostic::error(format!(
                            "the configuration root `{}` does not exist at revision `{}`",
                            self.prefix, rev.spec
                        ))
                        .note(format!("`{}` is commit {}", rev.spec, rev.commit))
                        .hint("pick a revision that has this directory, or a different `--repo`"));
                    }
                }
            }
        };
        Ok(GitSource {
            objects: self.objects.clone(),
            root,
            info: SourceInfo {
                commit: Some(rev.commit.to_string()),
                reference: rev.reference.clone().or_else(|| Some(rev.spec.clone())),
                dirty: false,
            },
            root_name: self.root_name(),
        })
    }

    /// The configuration root's directory name: the last part of the prefix, else
    /// the work tree's name (`None` for a bare repository at its top).
    fn root_name(&self) -> Option<String> {
        match self.prefix.rsplit('/').next().filter(|n| !n.is_empty()) {
            Some(n) => Some(n.to_string()),
            None => self.workdir.as_deref().and_then(|w| {
                let name = |p: &Path| p.file_name().and_then(|n| n.to_str()).map(str::to_string);
                name(w).or_else(|| w.canonicalize().ok().as_deref().and_then(name))
            }),
        }
    }
}

/// Commit, ref and dirty flag of the git work tree holding `root`; the default
/// (nothing known) outside git. Dirty means anything uncommitted below `root`:
/// staged or unstaged changes and untracked files that are not ignored, as
/// `git status -- root` would list them. Read-only: the index is not refreshed.
pub fn worktree_info(root: &Path) -> SourceInfo {
    let Ok(git) = GitRepo::discover(root) else { return SourceInfo::default() };
    let repo = git.objects.lock_repo();
    let commit = repo.head_id().ok().map(|id| id.to_string());
    let reference = repo.head_name().ok().flatten().map(|n| n.as_bstr().to_string());
    // If the status cannot be computed, say dirty: a bundle must not claim to be a clean commit.
    let dirty = dirty_below(&repo, &git.prefix).unwrap_or(true);
    SourceInfo { commit, reference, dirty }
}

/// Commit and ref of the git work tree holding `root`, without the status walk:
/// for renders whose templates never read `Repo`, where `dirty` cannot show.
pub fn head_info(root: &Path) -> SourceInfo {
    let Ok(git) = GitRepo::discover(root) else { return SourceInfo::default() };
    let repo = git.objects.lock_repo();
    let commit = repo.head_id().ok().map(|id| id.to_string());
    let reference = repo.head_name().ok().flatten().map(|n| n.as_bstr().to_string());
    SourceInfo { commit, reference, dirty: false }
}

/// Of the git repository holding `root`: the committer time of `commit` (seconds
/// since the epoch, UTC) and the fetch URL of `origin`, when there is one. For the
/// provenance `strata publish` writes into an artifact.
pub fn commit_facts(root: &Path, commit: &str) -> Option<(i64, Option<String>)> {
    let git = GitRepo::discover(root).ok()?;
    let repo = git.objects.lock_repo();
    let id = ObjectId::from_hex(commit.as_bytes()).ok()?;
    let seconds = repo.find_commit(id).ok()?.time().ok()?.seconds;
    let origin = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url(gix::remote::Direction::Fetch).map(|u| u.to_bstring().to_string()));
    Some((seconds, origin))
}

fn dirty_below(repo: &gix::Repository, prefix: &str) -> gix::Result<bool> {
    // `:(top,literal)` anchors the path at the work tree's top whatever the current directory is.
    let patterns: Vec<gix::bstr::BString> =
        if prefix.is_empty() { Vec::new() } else { vec![format!(":(top,literal){prefix}").into()] };
    let mut changes = repo
        .status(gix::progress::Discard)?
        .untracked_files(gix::status::UntrackedFiles::Collapsed)
        .index_worktree_rewrites(None)
        .into_iter(patterns)?;
    Ok(changes.next().transpose()?.is_some())
}

/// The nearest existing ancestor of `path` (canonical) and the components below it that do not exist.
fn existing_ancestor(path: &Path) -> io::Result<(PathBuf, Vec<PathBuf>)> {
    let absolute = if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir()?.join(path) };
    let mut missing = Vec::new();
    let mut cur = absolute.as_path();
    loop {
        match cur.canonicalize() {
            Ok(c) => {
                missing.reverse();
                return Ok((c, missing));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let Some(parent) = cur.parent() else { return Err(e) };
                if let Some(name) = cur.file_name() {
                    missing.push(PathBuf::from(name));
                }
                cur = parent;
            }
            Err(e) => return Err(e),
        }
    }
}

static NEXT_OBJECTS_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

thread_local! {
    /// This thread's handles, by [`Objects::id`].
    static LOCAL_REPOS: std::cell::RefCell<Vec<(usize, gix::Repository)>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Objects {
    fn lock_repo(&self) -> std::sync::MutexGuard<'_, gix::Repository> {
        self.repo.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with this thread's handle on the object database: reading trees
    /// and blobs in parallel (a diff compares whole components) needs no lock.
    fn with_local<R>(&self, f: impl FnOnce(&gix::Repository) -> R) -> R {
        LOCAL_REPOS.with(|cell| {
            let mut local = cell.borrow_mut();
            let at = match local.iter().position(|(id, _)| *id == self.id) {
                Some(at) => at,
                None => {
                    local.push((self.id, self.shared.to_thread_local()));
                    local.len() - 1
                }
            };
            f(&local[at].1)
        })
    }

    fn listing(&self, id: ObjectId) -> io::Result<Arc<Listing>> {
        if let Some(l) = self.trees.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(l.clone());
        }
        let listing = self.with_local(|repo| -> io::Result<Arc<Listing>> {
            let tree = repo.find_tree(id).map_err(io::Error::other)?;
            let mut out = Listing::new();
            for entry in tree.iter() {
                let entry = entry.map_err(io::Error::other)?;
                let mode = entry.mode();
                let kind = if mode.is_tree() {
                    EntryKind::Dir
                } else if mode.is_link() {
                    EntryKind::Link
                } else if mode.is_blob() {
                    EntryKind::File
                } else {
                    // A submodule is a commit of another repository: nothing to read here.
                    continue;
                };
                // Names that are not UTF-8 cannot be addressed by strata; the work tree skips them too.
                let Ok(name) = std::str::from_utf8(entry.filename()) else { continue };
                out.insert(name.to_string(), (kind, entry.object_id()));
            }
            Ok(Arc::new(out))
        })?;
        self.trees.write().unwrap_or_else(|e| e.into_inner()).insert(id, listing.clone());
        Ok(listing)
    }

    fn blob(&self, id: ObjectId) -> io::Result<Arc<[u8]>> {
        if let Some(b) = self.blobs.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
            return Ok(b.clone());
        }
        let data: Arc<[u8]> = self.with_local(|repo| -> io::Result<Arc<[u8]>> {
            let mut blob = repo.find_blob(id).map_err(io::Error::other)?;
            Ok(Arc::from(blob.take_data()))
        })?;
        self.blobs.write().unwrap_or_else(|e| e.into_inner()).insert(id, data.clone());
        Ok(data)
    }
}

/// The configuration root at one revision.
pub struct GitSource {
    objects: Arc<Objects>,
    /// The tree of the configuration root.
    root: ObjectId,
    info: SourceInfo,
    /// The configuration root's directory name (the last part of the prefix, else the work tree's).
    root_name: Option<String>,
}

impl GitSource {
    /// The kind and object of what `path` names (without following a final link).
    fn entry(&self, path: &str) -> io::Result<Option<(EntryKind, ObjectId)>> {
        let mut cur = (EntryKind::Dir, self.root);
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if cur.0 != EntryKind::Dir {
                return Ok(None);
            }
            match self.objects.listing(cur.1)?.get(part) {
                Some(e) => cur = *e,
                None => return Ok(None),
            }
        }
        Ok(Some(cur))
    }

    /// The object `path` names, which must be of `kind`: a missing path is `NotFound`,
    /// another kind `InvalidInput`.
    fn object_of_kind(&self, path: &str, kind: EntryKind) -> io::Result<ObjectId> {
        match self.entry(path)? {
            Some((k, id)) if k == kind => Ok(id),
            Some((k, _)) => {
                Err(io::Error::new(io::ErrorKind::InvalidInput, format!("expected a {kind:?}, found a {k:?}")))
            }
            None => Err(io::Error::new(io::ErrorKind::NotFound, "no such file or directory in this revision")),
        }
    }
}

impl Source for GitSource {
    fn entry_kind(&self, path: &str) -> io::Result<Option<EntryKind>> {
        Ok(self.entry(path)?.map(|(k, _)| k))
    }

    fn read_dir(&self, path: &str) -> io::Result<Vec<DirEntry>> {
        let id = self.object_of_kind(path, EntryKind::Dir)?;
        Ok(self
            .objects
            .listing(id)?
            .iter()
            .map(|(name, (kind, _))| DirEntry { name: name.clone(), kind: *kind })
            .collect())
    }

    fn read_link(&self, path: &str) -> io::Result<String> {
        let id = self.object_of_kind(path, EntryKind::Link)?;
        let bytes = self.objects.blob(id)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "link target is not UTF-8"))
    }

    fn read_file(&self, path: &str) -> io::Result<Arc<[u8]>> {
        let id = self.object_of_kind(path, EntryKind::File)?;
        self.objects.blob(id)
    }

    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    fn root_name(&self) -> Option<String> {
        self.root_name.clone()
    }
}

#[cfg(test)]
mod tests;
