//! The trace itself: where the request enters, which VirtualServices take its host, which
//! route matches, and the Gloo routes behind it (docs/trace.md).

use super::backends;
use super::matching::{self, host_matches, host_rank, Context};
use super::*;
use crate::istio::object::Template;
use crate::manifest::Object;
use serde_json::Map;
use std::collections::BTreeMap;

/// A server's hosts, each with the namespace its VirtualServices must be in (None: any).
type ServerHosts = Vec<(String, Option<String>)>;

/// The proxy the request passes through.
struct Proxy {
    /// The Gateway (namespace, name) at a gateway; None for a sidecar.
    gateway: Option<(String, String)>,
    /// The proxy's namespace.
    namespace: String,
    /// Its workload labels.
    labels: BTreeMap<String, String>,
    /// The port routes compare `port` with.
    port: u32,
    /// At a gateway: the accepting server's hosts, each with the namespace its
    /// VirtualServices must be in (`ns/host`; None for any).
    server_hosts: ServerHosts,
}

/// A rendered object's `metadata` string field.
fn meta<'v>(o: &'v Rendered, key: &str) -> &'v str {
    o.value
        .get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A rendered object's label.
fn label<'v>(o: &'v Rendered, key: &str) -> Option<&'v str> {
    o.value
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(|l| l.get(key))
        .and_then(Value::as_str)
}

/// The object's namespace and name.
pub(super) fn ns_name(o: &Rendered) -> NsName {
    NsName {
        namespace: meta(o, "namespace").to_string(),
        name: meta(o, "name").to_string(),
    }
}

/// The strings of a list field of `spec`.
fn spec_strings<'v>(o: &'v Rendered, key: &str) -> Vec<&'v str> {
    o.value
        .get("spec")
        .and_then(|s| s.get(key))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

