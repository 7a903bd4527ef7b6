//! CEL helper functions written in Rust: `lists.duplicates`, the Kubernetes IP/CIDR library
//! (`isIP`, `isCIDR`, `ip()`, `cidr()`, `containsIP`, `containsCIDR`, ...; semantics after
//! k8s.io/apiserver/pkg/cel/library ip.go and cidr.go, re-implemented on std's parsers) and
//! `isHostname` (Gloo's host rules, docs/policies.md, "What expressions can use") and `routes` (a
//! RouteTable's routes, flattened, with their destination weights;
//! docs/translation.md#routetable-rules).

use super::convert::to_json;
use cel::common::types::{CelBool, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString};
use cel::common::value::{CowVal, Val};
use cel::extractors::This;
use cel::objects::Opaque;
use cel::{Context, ExecutionError, FunctionContext, Value};
use std::borrow::Cow;
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
    "routes",
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

/// The route lists of a RouteTable spec, in the order `routes` walks them.
pub const ROUTE_SECTIONS: [&str; 3] = ["http", "tcp", "tls"];

/// One route of a RouteTable spec, as `routes(spec)` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `http`, `tcp` or `tls`.
    pub section: &'static str,
    /// Index in that list.
    pub index: usize,
    /// The route has a `forwardTo` action.
    pub forward_to: bool,
    /// Length of `forwardTo.destinations`, `None` when that list is not written.
    pub destinations: Option<usize>,
    /// Destinations with a weight over 0.
    pub weighted: i64,
    /// Destinations without a weight, or with weight 0.
    pub unweighted: i64,
    /// Sum of the destinations' weights.
    pub weight_sum: i64,
}

/// `v[k]` of a map, borrowed; `None` when `v` is not a map or `k` is missing or `null`.
fn field<'a, 'v>(v: &'a (dyn Val + 'v), k: &str) -> Option<&'a (dyn Val + 'v)> {
    super::convert::map_field(v, k).filter(|x| x.downcast_ref::<CelNull>().is_none())
}

/// `v` as a list; `what` names the field in the error (built only then).
fn list_of<'a, 'v>(
    v: &'a (dyn Val + 'v),
    what: impl FnOnce() -> String,
) -> Result<&'a CelList<'v>, String> {
    v.downcast_ref::<CelList>()
        .ok_or_else(|| format!("{} must be a list, got {}", what(), v.get_type().name()))
}

fn is_map(v: &dyn Val) -> bool {
    v.downcast_ref::<CelMap>().is_some()
}

/// The routes of a RouteTable spec (`spec.http`, then `spec.tcp`, then `spec.tls`, each in
/// order), read in place without copying them. The weight counts follow Gloo's rules on
/// `forwardTo.destinations[].weight` (docs/policies.md, `routetable-weights`): a
/// destination without a weight, or with weight 0, is unweighted. A missing or `null` field
/// counts as not written; a field of the wrong type is an error.
pub fn route_infos(spec: &dyn Val) -> Result<Vec<RouteInfo>, String> {
    if !is_map(spec) {
        return Err(format!(
            "expected a RouteTable spec (a map), got {}",
            spec.get_type().name()
        ));
    }
    let mut out = Vec::new();
    for section in ROUTE_SECTIONS {
        let Some(list) = field(spec, section) else {
            continue;
        };
        for (index, route) in list_of(list, || format!("spec.{section}"))?
            .iter()
            .enumerate()
        {
            let route = route.as_ref();
            if !is_map(route) {
                return Err(format!("spec.{section}[{index}] must be a map"));
            }
            let mut info = RouteInfo {
                section,
                index,
                forward_to: false,
                destinations: None,
                weighted: 0,
                unweighted: 0,
                weight_sum: 0,
            };
            if let Some(fwd) = field(route, "forwardTo") {
                // Only error messages name the field: no string is built on the way.
                let at = || format!("spec.{section}[{index}].forwardTo");
                if !is_map(fwd) {
                    return Err(format!("{} must be a map", at()));
                }
                info.forward_to = true;
                if let Some(ds) = field(fwd, "destinations") {
                    let ds = list_of(ds, || format!("{}.destinations", at()))?;
                    info.destinations = Some(ds.len());
                    for (j, d) in ds.iter().enumerate() {
                        let d = d.as_ref();
                        if !is_map(d) {
                            return Err(format!("{}.destinations[{j}] must be a map", at()));
                        }
                        let w = match field(d, "weight") {
                            None => 0,
                            Some(w) => *w
                                .downcast_ref::<CelInt>()
                                .ok_or_else(|| {
                                    format!(
                                        "{}.destinations[{j}].weight must be an int, got {}",
                                        at(),
                                        w.get_type().name()
                                    )
                                })?
                                .inner(),
                        };
                        if w > 0 {
                            info.weighted += 1;
                        } else if w == 0 {
                            info.unweighted += 1;
                        }
                        info.weight_sum = info
                            .weight_sum
                            .checked_add(w)
                            .ok_or_else(|| format!("{}.destinations: weights overflow", at()))?;
                    }
                }
            }
            out.push(info);
        }
    }
    Ok(out)
}

