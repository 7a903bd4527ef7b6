//! Workspace ownership and import/export visibility, read from the repo's Workspace and
//! WorkspaceSettings objects (shared/reference/gloo-translation.md §8, §9.7, §11.1).
//!
//! A repo without any Workspace object is one implicit workspace: everything is visible.

use crate::manifest::Object;
use serde_json::Value;
use std::collections::HashMap;

const ADMIN: &str = "admin.gloo.solo.io/v2";

/// `*` glob match (any run of characters).
pub fn glob(pattern: &str, s: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == s;
    }
    let mut rest = s;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else if let Some(at) = rest.find(p) {
            rest = &rest[at + p.len()..];
        } else {
            return false;
        }
    }
    true
}

fn labels_subset(want: &Value, have: &Value) -> bool {
    want.as_object().is_none_or(|w| {
        w.iter()
            .all(|(k, v)| v.as_str().is_some() && have.get(k).and_then(Value::as_str) == v.as_str())
    })
}

#[derive(Debug)]
struct Ws {
    name: String,
    labels: Value,
    /// (cluster glob, namespace globs)
    clusters: Vec<(String, Vec<String>)>,
}

/// The workspaces of a repo.
#[derive(Debug, Default)]
pub struct Workspaces {
    list: Vec<Ws>,
    /// Workspace name → its WorkspaceSettings spec.
    settings: HashMap<String, Value>,
}

impl Workspaces {
    /// Reads Workspace and WorkspaceSettings objects.
    pub fn build(objects: &[Object]) -> Workspaces {
        let mut list: Vec<Ws> = objects
            .iter()
            .filter(|o| o.id.api_version == ADMIN && o.id.kind == "Workspace")
            .map(|o| Ws {
                name: o.id.name.clone(),
                labels: o.value["metadata"]["labels"].clone(),
                clusters: o.value["spec"]["workloadClusters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        (
                            c["name"].as_str().unwrap_or("*").to_string(),
                            c["namespaces"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter_map(|n| n["name"].as_str().map(str::to_string))
                                .collect(),
                        )
                    })
                    .collect(),
            })
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let mut ws = Workspaces {
            list,
            settings: HashMap::new(),
        };
        for o in objects
            .iter()
            .filter(|o| o.id.api_version == ADMIN && o.id.kind == "WorkspaceSettings")
        {
            if let Some(w) = ws.workspace_of(&o.cluster, &o.id.namespace) {
                let w = w.to_string();
                ws.settings
                    .entry(w)
                    .or_insert_with(|| o.value["spec"].clone());
            }
        }
        ws
    }

    /// True when the repo defines workspaces.
    pub fn enabled(&self) -> bool {
        !self.list.is_empty()
    }

    /// The workspace owning a namespace of a cluster (first by name when several match).
    /// Without workspaces, every object is in the implicit workspace `""`.
    pub fn workspace_of(&self, cluster: &str, namespace: &str) -> Option<&str> {
        if self.list.is_empty() {
            return Some("");
        }
        self.list
            .iter()
            .find(|w| {
                w.clusters
                    .iter()
                    .any(|(c, nss)| glob(c, cluster) && nss.iter().any(|n| glob(n, namespace)))
            })
            .map(|w| w.name.as_str())
    }

    fn labels_of(&self, ws: &str) -> Option<&Value> {
        self.list.iter().find(|w| w.name == ws).map(|w| &w.labels)
    }

    /// True when a `workspaces` selector list selects workspace `ws`.
    fn selects_ws(&self, sels: &Value, ws: &str) -> bool {
        let labels = self.labels_of(ws).cloned().unwrap_or(Value::Null);
        sels.as_array().into_iter().flatten().any(|s| {
            let name_ok = s["name"].as_str().is_none_or(|n| glob(n, ws));
            let sel_ok = labels_subset(&s["selector"], &labels);
            name_ok && sel_ok
        })
    }

    fn selects_obj(resources: &Value, o: &Object) -> bool {
        let Some(rs) = resources.as_array() else {
            return true;
        };
        if rs.is_empty() {
            return true;
        }
        rs.iter().any(|r| {
            let kind_ok = match r["kind"].as_str().unwrap_or("ALL") {
                "ALL" => true,
                "ROUTE_TABLE" => o.id.kind == "RouteTable",
                "SERVICE" => o.id.kind == "Service",
                "VIRTUAL_DESTINATION" => o.id.kind == "VirtualDestination",
                "EXTERNAL_SERVICE" => o.id.kind == "ExternalService",
                "EXTERNAL_WORKLOAD" => o.id.kind == "ExternalWorkload",
                other => other.eq_ignore_ascii_case(&o.id.kind),
            };
            kind_ok
                && labels_subset(&r["labels"], &o.value["metadata"]["labels"])
                && r["name"].as_str().is_none_or(|n| glob(n, &o.id.name))
                && r["namespace"]
                    .as_str()
                    .is_none_or(|n| glob(n, &o.id.namespace))
                && r["cluster"].as_str().is_none_or(|c| glob(c, &o.cluster))
        })
    }

    fn shares(&self, from: &str, field: &str, to: &str, o: &Object) -> bool {
        self.settings
            .get(from)
            .and_then(|s| s[field].as_array())
            .into_iter()
            .flatten()
            .any(|e| self.selects_ws(&e["workspaces"], to) && Self::selects_obj(&e["resources"], o))
    }

    /// True when object `o` is visible in workspace `ws`: owned by it, or exported by its
    /// owner to `ws` AND imported by `ws` from the owner.
    pub fn visible_in(&self, o: &Object, ws: &str) -> bool {
        let owner = self.workspace_of(&o.cluster, &o.id.namespace);
        match owner {
            Some(owner) if owner == ws => true,
            Some(owner) => {
                self.shares(owner, "exportTo", ws, o) && self.shares(ws, "importFrom", owner, o)
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*", "x"));
        assert!(glob("a*", "abc"));
        assert!(glob("*c", "abc"));
        assert!(glob("a*c", "abc"));
        assert!(!glob("a*d", "abc"));
        assert!(glob("abc", "abc"));
    }
}
