//! Pathological policies end in a clear budget error (exit 2), never a hang.

mod support;
use support::{meshform, TempRepo};

fn many_configmaps(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: ns}}\n")
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn policy(scope: &str, var: &str, validation: &str) -> String {
    format!(
        "apiVersion: policy.meshform.dev/v1alpha1
kind: ValidatingPolicy
metadata: {{name: pathological}}
spec:
  matchConstraints:
    resourceRules:
    - {{apiGroups: [''], apiVersions: [v1], resources: [configmaps]}}
  variables:
  - name: v
    scope: {scope}
    expression: \"{var}\"
  validations:
  - expression: \"{validation}\"
"
    )
}

/// `meshform check`, which must print nothing on stdout: exit code and stderr.
fn check(d: &TempRepo) -> (Option<i32>, String) {
    let out = meshform().arg("check").arg(d.path()).run();
    assert!(out.stdout.is_empty());
    (out.code, out.stderr)
}

const SQUARED: &str = "inventory.list('v1', 'ConfigMap').all(a, inventory.list('v1', 'ConfigMap').exists(b, b.metadata.name == a.metadata.name))";

#[test]
fn inventory_squared_in_a_global_variable_is_a_budget_error() {
    let d = TempRepo::with([
        ("cms.yaml", many_configmaps(2000)),
        ("policies/p.yaml", policy("Global", SQUARED, "variables.v")),
    ]);
    let (code, err) = check(&d);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "error[policy-budget]: policy pathological: variables[0] (v) has an estimated cost of"
        ),
        "{err}"
    );
    assert!(
        err.contains("over limits.policyCost 1000000 (inventory of 2000 objects)"),
        "{err}"
    );
    assert!(err.contains("--> policies/p.yaml:11:17"), "{err}");
}

#[test]
fn inventory_per_object_over_many_objects_is_a_budget_error() {
    // Each evaluation scans the inventory: with a per-evaluation budget below what a scan of
    // 3000 objects costs, the rule is refused before it runs (a quadratic rule on a huge repo
    // hits the default budget, or limits.policyTimeMs, the same way).
    let per_object = "inventory.list('v1', 'ConfigMap').filter(b, b.metadata.name == object.metadata.name).map(b, b.metadata.name)";
    let d = TempRepo::with([
        (
            "meshform.yaml",
            "apiVersion: meshform.dev/v1alpha1\nkind: Config\nlimits:\n  policyCost: 3000\n"
                .to_string(),
        ),
        ("cms.yaml", many_configmaps(3000)),
        (
            "policies/p.yaml",
            policy("Object", per_object, "size(variables.v) == 1"),
        ),
    ]);
    let (code, err) = check(&d);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("error[policy-budget]"), "{err}");
    assert!(
        err.contains("policies/p.yaml"),
        "the offending policy is named: {err}"
    );
    assert!(err.contains("over limits.policyCost 3000"), "{err}");
}

#[test]
fn the_same_rule_indexed_once_is_fine() {
    let global = "lists.duplicates(inventory.list('v1', 'ConfigMap').map(b, b.metadata.name))";
    let d = TempRepo::with([
        ("cms.yaml", many_configmaps(3000)),
        (
            "policies/p.yaml",
            policy("Global", global, "!(object.metadata.name in variables.v)"),
        ),
    ]);
    let out = meshform().arg("check").arg(d.path()).run();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

#[test]
fn catastrophic_regex_is_a_budget_error() {
    let d = TempRepo::with([
        ("cms.yaml", many_configmaps(1)),
        (
            "policies/p.yaml",
            policy(
                "Object",
                "object.metadata.name",
                "variables.v.matches('((a{100}){100}){100}')",
            ),
        ),
    ]);
    let (code, err) = check(&d);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("exceeds the regex budget"), "{err}");
    assert!(err.contains("--> policies/p.yaml:13:17"), "{err}");
}

#[test]
fn backtracking_regex_runs_in_linear_time() {
    // `(a+)+$` is exponential for backtracking engines; Rust's regex is linear, so it ends.
    let name = format!("{}b", "a".repeat(60));
    let cm =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: ns}}\n");
    let d = TempRepo::with([
        ("cms.yaml", cm),
        (
            "policies/p.yaml",
            policy(
                "Object",
                "object.metadata.name",
                "variables.v.matches('^(a+)+$')",
            ),
        ),
    ]);
    let out = meshform().arg("check").arg(d.path()).run();
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.contains("error[pathological]"));
}

#[test]
fn time_budget_stops_the_run() {
    let d = TempRepo::with([
        (
            "meshform.yaml",
            "apiVersion: meshform.dev/v1alpha1\nkind: Config\nlimits:\n  policyTimeMs: 0\n"
                .to_string(),
        ),
        ("cms.yaml", many_configmaps(50)),
        (
            "policies/p.yaml",
            policy("Object", "object.metadata.name", "size(variables.v) > 0"),
        ),
    ]);
    let (code, err) = check(&d);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("took longer than limits.policyTimeMs (0 ms)"),
        "{err}"
    );
}
