//! `meshform diff`'s route-level summary: each added, removed or changed Gloo route named by
//! table and route at its file:line, what changed in Gloo's terms, and a change made alike in
//! several clusters said once (docs/ci.md#route-changes).

mod support;
use support::{check_mermaid, mermaid_labels, meshform, redact, TempRepo};

const CONFIG: &str = "apiVersion: meshform.dev/v1alpha1
kind: Config
defaultCluster: cluster1
clusters:
- name: cluster1
  paths: [\"cluster1/**\"]
- name: cluster2
  paths: [\"cluster2/**\"]
";

const WORKSPACE: &str = "apiVersion: admin.gloo.solo.io/v2
kind: Workspace
metadata: {name: shop, namespace: gloo-mesh}
spec:
  workloadClusters:
  - {name: cluster1, namespaces: [{name: shop}]}
  - {name: cluster2, namespaces: [{name: shop}]}
";

const BACKENDS: &str = "apiVersion: v1
kind: Service
metadata: {name: orders, namespace: shop}
spec:
  selector: {app: orders}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: shipping, namespace: shop}
spec:
  hosts: [api.shipping.example.com]
  ports:
  - {name: https, number: 443, protocol: HTTPS, clientsideTls: {}}
";

const ROUTES: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.com]
  http:
  - name: orders
    matchers: [{uri: {prefix: /api/orders}}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}}
  - name: old-catalog
    matchers: [{uri: {prefix: /catalog/}}]
    redirect: {pathRedirect: /shop/}
  - name: home
    matchers: [{uri: {exact: /}}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}}
";

/// The pull request of the summary: `orders` moves to `/api/v2/orders` with a 90/10 canary
/// split, `old-catalog` goes, `shipping` (header matchers, an ExternalService) comes.
const ROUTES_AFTER: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: shop, namespace: shop}
spec:
  hosts: [shop.example.com]
  http:
  - name: orders
    matchers: [{uri: {prefix: /api/v2/orders}}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}, subset: {version: stable}, weight: 90}
      - {ref: {name: orders}, port: {number: 8080}, subset: {version: canary}, weight: 10}
  - name: shipping
    matchers:
    - method: POST
      uri: {prefix: /api/shipping/}
      headers: [{name: x-tenant, value: acme|globex, regex: true}]
    forwardTo:
      destinations:
      - {kind: EXTERNAL_SERVICE, ref: {name: shipping}, port: {number: 443}}
  - name: home
    matchers: [{uri: {exact: /}}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}}
";

/// A repo with the shop in both clusters, committed as the base.
fn shop() -> TempRepo {
    let t = TempRepo::new();
    t.git(&["init", "-q", "-b", "main"]);
    t.write("meshform.yaml", CONFIG);
    t.write("workspace.yaml", WORKSPACE);
    for c in ["cluster1", "cluster2"] {
        t.write(&format!("{c}/backends.yaml"), BACKENDS);
        t.write(&format!("{c}/routes.yaml"), ROUTES);
    }
    t.commit("base");
    t
}

fn diff(t: &TempRepo, format: &str) -> String {
    meshform()
        .current_dir(t.path())
        .args(["diff", "--format", format, "--color", "never"])
        .run()
        .exit(0)
        .stdout
        .clone()
}

#[test]
fn a_change_made_in_both_clusters_is_said_once_in_each_format() {
    let t = shop();
    for c in ["cluster1", "cluster2"] {
        t.write(&format!("{c}/routes.yaml"), ROUTES_AFTER);
    }
    let text = diff(&t, "text");
    let top: String = text.lines().take(5).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("routes_text_top", redact(&top));
    assert_eq!(text.matches("route `orders`").count(), 1, "{text}");
    let md = diff(&t, "markdown");
    let summary = md
        .split("### Changed routes")
        .nth(1)
        .and_then(|s| s.split("\n\n").nth(1))
        .unwrap_or_default();
    insta::assert_snapshot!("routes_markdown", summary);
    // The summary comes before the per-cluster details.
    let (at, details) = (md.find("### Changed routes"), md.find("<details>"));
    assert!(at.is_some() && at < details, "{md}");
}

#[test]
fn a_change_in_one_cluster_names_that_cluster_only() {
    let t = shop();
    t.write(
        "cluster2/routes.yaml",
        ROUTES.replace("exact: /}", "exact: /index.html}"),
    );
    let text = diff(&t, "text");
    assert!(
        text.contains(
            "  shop/shop route `home` at cluster2/routes.yaml:15 in cluster2: \
             matcher `= /` → `= /index.html`\n"
        ),
        "{text}"
    );
    assert_eq!(text.matches("route `").count(), 1, "{text}");
}

