//! The route test file format (docs/route-tests.md): `meshform.dev/v1alpha1` `RouteTest`
//! documents, each a list of cases: a request, a caller, and the outcome it expects.
//!
//! Reading is strict: an unknown field, a wrong type, a malformed URL, caller or expectation is
//! an error at its file:line:col, with code `route-test-invalid`.

use crate::diag::codes::RouteTest;
use crate::diag::Diagnostic;
use crate::manifest::{Location, SourceText};
use crate::trace::{Caller, NsName, Request, RequestError};
use crate::yaml::{self, Pos, YamlLimits};
use indexmap::IndexMap;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The apiVersion of route test documents, as meshform.yaml's.
pub const API_VERSION: &str = "meshform.dev/v1alpha1";

/// The API group of [`API_VERSION`].
pub const GROUP: &str = "meshform.dev";

/// The kind of route test documents.
pub const KIND: &str = "RouteTest";

/// A route test document as written.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Doc {
    api_version: String,
    kind: String,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    defaults: Defaults,
    cases: Vec<CaseDoc>,
}

/// `metadata`: a name for reports; labels and annotations for tools.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    labels: Option<IndexMap<String, String>>,
    #[serde(default)]
    annotations: Option<IndexMap<String, String>>,
}

/// What every case of the document takes unless it says otherwise.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Defaults {
    #[serde(default)]
    gateway: Option<String>,
    #[serde(default)]
    from: Option<MeshDoc>,
    #[serde(default)]
    cluster: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CaseDoc {
    name: String,
    request: RequestDoc,
    #[serde(default)]
    gateway: Option<String>,
    #[serde(default)]
    from: Option<MeshDoc>,
    #[serde(default)]
    cluster: Option<String>,
    expect: ExpectDoc,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestDoc {
    url: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    headers: IndexMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MeshDoc {
    namespace: String,
    #[serde(default)]
    labels: IndexMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExpectDoc {
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    route_table: Option<String>,
    #[serde(default)]
    route: Option<String>,
    #[serde(default)]
    virtual_service: Option<String>,
    #[serde(default)]
    virtual_service_route: Option<String>,
    #[serde(default)]
    destination: Option<String>,
    #[serde(default)]
    destinations: Option<Vec<DestinationDoc>>,
    #[serde(default)]
    rewrite: Option<Rewrite>,
    #[serde(default)]
    redirect: Option<Redirect>,
    #[serde(default)]
    direct_response: Option<DirectResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DestinationDoc {
    host: String,
    #[serde(default)]
    port: Option<u32>,
    #[serde(default)]
    subset: Option<String>,
    #[serde(default)]
    weight: Option<u32>,
}

/// What becomes of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    /// A route forwards it to one or more destinations.
    Routed,
    /// A route answers with a redirect.
    Redirect,
    /// A route answers itself (Istio `directResponse`).
    DirectResponse,
    /// The host is served, but no route matches: Envoy answers 404.
    NoRoute,
    /// Nothing serves the host (for the caller): no route at all.
    NoHost,
}

impl Status {
    /// The name as written in test files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Routed => "routed",
            Status::Redirect => "redirect",
            Status::DirectResponse => "directResponse",
            Status::NoRoute => "noRoute",
            Status::NoHost => "noHost",
        }
    }
}

/// The expected rewrites: the path and the host (authority) sent to the destination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rewrite {
    /// The path (with query) after the rewrite.
    #[serde(default)]
    pub path: Option<String>,
    /// The host after the rewrite.
    #[serde(default)]
    pub host: Option<String>,
}

/// The expected redirect.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Redirect {
    /// The `Location` the client is sent to.
    #[serde(default)]
    pub location: Option<String>,
    /// The status code (301 unless the route says otherwise).
    #[serde(default)]
    pub code: Option<u16>,
}

/// The expected direct response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectResponse {
    /// The status code.
    #[serde(default)]
    pub status: Option<u16>,
}

