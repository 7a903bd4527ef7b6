//! A table's HTTP routes with delegation flattened (docs/translation.md#delegation): each route is
//! named and classified by its action; a delegating route is replaced by the routes of the child
//! tables (tables without hosts) its selectors pick, their matchers merged with the parent's.

use super::super::{Ctx, Part};
use super::Rt;
use crate::diag::codes::Translate;
use crate::gloo::refs;
use crate::gloo::types::*;
use std::collections::BTreeMap;

/// Delegation deeper than this is an error (a cycle guard as much as a limit).
const MAX_DELEGATION_DEPTH: usize = 8;

/// What a flattened route does.
pub(super) enum Action<'a> {
    Forward(&'a ForwardToAction),
    Redirect(&'a RedirectAction),
    Direct(&'a DirectResponseAction),
    /// Replaced by a 500 direct response (ROUTE_REPLACEMENT, docs/translation.md#routetable-rules);
    /// the diagnostic is issued.
    Fail,
}

/// One HTTP route of a table's VirtualService, from the table or one of its children.
pub(super) struct FlatRoute<'a> {
    pub name: String,
    pub matchers: Vec<HttpRequestMatcher>,
    /// `matchers` are the route's own, as written in its table (not merged with a delegating
    /// parent's), so the k-th is `matchers[k]` of the route.
    pub own_matchers: bool,
    pub action: Action<'a>,
    /// The table the route is written in.
    pub table: &'a Rt,
    /// Path of the route inside its table, e.g. `spec.http[2]`.
    pub field: String,
    /// Its index in its table's `spec.http` (2 for `spec.http[2]`).
    pub index: usize,
    /// Workspace of the table (empty when in none).
    pub ws: &'a str,
    /// The route's own labels.
    pub labels: &'a Labels,
    /// The delegating routes and their tables, nearest first (empty for a table's own route):
    /// where the route inherits labels and policies from (docs/translation.md#policies).
    pub ancestors: Vec<(&'a HttpRoute, &'a Rt)>,
}

/// The walk down from a table with hosts: the workspace its children must be visible in, and
/// the tables being flattened (the cycle guard).
pub(super) struct Walk<'w> {
    ws: &'w str,
    chain: Vec<usize>,
    /// The table with hosts keeps its last accepted config on an error (`FREEZE_CONFIG`).
    freeze: bool,
}

impl<'w> Walk<'w> {
    /// The walk from `rt`, whose workspace is `ws`.
    pub fn new(ws: &'w str, rt: &Rt) -> Walk<'w> {
        Walk {
            ws,
            chain: vec![rt.meta.index],
            freeze: rt.spec.failure_mode == Some(FailureMode::FreezeConfig),
        }
    }
}

/// What a route does, before delegation is followed.
enum Step<'a> {
    Do(Action<'a>),
    Delegate(&'a DelegateAction),
}

/// The delegate action of a route, if it has one.
fn delegate_of(r: &HttpRoute) -> Option<&DelegateAction> {
    r.delegate.as_deref()
}

/// Every child-table selector of a table's delegating routes: the tables without hosts the
/// translator may read, as [`refs::selects`] matches them.
pub(crate) fn delegation_selectors(table: &Rt) -> impl Iterator<Item = &ObjectSelector> {
    table
        .spec
        .http
        .iter()
        .flatten()
        .filter_map(delegate_of)
        .flat_map(|d| d.route_tables.iter())
}

/// The table's HTTP routes, named, with delegating routes replaced by their children's.
/// `child` is true for a table reached by delegation.
pub(super) fn flatten<'a>(
    ctx: &Ctx<'a>,
    table: &'a Rt,
    walk: &mut Walk<'_>,
    child: bool,
    part: &mut Part,
) -> Vec<FlatRoute<'a>> {
    let mut out = Vec::new();
    let routes = table.spec.http.as_deref().unwrap_or(&[]);
    let names = unique_names(routes);
    let table_ws = ctx.ws_of(&table.meta).unwrap_or_default();
    for (i, r) in routes.iter().enumerate() {
        let field = format!("spec.http[{i}]");
        let route_name = if names[i].is_empty() {
            format!("route-{i}")
        } else {
            names[i].clone()
        };
        let mk = |action| FlatRoute {
            name: flat_name(table, &route_name, child),
            matchers: r.matchers.clone(),
            own_matchers: true,
            action,
            table,
            field: field.clone(),
            index: i,
            ws: table_ws,
            labels: &r.labels,
            ancestors: Vec::new(),
        };
        match classify(ctx, table, r, &route_name, &field, part) {
            Step::Do(action) => out.push(mk(action)),
            Step::Delegate(d) => match delegate(ctx, table, r, d, &field, walk, part) {
                Ok(children) => out.extend(children.into_iter().map(|mut c| {
                    c.name = format!(
                        "{}--{}.{}.{}",
                        c.name, table.meta.name, table.meta.namespace, table.meta.cluster
                    );
                    c.ancestors.push((r, table));
                    c
                })),
                Err(()) => out.push(mk(Action::Fail)),
            },
        }
    }
    out
}

