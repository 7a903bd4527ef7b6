//! Gloo fields with a fixed set of values (docs/translation.md, "Enum fields"): a value that is
//! not one of them is an input error at its line, with the nearest valid value, for every such
//! field; valid values in the spellings Gloo reads render as before.

mod support;
use support::{meshform, TempRepo};

/// One typo'd enum value: the object's YAML, the bad value, the field path and the value meshform
/// should suggest.
struct Case {
    yaml: &'static str,
    bad: &'static str,
    field: &'static str,
    near: &'static str,
}

const CASES: &[Case] = &[
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: all
    delegate:
      routeTables: [{labels: {team: web}}]
      sortMethod: ROUTE_SPECIFICTY
",
        bad: "ROUTE_SPECIFICTY",
        field: "spec.http[0].delegate.sortMethod",
        near: "ROUTE_SPECIFICITY",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: web}
spec:
  hosts: [web.example.com]
  failureMode: FREEZE_CONFG
",
        bad: "FREEZE_CONFG",
        field: "spec.failureMode",
        near: "FREEZE_CONFIG",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: old
    redirect: {pathRedirect: /new, responseCode: MOVED_PERMANENTY}
",
        bad: "MOVED_PERMANENTY",
        field: "spec.http[0].redirect.responseCode",
        near: "MOVED_PERMANENTLY",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: web}
spec:
  hosts: [web.example.com]
  workloadSelectors:
  - kind: KUEB
    selector: {labels: {app: web}}
",
        bad: "KUEB",
        field: "spec.workloadSelectors[0].kind",
        near: "KUBE",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: db
    forwardTo:
      destinations:
      - ref: {name: db}
        kind: EXTERNAL_SERVIC
        port: {number: 80}
",
        bad: "EXTERNAL_SERVIC",
        field: "spec.http[0].forwardTo.destinations[0].kind",
        near: "EXTERNAL_SERVICE",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: db, namespace: web}
spec:
  hosts: [db.example.com]
  ports:
  - {name: http, number: 80, protocol: HTTTP}
",
        bad: "HTTTP",
        field: "spec.ports[0].protocol",
        near: "HTTP",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: ExternalService
metadata: {name: db, namespace: web}
spec:
  hosts: [db.example.com]
  ports:
  - name: https
    number: 443
    protocol: HTTPS
    clientsideTls:
      mode: DISABLED
",
        bad: "DISABLED",
        field: "spec.ports[0].clientsideTls.mode",
        near: "DISABLE",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: VirtualDestination
metadata: {name: vd, namespace: web}
spec:
  hosts: [vd.web.internal]
  services: [{labels: {app: web}}]
  ports:
  - {number: 443, protocol: htps}
",
        bad: "htps",
        field: "spec.ports[0].protocol",
        near: "HTTPS",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: gw, namespace: web}
spec:
  listeners:
  - http: {}
    port: {number: 443}
    tls: {secretName: cert, mode: SIMPEL}
",
        bad: "SIMPEL",
        field: "spec.listeners[0].tls.mode",
        near: "SIMPLE",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: gw, namespace: web}
spec:
  listeners:
  - http: {}
    port: {number: 80}
    appProtocol: HTPP
",
        bad: "HTPP",
        field: "spec.listeners[0].appProtocol",
        near: "HTTP",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: gw, namespace: web}
spec:
  listeners:
  - http: {}
    port: {number: 443}
    tls:
      mode: SIMPLE
      secretName: cert
      parameters: {minimumProtocolVersion: TLSV1_2}
",
        bad: "TLSV1_2",
        field: "spec.listeners[0].tls.parameters.minimumProtocolVersion",
        near: "TLSv1_2",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: gw, namespace: web}
spec:
  listeners:
  - http: {}
    port: {number: 443}
    tls:
      mode: SIMPLE
      secretName: cert
      parameters: {maximumProtocolVersion: TLS1_3}
",
        bad: "TLS1_3",
        field: "spec.listeners[0].tls.parameters.maximumProtocolVersion",
        near: "TLSv1_3",
    },
    Case {
        yaml: "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: gw, namespace: web}
spec:
  workloads:
  - kind: VN
    selector: {labels: {istio: ingressgateway}}
  listeners:
  - http: {}
    port: {number: 80}
",
        bad: "VN",
        field: "spec.workloads[0].kind",
        near: "VM",
    },
    Case {
        yaml: "apiVersion: admin.gloo.solo.io/v2
kind: WorkspaceSettings
metadata: {name: web, namespace: web}
spec:
  exportTo:
  - workspaces: [{name: gateways}]
    resources:
    - kind: ROUTETABLE
",
        bad: "ROUTETABLE",
        field: "spec.exportTo[0].resources[0].kind",
        near: "ROUTE_TABLE",
    },
];

