//! Each rendered object is finished as soon as its source is translated: validated against
//! Istio's rules, reduced to what the cross-object checks need, and then written as YAML,
//! kept as a value, or only fingerprinted, as the run asks ([`Keep`]). A run that prints a
//! stream never holds every rendered object as a value: the values are about eleven times the
//! size of their YAML (docs/performance.md).

use super::Keep;
use crate::diag::Diagnostic;
use crate::istio::object::{Origins, Rendered, SourceRef};
use crate::manifest::ObjectId;
use crate::repo::Repo;
use crate::validate::{self, cross, Problem};
use serde_json::Value;
use std::hash::BuildHasher;

/// A rendered object after validation.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    pub cluster: String,
    pub id: ObjectId,
    pub sources: Vec<SourceRef>,
    /// Which source field made which part of the value, for the findings.
    pub origins: Origins,
    /// Schema and webhook problems of this object alone.
    pub problems: Vec<Problem>,
    /// What the cross-object checks need; shared, so the copy a diff's base keeps for its
    /// head ([`crate::incremental::render::Memo`]) costs a pointer.
    pub facts: std::sync::Arc<cross::Facts>,
    pub body: Body,
}

/// What is kept of a finished object's value.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// The value itself ([`Keep::Values`]).
    Value(Value),
    /// The value as a compact node ([`Keep::Nodes`]), shared: a diff's head takes the base's
    /// unchanged objects without copying them.
    Node(std::sync::Arc<crate::node::Node>),
    /// Its YAML document, ending in a newline, or why it could not be written.
    Yaml(Result<Box<str>, crate::yaml::EmitError>),
    /// A hash of its canonical JSON, enough to tell two objects of one identity apart.
    Digest(u64),
}

impl Body {
    /// True when both hold the same object.
    pub fn same(&self, other: &Body) -> bool {
        match (self, other) {
            (Body::Value(a), Body::Value(b)) => a == b,
            (Body::Node(a), Body::Node(b)) => std::sync::Arc::ptr_eq(a, b) || a == b,
            (Body::Yaml(a), Body::Yaml(b)) => a == b,
            (Body::Digest(a), Body::Digest(b)) => a == b,
            _ => false,
        }
    }
}

/// Validates one rendered object and keeps what `keep` asks for.
pub(crate) fn finish(r: Rendered, keep: Keep) -> Finished {
    let id = r.id();
    let problems = validate::check_object(&r.value);
    let facts = std::sync::Arc::new(cross::facts(&r.value));
    let body = match keep {
        Keep::Values => Body::Value(r.value),
        Keep::Nodes => Body::Node(std::sync::Arc::new(crate::node::Node::from_value(r.value))),
        Keep::Stream => Body::Yaml(super::emit::document(&r.value)),
        Keep::Findings => Body::Digest(digest(&r.value)),
    };
    Finished {
        cluster: r.cluster,
        id,
        sources: r.sources,
        origins: r.origins,
        problems,
        facts,
        body,
    }
}

/// A 64-bit hash of the value's canonical form ([`crate::canon`]): each node feeds its type,
/// and lists, maps and strings their length or end, so `"1"` and `1`, `[]` and `{}`, `["ab"]`
/// and `["a", "b"]` differ. foldhash's quality variant, seeded once per run (digests are
/// compared within one run only); feeding the JSON text to SipHash token by token cost several
/// times as much (callgrind, 1,000-object `check`).
fn digest(value: &Value) -> u64 {
    static STATE: std::sync::LazyLock<foldhash::quality::RandomState> =
        std::sync::LazyLock::new(Default::default);
    STATE.hash_one(crate::canon::Canon(value))
}

/// The diagnostics of finished objects: each one's own problems, then the cross-object ones,
/// at the Gloo fields that made them ([`validate::report`]).
pub(crate) fn diagnostics(repo: &Repo, objects: &mut [Finished]) -> Vec<Diagnostic> {
    let subjects: Vec<cross::Subject> = objects
        .iter()
        .map(|o| cross::Subject {
            cluster: &o.cluster,
            id: &o.id,
            facts: &o.facts,
        })
        .collect();
    let crossed = cross::check(&subjects);
    let own: Vec<Vec<Problem>> = objects
        .iter_mut()
        .map(|o| std::mem::take(&mut o.problems))
        .collect();
    fn subject(o: &Finished) -> validate::Subject<'_> {
        validate::Subject {
            cluster: &o.cluster,
            id: &o.id,
            sources: &o.sources,
            origins: &o.origins,
        }
    }
    let mut found = Vec::new();
    for (o, problems) in objects.iter().zip(own) {
        found.extend(problems.into_iter().map(|p| (subject(o), p)));
    }
    for (i, p) in crossed {
        found.push((subject(&objects[i]), p));
    }
    validate::report(repo, found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rendered(spec: Value) -> Rendered {
        Rendered {
            cluster: "c1".into(),
            value: json!({"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
                "metadata": {"name": "se", "namespace": "ns"}, "spec": spec}),
            sources: Vec::new(),
            origins: Origins::default(),
        }
    }

    #[test]
    fn every_body_tells_equal_from_different() {
        let a = json!({"hosts": ["a.example.com"], "resolution": "DNS"});
        let b = json!({"hosts": ["b.example.com"], "resolution": "DNS"});
        for keep in [Keep::Values, Keep::Stream, Keep::Findings] {
            let x = finish(rendered(a.clone()), keep);
            let y = finish(rendered(a.clone()), keep);
            let z = finish(rendered(b.clone()), keep);
            assert!(x.body.same(&y.body), "{keep:?}");
            assert!(!x.body.same(&z.body), "{keep:?}");
            assert_eq!(x.id.name, "se");
        }
    }

    /// Values that print alike in some other form still get different digests.
    #[test]
    fn digests_tell_types_and_boundaries_apart() {
        let pairs = [
            (json!("1"), json!(1)),
            (json!(1), json!(-1)),
            (json!(1), json!(1.0)),
            (json!([]), json!({})),
            (json!(null), json!(false)),
            (json!(false), json!(true)),
            (json!(["ab"]), json!(["a", "b"])),
            (json!({"a": "bc"}), json!({"ab": "c"})),
            (json!({"a": [1], "b": 2}), json!({"a": [1, 2]})),
        ];
        for (a, b) in pairs {
            assert_ne!(digest(&a), digest(&b), "{a} vs {b}");
            assert_eq!(digest(&a), digest(&a.clone()), "{a}");
        }
    }

    #[test]
    fn stream_bodies_are_the_emitted_document() {
        let r = rendered(json!({"hosts": ["a.example.com"], "resolution": "DNS"}));
        let want = crate::yaml::to_string(&r.value).unwrap();
        let Body::Yaml(Ok(doc)) = finish(r, Keep::Stream).body else {
            panic!("not written")
        };
        assert!(doc.ends_with('\n'));
        assert_eq!(doc.trim_end(), want.trim_end());
    }

    #[test]
    fn problems_are_found_before_the_value_is_dropped() {
        let mut f = vec![finish(
            rendered(json!({"hosts": ["*"], "resolution": "NONE"})),
            Keep::Findings,
        )];
        assert!(!f[0].problems.is_empty());
        let d = diagnostics(&Repo::default(), &mut f);
        assert!(d.iter().any(|d| d.code == "istio-schema"), "{d:?}");
    }
}
