//! serde types for the Gloo Platform 2.x specs meshform reads.
//!
//! Field names, defaults and constraints follow Solo's protos (S1 in docs/translation.md,
//! "Sources"); the rules they carry are in
//! docs/translation.md#rules-from-the-api-and-the-observed-output. Fields meshform does not
//! translate are still typed where the protos list them, so a wrong type is reported, not ignored.

use super::duration::Duration;
pub use super::enums::{
    AppProtocol, ClientTlsMode, FailureMode, ListenerTlsMode, ObjectKind, Protocol, RedirectCode,
    SortMethod, TlsProtocolVersion, WorkloadKind,
};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Labels or selector maps keep the order they were written in.
pub type Labels = IndexMap<String, String>;

// ----- common.gloo.solo.io ------------------------------------------------------------------

/// ObjectReference: namespace and cluster default to the parent's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Namespace; the parent's when empty.
    #[serde(default)]
    pub namespace: String,
    /// Cluster; the parent's when empty.
    #[serde(default)]
    pub cluster: String,
}

/// ObjectSelector: empty fields match anything available in the parent's workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectSelector {
    /// Labels the object must carry.
    #[serde(default)]
    pub labels: Labels,
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Namespace.
    #[serde(default)]
    pub namespace: String,
    /// Cluster.
    #[serde(default)]
    pub cluster: String,
    /// Workspace.
    #[serde(default)]
    pub workspace: String,
}

/// PortSelector: a number (1..65535) or a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortSelector {
    /// Port number.
    #[serde(default)]
    pub number: Option<u32>,
    /// Port name.
    #[serde(default)]
    pub name: Option<String>,
}

/// DestinationKind.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DestinationKind {
    /// A Kubernetes Service (default).
    #[default]
    Service,
    /// A Gloo VirtualDestination.
    VirtualDestination,
    /// A Gloo ExternalService.
    ExternalService,
}

/// DestinationReference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationReference {
    /// The destination object.
    #[serde(default)]
    pub r#ref: Option<ObjectReference>,
    /// AWS Lambda destination (not translated).
    #[serde(default)]
    pub aws_lambda: Option<Box<serde_json::Value>>,
    /// What the reference points at.
    #[serde(default)]
    pub kind: DestinationKind,
    /// Required if the destination has more than one port.
    #[serde(default)]
    pub port: Option<PortSelector>,
    /// Endpoint subset by labels.
    #[serde(default)]
    pub subset: Labels,
    /// Share of traffic (docs/translation.md#routetable-rules).
    #[serde(default)]
    pub weight: Option<u32>,
}

/// WorkloadSelector.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSelector {
    /// Which workloads.
    #[serde(default)]
    pub selector: Option<ObjectSelector>,
    /// `KUBE` (default) or `VM`.
    #[serde(default)]
    pub kind: Option<WorkloadKind>,
    /// Which workload port.
    #[serde(default)]
    pub port: Option<PortSelector>,
}

/// StringMatch: one of exact, prefix, regex, suffix; plus ignoreCase.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct StringMatch {
    /// Exact match.
    #[serde(default)]
    pub exact: Option<String>,
    /// Prefix match.
    #[serde(default)]
    pub prefix: Option<String>,
    /// RE2 regex.
    #[serde(default)]
    pub regex: Option<String>,
    /// Suffix match ("not currently supported in Gloo Platform").
    #[serde(default)]
    pub suffix: Option<String>,
    /// Case-insensitive (exact, prefix, suffix).
    #[serde(default)]
    pub ignore_case: bool,
}

/// HeaderMatcher.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct HeaderMatcher {
    /// Header name.
    #[serde(default)]
    pub name: String,
    /// Value; absent means presence is enough.
    #[serde(default)]
    pub value: Option<String>,
    /// Treat value as a regex.
    #[serde(default)]
    pub regex: bool,
    /// Match when the header does not match.
    #[serde(default)]
    pub invert_match: bool,
}

/// QueryParameterMatcher.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct QueryParameterMatcher {
    /// Parameter name.
    #[serde(default)]
    pub name: String,
    /// Value; absent means presence is enough.
    #[serde(default)]
    pub value: Option<String>,
    /// Treat value as a regex.
    #[serde(default)]
    pub regex: bool,
}

/// HTTPRequestMatcher.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct HttpRequestMatcher {
    /// Unsupported by Gloo.
    #[serde(default)]
    pub name: Option<String>,
    /// Path match.
    #[serde(default)]
    pub uri: Option<StringMatch>,
    /// All must match.
    #[serde(default)]
    pub headers: Vec<HeaderMatcher>,
    /// All must match.
    #[serde(default)]
    pub query_parameters: Vec<QueryParameterMatcher>,
    /// HTTP method.
    #[serde(default)]
    pub method: Option<String>,
    /// Port 0..65535.
    #[serde(default)]
    pub port: Option<u32>,
}

