//! The grammar helpers istiod's validation uses (docs/validation.md, "Grammar"), written after the
//! descriptions there of `pkg/config/validation/agent/validation.go` and
//! `pkg/config/labels/instance.go` at Istio 1.30.3.

use std::net::IpAddr;

/// A value istiod's grammar rejects, worded as istiod words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GrammarError {
    /// An empty domain name.
    #[error("empty domain name not allowed")]
    EmptyDomain,
    /// A domain name over 255 characters.
    #[error("domain name {0:?} too long (max 255 characters)")]
    DomainTooLong(String),
    /// A domain name whose top-level label is all digits.
    #[error("domain name {domain:?} invalid (top level domain {tld:?} cannot be all-numeric)")]
    NumericTld {
        /// The domain name.
        domain: String,
        /// Its top-level label.
        tld: String,
    },
    /// A domain name with a label that is not a DNS-1123 label.
    #[error("domain name {domain:?} invalid (label {label:?} invalid)")]
    BadLabel {
        /// The domain name.
        domain: String,
        /// The label.
        label: String,
    },
    /// Not an IP address or CIDR block.
    #[error("{0:?} is not a valid CIDR block")]
    Cidr(String),
    /// Not an IP address.
    #[error("{0:?} is not a valid IP address")]
    Ip(String),
    /// A label key with a bad DNS prefix.
    #[error("invalid label key prefix in {0:?}")]
    LabelKeyPrefix(String),
    /// A label key with a bad name.
    #[error(
        "invalid label key {0:?}: the name must be 1-63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric"
    )]
    LabelKeyName(String),
    /// A bad label value.
    #[error("invalid label value {value:?} for key {key:?}")]
    LabelValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// Not a Go duration.
    #[error("{0:?} is not a valid duration")]
    Duration(String),
    /// A duration under a millisecond.
    #[error("duration {0:?} must be at least 1ms")]
    DurationTooShort(String),
    /// A duration with a fraction of a millisecond.
    #[error("duration {0:?} must be a whole number of milliseconds")]
    DurationNotWholeMs(String),
    /// An empty regex.
    #[error("regex string must not be empty")]
    EmptyRegex,
    /// A regex over 1024 characters.
    #[error("regex is {0} characters, more than the 1024 allowed")]
    RegexTooLong(usize),
    /// A regex RE2 does not accept.
    #[error("invalid regex {pattern:?}: {reason}")]
    Regex {
        /// The regex.
        pattern: String,
        /// The last line of the parser's message.
        reason: String,
    },
    /// An empty header name in a header operation.
    #[error("header name cannot be empty")]
    EmptyHeaderName,
    /// A `:`-prefixed header name where the operation takes none.
    #[error("invalid header {0:?}: header cannot have \":\" prefix")]
    PseudoHeader(String),
    /// `host` where only a request's add or set may name it.
    #[error("invalid header {0:?}: cannot set Host header")]
    HostHeader(String),
    /// A header value with control characters.
    #[error("header value {0:?} contains control characters")]
    HeaderValueControl(String),
    /// A header value with a `%` that opens no `%VAR%`.
    #[error("header value {0:?} has an unbalanced %; write a literal % as %%")]
    HeaderValuePercent(String),
}

/// The message, for a finding.
impl From<GrammarError> for String {
    fn from(e: GrammarError) -> String {
        e.to_string()
    }
}

/// Istio's `labels.IsDNS1123Label`: at most 63 characters of `[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?`
/// (case-insensitive, unlike Kubernetes names).
pub fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// A lowercase DNS-1123 label (Kubernetes namespace names).
pub fn is_k8s_label(s: &str) -> bool {
    is_label(s) && !s.bytes().any(|c| c.is_ascii_uppercase())
}

/// A lowercase DNS-1123 subdomain (Kubernetes object names): at most 253 characters, labels
/// separated by dots.
pub fn is_k8s_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_k8s_label)
}

/// Istio's `labels.IsWildcardDNS1123Label`: `*`, or a label optionally prefixed by `*` or `*-`.
fn is_wildcard_label(s: &str) -> bool {
    if s.len() > 63 {
        return false;
    }
    if s == "*" {
        return true;
    }
    let rest = s
        .strip_prefix("*-")
        .or_else(|| s.strip_prefix('*'))
        .unwrap_or(s);
    is_label(rest)
}

fn check_preconditions(domain: &str) -> Result<(), GrammarError> {
    if domain.is_empty() {
        return Err(GrammarError::EmptyDomain);
    }
    if domain.len() > 255 {
        return Err(GrammarError::DomainTooLong(domain.to_string()));
    }
    Ok(())
}

