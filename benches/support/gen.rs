//! A seeded, deterministic generator of realistic Gloo Platform 2.x repos for benchmarks.
//!
//! Shared by `benches/*.rs` and `examples/genrepo.rs` (both include it with `#[path]`), so the
//! repos measured by `cargo bench` and by `benches/compare.sh` are byte-for-byte the same.
//!
//! Shape of a generated repo (no network, no clock, no HashMap order: same spec, same bytes):
//! - `meshform.yaml`: a management cluster `mgmt` (the default) and two workload clusters
//!   `cluster1` and `cluster2`, each with an ingress gateway.
//! - `mgmt/workspaces/`: one Workspace per team plus `gateways`; teams are labelled
//!   `allow_ingress: "true"`.
//! - `clusters/cluster1/istio-gateways/`: the `gateways` WorkspaceSettings and a VirtualGateway
//!   (ports 80 and 443).
//! - `clusters/<home>/team-NNNN/`: per team a WorkspaceSettings (import from the gateways and
//!   the previous team, export to the gateways and the next team), Services, ExternalServices
//!   (by hostname, by CIDR, backed by ExternalEndpoints, wildcard with an ExternalEndpoint) and
//!   RouteTables (gateway tables with 1–20 routes, delegation to child tables, east-west tables
//!   with weighted subsets and a cross-workspace destination), in multi-document files.
//! - `clusters/<home>/team-NNNN/policies-NNN.yaml`: about one policy per five HTTP routes, of
//!   the kinds meshform renders: RetryTimeoutPolicy (3 in 10), OutlierDetectionPolicy and
//!   ConnectionPolicy (2 in 10 each), LoadBalancerPolicy, FaultInjectionPolicy and MirrorPolicy
//!   (1 in 10 each). Route policies select one table's routes by its `route-group` label (fault
//!   injection also by the `chaos-test` label some routes carry); destination policies select a
//!   routed Service by its labels or an HTTP ExternalService by name. No two policies of one
//!   kind select the same route or destination port, so the repo renders with no finding.
//! - `kustomization.yaml` listing every resource file, so `kubectl kustomize` reads the same
//!   input (meshform itself ignores kustomization files).
//!
//! "Objects" counts Gloo objects only (`*.gloo.solo.io`); the Kubernetes Services that
//! SERVICE destinations need come on top and are counted separately.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Number of Gloo objects.
    pub objects: usize,
    /// RNG seed.
    pub seed: u64,
    /// Number of source objects (ExternalServices, RouteTables and one policy in four)
    /// changed from the base.
    /// 0 is the base revision.
    pub changes: usize,
}

impl Spec {
    /// A base revision of `objects` Gloo objects with the default seed.
    pub fn new(objects: usize) -> Spec {
        Spec {
            objects,
            seed: 42,
            changes: 0,
        }
    }
}

/// Counts of what was generated.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Gloo objects per kind.
    pub kinds: BTreeMap<&'static str, usize>,
    /// Kubernetes Services (not Gloo objects).
    pub services: usize,
    /// HTTP routes over all RouteTables.
    pub routes: usize,
    /// Teams (workspaces besides `gateways`).
    pub teams: usize,
    /// Files written (YAML and the kustomization).
    pub files: usize,
    /// Total bytes.
    pub bytes: usize,
    /// Source objects changed from the base revision.
    pub changed: usize,
}

impl Stats {
    /// Gloo objects in total.
    pub fn gloo(&self) -> usize {
        self.kinds.values().sum()
    }
}

/// A generated repo: repo-relative path → contents, sorted by path.
#[derive(Debug, Clone, Default)]
pub struct GenRepo {
    /// Files.
    pub files: BTreeMap<String, String>,
    /// Counts.
    pub stats: Stats,
}

/// splitmix64: small, fast, and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

const GW_NS: &str = "istio-gateways";
pub const VG_NAME: &str = "north-south-gw";

fn team_ns(t: usize) -> String {
    format!("team-{t:04}")
}

fn home_cluster(t: usize) -> &'static str {
    if t.is_multiple_of(2) {
        "cluster1"
    } else {
        "cluster2"
    }
}

fn other_cluster(t: usize) -> &'static str {
    if t.is_multiple_of(2) {
        "cluster2"
    } else {
        "cluster1"
    }
}

/// Kinds of ExternalService, in a fixed cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EsKind {
    /// `hosts` with HTTP and HTTPS (clientsideTls) ports.
    Host,
    /// `hosts`, HTTP only, shared with the next team.
    SharedHost,
    /// `addresses` (CIDRs), TCP.
    Cidr,
    /// An internal hostname backed by 2–3 ExternalEndpoints.
    Endpoints,
    /// A wildcard host backed by one ExternalEndpoint.
    Wildcard,
}

const ES_CYCLE: [EsKind; 5] = [
    EsKind::Host,
    EsKind::SharedHost,
    EsKind::Cidr,
    EsKind::Endpoints,
    EsKind::Wildcard,
];

#[derive(Debug, Clone)]
struct Es {
    name: String,
    kind: EsKind,
    endpoints: usize,
    host: String,
}

impl Es {
    /// True when a gateway or mesh route may forward to it on port 80.
    fn http(&self) -> bool {
        matches!(
            self.kind,
            EsKind::Host | EsKind::SharedHost | EsKind::Endpoints
        )
    }
}

/// A team's plan, made before any YAML is written so other teams can refer to it.
#[derive(Debug, Clone, Default)]
struct Team {
    es: Vec<Es>,
    /// Objects left for RouteTables and policies.
    rt_budget: usize,
    services: usize,
}

