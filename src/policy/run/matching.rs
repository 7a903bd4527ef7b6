//! Which objects each policy applies to: its `matchConstraints` (resource rules, exclusions,
//! object and namespace selectors), with each object's Namespace looked up in the repo.

use crate::manifest::Object;
use crate::policy::engine::Compiled;
use crate::policy::format::{MatchConstraints, ResourceRule};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// An object's index by (cluster, apiVersion, kind, namespace, name); the first object of
/// each identity.
pub(super) type ById<'a> = HashMap<(&'a str, &'a str, &'a str, &'a str, &'a str), usize>;

/// Lookups over the repo's objects, built in one pass.
pub(super) struct Index<'a> {
    /// Per object: the index of its Namespace object (same cluster), if the repo has one.
    pub ns_of: Vec<Option<usize>>,
    /// Every object by identity.
    pub by_id: ById<'a>,
}

impl<'a> Index<'a> {
    pub fn build(objs: &'a [Object]) -> Index<'a> {
        let mut ns_index: HashMap<(&str, &str), usize> = HashMap::new();
        let mut by_id = HashMap::new();
        for (i, o) in objs.iter().enumerate() {
            if o.id.api_version == "v1" && o.id.kind == "Namespace" {
                ns_index
                    .entry((o.cluster.as_str(), o.id.name.as_str()))
                    .or_insert(i);
            }
            by_id
                .entry((
                    o.cluster.as_str(),
                    o.id.api_version.as_str(),
                    o.id.kind.as_str(),
                    o.id.namespace.as_str(),
                    o.id.name.as_str(),
                ))
                .or_insert(i);
        }
        let ns_of = objs
            .iter()
            .map(|o| {
                ns_index
                    .get(&(o.cluster.as_str(), o.id.namespace.as_str()))
                    .copied()
            })
            .collect();
        Index { ns_of, by_id }
    }
}

/// Per policy, the indices of the objects it applies to, in object order.
pub(super) fn matched(
    policies: &[Compiled],
    objs: &[Object],
    ns_of: &[Option<usize>],
) -> Vec<Vec<usize>> {
    // Plurals once per kind, not per object and rule.
    let plurals: HashMap<&str, String> = objs
        .iter()
        .map(|o| o.id.kind.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|k| (k, plural(k)))
        .collect();
    policies
        .par_iter()
        .map(|p| {
            let mc = &p.src.doc.spec.match_constraints;
            (0..objs.len())
                .filter(|&i| {
                    let res = plurals[objs[i].id.kind.as_str()].as_str();
                    constraints_match(mc, objs, ns_of, i, res)
                })
                .collect()
        })
        .collect()
}

/// Whether object `i` passes `mc`; `res` is the plural of its kind.
fn constraints_match(
    mc: &MatchConstraints,
    objs: &[Object],
    ns_of: &[Option<usize>],
    i: usize,
    res: &str,
) -> bool {
    let o = &objs[i];
    mc.resource_rules.iter().any(|r| rule_matches(r, o, res))
        && !mc
            .exclude_resource_rules
            .iter()
            .any(|r| rule_matches(r, o, res))
        && mc
            .object_selector
            .as_ref()
            .is_none_or(|s| s.matches(|k| o.label(k)))
        && mc
            .namespace_selector
            .as_ref()
            .is_none_or(|s| match ns_of[i] {
                Some(n) => s.matches(|k| objs[n].label(k)),
                None => s.matches(|k| {
                    (k == "kubernetes.io/metadata.name").then_some(o.id.namespace.as_str())
                }),
            })
}

/// Plural resource name of a kind, Kubernetes style (`RouteTable` → `routetables`).
pub fn plural(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k.ends_with('s') || k.ends_with("ch") || k.ends_with('x') {
        format!("{k}es")
    } else if let Some(stem) = k
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{k}s")
    }
}

/// `res` is the plural of the object's kind ([`plural`]).
fn rule_matches(r: &ResourceRule, o: &Object, res: &str) -> bool {
    let group = o.id.group();
    let version = o.id.api_version.rsplit('/').next().unwrap_or_default();
    let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
    any(&r.api_groups, group)
        && any(&r.api_versions, version)
        && r.resources
            .iter()
            .any(|x| x == "*" || x == res || x.eq_ignore_ascii_case(&o.id.kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural("RouteTable"), "routetables");
        assert_eq!(plural("Gateway"), "gateways");
        assert_eq!(plural("Policy"), "policies");
        assert_eq!(plural("Ingress"), "ingresses");
    }
}
