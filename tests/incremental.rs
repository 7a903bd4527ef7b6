//! A diff's head takes the base's translation of every unit whose inputs did not change
//! (`incremental::render`). These tests guard that it never changes the result: over many edits of
//! the generated repo and of every fixture, the head rendered with reuse must give the same
//! objects (values, clusters, sources) and the same findings as the head rendered in full.

#[path = "../benches/support/gen.rs"]
mod gen;
mod support;
use support::{fixture_dirs, full_sweep, read_tree, root, write_tree, Files, FULL_SWEEP};

use meshform::pipeline::{self, Options, Outcome};
use meshform::render::{Keep, RenderOptions};
use meshform::repo::{LoadError, LoadOptions, Repo};
use meshform::source::Origin;
use std::path::{Path, PathBuf};

fn options(passthrough: bool) -> Options {
    Options {
        render: RenderOptions {
            keep: Keep::Nodes,
            passthrough,
            ..RenderOptions::default()
        },
        // The policies' own reuse has its own test (`every_fixture_edit_checks_as_a_full_check`);
        // leaving them out keeps the hundreds of renders below fast.
        skip_policies: true,
        // As `meshform diff` runs the head.
        release_inputs: true,
        ..Options::default()
    }
}

/// Renders `head` after `base` with reuse, and again in full; returns how many units and
/// policy results were reused, or what differs.
fn compare(base: &Path, head: &Path, opts: &Options) -> Result<(usize, usize), String> {
    let load = LoadOptions::default();
    let b = Repo::load(&Origin::Dir(base.to_path_buf()), &load);
    let h = match &b {
        Ok(b) => Repo::load_after(&Origin::Dir(head.to_path_buf()), &load, b),
        Err(_) => Repo::load(&Origin::Dir(head.to_path_buf()), &load),
    };
    let (_, with_reuse) = pipeline::diff(b, h, opts);
    let full =
        Repo::load(&Origin::Dir(head.to_path_buf()), &load).and_then(|r| pipeline::run(r, opts));
    same(&with_reuse, &full)?;
    Ok(with_reuse.map_or((0, 0), |o| (o.reused, o.reused_checks)))
}

fn same(a: &Result<Outcome, LoadError>, b: &Result<Outcome, LoadError>) -> Result<(), String> {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            if a.nodes.len() != b.nodes.len() {
                return Err(format!(
                    "{} objects with reuse, {} in full",
                    a.nodes.len(),
                    b.nodes.len()
                ));
            }
            if let Some((x, y)) = a.nodes.iter().zip(&b.nodes).find(|(x, y)| x != y) {
                return Err(format!(
                    "objects differ:\nwith reuse: {x:#?}\nin full: {y:#?}"
                ));
            }
            if a.findings != b.findings {
                let only_a: Vec<_> = a
                    .findings
                    .iter()
                    .filter(|d| !b.findings.contains(d))
                    .collect();
                let only_b: Vec<_> = b
                    .findings
                    .iter()
                    .filter(|d| !a.findings.contains(d))
                    .collect();
                return Err(format!(
                    "findings differ:\nonly with reuse: {only_a:#?}\nonly in full: {only_b:#?}"
                ));
            }
            if a.rendered != b.rendered || a.suppressed != b.suppressed {
                return Err("counts or suppressed findings differ".into());
            }
            Ok(())
        }
        (Err(a), Err(b)) if a.diagnostics() == b.diagnostics() => Ok(()),
        (a, b) => Err(format!(
            "one side failed: with reuse {:?}, in full {:?}",
            a.as_ref().err().map(|e| e.diagnostics()),
            b.as_ref().err().map(|e| e.diagnostics())
        )),
    }
}

/// A file's text split into its header (before the first `---`) and its documents.
fn split(text: &str) -> (String, Vec<String>) {
    let mut header = String::new();
    let mut docs: Vec<String> = Vec::new();
    let mut seen = false;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            seen = true;
            docs.push(String::new());
            continue;
        }
        match docs.last_mut() {
            Some(d) if seen => d.push_str(line),
            _ => header.push_str(line),
        }
    }
    if !seen {
        return (String::new(), vec![header]);
    }
    (header, docs)
}

fn join(header: &str, docs: &[String]) -> String {
    let mut out = header.to_string();
    for d in docs {
        out.push_str("---\n");
        out.push_str(d);
    }
    out
}

