//! `meshform check` end to end: formats, exit codes, exemptions, broken policies, and
//! `render` refusing to render on a Deny finding.

mod support;
use support::{meshform, TempRepo};

use std::path::Path;

const DUP: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata:
  name: rt-a
  namespace: apps
spec:
  hosts: [api.example.com]
  http:
  - matchers:
    - uri: {prefix: /v1}
    directResponse: {status: 200}
  - matchers:
    - uri: {prefix: /v1}
    directResponse: {status: 404}
";

/// `meshform check DIR ARGS...`: exit code, stdout, stderr.
fn check(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let r = meshform().arg("check").arg(dir).args(args).run();
    (r.code, r.stdout, r.stderr)
}

#[test]
fn text_is_rustc_style_and_exit_is_1_on_errors() {
    let d = TempRepo::with([("rt.yaml", DUP)]);
    let (code, out, _) = check(d.path(), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error[routetable-unique-prefix]: host api.example.com: prefix /v1 is already routed by RouteTable apps/rt-a at spec.http[0].matchers[0].uri.prefix"), "{out}");
    assert!(out.contains("  --> rt.yaml:13:21"), "{out}");
    assert!(out.contains("13 |     - uri: {prefix: /v1}"), "{out}");
    assert!(
        out.contains("  = help: remove one of the two routes"),
        "{out}"
    );
    assert!(
        out.contains(
            "  = note: first route for host api.example.com with prefix /v1 at rt.yaml:10:21"
        ),
        "{out}"
    );
}

#[test]
fn clean_and_warning_only_repos_exit_0() {
    let d = TempRepo::with([(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n",
    )]);
    let (code, out, _) = check(d.path(), &[]);
    assert_eq!(code, Some(0), "{out}");
    let warn = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: apps}
spec:
  hosts: [a.example.com]
  http:
  - forwardTo:
      destinations:
      - ref: {name: not-here}
";
    let d = TempRepo::with([("rt.yaml", warn)]);
    let (code, out, _) = check(d.path(), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("warning[routetable-service-exists]"), "{out}");
}

#[test]
fn json_is_stable_and_documented() {
    let d = TempRepo::with([("rt.yaml", DUP)]);
    let (code, out, _) = check(d.path(), &["--format", "json"]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Istio's own validation reports the unreachable duplicate too; pick the policy's finding.
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["policy"] == "routetable-unique-prefix")
        .unwrap();
    assert_eq!(f["policy"], "routetable-unique-prefix");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], "rt.yaml");
    assert_eq!(f["line"], 13);
    assert_eq!(f["column"], 21);
    assert_eq!(
        f["object"],
        serde_json::json!({"apiVersion": "networking.gloo.solo.io/v2", "kind": "RouteTable", "namespace": "apps", "name": "rt-a"})
    );
    assert_eq!(f["related"][0]["line"], 10);
    assert_eq!(v["summary"]["errors"], 1);
    assert_eq!(v["summary"]["objects"], 1);
    assert!(v["summary"]["policies"].as_u64().unwrap() >= 10);
    // Deterministic bytes.
    let (_, again, _) = check(d.path(), &["--format", "json"]);
    assert_eq!(out, again);
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let d = TempRepo::with([("dir with space/rt.yaml", DUP)]);
    let (code, out, _) = check(d.path(), &["--format", "sarif"]);
    assert_eq!(code, Some(1));
    let log: serde_json::Value = serde_json::from_str(&out).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("tests/data/sarif-2.1.0-minimal.schema.json").unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let r = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "routetable-unique-prefix")
        .unwrap();
    assert_eq!(r["ruleId"], "routetable-unique-prefix");
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "dir%20with%20space/rt.yaml");
    assert_eq!(loc["region"]["startLine"], 13);
    assert!(log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "routetable-unique-prefix"));
    // A log that breaks the schema is caught (the check can fail).
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!v.is_valid(&bad));
}