/// TCPRequestMatcher.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TcpRequestMatcher {
    /// Port.
    #[serde(default)]
    pub port: Option<u32>,
}

/// TLSRequestMatcher.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsRequestMatcher {
    /// SNI hosts.
    #[serde(default)]
    pub sni_hosts: Vec<String>,
    /// Port.
    #[serde(default)]
    pub port: Option<u32>,
}

/// Locality.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Locality {
    /// Region.
    #[serde(default)]
    pub region: String,
    /// Zone.
    #[serde(default)]
    pub zone: String,
    /// Sub-zone.
    #[serde(default)]
    pub sub_zone: String,
}

// ----- ExternalService ----------------------------------------------------------------------

/// ExternalService spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalServiceSpec {
    /// Hostnames (mutually exclusive with addresses).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// IPs or CIDRs (mutually exclusive with hosts).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Ports.
    #[serde(default)]
    pub ports: Vec<ExternalServicePort>,
    /// Selects ExternalEndpoints by their metadata.labels.
    #[serde(default)]
    pub selector: Labels,
    /// Server certificate SANs.
    #[serde(default)]
    pub subject_alt_names: Vec<String>,
}

/// ExternalService port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalServicePort {
    /// Port number.
    #[serde(default)]
    pub number: u32,
    /// Port on the backing endpoints; defaults to `number`.
    #[serde(default)]
    pub target_port: Option<PortSelector>,
    /// Port name.
    #[serde(default)]
    pub name: String,
    /// HTTP, HTTPS, GRPC, HTTP2, MONGO, TCP or TLS; `""` is unset.
    #[serde(default, deserialize_with = "super::enums::empty_unset")]
    pub protocol: Option<Protocol>,
    /// Client-side TLS.
    #[serde(default)]
    pub clientside_tls: Option<ClientsideTls>,
    /// Egress VirtualGateways this port is reached through.
    #[serde(default)]
    pub egress_gateway_routes: Option<EgressGatewayRoutes>,
}

/// EgressGatewayRoutes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EgressGatewayRoutes {
    /// The port mesh traffic is matched on; 80 when unset or 0.
    #[serde(default)]
    pub port_match: Option<u32>,
    /// The egress VirtualGateways; traffic is load-balanced across them.
    #[serde(default)]
    pub virtual_gateway_refs: Vec<ObjectReference>,
}

impl EgressGatewayRoutes {
    /// `portMatch`, defaulting to 80 (docs/translation.md#egress, [C]).
    pub fn port_match(&self) -> u32 {
        self.port_match.filter(|p| *p != 0).unwrap_or(80)
    }
}

/// TlsConfig.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientsideTls {
    /// SNI; the single host when empty.
    #[serde(default)]
    pub sni: String,
    /// SIMPLE (default), DISABLE, MUTUAL, ISTIO_MUTUAL.
    #[serde(default)]
    pub mode: Option<ClientTlsMode>,
    /// File path.
    #[serde(default)]
    pub client_certificate: String,
    /// File path.
    #[serde(default)]
    pub private_key: String,
    /// File path.
    #[serde(default)]
    pub ca_certificates: String,
    /// Secret name.
    #[serde(default)]
    pub credential_name: String,
    /// Skip verification.
    #[serde(default)]
    pub insecure_skip_verify: Option<bool>,
}

// ----- ExternalEndpoint ---------------------------------------------------------------------

/// ExternalEndpoint spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalEndpointSpec {
    /// IP, FQDN or unix:// path.
    #[serde(default)]
    pub address: String,
    /// Ports the address listens on.
    #[serde(default)]
    pub ports: Vec<EndpointPort>,
    /// Locality.
    #[serde(default)]
    pub locality: Option<Locality>,
}

/// ExternalEndpoint port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPort {
    /// Required with more than one port.
    #[serde(default)]
    pub name: String,
    /// Port number.
    #[serde(default)]
    pub number: u32,
}

// ----- RouteTable ---------------------------------------------------------------------------

