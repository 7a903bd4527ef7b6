//! The request a trace follows, parsed from a URL, a method and `Name: value` headers, and
//! the caller it comes from.

use serde::Serialize;
use std::collections::BTreeMap;

/// Why a URL, method, header or caller cannot be traced (an input error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The URL has no `scheme://`.
    #[error("URL `{0}` has no scheme: write it as http://HOST/PATH or https://HOST/PATH")]
    NoScheme(String),
    /// The scheme is neither http nor https.
    #[error("URL scheme `{0}` is not traced: use http or https")]
    Scheme(String),
    /// The URL has no host.
    #[error("URL `{0}` has no host")]
    NoHost(String),
    /// The host holds a character a DNS name or an IP address cannot.
    #[error("URL host `{0}` is not a DNS name or an IP address")]
    Host(String),
    /// The port is not a number from 1 to 65535.
    #[error("URL port `{0}` is not a number from 1 to 65535")]
    Port(String),
    /// The URL holds user information (`user@host`), which a request's authority never carries.
    #[error("URL `{0}` holds user information (`user@`); write the host alone")]
    UserInfo(String),
    /// The method is not an HTTP token.
    #[error("method `{0}` is not an HTTP method token (letters such as GET, POST)")]
    Method(String),
    /// A header is not `Name: value`.
    #[error("header `{0}` is not `Name: value`")]
    Header(String),
    /// A header name is not an HTTP token.
    #[error("header name `{0}` is not an HTTP token")]
    HeaderName(String),
    /// A gateway is not `NAMESPACE/NAME`.
    #[error("gateway `{0}` is not NAMESPACE/NAME")]
    Gateway(String),
    /// A workload label is not `key=value`.
    #[error("workload label `{0}` is not key=value")]
    Label(String),
}

/// One request header, its name in lower case (HTTP/2 and Envoy compare names so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// The name, lower case.
    pub name: String,
    /// The value as given.
    pub value: String,
}

/// An HTTP request as a proxy sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The method, upper case (`GET` by default).
    pub method: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The host, lower case, without the port (IPv6 without brackets).
    pub host: String,
    /// The port the client connects to: the URL's, else 80 for http and 443 for https.
    pub port: u16,
    /// Whether the URL wrote the port (the authority then carries it).
    pub explicit_port: bool,
    /// The path with its query, as sent (`/` for an empty path), without the fragment.
    pub path: String,
    /// The headers given, in order.
    pub headers: Vec<Header>,
}

impl Request {
    /// Parses `url` (`http://host[:port]/path?query`), `method` (default `GET`) and headers
    /// written `Name: value`.
    pub fn parse(
        url: &str,
        method: Option<&str>,
        headers: &[String],
    ) -> Result<Request, RequestError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| RequestError::NoScheme(url.to_string()))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(RequestError::Scheme(scheme)),
        };
        let rest = rest.split('#').next().unwrap_or_default();
        let cut = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(cut);
        if authority.contains('@') {
            return Err(RequestError::UserInfo(url.to_string()));
        }
        let (host, port) = split_authority(authority)?;
        if host.is_empty() {
            return Err(RequestError::NoHost(url.to_string()));
        }
        let valid_host = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
        if !host.chars().all(valid_host) {
            return Err(RequestError::Host(host.to_string()));
        }
        let path = if path.is_empty() {
            "/".to_string()
        } else if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_string()
        };
        let method = method.unwrap_or("GET");
        if method.is_empty() || !method.chars().all(is_token_char) {
            return Err(RequestError::Method(method.to_string()));
        }
        let headers = headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Request {
            method: method.to_ascii_uppercase(),
            scheme,
            host: host.to_ascii_lowercase(),
            port: port.unwrap_or(default_port),
            explicit_port: port.is_some(),
            path,
            headers,
        })
    }

    /// The authority the client sends (`:authority`, `Host`): the host, and the port when the
    /// URL wrote one; a `host` header given replaces it.
    pub fn authority(&self) -> String {
        if let Some(h) = self.header("host") {
            return h.to_string();
        }
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.explicit_port {
            format!("{host}:{}", self.port)
        } else {
            host
        }
    }

    /// The path without the query.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }

    /// The query parameters in order, not percent-decoded (a key without `=` has an empty
    /// value).
    pub fn query(&self) -> Vec<(&str, &str)> {
        let Some((_, q)) = self.path.split_once('?') else {
            return Vec::new();
        };
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect()
    }

    /// The value of the first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

/// A character of an HTTP token (RFC 9110, section 5.6.2).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The host and the port of an authority (`host`, `host:port`, `[v6]:port`).
fn split_authority(authority: &str) -> Result<(&str, Option<u16>), RequestError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| RequestError::Host(authority.to_string()))?;
        match after.strip_prefix(':') {
            Some(p) => (host, Some(p)),
            None if after.is_empty() => (host, None),
            None => return Err(RequestError::Host(authority.to_string())),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(RequestError::Port(p.to_string())),
        },
    };
    Ok((host, port))
}

