//! Kubernetes' IP and CIDR libraries: `ip`, `isIP`, `cidr`, `isCIDR`, `family`,
//! `isUnspecified`, `isLoopback`, `isLinkLocalMulticast`, `isLinkLocalUnicast`,
//! `isGlobalUnicast`, `containsIP`, `containsCIDR`, `masked`, `prefixLength`, and `ip()` of
//! a CIDR. As on the server, IPv4-mapped IPv6 addresses, zones and octets with leading
//! zeros are refused.

use std::net::IpAddr;
use std::sync::Arc;

use cel::objects::Opaque;
use cel::{ExecutionError, Value};

use super::{Handler, error, no_overload};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ip(IpAddr);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    bits: u8,
}

impl Opaque for Ip {
    fn runtime_type_name(&self) -> &str {
        "net.IP"
    }
}

impl Opaque for Cidr {
    fn runtime_type_name(&self) -> &str {
        "net.CIDR"
    }
}

pub const FUNCTIONS: &[(&str, Handler)] = &[
    ("ip", ip),
    ("isIP", is_ip),
    ("cidr", cidr),
    ("isCIDR", is_cidr),
    ("family", family),
    ("isUnspecified", |t, a| ip_test("isUnspecified", t, a, |ip| ip.is_unspecified())),
    ("isLoopback", |t, a| ip_test("isLoopback", t, a, |ip| ip.is_loopback())),
    ("isLinkLocalMulticast", |t, a| ip_test("isLinkLocalMulticast", t, a, link_local_multicast)),
    ("isLinkLocalUnicast", |t, a| ip_test("isLinkLocalUnicast", t, a, link_local_unicast)),
    ("isGlobalUnicast", |t, a| ip_test("isGlobalUnicast", t, a, global_unicast)),
    ("containsIP", contains_ip),
    ("containsCIDR", contains_cidr),
    ("masked", masked),
    ("prefixLength", prefix_length),
];

pub fn parse_ip(text: &str) -> Option<IpAddr> {
    let ip: IpAddr = text.parse().ok()?;
    match ip {
        IpAddr::V4(_) if text.split('.').any(|o| o.len() > 1 && o.starts_with('0')) => None,
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => None,
        ip => Some(ip),
    }
}

pub fn parse_cidr(text: &str) -> Option<Cidr> {
    let (addr, bits) = text.split_once('/')?;
    let addr = parse_ip(addr)?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let ok = !bits.is_empty() && bits.chars().all(|c| c.is_ascii_digit()) && (bits == "0" || !bits.starts_with('0'));
    let bits: u8 = if ok { bits.parse().ok()? } else { return None };
    (bits <= max).then_some(Cidr { addr, bits })
}

fn bits_of(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

fn mask(c: &Cidr) -> IpAddr {
    let width = if c.addr.is_ipv4() { 32 } else { 128 };
    let keep = if c.bits == 0 { 0 } else { u128::MAX << (width - c.bits as u32) };
    let v = bits_of(c.addr) & keep;
    match c.addr {
        IpAddr::V4(_) => IpAddr::V4(((v & 0xffff_ffff) as u32).into()),
        IpAddr::V6(_) => IpAddr::V6(v.into()),
    }
}

fn contains(c: &Cidr, ip: IpAddr) -> bool {
    c.addr.is_ipv4() == ip.is_ipv4() && mask(&Cidr { addr: ip, bits: c.bits }) == mask(c)
}

fn link_local_multicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[..3] == [224, 0, 0],
        IpAddr::V6(a) => a.segments()[0] & 0xff0f == 0xff02,
    }
}

fn link_local_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.octets()[..2] == [169, 254],
        IpAddr::V6(a) => a.segments()[0] & 0xffc0 == 0xfe80,
    }
}

/// Go's `IsGlobalUnicast`: not unspecified, loopback, multicast, link-local or broadcast.
fn global_unicast(ip: IpAddr) -> bool {
    let broadcast = matches!(ip, IpAddr::V4(a) if a.is_broadcast());
    !(ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || link_local_unicast(ip) || broadcast)
}

fn get_ip(v: &Value) -> Option<IpAddr> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<Ip>().map(|i| i.0),
        _ => None,
    }
}