#[test]
fn json_has_a_record_per_changed_route_with_both_sides() {
    let t = shop();
    t.write("cluster1/routes.yaml", ROUTES_AFTER);
    let v: serde_json::Value = serde_json::from_str(&diff(&t, "json")).expect("json");
    let routes = v["routes"].as_array().expect("routes");
    let by_name = |n: &str| {
        routes
            .iter()
            .find(|r| r["route"] == n)
            .unwrap_or_else(|| panic!("no {n} in {v:#}"))
    };
    assert_eq!(routes.len(), 3, "{v:#}");
    let orders = by_name("orders");
    assert_eq!(orders["change"], "changed");
    assert_eq!(orders["clusters"], serde_json::json!(["cluster1"]));
    assert_eq!(
        (&orders["file"], &orders["line"]),
        (&"cluster1/routes.yaml".into(), &7.into())
    );
    assert_eq!(
        orders["before"]["matchers"],
        serde_json::json!(["/api/orders"])
    );
    assert_eq!(
        orders["after"]["matchers"],
        serde_json::json!(["/api/v2/orders"])
    );
    assert_eq!(
        orders["after"]["matchersWritten"],
        serde_json::json!([{"uri": {"prefix": "/api/v2/orders"}}])
    );
    let dests = orders["after"]["destinations"].as_array().expect("dests");
    assert_eq!(
        dests
            .iter()
            .map(|d| (&d["subset"]["version"], &d["percent"]))
            .collect::<Vec<_>>(),
        vec![
            (&"stable".into(), &90.0.into()),
            (&"canary".into(), &10.0.into())
        ]
    );
    assert_eq!(orders["after"]["action"], "forwardTo");
    let shipping = by_name("shipping");
    assert_eq!(shipping["change"], "added");
    assert!(shipping["before"].is_null());
    assert_eq!(
        shipping["after"]["summary"],
        "POST /api/shipping/ with x-tenant ~ acme|globex → api.shipping.example.com:443"
    );
    assert_eq!(shipping["line"], 13);
    let old = by_name("old-catalog");
    assert_eq!(old["change"], "removed");
    assert!(old["after"].is_null());
    assert_eq!(old["before"]["action"], "redirect");
    assert_eq!(
        old["before"]["actionWritten"],
        serde_json::json!({"pathRedirect": "/shop/"})
    );
    assert_eq!(old["summary"], "`redirect /catalog/ → /shop/`");
    // Base's position for a removed route.
    assert_eq!(
        (&old["file"], &old["line"]),
        (&"cluster1/routes.yaml".into(), &12.into())
    );
}

#[test]
fn unnamed_routes_are_matched_by_position_and_said_so() {
    let t = shop();
    let unnamed = ROUTES.replace("  - name: home\n    matchers", "  - matchers");
    t.write("cluster1/routes.yaml", &unnamed);
    t.commit("unnamed home");
    t.write(
        "cluster1/routes.yaml",
        unnamed.replace("exact: /}", "prefix: /}"),
    );
    let text = diff(&t, "text");
    assert!(
        text.contains("shop/shop route #2 (unnamed, matched by position) at cluster1/routes.yaml:15 in cluster1: matcher `= /` → `/`"),
        "{text}"
    );
}

#[test]
fn table_changes_and_other_actions_are_named() {
    let t = shop();
    let after = ROUTES
        .replace("hosts: [shop.example.com]", "hosts: [shop.example.com, www.example.com]")
        .replace(
            "redirect: {pathRedirect: /shop/}",
            "directResponse: {status: 410, body: gone}",
        )
        .replace(
            "  - name: home\n    matchers: [{uri: {exact: /}}]\n    forwardTo:\n",
            "  - name: home\n    labels: {tier: gold}\n    matchers: [{uri: {exact: /}}]\n    forwardTo:\n      pathRewrite: /index.html\n",
        );
    t.write("cluster1/routes.yaml", after);
    let text = diff(&t, "text");
    for line in [
        "  shop/shop table at cluster1/routes.yaml:1 in cluster1: hosts `shop.example.com` → `shop.example.com, www.example.com`\n",
        "  shop/shop route `old-catalog` at cluster1/routes.yaml:12 in cluster1: action `redirect /shop/` → `directResponse respond 410 \"gone\"`\n",
        "  shop/shop route `home` at cluster1/routes.yaml:15 in cluster1: rewrite `none` → `path rewrite /index.html`; labels (which route policies apply) `none` → `tier=gold`\n",
    ] {
        assert!(text.contains(line), "{line} not in:\n{text}");
    }
}

