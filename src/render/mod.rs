//! Translation of the typed Gloo model into the Istio objects Gloo's management server would
//! write, following docs/translation.md. One submodule per output kind;
//! `emit` turns the result into a YAML stream, JSON or an out-dir.

pub mod emit;
pub use emit::{Stream, StreamError};
mod destination_policies;
mod egress;
mod external_service;
pub(crate) mod finish;
mod gateway;
pub mod names;
mod oldest;
pub(crate) mod route_table;
mod virtual_destination;

use crate::diag::codes::Translate;
use crate::diag::Diagnostic;
use crate::diag::Severity;
use crate::gloo::refs::ChildTables;
use crate::gloo::types::Labels;
use crate::gloo::Meta;
use crate::gloo::Model;
use crate::incremental::{
    self,
    render::{Memo, Merged, Reuse, Unit},
    Incr,
};
use crate::istio::object::{FieldAt, Kept, Origin, Origins, Rendered, SourceRef, Template};
use crate::manifest::Location;
use crate::manifest::Object;
use crate::repo::Repo;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// Which Istio networking API version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IstioApi {
    /// `networking.istio.io/v1` (Istio 1.22 and later).
    #[default]
    V1,
    /// `networking.istio.io/v1beta1`, for older Istio.
    V1beta1,
}

impl IstioApi {
    /// The apiVersion string.
    pub fn api_version(self) -> &'static str {
        match self {
            IstioApi::V1 => "networking.istio.io/v1",
            IstioApi::V1beta1 => "networking.istio.io/v1beta1",
        }
    }
}

/// How to render.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RenderOptions {
    /// Only these clusters (empty: all).
    pub clusters: Vec<String>,
    /// Istio API version.
    pub istio_api: IstioApi,
    /// Also emit the repo's non-Gloo objects.
    pub passthrough: bool,
    /// What to keep of each rendered object once it is validated.
    pub keep: Keep,
}

/// What a run keeps of each rendered object once it is validated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keep {
    /// The values, in [`Output::objects`] (the library's default; tests and benches).
    #[default]
    Values,
    /// Only the YAML stream, in [`Output::stream`]: each object is written as soon as it is
    /// validated and its value dropped (`render`, `argocd generate`).
    Stream,
    /// Nothing but the findings (`check`).
    Findings,
    /// The values as compact [`Node`](crate::node::Node)s, in [`Output::nodes`]: what is held
    /// until the run ends (`diff`, which holds two revisions, `-o json`, `--out-dir`, the KRM
    /// function).
    Nodes,
}

/// Rendered objects plus what translation and validation found.
#[derive(Debug)]
pub struct Output {
    /// Sorted rendered objects ([`Keep::Values`]; empty otherwise).
    pub objects: Vec<Rendered>,
    /// Sorted rendered objects ([`Keep::Nodes`]; empty otherwise), each node shared with
    /// the memo of a recording render ([`render`]).
    pub nodes: Vec<Kept>,
    /// The sorted objects as one YAML stream ([`Keep::Stream`]; empty otherwise), or why it
    /// could not be written.
    pub stream: Result<Stream, StreamError>,
    /// How many objects were rendered, whatever was kept.
    pub count: usize,
    /// Translation findings (broken references, unsupported fields).
    pub diagnostics: Vec<Diagnostic>,
    /// Validation findings: Istio's schemas and webhook rules, and the cross-object checks.
    pub validation: Vec<Diagnostic>,
    /// How many translation units were taken from an earlier revision's render.
    pub reused: usize,
}

/// A gateway workload as Gloo discovers it: a gateway Service and its pods (meshform.yaml
/// `clusters[].gateways`, or a Service manifest in the repo).
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayWorkload {
    /// Cluster.
    pub cluster: String,
    /// Service name.
    pub name: String,
    /// Service namespace.
    pub namespace: String,
    /// Service labels.
    pub labels: Labels,
    /// Service spec.selector.
    pub selector: Labels,
    /// Pod labels (Gateway selector, VirtualService sourceLabels).
    pub pod_labels: Labels,
    /// (name, port, targetPort).
    pub ports: Vec<(String, u32, u32)>,
}

/// Everything a translator needs.
pub(crate) struct Ctx<'a> {
    pub repo: &'a Repo,
    pub model: &'a Model,
    pub opts: &'a RenderOptions,
    pub gateways: Vec<GatewayWorkload>,
    /// The tables without hosts, which delegation can select.
    pub children: ChildTables<'a>,
    /// The route and destination policies of each kind by their workspace.
    pub policies_by_ws: route_table::PoliciesByWorkspace<'a>,
}

/// What one translator produced.
#[derive(Default)]
pub(crate) struct Part {
    pub objects: Vec<Rendered>,
    pub diagnostics: Vec<Diagnostic>,
    /// The route policies that selected a route of it (for `policy-selects-nothing`).
    pub used: Vec<route_table::UsedPolicy>,
}

