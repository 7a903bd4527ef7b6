//! Hostile and broken input (issue 7, docs/security.md).
//!
//! Every case runs the real binary with a timeout and checks the expected outcome: a clear
//! error naming the place, exit 2 and NOTHING on stdout (Argo CD prunes what a render leaves
//! out), or, for input that is odd but valid, a render and the documented warning. A case
//! that hangs is killed at the timeout and fails.
//!
//! Small cases are files under `tests/adversarial/cases/<case>/`, each with an `EXPECT` file;
//! big or special ones (alias bombs, 200 MB files, FIFOs, symlinks, 100,000 files) are made
//! here, in temp dirs, at test time.

mod support;
use support::{bin, git, meshform, root, walk, write_file, Cli, Run, TempRepo};

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn render(repo: &Path) -> Run {
    meshform().args(["render", "--passthrough"]).arg(repo).run()
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: web\n")
}

fn config(limits: &str) -> String {
    format!("apiVersion: meshform.dev/v1alpha1\nkind: Config\nlimits:\n{limits}")
}

fn mkfifo(p: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("mkfifo");
    assert!(st.success());
}

// ------------------------------------------------------------------------------------------
// The committed corpus.

/// Runs every case under tests/adversarial/cases. `EXPECT` lines: `exit N`, `stderr TEXT`,
/// `stdout TEXT`, `no-stdout TEXT` (TEXT must appear in / be absent from that stream).
#[test]
fn corpus() {
    let root = root().join("tests/adversarial/cases");
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .expect("cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "corpus went missing: {cases:?}");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap_or_default().to_string_lossy();
        let expect = fs::read_to_string(case.join("EXPECT")).expect("EXPECT file");
        let run = render(case);
        let mut exit = None;
        for line in expect
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let (key, text) = line.split_once(' ').unwrap_or((line, ""));
            let text = &unescape(text);
            let problem = match key {
                "exit" => {
                    exit = text.parse::<i32>().ok();
                    (run.code != exit).then(|| format!("exit {:?}, expected {text}", run.code))
                }
                "stderr" => (!run.stderr.contains(text)).then(|| format!("stderr lacks {text:?}")),
                "stdout" => (!run.stdout.contains(text)).then(|| format!("stdout lacks {text:?}")),
                "no-stdout" => run
                    .stdout
                    .contains(text)
                    .then(|| format!("stdout has {text:?}")),
                other => Some(format!("unknown EXPECT key {other}")),
            };
            if let Some(p) = problem {
                failures.push(format!("{name}: {p}\n--- stderr:\n{}", run.stderr));
            }
        }
        match exit {
            None => failures.push(format!("{name}: EXPECT has no exit line")),
            Some(0) => {}
            Some(_) if !run.stdout.is_empty() => failures.push(format!(
                "{name}: stdout not empty on error:\n{}",
                run.stdout
            )),
            Some(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `\n`, `\r`, `\t`, `\\` and `\u{XXXX}` in EXPECT text.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                let code = u32::from_str_radix(&hex, 16).expect("hex in \\u{..}");
                out.push(char::from_u32(code).expect("a char"));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

// ------------------------------------------------------------------------------------------
// YAML made at test time.

#[test]
fn ten_thousand_deep_nesting_is_refused() {
    let d = TempRepo::new();
    d.write("flow.yaml", "[".repeat(10_000) + &"]".repeat(10_000));
    render(d.path()).input_error(&["flow.yaml:1:", "limits.yamlDepth"]);
    let d = TempRepo::new();
    d.write("block.yaml", "- ".repeat(10_000) + "x\n");
    render(d.path()).input_error(&["block.yaml:1:", "limits.yamlDepth"]);
    let d = TempRepo::new();
    let mut mapping = String::from("a:\n");
    for i in 1..200 {
        mapping.push_str(&format!("{}a:\n", " ".repeat(i)));
    }
    d.write("map.yaml", mapping);
    render(d.path()).input_error(&["map.yaml:", "limits.yamlDepth"]);
}

#[test]
fn a_200_mb_file_is_refused_by_its_size() {
    let d = TempRepo::new();
    d.write("ok.yaml", cm("ok"));
    // Sparse: 200 MB by stat, no disk used. The message carries the size from stat, and the
    // file holds no YAML at all (only NULs), so reading it would have failed differently.
    let f = fs::File::create(d.path().join("big.yaml")).expect("create");
    f.set_len(200 << 20).expect("set_len");
    render(d.path()).input_error(&[
        "big.yaml",
        "file is 209715200 bytes, over the limit of 16777216 (limits.fileSize",
    ]);
}

#[test]
fn meshform_yaml_itself_is_size_limited() {
    let d = TempRepo::new();
    let f = fs::File::create(d.path().join("meshform.yaml")).expect("create");
    f.set_len(200 << 20).expect("set_len");
    render(d.path()).input_error(&["meshform.yaml", "209715200 bytes"]);
}

/// Quadratic work in a file's size is a hang: a mapping of 200,000 keys, and 5,000 documents
/// each with a type error (every error locates its field), both within the default limits.
#[test]
fn wide_mappings_and_many_located_errors_stay_linear() {
    let d = TempRepo::new();
    let mut t = cm("wide") + "data:\n";
    for i in 0..200_000 {
        t.push_str(&format!("  k{i}: v\n"));
    }
    d.write("wide.yaml", t);
    assert!(render(d.path()).success().contains("k199999: v"));

    let d = TempRepo::new();
    let docs: Vec<String> = (0..5_000)
        .map(|i| {
            format!(
                "apiVersion: networking.gloo.solo.io/v2\nkind: RouteTable\nmetadata: {{name: r{i}, namespace: web}}\nspec:\n  hosts: 5\n"
            )
        })
        .collect();
    d.write("many.yaml", docs.join("---\n"));
    // Each error points at its own field (the 200th shown is document 199's `hosts`), the
    // rest are counted.
    render(d.path()).input_error(&["many.yaml:1199:10", "and 4800 more", "5000 problems"]);
}

// ------------------------------------------------------------------------------------------
// Files.

#[test]
fn symlink_to_a_file_outside_is_refused_and_never_read() {
    let d = TempRepo::new();
    let repo = d.path().join("repo");
    write_file(&repo, "ok.yaml", cm("ok"));
    // A FIFO outside the repo: opening it would block forever, so a read shows as a timeout.
    let secret = d.path().join("secret.yaml");
    mkfifo(&secret);
    std::os::unix::fs::symlink(&secret, repo.join("link.yaml")).expect("symlink");
    render(&repo).input_error(&["link.yaml", "symlink points outside the repo root"]);
    // Relative, through `..`.
    fs::remove_file(repo.join("link.yaml")).expect("rm");
    std::os::unix::fs::symlink("../secret.yaml", repo.join("rel.yaml")).expect("symlink");
    render(&repo).input_error(&["rel.yaml", "outside the repo root"]);
}

#[test]
fn symlink_to_a_directory_outside_is_refused_and_never_read() {
    let d = TempRepo::new();
    let repo = d.path().join("repo");
    write_file(&repo, "ok.yaml", cm("ok"));
    let outside = d.path().join("outside");
    fs::create_dir_all(&outside).expect("mkdir");
    mkfifo(&outside.join("trap.yaml"));
    std::os::unix::fs::symlink(&outside, repo.join("shared")).expect("symlink");
    render(&repo).input_error(&["shared", "outside the repo root"]);
}

#[test]
fn symlink_to_a_directory_inside_is_refused_not_silently_skipped() {
    let d = TempRepo::new();
    d.write("common/a.yaml", cm("a"));
    std::os::unix::fs::symlink("common", d.path().join("alias")).expect("symlink");
    render(d.path()).input_error(&["alias", "links to directories are not followed"]);
}

#[test]
fn symlink_inside_the_repo_is_read() {
    let d = TempRepo::new();
    d.write("real/a.yml", cm("a"));
    std::os::unix::fs::symlink("real/a.yml", d.path().join("b.yaml")).expect("symlink");
    // The same object twice (once through the link) is a duplicate naming both files.
    render(d.path()).input_error(&["b.yaml", "real/a.yml", "defined twice"]);
}

#[test]
fn symlink_loops_and_dangling_links_are_errors() {
    let d = TempRepo::new();
    std::os::unix::fs::symlink("b.yaml", d.path().join("a.yaml")).expect("symlink");
    std::os::unix::fs::symlink("a.yaml", d.path().join("b.yaml")).expect("symlink");
    std::os::unix::fs::symlink("nowhere.yaml", d.path().join("c.yaml")).expect("symlink");
    render(d.path()).input_error(&["a.yaml", "b.yaml", "c.yaml", "cannot be resolved"]);
}

#[test]
fn fifos_sockets_and_devices_are_refused_and_never_read() {
    let d = TempRepo::new();
    d.write("ok.yaml", cm("ok"));
    mkfifo(&d.path().join("fifo.yaml"));
    let _sock = std::os::unix::net::UnixListener::bind(d.path().join("sock.yaml")).expect("bind");
    // /dev/zero would never end; a link to it leaves the repo anyway.
    std::os::unix::fs::symlink("/dev/zero", d.path().join("zero.yaml")).expect("symlink");
    let mut needles = vec!["fifo.yaml", "sock.yaml", "zero.yaml", "not a regular file"];
    // A device node inside the repo needs CAP_MKNOD (root in CI); without it the other cases
    // still run.
    let dev = std::process::Command::new("mknod")
        .arg(d.path().join("dev.yaml"))
        .args(["c", "1", "5"]) // /dev/zero
        .status()
        .is_ok_and(|s| s.success());
    if dev {
        needles.push("dev.yaml");
    } else {
        eprintln!("note: mknod not permitted here; device node case skipped");
    }
    render(d.path()).input_error(&needles);
}

/// Runs as root in CI, where mode 000 stops nobody: drop to `nobody` with setpriv so the
/// permission bits apply.
#[test]
fn unreadable_files_and_directories_are_errors_naming_them() {
    let d = TempRepo::new();
    d.write("ok.yaml", cm("ok"));
    let secret = d.write("secret.yaml", cm("secret"));
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).expect("chmod");
    let dir = d.path().join("locked");
    write_file(&dir, "x.yaml", cm("x"));
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o000)).expect("chmod");
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if is_root {
        // The binary lives under the build dir; nobody must be able to run it.
        let mut c = Cli::program("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin());
        c
    } else {
        Cli::program(bin())
    };
    let run = cmd
        .args([
            OsStr::new("render"),
            OsStr::new("--passthrough"),
            d.path().as_os_str(),
        ])
        .run();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod back");
    run.input_error(&["secret.yaml", "locked", "ermission denied"]);
}

#[test]
fn a_hundred_thousand_tiny_files_complete() {
    let d = TempRepo::new();
    for i in 0..100_000 {
        d.write(
            &format!("d{:03}/f{i}.yaml", i / 1000),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: web}}\n"),
        );
    }
    let out = render(d.path());
    let stdout = out.success();
    assert_eq!(stdout.matches("kind: ConfigMap").count(), 100_000);
    // And the files limit applies to them (meshform.yaml makes 100,001).
    d.write("meshform.yaml", config("  files: 100000\n"));
    render(d.path()).input_error(&["more than 100000 manifest files (limits.files"]);
}

