//! `strata verify`: check an artifact's cosign signature.

use std::path::PathBuf;

use super::publish::RegistryArgs;
use super::{Global, Outcome};
use crate::diag::Error;
use crate::publish::reference::OciRef;
use crate::publish::sign::PublicKey;
use crate::publish::{self, Verified};

/// Check that an OCI artifact carries a cosign signature made with a key.
///
/// Reads the artifact's manifest (by tag or digest), the signature stored beside it
/// as cosign stores it (`sha256-<digest>.sig`: simple-signing payloads with a
/// `dev.cosignproject.cosign/signature` annotation), and accepts it when one
/// payload names the artifact's manifest digest and its ECDSA P-256 signature
/// verifies with `--key` (a `cosign.pub`). Keyless (certificate) signatures are not
/// checked.
///
/// Exit codes: 0 signed by the key, 1 not signed, or not by this key, 2 bad input
/// (reference, key, unknown tag, registry refusing).
///
/// Examples:
///   strata verify oci://ghcr.io/shop/config:eastus --key cosign.pub
///   strata verify oci://127.0.0.1:5000/shop@sha256:… --key cosign.pub --format json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, after_help = "Docs: docs/reference/publish.md")]
pub struct VerifyArgs {
    /// The artifact: `oci://HOST/REPOSITORY:TAG` or `oci://HOST/REPOSITORY@sha256:DIGEST`.
    #[arg(value_name = "oci://HOST/REPOSITORY[:TAG|@DIGEST]")]
    pub artifact: String,
    /// The public key (PEM `PUBLIC KEY`, e.g. `cosign.pub`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Output format: `text` or `json`.
    #[arg(long, value_enum, default_value_t = super::publish::Format::Text)]
    pub format: super::publish::Format,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub fn run(_global: &Global, args: VerifyArgs) -> Result<Outcome, Error> {
    let at = OciRef::parse(&args.artifact)?;
    let key = PublicKey::read(&args.key)?;
    let credential = args.registry.credential(&at)?;
    let verified = publish::verify(&at, &key, args.registry.insecure, credential)?;
    let out = match args.format {
        super::publish::Format::Json => {
            let mut json = serde_json::to_string_pretty(&verified).unwrap_or_default();
            json.push('\n');
            json
        }
        super::publish::Format::Text => text(&verified, &key),
    };
    super::write_stdout(out.as_bytes())?;
    Ok(if verified.good { Outcome::Ok } else { Outcome::Found })
}

fn text(v: &Verified, key: &PublicKey) -> String {
    if v.good {
        return format!("verified: {} ({}) is signed by `{}`\n", v.reference, v.digest, key.path);
    }
    let mut out = format!("not verified: {} ({}) has no valid signature of `{}`\n", v.reference, v.digest, key.path);
    for p in &v.problems {
        out.push_str(&format!("  {p}\n"));
    }
    out
}
