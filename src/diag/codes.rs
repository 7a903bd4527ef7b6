//! The registry of diagnostic codes (docs/codes.md).
//!
//! Every finding meshform itself reports has a code from one of the enums below, one per stage,
//! each code with a one-line description. SARIF's rule metadata and `docs/codes.md` come from
//! this list, and a test keeps the codes unique across stages. A policy's findings carry the
//! policy's name instead ([`Code::Policy`]).

use serde::{Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// Declares the stage enums and [`Builtin`]: `Stage { Variant = "id": "description", ... }`.
macro_rules! registry {
    ($( $(#[$doc:meta])* $stage:ident { $( $variant:ident = $id:literal : $desc:literal, )* } )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum $stage {
                $( #[doc = $desc] $variant, )*
            }

            impl $stage {
                /// Every code of this stage, in registry order.
                pub const ALL: &'static [$stage] = &[$($stage::$variant),*];

                /// The stable kebab-case id.
                pub const fn id(self) -> &'static str {
                    match self { $($stage::$variant => $id,)* }
                }

                /// What the code means, in one sentence.
                pub const fn description(self) -> &'static str {
                    match self { $($stage::$variant => $desc,)* }
                }
            }

            impl From<$stage> for Code {
                fn from(c: $stage) -> Code {
                    Code::Builtin(Builtin::$stage(c))
                }
            }
        )*

        /// A code meshform itself reports, by stage.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Builtin {
            $( $(#[$doc])* $stage($stage), )*
        }

        impl Builtin {
            /// Every built-in code, stage by stage.
            pub fn all() -> impl Iterator<Item = Builtin> {
                std::iter::empty()
                    $( .chain($stage::ALL.iter().map(|c| Builtin::$stage(*c))) )*
            }

            /// The stable kebab-case id.
            pub const fn id(self) -> &'static str {
                match self { $(Builtin::$stage(c) => c.id(),)* }
            }

            /// What the code means, in one sentence.
            pub const fn description(self) -> &'static str {
                match self { $(Builtin::$stage(c) => c.description(),)* }
            }

            /// The stage that reports it.
            pub const fn stage(self) -> &'static str {
                match self { $(Builtin::$stage(_) => stringify!($stage),)* }
            }
        }
    };
}

/// A finding's code: a built-in code, or the name of the policy that found it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Code {
    /// Reported by meshform itself.
    Builtin(Builtin),
    /// Reported by a policy (built-in or the repo's), named by the policy.
    Policy(Arc<str>),
}

impl Code {
    /// The code as written in reports.
    pub fn as_str(&self) -> &str {
        match self {
            Code::Builtin(b) => b.id(),
            Code::Policy(p) => p,
        }
    }

    /// The code of a policy's findings.
    pub fn policy(name: &str) -> Code {
        Code::Policy(name.into())
    }

    /// The registry's description of a built-in code.
    pub fn description(&self) -> Option<&'static str> {
        match self {
            Code::Builtin(b) => Some(b.description()),
            Code::Policy(_) => None,
        }
    }
}