/// What a team's RouteTables hold, for its policies to select.
#[derive(Debug, Default)]
struct Seen {
    /// Table names (each table's `route-group` label), in order.
    tables: Vec<String>,
    /// Tables with at least one `chaos-test` route, in order.
    chaos: Vec<String>,
    /// Services an HTTP route sends to.
    services: BTreeSet<usize>,
}

/// Kinds of generated policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicyKind {
    Retry,
    Fault,
    Mirror,
    Outlier,
    Balancer,
    Connection,
}

/// The kind of policy `i` of a team: three in ten retries and timeouts, two in ten outlier
/// detection and connection pools each, one in ten load balancing, fault injection and mirroring.
const POLICY_CYCLE: [PolicyKind; 10] = [
    PolicyKind::Retry,
    PolicyKind::Outlier,
    PolicyKind::Connection,
    PolicyKind::Retry,
    PolicyKind::Balancer,
    PolicyKind::Outlier,
    PolicyKind::Fault,
    PolicyKind::Retry,
    PolicyKind::Connection,
    PolicyKind::Mirror,
];

/// A destination a destination policy selects.
#[derive(Debug, Clone)]
enum Dest {
    /// `svc-N` of the team, by its labels and namespace.
    Service(usize),
    /// An HTTP ExternalService of the team, by name.
    External(String),
}

/// The targets left for each kind of policy, so no two policies of one kind select the same
/// route or destination port.
struct Targets {
    tables: Vec<String>,
    chaos: Vec<String>,
    dests: Vec<Dest>,
    services: usize,
    /// Next unused target per kind, indexed like `PolicyKind as usize`.
    next: [usize; 6],
}

impl Targets {
    fn new(plan: &Team, seen: &Seen) -> Targets {
        let mut dests: Vec<Dest> = seen.services.iter().map(|&s| Dest::Service(s)).collect();
        dests.extend(
            plan.es
                .iter()
                .filter(|e| e.http())
                .map(|e| Dest::External(e.name.clone())),
        );
        Targets {
            tables: seen.tables.clone(),
            chaos: seen.chaos.clone(),
            dests,
            services: plan.services,
            next: [0; 6],
        }
    }

    fn len(&self, kind: PolicyKind) -> usize {
        match kind {
            PolicyKind::Retry | PolicyKind::Mirror => self.tables.len(),
            PolicyKind::Fault => self.chaos.len(),
            _ => self.dests.len(),
        }
    }

    /// The next unused target's index for `kind`, if any.
    fn take(&mut self, kind: PolicyKind) -> Option<usize> {
        let k = kind as usize;
        let i = self.next[k];
        if i < self.len(kind) {
            self.next[k] += 1;
            Some(i)
        } else {
            None
        }
    }
}

struct Out {
    files: BTreeMap<String, String>,
    stats: Stats,
}

impl Out {
    fn count(&mut self, kind: &'static str) {
        *self.stats.kinds.entry(kind).or_default() += 1;
    }
}

/// A multi-document file being filled, split every `per_file` documents.
struct Chunked {
    dir: String,
    stem: &'static str,
    per_file: usize,
    docs: usize,
    index: usize,
    text: String,
}

impl Chunked {
    fn new(dir: &str, stem: &'static str, per_file: usize) -> Chunked {
        Chunked {
            dir: dir.to_string(),
            stem,
            per_file,
            docs: 0,
            index: 0,
            text: String::new(),
        }
    }
    fn push(&mut self, out: &mut Out, doc: &str) {
        if self.docs == self.per_file {
            self.flush(out);
        }
        if self.docs == 0 {
            let _ = writeln!(
                self.text,
                "# Generated by meshform's benchmark generator (benches/support/gen.rs)."
            );
        }
        self.text.push_str("---\n");
        self.text.push_str(doc);
        self.docs += 1;
    }
    fn flush(&mut self, out: &mut Out) {
        if self.docs > 0 {
            let path = format!("{}/{}-{:03}.yaml", self.dir, self.stem, self.index);
            out.files.insert(path, std::mem::take(&mut self.text));
            self.index += 1;
            self.docs = 0;
        }
    }
}

/// Generates the repo of `spec`. The same spec always gives the same bytes.
pub fn generate(spec: &Spec) -> GenRepo {
    // First pass: how many changeable objects there are; then pick `changes` of them evenly.
    let mut changed = BTreeSet::new();
    if spec.changes > 0 {
        let (_, changeable) = build(spec, &BTreeSet::new());
        let n = spec.changes.min(changeable);
        for i in 0..n {
            changed.insert(i * changeable / n + (changeable / n) / 2);
        }
    }
    build(spec, &changed).0
}

