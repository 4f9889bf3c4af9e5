//! `strata publish`: each environment's bundle as a signed OCI artifact in Flux's format.

use std::io::Read;
use std::path::PathBuf;

use super::revision::{RevisionArgs, on_arg};
use super::{Global, Outcome, ValuesArgs};
use crate::diag::{Diagnostic, Error};
use crate::publish::credentials::{self, Credential};
use crate::publish::reference::OciRef;
use crate::publish::sign::{Key, PASSWORD_VARIABLE};
use crate::publish::{self, PublishOptions, Published};

/// Push each environment's bundle to an OCI registry as a Flux artifact, optionally signed.
///
/// Per environment, the files `strata bundle` writes for it (its phase files and an
/// `index.json` naming it) become one artifact as `flux push artifact` makes them:
/// config `application/vnd.cncf.flux.config.v1+json`, one layer
/// `application/vnd.cncf.flux.content.v1.tar+gzip`, and the annotations
/// `org.opencontainers.image.source` (the `origin` remote, or `--source`),
/// `org.opencontainers.image.revision` (`BRANCH@sha1:COMMIT`),
/// `org.opencontainers.image.created` (the commit's time) and strata's
/// `dev.strata.environment`, `dev.strata.wave`, `dev.strata.version`. The layer is
/// reproducible: the same commit gives the same digest on any machine.
///
/// Tags: `--tag` templates (repeatable) with `{environment}` (`prod/westus` →
/// `prod-westus`) and `{commit}`; default `{environment}`. Blobs and manifests are
/// pushed first (blobs the registry has are not uploaded again), then the
/// signatures, then the tags: an interrupted push tags nothing new.
///
/// Signing (`--sign-key`): a cosign key (`cosign generate-key-pair`; the password from
/// `COSIGN_PASSWORD`) or a PKCS#8 PEM P-256 key; the signature is stored as cosign
/// stores it (`sha256-<digest>.sig`), so `cosign verify --key`, Flux's
/// `OCIRepository` `spec.verify` and `strata verify` accept it. Keyless (Fulcio /
/// Rekor) signing is not supported.
///
/// Credentials: `--username` with `--password-stdin`, else the Docker configuration
/// (`DOCKER_CONFIG`, `~/.docker/config.json`: `auths`, `credHelpers`, `credsStore`).
/// HTTPS, except for a registry on this machine (`localhost`, `127.0.0.1`) or with
/// `--insecure`. A work tree with uncommitted changes is refused (use `--ref`).
///
/// Exit codes: 0 published, 2 bad input or the registry refused.
///
/// Examples:
///   strata publish oci://ghcr.io/shop/config
///   strata publish oci://ghcr.io/shop/config @eastus --tag '{environment}' --tag '{environment}-{commit}'
///   COSIGN_PASSWORD=… strata publish oci://ghcr.io/shop/config --sign-key cosign.key --ref v1.4.0
///   strata publish oci://127.0.0.1:5000/shop --format json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment, after_help = "Docs: docs/reference/publish.md")]
#[command(mut_args(on_arg("reference", |a| a.help(
    "Publish a git revision (tag, branch, commit) instead of the work tree, read straight from git objects"
))))]
pub struct PublishArgs {
    /// Where to push: `oci://HOST/REPOSITORY`.
    #[arg(value_name = "oci://HOST/REPOSITORY")]
    pub to: String,
    /// Targets to publish: `component/environment`, `component`, `@environment`, a
    /// glob. An environment's artifact holds its selected targets. None means every target.
    #[arg(value_name = "SELECTOR")]
    pub selectors: Vec<String>,
    /// A tag for each artifact (repeatable): `{environment}`, `{commit}` are replaced.
    #[arg(long = "tag", value_name = "TEMPLATE")]
    pub tags: Vec<String>,
    /// Sign each artifact with this cosign (or PKCS#8 PEM) private key.
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// `org.opencontainers.image.source` (default: the `origin` remote's URL, credentials removed).
    #[arg(long, value_name = "URL")]
    pub source: Option<String>,
    /// Output format of the digests and tags: `text` or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub revision: RevisionArgs,
    #[command(flatten)]
    pub values: ValuesArgs,
    #[command(flatten)]
    pub cache: super::cache::CacheArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// How to reach a registry: declared once, flattened by `publish`, `verify` and `diff`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistryArgs {
    /// Allow plain HTTP to a registry that is not on this machine.
    #[arg(long)]
    pub insecure: bool,
    /// The registry user (with `--password-stdin`), instead of the Docker configuration.
    #[arg(long, value_name = "USER", requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password (or token) from standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
}

impl RegistryArgs {
    /// The credential for `at`'s registry: the command line's, else Docker's.
    pub fn credential(&self, at: &OciRef) -> Result<Credential, Error> {
        let command_line = match &self.username {
            Some(user) if self.password_stdin => {
                let mut password = String::new();
                std::io::stdin()
                    .read_to_string(&mut password)
                    .map_err(|e| Diagnostic::error(format!("cannot read the password from standard input: {e}")))?;
                let password = password.trim_end_matches(['\n', '\r']).to_string();
                Some((user.clone(), password))
            }
            _ => None,
        };
        Ok(credentials::resolve(&at.registry, command_line)?)
    }
}

pub fn run(global: &Global, args: PublishArgs) -> Result<Outcome, Error> {
    let to = OciRef::parse(&args.to)?;
    let key = match &args.sign_key {
        Some(path) => Some(Key::read(path, std::env::var(PASSWORD_VARIABLE).ok().as_deref())?),
        None => None,
    };
    let credential = args.registry.credential(&to)?;
    let repo = args.revision.open(global, &args.selectors)?.repo;
    let targets = repo.select(&args.selectors)?;
    let compile = crate::pipeline::Options { cache: args.cache.options(), ..args.values.options()? };
    let opts = PublishOptions {
        to,
        tags: args.tags.clone(),
        key: key.as_ref(),
        insecure: args.registry.insecure,
        credential,
        source: args.source.clone(),
    };
    let published = publish::publish(&global.repo, &repo, &targets, &compile, &opts)?;
    super::print_warnings(&published.warnings);
    let out = match args.format {
        Format::Json => {
            let mut json = serde_json::to_string_pretty(&published).unwrap_or_default();
            json.push('\n');
            json
        }
        Format::Text => text(&published),
    };
    super::write_stdout(out.as_bytes())?;
    eprintln!(
        "published {} artifact{} of {} to {} ({} blob{} uploaded, {} already there)",
        published.artifacts.len(),
        if published.artifacts.len() == 1 { "" } else { "s" },
        published.revision,
        published.repository,
        published.uploaded,
        if published.uploaded == 1 { "" } else { "s" },
        published.present,
    );
    Ok(Outcome::Ok)
}

/// One line per environment: `eastus  sha256:…  oci://…:eastus, oci://…:eastus-abc (signed)`.
fn text(p: &Published) -> String {
    let width = p.artifacts.iter().map(|a| a.environment.len()).max().unwrap_or(0);
    let mut out = String::new();
    for a in &p.artifacts {
        let signed = if a.signature.is_some() { "  (signed)" } else { "" };
        out.push_str(&format!("{:<width$}  {}  {}{signed}\n", a.environment, a.digest, a.tags.join(", ")));
    }
    out
}
