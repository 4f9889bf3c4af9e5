//! The repository model: components, versions, targets and environments.
//!
//! In: an [`Fs`]. Out: a [`Repo`] listing every component and its targets, each
//! target resolved to its version directory through its `templates` link (a
//! relative symlink, or a one-line file holding the relative path). Invariants:
//! components are sorted by name, targets by environment path, every version
//! directory is inside the repository, and selection keeps that order.

pub mod arguments;
pub mod config;
pub mod link;
pub mod mentions;
pub mod open;
pub mod schemas;
pub mod waves;

use std::collections::{BTreeMap, BTreeSet};

use globset::{GlobBuilder, GlobMatcher};
use rayon::prelude::*;

pub use config::{ComponentConfig, RepoConfig};

use crate::diag::{Diagnostic, Error};
use crate::source::{self, EntryKind, Fs};

pub const REPO_CONFIG: &str = "strata.yaml";
pub const COMPONENT_CONFIG: &str = "component.yaml";
pub const TEMPLATES_LINK: &str = "templates";
pub const PARAMETERS: &str = "parameters.yaml";
pub const KUSTOMIZATION: &str = "kustomization.yaml";

#[derive(Debug, Clone)]
pub struct Repo {
    pub fs: Fs,
    pub config: RepoConfig,
    /// The text of `strata.yaml`, to point at lines in messages.
    pub config_text: Option<std::sync::Arc<str>>,
    pub components: Vec<Component>,
    /// The `dependsOn` of components the selected ones depend on, directly or
    /// not, that were not discovered ([`Repo::load_for`]): their `component.yaml`
    /// was read, their targets were not. Empty when every component was discovered.
    pub dependencies: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Component {
    pub name: String,
    pub config: ComponentConfig,
    pub targets: Vec<Target>,
}

/// One component in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub component: String,
    /// The target's path inside its component: `eastus`, `prod/westus`.
    pub environment: String,
    /// Repository-relative directory of the target.
    pub dir: String,
    /// Repository-relative directory of the version its `templates` points at.
    pub version_dir: String,
    /// The version's name: its path relative to the component (`v2`).
    pub version: String,
}

impl Target {
    /// `component/environment`, the target's address in selectors and reports.
    pub fn address(&self) -> String {
        format!("{}/{}", self.component, self.environment)
    }

    /// Its `parameters.yaml` files: in the component root, then in each
    /// directory down to the target (`api/parameters.yaml`,
    /// `api/prod/parameters.yaml`, `api/prod/westus/parameters.yaml`).
    pub fn parameter_files(&self) -> Vec<String> {
        let mut dir = self.component.clone();
        let mut out = vec![source::join(&dir, PARAMETERS)];
        for part in self.environment.split('/') {
            dir = source::join(&dir, part);
            out.push(source::join(&dir, PARAMETERS));
        }
        out
    }
}

impl Repo {
    /// Discovers the repository behind `fs`; reports every broken target at once.
    pub fn load(fs: Fs) -> Result<Repo, Error> {
        Repo::load_components(fs, None)
    }

    /// Like [`Repo::load`], but when every selector names its component literally
    /// (`frontend`, `frontend/eastus`, `frontend/prod/*`), only those components
    /// are discovered: rendering one target of a large repository does not walk
    /// all of it. A selector naming one target literally (`frontend/prod/eastus`)
    /// reads only that target's directory, not its siblings'. Of the components
    /// they depend on (directly or not), only the `component.yaml` is read
    /// ([`Repo::dependencies`]): ordering objects across the selected components
    /// needs the whole `dependsOn` graph, not the dependencies' targets. Other
    /// selectors load everything.
    pub fn load_for(fs: Fs, selectors: &[String]) -> Result<Repo, Error> {
        let mut wanted: BTreeMap<String, Walk> = BTreeMap::new();
        for s in selectors {
            let sel = Selector::parse(s)?;
            let Some(c) = sel.component() else { return Repo::load(fs) };
            let walk = wanted.entry(c.to_string()).or_insert_with(|| Walk::Dirs(BTreeSet::new()));
            match (walk, sel.target_dir()) {
                (Walk::Dirs(dirs), Some(dir)) => {
                    dirs.insert(dir.to_string());
                }
                (walk, _) => *walk = Walk::All,
            }
        }
        if wanted.is_empty() {
            return Repo::load(fs);
        }
        let names: Vec<String> = wanted.keys().cloned().collect();
        let repo = Repo::load_components(fs.clone(), Some(wanted))?;
        if names.iter().any(|w| repo.component(w).is_none()) {
            // A selector for no component: the full repository names what exists.
            return Repo::load(fs);
        }
        Ok(repo)
    }

