//! Every built-in policy: its kyverno-style tests pass, and each finding points at the exact
//! file:line of the offending field.

use meshform::policy::{self, test_runner};
use meshform::repo::{LoadOptions, Repo};
use meshform::source::Origin;
use std::path::Path;

#[test]
fn policy_test_files_all_pass() {
    let s = test_runner::run_dir(Path::new("policies/tests")).expect("tests load");
    assert_eq!(s.failed, 0, "{}", s.log);
    assert!(s.passed >= 40, "{}", s.log);
}

#[test]
fn every_builtin_has_passing_and_failing_cases() {
    for (file, _) in policy::BUILTINS {
        let name = file.trim_end_matches(".yaml");
        let t = std::fs::read_to_string(format!("policies/tests/{name}/test.yaml"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(t.contains("result: pass"), "{name} has no passing case");
        assert!(t.contains("result: fail"), "{name} has no failing case");
    }
}

/// Lines of the findings of `code` when every built-in runs over the policy's fixture.
fn lines(code: &str) -> Vec<(String, u32)> {
    let dir = format!("policies/tests/{code}");
    let repo = Repo::load(&Origin::Dir(dir.into()), &LoadOptions::default()).expect("loads");
    let (model, _, _) = meshform::gloo::Model::build(&repo, meshform::incremental::Incr::OFF);
    let report = policy::check(&repo, &model, &[], false, meshform::incremental::Incr::OFF)
        .map(|(r, _)| r)
        .expect("policies run");
    let mut v: Vec<(String, u32)> = report
        .findings
        .iter()
        .filter(|d| d.code == code)
        .map(|d| {
            let l = d.location.as_ref().expect("located");
            (l.file.to_string(), l.line)
        })
        .collect();
    v.sort();
    v
}

fn at(lines: &[u32]) -> Vec<(String, u32)> {
    lines
        .iter()
        .map(|l| ("resources.yaml".to_string(), *l))
        .collect()
}

#[test]
fn unique_prefix_points_at_the_second_prefix() {
    assert_eq!(lines("routetable-unique-prefix"), at(&[26, 79]));
}

#[test]
fn shadowed_route_points_at_the_unreachable_prefix() {
    assert_eq!(lines("routetable-shadowed-route"), at(&[17]));
}

#[test]
fn spec_rules_point_at_the_offending_fields() {
    assert_eq!(
        lines("routetable-spec-rules"),
        at(&[22, 33, 43, 55, 66, 67])
    );
}

#[test]
fn weights_point_at_the_destinations() {
    assert_eq!(lines("routetable-weights"), at(&[35, 48, 64]));
}

#[test]
fn tcp_external_service_points_at_the_kind() {
    assert_eq!(lines("routetable-tcp-destinations"), at(&[26]));
}

#[test]
fn invisible_references_point_at_each_reference() {
    assert_eq!(lines("routetable-references-visible"), at(&[77, 82, 87]));
}

#[test]
fn missing_service_points_at_the_name() {
    assert_eq!(lines("routetable-service-exists"), at(&[26]));
}

#[test]
fn hosts_and_addresses_point_at_each_value() {
    assert_eq!(
        lines("externalservice-hosts-addresses"),
        at(&[20, 27, 35, 43])
    );
}

#[test]
fn wildcard_without_endpoints_points_at_the_host() {
    assert_eq!(lines("externalservice-wildcard-endpoints"), at(&[29]));
}

#[test]
fn ports_point_at_number_protocol_and_spec() {
    assert_eq!(lines("externalservice-ports"), at(&[24, 27, 33]));
}

#[test]
fn duplicate_names_both_places() {
    let dir = "policies/tests/routetable-unique-prefix";
    let repo = Repo::load(&Origin::Dir(dir.into()), &LoadOptions::default()).unwrap();
    let (model, _, _) = meshform::gloo::Model::build(&repo, meshform::incremental::Incr::OFF);
    let report = policy::check(&repo, &model, &[], false, meshform::incremental::Incr::OFF)
        .map(|(r, _)| r)
        .unwrap();
    let d = report
        .findings
        .iter()
        .find(|d| d.code == "routetable-unique-prefix" && d.object.as_ref().unwrap().name == "rt-b")
        .unwrap();
    assert_eq!(d.related.len(), 1);
    assert_eq!(d.related[0].0.line, 12, "{d}");
    assert_eq!(
        d.field.as_deref(),
        Some("spec.http[0].matchers[0].uri.prefix")
    );
}

#[test]
fn builtins_validate_against_the_documented_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("docs/policies.schema.json").unwrap())
            .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    for s in policy::builtin_sources() {
        let parsed = meshform::yaml::parse_stream(&s.text, &Default::default()).unwrap();
        for d in parsed.documents {
            let errors: Vec<String> = v
                .iter_errors(&d.value.to_json())
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", s.path);
        }
    }
    let bad = serde_json::json!({"apiVersion": "policy.meshform.dev/v1alpha1", "kind": "ValidatingPolicy",
        "metadata": {"name": "x"}, "spec": {"matchConstraints": {"resourceRules": []}, "validations": []}});
    assert!(!v.is_valid(&bad));
}

