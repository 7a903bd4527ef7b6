//! Item 58 of docs/validation.md (`ValidateTLS`): a DestinationRule's client TLS settings.

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::rules::common::s;
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::Value;

impl Ctx<'_> {
    /// Item 58 (`ValidateTLS`).
    pub(super) fn client_tls(&mut self, t: &Value, p: &Loc<'_>) {
        let mode = match s(t, "mode") {
            "" => "DISABLE",
            m => m,
        };
        let cred = !s(t, "credentialName").is_empty();
        if mode == "MUTUAL" && !cred {
            for k in ["clientCertificate", "privateKey"] {
                if s(t, k).is_empty() {
                    self.err(
                        Istio::ClientTls,
                        p.key(k),
                        format!("{k} is required for mutual TLS without credentialName"),
                    );
                }
            }
        }
        if cred && matches!(mode, "SIMPLE" | "MUTUAL") {
            for k in ["clientCertificate", "caCertificates", "privateKey", "caCrl"] {
                if !s(t, k).is_empty() {
                    self.err(
                        Istio::ClientTls,
                        p.key(k),
                        format!("{k} cannot be set together with credentialName"),
                    );
                }
            }
        }
        if t.at("insecureSkipVerify").as_bool() == Some(true) {
            let banned: &[&str] = match mode {
                "SIMPLE" => &["caCertificates", "credentialName", "subjectAltNames"],
                "MUTUAL" => &["caCertificates", "subjectAltNames"],
                _ => &[],
            };
            for k in banned {
                let present = match t.field(k) {
                    Some(Value::String(x)) => !x.is_empty(),
                    Some(Value::Array(a)) => !a.is_empty(),
                    _ => false,
                };
                if present {
                    self.err(
                        Istio::ClientTls,
                        p.key(k),
                        format!("{k} cannot be set with insecureSkipVerify: true in mode {mode}"),
                    );
                }
            }
        }
        if let Some(rest) = s(t, "credentialName").strip_prefix("configmap://") {
            if rest.contains('/') && rest.split('/').next() != Some(self.namespace) {
                self.err(
                    Istio::ClientTls,
                    p.key("credentialName"),
                    "a configmap:// credentialName must be in the DestinationRule's namespace",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::{json, Value};

    #[test]
    pub(super) fn client_tls_rules() {
        let mutual = json!({"mode": "MUTUAL", "clientCertificate": "/c.crt", "privateKey": "/c.key", "caCertificates": "/ca.crt", "sni": "mtls.external"});
        let dr = |tls: Value| json!({"host": "a.com", "trafficPolicy": {"portLevelSettings": [{"port": {"number": 80}, "tls": tls}]}});
        clean(&run("DestinationRule", dr(mutual)));
        clean(&run(
            "DestinationRule",
            dr(json!({"mode": "ISTIO_MUTUAL", "subjectAltNames": ["spiffe://c/ns/n/sa/s"]})),
        ));
        let p = run("DestinationRule", dr(json!({"mode": "MUTUAL"})));
        has(
            &p,
            "istio-client-tls",
            "spec.trafficPolicy.portLevelSettings[0].tls.clientCertificate",
            true,
        );
        has(
            &p,
            "istio-client-tls",
            "spec.trafficPolicy.portLevelSettings[0].tls.privateKey",
            true,
        );
        let p = run(
            "DestinationRule",
            dr(json!({"mode": "SIMPLE", "credentialName": "c", "caCertificates": "/ca"})),
        );
        has(
            &p,
            "istio-client-tls",
            "spec.trafficPolicy.portLevelSettings[0].tls.caCertificates",
            true,
        );
        let p = run(
            "DestinationRule",
            dr(json!({"mode": "SIMPLE", "insecureSkipVerify": true, "subjectAltNames": ["a"]})),
        );
        has(
            &p,
            "istio-client-tls",
            "spec.trafficPolicy.portLevelSettings[0].tls.subjectAltNames",
            true,
        );
    }
}
