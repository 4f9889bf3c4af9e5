//! Publish: each environment's bundle as a reproducible, signed OCI artifact in
//! Flux's format, pushed to a registry; verifying such an artifact's signature;
//! reading one back for `diff --from oci://…`.
//!
//! In: a [`Repo`] and its selected targets (compiled and bundled as
//! `strata bundle` does, [`build`]), an `oci://HOST/REPOSITORY` ([`reference`]),
//! tag templates, credentials ([`credentials`]) and optionally a cosign key
//! ([`sign`]). Out: per environment, the artifact ([`artifact`]) pushed through
//! [`registry`]: blobs the registry lacks, the manifest by digest, the
//! signature (`sha256-<hex>.sig`), and only then the tags. A failure before
//! the tags leaves no tag pointing at an incomplete artifact.
//!
//! Invariants: the same commit gives the same digests on any machine; secrets
//! (passwords, keys) never appear in output or errors.

pub mod artifact;
pub mod build;
pub mod credentials;
pub mod reference;
pub mod registry;
pub mod remote;
pub mod sign;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use self::artifact::{Artifact, MANIFEST_MEDIA_TYPE, Manifest};
use self::credentials::Credential;
use self::reference::OciRef;
use self::registry::{Failure, Registry};
use self::sign::{Key, PublicKey};
use crate::diag::{Diagnostic, Error};
use crate::pipeline::Options;
use crate::repo::{Repo, Target};

/// The tag template used when no `--tag` is given.
pub const DEFAULT_TAG: &str = "{environment}";

/// Where and how to publish.
#[derive(Debug)]
pub struct PublishOptions<'k> {
    /// `oci://HOST/REPOSITORY`, without tag or digest.
    pub to: OciRef,
    /// Tag templates: `{environment}` (`prod/westus` → `prod-westus`), `{commit}`.
    pub tags: Vec<String>,
    pub key: Option<&'k Key>,
    pub insecure: bool,
    pub credential: Credential,
    /// `org.opencontainers.image.source`, instead of the `origin` remote's URL.
    pub source: Option<String>,
}

/// One environment's artifact, as pushed.
#[derive(Debug, Clone, Serialize)]
pub struct Pushed {
    pub environment: String,
    pub digest: String,
    /// `oci://HOST/REPOSITORY:TAG`, in the order given.
    pub tags: Vec<String>,
    /// The signature's tag (`sha256-<hex>.sig`), when signed.
    pub signature: Option<String>,
    /// Bytes of the layer (the compressed bundle).
    pub size: u64,
}

/// What [`publish`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub repository: String,
    pub revision: String,
    pub artifacts: Vec<Pushed>,
    /// Blobs uploaded, and blobs the registry already had.
    pub uploaded: usize,
    pub present: usize,
    #[serde(skip)]
    pub warnings: Vec<Diagnostic>,
}

/// Builds every selected environment's artifact and pushes it to `opts.to`.
pub fn publish(
    root: &Path,
    repo: &Repo,
    targets: &[&Target],
    compile: &Options,
    opts: &PublishOptions<'_>,
) -> Result<Published, Error> {
    if opts.to.tag.is_some() || opts.to.digest.is_some() {
        return Err(Diagnostic::error(format!(
            "`{}` names a tag or digest; publish names the repository only",
            opts.to
        ))
        .hint(format!("publish to `oci://{}` and choose tags with `--tag '{{environment}}'`", opts.to.name()))
        .into());
    }
    let built = build::build(root, repo, targets, compile, opts.source.as_deref())?;
    let commit = built.provenance.revision.rsplit(':').next().unwrap_or_default().to_string();
    let tags = tags_of(&built.artifacts, &opts.tags, &commit)?;
    let registry = Registry::new(&opts.to, opts.credential.clone(), opts.insecure)?;
    registry.login(&opts.to, true)?;
    let (mut uploaded, mut present) = push_by_digest(&registry, opts, &built.artifacts)?;
    let mut upload = |bytes: &[u8]| -> Result<(), Diagnostic> {
        let digest = artifact::digest(bytes);
        if registry.has_blob(&opts.to, &digest)? {
            present += 1;
            Ok(())
        } else {
            uploaded += 1;
            registry.push_blob(&opts.to, bytes, &digest)
        }
    };
    let mut signatures = BTreeMap::new();
    if let Some(key) = opts.key {
        for a in &built.artifacts {
            signatures.insert(a.environment.clone(), sign_one(&registry, &opts.to, a, key, &mut upload)?);
        }
    }
    let mut artifacts = Vec::new();
    for (a, tags) in built.artifacts.iter().zip(tags) {
        for t in &tags {
            registry.push_manifest(&opts.to.with_tag(t), &a.manifest, MANIFEST_MEDIA_TYPE)?;
        }
        artifacts.push(Pushed {
            environment: a.environment.clone(),
            digest: a.digest.clone(),
            tags: tags.iter().map(|t| opts.to.with_tag(t).to_string()).collect(),
            signature: signatures.remove(&a.environment),
            size: a.layer.len() as u64,
        });
    }
    Ok(Published {
        repository: format!("oci://{}", opts.to.name()),
        revision: built.provenance.revision,
        artifacts,
        uploaded,
        present,
        warnings: built.warnings,
    })
}

