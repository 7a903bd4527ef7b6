//! What a destination reaches: the ServiceEntry (or the repo's Kubernetes Service) of its
//! host, that service's endpoints for the port, and the DestinationRule the proxy applies
//! (docs/trace.md#destinations).

use super::engine::ns_name;
use super::matching::{host_matches, host_rank};
use super::*;

/// Whether a rendered object's `exportTo` lets the proxy in `ns` see it (empty: every
/// namespace).
fn visible_from(o: &Rendered, ns: &str) -> bool {
    let own = o
        .value
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let export: Vec<&str> = o
        .value
        .get("spec")
        .and_then(|s| s.get("exportTo"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    export.is_empty()
        || export
            .iter()
            .any(|e| *e == "*" || *e == ns || (*e == "." && own == ns))
}

/// The namespace of a rendered object.
fn namespace_of(o: &Rendered) -> &str {
    o.value
        .get("metadata")
        .and_then(|m| m.get("namespace"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Where a rendered object came from: the Gloo object its `gloo.solo.io/parent_*` labels
/// name, else its first source.
fn source_of(o: &Rendered) -> Option<Location> {
    let labels = o.value.get("metadata").and_then(|m| m.get("labels"));
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let parent = o.sources.iter().find(|s| {
        label("gloo.solo.io/parent_kind") == Some(s.id.kind.as_str())
            && label("gloo.solo.io/parent_name") == Some(s.id.name.as_str())
            && label("gloo.solo.io/parent_namespace") == Some(s.id.namespace.as_str())
    });
    parent.or(o.sources.first()).map(|s| s.location.clone())
}

/// The backend of destination `d` for a proxy in namespace `ns`.
pub(super) fn backend(t: &Tracer<'_>, d: Destination, ns: &str) -> Backend {
    let service = service_entry(t, &d, ns).or_else(|| kube_service(t, &d));
    let service_ns = service.as_ref().map(|s| s.object.namespace.clone());
    let destination_rule = destination_rule(t, &d, ns, service_ns.as_deref());
    Backend {
        destination: d,
        service,
        destination_rule,
    }
}

/// The ServiceEntry of the host visible to the proxy: in its namespace first, then an exact
/// host over a wildcard.
fn service_entry(t: &Tracer<'_>, d: &Destination, ns: &str) -> Option<Service> {
    let se = t
        .index
        .service_entries
        .taking(&d.host.to_ascii_lowercase())
        .into_iter()
        .filter(|o| visible_from(o, ns))
        .filter_map(|o| {
            let best = o
                .value
                .get("spec")?
                .get("hosts")?
                .as_array()?
                .iter()
                .filter_map(Value::as_str)
                .filter(|h| host_matches(h, &d.host))
                .map(host_rank)
                .max()?;
            Some(((namespace_of(o) == ns, best), o))
        })
        .max_by(|a, b| a.0.cmp(&b.0))?
        .1;
    let spec = se.value.get("spec")?;
    let ports = spec
        .get("ports")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let port = match d.port {
        Some(n) => ports
            .iter()
            .find(|p| p.get("number").and_then(Value::as_u64) == Some(u64::from(n))),
        None if ports.len() == 1 => ports.first(),
        None => None,
    };
    let port_name = port.and_then(|p| p.get("name")).and_then(Value::as_str);
    let default_port = port.and_then(|p| {
        p.get("targetPort")
            .or_else(|| p.get("number"))
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    });
    let endpoints = spec
        .get("endpoints")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|e| Endpoint {
            address: e
                .get("address")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            port: port_name
                .and_then(|n| e.get("ports")?.get(n)?.as_u64())
                .and_then(|n| u32::try_from(n).ok())
                .or(default_port),
            locality: e
                .get("locality")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
        .collect();
    Some(Service {
        kind: "ServiceEntry".to_string(),
        object: ns_name(se),
        resolution: spec
            .get("resolution")
            .and_then(Value::as_str)
            .unwrap_or("NONE")
            .to_string(),
        port: port.cloned(),
        endpoints,
        workload_selector: spec
            .get("workloadSelector")
            .and_then(|w| w.get("labels"))
            .cloned(),
        source: source_of(se),
    })
}

/// The repo's Kubernetes Service (in the traced cluster) of a `<name>.<namespace>.svc` or
/// `<name>.<namespace>.svc.cluster.local` host.
fn kube_service(t: &Tracer<'_>, d: &Destination) -> Option<Service> {
    let mut parts = d.host.splitn(4, '.');
    let (name, ns, svc) = (parts.next()?, parts.next()?, parts.next()?);
    if svc != "svc" || !matches!(parts.next(), None | Some("cluster.local")) {
        return None;
    }
    let o = t
        .index
        .repo_objects("Service", ns, name)
        .iter()
        .find(|o| o.id.api_version == "v1" && o.cluster == t.cluster)?;
    let spec = o.value.get("spec");
    let port = spec
        .and_then(|s| s.get("ports"))
        .and_then(|p| p.as_array())
        .and_then(|ports| match d.port {
            Some(n) => ports
                .iter()
                .find(|p| p.get("port").and_then(|v| v.as_u64()) == Some(u64::from(n))),
            None if ports.len() == 1 => ports.first(),
            None => None,
        })
        .map(|p| p.to_json());
    let headless = spec
        .and_then(|s| s.get("clusterIP"))
        .and_then(|c| c.as_str())
        == Some("None");
    Some(Service {
        kind: "Service".to_string(),
        object: NsName {
            namespace: ns.to_string(),
            name: name.to_string(),
        },
        resolution: if headless { "headless" } else { "ClusterIP" }.to_string(),
        port,
        endpoints: Vec::new(),
        workload_selector: None,
        source: Some(o.location.clone()),
    })
}

/// The DestinationRule of the host the proxy applies: in its namespace first, then in the
/// service's, then any visible one; an exact host over a wildcard (Istio's lookup order,
/// docs/trace.md#destinations).
fn destination_rule(
    t: &Tracer<'_>,
    d: &Destination,
    ns: &str,
    service_ns: Option<&str>,
) -> Option<Rule> {
    let dr = t
        .index
        .destination_rules
        .taking(&d.host.to_ascii_lowercase())
        .into_iter()
        .filter(|o| visible_from(o, ns))
        .filter_map(|o| {
            let host = o.value.get("spec")?.get("host")?.as_str()?;
            if !host_matches(host, &d.host) {
                return None;
            }
            let place = if namespace_of(o) == ns {
                2
            } else if Some(namespace_of(o)) == service_ns {
                1
            } else {
                0
            };
            Some(((place, host_rank(host)), o))
        })
        .max_by(|a, b| a.0.cmp(&b.0))?
        .1;
    let spec = dr.value.get("spec")?;
    let policy = spec.get("trafficPolicy");
    let port_level = d.port.and_then(|n| {
        policy?
            .get("portLevelSettings")?
            .as_array()?
            .iter()
            .find(|s| {
                s.get("port")
                    .and_then(|p| p.get("number"))
                    .and_then(Value::as_u64)
                    == Some(u64::from(n))
            })
    });
    let tls = port_level
        .and_then(|p| p.get("tls"))
        .or_else(|| policy.and_then(|p| p.get("tls")))
        .cloned();
    let traffic_policy = port_level.or(policy).and_then(|p| {
        let mut m = p.as_object()?.clone();
        for k in ["port", "tls", "portLevelSettings"] {
            m.shift_remove(k);
        }
        (!m.is_empty()).then_some(Value::Object(m))
    });
    let subset = d.subset.as_deref().and_then(|want| {
        spec.get("subsets")?
            .as_array()?
            .iter()
            .find(|s| s.get("name").and_then(Value::as_str) == Some(want))
            .cloned()
    });
    Some(Rule {
        object: ns_name(dr),
        tls,
        subset,
        traffic_policy,
        source: source_of(dr),
    })
}