/// RouteTable spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteTableSpec {
    /// Hosts; empty for delegated (child) tables.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Gateways serving the table; unset means sidecars.
    #[serde(default)]
    pub virtual_gateways: Option<Vec<ObjectReference>>,
    /// Source sidecars for east-west routing.
    #[serde(default)]
    pub workload_selectors: Option<Vec<WorkloadSelector>>,
    /// Producer-side routing (not translated).
    #[serde(default)]
    pub apply_to_destinations: Option<Vec<serde_json::Value>>,
    /// Used by forwardTo actions without destinations.
    #[serde(default)]
    pub default_destination: Option<DestinationReference>,
    /// HTTP routes.
    #[serde(default)]
    pub http: Option<Vec<HttpRoute>>,
    /// TCP routes.
    #[serde(default)]
    pub tcp: Option<Vec<TcpRoute>>,
    /// TLS routes.
    #[serde(default)]
    pub tls: Option<Vec<TlsRoute>>,
    /// Orders delegated tables (higher first).
    #[serde(default)]
    pub weight: i32,
    /// Developer portal only.
    #[serde(default)]
    pub portal_metadata: Option<Box<serde_json::Value>>,
    /// ROUTE_REPLACEMENT (default) or FREEZE_CONFIG.
    #[serde(default)]
    pub failure_mode: Option<FailureMode>,
    /// Annotations for the generated VirtualService (parent tables only).
    #[serde(default)]
    pub virtual_service_annotations: Labels,
}

/// HTTPRoute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpRoute {
    /// Unique within the table.
    #[serde(default)]
    pub name: String,
    /// Used by policy routeSelectors.
    #[serde(default)]
    pub labels: Labels,
    /// Empty means all HTTP traffic.
    #[serde(default)]
    pub matchers: Vec<HttpRequestMatcher>,
    /// Forward action.
    #[serde(default)]
    pub forward_to: Option<ForwardToAction>,
    /// Delegate action.
    #[serde(default)]
    pub delegate: Option<Box<DelegateAction>>,
    /// Redirect action.
    #[serde(default)]
    pub redirect: Option<Box<RedirectAction>>,
    /// Direct response action.
    #[serde(default)]
    pub direct_response: Option<Box<DirectResponseAction>>,
    /// GraphQL action (not translated).
    #[serde(default)]
    pub graphql: Option<Box<serde_json::Value>>,
}

/// ForwardToAction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForwardToAction {
    /// At most 100; empty means the table's defaultDestination.
    #[serde(default)]
    pub destinations: Option<Vec<DestinationReference>>,
    /// Replaces the matched prefix or path.
    #[serde(default)]
    pub path_rewrite: Option<String>,
    /// Regex rewrite.
    #[serde(default)]
    pub regex_rewrite: Option<Box<RegexRewrite>>,
    /// New Host/Authority.
    #[serde(default)]
    pub host_rewrite: Option<String>,
    /// Rewrite Host to the upstream's hostname.
    #[serde(default)]
    pub auto_host_rewrite: Option<bool>,
}

/// Envoy RegexMatchAndSubstitute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegexRewrite {
    /// `{regex}`.
    #[serde(default)]
    pub pattern: RegexPattern,
    /// Substitution with `\1` groups.
    #[serde(default)]
    pub substitution: String,
}

/// `{regex: ...}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegexPattern {
    /// RE2 regex.
    #[serde(default)]
    pub regex: String,
    /// Envoy's regex engine options (ignored).
    #[serde(default)]
    pub google_re2: Option<Box<serde_json::Value>>,
}

/// DelegateAction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegateAction {
    /// Child tables.
    #[serde(default)]
    pub route_tables: Vec<ObjectSelector>,
    /// Route filters (not translated).
    #[serde(default)]
    pub allowed_routes: Option<Vec<serde_json::Value>>,
    /// TABLE_WEIGHT (default) or ROUTE_SPECIFICITY.
    #[serde(default)]
    pub sort_method: Option<SortMethod>,
}

/// RedirectAction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedirectAction {
    /// New host.
    #[serde(default)]
    pub host_redirect: Option<String>,
    /// New path.
    #[serde(default)]
    pub path_redirect: Option<String>,
    /// MOVED_PERMANENTLY (default), FOUND, SEE_OTHER, TEMPORARY_REDIRECT, PERMANENT_REDIRECT.
    #[serde(default)]
    pub response_code: Option<RedirectCode>,
}

/// DirectResponseAction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DirectResponseAction {
    /// HTTP status.
    #[serde(default)]
    pub status: u32,
    /// Body, at most 1 MB.
    #[serde(default)]
    pub body: Option<String>,
}

/// TCPRoute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TcpRoute {
    /// Port matchers.
    #[serde(default)]
    pub matchers: Vec<TcpRequestMatcher>,
    /// Required; Service or VirtualDestination destinations only.
    #[serde(default)]
    pub forward_to: Option<ForwardToAction>,
}

/// TLSRoute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsRoute {
    /// SNI matchers.
    #[serde(default)]
    pub matchers: Vec<TlsRequestMatcher>,
    /// Required.
    #[serde(default)]
    pub forward_to: Option<ForwardToAction>,
}

// ----- VirtualDestination -------------------------------------------------------------------

