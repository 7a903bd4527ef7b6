//! Running cases: each request traced through one render ([`crate::trace::Tracer`], one per
//! cluster) and its outcome compared with what the case expects.

use super::format::{Case, Destination, Expect, Status};
use crate::diag::codes::RouteTest;
use crate::diag::Diagnostic;
use crate::istio::object::Rendered;
use crate::repo::Repo;
use crate::trace::{self, Outcome, Trace, TraceError, Tracer};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// One expectation a case's outcome does not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The expectation, as written in the file (`destination`, `route`, `status`).
    pub field: &'static str,
    /// What the case expects.
    pub expected: String,
    /// What the request gets.
    pub got: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, got {}",
            self.field, self.expected, self.got
        )
    }
}

/// A case run.
#[derive(Debug, Clone)]
pub struct Result<'a> {
    /// The case.
    pub case: &'a Case,
    /// The cluster it ran in.
    pub cluster: String,
    /// The trace of its request.
    pub trace: Trace,
    /// What it expects and does not get; empty when it passes.
    pub problems: Vec<Problem>,
}

impl Result<'_> {
    /// True when the outcome meets every expectation.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a run of cases found.
#[derive(Debug, Clone, Default)]
pub struct Run<'a> {
    /// The cases run, in file order.
    pub results: Vec<Result<'a>>,
    /// Cases of clusters not rendered (`--cluster`), not run.
    pub skipped: usize,
}

impl Run<'_> {
    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed()).count()
    }

    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.results.len() - self.failed()
    }

    /// Each failure as a finding at its case (code `route-test-failed`).
    pub fn findings(&self) -> Vec<Diagnostic> {
        self.results
            .iter()
            .filter(|r| !r.passed())
            .map(finding)
            .collect()
    }
}

/// The cluster a case runs in: its own, else the repo's only one. `Err` (an input error at the
/// case) when it names a cluster the repo does not have, or names none in a repo of several.
pub fn cluster_of(case: &Case, repo: &Repo) -> std::result::Result<String, Diagnostic> {
    match &case.cluster {
        Some(c) if repo.clusters.contains(c) => Ok(c.clone()),
        Some(c) => Err(Diagnostic::error(
            RouteTest::Invalid,
            format!(
                "case `{}` names cluster `{c}`, which is not this repo's (clusters: {})",
                case.name,
                repo.clusters.join(", ")
            ),
        )
        .at(case.at("cluster"))
        .help("name one of the repo's clusters in `cluster`, or in the file's `defaults`")),
        None if repo.clusters.len() == 1 => Ok(repo.clusters[0].clone()),
        None => Err(Diagnostic::error(
            RouteTest::Invalid,
            format!(
                "case `{}` names no cluster, and the repo has several ({})",
                case.name,
                repo.clusters.join(", ")
            ),
        )
        .at(case.location.clone())
        .help("set `cluster` on the case, or in the file's `defaults`")),
    }
}

/// Traces every case through `objects` (a render of `repo`, `Keep::Values`) and compares.
/// Cases of clusters outside `only` (when not empty) are skipped. A failing case's trace is
/// located (file:line of each Gloo route, [`Tracer::locate`]); with `locate_all`, every
/// case's (for reports that show each case's route). `Err` holds the input errors: a case in
/// no cluster of the repo, a gateway the cluster does not render.
pub fn run<'a>(
    cases: &'a [Case],
    objects: &[Rendered],
    repo: &Repo,
    only: &[String],
    locate_all: bool,
) -> std::result::Result<Run<'a>, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut by_cluster: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut skipped = 0;
    for (i, c) in cases.iter().enumerate() {
        match cluster_of(c, repo) {
            Ok(cl) if only.is_empty() || only.contains(&cl) => {
                by_cluster.entry(cl).or_default().push(i)
            }
            Ok(_) => skipped += 1,
            Err(d) => errors.push(d),
        }
    }
    let mut results: Vec<(usize, Result<'a>)> = Vec::with_capacity(cases.len());
    for (cluster, idx) in &by_cluster {
        let tracer = Tracer::new(objects, repo, cluster);
        #[allow(clippy::type_complexity)]
        let traced: Vec<(
            usize,
            std::result::Result<(Trace, Vec<Problem>), TraceError>,
        )> = idx
            .par_iter()
            .map(|&i| {
                let case = &cases[i];
                let traced = tracer
                    .trace(&case.request.parsed, &case.caller)
                    .map(|mut t| {
                        let problems = compare(&case.expect, &t);
                        if locate_all || !problems.is_empty() {
                            tracer.locate(&mut t);
                        }
                        (t, problems)
                    });
                (i, traced)
            })
            .collect();
        for (i, t) in traced {
            let case = &cases[i];
            match t {
                Ok((trace, problems)) => {
                    results.push((
                        i,
                        Result {
                            case,
                            cluster: cluster.clone(),
                            trace,
                            problems,
                        },
                    ));
                }
                Err(e) => errors.push(trace_error(case, &e)),
            }
        }
    }
    if !errors.is_empty() {
        crate::diag::normalize(&mut errors);
        return Err(errors);
    }
    results.sort_by_key(|(i, _)| *i);
    Ok(Run {
        results: results.into_iter().map(|(_, r)| r).collect(),
        skipped,
    })
}