fn build(spec: &Spec, changed: &BTreeSet<usize>) -> (GenRepo, usize) {
    let mut rng = Rng::new(spec.seed);
    let mut out = Out {
        files: BTreeMap::new(),
        stats: Stats::default(),
    };
    let total = spec.objects.max(20);
    let teams = (total / 250).max(3);
    out.stats.teams = teams;
    // gateways: Workspace, WorkspaceSettings, VirtualGateway.
    let per_team_total = total - 3;
    let plans: Vec<Team> = (0..teams)
        .map(|t| {
            let budget = per_team_total / teams + usize::from(t < per_team_total % teams);
            plan_team(t, budget - 2, &mut rng)
        })
        .collect();
    let mut changeable = 0usize;
    let is_changed = |c: &mut usize| {
        let hit = changed.contains(c);
        *c += 1;
        hit
    };

    config(&mut out);
    gateways(&mut out, teams);
    let mut ws = Chunked::new("mgmt/workspaces", "workspaces", 50);
    ws.push(&mut out, &workspace_gateways());
    out.count("Workspace");
    for t in 0..teams {
        ws.push(&mut out, &workspace_team(t));
        out.count("Workspace");
    }
    ws.flush(&mut out);

    for (t, plan) in plans.iter().enumerate() {
        let ns = team_ns(t);
        let dir = format!("clusters/{}/{ns}", home_cluster(t));
        let prev = &plans[(t + teams - 1) % teams];
        let prev_t = (t + teams - 1) % teams;
        // WorkspaceSettings and Services.
        let mut base = String::new();
        base.push_str("# Workspace settings and the Services routes forward to.\n---\n");
        base.push_str(&workspace_settings(t, teams));
        out.count("WorkspaceSettings");
        for s in 0..plan.services {
            base.push_str("---\n");
            base.push_str(&service(t, s));
            out.stats.services += 1;
        }
        out.files.insert(format!("{dir}/workspace.yaml"), base);

        // ExternalServices with their ExternalEndpoints next to them.
        let mut esf = Chunked::new(&dir, "external-services", 24);
        for (i, es) in plan.es.iter().enumerate() {
            let ch = is_changed(&mut changeable);
            esf.push(&mut out, &external_service(t, i, es, ch));
            out.count("ExternalService");
            out.stats.changed += usize::from(ch);
            for e in 0..es.endpoints {
                esf.push(&mut out, &external_endpoint(t, i, es, e));
                out.count("ExternalEndpoint");
            }
        }
        esf.flush(&mut out);

        // RouteTables, while the budget left exceeds one policy per five routes; the rest
        // goes to policies.
        let mut rtf = Chunked::new(&dir, "route-tables", 12);
        let mut left = plan.rt_budget;
        let mut n = 0usize;
        let mut seen = Seen::default();
        let mut team_routes = 0usize;
        while left > team_routes / 5 {
            let kind = rng.below(10);
            if kind < 6 || left < 2 {
                // A gateway table, delegating to 0–2 children when the budget allows.
                let children = if left >= 3 && rng.chance(0.4) {
                    1 + rng.below(2.min(left - 1))
                } else {
                    0
                };
                let ch = is_changed(&mut changeable);
                let (doc, routes) = gateway_table(t, n, plan, children, ch, &mut seen, &mut rng);
                rtf.push(&mut out, &doc);
                out.count("RouteTable");
                team_routes += routes;
                out.stats.changed += usize::from(ch);
                for c in 0..children {
                    let (doc, routes) = child_table(t, n, c, plan, &mut seen, &mut rng);
                    rtf.push(&mut out, &doc);
                    out.count("RouteTable");
                    team_routes += routes;
                }
                left -= 1 + children;
            } else {
                let ch = is_changed(&mut changeable);
                let (doc, routes) = mesh_table(t, n, plan, prev_t, prev, ch, &mut seen, &mut rng);
                rtf.push(&mut out, &doc);
                out.count("RouteTable");
                team_routes += routes;
                out.stats.changed += usize::from(ch);
                left -= 1;
            }
            n += 1;
        }
        out.stats.routes += team_routes;
        rtf.flush(&mut out);

        // Policies: what is left of the budget.
        let mut pf = Chunked::new(&dir, "policies", 24);
        let mut targets = Targets::new(plan, &seen);
        for i in 0..left {
            // One policy in four may change, so a diff changes a few policies.
            let ch = i % 4 == 1 && is_changed(&mut changeable);
            let (kind, doc) = policy(t, i, &mut targets, ch);
            pf.push(&mut out, &doc);
            out.count(kind);
            out.stats.changed += usize::from(ch);
        }
        pf.flush(&mut out);
    }

    // kustomization.yaml over every resource file, for `kubectl kustomize`.
    let mut k = String::from(
        "# For the kubectl kustomize comparison (benches/compare.sh); meshform ignores it.\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for p in out.files.keys() {
        if p != "meshform.yaml" {
            let _ = writeln!(k, "- {p}");
        }
    }
    out.files.insert("kustomization.yaml".into(), k);
    out.stats.files = out.files.len();
    out.stats.bytes = out.files.values().map(String::len).sum();
    (
        GenRepo {
            files: out.files,
            stats: out.stats,
        },
        changeable,
    )
}

fn plan_team(t: usize, budget: usize, rng: &mut Rng) -> Team {
    // About 30% ExternalServices, 18% ExternalEndpoints, the rest RouteTables and policies.
    let mut es = Vec::new();
    let mut used = 0usize;
    let es_target = budget * 48 / 100;
    let mut i = 0usize;
    while used < es_target {
        let kind = ES_CYCLE[i % ES_CYCLE.len()];
        let endpoints = match kind {
            EsKind::Endpoints => 2 + rng.below(2),
            EsKind::Wildcard => 1,
            _ => 0,
        };
        if used + 1 + endpoints > es_target {
            if used + 1 > es_target {
                break;
            }
            // Fill the last slot with a plain hostname service.
            es.push(Es {
                name: format!("es-{t:04}-{i:04}"),
                kind: EsKind::Host,
                endpoints: 0,
                host: format!("api-{i}.ext-{t}.example.com"),
            });
            used += 1;
            break;
        }
        let name = format!("es-{t:04}-{i:04}");
        let host = match kind {
            EsKind::Host => format!("api-{i}.ext-{t}.example.com"),
            EsKind::SharedHost => format!("shared-{i}.ext-{t}.example.com"),
            EsKind::Cidr => String::new(),
            EsKind::Endpoints => format!("db-{i}.team-{t}.internal.example"),
            EsKind::Wildcard => format!("*.wild-{i}.team-{t}.example.org"),
        };
        es.push(Es {
            name,
            kind,
            endpoints,
            host,
        });
        used += 1 + endpoints;
        i += 1;
    }
    Team {
        es,
        rt_budget: budget - used,
        services: 2 + t % 3,
    }
}