/// VirtualDestination spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VirtualDestinationSpec {
    /// Hosts; no `*`.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Backing Services.
    #[serde(default)]
    pub services: Vec<ObjectSelector>,
    /// Backing ExternalServices.
    #[serde(default)]
    pub external_services: Vec<ObjectSelector>,
    /// Backing ExternalWorkloads (not translated).
    #[serde(default)]
    pub external_workloads: Vec<ObjectSelector>,
    /// At least one.
    #[serde(default)]
    pub ports: Vec<VirtualDestinationPort>,
    /// Client mode (not translated).
    #[serde(default)]
    pub client_mode: Option<Box<serde_json::Value>>,
}

/// VirtualDestination port.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VirtualDestinationPort {
    /// 1..65535.
    #[serde(default)]
    pub number: u32,
    /// Protocol (any case); `""` is unset.
    #[serde(default, deserialize_with = "super::enums::empty_unset")]
    pub protocol: Option<Protocol>,
    /// Backend port; defaults to `number`.
    #[serde(default)]
    pub target_port: Option<PortSelector>,
}

// ----- VirtualGateway -----------------------------------------------------------------------

/// VirtualGateway spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VirtualGatewaySpec {
    /// Gateway workloads in the same workspace.
    #[serde(default)]
    pub workloads: Option<Vec<WorkloadSelector>>,
    /// Listeners.
    #[serde(default)]
    pub listeners: Vec<Listener>,
}

/// VirtualGateway listener.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Listener {
    /// A port of the gateway Service.
    #[serde(default)]
    pub port: Option<PortSelector>,
    /// TLS termination.
    #[serde(default)]
    pub tls: Option<ListenerTls>,
    /// Redirect HTTP to HTTPS.
    #[serde(default)]
    pub https_redirect: Option<bool>,
    /// HTTP listener.
    #[serde(default)]
    pub http: Option<Box<serde_json::Value>>,
    /// TCP listener.
    #[serde(default)]
    pub tcp: Option<Box<serde_json::Value>>,
    /// Which RouteTables may bind.
    #[serde(default)]
    pub allowed_route_tables: Option<Vec<AllowedRouteTable>>,
    /// Egress: the ExternalServices this listener exposes; empty or unset exposes all.
    #[serde(default)]
    pub exposed_external_services: Option<Vec<ExternalServiceFilter>>,
    /// Application protocol (any case); inferred when unset or `""`.
    #[serde(default, deserialize_with = "super::enums::empty_unset")]
    pub app_protocol: Option<AppProtocol>,
}

/// VirtualGateway listener TLS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListenerTls {
    /// Kubernetes secret.
    #[serde(default)]
    pub secret_name: Option<String>,
    /// Files on the gateway.
    #[serde(default)]
    pub files: Option<TlsFiles>,
    /// Client SANs to verify.
    #[serde(default)]
    pub verify_subject_alt_name: Vec<String>,
    /// Protocol parameters.
    #[serde(default)]
    pub parameters: Option<TlsParameters>,
    /// PASSTHROUGH (default), SIMPLE, MUTUAL, AUTO_PASSTHROUGH, ISTIO_MUTUAL.
    #[serde(default)]
    pub mode: Option<ListenerTlsMode>,
}

/// Listener TLS files.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsFiles {
    /// Server certificate path.
    #[serde(default)]
    pub server_cert: String,
    /// Private key path.
    #[serde(default)]
    pub private_key: String,
    /// CA bundle path.
    #[serde(default)]
    pub ca_certs: String,
}

/// Listener TLS parameters (virtual_gateway.proto `TLSConfig.Parameters`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TlsParameters {
    /// Minimum TLS version (`TLSv1_2`).
    #[serde(default)]
    pub minimum_protocol_version: Option<TlsProtocolVersion>,
    /// Maximum TLS version.
    #[serde(default)]
    pub maximum_protocol_version: Option<TlsProtocolVersion>,
    /// Cipher suites (OpenSSL names).
    #[serde(default)]
    pub cipher_suites: Vec<String>,
}

/// A listener's allowedRouteTables entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllowedRouteTable {
    /// Host (wildcards allowed), with an optional `namespace/` prefix (`*/` by default).
    #[serde(default)]
    pub host: Option<String>,
    /// RouteTable metadata selector.
    #[serde(default)]
    pub selector: Option<ObjectSelector>,
    /// Route filters (not translated).
    #[serde(default)]
    pub allowed_routes: Option<Vec<serde_json::Value>>,
}

