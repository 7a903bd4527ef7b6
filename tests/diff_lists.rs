//! `meshform diff` over real git repos: keyed Istio lists diffed by identity, and the pull-request
//! comment ordered and cut by importance.

mod support;
use support::{meshform, Run, TempRepo};

fn route(name: &str, prefix: &str, host: &str) -> String {
    format!(
        "  - name: {name}\n    match:\n    - uri: {{prefix: {prefix}}}\n    route:\n    \
         - destination: {{host: {host}, port: {{number: 80}}}}\n"
    )
}

fn virtual_service(routes: &[String]) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: shop\n  \
         namespace: gw\nspec:\n  hosts: [shop.example.com]\n  http:\n{}",
        routes.concat()
    )
}

fn destination_rule(subsets: &[&str], ports: &[u32]) -> String {
    let subsets: String = subsets
        .iter()
        .map(|s| format!("  - name: {s}\n    labels: {{version: {s}}}\n"))
        .collect();
    let ports: String = ports
        .iter()
        .map(|p| format!("    - port: {{number: {p}}}\n      tls: {{mode: DISABLE}}\n"))
        .collect();
    format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: orders\n  \
         namespace: gw\nspec:\n  host: orders\n  trafficPolicy:\n    portLevelSettings:\n{ports}  \
         subsets:\n{subsets}"
    )
}

/// A repo whose first commit holds `files`.
fn repo(files: &[(&str, String)]) -> TempRepo {
    let t = TempRepo::new();
    t.git_init();
    for (path, text) in files {
        t.write(path, text);
    }
    t.commit("base");
    t
}

fn diff(t: &TempRepo, args: &[&str]) -> Run {
    meshform()
        .current_dir(t.path())
        .args([
            "diff",
            "--passthrough",
            "--base",
            "HEAD",
            "--color",
            "never",
        ])
        .args(args)
        .run()
}

/// The hunk headed `head` in a unified diff: its lines up to the next hunk or object.
fn hunk<'a>(out: &'a str, head: &str) -> Vec<&'a str> {
    let Some((_, rest)) = out.split_once(&format!("{head}\n")) else {
        panic!("no hunk {head}: {out}");
    };
    rest.lines()
        .take_while(|l| !l.starts_with("@@") && !l.is_empty() && !l.starts_with("```"))
        .collect()
}

#[test]
fn a_removed_and_an_added_route_are_whole_blocks_headed_by_their_names() {
    let t = repo(&[(
        "vs.yaml",
        virtual_service(&[
            route("orders", "/api/orders", "orders"),
            route("old-catalog", "/catalog/", "catalog"),
        ]),
    )]);
    t.write(
        "vs.yaml",
        virtual_service(&[
            route("orders", "/api/v2/orders", "orders"),
            route("shipping", "/api/shipping/", "shipping"),
        ]),
    );
    let out = diff(&t, &[]).success().to_string();
    let removed = hunk(&out, "@@ spec.http[old-catalog] (removed) @@");
    assert!(removed.iter().all(|l| l.starts_with('-')), "{out}");
    assert!(removed.contains(&"-    name: old-catalog"), "{out}");
    assert!(removed.contains(&"-        host: catalog"), "{out}");
    let added = hunk(&out, "@@ spec.http[shipping] (added) @@");
    assert!(added.iter().all(|l| l.starts_with('+')), "{out}");
    assert!(added.contains(&"+    name: shipping"), "{out}");
    let changed = hunk(&out, "@@ spec.http[orders] @@");
    assert!(changed.contains(&"-        prefix: /api/orders"), "{out}");
    assert!(
        changed.contains(&"+        prefix: /api/v2/orders"),
        "{out}"
    );
    assert!(!out.contains("@@ -"), "no line-number hunks: {out}");
    assert!(
        out.contains(
            "fields: spec.http[orders].match[0].uri.prefix, spec.http[shipping], \
             spec.http[old-catalog]"
        ),
        "{out}"
    );

    let md = diff(&t, &["--format", "markdown"]).success().to_string();
    assert!(
        md.contains("Changed: `spec.http[orders].match[0].uri.prefix`, `spec.http[shipping]`"),
        "{md}"
    );
    assert_eq!(hunk(&md, "@@ spec.http[old-catalog] (removed) @@"), removed);

    let v = diff(&t, &["--format", "json"]).exit(0).json();
    let o = &v["objects"][0];
    assert_eq!(
        o["changedPaths"],
        serde_json::json!([
            "spec.http[orders].match[0].uri.prefix",
            "spec.http[shipping]",
            "spec.http[old-catalog]"
        ])
    );
    assert!(o["diff"]
        .as_str()
        .is_some_and(|d| d.contains("@@ spec.http[shipping] (added) @@\n+  - match:\n")));
}

#[test]
fn moved_entries_are_no_change_and_a_new_route_order_is_one() {
    let routes = [
        route("a", "/a", "a"),
        route("b", "/b", "b"),
        route("c", "/c", "c"),
    ];
    let t = repo(&[
        ("vs.yaml", virtual_service(&routes)),
        ("dr.yaml", destination_rule(&["v1", "v2"], &[80, 443])),
    ]);
    // Subsets and port settings in another order: the same DestinationRule.
    t.write("dr.yaml", destination_rule(&["v2", "v1"], &[443, 80]));
    let o = diff(&t, &["--exit-code"]);
    assert_eq!(o.code, Some(0), "{}", o.stdout);
    assert!(
        o.stdout.contains("No changes in the rendered output."),
        "{}",
        o.stdout
    );
    let v = diff(&t, &["--format", "json"]).exit(0).json();
    assert_eq!(v["objects"], serde_json::json!([]));
    assert_eq!(v["summary"]["unchanged"], 2);

    // Routes match in order: moving one is a change of the order, not of the routes.
    t.write(
        "vs.yaml",
        virtual_service(&[routes[2].clone(), routes[0].clone(), routes[1].clone()]),
    );
    let out = diff(&t, &[]).success().to_string();
    assert!(
        out.contains("@@ spec.http (order) @@\n-a, b, c\n+c, a, b\n"),
        "{out}"
    );
    assert!(out.contains("fields: spec.http\n"), "{out}");
    assert_eq!(out.matches("@@").count(), 2, "one hunk only: {out}");
    assert!(
        out.contains("0 added, 1 changed, 0 removed, 1 unchanged"),
        "{out}"
    );
}

