//! Which route a request takes, offline: follows one HTTP request from an ingress gateway or
//! a sidecar through the rendered Gateways, VirtualServices, ServiceEntries and
//! DestinationRules of one cluster, as Istio and Envoy would match it, and names the Gloo
//! RouteTable routes behind the chosen route (docs/trace.md). Reads rendered objects and the
//! repo; never prints.
//!
//! A trace locates nothing: each `location` it holds is the line of the Gloo object itself
//! (`SourceRef.location`), and the routes tried before the chosen one and those it shadows
//! name no Gloo route; [`Tracer::locate`] adds those and turns each location into the line
//! of its field, only for a trace that is shown, so that many traces cost little more than
//! matching.

mod backends;
mod engine;
mod index;
mod matching;
mod request;
mod text;

pub use request::{Caller, Header, Request, RequestError};
pub use text::text;

use crate::istio::object::Rendered;
use crate::manifest::{Location, ObjectId};
use crate::repo::Repo;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Why a trace cannot start (an input error, like a bad URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// The gateway caller names no rendered Gateway, nor a VirtualGateway that rendered one,
    /// in the cluster.
    #[error("no Gateway or VirtualGateway `{namespace}/{name}` is rendered in cluster `{cluster}`{}", known_list(.known))]
    UnknownGateway {
        /// The namespace asked for.
        namespace: String,
        /// The name asked for.
        name: String,
        /// The cluster traced.
        cluster: String,
        /// The gateways that are (`namespace/name` of VirtualGateways, else Gateways).
        known: Vec<String>,
    },
}

/// `; gateways here: a, b` or nothing.
fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "; it renders none".to_string()
    } else {
        format!("; gateways here: {}", known.join(", "))
    }
}

/// An object's namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct NsName {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl fmt::Display for NsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A route as written in a Gloo RouteTable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlooRoute {
    /// The RouteTable.
    pub table: NsName,
    /// The route's `name` (None when unnamed).
    pub route: Option<String>,
    /// The route's field in the table (`spec.http[2]`).
    pub field: String,
    /// Where the route is written once [`Tracer::locate`]d; the table's own location before.
    pub location: Location,
}

/// A rendered HTTP route and the Gloo routes it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteRef {
    /// The VirtualService.
    pub virtual_service: NsName,
    /// The HTTP route's `name` (None when unnamed).
    pub name: Option<String>,
    /// Its index in `spec.http`.
    pub index: usize,
    /// The Gloo route it renders (in the child table when delegated); None for a
    /// VirtualService not rendered from a RouteTable, and for a tried or shadowed route
    /// until [`Tracer::locate`].
    pub gloo: Option<GlooRoute>,
    /// The delegating routes above `gloo`, the table with hosts first; empty without
    /// delegation.
    pub delegated_by: Vec<GlooRoute>,
}

/// A destination of the chosen route: what a route test compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Destination {
    /// `destination.host`.
    pub host: String,
    /// `destination.port.number` (None when unset: the service's only port).
    pub port: Option<u32>,
    /// `destination.subset`.
    pub subset: Option<String>,
    /// Its weight in percent (100 for a lone destination without one).
    pub weight: u32,
}

/// What happens to the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Status {
    /// Forwarded to the destinations.
    Routed,
    /// Answered with a redirect.
    Redirect {
        /// The status code (301 unless `redirectCode`).
        code: u16,
        /// The `location` the redirect names.
        location: String,
    },
    /// Answered by the proxy itself.
    DirectResponse {
        /// The status code.
        code: u16,
    },
    /// A host matched but no route did: Envoy answers 404.
    NoRoute,
    /// No VirtualService (or Gateway server) takes the host: Envoy answers 404 at a gateway
    /// and a sidecar passes the request on unrouted.
    NoHost,
}

impl Status {
    /// True when a route was found (routed, redirect or direct response).
    pub fn found(&self) -> bool {
        !matches!(self, Status::NoRoute | Status::NoHost)
    }
}

/// The outcome a route test compares: the status, the route and its destinations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// What happens.
    pub status: Status,
    /// The chosen route (None for no route and no host).
    pub route: Option<RouteRef>,
    /// The chosen route's destinations in order (empty unless routed).
    pub destinations: Vec<Destination>,
}

