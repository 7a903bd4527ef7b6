//! RetryTimeoutPolicy and MirrorPolicy: their CRD rules are input errors at the field, the
//! mirror destination resolves like a forwardTo destination (its errors at the policy), and of
//! two policies of one kind on a route the oldest applies (docs/translation.md#retrytimeoutpolicy,
//! docs/translation.md#mirrorpolicy).

mod support;
use support::policies::routes;
use support::{meshform, TempRepo};

fn repo(policies: &str) -> TempRepo {
    support::policies::tables_with("retry-timeout", policies)
}

fn rtp(name: &str, extra: &str, spec: &str) -> String {
    support::policies::policy("resilience", "RetryTimeoutPolicy", name, extra, spec)
}

fn mirror(name: &str, extra: &str, spec: &str) -> String {
    support::policies::policy("trafficcontrol", "MirrorPolicy", name, extra, spec)
}

fn render(d: &TempRepo) -> support::Run {
    meshform().arg("render").arg(d.path()).run()
}

#[test]
fn retries_without_attempts_get_gloos_default_and_redirects_are_left_alone() {
    let d = repo(&rtp(
        "all",
        "",
        "  config:\n    requestTimeout: 1.5s\n    retries: {retryOn: \"reset, 503\"}\n",
    ));
    let r = routes(render(&d).success());
    assert_eq!(r["web-www"]["timeout"], "1.500s");
    assert_eq!(
        r["web-www"]["retries"],
        serde_json::json!({"attempts": 2, "retryOn": "reset,503"})
    );
    assert_eq!(r["api-api"]["timeout"], "1.500s");
    assert!(r["old-www"].get("timeout").is_none(), "{:?}", r["old-www"]);
    assert!(r["old-www"].get("retries").is_none(), "{:?}", r["old-www"]);
}

#[test]
fn a_retry_timeout_policy_without_retries_or_timeout_is_an_input_error_at_config() {
    let d = repo(&rtp("empty", "", "  config: {}\n"));
    render(&d).input_error(&[
        "error[api-rule]",
        "spec.config: Either config.retries or config.requestTimeout must be set",
        "policy.yaml:7:11",
        "add `requestTimeout` or `retries` under config",
    ]);
    let d = repo(&rtp("none", "", "  applyToRoutes: []\n"));
    render(&d).input_error(&["Either config.retries or config.requestTimeout must be set"]);
}

#[test]
fn attempts_0_with_other_retry_fields_is_an_input_error_at_attempts() {
    let d = repo(&rtp(
        "zero",
        "",
        "  config:\n    retries:\n      attempts: 0\n      perTryTimeout: 1s\n",
    ));
    render(&d).input_error(&[
        "When attempts is set to 0, perTryTimeout, retryOn, or retryRemoteLocalities cannot be set",
        "policy.yaml:9:17",
    ]);
    // attempts 0 alone disables retries.
    let d = repo(&rtp("zero", "", "  config:\n    retries: {attempts: 0}\n"));
    let r = routes(render(&d).success());
    assert_eq!(r["web-www"]["retries"], serde_json::json!({"attempts": 0}));
}

#[test]
fn durations_must_be_whole_milliseconds_from_1ms() {
    let d = repo(&rtp(
        "fine",
        "",
        "  config:\n    retries: {perTryTimeout: 1500us}\n",
    ));
    render(&d).input_error(&[
        "spec.config.retries.perTryTimeout: `1500us` is not a duration Gloo takes here",
        "policy.yaml:8:30",
    ]);
    let d = repo(&rtp("zero", "", "  config:\n    requestTimeout: 0s\n"));
    render(&d).input_error(&["spec.config.requestTimeout", "Gloo takes at least 1ms"]);
    let d = repo(&rtp("typo", "", "  config:\n    requestTimeout: 10 s\n"));
    render(&d).input_error(&["invalid duration `10 s`", "policy.yaml:8:"]);
}

#[test]
fn retry_on_must_be_a_list_of_known_conditions() {
    let d = repo(&rtp(
        "list",
        "",
        "  config:\n    retries: {retryOn: \"5xx,,reset\"}\n",
    ));
    render(&d).input_error(&["spec.config.retries.retryOn", "without empty items"]);
    let d = repo(&rtp(
        "flaky",
        "",
        "  config:\n    retries: {retryOn: \"5xx,flaky\"}\n",
    ));
    render(&d).input_error(&["`flaky` is not a retry condition Gloo supports"]);
}

#[test]
fn selecting_routes_by_destination_takes_the_routes_to_that_destination() {
    let d = repo(&rtp(
        "by-dest",
        "",
        "  applyToRoutes:\n  - withDestinations: {selector: {name: web}}\n  config: {requestTimeout: 1s}\n",
    ));
    let r = routes(render(&d).success());
    assert_eq!(r["web-www"]["timeout"], "1s");
    assert!(r["api-api"].get("timeout").is_none(), "{:?}", r["api-api"]);
    let d = repo(&mirror(
        "by-dest",
        "",
        "  applyToRoutes:\n  - withDestinations: {selector: {name: web}}\n  config:\n    destination: {ref: {name: api}, port: {number: 8080}}\n",
    ));
    let r = routes(render(&d).success());
    assert!(r["web-www"].get("mirror").is_some(), "{:?}", r["web-www"]);
    assert!(r["api-api"].get("mirror").is_none(), "{:?}", r["api-api"]);
}

