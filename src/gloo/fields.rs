//! What meshform does with every field of the typed Gloo kinds (docs/translation.md#fields):
//! each is translated, only checked (with the reason), or rejected when set, because its
//! effect would be missing from the output. The field names come from the kinds' JSON
//! Schemas (derived from `types`), which also give the "did you mean" of an unknown field.

use super::enums::WorkloadKind;
use super::types::*;
use serde_json::Value;
use std::sync::LazyLock;

/// What meshform does with one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// It shapes the output (or the workspaces and references that decide it).
    Translated,
    /// It is read only to check the input; the reason says why it has no output of its own.
    Checked(&'static str),
    /// Setting it is an error (a warning with `validate: warn`): meshform does not translate
    /// it, so its effect would be missing from the output. The reason says what it does.
    Rejected(&'static str),
}

/// One row of the classification: the field of a kind, as `spec.ports[].targetPort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The kind.
    pub kind: &'static str,
    /// The field path, `[]` standing for any list index.
    pub path: &'static str,
    /// What meshform does with it.
    pub class: Class,
}

/// The typed kinds and their spec schemas.
fn kind_schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        (
            "ExternalService",
            schemars::schema_for!(ExternalServiceSpec),
        ),
        (
            "ExternalEndpoint",
            schemars::schema_for!(ExternalEndpointSpec),
        ),
        ("RouteTable", schemars::schema_for!(RouteTableSpec)),
        (
            "VirtualDestination",
            schemars::schema_for!(VirtualDestinationSpec),
        ),
        ("VirtualGateway", schemars::schema_for!(VirtualGatewaySpec)),
        ("Workspace", schemars::schema_for!(WorkspaceSpec)),
        (
            "WorkspaceSettings",
            schemars::schema_for!(WorkspaceSettingsSpec),
        ),
        (
            "FaultInjectionPolicy",
            schemars::schema_for!(FaultInjectionPolicySpec),
        ),
        (
            "RetryTimeoutPolicy",
            schemars::schema_for!(RetryTimeoutPolicySpec),
        ),
        ("MirrorPolicy", schemars::schema_for!(MirrorPolicySpec)),
        (
            "HeaderManipulationPolicy",
            schemars::schema_for!(HeaderManipulationPolicySpec),
        ),
        ("CORSPolicy", schemars::schema_for!(CorsPolicySpec)),
        (
            "OutlierDetectionPolicy",
            schemars::schema_for!(OutlierDetectionPolicySpec),
        ),
        (
            "LoadBalancerPolicy",
            schemars::schema_for!(LoadBalancerPolicySpec),
        ),
        (
            "ConnectionPolicy",
            schemars::schema_for!(ConnectionPolicySpec),
        ),
        ("FailoverPolicy", schemars::schema_for!(FailoverPolicySpec)),
        (
            "ClientTLSPolicy",
            schemars::schema_for!(ClientTlsPolicySpec),
        ),
    ]
}

/// The schemas, built on the first unknown field (never on clean input).
static SCHEMAS: LazyLock<Vec<(&'static str, schemars::Schema)>> = LazyLock::new(kind_schemas);

/// The kinds whose fields are classified, in docs order.
pub fn kinds() -> Vec<&'static str> {
    SCHEMAS.iter().map(|(k, _)| *k).collect()
}

/// The schema `s` stands for: `$ref`s followed, the non-null branch of an `Option`.
fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        if let Some(d) = root.get("$defs").and_then(|d| d.get(name)) {
            return resolve(root, d);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(branches) = s.get(key).and_then(Value::as_array) {
            // An enum (one `const` per value) is a leaf of its own.
            if branches.iter().all(|b| b.get("const").is_some()) {
                return s;
            }
            let not_null = branches
                .iter()
                .find(|b| b.get("type").and_then(Value::as_str) != Some("null"));
            if let Some(b) = not_null {
                return resolve(root, b);
            }
        }
    }
    s
}

/// The list item schema of `s`, if it is a list.
fn items<'a>(root: &'a Value, s: &'a Value) -> Option<&'a Value> {
    resolve(root, s).get("items").map(|i| resolve(root, i))
}

/// The field names of a struct schema (none for maps and free-form values).
fn properties(s: &Value) -> Vec<&str> {
    s.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The schema at `parent` (`http[0].forwardTo`, relative to `spec`) of `kind`'s spec.
fn schema_at<'a>(root: &'a Value, parent: &str) -> Option<&'a Value> {
    let mut s = resolve(root, root);
    for seg in parent.split('.').filter(|s| !s.is_empty()) {
        let (name, rest) = seg.split_once('[').unwrap_or((seg, ""));
        if !name.is_empty() {
            s = resolve(root, s.get("properties")?.get(name)?);
        }
        for _ in rest.split('[') {
            if rest.is_empty() {
                break;
            }
            s = items(root, s)?;
        }
    }
    Some(s)
}

