//! Which resources a patch applies to.
//!
//! In: a `target:` of kustomization.yaml (group, version, kind, name, namespace,
//! labelSelector, annotationSelector) and the resources being transformed. Out: the
//! resources it selects. Kustomize's rules: every string field is a regular
//! expression anchored at both ends (`name: web-.*`); an absent field matches
//! anything; a name matches the resource's current or original name (before this
//! kustomization's prefix or suffix), a namespace its current or original one, with
//! an empty namespace read as `default`; label and annotation selectors use the
//! Kubernetes selector syntax (`app=web,tier in (front,back),!legacy`).

use regex::Regex;
use serde_json::Value;

/// A compiled `target:`.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub group: Option<Pattern>,
    pub version: Option<Pattern>,
    pub kind: Option<Pattern>,
    pub name: Option<Pattern>,
    pub namespace: Option<Pattern>,
    pub labels: Option<LabelSelector>,
    pub annotations: Option<LabelSelector>,
}

/// An anchored regular expression, with the text the user wrote.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    /// `None` for a pattern without regex syntax (most are a plain name): it matches
    /// itself only, and compiling a regex for it would cost more than the patch.
    re: Option<Regex>,
}

impl Pattern {
    pub fn new(text: &str) -> Result<Pattern, String> {
        // Outside a class, only these characters are regex syntax.
        let literal = !text.chars().any(|c| "\\.+*?()|[]{}^$".contains(c));
        let re = if literal {
            None
        } else {
            Some(
                Regex::new(&format!("^(?:{text})$"))
                    .map_err(|e| format!("invalid regular expression `{text}`: {e}"))?,
            )
        };
        Ok(Pattern { text: text.to_string(), re })
    }

    pub fn is_match(&self, s: &str) -> bool {
        match &self.re {
            Some(re) => re.is_match(s),
            None => self.text == s,
        }
    }
}

/// What a selector looks at in one resource.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub original_name: &'a str,
    /// Effective namespaces (`default` for an empty one; a marker for cluster-scoped objects).
    pub namespace: &'a str,
    pub original_namespace: &'a str,
    pub body: &'a Value,
}

impl Selector {
    pub fn matches(&self, c: &Candidate<'_>) -> bool {
        let m = |p: &Option<Pattern>, s: &str| p.as_ref().is_none_or(|p| p.is_match(s));
        let m2 = |p: &Option<Pattern>, a: &str, b: &str| p.as_ref().is_none_or(|p| p.is_match(a) || p.is_match(b));
        m2(&self.namespace, c.original_namespace, c.namespace)
            && m2(&self.name, c.original_name, c.name)
            && m(&self.group, c.group)
            && m(&self.version, c.version)
            && m(&self.kind, c.kind)
            && self.labels.as_ref().is_none_or(|s| s.matches(c.body.pointer("/metadata/labels")))
            && self.annotations.as_ref().is_none_or(|s| s.matches(c.body.pointer("/metadata/annotations")))
    }

    /// `kind=Deployment, name=web` for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (k, p) in [
            ("group", &self.group),
            ("version", &self.version),
            ("kind", &self.kind),
            ("name", &self.name),
            ("namespace", &self.namespace),
        ] {
            if let Some(p) = p {
                parts.push(format!("{k}={}", p.text));
            }
        }
        if let Some(l) = &self.labels {
            parts.push(format!("labelSelector={}", l.text));
        }
        if let Some(a) = &self.annotations {
            parts.push(format!("annotationSelector={}", a.text));
        }
        if parts.is_empty() { "everything".to_string() } else { parts.join(", ") }
    }
}

