//! cosign-compatible signatures (cosign's "simple signing" format, key-based).
//!
//! In: a private key file (cosign's encrypted format, PEM `ENCRYPTED SIGSTORE
//! PRIVATE KEY` or the older `ENCRYPTED COSIGN PRIVATE KEY`: JSON with an
//! `scrypt` KDF and a `nacl/secretbox` cipher around a PKCS#8 key, the password
//! from `COSIGN_PASSWORD`; or a plain PKCS#8 / SEC1 PEM), or a public key (PEM
//! `PUBLIC KEY`, SPKI). ECDSA P-256 with SHA-256, the keys `cosign generate-key-pair` makes.
//!
//! Out: for a manifest digest, the payload cosign signs
//! (`{"critical":{"identity":{"docker-reference":…},"image":{"docker-manifest-digest":…},"type":"cosign container image signature"},"optional":null}`)
//! and its signature (ASN.1 DER, base64), stored as a layer of media type
//! `application/vnd.dev.cosign.simplesigning.v1+json` with the annotation
//! `dev.cosignproject.cosign/signature` in the manifest tagged
//! `sha256-<hex>.sig` beside the artifact: what `cosign verify --key` and
//! Flux's `OCIRepository` `spec.verify` (provider `cosign`) read.
//!
//! ECDSA signatures here are deterministic (RFC 6979): signing the same digest
//! with the same key gives the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey};
use serde::Deserialize;

use super::artifact::{Descriptor, MANIFEST_MEDIA_TYPE, Manifest, digest};
use crate::diag::Diagnostic;

pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const PAYLOAD_TYPE: &str = "cosign container image signature";
/// The environment variable holding the password of an encrypted key, as cosign reads it.
pub const PASSWORD_VARIABLE: &str = "COSIGN_PASSWORD";
/// The largest scrypt cost accepted (2^20: 1 GiB with r = 8), so a key file cannot exhaust memory.
const MAX_LOG_N: u8 = 20;

/// The tag of the signature of the manifest `digest`: `sha256-<hex>.sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

/// The simple-signing payload for `manifest_digest` of the image named `name` (`HOST/REPOSITORY`).
pub fn payload(name: &str, manifest_digest: &str) -> Vec<u8> {
    let v = serde_json::json!({
        "critical": {
            "identity": {"docker-reference": name},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": PAYLOAD_TYPE,
        },
        "optional": null,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}

/// A private key read from a file.
pub struct Key {
    signing: SigningKey,
    /// The file, as messages name it.
    pub path: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.path)
    }
}

impl Key {
    /// Reads `path`; an encrypted key is opened with `password` (`COSIGN_PASSWORD`).
    pub fn read(path: &Path, password: Option<&str>) -> Result<Key, Diagnostic> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| Diagnostic::error(format!("cannot read `{shown}`: {e}")))?;
        let (label, der) = pem(&text).map_err(|why| bad_key(&shown, &why))?;
        let der = match label.as_str() {
            "ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY" => {
                let password = password.ok_or_else(|| {
                    Diagnostic::error(format!("`{shown}` is encrypted and `{PASSWORD_VARIABLE}` is not set"))
                        .hint(format!("set `{PASSWORD_VARIABLE}` to the key's password (empty for none)"))
                })?;
                decrypt(&der, password.as_bytes()).map_err(|why| bad_key(&shown, &why))?
            }
            "PRIVATE KEY" | "EC PRIVATE KEY" => der,
            other => return Err(bad_key(&shown, &format!("a PEM `{other}` block is not a private key"))),
        };
        let secret = if label == "EC PRIVATE KEY" {
            p256::SecretKey::from_sec1_der(&der).map_err(|e| e.to_string())
        } else {
            p256::SecretKey::from_pkcs8_der(&der).map_err(|e| e.to_string())
        };
        let secret = secret.map_err(|e| bad_key(&shown, &format!("not an ECDSA P-256 private key ({e})")))?;
        Ok(Key { signing: SigningKey::from(secret), path: shown })
    }

    /// The signature of `payload`: ECDSA P-256 over its SHA-256, ASN.1 DER.
    pub fn sign(&self, payload: &[u8]) -> Vec<u8> {
        let sig: Signature = self.signing.sign(payload);
        sig.to_der().as_bytes().to_vec()
    }

    /// The matching public key.
    #[cfg(test)]
    pub fn public(&self) -> PublicKey {
        PublicKey { verifying: *self.signing.verifying_key(), path: self.path.clone() }
    }
}