impl Outcome {
    /// One line for people: `db-api.internal.example.com:80 by route `db``, the weights
    /// when several, `redirect 301 to …`, `direct response 410 by route …`, `no route`, `no
    /// host`.
    pub fn summary(&self) -> String {
        let by = self
            .route
            .as_ref()
            .map(|r| {
                let name = r
                    .gloo
                    .as_ref()
                    .and_then(|g| g.route.as_deref())
                    .or(r.name.as_deref())
                    .unwrap_or("(unnamed)");
                format!(" by route `{name}`")
            })
            .unwrap_or_default();
        match &self.status {
            Status::Routed => {
                let several = self.destinations.len() > 1;
                let list: Vec<String> = self
                    .destinations
                    .iter()
                    .map(|d| {
                        let mut s = d.host.clone();
                        if let Some(p) = d.port {
                            s.push_str(&format!(":{p}"));
                        }
                        if let Some(sub) = &d.subset {
                            s.push_str(&format!(" subset {sub}"));
                        }
                        if several {
                            s.push_str(&format!(" {}%", d.weight));
                        }
                        s
                    })
                    .collect();
                format!("{}{by}", list.join(", "))
            }
            Status::Redirect { code, location } => format!("redirect {code} to {location}{by}"),
            Status::DirectResponse { code } => format!("direct response {code}{by}"),
            Status::NoRoute => "no route".to_string(),
            Status::NoHost => "no host".to_string(),
        }
    }
}

/// A Gateway server that accepts the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    /// Its index in `spec.servers`.
    pub index: usize,
    /// `port.name`.
    pub port_name: String,
    /// `port.number`: the port the gateway pod listens on.
    pub port: u32,
    /// `port.protocol`.
    pub protocol: String,
    /// `hosts`.
    pub hosts: Vec<String>,
    /// The host of `hosts` that matched.
    pub matched_host: String,
    /// `tls.mode`, when set.
    pub tls_mode: Option<String>,
    /// The VirtualGateway listener it came from once [`Tracer::locate`]d; the
    /// VirtualGateway's own location before.
    pub location: Option<Location>,
    /// The source object and its field `location` is resolved from; None once located.
    #[serde(skip)]
    pending: Option<(ObjectId, String)>,
}

/// A VirtualService visible to a caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Visible {
    /// The VirtualService.
    pub virtual_service: NsName,
    /// Its `hosts`.
    pub hosts: Vec<String>,
    /// Its `exportTo` (empty: every namespace).
    pub export_to: Vec<String>,
}

/// Where the request enters.
// One per trace, made once: boxing the gateway's server would only add indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Entry {
    /// At an ingress gateway.
    #[serde(rename_all = "camelCase")]
    Gateway {
        /// The rendered Gateway.
        gateway: NsName,
        /// The VirtualGateway it was rendered from.
        virtual_gateway: Option<NsName>,
        /// The port the gateway pod receives the request on (the Service's `targetPort` for
        /// the URL's port, docs/trace.md#ports).
        listen_port: u32,
        /// The server that accepts the request (None: no server takes host and port).
        server: Option<Server>,
    },
    /// At a sidecar.
    Mesh {
        /// The caller's namespace.
        namespace: String,
        /// The mesh VirtualServices visible in it whose hosts match the request's host.
        visible: Vec<Visible>,
    },
}

/// A VirtualService whose hosts take the request's host, in the order its routes are tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// The VirtualService.
    pub virtual_service: NsName,
    /// The host of its `hosts` that matched.
    pub matched_host: String,
    /// The Gloo objects it was rendered from.
    pub sources: Vec<Location>,
}

/// A route tried before the chosen one and the first condition of each match block that
/// failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tried {
    /// The route.
    pub route: RouteRef,
    /// Per match block, in order, its first failed condition (`uri prefix /db/`).
    pub failed: Vec<String>,
}

/// What a destination reaches.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backend {
    /// The destination.
    pub destination: Destination,
    /// The ServiceEntry or Service of the host (None: none is in the repo).
    pub service: Option<Service>,
    /// The DestinationRule of the host visible to the proxy.
    pub destination_rule: Option<Rule>,
}