#[test]
fn shared_findings_carry_their_policys_name_severity_and_help() {
    let builtins = policy::load(&policy::builtin_sources()).expect("built-ins load");
    for shared in meshform::gloo::shared::ALL {
        let p = builtins
            .iter()
            .find(|p| p.name() == shared.name)
            .unwrap_or_else(|| panic!("{} is not a built-in", shared.name));
        assert_eq!(p.severity, shared.severity, "{}", shared.name);
        let help = p.src.doc.metadata.annotations.get("help");
        assert_eq!(
            help.map(String::as_str),
            Some(shared.help),
            "{}",
            shared.name
        );
    }
}

/// The findings of a run over `dir`: with the policies, or the translator's alone.
fn findings(dir: &Path, policies: bool) -> Vec<meshform::diag::Diagnostic> {
    let repo = Repo::load(&Origin::Dir(dir.into()), &LoadOptions::default()).expect("loads");
    let opts = meshform::pipeline::Options {
        skip_policies: !policies,
        ..Default::default()
    };
    meshform::pipeline::run(repo, &opts).expect("runs").findings
}

#[test]
fn a_problem_the_translator_shares_with_a_builtin_is_reported_once() {
    // Every problem the translator shares with a built-in, in flow and block style.
    let tmp = tempfile::tempdir().unwrap();
    let data = Path::new("tests/data/shared-problems");
    for f in [
        "workspaces.yaml",
        "destinations.yaml",
        "flow.yaml",
        "block.yaml",
    ] {
        std::fs::copy(data.join(f), tmp.path().join(f)).unwrap();
    }
    let shared = |d: &&meshform::diag::Diagnostic| {
        meshform::gloo::shared::ALL.iter().any(|s| d.code == s.name)
    };
    let translator = findings(tmp.path(), false);
    let all = findings(tmp.path(), true);
    let from_translator: Vec<_> = translator.iter().filter(shared).collect();
    // Seven problems of `flow`, four of `block` (two selectors of one delegate).
    assert_eq!(from_translator.len(), 11, "{from_translator:#?}");
    for d in &from_translator {
        assert!(all.contains(d), "the policies do not report: {d}");
    }
    // One finding per line: nothing else of the translator's doubles them.
    let mut lines: Vec<_> = all
        .iter()
        .filter(|d| d.severity == meshform::diag::Severity::Error)
        .map(|d| d.location.clone())
        .collect();
    let n = lines.len();
    lines.dedup();
    assert_eq!(lines.len(), n, "{all:#?}");

    // Exempted from the policies, the table still fails its routes: the findings stay.
    let flow = std::fs::read_to_string(data.join("flow.yaml")).unwrap();
    let exempt = flow.replace(
        "metadata: {name: flow, namespace: app}",
        "metadata:\n  name: flow\n  namespace: app\n  annotations:\n    \
         policy.meshform.dev/ignore-routetable-references-visible: legacy\n    \
         policy.meshform.dev/ignore-routetable-weights: legacy\n    \
         policy.meshform.dev/ignore-routetable-tcp-destinations: legacy",
    );
    std::fs::write(tmp.path().join("flow.yaml"), exempt).unwrap();
    let all = findings(tmp.path(), true);
    let flow: Vec<_> = all
        .iter()
        .filter(shared)
        .filter(|d| d.object.as_ref().is_some_and(|o| o.name == "flow"))
        .collect();
    assert_eq!(flow.len(), 7, "{flow:#?}");
}