impl<'a> Ctx<'a> {
    fn new(repo: &'a Repo, model: &'a Model, opts: &'a RenderOptions) -> Self {
        let mut gateways = Vec::new();
        for c in &repo.config.clusters {
            for g in &c.gateways {
                let pod_labels = if g.pod_labels.is_empty() {
                    g.selector.clone()
                } else {
                    g.pod_labels.clone()
                };
                gateways.push(GatewayWorkload {
                    cluster: c.name.clone(),
                    name: g.name.clone(),
                    namespace: g.namespace.clone(),
                    labels: g.labels.clone(),
                    selector: g.selector.clone(),
                    pod_labels,
                    ports: g
                        .ports
                        .iter()
                        .map(|p| (p.name.clone(), p.port, p.target_port.unwrap_or(p.port)))
                        .collect(),
                });
            }
        }
        // A gateway Service manifest in the repo serves the same purpose (issue 2 item 3).
        for s in &model.services {
            let known = gateways.iter().any(|g| {
                g.cluster == s.meta.cluster
                    && g.name == s.meta.name
                    && g.namespace == s.meta.namespace
            });
            if known || s.selector.is_empty() {
                continue;
            }
            let o = &repo.objects[s.meta.index];
            let is_gateway = o.value["spec"]["type"]
                .as_str()
                .is_some_and(|t| t == "LoadBalancer" || t == "NodePort")
                || s.selector.keys().any(|k| k == "istio")
                || s.meta.labels.keys().any(|k| k == "istio");
            if !is_gateway {
                continue;
            }
            gateways.push(GatewayWorkload {
                cluster: s.meta.cluster.clone(),
                name: s.meta.name.clone(),
                namespace: s.meta.namespace.clone(),
                labels: s.meta.labels.clone(),
                selector: s.selector.clone(),
                pod_labels: s.selector.clone(),
                ports: s
                    .ports
                    .iter()
                    .map(|(n, p, t)| (n.clone(), *p, t.unwrap_or(*p)))
                    .collect(),
            });
        }
        Ctx {
            repo,
            model,
            opts,
            gateways,
            children: ChildTables::new(model),
            policies_by_ws: route_table::PoliciesByWorkspace::new(model),
        }
    }

    /// True if output to `cluster` was asked for.
    pub fn selected(&self, cluster: &str) -> bool {
        self.opts.clusters.is_empty() || self.opts.clusters.iter().any(|c| c == cluster)
    }

    /// The repo object behind a typed object.
    pub fn obj(&self, meta: &Meta) -> &'a Object {
        &self.repo.objects[meta.index]
    }

    /// A SourceRef for a typed object.
    pub fn source(&self, meta: &Meta) -> SourceRef {
        let o = self.obj(meta);
        SourceRef {
            id: o.id.clone(),
            location: o.location.clone(),
        }
    }

    /// Workspace owning the object's namespace.
    pub fn ws_of(&self, meta: &Meta) -> Option<&'a str> {
        self.model.workspace_of(&meta.cluster, &meta.namespace)
    }

    /// Every (cluster, namespace, workspace) where an object is visible: the namespaces of its own
    /// workspace and of the workspaces importing it, in selected clusters
    /// (docs/translation.md#workspaces-and-placement).
    pub fn placements(&self, meta: &Meta, kind: &str) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        for ws in self.model.workspaces.visible_workspaces(meta, kind) {
            for (c, ns) in self.model.workspaces.members(ws) {
                if self.selected(c) {
                    out.push((c.clone(), ns.clone(), ws.to_string()));
                }
            }
        }
        out.sort();
        out
    }

    /// An error diagnostic at a field of a typed object.
    pub fn error(
        &self,
        meta: &Meta,
        code: Translate,
        field: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.finding(Severity::Error, meta, code, field, message)
    }

    /// A warning at a field of a typed object.
    pub fn warning(
        &self,
        meta: &Meta,
        code: Translate,
        field: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.finding(Severity::Warning, meta, code, field, message)
    }

    fn finding(
        &self,
        severity: Severity,
        meta: &Meta,
        code: Translate,
        field: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        let o = self.obj(meta);
        Diagnostic::new(severity, code, message)
            .at(self.repo.locate(o, field))
            .on(o.id.clone())
            .field(field)
    }

    /// Builds a Rendered object from its parts, keys in canonical order.
    pub fn object(
        &self,
        kind: &str,
        metadata: Value,
        spec: Value,
        cluster: &str,
        sources: Vec<SourceRef>,
    ) -> Rendered {
        let mut metadata = metadata;
        let mut spec = spec;
        // An object that lives on (kept as a value, or a DestinationRule held until merged) is
        // rebuilt at its exact size; any other is written or fingerprinted at once and dropped,
        // so sorting its keys in place is enough (no map rebuilt, no key hashed again).
        let lives = self.opts.keep == Keep::Values || merged_later(kind);
        let tidy = if lives {
            emit::sort_compact
        } else {
            crate::json::sort_keys
        };
        tidy(&mut metadata);
        tidy(&mut spec);
        let mut m = serde_json::Map::with_capacity(4);
        m.insert(
            "apiVersion".into(),
            Value::String(self.opts.istio_api.api_version().into()),
        );
        m.insert("kind".into(), Value::String(kind.into()));
        m.insert("metadata".into(), metadata);
        m.insert("spec".into(), spec);
        Rendered {
            cluster: cluster.to_string(),
            value: Value::Object(m),
            sources,
            origins: Origins::default(),
        }
    }
}

