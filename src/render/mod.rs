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
        let s = |p: &str| self.value.pointer(p).and_then(Value::as_str).unwrap_or("").to_string();
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

/// Renders every selected cluster.
pub fn render(repo: &Repo, model: &Model, opts: &RenderOptions) -> Output {
    let _ = (repo, model, opts);
    Output::default()
}