/// A ServiceEntry (or a Kubernetes Service of the repo) behind a destination host.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `ServiceEntry` or `Service`.
    pub kind: String,
    /// The object.
    pub object: NsName,
    /// `resolution` (ServiceEntry), or `ClusterIP` (Service).
    pub resolution: String,
    /// The port the destination's port number selects.
    pub port: Option<Value>,
    /// The endpoints (ServiceEntry `endpoints`); empty for DNS resolution of the host.
    pub endpoints: Vec<Endpoint>,
    /// The ServiceEntry's `workloadSelector.labels`: its endpoints are the pods (and
    /// WorkloadEntries) with these labels.
    pub workload_selector: Option<Value>,
    /// The Gloo object it was rendered from.
    pub source: Option<Location>,
}

/// One endpoint of a ServiceEntry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoint {
    /// `address`.
    pub address: String,
    /// The port the traffic is sent to (`ports[<port name>]`, else the service port's
    /// `targetPort` or number).
    pub port: Option<u32>,
    /// `locality`.
    pub locality: Option<String>,
}

/// The DestinationRule of a destination host.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// The object.
    pub object: NsName,
    /// The TLS settings the destination's port gets (port-level over top-level): TLS
    /// origination when `mode` is SIMPLE or MUTUAL.
    pub tls: Option<Value>,
    /// The subset the destination names, with its labels and policy.
    pub subset: Option<Value>,
    /// The traffic policy (load balancer, connection pool, outlier detection) for the port.
    pub traffic_policy: Option<Value>,
    /// The Gloo object it was rendered from.
    pub source: Option<Location>,
}

/// A Gloo policy that set a field of the chosen route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRef {
    /// The route's field (`retries`).
    pub field: String,
    /// The policy's kind (`RetryTimeoutPolicy`).
    pub kind: String,
    /// The policy.
    pub object: NsName,
    /// Where the policy's `spec.config` is written once [`Tracer::locate`]d; the policy's
    /// own location before.
    pub location: Location,
    /// The policy's field `location` is resolved from; None once located.
    #[serde(skip)]
    pending: Option<String>,
}

/// The chosen route in full.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chosen {
    /// The route.
    pub route: RouteRef,
    /// The index of the match block that matched (None: the route has none, so matches all).
    pub match_index: Option<usize>,
    /// That match block.
    pub matched: Option<Value>,
    /// What the route does besides routing, as rendered: `rewrite`, `redirect`,
    /// `directResponse`, `fault`, `retries`, `timeout`, `headers`, `mirror`,
    /// `mirrorPercentage`, `corsPolicy` (those set).
    pub actions: serde_json::Map<String, Value>,
    /// The path (with query) sent on after `rewrite.uri` or `rewrite.uriRegexRewrite`.
    pub rewritten_path: Option<String>,
    /// The authority sent on after `rewrite.authority`.
    pub rewritten_authority: Option<String>,
    /// The Gloo policies behind `actions` (`fault`, `retries`, `timeout`, `headers`, `mirror`,
    /// `corsPolicy`).
    pub policies: Vec<PolicyRef>,
    /// The destinations and what they reach.
    pub backends: Vec<Backend>,
    /// Later routes (of this and later VirtualServices) that match the request too, shadowed
    /// by this one.
    pub shadows: Vec<RouteRef>,
}

/// The whole trace of one request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace {
    /// The cluster traced.
    pub cluster: String,
    /// The request.
    pub request: Request,
    /// The caller.
    pub caller: Caller,
    /// Where the request enters.
    pub entry: Entry,
    /// The VirtualServices that take the host, in match order.
    pub candidates: Vec<Candidate>,
    /// The routes tried before the chosen one (all of them for no route).
    pub tried: Vec<Tried>,
    /// The chosen route (None for no route and no host).
    pub chosen: Option<Chosen>,
    /// What a route test compares.
    pub outcome: Outcome,
    /// For no host: the hosts closest to the request's, the nearest first (at most 5).
    pub nearest: Vec<String>,
    /// From a sidecar, for a host no VirtualService takes but a ServiceEntry or Service of
    /// the repo has: the sidecar's default route to it (the outcome is then `Routed` with
    /// no route and this one destination).
    pub default_route: Option<Backend>,
}

/// The rendered objects of one cluster, indexed once for many traces (route tests trace
/// many requests against one render).
pub struct Tracer<'a> {
    index: index::Index<'a>,
    repo: &'a Repo,
    cluster: String,
    /// Compiled regexes of `regex` matchers and `uriRegexRewrite`s, by pattern.
    regexes: matching::Regexes,
    /// Route names read from the text of released tables, by (table object, route index).
    names: std::sync::Mutex<std::collections::HashMap<(usize, usize), Option<String>>>,
}