impl AllowedRouteTable {
    /// The host split into its namespace part and its DNS name: `shop/*.shop.com` gives
    /// `("shop", "*.shop.com")`, a host without `/` the namespace `*` (any namespace), as
    /// virtual_gateway.proto `RouteTableFilter.host` defines it. `None` without a host.
    pub fn namespace_and_host(&self) -> Option<(&str, &str)> {
        let h = self.host.as_deref()?;
        Some(h.split_once('/').unwrap_or(("*", h)))
    }
}

/// A listener's exposedExternalServices entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalServiceFilter {
    /// Host (wildcards allowed), with an optional `namespace/` prefix (`*`: any, `.`: the
    /// VirtualGateway's).
    #[serde(default)]
    pub host: String,
    /// ExternalService metadata selector.
    #[serde(default)]
    pub selector: Option<ObjectSelector>,
}

// ----- Workspace and WorkspaceSettings ------------------------------------------------------

/// Workspace spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSpec {
    /// Clusters and namespaces of the workspace.
    #[serde(default)]
    pub workload_clusters: Vec<ClusterSelector>,
}

/// ClusterSelector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSelector {
    /// Cluster name; `*` patterns allowed.
    #[serde(default)]
    pub name: Option<String>,
    /// Cluster labels, ANDed.
    #[serde(default)]
    pub selector: Labels,
    /// Namespaces.
    #[serde(default)]
    pub namespaces: Vec<NamespaceSelector>,
    /// Read config from this cluster (default true).
    #[serde(default)]
    pub config_enabled: Option<bool>,
}

/// NamespaceSelector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// Namespace name; `*` patterns allowed.
    #[serde(default)]
    pub name: Option<String>,
    /// Read config from this namespace (default true).
    #[serde(default)]
    pub config_enabled: Option<bool>,
    /// Namespace labels, ANDed with name.
    #[serde(default)]
    pub labels: Labels,
}

/// WorkspaceSettings spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSettingsSpec {
    /// What this workspace imports.
    #[serde(default)]
    pub import_from: Vec<WorkspaceObjectSelector>,
    /// What this workspace exports.
    #[serde(default)]
    pub export_to: Vec<WorkspaceObjectSelector>,
    /// Options (not translated).
    #[serde(default)]
    pub options: Option<Box<serde_json::Value>>,
}

/// WorkspaceSettings importFrom/exportTo entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceObjectSelector {
    /// Which workspaces.
    #[serde(default)]
    pub workspaces: Vec<WorkspaceSelector>,
    /// Which resources; omitted means all exportable ones.
    #[serde(default)]
    pub resources: Option<Vec<TypedObjectSelector>>,
}

/// WorkspaceSelector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceSelector {
    /// Workspace name; `*` patterns allowed.
    #[serde(default)]
    pub name: Option<String>,
    /// Labels of the Workspace object.
    #[serde(default)]
    pub selector: Labels,
}

/// TypedObjectSelector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypedObjectSelector {
    /// ALL (default), ROUTE_TABLE, SERVICE, VIRTUAL_DESTINATION, EXTERNAL_SERVICE, ...
    #[serde(default)]
    pub kind: Option<ObjectKind>,
    /// Labels.
    #[serde(default)]
    pub labels: Labels,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Cluster.
    #[serde(default)]
    pub cluster: Option<String>,
}

// ----- Policies read by the translator ------------------------------------------------------

/// FaultInjectionPolicy spec (resilience.policy.gloo.solo.io/v2), as far as the translator
/// uses it: route selection by labels and the fault config (E5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultInjectionPolicySpec {
    /// Which routes.
    #[serde(default)]
    pub apply_to_routes: Vec<RouteSelector>,
    /// The fault.
    #[serde(default)]
    pub config: FaultConfig,
}

/// `applyToRoutes[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RouteSelector {
    /// `{labels, name, namespace, ...}` of the route.
    #[serde(default)]
    pub route: ObjectSelector,
    /// Selects the forwardTo routes with a destination it selects (docs/translation.md#policies);
    /// a oneof with `route`.
    #[serde(default)]
    pub with_destinations: Option<DestinationSelector>,
}

/// Fault config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultConfig {
    /// Delay.
    #[serde(default)]
    pub delay: Option<FaultDelay>,
    /// Abort.
    #[serde(default)]
    pub abort: Option<FaultAbort>,
}

/// Fault delay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultDelay {
    /// Duration, e.g. `2s`.
    #[serde(default)]
    pub fixed_delay: String,
    /// Percentage of requests.
    #[serde(default)]
    pub percentage: Option<f64>,
}

/// Fault abort.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultAbort {
    /// HTTP status.
    #[serde(default)]
    pub http_status: u32,
    /// Percentage of requests.
    #[serde(default)]
    pub percentage: Option<f64>,
}

