//! `meshform diff` over Gloo sources: changes are attributed to the Gloo objects that produced
//! the rendered Istio objects, and routing pictures follow the rendered routes.

mod support;
use support::{meshform, TempRepo};

use std::path::Path;

const WORKSPACE: &str = "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: web, namespace: gloo-mesh}
spec:
  workloadClusters: [{name: cluster1, namespaces: [{name: web}]}]
";

const EXTERNAL: &str = "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: db, namespace: web}
spec:
  hosts: [db.example.com]
  ports:
  - {name: http, number: 80, protocol: HTTP}
";

const ROUTES: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: web, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: db
    matchers: [{uri: {prefix: /db/}}]
    forwardTo:
      destinations:
      - {kind: EXTERNAL_SERVICE, ref: {name: db}, port: {number: 80}}
";

fn repo() -> TempRepo {
    let t = TempRepo::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("workspaces.yaml", WORKSPACE);
    t.write("web/external.yaml", EXTERNAL);
    t.write("web/routes.yaml", ROUTES);
    t.commit("base");
    t
}

fn diff_json(dir: &Path) -> serde_json::Value {
    meshform()
        .current_dir(dir)
        .args(["diff", "--format", "json"])
        .run()
        .exit(0)
        .json()
}

#[test]
fn route_change_is_attributed_to_the_route_table() {
    let t = repo();
    t.write("web/routes.yaml", ROUTES.replace("/db/", "/data/"));
    let v = diff_json(t.path());
    let objs = v["objects"].as_array().expect("objects");
    assert_eq!(objs.len(), 1, "{v:#}");
    let o = &objs[0];
    assert_eq!(o["kind"], "VirtualService");
    assert_eq!(o["change"], "changed");
    assert_eq!(
        o["changedPaths"],
        serde_json::json!(["spec.http[db-web].match[0].uri.prefix"])
    );
    let src = &o["sources"][0];
    assert_eq!(
        (&src["file"], &src["kind"], &src["name"]),
        (
            &"web/routes.yaml".into(),
            &"RouteTable".into(),
            &"web".into()
        )
    );
    assert_eq!(src["line"], 1);
    let r = &v["routing"][0];
    assert_eq!(r["host"], "web.example.com");
    assert_eq!(r["before"]["routes"][0]["matcher"], "uri.prefix=/db/");
    assert_eq!(r["after"]["routes"][0]["matcher"], "uri.prefix=/data/");
    assert_eq!(
        r["after"]["routes"][0]["destinations"][0]["label"],
        "db.example.com:80"
    );
}

#[test]
fn external_service_port_change_changes_the_service_entry_and_the_picture() {
    let t = repo();
    t.write(
        "web/external.yaml",
        EXTERNAL.replace("number: 80", "number: 8080"),
    );
    t.write(
        "web/routes.yaml",
        ROUTES.replace("number: 80", "number: 8080"),
    );
    let v = diff_json(t.path());
    let kinds: Vec<&str> = v["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|o| o["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, vec!["ServiceEntry", "VirtualService"], "{v:#}");
    let se = &v["objects"][0];
    assert_eq!(se["sources"][0]["kind"], "ExternalService");
    assert_eq!(
        v["routing"][0]["after"]["routes"][0]["destinations"][0]["label"],
        "db.example.com:8080"
    );
    // Moving the RouteTable to another file changes nothing rendered.
    let t = repo();
    t.remove("web/routes.yaml");
    t.write("routes/moved.yaml", ROUTES);
    let v = diff_json(t.path());
    assert_eq!(v["objects"], serde_json::json!([]), "{v:#}");
}