#[test]
fn no_route_change_no_summary() {
    let t = shop();
    t.write(
        "cluster1/backends.yaml",
        BACKENDS.replace("8080}]", "8081}]"),
    );
    let text = diff(&t, "text");
    assert!(!text.contains("Changed routes"), "{text}");
    let md = diff(&t, "markdown");
    assert!(!md.contains("Changed routes"), "{md}");
}

#[test]
fn truncation_keeps_the_summary() {
    let t = shop();
    for c in ["cluster1", "cluster2"] {
        t.write(&format!("{c}/routes.yaml"), ROUTES_AFTER);
    }
    let md = meshform()
        .current_dir(t.path())
        .args(["diff", "--format", "markdown", "--max-length", "2000"])
        .run()
        .exit(0)
        .stdout
        .clone();
    assert!(md.len() <= 2000, "{}", md.len());
    assert!(md.contains("### Changed routes (3)"), "{md}");
    assert!(md.contains("route `shipping` added"), "{md}");
    assert!(md.contains("Output cut to fit"), "{md}");
}

/// `ROUTES_AFTER` with a route whose header value holds every character Mermaid interprets.
fn routes_with_marks() -> String {
    ROUTES_AFTER.replace(
        "  - name: home\n",
        "  - name: marks
    matchers:
    - uri: {prefix: /marks}
      headers: [{name: x-note, value: 'a#b\"c<d>e|f;g #lt;'}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}}
  - name: home\n",
    )
}

#[test]
fn one_picture_per_host_shows_added_removed_and_changed_routes() {
    let t = shop();
    t.write("cluster1/routes.yaml", routes_with_marks());
    let md = diff(&t, "markdown");
    let blocks = check_mermaid(&md);
    // cluster2 routes to cluster1's orders too, so the host changed in both.
    assert_eq!(blocks.len(), 2, "one picture per changed host: {md}");
    let b = &blocks[0];
    let labels = mermaid_labels(b);
    let has = |l: &str| labels.iter().any(|x| x == l);
    // Route names and their deciding matchers, not the VirtualService's name nor the
    // gateway's sourceLabels.
    assert!(has("orders: /api/orders → /api/v2/orders"), "{b}");
    assert!(
        has("shipping: POST /api/shipping/ x-tenant~acme|globex"),
        "{b}"
    );
    assert!(has("old-catalog: /catalog/"), "{b}");
    // `home`, and the three routes of cluster2's table, which cluster1's sidecars get too.
    assert!(has("4 unchanged routes"), "{b}");
    // Every character of a matcher value shows as written.
    assert!(has("marks: /marks x-note=a#b\"c<d>e|f;g #lt;"), "{b}");
    assert!(
        !b.contains("sourceLabels") && !b.contains("routetable-"),
        "{b}"
    );
    // Added green, removed red and dashed, changed amber.
    assert!(b.contains("-.->"), "{b}");
    for class in ["added", "removed", "changed"] {
        assert!(b.contains(&format!("  classDef {class} ")), "{b}");
    }
    insta::assert_snapshot!("routes_picture", b);
}

#[test]
fn pictures_are_capped_with_a_line_naming_the_hosts_left_out() {
    let t = shop();
    let table = |i: usize, path: &str| {
        format!(
            "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {{name: t{i}, namespace: shop}}
spec:
  hosts: [h{i:02}.example.com]
  http:
  - name: r
    matchers: [{{uri: {{prefix: {path}}}}}]
    forwardTo:
      destinations:
      - {{ref: {{name: orders}}, port: {{number: 8080}}}}
"
        )
    };
    let all = |path: &str| {
        (0..12)
            .map(|i| table(i, path))
            .collect::<Vec<_>>()
            .join("---\n")
    };
    t.write("cluster1/many.yaml", all("/a"));
    t.commit("many");
    t.write("cluster1/many.yaml", all("/b"));
    let md = diff(&t, "markdown");
    assert_eq!(check_mermaid(&md).len(), 10, "{md}");
    // 12 hosts in each cluster, drawn apart as each cluster routes to its own `orders`: 14
    // left out, the first 10 of them named.
    let line = md
        .lines()
        .find(|l| l.contains("more routing pictures not drawn"))
        .unwrap_or_default();
    assert!(
        line.starts_with(
            "14 more routing pictures not drawn: `h10.example.com` in cluster1; \
             `h11.example.com` in cluster1; `h00.example.com` in cluster2; "
        ),
        "{md}"
    );
    assert!(
        line.ends_with("`h07.example.com` in cluster2; and 4 more."),
        "{md}"
    );
}