/// RetryTimeoutPolicy spec (resilience.policy.gloo.solo.io/v2): the routes and their request
/// timeout and retries (docs/translation.md#retrytimeoutpolicy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryTimeoutPolicySpec {
    /// Which routes; empty means every route of the workspace.
    #[serde(default)]
    pub apply_to_routes: Vec<RouteSelector>,
    /// Required: retries, request timeout, or both.
    #[serde(default)]
    pub config: Option<RetryTimeoutConfig>,
}

/// RetryTimeoutPolicy config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryTimeoutConfig {
    /// Retries.
    #[serde(default)]
    pub retries: Option<RetryPolicy>,
    /// Timeout of the whole request, retries included.
    #[serde(default)]
    pub request_timeout: Option<Duration>,
}

/// RetryTimeoutPolicy `config.retries`: Istio's HTTPRetry fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Retries after the first try; Gloo's default is 2, and 0 disables retries.
    #[serde(default)]
    pub attempts: Option<i32>,
    /// Timeout of each try.
    #[serde(default)]
    pub per_try_timeout: Option<Duration>,
    /// Comma-separated retry conditions.
    #[serde(default)]
    pub retry_on: Option<String>,
    /// Whether retries may go to other localities.
    #[serde(default)]
    pub retry_remote_localities: Option<bool>,
}

/// MirrorPolicy spec (trafficcontrol.policy.gloo.solo.io/v2): the routes and where their
/// traffic is mirrored (docs/translation.md#mirrorpolicy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MirrorPolicySpec {
    /// Which routes; empty means every route of the workspace.
    #[serde(default)]
    pub apply_to_routes: Vec<RouteSelector>,
    /// Required: the mirror destination.
    #[serde(default)]
    pub config: Option<MirrorConfig>,
}

/// MirrorPolicy config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MirrorConfig {
    /// Where mirrored requests go.
    #[serde(default)]
    pub destination: Option<DestinationReference>,
    /// Percentage of requests mirrored, 0–100; omitted means all.
    #[serde(default)]
    pub percentage: Option<f64>,
}

/// HeaderManipulationPolicy spec (trafficcontrol.policy.gloo.solo.io/v2): the routes and the
/// headers added to and removed from their requests and responses
/// (docs/translation.md#headermanipulationpolicy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeaderManipulationPolicySpec {
    /// Which routes; empty means every route of the workspace.
    #[serde(default)]
    pub apply_to_routes: Vec<RouteSelector>,
    /// Which destinations of which routes (not translated).
    #[serde(default)]
    pub apply_to_route_destinations: Option<Box<serde_json::Value>>,
    /// The header operations.
    #[serde(default)]
    pub config: Option<HeaderManipulationConfig>,
}

/// HeaderManipulationPolicy config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeaderManipulationConfig {
    /// Headers removed before the response returns to the caller.
    #[serde(default)]
    pub remove_response_headers: Vec<String>,
    /// Headers added before the response returns to the caller.
    #[serde(default)]
    pub append_response_headers: Labels,
    /// Headers removed before the request is forwarded.
    #[serde(default)]
    pub remove_request_headers: Vec<String>,
    /// Headers added before the request is forwarded.
    #[serde(default)]
    pub append_request_headers: Labels,
}

/// CORSPolicy spec (security.policy.gloo.solo.io/v2): the routes and their CORS settings
/// (docs/translation.md#corspolicy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorsPolicySpec {
    /// Which routes; empty means every route of the workspace.
    #[serde(default)]
    pub apply_to_routes: Vec<RouteSelector>,
    /// The CORS settings.
    #[serde(default)]
    pub config: Option<CorsConfig>,
}

/// CORSPolicy config: Istio's CorsPolicy fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorsConfig {
    /// Origins allowed: any matcher matching allows the origin.
    #[serde(default)]
    pub allow_origins: Vec<StringMatch>,
    /// `Access-Control-Allow-Methods`.
    #[serde(default)]
    pub allow_methods: Vec<String>,
    /// `Access-Control-Allow-Headers`.
    #[serde(default)]
    pub allow_headers: Vec<String>,
    /// `Access-Control-Expose-Headers`.
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// `Access-Control-Max-Age`.
    #[serde(default)]
    pub max_age: Option<Duration>,
    /// `Access-Control-Allow-Credentials`.
    #[serde(default)]
    pub allow_credentials: Option<bool>,
}

/// `applyToDestinations[]`: the destination objects a destination policy selects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DestinationSelector {
    /// Labels, name, namespace, cluster, workspace of the destination object.
    #[serde(default)]
    pub selector: ObjectSelector,
    /// Which kind of destination (SERVICE when unset).
    #[serde(default)]
    pub kind: DestinationKind,
    /// Which port; every port when unset.
    #[serde(default)]
    pub port: Option<PortSelector>,
}

