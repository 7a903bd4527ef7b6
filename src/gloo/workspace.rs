//! Workspace membership and import/export (docs/translation.md, "Workspaces and placement").
//!
//! A namespace of a cluster belongs to at most one workspace. An object is visible in its own
//! workspace, and in another workspace W when its owner's WorkspaceSettings `exportTo` selects W
//! and the object, and W's `importFrom` selects the owner and the object [C S1 WorkspaceSettings].

use super::types::{
    Labels, ObjectKind, TypedObjectSelector, WorkspaceObjectSelector, WorkspaceSettingsSpec,
};
use super::{glob_match, labels_match, Meta, Model};
use crate::diag::codes::Typing;
use crate::diag::Diagnostic;
use crate::hashing::FastMap;
use crate::repo::Repo;
use std::collections::{BTreeMap, BTreeSet};

/// Name of the workspace meshform assumes when a repo declares none (docs/translation.md).
pub const IMPLICIT_WORKSPACE: &str = "default";

/// Workspace membership and settings.
#[derive(Debug, Default, Clone)]
pub struct Workspaces {
    names: Vec<String>,
    labels: Vec<Labels>,
    /// cluster -> namespace -> workspace index (nested so lookups by `&str` allocate nothing).
    owner: FastMap<String, FastMap<String, usize>>,
    /// workspace name -> index.
    by_name: FastMap<String, usize>,
    members: Vec<Vec<(String, String)>>,
    settings: Vec<Option<WorkspaceSettingsSpec>>,
    implicit: bool,
}

