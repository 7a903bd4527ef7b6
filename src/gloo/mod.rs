//! The typed Gloo Platform 2.x API and the workspace visibility graph built from it
//! (docs/translation.md); `refs` resolves the references between objects for the translator and
//! the policies alike, and `shared` holds the findings the two give alike.

pub mod clusters;
pub mod duration;
pub mod enums;
pub mod fields;
pub mod kinds;
pub mod refs;
pub mod rules;
pub mod shared;
pub mod types;
pub mod workspace;

pub use workspace::Workspaces;

use crate::config::Validate;
use crate::diag::codes::Typing;
use crate::diag::{suggest, Diagnostic, Severity};
use crate::hashing::FastMap;
use crate::incremental::Incr;
use crate::manifest::Object;
use crate::repo::Repo;
use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use types::*;

/// `networking.gloo.solo.io/v2`.
pub const NETWORKING_V2: &str = "networking.gloo.solo.io/v2";
/// `admin.gloo.solo.io/v2`.
pub const ADMIN_V2: &str = "admin.gloo.solo.io/v2";
/// `resilience.policy.gloo.solo.io/v2`.
pub const RESILIENCE_V2: &str = "resilience.policy.gloo.solo.io/v2";
/// apiVersion of Gloo's security policies.
pub const SECURITY_V2: &str = "security.policy.gloo.solo.io/v2";
/// apiVersion of Gloo's traffic control policies.
pub const TRAFFICCONTROL_V2: &str = "trafficcontrol.policy.gloo.solo.io/v2";

/// Identity and placement of a typed object.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    /// Index into `Repo::objects`.
    pub index: usize,
    /// metadata.name.
    pub name: String,
    /// metadata.namespace (`default` when unset, as kubectl does).
    pub namespace: String,
    /// Cluster the object is applied in.
    pub cluster: String,
    /// metadata.labels.
    pub labels: Labels,
    /// metadata.creationTimestamp, when the manifest has one: Gloo applies the oldest of
    /// several policies of one kind (docs/translation.md#policies).
    pub created: Option<Box<str>>,
}

/// A typed Gloo object.
#[derive(Debug, Clone)]
pub struct Typed<T> {
    /// Identity and placement.
    pub meta: Meta,
    /// The spec; shared, so a later revision's model can take an unchanged object's spec
    /// from an earlier one's without typing it again.
    pub spec: Arc<T>,
}

/// A Kubernetes Service from the repo (for SERVICE destinations and gateway discovery).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceInfo {
    /// Identity and placement.
    pub meta: Meta,
    /// spec.selector.
    pub selector: Labels,
    /// (name, port, targetPort) of spec.ports; targetPort is numeric or absent.
    pub ports: Vec<(String, u32, Option<u32>)>,
}

/// Every Gloo object of the repo, typed, with workspaces resolved.
#[derive(Debug, Default)]
pub struct Model {
    /// ExternalServices.
    pub external_services: Vec<Typed<ExternalServiceSpec>>,
    /// ExternalEndpoints.
    pub external_endpoints: Vec<Typed<ExternalEndpointSpec>>,
    /// RouteTables.
    pub route_tables: Vec<Typed<RouteTableSpec>>,
    /// VirtualDestinations.
    pub virtual_destinations: Vec<Typed<VirtualDestinationSpec>>,
    /// VirtualGateways.
    pub virtual_gateways: Vec<Typed<VirtualGatewaySpec>>,
    /// Workspaces.
    pub workspace_objects: Vec<Typed<WorkspaceSpec>>,
    /// WorkspaceSettings.
    pub workspace_settings: Vec<Typed<WorkspaceSettingsSpec>>,
    /// FaultInjectionPolicies.
    pub fault_policies: Vec<Typed<FaultInjectionPolicySpec>>,
    /// RetryTimeoutPolicies.
    pub retry_timeout_policies: Vec<Typed<RetryTimeoutPolicySpec>>,
    /// MirrorPolicies.
    pub mirror_policies: Vec<Typed<MirrorPolicySpec>>,
    /// HeaderManipulationPolicies.
    pub header_policies: Vec<Typed<HeaderManipulationPolicySpec>>,
    /// CORSPolicies.
    pub cors_policies: Vec<Typed<CorsPolicySpec>>,
    /// OutlierDetectionPolicies.
    pub outlier_policies: Vec<Typed<OutlierDetectionPolicySpec>>,
    /// LoadBalancerPolicies.
    pub load_balancer_policies: Vec<Typed<LoadBalancerPolicySpec>>,
    /// ConnectionPolicies.
    pub connection_policies: Vec<Typed<ConnectionPolicySpec>>,
    /// FailoverPolicies.
    pub failover_policies: Vec<Typed<FailoverPolicySpec>>,
    /// ClientTLSPolicies.
    pub client_tls_policies: Vec<Typed<ClientTlsPolicySpec>>,
    /// Kubernetes Services in the repo.
    pub services: Vec<ServiceInfo>,
    /// Workspace membership and import/export.
    pub workspaces: Workspaces,
    /// Lookup by kind → cluster → namespace → name → index into the kind's vector (nested so
    /// that lookups by `&str` allocate nothing).
    index: NameIndex,
    /// ExternalEndpoints by one of their labels (`key=value`) → indexes.
    endpoints_by_label: FastMap<String, Vec<usize>>,
}