fn config(out: &mut Out) {
    let mut s = String::from(
        "# meshform repo config: a management cluster and two workload clusters.\n\
         apiVersion: meshform.dev/v1alpha1\nkind: Config\ndefaultCluster: mgmt\nclusters:\n\
         - name: mgmt\n  paths: [\"mgmt/**\"]\n  labels: {role: management}\n",
    );
    for (c, region) in [("cluster1", "eu-west"), ("cluster2", "us-east")] {
        let _ = write!(
            s,
            "- name: {c}\n  paths: [\"clusters/{c}/**\"]\n  labels: {{region: {region}, role: workload}}\n  \
             gateways:\n  - name: istio-ingressgateway\n    namespace: {GW_NS}\n    \
             selector: {{istio: ingressgateway}}\n    \
             podLabels: {{app: istio-ingressgateway, istio: ingressgateway}}\n    \
             ports: [{{name: http2, port: 80, targetPort: 8080}}, {{name: https, port: 443, targetPort: 8443}}]\n"
        );
    }
    // The default run budget of the policies (100 × policyCost) is exceeded from about 10,000
    // objects on, and 100 × 1e8 from about 70,000 (docs/performance.md); raised so that large
    // repos are measured at all.
    s.push_str("limits:\n  policyCost: 1000000000\n  policyTimeMs: 600000\n");
    out.files.insert("meshform.yaml".into(), s);
}

fn workspace_gateways() -> String {
    format!(
        "apiVersion: admin.gloo.solo.io/v2\nkind: Workspace\nmetadata:\n  name: gateways\n  \
         namespace: gloo-mesh\nspec:\n  workloadClusters:\n  - name: cluster1\n    namespaces:\n    \
         - name: {GW_NS}\n  - name: cluster2\n    namespaces:\n    - name: {GW_NS}\n"
    )
}

fn workspace_team(t: usize) -> String {
    let ns = team_ns(t);
    let mut s = format!(
        "apiVersion: admin.gloo.solo.io/v2\nkind: Workspace\nmetadata:\n  name: {ns}\n  \
         namespace: gloo-mesh\n  labels:\n    allow_ingress: \"true\"\n    tier: \"{}\"\n\
         spec:\n  workloadClusters:\n  - name: {}\n    namespaces:\n    - name: {ns}\n",
        t % 4,
        home_cluster(t)
    );
    if t.is_multiple_of(3) {
        // Every third team also runs in the other workload cluster.
        let _ = write!(
            s,
            "  - name: {}\n    namespaces:\n    - name: {ns}\n",
            other_cluster(t)
        );
    }
    s
}

fn gateways(out: &mut Out, teams: usize) {
    let _ = teams;
    let settings = format!(
        "apiVersion: admin.gloo.solo.io/v2\nkind: WorkspaceSettings\nmetadata:\n  name: gateways\n  \
         namespace: {GW_NS}\nspec:\n  importFrom:\n  - workspaces:\n    - selector:\n        \
         allow_ingress: \"true\"\n    resources:\n    - kind: SERVICE\n    - kind: ALL\n      \
         labels:\n        expose: \"true\"\n  exportTo:\n  - workspaces:\n    - selector:\n        \
         allow_ingress: \"true\"\n    resources:\n    - kind: SERVICE\n"
    );
    let vg = format!(
        "apiVersion: networking.gloo.solo.io/v2\nkind: VirtualGateway\nmetadata:\n  name: {VG_NAME}\n  \
         namespace: {GW_NS}\nspec:\n  workloads:\n  - selector:\n      labels:\n        \
         istio: ingressgateway\n  listeners:\n  - http: {{}}\n    port:\n      number: 80\n    \
         allowedRouteTables:\n    - host: '*.example.com'\n  - http: {{}}\n    port:\n      \
         number: 443\n    tls:\n      mode: SIMPLE\n      secretName: wildcard-example-com\n    \
         allowedRouteTables:\n    - host: '*.example.com'\n"
    );
    out.count("WorkspaceSettings");
    out.count("VirtualGateway");
    out.files.insert(
        format!("clusters/cluster1/{GW_NS}/gateway.yaml"),
        format!("# The ingress gateway and its workspace.\n---\n{settings}---\n{vg}"),
    );
}

fn workspace_settings(t: usize, teams: usize) -> String {
    let ns = team_ns(t);
    let prev = team_ns((t + teams - 1) % teams);
    let next = team_ns((t + 1) % teams);
    format!(
        "apiVersion: admin.gloo.solo.io/v2\nkind: WorkspaceSettings\nmetadata:\n  name: {ns}\n  \
         namespace: {ns}\nspec:\n  importFrom:\n  - workspaces:\n    - name: gateways\n    \
         resources:\n    - kind: SERVICE\n  - workspaces:\n    - name: {prev}\n    resources:\n    \
         - kind: EXTERNAL_SERVICE\n      labels:\n        shared: \"true\"\n  exportTo:\n  \
         - workspaces:\n    - name: gateways\n    resources:\n    - kind: SERVICE\n    \
         - kind: ALL\n      labels:\n        expose: \"true\"\n  - workspaces:\n    \
         - name: {next}\n    resources:\n    - kind: EXTERNAL_SERVICE\n      labels:\n        \
         shared: \"true\"\n"
    )
}