/// A repo where a VirtualService's routes change and four large DestinationRules are added
/// (they sort before it by kind), and a ServiceEntry's labels alone change.
fn important_and_followers() -> TempRepo {
    let routes = |v: &str| -> Vec<String> {
        (0..8)
            .map(|i| {
                route(
                    &format!("route-{i}"),
                    &format!("/{v}/r{i}"),
                    &format!("svc-{i}"),
                )
            })
            .collect()
    };
    let entry = |team: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext\n  \
             namespace: gw\n  labels: {{team: {team}}}\nspec:\n  hosts: [ext.example.com]\n  \
             ports: [{{number: 443, name: https, protocol: TLS}}]\n  resolution: DNS\n"
        )
    };
    let t = repo(&[
        ("vs.yaml", virtual_service(&routes("v1"))),
        ("se.yaml", entry("a")),
    ]);
    t.write("vs.yaml", virtual_service(&routes("v2")));
    t.write("se.yaml", entry("b"));
    for d in 0..4 {
        let subsets: Vec<String> = (0..24).map(|s| format!("version-{s:02}")).collect();
        let subsets: Vec<&str> = subsets.iter().map(String::as_str).collect();
        t.write(
            &format!("dr{d}.yaml"),
            destination_rule(&subsets, &[80]).replace("name: orders", &format!("name: dr-{d}")),
        );
    }
    t
}

#[test]
fn the_cap_keeps_the_routes_and_names_the_followers_it_left_out_at_the_top() {
    let t = important_and_followers();
    let md = diff(&t, &["--format", "markdown"]).success().to_string();
    // Uncapped: in each cluster the routes come first, then what follows them.
    let at = |s: &str| md.find(s).unwrap_or_else(|| panic!("no {s}: {md}"));
    assert!(at("#### VirtualService gw/shop (changed)") < at("#### DestinationRule gw/dr-0"));
    assert!(at("#### DestinationRule gw/dr-3") < at("#### ServiceEntry gw/ext (changed)"));
    assert!(md.len() > 6000, "the case must need the cap: {}", md.len());

    let md = diff(&t, &["--format", "markdown", "--max-length", "6000"])
        .success()
        .to_string();
    assert!(md.len() <= 6000, "{}", md.len());
    assert!(md.contains("#### VirtualService gw/shop (changed)"), "{md}");
    assert!(md.contains("@@ spec.http[route-7] @@"), "{md}");
    assert!(md.contains("+        prefix: /v2/r7"), "{md}");
    let notice = md
        .find("Output cut to fit `--max-length` (6000)")
        .expect("notice");
    assert!(
        notice < md.find("<details>").expect("details"),
        "notice on top: {md}"
    );
    // The label-only ServiceEntry comes last: shown when it still fits, else named.
    assert!(
        md.contains("> - ServiceEntry gw/ext in cluster1 (changed)\n")
            || md.find("#### ServiceEntry gw/ext (changed)")
                > md.find("#### DestinationRule gw/dr-0"),
        "{md}"
    );
    let dropped = (0..4)
        .filter(|d| !md.contains(&format!("#### DestinationRule gw/dr-{d} (added)")))
        .inspect(|d| {
            let line = format!("> - DestinationRule gw/dr-{d} in cluster1 (added)\n");
            assert!(md.contains(&line), "{line} named: {md}");
        })
        .count();
    assert!(dropped >= 1, "{md}");
    assert_eq!(md.matches("```").count() % 2, 0, "{md}");
}

#[test]
fn at_the_smallest_cap_the_notice_is_whole() {
    let t = important_and_followers();
    let long = "a-config-map-with-a-name-long-enough-to-fill-a-notice-line-on-its-own";
    for i in 0..25 {
        t.write(
            &format!("cm{i}.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {long}-{i:02}\n  \
                 namespace: default\ndata: {{k: v}}\n"
            ),
        );
    }
    let md = diff(&t, &["--format", "markdown", "--max-length", "1024"])
        .success()
        .to_string();
    assert!(md.len() <= 1024, "{}", md.len());
    let (_, notice) = md.split_once("> [!WARNING]\n").expect("notice");
    let (notice, _) = notice.split_once("\n\n").expect("the notice ends");
    let lines: Vec<&str> = notice.lines().collect();
    assert!(
        lines[0].starts_with("> Output cut to fit `--max-length` (1024): 32 items not shown"),
        "{md}"
    );
    // The most important item is named first; every line is whole.
    assert_eq!(
        lines.get(1),
        Some(&"> - VirtualService gw/shop in cluster1 (changed)"),
        "{md}"
    );
    for l in &lines[1..] {
        assert!(
            l.ends_with("(added)")
                || l.ends_with("(changed)")
                || l.ends_with(" more")
                || *l == "> - routing picture of shop.example.com in cluster1"
                || l.ends_with("for the full diff.")
                || *l == "> ",
            "a line cut short: {l:?} in {md}"
        );
    }
}