/// 2.0 names routes `<route>-<table>` [O S7]; delegated routes carry the tables
/// `<route>-<child>.<ns>.<cluster>--<parent>.<ns>.<cluster>` (docs/translation.md#generated-names).
fn flat_name(table: &Rt, route_name: &str, child: bool) -> String {
    if child {
        format!(
            "{route_name}-{}.{}.{}",
            table.meta.name, table.meta.namespace, table.meta.cluster
        )
    } else {
        format!("{route_name}-{}", table.meta.name)
    }
}

/// The route's one action; a route with none, several or an untranslated one fails (reported).
fn classify<'a>(
    ctx: &Ctx<'_>,
    table: &Rt,
    r: &'a HttpRoute,
    route_name: &str,
    field: &str,
    part: &mut Part,
) -> Step<'a> {
    let actions = [
        r.forward_to.is_some(),
        r.delegate.is_some(),
        r.redirect.is_some(),
        r.direct_response.is_some(),
        r.graphql.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if actions != 1 {
        part.diagnostics.push(ctx.error(&table.meta, Translate::RouteAction, field,
            format!("route `{route_name}` must have exactly one of forwardTo, delegate, redirect, directResponse, graphql; it has {actions}")));
        return Step::Do(Action::Fail);
    }
    if r.graphql.is_some() {
        part.diagnostics.push(ctx.error(
            &table.meta,
            Translate::Unsupported,
            &format!("{field}.graphql"),
            "graphql actions are not translated by meshform",
        ));
        return Step::Do(Action::Fail);
    }
    if let Some(f) = &r.forward_to {
        Step::Do(Action::Forward(f))
    } else if let Some(rd) = &r.redirect {
        Step::Do(Action::Redirect(rd))
    } else if let Some(d) = &r.direct_response {
        Step::Do(Action::Direct(d))
    } else {
        match delegate_of(r) {
            Some(d) => Step::Delegate(d),
            None => Step::Do(Action::Fail),
        }
    }
}

/// Route names are unique per table; duplicates are renamed `duplicate-<name>-<n>` and a leading
/// `insecure-` is trimmed (docs/translation.md#generated-names, [C]).
fn unique_names(routes: &[HttpRoute]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    routes
        .iter()
        .map(|r| {
            let base = r
                .name
                .strip_prefix("insecure-")
                .unwrap_or(&r.name)
                .to_string();
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                format!("duplicate-{base}-{}", *n - 1)
            } else {
                base
            }
        })
        .collect()
}

/// The routes of the children a delegating route selects, in delegation order; `Err` has
/// been reported (the route fails).
fn delegate<'a>(
    ctx: &Ctx<'a>,
    parent: &'a Rt,
    route: &'a HttpRoute,
    d: &'a DelegateAction,
    field: &str,
    walk: &mut Walk<'_>,
    part: &mut Part,
) -> Result<Vec<FlatRoute<'a>>, ()> {
    if walk.chain.len() > MAX_DELEGATION_DEPTH {
        part.diagnostics.push(ctx.error(
            &parent.meta,
            Translate::DelegationDepth,
            field,
            format!("delegation deeper than {MAX_DELEGATION_DEPTH} tables"),
        ));
        return Err(());
    }
    let children = children(ctx, d, walk.ws);
    if children.is_empty() {
        no_children(ctx, parent, d, field, walk.ws, part);
        return Err(());
    }
    let mut out = Vec::new();
    for (weight, _, c) in &children {
        for r in child_routes(ctx, parent, route, c, field, walk, part)? {
            out.push((*weight, r));
        }
    }
    if d.sort_method == Some(SortMethod::RouteSpecificity) {
        return Ok(by_specificity(out));
    }
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