fn service(t: usize, s: usize) -> String {
    let ns = team_ns(t);
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{s}\n  namespace: {ns}\n  labels:\n    \
         app: svc-{s}\nspec:\n  selector:\n    app: svc-{s}\n  ports:\n  - name: http\n    port: 8080\n    \
         targetPort: 8080\n    protocol: TCP\n"
    )
}

fn external_service(t: usize, i: usize, es: &Es, changed: bool) -> String {
    let ns = team_ns(t);
    let mut s = format!(
        "apiVersion: networking.gloo.solo.io/v2\nkind: ExternalService\nmetadata:\n  name: {}\n  \
         namespace: {ns}\n  labels:\n    team: {ns}\n",
        es.name
    );
    match es.kind {
        EsKind::Host | EsKind::Endpoints => s.push_str("    expose: \"true\"\n"),
        EsKind::SharedHost => s.push_str("    expose: \"true\"\n    shared: \"true\"\n"),
        _ => {}
    }
    s.push_str("spec:\n");
    match es.kind {
        EsKind::Host => {
            let _ = write!(
                s,
                "  hosts:\n  - {}\n  ports:\n  - name: http\n    number: 80\n    protocol: HTTP\n  \
                 - name: https\n    number: 443\n    protocol: HTTPS\n    clientsideTls: {{}}\n",
                es.host
            );
        }
        EsKind::SharedHost => {
            let _ = write!(
                s,
                "  hosts:\n  - {}\n  ports:\n  - name: http\n    number: 80\n    protocol: HTTP\n",
                es.host
            );
        }
        EsKind::Cidr => {
            let _ = write!(
                s,
                "  addresses:\n  - 10.{}.{}.0/24\n  - 172.{}.{}.{}/32\n  ports:\n  - name: postgres\n    \
                 number: 5432\n    protocol: TCP\n",
                t % 250,
                i % 250,
                16 + (i / 250) % 16,
                t % 250,
                1 + i % 250
            );
        }
        EsKind::Endpoints => {
            let _ = write!(
                s,
                "  hosts:\n  - {}\n  selector:\n    external-service: {}\n  ports:\n  - name: http\n    \
                 number: 80\n    protocol: HTTP\n    targetPort:\n      name: http\n",
                es.host, es.name
            );
        }
        EsKind::Wildcard => {
            let _ = write!(
                s,
                "  hosts:\n  - '{}'\n  selector:\n    external-service: {}\n  ports:\n  - name: https\n    \
                 number: 443\n    protocol: TLS\n",
                es.host, es.name
            );
        }
    }
    if changed {
        s.push_str("  - name: metrics\n    number: 9090\n    protocol: HTTP\n");
    }
    s
}

fn external_endpoint(t: usize, i: usize, es: &Es, e: usize) -> String {
    let ns = team_ns(t);
    let zones = ["a", "b", "c"];
    let (region, port) = match es.kind {
        EsKind::Wildcard => ("eu-west-1", "  - name: https\n    number: 443\n"),
        _ => ("us-east-1", "  - name: http\n    number: 8080\n"),
    };
    format!(
        "apiVersion: networking.gloo.solo.io/v2\nkind: ExternalEndpoint\nmetadata:\n  name: {}-ep{e}\n  \
         namespace: {ns}\n  labels:\n    external-service: {}\nspec:\n  address: 198.{}.{}.{}\n  \
         ports:\n{port}  locality:\n    region: {region}\n    zone: {region}{}\n",
        es.name,
        es.name,
        18 + (t / 250) % 2,
        t % 250,
        (i * 3 + e) % 250 + 1,
        zones[e % 3]
    )
}

/// One HTTP route, written as YAML list item at the `http:` indentation.
fn route_action(
    s: &mut String,
    t: usize,
    plan: &Team,
    ingress: bool,
    r: usize,
    seen: &mut Seen,
    rng: &mut Rng,
) -> bool {
    let ns = team_ns(t);
    let http: Vec<&Es> = plan.es.iter().filter(|e| e.http()).collect();
    let roll = rng.below(100);
    let forwards = roll < 82;
    if roll < 40 && !http.is_empty() {
        // To an ExternalService, rewriting the prefix.
        let es = http[rng.below(http.len())];
        let _ = write!(
            s,
            "    forwardTo:\n      pathRewrite: /\n      destinations:\n      - kind: EXTERNAL_SERVICE\n        \
             ref:\n          name: {}\n          namespace: {ns}\n          cluster: {}\n        \
             port:\n          number: 80\n",
            es.name,
            home_cluster(t)
        );
        if ingress && rng.chance(0.3) {
            let _ = writeln!(s, "      hostRewrite: {}", es.host.trim_start_matches("*."));
        }
    } else if roll < 70 {
        // Weighted split over two Services.
        let a = rng.below(plan.services);
        let b = (a + 1) % plan.services;
        seen.services.insert(a);
        seen.services.insert(b);
        let w = [90, 80, 70, 50][rng.below(4)];
        let _ = write!(
            s,
            "    forwardTo:\n      destinations:\n      - ref:\n          name: svc-{a}\n          \
             namespace: {ns}\n          cluster: {c}\n        port:\n          number: 8080\n        \
             weight: {w}\n      - ref:\n          name: svc-{b}\n          namespace: {ns}\n          \
             cluster: {c}\n        port:\n          number: 8080\n        weight: {}\n",
            100 - w,
            c = home_cluster(t)
        );
    } else if roll < 82 {
        seen.services.insert(0);
        let _ = write!(
            s,
            "    forwardTo:\n      regexRewrite:\n        pattern:\n          regex: ^/r{r}/v[0-9]+/(.*)$\n        \
             substitution: /\\1\n      destinations:\n      - ref:\n          name: svc-0\n          \
             namespace: {ns}\n          cluster: {}\n        port:\n          number: 8080\n",
            home_cluster(t)
        );
    } else if roll < 92 {
        let _ = write!(
            s,
            "    redirect:\n      hostRedirect: www-{t}.example.com\n      pathRedirect: /moved/{r}\n      \
             responseCode: PERMANENT_REDIRECT\n"
        );
    } else {
        let _ = write!(
            s,
            "    directResponse:\n      status: 503\n      body: '{{\"error\": \"route r{r} is under maintenance\"}}'\n"
        );
    }
    forwards
}