/// Rewrites serde's `invalid type: string "http", expected u32` as
/// `expected an integer, found "http"`.
fn friendly(msg: &str) -> String {
    let Some(rest) = msg.strip_prefix("invalid type: ") else {
        return msg.to_string();
    };
    let Some((found, expected)) = rest.split_once(", expected ") else {
        return msg.to_string();
    };
    let found = found
        .strip_prefix("string ")
        .map(str::to_string)
        .or_else(|| found.strip_prefix("integer ").map(str::to_string))
        .or_else(|| found.strip_prefix("boolean ").map(str::to_string))
        .unwrap_or_else(|| found.to_string());
    let expected = match expected {
        "u32" | "i32" | "u64" | "i64" | "u16" | "usize" => "an integer",
        "a string" => "a string",
        "a boolean" => "a boolean",
        "f64" => "a number",
        e if e.starts_with("a sequence") => "a list",
        e if e.starts_with("a map") || e.starts_with("struct ") => "a mapping",
        e => e,
    };
    format!("expected {expected}, found {found}")
}

/// The identity and placement of repo object `index`, as typing gives it.
pub fn meta_of(index: usize, o: &Object) -> Meta {
    Meta {
        index,
        name: o.id.name.clone(),
        namespace: if o.id.namespace.is_empty() {
            "default".into()
        } else {
            o.id.namespace.clone()
        },
        cluster: o.cluster.clone(),
        labels: o
            .labels()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        created: o.value["metadata"]["creationTimestamp"]
            .as_str()
            .map(Box::from),
    }
}

/// A field path as meshform writes them (`http[0].matchers[0].uri.prefx`), from serde_ignored's
/// (`http.?.0.matchers.0.uri.?.prefx`, which marks options and newtypes with `?`).
fn field_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", field_path(parent)),
        Path::Map { parent, key } => match field_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => field_path(parent),
    }
}

/// An unknown field: where its mapping is (relative to `spec`) and its key.
struct Unknown {
    parent: String,
    key: String,
}

impl Unknown {
    fn of(path: &serde_ignored::Path) -> Unknown {
        match path {
            serde_ignored::Path::Map { parent, key } => Unknown {
                parent: field_path(parent),
                key: key.clone(),
            },
            p => Unknown {
                parent: String::new(),
                key: field_path(p),
            },
        }
    }

    /// `spec.<parent>.<key>`.
    fn field(&self) -> String {
        match self.parent.as_str() {
            "" => format!("spec.{}", self.key),
            p => format!("spec.{p}.{}", self.key),
        }
    }
}

/// The severity of a field meshform cannot honour under `validate`.
fn severity(validate: Validate) -> Severity {
    match validate {
        Validate::Strict => Severity::Error,
        Validate::Warn => Severity::Warning,
    }
}

