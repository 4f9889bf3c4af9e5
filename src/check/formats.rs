//! Value syntaxes the API server checks: quantities, base64, cron schedules (names and
//! labels: [`crate::manifest::names`]). Each function returns `None` when the value is
//! fine, or the reason it is not.

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
    fn cron_schedules() {
        for ok in ["0 2 * * *", "*/5 * * * *", "0 0 1,15 * mon-fri", "@daily", "0 9-17/2 * jan *", "0 0 * * 7"] {
            assert_eq!(cron(ok), None, "{ok}");
        }
        for bad in ["nightly", "0 2 * *", "61 * * * *", "0 24 * * *", "@sometimes", "*/0 * * * *", "TZ=UTC 0 2 * * *"] {
            assert!(cron(bad).is_some(), "{bad}");
        }
    }
}
