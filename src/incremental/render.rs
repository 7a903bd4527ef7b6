//! Reuse of an earlier revision's translation in a diff's head (docs/architecture.md,
//! "Incremental reuse").
//!
//! The base's render records what each ExternalService and RouteTable produced ([`Memo`]).
//! [`plan`] then finds, for the head, the units whose inputs cannot have changed; `render`
//! takes their finished objects and translation findings from the memo and translates the
//! rest. Merging, sorting, deduplication and the cross-object checks still run over the
//! whole head, in the same unit order, so the output equals a full render's.
//!
//! A unit's own object is unchanged when its file is byte-identical in both revisions, in the
//! same cluster ([`super::reused_from`]): then it has the same value and, what its findings
//! need, the same lines. The objects of the other files are paired with their namesakes on the
//! other side. A unit whose own object kept its value but not its file takes its output only
//! when that output has no translation findings (a finding names the line of a field, which
//! may have moved), with the object's own entry in `sources` moved to its new place. An
//! ExternalService or VirtualDestination with the same value has not changed for the tables
//! that route to it; an ExternalEndpoint or a table without hosts must also keep its place,
//! because the `sources` of the units that read them name them. A unit is translated again
//! when
//! - its own object changed value (or its output has findings and its file changed);
//! - it is a RouteTable with a destination `ref` naming a changed ExternalService or
//!   VirtualDestination (by namespace and name, whatever the cluster): the refs are those
//!   the translator resolves, `route_table::destination_refs`, and it reads nothing else of
//!   those objects but their values;
//! - it is a RouteTable whose delegation selector (`route_table::delegation_selectors`)
//!   selects a changed table without hosts as the translator does (`gloo::refs::selects`,
//!   with the workspace left out), or a table without hosts that names a changed destination;
//!   when tables without hosts delegate further, any change of such a table counts;
//! - it is an ExternalService whose selector matches the labels of a changed
//!   ExternalEndpoint, before or after the change (`external_service::selected_endpoints`
//!   reads nothing else of other objects; its egress objects also read VirtualGateways, whose
//!   change renders the head afresh, below);
//! - its findings name a place in another object of a file that is not taken whole (the
//!   finding for a destination the table's workspace cannot see names the destination's
//!   line, which may move while its value stays).
//!
//! The objects merged after translation (DestinationRules) are merged again over the whole
//! head; each that comes out with the value and sources the base's had takes the base's
//! finished object (`finish` reads nothing else), so its checks are not run again and the
//! diff finds it shared.
//!
//! VirtualGateways, VirtualDestinations and passthrough objects are always translated. The
//! whole head is rendered afresh when the render options or meshform.yaml differ, or when any
//! changed object is of another kind (Workspaces and their settings, gateways, Services,
//! policies: inputs every unit may read), or a MirrorPolicy names a changed destination.

use crate::gloo::refs::{self, Candidate};
use crate::gloo::types::{Labels, MirrorPolicySpec, ObjectSelector, RouteTableSpec};
use crate::gloo::{labels_match, Model, Typed};
use crate::hashing::{FastMap, FastSet};
use crate::istio::object::Rendered;
use crate::manifest::{Location, Object};
use crate::node::Node;
use crate::render::finish::{Body, Finished};
use crate::render::route_table::{delegation_selectors, destination_refs};
use crate::render::{RenderOptions, Stage};
use crate::repo::Repo;

/// The kinds of translation unit a memo keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// An ExternalService.
    ExternalService,
    /// A RouteTable.
    RouteTable,
}

/// What a render produced per ExternalService and RouteTable, for a later revision's render.
pub struct Memo {
    opts: RenderOptions,
    units: FastMap<(Unit, String, String, String), Stage>,
    merged: Merged,
}

/// The finished merged objects of a render, by cluster and identity.
pub(crate) type Merged = FastMap<(String, crate::manifest::ObjectId), Finished>;