/// The children of a delegate action: tables without hosts matching a selector and visible in
/// the parent's workspace ([`refs::ChildTables`]), each with its weight and the index of the
/// first selector matching it, in TABLE_WEIGHT order (weight descending, then selector order,
/// then namespace/name, as git has no creation time [I]).
fn children<'a>(ctx: &Ctx<'a>, d: &DelegateAction, ws: &str) -> Vec<(i32, usize, &'a Rt)> {
    let mut children: Vec<(i32, usize, &'a Rt)> = Vec::new();
    for (si, s) in d.route_tables.iter().enumerate() {
        for ci in ctx.children.selected(ctx.model, s, ws) {
            let c = &ctx.model.route_tables[ci];
            if children
                .iter()
                .any(|(_, _, x)| x.meta.index == c.meta.index)
            {
                continue;
            }
            children.push((c.spec.weight, si, c));
        }
    }
    children.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then((&a.2.meta.namespace, &a.2.meta.name).cmp(&(&b.2.meta.namespace, &b.2.meta.name)))
    });
    children
}

/// Reports a delegate action that selects no child. Each of its selectors then selects
/// nothing, which routetable-references-visible reports from the parent's own workspace: from
/// there, the translator gives the policy's finding for each; from a table higher up the
/// delegation chain, or without selectors, its own.
fn no_children(
    ctx: &Ctx<'_>,
    parent: &Rt,
    d: &DelegateAction,
    field: &str,
    ws: &str,
    part: &mut Part,
) {
    if !d.route_tables.is_empty() && ctx.ws_of(&parent.meta) == Some(ws) {
        for (k, s) in d.route_tables.iter().enumerate() {
            let at = format!("{field}.delegate.routeTables[{k}]");
            let problem = refs::empty_selector(s, &at, ws);
            part.diagnostics
                .push(problem.diagnostic(ctx.repo, parent.meta.index));
        }
        return;
    }
    part.diagnostics.push(ctx.error(&parent.meta, Translate::UnresolvedDelegate, &format!("{field}.delegate"),
        format!("delegate selects no child RouteTable visible in workspace `{ws}` (a child has no hosts and is in this workspace or imported into it)")));
}

/// The routes of one child, their matchers merged with the delegating route's; `Err` (a
/// cycle or a conflict) has been reported.
fn child_routes<'a>(
    ctx: &Ctx<'a>,
    parent: &'a Rt,
    route: &'a HttpRoute,
    c: &'a Rt,
    field: &str,
    walk: &mut Walk<'_>,
    part: &mut Part,
) -> Result<Vec<FlatRoute<'a>>, ()> {
    if walk.chain.contains(&c.meta.index) {
        part.diagnostics.push(ctx.error(
            &parent.meta,
            Translate::DelegationCycle,
            &format!("{field}.delegate"),
            format!(
                "delegation cycle through RouteTable {}/{}",
                c.meta.namespace, c.meta.name
            ),
        ));
        return Err(());
    }
    walk.chain.push(c.meta.index);
    let mut routes = flatten(ctx, c, walk, true, part);
    walk.chain.pop();
    for r in &mut routes {
        // Traffic must match both the parent and the child matchers
        // (docs/translation.md#delegation, [C]).
        match merge_matchers(&route.matchers, &r.matchers) {
            Ok(m) => {
                r.own_matchers &= route.matchers.is_empty();
                r.matchers = m;
            }
            Err(why) => {
                // "the delegating route on the parent table is replaced with a directResponse"
                // docs/translation.md#delegation: a warning, as Gloo serves the table's other
                // routes; under FREEZE_CONFIG an error, which keeps what is deployed
                // (docs/translation.md#routetable--virtualservice).
                let message = format!(
                    "child route matchers conflict with the parent route {}/{} {field}: {why}; Gloo replaces the delegating route with a 500 direct response",
                    parent.meta.namespace, parent.meta.name
                );
                let at = format!("{}.matchers", r.field);
                let at = if r.own_matchers && !r.matchers.is_empty() {
                    at.as_str()
                } else {
                    r.field.as_str()
                };
                part.diagnostics.push(if walk.freeze {
                    ctx.error(
                        &r.table.meta,
                        Translate::DelegateMatcherConflict,
                        at,
                        message,
                    )
                } else {
                    ctx.warning(
                        &r.table.meta,
                        Translate::DelegateMatcherConflict,
                        at,
                        message,
                    )
                });
                return Err(());
            }
        }
    }
    Ok(routes)
}