/// One fact of a route, as `routes(spec)` names it: what a `where` map may ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fact {
    Str(Cow<'static, str>),
    Int(i64),
    Bool(bool),
}

/// The kind of a fact's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FactKind {
    Str,
    Int,
    Bool,
}

/// The facts of a route, in the order `routes` lists them: the keys of each route's map and
/// the names a `where` map may use.
const FACTS: [(&str, FactKind); 10] = [
    ("section", FactKind::Str),
    ("index", FactKind::Int),
    ("field", FactKind::Str),
    ("forwardTo", FactKind::Bool),
    ("hasDestinations", FactKind::Bool),
    ("destinations", FactKind::Int),
    ("weighted", FactKind::Int),
    ("unweighted", FactKind::Int),
    ("weightSum", FactKind::Int),
    ("weightRules", FactKind::Bool),
];

impl RouteInfo {
    /// The fact named `key` (one of [`FACTS`]); `None` for a name `routes` does not know.
    fn fact(&self, key: &str) -> Option<Fact> {
        Some(match key {
            "section" => Fact::Str(Cow::Borrowed(self.section)),
            "index" => Fact::Int(self.index as i64),
            "field" => Fact::Str(Cow::Owned(format!("{}[{}]", self.section, self.index))),
            "forwardTo" => Fact::Bool(self.forward_to),
            "hasDestinations" => Fact::Bool(self.destinations.is_some()),
            "destinations" => Fact::Int(self.destinations.unwrap_or(0) as i64),
            "weighted" => Fact::Int(self.weighted),
            "unweighted" => Fact::Int(self.unweighted),
            "weightSum" => Fact::Int(self.weight_sum),
            "weightRules" => Fact::Bool(self.weight_rules()),
            _ => return None,
        })
    }

    /// The weight rules of docs/translation.md#routetable-rules apply: more than one destination,
    /// at least one with a weight.
    pub fn weight_rules(&self) -> bool {
        self.destinations.unwrap_or(0) > 1 && self.weighted > 0
    }
}

impl Fact {
    /// The fact as a CEL value.
    fn into_val<'v>(self) -> Box<dyn Val + 'v> {
        match self {
            Fact::Str(Cow::Borrowed(s)) => Box::new(CelString::from(s)),
            Fact::Str(Cow::Owned(s)) => Box::new(CelString::from(s)),
            Fact::Int(i) => Box::new(CelInt::from(i)),
            Fact::Bool(b) => Box::new(CelBool::from(b)),
        }
    }
}