/// A table of the shop's with TCP and TLS routes.
const STREAMS: &str = "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: data, namespace: shop}
spec:
  hosts: [data.shop.internal]
  tcp:
  - matchers: [{port: 5432}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}}
  tls:
  - matchers: [{sniHosts: [data.shop.internal], port: 443}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}}
";

#[test]
fn tcp_and_tls_routes_are_listed_like_http_ones() {
    let t = shop();
    for c in ["cluster1", "cluster2"] {
        t.write(&format!("{c}/streams.yaml"), STREAMS);
    }
    t.commit("streams");
    // In both clusters: the TCP port moves and a TLS route is added before the first.
    let head = STREAMS.replace("port: 5432", "port: 5433").replace(
        "  tls:\n",
        "  tls:\n  - matchers: [{sniHosts: [data.shop.internal], port: 8443}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}, subset: {version: canary}}\n",
    );
    for c in ["cluster1", "cluster2"] {
        t.write(&format!("{c}/streams.yaml"), &head);
    }
    // In cluster1 only, the first TLS route's destination gets a split.
    t.write(
        "cluster1/streams.yaml",
        head.replacen(
            "  - matchers: [{sniHosts: [data.shop.internal], port: 443}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}}\n",
            "  - matchers: [{sniHosts: [data.shop.internal], port: 443}]
    forwardTo:
      destinations:
      - {ref: {name: orders}, port: {number: 8080}, subset: {version: stable}, weight: 3}
      - {ref: {name: orders}, port: {number: 8080}, subset: {version: canary}, weight: 1}\n",
            1,
        ),
    );
    let text = diff(&t, "text");
    for line in [
        "  shop/data TCP route #0 at cluster1/streams.yaml:7, cluster2/streams.yaml:7 in cluster1, cluster2: matcher `port 5432` → `port 5433`\n",
        "  shop/data TLS route #0 added at cluster1/streams.yaml:12, cluster2/streams.yaml:12 in cluster1, cluster2: `SNI data.shop.internal on port 8443 → orders/canary`\n",
        "  shop/data TLS route #1 at cluster1/streams.yaml:16 in cluster1: destinations `orders` → `orders/stable 75 %, orders/canary 25 %`\n",
    ] {
        assert!(text.contains(line), "{line} not in:\n{text}");
    }
    assert_eq!(text.matches("shop/data ").count(), 3, "{text}");
    let md = diff(&t, "markdown");
    assert!(
        md.contains("- **TLS route \\#0 added** · `shop/data` in cluster1, cluster2: `SNI data.shop.internal on port 8443 → orders/canary` (`cluster1/streams.yaml:12`, `cluster2/streams.yaml:12`)\n"),
        "{md}"
    );
    let v: serde_json::Value = serde_json::from_str(&diff(&t, "json")).expect("json");
    let tcp = v["routes"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["protocol"] == "tcp"))
        .unwrap_or_else(|| panic!("no TCP route in {v:#}"));
    assert_eq!(
        (&tcp["route"], &tcp["index"]),
        (&serde_json::Value::Null, &0.into())
    );
    assert_eq!(
        tcp["before"]["matchersWritten"],
        serde_json::json!([{"port": 5432}])
    );
    assert_eq!(tcp["after"]["matchers"], serde_json::json!(["port 5433"]));
}