/// A public key read from a file (`cosign.pub`).
#[derive(Debug, Clone)]
pub struct PublicKey {
    verifying: VerifyingKey,
    pub path: String,
}

impl PublicKey {
    pub fn read(path: &Path) -> Result<PublicKey, Diagnostic> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| Diagnostic::error(format!("cannot read `{shown}`: {e}")))?;
        let (label, der) = pem(&text).map_err(|why| bad_key(&shown, &why))?;
        if label != "PUBLIC KEY" {
            return Err(bad_key(&shown, &format!("a PEM `{label}` block is not a public key (`PUBLIC KEY`)")));
        }
        let key = p256::PublicKey::from_public_key_der(&der)
            .map_err(|e| bad_key(&shown, &format!("not an ECDSA P-256 public key ({e})")))?;
        Ok(PublicKey { verifying: VerifyingKey::from(key), path: shown })
    }

    /// Whether `signature` (DER) is this key's signature of `payload`.
    pub fn verifies(&self, payload: &[u8], signature: &[u8]) -> bool {
        Signature::from_der(signature).is_ok_and(|s| self.verifying.verify(payload, &s).is_ok())
    }
}

fn bad_key(path: &str, why: &str) -> Diagnostic {
    Diagnostic::error(format!("`{path}` is not a usable cosign key: {why}"))
        .at(path.to_string())
        .hint("use a key of `cosign generate-key-pair` (ECDSA P-256), or a PKCS#8 PEM P-256 key")
}

/// The first PEM block of `text`: its label and decoded body.
fn pem(text: &str) -> Result<(String, Vec<u8>), String> {
    let begin = text.find("-----BEGIN ").ok_or("no PEM block (`-----BEGIN …-----`)")?;
    let rest = &text[begin + 11..];
    let (label, rest) = rest.split_once("-----").ok_or("a PEM header without its closing `-----`")?;
    let end = format!("-----END {label}-----");
    let body = &rest[..rest.find(&end).ok_or_else(|| format!("no `{end}`"))?];
    let body: String = body.lines().filter(|l| !l.contains(':')).flat_map(|l| l.trim().chars()).collect();
    let der = BASE64.decode(body).map_err(|e| format!("the PEM body is not base64 ({e})"))?;
    Ok((label.to_string(), der))
}

#[derive(Deserialize)]
struct Encrypted {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Deserialize)]
struct Kdf {
    name: String,
    params: KdfParams,
    salt: String,
}