/// The fields `kind`'s spec has at `parent` (a path relative to `spec`, with indices).
pub fn fields_at(kind: &str, parent: &str) -> Vec<String> {
    let Some((_, schema)) = SCHEMAS.iter().find(|(k, _)| *k == kind) else {
        return Vec::new();
    };
    let root = schema.as_value();
    schema_at(root, parent)
        .map(|s| properties(s).into_iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Every leaf field path of `kind`'s spec (`spec.http[].matchers[].uri.prefix`): fields that
/// hold a scalar, a list of scalars, a map or a free-form value.
pub fn leaf_paths(kind: &str) -> Vec<String> {
    let Some((_, schema)) = SCHEMAS.iter().find(|(k, _)| *k == kind) else {
        return Vec::new();
    };
    let root = schema.as_value();
    let mut out = Vec::new();
    walk(root, resolve(root, root), "spec", &mut out);
    out
}

fn walk(root: &Value, s: &Value, path: &str, out: &mut Vec<String>) {
    for name in properties(s) {
        let Some(child) = s.get("properties").and_then(|p| p.get(name)) else {
            continue;
        };
        let mut p = format!("{path}.{name}");
        let mut c = resolve(root, child);
        while let Some(i) = items(root, c) {
            p.push_str("[]");
            c = i;
        }
        if properties(c).is_empty() {
            out.push(p);
        } else {
            walk(root, c, &p, out);
        }
    }
}

/// The entry for `path` of `kind` (indices written `[]`), or for the rejected field holding it.
pub fn entry(kind: &str, path: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.kind == kind && covers(f, path))
}

/// True if entry `f` classifies `path`: the same path, or a field inside a rejected one.
fn covers(f: &Field, path: &str) -> bool {
    match path.strip_prefix(f.path) {
        Some("") => true,
        Some(rest) => {
            matches!(f.class, Class::Rejected(_))
                && (rest.starts_with('.') || rest.starts_with('['))
        }
        None => false,
    }
}

/// `path` with every list index written `[]` (`spec.ports[0].x` → `spec.ports[].x`).
pub fn generic(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

/// A translated field.
const fn t(kind: &'static str, path: &'static str) -> Field {
    Field {
        kind,
        path,
        class: Class::Translated,
    }
}

/// A field with no output of its own, and why.
const fn c(kind: &'static str, path: &'static str, reason: &'static str) -> Field {
    Field {
        kind,
        path,
        class: Class::Checked(reason),
    }
}

/// A field rejected when set, and what it does.
const fn r(kind: &'static str, path: &'static str, reason: &'static str) -> Field {
    Field {
        kind,
        path,
        class: Class::Rejected(reason),
    }
}

/// Every field of every typed kind: translated, checked only, or rejected when set.
/// A test keeps it equal to the kinds' schemas; docs/translation.md#fields shows it.
pub const FIELDS: &[Field] = &[
    // ExternalService
    t("ExternalService", "spec.hosts[]"),
    t("ExternalService", "spec.addresses[]"),
    t("ExternalService", "spec.ports[].number"),
    t("ExternalService", "spec.ports[].targetPort.number"),
    t("ExternalService", "spec.ports[].targetPort.name"),
    t("ExternalService", "spec.ports[].name"),
    t("ExternalService", "spec.ports[].protocol"),
    t("ExternalService", "spec.ports[].clientsideTls.sni"),
    t("ExternalService", "spec.ports[].clientsideTls.mode"),
    t(
        "ExternalService",
        "spec.ports[].clientsideTls.clientCertificate",
    ),
    t("ExternalService", "spec.ports[].clientsideTls.privateKey"),
    t(
        "ExternalService",
        "spec.ports[].clientsideTls.caCertificates",
    ),
    t(
        "ExternalService",
        "spec.ports[].clientsideTls.credentialName",
    ),
    t(
        "ExternalService",
        "spec.ports[].clientsideTls.insecureSkipVerify",
    ),
    t(
        "ExternalService",
        "spec.ports[].egressGatewayRoutes.portMatch",
    ),
    t(
        "ExternalService",
        "spec.ports[].egressGatewayRoutes.virtualGatewayRefs[].name",
    ),
    t(
        "ExternalService",
        "spec.ports[].egressGatewayRoutes.virtualGatewayRefs[].namespace",
    ),
    t(
        "ExternalService",
        "spec.ports[].egressGatewayRoutes.virtualGatewayRefs[].cluster",
    ),
    t("ExternalService", "spec.selector"),
    t("ExternalService", "spec.subjectAltNames[]"),
    // ExternalEndpoint
    t("ExternalEndpoint", "spec.address"),
    t("ExternalEndpoint", "spec.ports[].name"),
    t("ExternalEndpoint", "spec.ports[].number"),
    t("ExternalEndpoint", "spec.locality.region"),
    t("ExternalEndpoint", "spec.locality.zone"),
    t("ExternalEndpoint", "spec.locality.subZone"),
    // RouteTable
    t("RouteTable", "spec.hosts[]"),
    t("RouteTable", "spec.virtualGateways[].name"),
    t("RouteTable", "spec.virtualGateways[].namespace"),
    t("RouteTable", "spec.virtualGateways[].cluster"),
    t("RouteTable", "spec.workloadSelectors[].selector.labels"),
    r(
        "RouteTable",
        "spec.workloadSelectors[].selector.name",
        "Gloo allows only labels in a RouteTable's workload selectors",
    ),
    r(
        "RouteTable",
        "spec.workloadSelectors[].selector.namespace",
        "Gloo allows only labels in a RouteTable's workload selectors",
    ),
    r(
        "RouteTable",
        "spec.workloadSelectors[].selector.cluster",
        "Gloo allows only labels in a RouteTable's workload selectors",
    ),
    r(
        "RouteTable",
        "spec.workloadSelectors[].selector.workspace",
        "Gloo allows only labels in a RouteTable's workload selectors",
    ),
    r(
        "RouteTable",
        "spec.workloadSelectors[].kind",
        "set to anything but KUBE: Gloo allows only KUBE workloads here",
    ),
    r(
        "RouteTable",
        "spec.workloadSelectors[].port",
        "narrows the source workloads by port; meshform selects sources by labels only",
    ),
    r(
        "RouteTable",
        "spec.applyToDestinations",
        "producer-side (waypoint) routing; meshform renders no routing for it",
    ),
    t("RouteTable", "spec.defaultDestination.ref.name"),
    t("RouteTable", "spec.defaultDestination.ref.namespace"),
    t("RouteTable", "spec.defaultDestination.ref.cluster"),
    r(
        "RouteTable",
        "spec.defaultDestination.awsLambda",
        "an AWS Lambda destination; meshform renders Kubernetes, virtual and external \
         destinations only",
    ),
    t("RouteTable", "spec.defaultDestination.kind"),
    t("RouteTable", "spec.defaultDestination.port.number"),
    t("RouteTable", "spec.defaultDestination.port.name"),
    t("RouteTable", "spec.defaultDestination.subset"),
    t("RouteTable", "spec.defaultDestination.weight"),
    t("RouteTable", "spec.http[].name"),
    t("RouteTable", "spec.http[].labels"),
    c(
        "RouteTable",
        "spec.http[].matchers[].name",
        "Gloo does not support name matching (the proto marks the field UNSUPPORTED), so \
         it has no effect there either",
    ),
    t("RouteTable", "spec.http[].matchers[].uri.exact"),
    t("RouteTable", "spec.http[].matchers[].uri.prefix"),
    t("RouteTable", "spec.http[].matchers[].uri.regex"),
    t("RouteTable", "spec.http[].matchers[].uri.suffix"),
    t("RouteTable", "spec.http[].matchers[].uri.ignoreCase"),
    t("RouteTable", "spec.http[].matchers[].headers[].name"),
    t("RouteTable", "spec.http[].matchers[].headers[].value"),
    t("RouteTable", "spec.http[].matchers[].headers[].regex"),
    t("RouteTable", "spec.http[].matchers[].headers[].invertMatch"),
    t(
        "RouteTable",
        "spec.http[].matchers[].queryParameters[].name",
    ),
    t(
        "RouteTable",
        "spec.http[].matchers[].queryParameters[].value",
    ),
    t(
        "RouteTable",
        "spec.http[].matchers[].queryParameters[].regex",
    ),
    t("RouteTable", "spec.http[].matchers[].method"),
    t("RouteTable", "spec.http[].matchers[].port"),
    t(
        "RouteTable",
        "spec.http[].forwardTo.destinations[].ref.name",
    ),
    t(
        "RouteTable",
        "spec.http[].forwardTo.destinations[].ref.namespace",
    ),
    t(
        "RouteTable",
        "spec.http[].forwardTo.destinations[].ref.cluster",
    ),
    r(
        "RouteTable",
        "spec.http[].forwardTo.destinations[].awsLambda",
        "an AWS Lambda destination; meshform renders Kubernetes, virtual and external \
         destinations only",
    ),
    t("RouteTable", "spec.http[].forwardTo.destinations[].kind"),
    t(
        "RouteTable",
        "spec.http[].forwardTo.destinations[].port.number",
    ),
    t(
        "RouteTable",
        "spec.http[].forwardTo.destinations[].port.name",
    ),
    t("RouteTable", "spec.http[].forwardTo.destinations[].subset"),
    t("RouteTable", "spec.http[].forwardTo.destinations[].weight"),
    t("RouteTable", "spec.http[].forwardTo.pathRewrite"),
    t(
        "RouteTable",
        "spec.http[].forwardTo.regexRewrite.pattern.regex",
    ),
    c(
        "RouteTable",
        "spec.http[].forwardTo.regexRewrite.pattern.googleRe2",
        "Envoy's deprecated RE2 engine options; they do not change what the regex \
         matches, and Istio's regexRewrite has no place for them",
    ),
    t(
        "RouteTable",
        "spec.http[].forwardTo.regexRewrite.substitution",
    ),
    t("RouteTable", "spec.http[].forwardTo.hostRewrite"),
    t("RouteTable", "spec.http[].forwardTo.autoHostRewrite"),
    t("RouteTable", "spec.http[].delegate.routeTables[].labels"),
    t("RouteTable", "spec.http[].delegate.routeTables[].name"),
    t("RouteTable", "spec.http[].delegate.routeTables[].namespace"),
    t("RouteTable", "spec.http[].delegate.routeTables[].cluster"),
    t("RouteTable", "spec.http[].delegate.routeTables[].workspace"),
    r(
        "RouteTable",
        "spec.http[].delegate.allowedRoutes",
        "filters the routes a delegate may take from its children; meshform would merge \
         every child route",
    ),
    t("RouteTable", "spec.http[].delegate.sortMethod"),
    t("RouteTable", "spec.http[].redirect.hostRedirect"),
    t("RouteTable", "spec.http[].redirect.pathRedirect"),
    t("RouteTable", "spec.http[].redirect.responseCode"),
    t("RouteTable", "spec.http[].directResponse.status"),
    t("RouteTable", "spec.http[].directResponse.body"),
    r(
        "RouteTable",
        "spec.http[].graphql",
        "a GraphQL action; meshform renders forwardTo, delegate, redirect and \
         directResponse routes",
    ),
    t("RouteTable", "spec.tcp[].matchers[].port"),
    t("RouteTable", "spec.tcp[].forwardTo.destinations[].ref.name"),
    t(
        "RouteTable",
        "spec.tcp[].forwardTo.destinations[].ref.namespace",
    ),
    t(
        "RouteTable",
        "spec.tcp[].forwardTo.destinations[].ref.cluster",
    ),
    r(
        "RouteTable",
        "spec.tcp[].forwardTo.destinations[].awsLambda",
        "an AWS Lambda destination; meshform renders Kubernetes, virtual and external \
         destinations only",
    ),
    t("RouteTable", "spec.tcp[].forwardTo.destinations[].kind"),
    t(
        "RouteTable",
        "spec.tcp[].forwardTo.destinations[].port.number",
    ),
    t(
        "RouteTable",
        "spec.tcp[].forwardTo.destinations[].port.name",
    ),
    t("RouteTable", "spec.tcp[].forwardTo.destinations[].subset"),
    t("RouteTable", "spec.tcp[].forwardTo.destinations[].weight"),
    r(
        "RouteTable",
        "spec.tcp[].forwardTo.pathRewrite",
        "an HTTP rewrite on a TCP route, which has no path or host to rewrite",
    ),
    r(
        "RouteTable",
        "spec.tcp[].forwardTo.regexRewrite",
        "an HTTP rewrite on a TCP route, which has no path or host to rewrite",
    ),
    r(
        "RouteTable",
        "spec.tcp[].forwardTo.hostRewrite",
        "an HTTP rewrite on a TCP route, which has no path or host to rewrite",
    ),
    r(
        "RouteTable",
        "spec.tcp[].forwardTo.autoHostRewrite",
        "an HTTP rewrite on a TCP route, which has no path or host to rewrite",
    ),
    t("RouteTable", "spec.tls[].matchers[].sniHosts[]"),
    t("RouteTable", "spec.tls[].matchers[].port"),
    t("RouteTable", "spec.tls[].forwardTo.destinations[].ref.name"),
    t(
        "RouteTable",
        "spec.tls[].forwardTo.destinations[].ref.namespace",
    ),
    t(
        "RouteTable",
        "spec.tls[].forwardTo.destinations[].ref.cluster",
    ),
    r(
        "RouteTable",
        "spec.tls[].forwardTo.destinations[].awsLambda",
        "an AWS Lambda destination; meshform renders Kubernetes, virtual and external \
         destinations only",
    ),
    t("RouteTable", "spec.tls[].forwardTo.destinations[].kind"),
    t(
        "RouteTable",
        "spec.tls[].forwardTo.destinations[].port.number",
    ),
    t(
        "RouteTable",
        "spec.tls[].forwardTo.destinations[].port.name",
    ),
    t("RouteTable", "spec.tls[].forwardTo.destinations[].subset"),
    t("RouteTable", "spec.tls[].forwardTo.destinations[].weight"),
    r(
        "RouteTable",
        "spec.tls[].forwardTo.pathRewrite",
        "an HTTP rewrite on a TLS route, which has no path or host to rewrite",
    ),
    r(
        "RouteTable",
        "spec.tls[].forwardTo.regexRewrite",
        "an HTTP rewrite on a TLS route, which has no path or host to rewrite",
    ),
    r(
        "RouteTable",
        "spec.tls[].forwardTo.hostRewrite",
        "an HTTP rewrite on a TLS route, which has no path or host to rewrite",
    ),
    r(
        "RouteTable",
        "spec.tls[].forwardTo.autoHostRewrite",
        "an HTTP rewrite on a TLS route, which has no path or host to rewrite",
    ),
    t("RouteTable", "spec.weight"),
    c(
        "RouteTable",
        "spec.portalMetadata",
        "developer portal metadata: Gloo writes no Istio configuration from it",
    ),
    t("RouteTable", "spec.failureMode"),
    t("RouteTable", "spec.virtualServiceAnnotations"),
    // VirtualDestination
    t("VirtualDestination", "spec.hosts[]"),
    t("VirtualDestination", "spec.services[].labels"),
    r(
        "VirtualDestination",
        "spec.services[].name",
        "selects the backing Service by name; meshform selects it by labels and namespace",
    ),
    t("VirtualDestination", "spec.services[].namespace"),
    t("VirtualDestination", "spec.services[].cluster"),
    r(
        "VirtualDestination",
        "spec.services[].workspace",
        "selects backing Services of another workspace; meshform looks in the \
         VirtualDestination's own",
    ),
    r(
        "VirtualDestination",
        "spec.externalServices",
        "ExternalService backends; meshform renders VirtualDestinations backed by \
         Kubernetes Services",
    ),
    r(
        "VirtualDestination",
        "spec.externalWorkloads",
        "ExternalWorkload backends; meshform renders VirtualDestinations backed by \
         Kubernetes Services",
    ),
    t("VirtualDestination", "spec.ports[].number"),
    t("VirtualDestination", "spec.ports[].protocol"),
    t("VirtualDestination", "spec.ports[].targetPort.number"),
    t("VirtualDestination", "spec.ports[].targetPort.name"),
    r(
        "VirtualDestination",
        "spec.clientMode",
        "how clients reach the destination (auto, SNI routing, TLS termination); meshform \
         renders the default only",
    ),
    // VirtualGateway
    t("VirtualGateway", "spec.workloads[].selector.labels"),
    t("VirtualGateway", "spec.workloads[].selector.name"),
    t("VirtualGateway", "spec.workloads[].selector.namespace"),
    t("VirtualGateway", "spec.workloads[].selector.cluster"),
    r(
        "VirtualGateway",
        "spec.workloads[].selector.workspace",
        "selects gateways of another workspace; Gloo and meshform use the \
         VirtualGateway's own",
    ),
    r(
        "VirtualGateway",
        "spec.workloads[].kind",
        "set to anything but KUBE: meshform knows Kubernetes gateway Services only",
    ),
    r(
        "VirtualGateway",
        "spec.workloads[].port",
        "selects a port of the gateway workload; meshform serves the listeners' ports",
    ),
    t("VirtualGateway", "spec.listeners[].port.number"),
    t("VirtualGateway", "spec.listeners[].port.name"),
    t("VirtualGateway", "spec.listeners[].tls.secretName"),
    t("VirtualGateway", "spec.listeners[].tls.files.serverCert"),
    t("VirtualGateway", "spec.listeners[].tls.files.privateKey"),
    t("VirtualGateway", "spec.listeners[].tls.files.caCerts"),
    t(
        "VirtualGateway",
        "spec.listeners[].tls.verifySubjectAltName[]",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].tls.parameters.minimumProtocolVersion",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].tls.parameters.maximumProtocolVersion",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].tls.parameters.cipherSuites[]",
    ),
    t("VirtualGateway", "spec.listeners[].tls.mode"),
    t("VirtualGateway", "spec.listeners[].httpsRedirect"),
    t("VirtualGateway", "spec.listeners[].http"),
    t("VirtualGateway", "spec.listeners[].tcp"),
    t(
        "VirtualGateway",
        "spec.listeners[].allowedRouteTables[].host",
    ),
    r(
        "VirtualGateway",
        "spec.listeners[].allowedRouteTables[].selector",
        "restricts which RouteTables bind by their metadata; meshform checks hosts only",
    ),
    r(
        "VirtualGateway",
        "spec.listeners[].allowedRouteTables[].allowedRoutes",
        "filters the routes a listener takes; meshform would serve every route",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].exposedExternalServices[].host",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].exposedExternalServices[].selector.labels",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].exposedExternalServices[].selector.name",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].exposedExternalServices[].selector.namespace",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].exposedExternalServices[].selector.cluster",
    ),
    t(
        "VirtualGateway",
        "spec.listeners[].exposedExternalServices[].selector.workspace",
    ),
    t("VirtualGateway", "spec.listeners[].appProtocol"),
    // Workspace
    t("Workspace", "spec.workloadClusters[].name"),
    t("Workspace", "spec.workloadClusters[].selector"),
    t("Workspace", "spec.workloadClusters[].namespaces[].name"),
    r(
        "Workspace",
        "spec.workloadClusters[].namespaces[].configEnabled",
        "set to false: Gloo then reads no configuration from the namespace, and meshform \
         would translate it",
    ),
    t("Workspace", "spec.workloadClusters[].namespaces[].labels"),
    r(
        "Workspace",
        "spec.workloadClusters[].configEnabled",
        "set to false: Gloo then reads no configuration from the cluster, and meshform \
         would translate it",
    ),
    // WorkspaceSettings
    t("WorkspaceSettings", "spec.importFrom[].workspaces[].name"),
    t(
        "WorkspaceSettings",
        "spec.importFrom[].workspaces[].selector",
    ),
    t("WorkspaceSettings", "spec.importFrom[].resources[].kind"),
    t("WorkspaceSettings", "spec.importFrom[].resources[].labels"),
    t("WorkspaceSettings", "spec.importFrom[].resources[].name"),
    t(
        "WorkspaceSettings",
        "spec.importFrom[].resources[].namespace",
    ),
    t("WorkspaceSettings", "spec.importFrom[].resources[].cluster"),
    t("WorkspaceSettings", "spec.exportTo[].workspaces[].name"),
    t("WorkspaceSettings", "spec.exportTo[].workspaces[].selector"),
    t("WorkspaceSettings", "spec.exportTo[].resources[].kind"),
    t("WorkspaceSettings", "spec.exportTo[].resources[].labels"),
    t("WorkspaceSettings", "spec.exportTo[].resources[].name"),
    t("WorkspaceSettings", "spec.exportTo[].resources[].namespace"),
    t("WorkspaceSettings", "spec.exportTo[].resources[].cluster"),
    r(
        "WorkspaceSettings",
        "spec.options",
        "service isolation, federation, east-west gateways, client mode: meshform renders \
         none of them",
    ),
    // FaultInjectionPolicy
    t("FaultInjectionPolicy", "spec.applyToRoutes[].route.labels"),
    r(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].route.name",
        "ignored by Gloo 2.2 and gone from its API since 2.3; select routes by labels",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].route.namespace",
    ),
    t("FaultInjectionPolicy", "spec.applyToRoutes[].route.cluster"),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].route.workspace",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].withDestinations.selector.labels",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].withDestinations.selector.name",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].withDestinations.selector.namespace",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].withDestinations.selector.cluster",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].withDestinations.selector.workspace",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].withDestinations.kind",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].withDestinations.port.number",
    ),
    t(
        "FaultInjectionPolicy",
        "spec.applyToRoutes[].withDestinations.port.name",
    ),
    t("FaultInjectionPolicy", "spec.config.delay.fixedDelay"),
    t("FaultInjectionPolicy", "spec.config.delay.percentage"),
    t("FaultInjectionPolicy", "spec.config.abort.httpStatus"),
    t("FaultInjectionPolicy", "spec.config.abort.percentage"),
    // RetryTimeoutPolicy
    t("RetryTimeoutPolicy", "spec.applyToRoutes[].route.labels"),
    r(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].route.name",
        "ignored by Gloo 2.2 and gone from its API since 2.3; select routes by labels",
    ),
    t("RetryTimeoutPolicy", "spec.applyToRoutes[].route.namespace"),
    t("RetryTimeoutPolicy", "spec.applyToRoutes[].route.cluster"),
    t("RetryTimeoutPolicy", "spec.applyToRoutes[].route.workspace"),
    t(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].withDestinations.selector.labels",
    ),
    t(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].withDestinations.selector.name",
    ),
    t(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].withDestinations.selector.namespace",
    ),
    t(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].withDestinations.selector.cluster",
    ),
    t(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].withDestinations.selector.workspace",
    ),
    t(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].withDestinations.kind",
    ),
    t(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].withDestinations.port.number",
    ),
    t(
        "RetryTimeoutPolicy",
        "spec.applyToRoutes[].withDestinations.port.name",
    ),
    t("RetryTimeoutPolicy", "spec.config.requestTimeout"),
    t("RetryTimeoutPolicy", "spec.config.retries.attempts"),
    t("RetryTimeoutPolicy", "spec.config.retries.perTryTimeout"),
    t("RetryTimeoutPolicy", "spec.config.retries.retryOn"),
    t(
        "RetryTimeoutPolicy",
        "spec.config.retries.retryRemoteLocalities",
    ),
    // MirrorPolicy
    t("MirrorPolicy", "spec.applyToRoutes[].route.labels"),
    r(
        "MirrorPolicy",
        "spec.applyToRoutes[].route.name",
        "ignored by Gloo 2.2 and gone from its API since 2.3; select routes by labels",
    ),
    t("MirrorPolicy", "spec.applyToRoutes[].route.namespace"),
    t("MirrorPolicy", "spec.applyToRoutes[].route.cluster"),
    t("MirrorPolicy", "spec.applyToRoutes[].route.workspace"),
    t(
        "MirrorPolicy",
        "spec.applyToRoutes[].withDestinations.selector.labels",
    ),
    t(
        "MirrorPolicy",
        "spec.applyToRoutes[].withDestinations.selector.name",
    ),
    t(
        "MirrorPolicy",
        "spec.applyToRoutes[].withDestinations.selector.namespace",
    ),
    t(
        "MirrorPolicy",
        "spec.applyToRoutes[].withDestinations.selector.cluster",
    ),
    t(
        "MirrorPolicy",
        "spec.applyToRoutes[].withDestinations.selector.workspace",
    ),
    t("MirrorPolicy", "spec.applyToRoutes[].withDestinations.kind"),
    t(
        "MirrorPolicy",
        "spec.applyToRoutes[].withDestinations.port.number",
    ),
    t(
        "MirrorPolicy",
        "spec.applyToRoutes[].withDestinations.port.name",
    ),
    t("MirrorPolicy", "spec.config.destination.ref.name"),
    t("MirrorPolicy", "spec.config.destination.ref.namespace"),
    t("MirrorPolicy", "spec.config.destination.ref.cluster"),
    t("MirrorPolicy", "spec.config.destination.kind"),
    t("MirrorPolicy", "spec.config.destination.port.number"),
    t("MirrorPolicy", "spec.config.destination.port.name"),
    t("MirrorPolicy", "spec.config.destination.subset"),
    r(
        "MirrorPolicy",
        "spec.config.destination.awsLambda",
        "an AWS Lambda destination; meshform renders Kubernetes, virtual and external \
         destinations only",
    ),
    c(
        "MirrorPolicy",
        "spec.config.destination.weight",
        "a mirror has a single destination, so Gloo gives its weight no meaning",
    ),
    t("MirrorPolicy", "spec.config.percentage"),
    // OutlierDetectionPolicy
    t(
        "OutlierDetectionPolicy",
        "spec.applyToDestinations[].selector.labels",
    ),
    t(
        "OutlierDetectionPolicy",
        "spec.applyToDestinations[].selector.name",
    ),
    t(
        "OutlierDetectionPolicy",
        "spec.applyToDestinations[].selector.namespace",
    ),
    t(
        "OutlierDetectionPolicy",
        "spec.applyToDestinations[].selector.cluster",
    ),
    t(
        "OutlierDetectionPolicy",
        "spec.applyToDestinations[].selector.workspace",
    ),
    t("OutlierDetectionPolicy", "spec.applyToDestinations[].kind"),
    t(
        "OutlierDetectionPolicy",
        "spec.applyToDestinations[].port.number",
    ),
    t(
        "OutlierDetectionPolicy",
        "spec.applyToDestinations[].port.name",
    ),
    t("OutlierDetectionPolicy", "spec.config.consecutiveErrors"),
    t("OutlierDetectionPolicy", "spec.config.interval"),
    t("OutlierDetectionPolicy", "spec.config.baseEjectionTime"),
    t("OutlierDetectionPolicy", "spec.config.maxEjectionPercent"),
    t(
        "OutlierDetectionPolicy",
        "spec.config.consecutiveGatewayErrors",
    ),
    // HeaderManipulationPolicy
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].route.labels",
    ),
    r(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].route.name",
        "ignored by Gloo 2.2 and gone from its API since 2.3; select routes by labels",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].route.namespace",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].route.cluster",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].route.workspace",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].withDestinations.selector.labels",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].withDestinations.selector.name",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].withDestinations.selector.namespace",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].withDestinations.selector.cluster",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].withDestinations.selector.workspace",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].withDestinations.kind",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].withDestinations.port.number",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.applyToRoutes[].withDestinations.port.name",
    ),
    r(
        "HeaderManipulationPolicy",
        "spec.applyToRouteDestinations",
        "applies the headers on the route's destinations that match (`http[].route[].headers`); \
         meshform applies them to whole routes with applyToRoutes",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.config.appendRequestHeaders",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.config.removeRequestHeaders[]",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.config.appendResponseHeaders",
    ),
    t(
        "HeaderManipulationPolicy",
        "spec.config.removeResponseHeaders[]",
    ),
    // CORSPolicy
    t("CORSPolicy", "spec.applyToRoutes[].route.labels"),
    r(
        "CORSPolicy",
        "spec.applyToRoutes[].route.name",
        "ignored by Gloo 2.2 and gone from its API since 2.3; select routes by labels",
    ),
    t("CORSPolicy", "spec.applyToRoutes[].route.namespace"),
    t("CORSPolicy", "spec.applyToRoutes[].route.cluster"),
    t("CORSPolicy", "spec.applyToRoutes[].route.workspace"),
    t(
        "CORSPolicy",
        "spec.applyToRoutes[].withDestinations.selector.labels",
    ),
    t(
        "CORSPolicy",
        "spec.applyToRoutes[].withDestinations.selector.name",
    ),
    t(
        "CORSPolicy",
        "spec.applyToRoutes[].withDestinations.selector.namespace",
    ),
    t(
        "CORSPolicy",
        "spec.applyToRoutes[].withDestinations.selector.cluster",
    ),
    t(
        "CORSPolicy",
        "spec.applyToRoutes[].withDestinations.selector.workspace",
    ),
    t("CORSPolicy", "spec.applyToRoutes[].withDestinations.kind"),
    t(
        "CORSPolicy",
        "spec.applyToRoutes[].withDestinations.port.number",
    ),
    t(
        "CORSPolicy",
        "spec.applyToRoutes[].withDestinations.port.name",
    ),
    t("CORSPolicy", "spec.config.allowOrigins[].exact"),
    t("CORSPolicy", "spec.config.allowOrigins[].prefix"),
    t("CORSPolicy", "spec.config.allowOrigins[].regex"),
    r(
        "CORSPolicy",
        "spec.config.allowOrigins[].suffix",
        "a suffix origin match, which Gloo does not support and Istio's CORS origins lack",
    ),
    r(
        "CORSPolicy",
        "spec.config.allowOrigins[].ignoreCase",
        "a case-insensitive origin match, which Istio's CORS origins lack",
    ),
    t("CORSPolicy", "spec.config.allowMethods[]"),
    t("CORSPolicy", "spec.config.allowHeaders[]"),
    t("CORSPolicy", "spec.config.exposeHeaders[]"),
    t("CORSPolicy", "spec.config.maxAge"),
    t("CORSPolicy", "spec.config.allowCredentials"),
    // ConnectionPolicy
    t(
        "ConnectionPolicy",
        "spec.applyToDestinations[].selector.labels",
    ),
    t(
        "ConnectionPolicy",
        "spec.applyToDestinations[].selector.name",
    ),
    t(
        "ConnectionPolicy",
        "spec.applyToDestinations[].selector.namespace",
    ),
    t(
        "ConnectionPolicy",
        "spec.applyToDestinations[].selector.cluster",
    ),
    t(
        "ConnectionPolicy",
        "spec.applyToDestinations[].selector.workspace",
    ),
    t("ConnectionPolicy", "spec.applyToDestinations[].kind"),
    t("ConnectionPolicy", "spec.applyToDestinations[].port.number"),
    t("ConnectionPolicy", "spec.applyToDestinations[].port.name"),
    t("ConnectionPolicy", "spec.config.tcp.tcpKeepalive.probes"),
    t("ConnectionPolicy", "spec.config.tcp.tcpKeepalive.time"),
    t("ConnectionPolicy", "spec.config.tcp.tcpKeepalive.interval"),
    t("ConnectionPolicy", "spec.config.tcp.maxConnections"),
    t("ConnectionPolicy", "spec.config.tcp.connectTimeout"),
    t(
        "ConnectionPolicy",
        "spec.config.http.maxRequestsPerConnection",
    ),
    t("ConnectionPolicy", "spec.config.http.maxRetries"),
    t("ConnectionPolicy", "spec.config.http.idleTimeout"),
    t("ConnectionPolicy", "spec.config.http.maxRequests"),
    t("ConnectionPolicy", "spec.config.http.maxPendingRequests"),
    // FailoverPolicy
    t(
        "FailoverPolicy",
        "spec.applyToDestinations[].selector.labels",
    ),
    t("FailoverPolicy", "spec.applyToDestinations[].selector.name"),
    t(
        "FailoverPolicy",
        "spec.applyToDestinations[].selector.namespace",
    ),
    t(
        "FailoverPolicy",
        "spec.applyToDestinations[].selector.cluster",
    ),
    t(
        "FailoverPolicy",
        "spec.applyToDestinations[].selector.workspace",
    ),
    t("FailoverPolicy", "spec.applyToDestinations[].kind"),
    t("FailoverPolicy", "spec.applyToDestinations[].port.number"),
    t("FailoverPolicy", "spec.applyToDestinations[].port.name"),
    t(
        "FailoverPolicy",
        "spec.config.localityMappings[].from.region",
    ),
    t("FailoverPolicy", "spec.config.localityMappings[].from.zone"),
    t(
        "FailoverPolicy",
        "spec.config.localityMappings[].from.subZone",
    ),
    t(
        "FailoverPolicy",
        "spec.config.localityMappings[].to[].region",
    ),
    t("FailoverPolicy", "spec.config.localityMappings[].to[].zone"),
    t(
        "FailoverPolicy",
        "spec.config.localityMappings[].to[].subZone",
    ),
    t(
        "FailoverPolicy",
        "spec.config.localityMappings[].to[].weight",
    ),
    t("FailoverPolicy", "spec.config.priorityLabels.labels[]"),
    // ClientTLSPolicy
    t(
        "ClientTLSPolicy",
        "spec.applyToDestinations[].selector.labels",
    ),
    t(
        "ClientTLSPolicy",
        "spec.applyToDestinations[].selector.name",
    ),
    t(
        "ClientTLSPolicy",
        "spec.applyToDestinations[].selector.namespace",
    ),
    t(
        "ClientTLSPolicy",
        "spec.applyToDestinations[].selector.cluster",
    ),
    t(
        "ClientTLSPolicy",
        "spec.applyToDestinations[].selector.workspace",
    ),
    t("ClientTLSPolicy", "spec.applyToDestinations[].kind"),
    t("ClientTLSPolicy", "spec.applyToDestinations[].port.number"),
    t("ClientTLSPolicy", "spec.applyToDestinations[].port.name"),
    t("ClientTLSPolicy", "spec.disable"),
    t("ClientTLSPolicy", "spec.istioMutual"),
    t("ClientTLSPolicy", "spec.simple.config.sni"),
    t("ClientTLSPolicy", "spec.simple.config.credentialName"),
    t("ClientTLSPolicy", "spec.mutual.config.sni"),
    t("ClientTLSPolicy", "spec.mutual.config.credentialName"),
    // LoadBalancerPolicy
    t(
        "LoadBalancerPolicy",
        "spec.applyToDestinations[].selector.labels",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.applyToDestinations[].selector.name",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.applyToDestinations[].selector.namespace",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.applyToDestinations[].selector.cluster",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.applyToDestinations[].selector.workspace",
    ),
    t("LoadBalancerPolicy", "spec.applyToDestinations[].kind"),
    t(
        "LoadBalancerPolicy",
        "spec.applyToDestinations[].port.number",
    ),
    t("LoadBalancerPolicy", "spec.applyToDestinations[].port.name"),
    t("LoadBalancerPolicy", "spec.config.simple"),
    t(
        "LoadBalancerPolicy",
        "spec.config.consistentHash.httpHeaderName",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.config.consistentHash.httpCookie.name",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.config.consistentHash.httpCookie.path",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.config.consistentHash.httpCookie.ttl",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.config.consistentHash.useSourceIp",
    ),
    t(
        "LoadBalancerPolicy",
        "spec.config.consistentHash.httpQueryParameterName",
    ),
    t("LoadBalancerPolicy", "spec.config.warmupDurationSecs"),
    r(
        "LoadBalancerPolicy",
        "spec.config.healthyPanicThreshold",
        "a DestinationRule has no panic threshold; Gloo sets it on the Envoy cluster, which \
         needs an EnvoyFilter",
    ),
    r(
        "LoadBalancerPolicy",
        "spec.config.updateMergeWindow",
        "a DestinationRule has no update merge window; Gloo sets it on the Envoy cluster, which \
         needs an EnvoyFilter",
    ),
];