/// One edit of one document.
#[derive(Debug, Clone, Copy)]
enum Edit {
    /// Delete it.
    Remove,
    /// Add one to its first port number or weight (else its first number).
    Bump,
    /// Append `x` to its first label value.
    Relabel,
    /// Rename it.
    Rename,
    /// Insert a comment line above it (its place changes, its value does not).
    Shift,
    /// Move it to the end of another file.
    Move,
    /// Insert a comment line below its first line (its value and first line stay, the
    /// lines of its fields move).
    Stretch,
}

const EDITS: [Edit; 7] = [
    Edit::Remove,
    Edit::Bump,
    Edit::Relabel,
    Edit::Rename,
    Edit::Shift,
    Edit::Move,
    Edit::Stretch,
];

/// Applies `edit` to document `doc` of `file`; false when it does not apply.
fn apply(files: &mut Files, file: &str, doc: usize, edit: Edit, other: &str) -> bool {
    let Some(text) = files.get(file) else {
        return false;
    };
    let (header, mut docs) = split(text);
    if doc >= docs.len() || docs[doc].trim().is_empty() {
        return false;
    }
    let d = docs[doc].clone();
    let edited = match edit {
        Edit::Remove => None,
        Edit::Bump => {
            let mut lines: Vec<String> = d.lines().map(String::from).collect();
            let pick = lines
                .iter()
                .position(|l| {
                    let t = l.trim_start().trim_start_matches("- ");
                    ["number: ", "weight: ", "port: "].iter().any(|p| {
                        t.strip_prefix(p)
                            .is_some_and(|v| v.trim().parse::<u32>().is_ok())
                    })
                })
                .or_else(|| {
                    lines.iter().position(|l| {
                        l.rsplit_once(": ")
                            .is_some_and(|(_, v)| v.trim().parse::<u32>().is_ok())
                    })
                });
            let Some(i) = pick else { return false };
            let (k, v) = lines[i].rsplit_once(": ").unwrap();
            let n: u32 = v.trim().parse().unwrap();
            lines[i] = format!("{k}: {}", n % 60000 + 1);
            Some(lines.join("\n") + "\n")
        }
        Edit::Relabel => {
            let mut lines: Vec<String> = d.lines().map(String::from).collect();
            let Some(at) = lines.iter().position(|l| l.trim_end().ends_with("labels:")) else {
                return false;
            };
            let Some(l) = lines.get_mut(at + 1) else {
                return false;
            };
            let Some((k, v)) = l.split_once(": ") else {
                return false;
            };
            let v = v.trim().trim_matches('"');
            *l = format!("{k}: \"{v}x\"");
            Some(lines.join("\n") + "\n")
        }
        Edit::Rename => {
            let mut lines: Vec<String> = d.lines().map(String::from).collect();
            let Some(l) = lines.iter_mut().find(|l| l.starts_with("  name: ")) else {
                return false;
            };
            l.push_str("-renamed");
            Some(lines.join("\n") + "\n")
        }
        Edit::Shift => Some(format!("# shifted by a test\n{d}")),
        Edit::Stretch => {
            let Some((first, rest)) = d.split_once('\n') else {
                return false;
            };
            Some(format!("{first}\n# stretched by a test\n{rest}"))
        }
        Edit::Move => {
            if other == file || !files.contains_key(other) {
                return false;
            }
            let to = files.get_mut(other).unwrap();
            if !to.ends_with('\n') {
                to.push('\n');
            }
            to.push_str("---\n");
            to.push_str(&d);
            None
        }
    };
    match edited {
        Some(e) => docs[doc] = e,
        None => {
            docs.remove(doc);
        }
    }
    files.insert(file.to_string(), join(&header, &docs));
    true
}

fn yaml_files(files: &Files) -> Vec<String> {
    files
        .keys()
        .filter(|p| p.ends_with(".yaml"))
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .cloned()
        .collect()
}

struct Tally {
    variants: usize,
    reused: usize,
    reused_checks: usize,
    failures: Vec<String>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            variants: 0,
            reused: 0,
            reused_checks: 0,
            failures: Vec::new(),
        }
    }

    fn run(&mut self, name: String, base: &Path, head_dir: &Path, head: &Files, opts: &Options) {
        write_tree(head_dir, head);
        self.variants += 1;
        match compare(base, head_dir, opts) {
            Ok((units, checks)) => {
                self.reused += units;
                self.reused_checks += checks;
            }
            Err(e) => self.failures.push(format!("{name}: {e}")),
        }
    }

    fn check(self, what: &str) {
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} edited heads differ from a full render:\n{}",
            self.failures.len(),
            self.variants,
            self.failures
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
        // The comparison means something only where units were in fact reused.
        assert!(
            self.reused > 0,
            "{what}: no unit was reused in {} heads",
            self.variants
        );
    }
}