/// A Kubernetes label selector in its string form.
#[derive(Debug, Clone)]
pub struct LabelSelector {
    pub text: String,
    reqs: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Gt(String, i64),
    Lt(String, i64),
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h,i>3`.
    pub fn parse(text: &str) -> Result<LabelSelector, String> {
        let mut reqs = Vec::new();
        for part in split_top_level(text)? {
            let part = part.trim();
            if part.is_empty() {
                if text.trim().is_empty() {
                    continue;
                }
                return Err(format!("empty requirement in selector `{text}`"));
            }
            reqs.push(parse_requirement(part).map_err(|e| format!("{e} in selector `{text}`"))?);
        }
        Ok(LabelSelector { text: text.to_string(), reqs })
    }

    /// Whether a `metadata.labels`-like map satisfies every requirement.
    pub fn matches(&self, map: Option<&Value>) -> bool {
        let get = |k: &str| map.and_then(|m| m.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::NotExists(k) => get(k).is_none(),
            Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|v| !vs.iter().any(|x| x == v)),
            Requirement::Gt(k, n) => get(k).and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v > *n),
            Requirement::Lt(k, n) => get(k).and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v < *n),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(text: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unbalanced `)` in selector `{text}`"));
                }
            }
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("unbalanced `(` in selector `{text}`"));
    }
    out.push(&text[start..]);
    Ok(out)
}

fn valid_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

fn valid_value(v: &str) -> bool {
    v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    let key_ok = |k: &str| -> Result<String, String> {
        if valid_key(k) { Ok(k.to_string()) } else { Err(format!("invalid key `{k}`")) }
    };
    let value_ok = |v: &str| -> Result<String, String> {
        if valid_value(v) { Ok(v.to_string()) } else { Err(format!("invalid value `{v}`")) }
    };
    if let Some(k) = part.strip_prefix('!') {
        return Ok(Requirement::NotExists(key_ok(k.trim())?));
    }
    for (op, neg) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((k, v)) = part.split_once(op) {
            let (k, v) = (key_ok(k.trim())?, value_ok(v.trim())?);
            return Ok(if neg { Requirement::NotIn(k, vec![v]) } else { Requirement::In(k, vec![v]) });
        }
    }
    for (op, gt) in [(">", true), ("<", false)] {
        if let Some((k, v)) = part.split_once(op) {
            let n: i64 = v.trim().parse().map_err(|_| format!("`{op}` needs an integer, found `{}`", v.trim()))?;
            let k = key_ok(k.trim())?;
            return Ok(if gt { Requirement::Gt(k, n) } else { Requirement::Lt(k, n) });
        }
    }
    // Set-based: `key in (a,b)` / `key notin (a,b)`.
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let key = key_ok(words[0])?;
        let rest = words[1].trim_start();
        let (neg, list) = if let Some(l) = rest.strip_prefix("notin") {
            (true, l)
        } else if let Some(l) = rest.strip_prefix("in") {
            (false, l)
        } else {
            return Err(format!("expected `in` or `notin` after `{key}`"));
        };
        let list = list.trim();
        let inner = list
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(|| format!("expected a parenthesized list after `{key}`"))?;
        let values = inner.split(',').map(|v| value_ok(v.trim())).collect::<Result<Vec<_>, _>>()?;
        return Ok(if neg { Requirement::NotIn(key, values) } else { Requirement::In(key, values) });
    }
    Ok(Requirement::Exists(key_ok(part)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors_match_like_kubernetes() {
        let labels = json!({"app": "web", "tier": "front", "n": "5"});
        // (selector, matches?)
        let cases = [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app=api", false),
            ("missing!=x", true),
            ("tier in (front, back)", true),
            ("tier notin (front)", false),
            ("missing notin (front)", true),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("app=web,tier=front", true),
            ("app=web,tier=back", false),
            ("n>3", true),
            ("n<3", false),
            ("", true),
        ];
        for (sel, want) in cases {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(Some(&labels)), want, "{sel}");
        }
        assert!(!LabelSelector::parse("app").unwrap().matches(None));
    }

    #[test]
    fn bad_selectors_are_errors() {
        for sel in ["app in (a", "a=b c", "x > y", "app maybe (a)", ",a=b"] {
            assert!(LabelSelector::parse(sel).is_err(), "{sel}");
        }
    }

    #[test]
    fn patterns_are_anchored() {
        let p = Pattern::new("web").unwrap();
        assert!(p.is_match("web"));
        assert!(!p.is_match("web-2"));
        assert!(Pattern::new("web-.*").unwrap().is_match("web-2"));
        assert!(Pattern::new("a|b").unwrap().is_match("b"));
        // Literal names skip the regex engine and mean the same.
        for (pat, s, hit) in [
            ("checkout-web", "checkout-web", true),
            ("checkout-web", "checkout-webx", false),
            ("web.v1", "webxv1", true),
            ("", "", true),
            ("a", "", false),
        ] {
            assert_eq!(Pattern::new(pat).unwrap().is_match(s), hit, "{pat} ~ {s}");
        }
        assert!(Pattern::new("(").is_err());
    }
}