// ------------------------------------------------------------------------------------------
// Objects.

#[test]
fn odd_but_valid_names_are_sanitised_in_out_dir_paths() {
    let d = TempRepo::new();
    let repo = d.path().join("repo");
    write_file(&repo, "rbac.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: \"system:controller:..x\"\n",
    );
    write_file(&repo, "long.yaml", cm(&"a".repeat(253)));
    let out = d.path().join("out");
    out_dir_run(&repo, &out).success();
    let mut files = Vec::new();
    for e in walk(&out) {
        let rel = e
            .strip_prefix(&out)
            .expect("under out")
            .to_string_lossy()
            .into_owned();
        assert!(!rel.split('/').any(|c| c == ".." || c.len() > 255), "{rel}");
        files.push(rel);
    }
    files.sort();
    assert!(
        files.contains(&"cluster1/_cluster/clusterrole-system_controller_..x.yaml".to_string()),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("cluster1/web/configmap-aaaa")),
        "{files:?}"
    );
    // Nothing was written beside the out-dir.
    let mut siblings: Vec<String> = fs::read_dir(d.path())
        .expect("ls")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .collect();
    siblings.sort();
    assert_eq!(siblings, ["out", "repo"]);
}

// ------------------------------------------------------------------------------------------
// Atomic --out-dir.