/// The fields of a typed spec that are set and rejected ([`Class::Rejected`]), as paths with
/// indices (`spec.applyToDestinations`, `spec.http[0].graphql`). A few comparisons per object: typing runs it
/// on every object.
pub trait Untranslated {
    /// Pushes the path of every rejected field that is set.
    fn untranslated(&self, out: &mut Vec<String>);
}

/// True for a `kind` other than the default `KUBE`.
fn not_kube(kind: &Option<WorkloadKind>) -> bool {
    kind.is_some_and(|k| k != WorkloadKind::Kube)
}

/// Pushes `at.awsLambda` when the destination sets it.
fn destination(d: &DestinationReference, at: impl FnOnce() -> String, out: &mut Vec<String>) {
    if d.aws_lambda.is_some() {
        out.push(format!("{}.awsLambda", at()));
    }
}

/// The rejected fields of a forwardTo: destinations' awsLambda, and on TCP and TLS routes
/// (`http` false) the HTTP rewrites.
fn forward_to(f: &ForwardToAction, at: &str, http: bool, out: &mut Vec<String>) {
    for (j, d) in f.destinations.iter().flatten().enumerate() {
        destination(d, || format!("{at}.destinations[{j}]"), out);
    }
    if !http {
        let set = [
            ("pathRewrite", f.path_rewrite.is_some()),
            ("regexRewrite", f.regex_rewrite.is_some()),
            ("hostRewrite", f.host_rewrite.is_some()),
            ("autoHostRewrite", f.auto_host_rewrite.is_some()),
        ];
        for (name, _) in set.iter().filter(|(_, s)| *s) {
            out.push(format!("{at}.{name}"));
        }
    }
}