/// `n` tables of one route each, in one file: the route on `path`, its traffic split 90/10
/// between two subsets when `split`.
fn many_tables(n: usize, path: &str, split: bool) -> String {
    let to = if split {
        "      - {ref: {name: orders}, port: {number: 8080}, subset: {version: stable}, weight: 90}
      - {ref: {name: orders}, port: {number: 8080}, subset: {version: canary}, weight: 10}\n"
    } else {
        "      - {ref: {name: orders}, port: {number: 8080}}\n"
    };
    (0..n)
        .map(|i| {
            format!(
                "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {{name: t{i:03}, namespace: shop}}
spec:
  hosts: [h{i:03}.example.com]
  http:
  - name: r
    matchers: [{{uri: {{prefix: {path}}}}}]
    forwardTo:
      destinations:
{to}"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

#[test]
fn a_pull_request_changing_700_tables_keeps_what_matters_within_the_cap() {
    let t = shop();
    for c in ["cluster1", "cluster2"] {
        t.write(&format!("{c}/many.yaml"), many_tables(700, "/a", false));
    }
    t.commit("700 tables");
    // Every route moves and splits its traffic: 700 changed routes in each cluster, and a
    // DestinationRule for the subsets.
    for c in ["cluster1", "cluster2"] {
        t.write(&format!("{c}/many.yaml"), many_tables(700, "/b", true));
    }
    let markdown = |max: Option<&str>| {
        let mut cmd = meshform();
        cmd.current_dir(t.path())
            .args(["diff", "--format", "markdown", "--color", "never"]);
        if let Some(m) = max {
            cmd.args(["--max-length", m]);
        }
        cmd.run().exit(0).stdout.clone()
    };
    for (max, cap) in [(None, 65_536), (Some("6000"), 6000)] {
        let md = markdown(max);
        assert!(md.len() <= cap, "{} > {cap}", md.len());
        // The summary: every route said once for both clusters, capped with a count.
        let summary = md
            .split("### Changed routes (700)\n\n")
            .nth(1)
            .and_then(|s| s.split("\n\n").next())
            .unwrap_or_else(|| panic!("no summary of 700 routes at {cap}:\n{md}"));
        let lines: Vec<&str> = summary.lines().collect();
        assert!(lines.len() <= 51, "{} summary lines at {cap}", lines.len());
        assert!(
            lines[0].starts_with(
                "- **route `r`** · `shop/t000` in cluster1, cluster2: matcher `/a` → `/b`; "
            ),
            "{}",
            lines[0]
        );
        let more = 700 - (lines.len() - 1);
        assert_eq!(
            lines.last().copied(),
            Some(format!(
                "- and {more} more routes (`meshform diff --format text` lists them all)"
            ))
            .as_deref()
        );
        // The notice at the top counts what was left out by kind, before any picture or diff.
        let notice = md
            .split_once("> [!WARNING]\n> Output cut to fit `--max-length`")
            .map(|(before, n)| (before.len(), n.lines().next().unwrap_or_default()));
        let first_block = md.find("### Routing changes").or(md.find("<details>"));
        assert!(notice.is_some_and(|(at, _)| Some(at) < first_block), "{md}");
        let (_, counts) = notice.unwrap_or_default();
        for kind in [" VirtualServices", " routing pictures", " DestinationRules"] {
            assert!(counts.contains(kind), "{kind} not in {counts}");
        }
        // VirtualService diffs are kept; the DestinationRules, which only follow the routes,
        // go first.
        let details = &md[md.find("<details>").unwrap_or(md.len())..];
        assert!(details.contains("#### VirtualService shop/"), "{md}");
        assert!(!details.contains("#### DestinationRule"), "{md}");
        // Pictures are capped.
        assert!(check_mermaid(&md).len() <= 10, "{md}");
    }
}

/// The pull request of docs/ci.md's picture (examples/pr-comment), gateway tables in two
/// clusters: a host that changed alike in both is one picture, headed by both clusters.
#[test]
fn the_example_pull_request_draws_one_picture_for_both_clusters() {
    let example = support::root().join("examples/pr-comment");
    let t = TempRepo::copy_of(&example.join("base"));
    t.git(&["init", "-q", "-b", "main"]);
    t.commit("base");
    support::copy_tree(&example.join("head"), t.path());
    let md = diff(&t, "markdown");
    let blocks = check_mermaid(&md);
    assert_eq!(blocks.len(), 1, "{md}");
    assert!(
        md.contains("#### `shop.example.com` in cluster1, cluster2\n"),
        "{md}"
    );
    let labels = mermaid_labels(&blocks[0]);
    for l in [
        "orders: /api/orders → /api/v2/orders",
        "shipping: POST /api/shipping/ x-tenant~acme|globex",
        "old-catalog: /catalog/",
        "3 unchanged routes",
    ] {
        assert!(labels.iter().any(|x| x == l), "{l} not in {labels:?}");
    }
    // Each route change is one line for both clusters.
    let summary = md
        .split("### Changed routes (3)\n\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap_or_else(|| panic!("no summary of 3 routes:\n{md}"));
    assert_eq!(summary.lines().count(), 3, "{summary}");
    assert!(
        summary
            .lines()
            .all(|l| l.contains(" in cluster1, cluster2: ")),
        "{summary}"
    );
}