impl Memo {
    pub(crate) fn new(opts: &RenderOptions) -> Memo {
        Memo {
            opts: opts.clone(),
            units: FastMap::default(),
            merged: FastMap::default(),
        }
    }

    /// Copies the merged objects (a pointer and a few short lists each).
    pub(crate) fn record_merged(&mut self, merged: &[Finished]) {
        self.merged.extend(
            merged
                .iter()
                .map(|f| ((f.cluster.clone(), f.id.clone()), f.clone())),
        );
    }

    /// Copies each unit's output (cluster, namespace and name of its object as the key).
    pub(crate) fn record<T: Send + Sync>(&mut self, kind: Unit, items: &[Typed<T>], out: &[Stage]) {
        use rayon::prelude::*;
        let copies: Vec<_> = items
            .par_iter()
            .zip(out.par_iter())
            .map(|(t, s)| (key(kind, t), s.clone()))
            .collect();
        self.units.extend(copies);
    }
}

/// Whether a unit of the head may take its recorded output.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Take {
    /// Yes: nothing it reads changed.
    Clean,
    /// Only when the output has no translation findings, and with its own object's place
    /// in `sources` moved from `from` to `to`: the object kept its value but not
    /// necessarily its lines, and a finding names the line of a field, which may have moved
    /// within the object.
    Quiet {
        /// Where the base has the object.
        from: Location,
        /// Where the head has it.
        to: Location,
    },
    /// No: translate it.
    Dirty,
}

impl Memo {
    /// The recorded output of every unit that may take it, taken out of the memo (`None` for
    /// the others and for units the memo does not have). An output whose findings name other
    /// places is taken only when `kept` holds the file of each.
    fn take<T>(
        &mut self,
        kind: Unit,
        items: &[Typed<T>],
        take: Vec<Take>,
        kept: &FastSet<&str>,
    ) -> Vec<Option<Stage>> {
        let places_kept = |s: &Stage| {
            s.diagnostics
                .iter()
                .flat_map(|d| &d.related)
                .all(|(l, _)| kept.contains(&*l.file))
        };
        items
            .iter()
            .zip(take)
            .map(|(t, take)| match take {
                Take::Dirty => None,
                Take::Clean => self.units.remove(&key(kind, t)).filter(places_kept),
                Take::Quiet { from, to } => {
                    let mut stage = self
                        .units
                        .remove(&key(kind, t))
                        .filter(|s| s.diagnostics.is_empty())?;
                    if from != to {
                        stage.move_source(&from, &to);
                    }
                    Some(stage)
                }
            })
            .collect()
    }
}

fn key<T>(kind: Unit, t: &Typed<T>) -> (Unit, String, String, String) {
    (
        kind,
        t.meta.cluster.clone(),
        t.meta.namespace.clone(),
        t.meta.name.clone(),
    )
}

/// The earlier outputs a render takes, per unit of the head's model (`None`: translate).
pub struct Reuse {
    external_services: Vec<Option<Stage>>,
    route_tables: Vec<Option<Stage>>,
    merged: Merged,
}

impl Reuse {
    pub(crate) fn split(self) -> (Vec<Option<Stage>>, Vec<Option<Stage>>, Merged) {
        (self.external_services, self.route_tables, self.merged)
    }

    /// How many units are taken from the memo.
    pub fn reused(&self) -> usize {
        self.external_services.iter().flatten().count() + self.route_tables.iter().flatten().count()
    }
}