fn get_cidr(v: &Value) -> Option<Cidr> {
    match v {
        Value::Opaque(o) => o.downcast_ref::<Cidr>().copied(),
        _ => None,
    }
}

fn ip(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => parse_ip(s)
            .map(|a| Value::Opaque(Arc::new(Ip(a))))
            .ok_or_else(|| error("ip", format!("IP Address {s:?} parse error during conversion from string"))),
        (Some(c), []) => {
            get_cidr(c).map(|c| Value::Opaque(Arc::new(Ip(c.addr)))).ok_or_else(|| no_overload("ip", this, args))
        }
        _ => Err(no_overload("ip", this, args)),
    }
}

fn is_ip(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => Ok(Value::Bool(parse_ip(s).is_some())),
        _ => Err(no_overload("isIP", this, args)),
    }
}

fn cidr(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => parse_cidr(s)
            .map(|c| Value::Opaque(Arc::new(c)))
            .ok_or_else(|| error("cidr", format!("network address {s:?} parse error during conversion from string"))),
        _ => Err(no_overload("cidr", this, args)),
    }
}

fn is_cidr(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this, args) {
        (None, [Value::String(s)]) => Ok(Value::Bool(parse_cidr(s).is_some())),
        _ => Err(no_overload("isCIDR", this, args)),
    }
}

fn family(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this.and_then(get_ip), args) {
        (Some(a), []) => Ok(Value::Int(if a.is_ipv4() { 4 } else { 6 })),
        _ => Err(no_overload("family", this, args)),
    }
}

fn ip_test(name: &str, this: Option<&Value>, args: &[Value], f: fn(IpAddr) -> bool) -> Result<Value, ExecutionError> {
    match (this.and_then(get_ip), args) {
        (Some(a), []) => Ok(Value::Bool(f(a))),
        _ => Err(no_overload(name, this, args)),
    }
}

fn contains_ip(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let c = this.and_then(get_cidr).ok_or_else(|| no_overload("containsIP", this, args))?;
    let ip = match args {
        [Value::String(s)] => {
            parse_ip(s).ok_or_else(|| error("containsIP", format!("IP Address {s:?} parse error")))?
        }
        [v] => get_ip(v).ok_or_else(|| no_overload("containsIP", this, args))?,
        _ => return Err(no_overload("containsIP", this, args)),
    };
    Ok(Value::Bool(contains(&c, ip)))
}

fn contains_cidr(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    let c = this.and_then(get_cidr).ok_or_else(|| no_overload("containsCIDR", this, args))?;
    let other = match args {
        [Value::String(s)] => {
            parse_cidr(s).ok_or_else(|| error("containsCIDR", format!("network address {s:?} parse error")))?
        }
        [v] => get_cidr(v).ok_or_else(|| no_overload("containsCIDR", this, args))?,
        _ => return Err(no_overload("containsCIDR", this, args)),
    };
    Ok(Value::Bool(other.bits >= c.bits && contains(&c, other.addr)))
}

fn masked(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this.and_then(get_cidr), args) {
        (Some(c), []) => Ok(Value::Opaque(Arc::new(Cidr { addr: mask(&c), bits: c.bits }))),
        _ => Err(no_overload("masked", this, args)),
    }
}

fn prefix_length(this: Option<&Value>, args: &[Value]) -> Result<Value, ExecutionError> {
    match (this.and_then(get_cidr), args) {
        (Some(c), []) => Ok(Value::Int(c.bits as i64)),
        _ => Err(no_overload("prefixLength", this, args)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_networks() {
        assert!(parse_ip("10.0.0.1").is_some());
        assert!(parse_ip("010.0.0.1").is_none());
        assert!(parse_ip("::ffff:1.2.3.4").is_none());
        assert!(parse_ip("fe80::1%eth0").is_none());
        let c = parse_cidr("10.1.2.3/16").unwrap();
        assert!(contains(&c, parse_ip("10.1.200.1").unwrap()));
        assert!(!contains(&c, parse_ip("10.2.0.1").unwrap()));
        assert_eq!(mask(&c), parse_ip("10.1.0.0").unwrap());
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("10.0.0.0/08").is_none());
        assert!(global_unicast(parse_ip("8.8.8.8").unwrap()));
        assert!(!global_unicast(parse_ip("169.254.1.1").unwrap()));
    }
}