/// OutlierDetectionPolicy spec (resilience.policy.gloo.solo.io/v2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutlierDetectionPolicySpec {
    /// Which destinations; every destination of the workspace when empty.
    #[serde(default)]
    pub apply_to_destinations: Vec<DestinationSelector>,
    /// The outlier detection settings.
    #[serde(default)]
    pub config: OutlierDetectionConfig,
}

/// OutlierDetectionPolicy config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutlierDetectionConfig {
    /// 5xx responses before ejection (Istio `consecutive5xxErrors`); 5 when unset.
    #[serde(default)]
    pub consecutive_errors: Option<u32>,
    /// Time between ejection sweeps; 10s when unset.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// Minimum ejection time; 30s when unset.
    #[serde(default)]
    pub base_ejection_time: Option<Duration>,
    /// Most hosts ejected, in percent (0..100); 100 when unset.
    #[serde(default)]
    pub max_ejection_percent: Option<u32>,
    /// 502, 503 and 504 responses before ejection; off when unset or 0.
    #[serde(default)]
    pub consecutive_gateway_errors: Option<u32>,
}

/// FailoverPolicy spec (resilience.policy.gloo.solo.io/v2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailoverPolicySpec {
    /// Which destinations (Services and VirtualDestinations); every one of the workspace when
    /// empty.
    #[serde(default)]
    pub apply_to_destinations: Vec<DestinationSelector>,
    /// The locality settings; locality load balancing without mappings when unset.
    #[serde(default)]
    pub config: FailoverConfig,
}

/// FailoverPolicy config: locality mappings or priority labels (mappings win when both are
/// set).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailoverConfig {
    /// Where traffic from a locality goes.
    #[serde(default)]
    pub locality_mappings: Vec<LocalityMapping>,
    /// Ordered label keys, or ordered `key=value` pairs (Istio `failoverPriority`).
    #[serde(default)]
    pub priority_labels: Option<PriorityLabels>,
}

/// `config.priorityLabels`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriorityLabels {
    /// The labels, highest priority first.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// `config.localityMappings[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalityMapping {
    /// The locality requests come from.
    #[serde(default)]
    pub from: Locality,
    /// The localities they go to.
    #[serde(default)]
    pub to: Vec<WeightedLocality>,
}

/// `localityMappings[].to[]`: a locality and its share of the traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WeightedLocality {
    /// Region.
    #[serde(default)]
    pub region: String,
    /// Zone.
    #[serde(default)]
    pub zone: String,
    /// Sub-zone.
    #[serde(default)]
    pub sub_zone: String,
    /// Share in percent; the weights of a mapping add up to 100.
    #[serde(default)]
    pub weight: Option<u32>,
}

/// ClientTLSPolicy spec (security.policy.gloo.solo.io/v2): one of the four modes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientTlsPolicySpec {
    /// Which destinations; every destination of the workspace when empty.
    #[serde(default)]
    pub apply_to_destinations: Vec<DestinationSelector>,
    /// No TLS.
    #[serde(default)]
    pub disable: Option<Empty>,
    /// TLS with the server's certificate checked.
    #[serde(default)]
    pub simple: Option<ClientTlsModeConfig>,
    /// TLS with a client certificate.
    #[serde(default)]
    pub mutual: Option<ClientTlsModeConfig>,
    /// Istio's mutual TLS.
    #[serde(default)]
    pub istio_mutual: Option<Empty>,
}

/// A message without fields (`disable: {}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Empty {}

/// ClientTLSPolicy `simple` / `mutual`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientTlsModeConfig {
    /// The TLS settings.
    #[serde(default)]
    pub config: ClientTlsSettings,
}

/// ClientTLSPolicy `TLSConfig`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientTlsSettings {
    /// SNI; the destination's first host when unset.
    #[serde(default)]
    pub sni: Option<String>,
    /// The Secret with the client's certificates.
    #[serde(default, rename = "credentialName")]
    pub credential_name: String,
}

/// ConnectionPolicy spec (resilience.policy.gloo.solo.io/v2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionPolicySpec {
    /// Which destinations; every destination of the workspace when empty.
    #[serde(default)]
    pub apply_to_destinations: Vec<DestinationSelector>,
    /// The connection settings.
    #[serde(default)]
    pub config: ConnectionConfig,
}

/// ConnectionPolicy config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionConfig {
    /// TCP settings.
    #[serde(default)]
    pub tcp: Option<ConnectionTcp>,
    /// HTTP settings.
    #[serde(default)]
    pub http: Option<ConnectionHttp>,
}