    /// Loads the components named in `only` (and, transitively, those they depend
    /// on), or all of them.
    fn load_components(fs: Fs, only: Option<BTreeMap<String, Walk>>) -> Result<Repo, Error> {
        let config_text = fs.read_optional(REPO_CONFIG)?;
        let config = match &config_text {
            Some(text) => config::parse_config::<RepoConfig>(text, REPO_CONFIG).map_err(Error::many)?,
            None => RepoConfig::default(),
        };
        let fs = fs.with_max_file_bytes(config::LimitsConfig::max_file_bytes(config.limits.as_ref()));
        let config_text = config_text.map(|t| std::sync::Arc::from(t.as_str()));
        // The walk asks the kind of every prefix of every `templates` link: from
        // the listings it reads anyway ([`crate::source::Kinds`]), not a `statx` each.
        let walk = fs.with_kinds();
        let names = walk
            .read_dir("")?
            .into_iter()
            .filter(|e| e.kind == EntryKind::Dir && !e.name.starts_with('.') && !e.name.starts_with('_'))
            .map(|e| e.name);
        let only_names = only.is_some();
        let todo: Vec<(String, &Walk)> = match &only {
            None => names.map(|n| (n, &Walk::All)).collect(),
            Some(only) => names.filter_map(|n| only.get(&n).map(|w| (n, w))).collect(),
        };
        // Components are independent: discovered in parallel, kept in name order.
        let load = |(name, how): (String, &Walk)| load_component(&walk, name, how);
        let found: Vec<(Option<Component>, Vec<Diagnostic>)> = match todo.len() {
            // One component (one target's render): no worker thread to wake.
            0 | 1 => todo.into_iter().map(load).collect(),
            _ => todo.into_par_iter().map(load).collect(),
        };
        let mut diags = Vec::new();
        let mut components: Vec<Component> = Vec::new();
        for (component, ds) in found {
            diags.extend(ds);
            components.extend(component);
        }
        components.sort_by(|a, b| a.name.cmp(&b.name));
        let dependencies = if only_names { dependency_configs(&fs, &components, &mut diags) } else { BTreeMap::new() };
        check_depends_on(&components, &dependencies, &mut diags);
        if !diags.is_empty() {
            return Err(Error::many(diags));
        }
        Ok(Repo { fs, config, config_text, components, dependencies })
    }

    /// Every component's direct dependencies, discovered or not ([`Repo::dependencies`]).
    pub fn depends_on(&self) -> impl Iterator<Item = (&str, &[String])> {
        let discovered = self.components.iter().map(|c| (c.name.as_str(), &c.config.depends_on[..]));
        discovered.chain(self.dependencies.iter().map(|(n, d)| (n.as_str(), &d[..])))
    }

    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.components.iter().flat_map(|c| c.targets.iter())
    }

    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    /// The targets matched by any of `selectors` (all targets when empty), in repository order.
    /// A selector matching nothing is an error.
    pub fn select(&self, selectors: &[String]) -> Result<Vec<&Target>, Error> {
        if selectors.is_empty() {
            return Ok(self.targets().collect());
        }
        let parsed = parse_selectors(selectors, &[self], "matches no target")?;
        Ok(pick(self, &parsed))
    }
}

/// The targets `selectors` pick on each side of a comparison (the same
/// selectors applied to both). A selector may match on one side only (a
/// component added or removed); one that matches on neither is an error.
pub fn select_both<'a, 'b>(
    before: &'a Repo,
    after: &'b Repo,
    selectors: &[String],
) -> Result<(Vec<&'a Target>, Vec<&'b Target>), Error> {
    if selectors.is_empty() {
        return Ok((before.targets().collect(), after.targets().collect()));
    }
    let parsed = parse_selectors(selectors, &[before, after], "matches no target on either side")?;
    Ok((pick(before, &parsed), pick(after, &parsed)))
}