/// Which of the head's units can take the base's output, or `None` when the head must be
/// rendered in full. `earlier` holds the base, its memo (recorded with `opts`) and the pairing
/// of each of the head's objects with the same object of the base ([`super::same_objects`]).
pub fn plan(
    head: &Repo,
    model: &Model,
    opts: &RenderOptions,
    earlier: super::Earlier<'_, Memo>,
) -> Option<Reuse> {
    let super::Earlier {
        repo: base,
        same,
        mut memo,
    } = earlier;
    if memo.opts != *opts || base.config != head.config || !super::loaded_after(head, base) {
        return None;
    }
    let changed = Changed::between(base, head)?;
    // A MirrorPolicy's destination resolves on every route it selects, in any table: when it
    // names a changed destination, the whole head is rendered afresh.
    if model
        .mirror_policies
        .iter()
        .any(|p| changed.names_mirror_destination(p))
    {
        return None;
    }
    // A unit's own object: in a file taken whole, of the same value in a changed file (maybe
    // on other lines), or changed.
    let own = |index: usize| match head.objects.get(index) {
        Some(o) if super::reused_from(head, o.file_index).is_some() => Take::Clean,
        Some(o) => match same.get(index).copied().flatten() {
            Some(j) => Take::Quiet {
                from: base.objects[j].location.clone(),
                to: o.location.clone(),
            },
            None => Take::Dirty,
        },
        None => Take::Dirty,
    };
    // Tables without hosts are what delegation selects. A delegating table is translated
    // again when one of its selectors matches a changed one (either side), or one in the head
    // that names a changed destination; when tables without hosts delegate further, when any
    // such table changed at all.
    let mut children = changed.hostless.clone();
    let mut nested = false;
    for rt in model
        .route_tables
        .iter()
        .filter(|rt| rt.spec.hosts.is_empty())
    {
        nested |= delegation_selectors(rt).next().is_some();
        if changed.names_destination(rt) {
            children.push(Child::of_typed(rt));
        }
    }
    let children_dirty = |rt: &Typed<RouteTableSpec>| {
        let mut selectors = delegation_selectors(rt).peekable();
        if selectors.peek().is_none() || children.is_empty() {
            return false;
        }
        nested || selectors.any(|s| children.iter().any(|c| c.selected_by(s)))
    };
    // Which units are dirty, side by side; then each clean one's output is taken.
    use rayon::prelude::*;
    let es_take: Vec<Take> = model
        .external_services
        .par_iter()
        .map(|es| {
            let dirty = !es.spec.selector.is_empty()
                && changed
                    .endpoint_labels
                    .iter()
                    .any(|l| labels_match(&es.spec.selector, l));
            if dirty {
                Take::Dirty
            } else {
                own(es.meta.index)
            }
        })
        .collect();
    let rt_take: Vec<Take> = model
        .route_tables
        .par_iter()
        .map(|rt| {
            if changed.names_destination(rt) || children_dirty(rt) {
                Take::Dirty
            } else {
                own(rt.meta.index)
            }
        })
        .collect();
    // The files taken whole at their path, where a place a recorded finding names is still
    // that place.
    let kept: FastSet<&str> = (0..head.files.len())
        .filter_map(|i| {
            let j = super::reused_from(head, i)?;
            let path = &head.files[i].path;
            base.files
                .get(j)
                .is_some_and(|b| b.path == *path)
                .then_some(&**path)
        })
        .collect();
    let external_services = memo.take(
        Unit::ExternalService,
        &model.external_services,
        es_take,
        &kept,
    );
    let route_tables = memo.take(Unit::RouteTable, &model.route_tables, rt_take, &kept);
    Some(Reuse {
        external_services,
        route_tables,
        merged: std::mem::take(&mut memo.merged),
    })
}

/// The base's finished object for a merged object of the head, when it has the same cluster,
/// identity, sources, origins and value (kept as a node; compared without converting either
/// side).
pub(crate) fn taken_merged(merged: &Merged, r: &Rendered) -> Option<Finished> {
    let f = merged.get(&r.sort_key())?;
    let same = f.sources == r.sources
        && f.origins == r.origins
        && matches!(&f.body, Body::Node(n) if **n == r.value);
    same.then(|| f.clone())
}