/// Renders every selected cluster: each Gloo kind is translated in parallel and each object
/// validated and finished (`finish`) as soon as it is made; then objects of one identity are
/// merged (DestinationRules for one host and namespace) and sorted, so the bytes do not depend
/// on thread count or file order.
///
/// With `inc.record`, also returns a copy of what each ExternalService and RouteTable produced
/// ([`Memo`]); with `inc.earlier`, takes those units' output from an earlier revision's memo
/// instead of translating them again, where [`incremental::render::plan`] finds their inputs
/// unchanged. Everything after translation (merging, sorting, the cross-object checks) runs
/// over the whole revision either way, in the same unit order, so the result is the same as a
/// full render's (tests/incremental.rs).
pub fn render(
    repo: &Repo,
    model: &Model,
    opts: &RenderOptions,
    inc: Incr<'_, Memo>,
) -> (Output, Option<Memo>) {
    let record = inc.record;
    let reuse = inc.earlier.and_then(|earlier| {
        let plan = incremental::render::plan(repo, model, opts, earlier);
        tracing::debug!(
            "reuse: {} of {} units from the earlier revision",
            plan.as_ref().map_or(0, Reuse::reused),
            model.external_services.len() + model.route_tables.len()
        );
        plan
    });
    let start = std::time::Instant::now();
    let ctx = Ctx::new(repo, model, opts);
    tracing::debug!("render: context in {:?}", start.elapsed());
    let keep = opts.keep;
    let mut memo = record.then(|| Memo::new(opts));
    let reused = reuse.as_ref().map_or(0, Reuse::reused);
    let (from_es, from_rt, from_merged) = match reuse {
        Some(r) => r.split(),
        None => (Vec::new(), Vec::new(), Merged::default()),
    };
    let stages: Vec<Stage> = vec![
        units(
            &model.external_services,
            Unit::ExternalService,
            from_es,
            memo.as_mut(),
            keep,
            |es| external_service::translate(&ctx, es),
        ),
        units(
            &model.route_tables,
            Unit::RouteTable,
            from_rt,
            memo.as_mut(),
            keep,
            |rt| route_table::translate(&ctx, rt),
        ),
        stage(
            model
                .virtual_gateways
                .par_iter()
                .map(|vg| gateway::translate(&ctx, vg)),
            keep,
        ),
        stage(
            model
                .virtual_destinations
                .par_iter()
                .map(|vd| virtual_destination::translate(&ctx, vd)),
            keep,
        ),
    ];
    let mut all = Stage::default();
    for s in stages {
        all.extend(s);
    }
    if opts.passthrough {
        all.extend(stage(passthrough(repo, &|c| ctx.selected(c)), keep));
    }
    tracing::debug!("render: translated and finished at {:?}", start.elapsed());
    let mut diagnostics = all.diagnostics;
    diagnostics.extend(destination_policies::check(&ctx));
    diagnostics.extend(route_table::check_header_cors_policies(&ctx));
    diagnostics.extend(route_table::unused_policies(&ctx, &all.used));
    // DestinationRules were held as values until now, because several sources may add
    // subsets to one (merge_same returns them in sort_key order, one per key).
    // A merged object equal to the earlier revision's takes its finished form.
    let taken = std::sync::atomic::AtomicUsize::new(0);
    let merged: Vec<finish::Finished> = merge_same(repo, all.pending, &mut diagnostics)
        .into_par_iter()
        .map(
            |r| match incremental::render::taken_merged(&from_merged, &r) {
                Some(f) => {
                    taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    f
                }
                None => finish::finish(r, keep),
            },
        )
        .collect();
    if !from_merged.is_empty() {
        tracing::debug!(
            "render: {} of {} merged objects taken from the earlier revision",
            taken.into_inner(),
            merged.len()
        );
    }
    if let Some(memo) = memo.as_mut() {
        memo.record_merged(&merged);
    }
    let mut objects = all.finished;
    objects.extend(merged);
    // Stable: of two objects with one identity, the one translated first stays first.
    objects.par_sort_by(|a, b| (&a.cluster, &a.id).cmp(&(&b.cluster, &b.id)));
    let mut objects = dedup_same(repo, objects, &mut diagnostics);
    tracing::debug!(
        "render: merged, sorted, deduplicated at {:?}",
        start.elapsed()
    );
    let mut validation = finish::diagnostics(repo, &mut objects);
    drop_explained(&mut validation, &diagnostics);
    tracing::debug!("render: cross-object checks at {:?}", start.elapsed());
    let count = objects.len();
    let (objects, nodes, stream) = match keep {
        Keep::Values => (
            kept(objects, |b| match b {
                finish::Body::Value(v) => Some(v),
                _ => None,
            }),
            Vec::new(),
            Ok(Stream::default()),
        ),
        Keep::Nodes => (
            Vec::new(),
            kept(objects, |b| match b {
                finish::Body::Node(v) => Some(v),
                _ => None,
            }),
            Ok(Stream::default()),
        ),
        Keep::Stream => (Vec::new(), Vec::new(), stream(objects)),
        Keep::Findings => (Vec::new(), Vec::new(), Ok(Stream::default())),
    };
    let out = Output {
        objects,
        nodes,
        stream,
        count,
        diagnostics,
        validation,
        reused,
    };
    (out, memo)
}