/// Parses `selectors`; each must match a target of some repository in `repos`,
/// or it is reported (all of them together) as `selector `x` <unmatched>`, with
/// targets of the last repository as examples.
fn parse_selectors(selectors: &[String], repos: &[&Repo], unmatched: &str) -> Result<Vec<Selector>, Error> {
    let parsed = selectors.iter().map(|s| Selector::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let mut diags = Vec::new();
    for sel in &parsed {
        if !repos.iter().flat_map(|r| r.targets()).any(|t| sel.matches(t)) {
            let examples = repos.last().map(|r| r.targets().take(8).map(Target::address).collect::<Vec<_>>());
            diags.push(
                Diagnostic::error(format!("selector `{}` {unmatched}", sel.text))
                    .note(format!("targets include: {}", examples.unwrap_or_default().join(", ")))
                    .hint("use `component/environment`, `component`, `@environment`, or a glob like `*/prod/*`"),
            );
        }
    }
    if !diags.is_empty() {
        return Err(Error::many(diags));
    }
    Ok(parsed)
}

/// The targets of `repo` any of `selectors` matches, in repository order.
fn pick<'r>(repo: &'r Repo, selectors: &[Selector]) -> Vec<&'r Target> {
    repo.targets().filter(|t| selectors.iter().any(|s| s.matches(t))).collect()
}

/// What discovery walks of a component.
#[derive(Debug)]
enum Walk {
    /// Every directory: all its targets.
    All,
    /// Only these target directories (`api/prod/east`), named by literal selectors.
    Dirs(BTreeSet<String>),
}

/// One top-level directory: its `component.yaml` and targets (`None` when it has none).
fn load_component(fs: &Fs, name: String, how: &Walk) -> (Option<Component>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let config_path = source::join(&name, COMPONENT_CONFIG);
    let config = match fs.read_optional(&config_path) {
        Ok(Some(text)) => match config::parse_config::<ComponentConfig>(&text, &config_path) {
            Ok(c) => c,
            Err(diags) => return (None, diags),
        },
        Ok(None) => ComponentConfig::default(),
        Err(d) => return (None, vec![d]),
    };
    let found = match how {
        Walk::Dirs(dirs) => find_each(fs, &name, dirs),
        Walk::All => None,
    };
    // A literal selector that names no target, or a broken one: the whole
    // component, so that the messages are those of a full discovery.
    let targets = found.unwrap_or_else(|| {
        let mut targets = Vec::new();
        find_targets(fs, &name, &name, &mut targets, &mut diags);
        targets
    });
    let component = (!targets.is_empty()).then_some(Component { name, config, targets });
    (component, diags)
}

/// The targets in exactly `dirs`, as the full walk ([`find_targets`]) would find
/// them there, in its order; `None` when one of them is not a target the walk
/// would reach (a missing directory, one under a link, no `templates` entry) or
/// does not resolve.
fn find_each(fs: &Fs, component: &str, dirs: &BTreeSet<String>) -> Option<Vec<Target>> {
    let mut out = Vec::with_capacity(dirs.len());
    for dir in dirs {
        // The walk enters only real directories: every step below the component must be one.
        let mut prefix = component.to_string();
        for part in dir.split('/').skip(1) {
            prefix = source::join(&prefix, part);
            if !matches!(fs.entry_kind(&prefix), Ok(Some(EntryKind::Dir))) {
                return None;
            }
        }
        let entries = fs.read_dir(dir).ok()?;
        let link = entries.iter().find(|e| e.name == TEMPLATES_LINK && e.kind != EntryKind::Dir)?;
        out.push(resolve_target(fs, component, dir, link.kind).ok()?);
    }
    // The walk's order: depth first, entries by name.
    out.sort_by(|a, b| a.dir.split('/').cmp(b.dir.split('/')));
    Some(out)
}