/// An expected destination: `host[:port][/subset]`, optionally with a weight.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Destination {
    /// The host as rendered (`db-api.internal.example.com`) or its first labels (`db-api`).
    pub host: String,
    /// The port, when given.
    pub port: Option<u32>,
    /// The DestinationRule subset name, when given.
    pub subset: Option<String>,
    /// The weight, when given.
    pub weight: Option<u32>,
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        if let Some(s) = &self.subset {
            write!(f, "/{s}")?;
        }
        if let Some(w) = self.weight {
            write!(f, " (weight {w})")?;
        }
        Ok(())
    }
}

/// The outcome a case expects; every field left out is not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Expect {
    /// What becomes of the request (inferred: `redirect` or `directResponse` when those are
    /// given, else `routed`).
    pub status: Option<Status>,
    /// The RouteTable holding the chosen route (the last table of a delegation chain).
    pub route_table: Option<NsName>,
    /// The Gloo route's name.
    pub route: Option<String>,
    /// The VirtualService holding the chosen route.
    pub virtual_service: Option<NsName>,
    /// The VirtualService http route's name.
    pub virtual_service_route: Option<String>,
    /// Every destination, in any order (`destination` is a list of one).
    pub destinations: Option<Vec<Destination>>,
    /// The rewrites.
    pub rewrite: Option<Rewrite>,
    /// The redirect.
    pub redirect: Option<Redirect>,
    /// The direct response.
    pub direct_response: Option<DirectResponse>,
    /// True when the case wrote `destination` (one), not `destinations`.
    pub one_destination: bool,
}

impl Expect {
    /// The status checked: the one written, or the one the other expectations imply.
    pub fn status(&self) -> Status {
        self.status.unwrap_or(if self.redirect.is_some() {
            Status::Redirect
        } else if self.direct_response.is_some() {
            Status::DirectResponse
        } else {
            Status::Routed
        })
    }
}

/// How reports name a caller: `gateway NS/NAME` or `mesh NS (k=v,...)`.
pub fn caller_label(c: &Caller) -> String {
    match c {
        Caller::Gateway { namespace, name } => format!("gateway {namespace}/{name}"),
        Caller::Mesh { namespace, labels } => {
            let mut s = format!("mesh {namespace}");
            if !labels.is_empty() {
                let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                s.push_str(&format!(" ({})", l.join(",")));
            }
            s
        }
    }
}

/// The request of a case, as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RequestSpec {
    /// The URL: `http://host[:port]/path?query`.
    pub url: String,
    /// The method (`GET` when not given).
    pub method: String,
    /// Request headers.
    pub headers: IndexMap<String, String>,
    /// The request as the trace engine follows it.
    #[serde(skip)]
    pub parsed: Request,
}

/// One case of a route test file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Case {
    /// The document's `metadata.name`, if any.
    pub suite: Option<String>,
    /// The case's name, unique in its file.
    pub name: String,
    /// Where the case is written (its `name` line).
    pub location: Location,
    /// The request.
    pub request: RequestSpec,
    /// The caller.
    pub caller: Caller,
    /// The cluster, when the case (or the document's defaults) names one.
    pub cluster: Option<String>,
    /// The expected outcome.
    pub expect: Expect,
    /// Where the case's fields are written, by name (`cluster`, `gateway`,
    /// `expect.destination`), for those written.
    #[serde(skip)]
    pub places: HashMap<&'static str, Location>,
}

impl Case {
    /// Where a field of the case is written; the case's own line when it is not.
    pub fn at(&self, field: &str) -> Location {
        self.places
            .get(field)
            .cloned()
            .unwrap_or_else(|| self.location.clone())
    }

    /// `GET www.example.com/db/x`: the method and URL without the scheme.
    pub fn request_label(&self) -> String {
        let url = &self.request.url;
        let bare = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        format!("{} {bare}", self.request.method)
    }
}

