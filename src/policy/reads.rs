//! What of `object` a policy can read, found from its expressions before any object is
//! converted, so that each object is converted to CEL only as far as the policies that match it
//! look. Converting whole RouteTables (matchers, rewrites, headers) for rules that read a few
//! fields was about a fifth of the policy stage (docs/performance.md).
//!
//! The analysis is conservative: anything it does not recognise as a field path of `object`
//! (a bare `object`, an index with a computed key, a comprehension that rebinds `object`) makes
//! the whole subtree needed. A pruned object keeps every map and list it keeps in the same kind,
//! so a field a policy does read gives the same value, and a missing one the same error.

use super::engine::{children, select_chain, Step, VAR_PREFIX};
use crate::node::Node;
use cel::common::ast::Expr;
use cel::common::types::{CelList, CelMap, CelMapKey, CelNull};
use cel::common::value::Val;
use cel::IdedExpr;
use std::collections::{BTreeMap, HashMap};

/// The part of a value that is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Only that it is there (`has()`): a placeholder stands in for the value.
    Present,
    /// All of it.
    All,
    /// Of a map, these keys (a key missing from the map stays missing).
    Fields(BTreeMap<String, Need>),
    /// Of a list, this of each element.
    Each(Box<Need>),
}

impl Need {
    /// Nothing below this node, but the node itself, in its kind.
    pub fn node() -> Need {
        Need::Fields(BTreeMap::new())
    }

    /// Both needs.
    pub fn merge(&mut self, other: Need) {
        match (&mut *self, other) {
            (_, Need::Present) => {}
            (Need::Present, b) => *self = b,
            (Need::All, _) => {}
            (_, Need::All) => *self = Need::All,
            (Need::Fields(a), Need::Fields(b)) => {
                for (k, n) in b {
                    match a.get_mut(&k) {
                        Some(m) => m.merge(n),
                        None => {
                            a.insert(k, n);
                        }
                    }
                }
            }
            (Need::Each(a), Need::Each(b)) => a.merge(*b),
            // A map read as a list or the other way round: keep all of it.
            _ => *self = Need::All,
        }
    }

    /// Adds `need` at `path` below this node.
    fn add(&mut self, path: &[String], need: Need) {
        let mut n = need;
        for k in path.iter().rev() {
            n = Need::Fields(BTreeMap::from([(k.clone(), n)]));
        }
        self.merge(n);
    }

    /// What `routes(spec)` reads of a RouteTable spec (functions::route_infos): each route's
    /// `forwardTo.destinations[].weight` in `http`, `tcp` and `tls`.
    fn routes() -> Need {
        let weight = Need::Fields(BTreeMap::from([("weight".to_string(), Need::All)]));
        let forward = Need::Fields(BTreeMap::from([(
            "destinations".to_string(),
            Need::Each(Box::new(weight)),
        )]));
        let route = Need::Fields(BTreeMap::from([("forwardTo".to_string(), forward)]));
        Need::Fields(
            super::functions::ROUTE_SECTIONS
                .iter()
                .map(|s| (s.to_string(), Need::Each(Box::new(route.clone()))))
                .collect(),
        )
    }
}

/// What the per-object expressions of a policy read of `object`: its matchConditions, its
/// per-object variables (in order: a variable that is a field path of `object` passes on the
/// reads of its uses), its validations and their messageExpressions.
pub fn policy_needs<'a>(
    locals: impl IntoIterator<Item = (&'a str, &'a IdedExpr)>,
    others: impl IntoIterator<Item = &'a IdedExpr>,
) -> Need {
    let mut need = Need::node();
    let mut paths: HashMap<String, Vec<String>> = HashMap::new();
    for (name, e) in locals {
        match object_path(e, &paths) {
            Some(p) => {
                // The variable's node itself must exist as it does in the object.
                need.add(&p, Need::node());
                paths.insert(format!("{VAR_PREFIX}{name}"), p);
            }
            None => reads(e, &paths, &mut need),
        }
    }
    for e in others {
        reads(e, &paths, &mut need);
    }
    need
}