/// Istio's `ValidateDNS1123Labels`: plain labels, the last may be empty (`istio.io.`), and the
/// top-level label must not be all-numeric.
fn validate_labels(whole: &str, domain: &str) -> Result<(), GrammarError> {
    let parts: Vec<&str> = domain.split('.').collect();
    let tld = parts[parts.len() - 1];
    if !tld.is_empty() && tld.parse::<i64>().is_ok() {
        return Err(GrammarError::NumericTld {
            domain: whole.to_string(),
            tld: tld.to_string(),
        });
    }
    for (i, label) in parts.iter().enumerate() {
        if i == parts.len() - 1 && label.is_empty() {
            return Ok(());
        }
        if !is_label(label) {
            return Err(GrammarError::BadLabel {
                domain: whole.to_string(),
                label: label.to_string(),
            });
        }
    }
    Ok(())
}

/// Istio's `ValidateWildcardDomain`: the first label may be `*`, `*foo` or `*-foo`.
pub fn wildcard_domain(domain: &str) -> Result<(), GrammarError> {
    check_preconditions(domain)?;
    let (first, rest) = match domain.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (domain, None),
    };
    if !is_wildcard_label(first) {
        return Err(GrammarError::BadLabel {
            domain: domain.to_string(),
            label: first.to_string(),
        });
    }
    match rest {
        Some(r) => validate_labels(domain, r),
        None => Ok(()),
    }
}

/// Istio's `ValidateFQDN`: like `wildcard_domain` without wildcards (one label passes).
pub fn fqdn(domain: &str) -> Result<(), GrammarError> {
    check_preconditions(domain)?;
    validate_labels(domain, domain)
}

/// Istio's `ValidatePartialWildCard`: a `*` must be the whole host or start a `*.` prefix.
pub fn is_partial_wildcard(host: &str) -> bool {
    let plain_wildcard = host.starts_with("*.") && !host[1..].contains('*');
    host.contains('*') && host != "*" && !plain_wildcard
}

/// True for an IP address (no prefix).
pub fn is_ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

/// Istio's `ValidateIPSubnet`: an IP, or `ip/len` (host bits allowed).
pub fn ip_subnet(s: &str) -> Result<(), GrammarError> {
    match s.split_once('/') {
        Some((ip, len)) => {
            let ip: IpAddr = ip.parse().map_err(|_| GrammarError::Cidr(s.to_string()))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            match len.parse::<u8>() {
                Ok(n) if n <= max && !len.starts_with('+') => Ok(()),
                _ => Err(GrammarError::Cidr(s.to_string())),
            }
        }
        None if is_ip(s) => Ok(()),
        None => Err(GrammarError::Ip(s.to_string())),
    }
}

/// Istio's `ValidatePort`: 1..65535.
pub fn is_port(n: i64) -> bool {
    (1..=65535).contains(&n)
}

/// Istio's protocol families (`pkg/config/protocol/instance.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Empty: sniffed.
    Unset,
    /// A known protocol, upper-cased.
    Known(&'static str),
    /// Not a protocol Istio knows.
    Unsupported,
}

const PROTOCOLS: [&str; 12] = [
    "TCP",
    "UDP",
    "GRPC",
    "GRPC-WEB",
    "HTTP",
    "HTTP_PROXY",
    "HTTP2",
    "HTTPS",
    "TLS",
    "MONGO",
    "REDIS",
    "MYSQL",
];

impl Protocol {
    /// Parses case-insensitively.
    pub fn parse(s: &str) -> Protocol {
        if s.is_empty() {
            return Protocol::Unset;
        }
        PROTOCOLS
            .iter()
            .find(|p| p.eq_ignore_ascii_case(s))
            .map(|p| Protocol::Known(p))
            .unwrap_or(Protocol::Unsupported)
    }

    /// HTTP, HTTP2, HTTP_PROXY, GRPC, GRPC-Web.
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Protocol::Known("HTTP" | "HTTP2" | "HTTP_PROXY" | "GRPC" | "GRPC-WEB")
        )
    }

    /// HTTPS, TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Protocol::Known("HTTPS" | "TLS"))
    }

    /// TCP, HTTPS, TLS, Mongo, Redis, MySQL.
    pub fn is_tcp(self) -> bool {
        matches!(
            self,
            Protocol::Known("TCP" | "HTTPS" | "TLS" | "MONGO" | "REDIS" | "MYSQL")
        )
    }
}

fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A label or annotation key: `[dns-prefix/]name`.
pub fn label_key(key: &str) -> Result<(), GrammarError> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.len() > 253 || !p.split('.').all(is_label) {
            return Err(GrammarError::LabelKeyPrefix(key.to_string()));
        }
    }
    if !is_label_name(name) {
        return Err(GrammarError::LabelKeyName(key.to_string()));
    }
    Ok(())
}

/// Istio's `labels.Instance.Validate` for one pair (no length limit on values).
pub fn label_pair(key: &str, value: &str) -> Result<(), GrammarError> {
    label_key(key)?;
    let b = value.as_bytes();
    let ok = b.is_empty()
        || (b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')));
    if ok {
        Ok(())
    } else {
        Err(GrammarError::LabelValue {
            key: key.to_string(),
            value: value.to_string(),
        })
    }
}

/// Parses a Go duration (`time.ParseDuration`) into nanoseconds.
pub fn go_duration_nanos(s: &str) -> Option<i128> {
    crate::gloo::duration::nanos(s)
}

/// Istio's `ValidateDuration` on a duration string: at least 1ms and whole milliseconds.
pub fn istio_duration(s: &str) -> Result<(), GrammarError> {
    let n = go_duration_nanos(s).ok_or_else(|| GrammarError::Duration(s.to_string()))?;
    if n < 1_000_000 {
        return Err(GrammarError::DurationTooShort(s.to_string()));
    }
    if n % 1_000_000 != 0 {
        return Err(GrammarError::DurationNotWholeMs(s.to_string()));
    }
    Ok(())
}

/// A regex as istiod accepts it: non-empty, at most 1024 characters, valid RE2 (checked with the
/// `regex` crate, whose syntax is RE2's).
pub fn regex(s: &str) -> Result<(), GrammarError> {
    if s.is_empty() {
        return Err(GrammarError::EmptyRegex);
    }
    if s.len() > 1024 {
        return Err(GrammarError::RegexTooLong(s.len()));
    }
    // Rendered objects repeat the same few patterns: each thread remembers what it checked.
    thread_local! {
        static SEEN: std::cell::RefCell<std::collections::HashMap<String, Result<(), GrammarError>>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    const SEEN_MAX: usize = 4096;
    if let Some(r) = SEEN.with(|c| c.borrow().get(s).cloned()) {
        return r;
    }
    let r = regex::Regex::new(s)
        .map(|_| ())
        .map_err(|e| GrammarError::Regex {
            pattern: s.to_string(),
            reason: e.to_string().lines().last().unwrap_or("").to_string(),
        });
    SEEN.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= SEEN_MAX {
            c.clear();
        }
        c.insert(s.to_string(), r.clone());
    });
    r
}

/// RFC 7230 token characters (header names).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// Where a header operation acts, as istiod tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderOp {
    /// `request.add` or `request.set`, which may name `:authority` and `host`.
    RequestAddOrSet,
    /// `request.remove` and every `response` operation.
    Other,
}

/// The name of a header operation as istiod takes it (`ValidateHTTPHeaderWithAuthorityOperationName`
/// for a request's add and set, `ValidateHTTPHeaderOperationName` for the rest): not empty, no
/// `:` prefix (but `:authority` in a request's add or set), no `host` outside them.
pub fn header_op_name(name: &str, op: HeaderOp) -> Result<(), GrammarError> {
    if name.is_empty() {
        return Err(GrammarError::EmptyHeaderName);
    }
    match op {
        HeaderOp::RequestAddOrSet => {
            if name.starts_with(':') && !name.eq_ignore_ascii_case(":authority") {
                return Err(GrammarError::PseudoHeader(name.to_string()));
            }
        }
        HeaderOp::Other => {
            if name.eq_ignore_ascii_case("host") {
                return Err(GrammarError::HostHeader(name.to_string()));
            }
            if name.starts_with(':') {
                return Err(GrammarError::PseudoHeader(name.to_string()));
            }
        }
    }
    Ok(())
}

/// A header value as istiod takes it (`ValidateHTTPHeaderValue`): no control characters but
/// tab, and `%VAR%` balanced, a literal `%` written `%%`.
pub fn header_value(v: &str) -> Result<(), GrammarError> {
    if v.chars().any(|c| c.is_control() && c != '\t') {
        return Err(GrammarError::HeaderValueControl(v.to_string()));
    }
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            continue;
        }
        if chars.peek() == Some(&'%') {
            chars.next();
            continue;
        }
        if !chars.by_ref().any(|d| d == '%') {
            return Err(GrammarError::HeaderValuePercent(v.to_string()));
        }
    }
    Ok(())
}