/// The cases of one file, or every problem of it.
pub fn parse(file: &SourceText) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let limits = YamlLimits::default();
    let path = &file.path;
    let parsed =
        yaml::parse_stream(&file.text, &limits).map_err(|e| {
            vec![Diagnostic::error(RouteTest::Invalid, e.message)
                .at(Location::new(path.clone(), e.pos))]
        })?;
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    if parsed.documents.is_empty() {
        errors.push(
            Diagnostic::error(RouteTest::Invalid, "no RouteTest document in the file")
                .at(Location::new(path.clone(), Pos { line: 1, column: 1 }))
                .help(HELP),
        );
    }
    for d in &parsed.documents {
        let positions = yaml::positions(&file.text, d.index, &limits);
        // A field's key when it is a mapping entry (an unknown field is its key), else the
        // nearest written node.
        let at = |field: &str| -> Location {
            let mut p = crate::manifest::field_to_pointer(field);
            if let Some(pos) = positions.get(&format!("{p}\0")) {
                return Location::new(path.clone(), *pos);
            }
            loop {
                if let Some(pos) = positions.get(&p) {
                    return Location::new(path.clone(), *pos);
                }
                match p.rfind('/') {
                    Some(i) => p.truncate(i),
                    None => return Location::new(path.clone(), d.pos),
                }
            }
        };
        let api = d.value.get("apiVersion").and_then(|v| v.as_str());
        let kind = d.value.get("kind").and_then(|v| v.as_str());
        if api != Some(API_VERSION) || kind != Some(KIND) {
            errors.push(
                Diagnostic::error(
                    RouteTest::Invalid,
                    format!(
                        "expected apiVersion {API_VERSION} and kind {KIND}, found {} {}",
                        api.unwrap_or("(none)"),
                        kind.unwrap_or("(none)")
                    ),
                )
                .at(Location::new(path.clone(), d.pos))
                .help(HELP),
            );
            continue;
        }
        let doc: Doc = match serde_path_to_error::deserialize(&d.value) {
            Ok(doc) => doc,
            Err(e) => {
                let field = e.path().to_string();
                errors.push(
                    Diagnostic::error(RouteTest::Invalid, e.inner().to_string())
                        .at(at(&field))
                        .field(field)
                        .help(HELP),
                );
                continue;
            }
        };
        debug_assert!(doc.api_version == API_VERSION && doc.kind == KIND);
        let suite = doc.metadata.and_then(|m| {
            let _ = (m.labels, m.annotations);
            m.name
        });
        let mut names = HashSet::new();
        for (i, c) in doc.cases.into_iter().enumerate() {
            let f = |rest: &str| format!("cases[{i}].{rest}");
            let mut bad = |field: String, message: String| {
                errors.push(
                    Diagnostic::error(RouteTest::Invalid, message)
                        .at(at(&field))
                        .field(field)
                        .help(HELP),
                );
            };
            if !names.insert(c.name.clone()) {
                bad(
                    f("name"),
                    format!("a second case named `{}` in this file", c.name),
                );
                continue;
            }
            // The case's own caller, else the defaults'.
            let (prefix, gateway, from) = if c.gateway.is_some() || c.from.is_some() {
                (f(""), c.gateway.as_ref(), c.from.as_ref())
            } else {
                (
                    "defaults.".to_string(),
                    doc.defaults.gateway.as_ref(),
                    doc.defaults.from.as_ref(),
                )
            };
            let caller = match (gateway, from) {
                (Some(_), Some(_)) => {
                    bad(
                        format!("{prefix}from"),
                        "a caller is `gateway` or `from`, not both".into(),
                    );
                    continue;
                }
                (Some(g), None) => match ns_name(g) {
                    Some(n) => Caller::Gateway {
                        namespace: n.namespace,
                        name: n.name,
                    },
                    None => {
                        bad(
                            format!("{prefix}gateway"),
                            format!("gateway `{g}` is not namespace/name"),
                        );
                        continue;
                    }
                },
                (None, Some(m)) => Caller::Mesh {
                    namespace: m.namespace.clone(),
                    labels: m
                        .labels
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                },
                (None, None) => {
                    bad(
                        f("name"),
                        format!(
                            "case `{}` names no caller: set `gateway: NAMESPACE/NAME` (an ingress \
                             VirtualGateway) or `from: {{namespace: NS}}` (a mesh workload), \
                             here or in `defaults`",
                            c.name
                        ),
                    );
                    continue;
                }
            };
            let headers: Vec<String> = c
                .request
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            let parsed = match Request::parse(&c.request.url, c.request.method.as_deref(), &headers)
            {
                Ok(r) => r,
                Err(e) => {
                    let field = match e {
                        RequestError::Method(_) => "request.method",
                        RequestError::Header(_) | RequestError::HeaderName(_) => "request.headers",
                        _ => "request.url",
                    };
                    bad(f(field), e.to_string());
                    continue;
                }
            };
            let expect = match expectations(&c.expect, &|field: &str| f(&format!("expect.{field}")))
            {
                Ok(e) => e,
                Err((field, message)) => {
                    bad(field, message);
                    continue;
                }
            };
            let mut places = HashMap::new();
            for key in PLACED {
                let field = match *key {
                    "gateway" if c.gateway.is_none() => "defaults.gateway".to_string(),
                    "cluster" if c.cluster.is_none() => "defaults.cluster".to_string(),
                    k => f(k),
                };
                places.insert(*key, at(&field));
            }
            cases.push(Case {
                suite: suite.clone(),
                name: c.name,
                location: at(&f("name")),
                request: RequestSpec {
                    url: c.request.url,
                    method: parsed.method.clone(),
                    headers: c.request.headers,
                    parsed,
                },
                caller,
                cluster: c.cluster.or_else(|| doc.defaults.cluster.clone()),
                expect,
                places,
            });
        }
    }
    if errors.is_empty() {
        Ok(cases)
    } else {
        Err(errors)
    }
}