/// The field path of `object` that `e` is, through `paths` (variables that are paths):
/// `object.a.b`, `object.?a.?b`, `object.?a.orValue(<literal>)`, `variables.v.c`.
fn object_path(e: &IdedExpr, paths: &HashMap<String, Vec<String>>) -> Option<Vec<String>> {
    let (root, steps) = select_chain(e)?;
    let mut p = match root {
        "object" => Vec::new(),
        var => paths.get(var)?.clone(),
    };
    p.extend(steps.iter().filter_map(|s| match *s {
        Step::Field(f) | Step::Optional(f) => Some(f.to_string()),
        Step::Or(_) => None,
    }));
    Some(p)
}

/// Adds what `e` reads of `object` to `need`.
fn reads(e: &IdedExpr, paths: &HashMap<String, Vec<String>>, need: &mut Need) {
    if let Some(p) = object_path(e, paths) {
        need.add(&p, Need::All);
        return;
    }
    match &e.expr {
        // `has(x.f)` on a map asks only whether key f is there (the CEL language definition,
        // "Macros": has() tests field presence).
        Expr::Select(s) if s.test => match object_path(&s.operand, paths) {
            Some(mut p) => {
                p.push(s.field.clone());
                need.add(&p, Need::Present);
            }
            None => reads(&s.operand, paths, need),
        },
        Expr::Call(c) => {
            // `routes(spec[, where])` and `spec.routes([where])` read only what route_infos reads.
            let (spec, rest): (Option<&IdedExpr>, &[IdedExpr]) = match c.target.as_deref() {
                Some(t) if c.func_name == "routes" => (Some(t), &c.args[..]),
                None if c.func_name == "routes" && !c.args.is_empty() => {
                    (Some(&c.args[0]), &c.args[1..])
                }
                _ => (None, &[]),
            };
            if let Some(p) = spec.and_then(|s| object_path(s, paths)) {
                need.add(&p, Need::routes());
                rest.iter().for_each(|a| reads(a, paths, need));
                return;
            }
            children(e, &mut |x| reads(x, paths, need));
        }
        Expr::Comprehension(c) => {
            let rebinds = |v: &str| v == "object" || paths.contains_key(v);
            if rebinds(&c.iter_var)
                || rebinds(&c.accu_var)
                || c.iter_var2.as_deref().is_some_and(rebinds)
            {
                // A loop variable hides `object` or a path variable: read everything.
                need.merge(Need::All);
                return;
            }
            children(e, &mut |x| reads(x, paths, need));
        }
        _ => children(e, &mut |x| reads(x, paths, need)),
    }
}