/// Walks a component's directories; a directory with a `templates` link or
/// link file is a target. Links to directories are not walked into.
fn find_targets(fs: &Fs, component: &str, dir: &str, out: &mut Vec<Target>, diags: &mut Vec<Diagnostic>) {
    let entries = match fs.read_dir(dir) {
        Ok(e) => e,
        Err(d) => {
            diags.push(d);
            return;
        }
    };
    if let Some(t) = entries.iter().find(|e| e.name == TEMPLATES_LINK && e.kind != EntryKind::Dir) {
        match resolve_target(fs, component, dir, t.kind) {
            Ok(target) => out.push(target),
            Err(d) => diags.push(d),
        }
    }
    for e in &entries {
        if e.kind == EntryKind::Dir && !e.name.starts_with('.') {
            find_targets(fs, component, &source::join(dir, &e.name), out, diags);
        }
    }
}

fn resolve_target(fs: &Fs, component: &str, dir: &str, kind: EntryKind) -> Result<Target, Diagnostic> {
    let link_path = source::join(dir, TEMPLATES_LINK);
    let version_dir = if kind == EntryKind::Link {
        let (resolved, kind) = fs.resolve_existing(&link_path)?;
        if kind != EntryKind::Dir {
            return Err(Diagnostic::error(format!("`{link_path}` must point at a version directory, not a file"))
                .at(link_path.clone()));
        }
        resolved
    } else {
        let text = fs.read_string(&link_path)?;
        let rel = link::file_path(&link_path, &text)?;
        let joined = source::join(dir, rel);
        let resolved = fs.resolve(&joined).map_err(|d| {
            if d.message.contains("leaves the repository root") {
                Diagnostic::error(format!("link file `{link_path}` points outside the repository (`{rel}`)"))
                    .at_pos(link_path.clone(), 1, 1)
                    .note("strata never reads outside the repository root")
            } else {
                d
            }
        })?;
        match fs.entry_kind(&resolved)? {
            Some(EntryKind::Dir) => resolved,
            Some(_) => {
                return Err(Diagnostic::error(format!("`{link_path}` must point at a version directory, not a file"))
                    .at_pos(link_path.clone(), 1, 1));
            }
            None => {
                return Err(Diagnostic::error(format!(
                    "dangling link: `{link_path}` points at `{rel}`, which does not exist"
                ))
                .at_pos(link_path.clone(), 1, 1)
                .hint("create the version directory or fix the path"));
            }
        }
    };
    let inside = version_dir.strip_prefix(component).and_then(|r| r.strip_prefix('/'));
    let version = inside.map(str::to_string).unwrap_or_else(|| version_dir.clone());
    let environment = dir.strip_prefix(component).and_then(|r| r.strip_prefix('/')).unwrap_or(dir).to_string();
    if environment.is_empty() {
        return Err(Diagnostic::error(format!("the component directory `{component}` itself has a `templates` entry"))
            .at(link_path)
            .hint("targets are subdirectories of a component, like `frontend/staging/templates`"));
    }
    if version_dir == dir || dir.starts_with(&format!("{version_dir}/")) {
        return Err(
            Diagnostic::error(format!("`{link_path}` points at its own target or an ancestor of it")).at(link_path)
        );
    }
    Ok(Target { component: component.to_string(), environment, dir: dir.to_string(), version_dir, version })
}

/// The `dependsOn` of the components `components` depend on, directly or not,
/// that are not among them: each one's `component.yaml` only (a name that is not
/// a directory stays unknown and is reported by [`check_depends_on`]).
fn dependency_configs(fs: &Fs, components: &[Component], diags: &mut Vec<Diagnostic>) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    let seen: BTreeSet<&str> = components.iter().map(|c| c.name.as_str()).collect();
    let mut todo: Vec<String> = components.iter().flat_map(|c| c.config.depends_on.iter().cloned()).collect();
    while let Some(dep) = todo.pop() {
        if seen.contains(dep.as_str())
            || out.contains_key(&dep)
            || !matches!(fs.entry_kind(&dep), Ok(Some(EntryKind::Dir)))
        {
            continue;
        }
        let path = source::join(&dep, COMPONENT_CONFIG);
        let config = match fs.read_optional(&path) {
            Ok(Some(text)) => config::parse_config::<ComponentConfig>(&text, &path).unwrap_or_else(|ds| {
                diags.extend(ds);
                ComponentConfig::default()
            }),
            Ok(None) => ComponentConfig::default(),
            Err(d) => {
                diags.push(d);
                ComponentConfig::default()
            }
        };
        todo.extend(config.depends_on.iter().cloned());
        out.insert(dep, config.depends_on);
    }
    out
}