impl Untranslated for ExternalServiceSpec {
    fn untranslated(&self, _: &mut Vec<String>) {}
}

impl Untranslated for ExternalEndpointSpec {
    fn untranslated(&self, _: &mut Vec<String>) {}
}

impl Untranslated for RouteTableSpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        for (i, w) in self.workload_selectors.iter().flatten().enumerate() {
            if let Some(s) = &w.selector {
                for (name, v) in [
                    ("name", &s.name),
                    ("namespace", &s.namespace),
                    ("cluster", &s.cluster),
                    ("workspace", &s.workspace),
                ] {
                    if !v.is_empty() {
                        out.push(format!("spec.workloadSelectors[{i}].selector.{name}"));
                    }
                }
            }
            if not_kube(&w.kind) {
                out.push(format!("spec.workloadSelectors[{i}].kind"));
            }
            if w.port.is_some() {
                out.push(format!("spec.workloadSelectors[{i}].port"));
            }
        }
        if self
            .apply_to_destinations
            .as_ref()
            .is_some_and(|a| !a.is_empty())
        {
            out.push("spec.applyToDestinations".into());
        }
        if let Some(d) = &self.default_destination {
            destination(d, || "spec.defaultDestination".into(), out);
        }
        for (i, r) in self.http.iter().flatten().enumerate() {
            if let Some(f) = &r.forward_to {
                forward_to(f, &format!("spec.http[{i}].forwardTo"), true, out);
            }
            if let Some(d) = &r.delegate {
                if d.allowed_routes.as_ref().is_some_and(|a| !a.is_empty()) {
                    out.push(format!("spec.http[{i}].delegate.allowedRoutes"));
                }
            }
            if r.graphql.is_some() {
                out.push(format!("spec.http[{i}].graphql"));
            }
        }
        for (i, r) in self.tcp.iter().flatten().enumerate() {
            if let Some(f) = &r.forward_to {
                forward_to(f, &format!("spec.tcp[{i}].forwardTo"), false, out);
            }
        }
        for (i, r) in self.tls.iter().flatten().enumerate() {
            if let Some(f) = &r.forward_to {
                forward_to(f, &format!("spec.tls[{i}].forwardTo"), false, out);
            }
        }
    }
}

