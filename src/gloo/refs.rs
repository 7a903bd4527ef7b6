//! References between Gloo objects, resolved in one place for every reader: what a RouteTable's
//! destination `ref` names, which tables a delegate selector picks, and whether the table's
//! workspace can see them (docs/translation.md; visibility is [`super::Workspaces::visible`]).
//!
//! The translator routes by these answers and the built-in policies `routetable-references-visible`
//! and `routetable-service-exists` report them. The wording of each broken reference, its field
//! and the objects it involves are built here ([`Problem`]), so both say the same thing and the
//! run reports it once ([`super::shared`]).

use super::shared::{Problem, REFERENCES_VISIBLE, SERVICE_EXISTS};
use super::types::*;
use super::{labels_match, Meta, Model, ServiceInfo, Typed};
use crate::hashing::FastMap;

/// The object a destination `ref` names: the table's own cluster and namespace where the ref
/// sets none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target<'a> {
    pub kind: DestinationKind,
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> Target<'a> {
    /// The target of a `ref` of kind `kind` written in the table of `meta`.
    pub fn of(meta: &'a Meta, kind: DestinationKind, r: &'a ObjectReference) -> Target<'a> {
        let or = |own: &'a str, set: &'a str| if set.is_empty() { own } else { set };
        Target {
            kind,
            cluster: or(&meta.cluster, &r.cluster),
            namespace: or(&meta.namespace, &r.namespace),
            name: &r.name,
        }
    }

    /// The kind as messages and parents name it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            DestinationKind::Service => "Service",
            DestinationKind::VirtualDestination => "VirtualDestination",
            DestinationKind::ExternalService => "ExternalService",
        }
    }

    /// The kind as a destination writes it.
    fn kind_label(&self) -> &'static str {
        match self.kind {
            DestinationKind::Service => "SERVICE",
            DestinationKind::VirtualDestination => "VIRTUAL_DESTINATION",
            DestinationKind::ExternalService => "EXTERNAL_SERVICE",
        }
    }
}

/// What a destination resolves to.
#[derive(Debug, Clone, Copy)]
pub enum Found<'m> {
    /// A Kubernetes Service; `None` when it is not in the repo, where it is taken on trust
    /// (application manifests often live elsewhere).
    Service(Option<&'m ServiceInfo>),
    /// A VirtualDestination.
    VirtualDestination(&'m Typed<VirtualDestinationSpec>),
    /// An ExternalService.
    ExternalService(&'m Typed<ExternalServiceSpec>),
}

/// Why a destination does not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken<'m> {
    /// No VirtualDestination or ExternalService of that name in that cluster and namespace.
    Missing,
    /// The object exists but the table's workspace cannot see it: repo object `index`, owned
    /// by workspace `owner`.
    NotVisible {
        index: usize,
        owner: Option<&'m str>,
    },
}

/// Resolves a destination from workspace `workspace`: the object must be owned by it, or
/// exported by its owner to it and imported by it (docs/translation.md#workspaces, [C]).
pub fn resolve<'m>(
    model: &'m Model,
    t: &Target<'_>,
    workspace: &str,
) -> Result<Found<'m>, Broken<'m>> {
    let (cl, ns, name) = (t.cluster, t.namespace, t.name);
    let visible = |meta: &Meta| {
        if model.workspaces.visible(meta, t.kind_name(), workspace) {
            Ok(())
        } else {
            Err(Broken::NotVisible {
                index: meta.index,
                owner: model.workspace_of(&meta.cluster, &meta.namespace),
            })
        }
    };
    match t.kind {
        DestinationKind::Service => {
            let svc = model.service(cl, ns, name);
            if let Some(s) = svc {
                visible(&s.meta)?;
            }
            Ok(Found::Service(svc))
        }
        DestinationKind::VirtualDestination => {
            let vd = model
                .virtual_destination(cl, ns, name)
                .ok_or(Broken::Missing)?;
            visible(&vd.meta)?;
            Ok(Found::VirtualDestination(vd))
        }
        DestinationKind::ExternalService => {
            let es = model
                .external_service(cl, ns, name)
                .ok_or(Broken::Missing)?;
            visible(&es.meta)?;
            Ok(Found::ExternalService(es))
        }
    }
}

/// The field of a destination's `ref` that a finding points at; `at` is the destination
/// (`spec.http[0].forwardTo.destinations[1]`, `spec.defaultDestination`).
fn ref_field(at: &str) -> String {
    format!("{at}.ref.name")
}