/// Connections a publish uploads on at once.
const CONNECTIONS: usize = 4;

/// Every artifact's blobs the registry lacks, then every manifest by digest (a
/// registry refuses a manifest whose blobs it lacks), each phase on up to
/// [`CONNECTIONS`] connections: `first` and new ones. Returns the blobs uploaded
/// and those already there, counted per artifact that names them (the config
/// blob `{}` every artifact shares is uploaded once, then present).
fn push_by_digest(
    first: &Registry,
    opts: &PublishOptions<'_>,
    artifacts: &[Artifact],
) -> Result<(usize, usize), Error> {
    let mut seen = std::collections::HashSet::new();
    let mut blobs: Vec<(String, &[u8])> = Vec::new();
    for bytes in artifacts.iter().flat_map(|a| [&a.layer[..], &a.config[..]]) {
        let digest = artifact::digest(bytes);
        if seen.insert(digest.clone()) {
            blobs.push((digest, bytes));
        }
    }
    let workers = CONNECTIONS.min(blobs.len().max(artifacts.len())).max(1);
    let mut registries = Vec::with_capacity(workers - 1);
    for _ in 1..workers {
        let r = Registry::new(&opts.to, opts.credential.clone(), opts.insecure)?;
        r.login(&opts.to, true)?;
        registries.push(r);
    }
    let connections: Vec<&Registry> = std::iter::once(first).chain(&registries).collect();
    let missing = on_connections(&connections, &blobs, |r, (digest, bytes)| {
        if r.has_blob(&opts.to, digest)? {
            return Ok(false);
        }
        r.push_blob(&opts.to, bytes, digest)?;
        Ok(true)
    })?;
    on_connections(&connections, artifacts, |r, a| {
        r.push_manifest(&opts.to.with_digest(&a.digest), &a.manifest, MANIFEST_MEDIA_TYPE)
    })?;
    let uploaded = missing.iter().filter(|m| **m).count();
    Ok((uploaded, artifacts.len() * 2 - uploaded))
}

/// `f` of every item, each connection on a thread of its own taking the next
/// item; the results in the items' order, or the first item's error in that order.
fn on_connections<T: Sync, R: Send>(
    connections: &[&Registry],
    items: &[T],
    f: impl Fn(&Registry, &T) -> Result<R, Diagnostic> + Sync,
) -> Result<Vec<R>, Error> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<R, Diagnostic>>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for r in connections {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(r, item);
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(result);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = Vec::with_capacity(items.len());
    for result in results {
        match result {
            Some(Ok(v)) => out.push(v),
            Some(Err(d)) => return Err(d.into()),
            // Not reached: another item failed first.
            None => {}
        }
    }
    Ok(out)
}

