//! One environment's bundle as an OCI artifact in Flux's format.
//!
//! In: the environment's bundle files (paths relative to the bundle directory,
//! `index.json` included) and its [`Provenance`]. Out: an [`Artifact`]: the
//! layer (a tar + gzip of the files), the config blob and the manifest, each as
//! the exact bytes pushed, and the manifest's digest.
//!
//! Invariant: the same files and provenance give the same bytes on any machine,
//! umask, time zone and path: entries sorted by path, directories and files with
//! fixed modes (0755 / 0644), owner 0:0 without names, mtime 0; gzip with header
//! mtime 0, no file name, OS byte "unknown", level 6; JSON with sorted keys.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::{Compression, GzBuilder};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::diag::{Diagnostic, Error, ErrorKind};

/// The manifest's media type (OCI image manifest, as `flux push artifact` writes).
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Flux's config media type.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.flux.config.v1+json";
/// Flux's content layer media type.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";

/// The annotations Flux reads (`OCIRepository` status, `flux list artifacts`).
pub const SOURCE: &str = "org.opencontainers.image.source";
pub const REVISION: &str = "org.opencontainers.image.revision";
pub const CREATED: &str = "org.opencontainers.image.created";
/// strata's own.
pub const ENVIRONMENT: &str = "dev.strata.environment";
pub const WAVE: &str = "dev.strata.wave";
pub const VERSION: &str = "dev.strata.version";

/// Where the files come from, as the annotations say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The git URL (`org.opencontainers.image.source`), when known.
    pub source: Option<String>,
    /// `BRANCH@sha1:COMMIT` (or `sha1:COMMIT` for a detached revision).
    pub revision: String,
    /// The commit's time, RFC 3339 UTC.
    pub created: String,
}

/// One environment's artifact: the bytes pushed.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub environment: String,
    pub layer: Vec<u8>,
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
    /// `sha256:…` of [`Artifact::manifest`].
    pub digest: String,
}

/// A content descriptor, as manifests hold them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: digest(bytes),
            size: bytes.len() as u64,
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image manifest (the fields strata writes and reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// The manifest's bytes: compact JSON, fields in a fixed order, maps sorted.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in Sha256::digest(bytes).iter() {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The artifact of `environment` (its `wave`) from its bundle `files`.
pub fn build(
    environment: &str,
    wave: &str,
    files: &BTreeMap<String, Vec<u8>>,
    provenance: &Provenance,
) -> Result<Artifact, Error> {
    let layer = layer(files)?;
    // Flux's config blob is an empty JSON object.
    let config = b"{}".to_vec();
    let mut annotations = BTreeMap::new();
    if let Some(source) = &provenance.source {
        annotations.insert(SOURCE.to_string(), source.clone());
    }
    annotations.insert(REVISION.to_string(), provenance.revision.clone());
    annotations.insert(CREATED.to_string(), provenance.created.clone());
    annotations.insert(ENVIRONMENT.to_string(), environment.to_string());
    annotations.insert(WAVE.to_string(), wave.to_string());
    annotations.insert(VERSION.to_string(), env!("CARGO_PKG_VERSION").to_string());
    let manifest = Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE.to_string(),
        config: Descriptor::of(CONFIG_MEDIA_TYPE, &config),
        layers: vec![Descriptor::of(LAYER_MEDIA_TYPE, &layer)],
        annotations,
    }
    .to_bytes();
    let digest = digest(&manifest);
    Ok(Artifact { environment: environment.to_string(), layer, config, manifest, digest })
}

/// The reproducible tar + gzip of `files`: parent directories first, entries
/// sorted by path, fixed modes, owners and times.
pub fn layer(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, Error> {
    let mut entries: BTreeMap<&str, Option<&[u8]>> = BTreeMap::new();
    for (path, bytes) in files {
        let mut at = path.as_str();
        while let Some((parent, _)) = at.rsplit_once('/') {
            entries.entry(parent).or_insert(None);
            at = parent;
        }
        entries.insert(path, Some(bytes));
    }
    let gz = GzBuilder::new().mtime(0).operating_system(255).write(Vec::new(), Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        let result = match bytes {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, format!("{path}/"), std::io::empty())
            }
            Some(bytes) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(bytes.len() as u64);
                tar.append_data(&mut header, path, bytes)
            }
        };
        result.map_err(|e| bug(format!("cannot add `{path}` to the artifact's layer: {e}")))?;
    }
    let gz = tar.into_inner().map_err(|e| bug(format!("cannot finish the artifact's layer: {e}")))?;
    let mut out = gz.finish().map_err(|e| bug(format!("cannot compress the artifact's layer: {e}")))?;
    out.flush().ok();
    Ok(out)
}

