//! The catalog of Gloo Platform 2.x API kinds: every group, kind and version Gloo publishes
//! (Solo's `gloo-platform-crds` chart and the `solo-io/solo-apis` protos, docs/translation.md
//! "Kinds"), each marked translated, not translated (its output would lack something), or out
//! of scope (it produces no routing objects). Typing reads it only for objects that are not
//! one of the translated kinds, so the common case costs nothing.

use crate::diag::codes::Typing;
use crate::diag::suggest::nearest;
use crate::diag::{Diagnostic, Severity};
use crate::manifest::Object;
use crate::repo::Repo;

/// What meshform does with a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Typed and rendered.
    Translated,
    /// A real Gloo kind meshform does not translate: what Gloo would render from it and the
    /// output would lack.
    NotTranslated(&'static str),
    /// A kind that produces no routing objects: what it does instead.
    OutOfScope(&'static str),
}

/// One kind of one Gloo API group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// API group (`networking.gloo.solo.io`).
    pub group: &'static str,
    /// Kind (`RouteTable`).
    pub kind: &'static str,
    /// The versions Gloo serves.
    pub versions: &'static [&'static str],
    /// What meshform does with it.
    pub support: Support,
}

use Support::{NotTranslated as Nt, OutOfScope as Oos, Translated as T};

const V2: &[&str] = &["v2"];

macro_rules! catalog {
    ($($group:literal { $($kind:ident $versions:expr => $support:expr,)* })*) => {
        /// Every Gloo Platform 2.x kind, by group.
        pub const CATALOG: &[Kind] = &[
            $($(Kind { group: $group, kind: stringify!($kind), versions: $versions, support: $support },)*)*
        ];
    };
}