/// Converts `v` to CEL as [`super::convert::to_val`] does, keeping only what `need` reads. A
/// node whose kind does not match its need (a list where a map is read) is converted whole.
pub fn to_val_pruned<'v>(v: &'v Node, need: &Need) -> Box<dyn Val + 'v> {
    match (need, v) {
        (Need::Present, _) => Box::new(CelNull),
        (Need::Fields(keys), Node::Object(m)) => Box::new(CelMap::from(
            keys.iter()
                .filter_map(|(k, n)| {
                    m.get_key_value(k)
                        .map(|(k, x)| (CelMapKey::from(k), to_val_pruned(x, n)))
                })
                .collect::<HashMap<_, _>>(),
        )),
        (Need::Each(n), Node::Array(a)) => Box::new(CelList::from(
            a.iter().map(|x| to_val_pruned(x, n)).collect::<Vec<_>>(),
        )),
        _ => super::convert::to_val(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(locals: &[(&str, &str)], exprs: &[&str]) -> Need {
        let env = super::super::engine::env();
        let mut known = std::collections::BTreeSet::new();
        let mut compiled_locals = Vec::new();
        for (n, src) in locals {
            let mut e = env.compile(src).unwrap().expression().clone();
            super::super::engine::rewrite(&mut e, &known, &mut Vec::new());
            compiled_locals.push((n.to_string(), e));
            known.insert(n.to_string());
        }
        let others: Vec<IdedExpr> = exprs
            .iter()
            .map(|src| {
                let mut e = env.compile(src).unwrap().expression().clone();
                super::super::engine::rewrite(&mut e, &known, &mut Vec::new());
                e
            })
            .collect();
        policy_needs(
            compiled_locals.iter().map(|(n, e)| (n.as_str(), e)),
            others.iter(),
        )
    }

    fn fields(entries: Vec<(&str, Need)>) -> Need {
        Need::Fields(
            entries
                .into_iter()
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
        )
    }

    #[test]
    fn field_paths_variables_and_presence_tests_are_read_as_far_as_they_go() {
        let n = needs(
            &[("spec", "object.?spec.orValue({})")],
            &["has(variables.spec.hosts) || object.metadata.name == 'x'"],
        );
        assert_eq!(
            n,
            fields(vec![
                ("metadata", fields(vec![("name", Need::All)])),
                ("spec", fields(vec![("hosts", Need::Present)])),
            ])
        );
        // Presence gives way to any other read of the same field.
        let n = needs(
            &[],
            &["has(object.spec.hosts) && size(object.spec.hosts) > 0"],
        );
        assert_eq!(
            n,
            fields(vec![("spec", fields(vec![("hosts", Need::All)]))])
        );
    }

    #[test]
    fn routes_reads_only_the_weights() {
        let n = needs(&[], &["size(routes(object.spec, {'section': 'http'})) > 0"]);
        let Need::Fields(top) = &n else {
            panic!("{n:?}")
        };
        let Need::Fields(spec) = &top["spec"] else {
            panic!("{n:?}")
        };
        assert_eq!(spec.len(), 3);
        assert_eq!(
            spec["http"],
            Need::Each(Box::new(fields(vec![(
                "forwardTo",
                fields(vec![(
                    "destinations",
                    Need::Each(Box::new(fields(vec![("weight", Need::All)])))
                )])
            )])))
        );
    }

    #[test]
    fn anything_else_reads_the_whole_value() {
        for src in [
            "size(object) > 0",
            "object.spec.hosts.all(object, object != '')",
            "object.spec['hosts'] == []",
        ] {
            let n = needs(&[], &[src]);
            let whole = match &n {
                Need::All => true,
                Need::Fields(f) => f.get("spec") == Some(&Need::All),
                _ => false,
            };
            assert!(whole, "{src}: {n:?}");
        }
        // A variable that is not a path is read through its own expression.
        let n = needs(
            &[("h", "object.spec.hosts.map(x, x + '.')")],
            &["size(variables.h) > 0"],
        );
        assert_eq!(
            n,
            fields(vec![("spec", fields(vec![("hosts", Need::All)]))])
        );
    }

    #[test]
    fn pruned_objects_keep_what_is_read_and_the_kind_of_every_node() {
        let j = serde_json::json!({"metadata": {"name": "a", "labels": {"x": "y"}},
            "spec": {"http": [{"forwardTo": {"destinations": [{"weight": 5, "ref": {}}]},
                               "matchers": [{"uri": {"prefix": "/"}}]}, {"name": "r"}],
                     "hosts": "not-a-list"}});
        let j = Node::from(&j);
        let need = fields(vec![
            (
                "metadata",
                fields(vec![("name", Need::All), ("labels", Need::Present)]),
            ),
            ("spec", {
                let mut s = Need::routes();
                s.merge(fields(vec![("hosts", Need::Each(Box::new(Need::All)))]));
                s
            }),
        ]);
        let got = cel::Value::try_from(to_val_pruned(&j, &need).as_ref()).unwrap();
        let want = super::super::convert::to_cel(&Node::from(
            &serde_json::json!({"metadata": {"name": "a", "labels": null},
            "spec": {"http": [{"forwardTo": {"destinations": [{"weight": 5}]}}, {}],
                     "hosts": "not-a-list"}}),
        ));
        assert_eq!(got, want);
    }
}

#[cfg(test)]
mod presence {
    /// The placeholder of a `Present` field answers `has()` as the value it stands for does.
    #[test]
    fn has_is_true_for_a_placeholder() {
        let env = super::super::engine::env();
        let j = serde_json::json!({"spec": {"hosts": ["a"], "http": [{"x": 1}]}});
        let need = super::Need::Fields(
            [(
                "spec".to_string(),
                super::Need::Fields(
                    [("hosts".to_string(), super::Need::Present)]
                        .into_iter()
                        .collect(),
                ),
            )]
            .into_iter()
            .collect(),
        );
        let j = crate::node::Node::from(&j);
        let pruned = cel::Value::try_from(super::to_val_pruned(&j, &need).as_ref()).unwrap();
        let mut ctx = cel::Context::with_env(env.clone());
        ctx.add_variable_from_value("object", pruned);
        let eval = |src: &str| ctx.resolve(env.compile(src).unwrap().expression()).unwrap();
        assert_eq!(eval("has(object.spec.hosts)"), cel::Value::Bool(true));
        assert_eq!(eval("has(object.spec.http)"), cel::Value::Bool(false));
    }
}