#[test]
fn of_two_retry_timeout_policies_on_a_route_the_oldest_applies_with_a_warning() {
    let d = repo(&format!(
        "{}---\n{}",
        rtp(
            "newer",
            "\n  creationTimestamp: \"2024-02-01T00:00:00Z\"",
            "  config: {requestTimeout: 2s}\n"
        ),
        rtp(
            "older",
            "\n  creationTimestamp: \"2024-01-01T00:00:00Z\"",
            "  applyToRoutes: [{route: {labels: {tier: front}}}]\n  config: {requestTimeout: 3s}\n"
        ),
    ));
    let run = render(&d);
    let r = routes(run.success());
    assert_eq!(r["web-www"]["timeout"], "3s");
    assert_eq!(r["api-api"]["timeout"], "2s");
    run.stderr_has(&[
        "warning[policy-conflict]",
        "RetryTimeoutPolicy app/newer and app/older both select route `web-www` of RouteTable app/www; Gloo applies only the oldest, app/older",
    ]);
}

#[test]
fn mirror_percentage_and_destination_are_checked_at_the_field() {
    let d = repo(&mirror(
        "half",
        "",
        "  config:\n    destination: {ref: {name: api}, port: {number: 8080}}\n    percentage: 150\n",
    ));
    render(&d).input_error(&[
        "error[api-rule]",
        "percentage 150 must be between 0 and 100",
        "policy.yaml:9:17",
    ]);
    let d = repo(&mirror("nowhere", "", "  config: {percentage: 5}\n"));
    render(&d).input_error(&["config.destination is required"]);
}

#[test]
fn a_mirror_destination_resolves_like_a_forward_to_destination() {
    // web has two ports: as for forwardTo, the port must be named.
    let d = repo(&mirror(
        "shadow",
        "",
        "  config:\n    destination: {ref: {name: web}}\n",
    ));
    render(&d).fails(1, &["error[port-required]", "MirrorPolicy app/shadow"]);
    let d = repo(&mirror(
        "shadow",
        "",
        "  config:\n    destination: {kind: VIRTUAL_DESTINATION, ref: {name: missing}, port: {number: 80}}\n",
    ));
    render(&d).fails(
        1,
        &[
            "destination VIRTUAL_DESTINATION app/missing (cluster cluster1) does not exist",
            "policy.yaml:8:",
            "MirrorPolicy app/shadow, field: spec.config.destination.ref.name",
        ],
    );
    let d = repo(&mirror(
        "shadow",
        "",
        "  config:\n    destination: {ref: {name: web}, port: {number: 9090}}\n    percentage: 0.5\n",
    ));
    let r = routes(render(&d).success());
    assert_eq!(
        r["api-api"]["mirror"],
        serde_json::json!({"host": "web.app.svc.cluster.local", "port": {"number": 9090}})
    );
    assert_eq!(
        r["api-api"]["mirrorPercentage"],
        serde_json::json!({"value": 0.5})
    );
}

#[test]
fn of_two_mirror_policies_on_a_route_the_oldest_applies_with_a_warning() {
    let d = repo(&format!(
        "{}---\n{}",
        mirror(
            "a-new",
            "",
            "  config:\n    destination: {ref: {name: api}, port: {number: 8080}}\n"
        ),
        mirror(
            "b-old",
            "\n  creationTimestamp: \"2024-01-01T00:00:00Z\"",
            "  config:\n    destination: {ref: {name: web}, port: {number: 8080}}\n"
        ),
    ));
    let run = render(&d);
    let r = routes(run.success());
    assert_eq!(r["api-api"]["mirror"]["host"], "web.app.svc.cluster.local");
    run.stderr_has(&["MirrorPolicy app/a-new and app/b-old both select route `api-api`"]);
}

#[test]
fn a_changed_policy_shows_in_diff_as_the_route_field_it_changed_from_the_policy() {
    let t = support::policies::fixture_edited(
        "retry-timeout",
        "requestTimeout: 1m",
        "requestTimeout: 2m",
    );
    let o = &support::policies::only_changed_object(&t);
    assert_eq!(o["kind"], "VirtualService");
    assert_eq!(o["name"], "routetable-www-app-cluster1-app", "{o:#}");
    assert_eq!(
        o["changedPaths"],
        serde_json::json!(["spec.http[web-www].timeout"])
    );
    assert_eq!(
        support::policies::source_names(o, "RetryTimeoutPolicy"),
        ["front"],
        "{o:#}"
    );
}