/// Where the format is documented, for every error's help.
const HELP: &str = "see docs/route-tests.md for the RouteTest format";

/// The fields of a case whose place is kept.
const PLACED: &[&str] = &[
    "cluster",
    "gateway",
    "from",
    "request.url",
    "expect.status",
    "expect.routeTable",
    "expect.route",
    "expect.virtualService",
    "expect.virtualServiceRoute",
    "expect.destination",
    "expect.destinations",
    "expect.rewrite",
    "expect.redirect",
    "expect.directResponse",
];

/// `namespace/name`, both parts non-empty.
fn ns_name(s: &str) -> Option<NsName> {
    let (ns, name) = s.split_once('/')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains('/')).then(|| NsName {
        namespace: ns.into(),
        name: name.into(),
    })
}

/// `host[:port][/subset]`.
fn destination(s: &str) -> Option<Destination> {
    let (hp, subset) = match s.split_once('/') {
        Some((hp, sub)) if !sub.is_empty() => (hp, Some(sub.to_string())),
        Some(_) => return None,
        None => (s, None),
    };
    let (host, port) = match hp.rsplit_once(':') {
        Some((h, p)) => (
            h,
            Some(p.parse::<u32>().ok().filter(|p| *p > 0 && *p < 65536)?),
        ),
        None => (hp, None),
    };
    (!host.is_empty()).then(|| Destination {
        host: host.to_string(),
        port,
        subset,
        weight: None,
    })
}

