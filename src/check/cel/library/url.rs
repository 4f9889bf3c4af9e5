//! Kubernetes' URL library: `url`, `isURL`, `getScheme`, `getHost`, `getHostname`,
//! `getPort`, `getEscapedPath`, `getQuery`. A URL is read as Go's `url.ParseRequestURI`
//! reads it: an absolute URI or an absolute path, no fragment.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map, Opaque};
use cel::{ExecutionError, Value};

use super::{Handler, error, no_overload, text};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    scheme: String,
    host: String,
    path: String,
    query: String,
}

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        "kubernetes.URL"
    }
}

pub const FUNCTIONS: &[(&str, Handler)] = &[
    ("url", url),
    ("isURL", is_url),
    ("getScheme", |t, a| part("getScheme", t, a, |u| text(u.scheme.clone()))),
    ("getHost", |t, a| part("getHost", t, a, |u| text(u.host.clone()))),
    ("getHostname", |t, a| part("getHostname", t, a, |u| text(hostname(&u.host)))),
    ("getPort", |t, a| part("getPort", t, a, |u| text(port(&u.host)))),
    ("getEscapedPath", |t, a| part("getEscapedPath", t, a, |u| text(u.path.clone()))),
    ("getQuery", |t, a| part("getQuery", t, a, query)),
];

pub fn parse(raw: &str) -> Option<Url> {
    if raw.is_empty() || raw.chars().any(|c| c.is_ascii_control() || c == ' ') {
        return None;
    }
    let (rest, query) = raw.split_once('?').map_or((raw, ""), |(a, b)| (a, b));
    if rest.starts_with('/') {
        return Some(Url { scheme: String::new(), host: String::new(), path: rest.into(), query: query.into() });
    }
    let (scheme, after) = rest.split_once(':')?;
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let Some(authority) = after.strip_prefix("//") else {
        // An opaque URI (`mailto:x`) or `scheme:/path`.
        return Some(Url { scheme, host: String::new(), path: after.into(), query: query.into() });
    };
    let (host, path) = authority.find('/').map_or((authority, ""), |i| authority.split_at(i));
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    valid_host(host).then(|| Url { scheme, host: host.into(), path: path.into(), query: query.into() })
}

fn valid_host(host: &str) -> bool {
    let (name, port) = if host.starts_with('[') {
        match host.find(']') {
            Some(i) => (&host[..=i], &host[i + 1..]),
            None => return false,
        }
    } else {
        match host.rfind(':') {
            Some(i) => (&host[..i], &host[i..]),
            None => (host, ""),
        }
    };
    let port_ok = port.is_empty() || (port.starts_with(':') && port[1..].chars().all(|c| c.is_ascii_digit()));
    let name_ok = name.chars().all(|c| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=[]:%".contains(c));
    port_ok && name_ok
}

fn hostname(host: &str) -> String {
    if let Some(inner) = host.strip_prefix('[') {
        return inner.split(']').next().unwrap_or("").to_string();
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h).to_string()
}

fn port(host: &str) -> String {
    let after = host.rfind(']').map_or(host, |i| &host[i + 1..]);
    after.rsplit_once(':').map_or("", |(_, p)| p).to_string()
}

fn unescape(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn query(u: &Url) -> Value {
    let mut m: HashMap<String, Vec<Value>> = HashMap::new();
    for pair in u.query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        m.entry(unescape(k)).or_default().push(text(unescape(v)));
    }
    let map: HashMap<Key, Value> =
        m.into_iter().map(|(k, v)| (Key::String(Arc::new(k)), Value::List(Arc::new(v)))).collect();
    Value::Map(Map { map: Arc::new(map) })
}

fn url(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => parse(s).map(|u| Value::Opaque(Arc::new(u))).ok_or_else(|| {
            error("url", format!("URL parse error during conversion from string: parse {s:?}: invalid URI for request"))
        }),
        _ => Err(no_overload("url", this, args)),
    }
}

fn is_url(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => Ok(Value::Bool(parse(s).is_some())),
        _ => Err(no_overload("isURL", this, args)),
    }
}

fn part(name: &str, this: Option<&Value>, args: &[Value], f: fn(&Url) -> Value) -> Result<Value, ExecutionError> {
    let u = match this {
        Some(Value::Opaque(o)) => o.downcast_ref::<Url>(),
        _ => None,
    };
    match (u, args) {
        (Some(u), []) => Ok(f(u)),
        _ => Err(no_overload(name, this, args)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_uris() {
        let u = parse("https://user@example.com:8443/a%20b?x=1&x=2&y").unwrap();
        assert_eq!((u.scheme.as_str(), u.host.as_str(), u.path.as_str()), ("https", "example.com:8443", "/a%20b"));
        assert_eq!((hostname(&u.host), port(&u.host)), ("example.com".to_string(), "8443".to_string()));
        assert_eq!(hostname("[::1]:80"), "::1");
        assert!(parse("/just/a/path").is_some());
        assert!(parse("example.com").is_none());
        assert!(parse("1http://x").is_none());
        assert!(parse("http://x:port").is_none());
        assert_eq!(unescape("a%2Fb+c"), "a/b c");
    }
}