impl<'a> Tracer<'a> {
    /// The proxy and entry for `caller`.
    fn proxy(
        &self,
        request: &Request,
        caller: &Caller,
        gateways: &mut Vec<&'a Rendered>,
    ) -> Result<(Proxy, Entry), TraceError> {
        match caller {
            Caller::Mesh { namespace, labels } => Ok((
                Proxy {
                    gateway: None,
                    namespace: namespace.clone(),
                    labels: labels.clone(),
                    port: u32::from(request.port),
                    server_hosts: Vec::new(),
                },
                Entry::Mesh {
                    namespace: namespace.clone(),
                    visible: Vec::new(),
                },
            )),
            Caller::Gateway { namespace, name } => {
                gateways.extend(self.index.gateways.iter().copied().filter(|g| {
                    let own = meta(g, "namespace") == namespace && meta(g, "name") == name;
                    let from_vg = label(g, "gloo.solo.io/parent_kind") == Some("VirtualGateway")
                        && label(g, "gloo.solo.io/parent_namespace") == Some(namespace)
                        && label(g, "gloo.solo.io/parent_name") == Some(name);
                    own || from_vg
                }));
                let Some(&gw) = gateways.first() else {
                    return Err(self.unknown_gateway(namespace, name));
                };
                let selector: BTreeMap<String, String> = gw
                    .value
                    .get("spec")
                    .and_then(|s| s.get("selector"))
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                            .collect()
                    })
                    .unwrap_or_default();
                let (labels, listen) = self.gateway_pods(&selector, request.port);
                let gw_ns = meta(gw, "namespace").to_string();
                let server = self.server(gateways, request, listen);
                let server_hosts = server
                    .as_ref()
                    .map(|(_, hosts)| hosts.clone())
                    .unwrap_or_default();
                let entry = Entry::Gateway {
                    gateway: ns_name(gw),
                    virtual_gateway: (label(gw, "gloo.solo.io/parent_kind")
                        == Some("VirtualGateway"))
                    .then(|| NsName {
                        namespace: label(gw, "gloo.solo.io/parent_namespace")
                            .unwrap_or_default()
                            .to_string(),
                        name: label(gw, "gloo.solo.io/parent_name")
                            .unwrap_or_default()
                            .to_string(),
                    }),
                    listen_port: listen,
                    server: server.map(|(s, _)| s),
                };
                Ok((
                    Proxy {
                        gateway: Some((
                            meta(gw, "namespace").to_string(),
                            meta(gw, "name").to_string(),
                        )),
                        namespace: gw_ns,
                        labels,
                        port: listen,
                        server_hosts,
                    },
                    entry,
                ))
            }
        }
    }

    /// The error for a gateway caller the cluster does not render.
    fn unknown_gateway(&self, namespace: &str, name: &str) -> TraceError {
        let mut known: Vec<String> = self
            .index
            .gateways
            .iter()
            .map(|g| {
                match (
                    label(g, "gloo.solo.io/parent_kind"),
                    label(g, "gloo.solo.io/parent_namespace"),
                    label(g, "gloo.solo.io/parent_name"),
                ) {
                    (Some("VirtualGateway"), Some(ns), Some(n)) => format!("{ns}/{n}"),
                    _ => ns_name(g).to_string(),
                }
            })
            .collect();
        known.sort();
        known.dedup();
        TraceError::UnknownGateway {
            namespace: namespace.to_string(),
            name: name.to_string(),
            cluster: self.cluster.clone(),
            known,
        }
    }

    /// The gateway pods' labels (meshform.yaml `gateways[].podLabels` of the gateway whose
    /// pods the Gateway selects, else the selector) and the port they receive the client's
    /// `port` on (that gateway Service port's `targetPort`; the port itself when meshform.yaml
    /// names none), docs/trace.md#ports.
    fn gateway_pods(
        &self,
        selector: &BTreeMap<String, String>,
        port: u16,
    ) -> (BTreeMap<String, String>, u32) {
        let port = u32::from(port);
        let config = self
            .repo
            .config
            .clusters
            .iter()
            .find(|c| c.name == self.cluster)
            .into_iter()
            .flat_map(|c| c.gateways.iter())
            .find(|g| {
                !selector.is_empty() && selector.iter().all(|(k, v)| g.pod_labels.get(k) == Some(v))
            });
        match config {
            Some(g) => {
                let labels = g
                    .pod_labels
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let listen = g
                    .ports
                    .iter()
                    .find(|p| p.port == port)
                    .map_or(port, |p| p.target_port.unwrap_or(p.port));
                (labels, listen)
            }
            None => (selector.clone(), port),
        }
    }

    /// The server of `gateways` that accepts the request on `listen`: its port, a protocol of
    /// the request's scheme, and the most specific host that takes the request's host.
    fn server(
        &self,
        gateways: &[&Rendered],
        request: &Request,
        listen: u32,
    ) -> Option<(Server, ServerHosts)> {
        let tls = request.scheme == "https";
        let mut best: Option<((bool, usize), Server, ServerHosts)> = None;
        for gw in gateways {
            let servers = gw
                .value
                .get("spec")
                .and_then(|s| s.get("servers"))
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (index, s) in servers.iter().enumerate() {
                let port = s.get("port");
                let number = port.and_then(|p| p.get("number")).and_then(Value::as_u64);
                if number != Some(u64::from(listen)) {
                    continue;
                }
                let protocol = port
                    .and_then(|p| p.get("protocol"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_uppercase();
                let server_tls = matches!(protocol.as_str(), "HTTPS" | "TLS");
                if server_tls != tls {
                    continue;
                }
                let hosts: ServerHosts = s
                    .get("hosts")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(|h| split_ns_host(h, meta(gw, "namespace")))
                            .collect()
                    })
                    .unwrap_or_default();
                let Some(matched) = hosts
                    .iter()
                    .map(|(h, _)| h)
                    .filter(|h| host_matches(h, &request.host))
                    .max_by_key(|h| host_rank(h))
                else {
                    continue;
                };
                let rank = host_rank(matched);
                if best.as_ref().is_some_and(|(r, _, _)| *r >= rank) {
                    continue;
                }
                let source = gw
                    .origins
                    .source_field(&format!("spec.servers[{index}]"))
                    .and_then(|(src, field)| Some((gw.sources.get(src)?, field)));
                let location = source.as_ref().map(|(s, _)| s.location.clone());
                let pending = source.map(|(s, field)| (s.id.clone(), field));
                let server = Server {
                    index,
                    port_name: port
                        .and_then(|p| p.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    port: listen,
                    protocol,
                    hosts: hosts.iter().map(|(h, _)| h.clone()).collect(),
                    matched_host: matched.clone(),
                    tls_mode: s
                        .get("tls")
                        .and_then(|t| t.get("mode"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    location,
                    pending,
                };
                best = Some((rank, server, hosts));
            }
        }
        best.map(|(_, s, h)| (s, h))
    }

    /// Every host a proxy could route: the hosts of the VirtualServices bound to it (else a
    /// gateway server's), for "no host" suggestions.
    fn all_hosts(&self, proxy: &Proxy) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for vs in self.index.virtual_services.all() {
            if binds(vs, proxy) {
                hosts.extend(spec_strings(vs, "hosts").into_iter().map(str::to_string));
            }
        }
        if hosts.is_empty() {
            hosts.extend(proxy.server_hosts.iter().map(|(h, _)| h.clone()));
        }
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// The hosts `vs` serves at the proxy (its hosts, narrowed to a gateway server's), or
    /// None when it is not bound to the proxy or not visible to it.
    fn vs_hosts(&self, vs: &Rendered, proxy: &Proxy) -> Option<Vec<String>> {
        if !binds(vs, proxy) {
            return None;
        }
        let vs_ns = meta(vs, "namespace");
        let hosts = spec_strings(vs, "hosts");
        match proxy.gateway {
            None => Some(hosts.into_iter().map(str::to_string).collect()),
            Some(_) => {
                let mut out = Vec::new();
                for h in hosts {
                    for (s, ns) in &proxy.server_hosts {
                        if ns.as_deref().is_some_and(|ns| ns != vs_ns) {
                            continue;
                        }
                        if host_matches(s, h) {
                            out.push(h.to_string());
                        } else if host_matches(h, s) {
                            out.push(s.clone());
                        }
                    }
                }
                out.sort();
                out.dedup();
                Some(out)
            }
        }
    }

    /// Traces one request (see [`Tracer::trace`]).
    pub(super) fn run(&self, request: &Request, caller: &Caller) -> Result<Trace, TraceError> {
        let mut gateways = Vec::new();
        let (proxy, mut entry) = self.proxy(request, caller, &mut gateways)?;
        let mut trace = Trace {
            cluster: self.cluster.clone(),
            request: request.clone(),
            caller: caller.clone(),
            entry: Entry::Mesh {
                namespace: String::new(),
                visible: Vec::new(),
            },
            candidates: Vec::new(),
            tried: Vec::new(),
            chosen: None,
            outcome: Outcome {
                status: Status::NoHost,
                route: None,
                destinations: Vec::new(),
            },
            nearest: Vec::new(),
            default_route: None,
        };
        let no_server = matches!(&entry, Entry::Gateway { server: None, .. });
        // The virtual host: the most specific host of a bound VirtualService that takes the
        // request's host; every VirtualService with that host is a candidate.
        let mut bound: Vec<(&Rendered, Vec<String>)> = Vec::new();
        if !no_server {
            // A VirtualService whose hosts, narrowed to a server's, take the host has a host
            // that takes it too.
            for vs in self.index.virtual_services.taking(&request.host) {
                if let Some(hosts) = self.vs_hosts(vs, &proxy) {
                    bound.push((vs, hosts));
                }
            }
        }
        let best = bound
            .iter()
            .flat_map(|(_, hs)| hs.iter())
            .filter(|h| host_matches(h, &request.host))
            .max_by_key(|h| host_rank(h))
            .cloned();
        if let Entry::Mesh { visible, .. } = &mut entry {
            for (vs, hosts) in &bound {
                if hosts.iter().any(|h| host_matches(h, &request.host)) {
                    visible.push(Visible {
                        virtual_service: ns_name(vs),
                        hosts: hosts.clone(),
                        export_to: spec_strings(vs, "exportTo")
                            .into_iter()
                            .map(str::to_string)
                            .collect(),
                    });
                }
            }
        }
        trace.entry = entry;
        let Some(best) = best else {
            if proxy.gateway.is_none() {
                let d = Destination {
                    host: request.host.clone(),
                    port: Some(u32::from(request.port)),
                    subset: None,
                    weight: 100,
                };
                let b = backends::backend(self, d, &proxy.namespace);
                if b.service.is_some() {
                    trace.outcome = Outcome {
                        status: Status::Routed,
                        route: None,
                        destinations: vec![b.destination.clone()],
                    };
                    trace.default_route = Some(b);
                    return Ok(trace);
                }
            }
            trace.nearest = nearest(&request.host, &self.all_hosts(&proxy));
            return Ok(trace);
        };
        let mut candidates: Vec<&Rendered> = bound
            .iter()
            .filter(|(_, hs)| hs.iter().any(|h| h.eq_ignore_ascii_case(&best)))
            .map(|(vs, _)| *vs)
            .collect();
        // Istio orders VirtualServices of one host by creation time, then name, then
        // namespace; meshform has no creation time
        // (docs/trace.md#hosts-and-the-order-of-virtualservices).
        candidates.sort_by(|a, b| {
            (meta(a, "name"), meta(a, "namespace")).cmp(&(meta(b, "name"), meta(b, "namespace")))
        });
        for vs in &candidates {
            trace.candidates.push(Candidate {
                virtual_service: ns_name(vs),
                matched_host: best.clone(),
                sources: vs.sources.iter().map(|s| s.location.clone()).collect(),
            });
        }
        // A sidecar takes a host's routes from its first VirtualService only; a gateway
        // merges them (docs/trace.md#hosts-and-the-order-of-virtualservices).
        if proxy.gateway.is_none() {
            candidates.truncate(1);
        }
        let cx = Context {
            labels: &proxy.labels,
            namespace: &proxy.namespace,
            port: proxy.port,
            gateway: proxy
                .gateway
                .as_ref()
                .map(|(ns, name)| (ns.as_str(), name.as_str())),
            regexes: &self.regexes,
        };
        trace.outcome.status = Status::NoRoute;
        for vs in candidates {
            let routes = vs
                .value
                .get("spec")
                .and_then(|s| s.get("http"))
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (i, route) in routes.iter().enumerate() {
                let (matched, failed) = match_route(route, request, &cx);
                match (&mut trace.chosen, matched) {
                    (None, Some(m)) => {
                        trace.chosen = Some(self.chosen(vs, i, route, m, request, &proxy))
                    }
                    (Some(c), Some(_)) => c.shadows.push(Self::route_stub(vs, i, route)),
                    (None, None) => trace.tried.push(Tried {
                        route: Self::route_stub(vs, i, route),
                        failed,
                    }),
                    (Some(_), None) => {}
                }
            }
        }
        if let Some(c) = &trace.chosen {
            trace.outcome = outcome_of(c, request);
        }
        Ok(trace)
    }

    /// The route `i` of `vs` without the Gloo routes it came from: a tried or shadowed
    /// route, whose Gloo routes [`Tracer::locate`] adds.
    fn route_stub(vs: &Rendered, i: usize, route: &Value) -> RouteRef {
        RouteRef {
            virtual_service: ns_name(vs),
            name: route
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
            index: i,
            gloo: None,
            delegated_by: Vec::new(),
        }
    }

    /// The route `i` of `vs` and the Gloo routes it came from, each at its table's own
    /// location (see [`Tracer::locate`]).
    pub(super) fn route_ref(&self, vs: &Rendered, i: usize, route: &Value) -> RouteRef {
        let name = route
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let gloo_route = |src: usize, field: &str, rendered: Option<&str>| -> Option<GlooRoute> {
            let s = vs.sources.get(src)?;
            if s.id.kind != "RouteTable" {
                return None;
            }
            let index: usize = field
                .strip_prefix("spec.http[")?
                .strip_suffix(']')?
                .parse()
                .ok()?;
            let obj = self.index.source_object(s);
            let table = NsName {
                namespace: s.id.namespace.clone(),
                name: s.id.name.clone(),
            };
            let route = obj
                .and_then(|o| self.route_name(o, index))
                .or_else(|| rendered.and_then(|r| name_from_rendered(r, &table)));
            Some(GlooRoute {
                table,
                route,
                field: field.to_string(),
                location: s.location.clone(),
            })
        };
        let at = format!("spec.http[{i}]");
        let gloo = vs
            .origins
            .source_field(&at)
            .and_then(|(src, field)| gloo_route(src, &field, name.as_deref()));
        let mut chain: Vec<(usize, GlooRoute)> = vs
            .origins
            .iter()
            .filter(|o| o.at.kind() == Template::HttpDelegatedBy && o.at.index() == i)
            .filter_map(|o| {
                Some((
                    o.at.inner(),
                    gloo_route(usize::from(o.source), &o.field.path(), None)?,
                ))
            })
            .collect();
        // Recorded nearest first; listed from the table with hosts down.
        chain.sort_by_key(|c| std::cmp::Reverse(c.0));
        RouteRef {
            virtual_service: ns_name(vs),
            name,
            index: i,
            gloo,
            delegated_by: chain.into_iter().map(|(_, g)| g).collect(),
        }
    }

    /// The chosen route in full.
    fn chosen(
        &self,
        vs: &Rendered,
        i: usize,
        route: &Value,
        matched: Option<usize>,
        request: &Request,
        proxy: &Proxy,
    ) -> Chosen {
        let block = matched.and_then(|m| route.get("match")?.get(m)?.as_object());
        let mut actions = Map::new();
        for k in [
            "rewrite",
            "redirect",
            "directResponse",
            "fault",
            "retries",
            "timeout",
            "headers",
            "mirror",
            "mirrorPercentage",
            "corsPolicy",
        ] {
            if let Some(v) = route.get(k) {
                actions.insert(k.to_string(), v.clone());
            }
        }
        let rewrite = route.get("rewrite");
        let rewritten_path = rewrite.and_then(|r| {
            if let Some(uri) = r.get("uri").and_then(Value::as_str) {
                return Some(matching::rewrite_path(request, block, uri));
            }
            let rr = r.get("uriRegexRewrite")?;
            matching::regex_rewrite_path(
                request,
                rr.get("match")?.as_str()?,
                rr.get("rewrite")?.as_str()?,
                &self.regexes,
            )
        });
        let rewritten_authority = rewrite
            .and_then(|r| r.get("authority"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let destinations = destinations_of(route);
        let backends = destinations
            .into_iter()
            .map(|d| backends::backend(self, d, &proxy.namespace))
            .collect();
        let mut policies = Vec::new();
        for field in [
            "fault",
            "retries",
            "timeout",
            "headers",
            "mirror",
            "corsPolicy",
        ] {
            if !actions.contains_key(field) {
                continue;
            }
            let Some((src, at)) = vs.origins.source_field(&format!("spec.http[{i}].{field}"))
            else {
                continue;
            };
            let Some(s) = vs
                .sources
                .get(src)
                .filter(|s| s.id.kind.ends_with("Policy"))
            else {
                continue;
            };
            policies.push(PolicyRef {
                field: field.to_string(),
                kind: s.id.kind.clone(),
                object: NsName {
                    namespace: s.id.namespace.clone(),
                    name: s.id.name.clone(),
                },
                location: s.location.clone(),
                pending: Some(at),
            });
        }
        Chosen {
            route: self.route_ref(vs, i, route),
            policies,
            match_index: matched,
            matched: block.map(|b| Value::Object(b.clone())),
            actions,
            rewritten_path,
            rewritten_authority,
            backends,
            shadows: Vec::new(),
        }
    }
}

impl Tracer<'_> {
    /// The `name` of route `index` of table `o` (see [`route_name_of`]), read from the
    /// text of a released table once per tracer.
    fn route_name(&self, o: &Object, index: usize) -> Option<String> {
        if !o.value.is_null() {
            return route_name_of(self.repo, o, index);
        }
        let key = (std::ptr::from_ref(o) as usize, index);
        let cached = self
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(name) = cached {
            return name;
        }
        let name = route_name_of(self.repo, o, index);
        self.names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, name.clone());
        name
    }

    /// The repo's object of this kind, namespace and name written at `at`.
    fn object_at(&self, kind: &str, namespace: &str, name: &str, at: &Location) -> Option<&Object> {
        self.index
            .repo_objects(kind, namespace, name)
            .iter()
            .copied()
            .find(|o| &o.location == at)
    }

    /// See [`Tracer::locate`].
    pub(super) fn locate_trace(&self, t: &mut Trace) {
        if let Entry::Gateway {
            server: Some(server),
            ..
        } = &mut t.entry
        {
            if let (Some((id, field)), Some(at)) = (server.pending.take(), &server.location) {
                if let Some(o) = self.object_at(&id.kind, &id.namespace, &id.name, at) {
                    server.location = Some(self.repo.locate(o, &field));
                }
            }
        }
        for tried in &mut t.tried {
            self.locate_route_ref(&mut tried.route);
        }
        if let Some(c) = &mut t.chosen {
            self.locate_route_ref(&mut c.route);
            for r in &mut c.shadows {
                self.locate_route_ref(r);
            }
            for p in &mut c.policies {
                let Some(field) = p.pending.take() else {
                    continue;
                };
                let (kind, ns, name) = (&p.kind, &p.object.namespace, &p.object.name);
                if let Some(o) = self.object_at(kind, ns, name, &p.location) {
                    p.location = self.repo.locate(o, &field);
                }
            }
        }
        if let Some(r) = &mut t.outcome.route {
            self.locate_route_ref(r);
        }
    }

    /// See [`Tracer::locate_route`]. A route without Gloo routes gets them when its
    /// VirtualService has; a Gloo route still at its table's own location is located, one
    /// already located is not found there and stays.
    pub(super) fn locate_route_ref(&self, r: &mut RouteRef) {
        if r.gloo.is_none() && r.delegated_by.is_empty() {
            let vs = self.index.virtual_service(&r.virtual_service);
            let route = vs.and_then(|vs| vs.value.get("spec")?.get("http")?.get(r.index));
            if let (Some(vs), Some(route)) = (vs, route) {
                *r = self.route_ref(vs, r.index, route);
            }
        }
        for g in r.gloo.iter_mut().chain(r.delegated_by.iter_mut()) {
            let (ns, name) = (&g.table.namespace, &g.table.name);
            if let Some(o) = self.object_at("RouteTable", ns, name, &g.location) {
                g.location = self.repo.locate(o, &g.field);
            }
        }
    }
}

/// `host` of a server's `hosts` entry and the namespace of its `ns/` part (`.` for the
/// gateway's own, `*` for any: None).
fn split_ns_host(h: &str, gateway_ns: &str) -> (String, Option<String>) {
    match h.split_once('/') {
        Some(("*", host)) => (host.to_string(), None),
        Some((".", host)) => (host.to_string(), Some(gateway_ns.to_string())),
        Some((ns, host)) => (host.to_string(), Some(ns.to_string())),
        None => (h.to_string(), None),
    }
}

/// Whether `vs` is bound to the proxy: at a gateway, its `gateways` name the Gateway (a
/// name without namespace is in the VirtualService's); at a sidecar, its `gateways` are
/// empty or hold `mesh`, and its `exportTo` reaches the caller's namespace.
fn binds(vs: &Rendered, proxy: &Proxy) -> bool {
    let gws = spec_strings(vs, "gateways");
    let vs_ns = meta(vs, "namespace");
    match &proxy.gateway {
        Some((ns, name)) => gws.iter().any(|g| match g.split_once('/') {
            Some((gns, gname)) => gns == ns && gname == name,
            None => vs_ns == ns && g == name,
        }),
        None => {
            let bound = gws.is_empty() || gws.contains(&"mesh");
            let export = spec_strings(vs, "exportTo");
            let visible = export.is_empty()
                || export.iter().any(|e| {
                    *e == "*" || *e == proxy.namespace || (*e == "." && vs_ns == proxy.namespace)
                });
            bound && visible
        }
    }
}

/// Whether `route` matches: `Some(index)` of its first matching block (`Some(None)` for a
/// route without blocks), else None and each block's first failed condition.
fn match_route(
    route: &Value,
    request: &Request,
    cx: &Context<'_>,
) -> (Option<Option<usize>>, Vec<String>) {
    let blocks = route
        .get("match")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if blocks.is_empty() {
        return (Some(None), Vec::new());
    }
    let mut failed = Vec::with_capacity(blocks.len());
    for (k, b) in blocks.iter().enumerate() {
        let Some(b) = b.as_object() else {
            return (Some(Some(k)), Vec::new());
        };
        match matching::first_failure(b, request, cx) {
            None => return (Some(Some(k)), Vec::new()),
            Some(f) => failed.push(f),
        }
    }
    (None, failed)
}

/// The destinations of a route, weights filled in (100 for a lone one without).
fn destinations_of(route: &Value) -> Vec<Destination> {
    let list = route
        .get("route")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let lone = list.len() == 1;
    list.iter()
        .filter_map(|d| {
            let dest = d.get("destination")?;
            let weight = d
                .get("weight")
                .and_then(Value::as_u64)
                .map_or(if lone { 100 } else { 0 }, |w| {
                    u32::try_from(w).unwrap_or(u32::MAX)
                });
            Some(Destination {
                host: dest.get("host")?.as_str()?.to_string(),
                port: dest
                    .get("port")
                    .and_then(|p| p.get("number"))
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok()),
                subset: dest
                    .get("subset")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                weight,
            })
        })
        .collect()
}

/// The outcome of a chosen route.
fn outcome_of(c: &Chosen, request: &Request) -> Outcome {
    let status = if let Some(r) = c.actions.get("redirect") {
        let code = r
            .get("redirectCode")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(301);
        let scheme = r
            .get("scheme")
            .and_then(Value::as_str)
            .unwrap_or(&request.scheme);
        let authority = r
            .get("authority")
            .and_then(Value::as_str)
            .map_or_else(|| request.authority(), str::to_string);
        // A path redirect replaces the whole path; Envoy keeps the query unless the new path
        // has one (`path_redirect`, `strip_query` false).
        let query = request
            .path
            .strip_prefix(request.path_only())
            .unwrap_or_default();
        let path = r.get("uri").and_then(Value::as_str).map_or_else(
            || request.path.clone(),
            |u| {
                if u.contains('?') {
                    u.to_string()
                } else {
                    format!("{u}{query}")
                }
            },
        );
        Status::Redirect {
            code,
            location: format!("{scheme}://{authority}{path}"),
        }
    } else if let Some(d) = c.actions.get("directResponse") {
        Status::DirectResponse {
            code: d
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or_default(),
        }
    } else {
        Status::Routed
    };
    let destinations = if status == Status::Routed {
        c.backends.iter().map(|b| b.destination.clone()).collect()
    } else {
        Vec::new()
    };
    Outcome {
        status,
        route: Some(c.route.clone()),
        destinations,
    }
}

/// The `name` of route `index` of a Gloo table: from its value, or where the value was
/// released (`pipeline::Options::release_inputs`), the plain scalar written at the field.
fn route_name_of(repo: &Repo, o: &Object, index: usize) -> Option<String> {
    if !o.value.is_null() {
        let r = o.value.get("spec")?.get("http")?.as_array()?.get(index)?;
        return r.get("name")?.as_str().map(str::to_string);
    }
    let field = format!("spec.http[{index}].name");
    let (at, pointer) = repo.locate_nearest(o, &field);
    if pointer != crate::manifest::field_to_pointer(&field) {
        return None;
    }
    let text = &repo.files.get(o.file_index)?.text;
    let line = text
        .lines()
        .nth(usize::try_from(at.line).ok()?.checked_sub(1)?)?;
    let rest = line.get(usize::try_from(at.column).ok()?.checked_sub(1)?..)?;
    let end = rest.find([',', '}', '#']).unwrap_or(rest.len());
    let name = rest[..end].trim().trim_matches(|c| c == '"' || c == '\'');
    (!name.is_empty()).then(|| name.to_string())
}

/// The Gloo route name inside a rendered route name: `<route>-<table>`, or
/// `<route>-<table>.<ns>.<cluster>--…` for a delegated route (docs/translation.md#generated-names).
fn name_from_rendered(rendered: &str, table: &NsName) -> Option<String> {
    let head = rendered.split("--").next().unwrap_or(rendered);
    let own = format!("-{}", table.name);
    let child = format!("-{}.{}.", table.name, table.namespace);
    if let Some(at) = head.find(&child) {
        return Some(head[..at].to_string());
    }
    head.strip_suffix(&own).map(str::to_string)
}

/// The hosts closest to `host`, the nearest first (at most 5).
fn nearest(host: &str, hosts: &[String]) -> Vec<String> {
    let mut scored: Vec<(usize, &String)> = hosts
        .iter()
        .map(|h| (strsim::levenshtein(host, h), h))
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, h)| h.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istio::object::Origins;
    use crate::repo::test_support::repo_of;
    use serde_json::json;

    /// A rendered VirtualService in `ns` with `hosts`, `gateways` and one route per prefix.
    fn vs(ns: &str, name: &str, hosts: &[&str], gateways: &[&str], prefixes: &[&str]) -> Rendered {
        let http: Vec<Value> = prefixes
            .iter()
            .map(|p| {
                json!({"name": format!("{name}{p}"), "match": [{"uri": {"prefix": p}}],
                       "route": [{"destination": {"host": "web.app.svc.cluster.local"}}]})
            })
            .collect();
        Rendered {
            cluster: "cluster1".into(),
            value: json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                          "metadata": {"name": name, "namespace": ns},
                          "spec": {"hosts": hosts, "gateways": gateways, "http": http}}),
            sources: Vec::new(),
            origins: Origins::default(),
        }
    }

    fn mesh(url: &str, objects: &[Rendered]) -> Trace {
        let repo = repo_of(&[(
            "a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        )]);
        let req = Request::parse(url, None, &[]).expect("URL");
        let caller = Caller::mesh("app", &[]).expect("caller");
        trace(objects, &repo, "cluster1", &req, &caller).expect("traces")
    }

    fn route_name(t: &Trace) -> Option<&str> {
        t.outcome.route.as_ref()?.name.as_deref()
    }

    #[test]
    fn an_exact_host_wins_over_wildcards_and_a_longer_wildcard_over_a_shorter() {
        let objects = [
            vs("app", "all", &["*"], &["mesh"], &["/"]),
            vs("app", "wild", &["*.example.com"], &["mesh"], &["/"]),
            vs("app", "deep", &["*.www.example.com"], &["mesh"], &["/"]),
            vs("app", "exact", &["www.example.com"], &["mesh"], &["/"]),
        ];
        assert_eq!(
            route_name(&mesh("http://www.example.com/", &objects)),
            Some("exact/")
        );
        assert_eq!(
            route_name(&mesh("http://a.www.example.com/", &objects)),
            Some("deep/")
        );
        assert_eq!(
            route_name(&mesh("http://api.example.com/", &objects)),
            Some("wild/")
        );
        assert_eq!(
            route_name(&mesh("http://other.org/", &objects)),
            Some("all/")
        );
    }

    #[test]
    fn a_sidecar_uses_the_first_virtual_service_of_a_host_only() {
        let objects = [
            vs("app", "b", &["www.example.com"], &[], &["/b"]),
            vs("app", "a", &["www.example.com"], &[], &["/a"]),
        ];
        let t = mesh("http://www.example.com/b", &objects);
        assert_eq!(t.candidates.len(), 2);
        assert_eq!(t.outcome.status, Status::NoRoute);
        assert_eq!(
            route_name(&mesh("http://www.example.com/a", &objects)),
            Some("a/a")
        );
    }

    #[test]
    fn export_to_and_gateways_decide_what_a_sidecar_sees() {
        let objects = [
            vs("other", "here", &["www.example.com"], &["mesh"], &["/"]),
            vs(
                "app",
                "gw",
                &["www.example.com"],
                &["istio-gateways/gw"],
                &["/"],
            ),
        ];
        let mut hidden = objects[0].clone();
        hidden.value["spec"]["exportTo"] = json!(["."]);
        assert_eq!(
            route_name(&mesh("http://www.example.com/", &objects)),
            Some("here/")
        );
        let t = mesh("http://www.example.com/", &[hidden, objects[1].clone()]);
        assert_eq!(t.outcome.status, Status::NoHost);
        assert_eq!(t.nearest, Vec::<String>::new());
    }

    #[test]
    fn gloo_route_names_come_from_rendered_names_when_values_are_released() {
        let t = NsName {
            namespace: "app".into(),
            name: "www".into(),
        };
        assert_eq!(name_from_rendered("db-www", &t).as_deref(), Some("db"));
        let child = NsName {
            namespace: "app".into(),
            name: "leaf".into(),
        };
        assert_eq!(
            name_from_rendered("users-leaf.app.cluster1--root.app.cluster1", &child).as_deref(),
            Some("users")
        );
        assert_eq!(name_from_rendered("other", &t), None);
    }

    #[test]
    fn an_outcome_summary_names_destinations_and_route() {
        let t = mesh(
            "http://www.example.com/a",
            &[vs("app", "v", &["www.example.com"], &[], &["/a"])],
        );
        assert_eq!(
            t.outcome.summary(),
            "web.app.svc.cluster.local by route `v/a`"
        );
        let t = mesh(
            "http://www.example.com/b",
            &[vs("app", "v", &["www.example.com"], &[], &["/a"])],
        );
        assert_eq!(t.outcome.summary(), "no route");
    }

    #[test]
    fn nearest_hosts_are_ranked_by_edit_distance() {
        let hosts = [
            "api.example.com".to_string(),
            "www.example.com".to_string(),
            "x.org".to_string(),
        ];
        assert_eq!(nearest("ww.example.com", &hosts)[0], "www.example.com");
    }
}