/// Istio's `host.Name.Matches`: do two (possibly wildcard) hosts overlap?
pub fn hosts_match(a: &str, b: &str) -> bool {
    let aw = a.starts_with('*');
    let bw = b.starts_with('*');
    match (aw, bw) {
        (true, true) => {
            if a.len() < b.len() {
                b[1..].ends_with(&a[1..])
            } else {
                a[1..].ends_with(&b[1..])
            }
        }
        (true, false) => b.ends_with(&a[1..]),
        (false, true) => a.ends_with(&b[1..]),
        (false, false) => a == b,
    }
}

/// Istio's `host.Name.SubsetOf`: is every host `a` names also named by `b`?
pub fn host_subset_of(a: &str, b: &str) -> bool {
    if let Some(a_rest) = a.strip_prefix('*') {
        return b
            .strip_prefix('*')
            .is_some_and(|b_rest| a_rest.ends_with(b_rest));
    }
    match b.strip_prefix('*') {
        Some(b_rest) => a.ends_with(b_rest),
        None => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_operation_names_and_values() {
        use HeaderOp::*;
        assert!(header_op_name(":authority", RequestAddOrSet).is_ok());
        assert!(header_op_name("Host", RequestAddOrSet).is_ok());
        assert!(header_op_name(":path", RequestAddOrSet).is_err());
        assert!(header_op_name("", RequestAddOrSet).is_err());
        assert!(header_op_name("HOST", Other).is_err());
        assert!(header_op_name(":authority", Other).is_err());
        assert!(header_op_name("x-a", Other).is_ok());
        assert!(header_value("100%% of %HOSTNAME%").is_ok());
        assert!(header_value("50%").is_err());
        assert!(header_value("%START_TIME%%").is_err());
        assert!(header_value("a\tb").is_ok());
        assert!(header_value("a\nb").is_err());
    }

    #[test]
    fn wildcard_domains() {
        for ok in [
            "reviews",
            "*.example.com",
            "*foo.com",
            "*-foo.com",
            "istio.io.",
            "*",
            "a.b.c",
        ] {
            assert!(wildcard_domain(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "foo.*.com",
            "a..b",
            "-a.com",
            "1.2.3.4",
            "foo.123",
            "a_b.com",
        ] {
            assert!(wildcard_domain(bad).is_err(), "{bad}");
        }
        assert!(fqdn("reviews").is_ok());
        assert!(fqdn("*.example.com").is_err());
    }

    #[test]
    fn partial_wildcards() {
        assert!(!is_partial_wildcard("*.example.com"));
        assert!(!is_partial_wildcard("*"));
        assert!(!is_partial_wildcard("example.com"));
        assert!(is_partial_wildcard("*foo.com"));
        assert!(is_partial_wildcard("foo*.com"));
    }

    #[test]
    fn subnets() {
        assert!(ip_subnet("10.0.0.0/8").is_ok());
        assert!(ip_subnet("10.1.2.3/8").is_ok());
        assert!(ip_subnet("2001:db8::/32").is_ok());
        assert!(ip_subnet("10.0.0.1").is_ok());
        assert!(ip_subnet("10.0.0.0/33").is_err());
        assert!(ip_subnet("example.com").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(go_duration_nanos("1.5s"), Some(1_500_000_000));
        assert_eq!(go_duration_nanos("1h2m"), Some(3_720_000_000_000));
        assert_eq!(go_duration_nanos("0"), Some(0));
        assert_eq!(go_duration_nanos("5"), None);
        assert_eq!(go_duration_nanos("1x"), None);
        assert!(istio_duration("2s").is_ok());
        assert!(istio_duration("500us").is_err());
        assert!(istio_duration("1500us").is_err());
        assert!(istio_duration("0s").is_err());
    }

    #[test]
    fn host_matching() {
        assert!(hosts_match("*.example.com", "api.example.com"));
        assert!(hosts_match("*", "api.example.com"));
        assert!(!hosts_match("a.example.com", "b.example.com"));
        assert!(host_subset_of("api.example.com", "*.example.com"));
        assert!(!host_subset_of("*.example.com", "api.example.com"));
        assert!(host_subset_of("*.a.example.com", "*.example.com"));
    }

    #[test]
    fn protocols_and_labels() {
        assert_eq!(Protocol::parse("http"), Protocol::Known("HTTP"));
        assert!(Protocol::parse("grpc-web").is_http());
        assert_eq!(Protocol::parse("HBONE"), Protocol::Unsupported);
        assert!(label_pair("app.kubernetes.io/name", "x").is_ok());
        assert!(label_pair("bad key", "x").is_err());
        assert!(label_pair("k", "-x").is_err());
        assert!(regex("(").is_err());
        assert!(regex("^/api/.*$").is_ok());
    }
}
