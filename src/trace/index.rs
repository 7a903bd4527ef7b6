//! One cluster's rendered objects by kind, and by host for the kinds a request's host
//! selects, built once per [`super::Tracer`] so that each trace reads only the objects of its
//! host.

use super::matching::host_matches;
use crate::istio::object::{Rendered, SourceRef};
use crate::manifest::Object;
use crate::repo::Repo;
use serde_json::Value;
use std::collections::HashMap;

/// Objects of one kind, indexed by the hosts they name.
#[derive(Default)]
pub(super) struct ByHost<'a> {
    /// The objects, in render order.
    all: Vec<&'a Rendered>,
    /// Exact host (lower case) → positions in `all`.
    exact: HashMap<String, Vec<usize>>,
    /// Wildcard hosts (`*.example.com`, `*`) and their object's position.
    wild: Vec<(String, usize)>,
}

impl<'a> ByHost<'a> {
    /// Adds `o`, named by `hosts`.
    fn add<'h>(&mut self, o: &'a Rendered, hosts: impl Iterator<Item = &'h str>) {
        let at = self.all.len();
        self.all.push(o);
        for h in hosts {
            if h.starts_with('*') {
                self.wild.push((h.to_ascii_lowercase(), at));
            } else {
                let list = self.exact.entry(h.to_ascii_lowercase()).or_default();
                if list.last() != Some(&at) {
                    list.push(at);
                }
            }
        }
    }

    /// Every object.
    pub(super) fn all(&self) -> &[&'a Rendered] {
        &self.all
    }

    /// The objects with a host that takes `host` (lower case), in render order.
    pub(super) fn taking(&self, host: &str) -> Vec<&'a Rendered> {
        let mut at: Vec<usize> = self.exact.get(host).cloned().unwrap_or_default();
        at.extend(
            self.wild
                .iter()
                .filter(|(w, _)| host_matches(w, host))
                .map(|(_, i)| *i),
        );
        at.sort_unstable();
        at.dedup();
        at.into_iter()
            .filter_map(|i| self.all.get(i).copied())
            .collect()
    }
}

/// The objects a trace reads.
#[derive(Default)]
pub(super) struct Index<'a> {
    /// Gateways.
    pub gateways: Vec<&'a Rendered>,
    /// VirtualServices by `spec.hosts`.
    pub virtual_services: ByHost<'a>,
    /// ServiceEntries by `spec.hosts`.
    pub service_entries: ByHost<'a>,
    /// DestinationRules by `spec.host`.
    pub destination_rules: ByHost<'a>,
    /// VirtualServices by namespace and name.
    pub vs_by_name: HashMap<(&'a str, &'a str), &'a Rendered>,
    /// The repo's objects by kind, namespace and name (of every cluster).
    pub repo_objects: HashMap<(&'a str, &'a str, &'a str), Vec<&'a Object>>,
}

/// The strings of `spec.<key>`: a list, or one string.
fn spec_hosts<'v>(o: &'v Rendered, key: &str) -> impl Iterator<Item = &'v str> {
    let v = o.value.get("spec").and_then(|s| s.get(key));
    let list = v
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    list.iter()
        .filter_map(Value::as_str)
        .chain(v.and_then(Value::as_str))
}

impl<'a> Index<'a> {
    /// The objects of `cluster` among `objects`, and the repo's.
    pub(super) fn new(objects: &'a [Rendered], repo: &'a Repo, cluster: &str) -> Index<'a> {
        let mut ix = Index::default();
        for o in &repo.objects {
            let key = (
                o.id.kind.as_str(),
                o.id.namespace.as_str(),
                o.id.name.as_str(),
            );
            ix.repo_objects.entry(key).or_default().push(o);
        }
        for o in objects.iter().filter(|o| o.cluster == cluster) {
            match o.value.get("kind").and_then(Value::as_str) {
                Some("Gateway") => ix.gateways.push(o),
                Some("VirtualService") => {
                    ix.virtual_services.add(o, spec_hosts(o, "hosts"));
                    let meta = |k: &str| {
                        o.value
                            .get("metadata")
                            .and_then(|m| m.get(k))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                    };
                    ix.vs_by_name.insert((meta("namespace"), meta("name")), o);
                }
                Some("ServiceEntry") => ix.service_entries.add(o, spec_hosts(o, "hosts")),
                Some("DestinationRule") => ix.destination_rules.add(o, spec_hosts(o, "host")),
                _ => {}
            }
        }
        ix
    }
}

impl<'a> Index<'a> {
    /// The repo's objects of this kind, namespace and name.
    pub(super) fn repo_objects<'s>(
        &'s self,
        kind: &'s str,
        namespace: &'s str,
        name: &'s str,
    ) -> &'s [&'a Object] {
        // The keys borrow the repo; a lookup by shorter-lived strings sees them as such.
        let map: &HashMap<(&str, &str, &str), Vec<&'a Object>> = &self.repo_objects;
        map.get(&(kind, namespace, name))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The VirtualService `vs`.
    pub(super) fn virtual_service(&self, vs: &super::NsName) -> Option<&'a Rendered> {
        let map: &HashMap<(&str, &str), &'a Rendered> = &self.vs_by_name;
        map.get(&(vs.namespace.as_str(), vs.name.as_str())).copied()
    }

    /// The Gloo object a rendered object's source `s` names.
    pub(super) fn source_object(&self, s: &SourceRef) -> Option<&'a Object> {
        self.repo_objects(&s.id.kind, &s.id.namespace, &s.id.name)
            .iter()
            .copied()
            .find(|o| o.id == s.id && o.location == s.location)
    }
}
