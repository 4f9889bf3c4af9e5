//! Value syntaxes the API server checks: quantities, base64, names, labels, cron schedules.
//! Each function returns `None` when the value is fine, or the reason it is not.

/// `resource.Quantity`: `<sign><digits>[.<digits>]<suffix>` with a binary-SI, decimal-SI or
/// exponent suffix (`500m`, `1.5Gi`, `1e3`).
pub fn quantity(s: &str) -> Option<String> {
    let bad = || {
        Some(format!("`{s}` is not a quantity: quantities must match `^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$`"))
    };
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let num_end = body.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(body.len());
    let (num, suffix) = body.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return bad();
    }
    const SUFFIXES: &[&str] = &["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"];
    if SUFFIXES.contains(&suffix) {
        return None;
    }
    if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
        let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
    }
    bad()
}

/// Standard base64 with padding, as Go's `encoding/json` decodes `[]byte` (newlines ignored).
pub fn base64(s: &str) -> Option<String> {
    use base64::Engine;
    let cleaned: String = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    match base64::engine::general_purpose::STANDARD.decode(cleaned.as_bytes()) {
        Ok(_) => None,
        Err(e) => Some(format!("illegal base64 data: {e}")),
    }
}

const DNS_LABEL_MAX: usize = 63;
const DNS_SUBDOMAIN_MAX: usize = 253;

/// RFC 1123 label: lowercase alphanumerics and `-`, starting and ending alphanumeric, ≤ 63.
pub fn dns_label(s: &str) -> Option<String> {
    if s.len() > DNS_LABEL_MAX {
        return Some(format!("`{s}` is longer than {DNS_LABEL_MAX} characters"));
    }
    let ok = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    (!ok).then(|| {
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

/// RFC 1123 subdomain: dot-separated DNS labels, ≤ 253.
pub fn dns_subdomain(s: &str) -> Option<String> {
    if s.len() > DNS_SUBDOMAIN_MAX {
        return Some(format!("`{s}` is longer than {DNS_SUBDOMAIN_MAX} characters"));
    }
    let ok = !s.is_empty() && s.split('.').all(|l| dns_label(l).is_none());
    (!ok).then(|| {
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

fn label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && s.len() <= DNS_LABEL_MAX
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A label or annotation key: `[prefix/]name`, the prefix a DNS subdomain.
pub fn qualified_name(s: &str) -> Option<String> {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    if let Some(p) = prefix
        && (p.is_empty() || dns_subdomain(p).is_some())
    {
        return Some(format!("`{s}`: the prefix must be a DNS subdomain"));
    }
    (!label_name(name)).then(|| {
        format!(
            "`{s}`: name part must consist of alphanumeric characters, `-`, `_` or `.`, start and end with an alphanumeric character, and be at most 63 characters"
        )
    })
}

/// A label value: empty, or a label name.
pub fn label_value(s: &str) -> Option<String> {
    (!s.is_empty() && !label_name(s)).then(|| {
        format!(
            "`{s}`: a label value must be empty or consist of alphanumeric characters, `-`, `_` or `.`, start and end with an alphanumeric character, and be at most 63 characters"
        )
    })
}

/// IANA service name (named ports): ≤ 15, lowercase alphanumerics and `-`, a letter somewhere,
/// no `--`, no leading or trailing `-`.
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

/// A cron schedule as CronJobs take it: five fields, or a `@` descriptor, optionally after
/// `TZ=`/`CRON_TZ=` (which the server refuses: `spec.timeZone` says it).
pub fn cron(s: &str) -> Option<String> {
    let s = s.trim();
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Some("a time zone in the schedule is not allowed: use `spec.timeZone`".into());
    }
    if let Some(d) = s.strip_prefix('@') {
        const DESCRIPTORS: &[&str] = &["yearly", "annually", "monthly", "weekly", "daily", "midnight", "hourly"];
        return (!DESCRIPTORS.contains(&d)).then(|| format!("unknown descriptor `@{d}`"));
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Some(format!("expected 5 fields (minute hour day-of-month month day-of-week), found {}", fields.len()));
    }
    const RANGES: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, &["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
        ("day of week", 0, 7, &["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
    ];
    fields.iter().zip(RANGES).find_map(|(f, (what, lo, hi, names))| cron_field(f, lo, hi, names, what))
}

fn cron_field(field: &str, lo: u32, hi: u32, names: &[&str], what: &str) -> Option<String> {
    let value = |v: &str| -> Option<u32> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(v)) {
            return Some(i as u32 + lo);
        }
        v.parse::<u32>().ok().filter(|n| (lo..=hi).contains(n))
    };
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if step.is_some_and(|s| s.parse::<u32>().map_or(true, |n| n == 0)) {
            return Some(format!("bad step in {what} field `{field}`"));
        }
        let ok = match range {
            "*" | "?" => true,
            r => match r.split_once('-') {
                Some((a, b)) => matches!((value(a), value(b)), (Some(a), Some(b)) if a <= b),
                None => value(r).is_some(),
            },
        };
        if !ok {
            return Some(format!("{what} field `{field}` is out of range {lo}-{hi}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for ok in ["1", "500m", "1.5Gi", "10Gi", "1e3", "0.5", "+1k", "-2", "1E-3", "128974848"] {
            assert_eq!(quantity(ok), None, "{ok}");
        }
        for bad in ["", "Gi", "1.2.3", "1GB", "ten", "1 Gi", "."] {
            assert!(quantity(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn base64_strict_padding() {
        assert_eq!(base64("cGFzcw=="), None);
        assert_eq!(base64("cGFz\ncw=="), None);
        assert!(base64("not base64!").is_some());
        assert!(base64("cGFzcw").is_some());
    }

    #[test]
    fn names_and_labels() {
        assert_eq!(dns_subdomain("shop.example-1"), None);
        assert!(dns_subdomain("Shop").is_some());
        assert!(dns_label("a.b").is_some());
        assert!(dns1035_label("1abc").is_some());
        assert_eq!(qualified_name("app.kubernetes.io/name"), None);
        assert!(qualified_name("bad key!").is_some());
        assert!(qualified_name("/x").is_some());
        assert_eq!(label_value(""), None);
        assert!(label_value("-x").is_some());
        assert_eq!(port_name("http-metrics"), None);
        assert!(port_name("8080").is_some());
        assert!(port_name("a-very-long-port-name").is_some());
        assert!(path_segment("system:a/b").is_some());
    }

    #[test]
    fn cron_schedules() {
        for ok in ["0 2 * * *", "*/5 * * * *", "0 0 1,15 * mon-fri", "@daily", "0 9-17/2 * jan *", "0 0 * * 7"] {
            assert_eq!(cron(ok), None, "{ok}");
        }
        for bad in ["nightly", "0 2 * *", "61 * * * *", "0 24 * * *", "@sometimes", "*/0 * * * *", "TZ=UTC 0 2 * * *"] {
            assert!(cron(bad).is_some(), "{bad}");
        }
    }
}
