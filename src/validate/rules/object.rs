//! docs/validation.md, "Every object": the rules every object follows (`validateMetadata`,
//! `validateExportTo`).

use super::common::{arr, map, s};
use super::Ctx;
use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::grammar;
use crate::validate::Loc;
use serde_json::Value;
use std::collections::BTreeSet;

impl Ctx<'_> {
    /// Items 1, 2 and 4: the name, namespace, labels and annotations.
    pub(super) fn metadata(&mut self, kind: &str, v: &Value) {
        let m = v.at("metadata");
        let mp = Loc::root().key("metadata");
        let name = s(m, "name");
        if !grammar::is_k8s_subdomain(name) {
            self.err(
                Istio::Metadata,
                mp.key("name"),
                format!(
                    "{name:?} is not a lowercase DNS-1123 subdomain (the API server rejects it)"
                ),
            );
        }
        let ns = s(m, "namespace");
        if !ns.is_empty() && !grammar::is_k8s_label(ns) {
            self.err(
                Istio::Metadata,
                mp.key("namespace"),
                format!("{ns:?} is not a lowercase DNS-1123 label"),
            );
        }
        if let Some(labels) = map(m, "labels") {
            for (k, val) in labels {
                let p = || mp.key("labels").key(k);
                let val = val.as_str().unwrap_or("");
                if let Err(e) = grammar::label_pair(k, val) {
                    self.err(Istio::Metadata, p(), e);
                } else if val.len() > 63 {
                    self.err(
                        Istio::Metadata,
                        p(),
                        format!("label value is {} characters, more than 63", val.len()),
                    );
                }
            }
        }
        if let Some(ann) = map(m, "annotations") {
            for k in ann.keys() {
                let p = || mp.key("annotations").key(k);
                if let Err(e) = grammar::label_key(k) {
                    self.err(
                        Istio::Metadata,
                        p(),
                        e.to_string().replace("label key", "annotation key"),
                    );
                }
                // item 1
                if k == "istio.io/dry-run" && kind != "AuthorizationPolicy" {
                    self.err(
                        Istio::Metadata,
                        p(),
                        format!("the istio.io/dry-run annotation is not supported on {kind}"),
                    );
                }
                // item 2
                if matches!(
                    k.as_str(),
                    "internal.istio.io/webhook-always-reject"
                        | "internal.istio.io/parent-namespace"
                        | "internal.istio.io/parents"
                ) {
                    self.err(
                        Istio::Metadata,
                        p(),
                        format!("the annotation {k} is reserved for Istio's own use"),
                    );
                }
            }
        }
    }

    /// Item 3 (`validateExportTo`).
    pub(super) fn export_to(
        &mut self,
        spec: &Value,
        sp: &Loc<'_>,
        service_entry: bool,
        dr_selector: bool,
    ) {
        let list = arr(spec, "exportTo");
        if list.is_empty() {
            return;
        }
        let p = sp.key("exportTo");
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let ns = self.namespace;
        for (i, e) in list.iter().enumerate() {
            let e = e.as_str().unwrap_or("");
            let key = if e == "." { ns } else { e };
            if seen.contains(key) {
                let msg = if key != e {
                    format!("duplicate entries in exportTo: . and current namespace {ns}")
                } else {
                    format!("duplicate entries in exportTo for entry {e}")
                };
                self.err(Istio::ExportTo, p.index(i), msg);
                continue;
            }
            if service_entry && e == "~" {
                seen.insert(key);
                continue;
            }
            if e == "~" {
                self.err(
                    Istio::ExportTo,
                    p.index(i),
                    "exportTo ~ (none) is not allowed for Istio configuration objects",
                );
            } else if key != "*" && key != "." && !grammar::is_label(key) {
                self.err(
                    Istio::ExportTo,
                    p.index(i),
                    format!(
                        "{e:?}: only ., *, or a valid DNS 1123 label is allowed as exportTo entry"
                    ),
                );
            } else {
                seen.insert(key);
            }
        }
        if dr_selector && !seen.is_empty() {
            if seen.contains(ns) {
                if seen.len() > 1 {
                    self.err(
                        Istio::ExportTo,
                        p.clone(),
                        "destination rule with workload selector cannot have multiple entries in exportTo",
                    );
                }
            } else {
                self.err(
                    Istio::ExportTo,
                    p.clone(),
                    "destination rule with workload selector cannot have exportTo beyond current namespace",
                );
            }
        }
        if seen.contains("*") && list.len() > 1 {
            self.err(
                Istio::ExportTo,
                p.clone(),
                "cannot have both public (*) and non-public exportTo values for a resource",
            );
        }
        if seen.contains("~") && list.len() > 1 {
            self.err(
                Istio::ExportTo,
                p,
                "cannot export service entry to no one (~) and someone",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::validate::rules::testing::{clean, has, run, run_obj, se_dns};
    use serde_json::json;

    #[test]
    fn metadata_rules() {
        clean(&run("ServiceEntry", se_dns()));
        let p = run_obj(json!({"kind": "ServiceEntry",
            "metadata": {"name": "Bad_Name", "namespace": "ns",
                         "labels": {"gloo.solo.io/parent_name": "a", "x": "-bad"},
                         "annotations": {"istio.io/dry-run": "true", "internal.istio.io/parents": "x"}},
            "spec": se_dns()}));
        has(&p, "istio-metadata", "metadata.name", true);
        has(&p, "istio-metadata", "metadata.labels.x", true);
        has(
            &p,
            "istio-metadata",
            "metadata.annotations[\"istio.io/dry-run\"]",
            true,
        );
        has(
            &p,
            "istio-metadata",
            "metadata.annotations[\"internal.istio.io/parents\"]",
            true,
        );
        assert_eq!(p.len(), 4, "{p:#?}");
    }

    #[test]
    fn export_to_rules() {
        let mut spec = se_dns();
        spec["exportTo"] = json!(["~"]);
        clean(&run("ServiceEntry", spec.clone()));
        spec["exportTo"] = json!([".", "ns"]);
        has(
            &run("ServiceEntry", spec.clone()),
            "istio-export-to",
            "spec.exportTo[1]",
            true,
        );
        spec["exportTo"] = json!(["*", "other"]);
        has(
            &run("ServiceEntry", spec.clone()),
            "istio-export-to",
            "spec.exportTo",
            true,
        );
        spec["exportTo"] = json!(["Bad_ns"]);
        has(
            &run("ServiceEntry", spec),
            "istio-export-to",
            "spec.exportTo[0]",
            true,
        );
        let vs = json!({"hosts": ["a.com"], "exportTo": ["~"], "http": [{"route": [{"destination": {"host": "a.com"}}]}]});
        has(
            &run("VirtualService", vs),
            "istio-export-to",
            "spec.exportTo[0]",
            true,
        );
        let dr = json!({"host": "a", "workloadSelector": {"matchLabels": {"app": "a"}}, "exportTo": ["other"]});
        has(
            &run("DestinationRule", dr),
            "istio-export-to",
            "spec.exportTo",
            true,
        );
    }
}