fn out_dir_run(repo: &Path, out: &Path) -> Run {
    meshform()
        .args([
            OsStr::new("render"),
            OsStr::new("--passthrough"),
            OsStr::new("--out-dir"),
            out.as_os_str(),
            repo.as_os_str(),
        ])
        .run()
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = walk(dir)
        .into_iter()
        .map(|p| {
            let data = fs::read(&p).expect("read");
            (p, data)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn out_dir_is_left_as_it_was_on_any_error() {
    let d = TempRepo::new();
    let repo = d.path().join("repo");
    let out = d.path().join("out");
    // An earlier render (its marker lets a run replace it; see render_cli.rs for the refusal).
    write_file(&out, ".meshform-out", "earlier run\n");
    write_file(&out, "previous/keep.yaml", "previous render\n");
    let before = snapshot(&out);
    let siblings = || {
        let mut s: Vec<String> = fs::read_dir(d.path())
            .expect("ls")
            .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
            .collect();
        s.sort();
        s
    };

    // 1. Broken input: nothing is written.
    write_file(&repo, "a.yaml", cm("a"));
    write_file(&repo, "b.yaml", "a: [\n");
    out_dir_run(&repo, &out).input_error(&["b.yaml:"]);
    assert_eq!(snapshot(&out), before);

    // 2. An error after the staging directory exists: two names that differ only in case map
    //    to one file.
    fs::remove_file(repo.join("b.yaml")).expect("rm");
    write_file(&repo, "c.yaml", cm("A"));
    out_dir_run(&repo, &out).input_error(&["same file"]);
    assert_eq!(snapshot(&out), before);
    assert_eq!(siblings(), ["out", "repo"], "no staging dirs left behind");

    // 3. Success replaces the whole directory.
    fs::remove_file(repo.join("c.yaml")).expect("rm");
    out_dir_run(&repo, &out).success();
    let after = snapshot(&out);
    assert!(after
        .iter()
        .all(|(p, _)| !p.ends_with("previous/keep.yaml")));
    assert!(out.join("cluster1/web/configmap-a.yaml").is_file());
    assert!(out.join("cluster1/kustomization.yaml").is_file());
    assert_eq!(siblings(), ["out", "repo"]);
}

// ------------------------------------------------------------------------------------------
// Limits in meshform.yaml: each one is enforced, just over fails and just under passes.

#[test]
fn every_limit_is_settable_and_enforced() {
    struct Case {
        limit: &'static str,
        setting: &'static str,
        under: String,
        over: String,
        needle: &'static str,
    }
    let docs = |n: usize| {
        (0..n)
            .map(|i| cm(&format!("d{i}")))
            .collect::<Vec<_>>()
            .join("---\n")
    };
    let cases = [
        Case {
            limit: "fileSize",
            setting: "  fileSize: 200\n",
            under: cm("a"),
            over: cm(&"a".repeat(200)),
            needle: "limits.fileSize",
        },
        Case {
            limit: "totalSize",
            setting: "  totalSize: 200\n",
            under: cm("a"),
            over: docs(3),
            needle: "limits.totalSize",
        },
        Case {
            limit: "yamlDocuments",
            setting: "  yamlDocuments: 3\n",
            under: docs(3),
            over: docs(4),
            needle: "limits.yamlDocuments",
        },
        Case {
            limit: "yamlAliasNodes",
            setting: "  yamlAliasNodes: 4\n",
            under: cm("a") + "data: &d {x: '1'}\nbinaryData: {}\n---\n" + &cm("b") + "data: {}\n",
            over: cm("a") + "x: &x [1, 2, 3]\ny: [*x, *x]\n",
            needle: "limits.yamlAliasNodes",
        },
        Case {
            limit: "yamlDepth",
            setting: "  yamlDepth: 4\n",
            under: cm("a") + "data: {a: b}\n",
            over: cm("a") + "x: {a: {b: {c: {d: e}}}}\n",
            needle: "limits.yamlDepth",
        },
        Case {
            limit: "objects",
            setting: "  objects: 3\n",
            under: docs(3),
            over: docs(4),
            needle: "limits.objects",
        },
        Case {
            limit: "templateOutput",
            setting: "  templateOutput: 300\n",
            under: String::new(),
            over: String::new(),
            needle: "limits.templateOutput",
        },
    ];
    for c in cases {
        let d = TempRepo::new();
        d.write("meshform.yaml", config(c.setting));
        let (under_file, over_file) = if c.limit == "templateOutput" {
            d.write(
                "t.yaml.j2",
                "{% for i in range(values.n) %}".to_string()
                    + &cm("t{{ i }}")
                    + "---\n{% endfor %}",
            );
            // Not *.yaml, so the repo walk does not read them as manifests.
            ("values-under.txt", "values-over.txt")
        } else {
            ("a.yaml", "a.yaml")
        };
        if c.limit == "templateOutput" {
            d.write(under_file, "n: 2\n");
            d.write(over_file, "n: 9\n");
            let values = |f: &str| d.path().join(f);
            let run = |f: &str| {
                meshform()
                    .args([
                        OsStr::new("render"),
                        OsStr::new("--passthrough"),
                        OsStr::new("--values"),
                        values(f).as_os_str(),
                        d.path().as_os_str(),
                    ])
                    .run()
            };
            run(under_file).success();
            run(over_file).input_error(&["t.yaml.j2", c.needle]);
            continue;
        }
        d.write(under_file, &c.under);
        let ok = render(d.path());
        assert_eq!(
            ok.code,
            Some(0),
            "{}: under the limit: {}",
            c.limit,
            ok.stderr
        );
        d.write(over_file, &c.over);
        let run = render(d.path());
        assert_eq!(
            run.code,
            Some(2),
            "{}: over the limit: {}",
            c.limit,
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", c.limit);
        assert!(run.stderr.contains(c.needle), "{}: {}", c.limit, run.stderr);
    }
}

#[test]
fn files_limit_counts_files() {
    let d = TempRepo::new();
    // meshform.yaml is one of the files read.
    d.write("meshform.yaml", config("  files: 3\n"));
    d.write("a.yaml", cm("a"));
    d.write("b.yaml", cm("b"));
    render(d.path()).success();
    d.write("c.yaml", cm("c"));
    render(d.path()).input_error(&["limits.files"]);
}

#[test]
fn alias_bomb_within_file_size_is_stopped_early() {
    // 30 levels of doubling: 2^30 nodes if expanded; a few hundred bytes on disk.
    let d = TempRepo::new();
    let mut t = String::from("a0: &a0 [x, x]\n");
    for i in 1..30 {
        t.push_str(&format!("a{i}: &a{i} [*a{}, *a{}]\n", i - 1, i - 1));
    }
    d.write("bomb.yaml", t);
    render(d.path()).input_error(&["bomb.yaml:", "limits.yamlAliasNodes"]);
}

// ------------------------------------------------------------------------------------------
// Templates.

#[test]
fn template_recursion_and_huge_output_end_in_clear_errors() {
    let d = TempRepo::new();
    d.write(
        "rec.yaml.j2",
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\n{{ f(0) }}\n",
    );
    render(d.path()).input_error(&["rec.yaml.j2", "recursion limit"]);
    let d = TempRepo::new();
    d.write("big.yaml.j2", "a: {{ 'x' * 20000000 }}\n");
    render(d.path()).input_error(&["big.yaml.j2", "limits.templateOutput"]);
}

/// `limits.templateFuel` bounds a loop of 10^8 steps.
#[test]
fn template_endless_loops_run_out_of_fuel() {
    let d = TempRepo::new();
    d.write(
        "loop.yaml.j2",
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}\n",
    );
    render(d.path()).input_error(&["loop.yaml.j2", "fuel"]);
}

// ------------------------------------------------------------------------------------------
// Git revisions get the same protections as the working tree.

#[test]
fn git_revisions_refuse_outside_links_and_big_blobs() {
    let d = TempRepo::new();
    let repo = d.path();
    git(repo, &["init", "-q"]);
    write_file(repo, "ok.yaml", cm("ok"));
    std::os::unix::fs::symlink("/etc/passwd", repo.join("abs.yaml")).expect("symlink");
    std::os::unix::fs::symlink("../../x.yaml", repo.join("up.yaml")).expect("symlink");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "links"]);
    // Remove them from the working tree: only the revision has them.
    fs::remove_file(repo.join("abs.yaml")).expect("rm");
    fs::remove_file(repo.join("up.yaml")).expect("rm");
    let run = meshform()
        .args([
            OsStr::new("render"),
            OsStr::new("--passthrough"),
            OsStr::new("--rev"),
            OsStr::new("HEAD"),
            repo.as_os_str(),
        ])
        .run();
    run.input_error(&["outside the repo root"]);

    // A link to a directory, inside or outside the meshform root, is refused as in a checkout.
    git(repo, &["rm", "-q", "--cached", "abs.yaml", "up.yaml"]);
    write_file(repo, "common/c.yaml", cm("c"));
    std::os::unix::fs::symlink("common", repo.join("alias")).expect("symlink");
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "dir link"]);
    let run = meshform()
        .args([
            OsStr::new("render"),
            OsStr::new("--passthrough"),
            OsStr::new("--rev"),
            OsStr::new("HEAD"),
            repo.as_os_str(),
        ])
        .run();
    run.input_error(&["alias", "links to directories are not followed"]);
    fs::remove_file(repo.join("alias")).expect("rm");
    git(repo, &["rm", "-q", "--cached", "alias"]);

    write_file(repo, "meshform.yaml", config("  fileSize: 300\n"));
    write_file(repo, "big.yaml", cm(&"b".repeat(300)));
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "big"]);
    let run = meshform()
        .args([
            OsStr::new("render"),
            OsStr::new("--passthrough"),
            OsStr::new("--rev"),
            OsStr::new("HEAD"),
            repo.as_os_str(),
        ])
        .run();
    run.input_error(&["big.yaml", "limits.fileSize"]);
}