catalog! {
    "networking.gloo.solo.io" {
        ExternalService V2 => T,
        ExternalEndpoint V2 => T,
        RouteTable V2 => T,
        VirtualDestination V2 => T,
        VirtualGateway V2 => T,
        ExternalWorkload &["v2alpha1", "v2"] => Nt("the WorkloadEntries and ServiceEntry Gloo makes for the external workloads"),
        ProgressiveDelivery &["v2alpha1"] => Nt("the weighted routes of its canary rollout"),
    }
    "admin.gloo.solo.io" {
        Workspace V2 => T,
        WorkspaceSettings V2 => T,
        KubernetesCluster V2 => Oos("it registers a workload cluster with the management server"),
        RootTrustPolicy V2 => Oos("its output is the mesh's root and intermediate certificates"),
        Dashboard V2 => Oos("it configures the Gloo UI"),
        ExtAuthServer V2 => Oos("it names the external auth server ExtAuthPolicies use"),
        RateLimitServerSettings V2 => Oos("it tells clients how to reach the rate-limit server"),
        RateLimitServerConfig V2 => Oos("it configures the rate-limit server's descriptors"),
        IstioLifecycleManager V2 => Oos("it installs Istio control planes"),
        GatewayLifecycleManager V2 => Oos("it installs Istio gateways"),
        InsightsConfig &["v2alpha1"] => Oos("it configures Gloo's insights"),
    }
    "resilience.policy.gloo.solo.io" {
        FaultInjectionPolicy V2 => T,
        RetryTimeoutPolicy V2 => T,
        OutlierDetectionPolicy V2 => T,
        FailoverPolicy V2 => T,
        ConnectionPolicy V2 => T,
        ActiveHealthCheckPolicy V2 => Nt("the EnvoyFilter for the gateways' active health checks"),
        AdaptiveRequestConcurrencyPolicy V2 => Nt("the EnvoyFilter for Envoy's adaptive concurrency filter"),
        ListenerConnectionPolicy V2 => Nt("the EnvoyFilter for the listeners' connection settings"),
        TrimProxyConfigPolicy V2 => Nt("the Istio Sidecar `egress.hosts` that trims proxy config"),
        GraphQLPersistedQueryCachePolicy V2 => Nt("the EnvoyFilter for the GraphQL persisted query cache"),
    }
    "trafficcontrol.policy.gloo.solo.io" {
        HeaderManipulationPolicy V2 => T,
        MirrorPolicy V2 => T,
        LoadBalancerPolicy V2 => T,
        ProxyProtocolPolicy V2 => Nt("the EnvoyFilter for proxy protocol on the listeners"),
        RateLimitPolicy V2 => Nt("the EnvoyFilter for rate limiting"),
        RateLimitClientConfig V2 => Nt("the rate-limit actions of the routes' EnvoyFilter"),
        TransformationPolicy V2 => Nt("the EnvoyFilter for request and response transformations"),
        HTTPBufferPolicy V2 => Nt("the EnvoyFilter for request buffering"),
    }
    "security.policy.gloo.solo.io" {
        CORSPolicy V2 => T,
        ClientTLSPolicy V2 => T,
        AccessPolicy V2 => Nt("the AuthorizationPolicy (and PeerAuthentication) it grants access with"),
        ExtAuthPolicy V2 => Nt("the EnvoyFilter for external auth"),
        JWTPolicy V2 => Nt("the EnvoyFilter for JWT authentication"),
        WAFPolicy V2 => Nt("the EnvoyFilter for the web application firewall"),
        CSRFPolicy V2 => Nt("the EnvoyFilter for CSRF protection"),
        DLPPolicy V2 => Nt("the EnvoyFilter for data loss prevention"),
        GraphQLAllowedQueryPolicy V2 => Nt("the EnvoyFilter for the GraphQL query allow-list"),
    }
    "observability.policy.gloo.solo.io" {
        AccessLogPolicy V2 => Nt("the EnvoyFilter for access logs"),
    }
    "extensions.policy.gloo.solo.io" {
        WasmDeploymentPolicy V2 => Nt("the WasmPlugin or EnvoyFilter that deploys the Wasm filter"),
    }
    "infrastructure.gloo.solo.io" {
        CloudProvider V2 => Nt("the AWS Lambda destinations it discovers"),
        CloudResources V2 => Nt("the AWS Lambda destinations it declares"),
    }
    "apimanagement.gloo.solo.io" {
        ApiDoc V2 => Oos("it describes an API for the developer portal"),
        ApiProduct V2 => Oos("it describes an API product for the developer portal"),
        ApiSchemaDiscovery V2 => Oos("it discovers API schemas for the developer portal"),
        Portal V2 => Oos("it configures the developer portal"),
        PortalGroup V2 => Oos("it groups developer portal users"),
        GraphQLResolverMap V2 => Nt("the GraphQL filter config of the graphql routes"),
        GraphQLSchema V2 => Nt("the GraphQL filter config of the graphql routes"),
        GraphQLStitchedSchema V2 => Nt("the GraphQL filter config of the graphql routes"),
    }
    "internal.gloo.solo.io" {
        CertificateRequest V2 => Oos("the management server writes it itself"),
        DiscoveredCNI V2 => Oos("the management server writes it itself"),
        DiscoveredGateway V2 => Oos("the management server writes it itself"),
        IssuedCertificate V2 => Oos("the management server writes it itself"),
        Mesh V2 => Oos("the management server writes it itself"),
        PodBounceDirective V2 => Oos("the management server writes it itself"),
        PortalConfig V2 => Oos("the management server writes it itself"),
        SpireRegistrationEntry &["v2alpha1"] => Oos("the management server writes it itself"),
        VirtualServiceBackup &["v2alpha1"] => Oos("the management server writes it itself"),
        XdsConfig V2 => Oos("the management server writes it itself"),
    }
}

