//! Route tests (docs/route-tests.md): `meshform test` runs a repo's RouteTest files, `check`
//! reports their failures as findings, `diff` lists the requests whose outcome a change
//! alters; and the bundled fixtures' route tests pass.

#[path = "../benches/support/gen.rs"]
mod gen;
mod support;
use support::{copy_tree, fixture_dirs, meshform, redact, root, write_tree, TempRepo};

/// The external-services fixture in a temporary directory.
fn external_services() -> TempRepo {
    let t = TempRepo::new();
    copy_tree(&root().join("fixtures/external-services"), t.path());
    t
}

const ONE_CASE: &str = "apiVersion: meshform.dev/v1alpha1
kind: RouteTest
defaults:
  gateway: istio-gateways/istio-ingressgateway
cases:
- name: db
  request: {url: http://www.example.com/db/users}
  expect:
    route: db
    destination: httpbin.org:443
";

#[test]
fn every_fixture_with_route_tests_passes_them() {
    let mut ran = Vec::new();
    for (name, dir) in fixture_dirs() {
        if !dir.join("tests/routes").is_dir() {
            continue;
        }
        let run = meshform().arg("test").arg(&dir).run();
        assert_eq!(
            run.code,
            Some(0),
            "{name}:\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
        assert!(!run.stdout.contains("FAIL"), "{name}: {}", run.stdout);
        ran.push(name);
    }
    for must in [
        "external-services",
        "features/weights",
        "features/redirect",
        "features/direct-response",
    ] {
        assert!(
            ran.iter().any(|n| n == must),
            "{must} has no route tests: {ran:?}"
        );
    }
}

#[test]
fn the_seed_scenario_passes_case_by_case() {
    let out = meshform()
        .args(["test", "fixtures/external-services"])
        .current_dir(root())
        .run();
    let text = out.success();
    assert!(
        text.contains(
            "PASS tests/routes/www.yaml:10 db requests reach the internal db-api, /db/ rewritten to /\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("4 cases: 4 passed, 0 failed\n"), "{text}");
}

#[test]
fn a_failing_case_exits_1_with_what_it_expected_and_the_trace() {
    let t = external_services();
    t.write("tests/routes/www.yaml", ONE_CASE);
    let run = meshform().arg("test").arg(t.path()).run();
    run.exit(1);
    let out = &run.stdout;
    assert!(
        out.starts_with("FAIL tests/routes/www.yaml:6 db\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "  GET www.example.com/db/users from gateway istio-gateways/istio-ingressgateway in cluster1\n"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "  destination: expected httpbin.org:443, got db-api.internal.example.com:80\n"
        ),
        "{out}"
    );
    assert!(out.contains("  trace:\n    "), "{out}");
    assert!(out.ends_with("1 case: 0 passed, 1 failed\n"), "{out}");

    // GitHub: an annotation at the case, paths from the git root.
    t.git_init();
    let gh = meshform()
        .args(["test", "--format", "github"])
        .arg(t.path())
        .run();
    gh.exit(1);
    assert!(
        gh.stdout.starts_with(
            "::error file=tests/routes/www.yaml,line=6,col=3,title=route-test-failed::"
        ),
        "{}",
        gh.stdout
    );
    assert!(gh
        .stdout
        .ends_with("meshform test: 1 case: 0 passed, 1 failed\n"));

    // JSON: the case, its problems and its trace.
    let js = meshform()
        .args(["test", "--format", "json"])
        .arg(t.path())
        .run();
    js.exit(1);
    let v: serde_json::Value = serde_json::from_str(&js.stdout).expect("json");
    let c = &v["cases"][0];
    assert_eq!(
        (&c["file"], &c["line"]),
        (&"tests/routes/www.yaml".into(), &6.into())
    );
    assert_eq!(c["passed"], false);
    assert_eq!(c["problems"][0]["field"], "destination");
    assert_eq!(
        c["outcome"]["destinations"][0]["host"],
        "db-api.internal.example.com"
    );
    assert!(c["trace"].is_object(), "{c:#}");
    assert_eq!(v["summary"]["failed"], 1);
}

#[test]
fn a_malformed_test_file_is_an_input_error_at_its_field() {
    let t = external_services();
    t.write(
        "tests/routes/www.yaml",
        ONE_CASE.replace("    route: db\n", "    route: db\n    destinaton: x\n"),
    );
    let run = meshform().arg("test").arg(t.path()).run();
    run.input_error(&[
        "tests/routes/www.yaml:10:5",
        "route-test-invalid",
        "unknown field `destinaton`",
    ]);
    // check refuses it too, as an input error.
    meshform()
        .arg("check")
        .arg(t.path())
        .run()
        .input_error(&["tests/routes/www.yaml:10:5", "unknown field `destinaton`"]);
    // A gateway the cluster does not render is an input error at the case.
    t.write(
        "tests/routes/www.yaml",
        ONE_CASE.replace("istio-gateways/istio-ingressgateway", "istio-gateways/nope"),
    );
    meshform()
        .arg("test")
        .arg(t.path())
        .run()
        .input_error(&["tests/routes/www.yaml:4:3", "istio-gateways/nope"]);
}

#[test]
fn test_files_named_on_the_command_line_replace_the_repos() {
    let t = external_services();
    let other = TempRepo::new();
    let file = other.write("mine.yaml", ONE_CASE);
    let run = meshform().arg("test").arg(t.path()).arg(&file).run();
    run.exit(1);
    assert!(run.stdout.contains("mine.yaml:6 db"), "{}", run.stdout);
    assert!(run.stdout.ends_with("1 case: 0 passed, 1 failed\n"));
    // A repo without route tests, and no file named: an input error saying where they go.
    t.remove("tests/routes/www.yaml");
    meshform()
        .arg("test")
        .arg(t.path())
        .run()
        .input_error(&["no route test files", "tests/routes/**"]);
}

#[test]
fn check_reports_a_failing_case_as_a_finding_in_every_format() {
    let t = external_services();
    t.git_init();
    meshform().arg("check").arg(t.path()).run().exit(0);
    t.write("tests/routes/www.yaml", ONE_CASE);
    let text = meshform()
        .args(["check", "--color", "never"])
        .arg(t.path())
        .run();
    text.exit(1);
    assert!(
        text.stdout
            .contains("error[route-test-failed]: route test `db`"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("the route taken: app/www db at routetable.yaml:9:5"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("tests/routes/www.yaml:6:3"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "meshform trace http://www.example.com/db/users --gateway istio-gateways/istio-ingressgateway"
        ),
        "{}",
        text.stdout
    );
    let gh = meshform()
        .args(["check", "--format", "github"])
        .arg(t.path())
        .run();
    gh.exit(1);
    assert!(
        gh.stdout
            .contains("::error file=tests/routes/www.yaml,line=6,col=3,title=route-test-failed::"),
        "{}",
        gh.stdout
    );
    for format in ["json", "sarif"] {
        let r = meshform()
            .args(["check", "--format", format])
            .arg(t.path())
            .run();
        r.exit(1);
        assert!(
            r.stdout.contains("route-test-failed"),
            "{format}: {}",
            r.stdout
        );
    }
}

#[test]
fn a_route_test_outside_its_paths_is_refused_and_the_paths_are_configurable() {
    let t = external_services();
    t.remove("tests/routes/www.yaml");
    t.write(
        "checks/www.yaml",
        ONE_CASE.replace("defaults:", "metadata: {name: www}\ndefaults:"),
    );
    meshform().arg("check").arg(t.path()).run().input_error(&[
        "checks/www.yaml:1:1",
        "route-test-misplaced",
        "routeTests.paths",
    ]);
    let config = std::fs::read_to_string(t.join("meshform.yaml")).expect("config");
    t.write(
        "meshform.yaml",
        format!("{config}routeTests:\n  paths: [\"checks/**\"]\n"),
    );
    let run = meshform().arg("test").arg(t.path()).run();
    run.exit(1);
    assert!(
        run.stdout.contains("FAIL checks/www.yaml:7 db"),
        "{}",
        run.stdout
    );
    // Nothing of it is rendered.
    let render = meshform()
        .args(["render", "--passthrough"])
        .arg(t.path())
        .run();
    assert!(!render.success().contains("RouteTest"));
}

/// The external-services repo committed, then in the working tree its db route moved from
/// `/db/` to `/database/`, so that `/db/users` falls through to httpbin.
fn db_moved() -> TempRepo {
    let t = external_services();
    t.git_init();
    t.commit("base");
    let rt = std::fs::read_to_string(t.join("routetable.yaml")).expect("routetable");
    t.write(
        "routetable.yaml",
        rt.replacen("prefix: /db/}", "prefix: /database/}", 1),
    );
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
fn diff_puts_the_requests_whose_outcome_changed_first() {
    let t = db_moved();
    let text = diff(&t, "text");
    let top: String = text.lines().take(3).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("outcomes_text_top", redact(&top));
    let md = diff(&t, "markdown");
    let outcomes = md
        .split("### Changed outcomes")
        .nth(1)
        .and_then(|s| s.split("###").next())
        .unwrap_or_default();
    insta::assert_snapshot!("outcomes_markdown", outcomes);
    let (at, routes) = (
        md.find("### Changed outcomes"),
        md.find("### Changed routes"),
    );
    assert!(at.is_some() && at < routes, "{md}");
    let v: serde_json::Value = serde_json::from_str(&diff(&t, "json")).expect("json");
    let o = &v["outcomes"];
    assert_eq!(o.as_array().map(Vec::len), Some(1), "{o:#}");
    assert_eq!(o[0]["request"], "GET www.example.com/db/users");
    assert_eq!(
        o[0]["summary"],
        "GET www.example.com/db/users: db-api.internal.example.com:80 → httpbin.org:443, \
         route `db` → `httpbin`"
    );
    assert_eq!(
        (&o[0]["file"], &o[0]["line"]),
        (&"tests/routes/www.yaml".into(), &10.into())
    );
    assert_eq!(o[0]["before"]["passes"], true);
    assert_eq!(o[0]["after"]["passes"], false);
    assert_eq!(o[0]["after"]["file"], "routetable.yaml");
    // Each side names the line of the Gloo route it took, not its table's.
    assert_eq!(
        (&o[0]["before"]["line"], &o[0]["after"]["line"]),
        (&9.into(), &18.into())
    );
}

#[test]
fn diff_without_a_changed_outcome_says_nothing_of_route_tests() {
    let t = external_services();
    t.git_init();
    t.commit("base");
    let ws = std::fs::read_to_string(t.join("externalservices.yaml")).expect("es");
    t.write(
        "externalservices.yaml",
        ws.replace("10.0.2.10", "10.0.2.11"),
    );
    let text = diff(&t, "text");
    assert!(!text.contains("Changed outcomes"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&diff(&t, "json")).expect("json");
    assert_eq!(v["outcomes"], serde_json::json!([]));
}

/// The benchmark generator's route tests (`genrepo --route-tests N`) are cases meshform reads,
/// that pass, over every outcome the gateway tables have, and that the kustomization leaves
/// out.
#[test]
fn generated_route_tests_pass_on_the_generated_repo() {
    let repo = gen::generate(&gen::Spec {
        route_tests: 150,
        ..gen::Spec::new(600)
    });
    let tests: Vec<&String> = repo
        .files
        .keys()
        .filter(|p| p.starts_with("tests/routes/"))
        .collect();
    assert_eq!(tests.len(), 2, "{tests:?}");
    assert!(!repo.files["kustomization.yaml"].contains("tests/routes"));
    let all: String = tests.iter().map(|p| repo.files[*p].as_str()).collect();
    assert_eq!(all.matches("- name: case ").count(), 150);
    for outcome in [
        "redirect: {code: 308}",
        "directResponse: {status: 503}",
        "?version=v1",
    ] {
        assert!(all.contains(outcome), "no case with {outcome}");
    }
    let t = TempRepo::new();
    write_tree(t.path(), &repo.files);
    let run = meshform().arg("test").arg(t.path()).run();
    let out = run.success();
    assert!(out.ends_with("150 cases: 150 passed, 0 failed\n"), "{out}");
}