/// The facts a `where` map asks for, read once per call: each name known, each value of
/// that fact's type.
fn where_facts(filter: &dyn Val) -> Result<Vec<(String, Fact)>, String> {
    let map = filter.downcast_ref::<CelMap>().ok_or_else(|| {
        format!(
            "the second argument must be a map of route facts, got {}",
            filter.get_type().name()
        )
    })?;
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map.inner() {
        let name = k
            .inner()
            .downcast_ref::<CelString>()
            .map(|s| s.inner().to_string())
            .ok_or_else(|| "route facts are named by strings".to_string())?;
        let Some(&(_, kind)) = FACTS.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = FACTS.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "`{name}` is not a route fact ({})",
                names.join(", ")
            ));
        };
        let v = v.as_ref();
        let want = match kind {
            FactKind::Str => v
                .downcast_ref::<CelString>()
                .map(|s| Fact::Str(Cow::Owned(s.inner().to_string()))),
            FactKind::Int => v.downcast_ref::<CelInt>().map(|i| Fact::Int(*i.inner())),
            FactKind::Bool => v.downcast_ref::<CelBool>().map(|b| Fact::Bool(*b.inner())),
        }
        .ok_or_else(|| {
            format!(
                "route fact `{name}` is compared with {}, not {}",
                match kind {
                    FactKind::Str => "a string",
                    FactKind::Int => "an int",
                    FactKind::Bool => "a bool",
                },
                v.get_type().name()
            )
        })?;
        out.push((name, want));
    }
    // Map order is the hash's: sorted, the first failing fact is always the same one.
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// `routes(spec)`: one map per route of a RouteTable spec (see [`route_infos`]) with keys
/// `section`, `index`, `field` (`http[2]`), `forwardTo` (bool), `hasDestinations` (bool:
/// `forwardTo.destinations` is written), `destinations` (its length, 0 when not written),
/// `weighted`, `unweighted`, `weightSum` and `weightRules` (bool: more than one destination and at
/// least one weight, docs/translation.md#routetable-rules). `routes(spec, where)` keeps only the
/// routes whose facts equal every entry of the map `where` (`{'section': 'http', 'forwardTo':
/// true}`), tested before any map is built: in CEL, each element a `filter` or `exists` visits is
/// copied.
fn routes_fn<'c, 'call>(
    ftx: &mut FunctionContext<'c, 'call>,
) -> Result<CowVal<'c, 'call>, ExecutionError> {
    let fail = |e: String| ExecutionError::function_error("routes", e);
    let (spec, filter) = match ftx.this.as_ref() {
        Some(this) => (Some(this), ftx.args.first()),
        None => (ftx.args.first(), ftx.args.get(1)),
    };
    let Some(spec) = spec else {
        return Err(fail("expects a RouteTable spec".into()));
    };
    let wanted = match filter {
        Some(f) => where_facts(f.as_ref()).map_err(fail)?,
        None => Vec::new(),
    };
    let infos = route_infos(spec.as_ref()).map_err(fail)?;
    let items: Vec<Box<dyn Val + 'call>> = infos
        .into_iter()
        .filter(|r| wanted.iter().all(|(k, v)| r.fact(k).as_ref() == Some(v)))
        .map(|r| {
            let map: HashMap<CelMapKey<'call>, Box<dyn Val + 'call>> = FACTS
                .iter()
                .filter_map(|&(k, _)| Some((CelMapKey::from(k), r.fact(k)?.into_val())))
                .collect();
            Box::new(CelMap::from(map)) as Box<dyn Val + 'call>
        })
        .collect();
    Ok(CowVal::Owned(Box::new(CelList::from(items))))
}

/// The type of a function registered with direct access to its arguments.
type RawFunction = Box<
    dyn for<'c, 'call> Fn(
            &mut FunctionContext<'c, 'call>,
        ) -> Result<CowVal<'c, 'call>, ExecutionError>
        + Send
        + Sync,
>;