#[derive(Deserialize)]
struct KdfParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// cosign's encrypted key body (JSON) → the PKCS#8 DER inside.
fn decrypt(body: &[u8], password: &[u8]) -> Result<Vec<u8>, String> {
    use crypto_secretbox::aead::{Aead, KeyInit};
    let e: Encrypted =
        serde_json::from_slice(body).map_err(|e| format!("the encrypted key is not cosign's JSON ({e})"))?;
    if e.kdf.name != "scrypt" || e.cipher.name != "nacl/secretbox" {
        return Err(format!(
            "unknown kdf `{}` or cipher `{}` (expected `scrypt`, `nacl/secretbox`)",
            e.kdf.name, e.cipher.name
        ));
    }
    let n = e.kdf.params.n;
    if !n.is_power_of_two() || n < 2 || n.trailing_zeros() > u32::from(MAX_LOG_N) {
        return Err(format!("scrypt N = {n} is not a power of two up to 2^{MAX_LOG_N}"));
    }
    let log_n = n.trailing_zeros() as u8;
    let params = scrypt::Params::new(log_n, e.kdf.params.r, e.kdf.params.p, 32)
        .map_err(|e| format!("bad scrypt parameters ({e})"))?;
    let decode = |what: &str, s: &str| BASE64.decode(s).map_err(|e| format!("the {what} is not base64 ({e})"));
    let salt = decode("salt", &e.kdf.salt)?;
    let nonce = decode("nonce", &e.cipher.nonce)?;
    let ciphertext = decode("ciphertext", &e.ciphertext)?;
    if nonce.len() != 24 {
        return Err("the secretbox nonce is not 24 bytes".to_string());
    }
    let mut key = [0u8; 32];
    scrypt::scrypt(password, &salt, &params, &mut key).map_err(|e| format!("scrypt failed ({e})"))?;
    let cipher = crypto_secretbox::XSalsa20Poly1305::new(&key.into());
    cipher
        .decrypt(crypto_secretbox::Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map_err(|_| format!("wrong password (`{PASSWORD_VARIABLE}`), or the key file is damaged"))
}

/// The signature manifest of `manifest_digest` with this `signature` of
/// `payload`, after the layers of `existing` (other keys' signatures kept;
/// the same signature not added twice). Returns the manifest, the config and
/// the payload, as pushed.
pub fn signature_manifest(payload: &[u8], signature: &[u8], existing: Option<&Manifest>) -> (Vec<u8>, Vec<u8>) {
    let mut layer = Descriptor::of(PAYLOAD_MEDIA_TYPE, payload);
    layer.annotations.insert(SIGNATURE_ANNOTATION.to_string(), BASE64.encode(signature));
    let mut layers: Vec<Descriptor> = existing.map(|m| m.layers.clone()).unwrap_or_default();
    if !layers.contains(&layer) {
        layers.push(layer);
    }
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    // The image config cosign writes for its signature images.
    let config = serde_json::json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"diff_ids": diff_ids, "type": "layers"},
    });
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let manifest = Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE.to_string(),
        config: Descriptor::of(CONFIG_MEDIA_TYPE, &config),
        layers,
        annotations: BTreeMap::new(),
    };
    (manifest.to_bytes(), config)
}

/// Why one signature layer does not vouch for `manifest_digest` under `key`, or `None` when it does.
pub fn check_layer(layer: &Descriptor, payload: &[u8], key: &PublicKey, manifest_digest: &str) -> Option<String> {
    if layer.media_type != PAYLOAD_MEDIA_TYPE {
        return Some(format!("layer {} is not a simple-signing payload", layer.digest));
    }
    if digest(payload) != layer.digest {
        return Some(format!("payload {} does not match its digest", layer.digest));
    }
    let Some(sig) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
        return Some(format!("layer {} has no `{SIGNATURE_ANNOTATION}`", layer.digest));
    };
    let Ok(sig) = BASE64.decode(sig) else { return Some(format!("the signature of {} is not base64", layer.digest)) };
    if !key.verifies(payload, &sig) {
        return Some(format!("the signature in layer {} is not one of `{}`", layer.digest, key.path));
    }
    let v: serde_json::Value = match serde_json::from_slice(payload) {
        Ok(v) => v,
        Err(_) => return Some(format!("payload {} is not JSON", layer.digest)),
    };
    let critical = &v["critical"];
    if critical["type"] != PAYLOAD_TYPE {
        return Some(format!("payload {} is not of type `{PAYLOAD_TYPE}`", layer.digest));
    }
    let signed = critical["image"]["docker-manifest-digest"].as_str().unwrap_or("");
    if signed != manifest_digest {
        return Some(format!("payload {} signs {signed}, not {manifest_digest}", layer.digest));
    }
    None
}

#[cfg(test)]
mod tests;
