//! Per-cluster templates behave the same in `meshform render` and `meshform argocd generate`.

mod support;
use support::{meshform, Run, TempRepo};

use std::path::Path;

fn repo() -> TempRepo {
    let t = TempRepo::new();
    t.write("meshform.yaml", "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters:\n- name: eu\n  labels: {region: eu-west}\n  values: {replicas: 2, host: {name: eu.example.com, port: 80}}\n- name: us\n  labels: {region: us-east}\n  values: {replicas: 3, host: {name: us.example.com, port: 80}}\n");
    t.write(
        "mesh/settings.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{{ cluster.name }}\n  namespace: apps\n  labels: {region: {{ cluster.labels.region }}}\ndata:\n  replicas: \"{{ values.replicas }}\"\n  host: \"{{ values.host.name }}:{{ values.host.port }}\"\n{% for i in range(values.replicas) %}  slot{{ i }}: \"{{ i }}\"\n{% endfor %}",
    );
    // Values files are JSON here so the loader does not read them as manifests.
    t.write("values/override.json", "{\"host\": {\"port\": 8443}}");
    t
}

fn render(root: &Path, cluster: &str, extra: &[&str]) -> Run {
    meshform()
        .args(["render", "--passthrough", "--cluster", cluster])
        .args(extra)
        .arg(root)
        .run()
}

fn generate(root: &Path, cluster: &str, params: &str) -> Run {
    meshform()
        .args(["argocd", "generate"])
        .current_dir(root)
        .env_clear()
        .env("ARGOCD_APP_SOURCE_PATH", ".")
        .env("ARGOCD_ENV_CLUSTER", cluster)
        .env("ARGOCD_APP_PARAMETERS", params)
        .run()
}

#[test]
fn render_uses_cluster_and_values() {
    let r = repo();
    let eu = render(r.path(), "eu", &[]).success().to_string();
    assert!(
        eu.contains("name: settings-eu") && eu.contains("region: eu-west"),
        "{eu}"
    );
    assert!(
        eu.contains("eu.example.com:80") && eu.contains("slot1") && !eu.contains("slot2"),
        "{eu}"
    );
    let us = render(r.path(), "us", &[]).success().to_string();
    assert!(
        us.contains("name: settings-us") && us.contains("slot2"),
        "{us}"
    );
    let over = render(
        r.path(),
        "eu",
        &[
            "--values",
            r.path().join("values/override.json").to_str().unwrap(),
        ],
    )
    .success()
    .to_string();
    // Deep merge: the port changes, the host name stays.
    assert!(over.contains("eu.example.com:8443"), "{over}");
}

#[test]
fn argocd_generate_gives_the_same_bytes_as_render() {
    let r = repo();
    for cluster in ["eu", "us"] {
        assert_eq!(
            render(r.path(), cluster, &[]).success(),
            generate(
                r.path(),
                cluster,
                r#"[{"name":"passthrough","string":"true"}]"#
            )
            .success()
        );
    }
    let values = r.path().join("values/override.json");
    assert_eq!(
        render(
            r.path(),
            "eu",
            &["--values", values.to_str().unwrap()]
        ).success(),
        generate(
            r.path(),
            "eu",
            r#"[{"name":"passthrough","string":"true"},{"name":"values","array":["values/override.json"]}]"#
        ).success(),
    );
}

#[test]
fn an_undefined_value_fails_everywhere_at_its_line() {
    let r = repo();
    r.write("mesh/broken.yaml.j2", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b-{{ cluster.name }}\n  namespace: {{ values.namespace }}\n");
    let cli = render(r.path(), "eu", &[]);
    let plugin = generate(
        r.path(),
        "eu",
        r#"[{"name":"passthrough","string":"true"}]"#,
    );
    for (what, o) in [("render", &cli), ("argocd generate", &plugin)] {
        assert!(o.code != Some(0), "{what}");
        assert!(o.stdout.is_empty(), "{what}: stdout not empty");
        let err = &o.stderr;
        assert!(err.contains("mesh/broken.yaml.j2:5"), "{what}: {err}");
        assert!(err.contains("values.namespace"), "{what}: {err}");
    }
}

#[test]
fn templates_cannot_read_files_or_the_environment() {
    let r = repo();
    r.write("mesh/evil.yaml.j2", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: evil\ndata:\n  x: \"{% include '/etc/hostname' %}\"\n");
    let o = generate(
        r.path(),
        "eu",
        r#"[{"name":"passthrough","string":"true"}]"#,
    );
    assert!(o.code != Some(0) && o.stdout.is_empty());
    assert!(o.stderr.contains("mesh/evil.yaml.j2:6"));
}