/// How an object's `apiVersion` and `kind` stand against the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A kind and version Gloo defines.
    Known(&'static Kind),
    /// The group is Gloo's, the kind is not one of it.
    UnknownKind,
    /// The kind is Gloo's, the version is not one it serves.
    UnknownVersion(&'static Kind),
    /// A group under `gloo.solo.io` that Gloo Platform 2.x does not define.
    UnknownGroup,
    /// A Gloo Mesh 1.x group (`*.mesh.gloo.solo.io`).
    Mesh1,
}

/// Looks `apiVersion` / `kind` up in the catalog.
pub fn lookup(api_version: &str, kind: &str) -> Lookup {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    if group.ends_with(".mesh.gloo.solo.io") {
        return Lookup::Mesh1;
    }
    let mut group_known = false;
    for k in CATALOG.iter().filter(|k| k.group == group) {
        group_known = true;
        if k.kind == kind {
            return if k.versions.contains(&version) {
                Lookup::Known(k)
            } else {
                Lookup::UnknownVersion(k)
            };
        }
    }
    if group_known {
        Lookup::UnknownKind
    } else {
        Lookup::UnknownGroup
    }
}

/// True when `name` is the kind of a catalog entry meshform does not translate.
pub fn is_not_translated(name: &str) -> bool {
    CATALOG
        .iter()
        .any(|k| k.kind == name && matches!(k.support, Support::NotTranslated(_)))
}

/// The groups of the catalog, in catalog order, once each.
fn groups() -> Vec<&'static str> {
    let mut gs: Vec<&'static str> = Vec::new();
    for k in CATALOG {
        if !gs.contains(&k.group) {
            gs.push(k.group);
        }
    }
    gs
}

/// The help every not-translated kind's finding carries: how to accept it.
fn accept_help(kind: &str) -> String {
    format!(
        "translate it by hand into the repo's Istio objects, or accept the gap for every \
         {kind}: `accept: {{kinds: [{kind}]}}` in meshform.yaml, or `--accept-kind {kind}` \
         (docs/config.md#accept)"
    )
}

/// The finding for a Gloo-group object that is not one of the kinds typing reads, or `None`
/// when there is nothing to say. Unknown kinds, versions and groups are errors at the
/// `kind:` or `apiVersion:` line; a kind meshform does not translate is an error unless
/// `accepted`, then a warning; an out-of-scope kind is an Info.
pub fn finding(repo: &Repo, o: &Object, accepted: &[String]) -> Option<Diagnostic> {
    let (api, kind) = (o.id.api_version.as_str(), o.id.kind.as_str());
    let group = o.id.group();
    let is_accepted = accepted.iter().any(|a| a == kind);
    let d = match lookup(api, kind) {
        Lookup::Known(k) => match k.support {
            Support::Translated => return None,
            Support::OutOfScope(why) => Diagnostic::new(
                Severity::Info,
                Typing::OutOfScopeKind,
                format!("{kind} produces no routing objects ({why}); meshform skips it"),
            )
            .at(o.location.clone()),
            Support::NotTranslated(lacks) if is_accepted => Diagnostic::warning(
                Typing::NotTranslatedKind,
                format!("meshform does not translate {kind} (accepted): the output lacks {lacks}"),
            )
            .at(repo.locate(o, "kind"))
            .field("kind"),
            Support::NotTranslated(lacks) => Diagnostic::error(
                Typing::NotTranslatedKind,
                format!("meshform does not translate {kind}: the output would lack {lacks}"),
            )
            .at(repo.locate(o, "kind"))
            .field("kind")
            .help(accept_help(kind)),
        },
        Lookup::UnknownKind => {
            let names = CATALOG.iter().filter(|k| k.group == group).map(|k| k.kind);
            let guess = nearest(kind, names.clone());
            let message = match guess {
                Some(g) => format!("{group} has no kind `{kind}`; did you mean `{g}`?"),
                None => format!("{group} has no kind `{kind}`"),
            };
            Diagnostic::error(Typing::UnknownKind, message)
                .at(repo.locate(o, "kind"))
                .field("kind")
                .help(format!(
                    "the kinds of {group}: {}",
                    names.collect::<Vec<_>>().join(", ")
                ))
        }
        Lookup::UnknownVersion(k) => {
            let served: Vec<String> = k
                .versions
                .iter()
                .map(|v| format!("`{}/{v}`", k.group))
                .collect();
            Diagnostic::error(
                Typing::UnknownKind,
                format!("Gloo serves {kind} as {}, not `{api}`", served.join(" or ")),
            )
            .at(repo.locate(o, "apiVersion"))
            .field("apiVersion")
            .help(format!(
                "write `apiVersion: {}/{}`",
                k.group,
                k.versions[k.versions.len() - 1]
            ))
        }
        Lookup::Mesh1 => Diagnostic::error(
            Typing::UnknownKind,
            format!(
                "`{api}` is a Gloo Mesh 1.x API; meshform translates Gloo Platform 2.x, where \
                 {kind}'s settings are split into per-feature kinds"
            ),
        )
        .at(repo.locate(o, "apiVersion"))
        .field("apiVersion")
        .help("migrate the repo to the Gloo Platform 2.x APIs (docs/translation.md#kinds)"),
        Lookup::UnknownGroup if is_accepted => Diagnostic::warning(
            Typing::NotTranslatedKind,
            format!(
                "{group} is not a Gloo Platform 2.x API group meshform knows; {kind} is skipped \
                 (accepted) and nothing is rendered from it"
            ),
        )
        .at(repo.locate(o, "apiVersion"))
        .field("apiVersion"),
        Lookup::UnknownGroup => {
            let message = match nearest(group, groups()) {
                Some(g) => {
                    format!("Gloo Platform 2.x has no API group `{group}`; did you mean `{g}`?")
                }
                None => format!("Gloo Platform 2.x has no API group `{group}`"),
            };
            Diagnostic::error(Typing::UnknownKind, message)
                .at(repo.locate(o, "apiVersion"))
                .field("apiVersion")
                .help(format!(
                    "the groups: {} (docs/translation.md#kinds); if {group} is a real Gloo API \
                     meshform does not know, accept it with `accept: {{kinds: [{kind}]}}` or \
                     `--accept-kind {kind}`",
                    groups().join(", ")
                ))
        }
    };
    Some(d.on(o.id.clone()))
}