/// A trace that cannot start, as an input error at the case's caller.
pub fn trace_error(case: &Case, e: &TraceError) -> Diagnostic {
    Diagnostic::error(RouteTest::Invalid, format!("case `{}`: {e}", case.name))
        .at(case.at("gateway"))
        .help("name a VirtualGateway (or Gateway) the case's cluster renders, as NAMESPACE/NAME")
}

/// The finding of a failed case: at the case, naming the request, the caller and each unmet
/// expectation, with the chosen route's place as a related location and the `meshform
/// trace` command that shows the whole trace.
pub fn finding(r: &Result<'_>) -> Diagnostic {
    let c = r.case;
    let problems: Vec<String> = r.problems.iter().map(|p| p.to_string()).collect();
    let mut d = Diagnostic::error(
        RouteTest::Failed,
        format!(
            "route test `{}` ({} from {} in {}): {}",
            c.name,
            c.request_label(),
            super::format::caller_label(&c.caller),
            r.cluster,
            problems.join("; ")
        ),
    )
    .at(c.location.clone())
    .help(format!(
        "see the whole trace: {}",
        trace_command(c, &r.cluster)
    ));
    if let Some(g) = r
        .trace
        .outcome
        .route
        .as_ref()
        .and_then(|rr| rr.gloo.as_ref())
    {
        d = d.related(
            g.location.clone(),
            format!(
                "the route taken: {} {}",
                g.table,
                g.route.as_deref().unwrap_or("(unnamed)")
            ),
        );
    }
    d
}

/// The `meshform trace` command that traces a case's request.
pub fn trace_command(c: &Case, cluster: &str) -> String {
    let mut s = format!("meshform trace {}", shell_word(&c.request.url));
    match &c.caller {
        trace::Caller::Gateway { namespace, name } => {
            s.push_str(&format!(" --gateway {namespace}/{name}"));
        }
        trace::Caller::Mesh { namespace, labels } => {
            s.push_str(&format!(" --from {}", shell_word(namespace)));
            for (k, v) in labels {
                s.push_str(&format!(
                    " --from-label {}",
                    shell_word(&format!("{k}={v}"))
                ));
            }
        }
    }
    if c.request.method != "GET" {
        s.push_str(&format!(" -X {}", c.request.method));
    }
    for (k, v) in &c.request.headers {
        s.push_str(&format!(" -H {}", shell_word(&format!("{k}: {v}"))));
    }
    if c.cluster.is_some() {
        s.push_str(&format!(" --cluster {}", shell_word(cluster)));
    }
    s
}

/// A word as a POSIX shell reads it back: bare when safe, else in single quotes.
fn shell_word(s: &str) -> String {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b);
    if !s.is_empty() && s.bytes().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The status of an outcome as test files write it.
pub fn status_of(o: &Outcome) -> Status {
    match o.status {
        trace::Status::Routed => Status::Routed,
        trace::Status::Redirect { .. } => Status::Redirect,
        trace::Status::DirectResponse { .. } => Status::DirectResponse,
        trace::Status::NoRoute => Status::NoRoute,
        trace::Status::NoHost => Status::NoHost,
    }
}

/// True when an expected host names the rendered one: the same, or its first labels
/// (`db-api` for `db-api.app.svc.cluster.local`).
pub fn host_matches(expected: &str, actual: &str) -> bool {
    let (e, a) = (expected.to_ascii_lowercase(), actual.to_ascii_lowercase());
    a == e || a.strip_prefix(&e).is_some_and(|rest| rest.starts_with('.'))
}

fn destination_matches(e: &Destination, a: &trace::Destination) -> bool {
    host_matches(&e.host, &a.host)
        && e.port.is_none_or(|p| a.port == Some(p))
        && e.subset
            .as_ref()
            .is_none_or(|s| a.subset.as_ref() == Some(s))
        && e.weight.is_none_or(|w| a.weight == w)
}

