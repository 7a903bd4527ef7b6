//! CEL helper functions written in Rust: `lists.duplicates`, the Kubernetes IP/CIDR library
//! (`isIP`, `isCIDR`, `ip()`, `cidr()`, `containsIP`, `containsCIDR`, ...; semantics after
//! k8s.io/apiserver/pkg/cel/library ip.go and cidr.go, re-implemented on std's parsers) and
//! `isHostname` (Gloo's host rules, shared/reference/gloo-translation.md §5.1).

use super::convert::to_json;
use cel::extractors::This;
use cel::objects::Opaque;
use cel::{Context, ExecutionError, Value};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// Names of the helper functions (for the load-time reference check).
pub const NAMES: &[&str] = &[
    "duplicates",
    "lists.duplicates",
    "isIP",
    "isCIDR",
    "ip",
    "cidr",
    "family",
    "containsIP",
    "containsCIDR",
    "prefixLength",
    "masked",
    "isHostname",
    "sum",
];

/// An IP address value (`ip('10.0.0.1')`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpVal(pub IpAddr);

impl Opaque for IpVal {
    fn runtime_type_name(&self) -> &str {
        "net.IP"
    }
    fn json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.to_string()))
    }
}

/// A CIDR value (`cidr('10.0.0.0/8')`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CidrVal {
    /// The address as written.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl Opaque for CidrVal {
    fn runtime_type_name(&self) -> &str {
        "net.CIDR"
    }
    fn json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(format!(
            "{}/{}",
            self.addr, self.prefix
        )))
    }
}

/// Parses an IP the way Kubernetes' `isIP` accepts it: no zones, no IPv4-mapped IPv6.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.parse().ok()?;
    if let IpAddr::V6(v6) = ip {
        if v6.to_ipv4_mapped().is_some() && s.contains('.') {
            return None;
        }
    }
    Some(ip)
}

/// Parses `addr/prefix`.
pub fn parse_cidr(s: &str) -> Option<CidrVal> {
    let (a, p) = s.split_once('/')?;
    let addr = parse_ip(a)?;
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0'))
    {
        return None;
    }
    let prefix: u8 = p.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(CidrVal { addr, prefix })
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip {
        IpAddr::V4(v) => (u32::from(v) as u128, 32),
        IpAddr::V6(v) => (u128::from(v), 128),
    }
}

fn mask(width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        let all: u128 = if width == 128 {
            u128::MAX
        } else {
            (1u128 << width) - 1
        };
        all & !((1u128 << (width - prefix)) - 1)
    }
}

impl CidrVal {
    /// True when `ip` is inside this prefix.
    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        let (a, w) = bits(self.addr);
        let (b, w2) = bits(ip);
        w == w2 && (a & mask(w, self.prefix)) == (b & mask(w, self.prefix))
    }
    /// True when `other` is inside this prefix.
    pub fn contains_cidr(&self, other: &CidrVal) -> bool {
        other.prefix >= self.prefix && self.contains_ip(other.addr)
    }
    fn masked(&self) -> CidrVal {
        let (a, w) = bits(self.addr);
        let m = a & mask(w, self.prefix);
        let addr = if w == 32 {
            IpAddr::V4((m as u32).into())
        } else {
            IpAddr::V6(m.into())
        };
        CidrVal {
            addr,
            prefix: self.prefix,
        }
    }
}

/// Gloo's host rule: DNS labels of `[a-zA-Z0-9-]`, 1–63 chars, not starting or ending with
/// `-`, total 1–255; a `*` only as the first character of the left-most label; `"*"` alone
/// is invalid; a trailing dot is allowed.
pub fn is_hostname(h: &str) -> bool {
    let h = h.strip_suffix('.').unwrap_or(h);
    if h.is_empty() || h.len() > 255 || h == "*" {
        return false;
    }
    let labels: Vec<&str> = h.split('.').collect();
    for (i, l) in labels.iter().enumerate() {
        let l = if i == 0 {
            match l.strip_prefix('*') {
                Some("") => continue,
                Some(rest) => {
                    // `*bar` and `*-bar` are allowed in the left-most label.
                    if rest.len() > 62
                        || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        || rest.ends_with('-')
                    {
                        return false;
                    }
                    continue;
                }
                None => *l,
            }
        } else {
            *l
        };
        if l.is_empty()
            || l.len() > 63
            || l.starts_with('-')
            || l.ends_with('-')
            || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return false;
        }
    }
    // The TLD may not be all numeric (it would be an IP address).
    !labels
        .last()
        .is_some_and(|t| labels.len() > 1 && t.bytes().all(|b| b.is_ascii_digit()))
}