/// The files of a layer (regular files only), by path: what `diff --from oci://`
/// and `verify` read back.
pub fn unpack(layer: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer));
    let mut out = BTreeMap::new();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().map_err(|e| e.to_string())?.to_string_lossy().trim_start_matches("./").to_string();
        if path.split('/').any(|p| p == ".." || p.is_empty()) {
            return Err(format!("entry `{path}` leaves the artifact"));
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(|e| e.to_string())?;
        out.insert(path, bytes);
    }
    Ok(out)
}

fn bug(message: String) -> Error {
    Error { kind: ErrorKind::Bug, diagnostics: vec![Diagnostic::error(message)] }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> BTreeMap<String, Vec<u8>> {
        [
            ("index.json", "{}\n"),
            ("prod/westus/00-wave-0-namespaces.yaml", "---\nkind: Namespace\n"),
            ("prod/westus/01-wave-0-resources.yaml", "---\nkind: ConfigMap\n"),
        ]
        .into_iter()
        .map(|(p, t)| (p.to_string(), t.as_bytes().to_vec()))
        .collect()
    }

    fn provenance() -> Provenance {
        Provenance {
            source: Some("https://git.example.com/shop.git".into()),
            revision: "main@sha1:0123456789abcdef0123456789abcdef01234567".into(),
            created: "2026-12-07T06:00:00Z".into(),
        }
    }

    #[test]
    fn the_same_files_give_the_same_bytes() {
        let a = build("prod/westus", "everywhere", &files(), &provenance()).unwrap();
        let b = build("prod/westus", "everywhere", &files(), &provenance()).unwrap();
        assert_eq!(a.layer, b.layer);
        assert_eq!(a.digest, b.digest);
        let mut changed = files();
        changed.insert("index.json".into(), b"{ }\n".to_vec());
        assert_ne!(build("prod/westus", "everywhere", &changed, &provenance()).unwrap().digest, a.digest);
    }

    #[test]
    fn gzip_header_has_no_time_name_or_machine() {
        let layer = layer(&files()).unwrap();
        // ID1 ID2 CM FLG MTIME(4) XFL OS
        assert_eq!(&layer[..4], &[0x1f, 0x8b, 8, 0], "no FNAME flag");
        assert_eq!(&layer[4..8], &[0, 0, 0, 0], "mtime 0");
        assert_eq!(layer[9], 255, "OS unknown");
    }

    #[test]
    fn layer_entries_are_sorted_with_fixed_metadata_and_read_back() {
        let layer = layer(&files()).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&layer[..]));
        let mut seen = Vec::new();
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()), (0, 0, 0));
            let mode = if h.entry_type().is_dir() { 0o755 } else { 0o644 };
            assert_eq!(h.mode().unwrap(), mode);
            seen.push(e.path().unwrap().to_string_lossy().to_string());
        }
        assert_eq!(
            seen,
            [
                "index.json",
                "prod/",
                "prod/westus/",
                "prod/westus/00-wave-0-namespaces.yaml",
                "prod/westus/01-wave-0-resources.yaml"
            ]
        );
        assert_eq!(unpack(&layer).unwrap(), files());
    }

    #[test]
    fn manifest_carries_flux_media_types_and_annotations() {
        let a = build("eastus", "canary", &files(), &provenance()).unwrap();
        let m: Manifest = serde_json::from_slice(&a.manifest).unwrap();
        assert_eq!(m.config.media_type, CONFIG_MEDIA_TYPE);
        assert_eq!(m.config.digest, digest(b"{}"));
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.layers[0].media_type, LAYER_MEDIA_TYPE);
        assert_eq!(m.layers[0].size, a.layer.len() as u64);
        assert_eq!(m.annotations[REVISION], provenance().revision);
        assert_eq!(m.annotations[CREATED], "2026-12-07T06:00:00Z");
        assert_eq!(m.annotations[ENVIRONMENT], "eastus");
        assert_eq!(m.annotations[WAVE], "canary");
        assert_eq!(a.digest, digest(&a.manifest));
    }
}