/// Why a name given to accept (`accept.kinds`, `--accept-kind`) cannot be accepted, with the
/// nearest kind that can; `None` when it can: a kind meshform does not translate, or a name
/// far from every catalog kind (a kind of a group the catalog lacks).
pub fn refused_acceptance(name: &str) -> Option<String> {
    if is_not_translated(name) {
        return None;
    }
    if let Some(k) = CATALOG.iter().find(|k| k.kind == name) {
        return Some(match k.support {
            Support::Translated => format!("`{name}` is translated; there is nothing to accept"),
            _ => {
                format!("`{name}` produces no routing objects; it is skipped without accepting it")
            }
        });
    }
    let nt = CATALOG
        .iter()
        .filter(|k| matches!(k.support, Support::NotTranslated(_)))
        .map(|k| k.kind);
    nearest(name, nt).map(|g| format!("`{name}` is not a Gloo kind; did you mean `{g}`?"))
}

/// The catalog as the Markdown table of docs/translation.md#kinds (a test keeps the page
/// equal to it).
pub fn markdown_table() -> String {
    let mut out = String::from("| apiVersion | kind | meshform |\n|---|---|---|\n");
    for k in CATALOG {
        let versions: Vec<String> = k
            .versions
            .iter()
            .map(|v| format!("`{}/{v}`", k.group))
            .collect();
        let what = match k.support {
            Support::Translated => "translated".to_string(),
            Support::NotTranslated(lacks) => {
                format!(
                    "**not translated**: an error unless accepted; the output would lack {lacks}"
                )
            }
            Support::OutOfScope(why) => format!("out of scope, skipped with an info: {why}"),
        };
        out.push_str(&format!(
            "| {} | {} | {what} |\n",
            versions.join(", "),
            k.kind
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/translation.md holds the catalog's table between its markers.
    #[test]
    fn docs_list_every_kind() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/translation.md");
        let (begin, end) = ("<!-- kinds:begin -->\n", "<!-- kinds:end -->");
        let mut page = std::fs::read_to_string(path).expect("docs/translation.md exists");
        let (head, rest) = page.split_once(begin).expect("the begin marker");
        let (_, tail) = rest.split_once(end).expect("the end marker");
        let current = format!("{head}{begin}{}{end}{tail}", markdown_table());
        if std::env::var_os("MESHFORM_WRITE_DOCS").is_some() {
            std::fs::write(path, &current).expect("docs/translation.md is writable");
            page = current.clone();
        }
        assert!(
            page == current,
            "docs/translation.md#kinds differs from src/gloo/kinds.rs: \
             MESHFORM_WRITE_DOCS=1 cargo test --lib gloo::kinds rewrites it"
        );
    }

    #[test]
    fn every_kind_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for k in CATALOG {
            assert!(seen.insert((k.group, k.kind)), "{} twice", k.kind);
            assert!(k.group.ends_with(".gloo.solo.io"), "{}", k.group);
            assert!(!k.versions.is_empty(), "{}", k.kind);
        }
    }

    /// The kinds typing reads (`gloo::type_one`) are the catalog's translated ones.
    #[test]
    fn translated_kinds_are_the_typed_ones() {
        let mut translated: Vec<String> = CATALOG
            .iter()
            .filter(|k| k.support == Support::Translated)
            .map(|k| format!("{}/v2 {}", k.group, k.kind))
            .collect();
        translated.sort();
        let mut typed: Vec<String> = [
            (super::super::NETWORKING_V2, "ExternalService"),
            (super::super::NETWORKING_V2, "ExternalEndpoint"),
            (super::super::NETWORKING_V2, "RouteTable"),
            (super::super::NETWORKING_V2, "VirtualDestination"),
            (super::super::NETWORKING_V2, "VirtualGateway"),
            (super::super::ADMIN_V2, "Workspace"),
            (super::super::ADMIN_V2, "WorkspaceSettings"),
            (super::super::RESILIENCE_V2, "FaultInjectionPolicy"),
            (super::super::RESILIENCE_V2, "RetryTimeoutPolicy"),
            (super::super::TRAFFICCONTROL_V2, "MirrorPolicy"),
            (super::super::TRAFFICCONTROL_V2, "HeaderManipulationPolicy"),
            (super::super::SECURITY_V2, "CORSPolicy"),
            (super::super::RESILIENCE_V2, "OutlierDetectionPolicy"),
            (super::super::RESILIENCE_V2, "ConnectionPolicy"),
            (super::super::TRAFFICCONTROL_V2, "LoadBalancerPolicy"),
            (super::super::RESILIENCE_V2, "FailoverPolicy"),
            (super::super::SECURITY_V2, "ClientTLSPolicy"),
        ]
        .iter()
        .map(|(a, k)| format!("{a} {k}"))
        .collect();
        typed.sort();
        assert_eq!(translated, typed);
    }

    #[test]
    fn lookups() {
        let api = "networking.gloo.solo.io/v2";
        assert!(matches!(
            lookup(api, "RouteTable"),
            Lookup::Known(Kind {
                support: Support::Translated,
                ..
            })
        ));
        assert_eq!(lookup(api, "ExternalServise"), Lookup::UnknownKind);
        assert!(matches!(
            lookup("networking.gloo.solo.io/v1", "RouteTable"),
            Lookup::UnknownVersion(_)
        ));
        assert_eq!(
            lookup("networkin.gloo.solo.io/v2", "RouteTable"),
            Lookup::UnknownGroup
        );
        assert_eq!(
            lookup("networking.mesh.gloo.solo.io/v1", "TrafficPolicy"),
            Lookup::Mesh1
        );
    }

    #[test]
    fn nearest_names() {
        let net = CATALOG
            .iter()
            .filter(|k| k.group == "networking.gloo.solo.io")
            .map(|k| k.kind);
        assert_eq!(
            nearest("ExternalServise", net.clone()),
            Some("ExternalService")
        );
        assert_eq!(nearest("routetable", net.clone()), Some("RouteTable"));
        assert_eq!(nearest("Banana", net), None);
        assert_eq!(
            nearest("networkin.gloo.solo.io", groups()),
            Some("networking.gloo.solo.io")
        );
    }

    #[test]
    fn acceptance() {
        assert_eq!(refused_acceptance("RateLimitPolicy"), None);
        assert!(refused_acceptance("RouteTable")
            .unwrap()
            .contains("translated"));
        assert!(refused_acceptance("RateLimitPolicyy")
            .unwrap()
            .contains("did you mean `RateLimitPolicy`"));
        assert_eq!(refused_acceptance("SomeFutureKind"), None);
    }
}