/// The finding for a destination that does not resolve from workspace `workspace`; `at` is
/// the destination.
pub fn broken(t: &Target<'_>, b: &Broken<'_>, at: &str, workspace: &str) -> Problem {
    let (label, ns, name) = (t.kind_label(), t.namespace, t.name);
    match b {
        Broken::Missing => Problem::new(
            REFERENCES_VISIBLE,
            ref_field(at),
            format!(
                "destination {label} {ns}/{name} (cluster {}) does not exist in this repo",
                t.cluster
            ),
        ),
        Broken::NotVisible { index, owner } => Problem {
            related: vec![(*index, "metadata.name".into(), "the destination".into())],
            ..Problem::new(
                REFERENCES_VISIBLE,
                ref_field(at),
                format!(
                    "destination {label} {ns}/{name} is owned by workspace {:?} and is not both exported to and imported by workspace {workspace:?}",
                    owner.unwrap_or("<none>")
                ),
            )
        },
    }
}

/// The finding for a Service destination that is not in the repo (the translator takes it on
/// trust); `at` is the destination.
pub fn missing_service(t: &Target<'_>, at: &str) -> Problem {
    Problem::new(
        SERVICE_EXISTS,
        ref_field(at),
        format!(
            "destination SERVICE {}/{} (cluster {}) is not defined in this repo",
            t.namespace, t.name, t.cluster
        ),
    )
}

/// What a delegation selector can match of a table without hosts.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub cluster: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
    pub labels: &'a Labels,
}

impl<'a> Candidate<'a> {
    /// The candidate a typed table is.
    pub fn of(meta: &'a Meta) -> Candidate<'a> {
        Candidate {
            cluster: &meta.cluster,
            namespace: &meta.namespace,
            name: &meta.name,
            labels: &meta.labels,
        }
    }
}

/// True when the selector picks the table (docs/translation.md#references-and-selectors, [C]): its
/// labels, and each non-empty field equal; `in_workspace` says whether the table is in the named
/// workspace.
pub fn selects(
    s: &ObjectSelector,
    c: &Candidate<'_>,
    in_workspace: impl FnOnce(&str) -> bool,
) -> bool {
    labels_match(&s.labels, c.labels)
        && (s.name.is_empty() || s.name == c.name)
        && (s.namespace.is_empty() || s.namespace == c.namespace)
        && (s.cluster.is_empty() || s.cluster == c.cluster)
        && (s.workspace.is_empty() || in_workspace(&s.workspace))
}

/// The tables delegation can select: those without hosts (docs/translation.md#delegation, [C]), in
/// model order, and the same by each of their labels.
#[derive(Debug, Default)]
pub struct ChildTables<'m> {
    all: Vec<usize>,
    by_label: FastMap<(&'m str, &'m str), Vec<usize>>,
}

impl<'m> ChildTables<'m> {
    /// The tables without hosts of `model`.
    pub fn new(model: &'m Model) -> ChildTables<'m> {
        let mut c = ChildTables::default();
        for (i, rt) in model.route_tables.iter().enumerate() {
            if !rt.spec.hosts.is_empty() {
                continue;
            }
            c.all.push(i);
            for (k, v) in &rt.meta.labels {
                c.by_label
                    .entry((k.as_str(), v.as_str()))
                    .or_default()
                    .push(i);
            }
        }
        c
    }

    /// The tables (indexes into `model.route_tables`, in model order) a delegate selector
    /// picks that are visible in workspace `workspace` (docs/translation.md#delegation, [C]).
    pub fn selected<'s>(
        &'s self,
        model: &'m Model,
        s: &'s ObjectSelector,
        workspace: &'s str,
    ) -> impl Iterator<Item = usize> + 's
    where
        'm: 's,
    {
        // Candidates narrowed by the selector's first label.
        let candidates: &[usize] = match s.labels.first() {
            Some((k, v)) => self
                .by_label
                .get(&(k.as_str(), v.as_str()))
                .map_or(&[], Vec::as_slice),
            None => &self.all,
        };
        candidates.iter().copied().filter(move |&i| {
            let c = &model.route_tables[i];
            let in_workspace =
                |w: &str| model.workspace_of(&c.meta.cluster, &c.meta.namespace) == Some(w);
            selects(s, &Candidate::of(&c.meta), in_workspace)
                && model.workspaces.visible(&c.meta, "RouteTable", workspace)
        })
    }
}

/// The finding for delegate selector `s` that selects no table visible in workspace
/// `workspace`; `at` is the selector (`spec.http[2].delegate.routeTables[0]`).
pub fn empty_selector(s: &ObjectSelector, at: &str, workspace: &str) -> Problem {
    Problem::new(
        REFERENCES_VISIBLE,
        at.to_string(),
        format!(
            "delegate selector {} selects no RouteTable visible to workspace {workspace:?}",
            describe(s)
        ),
    )
}