/// One `Name: value` header.
fn parse_header(h: &str) -> Result<Header, RequestError> {
    let (name, value) = h
        .split_once(':')
        .ok_or_else(|| RequestError::Header(h.to_string()))?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(is_token_char) {
        return Err(RequestError::HeaderName(name.to_string()));
    }
    Ok(Header {
        name: name.to_ascii_lowercase(),
        value: value.trim().to_string(),
    })
}

/// Where the request comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Caller {
    /// An ingress gateway: a Gloo VirtualGateway, or the Istio Gateway it rendered to, by
    /// namespace and name.
    Gateway {
        /// Its namespace.
        namespace: String,
        /// Its name.
        name: String,
    },
    /// A sidecar in the mesh: the workload's namespace and pod labels.
    Mesh {
        /// The workload's namespace.
        namespace: String,
        /// The workload's labels (matched by `sourceLabels`).
        labels: BTreeMap<String, String>,
    },
}

impl Caller {
    /// A gateway written `NAMESPACE/NAME`.
    pub fn gateway(text: &str) -> Result<Caller, RequestError> {
        match text.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
                Ok(Caller::Gateway {
                    namespace: ns.to_string(),
                    name: name.to_string(),
                })
            }
            _ => Err(RequestError::Gateway(text.to_string())),
        }
    }

    /// A sidecar in `namespace` whose pods carry `labels`, each written `key=value`.
    pub fn mesh(namespace: &str, labels: &[String]) -> Result<Caller, RequestError> {
        let mut map = BTreeMap::new();
        for l in labels {
            match l.split_once('=') {
                Some((k, v)) if !k.is_empty() => {
                    map.insert(k.to_string(), v.to_string());
                }
                _ => return Err(RequestError::Label(l.to_string())),
            }
        }
        Ok(Caller::Mesh {
            namespace: namespace.to_string(),
            labels: map,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_url_method_and_headers() {
        let r = Request::parse(
            "http://WWW.Example.com:8080/db/users?x=1&y#frag",
            Some("post"),
            &["X-Env: canary ".to_string()],
        )
        .expect("parses");
        assert_eq!(r.method, "POST");
        assert_eq!(r.host, "www.example.com");
        assert_eq!(r.port, 8080);
        assert_eq!(r.authority(), "www.example.com:8080");
        assert_eq!(r.path, "/db/users?x=1&y");
        assert_eq!(r.path_only(), "/db/users");
        assert_eq!(r.query(), vec![("x", "1"), ("y", "")]);
        assert_eq!(r.header("x-env"), Some("canary"));
    }

    #[test]
    fn defaults_port_and_path() {
        let r = Request::parse("https://a.example.com", None, &[]).expect("parses");
        assert_eq!(
            (r.port, r.path.as_str(), r.method.as_str()),
            (443, "/", "GET")
        );
        assert_eq!(r.authority(), "a.example.com");
        let r = Request::parse("http://[::1]:81?q", None, &[]).expect("parses");
        assert_eq!(
            (r.host.as_str(), r.port, r.path.as_str()),
            ("::1", 81, "/?q")
        );
    }

    #[test]
    fn rejects_bad_input() {
        let p = |u: &str| Request::parse(u, None, &[]).unwrap_err();
        assert!(matches!(p("www.example.com/x"), RequestError::NoScheme(_)));
        assert!(matches!(p("ftp://a/x"), RequestError::Scheme(_)));
        assert!(matches!(p("http:///x"), RequestError::NoHost(_)));
        assert!(matches!(p("http://a:0/"), RequestError::Port(_)));
        assert!(matches!(p("http://a:x/"), RequestError::Port(_)));
        assert!(matches!(p("http://u@a/"), RequestError::UserInfo(_)));
        assert!(matches!(p("http://a b/"), RequestError::Host(_)));
        let bad_method = Request::parse("http://a/", Some("GE T"), &[]).unwrap_err();
        assert!(matches!(bad_method, RequestError::Method(_)));
        let bad_header = Request::parse("http://a/", None, &["nocolon".into()]).unwrap_err();
        assert!(matches!(bad_header, RequestError::Header(_)));
    }

    #[test]
    fn parses_callers() {
        assert_eq!(
            Caller::gateway("istio-gateways/ingress").expect("parses"),
            Caller::Gateway {
                namespace: "istio-gateways".into(),
                name: "ingress".into()
            }
        );
        assert!(Caller::gateway("ingress").is_err());
        assert!(Caller::mesh("app", &["a=b".into(), "bad".into()]).is_err());
    }
}