fn str_arg(f: &str, v: &Value) -> Result<String, ExecutionError> {
    match v {
        Value::String(s) => Ok(s.to_string()),
        other => Err(ExecutionError::function_error(
            f,
            format!("expected a string, got {}", other.type_of()),
        )),
    }
}

fn ip_of(f: &str, v: &Value) -> Result<IpAddr, ExecutionError> {
    match v {
        Value::Opaque(o) => o
            .downcast_ref::<IpVal>()
            .map(|i| i.0)
            .ok_or_else(|| ExecutionError::function_error(f, "expected an IP")),
        Value::String(s) => parse_ip(s).ok_or_else(|| {
            ExecutionError::function_error(f, format!("IP Address {s:?} parse error"))
        }),
        _ => Err(ExecutionError::function_error(f, "expected an IP")),
    }
}

fn cidr_of(f: &str, v: &Value) -> Result<CidrVal, ExecutionError> {
    match v {
        Value::Opaque(o) => o
            .downcast_ref::<CidrVal>()
            .cloned()
            .ok_or_else(|| ExecutionError::function_error(f, "expected a CIDR")),
        Value::String(s) => parse_cidr(s).ok_or_else(|| {
            ExecutionError::function_error(f, format!("network address {s:?} parse error"))
        }),
        _ => Err(ExecutionError::function_error(f, "expected a CIDR")),
    }
}

/// Elements that occur more than once, each once, in order of first occurrence. O(n).
pub fn duplicates(list: &[Value]) -> Vec<Value> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, v) in list.iter().enumerate() {
        let k = to_json(v).to_string();
        counts.entry(k).or_insert((i, 0)).1 += 1;
    }
    let mut firsts: Vec<usize> = counts
        .values()
        .filter(|(_, n)| *n > 1)
        .map(|(i, _)| *i)
        .collect();
    firsts.sort_unstable();
    firsts.into_iter().map(|i| list[i].clone()).collect()
}

fn list_arg(f: &str, v: &Value) -> Result<Arc<Vec<Value>>, ExecutionError> {
    match v {
        Value::List(l) => Ok(l.clone()),
        _ => Err(ExecutionError::function_error(f, "expected a list")),
    }
}