impl Untranslated for VirtualDestinationSpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        for (i, s) in self.services.iter().enumerate() {
            if !s.name.is_empty() {
                out.push(format!("spec.services[{i}].name"));
            }
            if !s.workspace.is_empty() {
                out.push(format!("spec.services[{i}].workspace"));
            }
        }
        if !self.external_services.is_empty() {
            out.push("spec.externalServices".into());
        }
        if !self.external_workloads.is_empty() {
            out.push("spec.externalWorkloads".into());
        }
        if self.client_mode.is_some() {
            out.push("spec.clientMode".into());
        }
    }
}

impl Untranslated for VirtualGatewaySpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        for (i, w) in self.workloads.iter().flatten().enumerate() {
            if w.selector.as_ref().is_some_and(|s| !s.workspace.is_empty()) {
                out.push(format!("spec.workloads[{i}].selector.workspace"));
            }
            if not_kube(&w.kind) {
                out.push(format!("spec.workloads[{i}].kind"));
            }
            if w.port.is_some() {
                out.push(format!("spec.workloads[{i}].port"));
            }
        }
        for (i, l) in self.listeners.iter().enumerate() {
            for (j, a) in l.allowed_route_tables.iter().flatten().enumerate() {
                if a.selector.is_some() {
                    out.push(format!(
                        "spec.listeners[{i}].allowedRouteTables[{j}].selector"
                    ));
                }
                if a.allowed_routes.as_ref().is_some_and(|r| !r.is_empty()) {
                    out.push(format!(
                        "spec.listeners[{i}].allowedRouteTables[{j}].allowedRoutes"
                    ));
                }
            }
        }
    }
}

