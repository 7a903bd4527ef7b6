//! Pathological policies end in a clear budget error (exit 2), never a hang.

use assert_cmd::Command;

fn repo(files: &[(&str, String)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (p, t) in files {
        let path = d.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, t).unwrap();
    }
    d
}

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

fn check(d: &tempfile::TempDir) -> (i32, String) {
    let out = Command::cargo_bin("meshform")
        .unwrap()
        .arg("check")
        .arg(d.path())
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const SQUARED: &str = "inventory.list('v1', 'ConfigMap').all(a, inventory.list('v1', 'ConfigMap').exists(b, b.metadata.name == a.metadata.name))";

#[test]
fn inventory_squared_in_a_global_variable_is_a_budget_error() {
    let d = repo(&[
        ("cms.yaml", many_configmaps(2000)),
        ("policies/p.yaml", policy("Global", SQUARED, "variables.v")),
    ]);
    let (code, err) = check(&d);
    assert_eq!(code, 2, "{err}");
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
fn inventory_per_object_over_many_objects_is_a_run_budget_error() {
    // Each evaluation is linear, but 3000 objects × a scan of 3000 is over the run budget.
    let per_object = "inventory.list('v1', 'ConfigMap').filter(b, b.metadata.name == object.metadata.name).map(b, b.metadata.name)";
    let d = repo(&[
        ("cms.yaml", many_configmaps(3000)),
        (
            "policies/p.yaml",
            policy("Object", per_object, "size(variables.v) == 1"),
        ),
    ]);
    let (code, err) = check(&d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[policy-budget]"), "{err}");
    assert!(err.contains("over the run budget"), "{err}");
}

#[test]
fn the_same_rule_indexed_once_is_fine() {
    let global = "lists.duplicates(inventory.list('v1', 'ConfigMap').map(b, b.metadata.name))";
    let d = repo(&[
        ("cms.yaml", many_configmaps(3000)),
        (
            "policies/p.yaml",
            policy("Global", global, "!(object.metadata.name in variables.v)"),
        ),
    ]);
    let out = Command::cargo_bin("meshform")
        .unwrap()
        .arg("check")
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn catastrophic_regex_is_a_budget_error() {
    let d = repo(&[
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
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exceeds the regex budget"), "{err}");
    assert!(err.contains("--> policies/p.yaml:13:17"), "{err}");
}

#[test]
fn backtracking_regex_runs_in_linear_time() {
    // `(a+)+$` is exponential for backtracking engines; Rust's regex is linear, so it ends.
    let name = format!("{}b", "a".repeat(60));
    let cm =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: ns}}\n");
    let d = repo(&[
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
    let out = Command::cargo_bin("meshform")
        .unwrap()
        .arg("check")
        .arg(d.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("error[pathological]"));
}

#[test]
fn time_budget_stops_the_run() {
    let d = repo(&[
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
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("took longer than limits.policyTimeMs (0 ms)"),
        "{err}"
    );
}