// ------------------------------------------------------------------------------------------
// Regressions found by fuzzing (tests/adversarial/fuzz/<target>/<input>, docs/security.md).
// Each input runs twice: in process, through the target's own body (fuzz/fuzz_targets/
// common.rs, with the fuzzing limits), and through the CLI: a yaml input as `input.yaml`, a
// config as `meshform.yaml`, a template as `t.yaml.j2`, a bundle unpacked into a directory.

#[path = "../fuzz/fuzz_targets/common.rs"]
mod fuzz_targets;

/// A small valid input for each target, replayed with the kept ones, so that the replay runs
/// every target's body and the CLI even while `tests/adversarial/fuzz/` holds no inputs.
fn seed(target: &str) -> Vec<u8> {
    match target {
        "yaml" => cm("seed"),
        "config" => config("  files: 10\n"),
        "template" => {
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: t{{ 1 + 1 }}, namespace: web}\n"
                .to_string()
        }
        _ => format!(
            "{}#> meshform.yaml\n{}",
            cm("seed"),
            config("  objects: 10\n")
        ),
    }
    .into_bytes()
}

#[test]
fn fuzz_regressions_do_not_panic() {
    let root = root().join("tests/adversarial/fuzz");
    // (target, what to call the input in a failure, its bytes)
    let mut inputs: Vec<(&str, String, Vec<u8>)> = fuzz_targets::TARGETS
        .iter()
        .map(|(name, _)| (*name, format!("the {name} seed"), seed(name)))
        .collect();
    if root.exists() {
        for t in fs::read_dir(&root).expect("tests/adversarial/fuzz lists") {
            let t = t.expect("entry").path();
            let dir_name = t.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let (name, _) = fuzz_targets::TARGETS
                .iter()
                .find(|(n, _)| *n == dir_name)
                .unwrap_or_else(|| panic!("{}: no fuzz target of that name", t.display()));
            for input in fs::read_dir(&t).expect("inputs") {
                let input = input.expect("entry").path();
                let data = fs::read(&input).expect("read");
                inputs.push((name, input.display().to_string(), data));
            }
        }
    }
    eprintln!(
        "replaying {} kept input(s) and {} seed(s)",
        inputs.len() - fuzz_targets::TARGETS.len(),
        fuzz_targets::TARGETS.len()
    );
    for (name, input, data) in inputs {
        let (_, body) = fuzz_targets::TARGETS
            .iter()
            .find(|(n, _)| *n == name)
            .expect("a target");
        let caught = std::panic::catch_unwind(|| body(&data));
        assert!(caught.is_ok(), "{input}: the {name} target panics");

        let d = TempRepo::new();
        match name {
            "yaml" => {
                d.write("input.yaml", &data);
            }
            "config" => {
                d.write("meshform.yaml", &data);
            }
            "template" => {
                d.write("t.yaml.j2", &data);
            }
            _ => {
                for (p, text) in fuzz_targets::unbundle(&String::from_utf8_lossy(&data)) {
                    d.write(&p, text);
                }
            }
        }
        let run = render(d.path());
        assert!(
            matches!(run.code, Some(0..=2)),
            "{input}: exit {:?}\n{}",
            run.code,
            run.stderr
        );
        if run.code != Some(0) {
            assert!(run.stdout.is_empty(), "{input}");
        }
    }
}