impl Untranslated for WorkspaceSpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        for (i, c) in self.workload_clusters.iter().enumerate() {
            if c.config_enabled == Some(false) {
                out.push(format!("spec.workloadClusters[{i}].configEnabled"));
            }
            for (j, n) in c.namespaces.iter().enumerate() {
                if n.config_enabled == Some(false) {
                    out.push(format!(
                        "spec.workloadClusters[{i}].namespaces[{j}].configEnabled"
                    ));
                }
            }
        }
    }
}

impl Untranslated for WorkspaceSettingsSpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        if self.options.is_some() {
            out.push("spec.options".into());
        }
    }
}

/// The rejected field of a route policy's `applyToRoutes`: `route.name`.
fn route_selectors(sels: &[RouteSelector], out: &mut Vec<String>) {
    for (i, s) in sels.iter().enumerate() {
        if !s.route.name.is_empty() {
            out.push(format!("spec.applyToRoutes[{i}].route.name"));
        }
    }
}

impl Untranslated for FaultInjectionPolicySpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        route_selectors(&self.apply_to_routes, out);
    }
}

impl Untranslated for RetryTimeoutPolicySpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        route_selectors(&self.apply_to_routes, out);
    }
}

impl Untranslated for MirrorPolicySpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        route_selectors(&self.apply_to_routes, out);
        if let Some(d) = self.config.as_ref().and_then(|c| c.destination.as_ref()) {
            destination(d, || "spec.config.destination".into(), out);
        }
    }
}

impl Untranslated for HeaderManipulationPolicySpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        route_selectors(&self.apply_to_routes, out);
        if self.apply_to_route_destinations.is_some() {
            out.push("spec.applyToRouteDestinations".into());
        }
    }
}

impl Untranslated for CorsPolicySpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        route_selectors(&self.apply_to_routes, out);
        let origins = self.config.iter().flat_map(|c| c.allow_origins.iter());
        for (i, o) in origins.enumerate() {
            if o.suffix.is_some() {
                out.push(format!("spec.config.allowOrigins[{i}].suffix"));
            }
            if o.ignore_case {
                out.push(format!("spec.config.allowOrigins[{i}].ignoreCase"));
            }
        }
    }
}

impl Untranslated for OutlierDetectionPolicySpec {
    fn untranslated(&self, _: &mut Vec<String>) {}
}

impl Untranslated for ConnectionPolicySpec {
    fn untranslated(&self, _: &mut Vec<String>) {}
}

impl Untranslated for FailoverPolicySpec {
    fn untranslated(&self, _: &mut Vec<String>) {}
}

impl Untranslated for ClientTlsPolicySpec {
    fn untranslated(&self, _: &mut Vec<String>) {}
}

impl Untranslated for LoadBalancerPolicySpec {
    fn untranslated(&self, out: &mut Vec<String>) {
        if self.config.healthy_panic_threshold.is_some() {
            out.push("spec.config.healthyPanicThreshold".into());
        }
        if self.config.update_merge_window.is_some() {
            out.push("spec.config.updateMergeWindow".into());
        }
    }
}