/// Translates and finishes one kind's units in parallel, in model order. A unit with an entry
/// in `taken` (the same index) uses that earlier output instead; with a memo, each unit's
/// output is also copied into it.
fn units<T: Send + Sync>(
    items: &[crate::gloo::Typed<T>],
    kind: Unit,
    mut taken: Vec<Option<Stage>>,
    memo: Option<&mut Memo>,
    keep: Keep,
    translate: impl Fn(&crate::gloo::Typed<T>) -> Part + Sync,
) -> Stage {
    taken.resize_with(items.len(), || None);
    let per_unit: Vec<Stage> = items
        .par_iter()
        .zip(taken.into_par_iter())
        .map(|(item, earlier)| earlier.unwrap_or_else(|| Stage::of(translate(item), keep)))
        .collect();
    if let Some(memo) = memo {
        memo.record(kind, items, &per_unit);
    }
    let mut all = Stage::default();
    for s in per_unit {
        all.extend(s);
    }
    all
}

/// What the translators of one kind produced: finished objects, DestinationRules still held
/// as values, and findings.
#[derive(Default, Clone)]
pub(crate) struct Stage {
    pub(crate) finished: Vec<finish::Finished>,
    pub(crate) pending: Vec<Rendered>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The route policies that selected a route.
    pub(crate) used: Vec<route_table::UsedPolicy>,
}

impl Stage {
    /// One translator's output, each object finished but DestinationRules.
    fn of(part: Part, keep: Keep) -> Stage {
        let mut s = Stage {
            diagnostics: part.diagnostics,
            used: part.used,
            ..Stage::default()
        };
        s.add(part.objects, keep);
        s
    }

    /// Every source at `from` is now at `to` (an unchanged object on other lines).
    pub(crate) fn move_source(&mut self, from: &Location, to: &Location) {
        let sources = self
            .finished
            .iter_mut()
            .flat_map(|f| &mut f.sources)
            .chain(self.pending.iter_mut().flat_map(|p| &mut p.sources));
        for s in sources.filter(|s| s.location == *from) {
            s.location = to.clone();
        }
    }

    fn extend(&mut self, other: Stage) {
        self.finished.extend(other.finished);
        self.pending.extend(other.pending);
        self.diagnostics.extend(other.diagnostics);
        self.used.extend(other.used);
    }

    /// Finishes each object now, except DestinationRules, which may still be merged.
    fn add(&mut self, objects: Vec<Rendered>, keep: Keep) {
        for o in objects {
            if merged_later(o.value.get("kind").and_then(Value::as_str).unwrap_or("")) {
                self.pending.push(o);
            } else {
                self.finished.push(finish::finish(o, keep));
            }
        }
    }
}

/// Objects of this kind wait as values until the render ends: several sources may add to
/// one (DestinationRule subsets), so they are merged before they are finished.
fn merged_later(kind: &str) -> bool {
    kind == "DestinationRule"
}

/// Finishes the objects of translated parts as they come (in parallel), keeping their order.
fn stage(parts: impl ParallelIterator<Item = Part>, keep: Keep) -> Stage {
    parts
        .map(|part| Stage::of(part, keep))
        .reduce(Stage::default, |mut a, b| {
            a.extend(b);
            a
        })
}

/// Drops an Istio finding at a Gloo field where translation already reported an error: the
/// translation's error names the same problem in Gloo's terms (`*` in a sidecar-bound
/// RouteTable's hosts, say), and one finding per problem is enough.
fn drop_explained(validation: &mut Vec<Diagnostic>, translation: &[Diagnostic]) {
    let explained: Vec<(&crate::manifest::ObjectId, &str)> = translation
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .filter_map(|d| Some((d.object.as_ref()?, d.field.as_deref()?)))
        .collect();
    if explained.is_empty() {
        return;
    }
    validation.retain(|v| {
        let at = v.object.as_ref().zip(v.field.as_deref());
        !at.is_some_and(|(o, f)| explained.contains(&(o, f)))
    });
}