/// What changed between two revisions, as far as the reusable units can read it.
struct Changed {
    /// (namespace, name) of every changed ExternalService and VirtualDestination.
    destinations: FastSet<(String, String)>,
    /// The names alone, to rule out most refs without building a key.
    names: FastSet<String>,
    /// The labels of every changed ExternalEndpoint.
    endpoint_labels: Vec<Labels>,
    /// Every changed RouteTable without hosts, from both revisions.
    hostless: Vec<Child>,
}

/// What a delegation selector can match of a table without hosts.
#[derive(Clone)]
struct Child {
    cluster: String,
    namespace: String,
    name: String,
    labels: Labels,
}

impl Child {
    fn of_object(o: &Object) -> Child {
        Child {
            cluster: o.cluster.clone(),
            namespace: namespace(o).to_string(),
            name: o.id.name.clone(),
            labels: o
                .labels()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn of_typed<T>(t: &Typed<T>) -> Child {
        Child {
            cluster: t.meta.cluster.clone(),
            namespace: t.meta.namespace.clone(),
            name: t.meta.name.clone(),
            labels: t.meta.labels.clone(),
        }
    }

    /// True when the selector may select this table: as the translator matches
    /// (`refs::selects`), but with the workspace left out (so never less).
    fn selected_by(&self, s: &ObjectSelector) -> bool {
        let candidate = Candidate {
            cluster: &self.cluster,
            namespace: &self.namespace,
            name: &self.name,
            labels: &self.labels,
        };
        refs::selects(s, &candidate, |_| true)
    }
}

impl Changed {
    /// `None` when an object of a kind the units do not track changed.
    ///
    /// The objects of a file that is not byte-identical are compared one by one with their
    /// namesake in the other revision: a translator reads an ExternalService or
    /// VirtualDestination only by value, so one with the same value has not changed for the
    /// tables that route to it; an ExternalEndpoint or a table without hosts is also named by
    /// its place (`sources`), so it must keep its value and its location.
    fn between(base: &Repo, head: &Repo) -> Option<Changed> {
        let kept = super::taken_files(head);
        type Sides<'a> = (Option<&'a Object>, Option<&'a Object>);
        let mut sides: FastMap<_, Sides<'_>> = FastMap::default();
        for o in base
            .objects
            .iter()
            .filter(|o| !kept.contains(&o.file_index))
        {
            sides.entry(o.key()).or_default().0 = Some(o);
        }
        for o in head
            .objects
            .iter()
            .filter(|o| super::reused_from(head, o.file_index).is_none())
        {
            sides.entry(o.key()).or_default().1 = Some(o);
        }
        let mut c = Changed {
            destinations: FastSet::default(),
            names: FastSet::default(),
            endpoint_labels: Vec::new(),
            hostless: Vec::new(),
        };
        for (b, h) in sides.into_values() {
            let same_value = matches!((b, h), (Some(b), Some(h)) if std::sync::Arc::ptr_eq(&b.value, &h.value) || b.value == h.value);
            let same_place =
                same_value && matches!((b, h), (Some(b), Some(h)) if b.location == h.location);
            if same_place {
                continue;
            }
            for o in [b, h].into_iter().flatten() {
                if o.id.group() != "networking.gloo.solo.io" {
                    return None;
                }
                match o.id.kind.as_str() {
                    "ExternalService" | "VirtualDestination" => {
                        if !same_value {
                            c.destinations
                                .insert((namespace(o).to_string(), o.id.name.clone()));
                            c.names.insert(o.id.name.clone());
                        }
                    }
                    "ExternalEndpoint" => c.endpoint_labels.push(
                        o.labels()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    ),
                    "RouteTable" => {
                        let hosts = o.value["spec"]["hosts"].as_array();
                        if hosts.is_none_or(<[Node]>::is_empty) {
                            c.hostless.push(Child::of_object(o));
                        }
                    }
                    _ => return None,
                }
            }
        }
        Some(c)
    }

    /// True when the MirrorPolicy's destination names a changed destination.
    fn names_mirror_destination(&self, p: &Typed<MirrorPolicySpec>) -> bool {
        let Some(d) = p.spec.config.as_ref().and_then(|c| c.destination.as_ref()) else {
            return false;
        };
        let Some(r) = &d.r#ref else {
            return false;
        };
        let t = refs::Target::of(&p.meta, d.kind, r);
        self.names.contains(t.name)
            && self
                .destinations
                .contains(&(t.namespace.to_string(), t.name.to_string()))
    }

    /// True when a destination the table resolves names a changed destination.
    fn names_destination(&self, rt: &Typed<RouteTableSpec>) -> bool {
        if self.destinations.is_empty() {
            return false;
        }
        destination_refs(rt).any(|t| {
            // Most refs name no changed destination: the name alone rules them out.
            self.names.contains(t.name)
                && self
                    .destinations
                    .contains(&(t.namespace.to_string(), t.name.to_string()))
        })
    }
}

/// The namespace of an object as the typed model has it (`default` when unset).
fn namespace(o: &Object) -> &str {
    if o.id.namespace.is_empty() {
        "default"
    } else {
        &o.id.namespace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merged_object_takes_the_earlier_finish_only_when_value_and_sources_match() {
        use crate::manifest::{Location, ObjectId};
        let source = |name: &str, line: u32| crate::istio::object::SourceRef {
            id: ObjectId {
                api_version: "networking.gloo.solo.io/v2".into(),
                kind: "RouteTable".into(),
                namespace: "ns".into(),
                name: name.into(),
            },
            location: Location {
                file: "f.yaml".into(),
                line,
                column: 1,
            },
        };
        let dr = |subset: &str, sources| Rendered {
            cluster: "c".into(),
            value: json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                "metadata": {"name": "h", "namespace": "ns"},
                "spec": {"host": "h.example.com", "subsets": [{"name": subset, "labels": {"v": subset}}]}}),
            sources,
            origins: Default::default(),
        };
        let base = dr("v1", vec![source("a", 1), source("b", 9)]);
        let finished = crate::render::finish::finish(base.clone(), crate::render::Keep::Nodes);
        let mut memo = Memo::new(&RenderOptions::default());
        memo.record_merged(std::slice::from_ref(&finished));
        let merged = std::mem::take(&mut memo.merged);
        let node = |f: &Finished| match &f.body {
            Body::Node(n) => n.clone(),
            _ => panic!("kept as a node"),
        };
        let taken = taken_merged(&merged, &base).expect("the same object is taken");
        assert!(std::sync::Arc::ptr_eq(&node(&taken), &node(&finished)));
        assert_eq!(taken.problems, finished.problems);
        // Another subset, another source place, another cluster: finished afresh.
        assert!(taken_merged(&merged, &dr("v2", base.sources.clone())).is_none());
        assert!(taken_merged(&merged, &dr("v1", vec![source("a", 1), source("b", 10)])).is_none());
        let elsewhere = Rendered {
            cluster: "d".into(),
            ..base.clone()
        };
        assert!(taken_merged(&merged, &elsewhere).is_none());
    }

    #[test]
    fn a_selector_may_select_more_children_than_the_translator_never_fewer() {
        let child = Child {
            cluster: "c1".into(),
            namespace: "app".into(),
            name: "api".into(),
            labels: [("parent".to_string(), "www".to_string())]
                .into_iter()
                .collect(),
        };
        let sel = crate::render::route_table::test_support::selector;
        assert!(child.selected_by(&sel(&[("parent", "www")], "", "", "")));
        assert!(child.selected_by(&sel(&[], "api", "app", "")));
        // The workspace is not checked here: a superset is safe.
        assert!(child.selected_by(&sel(&[], "", "", "other-workspace")));
        assert!(!child.selected_by(&sel(&[("parent", "api")], "", "", "")));
        assert!(!child.selected_by(&sel(&[], "web", "", "")));
        assert!(!child.selected_by(&sel(&[], "", "other", "")));
    }
}