/// The classification as the Markdown table of docs/translation.md#fields.
pub fn markdown() -> String {
    let mut out = String::new();
    for kind in kinds() {
        out.push_str(&format!(
            "\n#### {kind}\n\n| field | what meshform does |\n|---|---|\n"
        ));
        for f in FIELDS.iter().filter(|f| f.kind == kind) {
            let what = match f.class {
                Class::Translated => "translated".to_string(),
                Class::Checked(r) => format!("no output: {r}"),
                Class::Rejected(r) => format!("**rejected** when set: {r}"),
            };
            out.push_str(&format!(
                "| `{}` | {} |\n",
                f.path,
                what.replace('|', "\\|")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;

    /// A value of the type the schema at `path` (relative to `spec`, `[]` for list items) has.
    fn sample_leaf(s: &Value) -> Value {
        if let Some(c) = s.get("const") {
            return c.clone();
        }
        if s.get("format").and_then(Value::as_str) == Some("duration") {
            return Value::from("1s");
        }
        // The last value of an enum: the first is often the default, which sets nothing.
        if let Some(e) = s
            .get("enum")
            .and_then(Value::as_array)
            .and_then(|e| e.last())
        {
            return e.clone();
        }
        let ty = match s.get("type") {
            Some(Value::String(t)) => t.as_str(),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .unwrap_or("object"),
            _ => "object",
        };
        match ty {
            "string" if s.get("format").and_then(Value::as_str) == Some("duration") => {
                Value::from("1s")
            }
            "string" => Value::from("x"),
            "integer" | "number" => Value::from(1),
            // The only rejected booleans are rejected when false (`configEnabled`).
            "boolean" => Value::from(false),
            "array" => Value::Array(vec![Value::from("x")]),
            _ => Value::Object(Default::default()),
        }
    }

    /// The last value of an enum schema (`oneOf` of `const`s, through `$ref`s and `Option`'s
    /// null branch): the first is often the default, which sets nothing.
    fn last_const(root: &Value, s: &Value) -> Option<Value> {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or_default();
            return last_const(root, root.get("$defs")?.get(name)?);
        }
        for key in ["anyOf", "oneOf"] {
            let Some(branches) = s.get(key).and_then(Value::as_array) else {
                continue;
            };
            let not_null: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                .collect();
            if !not_null.is_empty() && not_null.iter().all(|b| b.get("const").is_some()) {
                return not_null.last().and_then(|b| b.get("const")).cloned();
            }
            if let Some(c) = not_null.iter().find_map(|b| last_const(root, b)) {
                return Some(c);
            }
        }
        None
    }

    /// A spec of `kind` with only the field at `path` (`spec.a[].b`) set.
    fn sample(kind: &str, path: &str) -> Value {
        let (_, schema) = SCHEMAS.iter().find(|(k, _)| *k == kind).unwrap();
        let root = schema.as_value();
        let rel = path.strip_prefix("spec.").unwrap();
        let mut leaf = schema_at(root, rel).unwrap_or_else(|| panic!("{kind} {path}"));
        // A CORS origin's `ignoreCase` is rejected when true.
        if rel.ends_with(".ignoreCase") {
            return build(rel, Value::from(true));
        }
        // A whole list or map field gets one item.
        if let Some(i) = items(root, leaf) {
            let item = if properties(i).is_empty() {
                sample_leaf(i)
            } else {
                Value::Object(Default::default())
            };
            return build(rel, Value::Array(vec![item]));
        }
        if let Some(c) = last_const(root, leaf) {
            return build(rel, c);
        }
        leaf = resolve(root, leaf);
        let v = if properties(leaf).is_empty() {
            sample_leaf(leaf)
        } else {
            Value::Object(Default::default())
        };
        build(rel, v)
    }

    /// Nests `leaf` under the segments of `rel`.
    fn build(rel: &str, leaf: Value) -> Value {
        let mut v = leaf;
        for seg in rel.rsplit('.') {
            let (name, rest) = seg.split_once('[').unwrap_or((seg, ""));
            for _ in 0..rest.matches(']').count() {
                v = Value::Array(vec![v]);
            }
            let mut m = serde_json::Map::new();
            m.insert(name.to_string(), v);
            v = Value::Object(m);
        }
        v
    }

    fn rejected_of<S: DeserializeOwned + Untranslated>(v: Value) -> Vec<String> {
        let spec: S = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"));
        let mut out = Vec::new();
        spec.untranslated(&mut out);
        out
    }

    fn rejected(kind: &str, v: Value) -> Vec<String> {
        match kind {
            "ExternalService" => rejected_of::<ExternalServiceSpec>(v),
            "ExternalEndpoint" => rejected_of::<ExternalEndpointSpec>(v),
            "RouteTable" => rejected_of::<RouteTableSpec>(v),
            "VirtualDestination" => rejected_of::<VirtualDestinationSpec>(v),
            "VirtualGateway" => rejected_of::<VirtualGatewaySpec>(v),
            "Workspace" => rejected_of::<WorkspaceSpec>(v),
            "WorkspaceSettings" => rejected_of::<WorkspaceSettingsSpec>(v),
            "FaultInjectionPolicy" => rejected_of::<FaultInjectionPolicySpec>(v),
            "RetryTimeoutPolicy" => rejected_of::<RetryTimeoutPolicySpec>(v),
            "MirrorPolicy" => rejected_of::<MirrorPolicySpec>(v),
            "HeaderManipulationPolicy" => rejected_of::<HeaderManipulationPolicySpec>(v),
            "CORSPolicy" => rejected_of::<CorsPolicySpec>(v),
            "OutlierDetectionPolicy" => rejected_of::<OutlierDetectionPolicySpec>(v),
            "LoadBalancerPolicy" => rejected_of::<LoadBalancerPolicySpec>(v),
            "ConnectionPolicy" => rejected_of::<ConnectionPolicySpec>(v),
            "FailoverPolicy" => rejected_of::<FailoverPolicySpec>(v),
            "ClientTLSPolicy" => rejected_of::<ClientTlsPolicySpec>(v),
            k => panic!("{k} has no Untranslated impl here"),
        }
    }

    /// Every field of every typed kind is classified, and every row names a real field: a
    /// field added to `types` fails here until it is translated, checked or rejected.
    #[test]
    fn every_field_is_classified() {
        let mut missing = Vec::new();
        for kind in kinds() {
            let leaves = leaf_paths(kind);
            assert!(!leaves.is_empty(), "{kind}");
            for p in &leaves {
                if entry(kind, p).is_none() {
                    missing.push(format!("{kind} {p}"));
                }
            }
            for f in FIELDS.iter().filter(|f| f.kind == kind) {
                assert!(
                    leaves.iter().any(|l| covers(f, l)),
                    "{kind} {} is no field of the spec",
                    f.path
                );
            }
        }
        assert!(FIELDS.iter().all(|f| kinds().contains(&f.kind)));
        assert!(
            missing.is_empty(),
            "fields without a row in FIELDS: {missing:#?}"
        );
    }

    /// Setting a rejected field is reported at its path; setting any other field is not.
    #[test]
    fn rejected_fields_are_reported_and_no_others() {
        for f in FIELDS {
            let v = sample(f.kind, f.path);
            let found: Vec<String> = rejected(f.kind, v.clone())
                .iter()
                .map(|p| generic(p))
                .collect();
            match f.class {
                Class::Rejected(_) => assert_eq!(
                    found,
                    [f.path],
                    "{} {} set as {v} is not reported",
                    f.kind,
                    f.path
                ),
                _ => assert!(
                    found.is_empty(),
                    "{} {} set as {v}: {found:?}",
                    f.kind,
                    f.path
                ),
            }
        }
    }

    /// The nearest of the field names, as typing asks for it.
    fn nearest<'a>(unknown: &str, known: &'a [String]) -> Option<&'a str> {
        crate::diag::suggest::nearest(unknown, known.iter().map(String::as_str))
    }

    #[test]
    fn unknown_fields_get_the_nearest_known_one() {
        let known = fields_at("RouteTable", "http[3].forwardTo");
        assert!(known.contains(&"pathRewrite".to_string()), "{known:?}");
        assert_eq!(nearest("pathRewite", &known), Some("pathRewrite"));
        assert_eq!(nearest("zzz", &known), None);
        let top = fields_at("ExternalService", "");
        assert_eq!(nearest("host", &top), Some("hosts"));
        let uri = fields_at("RouteTable", "http[0].matchers[0].uri");
        assert_eq!(nearest("prefx", &uri), Some("prefix"));
        assert!(fields_at("RouteTable", "http[0].nope").is_empty());
    }

    #[test]
    fn generic_paths() {
        assert_eq!(generic("spec.a[10].b[0].c"), "spec.a[].b[].c");
    }

    /// docs/translation.md holds [`markdown`] between its two markers.
    #[test]
    fn docs_show_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/translation.md");
        let (begin, end) = ("<!-- fields:begin -->\n", "<!-- fields:end -->");
        let page = std::fs::read_to_string(path).expect("docs/translation.md exists");
        let (head, rest) = page.split_once(begin).expect("the begin marker");
        let (_, tail) = rest.split_once(end).expect("the end marker");
        let want = format!("{head}{begin}{}\n{end}{tail}", markdown());
        if std::env::var_os("MESHFORM_WRITE_DOCS").is_some() {
            std::fs::write(path, &want).expect("docs/translation.md is writable");
            return;
        }
        assert!(
            page == want,
            "docs/translation.md#fields differs from src/gloo/fields.rs: \
             MESHFORM_WRITE_DOCS=1 cargo test --lib gloo::fields rewrites it"
        );
    }
}