#[test]
fn github_annotations_are_capped_at_10_per_severity() {
    let mut rt = String::from(
        "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata: {name: rt, namespace: apps}\nspec:\n  hosts: [a.example.com]\n  http:\n",
    );
    for _ in 0..13 {
        rt.push_str("  - matchers: [{uri: {exact: /same}}]\n    directResponse: {status: 200}\n");
    }
    let d = TempRepo::with([("rt.yaml", &rt)]);
    let (code, out, _) = check(d.path(), &["--format", "github"]);
    assert_eq!(code, Some(1));
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "{out}");
    assert!(
        errors[0].starts_with("::error file=rt.yaml,line=9,col="),
        "{out}"
    );
    assert!(
        errors[0].contains("title=routetable-unique-prefix::"),
        "{out}"
    );
    assert!(out.contains("meshform check: 12 errors"), "{out}");
    // 2 errors over the cap, plus Istio's unreachable-route warnings over theirs.
    assert!(out.contains("16 not annotated"), "{out}");
    let warnings = out.lines().filter(|l| l.starts_with("::warning ")).count();
    assert_eq!(warnings, 10, "{out}");
}

#[test]
fn exemptions_need_a_reason_and_can_be_disabled() {
    let exempt = DUP.replace(
        "  namespace: apps\n",
        "  namespace: apps\n  annotations:\n    policy.meshform.dev/ignore-routetable-unique-prefix: \"legacy, JIRA-12\"\n",
    );
    let d = TempRepo::with([("rt.yaml", &exempt)]);
    let (code, out, _) = check(d.path(), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 suppressed by exemptions"), "{out}");
    assert!(
        out.contains("suppressed: rt.yaml:15:21: error[routetable-unique-prefix]"),
        "{out}"
    );
    assert!(out.contains("exempted: legacy, JIRA-12"), "{out}");
    let (code, out, _) = check(d.path(), &["--no-exemptions"]);
    assert_eq!(code, Some(1), "{out}");
    let (_, json, _) = check(d.path(), &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["summary"]["suppressed"], 1);
    assert_eq!(v["suppressed"][0]["policy"], "routetable-unique-prefix");

    let no_reason = exempt.replace("\"legacy, JIRA-12\"", "\"\"");
    let d = TempRepo::with([("rt.yaml", &no_reason)]);
    let (code, out, _) = check(d.path(), &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("warning[policy-exemption]: exemption policy.meshform.dev/ignore-routetable-unique-prefix has no reason"), "{out}");
    assert!(out.contains("--> rt.yaml:7:58"), "{out}");
}

const CUSTOM: &str = "apiVersion: policy.meshform.dev/v1alpha1
kind: ValidatingPolicy
metadata:
  name: configmap-has-owner
spec:
  validationActions: [Warn]
  matchConstraints:
    resourceRules:
    - {apiGroups: [''], apiVersions: [v1], resources: [configmaps]}
  variables:
  - name: owners
    scope: Global
    expression: inventory.list('v1', 'Namespace').map(n, n.metadata.name)
  validations:
  - expression: object.metadata.namespace in variables.owners
    messageExpression: \"'namespace ' + object.metadata.namespace + ' is not defined in the repo'\"
    fieldPath: metadata.namespace
";

#[test]
fn repo_and_extra_policies_run_with_inventory_and_globals() {
    let cm = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: b\n";
    let d = TempRepo::with([("cm.yaml", cm), ("policies/owner.yaml", CUSTOM)]);
    let (code, out, _) = check(d.path(), &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("warning[configmap-has-owner]: namespace b is not defined in the repo\n  --> cm.yaml:9:14"), "{out}");
    // The same policy from --policy-dir.
    let p = TempRepo::with([("owner.yaml", CUSTOM)]);
    let d = TempRepo::with([("cm.yaml", cm)]);
    let (_, out, _) = check(d.path(), &["--policy-dir", p.path().to_str().unwrap()]);
    assert!(out.contains("warning[configmap-has-owner]"), "{out}");
}

#[test]
fn broken_policies_exit_2_naming_file_and_line() {
    let bad_fn = CUSTOM.replace(
        "object.metadata.namespace in",
        "isNamespace(object.metadata.namespace) ||",
    );
    let d = TempRepo::with([
        (
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        ),
        ("policies/owner.yaml", &bad_fn),
    ]);
    let (code, out, err) = check(d.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty());
    assert!(err.contains("error[policy-invalid]: policy configmap-has-owner: validations[0].expression: unknown function `isNamespace`"), "{err}");
    assert!(err.contains("--> policies/owner.yaml:15:17"), "{err}");

    let bad_yaml = CUSTOM.replace("  validations:", "  validatoins:");
    // Each repo holds an object: a repo with none is an input error of its own.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
    let d = TempRepo::with([("cm.yaml", cm), ("policies/owner.yaml", &bad_yaml)]);
    let (code, _, err) = check(d.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("policies/owner.yaml:15:5"), "{err}");
    assert!(err.contains("unknown field `validatoins`"), "{err}");

    let bad_var = CUSTOM.replace("variables.owners", "variables.ownrs");
    let d = TempRepo::with([("cm.yaml", cm), ("policies/owner.yaml", &bad_var)]);
    let (code, _, err) = check(d.path(), &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("unknown variable `variables.ownrs`"), "{err}");

    // Policy tests and fixtures under policies/tests/ are not policies.
    let d = TempRepo::with([
        ("cm.yaml", cm),
        (
            "policies/tests/t.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        ),
    ]);
    let (code, _, err) = check(d.path(), &[]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn render_refuses_on_deny_findings() {
    let d = TempRepo::with([("rt.yaml", DUP)]);
    let out = meshform()
        .args(["render", "--passthrough"])
        .arg(d.path())
        .run();
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("routetable-unique-prefix"));
}

#[test]
fn policy_test_command_reports_failures() {
    let out = meshform().args(["policy", "test", "policies/tests"]).run();
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains(" passed, 0 failed"));
    let t = TempRepo::with([
        ("p.yaml", CUSTOM),
        ("r.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: b}\n"),
        (
            "test.yaml",
            "apiVersion: policy.meshform.dev/v1alpha1\nkind: Test\npolicies: [p.yaml]\nresources: [r.yaml]\nresults:\n- {policy: configmap-has-owner, kind: ConfigMap, resources: [x], result: pass}\n",
        ),
    ]);
    let out = meshform().args(["policy", "test"]).arg(t.path()).run();
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.contains("expected Pass, got Fail"));
}

#[test]
fn unknown_fields_are_at_their_key_with_a_plain_field_path() {
    let rt = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: apps}
spec:
  hosts: [api.example.com]
  htp: []
  http:
  - matchers:
    - uri: {prefx: /v1}
    directResponse: {status: 200}
";
    let d = TempRepo::with([("rt.yaml", rt)]);
    // Errors by default (docs/translation.md#strictness), each with the field it may mean.
    let (code, out, err) = check(d.path(), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("error[unknown-field]"), "{err}");
    assert!(err.contains("--> rt.yaml:6:3"), "{err}");
    assert!(err.contains("did you mean `http`?"), "{err}");
    assert!(err.contains("did you mean `prefix`?"), "{err}");
    // Warnings under --validate=warn, which alone pass.
    let (code, out, _) = check(d.path(), &["--format", "json", "--validate=warn"]);
    assert_eq!(code, Some(0), "warnings alone pass: {out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let unknown: Vec<(String, u64, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["policy"] == "unknown-field")
        .map(|f| {
            assert_eq!(f["severity"], "warning", "{f}");
            (
                f["message"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        unknown,
        [
            (
                "RouteTable has no field `spec.htp`; it is ignored".to_string(),
                6,
                3
            ),
            (
                "RouteTable has no field `spec.http[0].matchers[0].uri.prefx`; it is ignored"
                    .to_string(),
                9,
                13
            ),
        ],
        "{out}"
    );
}
