//! A trace as text, for people: the front ends print it and route tests show it for a
//! failed case.

use super::matching::describe_block;
use super::*;
use std::fmt::Write;

/// `file:line:col`.
fn at(l: &Location) -> String {
    format!("{}:{}:{}", l.file, l.line, l.column)
}

/// A Gloo route: `RouteTable app/www route db (routetable.yaml:7:5)`.
fn gloo(g: &GlooRoute) -> String {
    let route = match &g.route {
        Some(r) => format!("route `{r}`"),
        None => g.field.clone(),
    };
    format!("RouteTable {} {route} ({})", g.table, at(&g.location))
}

/// A rendered route: `route db-www (VirtualService ns/name, spec.http[0])`.
fn route(r: &RouteRef) -> String {
    let name = r
        .name
        .as_deref()
        .map_or(String::new(), |n| format!("`{n}` "));
    format!(
        "{name}(VirtualService {}, spec.http[{}])",
        r.virtual_service, r.index
    )
}

/// The Gloo routes behind a rendered route, one line each, indented by `pad`.
fn gloo_lines(out: &mut String, r: &RouteRef, pad: &str) {
    for d in &r.delegated_by {
        let _ = writeln!(out, "{pad}delegated by {}", gloo(d));
    }
    if let Some(g) = &r.gloo {
        let _ = writeln!(out, "{pad}from {}", gloo(g));
    }
}

/// A JSON value on one line.
fn compact(v: &Value) -> String {
    v.to_string()
}

/// The trace as text.
pub fn text(t: &Trace) -> String {
    let mut out = String::new();
    let r = &t.request;
    let _ = writeln!(
        out,
        "{} {}://{}{} (cluster {})",
        r.method,
        r.scheme,
        r.authority(),
        r.path,
        t.cluster
    );
    for h in &r.headers {
        let _ = writeln!(out, "  {}: {}", h.name, h.value);
    }
    match &t.entry {
        Entry::Gateway {
            gateway,
            virtual_gateway,
            listen_port,
            server,
        } => {
            let vg = virtual_gateway
                .as_ref()
                .map_or(String::new(), |v| format!("VirtualGateway {v}, "));
            let _ = writeln!(out, "from gateway {vg}Gateway {gateway}");
            let _ = writeln!(
                out,
                "  port {} reaches the gateway pods on {listen_port}",
                r.port
            );
            match server {
                Some(s) => {
                    let _ = write!(
                        out,
                        "  server {} ({} {}, hosts {}) takes host {} by `{}`",
                        s.port_name,
                        s.protocol,
                        s.port,
                        s.hosts.join(" "),
                        r.host,
                        s.matched_host
                    );
                    if let Some(l) = &s.location {
                        let _ = write!(out, " ({})", at(l));
                    }
                    out.push('\n');
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  no server of the Gateway listens on {listen_port} for {} host {}",
                        r.scheme, r.host
                    );
                }
            }
        }
        Entry::Mesh { namespace, visible } => {
            let _ = writeln!(out, "from a sidecar in namespace {namespace}");
            if let Caller::Mesh { labels, .. } = &t.caller {
                if !labels.is_empty() {
                    let l: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    let _ = writeln!(out, "  workload labels {}", l.join(","));
                }
            }
            for v in visible {
                let export = if v.export_to.is_empty() {
                    "every namespace".to_string()
                } else {
                    v.export_to.join(" ")
                };
                let _ = writeln!(
                    out,
                    "  sees VirtualService {} (hosts {}; exportTo {export})",
                    v.virtual_service,
                    v.hosts.join(" ")
                );
            }
        }
    }
    if let Some(c) = t.candidates.first() {
        let _ = writeln!(
            out,
            "virtual host `{}`, its VirtualServices in match order:",
            c.matched_host
        );
        for c in &t.candidates {
            let _ = writeln!(out, "  VirtualService {}", c.virtual_service);
        }
    }
    for tr in &t.tried {
        let _ = writeln!(out, "skipped {}", route(&tr.route));
        gloo_lines(&mut out, &tr.route, "  ");
        for (k, f) in tr.failed.iter().enumerate() {
            let _ = writeln!(out, "  match[{k}] fails: {f}");
        }
    }
    if let Some(c) = &t.chosen {
        let _ = writeln!(out, "matched {}", route(&c.route));
        gloo_lines(&mut out, &c.route, "  ");
        let m = c
            .matched
            .as_ref()
            .and_then(Value::as_object)
            .map_or_else(|| "any request".to_string(), describe_block);
        let _ = writeln!(out, "  by {m}");
        if let Some(p) = &c.rewritten_path {
            let how = c
                .actions
                .get("rewrite")
                .and_then(|w| w.get("uri"))
                .and_then(Value::as_str)
                .and_then(|uri| {
                    let prefix = c.matched.as_ref()?.get("uri")?.get("prefix")?.as_str()?;
                    Some(format!(" (prefix {prefix} rewritten to {uri})"))
                })
                .unwrap_or_default();
            let _ = writeln!(out, "  rewrites path {} to {p}{how}", r.path);
        }
        if let Some(a) = &c.rewritten_authority {
            let _ = writeln!(out, "  rewrites authority {} to {a}", r.authority());
        }
        for (k, v) in &c.actions {
            if matches!(k.as_str(), "rewrite" | "redirect" | "directResponse") {
                continue;
            }
            let from = c
                .policies
                .iter()
                .find(|p| p.field == *k)
                .map_or(String::new(), |p| {
                    format!(" (from {} {} at {})", p.kind, p.object, at(&p.location))
                });
            let _ = writeln!(out, "  {k}: {}{from}", compact(v));
        }
        for s in &c.shadows {
            let _ = writeln!(out, "  shadows {}", route(s));
        }
    }
    match &t.outcome.status {
        Status::Routed if t.default_route.is_some() => {
            let _ = writeln!(out, "=> routed: no VirtualService takes host {}", r.host);
        }
        Status::Routed => {
            let _ = writeln!(out, "=> routed");
        }
        Status::Redirect { code, location } => {
            let _ = writeln!(out, "=> redirect {code} to {location}");
        }
        Status::DirectResponse { code } => {
            let body = t
                .chosen
                .as_ref()
                .and_then(|c| c.actions.get("directResponse"))
                .and_then(|d| d.get("body"))
                .and_then(|b| b.get("string"))
                .and_then(Value::as_str)
                .map_or(String::new(), |b| format!(" with body {b:?}"));
            let _ = writeln!(out, "=> direct response {code}{body}");
        }
        Status::NoRoute => {
            let _ = writeln!(
                out,
                "=> no route: no route of the host matches (Envoy answers 404)"
            );
        }
        Status::NoHost => {
            let _ = writeln!(
                out,
                "=> no host: nothing here routes host {} (a gateway answers 404)",
                r.host
            );
            if !t.nearest.is_empty() {
                let _ = writeln!(out, "  nearest hosts: {}", t.nearest.join(", "));
            }
        }
    }
    if let Some(c) = &t.chosen {
        for b in &c.backends {
            backend(&mut out, b);
        }
    }
    if let Some(b) = &t.default_route {
        let _ = writeln!(out, "  the sidecar's default route for the service's port:");
        backend(&mut out, b);
    }
    out
}