/// The expectations of a case, or the field that is wrong and why.
fn expectations(e: &ExpectDoc, field: &dyn Fn(&str) -> String) -> Result<Expect, (String, String)> {
    let mut out = Expect {
        status: e.status,
        route: e.route.clone(),
        virtual_service_route: e.virtual_service_route.clone(),
        rewrite: e.rewrite.clone(),
        redirect: e.redirect.clone(),
        direct_response: e.direct_response.clone(),
        ..Expect::default()
    };
    for (name, value, slot) in [
        ("routeTable", &e.route_table, &mut out.route_table),
        (
            "virtualService",
            &e.virtual_service,
            &mut out.virtual_service,
        ),
    ] {
        if let Some(v) = value {
            *slot = Some(
                ns_name(v)
                    .ok_or_else(|| (field(name), format!("{name} `{v}` is not namespace/name")))?,
            );
        }
    }
    match (&e.destination, &e.destinations) {
        (Some(_), Some(_)) => {
            return Err((
                field("destinations"),
                "set `destination` (the only one) or `destinations` (all of them), not both".into(),
            ))
        }
        (Some(d), None) => {
            out.one_destination = true;
            out.destinations = Some(vec![destination(d).ok_or_else(|| {
                (
                    field("destination"),
                    format!("destination `{d}` is not host[:port][/subset]"),
                )
            })?]);
        }
        (None, Some(ds)) => {
            if ds.is_empty() {
                return Err((
                    field("destinations"),
                    "destinations is empty: expect `status: noRoute` or another status instead"
                        .into(),
                ));
            }
            out.destinations = Some(
                ds.iter()
                    .map(|d| Destination {
                        host: d.host.clone(),
                        port: d.port,
                        subset: d.subset.clone(),
                        weight: d.weight,
                    })
                    .collect(),
            );
        }
        (None, None) => {}
    }
    if e.redirect.is_some() && e.direct_response.is_some() {
        return Err((
            field("directResponse"),
            "a route either redirects or responds directly, not both".into(),
        ));
    }
    let status = out.status();
    let forwarding = out.destinations.is_some() || out.rewrite.is_some();
    let routing = out.route_table.is_some()
        || out.route.is_some()
        || out.virtual_service.is_some()
        || out.virtual_service_route.is_some();
    let conflict = match status {
        Status::Routed => (e.redirect.is_some() || e.direct_response.is_some()).then_some(
            if e.redirect.is_some() {
                "redirect"
            } else {
                "directResponse"
            },
        ),
        Status::Redirect => {
            (forwarding || e.direct_response.is_some()).then_some(if e.direct_response.is_some() {
                "directResponse"
            } else if out.destinations.is_some() {
                destination_field(e)
            } else {
                "rewrite"
            })
        }
        Status::DirectResponse => {
            (forwarding || e.redirect.is_some()).then_some(if e.redirect.is_some() {
                "redirect"
            } else if out.destinations.is_some() {
                destination_field(e)
            } else {
                "rewrite"
            })
        }
        Status::NoRoute | Status::NoHost => {
            (forwarding || routing || e.redirect.is_some() || e.direct_response.is_some())
                .then_some("status")
        }
    };
    if let Some(f) = conflict {
        return Err((
            field(f),
            format!(
                "`{f}` does not go with status {}: a request has one outcome",
                status.as_str()
            ),
        ));
    }
    if out.status.is_none()
        && !forwarding
        && !routing
        && e.redirect.is_none()
        && e.direct_response.is_none()
    {
        return Err((
            field("status"),
            "expect names nothing to check: give a status, a route or a destination".into(),
        ));
    }
    Ok(out)
}

fn destination_field(e: &ExpectDoc) -> &'static str {
    if e.destination.is_some() {
        "destination"
    } else {
        "destinations"
    }
}

/// The error for a RouteTest document read as a manifest (outside `routeTests.paths`).
pub fn misplaced(o: &crate::manifest::Object, paths: &[String]) -> Diagnostic {
    Diagnostic::error(
        RouteTest::Misplaced,
        format!(
            "a RouteTest outside the route test paths ({}) would be read as a manifest",
            paths.join(", ")
        ),
    )
    .at(o.location.clone())
    .on(o.id.clone())
    .help(
        "move the file under tests/routes/, or add its path to meshform.yaml `routeTests.paths` \
         (docs/route-tests.md#where-they-live)",
    )
}

