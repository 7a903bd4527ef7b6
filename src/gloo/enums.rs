//! The Gloo fields with a fixed set of values, as Rust enums (docs/translation.md, "Enum
//! fields").
//!
//! Each enum reads exactly the names Solo's protos give (solo-io/solo-apis,
//! `api/gloo.solo.io/**.proto`, branch `gloo-mesh-v2.6.x`): a value that is not one of them is a
//! typing error, reported by [`unknown_value`] with the nearest valid value. Fields the protos
//! type as strings whose validation upper-cases the value first (ports' `protocol`, a listener's
//! `appProtocol`) read any ASCII case, and an empty string is the field unset, as proto3 has it.

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A Gloo enum: its values by name, in proto order.
pub trait GlooEnum: Sized + Copy + 'static {
    /// The valid values, as YAML writes them.
    const VALUES: &'static [&'static str];
    /// Whether the value is read in any ASCII case.
    const ANY_CASE: bool;
    /// The variant of `VALUES[i]`.
    fn from_index(i: usize) -> Self;
}

/// Reads a name from `VALUES` as its index; `None` for an empty string when `empty_unset`.
struct Name {
    values: &'static [&'static str],
    any_case: bool,
    empty_unset: bool,
}

impl<'de> Visitor<'de> for Name {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("one of ")?;
        for (i, v) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{v}`")?;
        }
        Ok(())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() && self.empty_unset {
            return Ok(None);
        }
        let found = if self.any_case {
            self.values.iter().position(|n| n.eq_ignore_ascii_case(v))
        } else {
            self.values.iter().position(|n| *n == v)
        };
        match found {
            Some(i) => Ok(Some(i)),
            None => Err(E::unknown_variant(v, self.values)),
        }
    }
}

fn read<'de, T: GlooEnum, D: Deserializer<'de>>(
    d: D,
    empty_unset: bool,
) -> Result<Option<T>, D::Error> {
    let name = Name {
        values: T::VALUES,
        any_case: T::ANY_CASE,
        empty_unset,
    };
    Ok(d.deserialize_str(name)?.map(T::from_index))
}

/// For `deserialize_with` on an `Option` of a proto3 string field: absent, null and `""` are
/// unset.
pub fn empty_unset<'de, T: GlooEnum, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<EmptyOr<T>>::deserialize(d)? {
        Some(EmptyOr(v)) => Ok(v),
        None => Ok(None),
    }
}

/// A value of `T`, or `None` for `""`.
struct EmptyOr<T>(Option<T>);

impl<'de, T: GlooEnum> Deserialize<'de> for EmptyOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(d, true).map(EmptyOr)
    }
}

/// Declares a [`GlooEnum`]: `Name(any_case) { Variant = "YAML_NAME", ... }`; serde writes the
/// YAML names, and the JSON schema lists them.
macro_rules! gloo_enum {
    ($(#[$m:meta])* $name:ident($any_case:literal) {
        $($(#[$vm:meta])* $variant:ident = $yaml:literal,)+
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, JsonSchema)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $yaml)] $variant,)+
        }

        impl GlooEnum for $name {
            const VALUES: &'static [&'static str] = &[$($yaml),+];
            const ANY_CASE: bool = $any_case;
            fn from_index(i: usize) -> Self {
                const ALL: &[$name] = &[$($name::$variant),+];
                ALL[i]
            }
        }

        impl $name {
            /// The value as Gloo's YAML writes it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $yaml,)+
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                match read(d, false)? {
                    Some(v) => Ok(v),
                    // `read` gives `None` only for "" with `empty_unset`.
                    None => Err(de::Error::unknown_variant("", <$name as GlooEnum>::VALUES)),
                }
            }
        }
    };
}

gloo_enum! {
    /// `DelegateAction.sortMethod` (route_table.proto `SortMethod`).
    #[derive(Default)]
    SortMethod(false) {
        /// Tables by weight, routes in table order (default).
        #[default]
        TableWeight = "TABLE_WEIGHT",
        /// All delegated routes by matcher specificity.
        RouteSpecificity = "ROUTE_SPECIFICITY",
    }
}

gloo_enum! {
    /// `RouteTable.failureMode` (route_table.proto `FailureMode`).
    #[derive(Default)]
    FailureMode(false) {
        /// A broken route becomes a 500 direct response (default).
        #[default]
        RouteReplacement = "ROUTE_REPLACEMENT",
        /// The table tree keeps its last accepted config.
        FreezeConfig = "FREEZE_CONFIG",
    }
}

gloo_enum! {
    /// `RedirectAction.responseCode` (route_table.proto `RedirectResponseCode`).
    #[derive(Default)]
    RedirectCode(false) {
        /// 301 (default).
        #[default]
        MovedPermanently = "MOVED_PERMANENTLY",
        /// 302.
        Found = "FOUND",
        /// 303.
        SeeOther = "SEE_OTHER",
        /// 307.
        TemporaryRedirect = "TEMPORARY_REDIRECT",
        /// 308.
        PermanentRedirect = "PERMANENT_REDIRECT",
    }
}

impl RedirectCode {
    /// The HTTP status.
    pub const fn status(self) -> u16 {
        match self {
            RedirectCode::MovedPermanently => 301,
            RedirectCode::Found => 302,
            RedirectCode::SeeOther => 303,
            RedirectCode::TemporaryRedirect => 307,
            RedirectCode::PermanentRedirect => 308,
        }
    }
}

gloo_enum! {
    /// `WorkloadSelector.kind` (common/v2/selectors.proto).
    #[derive(Default)]
    WorkloadKind(false) {
        /// Kubernetes workloads (default).
        #[default]
        Kube = "KUBE",
        /// Virtual machines.
        Vm = "VM",
    }
}

gloo_enum! {
    /// `TypedObjectSelector.kind` of WorkspaceSettings import/export (workspace_settings.proto
    /// `ObjectKind`).
    #[derive(Default)]
    ObjectKind(false) {
        /// Every exportable kind (default).
        #[default]
        All = "ALL",
        /// RouteTables.
        RouteTable = "ROUTE_TABLE",
        /// Kubernetes Services.
        Service = "SERVICE",
        /// VirtualDestinations.
        VirtualDestination = "VIRTUAL_DESTINATION",
        /// ExternalServices.
        ExternalService = "EXTERNAL_SERVICE",
        /// ApiDocs.
        ApiDoc = "API_DOC",
        /// GraphQLResolverMaps.
        GraphqlResolverMap = "GRAPHQL_RESOLVER_MAP",
        /// GraphQLSchemas.
        GraphqlSchema = "GRAPHQL_SCHEMA",
        /// GraphQLStitchedSchemas.
        GraphqlStitchedSchema = "GRAPHQL_STITCHED_SCHEMA",
        /// ExternalWorkloads.
        ExternalWorkload = "EXTERNAL_WORKLOAD",
    }
}

impl ObjectKind {
    /// The kind of objects of Kubernetes kind `kind`, if that kind can be exported.
    pub fn of(kind: &str) -> Option<ObjectKind> {
        Some(match kind {
            "RouteTable" => ObjectKind::RouteTable,
            "Service" => ObjectKind::Service,
            "VirtualDestination" => ObjectKind::VirtualDestination,
            "ExternalService" => ObjectKind::ExternalService,
            "ApiDoc" => ObjectKind::ApiDoc,
            "GraphQLResolverMap" => ObjectKind::GraphqlResolverMap,
            "GraphQLSchema" => ObjectKind::GraphqlSchema,
            "GraphQLStitchedSchema" => ObjectKind::GraphqlStitchedSchema,
            "ExternalWorkload" => ObjectKind::ExternalWorkload,
            _ => return None,
        })
    }
}

gloo_enum! {
    /// ExternalService and VirtualDestination port `protocol` (external_service.proto,
    /// virtual_destination.proto: "MUST be one of the following"). Any case is read; the
    /// `externalservice-ports` policy holds ExternalServices to upper case.
    Protocol(true) {
        /// HTTP/1.1.
        Http = "HTTP",
        /// HTTP over TLS.
        Https = "HTTPS",
        /// gRPC.
        Grpc = "GRPC",
        /// HTTP/2.
        Http2 = "HTTP2",
        /// MongoDB.
        Mongo = "MONGO",
        /// Plain TCP.
        Tcp = "TCP",
        /// TLS.
        Tls = "TLS",
    }
}

gloo_enum! {
    /// ExternalService `clientsideTls.mode` (external_service.proto `TlsConfig.TLSMode`).
    #[derive(Default)]
    ClientTlsMode(false) {
        /// TLS origination (default).
        #[default]
        Simple = "SIMPLE",
        /// No TLS.
        Disable = "DISABLE",
        /// Mutual TLS with the given certificates.
        Mutual = "MUTUAL",
        /// Istio's mutual TLS.
        IstioMutual = "ISTIO_MUTUAL",
    }
}

gloo_enum! {
    /// VirtualGateway listener `tls.mode` (virtual_gateway.proto `TLSConfig.TLSMode`).
    #[derive(Default)]
    ListenerTlsMode(false) {
        /// Route by SNI without terminating TLS (default).
        #[default]
        Passthrough = "PASSTHROUGH",
        /// Terminate TLS.
        Simple = "SIMPLE",
        /// Terminate TLS, requiring client certificates.
        Mutual = "MUTUAL",
        /// Passthrough routed by the SNI alone.
        AutoPassthrough = "AUTO_PASSTHROUGH",
        /// Istio's mutual TLS.
        IstioMutual = "ISTIO_MUTUAL",
    }
}

gloo_enum! {
    /// VirtualGateway listener `appProtocol` (virtual_gateway.proto: a string whose validation
    /// upper-cases it; any case is read).
    AppProtocol(true) {
        /// gRPC.
        Grpc = "GRPC",
        /// gRPC-Web.
        GrpcWeb = "GRPC-WEB",
        /// HTTP/1.1.
        Http = "HTTP",
        /// HTTP proxy.
        HttpProxy = "HTTP_PROXY",
        /// HTTP/2.
        Http2 = "HTTP2",
        /// HTTP over TLS.
        Https = "HTTPS",
        /// Plain TCP.
        Tcp = "TCP",
        /// TLS.
        Tls = "TLS",
        /// MongoDB.
        Mongo = "MONGO",
        /// Redis.
        Redis = "REDIS",
        /// MySQL.
        Mysql = "MYSQL",
    }
}

gloo_enum! {
    /// Listener `tls.parameters.minimumProtocolVersion` and `maximumProtocolVersion`
    /// (virtual_gateway.proto `TLSConfig.Parameters.ProtocolVersion`); [`Self::istio`] is
    /// Istio's name for the same version (`ServerTLSSettings.TLSProtocol`).
    TlsProtocolVersion(false) {
        /// Envoy's default.
        Auto = "TLS_AUTO",
        /// TLS 1.0.
        Tls10 = "TLSv1_0",
        /// TLS 1.1.
        Tls11 = "TLSv1_1",
        /// TLS 1.2.
        Tls12 = "TLSv1_2",
        /// TLS 1.3.
        Tls13 = "TLSv1_3",
    }
}

impl TlsProtocolVersion {
    /// The version as Istio's `ServerTLSSettings` writes it (`TLSV1_2`).
    pub fn istio(self) -> &'static str {
        match self {
            TlsProtocolVersion::Auto => "TLS_AUTO",
            TlsProtocolVersion::Tls10 => "TLSV1_0",
            TlsProtocolVersion::Tls11 => "TLSV1_1",
            TlsProtocolVersion::Tls12 => "TLSV1_2",
            TlsProtocolVersion::Tls13 => "TLSV1_3",
        }
    }
}

/// An unknown enum value in serde's words (`unknown variant `X`, expected `A` or `B``): the
/// value and the valid ones.
pub(crate) fn parse_unknown_variant(msg: &str) -> Option<(&str, Vec<&str>)> {
    let rest = msg.strip_prefix("unknown variant `")?;
    let (value, expected) = rest.split_once("`, expected ")?;
    let values: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    (!values.is_empty()).then_some((value, values))
}