/// After a forwarding route's action: a `chaos-test` label on about one in eight, which
/// fault injection policies select.
fn chaos_label(s: &mut String, table: &str, forwards: bool, seen: &mut Seen, rng: &mut Rng) {
    if forwards && rng.chance(0.125) {
        s.push_str("    labels:\n      chaos-test: \"true\"\n");
        if seen.chaos.last().map(String::as_str) != Some(table) {
            seen.chaos.push(table.to_string());
        }
    }
}

/// A route's matcher list: a unique prefix per host, sometimes with headers, query or method.
fn matchers(s: &mut String, prefix: &str, changed: bool, rng: &mut Rng) {
    let _ = write!(s, "    matchers:\n    - uri:\n        prefix: {prefix}\n");
    let debug = rng.chance(0.15);
    if debug || changed {
        s.push_str("      headers:\n");
    }
    if debug {
        s.push_str("      - name: x-debug\n        invertMatch: true\n");
    }
    if changed {
        s.push_str("      - name: x-canary\n        value: \"true\"\n");
    }
    if rng.chance(0.1) {
        s.push_str("      queryParameters:\n      - name: version\n        value: v[12]\n        regex: true\n");
    }
    if rng.chance(0.1) {
        s.push_str("      method: GET\n");
    }
}

fn route_count(rng: &mut Rng) -> usize {
    // 1–20 routes, most tables small.
    let u = rng.unit();
    1 + ((u * u) * 20.0) as usize
}

fn gateway_table(
    t: usize,
    n: usize,
    plan: &Team,
    children: usize,
    changed: bool,
    seen: &mut Seen,
    rng: &mut Rng,
) -> (String, usize) {
    let ns = team_ns(t);
    let name = format!("gw-{n:04}");
    let mut s = format!(
        "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata:\n  name: {name}\n  \
         namespace: {ns}\n  labels:\n    expose: \"true\"\n    route-group: {name}\n    team: {ns}\nspec:\n  hosts:\n  \
         - app-{n}.{ns}.example.com\n  virtualGateways:\n  - name: {VG_NAME}\n    namespace: {GW_NS}\n    \
         cluster: cluster1\n  workloadSelectors: []\n"
    );
    if n.is_multiple_of(7) {
        let _ = write!(
            s,
            "  virtualServiceAnnotations:\n    owner.example.com/team: {ns}\n"
        );
    }
    s.push_str("  http:\n");
    let routes = route_count(rng);
    for r in 0..routes {
        let _ = writeln!(s, "  - name: r{r}");
        matchers(&mut s, &format!("/r{r}/"), changed && r == 0, rng);
        let forwards = route_action(&mut s, t, plan, true, r, seen, rng);
        chaos_label(&mut s, &name, forwards, seen, rng);
    }
    for c in 0..children {
        let _ = write!(
            s,
            "  - name: delegate-{c}\n    matchers:\n    - uri:\n        prefix: /d{c}/\n    delegate:\n      \
             sortMethod: {}\n      routeTables:\n      - labels:\n          delegate-of: {name}-{c}\n        \
             namespace: {ns}\n",
            if c == 0 {
                "TABLE_WEIGHT"
            } else {
                "ROUTE_SPECIFICITY"
            }
        );
    }
    // Route policies select tables with a forwarding route, so that each selects one.
    if s.contains("    forwardTo:") {
        seen.tables.push(name.clone());
    }
    (s, routes + children)
}

fn child_table(
    t: usize,
    n: usize,
    c: usize,
    plan: &Team,
    seen: &mut Seen,
    rng: &mut Rng,
) -> (String, usize) {
    let ns = team_ns(t);
    let name = format!("gw-{n:04}-child-{c}");
    let mut s = format!(
        "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata:\n  name: {name}\n  \
         namespace: {ns}\n  labels:\n    delegate-of: gw-{n:04}-{c}\n    expose: \"true\"\n    \
         route-group: {name}\n    team: {ns}\nspec:\n  weight: {}\n  http:\n",
        10 * (c + 1)
    );
    let routes = route_count(rng);
    for r in 0..routes {
        let _ = writeln!(s, "  - name: c{r}");
        matchers(&mut s, &format!("/d{c}/c{r}/"), false, rng);
        let forwards = route_action(&mut s, t, plan, true, r, seen, rng);
        chaos_label(&mut s, &name, forwards, seen, rng);
    }
    // Route policies select tables with a forwarding route, so that each selects one.
    if s.contains("    forwardTo:") {
        seen.tables.push(name.clone());
    }
    (s, routes)
}