/// A destination as reports show it: `host:port/subset`, a Kubernetes Service's host as
/// `name.namespace`, with its weight when split.
pub fn destination_label(d: &trace::Destination, split: bool) -> String {
    let mut s = d
        .host
        .strip_suffix(".svc.cluster.local")
        .unwrap_or(&d.host)
        .to_string();
    if let Some(p) = d.port {
        s.push_str(&format!(":{p}"));
    }
    if let Some(sub) = &d.subset {
        s.push_str(&format!("/{sub}"));
    }
    if split {
        s.push_str(&format!(" {} %", d.weight));
    }
    s
}

/// The destinations of an outcome, as one phrase.
pub fn destinations_label(ds: &[trace::Destination]) -> String {
    if ds.is_empty() {
        return "no destination".into();
    }
    let split = ds.len() > 1;
    ds.iter()
        .map(|d| destination_label(d, split))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outcome's status in words: `routed`, `redirect 301 to https://…`, `direct response
/// 503`, `no route (404)`, `no host`.
pub fn status_label(s: &trace::Status) -> String {
    match s {
        trace::Status::Routed => "routed".into(),
        trace::Status::Redirect { code, location } => format!("redirect {code} to {location}"),
        trace::Status::DirectResponse { code } => format!("direct response {code}"),
        trace::Status::NoRoute => "no route (404)".into(),
        trace::Status::NoHost => "no host".into(),
    }
}

/// The Gloo route an outcome took, `namespace/table route`, else the VirtualService route.
pub fn route_label(o: &Outcome) -> Option<String> {
    let r = o.route.as_ref()?;
    Some(match &r.gloo {
        Some(g) => format!("{} {}", g.table, g.route.as_deref().unwrap_or("(unnamed)")),
        None => format!(
            "{} {}",
            r.virtual_service,
            r.name.as_deref().unwrap_or("(unnamed)")
        ),
    })
}

/// The path and host the destination receives, when the chosen route rewrites them (the
/// engine applies Istio's `rewrite`, docs/route-tests.md#rewrites).
pub fn rewritten(t: &Trace) -> (Option<String>, Option<String>) {
    match &t.chosen {
        Some(c) => (c.rewritten_path.clone(), c.rewritten_authority.clone()),
        None => (None, None),
    }
}

/// What `expect` asks and the trace does not give.
pub fn compare(expect: &Expect, t: &Trace) -> Vec<Problem> {
    let o = &t.outcome;
    let mut out = Vec::new();
    let want = expect.status();
    let got = status_of(o);
    if want != got {
        out.push(Problem {
            field: "status",
            expected: want.as_str().into(),
            got: match route_label(o) {
                Some(r) => format!("{} ({}, route {r})", got.as_str(), status_label(&o.status)),
                None => format!("{} ({})", got.as_str(), status_label(&o.status)),
            },
        });
        return out;
    }
    let route = o.route.as_ref();
    let gloo = route.and_then(|r| r.gloo.as_ref());
    let none = || "none".to_string();
    if let Some(e) = &expect.route_table {
        let a = gloo.map(|g| &g.table);
        if a != Some(e) {
            out.push(Problem {
                field: "routeTable",
                expected: e.to_string(),
                got: a.map_or_else(none, |a| a.to_string()),
            });
        }
    }
    if let Some(e) = &expect.route {
        let a = gloo.and_then(|g| g.route.as_ref());
        if a != Some(e) {
            out.push(Problem {
                field: "route",
                expected: format!("`{e}`"),
                got: match (a, gloo) {
                    (Some(a), Some(g)) => format!("`{a}` of {}", g.table),
                    (None, Some(g)) => format!("an unnamed route of {}", g.table),
                    _ => none(),
                },
            });
        }
    }
    if let Some(e) = &expect.virtual_service {
        let a = route.map(|r| &r.virtual_service);
        if a != Some(e) {
            out.push(Problem {
                field: "virtualService",
                expected: e.to_string(),
                got: a.map_or_else(none, |a| a.to_string()),
            });
        }
    }
    if let Some(e) = &expect.virtual_service_route {
        let a = route.and_then(|r| r.name.as_ref());
        if a != Some(e) {
            out.push(Problem {
                field: "virtualServiceRoute",
                expected: format!("`{e}`"),
                got: a.map_or_else(none, |a| format!("`{a}`")),
            });
        }
    }
    if let Some(es) = &expect.destinations {
        let mut free: Vec<bool> = vec![true; o.destinations.len()];
        let all = es.len() == o.destinations.len()
            && es.iter().all(|e| {
                let hit = o
                    .destinations
                    .iter()
                    .enumerate()
                    .position(|(i, a)| free[i] && destination_matches(e, a));
                if let Some(i) = hit {
                    free[i] = false;
                }
                hit.is_some()
            });
        if !all {
            let field = if expect.one_destination {
                "destination"
            } else {
                "destinations"
            };
            out.push(Problem {
                field,
                expected: es
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                got: destinations_label(&o.destinations),
            });
        }
    }
    if let Some(e) = &expect.rewrite {
        let (path, host) = rewritten(t);
        if let Some(p) = &e.path {
            let a = path.clone().unwrap_or_else(|| t.request.path.clone());
            if &a != p {
                out.push(Problem {
                    field: "rewrite.path",
                    expected: p.clone(),
                    got: match path {
                        Some(_) => a,
                        None => format!("{a} (not rewritten)"),
                    },
                });
            }
        }
        if let Some(h) = &e.host {
            if host.as_ref() != Some(h) {
                out.push(Problem {
                    field: "rewrite.host",
                    expected: h.clone(),
                    got: host.unwrap_or_else(|| format!("{} (not rewritten)", t.request.host)),
                });
            }
        }
    }
    if let (Some(e), trace::Status::Redirect { code, location }) = (&expect.redirect, &o.status) {
        if e.code.is_some_and(|c| c != *code) || e.location.as_ref().is_some_and(|l| l != location)
        {
            out.push(Problem {
                field: "redirect",
                expected: format!(
                    "{} to {}",
                    e.code.map_or("any code".into(), |c| c.to_string()),
                    e.location.as_deref().unwrap_or("any location")
                ),
                got: format!("{code} to {location}"),
            });
        }
    }
    if let (Some(e), trace::Status::DirectResponse { code }) = (&expect.direct_response, &o.status)
    {
        if e.status.is_some_and(|s| s != *code) {
            out.push(Problem {
                field: "directResponse",
                expected: e.status.map(|s| s.to_string()).unwrap_or_default(),
                got: code.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Destination as Dest;

    fn dest(host: &str, port: u32, subset: Option<&str>, weight: u32) -> Dest {
        Dest {
            host: host.into(),
            port: Some(port),
            subset: subset.map(String::from),
            weight,
        }
    }

    fn expected(host: &str, port: Option<u32>, weight: Option<u32>) -> Destination {
        Destination {
            host: host.into(),
            port,
            subset: None,
            weight,
        }
    }

    #[test]
    fn a_host_is_named_whole_or_by_its_first_labels() {
        assert!(host_matches("db-api", "db-api.app.svc.cluster.local"));
        assert!(host_matches("db-api.app", "db-api.app.svc.cluster.local"));
        assert!(host_matches(
            "DB-API.app.svc.cluster.local",
            "db-api.app.svc.cluster.local"
        ));
        assert!(!host_matches("db", "db-api.app.svc.cluster.local"));
        assert!(!host_matches("db-api.ap", "db-api.app.svc.cluster.local"));
    }

    #[test]
    fn destinations_match_in_any_order_each_once() {
        let actual = [
            dest("web.app.svc.cluster.local", 8080, None, 60),
            dest("api.app.svc.cluster.local", 8080, None, 20),
            dest("web.app.svc.cluster.local", 9090, None, 20),
        ];
        let e = |port, weight| expected("web", Some(port), Some(weight));
        assert!(destination_matches(&e(9090, 20), &actual[2]));
        assert!(!destination_matches(&e(9090, 60), &actual[2]));
        assert!(destination_matches(
            &expected("web", None, None),
            &actual[0]
        ));
        assert!(!destination_matches(
            &Destination {
                subset: Some("v1".into()),
                ..expected("web", None, None)
            },
            &actual[0]
        ));
        assert_eq!(
            destinations_label(&actual),
            "web.app:8080 60 %, api.app:8080 20 %, web.app:9090 20 %"
        );
        assert_eq!(
            destination_label(&dest("httpbin.org", 443, Some("v2"), 100), false),
            "httpbin.org:443/v2"
        );
    }

    #[test]
    fn statuses_and_routes_read_as_reports_write_them() {
        assert_eq!(
            status_label(&trace::Status::Redirect {
                code: 301,
                location: "http://a/b".into()
            }),
            "redirect 301 to http://a/b"
        );
        assert_eq!(status_label(&trace::Status::NoRoute), "no route (404)");
        let o = Outcome {
            status: trace::Status::NoHost,
            route: None,
            destinations: Vec::new(),
        };
        assert_eq!(status_of(&o), Status::NoHost);
        assert_eq!(route_label(&o), None);
    }

    #[test]
    fn trace_commands_quote_what_a_shell_would_split() {
        assert_eq!(
            shell_word("http://a.example.com/x?y=1"),
            "'http://a.example.com/x?y=1'"
        );
        assert_eq!(
            shell_word("http://a.example.com/x"),
            "http://a.example.com/x"
        );
        assert_eq!(shell_word("x-canary: true"), "'x-canary: true'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