/// Every document of every fixture, edited each way in turn.
#[test]
fn every_fixture_edit_renders_as_a_full_render() {
    let tally = fixture_edits(&options(false));
    assert!(tally.variants > 300, "only {} edits", tally.variants);
    tally.check("fixtures");
}

/// With the policies on, the head takes the base's quiet results of the policies that read
/// their object alone (`policy::run::Memo`); its findings must be a full check's. The repos
/// are the built-in policies' own test resources, which hold findings of every policy (the
/// object-only ones, such as the weights and ports rules, and those that read other objects
/// through `gloo.*`), each split in two files so that an edit of one leaves the other whole.
#[test]
fn every_policy_resource_edit_checks_as_a_full_check() {
    let opts = Options {
        skip_policies: false,
        ..options(false)
    };
    let root = root().join("policies/tests");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "policy tests not found");
    let tmp = tempfile::tempdir().unwrap();
    let mut tally = Tally::new();
    for dir in &dirs {
        let (header, docs) = split(&std::fs::read_to_string(dir.join("resources.yaml")).unwrap());
        let half = docs.len().div_ceil(2);
        let mut files = Files::new();
        files.insert("a.yaml".into(), join(&header, &docs[..half]));
        files.insert("b.yaml".into(), join("", &docs[half..]));
        let base = tmp.path().join("base");
        write_tree(&base, &files);
        for (file, other) in [("a.yaml", "b.yaml"), ("b.yaml", "a.yaml")] {
            for doc in 0..docs.len() {
                for edit in EDITS {
                    let mut head = files.clone();
                    if !apply(&mut head, file, doc, edit, other) {
                        continue;
                    }
                    let name = format!("{}: {file} doc {doc} {edit:?}", dir.display());
                    tally.run(name, &base, &tmp.path().join("head"), &head, &opts);
                }
            }
        }
    }
    assert!(tally.variants > 100, "only {} edits", tally.variants);
    assert!(
        tally.reused_checks > 0,
        "no policy result was reused in {} heads",
        tally.variants
    );
    tally.check("policy resources, policies on");
}

/// An edit that breaks an object-only rule on a clean object, in place: the object keeps its
/// name, file and lines, so only its value tells it changed, and the finding must appear.
#[test]
fn an_edit_that_breaks_an_object_only_rule_is_found() {
    let dir = root().join("policies/tests/routetable-weights");
    let text = std::fs::read_to_string(dir.join("resources.yaml")).unwrap();
    let mut files = Files::new();
    files.insert("a.yaml".into(), text.clone());
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    write_tree(&base, &files);
    // `good` splits 70/30; 70/40 sums to 110.
    let broken = text.replacen("weight: 30}", "weight: 40}", 1);
    assert_ne!(broken, text, "resources changed");
    files.insert("a.yaml".into(), broken);
    let opts = Options {
        skip_policies: false,
        ..options(false)
    };
    let head = tmp.path().join("head");
    write_tree(&head, &files);
    let load = LoadOptions::default();
    let b = Repo::load(&Origin::Dir(base.clone()), &load).unwrap();
    let h = Repo::load_after(&Origin::Dir(head.clone()), &load, &b);
    let (_, with_reuse) = pipeline::diff(Ok(b), h, &opts);
    let with_reuse = with_reuse.unwrap();
    assert!(
        with_reuse.reused_checks > 0,
        "nothing taken: the test means nothing"
    );
    let weights = |o: &Outcome| {
        o.findings
            .iter()
            .filter(|d| d.code == "routetable-weights")
            .filter_map(|d| Some((d.object.as_ref()?.name.clone(), d.message.clone())))
            .collect::<Vec<_>>()
    };
    let found = weights(&with_reuse);
    assert!(
        found.iter().any(|(n, m)| n == "good" && m.contains("110")),
        "{found:?}"
    );
    let full = Repo::load(&Origin::Dir(head), &load)
        .and_then(|r| pipeline::run(r, &opts))
        .unwrap();
    assert_eq!(found, weights(&full));
}

fn fixture_edits(opts: &Options) -> Tally {
    let repos: Vec<PathBuf> = fixture_dirs().into_iter().map(|(_, dir)| dir).collect();
    assert!(repos.len() >= 20, "fixtures not found");
    let tmp = tempfile::tempdir().unwrap();
    let mut tally = Tally::new();
    for repo in &repos {
        let files = read_tree(repo);
        let paths = yaml_files(&files);
        for (fi, file) in paths.iter().enumerate() {
            let (_, docs) = split(&files[file]);
            for doc in 0..docs.len() {
                for edit in EDITS {
                    let other = &paths[(fi + 1) % paths.len()];
                    let mut head = files.clone();
                    if !apply(&mut head, file, doc, edit, other) {
                        continue;
                    }
                    let name = format!("{}: {file} doc {doc} {edit:?}", repo.display());
                    tally.run(name, repo, &tmp.path().join("head"), &head, opts);
                }
            }
        }
    }
    tally
}