/// Registers the helpers on a root context.
pub fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    ctx.add_function(
        "lists.duplicates",
        |l: Value| -> Result<Value, ExecutionError> {
            Ok(Value::List(Arc::new(duplicates(&list_arg(
                "lists.duplicates",
                &l,
            )?))))
        },
    )?;
    ctx.add_function(
        "sum",
        |This(t): This<Value>| -> Result<Value, ExecutionError> {
            let l = list_arg("sum", &t)?;
            let mut total: i64 = 0;
            let mut float: Option<f64> = None;
            for v in l.iter() {
                match v {
                    Value::Int(i) => {
                        total = total.checked_add(*i).ok_or_else(|| {
                            ExecutionError::function_error("sum", "integer overflow")
                        })?
                    }
                    Value::UInt(u) => total = total.saturating_add(*u as i64),
                    Value::Float(f) => *float.get_or_insert(0.0) += f,
                    _ => return Err(ExecutionError::function_error("sum", "expected numbers")),
                }
            }
            Ok(match float {
                Some(f) => Value::Float(f + total as f64),
                None => Value::Int(total),
            })
        },
    )?;
    ctx.add_function("isIP", |s: Value| -> Result<Value, ExecutionError> {
        Ok(Value::Bool(parse_ip(&str_arg("isIP", &s)?).is_some()))
    })?;
    ctx.add_function("isCIDR", |s: Value| -> Result<Value, ExecutionError> {
        Ok(Value::Bool(parse_cidr(&str_arg("isCIDR", &s)?).is_some()))
    })?;
    ctx.add_function("isHostname", |s: Value| -> Result<Value, ExecutionError> {
        Ok(Value::Bool(is_hostname(&str_arg("isHostname", &s)?)))
    })?;
    ctx.add_function("ip", |s: Value| -> Result<Value, ExecutionError> {
        match &s {
            // `cidr.ip()` as a member call lands here with the CIDR as argument.
            Value::Opaque(o) if o.downcast_ref::<CidrVal>().is_some() => {
                let c = cidr_of("ip", &s)?;
                Ok(Value::Opaque(Arc::new(IpVal(c.addr))))
            }
            _ => Ok(Value::Opaque(Arc::new(IpVal(ip_of("ip", &s)?)))),
        }
    })?;
    ctx.add_function("cidr", |s: Value| -> Result<Value, ExecutionError> {
        Ok(Value::Opaque(Arc::new(cidr_of("cidr", &s)?)))
    })?;
    ctx.add_function(
        "family",
        |This(t): This<Value>| -> Result<Value, ExecutionError> {
            Ok(Value::Int(if ip_of("family", &t)?.is_ipv4() {
                4
            } else {
                6
            }))
        },
    )?;
    ctx.add_function(
        "containsIP",
        |This(t): This<Value>, ip: Value| -> Result<Value, ExecutionError> {
            let c = cidr_of("containsIP", &t)?;
            Ok(Value::Bool(c.contains_ip(ip_of("containsIP", &ip)?)))
        },
    )?;
    ctx.add_function(
        "containsCIDR",
        |This(t): This<Value>, o: Value| -> Result<Value, ExecutionError> {
            let c = cidr_of("containsCIDR", &t)?;
            Ok(Value::Bool(c.contains_cidr(&cidr_of("containsCIDR", &o)?)))
        },
    )?;
    ctx.add_function(
        "prefixLength",
        |This(t): This<Value>| -> Result<Value, ExecutionError> {
            Ok(Value::Int(cidr_of("prefixLength", &t)?.prefix as i64))
        },
    )?;
    ctx.add_function(
        "masked",
        |This(t): This<Value>| -> Result<Value, ExecutionError> {
            Ok(Value::Opaque(Arc::new(cidr_of("masked", &t)?.masked())))
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_follow_gloo_rules() {
        for ok in [
            "a.com",
            "*.foo.com",
            "*bar.foo.com",
            "*-bar.foo.com",
            "istio.io.",
            "svc",
        ] {
            assert!(is_hostname(ok), "{ok}");
        }
        for bad in [
            "*",
            "bar.*.com",
            "bar*.foo.com",
            "bar.foo.*",
            "-a.com",
            "a..com",
            "1.2.3.4",
            "",
        ] {
            assert!(!is_hostname(bad), "{bad}");
        }
    }

    #[test]
    fn cidrs_contain() {
        let c = parse_cidr("10.0.0.0/8").unwrap();
        assert!(c.contains_ip("10.1.2.3".parse().unwrap()));
        assert!(!c.contains_ip("11.1.2.3".parse().unwrap()));
        assert!(c.contains_cidr(&parse_cidr("10.1.0.0/16").unwrap()));
        assert!(!parse_cidr("10.1.0.0/16").unwrap().contains_cidr(&c));
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert!(parse_cidr("::/0")
            .unwrap()
            .contains_ip("2001:db8::1".parse().unwrap()));
        assert!(parse_ip("::ffff:1.2.3.4").is_none());
        assert_eq!(
            parse_cidr("10.1.2.3/8").unwrap().masked().addr.to_string(),
            "10.0.0.0"
        );
    }

    #[test]
    fn duplicates_in_first_order() {
        let l: Vec<Value> = ["a", "b", "a", "c", "b", "a"]
            .iter()
            .map(|s| Value::String(Arc::new(s.to_string())))
            .collect();
        let d = duplicates(&l);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0], l[0]);
        assert_eq!(d[1], l[1]);
    }
}