/// What `--validate=warn` is, for the help of a strict finding.
const DOWNGRADE: &str = "--validate=warn or meshform.yaml `validate: warn` makes this a warning \
     and leaves the field out";

/// The finding for an unknown field: an error under `validate: strict` (kubectl's default), with
/// the nearest field the API has at that place; a warning under `validate: warn`.
fn unknown_field(repo: &Repo, o: &Object, u: &Unknown) -> Diagnostic {
    let field = u.field();
    let validate = repo.config.validate;
    let mut message = format!("{} has no field `{field}`", o.id.kind);
    if validate == Validate::Warn {
        message.push_str("; it is ignored");
    }
    // Only now are the schemas read: clean input never builds them.
    let known = fields::fields_at(&o.id.kind, &u.parent);
    let help = match suggest::nearest(&u.key, known.iter().map(String::as_str)) {
        Some(k) => format!("did you mean `{k}`?"),
        None if known.is_empty() => "check the spelling against the Gloo API reference".into(),
        None => format!("the fields here are {}", known.join(", ")),
    };
    strict_finding(repo, o, Typing::UnknownField, field, message, help)
}

/// A finding of strict input at `field`'s key: an error under `validate: strict`, whose help
/// (a whole sentence) then says how to downgrade it; a warning under `validate: warn`.
fn strict_finding(
    repo: &Repo,
    o: &Object,
    code: Typing,
    field: String,
    message: String,
    help: String,
) -> Diagnostic {
    let validate = repo.config.validate;
    let help = match validate {
        Validate::Strict => format!("{help} For a repo mid-migration, {DOWNGRADE}."),
        Validate::Warn => help,
    };
    Diagnostic::new(severity(validate), code, message)
        .at(repo.locate_key(o, &field))
        .on(o.id.clone())
        .field(field)
        .help(help)
}

/// The finding for a set field that meshform does not translate (docs/translation.md#fields).
fn untranslated_field(repo: &Repo, o: &Object, field: String) -> Diagnostic {
    let validate = repo.config.validate;
    let reason = match fields::entry(&o.id.kind, &fields::generic(&field)).map(|f| f.class) {
        Some(fields::Class::Rejected(r)) => r,
        _ => "",
    };
    let mut message = format!(
        "{} `{field}` is not supported yet: its effect would be missing from the output",
        o.id.kind
    );
    if validate == Validate::Warn {
        message.push_str("; it is left out");
    }
    let help = format!("meshform does not translate it: {reason}. Remove it.");
    strict_finding(repo, o, Typing::UnsupportedField, field, message, help)
}

/// Types `spec` of one object; a type error names file:line:col, the object and the field.
/// Fields the API does not have, and set fields meshform does not translate, are errors, or
/// warnings under `validate: warn`.
fn typed<T: DeserializeOwned + Default + fields::Untranslated + rules::Rules>(
    repo: &Repo,
    index: usize,
    o: &Object,
    diags: &mut Vec<Diagnostic>,
) -> Option<Typed<T>> {
    let spec_value = &o.value["spec"];
    let meta = meta_of(index, o);
    if spec_value.is_null() {
        return Some(Typed {
            meta,
            spec: Default::default(),
        });
    }
    let mut unknown = Vec::new();
    // Without tracking the path: almost every object types, and only an error needs it.
    let result: Result<T, _> =
        serde_ignored::deserialize(spec_value, |path| unknown.push(Unknown::of(&path)));
    match result {
        Ok(spec) => {
            let before = diags.len();
            for u in &unknown {
                diags.push(unknown_field(repo, o, u));
            }
            let mut untranslated = Vec::new();
            spec.untranslated(&mut untranslated);
            for field in untranslated {
                diags.push(untranslated_field(repo, o, field));
            }
            let mut broken = Vec::new();
            spec.broken(&mut broken);
            for b in broken {
                diags.push(
                    Diagnostic::error(Typing::ApiRule, format!("{}: {}", b.field, b.message))
                        .at(repo.locate(o, &b.field))
                        .on(o.id.clone())
                        .field(b.field)
                        .help(b.help),
                );
            }
            let failed = diags[before..]
                .iter()
                .any(|d| d.severity == Severity::Error);
            (!failed).then(|| Typed {
                meta,
                spec: Arc::new(spec),
            })
        }
        Err(first) => {
            // The same input again, now tracking where the error is.
            let mut track = serde_path_to_error::Track::new();
            let de = serde_path_to_error::Deserializer::new(spec_value, &mut track);
            let e = serde_ignored::deserialize::<_, _, T>(de, |_| {})
                .err()
                .unwrap_or(first);
            let path = track.path().to_string();
            let field = if path.is_empty() || path == "." {
                "spec".to_string()
            } else {
                format!("spec.{path}")
            };
            let msg = e.to_string();
            let d = match enums::unknown_value(&field, &msg) {
                Some((message, help)) => {
                    Diagnostic::error(Typing::UnknownValue, message).help(help)
                }
                None => Diagnostic::error(Typing::Type, format!("{field}: {}", friendly(&msg))),
            };
            diags.push(d.at(repo.locate(o, &field)).on(o.id.clone()).field(field));
            None
        }
    }
}