/// The generated repo: its own change sets, and seeded random edits, one and several at a
/// time, with and without passthrough objects.
///
/// The whole sweep compares 63 heads and dominates `cargo test`; by default a sample of one
/// head of each kind runs (a change set; one edit, without and with passthrough objects;
/// several edits, without and with). `MESHFORM_FULL_SWEEP=1` runs every head (`.ci/run` does,
/// as a step of its own).
#[test]
fn generated_repo_edits_render_as_a_full_render() {
    const CHANGE_SETS: [usize; 3] = [1, 5, 40];
    const ROUNDS: usize = 60;
    const SAMPLE_CHANGE_SETS: [usize; 1] = [5];
    const SAMPLE_ROUNDS: [usize; 4] = [0, 9, 40, 59];
    let full = full_sweep();
    let tmp = tempfile::tempdir().unwrap();
    let spec = gen::Spec::new(400);
    let base_files = gen::generate(&spec).files;
    let base = tmp.path().join("base");
    write_tree(&base, &base_files);
    let head_dir = tmp.path().join("head");
    let mut tally = Tally::new();
    // The generator's own edits (ports, endpoints, routes), as the diff benchmark makes them.
    for changes in CHANGE_SETS {
        if !full && !SAMPLE_CHANGE_SETS.contains(&changes) {
            continue;
        }
        let head = gen::generate(&gen::Spec {
            changes,
            ..spec.clone()
        })
        .files;
        tally.run(
            format!("generator, {changes} changes"),
            &base,
            &head_dir,
            &head,
            &options(false),
        );
    }
    let paths = yaml_files(&base_files);
    let mut rng = gen::Rng::new(7);
    for round in 0..ROUNDS {
        // Every round draws its edits, so that a round is the same whether or not the rounds
        // before it run.
        let mut head = base_files.clone();
        let count = if round < 40 { 1 } else { 2 + rng.below(4) };
        let mut done = Vec::new();
        while done.len() < count {
            let file = &paths[rng.below(paths.len())];
            let docs = split(&head[file]).1.len();
            let doc = rng.below(docs.max(1));
            let edit = EDITS[rng.below(EDITS.len())];
            let other = &paths[rng.below(paths.len())];
            if apply(&mut head, file, doc, edit, other) {
                done.push(format!("{file} doc {doc} {edit:?}"));
            }
        }
        if !full && !SAMPLE_ROUNDS.contains(&round) {
            continue;
        }
        let opts = options(round % 10 == 9);
        tally.run(
            format!("round {round}: {}", done.join(", ")),
            &base,
            &head_dir,
            &head,
            &opts,
        );
    }
    let all = CHANGE_SETS.len() + ROUNDS;
    if full {
        assert_eq!(tally.variants, all, "the full sweep compares every head");
    } else {
        assert_eq!(
            tally.variants,
            SAMPLE_CHANGE_SETS.len() + SAMPLE_ROUNDS.len()
        );
        eprintln!(
            "compared {} of {all} heads; {FULL_SWEEP}=1 compares them all",
            tally.variants
        );
    }
    tally.check("generated repo");
}

