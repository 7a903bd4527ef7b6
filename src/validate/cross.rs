//! The cross-object `istioctl analyze` checks that fit a renderer (docs/validation.md, "Layer 3"),
//! within each cluster's rendered output:
//! - IST0101: a VirtualService destination's `subset` must exist in a DestinationRule for the
//!   same host (`istio-missing-subset`);
//! - IST0109: at most one mesh-bound VirtualService per host within an export scope
//!   (`istio-conflicting-mesh-host`).

use super::{is_checked, Loc, Path, Problem};
use crate::diag::codes::Istio;
use crate::istio::object::Rendered;
use crate::json::Field;
use crate::manifest::ObjectId;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What the cross-object checks need of one rendered object, taken from its value so that the
/// value itself can be written out and dropped before every object is rendered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// A DestinationRule: the (namespace, name) of its host and its subset names.
    subsets: Option<((String, String), Vec<String>)>,
    /// A VirtualService: each destination with a subset.
    subset_refs: Vec<SubsetRef>,
    /// A mesh-bound VirtualService: its export scope and hosts.
    mesh_hosts: Option<MeshHosts>,
}

/// A VirtualService destination that names a subset.
#[derive(Debug, Clone, PartialEq)]
struct SubsetRef {
    /// Where the subset is written.
    path: Path,
    /// The host as written.
    host: String,
    /// The host's (namespace, name).
    resource: (String, String),
    subset: String,
}

/// The export scope and hosts of a mesh-bound VirtualService.
#[derive(Debug, Clone, PartialEq)]
struct MeshHosts {
    /// Namespaces, or `*`.
    scope: BTreeSet<String>,
    /// Each host, expanded to its FQDN, with its index in `spec.hosts`.
    hosts: Vec<(usize, String)>,
}

/// One object as the checks see it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The cluster it is written to.
    pub cluster: &'a str,
    /// Its identity (named in messages).
    pub id: &'a ObjectId,
    /// What `facts` took from it.
    pub facts: &'a Facts,
}

/// Takes what the checks need from a rendered object's value.
pub fn facts(value: &Value) -> Facts {
    let mut f = Facts::default();
    if !is_checked(value) {
        return f;
    }
    let namespace = value.at("metadata").at("namespace").as_str().unwrap_or("");
    let spec = value.at("spec");
    match value.at("kind").as_str().unwrap_or("") {
        "DestinationRule" => {
            let host = spec.at("host").as_str().unwrap_or("");
            let names = spec
                .at("subsets")
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.at("name").as_str().map(str::to_string))
                .collect();
            f.subsets = Some((resource_of(host, namespace), names));
        }
        "VirtualService" => {
            f.subset_refs = subset_refs(spec, namespace);
            f.mesh_hosts = mesh_hosts(spec, namespace);
        }
        _ => {}
    }
    f
}

/// Problems found, each with the index of the object it concerns.
pub fn check(objects: &[Subject]) -> Vec<(usize, Problem)> {
    let mut out = Vec::new();
    missing_subsets(objects, &mut out);
    mesh_host_conflicts(objects, &mut out);
    out
}