#[allow(clippy::too_many_arguments)]
fn mesh_table(
    t: usize,
    n: usize,
    plan: &Team,
    prev_t: usize,
    prev: &Team,
    changed: bool,
    seen: &mut Seen,
    rng: &mut Rng,
) -> (String, usize) {
    let ns = team_ns(t);
    let svc = rng.below(plan.services);
    let c = home_cluster(t);
    let name = format!("mesh-{n:04}");
    let mut s = format!(
        "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata:\n  name: {name}\n  \
         namespace: {ns}\n  labels:\n    route-group: {name}\n    team: {ns}\nspec:\n  hosts:\n  - mesh-{n}.{ns}.internal.example\n  \
         workloadSelectors:\n  - selector:\n      labels:\n        app: client-{}\n  http:\n",
        n % 5
    );
    let routes = route_count(rng);
    for r in 0..routes {
        let _ = writeln!(s, "  - name: m{r}");
        matchers(&mut s, &format!("/m{r}/"), changed && r == 0, rng);
        let shared: Vec<&Es> = prev
            .es
            .iter()
            .filter(|e| e.kind == EsKind::SharedHost)
            .collect();
        if r == 0 && !shared.is_empty() && prev_t != t {
            // Across workspaces: the previous team exports it, this team imports it.
            let es = shared[rng.below(shared.len())];
            let _ = write!(
                s,
                "    forwardTo:\n      destinations:\n      - kind: EXTERNAL_SERVICE\n        ref:\n          \
                 name: {}\n          namespace: {}\n          cluster: {}\n        port:\n          number: 80\n",
                es.name,
                team_ns(prev_t),
                home_cluster(prev_t)
            );
        } else if r % 3 == 1 {
            // Canary by subset.
            seen.services.insert(svc);
            let w = [90, 95, 99][rng.below(3)];
            let _ = write!(
                s,
                "    forwardTo:\n      destinations:\n      - ref:\n          name: svc-{svc}\n          \
                 namespace: {ns}\n          cluster: {c}\n        port:\n          number: 8080\n        \
                 subset:\n          version: v1\n        weight: {w}\n      - ref:\n          name: svc-{svc}\n          \
                 namespace: {ns}\n          cluster: {c}\n        port:\n          number: 8080\n        \
                 subset:\n          version: v2\n        weight: {}\n",
                100 - w
            );
        } else {
            let forwards = route_action(&mut s, t, plan, false, r, seen, rng);
            chaos_label(&mut s, &name, forwards, seen, rng);
        }
    }
    // Route policies select tables with a forwarding route, so that each selects one.
    if s.contains("    forwardTo:") {
        seen.tables.push(name.clone());
    }
    (s, routes)
}