fn service_info(index: usize, o: &Object) -> ServiceInfo {
    let spec = &o.value["spec"];
    let selector = str_labels(&spec["selector"]);
    let ports = spec["ports"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let port = p["port"].as_u64()? as u32;
                    Some((
                        p["name"].as_str().unwrap_or("").to_string(),
                        port,
                        p["targetPort"].as_u64().map(|t| t as u32),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    ServiceInfo {
        meta: meta_of(index, o),
        selector,
        ports,
    }
}

type NameIndex = FastMap<&'static str, FastMap<String, FastMap<String, FastMap<String, usize>>>>;

/// One object, typed (or nothing, when it is not an API meshform translates or has a type
/// error). Short-lived: each is moved into the model right away, so the variants stay unboxed.
#[allow(clippy::large_enum_variant)]
enum Piece {
    None,
    ExternalService(Typed<ExternalServiceSpec>),
    ExternalEndpoint(Typed<ExternalEndpointSpec>),
    RouteTable(Typed<RouteTableSpec>),
    VirtualDestination(Typed<VirtualDestinationSpec>),
    VirtualGateway(Typed<VirtualGatewaySpec>),
    Workspace(Typed<WorkspaceSpec>),
    WorkspaceSettings(Typed<WorkspaceSettingsSpec>),
    FaultInjectionPolicy(Typed<FaultInjectionPolicySpec>),
    RetryTimeoutPolicy(Typed<RetryTimeoutPolicySpec>),
    MirrorPolicy(Typed<MirrorPolicySpec>),
    HeaderManipulationPolicy(Typed<HeaderManipulationPolicySpec>),
    CorsPolicy(Typed<CorsPolicySpec>),
    OutlierDetectionPolicy(Typed<OutlierDetectionPolicySpec>),
    LoadBalancerPolicy(Typed<LoadBalancerPolicySpec>),
    ConnectionPolicy(Typed<ConnectionPolicySpec>),
    FailoverPolicy(Typed<FailoverPolicySpec>),
    ClientTLSPolicy(Typed<ClientTlsPolicySpec>),
    Service(ServiceInfo),
}

/// The typed specs of one revision's objects, by object index (`None` where typing found
/// something to report, or the object is not a typed Gloo kind): what a later revision's
/// [`Model::build`] takes for its unchanged objects.
#[derive(Debug, Default)]
pub struct Specs(Vec<Option<Spec>>);

/// `Spec`, one variant per typed kind, and its conversions from and to [`Piece`].
macro_rules! specs {
    ($($kind:ident($spec:ty)),* $(,)?) => {
        /// One object's shared spec.
        #[derive(Debug, Clone)]
        enum Spec {
            $($kind(Arc<$spec>),)*
        }

        impl Spec {
            /// The spec of a typed piece (Services are read again: they are few, and not
            /// typed).
            fn of(p: &Piece) -> Option<Spec> {
                match p {
                    $(Piece::$kind(t) => Some(Spec::$kind(t.spec.clone())),)*
                    Piece::Service(_) | Piece::None => None,
                }
            }

            /// The piece of an object with this spec and `meta`.
            fn with(&self, meta: Meta) -> Piece {
                match self {
                    $(Spec::$kind(s) => Piece::$kind(Typed { meta, spec: s.clone() }),)*
                }
            }
        }
    };
}

specs!(
    ExternalService(ExternalServiceSpec),
    ExternalEndpoint(ExternalEndpointSpec),
    RouteTable(RouteTableSpec),
    VirtualDestination(VirtualDestinationSpec),
    VirtualGateway(VirtualGatewaySpec),
    Workspace(WorkspaceSpec),
    WorkspaceSettings(WorkspaceSettingsSpec),
    FaultInjectionPolicy(FaultInjectionPolicySpec),
    RetryTimeoutPolicy(RetryTimeoutPolicySpec),
    MirrorPolicy(MirrorPolicySpec),
    HeaderManipulationPolicy(HeaderManipulationPolicySpec),
    CorsPolicy(CorsPolicySpec),
    OutlierDetectionPolicy(OutlierDetectionPolicySpec),
    LoadBalancerPolicy(LoadBalancerPolicySpec),
    ConnectionPolicy(ConnectionPolicySpec),
    FailoverPolicy(FailoverPolicySpec),
    ClientTLSPolicy(ClientTlsPolicySpec),
);

fn type_one(repo: &Repo, i: usize, o: &Object, diags: &mut Vec<Diagnostic>) -> Piece {
    let (api, kind) = (o.id.api_version.as_str(), o.id.kind.as_str());
    let piece = match (api, kind) {
        (NETWORKING_V2, "ExternalService") => typed(repo, i, o, diags).map(Piece::ExternalService),
        (NETWORKING_V2, "ExternalEndpoint") => {
            typed(repo, i, o, diags).map(Piece::ExternalEndpoint)
        }
        (NETWORKING_V2, "RouteTable") => typed(repo, i, o, diags).map(Piece::RouteTable),
        (NETWORKING_V2, "VirtualDestination") => {
            typed(repo, i, o, diags).map(Piece::VirtualDestination)
        }
        (NETWORKING_V2, "VirtualGateway") => typed(repo, i, o, diags).map(Piece::VirtualGateway),
        (ADMIN_V2, "Workspace") => typed(repo, i, o, diags).map(Piece::Workspace),
        (ADMIN_V2, "WorkspaceSettings") => typed(repo, i, o, diags).map(Piece::WorkspaceSettings),
        (RESILIENCE_V2, "FaultInjectionPolicy") => {
            typed(repo, i, o, diags).map(Piece::FaultInjectionPolicy)
        }
        (RESILIENCE_V2, "RetryTimeoutPolicy") => {
            typed(repo, i, o, diags).map(Piece::RetryTimeoutPolicy)
        }
        (TRAFFICCONTROL_V2, "MirrorPolicy") => typed(repo, i, o, diags).map(Piece::MirrorPolicy),
        (TRAFFICCONTROL_V2, "HeaderManipulationPolicy") => {
            typed(repo, i, o, diags).map(Piece::HeaderManipulationPolicy)
        }
        (SECURITY_V2, "CORSPolicy") => typed(repo, i, o, diags).map(Piece::CorsPolicy),
        (RESILIENCE_V2, "OutlierDetectionPolicy") => {
            typed(repo, i, o, diags).map(Piece::OutlierDetectionPolicy)
        }
        (RESILIENCE_V2, "ConnectionPolicy") => {
            typed(repo, i, o, diags).map(Piece::ConnectionPolicy)
        }
        (TRAFFICCONTROL_V2, "LoadBalancerPolicy") => {
            typed(repo, i, o, diags).map(Piece::LoadBalancerPolicy)
        }
        (RESILIENCE_V2, "FailoverPolicy") => typed(repo, i, o, diags).map(Piece::FailoverPolicy),
        (SECURITY_V2, "ClientTLSPolicy") => typed(repo, i, o, diags).map(Piece::ClientTLSPolicy),
        ("v1", "Service") => Some(Piece::Service(service_info(i, o))),
        _ if o.id.is_gloo() => {
            // Not one of the typed kinds: the catalog says what it is (docs/translation.md#kinds).
            diags.extend(kinds::finding(repo, o, &repo.config.accept.kinds));
            None
        }
        _ => None,
    };
    piece.unwrap_or(Piece::None)
}

impl Model {
    /// Types every Gloo object; type errors name file:line:col, the object and the field.
    /// Objects are typed in parallel and collected in repo order.
    ///
    /// With `inc.earlier` (an earlier revision's [`Specs`] and the pairing of this repo's
    /// objects with its, `incremental::same_objects`), an object paired with one whose typing
    /// found nothing takes that spec instead of being typed again: typing reads the value
    /// alone, and equal values type alike. With `inc.record`, also this revision's [`Specs`].
    pub fn build(repo: &Repo, inc: Incr<'_, &Specs>) -> (Model, Vec<Diagnostic>, Option<Specs>) {
        let record = inc.record;
        let earlier = inc.earlier.map(|e| (e.memo, e.same));
        use rayon::prelude::*;
        let taken = |i: usize| {
            let (specs, same) = earlier?;
            let j = (*same.get(i)?)?;
            specs.0.get(j)?.as_ref()
        };
        let pieces: Vec<(Piece, Vec<Diagnostic>)> = repo
            .objects
            .par_iter()
            .enumerate()
            .map(|(i, o)| {
                if let Some(spec) = taken(i) {
                    return (spec.with(meta_of(i, o)), Vec::new());
                }
                let mut diags = Vec::new();
                let piece = type_one(repo, i, o, &mut diags);
                (piece, diags)
            })
            .collect();
        let specs = record.then(|| {
            Specs(
                pieces
                    .par_iter()
                    .map(|(p, ds)| if ds.is_empty() { Spec::of(p) } else { None })
                    .collect(),
            )
        });
        let mut m = Model::default();
        let mut diags = Vec::new();
        for (piece, ds) in pieces {
            diags.extend(ds);
            match piece {
                Piece::None => {}
                Piece::ExternalService(t) => m.external_services.push(t),
                Piece::ExternalEndpoint(t) => m.external_endpoints.push(t),
                Piece::RouteTable(t) => m.route_tables.push(t),
                Piece::VirtualDestination(t) => m.virtual_destinations.push(t),
                Piece::VirtualGateway(t) => m.virtual_gateways.push(t),
                Piece::Workspace(t) => m.workspace_objects.push(t),
                Piece::WorkspaceSettings(t) => m.workspace_settings.push(t),
                Piece::FaultInjectionPolicy(t) => m.fault_policies.push(t),
                Piece::RetryTimeoutPolicy(t) => m.retry_timeout_policies.push(t),
                Piece::MirrorPolicy(t) => m.mirror_policies.push(t),
                Piece::HeaderManipulationPolicy(t) => m.header_policies.push(t),
                Piece::CorsPolicy(t) => m.cors_policies.push(t),
                Piece::OutlierDetectionPolicy(t) => m.outlier_policies.push(t),
                Piece::LoadBalancerPolicy(t) => m.load_balancer_policies.push(t),
                Piece::ConnectionPolicy(t) => m.connection_policies.push(t),
                Piece::FailoverPolicy(t) => m.failover_policies.push(t),
                Piece::ClientTLSPolicy(t) => m.client_tls_policies.push(t),
                Piece::Service(t) => m.services.push(t),
            }
        }
        m.build_index();
        let (ws, ws_diags) = Workspaces::build(repo, &m);
        m.workspaces = ws;
        diags.extend(ws_diags);
        diags.extend(clusters::undeclared(repo, &m));
        (m, diags, specs)
    }

    fn build_index(&mut self) {
        fn add(idx: &mut NameIndex, kind: &'static str, m: &Meta, i: usize) {
            idx.entry(kind)
                .or_default()
                .entry(m.cluster.clone())
                .or_default()
                .entry(m.namespace.clone())
                .or_default()
                .entry(m.name.clone())
                .or_insert(i);
        }
        let mut idx = NameIndex::default();
        for (i, o) in self.external_services.iter().enumerate() {
            add(&mut idx, "ExternalService", &o.meta, i);
        }
        for (i, o) in self.virtual_destinations.iter().enumerate() {
            add(&mut idx, "VirtualDestination", &o.meta, i);
        }
        for (i, o) in self.virtual_gateways.iter().enumerate() {
            add(&mut idx, "VirtualGateway", &o.meta, i);
        }
        for (i, o) in self.services.iter().enumerate() {
            add(&mut idx, "Service", &o.meta, i);
        }
        self.index = idx;
        let mut by_label: FastMap<String, Vec<usize>> = FastMap::default();
        for (i, e) in self.external_endpoints.iter().enumerate() {
            for (k, v) in &e.meta.labels {
                by_label.entry(format!("{k}={v}")).or_default().push(i);
            }
        }
        self.endpoints_by_label = by_label;
    }

    fn lookup(
        &self,
        kind: &'static str,
        cluster: &str,
        namespace: &str,
        name: &str,
    ) -> Option<usize> {
        self.index
            .get(kind)?
            .get(cluster)?
            .get(namespace)?
            .get(name)
            .copied()
    }

    /// The ExternalService at (cluster, namespace, name).
    pub fn external_service(
        &self,
        cluster: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&Typed<ExternalServiceSpec>> {
        self.lookup("ExternalService", cluster, namespace, name)
            .map(|i| &self.external_services[i])
    }

    /// The VirtualDestination at (cluster, namespace, name).
    pub fn virtual_destination(
        &self,
        cluster: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&Typed<VirtualDestinationSpec>> {
        self.lookup("VirtualDestination", cluster, namespace, name)
            .map(|i| &self.virtual_destinations[i])
    }

    /// The VirtualGateway at (cluster, namespace, name).
    pub fn virtual_gateway(
        &self,
        cluster: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&Typed<VirtualGatewaySpec>> {
        self.lookup("VirtualGateway", cluster, namespace, name)
            .map(|i| &self.virtual_gateways[i])
    }

    /// The Service manifest at (cluster, namespace, name).
    pub fn service(&self, cluster: &str, namespace: &str, name: &str) -> Option<&ServiceInfo> {
        self.lookup("Service", cluster, namespace, name)
            .map(|i| &self.services[i])
    }

    /// ExternalEndpoints whose labels include every selector label (an empty selector selects
    /// none), found through a label index.
    pub fn endpoints_matching(&self, selector: &Labels) -> Vec<&Typed<ExternalEndpointSpec>> {
        let Some((k, v)) = selector.iter().next() else {
            return Vec::new();
        };
        self.endpoints_by_label
            .get(&format!("{k}={v}"))
            .into_iter()
            .flatten()
            .map(|i| &self.external_endpoints[*i])
            .filter(|e| labels_match(selector, &e.meta.labels))
            .collect()
    }

    /// Name of the workspace that owns `namespace` in `cluster`.
    pub fn workspace_of(&self, cluster: &str, namespace: &str) -> Option<&str> {
        self.workspaces.owner(cluster, namespace)
    }

    /// True if repo object `object_index` is visible in `workspace`: owned by it, or exported
    /// by its owner to it and imported by it (docs/translation.md#workspaces).
    pub fn visible_in(&self, repo: &Repo, object_index: usize, workspace: &str) -> bool {
        let Some(o) = repo.objects.get(object_index) else {
            return false;
        };
        let meta = meta_of(object_index, o);
        self.workspaces.visible(&meta, &o.id.kind, workspace)
    }
}

/// A JSON map's string entries as Labels (other values are skipped).
pub fn str_labels(v: &crate::node::Node) -> Labels {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.to_string(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// True if every selector label is present with the same value.
pub fn labels_match(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// `*` glob match as Gloo uses it for names (docs/translation.md#references-and-selectors).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == name;
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else {
            match rest.find(p) {
                Some(pos) => rest = &rest[pos + p.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Converts a string map into `Labels`.
pub fn to_labels(m: &IndexMap<String, String>) -> Labels {
    m.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_messages() {
        assert_eq!(
            friendly("invalid type: string \"http\", expected u32"),
            "expected an integer, found \"http\""
        );
        assert_eq!(friendly("missing field `x`"), "missing field `x`");
    }

    /// A later revision takes the spec of every object whose typing found nothing, and types
    /// the rest again, so its model and diagnostics are those of typing it alone.
    #[test]
    fn a_later_revision_takes_the_specs_of_quiet_unchanged_objects() {
        use crate::repo::LoadOptions;
        use crate::source::Origin;
        let es = |name: &str, port: u32, extra: &str| {
            format!(
                "apiVersion: networking.gloo.solo.io/v2\nkind: ExternalService\nmetadata:\n  name: {name}\n  namespace: web\nspec:\n  hosts: [{name}.example.com]\n  ports:\n  - {{name: https, number: {port}, protocol: HTTPS}}\n{extra}"
            )
        };
        let tmp = tempfile::tempdir().unwrap();
        let write = |dir: &str, files: &[(&str, String)]| {
            let root = tmp.path().join(dir);
            std::fs::create_dir_all(&root).unwrap();
            for (f, text) in files {
                std::fs::write(root.join(f), text).unwrap();
            }
            root
        };
        // `a` has an unknown field (a warning under `validate: warn`), `b` is quiet, `c` changes its port, and `d`
        // moves down a line in its file with its value unchanged.
        let noisy = es("a", 443, "  bogus: 1\n");
        let base = write(
            "base",
            &[
                ("a.yaml", noisy.clone()),
                ("b.yaml", es("b", 443, "")),
                (
                    "cd.yaml",
                    format!("{}---\n{}", es("c", 443, ""), es("d", 443, "")),
                ),
            ],
        );
        let head = write(
            "head",
            &[
                ("a.yaml", noisy),
                ("b.yaml", es("b", 443, "")),
                (
                    "cd.yaml",
                    format!("{}---\n\n{}", es("c", 8443, ""), es("d", 443, "")),
                ),
            ],
        );
        let load = LoadOptions {
            validate: Some(Validate::Warn),
            ..LoadOptions::default()
        };
        let base = Repo::load(&Origin::Dir(base), &load).unwrap();
        use crate::incremental::Earlier;
        let recording = Incr {
            record: true,
            earlier: None,
        };
        let (base_model, _, specs) = Model::build(&base, recording);
        let specs = specs.unwrap();
        let head_repo = Repo::load_after(&Origin::Dir(head), &load, &base).unwrap();
        let same = crate::incremental::same_objects(&head_repo, &base);
        let earlier = Earlier {
            repo: &base,
            same: &same,
            memo: &specs,
        };
        let taken_inc = Incr {
            record: false,
            earlier: Some(earlier),
        };
        let (taken, taken_diags, _) = Model::build(&head_repo, taken_inc);
        let (alone, alone_diags, _) = Model::build(&head_repo, Incr::OFF);
        assert_eq!(taken_diags, alone_diags);
        assert!(
            taken_diags.iter().any(|d| d.code == "unknown-field"),
            "{taken_diags:?}"
        );
        let shared = |name: &str| {
            let spec = |m: &Model| {
                m.external_services
                    .iter()
                    .find(|t| t.meta.name == name)
                    .map(|t| t.spec.clone())
                    .unwrap()
            };
            assert_eq!(spec(&taken), spec(&alone), "{name}");
            Arc::ptr_eq(&spec(&taken), &spec(&base_model))
        };
        assert!(
            shared("b"),
            "a quiet object in a file taken whole is typed again"
        );
        assert!(shared("d"), "a quiet object that moved is typed again");
        assert!(!shared("a"), "an object with a warning is taken");
        assert!(!shared("c"), "a changed object is taken");
        let metas = |m: &Model| {
            m.external_services
                .iter()
                .map(|t| (t.meta.index, t.meta.name.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(metas(&taken), metas(&alone));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("web-*", "web-frontend"));
        assert!(!glob_match("web-*", "api"));
        assert!(glob_match("*-prod", "a-prod"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
    }
}