impl std::ops::Deref for Code {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Code {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

registry! {
    /// Reading the repo: files, YAML, objects, meshform.yaml, templates, values files.
    Load {
        YamlSyntax = "yaml-syntax": "A file is not well-formed YAML, or breaks a YAML limit (aliases, depth, size).",
        Yaml11Scalar = "yaml-1.1-scalar": "A plain scalar that Kubernetes' YAML 1.1 reader types differently (`on`, `yes`, `0755`); quote it.",
        BinaryFile = "binary-file": "A manifest file contains a NUL byte.",
        InvalidUtf8 = "invalid-utf8": "A manifest file is not UTF-8.",
        NotAnObject = "not-an-object": "A YAML document is not a mapping, so not a Kubernetes object.",
        InvalidMetadata = "invalid-metadata": "An object's metadata is not a mapping, or its labels or annotations are not strings.",
        InvalidName = "invalid-name": "An object's name or namespace is not a valid Kubernetes name.",
        MissingField = "missing-field": "An object lacks apiVersion, kind or metadata.name.",
        DuplicateObject = "duplicate-object": "Two objects of one cluster have the same group, kind, namespace and name.",
        Limit = "limit": "The repo is over a limit of meshform.yaml `limits` (files, bytes, objects).",
        FileRefused = "file-refused": "A file is refused: a link leaving the repo, not a regular file, or over the size limit.",
        Git = "git": "A git revision or object cannot be read.",
        Io = "io": "A file cannot be read.",
        Config = "config": "meshform.yaml is invalid.",
        Template = "template": "A `.yaml.j2` template fails to render.",
        TemplateLimit = "template-limit": "A template runs out of fuel or writes more than limits.templateOutput.",
        Values = "values": "A values file (`--values`) cannot be read or is not a YAML or JSON mapping.",
        NoManifests = "no-manifests": "The path read holds no Kubernetes object at all.",
    }

    /// Typing the Gloo objects and building workspaces.
    Typing {
        Type = "type": "A Gloo field has the wrong type or an invalid value.",
        UnknownField = "unknown-field": "A Gloo object has a field its API does not define (an error unless `validate: warn`).",
        UnknownValue = "unknown-value": "A Gloo field with a fixed set of values has a value that is not one of them.",
        ApiRule = "api-rule": "A Gloo field breaks a validation rule of its CRD (CEL or pattern), so the API server would reject the object.",
        UnsupportedField = "unsupported-field": "A Gloo field meshform does not translate is set, so its effect would be missing from the output (an error unless `validate: warn`).",
        UnknownKind = "unknown-kind": "An object in a Gloo API group names a group, kind or version Gloo does not define.",
        NotTranslatedKind = "kind-not-translated": "An object is of a real Gloo kind meshform does not translate (an error unless accepted in meshform.yaml `accept.kinds` or with `--accept-kind`).",
        OutOfScopeKind = "kind-out-of-scope": "An object is of a Gloo kind that produces no routing objects; it is skipped.",
        UndeclaredCluster = "undeclared-cluster": "A reference names a cluster meshform.yaml does not declare.",
        EmptyWorkspace = "empty-workspace": "A Workspace selects no namespace of any known cluster.",
        NamespaceInTwoWorkspaces = "namespace-in-two-workspaces": "A namespace is selected by two Workspaces.",
        OrphanWorkspaceSettings = "orphan-workspace-settings": "A WorkspaceSettings is in a namespace no Workspace selects.",
        DuplicateWorkspaceSettings = "duplicate-workspace-settings": "A Workspace has more than one WorkspaceSettings.",
    }

    /// Translating Gloo objects to Istio objects.
    Translate {
        DelegateMatcherConflict = "delegate-matcher-conflict": "A delegated child route's matchers conflict with its parent route's.",
        DelegationCycle = "delegation-cycle": "RouteTable delegation loops back to a table already in the chain.",
        DelegationDepth = "delegation-depth": "RouteTable delegation is deeper than meshform follows.",
        DuplicateListener = "duplicate-listener": "Two VirtualGateway listeners serve the same port, protocol and host.",
        EgressNotExposed = "egress-not-exposed": "An ExternalService port is routed through an egress VirtualGateway that does not expose it.",
        EgressRoute = "egress-route": "An ExternalService port's egressGatewayRoutes break a constraint of Gloo's API (hosts, protocol, portMatch, references).",
        EndpointPort = "endpoint-port": "A selected ExternalEndpoint has no port matching the ExternalService's port.",
        FailoverWithoutOutlier = "failover-without-outlier": "A FailoverPolicy applies to a destination port no OutlierDetectionPolicy selects; Istio fails over only from ejected endpoints.",
        HostNotAllowed = "host-not-allowed": "No listener of the VirtualGateway allows the RouteTable's hosts.",
        HostsAndAddresses = "hosts-and-addresses": "An ExternalService sets both hosts and addresses.",
        ListenerPort = "listener-port": "A VirtualGateway listener has no port.",
        NoDestination = "no-destination": "A forwardTo action without destinations has no defaultDestination to use.",
        NoEastWestGateway = "no-east-west-gateway": "A VirtualDestination's remote cluster has no east-west gateway in meshform.yaml.",
        NoEgressGateway = "no-egress-gateway": "An ExternalService routed through egress VirtualGateways has no egress gateway workload in a cluster where it is used.",
        NoGatewayWorkload = "no-gateway-workload": "A VirtualGateway selects no gateway workload meshform knows of.",
        PolicyConflict = "policy-conflict": "Several policies of one kind select one route or destination port; Gloo applies the oldest.",
        PolicyIgnored = "policy-ignored": "A policy sets a field that Gloo ignores because another field of it takes precedence.",
        PolicyServiceUnrouted = "policy-service-unrouted": "A destination policy selects a Service of the repo that no HTTP route sends to; meshform writes no DestinationRule for it.",
        PolicySelectsNothing = "policy-selects-nothing": "A route policy selects no route of its workspace, or a destination policy no destination port of its workspace.",
        PolicyValue = "policy-value": "A policy sets a value Gloo or Istio rejects.",
        NoHosts = "no-hosts": "A VirtualDestination has no host.",
        NoPorts = "no-ports": "A VirtualDestination has no port.",
        NotInWorkspace = "not-in-workspace": "An object's namespace is in no Workspace, so Gloo does not translate it.",
        NotVisibleToGateway = "not-visible-to-gateway": "A RouteTable or ExternalService is not visible in the workspace of the VirtualGateway it names.",
        OutputCollision = "output-collision": "Two sources render the same Istio object differently.",
        PathRewriteRegex = "path-rewrite-regex": "A route combines pathRewrite with a regex matcher.",
        PortRequired = "port-required": "A destination Service has several ports and the destination names none.",
        RedirectEmpty = "redirect-empty": "A redirect sets neither hostRedirect nor pathRedirect.",
        ReservedAnnotation = "reserved-annotation": "virtualServiceAnnotations sets an annotation Gloo reserves.",
        RouteAction = "route-action": "A route has not exactly one action (forwardTo, delegate, redirect, directResponse).",
        SubsetIgnored = "subset-ignored": "A subset is set on a destination kind that has no subsets.",
        TargetPortName = "target-port-name": "targetPort.name is used without selected ExternalEndpoints to resolve it.",
        TargetPortUnresolved = "target-port-unresolved": "A VirtualDestination port's targetPort (or its number, when targetPort is unset) matches no port of a backing Service.",
        TargetPortWithoutBackends = "target-port-without-backends": "A VirtualDestination port sets targetPort, but the VirtualDestination has no backends.",
        TcpExternalService = "tcp-external-service": "A TCP route forwards to a destination kind TCP routes do not support.",
        TooManyDestinations = "too-many-destinations": "A route has more destinations than Gloo allows.",
        UnresolvedDelegate = "unresolved-delegate": "A delegate action selects no visible child RouteTable.",
        UnresolvedDestination = "unresolved-destination": "A destination names an object that does not exist or is not visible.",
        UnresolvedPort = "unresolved-port": "A destination's port name or number matches no port of the destination.",
        UnresolvedVirtualGateway = "unresolved-virtual-gateway": "A RouteTable or ExternalService names a VirtualGateway that does not exist.",
        Unsupported = "unsupported": "A Gloo feature meshform does not translate yet.",
        Weights = "weights": "A route's destination weights are invalid.",
        WildcardHost = "wildcard-host": "A host that may not hold a wildcard holds one.",
    }

    /// Istio's own validation of the rendered objects: CRD schemas, istiod's webhook, analysis.
    Istio {
        Address = "istio-address": "An address or CIDR Istio rejects.",
        ClientTls = "istio-client-tls": "A DestinationRule's client TLS settings Istio rejects.",
        ConflictingMeshHost = "istio-conflicting-mesh-host": "Two mesh VirtualServices for one host in one namespace (istioctl analyze).",
        ConnectionPool = "istio-connection-pool": "Connection pool settings Istio rejects.",
        Cors = "istio-cors": "A CORS policy Istio rejects.",
        Destination = "istio-destination": "A route destination Istio rejects.",
        DirectResponse = "istio-direct-response": "A direct response Istio rejects.",
        DrHost = "istio-dr-host": "A DestinationRule host Istio rejects.",
        Duration = "istio-duration": "A duration Istio rejects.",
        Endpoint = "istio-endpoint": "A ServiceEntry or WorkloadEntry endpoint Istio rejects.",
        ExportTo = "istio-export-to": "An exportTo list Istio rejects.",
        Fault = "istio-fault": "A fault injection Istio rejects.",
        GatewayName = "istio-gateway-name": "A gateway reference in a VirtualService Istio rejects.",
        GatewayPortName = "istio-gateway-port-name": "Two servers of a Gateway share a port name, which Istio rejects.",
        GatewayServer = "istio-gateway-server": "A Gateway server Istio rejects: none at all, its hosts, port or bind, or a TLS block its protocol does not take or lacks.",
        Header = "istio-header": "A header name or operation Istio rejects.",
        Host = "istio-host": "A host Istio rejects.",
        LoadBalancer = "istio-load-balancer": "Load balancer settings Istio rejects.",
        Match = "istio-match": "A route matcher Istio rejects.",
        Metadata = "istio-metadata": "Object metadata (name, labels, annotations) Istio or Kubernetes rejects.",
        Mirror = "istio-mirror": "A traffic mirror Istio rejects.",
        MissingSubset = "istio-missing-subset": "A route names a subset no DestinationRule defines (istioctl analyze).",
        Outlier = "istio-outlier": "Outlier detection settings Istio rejects.",
        Port = "istio-port": "A port Istio rejects.",
        PortLevel = "istio-port-level": "Port-level traffic policy settings Istio rejects.",
        Redirect = "istio-redirect": "A redirect Istio rejects.",
        Regex = "istio-regex": "A regular expression Envoy's RE2 rejects.",
        Resolution = "istio-resolution": "A ServiceEntry resolution that does not fit its hosts, addresses or endpoints.",
        Retry = "istio-retry": "Retry settings Istio rejects.",
        Rewrite = "istio-rewrite": "A rewrite Istio rejects.",
        RouteConflict = "istio-route-conflict": "Routes of a VirtualService that Istio rejects together.",
        Schema = "istio-schema": "An object does not pass its Istio CRD's OpenAPI schema.",
        ServerTls = "istio-server-tls": "A Gateway server's TLS settings Istio rejects or warns about.",
        Subset = "istio-subset": "A DestinationRule subset Istio rejects.",
        TcpRoute = "istio-tcp-route": "A TCP route Istio rejects.",
        TlsRoute = "istio-tls-route": "A TLS route Istio rejects.",
        TrafficPolicy = "istio-traffic-policy": "A traffic policy Istio rejects.",
        Tunnel = "istio-tunnel": "Tunnel settings Istio rejects.",
        UnreachableRoute = "istio-unreachable-route": "A route that an earlier route of the same VirtualService always shadows.",
        VsHost = "istio-vs-host": "A VirtualService host Istio rejects.",
        Weight = "istio-weight": "Route weights Istio rejects.",
        WorkloadSelector = "istio-workload-selector": "A workload selector Istio rejects.",
    }

    /// Loading and running policies.
    Policy {
        Budget = "policy-budget": "A policy's estimated cost or run time is over limits.policyCost or limits.policyTimeMs.",
        Dir = "policy-dir": "A policy directory cannot be read.",
        Engine = "policy-engine": "The CEL environment cannot be set up.",
        Exemption = "policy-exemption": "An exemption annotation without a reason, which is not applied.",
        Invalid = "policy-invalid": "A policy file is invalid.",
    }

    /// The front ends: clusters asked for, what is written, plugin parameters.
    Run {
        UnknownCluster = "unknown-cluster": "A cluster asked for is not one of the repo's.",
        EmptyRender = "empty-render": "The clusters asked for render no object.",
        SeveralClusters = "several-clusters": "`render` to stdout of a repo with several clusters, asked for none (`--cluster`, `--all-clusters` or `--out-dir`).",
        ArgocdParameter = "argocd-parameter": "An Argo CD plugin parameter is unknown or invalid.",
        ArgocdRoot = "argocd-root": "The Argo CD source path leaves the repository or cannot be found.",
        Krm = "krm": "The KRM function's input or functionConfig is invalid.",
        Emit = "emit": "The rendered objects cannot be written.",
        TraceRequest = "trace-request": "`trace`: the URL, method, header or workload label cannot be parsed.",
        TraceCaller = "trace-caller": "`trace`: the caller is missing, or names a gateway the cluster does not render.",
    }
}

/// The registry as the Markdown page `docs/codes.md` (a test keeps the page equal to it).
pub fn markdown() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\nEvery finding meshform reports carries a stable code: one of \
         these, or the name of the policy that found it (docs/policies.md). SARIF's rule \
         metadata uses the same descriptions. This page is generated from `src/diag/codes.rs`.\n",
    );
    let mut stage = "";
    for b in Builtin::all() {
        if b.stage() != stage {
            stage = b.stage();
            out.push_str(&format!("\n## {stage}\n\n| code | meaning |\n|---|---|\n"));
        }
        out.push_str(&format!("| `{}` | {} |\n", b.id(), b.description()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_list_every_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/codes.md");
        if std::env::var_os("MESHFORM_WRITE_DOCS").is_some() {
            std::fs::write(path, markdown()).expect("docs/codes.md is writable");
        }
        let page = std::fs::read_to_string(path).expect("docs/codes.md exists");
        assert!(
            page == markdown(),
            "docs/codes.md differs from src/diag/codes.rs: \
             MESHFORM_WRITE_DOCS=1 cargo test --lib diag::codes rewrites it"
        );
    }

    #[test]
    fn codes_are_unique_kebab_case_and_described() {
        let mut seen = std::collections::HashSet::new();
        for b in Builtin::all() {
            assert!(seen.insert(b.id()), "{} is registered twice", b.id());
            assert!(
                b.id().split('-').all(|w| !w.is_empty()
                    && w.bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.')),
                "{} is not kebab-case",
                b.id()
            );
            assert!(
                b.description().ends_with('.'),
                "{}: {}",
                b.id(),
                b.description()
            );
        }
    }
}