/// A table without hosts that delegates again: an edit of the grandchild, which the parent's
/// own selector does not match, still changes the parent's VirtualService.
#[test]
fn nested_delegation_edit_renders_as_a_full_render() {
    let fixture = root().join("fixtures/features/delegation-table-weight");
    let mut files = read_tree(&fixture);
    let tables = files["routetables.yaml"].replace(
        "  - name: api\n    matchers: [{uri: {prefix: /api/}}]\n    forwardTo: {destinations: [{ref: {name: api}, port: {number: 8080}}]}",
        "  - name: api\n    matchers: [{uri: {prefix: /api/}}]\n    delegate:\n      routeTables: [{labels: {parent: api}}]",
    );
    assert_ne!(tables, files["routetables.yaml"], "fixture changed");
    files.insert("routetables.yaml".into(), tables);
    let grandchild = |prefix: &str| {
        format!(
            "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\n\
             metadata: {{name: api-v1, namespace: app, labels: {{parent: api}}}}\n\
             spec:\n  http:\n  - name: v1\n    matchers: [{{uri: {{prefix: {prefix}}}}}]\n    \
             forwardTo: {{destinations: [{{ref: {{name: api}}, port: {{number: 8080}}}}]}}\n"
        )
    };
    files.insert("grandchild.yaml".into(), grandchild("/api/v1/"));
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    write_tree(&base, &files);
    let mut head = files.clone();
    head.insert("grandchild.yaml".into(), grandchild("/api/v1beta/"));
    let mut tally = Tally::new();
    let opts = options(false);
    tally.run(
        "grandchild's prefix".into(),
        &base,
        &tmp.path().join("head"),
        &head,
        &opts,
    );
    tally.check("nested delegation");
    // The edit reaches the output: the parent's VirtualService differs from the base's.
    let load = LoadOptions::default();
    let render = |dir: &Path| {
        Repo::load(&Origin::Dir(dir.to_path_buf()), &load)
            .and_then(|r| pipeline::run(r, &opts))
            .unwrap()
            .nodes
    };
    assert_ne!(render(&base), render(&tmp.path().join("head")));
}

/// A head loaded after another revision than the base it is paired with cannot use the file
/// indexes it carries: it is rendered in full, and still right.
#[test]
fn a_head_loaded_after_another_base_is_rendered_in_full() {
    let tmp = tempfile::tempdir().unwrap();
    let files = gen::generate(&gen::Spec::new(400)).files;
    let paths = yaml_files(&files);
    let es_file = paths
        .iter()
        .find(|p| p.contains("external-services"))
        .unwrap();
    let rt_file = paths.iter().find(|p| p.contains("route-tables")).unwrap();
    let mut head = files.clone();
    assert!(apply(&mut head, es_file, 1, Edit::Bump, ""));
    let mut other = files.clone();
    assert!(apply(&mut other, rt_file, 1, Edit::Bump, ""));
    let dirs: Vec<PathBuf> = ["a", "head", "other"]
        .iter()
        .map(|d| tmp.path().join(d))
        .collect();
    write_tree(&dirs[0], &files);
    write_tree(&dirs[1], &head);
    write_tree(&dirs[2], &other);
    let load = LoadOptions::default();
    let opts = options(false);
    let a = Repo::load(&Origin::Dir(dirs[0].clone()), &load).unwrap();
    let h = Repo::load_after(&Origin::Dir(dirs[1].clone()), &load, &a).unwrap();
    let other = Repo::load(&Origin::Dir(dirs[2].clone()), &load);
    let (_, with_reuse) = pipeline::diff(other, Ok(h), &opts);
    let full =
        Repo::load(&Origin::Dir(dirs[1].clone()), &load).and_then(|r| pipeline::run(r, &opts));
    same(&with_reuse, &full).unwrap();
    assert_eq!(with_reuse.unwrap().reused, 0);
}

/// A MirrorPolicy's destination is resolved on the routes it selects, in tables that do not
/// name it: when that destination changes, those tables' output changes too.
#[test]
fn a_changed_mirror_destination_renders_as_a_full_render() {
    let fixture = root().join("fixtures/features/virtual-destination");
    let mut files = read_tree(&fixture);
    files.insert(
        "mirror.yaml".into(),
        "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\n\
         metadata: {name: web, namespace: app}\n\
         spec:\n  hosts: [web.app.svc.cluster.local]\n  http:\n  - name: web\n    \
         labels: {mirror: \"true\"}\n    \
         forwardTo: {destinations: [{ref: {name: web}, port: {number: 8080}}]}\n---\n\
         apiVersion: trafficcontrol.policy.gloo.solo.io/v2\nkind: MirrorPolicy\n\
         metadata: {name: shadow, namespace: app}\n\
         spec:\n  applyToRoutes: [{route: {labels: {mirror: \"true\"}}}]\n  config:\n    \
         destination: {ref: {name: api}, kind: VIRTUAL_DESTINATION, port: {number: 80}}\n"
            .to_string(),
    );
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    write_tree(&base, &files);
    let mut head = files.clone();
    let vd =
        files["virtualdestination.yaml"].replacen("hosts: [api.global]", "hosts: [api2.global]", 1);
    assert_ne!(vd, files["virtualdestination.yaml"], "fixture changed");
    head.insert("virtualdestination.yaml".into(), vd);
    let head_dir = tmp.path().join("head");
    write_tree(&head_dir, &head);
    if let Err(e) = compare(&base, &head_dir, &options(false)) {
        panic!("mirror destination: {e}");
    }
}