/// Per artifact, its tags: the templates filled, checked, none naming two artifacts.
fn tags_of(artifacts: &[Artifact], templates: &[String], commit: &str) -> Result<Vec<Vec<String>>, Error> {
    let templates: Vec<&str> =
        if templates.is_empty() { vec![DEFAULT_TAG] } else { templates.iter().map(String::as_str).collect() };
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    let mut out = Vec::new();
    for a in artifacts {
        let mut tags = Vec::new();
        for t in &templates {
            let tag = t.replace("{environment}", &a.environment.replace('/', "-")).replace("{commit}", commit);
            reference::check_tag(&tag).map_err(|why| {
                Diagnostic::error(format!("`--tag {t}` gives an invalid tag for `{}`: {why}", a.environment))
                    .hint("tags may use `{environment}` and `{commit}` between letters, digits, `_`, `.` and `-`")
            })?;
            if let Some(other) = owner.insert(tag.clone(), &a.environment)
                && other != a.environment
            {
                return Err(Diagnostic::error(format!(
                    "`--tag {t}` gives tag `{tag}` to both `{other}` and `{}`",
                    a.environment
                ))
                .hint("put `{environment}` in the tag, e.g. `--tag '{environment}'`")
                .into());
            }
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        out.push(tags);
    }
    Ok(out)
}

/// Signs `a`'s manifest digest with `key` and pushes the signature under `sha256-<hex>.sig`.
fn sign_one(
    registry: &Registry,
    to: &OciRef,
    a: &Artifact,
    key: &Key,
    upload: &mut dyn FnMut(&[u8]) -> Result<(), Diagnostic>,
) -> Result<String, Error> {
    let tag = sign::signature_tag(&a.digest);
    let at = to.with_tag(&tag);
    let existing = match registry.pull_manifest(&at, &[MANIFEST_MEDIA_TYPE]) {
        Ok((bytes, _)) => serde_json::from_slice::<Manifest>(&bytes).ok(),
        Err((Failure::NotFound, _)) => None,
        Err((_, d)) => return Err(d.into()),
    };
    let payload = sign::payload(&to.name(), &a.digest);
    let signature = key.sign(&payload);
    let (manifest, config) = sign::signature_manifest(&payload, &signature, existing.as_ref());
    upload(&payload)?;
    upload(&config)?;
    registry.push_manifest(&at, &manifest, MANIFEST_MEDIA_TYPE)?;
    Ok(tag)
}

/// What [`verify`] found.
#[derive(Debug, Clone, Serialize)]
pub struct Verified {
    pub reference: String,
    pub digest: String,
    /// The signature layers that failed, with why; empty when `good`.
    pub problems: Vec<String>,
    pub good: bool,
}

/// Checks that `at` (a tag or digest) carries a cosign signature of `key`.
pub fn verify(at: &OciRef, key: &PublicKey, insecure: bool, credential: Credential) -> Result<Verified, Error> {
    let registry = Registry::new(at, credential, insecure)?;
    registry.login(at, false)?;
    let (_, digest) = pull_manifest(&registry, at)?;
    let mut verified =
        Verified { reference: at.to_string(), digest: digest.clone(), problems: Vec::new(), good: false };
    let sig_at = at.with_tag(&sign::signature_tag(&digest));
    let signatures = match registry.pull_manifest(&sig_at, &[MANIFEST_MEDIA_TYPE]) {
        Ok((b, _)) => serde_json::from_slice::<Manifest>(&b)
            .map_err(|e| Diagnostic::error(format!("the signature manifest `{sig_at}` is not an OCI manifest: {e}")))?,
        Err((Failure::NotFound, _)) => {
            verified.problems.push(format!("no signature: `{sig_at}` does not exist"));
            return Ok(verified);
        }
        Err((_, d)) => return Err(d.into()),
    };
    for layer in &signatures.layers {
        let payload = registry.pull_blob(at, &layer.digest)?;
        match sign::check_layer(layer, &payload, key, &digest) {
            None => verified.good = true,
            Some(why) => verified.problems.push(why),
        }
    }
    if verified.good {
        verified.problems.clear();
    } else if signatures.layers.is_empty() {
        verified.problems.push(format!("`{sig_at}` holds no signature"));
    }
    Ok(verified)
}

/// The manifest at `at` and its digest, checked: the bytes hash to it, and to
/// `at`'s digest when it names one. A missing tag is an input error.
fn pull_manifest(registry: &Registry, at: &OciRef) -> Result<(Vec<u8>, String), Error> {
    let (bytes, _) = match registry.pull_manifest(at, &[MANIFEST_MEDIA_TYPE]) {
        Ok(v) => v,
        Err((Failure::NotFound, _)) => {
            return Err(Diagnostic::error(format!("`{at}` does not exist in the registry"))
                .hint(format!(
                    "list its tags with `skopeo list-tags docker://{}`, or publish it with `strata publish oci://{}`",
                    at.name(),
                    at.name()
                ))
                .into());
        }
        Err((_, d)) => return Err(d.into()),
    };
    let digest = artifact::digest(&bytes);
    if let Some(want) = &at.digest
        && *want != digest
    {
        return Err(
            Diagnostic::error(format!("the registry answered `{at}` with a manifest of digest {digest}")).into()
        );
    }
    Ok((bytes, digest))
}