fn check_depends_on(
    components: &[Component],
    undiscovered: &BTreeMap<String, Vec<String>>,
    diags: &mut Vec<Diagnostic>,
) {
    let all = || {
        let discovered = components.iter().map(|c| (c.name.as_str(), &c.config.depends_on[..]));
        discovered.chain(undiscovered.iter().map(|(n, d)| (n.as_str(), &d[..])))
    };
    let mut known: Vec<&str> = all().map(|(n, _)| n).collect();
    known.sort_unstable();
    let mut entries: Vec<(&str, &[String])> = all().collect();
    entries.sort_by_key(|(n, _)| *n);
    for (name, deps) in entries {
        for dep in deps {
            if dep == name || known.binary_search(&dep.as_str()).is_err() {
                let path = source::join(name, COMPONENT_CONFIG);
                let msg = if dep == name {
                    format!("component `{name}` depends on itself")
                } else {
                    format!("component `{name}` depends on unknown component `{dep}`")
                };
                diags.push(Diagnostic::error(msg).at(path).note(format!("components: {}", known.join(", "))));
            }
        }
    }
}

/// A command-line target selector.
#[derive(Debug)]
pub struct Selector {
    text: String,
    kind: SelectorKind,
}

#[derive(Debug)]
enum SelectorKind {
    Address(GlobMatcher),
    Component(String),
    Environment(GlobMatcher),
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, Diagnostic> {
        let glob = |pattern: &str| {
            GlobBuilder::new(pattern).literal_separator(true).build().map(|g| g.compile_matcher()).map_err(|e| {
                Diagnostic::error(format!("invalid selector `{text}`: {e}"))
                    .hint("use `component/environment`, `component`, `@environment`, or a glob like `*/prod/*`")
            })
        };
        let kind = if let Some(env) = text.strip_prefix('@') {
            SelectorKind::Environment(glob(env)?)
        } else if text.contains('/') || text.contains(['*', '?', '[', '{']) {
            SelectorKind::Address(glob(text.trim_end_matches('/'))?)
        } else {
            SelectorKind::Component(text.to_string())
        };
        Ok(Selector { text: text.to_string(), kind })
    }

    /// The one component this selector can match, when it names it literally.
    pub fn component(&self) -> Option<&str> {
        let literal = |s: &str| !s.is_empty() && !s.contains(['*', '?', '[', ']', '{', '}', '\\']);
        match &self.kind {
            SelectorKind::Component(c) => Some(c.as_str()),
            SelectorKind::Address(_) => {
                let first = self.text.split('/').next().unwrap_or("");
                literal(first).then_some(first)
            }
            SelectorKind::Environment(_) => None,
        }
    }

    /// The one target directory this selector can match, when it names it
    /// literally (`api/prod/east`, not `api/prod/*`): a path the discovery walk
    /// would enter, each name neither empty nor hidden.
    fn target_dir(&self) -> Option<&str> {
        let SelectorKind::Address(_) = self.kind else { return None };
        let text = self.text.trim_end_matches('/');
        let plain = |s: &str| !s.is_empty() && !s.starts_with('.') && !s.contains(['*', '?', '[', ']', '{', '}', '\\']);
        let mut parts = text.split('/');
        let first = parts.next()?;
        let rest: Vec<&str> = parts.collect();
        (!first.starts_with('_') && plain(first) && !rest.is_empty() && rest.iter().all(|p| plain(p))).then_some(text)
    }