/// One destination and what it reaches.
fn backend(out: &mut String, b: &Backend) {
    let d = &b.destination;
    let port = d.port.map_or(String::new(), |p| format!(":{p}"));
    let subset = d
        .subset
        .as_deref()
        .map_or(String::new(), |s| format!(" subset {s}"));
    let _ = writeln!(out, "  {}% to {}{port}{subset}", d.weight, d.host);
    match &b.service {
        Some(s) => {
            let from = s
                .source
                .as_ref()
                .map_or(String::new(), |l| format!(" from {}", at(l)));
            let _ = writeln!(
                out,
                "    {} {} (resolution {}){from}",
                s.kind, s.object, s.resolution
            );
            if let Some(Value::Object(labels)) = &s.workload_selector {
                let l: Vec<String> = labels
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect();
                let _ = writeln!(out, "    endpoints: the workloads labelled {}", l.join(","));
            }
            if s.endpoints.is_empty() && s.resolution == "DNS" {
                let _ = writeln!(out, "    endpoint: {} by DNS", d.host);
            }
            for e in &s.endpoints {
                let port = e.port.map_or(String::new(), |p| format!(":{p}"));
                let locality = e
                    .locality
                    .as_deref()
                    .map_or(String::new(), |l| format!(" ({l})"));
                let _ = writeln!(out, "    endpoint {}{port}{locality}", e.address);
            }
        }
        None => {
            let _ = writeln!(
                out,
                "    no ServiceEntry or Service of the repo has this host"
            );
        }
    }
    if let Some(rule) = &b.destination_rule {
        let from = rule
            .source
            .as_ref()
            .map_or(String::new(), |l| format!(" from {}", at(l)));
        let _ = writeln!(out, "    DestinationRule {}{from}", rule.object);
        if let Some(tls) = &rule.tls {
            let mode = tls.get("mode").and_then(Value::as_str).unwrap_or_default();
            let what = if matches!(mode, "SIMPLE" | "MUTUAL") {
                "TLS origination"
            } else {
                "TLS"
            };
            let _ = writeln!(out, "      {what}: {}", compact(tls));
        }
        if let Some(s) = &rule.subset {
            let _ = writeln!(out, "      subset: {}", compact(s));
        }
        if let Some(p) = &rule.traffic_policy {
            let _ = writeln!(out, "      policy: {}", compact(p));
        }
    }
}
