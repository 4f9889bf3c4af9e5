//! Name and label syntax as the API server checks it (`k8s.io/apimachinery`
//! `validation`): DNS-1123 labels and subdomains, DNS-1035 labels, names used
//! as path segments, qualified names (label and annotation keys), label values
//! and IANA service names (named ports).
//!
//! The `is_*` predicates are the rules; the functions named after a syntax
//! (`dns_label`, `qualified_name`, ...) return `None` when a value is fine, or
//! the reason it is not, in the words `strata check` reports. `tracking` and
//! `check` both read them.

/// Longest DNS-1123 label, label value and name part of a qualified name.
pub const DNS_LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain (and prefix of a qualified name).
pub const DNS_SUBDOMAIN_MAX: usize = 253;

/// RFC 1123 label: lowercase alphanumerics and `-`, starting and ending
/// alphanumeric, at most 63 characters (namespace names).
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= DNS_LABEL_MAX
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: dot-separated DNS labels, at most 253 characters (most
/// object names, the prefix of a label key).
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= DNS_SUBDOMAIN_MAX && s.split('.').all(is_dns_label)
}

/// The name part of a qualified name, and a non-empty label value:
/// alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric, at most 63.
pub fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && s.len() <= DNS_LABEL_MAX
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A label value: empty, or a label name
/// (`(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`, at most 63).
pub fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

/// A qualified name (label or annotation key) cut at its first `/`:
/// `[prefix/]name`. Valid when the prefix, if any, [`is_dns_subdomain`] and the
/// name [`is_label_name`] (so a second `/` makes the name invalid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualifiedName<'a> {
    pub prefix: Option<&'a str>,
    pub name: &'a str,
}

impl<'a> QualifiedName<'a> {
    pub fn split(s: &'a str) -> Self {
        match s.split_once('/') {
            Some((prefix, name)) => QualifiedName { prefix: Some(prefix), name },
            None => QualifiedName { prefix: None, name: s },
        }
    }

    /// The prefix, when there is one and it is not a DNS subdomain.
    pub fn bad_prefix(&self) -> Option<&'a str> {
        self.prefix.filter(|p| !is_dns_subdomain(p))
    }

    /// Whether the name part is invalid.
    pub fn bad_name(&self) -> bool {
        !is_label_name(self.name)
    }
}

/// RFC 1123 label, with the reason when not.
pub fn dns_label(s: &str) -> Option<String> {
    if s.len() > DNS_LABEL_MAX {
        return Some(format!("`{s}` is longer than {DNS_LABEL_MAX} characters"));
    }
    (!is_dns_label(s)).then(|| {
        format!(
            "`{s}` is not a DNS label: lowercase letters, digits and `-`, starting and ending with a letter or digit"
        )
    })
}

/// RFC 1035 label (Service names): a DNS label that starts with a letter.
pub fn dns1035_label(s: &str) -> Option<String> {
    dns_label(s).or_else(|| {
        (!s.starts_with(|c: char| c.is_ascii_lowercase()))
            .then(|| format!("`{s}` must start with a lowercase letter (RFC 1035 label)"))
    })
}

/// RFC 1123 subdomain, with the reason when not.
pub fn dns_subdomain(s: &str) -> Option<String> {
    if s.len() > DNS_SUBDOMAIN_MAX {
        return Some(format!("`{s}` is longer than {DNS_SUBDOMAIN_MAX} characters"));
    }
    (!is_dns_subdomain(s)).then(|| {
        format!(
            "`{s}` is not a DNS subdomain: lowercase letters, digits, `-` and `.`, starting and ending with a letter or digit"
        )
    })
}

/// Names of objects addressed by path segment (RBAC kinds): no `/`, `%`, `.` or `..`.
pub fn path_segment(s: &str) -> Option<String> {
    if s == "." || s == ".." {
        return Some(format!("`{s}` may not be a name"));
    }
    s.contains(['/', '%']).then(|| format!("`{s}` may not contain `/` or `%`"))
}

/// A label or annotation key ([`QualifiedName`]), with the reason when not.
pub fn qualified_name(s: &str) -> Option<String> {
    let q = QualifiedName::split(s);
    if q.bad_prefix().is_some() {
        return Some(format!("`{s}`: the prefix must be a DNS subdomain"));
    }
    q.bad_name().then(|| {
        format!(
            "`{s}`: name part must consist of alphanumeric characters, `-`, `_` or `.`, start and end with an alphanumeric character, and be at most 63 characters"
        )
    })
}

/// A label value, with the reason when not.
pub fn label_value(s: &str) -> Option<String> {
    (!is_label_value(s)).then(|| {
        format!(
            "`{s}`: a label value must be empty or consist of alphanumeric characters, `-`, `_` or `.`, start and end with an alphanumeric character, and be at most 63 characters"
        )
    })
}

/// IANA service name (named ports): at most 15 lowercase alphanumerics and `-`,
/// a letter somewhere, no `--`, no leading or trailing `-`.
pub fn port_name(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= 15
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.chars().any(|c| c.is_ascii_lowercase())
        && !s.contains("--")
        && !s.starts_with('-')
        && !s.ends_with('-');
    (!ok).then(|| format!("`{s}` is not a port name: at most 15 lowercase letters, digits and `-`, with a letter"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        let long_label = "a".repeat(64);
        let cases: &[(&str, bool, bool, bool)] = &[
            // value, DNS label, DNS subdomain, label value
            ("shop", true, true, true),
            ("shop.example-1", false, true, true),
            ("Shop", false, false, true),
            ("a_b", false, false, true),
            ("-x", false, false, false),
            ("x-", false, false, false),
            ("", false, false, true),
            ("a..b", false, false, true),
            (&long_label, false, false, false),
        ];
        for (s, label, subdomain, value) in cases {
            assert_eq!((is_dns_label(s), is_dns_subdomain(s), is_label_value(s)), (*label, *subdomain, *value), "{s}");
        }
        assert!(is_dns_subdomain(&["a"; 127].join(".")), "253 characters");
        assert!(!is_dns_subdomain(&["a"; 128].join(".")), "255 characters");
    }

    #[test]
    fn qualified_names() {
        let cases: &[(&str, Option<&str>, bool)] = &[
            // key, bad prefix, bad name
            ("app.kubernetes.io/name", None, false),
            ("name", None, false),
            ("Example.com/x", Some("Example.com"), false),
            ("/name", Some(""), false),
            ("prefix/", None, true),
            ("a/b/c", None, true),
            ("bad key!", None, true),
        ];
        for (s, prefix, name) in cases {
            let q = QualifiedName::split(s);
            assert_eq!((q.bad_prefix(), q.bad_name()), (*prefix, *name), "{s}");
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(dns_subdomain("shop.example-1"), None);
        assert!(dns_subdomain("Shop").is_some());
        assert!(dns_label("a.b").is_some());
        assert!(dns1035_label("1abc").is_some());
        assert_eq!(qualified_name("app.kubernetes.io/name"), None);
        assert!(qualified_name("bad key!").unwrap().contains("name part"));
        assert!(qualified_name("/x").unwrap().contains("prefix"));
        assert_eq!(label_value(""), None);
        assert!(label_value("-x").is_some());
        assert_eq!(port_name("http-metrics"), None);
        assert!(port_name("8080").is_some());
        assert!(port_name("a-very-long-port-name").is_some());
        assert!(path_segment("system:a/b").is_some());
    }
}
