//! The cross-object `istioctl analyze` checks that fit a renderer (istio-validation.md §3.10),
//! within each cluster's rendered output:
//! - IST0101: a VirtualService destination's `subset` must exist in a DestinationRule for the
//!   same host (`istio-missing-subset`);
//! - IST0109: at most one mesh-bound VirtualService per host within an export scope
//!   (`istio-conflicting-mesh-host`).

use super::{is_checked, Field, Loc, Path, Problem};
use crate::render::Rendered;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Problems found, each with the index of the object it concerns.
pub fn check(objects: &[Rendered]) -> Vec<(usize, Problem)> {
    let mut out = Vec::new();
    missing_subsets(objects, &mut out);
    mesh_host_conflicts(objects, &mut out);
    out
}

fn kind(o: &Rendered) -> &str {
    o.value.at("kind").as_str().unwrap_or("")
}

fn ns(o: &Rendered) -> &str {
    o.value
        .at("metadata")
        .at("namespace")
        .as_str()
        .unwrap_or("")
}

/// `x.ns.svc.cluster.local` → (ns, x); any other host → (the referring namespace, host).
fn resource_of(host: &str, default_ns: &str) -> (String, String) {
    if let Some(rest) = host.strip_suffix(".svc.cluster.local") {
        if let Some((name, namespace)) = rest.split_once('.') {
            if !namespace.contains('.') {
                return (namespace.to_string(), name.to_string());
            }
        }
    }
    (default_ns.to_string(), host.to_string())
}

fn missing_subsets(objects: &[Rendered], out: &mut Vec<(usize, Problem)>) {
    // (cluster, namespace, name) -> subset names
    let mut subsets: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for o in objects
        .iter()
        .filter(|o| is_checked(&o.value) && kind(o) == "DestinationRule")
    {
        let host = o.value.at("spec").at("host").as_str().unwrap_or("");
        let (n, h) = resource_of(host, ns(o));
        let e = subsets.entry((o.cluster.clone(), n, h)).or_default();
        for s in o
            .value
            .at("spec")
            .at("subsets")
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(name) = s.at("name").as_str() {
                e.insert(name.to_string());
            }
        }
    }
    for (i, o) in objects.iter().enumerate() {
        if !is_checked(&o.value) || kind(o) != "VirtualService" {
            continue;
        }
        let spec = &o.value.at("spec");
        let mut dests: Vec<(Loc<'static>, &Value)> = Vec::new();
        for section in ["http", "tcp", "tls"] {
            for (r, route) in spec
                .at(section)
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let rp = Loc::root().key("spec").key(section).index(r);
                for (d, dest) in route
                    .at("route")
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    dests.push((
                        rp.key("route").index(d).key("destination"),
                        dest.at("destination"),
                    ));
                }
                if route.at("mirror").is_object() {
                    dests.push((rp.key("mirror"), route.at("mirror")));
                }
                for (m, mirror) in route
                    .at("mirrors")
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    dests.push((
                        rp.key("mirrors").index(m).key("destination"),
                        mirror.at("destination"),
                    ));
                }
            }
        }
        for (path, d) in dests {
            let Some(subset) = d.at("subset").as_str().filter(|s| !s.is_empty()) else {
                continue;
            };
            let host = d.at("host").as_str().unwrap_or("");
            let (n, h) = resource_of(host, ns(o));
            let found = subsets
                .get(&(o.cluster.clone(), n.clone(), h.clone()))
                .is_some_and(|s| s.contains(subset));
            if !found {
                out.push((
                    i,
                    Problem::error(
                        "istio-missing-subset",
                        path.key("subset").path(),
                        format!(
                            "subset {subset:?} of host {host} is not defined by any DestinationRule for {h} in namespace {n} (istioctl analyze IST0101)"
                        ),
                    ),
                ));
            }
        }
    }
}