/// The valid value nearest to `value`, when one is near enough to be a likely typo: compared
/// without case, `-` and `_`, by normalized Damerau-Levenshtein similarity.
pub(crate) fn nearest<'a>(value: &str, values: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let v = norm(value);
    let mut best: Option<(f64, &'a str)> = None;
    for c in values {
        let score = strsim::normalized_damerau_levenshtein(&v, &norm(c));
        // The first of equally near values wins.
        if score >= 0.5 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// The message and help for an unknown value at `field`, from serde's error text; `None` when
/// the error is another kind.
pub(crate) fn unknown_value(field: &str, msg: &str) -> Option<(String, String)> {
    let (value, values) = parse_unknown_variant(msg)?;
    let list = values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = match nearest(value, &values) {
        Some(n) => format!("unknown value `{value}` for {field}; did you mean `{n}`?"),
        None => format!("unknown value `{value}` for {field}"),
    };
    Some((message, format!("write one of {list}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse<T: for<'de> Deserialize<'de>>(v: serde_json::Value) -> Result<T, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    /// Every value reads back as itself, and serializes to its name.
    fn round_trip<T: GlooEnum + for<'de> Deserialize<'de> + Serialize + fmt::Debug + PartialEq>() {
        for (i, name) in T::VALUES.iter().enumerate() {
            let v: T = parse(json!(name)).unwrap();
            assert_eq!(v, T::from_index(i));
            assert_eq!(serde_json::to_value(v).unwrap(), json!(name));
        }
    }

    fn rejects<T: for<'de> Deserialize<'de> + fmt::Debug>(bad: &str, near: &str) {
        let e = parse::<T>(json!(bad)).unwrap_err();
        let (m, help) = unknown_value("spec.x", &e).unwrap_or_else(|| panic!("{e}"));
        assert_eq!(
            m,
            format!("unknown value `{bad}` for spec.x; did you mean `{near}`?")
        );
        assert!(help.contains(&format!("`{near}`")), "{help}");
    }

    #[test]
    fn sort_method() {
        round_trip::<SortMethod>();
        rejects::<SortMethod>("ROUTE_SPECIFICTY", "ROUTE_SPECIFICITY");
        rejects::<SortMethod>("route_specificity", "ROUTE_SPECIFICITY");
        assert_eq!(SortMethod::default(), SortMethod::TableWeight);
    }

    #[test]
    fn failure_mode() {
        round_trip::<FailureMode>();
        rejects::<FailureMode>("FREEZE_CONFG", "FREEZE_CONFIG");
        assert_eq!(FailureMode::default(), FailureMode::RouteReplacement);
    }

    #[test]
    fn redirect_code() {
        round_trip::<RedirectCode>();
        rejects::<RedirectCode>("MOVED_PERMANENTY", "MOVED_PERMANENTLY");
        let codes: Vec<u16> = (0..RedirectCode::VALUES.len())
            .map(|i| RedirectCode::from_index(i).status())
            .collect();
        assert_eq!(codes, [301, 302, 303, 307, 308]);
        assert_eq!(RedirectCode::default().status(), 301);
    }

    #[test]
    fn workload_kind() {
        round_trip::<WorkloadKind>();
        rejects::<WorkloadKind>("KUEB", "KUBE");
    }

    #[test]
    fn object_kind() {
        round_trip::<ObjectKind>();
        rejects::<ObjectKind>("ROUTETABLE", "ROUTE_TABLE");
        rejects::<ObjectKind>("VIRTUAL_DESTINATIONS", "VIRTUAL_DESTINATION");
        for k in ObjectKind::VALUES.iter().skip(1) {
            // Every kind but ALL names a Kubernetes kind.
            assert!(
                [
                    "RouteTable",
                    "Service",
                    "VirtualDestination",
                    "ExternalService",
                    "ApiDoc",
                    "GraphQLResolverMap",
                    "GraphQLSchema",
                    "GraphQLStitchedSchema",
                    "ExternalWorkload"
                ]
                .iter()
                .any(|kk| ObjectKind::of(kk).map(ObjectKind::as_str) == Some(k)),
                "{k}"
            );
        }
        assert_eq!(ObjectKind::of("Deployment"), None);
    }

    #[test]
    fn protocol_reads_any_case() {
        round_trip::<Protocol>();
        assert_eq!(parse::<Protocol>(json!("http")).unwrap(), Protocol::Http);
        assert_eq!(parse::<Protocol>(json!("Grpc")).unwrap(), Protocol::Grpc);
        assert_eq!(Protocol::Http2.as_str(), "HTTP2");
        rejects::<Protocol>("HTTTP", "HTTP");
        rejects::<Protocol>("htps", "HTTPS");
    }

    #[test]
    fn client_tls_mode() {
        round_trip::<ClientTlsMode>();
        // The proto's comment says DISABLED; the value is DISABLE.
        rejects::<ClientTlsMode>("DISABLED", "DISABLE");
        rejects::<ClientTlsMode>("MUTAL", "MUTUAL");
    }

    #[test]
    fn listener_tls_mode() {
        round_trip::<ListenerTlsMode>();
        rejects::<ListenerTlsMode>("PASSTROUGH", "PASSTHROUGH");
        rejects::<ListenerTlsMode>("simple", "SIMPLE");
    }

    #[test]
    fn app_protocol_reads_any_case() {
        round_trip::<AppProtocol>();
        assert_eq!(
            parse::<AppProtocol>(json!("grpc-web")).unwrap(),
            AppProtocol::GrpcWeb
        );
        rejects::<AppProtocol>("GRPC_WEB2", "GRPC-WEB");
        rejects::<AppProtocol>("HTPP", "HTTP");
    }

    #[test]
    fn tls_protocol_version() {
        round_trip::<TlsProtocolVersion>();
        // Istio's spelling is pointed at Gloo's.
        rejects::<TlsProtocolVersion>("TLSV1_2", "TLSv1_2");
        rejects::<TlsProtocolVersion>("TLS1_3", "TLSv1_3");
        assert_eq!(TlsProtocolVersion::Tls12.istio(), "TLSV1_2");
        assert_eq!(TlsProtocolVersion::Auto.istio(), "TLS_AUTO");
    }

    #[test]
    fn empty_string_is_unset_only_where_asked() {
        #[derive(Deserialize)]
        struct P {
            #[serde(default, deserialize_with = "empty_unset")]
            protocol: Option<Protocol>,
        }
        let p: P = serde_json::from_value(json!({"protocol": ""})).unwrap();
        assert_eq!(p.protocol, None);
        let p: P = serde_json::from_value(json!({"protocol": null})).unwrap();
        assert_eq!(p.protocol, None);
        let p: P = serde_json::from_value(json!({})).unwrap();
        assert_eq!(p.protocol, None);
        let p: P = serde_json::from_value(json!({"protocol": "tls"})).unwrap();
        assert_eq!(p.protocol, Some(Protocol::Tls));
        assert!(serde_json::from_value::<P>(json!({"protocol": "x"})).is_err());
        let e = parse::<SortMethod>(json!("")).unwrap_err();
        assert!(unknown_value("spec.x", &e).is_some(), "{e}");
    }

    #[test]
    fn other_types_say_what_is_expected() {
        let e = parse::<SortMethod>(json!(1)).unwrap_err();
        assert_eq!(
            e,
            "invalid type: integer `1`, expected one of `TABLE_WEIGHT`, `ROUTE_SPECIFICITY`"
        );
        assert!(unknown_value("spec.x", &e).is_none());
    }

    #[test]
    fn far_values_get_no_suggestion() {
        let e = parse::<SortMethod>(json!("ALPHABETICAL")).unwrap_err();
        let (m, help) = unknown_value("spec.x", &e).unwrap();
        assert_eq!(m, "unknown value `ALPHABETICAL` for spec.x");
        assert_eq!(help, "write one of `TABLE_WEIGHT`, `ROUTE_SPECIFICITY`");
    }

    #[test]
    fn serde_unknown_variant_messages_parse() {
        assert_eq!(
            parse_unknown_variant("unknown variant `X`, expected `A`"),
            Some(("X", vec!["A"]))
        );
        assert_eq!(
            parse_unknown_variant("unknown variant `X`, expected `A` or `B`"),
            Some(("X", vec!["A", "B"]))
        );
        assert_eq!(
            parse_unknown_variant("unknown variant `X`, expected one of `A`, `B`, `C`"),
            Some(("X", vec!["A", "B", "C"]))
        );
        assert_eq!(parse_unknown_variant("missing field `x`"), None);
    }
}