/// ConnectionPolicy `config.tcp`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTcp {
    /// Keep-alive probes.
    #[serde(default)]
    pub tcp_keepalive: Option<TcpKeepalive>,
    /// Most connections to a destination host; 0 is unset.
    #[serde(default)]
    pub max_connections: Option<i32>,
    /// TCP connect timeout.
    #[serde(default)]
    pub connect_timeout: Option<Duration>,
}

/// `config.tcp.tcpKeepalive`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TcpKeepalive {
    /// Probes without answer before the connection is dead; 0 is unset.
    #[serde(default)]
    pub probes: Option<u32>,
    /// Idle time before probes start.
    #[serde(default)]
    pub time: Option<Duration>,
    /// Time between probes.
    #[serde(default)]
    pub interval: Option<Duration>,
}

/// ConnectionPolicy `config.http`; a 0 count is unset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionHttp {
    /// Requests per connection (1 disables keep-alive).
    #[serde(default)]
    pub max_requests_per_connection: Option<i32>,
    /// Outstanding retries.
    #[serde(default)]
    pub max_retries: Option<i32>,
    /// Idle time before a connection is closed.
    #[serde(default)]
    pub idle_timeout: Option<Duration>,
    /// Active requests (Istio `http2MaxRequests`).
    #[serde(default)]
    pub max_requests: Option<i32>,
    /// Queued requests (Istio `http1MaxPendingRequests`).
    #[serde(default)]
    pub max_pending_requests: Option<i32>,
}

/// LoadBalancerPolicy spec (trafficcontrol.policy.gloo.solo.io/v2).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerPolicySpec {
    /// Which destinations; every destination of the workspace when empty.
    #[serde(default)]
    pub apply_to_destinations: Vec<DestinationSelector>,
    /// The load-balancing settings.
    #[serde(default)]
    pub config: LoadBalancerConfig,
}

/// LoadBalancerPolicy config: one of `simple` and `consistentHash`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancerConfig {
    /// A simple algorithm.
    #[serde(default)]
    pub simple: Option<SimpleLb>,
    /// Hash-based affinity.
    #[serde(default)]
    pub consistent_hash: Option<ConsistentHash>,
    /// Slow start for new endpoints (ROUND_ROBIN and LEAST_REQUEST).
    #[serde(default)]
    pub warmup_duration_secs: Option<Duration>,
    /// Envoy's panic threshold; no DestinationRule field holds it.
    #[serde(default)]
    pub healthy_panic_threshold: Option<f64>,
    /// Envoy's update merge window; no DestinationRule field holds it.
    #[serde(default)]
    pub update_merge_window: Option<Duration>,
}

/// LoadBalancerPolicy `config.simple`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SimpleLb {
    /// Unset: Istio's default.
    Unspecified,
    /// Random.
    Random,
    /// Forward to the address the caller asked for.
    Passthrough,
    /// Round robin.
    RoundRobin,
    /// Least requests.
    LeastRequest,
}

impl SimpleLb {
    /// The name Istio's `loadBalancer.simple` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            SimpleLb::Unspecified => "UNSPECIFIED",
            SimpleLb::Random => "RANDOM",
            SimpleLb::Passthrough => "PASSTHROUGH",
            SimpleLb::RoundRobin => "ROUND_ROBIN",
            SimpleLb::LeastRequest => "LEAST_REQUEST",
        }
    }
}

/// LoadBalancerPolicy `config.consistentHash`: exactly one key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsistentHash {
    /// Hash on this request header.
    #[serde(default)]
    pub http_header_name: Option<String>,
    /// Hash on this cookie.
    #[serde(default)]
    pub http_cookie: Option<HttpCookie>,
    /// Hash on the source IP.
    #[serde(default)]
    pub use_source_ip: Option<bool>,
    /// Hash on this query parameter.
    #[serde(default)]
    pub http_query_parameter_name: Option<String>,
}

/// `consistentHash.httpCookie`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpCookie {
    /// Cookie name.
    #[serde(default)]
    pub name: String,
    /// Cookie path.
    #[serde(default)]
    pub path: Option<String>,
    /// Cookie lifetime.
    #[serde(default)]
    pub ttl: Option<Duration>,
}

/// Fields that are rare or not translated are boxed: every RouteTable holds up to hundreds of
/// routes and destinations, and unboxed they took 568 and 264 bytes each whether set or not
/// (heaptrack of a 10,000-object render, docs/performance.md).
#[cfg(all(test, target_pointer_width = "64"))]
mod size_tests {
    use super::*;

    #[test]
    fn routes_and_destinations_stay_small() {
        assert!(std::mem::size_of::<HttpRoute>() <= 240);
        assert!(std::mem::size_of::<ForwardToAction>() <= 88);
        assert!(std::mem::size_of::<DestinationReference>() <= 200);
    }
}