fn mesh_host_conflicts(objects: &[Rendered], out: &mut Vec<(usize, Problem)>) {
    // (cluster, expanded host) -> [(index, host index, scope)]
    type Entry = (usize, usize, BTreeSet<String>);
    let mut by_host: BTreeMap<(String, String), Vec<Entry>> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        if !is_checked(&o.value) || kind(o) != "VirtualService" {
            continue;
        }
        let spec = &o.value.at("spec");
        let gateways: Vec<&str> = spec
            .at("gateways")
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if !(gateways.is_empty() || gateways.contains(&"mesh")) {
            continue;
        }
        let namespace = ns(o);
        let export: Vec<&str> = spec
            .at("exportTo")
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let scope: BTreeSet<String> = if export.is_empty() || export.contains(&"*") {
            ["*".to_string()].into()
        } else {
            export
                .iter()
                .map(|e| if *e == "." { namespace } else { e }.to_string())
                .collect()
        };
        for (h, host) in spec
            .at("hosts")
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .enumerate()
        {
            let expanded = if host.contains('.') || host.contains('*') {
                host.to_string()
            } else {
                format!("{host}.{namespace}.svc.cluster.local")
            };
            by_host
                .entry((o.cluster.clone(), expanded))
                .or_default()
                .push((i, h, scope.clone()));
        }
    }
    for ((_, host), list) in by_host {
        for (a, (i, h, scope)) in list.iter().enumerate() {
            let others: Vec<String> = list
                .iter()
                .enumerate()
                .filter(|(b, (_, _, s))| {
                    *b != a && (scope.contains("*") || s.contains("*") || !scope.is_disjoint(s))
                })
                .map(|(_, (j, _, _))| {
                    let id = objects[*j].id();
                    format!("{}/{}", id.namespace, id.name)
                })
                .collect();
            if !others.is_empty() {
                out.push((
                    *i,
                    Problem::error(
                        "istio-conflicting-mesh-host",
                        Path::root().key("spec").key("hosts").index(*h),
                        format!(
                            "host {host} is also routed by the mesh-bound VirtualService(s) {} in the same export scope; the behaviour is undefined (istioctl analyze IST0109): merge them",
                            others.join(", ")
                        ),
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r(v: Value) -> Rendered {
        Rendered {
            cluster: "c1".into(),
            value: v,
            sources: Vec::new(),
        }
    }

    fn vs(name: &str, ns: &str, spec: Value) -> Rendered {
        r(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                 "metadata": {"name": name, "namespace": ns}, "spec": spec}),
        )
    }

    fn dr(ns: &str, host: &str, subsets: &[&str]) -> Rendered {
        let subsets: Vec<Value> = subsets
            .iter()
            .map(|s| json!({"name": s, "labels": {"version": s}}))
            .collect();
        r(
            json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                 "metadata": {"name": "dr", "namespace": ns}, "spec": {"host": host, "subsets": subsets}}),
        )
    }

    #[test]
    fn subsets_must_exist() {
        let v = vs(
            "v",
            "bookinfo-frontends",
            json!({"hosts": ["reviews"], "http": [{"route": [
            {"destination": {"host": "reviews.bookinfo-backends.svc.cluster.local", "subset": "version-v2"}},
            {"destination": {"host": "httpbin.org", "subset": "version-v1"}}]}]}),
        );
        let ok = [
            v.clone(),
            dr(
                "bookinfo-backends",
                "reviews.bookinfo-backends.svc.cluster.local",
                &["version-v2"],
            ),
            dr("bookinfo-frontends", "httpbin.org", &["version-v1"]),
        ];
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        // the external host's DR is in another namespace: not found
        let bad = [
            v,
            dr(
                "bookinfo-backends",
                "reviews.bookinfo-backends.svc.cluster.local",
                &["version-v3"],
            ),
            dr("other", "httpbin.org", &["version-v1"]),
        ];
        let p = check(&bad);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            p[0].1.path.to_string(),
            "spec.http[0].route[0].destination.subset"
        );
        assert_eq!(p[1].1.code, "istio-missing-subset");
    }

    #[test]
    fn one_mesh_virtual_service_per_host() {
        let a = vs(
            "a",
            "ns",
            json!({"hosts": ["ratings"], "gateways": ["mesh"], "exportTo": ["."], "http": []}),
        );
        let b = vs(
            "b",
            "ns",
            json!({"hosts": ["ratings.ns.svc.cluster.local"], "exportTo": ["."], "http": []}),
        );
        let other_ns = vs(
            "c",
            "other",
            json!({"hosts": ["ratings.ns.svc.cluster.local"], "exportTo": ["."], "http": []}),
        );
        let gw = vs(
            "d",
            "ns",
            json!({"hosts": ["ratings"], "gateways": ["gw"], "http": []}),
        );
        assert!(check(&[a.clone(), other_ns.clone(), gw]).is_empty());
        let p = check(&[a, b, other_ns]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p
            .iter()
            .all(|(_, x)| x.code == "istio-conflicting-mesh-host"));
    }
}