/// Of objects sorted by identity, keeps one per identity: a repeat equal to the first only
/// adds its sources; a different one is an error naming both sources.
fn dedup_same(
    repo: &Repo,
    objects: Vec<finish::Finished>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<finish::Finished> {
    let mut out: Vec<finish::Finished> = Vec::with_capacity(objects.len());
    for o in objects {
        let Some(existing) = out
            .last_mut()
            .filter(|e| e.cluster == o.cluster && e.id == o.id)
        else {
            out.push(o);
            continue;
        };
        if existing.body.same(&o.body) {
            absorb(&mut existing.sources, &mut existing.origins, o.sources);
        } else {
            diags.push(collision(
                repo,
                &o.cluster,
                &o.id,
                &o.sources,
                &existing.sources,
            ));
        }
    }
    out
}

/// The error for two sources that render one identity differently, at the field that made
/// the identity in each: the source's `metadata.name`, which the rendered name is made of.
fn collision(
    repo: &Repo,
    cluster: &str,
    id: &crate::manifest::ObjectId,
    sources: &[SourceRef],
    existing: &[SourceRef],
) -> Diagnostic {
    const NAME: &str = "metadata.name";
    let at = |s: &SourceRef| {
        repo.objects
            .iter()
            .find(|o| o.id == s.id && o.location == s.location)
            .map_or_else(|| s.location.clone(), |o| repo.locate(o, NAME))
    };
    let mut d = Diagnostic::error(
        Translate::OutputCollision,
        format!("two sources render {id} in cluster {cluster} differently"),
    );
    if let Some(s) = sources.first() {
        d = d.at(at(s)).on(s.id.clone()).field(NAME);
    }
    if let Some(s) = existing.first() {
        d = d.related(at(s), "also rendered from");
    }
    d.help(
        "rename one of the two sources: the rendered name is made of each source's name and \
         namespace, and these two make the same one",
    )
}

/// The finished objects whose body `pick` keeps, as rendered objects.
fn kept<V>(
    objects: Vec<finish::Finished>,
    pick: impl Fn(finish::Body) -> Option<V>,
) -> Vec<Rendered<V>> {
    objects
        .into_iter()
        .filter_map(|f| {
            Some(Rendered {
                value: pick(f.body)?,
                cluster: f.cluster,
                sources: f.sources,
                origins: f.origins,
            })
        })
        .collect()
}

/// The documents of finished objects, in order.
fn stream(objects: Vec<finish::Finished>) -> Result<Stream, StreamError> {
    let mut docs = Vec::with_capacity(objects.len());
    for o in objects {
        match o.body {
            finish::Body::Yaml(Ok(doc)) => docs.push(doc),
            finish::Body::Yaml(Err(source)) => {
                return Err(StreamError::Emit {
                    id: o.id,
                    cluster: o.cluster,
                    source,
                })
            }
            _ => {
                return Err(StreamError::NotWritten {
                    id: o.id,
                    cluster: o.cluster,
                })
            }
        }
    }
    Ok(Stream(docs))
}

/// Objects with the same identity in one cluster are merged when they are DestinationRules
/// holding subsets for one host (several RouteTables use subsets of one Service); any other
/// collision is an error naming both sources.
fn merge_same(repo: &Repo, objects: Vec<Rendered>, diags: &mut Vec<Diagnostic>) -> Vec<Rendered> {
    let mut by_id: BTreeMap<(String, crate::manifest::ObjectId), Rendered> = BTreeMap::new();
    for o in objects {
        let key = o.sort_key();
        match by_id.get_mut(&key) {
            None => {
                by_id.insert(key, o);
            }
            Some(existing) if existing.value == o.value => {
                absorb(&mut existing.sources, &mut existing.origins, o.sources);
            }
            Some(existing)
                if key.1.kind == "DestinationRule"
                    && existing.value["spec"]["host"] == o.value["spec"]["host"] =>
            {
                let mut subsets: Vec<Value> = existing.value["spec"]["subsets"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                // Where each subset is first asked for, by name: the first in subset order
                // (route_table::subset_rank) of both records, whichever merges first.
                let mut from =
                    subset_origins(&existing.value, &existing.origins, &existing.sources);
                from.extend(subset_origins(&o.value, &o.origins, &o.sources));
                let rank = |x: &(String, Origin, SourceRef)| {
                    let (name, origin, src) = x;
                    let at = route_table::subset_rank(Some(&origin.field));
                    (name.clone(), src.clone(), at)
                };
                from.sort_by_cached_key(rank);
                for s in o.value["spec"]["subsets"].as_array().into_iter().flatten() {
                    if !subsets.iter().any(|x| x["name"] == s["name"]) {
                        subsets.push(s.clone());
                    }
                }
                // Subsets in the order of the table first asking for them, then of the route
                // and destination there; one without a record last, by name.
                subsets.sort_by_cached_key(|s| {
                    let name = s["name"].as_str().unwrap_or("").to_string();
                    let first = from
                        .iter()
                        .find(|(n, _, _)| *n == name)
                        .map(|(_, x, src)| (src.clone(), route_table::subset_rank(Some(&x.field))));
                    (first.is_none(), first, name)
                });
                // The subsets were renumbered: recorded again below at their new places.
                existing
                    .origins
                    .retain(|x| !x.at.template().starts_with("spec.subsets"));
                absorb(&mut existing.sources, &mut existing.origins, o.sources);
                let mut placed: Vec<(String, Template)> = Vec::new();
                for (name, x, src) in from {
                    // Only the first record of each subset's rendered field.
                    if placed.contains(&(name.clone(), x.at.kind())) {
                        continue;
                    }
                    placed.push((name.clone(), x.at.kind()));
                    let at = subsets
                        .iter()
                        .position(|s| s["name"].as_str() == Some(&name));
                    let source = existing.sources.iter().position(|s| *s == src);
                    if let (Some(at), Some(source)) = (at, source) {
                        existing.origins.add(
                            FieldAt::at(x.at.kind(), at),
                            source,
                            x.field,
                            x.same_below,
                        );
                    }
                }
                existing.value["spec"]["subsets"] = Value::Array(subsets);
            }
            Some(existing) => {
                diags.push(collision(
                    repo,
                    &key.0,
                    &key.1,
                    &o.sources,
                    &existing.sources,
                ));
            }
        }
    }
    by_id.into_values().collect()
}

/// The recorded origins of a DestinationRule's subsets, with the subset's name and the
/// source itself (so they can be placed again after a merge renumbers both).
fn subset_origins(
    value: &Value,
    origins: &Origins,
    sources: &[SourceRef],
) -> Vec<(String, Origin, SourceRef)> {
    let subsets = value["spec"]["subsets"].as_array().map_or(&[][..], |v| v);
    origins
        .iter()
        .filter(|x| x.at.template().starts_with("spec.subsets"))
        .filter_map(|x| {
            let name = subsets.get(x.at.index())?["name"].as_str()?;
            let src = sources.get(usize::from(x.source))?;
            Some((name.to_string(), *x, src.clone()))
        })
        .collect()
}

/// Adds sources to an object's list, without duplicates, sorted; its origins follow their
/// sources to their new places.
fn absorb(into: &mut Vec<SourceRef>, origins: &mut Origins, sources: Vec<SourceRef>) {
    for s in sources {
        if !into.contains(&s) {
            into.push(s);
        }
    }
    if origins.is_empty() {
        into.sort();
        return;
    }
    let mut order: Vec<usize> = (0..into.len()).collect();
    order.sort_by(|&a, &b| into[a].cmp(&into[b]));
    let mut moved = vec![0; into.len()];
    for (to, &from) in order.iter().enumerate() {
        moved[from] = to;
    }
    origins.renumber(&moved);
    into.sort();
}

/// Non-Gloo objects of the repo, unchanged but for key order, in their own cluster.
fn passthrough<'a>(
    repo: &'a Repo,
    selected: &'a (dyn Fn(&str) -> bool + Sync),
) -> impl ParallelIterator<Item = Part> + 'a {
    repo.objects
        .par_iter()
        .filter(|o| !o.id.is_gloo() && selected(&o.cluster))
        .map(|o| Part {
            objects: vec![Rendered {
                cluster: o.cluster.clone(),
                value: {
                    let mut v = o.value.to_json();
                    crate::istio::object::canonicalize(&mut v);
                    v
                },
                sources: vec![SourceRef {
                    id: o.id.clone(),
                    location: o.location.clone(),
                }],
                origins: Origins::default(),
            }],
            diagnostics: Vec::new(),
            used: Vec::new(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders files (path, text) as values.
    fn rendered(files: &[(&str, &str)]) -> (Repo, Output) {
        let repo = crate::repo::test_support::repo_of(files);
        let (model, _, _) = Model::build(&repo, Incr::OFF);
        let (out, _) = render(&repo, &model, &RenderOptions::default(), Incr::OFF);
        (repo, out)
    }

    /// The source object and field that made a rendered field of the object of this kind.
    fn origin(out: &Output, kind: &str, path: &str) -> Option<(String, String)> {
        let o = out.objects.iter().find(|o| o.id().kind == kind)?;
        let (i, field) = o.origins.source_field(path)?;
        Some((o.sources[i].id.name.clone(), field))
    }

    const ES: &str = "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: keycloak, namespace: apps}
spec:
  hosts: [keycloak.example.com]
  selector: {app: keycloak}
  ports:
  - {name: https, number: 443, protocol: HTTPS, targetPort: {name: https}}
";
    const EE: &str = "apiVersion: networking.gloo.solo.io/v2
kind: ExternalEndpoint
metadata: {name: a-endpoint, namespace: apps, labels: {app: keycloak}}
spec:
  address: 10.0.0.1
  ports:
  - {name: https, number: 8443}
";

    #[test]
    fn service_entry_parts_map_to_the_external_service_and_its_endpoints() {
        let (_, out) = rendered(&[("es.yaml", ES), ("ee.yaml", EE)]);
        let s = |n: &str, f: &str| Some((n.to_string(), f.to_string()));
        // The endpoint sorts before the ExternalService among the sources; the indexes follow.
        assert_eq!(
            origin(&out, "ServiceEntry", "spec.ports[0].protocol"),
            s("keycloak", "spec.ports[0].protocol")
        );
        assert_eq!(
            origin(&out, "ServiceEntry", "spec.hosts[0]"),
            s("keycloak", "spec.hosts[0]")
        );
        assert_eq!(
            origin(&out, "ServiceEntry", "spec.endpoints[0].address"),
            s("a-endpoint", "spec.address")
        );
        assert_eq!(
            origin(&out, "ServiceEntry", "spec.endpoints[0].labels.app"),
            s("a-endpoint", "metadata.labels.app")
        );
        assert_eq!(
            origin(
                &out,
                "DestinationRule",
                "spec.trafficPolicy.portLevelSettings[0].tls.sni"
            ),
            s("keycloak", "spec.ports[0].clientsideTls.sni")
        );
        assert_eq!(
            origin(&out, "DestinationRule", "spec.host"),
            s("keycloak", "spec.hosts[0]")
        );
        assert_eq!(origin(&out, "ServiceEntry", "metadata.name"), None);
    }

    #[test]
    fn virtual_service_routes_map_to_the_table_that_wrote_them() {
        let parent = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: parent, namespace: app}
spec:
  hosts: [www.example.com]
  http:
  - name: first
    directResponse: {status: 200}
  - name: delegate
    delegate:
      routeTables: [{labels: {parent: www}}]
  tcp:
  - forwardTo: {destinations: [{ref: {name: db}, port: {number: 5432}}]}
";
        let child = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: child, namespace: app, labels: {parent: www}}
spec:
  http:
  - name: a
    matchers: [{uri: {prefix: /a}}]
    directResponse: {status: 200}
  - name: b
    matchers: [{uri: {prefix: /b}}]
    directResponse: {status: 200}
";
        let (_, out) = rendered(&[("parent.yaml", parent), ("child.yaml", child)]);
        let s = |n: &str, f: &str| Some((n.to_string(), f.to_string()));
        let vs = "VirtualService";
        assert_eq!(
            origin(&out, vs, "spec.hosts[0]"),
            s("parent", "spec.hosts[0]")
        );
        assert_eq!(
            origin(&out, vs, "spec.http[0].name"),
            s("parent", "spec.http[0]")
        );
        assert_eq!(
            origin(&out, vs, "spec.http[2].match[0].uri.prefix"),
            s("child", "spec.http[1].matchers[0].uri.prefix")
        );
        assert_eq!(
            origin(&out, vs, "spec.tcp[0].route[0]"),
            s("parent", "spec.tcp[0]")
        );
        assert_eq!(
            origin(&out, vs, "spec.gateways[0]"),
            s("parent", "spec.virtualGateways")
        );
    }

    #[test]
    fn route_parts_map_to_the_fields_that_made_them() {
        let table = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: www, namespace: app}
spec:
  hosts: [www.example.com]
  defaultDestination: {ref: {name: orders}, port: {number: 80}}
  http:
  - name: rewrite
    matchers: [{uri: {prefix: /a}}, {uri: {prefix: /b}}]
    forwardTo:
      pathRewrite: /x
      hostRewrite: other.example.com
      destinations:
      - {ref: {name: orders}, port: {number: 80}, weight: 50}
      - {ref: {name: orders}, port: {number: 80}, subset: {version: v2}, weight: 50}
  - name: redirect
    redirect: {hostRedirect: example.org}
  - name: default
    forwardTo:
      regexRewrite: {pattern: {regex: '^/a'}, substitution: /b}
  - name: delegate
    matchers: [{uri: {prefix: /child}}]
    delegate:
      routeTables: [{labels: {parent: www}}]
";
        let child = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: child, namespace: app, labels: {parent: www}}
spec:
  http:
  - name: a
    matchers: [{uri: {prefix: /child/a}}]
    directResponse: {status: 200, body: ok}
";
        let svc = "apiVersion: v1
kind: Service
metadata: {name: orders, namespace: app}
spec:
  ports: [{name: http, port: 80}]
";
        let (_, out) = rendered(&[("rt.yaml", table), ("child.yaml", child), ("svc.yaml", svc)]);
        let s = |n: &str, f: &str| Some((n.to_string(), f.to_string()));
        let vs = "VirtualService";
        let cases = [
            (
                "spec.http[0].match[1].uri.prefix",
                s("www", "spec.http[0].matchers[1].uri.prefix"),
            ),
            (
                "spec.http[0].rewrite.uri",
                s("www", "spec.http[0].forwardTo.pathRewrite"),
            ),
            (
                "spec.http[0].rewrite.authority",
                s("www", "spec.http[0].forwardTo.hostRewrite"),
            ),
            (
                "spec.http[0].route[1].destination.subset",
                s("www", "spec.http[0].forwardTo.destinations[1]"),
            ),
            (
                "spec.http[1].redirect.authority",
                s("www", "spec.http[1].redirect"),
            ),
            (
                "spec.http[2].rewrite.uriRegexRewrite.match",
                s("www", "spec.http[2].forwardTo.regexRewrite.pattern.regex"),
            ),
            (
                "spec.http[2].route[0].destination.host",
                s("www", "spec.defaultDestination"),
            ),
            // A default matcher, and one merged with the delegating route's: the route.
            ("spec.http[1].match[0].uri", s("www", "spec.http[1]")),
            ("spec.http[3].match[0].uri", s("child", "spec.http[0]")),
            (
                "spec.http[3].directResponse.body.string",
                s("child", "spec.http[0].directResponse.body.string"),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(origin(&out, vs, path), want, "{path}");
        }
        assert_eq!(
            origin(&out, "DestinationRule", "spec.subsets[0].labels.version"),
            s(
                "www",
                "spec.http[0].forwardTo.destinations[1].subset.version"
            )
        );
    }

    #[test]
    fn merged_subset_rules_keep_where_each_subset_came_from() {
        let table = |name: &str, version: &str| {
            format!(
                "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {{name: {name}, namespace: app}}
spec:
  hosts: [{name}.example.com]
  http:
  - forwardTo:
      destinations:
      - {{ref: {{name: orders}}, port: {{number: 80}}, subset: {{version: {version}}}}}
"
            )
        };
        let svc = "apiVersion: v1
kind: Service
metadata: {name: orders, namespace: app}
spec:
  ports: [{name: http, port: 80}]
";
        // Table b's file comes first; the subsets follow the tables' names, not the files.
        let (a, b) = (table("a", "v2"), table("b", "v1"));
        let (_, out) = rendered(&[("z.yaml", &a), ("y.yaml", &b), ("svc.yaml", svc)]);
        let dr = out
            .objects
            .iter()
            .find(|o| o.id().kind == "DestinationRule")
            .expect("a DestinationRule");
        assert_eq!(dr.value["spec"]["subsets"][0]["name"], "version-v2");
        assert_eq!(dr.value["spec"]["subsets"][1]["name"], "version-v1");
        let at = |path: &str| {
            let (i, field) = dr.origins.source_field(path)?;
            Some((dr.sources[i].id.name.clone(), field))
        };
        let field = "spec.http[0].forwardTo.destinations[0].subset";
        assert_eq!(at("spec.subsets[0]"), Some(("a".into(), field.into())));
        assert_eq!(at("spec.subsets[1]"), Some(("b".into(), field.into())));
    }

    #[test]
    fn subsets_follow_the_routes_and_merge_in_any_order() {
        // Table a asks for v3, then v1 (route 0 dest 1 before route 1); table b, later by name,
        // for v2 first: each subset takes its first place in table order, not name order.
        let a = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: a, namespace: app}
spec:
  hosts: [a.example.com]
  http:
  - forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 80}, subset: {version: v3}, weight: 50}
      - {ref: {name: orders}, port: {number: 80}, subset: {version: v1}, weight: 50}
  - forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 80}, subset: {version: v3}}