impl<'a> Tracer<'a> {
    /// Indexes the objects of `cluster` among `objects` (others are ignored); `repo` locates
    /// the Gloo sources.
    pub fn new(objects: &'a [Rendered], repo: &'a Repo, cluster: &str) -> Tracer<'a> {
        Tracer {
            index: index::Index::new(objects, repo, cluster),
            repo,
            cluster: cluster.to_string(),
            regexes: matching::Regexes::default(),
            names: std::sync::Mutex::default(),
        }
    }

    /// Traces `request` from `caller`. `Err` when the caller is not in the cluster. The
    /// trace's locations are its objects' own until [`Tracer::locate`].
    pub fn trace(&self, request: &Request, caller: &Caller) -> Result<Trace, TraceError> {
        self.run(request, caller)
    }

    /// Adds the Gloo routes of the tried and shadowed routes of `trace` (made by this tracer)
    /// and resolves every location to the line of its field: call it only for a trace that
    /// is shown. Locating twice changes nothing.
    pub fn locate(&self, trace: &mut Trace) {
        self.locate_trace(trace);
    }

    /// As [`Tracer::locate`], for the Gloo routes of one route (an [`Outcome`]'s).
    pub fn locate_route(&self, route: &mut RouteRef) {
        self.locate_route_ref(route);
    }
}

/// Traces `request` from `caller` through the rendered `objects` of `cluster` (objects of
/// other clusters are ignored); `repo` locates the Gloo sources. `Err` when the caller is not
/// in the cluster. Its locations are resolved (see [`Tracer::locate`]). For many requests,
/// build one [`Tracer`].
pub fn trace(
    objects: &[Rendered],
    repo: &Repo,
    cluster: &str,
    request: &Request,
    caller: &Caller,
) -> Result<Trace, TraceError> {
    let tracer = Tracer::new(objects, repo, cluster);
    let mut t = tracer.trace(request, caller)?;
    tracer.locate(&mut t);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{self, Options};
    use crate::source::Origin;

    #[test]
    fn a_trace_locates_its_gloo_routes_only_when_located() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/external-services");
        let opts = Options {
            release_inputs: true,
            skip_policies: true,
            ..Options::default()
        };
        let out = pipeline::load(&Origin::Dir(dir), &opts)
            .and_then(|r| pipeline::run(r, &opts))
            .expect("the seed renders");
        let cluster = out.repo.clusters.first().cloned().unwrap_or_default();
        let tracer = Tracer::new(&out.objects, &out.repo, &cluster);
        let caller = Caller::gateway("istio-gateways/istio-ingressgateway").expect("NS/NAME");

        let none = Request::parse("http://www.example.com/nothing", None, &[]).expect("a URL");
        let mut t = tracer.trace(&none, &caller).expect("traced");
        assert!(!t.tried.is_empty());
        assert!(t.tried.iter().all(|x| x.route.gloo.is_none()));
        tracer.locate(&mut t);
        assert!(t.tried.iter().all(|x| x.route.gloo.is_some()));
        let once = t.clone();
        tracer.locate(&mut t);
        assert_eq!(t, once, "locating twice changes nothing");
        let oneshot = trace(&out.objects, &out.repo, &cluster, &none, &caller).expect("traced");
        assert_eq!(t, oneshot);

        let db = Request::parse("http://www.example.com/db/users", None, &[]).expect("a URL");
        let mut t = tracer.trace(&db, &caller).expect("traced");
        let g = t
            .outcome
            .route
            .as_ref()
            .and_then(|r| r.gloo.clone())
            .expect("a Gloo route");
        assert!(g.route.is_some(), "the chosen route's name is read eagerly");
        let table = out
            .repo
            .objects
            .iter()
            .find(|o| {
                o.id.kind == "RouteTable"
                    && o.id.namespace == g.table.namespace
                    && o.id.name == g.table.name
            })
            .expect("the table");
        assert_eq!(
            g.location, table.location,
            "unlocated: the table's own line"
        );
        tracer.locate(&mut t);
        let located = t.outcome.route.and_then(|r| r.gloo).expect("a Gloo route");
        assert!(located.location.line > table.location.line);
        assert_eq!(located.location, out.repo.locate(table, &g.field));
    }
}