/// A selector as JSON with its keys sorted, its empty fields left out.
fn describe(s: &ObjectSelector) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in [
        ("cluster", &s.cluster),
        ("name", &s.name),
        ("namespace", &s.namespace),
        ("workspace", &s.workspace),
    ] {
        if !v.is_empty() {
            m.insert(k.into(), serde_json::Value::String(v.clone()));
        }
    }
    if !s.labels.is_empty() {
        let labels = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        m.insert("labels".into(), serde_json::Value::Object(labels));
    }
    let mut j = serde_json::Value::Object(m);
    crate::json::sort_keys(&mut j);
    j.to_string()
}

/// Builders shared by the tests of the resolver and of its callers.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::gloo::types::ObjectSelector;

    /// A selector of these labels, name, namespace and workspace (any cluster).
    pub(crate) fn selector(
        labels: &[(&str, &str)],
        name: &str,
        namespace: &str,
        workspace: &str,
    ) -> ObjectSelector {
        ObjectSelector {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            name: name.into(),
            namespace: namespace.into(),
            cluster: String::new(),
            workspace: workspace.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::selector;
    use super::*;

    #[test]
    fn a_selector_matches_labels_and_each_field_it_sets() {
        let labels: Labels = [("parent".to_string(), "www".to_string())]
            .into_iter()
            .collect();
        let child = Candidate {
            cluster: "c1",
            namespace: "app",
            name: "api",
            labels: &labels,
        };
        let anywhere = |_: &str| true;
        assert!(selects(
            &selector(&[("parent", "www")], "", "", ""),
            &child,
            anywhere
        ));
        assert!(selects(&selector(&[], "api", "app", ""), &child, anywhere));
        assert!(!selects(
            &selector(&[("parent", "api")], "", "", ""),
            &child,
            anywhere
        ));
        assert!(!selects(&selector(&[], "web", "", ""), &child, anywhere));
        assert!(!selects(&selector(&[], "", "other", ""), &child, anywhere));
        // The workspace is asked only when the selector names one.
        assert!(selects(&selector(&[], "", "", "team"), &child, |w| w == "team"));
        assert!(!selects(&selector(&[], "", "", "other"), &child, |w| w == "team"));
        assert!(selects(&selector(&[], "", "", ""), &child, |_| false));
    }

    #[test]
    fn a_selector_is_described_by_what_it_sets() {
        let s = ObjectSelector {
            labels: [("team", "b"), ("app", "a")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            workspace: "web".into(),
            ..Default::default()
        };
        assert_eq!(
            describe(&s),
            r#"{"labels":{"app":"a","team":"b"},"workspace":"web"}"#
        );
        assert_eq!(describe(&ObjectSelector::default()), "{}");
    }

    fn meta() -> Meta {
        Meta {
            index: 0,
            name: "www".into(),
            namespace: "app".into(),
            cluster: "c1".into(),
            labels: Labels::default(),
            created: None,
        }
    }

    #[test]
    fn a_ref_defaults_to_the_tables_cluster_and_namespace() {
        let m = meta();
        let r = ObjectReference {
            name: "db".into(),
            ..Default::default()
        };
        let t = Target::of(&m, DestinationKind::ExternalService, &r);
        assert_eq!((t.cluster, t.namespace, t.name), ("c1", "app", "db"));
        let r = ObjectReference {
            name: "db".into(),
            namespace: "data".into(),
            cluster: "c2".into(),
        };
        let t = Target::of(&m, DestinationKind::Service, &r);
        assert_eq!((t.cluster, t.namespace, t.name), ("c2", "data", "db"));
    }

    #[test]
    fn findings_name_the_reference() {
        let m = meta();
        let r = ObjectReference {
            name: "db".into(),
            ..Default::default()
        };
        let at = "spec.http[0].forwardTo.destinations[0]";
        let t = Target::of(&m, DestinationKind::ExternalService, &r);
        let p = broken(&t, &Broken::Missing, at, "web");
        assert_eq!(p.field, "spec.http[0].forwardTo.destinations[0].ref.name");
        assert_eq!(
            p.message,
            "destination EXTERNAL_SERVICE app/db (cluster c1) does not exist in this repo"
        );
        let hidden = Broken::NotVisible {
            index: 7,
            owner: Some("ops"),
        };
        let p = broken(&t, &hidden, at, "web");
        assert_eq!(p.message, "destination EXTERNAL_SERVICE app/db is owned by workspace \"ops\" and is not both exported to and imported by workspace \"web\"");
        assert_eq!(
            p.related,
            [(7, "metadata.name".into(), "the destination".into())]
        );
        let t = Target::of(&m, DestinationKind::Service, &r);
        assert_eq!(
            missing_service(&t, "spec.defaultDestination").message,
            "destination SERVICE app/db (cluster c1) is not defined in this repo"
        );
    }
}