";
        let b = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: b, namespace: app}
spec:
  hosts: [b.example.com]
  http:
  - forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 80}, subset: {version: v2}, weight: 50}
      - {ref: {name: orders}, port: {number: 80}, subset: {version: v1}, weight: 50}
";
        let svc = "apiVersion: v1
kind: Service
metadata: {name: orders, namespace: app}
spec:
  ports: [{name: http, port: 80}]
";
        let names = |files: &[(&str, &str)]| {
            let (_, out) = rendered(files);
            let dr = out
                .objects
                .iter()
                .find(|o| o.id().kind == "DestinationRule")
                .expect("a DestinationRule")
                .clone();
            let names: Vec<String> = dr.value["spec"]["subsets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| s["name"].as_str().unwrap_or("").to_string())
                .collect();
            names
        };
        let want = ["version-v3", "version-v1", "version-v2"];
        assert_eq!(
            names(&[("1.yaml", a), ("2.yaml", b), ("svc.yaml", svc)]),
            want
        );
        assert_eq!(
            names(&[("1.yaml", b), ("2.yaml", a), ("svc.yaml", svc)]),
            want
        );
    }

    #[test]
    fn gateway_servers_map_to_their_listeners() {
        let vg = "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: ingress, namespace: gw}
spec:
  workloads:
  - selector: {labels: {istio: ingressgateway}}
  listeners:
  - http: {}
    port: {number: 80}
  - http: {}
    port: {number: 8081}
";
        let svc = "apiVersion: v1
kind: Service
metadata: {name: ingress, namespace: gw, labels: {istio: ingressgateway}}
spec:
  type: LoadBalancer
  selector: {istio: ingressgateway}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: alt, port: 8081, targetPort: 8081}
