//! `oci://HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]`: where an artifact is.
//!
//! In: the argument as typed. Out: an [`OciRef`] (registry, repository, tag or
//! digest), or an error saying what is wrong with it. Repository names follow
//! the OCI distribution spec (lowercase path components of `[a-z0-9._-]`), tags
//! `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.

use std::fmt;

use crate::diag::Diagnostic;

/// A parsed `oci://` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciRef {
    /// `ghcr.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// `shop/config`.
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:…`.
    pub digest: Option<String>,
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl OciRef {
    /// Parses `text`; `what` names the argument in errors (`the artifact`).
    pub fn parse(text: &str) -> Result<OciRef, Diagnostic> {
        let bad = |why: &str| {
            Diagnostic::error(format!("malformed OCI reference `{text}`: {why}"))
                .hint("write it as `oci://HOST/REPOSITORY`, optionally with `:TAG` or `@sha256:DIGEST`, e.g. `oci://ghcr.io/shop/config:eastus`")
        };
        let rest = text.strip_prefix("oci://").ok_or_else(|| bad("it does not start with `oci://`"))?;
        let (rest, digest) = match rest.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (rest, None),
        };
        if let Some(d) = &digest {
            let hex = d.strip_prefix("sha256:").ok_or_else(|| bad("the digest is not `sha256:…`"))?;
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
                return Err(bad("the digest is not `sha256:` and 64 lowercase hex digits"));
            }
        }
        let (registry, path) = rest.split_once('/').ok_or_else(|| bad("there is no repository after the host"))?;
        if registry.is_empty() || !registry.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)) {
            return Err(bad("the host is empty or has characters a host name cannot have"));
        }
        // A `:` after the last `/` starts the tag.
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t.to_string())),
            _ => (path, None),
        };
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
                && c.as_bytes()[0].is_ascii_alphanumeric()
        };
        if !repository.split('/').all(component_ok) {
            return Err(bad("the repository must be lowercase path components of letters, digits, `.`, `_`, `-`"));
        }
        if let Some(t) = &tag {
            check_tag(t).map_err(|why| bad(&why))?;
        }
        Ok(OciRef { registry: registry.to_string(), repository: repository.to_string(), tag, digest })
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> OciRef {
        OciRef { tag: Some(tag.to_string()), digest: None, ..self.clone() }
    }

    /// The same repository at `digest`.
    pub fn with_digest(&self, digest: &str) -> OciRef {
        OciRef { tag: None, digest: Some(digest.to_string()), ..self.clone() }
    }

    /// `HOST/REPOSITORY`: what cosign's payload names as the docker reference.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Whether the registry is on this machine (`localhost`, `127.0.0.0/8`,
    /// `[::1]`): the only place plain HTTP is used without `--insecure`.
    pub fn is_loopback(&self) -> bool {
        let host = match self.registry.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => self.registry.rsplit_once(':').map_or(self.registry.as_str(), |(h, _)| h),
        };
        host == "localhost" || host == "::1" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// Whether `tag` is a valid OCI tag; the reason when not.
pub fn check_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && (tag.as_bytes()[0].is_ascii_alphanumeric() || tag.as_bytes()[0] == b'_')
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("tag `{tag}` is not 1 to 128 of letters, digits, `_`, `.`, `-` (not starting with `.` or `-`)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_or_say_why_not() {
        let d = format!("sha256:{}", "a".repeat(64));
        let by_digest = format!("oci://localhost:5000/a/b@{d}");
        let ok = [
            ("oci://ghcr.io/shop/config", "ghcr.io", "shop/config", None, None),
            ("oci://127.0.0.1:5000/shop:eastus", "127.0.0.1:5000", "shop", Some("eastus"), None),
            (by_digest.as_str(), "localhost:5000", "a/b", None, Some(d.as_str())),
        ];
        for (text, registry, repository, tag, digest) in ok {
            let r = OciRef::parse(text).unwrap();
            assert_eq!(
                (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref(), r.digest.as_deref()),
                (registry, repository, tag, digest)
            );
            assert_eq!(r.to_string(), text);
        }
        for (text, why) in [
            ("ghcr.io/shop", "does not start with `oci://`"),
            ("oci://ghcr.io", "no repository"),
            ("oci://ghcr.io/Shop", "lowercase"),
            ("oci://ghcr.io/shop:-x", "tag `-x`"),
            ("oci://ghcr.io/shop@sha256:12", "64 lowercase hex"),
            ("oci://gh cr.io/shop", "host"),
        ] {
            let e = OciRef::parse(text).unwrap_err();
            assert!(e.message.contains(why), "{text}: {}", e.message);
        }
    }

    #[test]
    fn only_this_machine_is_loopback() {
        for (text, want) in [
            ("oci://127.0.0.1:5000/a", true),
            ("oci://localhost/a", true),
            ("oci://[::1]:5000/a", true),
            ("oci://127.1.2.3/a", true),
            ("oci://10.0.0.1:5000/a", false),
            ("oci://ghcr.io/a", false),
            ("oci://localhost.example.com/a", false),
        ] {
            assert_eq!(OciRef::parse(text).unwrap().is_loopback(), want, "{text}");
        }
    }
}