impl Workspaces {
    /// Resolves every Workspace against the clusters and namespaces the repo knows about.
    pub fn build(repo: &Repo, model: &Model) -> (Workspaces, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        // The namespaces each cluster is known to have.
        let mut namespaces: BTreeMap<String, BTreeMap<String, Labels>> = BTreeMap::new();
        for c in &repo.clusters {
            namespaces.entry(c.clone()).or_default();
        }
        for o in &repo.objects {
            let ns_map = namespaces.entry(o.cluster.clone()).or_default();
            if o.id.api_version == "v1" && o.id.kind == "Namespace" {
                let labels = o
                    .labels()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                ns_map.insert(o.id.name.clone(), labels);
            } else if !o.id.namespace.is_empty() {
                ns_map.entry(o.id.namespace.clone()).or_default();
            } else if o.id.is_gloo() {
                ns_map.entry("default".into()).or_default();
            }
        }
        for c in &repo.config.clusters {
            for g in &c.gateways {
                namespaces
                    .entry(c.name.clone())
                    .or_default()
                    .entry(g.namespace.clone())
                    .or_default();
            }
        }
        let cluster_labels = |c: &str| -> Labels {
            repo.config
                .cluster(c)
                .map(|cc| cc.labels.clone())
                .unwrap_or_default()
        };

        let mut ws_objs: Vec<_> = model.workspace_objects.iter().collect();
        ws_objs.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
        let mut w = Workspaces::default();
        if ws_objs.is_empty() {
            // No workspaces declared: every namespace is in one implicit workspace.
            w.implicit = true;
            w.names.push(IMPLICIT_WORKSPACE.into());
            w.labels.push(Labels::new());
            let mut members = Vec::new();
            for (c, nss) in &namespaces {
                for ns in nss.keys() {
                    w.set_owner(c, ns, 0);
                    members.push((c.clone(), ns.clone()));
                }
            }
            w.members.push(members);
            w.settings.push(None);
            w.index_names();
            return (w, diags);
        }
        // Literal namespace names in selectors exist in every cluster the selector matches.
        let cluster_names: Vec<String> = namespaces.keys().cloned().collect();
        for ws in &ws_objs {
            for cs in &ws.spec.workload_clusters {
                for c in &cluster_names {
                    if !cluster_selected(cs.name.as_deref(), &cs.selector, c, &cluster_labels(c)) {
                        continue;
                    }
                    for nsel in &cs.namespaces {
                        if let Some(n) = &nsel.name {
                            if !n.contains('*') {
                                namespaces
                                    .entry(c.clone())
                                    .or_default()
                                    .entry(n.clone())
                                    .or_default();
                            }
                        }
                    }
                }
            }
        }
        for (wi, ws) in ws_objs.iter().enumerate() {
            w.names.push(ws.meta.name.clone());
            w.labels.push(ws.meta.labels.clone());
            w.settings.push(None);
            let mut members = BTreeSet::new();
            for cs in &ws.spec.workload_clusters {
                for (c, nss) in &namespaces {
                    if !cluster_selected(cs.name.as_deref(), &cs.selector, c, &cluster_labels(c)) {
                        continue;
                    }
                    for (ns, ns_labels) in nss {
                        let hit = cs.namespaces.iter().any(|s| {
                            let name_ok = s.name.as_deref().is_none_or(|p| glob_match(p, ns));
                            // "labels alone will NOT select all namespaces"
                            // (docs/translation.md#workspaces, [C]).
                            let labels_ok = labels_match(&s.labels, ns_labels);
                            (s.name.is_some() || !s.labels.is_empty()) && name_ok && labels_ok
                        });
                        if hit {
                            members.insert((c.clone(), ns.clone()));
                        }
                    }
                }
            }
            let o = &repo.objects[ws.meta.index];
            if members.is_empty() {
                // Selecting no namespaces makes the workspace empty, an error
                // (docs/translation.md#workspaces, [C]).
                diags.push(
                    Diagnostic::error(
                        Typing::EmptyWorkspace,
                        format!("workspace `{}` selects no namespace of any known cluster", ws.meta.name),
                    )
                    .at(repo.locate(o, "spec.workloadClusters"))
                    .on(o.id.clone())
                    .help("name the clusters and namespaces in spec.workloadClusters, or declare them in meshform.yaml"),
                );
            }
            let mut kept = Vec::new();
            for key in members {
                if let Some(prev) = w.owner_index(&key.0, &key.1) {
                    diags.push(
                        Diagnostic::error(
                            Typing::NamespaceInTwoWorkspaces,
                            format!(
                                "namespace {} of cluster {} is in workspaces `{}` and `{}`; a namespace belongs to one workspace",
                                key.1, key.0, w.names[prev], ws.meta.name
                            ),
                        )
                        .at(repo.locate(o, "spec.workloadClusters"))
                        .on(o.id.clone()),
                    );
                    continue;
                }
                w.set_owner(&key.0, &key.1, wi);
                kept.push(key);
            }
            w.members.push(kept);
        }
        w.index_names();
        // Settings belong to the workspace owning their namespace (docs/translation.md#workspaces,
        // [C]).
        let mut settings_at: Vec<Option<&Meta>> = vec![None; w.names.len()];
        for s in &model.workspace_settings {
            let o = &repo.objects[s.meta.index];
            let owner = w
                .owner_index(&s.meta.cluster, &s.meta.namespace)
                .or_else(|| w.name_index(&s.meta.name));
            let Some(wi) = owner else {
                diags.push(
                    Diagnostic::error(
                        Typing::OrphanWorkspaceSettings,
                        format!(
                            "WorkspaceSettings {} is in namespace {} of cluster {}, which no workspace selects",
                            s.meta.name, s.meta.namespace, s.meta.cluster
                        ),
                    )
                    .at(o.location.clone())
                    .on(o.id.clone()),
                );
                continue;
            };
            if let Some(prev) = settings_at[wi] {
                diags.push(
                    Diagnostic::error(
                        Typing::DuplicateWorkspaceSettings,
                        format!(
                            "workspace `{}` has more than one WorkspaceSettings",
                            w.names[wi]
                        ),
                    )
                    .at(o.location.clone())
                    .on(o.id.clone())
                    .related(repo.objects[prev.index].location.clone(), "the other one"),
                );
                continue;
            }
            settings_at[wi] = Some(&s.meta);
            w.settings[wi] = Some((*s.spec).clone());
        }
        (w, diags)
    }

    /// True when no Workspace is declared and the implicit one is used.
    pub fn is_implicit(&self) -> bool {
        self.implicit
    }

    /// Workspace names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The workspace owning a namespace of a cluster.
    pub fn owner(&self, cluster: &str, namespace: &str) -> Option<&str> {
        self.owner_index(cluster, namespace)
            .map(|i| self.names[i].as_str())
    }