";
        let (_, out) = rendered(&[("vg.yaml", vg), ("svc.yaml", svc)]);
        assert_eq!(
            origin(&out, "Gateway", "spec.servers[1].port.number"),
            Some(("ingress".to_string(), "spec.listeners[1]".to_string()))
        );
    }

    #[test]
    fn absorbing_sources_moves_their_origins_with_them() {
        let src = |name: &str| SourceRef {
            id: crate::manifest::ObjectId {
                api_version: "networking.gloo.solo.io/v2".into(),
                kind: "RouteTable".into(),
                namespace: "app".into(),
                name: name.into(),
            },
            location: Location {
                file: format!("{name}.yaml").into(),
                line: 1,
                column: 1,
            },
        };
        let mut sources = vec![src("m"), src("z")];
        let mut origins = Origins::default();
        use crate::istio::object::{FieldAt, Template};
        origins.add(
            FieldAt::key(Template::Hosts),
            1,
            FieldAt::key(Template::Hosts),
            true,
        );
        absorb(&mut sources, &mut origins, vec![src("a"), src("m")]);
        assert_eq!(sources, vec![src("a"), src("m"), src("z")]);
        assert_eq!(
            origins.source_field("spec.hosts[0]"),
            Some((2, "spec.hosts[0]".into())),
            "z moved from 1 to 2"
        );
    }
}