    pub fn matches(&self, t: &Target) -> bool {
        match &self.kind {
            SelectorKind::Address(g) => g.is_match(t.address()),
            SelectorKind::Component(c) => &t.component == c,
            SelectorKind::Environment(g) => g.is_match(&t.environment),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;
    use std::sync::Arc;

    fn repo(entries: &[(&str, &str)]) -> Result<Repo, Error> {
        Repo::load(Fs::new(Arc::new(MemorySource::from_entries(entries))))
    }

    fn sample() -> Repo {
        repo(&[
            ("frontend/v1/d.yaml", ""),
            ("frontend/v2/d.yaml", ""),
            ("frontend/eastus/templates", "-> ../v1"),
            ("frontend/prod/westus/templates", "-> ../../v2"),
            ("frontend/staging/templates", "../v2\n"),
            ("api/v1/d.yaml", ""),
            ("api/eastus/templates", "-> ../v1"),
            ("_shared/x.yaml", ""),
            (".git/config", ""),
        ])
        .unwrap()
    }

    #[test]
    fn discovers_targets_links_and_link_files() {
        let r = sample();
        let addrs: Vec<String> = r.targets().map(Target::address).collect();
        assert_eq!(addrs, ["api/eastus", "frontend/eastus", "frontend/prod/westus", "frontend/staging"]);
        let west = r.targets().find(|t| t.environment == "prod/westus").unwrap();
        assert_eq!(west.version, "v2");
        assert_eq!(west.version_dir, "frontend/v2");
        let staging = r.targets().find(|t| t.environment == "staging").unwrap();
        assert_eq!(staging.version_dir, "frontend/v2");
    }

    #[test]
    fn selectors() {
        let r = sample();
        let sel = |s: &[&str]| -> Vec<String> {
            let s: Vec<String> = s.iter().map(|x| x.to_string()).collect();
            r.select(&s).unwrap().into_iter().map(Target::address).collect()
        };
        assert_eq!(sel(&["frontend/eastus"]), ["frontend/eastus"]);
        assert_eq!(sel(&["frontend"]), ["frontend/eastus", "frontend/prod/westus", "frontend/staging"]);
        assert_eq!(sel(&["@eastus"]), ["api/eastus", "frontend/eastus"]);
        assert_eq!(sel(&["*/prod/*"]), ["frontend/prod/westus"]);
        assert_eq!(sel(&["@prod/*", "api"]), ["api/eastus", "frontend/prod/westus"]);
        let e = r.select(&["nope".to_string()]).unwrap_err();
        assert!(e.messages().contains("selector `nope` matches no target"));
    }

    #[test]
    fn broken_links_are_reported_together() {
        let e = repo(&[
            ("a/v1/x.yaml", ""),
            ("a/east/templates", "-> ../../../outside"),
            ("a/west/templates", "-> ../v9"),
            ("a/north/templates", "-> loop"),
            ("a/north/loop", "-> templates"),
            ("a/south/templates", "../../../etc\n"),
        ])
        .unwrap_err();
        let m = e.messages();
        assert!(m.contains("points outside the repository"), "{m}");
        assert!(m.contains("dangling link"), "{m}");
        assert!(m.contains("link cycle"), "{m}");
        assert!(m.contains("link file `a/south/templates` points outside"), "{m}");
    }

    #[test]
    fn selectors_that_name_components_load_only_those_and_read_their_dependencies_config() {
        let m = MemorySource::from_entries(&[
            ("api/v1/d.yaml", ""),
            ("api/east/templates", "-> ../v1"),
            ("api/component.yaml", "dependsOn: [db]\n"),
            ("db/v1/d.yaml", ""),
            ("db/east/templates", "-> ../v1"),
            ("db/component.yaml", "dependsOn: [store]\n"),
            // A dependency's targets are not discovered: its broken link is not read.
            ("store/east/templates", "-> ../nowhere"),
            ("web/v1/d.yaml", ""),
            ("web/east/templates", "-> ../v1"),
            ("broken/east/templates", "-> ../nowhere"),
        ]);
        let fs = Fs::new(Arc::new(m));
        let names = |r: &Repo| r.components.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let deps = |r: &Repo| r.dependencies.iter().map(|(n, d)| format!("{n}:{}", d.join(","))).collect::<Vec<_>>();
        let sel = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        for (selectors, loaded, outline) in [
            (&["api/east"][..], &["api"][..], &["db:store", "store:"][..]),
            (&["web"][..], &["web"][..], &[][..]),
            (&["web/*", "db"][..], &["db", "web"][..], &["store:"][..]),
            (&["api", "db"][..], &["api", "db"][..], &["store:"][..]),
        ] {
            let r = Repo::load_for(fs.clone(), &sel(selectors)).unwrap();
            assert_eq!((names(&r), deps(&r)), (sel(loaded), sel(outline)), "{selectors:?}");
        }
        let r = Repo::load_for(fs.clone(), &sel(&["api"])).unwrap();
        let graph: Vec<(&str, &[String])> = r.depends_on().collect();
        assert_eq!(graph, [("api", &sel(&["db"])[..]), ("db", &sel(&["store"])[..]), ("store", &[][..])]);
        // Selectors that may match any component load everything (and find what is broken).
        for selectors in [&["@east"][..], &["*/east"][..], &[][..], &["nothing"][..]] {
            let e = Repo::load_for(fs.clone(), &sel(selectors)).unwrap_err();
            assert!(e.messages().contains("dangling link"), "{selectors:?}");
        }
        // An unknown dependency anywhere in the chain is still an error.
        let m = MemorySource::from_entries(&[
            ("api/v1/d.yaml", ""),
            ("api/east/templates", "-> ../v1"),
            ("api/component.yaml", "dependsOn: [db]\n"),
            ("db/component.yaml", "dependsOn: [cache]\n"),
        ]);
        let e = Repo::load_for(Fs::new(Arc::new(m)), &sel(&["api/east"])).unwrap_err();
        assert!(e.messages().contains("component `db` depends on unknown component `cache`"), "{}", e.messages());
    }

    #[test]
    fn a_literal_target_selector_reads_only_that_target_and_falls_back_to_the_component() {
        let m = MemorySource::from_entries(&[
            ("api/v1/d.yaml", ""),
            ("api/v2/d.yaml", ""),
            ("api/prod/east/templates", "-> ../../v1"),
            ("api/prod/east-2/templates", "-> ../../v2"),
            ("api/prod/east/inner/templates", "-> ../../../v2"),
            // A broken sibling: not read when one target is named.
            ("api/prod/west/templates", "-> ../../nowhere"),
            ("api/lab", "-> prod"),
            ("api/.hidden/templates", "-> ../v1"),
        ]);
        let fs = Fs::new(Arc::new(m));
        let sel = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let picked = |selectors: &[&str]| {
            let r = Repo::load_for(fs.clone(), &sel(selectors)).map_err(|e| e.messages())?;
            let found: Vec<(String, String)> = r.targets().map(|t| (t.address(), t.version.clone())).collect();
            Ok::<_, String>(found)
        };
        let pairs = |p: &[(&str, &str)]| p.iter().map(|(a, v)| (a.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(picked(&["api/prod/east"]), Ok(pairs(&[("api/prod/east", "v1")])));
        // Several, in the walk's order (depth first: `east/inner` before `east-2`), a trailing slash ignored.
        assert_eq!(
            picked(&["api/prod/east-2", "api/prod/east/inner/", "api/prod/east"]),
            Ok(pairs(&[("api/prod/east", "v1"), ("api/prod/east/inner", "v2"), ("api/prod/east-2", "v2")]))
        );
        // No target there, a path through a link, a hidden directory, a glob: the whole
        // component is walked, as before, and its broken target is reported.
        for selectors in
            [&["api/prod/north"][..], &["api/lab/east"], &["api/.hidden"], &["api/prod/eas?"], &["api/prod"]]
        {
            let e = picked(selectors).unwrap_err();
            assert!(e.contains("dangling link: `api/prod/west/templates`"), "{selectors:?}: {e}");
        }
    }

    #[test]
    fn unknown_dependency_is_an_error() {
        let e = repo(&[("a/v1/x.yaml", ""), ("a/e/templates", "-> ../v1"), ("a/component.yaml", "dependsOn: [db]\n")])
            .unwrap_err();
        assert!(e.messages().contains("depends on unknown component `db`"));
    }
}