/// `file:line:col` of the first `value` written in `yaml`, 1-based.
fn position(file: &str, yaml: &str, value: &str) -> String {
    for (i, line) in yaml.lines().enumerate() {
        if let Some(col) = line.find(&format!(" {value}")) {
            return format!("{file}:{}:{}", i + 1, col + 2);
        }
    }
    panic!("{value} is not in the case's YAML");
}

#[test]
fn a_typo_in_any_enum_field_is_an_input_error_at_its_line_with_the_nearest_value() {
    for c in CASES {
        let repo = TempRepo::with([("web/obj.yaml", c.yaml)]);
        let at = format!("--> {}", position("web/obj.yaml", c.yaml, c.bad));
        let message = format!(
            "error[unknown-value]: unknown value `{}` for {}; did you mean `{}`?",
            c.bad, c.field, c.near
        );
        for cmd in ["render", "check"] {
            let run = meshform().arg(cmd).arg(repo.path()).run();
            run.input_error(&[&message, &at, &format!("field: {}", c.field)]);
            assert!(
                run.stderr.contains("= help: write one of `"),
                "{cmd}: the valid values are listed:\n{}",
                run.stderr
            );
        }
    }
}

#[test]
fn a_value_near_none_lists_the_valid_values_without_a_guess() {
    let repo = TempRepo::with([(
        "web/rt.yaml",
        "apiVersion: networking.gloo.solo.io/v2
kind: RouteTable
metadata: {name: rt, namespace: web}
spec:
  hosts: [web.example.com]
  http:
  - name: all
    delegate:
      routeTables: [{labels: {team: web}}]
      sortMethod: ALPHABETICAL
",
    )]);
    let run = meshform().arg("render").arg(repo.path()).run();
    run.input_error(&[
        "unknown value `ALPHABETICAL` for spec.http[0].delegate.sortMethod\n",
        "--> web/rt.yaml:10:19",
        "= help: write one of `TABLE_WEIGHT`, `ROUTE_SPECIFICITY`",
    ]);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
}

#[test]
fn a_number_for_an_enum_is_a_type_error_that_lists_the_values() {
    // Gloo's protos validate these fields as strings (`self.mode == 'SIMPLE'`): no numbers.
    let repo = TempRepo::with([(
        "web/gw.yaml",
        "apiVersion: networking.gloo.solo.io/v2
kind: VirtualGateway
metadata: {name: gw, namespace: web}
spec:
  listeners:
  - http: {}
    port: {number: 443}
    tls: {secretName: cert, mode: 1}
",
    )]);
    meshform().arg("render").arg(repo.path()).run().input_error(&[
        "spec.listeners[0].tls.mode: expected one of `PASSTHROUGH`, `SIMPLE`, `MUTUAL`, `AUTO_PASSTHROUGH`, `ISTIO_MUTUAL`, found `1`",
        "--> web/gw.yaml:8:35",
    ]);
}

/// Renders a copy of `fixture` with `from` replaced by `to` in `file`; returns stdout.
fn render_with(fixture: &str, file: &str, from: &str, to: &str) -> String {
    let repo = TempRepo::copy_of(&support::root().join(fixture));
    let path = repo.join(file);
    let text = std::fs::read_to_string(&path).expect("fixture file");
    assert!(text.contains(from), "{from} is not in {file}");
    repo.write(file, text.replace(from, to));
    meshform()
        .arg("render")
        .arg(repo.path())
        .run()
        .success()
        .to_string()
}

#[test]
fn case_variants_gloo_reads_render_as_the_upper_case_value() {
    // A VirtualDestination port's protocol and a listener's appProtocol are read in any case.
    let vd = "fixtures/features/virtual-destination";
    let upper = render_with(
        vd,
        "virtualdestination.yaml",
        "protocol: HTTP,",
        "protocol: HTTP,",
    );
    assert!(upper.contains("protocol: HTTP"), "{upper}");
    assert_eq!(
        render_with(
            vd,
            "virtualdestination.yaml",
            "protocol: HTTP,",
            "protocol: http,"
        ),
        upper
    );
    let vg = "fixtures/features/virtual-gateway";
    let inferred = render_with(
        vg,
        "gateway.yaml",
        "port: {number: 80}",
        "port: {number: 80}",
    );
    assert_eq!(
        render_with(
            vg,
            "gateway.yaml",
            "port: {number: 80}",
            "port: {number: 80}\n    appProtocol: http"
        ),
        inferred
    );
    // An empty appProtocol is the field unset, as proto3 reads a string: inferred.
    assert_eq!(
        render_with(
            vg,
            "gateway.yaml",
            "port: {number: 80}",
            "port: {number: 80}\n    appProtocol: ''"
        ),
        inferred
    );
}