/// Registers the helpers on a root context.
pub fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    let routes: RawFunction = Box::new(routes_fn);
    ctx.add_function("routes", routes)?;
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

    fn spec(j: serde_json::Value) -> Box<dyn Val> {
        let j: &'static crate::node::Node = Box::leak(Box::new(crate::node::Node::from(&j)));
        super::super::convert::to_val(j)
    }

    fn info(
        section: &'static str,
        index: usize,
        destinations: Option<usize>,
        (weighted, unweighted, weight_sum): (i64, i64, i64),
    ) -> RouteInfo {
        RouteInfo {
            section,
            index,
            forward_to: true,
            destinations,
            weighted,
            unweighted,
            weight_sum,
        }
    }

    #[test]
    fn routes_are_flattened_in_section_order_with_weights() {
        let s = spec(serde_json::json!({
            "tls": [{"forwardTo": {"destinations": [{"weight": 30}, {"weight": 70}]}}],
            "http": [
                {"forwardTo": {"destinations": [{"weight": 60}, {}, {"weight": 0}, {"weight": null}]}},
                {"directResponse": {"status": 200}},
                {"forwardTo": {}},
                {"forwardTo": {"destinations": []}},
            ],
            "tcp": [{"forwardTo": {"destinations": [{"ref": {"name": "a"}}]}}],
        }));
        let got = route_infos(s.as_ref()).unwrap();
        let direct = RouteInfo {
            forward_to: false,
            ..info("http", 1, None, (0, 0, 0))
        };
        assert_eq!(
            got,
            vec![
                info("http", 0, Some(4), (1, 3, 60)),
                direct,
                info("http", 2, None, (0, 0, 0)),
                info("http", 3, Some(0), (0, 0, 0)),
                info("tcp", 0, Some(1), (0, 1, 0)),
                info("tls", 0, Some(2), (2, 0, 100)),
            ]
        );
        assert_eq!(
            route_infos(spec(serde_json::json!({})).as_ref()),
            Ok(vec![])
        );
    }

    #[test]
    fn routes_of_the_wrong_shape_are_errors() {
        for (bad, msg) in [
            (serde_json::json!({"http": {}}), "spec.http must be a list"),
            (serde_json::json!({"tcp": [1]}), "spec.tcp[0] must be a map"),
            (
                serde_json::json!({"http": [{"forwardTo": {"destinations": [{"weight": "50"}]}}]}),
                "spec.http[0].forwardTo.destinations[0].weight must be an int",
            ),
            (
                serde_json::json!({"http": [{"forwardTo": {"destinations": {}}}]}),
                "spec.http[0].forwardTo.destinations must be a list",
            ),
        ] {
            let e = route_infos(spec(bad.clone()).as_ref()).unwrap_err();
            assert!(e.contains(msg), "{bad}: {e}");
        }
        assert!(route_infos(spec(serde_json::json!([])).as_ref()).is_err());
    }

    /// `routes()` agrees with the plain CEL the built-in policies used before it existed.
    #[test]
    fn routes_match_the_cel_they_replace() {
        let env = super::super::engine::env();
        let specs = [
            serde_json::json!({"http": [
                {"forwardTo": {"destinations": [{"weight": 60}, {}, {"weight": 0}]}},
                {"forwardTo": {"destinations": [{"weight": 50}, {"weight": 55}]}},
                {"forwardTo": {"destinations": []}},
                {"forwardTo": {}},
                {"delegate": {}}],
              "tcp": [{"forwardTo": {"destinations": [{"weight": 10}, {"weight": 90}]}}],
              "tls": [{"forwardTo": {"destinations": [{}, {}]}}]}),
            serde_json::json!({"tcp": [{"forwardTo": {"destinations": [{"weight": 100}, {}]}}]}),
            serde_json::json!({"hosts": ["a"]}),
        ];
        let via_helper = "routes(spec).filter(r, r.destinations > 1 && r.weighted > 0).map(r, \
            ['spec.' + r.field + '.forwardTo.destinations', r.weightSum, r.unweighted])";
        let plain_cel = "['http', 'tcp', 'tls'].map(sec, lists.range(size(spec[?sec].orValue([]))) \
            .map(i, {'sec': sec, 'i': i, 'd': spec[sec][i].?forwardTo.?destinations.orValue([])})) \
            .flatten().filter(r, size(r.d) > 1 && r.d.exists(d, d.?weight.orValue(0) > 0)) \
            .map(r, ['spec.' + r.sec + '[' + string(r.i) + '].forwardTo.destinations', \
              r.d.map(d, d.?weight.orValue(0)).sum(), size(r.d.filter(d, d.?weight.orValue(0) == 0))])";
        let via_where = "routes(spec, {'weightRules': true}).map(r, \
            ['spec.' + r.field + '.forwardTo.destinations', r.weightSum, r.unweighted])";
        let http_where = "[size(routes(spec, {'section': 'http', 'forwardTo': true})) > 0, \
            size(routes(spec, {'section': 'http', 'forwardTo': true, 'hasDestinations': true, \
              'destinations': 0})) > 0]";
        let http_exists = "[routes(spec).exists(r, r.section == 'http' && r.forwardTo), \
            routes(spec).exists(r, r.section == 'http' && r.forwardTo && r.hasDestinations \
              && r.destinations == 0)]";
        let http_exists_cel = "[has(spec.http) && spec.http.exists(r, has(r.forwardTo)), \
            has(spec.http) && spec.http.exists(r, has(r.forwardTo) && has(r.forwardTo.destinations) \
              && r.forwardTo.destinations.size() == 0)]";
        for j in specs {
            let mut ctx = Context::with_env(env.clone());
            register(&mut ctx).unwrap();
            ctx.add_variable_from_value(
                "spec",
                super::super::convert::to_cel(&crate::node::Node::from(&j)),
            );
            let eval = |src: &str| ctx.resolve(env.compile(src).unwrap().expression()).unwrap();
            assert_eq!(eval(via_helper), eval(plain_cel), "{j}");
            assert_eq!(eval(via_where), eval(plain_cel), "{j}");
            assert_eq!(eval(http_exists), eval(http_exists_cel), "{j}");
            assert_eq!(eval(http_where), eval(http_exists_cel), "{j}");
        }
    }

    /// A `where` map keeps exactly the routes whose facts all equal its entries.
    #[test]
    fn routes_where_keeps_the_routes_whose_facts_match() {
        let env = super::super::engine::env();
        let mut ctx = Context::with_env(env.clone());
        register(&mut ctx).unwrap();
        ctx.add_variable_from_value(
            "spec",
            super::super::convert::to_cel(&crate::node::Node::from(&serde_json::json!({
                "http": [
                    {"forwardTo": {"destinations": [{"weight": 60}, {"weight": 40}]}},
                    {"directResponse": {"status": 200}},
                    {"forwardTo": {"destinations": []}},
                ],
                "tcp": [{"forwardTo": {"destinations": [{"weight": 100}, {}]}}],
            }))),
        );
        let eval = |src: &str| {
            ctx.resolve(env.compile(src).unwrap().expression())
                .map(|v| super::super::convert::to_json(&v))
        };
        let fields = |src: &str| eval(&format!("{src}.map(r, r.field)")).unwrap();
        assert_eq!(
            fields("routes(spec, {})"),
            serde_json::json!(["http[0]", "http[1]", "http[2]", "tcp[0]"])
        );
        assert_eq!(
            fields("routes(spec, {'weightRules': true})"),
            serde_json::json!(["http[0]", "tcp[0]"])
        );
        assert_eq!(
            fields("routes(spec, {'section': 'http', 'forwardTo': true})"),
            serde_json::json!(["http[0]", "http[2]"])
        );
        assert_eq!(
            fields("routes(spec, {'destinations': 0, 'hasDestinations': true})"),
            serde_json::json!(["http[2]"])
        );
        assert_eq!(
            fields("routes(spec, {'field': 'tcp[0]', 'weightSum': 100})"),
            serde_json::json!(["tcp[0]"])
        );
        assert_eq!(
            fields("routes(spec, {'section': 'tls'})"),
            serde_json::json!([])
        );
        for (bad, msg) in [
            (
                "routes(spec, {'weight': 1})",
                "`weight` is not a route fact",
            ),
            (
                "routes(spec, {'destinations': '0'})",
                "compared with an int, not string",
            ),
            (
                "routes(spec, {'forwardTo': 1})",
                "compared with a bool, not int",
            ),
            (
                "routes(spec, ['http'])",
                "must be a map of route facts, got list",
            ),
            ("routes(spec, {1: true})", "named by strings"),
        ] {
            let e = format!("{:?}", eval(bad).unwrap_err());
            assert!(e.contains(msg), "{bad}: {e}");
        }
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