/// ROUTE_SPECIFICITY order: exact > regex > prefix; exact and prefix by path length descending;
/// ties by table weight, then user order (docs/translation.md#delegation, [C]). Only the most
/// specific matcher of a route counts.
fn by_specificity(routes: Vec<(i32, FlatRoute<'_>)>) -> Vec<FlatRoute<'_>> {
    let keyed: Vec<((u8, std::cmp::Reverse<usize>), i32, usize)> = routes
        .iter()
        .enumerate()
        .map(|(i, (w, r))| (specificity(&r.matchers), *w, i))
        .collect();
    let mut order: Vec<usize> = (0..routes.len()).collect();
    order.sort_by(|a, b| {
        let (ka, wa, ia) = &keyed[*a];
        let (kb, wb, ib) = &keyed[*b];
        ka.cmp(kb).then(wb.cmp(wa)).then(ia.cmp(ib))
    });
    let mut slots: Vec<Option<(i32, FlatRoute<'_>)>> = routes.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| slots[i].take())
        .map(|(_, r)| r)
        .collect()
}

/// The most specific matcher of a route: (rank, path length descending).
fn specificity(matchers: &[HttpRequestMatcher]) -> (u8, std::cmp::Reverse<usize>) {
    matchers
        .iter()
        .map(|m| match &m.uri {
            Some(StringMatch { exact: Some(p), .. }) => (0, std::cmp::Reverse(p.len())),
            Some(StringMatch { regex: Some(_), .. }) => (1, std::cmp::Reverse(0)),
            Some(StringMatch {
                prefix: Some(p), ..
            }) => (2, std::cmp::Reverse(p.len())),
            _ => (3, std::cmp::Reverse(0)),
        })
        .min()
        .unwrap_or((3, std::cmp::Reverse(0)))
}

/// Combines parent and child matchers: every child matcher must narrow a parent matcher.
fn merge_matchers(
    parent: &[HttpRequestMatcher],
    child: &[HttpRequestMatcher],
) -> Result<Vec<HttpRequestMatcher>, MatcherConflict> {
    if parent.is_empty() {
        return Ok(child.to_vec());
    }
    if child.is_empty() {
        return Ok(parent.to_vec());
    }
    let mut out = Vec::new();
    for c in child {
        let mut any = false;
        let mut last_err = None;
        for p in parent {
            match merge_one(p, c) {
                Ok(m) => {
                    out.push(m);
                    any = true;
                }
                Err(e) => last_err = Some(e),
            }
        }
        // The child narrows no parent matcher: the last parent's conflict says why.
        if let (false, Some(e)) = (any, last_err) {
            return Err(e);
        }
    }
    Ok(out)
}

/// Why a child matcher does not narrow a parent matcher.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum MatcherConflict {
    #[error("child uri {child} is not within parent uri {parent}")]
    Uri { child: String, parent: String },
    #[error("header `{0}` is matched differently by parent and child")]
    Header(String),
    #[error("query parameter `{0}` is matched differently by parent and child")]
    QueryParameter(String),
    #[error("method {0} vs {1}")]
    Method(String, String),
    #[error("port {0} vs {1}")]
    Port(u32, u32),
}

/// The child matcher narrowed by one parent matcher: the child's uri within the parent's,
/// the parent's headers, query parameters, method and port added where the child has none.
fn merge_one(
    p: &HttpRequestMatcher,
    c: &HttpRequestMatcher,
) -> Result<HttpRequestMatcher, MatcherConflict> {
    let mut m = c.clone();
    m.uri = merge_uri(p.uri.as_ref(), c.uri.as_ref())?;
    for h in &p.headers {
        if let Some(ch) = m
            .headers
            .iter()
            .find(|x| x.name.eq_ignore_ascii_case(&h.name))
        {
            if ch != h {
                return Err(MatcherConflict::Header(h.name.clone()));
            }
        } else {
            m.headers.push(h.clone());
        }
    }
    for q in &p.query_parameters {
        if let Some(cq) = m.query_parameters.iter().find(|x| x.name == q.name) {
            if cq != q {
                return Err(MatcherConflict::QueryParameter(q.name.clone()));
            }
        } else {
            m.query_parameters.push(q.clone());
        }
    }
    match (&p.method, &c.method) {
        (Some(a), Some(b)) if !a.eq_ignore_ascii_case(b) => {
            return Err(MatcherConflict::Method(a.clone(), b.clone()))
        }
        (Some(a), None) => m.method = Some(a.clone()),
        _ => {}
    }
    match (p.port, c.port) {
        (Some(a), Some(b)) if a != b => return Err(MatcherConflict::Port(a, b)),
        (Some(a), None) => m.port = Some(a),
        _ => {}
    }
    Ok(m)
}

/// The child's uri when it is within the parent's (or either is unset: the other).
fn merge_uri(
    pu: Option<&StringMatch>,
    cu: Option<&StringMatch>,
) -> Result<Option<StringMatch>, MatcherConflict> {
    let (pu, cu) = match (pu, cu) {
        (None, u) | (u, None) => return Ok(u.cloned()),
        (Some(pu), Some(cu)) => (pu, cu),
    };
    let ok = match (&pu.prefix, &pu.exact, &cu.prefix, &cu.exact, &cu.regex) {
        (Some(pp), _, Some(cp), _, _) => cp.starts_with(pp.as_str()),
        (Some(pp), _, _, Some(ce), _) => ce.starts_with(pp.as_str()),
        (Some(pp), _, _, _, Some(cr)) => regex_within_prefix(cr, pp, pu.ignore_case),
        (_, Some(pe), _, Some(ce), _) => pe == ce,
        _ => pu == cu,
    };
    if !ok {
        return Err(MatcherConflict::Uri {
            child: describe_uri(cu),
            parent: describe_uri(pu),
        });
    }
    Ok(Some(cu.clone()))
}

/// Whether every path the regex matches starts with `prefix` [I,
/// docs/translation.md#routetable--virtualservice]. Envoy matches a route regex against the whole
/// path, so a path the regex matches begins with one of the regex's literal prefixes; the regex
/// lies within `prefix` when each of them does (`/api/users/[0-9]+` within `/api`). A regex that
/// cannot be parsed, or whose prefixes are not all known (`.*`, `(?i)`, an alternation leaving the
/// prefix), is not within it.
fn regex_within_prefix(regex: &str, prefix: &str, ignore_case: bool) -> bool {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    if prefix == "/" {
        return true;
    }
    let Ok(hir) = regex_syntax::Parser::new().parse(regex) else {
        return false;
    };
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let Some(literals) = seq.literals() else {
        return false;
    };
    let prefix = prefix.as_bytes();
    !literals.is_empty()
        && literals.iter().all(|l| {
            let l = l.as_bytes();
            l.len() >= prefix.len()
                && if ignore_case {
                    l[..prefix.len()].eq_ignore_ascii_case(prefix)
                } else {
                    l.starts_with(prefix)
                }
        })
}

fn describe_uri(u: &StringMatch) -> String {
    if let Some(p) = &u.prefix {
        format!("prefix `{p}`")
    } else if let Some(e) = &u.exact {
        format!("exact `{e}`")
    } else if let Some(r) = &u.regex {
        format!("regex `{r}`")
    } else {
        "(any)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{selector, table};
    use super::*;

    #[test]
    fn duplicate_route_names_are_renamed() {
        let r = |n: &str| HttpRoute {
            name: n.into(),
            ..Default::default()
        };
        assert_eq!(
            unique_names(&[r("a"), r("a"), r("insecure-b"), r("a")]),
            vec!["a", "duplicate-a-1", "b", "duplicate-a-2"]
        );
    }

    #[test]
    fn delegated_matchers_must_narrow_the_parent() {
        let prefix = |p: &str| HttpRequestMatcher {
            uri: Some(StringMatch {
                prefix: Some(p.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            merge_matchers(&[prefix("/api")], &[prefix("/api/v1")]).unwrap(),
            vec![prefix("/api/v1")]
        );
        assert!(merge_matchers(&[prefix("/api")], &[prefix("/web")]).is_err());
        assert_eq!(
            merge_matchers(&[prefix("/api")], &[]).unwrap(),
            vec![prefix("/api")]
        );
    }

    #[test]
    fn a_regex_is_within_a_prefix_when_all_its_literal_prefixes_are() {
        for (regex, prefix) in [
            ("/api/users/[0-9]+", "/api"),
            ("/api/users/[0-9]+", "/api/"),
            ("/api/(users|orders)/.*", "/api/"),
            ("/api", "/api"),
            (r"/v1\.0/.*", "/v1.0/"),
            (".*", "/"),
        ] {
            assert!(
                regex_within_prefix(regex, prefix, false),
                "{regex} within {prefix}"
            );
        }
        for (regex, prefix) in [
            // may match `/ap`, `/web/x`, `/API/x`, anything, `/apix` before `/api/`
            ("/api?/x", "/api"),
            ("/api/x|/web/x", "/api"),
            ("(?i)/api/x", "/api"),
            (".*/api/x", "/api"),
            ("/apix", "/api/"),
            ("/api/[", "/api"),
            ("", "/api"),
        ] {
            assert!(
                !regex_within_prefix(regex, prefix, false),
                "{regex} not within {prefix}"
            );
        }
        assert!(regex_within_prefix("/API/[0-9]+", "/api", true));
        assert!(!regex_within_prefix("/API/[0-9]+", "/api", false));
    }

    #[test]
    fn a_child_regex_under_a_parent_prefix_keeps_the_regex() {
        let uri = |u: StringMatch| HttpRequestMatcher {
            uri: Some(u),
            ..Default::default()
        };
        let prefix = uri(StringMatch {
            prefix: Some("/api".into()),
            ..Default::default()
        });
        let regex = |r: &str| {
            uri(StringMatch {
                regex: Some(r.into()),
                ..Default::default()
            })
        };
        assert_eq!(
            merge_matchers(std::slice::from_ref(&prefix), &[regex("/api/users/[0-9]+")]).unwrap(),
            vec![regex("/api/users/[0-9]+")]
        );
        assert!(matches!(
            merge_matchers(&[prefix], &[regex("/web/[0-9]+")]),
            Err(MatcherConflict::Uri { .. })
        ));
    }

    #[test]
    fn specificity_orders_exact_regex_prefix() {
        let m = |u: StringMatch| {
            vec![HttpRequestMatcher {
                uri: Some(u),
                ..Default::default()
            }]
        };
        let exact = specificity(&m(StringMatch {
            exact: Some("/a".into()),
            ..Default::default()
        }));
        let regex = specificity(&m(StringMatch {
            regex: Some("/a.*".into()),
            ..Default::default()
        }));
        let long = specificity(&m(StringMatch {
            prefix: Some("/abc".into()),
            ..Default::default()
        }));
        let short = specificity(&m(StringMatch {
            prefix: Some("/".into()),
            ..Default::default()
        }));
        assert!(exact < regex && regex < long && long < short);
    }

    #[test]
    fn delegation_selectors_lists_every_delegating_routes_selectors() {
        let delegating = |names: &[&str]| HttpRoute {
            delegate: Some(Box::new(DelegateAction {
                route_tables: names.iter().map(|n| selector(&[], n, "", "")).collect(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let rt = table(RouteTableSpec {
            http: Some(vec![
                delegating(&["a", "b"]),
                HttpRoute::default(),
                delegating(&["c"]),
            ]),
            ..Default::default()
        });
        let names: Vec<&str> = delegation_selectors(&rt).map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }
}
