//! HeaderManipulationPolicy and CORSPolicy: `headers` and `corsPolicy` on the routes they
//! select, redirects and direct responses included; values Istio rejects are errors at the policy's field; of two policies of one
//! kind on a route the oldest applies; a changed policy shows in diff as the VirtualService
//! field it changed, from the policy (docs/translation.md#headermanipulationpolicy,
//! docs/translation.md#corspolicy).

mod support;
use serde_json::json;
use support::policies::routes;
use support::{meshform, TempRepo};

fn repo(policies: &str) -> TempRepo {
    support::policies::tables_with("header-manipulation", policies)
}

fn hmp(name: &str, extra: &str, spec: &str) -> String {
    support::policies::policy(
        "trafficcontrol",
        "HeaderManipulationPolicy",
        name,
        extra,
        spec,
    )
}

fn cors(name: &str, extra: &str, spec: &str) -> String {
    support::policies::policy("security", "CORSPolicy", name, extra, spec)
}

fn render(d: &TempRepo) -> support::Run {
    meshform().arg("render").arg(d.path()).run()
}

#[test]
fn append_is_add_remove_is_remove_on_forwarding_and_redirect_routes() {
    let d = repo(&hmp(
        "all",
        "",
        "  config:
    appendRequestHeaders: {x-a: \"1\", \":authority\": api.internal}
    removeResponseHeaders: [server]
",
    ));
    let r = routes(render(&d).success());
    assert_eq!(
        r["web-www"]["headers"],
        json!({"request": {"add": {"x-a": "1", ":authority": "api.internal"}},
               "response": {"remove": ["server"]}})
    );
    assert_eq!(r["api-api"]["headers"], r["web-www"]["headers"]);
    // Envoy adds a route's response headers to the redirect it answers with.
    assert_eq!(r["old-www"]["headers"], r["web-www"]["headers"]);
    assert!(r["old-www"].get("redirect").is_some(), "{:?}", r["old-www"]);
}

#[test]
fn cors_fields_carry_over_with_max_age_in_seconds() {
    let d = repo(&cors(
        "front",
        "",
        "  applyToRoutes: [{route: {labels: {tier: front}}}]
  config:
    allowOrigins: [{exact: \"https://a.example.com\"}, {prefix: \"https://b.\"}]
    allowMethods: [GET, OPTIONS]
    exposeHeaders: [x-request-id]
    maxAge: 2m
    allowCredentials: false
",
    ));
    let r = routes(render(&d).success());
    assert_eq!(
        r["web-www"]["corsPolicy"],
        json!({"allowOrigins": [{"exact": "https://a.example.com"}, {"prefix": "https://b."}],
               "allowMethods": ["GET", "OPTIONS"], "exposeHeaders": ["x-request-id"],
               "maxAge": "120s", "allowCredentials": false})
    );
    assert!(
        r["api-api"].get("corsPolicy").is_none(),
        "{:?}",
        r["api-api"]
    );
    assert_eq!(r["old-www"]["corsPolicy"], r["web-www"]["corsPolicy"]);
}

#[test]
fn header_names_istio_rejects_are_errors_at_the_policy_field() {
    let d = repo(&hmp(
        "bad",
        "",
        "  config:\n    appendRequestHeaders: {\":path\": /x}\n",
    ));
    render(&d)
        .fails(
            1,
            &[
                "error[policy-value]",
                "Istio rejects header `:path`",
                "policy.yaml:8:37",
                "HeaderManipulationPolicy app/bad",
            ],
        )
        .stdout_has(&[]);
    let d = repo(&hmp(
        "bad",
        "",
        "  config:\n    removeRequestHeaders: [x-a, Host]\n",
    ));
    render(&d).fails(
        1,
        &[
            "Istio rejects removing header `Host`",
            "policy.yaml:8:33",
            "spec.config.removeRequestHeaders[1]",
        ],
    );
    let d = repo(&hmp(
        "bad",
        "",
        "  config:\n    appendResponseHeaders: {host: h}\n",
    ));
    render(&d).fails(
        1,
        &[
            "spec.config.appendResponseHeaders.host",
            "cannot set Host header",
        ],
    );
    let d = repo(&hmp(
        "bad",
        "",
        "  config:\n    removeResponseHeaders: [\":status\"]\n",
    ));
    render(&d).fails(1, &["spec.config.removeResponseHeaders[0]", "\":\" prefix"]);
}

#[test]
fn a_lone_percent_in_a_header_value_is_an_error_with_the_escape() {
    let d = repo(&hmp(
        "pct",
        "",
        "  config:\n    appendRequestHeaders: {x-share: 50%}\n",
    ));
    render(&d).fails(
        1,
        &[
            "Istio rejects the value of header `x-share`",
            "unbalanced %",
            "write a literal % as %%",
        ],
    );
}

#[test]
fn the_authority_is_set_in_one_place_only() {
    let d = repo(&hmp(
        "twice",
        "",
        "  config:\n    appendRequestHeaders: {host: a, \":authority\": b}\n",
    ));
    render(&d).fails(1, &["sets both `host` and `:authority`"]);
    // A route that rewrites its host cannot also take `host` from a policy.
    let d = repo(&hmp(
        "host",
        "",
        "  config:\n    appendRequestHeaders: {host: a}\n",
    ));
    let tables = std::fs::read_to_string(d.path().join("routetable.yaml")).expect("tables");
    d.write(
        "routetable.yaml",
        tables.replace(
            "      - {ref: {name: api}, port: {number: 8080}}",
            "      - {ref: {name: api}, port: {number: 8080}}\n      hostRewrite: api.internal",
        ),
    );
    render(&d).fails(
        1,
        &[
            "error[policy-value]",
            "appendRequestHeaders sets `host` on route `api-api` of RouteTable app/api, which rewrites its authority",
            "policy.yaml:8:34",
        ],
    );
}

#[test]
fn route_destinations_and_unknown_fields_are_input_errors() {
    let d = repo(&hmp(
        "dest",
        "",
        "  applyToRouteDestinations: [{route: {labels: {tier: front}}}]\n  config:\n    removeResponseHeaders: [server]\n",
    ));
    render(&d).input_error(&[
        "error[unsupported-field]",
        "HeaderManipulationPolicy `spec.applyToRouteDestinations`",
    ]);
    let d = repo(&hmp(
        "typo",
        "",
        "  config:\n    setRequestHeaders: {x-a: b}\n",
    ));
    render(&d).input_error(&[
        "error[unknown-field]",
        "setRequestHeaders",
        "policy.yaml:8:",
    ]);
}

#[test]
fn suffix_and_case_insensitive_origins_are_rejected_at_the_field() {
    let d = repo(&cors(
        "sfx",
        "",
        "  config:\n    allowOrigins: [{suffix: .example.com}]\n",
    ));
    render(&d).input_error(&[
        "error[unsupported-field]",
        "CORSPolicy `spec.config.allowOrigins[0].suffix`",
        "policy.yaml:8:",
    ]);
    let d = repo(&cors(
        "case",
        "",
        "  config:\n    allowOrigins: [{exact: \"https://a.com\", ignoreCase: true}]\n",
    ));
    render(&d).input_error(&["CORSPolicy `spec.config.allowOrigins[0].ignoreCase`"]);
}

#[test]
fn cors_values_istio_rejects_are_errors_at_the_policy_field() {
    let d = repo(&cors("bad", "", "  config:\n    allowMethods: [get]\n"));
    render(&d).fails(
        1,
        &[
            "error[policy-value]",
            "Istio rejects CORS method `get`",
            "policy.yaml:8:20",
            "write `GET`",
        ],
    );
    let d = repo(&cors("bad", "", "  config:\n    allowHeaders: [\"x a\"]\n"));
    render(&d).fails(1, &["spec.config.allowHeaders[0]", "token or `*`"]);
    let d = repo(&cors("bad", "", "  config:\n    maxAge: 1500ms\n"));
    render(&d).fails(1, &["spec.config.maxAge", "whole seconds"]);
    let d = repo(&cors(
        "bad",
        "",
        "  config:\n    allowOrigins: [{regex: \"(\"}]\n",
    ));
    render(&d).fails(
        1,
        &[
            "spec.config.allowOrigins[0].regex",
            "Istio rejects this origin",
        ],
    );
    let d = repo(&cors("bad", "", "  config:\n    allowOrigins: [{}]\n"));
    render(&d).fails(
        1,
        &[
            "spec.config.allowOrigins[0]",
            "needs exact, prefix or regex",
        ],
    );
}

#[test]
fn of_two_policies_of_one_kind_on_a_route_the_oldest_applies_whole_with_a_warning() {
    let d = repo(&format!(
        "{}---\n{}---\n{}---\n{}",
        hmp(
            "a-new",
            "\n  creationTimestamp: \"2024-02-01T00:00:00Z\"",
            "  config: {removeResponseHeaders: [server]}\n"
        ),
        hmp(
            "b-old",
            "\n  creationTimestamp: \"2024-01-01T00:00:00Z\"",
            "  applyToRoutes: [{route: {labels: {tier: front}}}]\n  config: {appendResponseHeaders: {x-b: b}}\n"
        ),
        cors("c-new", "", "  config: {allowMethods: [GET]}\n"),
        cors(
            "d-old",
            "\n  creationTimestamp: \"2024-01-01T00:00:00Z\"",
            "  config: {allowMethods: [POST]}\n"
        ),
    ));
    let run = render(&d);
    let r = routes(run.success());
    // Whole: nothing of the newer policy joins the older one's.
    assert_eq!(
        r["web-www"]["headers"],
        json!({"response": {"add": {"x-b": "b"}}})
    );
    assert_eq!(
        r["api-api"]["headers"],
        json!({"response": {"remove": ["server"]}})
    );
    assert_eq!(
        r["web-www"]["corsPolicy"],
        json!({"allowMethods": ["POST"]})
    );
    run.stderr_has(&[
        "warning[policy-conflict]",
        "HeaderManipulationPolicy app/a-new and app/b-old both select route `web-www` of RouteTable app/www; Gloo applies only the oldest, app/b-old",
        "CORSPolicy app/c-new and app/d-old both select route `api-api` of RouteTable app/api",
    ]);
}

#[test]
fn a_changed_policy_shows_in_diff_as_the_route_field_it_changed_from_the_policy() {
    let t = support::policies::fixture_edited(
        "header-manipulation",
        "{x-served-by: gloo}",
        "{x-served-by: meshform}",
    );
    let o = &support::policies::only_changed_object(&t);
    assert_eq!(o["kind"], "VirtualService");
    assert_eq!(o["name"], "routetable-api-app-cluster1-app", "{o:#}");
    assert_eq!(
        o["changedPaths"],
        json!(["spec.http[api-api].headers.response.add.x-served-by"])
    );
    assert_eq!(
        support::policies::source_names(o, "HeaderManipulationPolicy"),
        ["everything"],
        "{o:#}"
    );
}
