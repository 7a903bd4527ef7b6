//! Destinations (docs/translation.md#references-and-selectors,
//! docs/translation.md#routetable-rules): what a destination `ref` resolves to (a Kubernetes
//! Service, a VirtualDestination or an ExternalService), its port, the weights of a route's
//! destinations, and the DestinationRules holding the subsets routes use.

use super::super::destination_policies;
use super::super::external_service::{port_name, primary_host};
use super::super::names::{metadata, sanitize_name_v2, Parent, Place};
use super::super::{Ctx, Part, SourceRef};
use super::Rt;
use crate::diag::codes::Translate;
use crate::gloo::refs::{self, Target};
use crate::gloo::shared;
use crate::gloo::types::*;
use crate::gloo::Meta;
use crate::istio::object::{FieldAt, Origins, Template};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Where an HTTP forwardTo's destinations are written.
#[derive(Clone, Copy)]
pub(super) enum Written<'a> {
    /// In the route: `forwardTo.destinations`.
    Route(&'a [DestinationReference]),
    /// The table's `spec.defaultDestination`, for a forwardTo that lists none.
    Default(&'a DestinationReference),
}

/// The destinations an HTTP forwardTo sends to (`None`: it lists none and the table has no
/// default).
pub(super) fn http_destinations<'a>(table: &'a Rt, f: &'a ForwardToAction) -> Option<Written<'a>> {
    match &f.destinations {
        Some(d) if !d.is_empty() => Some(Written::Route(d)),
        _ => table
            .spec
            .default_destination
            .as_ref()
            .map(Written::Default),
    }
}

/// The destinations a TCP or TLS route sends to (`None`: it lists none).
pub(super) fn l4_destinations(f: &Option<ForwardToAction>) -> Option<&[DestinationReference]> {
    f.as_ref()
        .and_then(|f| f.destinations.as_deref())
        .filter(|d| !d.is_empty())
}

/// Every destination `ref` the table's own routes resolve: its HTTP forwardTo destinations
/// (or its default), and those of its TCP and TLS routes. Tables it delegates to resolve
/// their own.
pub(crate) fn destination_refs(table: &Rt) -> impl Iterator<Item = Target<'_>> {
    let tcp = table.spec.tcp.iter().flatten().map(|r| &r.forward_to);
    let tls = table.spec.tls.iter().flatten().map(|r| &r.forward_to);
    let l4 = tcp
        .chain(tls)
        .filter_map(l4_destinations)
        .flatten()
        .filter_map(|d| Some(Target::of(&table.meta, d.kind, d.r#ref.as_ref()?)));
    http_destination_refs(table).chain(l4)
}

/// The destination `ref`s of the table's own HTTP routes (forwardTo, or its default): the
/// destinations whose DestinationRules carry subsets and destination policies.
pub(crate) fn http_destination_refs(table: &Rt) -> impl Iterator<Item = Target<'_>> {
    table
        .spec
        .http
        .iter()
        .flatten()
        .filter_map(|r| r.forward_to.as_ref())
        .filter_map(|f| match http_destinations(table, f)? {
            Written::Route(d) => Some(d),
            Written::Default(d) => Some(std::slice::from_ref(d)),
        })
        .flatten()
        .filter_map(|d| Some(Target::of(&table.meta, d.kind, d.r#ref.as_ref()?)))
}

/// A resolved destination.
struct Dest {
    host: String,
    port: Option<u32>,
    subset: Option<(String, Labels)>,
    /// For subset DestinationRules: the destination as parent (group, version, kind, name, ns, cluster).
    parent: (String, String, String, String, String, String),
}

/// Why a destination does not resolve: the code, the field under the destination's and the
/// message of the error.
struct Miss {
    code: Translate,
    at: &'static str,
    message: String,
}

fn miss(code: Translate, at: &'static str, message: String) -> Miss {
    Miss { code, at, message }
}

/// A destination found and visible, before its port is chosen.
struct Found {
    host: String,
    /// (number, name) of its ports; `None` for a Service outside the repo.
    ports: Option<Vec<(u32, Option<String>)>>,
    /// API group and version, as the parent of subset DestinationRules.
    group: &'static str,
    version: &'static str,
}

/// Resolves a destination for output cluster `cluster`; `Err` has already been reported.
/// `owner` is the object that writes it (a RouteTable, a policy); `field` is where the
/// destination is written for the translator's own findings, `at` for
/// the findings it shares with the policies (`spec.defaultDestination` for the default).
#[allow(clippy::too_many_arguments)]
fn resolve(
    ctx: &Ctx<'_>,
    owner: &Meta,
    d: &DestinationReference,
    field: &str,
    at: &str,
    cluster: &str,
    ws: &str,
    part: &mut Part,
) -> Result<Dest, ()> {
    let fail = |part: &mut Part, m: Miss| {
        part.diagnostics
            .push(ctx.error(owner, m.code, &format!("{field}{}", m.at), m.message));
        Err(())
    };
    let Some(r) = &d.r#ref else {
        if d.aws_lambda.is_some() {
            let why = "AWS Lambda destinations are not translated by meshform".into();
            return fail(part, miss(Translate::Unsupported, ".awsLambda", why));
        }
        let why = "destination has no ref".into();
        return fail(part, miss(Translate::UnresolvedDestination, "", why));
    };
    let t = Target::of(owner, d.kind, r);
    let found = match refs::resolve(ctx.model, &t, ws) {
        Ok(f) => f,
        Err(b) => {
            let problem = refs::broken(&t, &b, at, ws);
            part.diagnostics
                .push(problem.diagnostic(ctx.repo, owner.index));
            return Err(());
        }
    };
    let found = match found_at(found, &t, cluster) {
        Ok(f) => f,
        Err(m) => return fail(part, m),
    };
    let what = format!("{} {}/{}", t.kind_name(), t.namespace, t.name);
    let port = match select_port(d.port.as_ref(), d.kind, &what, found.ports.as_deref()) {
        Ok(p) => p,
        Err(m) => return fail(part, m),
    };
    let subset = if d.kind == DestinationKind::Service {
        subset_of(&d.subset)
    } else {
        if !d.subset.is_empty() {
            part.diagnostics.push(ctx.warning(
                owner,
                Translate::SubsetIgnored,
                &format!("{field}.subset"),
                "subsets apply to Kubernetes Service destinations only; ignored",
            ));
        }
        None
    };
    Ok(Dest {
        host: found.host,
        port,
        subset,
        parent: (
            found.group.into(),
            found.version.into(),
            t.kind_name().into(),
            t.name.to_string(),
            t.namespace.to_string(),
            t.cluster.to_string(),
        ),
    })
}

/// The subset a Service destination selects, named `<key>-<value>` [O S7, S8]; several labels
/// are joined in key order [I].
fn subset_of(labels: &Labels) -> Option<(String, Labels)> {
    if labels.is_empty() {
        return None;
    }
    let mut keys: Vec<(&String, &String)> = labels.iter().collect();
    keys.sort();
    let name = keys
        .iter()
        .map(|(k, v)| format!("{k}-{v}"))
        .collect::<Vec<_>>()
        .join("-");
    Some((sanitize_name_v2(&name), labels.clone()))
}

/// The host and ports of a resolved destination, for output cluster `cluster`.
///
/// A Kubernetes Service: `<name>.<ns>.svc.cluster.local` in its own cluster,
/// `<name>.<ns>.svc.<cluster>.global` in another (docs/translation.md#routetable-rules, [O]); one
/// outside the repo has no known ports. A VirtualDestination: its first host (`Err` without one);
/// its ports have no names. An ExternalService: its primary host; its ports by number or Istio port
/// name.
fn found_at(found: refs::Found<'_>, t: &Target<'_>, cluster: &str) -> Result<Found, Miss> {
    let (cl, ns, name) = (t.cluster, t.namespace, t.name);
    Ok(match found {
        refs::Found::Service(svc) => Found {
            host: if cl == cluster {
                format!("{name}.{ns}.svc.cluster.local")
            } else {
                format!("{name}.{ns}.svc.{cl}.global")
            },
            ports: svc.map(|s| s.ports.iter().map(|p| (p.1, Some(p.0.clone()))).collect()),
            group: "",
            version: "v1",
        },
        refs::Found::VirtualDestination(vd) => {
            let Some(host) = vd.spec.hosts.first().cloned() else {
                let why = format!("VirtualDestination {ns}/{name} has no hosts");
                return Err(miss(Translate::UnresolvedDestination, ".ref", why));
            };
            Found {
                host,
                ports: Some(vd.spec.ports.iter().map(|p| (p.number, None)).collect()),
                group: "networking.gloo.solo.io",
                version: "v2",
            }
        }
        refs::Found::ExternalService(es) => Found {
            host: primary_host(es),
            ports: Some(
                es.spec
                    .ports
                    .iter()
                    .map(|p| (p.number, Some(port_name(p))))
                    .collect(),
            ),
            group: "networking.gloo.solo.io",
            version: "v2",
        },
    })
}

/// The port a destination is sent to (docs/translation.md#references-and-selectors, [C]): the one
/// its selector names by number or name, else its only port. `ports` are (number, name) pairs;
/// `what` names the destination in messages. A Service's ports are taken on trust (a number is not
/// checked, and a Service without ports, or outside the repo, has none); VirtualDestination ports
/// have no names.
fn select_port(
    selector: Option<&PortSelector>,
    kind: DestinationKind,
    what: &str,
    ports: Option<&[(u32, Option<String>)]>,
) -> Result<Option<u32>, Miss> {
    let trusted = kind == DestinationKind::Service;
    let list = ports.unwrap_or(&[]);
    match selector {
        Some(PortSelector {
            number: Some(n), ..
        }) => {
            if trusted || list.iter().any(|p| p.0 == *n) {
                Ok(Some(*n))
            } else {
                let why = format!("{what} has no port {n}");
                Err(miss(Translate::UnresolvedPort, ".port", why))
            }
        }
        Some(PortSelector { name: Some(pn), .. }) => {
            match list.iter().find(|p| p.1.as_deref() == Some(pn.as_str())) {
                Some(p) => Ok(Some(p.0)),
                None => {
                    let why = match kind {
                        DestinationKind::Service => format!("port name `{pn}` cannot be resolved: {what} with that port is not in the repo; use a port number"),
                        DestinationKind::VirtualDestination => format!("VirtualDestination ports have no names; use a number instead of `{pn}`"),
                        DestinationKind::ExternalService => format!("{what} has no port named `{pn}`"),
                    };
                    Err(miss(Translate::UnresolvedPort, ".port", why))
                }
            }
        }
        _ => match list {
            [only] => Ok(Some(only.0)),
            [] if trusted => Ok(None),
            _ => {
                let why = format!("{what} has several ports; name one");
                Err(miss(Translate::PortRequired, ".port", why))
            }
        },
    }
}

/// Why a route's destination weights are invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WeightError {
    #[error("destination weights add up to {0}, more than 100")]
    Over(u32),
    #[error("destination weights are all 0")]
    AllZero,
    #[error("destination weights add up to {0}, not 100")]
    Under(u32),
    #[error("weights already add up to 100, leaving nothing for destinations without a weight")]
    NothingLeft,
}

/// Weights as docs/translation.md#routetable-rules states them: they sum to 100; below 100 the
/// remainder is spread over destinations without a weight (at least 1 each); above 100, or exactly
/// 100 with unweighted destinations left, is invalid. All unweighted: an even split, the first ones
/// taking the remainder [I].
pub(crate) fn weights(ws: &[Option<u32>]) -> Result<Vec<u32>, WeightError> {
    let sum: u32 = ws.iter().map(|w| w.unwrap_or(0)).sum();
    let unweighted = ws.iter().filter(|w| w.is_none()).count() as u32;
    if sum > 100 {
        return Err(WeightError::Over(sum));
    }
    if unweighted == 0 {
        if sum != 100 && ws.len() > 1 {
            if sum == 0 {
                return Err(WeightError::AllZero);
            }
            return Err(WeightError::Under(sum));
        }
        return Ok(ws.iter().map(|w| w.unwrap_or(0)).collect());
    }
    if sum == 100 {
        return Err(WeightError::NothingLeft);
    }
    let rem = 100 - sum;
    let share = rem / unweighted;
    let mut extra = rem % unweighted;
    Ok(ws
        .iter()
        .map(|w| match w {
            Some(w) => *w,
            None => {
                let mut v = share.max(1);
                if extra > 0 && share >= 1 {
                    v += 1;
                    extra -= 1;
                }
                v
            }
        })
        .collect())
}

/// The subsets a VirtualService's routes use, by host: the destination as parent, the
/// subsets by name, and the tables that use them.
pub(super) type Subsets = BTreeMap<String, Rule>;

/// One destination's DestinationRule record: the destination as parent, the subsets by name,
/// and the tables that use them.
pub(super) type Rule = (Value, BTreeMap<String, Subset>, Vec<SourceRef>);

/// A subset a route uses: its Istio value, and the destination field that first asks for it
/// in the order [`subset_rank`] gives (the table, as an index into the host's tables, and its
/// `subset` field).
#[derive(Clone)]
pub(super) struct Subset {
    value: Value,
    table: usize,
    field: Option<FieldAt>,
}

/// Where in its table a destination `subset` is written, as the part of a DestinationRule's
/// subset order that follows the table: route, then destination index; the table's
/// `defaultDestination` after its routes; unknown last. Subsets are ordered by the table
/// (apiVersion, kind, namespace, name, file) first asking for them, then by this
/// (docs/translation.md).
pub(crate) fn subset_rank(field: Option<&FieldAt>) -> (usize, usize) {
    match field {
        Some(f) if f.kind() == Template::DestinationSubset => (f.index(), f.inner()),
        Some(f) if f.kind() == Template::DefaultDestinationSubset => (usize::MAX - 1, 0),
        _ => (usize::MAX, 0),
    }
}

/// A route's destinations for output cluster `cluster`: the Istio route destinations, and
/// their hosts; the subsets they use are added to `subsets`. `Err` has been reported. `field`
/// is where they are written (`spec.defaultDestination` for the default); `route`, the index
/// of the HTTP route in its table whose destinations these are (`None` for TCP and TLS
/// routes, whose subsets are not kept).
#[allow(clippy::too_many_arguments)]
pub(super) fn route_destinations(
    ctx: &Ctx<'_>,
    table: &Rt,
    written: Written<'_>,
    field: &str,
    route: Option<usize>,
    cluster: &str,
    ws: &str,
    subsets: &mut Subsets,
    part: &mut Part,
) -> Result<(Vec<Value>, Vec<String>), ()> {
    let dests = match written {
        Written::Route(d) => d,
        Written::Default(d) => std::slice::from_ref(d),
    };
    if dests.len() > 100 {
        part.diagnostics.push(ctx.error(
            &table.meta,
            Translate::TooManyDestinations,
            field,
            "at most 100 destinations",
        ));
        return Err(());
    }
    let mut resolved = Vec::new();
    for (i, d) in dests.iter().enumerate() {
        let own = format!("{field}[{i}]");
        let at = match written {
            Written::Route(_) => &own,
            Written::Default(_) => field,
        };
        resolved.push(resolve(ctx, &table.meta, d, &own, at, cluster, ws, part)?);
    }
    let w = if dests.len() > 1 {
        let given: Vec<Option<u32>> = dests.iter().map(|d| d.weight).collect();
        match weights(&given) {
            Ok(w) => Some(w),
            Err(e) => {
                // Where routetable-weights fails the route too, its finding; else this rule's.
                let d = match shared::weights(&given, field) {
                    Some(p) => p.diagnostic(ctx.repo, table.meta.index),
                    None => ctx.error(&table.meta, Translate::Weights, field, e.to_string()),
                };
                part.diagnostics.push(d);
                return Err(());
            }
        }
    } else {
        None
    };
    let mut out = Vec::new();
    let mut hosts = Vec::new();
    for (i, d) in resolved.into_iter().enumerate() {
        let mut dest = Map::new();
        dest.insert("host".into(), json!(d.host));
        if let Some(p) = d.port {
            dest.insert("port".into(), json!({"number": p}));
        }
        if let Some((name, labels)) = &d.subset {
            dest.insert("subset".into(), json!(name));
            let at = match written {
                Written::Route(_) => route.map(|k| FieldAt::at2(Template::DestinationSubset, k, i)),
                Written::Default(_) => Some(FieldAt::key(Template::DefaultDestinationSubset)),
            };
            add_subset(ctx, &table.meta, &d, (name, labels, at), subsets);
        } else if d.parent.2 == "Service" {
            add_policy_target(ctx, table, &d, subsets);
        }
        hosts.push(d.host);
        let mut r = Map::new();
        r.insert("destination".into(), Value::Object(dest));
        if let Some(w) = &w {
            r.insert("weight".into(), json!(w[i]));
        }
        out.push(Value::Object(r));
    }
    Ok((out, hosts))
}

/// The Istio `mirror` of a MirrorPolicy's destination (`field`, in the policy `owner`) for a
/// route of workspace `ws` in output cluster `cluster`: resolved as a forwardTo destination
/// is, its subset added to `subsets`. `Err` has been reported.
#[allow(clippy::too_many_arguments)]
pub(super) fn mirror_destination(
    ctx: &Ctx<'_>,
    owner: &Meta,
    d: &DestinationReference,
    field: &str,
    cluster: &str,
    ws: &str,
    subsets: &mut Subsets,
    part: &mut Part,
) -> Result<Value, ()> {
    let r = resolve(ctx, owner, d, field, field, cluster, ws, part)?;
    let mut m = Map::new();
    m.insert("host".into(), json!(r.host));
    if let Some(p) = r.port {
        m.insert("port".into(), json!({"number": p}));
    }
    if let Some((name, labels)) = &r.subset {
        m.insert("subset".into(), json!(name));
        add_subset(ctx, owner, &r, (name, labels, None), subsets);
    }
    Ok(Value::Object(m))
}

/// Records that the table routes to subset `name` (with `labels`, asked for at `at`) of the
/// destination; of several tables or routes asking for one subset, the first in subset order
/// ([`subset_rank`]) is kept.
fn add_subset(
    ctx: &Ctx<'_>,
    owner: &Meta,
    d: &Dest,
    (name, labels, at): (&str, &Labels, Option<FieldAt>),
    subsets: &mut Subsets,
) {
    let (entry, pos) = rule_entry(ctx, owner, d, subsets);
    let new = Subset {
        value: json!({"name": name, "labels": labels}),
        table: pos,
        field: at,
    };
    let sources = &entry.2;
    let key = |s: &Subset| (&sources[s.table], subset_rank(s.field.as_ref()));
    match entry.1.get(name) {
        Some(s) if key(s) <= key(&new) => {}
        _ => {
            entry.1.insert(name.to_string(), new);
        }
    }
}

/// Records that the table routes to a Service of the repo while destination policies exist:
/// [`subset_rule`] writes its DestinationRule where a policy selects it, even without subsets
/// (docs/translation.md#destination-policies).
fn add_policy_target(ctx: &Ctx<'_>, table: &Rt, d: &Dest, subsets: &mut Subsets) {
    if !destination_policies::any(ctx) || subsets.contains_key(&d.host) {
        return;
    }
    let (_, _, _, name, ns, cluster) = &d.parent;
    if ctx.model.service(cluster, ns, name).is_some() {
        rule_entry(ctx, &table.meta, d, subsets);
    }
}

/// The destination's DestinationRule record, created when new, and the table's index among
/// its sources.
fn rule_entry<'s>(
    ctx: &Ctx<'_>,
    owner: &Meta,
    d: &Dest,
    subsets: &'s mut Subsets,
) -> (&'s mut Rule, usize) {
    let entry = subsets.entry(d.host.clone()).or_insert_with(|| {
        let (g, v, k, n, ns, c) = &d.parent;
        (
            json!({"group": g, "version": v, "kind": k, "name": n, "namespace": ns, "cluster": c}),
            BTreeMap::new(),
            Vec::new(),
        )
    });
    let src = ctx.source(owner);
    let pos = match entry.2.iter().position(|s| *s == src) {
        Some(p) => p,
        None => {
            entry.2.push(src);
            entry.2.len() - 1
        }
    };
    (entry, pos)
}

/// A DestinationRule holding the subsets routes use and the port-level settings of the
/// destination policies selecting a Service (`None` when it would hold neither), at `place`: the VirtualService's
/// namespace, or the destination's [O E5, E5b]. The name starts with the sanitized host;
/// Gloo's hashed suffix is not reproducible, so ours hashes
/// `<host>-<namespace>-<cluster>-<workspace>` (docs/translation.md). The subsets are in the
/// order of the tables first asking for them, then of [`subset_rank`]; each, and its labels,
/// come from the destination `subset` that asks for it first in that order.
pub(super) fn subset_rule(
    ctx: &Ctx<'_>,
    host: &str,
    dparent: &Value,
    subsets: &BTreeMap<String, Subset>,
    sources: &[SourceRef],
    place: &Place<'_>,
    part: &mut Part,
) -> Option<super::super::Rendered> {
    let s = |k: &str| dparent[k].as_str().unwrap_or("").to_string();
    let (g, v, k, n, ns, c) = (
        s("group"),
        s("version"),
        s("kind"),
        s("name"),
        s("namespace"),
        s("cluster"),
    );
    let parent = Parent {
        group: &g,
        version: &v,
        kind: &k,
        name: &n,
        namespace: &ns,
        cluster: &c,
    };
    let name = sanitize_name_v2(&format!(
        "{host}-{}-{}-{}",
        place.namespace, place.cluster, place.workspace
    ));
    let md = metadata(&name, place, &parent, &[]);
    let mut sorted: Vec<(&SourceRef, usize)> = sources.iter().zip(0..).collect();
    sorted.sort();
    let mut moved = vec![0; sorted.len()];
    for (to, (_, from)) in sorted.iter().enumerate() {
        moved[*from] = to;
    }
    let mut order: Vec<&Subset> = subsets.values().collect();
    order.sort_by_key(|s| {
        let table = moved.get(s.table).copied().unwrap_or(usize::MAX);
        (table, subset_rank(s.field.as_ref()))
    });
    let mut origins = Origins::with_capacity(2 * order.len());
    let mut values = Vec::with_capacity(order.len());
    for (i, s) in order.into_iter().enumerate() {
        if let (Some(field), Some(&table)) = (s.field, moved.get(s.table)) {
            origins.add(FieldAt::at(Template::Subset, i), table, field, false);
            origins.add(FieldAt::at(Template::SubsetLabels, i), table, field, true);
        }
        values.push(s.value.clone());
    }
    let mut spec = Map::new();
    spec.insert("exportTo".into(), json!(["."]));
    spec.insert("host".into(), json!(host));
    if !values.is_empty() {
        spec.insert("subsets".into(), Value::Array(values));
    }
    let mut sources: Vec<SourceRef> = sorted.into_iter().map(|(s, _)| s.clone()).collect();
    // A Service's port-level settings from the destination policies selecting it, after the
    // tables' sources so that the subsets' origins keep their indices.
    let svc = (k == "Service")
        .then(|| ctx.model.service(&c, &ns, &n))
        .flatten();
    if let Some(svc) = svc {
        let at = place.workspace;
        if let Some((policy, from)) =
            destination_policies::service_traffic_policy(ctx, svc, host, at, part)
        {
            spec.insert("trafficPolicy".into(), policy);
            for f in from {
                if !sources.contains(&f) {
                    sources.push(f);
                }
            }
        }
    }
    if !spec.contains_key("subsets") && !spec.contains_key("trafficPolicy") {
        return None;
    }
    let spec = Value::Object(spec);
    Some(
        ctx.object("DestinationRule", md, spec, place.cluster, sources)
            .with_origins(origins),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_follow_the_remainder_rule() {
        assert_eq!(weights(&[Some(70), Some(30)]).unwrap(), vec![70, 30]);
        assert_eq!(weights(&[Some(50), None, None]).unwrap(), vec![50, 25, 25]);
        assert_eq!(weights(&[None, None, None]).unwrap(), vec![34, 33, 33]);
        assert_eq!(weights(&[Some(99), None, None]).unwrap(), vec![99, 1, 1]);
        assert!(weights(&[Some(70), Some(40)]).is_err());
        assert!(weights(&[Some(100), None]).is_err());
        assert!(weights(&[Some(0), Some(0)]).is_err());
        assert!(weights(&[Some(20), Some(30)]).is_err());
    }

    fn by_number(n: u32) -> PortSelector {
        PortSelector {
            number: Some(n),
            name: None,
        }
    }

    fn by_name(n: &str) -> PortSelector {
        PortSelector {
            number: None,
            name: Some(n.into()),
        }
    }

    /// The port, or the code and message of the error.
    fn port(
        selector: Option<PortSelector>,
        kind: DestinationKind,
        ports: Option<&[(u32, Option<String>)]>,
    ) -> Result<Option<u32>, (Translate, String)> {
        select_port(selector.as_ref(), kind, "K ns/d", ports).map_err(|m| (m.code, m.message))
    }

    #[test]
    fn one_port_selection_for_every_kind() {
        use DestinationKind::*;
        let named = [
            (80, Some("http".to_string())),
            (443, Some("https".to_string())),
        ];
        let unnamed = [(80, None), (443, None)];
        // By number: checked, but for a Service.
        assert_eq!(
            port(Some(by_number(443)), ExternalService, Some(&named)),
            Ok(Some(443))
        );
        assert_eq!(
            port(Some(by_number(443)), VirtualDestination, Some(&unnamed)),
            Ok(Some(443))
        );
        assert_eq!(port(Some(by_number(9)), Service, Some(&named)), Ok(Some(9)));
        assert_eq!(port(Some(by_number(9)), Service, None), Ok(Some(9)));
        assert_eq!(
            port(Some(by_number(9)), ExternalService, Some(&named)),
            Err((Translate::UnresolvedPort, "K ns/d has no port 9".into()))
        );
        // By name: VirtualDestination ports have none.
        assert_eq!(
            port(Some(by_name("https")), Service, Some(&named)),
            Ok(Some(443))
        );
        assert_eq!(
            port(Some(by_name("https")), ExternalService, Some(&named)),
            Ok(Some(443))
        );
        assert_eq!(
            port(Some(by_name("x")), ExternalService, Some(&named)),
            Err((
                Translate::UnresolvedPort,
                "K ns/d has no port named `x`".into()
            ))
        );
        assert!(port(Some(by_name("x")), Service, None)
            .is_err_and(|e| e.1.starts_with("port name `x` cannot be resolved")));
        assert!(port(Some(by_name("x")), VirtualDestination, Some(&unnamed))
            .is_err_and(|e| e.1.starts_with("VirtualDestination ports have no names")));
        // None: the only port; a Service without ports has none.
        assert_eq!(
            port(None, VirtualDestination, Some(&unnamed[..1])),
            Ok(Some(80))
        );
        assert_eq!(port(None, Service, Some(&[])), Ok(None));
        assert_eq!(port(None, Service, None), Ok(None));
        for kind in [Service, ExternalService, VirtualDestination] {
            assert_eq!(
                port(None, kind, Some(&named)).map_err(|e| e.0),
                Err(Translate::PortRequired)
            );
        }
        assert_eq!(
            port(None, ExternalService, Some(&[])).map_err(|e| e.0),
            Err(Translate::PortRequired)
        );
    }

    #[test]
    fn destination_refs_lists_what_the_routes_resolve() {
        let to = |name: &str, namespace: &str| DestinationReference {
            r#ref: Some(ObjectReference {
                name: name.into(),
                namespace: namespace.into(),
                cluster: String::new(),
            }),
            ..Default::default()
        };
        let forward = |d: Vec<DestinationReference>| ForwardToAction {
            destinations: Some(d),
            ..Default::default()
        };
        let spec = RouteTableSpec {
            default_destination: Some(to("default", "")),
            http: Some(vec![
                HttpRoute {
                    forward_to: Some(forward(vec![to("a", "ns1"), to("b", "")])),
                    ..Default::default()
                },
                // No destinations: the default.
                HttpRoute {
                    forward_to: Some(ForwardToAction::default()),
                    ..Default::default()
                },
                HttpRoute::default(),
            ]),
            tcp: Some(vec![TcpRoute {
                forward_to: Some(forward(vec![to("c", "")])),
                ..Default::default()
            }]),
            tls: Some(vec![TlsRoute {
                forward_to: Some(forward(vec![to("d", "ns2")])),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let rt = super::super::test_support::table(spec);
        let seen: Vec<(&str, &str, &str)> = destination_refs(&rt)
            .map(|t| (t.cluster, t.namespace, t.name))
            .collect();
        assert_eq!(
            seen,
            [
                ("c1", "ns1", "a"),
                ("c1", "app", "b"),
                ("c1", "app", "default"),
                ("c1", "app", "c"),
                ("c1", "ns2", "d"),
            ]
        );
    }
}