/// [`check`] over rendered objects kept as values.
pub fn check_rendered(objects: &[Rendered]) -> Vec<(usize, Problem)> {
    let ids: Vec<(ObjectId, Facts)> = objects.iter().map(|o| (o.id(), facts(&o.value))).collect();
    let subjects: Vec<Subject> = objects
        .iter()
        .zip(&ids)
        .map(|(o, (id, facts))| Subject {
            cluster: &o.cluster,
            id,
            facts,
        })
        .collect();
    check(&subjects)
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

/// The destinations of a VirtualService spec that name a subset.
fn subset_refs(spec: &Value, namespace: &str) -> Vec<SubsetRef> {
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
    dests
        .into_iter()
        .filter_map(|(path, d)| {
            let subset = d.at("subset").as_str().filter(|s| !s.is_empty())?;
            let host = d.at("host").as_str().unwrap_or("");
            Some(SubsetRef {
                path: path.key("subset").path(),
                host: host.to_string(),
                resource: resource_of(host, namespace),
                subset: subset.to_string(),
            })
        })
        .collect()
}

/// The strings of a list of strings (nothing for anything else).
fn strings(list: &Value) -> impl Iterator<Item = &str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The export scope and expanded hosts of a mesh-bound VirtualService spec.
fn mesh_hosts(spec: &Value, namespace: &str) -> Option<MeshHosts> {
    let gateways: Vec<&str> = strings(spec.at("gateways")).collect();
    if !(gateways.is_empty() || gateways.contains(&"mesh")) {
        return None;
    }
    let export: Vec<&str> = strings(spec.at("exportTo")).collect();
    let scope: BTreeSet<String> = if export.is_empty() || export.contains(&"*") {
        ["*".to_string()].into()
    } else {
        export
            .iter()
            .map(|e| if *e == "." { namespace } else { e }.to_string())
            .collect()
    };
    let hosts = strings(spec.at("hosts"))
        .enumerate()
        .map(|(h, host)| {
            let expanded = if host.contains('.') || host.contains('*') {
                host.to_string()
            } else {
                format!("{host}.{namespace}.svc.cluster.local")
            };
            (h, expanded)
        })
        .collect();
    Some(MeshHosts { scope, hosts })
}

fn missing_subsets(objects: &[Subject], out: &mut Vec<(usize, Problem)>) {
    // (cluster, namespace, name) -> subset names
    let mut subsets: BTreeMap<(&str, &str, &str), BTreeSet<&str>> = BTreeMap::new();
    for o in objects {
        if let Some(((n, h), names)) = &o.facts.subsets {
            subsets
                .entry((o.cluster, n, h))
                .or_default()
                .extend(names.iter().map(String::as_str));
        }
    }
    for (i, o) in objects.iter().enumerate() {
        for SubsetRef {
            path,
            host,
            resource: (n, h),
            subset,
        } in &o.facts.subset_refs
        {
            let found = subsets
                .get(&(o.cluster, n.as_str(), h.as_str()))
                .is_some_and(|s| s.contains(subset.as_str()));
            if !found {
                out.push((
                    i,
                    Problem::error(
                        Istio::MissingSubset,
                        path.clone(),
                        format!(
                            "subset {subset:?} of host {host} is not defined by any DestinationRule for {h} in namespace {n} (istioctl analyze IST0101)"
                        ),
                    ),
                ));
            }
        }
    }
}

fn mesh_host_conflicts(objects: &[Subject], out: &mut Vec<(usize, Problem)>) {
    // (cluster, expanded host) -> [(index, host index, scope)]
    type Entry<'a> = (usize, usize, &'a BTreeSet<String>);
    let mut by_host: BTreeMap<(&str, &str), Vec<Entry>> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        let Some(MeshHosts { scope, hosts }) = &o.facts.mesh_hosts else {
            continue;
        };
        for (h, expanded) in hosts {
            by_host
                .entry((o.cluster, expanded))
                .or_default()
                .push((i, *h, scope));
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
                    let id = objects[*j].id;
                    format!("{}/{}", id.namespace, id.name)
                })
                .collect();
            if !others.is_empty() {
                out.push((
                    *i,
                    Problem::error(
                        Istio::ConflictingMeshHost,
                        Path::root().key("spec").key("hosts").index(*h),
                        format!(
                            "host {host} is also routed by the mesh-bound {} {} in the same export scope; the behaviour is undefined (istioctl analyze IST0109): merge them",
                            if others.len() == 1 { "VirtualService" } else { "VirtualServices" },
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
            origins: Default::default(),
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
        assert!(check_rendered(&ok).is_empty(), "{:?}", check_rendered(&ok));
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
        let p = check_rendered(&bad);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            p[0].1.path.to_string(),
            "spec.http[0].route[0].destination.subset"
        );
        assert_eq!(p[1].1.code, Istio::MissingSubset);
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
        assert!(check_rendered(&[a.clone(), other_ns.clone(), gw]).is_empty());
        let p = check_rendered(&[a.clone(), b.clone(), other_ns]);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p.iter().all(|(_, x)| x.code == Istio::ConflictingMeshHost));
        assert!(
            p[0].1
                .message
                .contains("also routed by the mesh-bound VirtualService ns/"),
            "{p:?}"
        );
        let third = vs(
            "e",
            "ns",
            json!({"hosts": ["ratings"], "exportTo": ["."], "http": []}),
        );
        let p = check_rendered(&[a, b, third]);
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].1
                .message
                .contains("also routed by the mesh-bound VirtualServices ns/"),
            "{p:?}"
        );
    }
}
