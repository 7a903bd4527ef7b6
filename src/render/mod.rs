//! Translation of the typed Gloo model into the Istio objects Gloo's management server would
//! write, following shared/reference/gloo-translation.md §9. One submodule per output kind;
//! `emit` turns the result into a YAML stream, JSON or an out-dir.

pub mod emit;

use crate::diag::Diagnostic;
use crate::gloo::Model;
use crate::manifest::{Location, ObjectId};
use crate::repo::Repo;
use serde::Serialize;
use serde_json::Value;

/// Which Istio networking API version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
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
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Only these clusters (empty: all).
    pub clusters: Vec<String>,
    /// Istio API version.
    pub istio_api: IstioApi,
    /// Also emit the repo's non-Gloo objects.
    pub passthrough: bool,
}

/// A Gloo source object that contributed to a rendered object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceRef {
    /// The source object.
    pub id: ObjectId,
    /// Where it is written.
    pub location: Location,
}

/// One rendered Istio (or passthrough) object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rendered {
    /// The cluster it is written to.
    pub cluster: String,
    /// The object, keys in a stable order.
    pub value: Value,
    /// Where it came from (for diff attribution and diagnostics).
    pub sources: Vec<SourceRef>,
}

impl Rendered {
    /// apiVersion, kind, namespace, name of the rendered object.
    pub fn id(&self) -> ObjectId {
        let s = |p: &str| {
            self.value
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        ObjectId {
            api_version: s("/apiVersion"),
            kind: s("/kind"),
            namespace: s("/metadata/namespace"),
            name: s("/metadata/name"),
        }
    }

    /// The output sort key: cluster, apiVersion, kind, namespace, name.
    pub fn sort_key(&self) -> (String, ObjectId) {
        (self.cluster.clone(), self.id())
    }
}

/// Rendered objects plus what translation found (broken references, unsupported fields).
#[derive(Debug, Default)]
pub struct Output {
    /// Sorted rendered objects.
    pub objects: Vec<Rendered>,
    /// Translation findings.
    pub diagnostics: Vec<Diagnostic>,
}

/// True for the API groups meshform translates (their objects are never passed through).
pub fn is_gloo_group(group: &str) -> bool {
    group.ends_with(".gloo.solo.io")
}

/// Renders every selected cluster.
pub fn render(repo: &Repo, model: &Model, opts: &RenderOptions) -> Output {
    let _ = model;
    let selected = |c: &str| opts.clusters.is_empty() || opts.clusters.iter().any(|s| s == c);
    let mut out = Output::default();
    if opts.passthrough {
        out.objects.extend(passthrough(repo, &selected));
    }
    out.objects.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// Non-Gloo objects of the repo, unchanged but for key order, in their own cluster.
fn passthrough(repo: &Repo, selected: &dyn Fn(&str) -> bool) -> Vec<Rendered> {
    repo.objects
        .iter()
        .filter(|o| !is_gloo_group(o.id.group()) && selected(&o.cluster))
        .map(|o| Rendered {
            cluster: o.cluster.clone(),
            value: emit::canonical(&o.value),
            sources: vec![SourceRef {
                id: o.id.clone(),
                location: o.location.clone(),
            }],
        })
        .collect()
}