    fn owner_index(&self, cluster: &str, namespace: &str) -> Option<usize> {
        self.owner.get(cluster)?.get(namespace).copied()
    }

    fn set_owner(&mut self, cluster: &str, namespace: &str, wi: usize) {
        self.owner
            .entry(cluster.to_string())
            .or_default()
            .insert(namespace.to_string(), wi);
    }

    fn index_names(&mut self) {
        self.by_name = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
    }

    fn name_index(&self, workspace: &str) -> Option<usize> {
        self.by_name.get(workspace).copied()
    }

    /// (cluster, namespace) members of a workspace, sorted.
    pub fn members(&self, workspace: &str) -> &[(String, String)] {
        self.name_index(workspace)
            .map(|i| self.members[i].as_slice())
            .unwrap_or(&[])
    }

    /// True if the object is visible in `workspace` (exported and imported,
    /// docs/translation.md#workspaces).
    pub fn visible(&self, meta: &Meta, kind: &str, workspace: &str) -> bool {
        let Some(owner) = self.owner_index(&meta.cluster, &meta.namespace) else {
            return false;
        };
        let Some(target) = self.name_index(workspace) else {
            return false;
        };
        self.visible_from(owner, target, meta, kind)
    }

    /// As `visible`, with the owner and target workspaces as indices.
    fn visible_from(&self, owner: usize, target: usize, meta: &Meta, kind: &str) -> bool {
        if owner == target {
            return true;
        }
        let Some(tk) = ObjectKind::of(kind) else {
            // Only Services, VirtualDestinations, ExternalServices, RouteTables (and a few
            // API kinds) can be exported (docs/translation.md#workspaces, [C]).
            return false;
        };
        let exported = self.settings[owner].as_ref().is_some_and(|s| {
            s.export_to
                .iter()
                .any(|e| self.entry_selects(e, target) && resources_select(e, tk, meta))
        });
        exported
            && self.settings[target].as_ref().is_some_and(|s| {
                s.import_from
                    .iter()
                    .any(|e| self.entry_selects(e, owner) && resources_select(e, tk, meta))
            })
    }

    /// Workspaces (sorted) in which the object is visible.
    pub fn visible_workspaces(&self, meta: &Meta, kind: &str) -> Vec<&str> {
        let Some(owner) = self.owner_index(&meta.cluster, &meta.namespace) else {
            return Vec::new();
        };
        (0..self.names.len())
            .filter(|&t| self.visible_from(owner, t, meta, kind))
            .map(|t| self.names[t].as_str())
            .collect()
    }

    /// An entry's `workspaces` selects workspace `wi`. An entry without workspaces selects
    /// none (docs/translation.md: a typo must not share config with every workspace).
    fn entry_selects(&self, e: &WorkspaceObjectSelector, wi: usize) -> bool {
        e.workspaces.iter().any(|ws| {
            let name_ok = ws
                .name
                .as_deref()
                .is_none_or(|p| glob_match(p, &self.names[wi]));
            name_ok && labels_match(&ws.selector, &self.labels[wi])
        })
    }
}

fn cluster_selected(name: Option<&str>, selector: &Labels, cluster: &str, labels: &Labels) -> bool {
    name.is_none_or(|p| glob_match(p, cluster)) && labels_match(selector, labels)
}

fn resources_select(e: &WorkspaceObjectSelector, kind: ObjectKind, meta: &Meta) -> bool {
    match &e.resources {
        None => true,
        Some(rs) => rs.iter().any(|r| resource_selects(r, kind, meta)),
    }
}

fn resource_selects(r: &TypedObjectSelector, kind: ObjectKind, meta: &Meta) -> bool {
    let kind_ok = match r.kind {
        None | Some(ObjectKind::All) => true,
        Some(k) => k == kind,
    };
    kind_ok
        && labels_match(&r.labels, &meta.labels)
        && r.name
            .as_deref()
            .is_none_or(|n| n.is_empty() || glob_match(n, &meta.name))
        && r.namespace
            .as_deref()
            .is_none_or(|n| n.is_empty() || glob_match(n, &meta.namespace))
        && r.cluster
            .as_deref()
            .is_none_or(|c| c.is_empty() || glob_match(c, &meta.cluster))
}