/// The file's path as reports name it.
pub fn source(path: &str, text: String) -> SourceText {
    SourceText {
        path: Arc::from(path),
        text: text.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Vec<Case>, Vec<Diagnostic>> {
        parse(&source("tests/routes/t.yaml", text.to_string()))
    }

    const HEAD: &str = "apiVersion: meshform.dev/v1alpha1\nkind: RouteTest\n";

    #[test]
    fn reads_a_case_with_defaults() {
        let cases = parse_text(&format!(
            "{HEAD}metadata: {{name: www}}\ndefaults:\n  gateway: istio-gateways/gw\ncases:\n- name: db\n  request: {{url: http://www.example.com/db/users, headers: {{x-a: b}}}}\n  expect:\n    routeTable: app/www\n    route: db\n    destination: db-api:80\n    rewrite: {{path: /users}}\n"
        ))
        .unwrap();
        assert_eq!(cases.len(), 1);
        let c = &cases[0];
        assert_eq!(c.suite.as_deref(), Some("www"));
        assert_eq!(c.location.line, 7);
        assert_eq!(c.request.method, "GET");
        assert_eq!(
            c.caller,
            Caller::Gateway {
                namespace: "istio-gateways".into(),
                name: "gw".into()
            }
        );
        assert_eq!(c.expect.status(), Status::Routed);
        let d = &c.expect.destinations.as_ref().unwrap()[0];
        assert_eq!(
            (d.host.as_str(), d.port, d.subset.as_deref()),
            ("db-api", Some(80), None)
        );
        assert_eq!(c.at("expect.destination").line, 12);
        assert_eq!(c.request_label(), "GET www.example.com/db/users");
    }

    #[test]
    fn unknown_fields_are_errors_at_their_line() {
        let e = parse_text(&format!(
            "{HEAD}cases:\n- name: a\n  gateway: ns/gw\n  request: {{url: http://a.example.com/}}\n  expect:\n    route: a\n    destinaton: x\n"
        ))
        .unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].message.contains("unknown field `destinaton`"),
            "{}",
            e[0].message
        );
        let l = e[0].location.as_ref().unwrap();
        assert_eq!((l.line, l.column), (9, 5));
        assert_eq!(e[0].code, "route-test-invalid");
    }

    #[test]
    fn malformed_callers_urls_and_expectations_name_their_field() {
        let case = |body: &str| {
            let e = parse_text(&format!("{HEAD}cases:\n- name: a\n{body}")).unwrap_err();
            let l = e[0].location.clone().unwrap();
            (e[0].message.clone(), l.line)
        };
        let (m, line) = case("  request: {url: http://a.example.com/}\n  expect: {route: a}\n");
        assert!(m.contains("names no caller"), "{m}");
        assert_eq!(line, 4);
        let (m, line) =
            case("  gateway: gw\n  request: {url: http://a.example.com/}\n  expect: {route: a}\n");
        assert!(m.contains("not namespace/name"), "{m}");
        assert_eq!(line, 5);
        let (m, line) =
            case("  gateway: n/gw\n  request: {url: a.example.com/x}\n  expect: {route: a}\n");
        assert!(m.contains("has no scheme"), "{m}");
        assert_eq!(line, 6);
        let (m, line) = case(
            "  gateway: n/gw\n  request: {url: http://a.example.com/}\n  expect:\n    status: noRoute\n    route: a\n",
        );
        assert!(m.contains("does not go with status noRoute"), "{m}");
        assert_eq!(line, 8);
        let (m, _) = case(
            "  gateway: n/gw\n  request: {url: http://a.example.com/}\n  expect:\n    destination: a:x\n",
        );
        assert!(m.contains("not host[:port][/subset]"), "{m}");
        let (m, _) =
            case("  gateway: n/gw\n  request: {url: http://a.example.com/}\n  expect: {}\n");
        assert!(m.contains("names nothing to check"), "{m}");
    }

    #[test]
    fn other_kinds_and_duplicate_names_are_refused() {
        let e = parse_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n").unwrap_err();
        assert!(e[0]
            .message
            .contains("expected apiVersion meshform.dev/v1alpha1"));
        let e = parse_text(&format!(
            "{HEAD}defaults: {{gateway: n/g}}\ncases:\n- name: a\n  request: {{url: http://a.example.com/}}\n  expect: {{route: a}}\n- name: a\n  request: {{url: http://a.example.com/}}\n  expect: {{route: a}}\n"
        ))
        .unwrap_err();
        assert!(e[0].message.contains("a second case named `a`"));
        assert_eq!(e[0].location.as_ref().unwrap().line, 8);
    }

    #[test]
    fn destinations_parse_host_port_subset() {
        let d = destination("reviews.bookinfo:9080/v2").unwrap();
        assert_eq!(
            (d.host.as_str(), d.port, d.subset.as_deref()),
            ("reviews.bookinfo", Some(9080), Some("v2"))
        );
        assert_eq!(destination("a").unwrap().port, None);
        assert!(destination("a:0").is_none());
        assert!(destination(":80").is_none());
        assert!(destination("a/").is_none());
    }
}