/// Policy `i` of team `t`: the first kind in `POLICY_CYCLE` from `i` on that has a target
/// left. `changed` alters one value, as a diff's head does.
fn policy(t: usize, i: usize, targets: &mut Targets, changed: bool) -> (&'static str, String) {
    let ns = team_ns(t);
    let c = home_cluster(t);
    let picked = (0..POLICY_CYCLE.len())
        .map(|d| POLICY_CYCLE[(i + d) % POLICY_CYCLE.len()])
        .find_map(|k| targets.take(k).map(|at| (k, at)));
    let Some((kind, at)) = picked else {
        // Every target taken (only in tiny teams): a retry policy selecting no route.
        return (
            "RetryTimeoutPolicy",
            format!(
                "apiVersion: resilience.policy.gloo.solo.io/v2\nkind: RetryTimeoutPolicy\nmetadata:\n  \
                 name: retry-{i:04}\n  namespace: {ns}\nspec:\n  applyToRoutes:\n  - route:\n      \
                 labels:\n        route-group: none\n  config:\n    requestTimeout: {}s\n",
                if changed { 20 } else { 10 }
            ),
        );
    };
    let head = |api: &str, kind: &str, name: &str| {
        format!(
            "apiVersion: {api}.policy.gloo.solo.io/v2\nkind: {kind}\nmetadata:\n  name: {name}-{i:04}\n  \
             namespace: {ns}\nspec:\n"
        )
    };
    let dest = |d: &Dest| {
        match d {
        Dest::Service(k) => format!(
            "  applyToDestinations:\n  - selector:\n      labels:\n        app: svc-{k}\n      \
             namespace: {ns}\n    port:\n      number: 8080\n"
        ),
        Dest::External(name) => format!(
            "  applyToDestinations:\n  - kind: EXTERNAL_SERVICE\n    selector:\n      name: {name}\n    \
             port:\n      number: 80\n"
        ),
    }
    };
    match kind {
        PolicyKind::Retry => {
            let mut s = head("resilience", "RetryTimeoutPolicy", "retry");
            let _ = write!(
                s,
                "  applyToRoutes:\n  - route:\n      labels:\n        route-group: {}\n  config:\n",
                targets.tables[at]
            );
            let bump = usize::from(changed);
            match i % 3 {
                0 => {
                    let _ = write!(
                        s,
                        "    requestTimeout: 15s\n    retries:\n      attempts: {}\n      \
                         perTryTimeout: 5s\n      retryOn: connect-failure,5xx\n",
                        3 + bump
                    );
                }
                1 => {
                    let _ = write!(
                        s,
                        "    retries:\n      retryOn: gateway-error,reset\n      attempts: {}\n",
                        2 + bump
                    );
                }
                _ => {
                    let _ = writeln!(s, "    requestTimeout: {}s", 30 + 15 * bump);
                }
            }
            ("RetryTimeoutPolicy", s)
        }
        PolicyKind::Fault => {
            let mut s = head("resilience", "FaultInjectionPolicy", "fault");
            let _ = write!(
                s,
                "  applyToRoutes:\n  - route:\n      labels:\n        chaos-test: \"true\"\n        \
                 route-group: {}\n  config:\n",
                targets.chaos[at]
            );
            let pct = if changed { 20 } else { 10 };
            if i.is_multiple_of(2) {
                let _ = write!(
                    s,
                    "    delay:\n      fixedDelay: 2s\n      percentage: {pct}\n"
                );
            } else {
                let _ = write!(
                    s,
                    "    abort:\n      httpStatus: 503\n      percentage: {pct}\n"
                );
            }
            ("FaultInjectionPolicy", s)
        }
        PolicyKind::Mirror => {
            let mut s = head("trafficcontrol", "MirrorPolicy", "mirror");
            let _ = write!(
                s,
                "  applyToRoutes:\n  - route:\n      labels:\n        route-group: {}\n  config:\n    \
                 destination:\n      ref:\n        name: svc-{}\n        namespace: {ns}\n        \
                 cluster: {c}\n      port:\n        number: 8080\n    percentage: {}\n",
                targets.tables[at],
                i % targets.services,
                if changed { 25 } else { 5 }
            );
            ("MirrorPolicy", s)
        }
        PolicyKind::Outlier => {
            let mut s = head("resilience", "OutlierDetectionPolicy", "outliers");
            s.push_str(&dest(&targets.dests[at]));
            let errors = if changed { 7 } else { 5 };
            if i.is_multiple_of(2) {
                let _ = write!(
                    s,
                    "  config:\n    consecutiveErrors: {errors}\n    interval: 10s\n    \
                     baseEjectionTime: 30s\n    maxEjectionPercent: 50\n"
                );
            } else {
                let _ = write!(
                    s,
                    "  config:\n    consecutiveErrors: {errors}\n    consecutiveGatewayErrors: 3\n"
                );
            }
            ("OutlierDetectionPolicy", s)
        }
        PolicyKind::Balancer => {
            let mut s = head("trafficcontrol", "LoadBalancerPolicy", "balance");
            let d = &targets.dests[at];
            s.push_str(&dest(d));
            match (d, changed) {
                (Dest::Service(_), false) => s.push_str("  config:\n    simple: LEAST_REQUEST\n"),
                (Dest::Service(_), true) => s.push_str("  config:\n    simple: ROUND_ROBIN\n"),
                (Dest::External(_), ch) => {
                    let _ = write!(
                        s,
                        "  config:\n    consistentHash:\n      httpHeaderName: {}\n",
                        if ch { "x-user-id" } else { "x-session-id" }
                    );
                }
            }
            ("LoadBalancerPolicy", s)
        }
        PolicyKind::Connection => {
            let mut s = head("resilience", "ConnectionPolicy", "connections");
            s.push_str(&dest(&targets.dests[at]));
            let _ = write!(
                s,
                "  config:\n    tcp:\n      maxConnections: {}\n      connectTimeout: 2s\n    http:\n      \
                 maxRequests: 1000\n      maxPendingRequests: 100\n      idleTimeout: 60s\n",
                if changed { 200 } else { 100 }
            );
            ("ConnectionPolicy", s)
        }
    }
}

/// Writes the repo under `dir` (which must not exist or be empty).
pub fn write(dir: &Path, repo: &GenRepo) -> std::io::Result<()> {
    for (path, text) in &repo.files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, text)?;
    }
    Ok(())
}

/// Replaces the contents of `dir` (keeping `.git`) with `repo`.
pub fn rewrite(dir: &Path, repo: &GenRepo) -> std::io::Result<()> {
    if dir.exists() {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            if e.file_name() == ".git" {
                continue;
            }
            if e.file_type()?.is_dir() {
                std::fs::remove_dir_all(e.path())?;
            } else {
                std::fs::remove_file(e.path())?;
            }
        }
    }
    write(dir, repo)
}

fn git(dir: &Path, args: &[&str]) -> std::io::Result<()> {
    let st = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .stdout(std::process::Stdio::null())
        .status()?;
    if st.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("git {args:?} failed")))
    }
}

/// Writes a git repo with two commits: the base (`HEAD~1`) and `spec` (`HEAD`, with
/// `spec.changes` changed objects). Returns the stats of the head.
pub fn write_git(dir: &Path, spec: &Spec) -> std::io::Result<Stats> {
    std::fs::create_dir_all(dir)?;
    let base = generate(&Spec {
        changes: 0,
        ..spec.clone()
    });
    rewrite(dir, &base)?;
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "base"])?;
    let head = generate(spec);
    rewrite(dir, &head)?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "changes"])?;
    Ok(head.stats)
}

/// Bump when the generator's output changes, so cached repos are made again.
pub const VERSION: u32 = 4;

/// A generated repo under `root`, made once and reused (keyed by the spec and `VERSION`). With
/// `git`, a two-commit repository as `write_git` makes.
pub fn cached(root: &Path, spec: &Spec, with_git: bool) -> PathBuf {
    let dir = root.join(format!(
        "repo-v{VERSION}-{}-s{}-c{}{}",
        spec.objects,
        spec.seed,
        spec.changes,
        if with_git { "-git" } else { "" }
    ));
    let marker = root.join(format!(
        "{}.complete",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or("repo")
    ));
    if marker.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(root);
    let made = if with_git {
        write_git(&dir, spec).map(|_| ())
    } else {
        write(&dir, &generate(spec))
    };
    if let Err(e) = made.and_then(|_| std::fs::write(&marker, b"")) {
        panic!("cannot generate {}: {e}", dir.display());
    }
    dir
}
