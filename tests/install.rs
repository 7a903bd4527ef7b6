//! Installing meshform: `completions` and `man`, the release archive that
//! scripts/package-release.sh packs, the GitHub Action's install steps (action.yml) run against
//! that archive, the asset names the examples download, and the container build context that
//! .dockerignore leaves.

mod support;
use serde_json::Value;
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::{bin, meshform, root, Run, TempRepo};

/// The top-level subcommands, as the completions and the man page must name them.
const SUBCOMMANDS: [&str; 10] = [
    "render",
    "check",
    "diff",
    "test",
    "argocd",
    "krm",
    "trace",
    "policy",
    "completions",
    "man",
];

const SHELLS: [&str; 5] = ["bash", "zsh", "fish", "elvish", "powershell"];

#[test]
fn completions_name_every_subcommand_and_flag_in_each_shell() {
    for shell in SHELLS {
        let r = meshform().args(["completions", shell]).run();
        let out = r.success();
        for word in SUBCOMMANDS
            .iter()
            .chain(&["out-dir", "format", "cluster", "all-clusters"])
        {
            assert!(out.contains(word), "{shell} completions lack {word}");
        }
        assert!(r.stderr.is_empty(), "{shell}: {}", r.stderr);
    }
    // Each script is one the shell parses (the shells present here).
    for (shell, args) in [("bash", ["-n"]), ("zsh", ["-n"])] {
        let script = meshform().args(["completions", shell]).run();
        let t = TempRepo::new();
        let file = t.write("script", script.success());
        let Ok(status) = std::process::Command::new(shell)
            .args(args)
            .arg(&file)
            .status()
        else {
            eprintln!("{shell} is not installed; its completion script is not parsed");
            continue;
        };
        assert!(status.success(), "{shell} -n rejects its completion script");
    }
}

#[test]
fn completions_for_an_unknown_shell_are_a_usage_error() {
    meshform()
        .args(["completions", "tcsh"])
        .run()
        .input_error(&["invalid value 'tcsh'", "bash"]);
}

#[test]
fn the_man_page_has_a_title_options_and_subcommands() {
    let r = meshform().arg("man").run();
    let page = r.success();
    assert!(page.contains(".TH meshform 1"), "{page}");
    for needle in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", "\\-\\-verbose"] {
        assert!(
            page.contains(needle),
            "the man page lacks {needle}:\n{page}"
        );
    }
    assert!(
        !page.contains("meshform\\-help(1)"),
        "no help page to point at"
    );
    for sub in SUBCOMMANDS {
        assert!(
            page.contains(&format!("meshform\\-{sub}(1)")),
            "the man page lacks {sub}:\n{page}"
        );
    }
}

#[test]
fn man_dir_writes_one_page_per_subcommand_with_its_options() {
    let t = TempRepo::new();
    let dir = t.join("man/man1");
    meshform().arg("man").arg("--dir").arg(&dir).run().exit(0);
    let pages = names(&dir);
    for sub in SUBCOMMANDS {
        assert!(pages.contains(&format!("meshform-{sub}.1")), "{pages:?}");
    }
    assert!(pages.contains("meshform.1") && pages.contains("meshform-policy-test.1"));
    let render = std::fs::read_to_string(dir.join("meshform-render.1")).expect("render page");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        render.contains(&format!(".TH meshform-render 1  \"meshform {version}\"")),
        "{render}"
    );
    assert!(!pages.contains("meshform-help.1"), "{pages:?}");
    for flag in ["\\-\\-out\\-dir", "\\-\\-cluster", "\\-\\-all\\-clusters"] {
        assert!(render.contains(flag), "meshform-render.1 lacks {flag}");
    }
}

#[test]
fn man_dir_that_cannot_be_made_is_an_error() {
    let t = TempRepo::new();
    let file = t.write("file", "x");
    meshform()
        .arg("man")
        .arg("--dir")
        .arg(file.join("man"))
        .run()
        .fails(2, &["cannot write man pages"]);
}

/// The file names in `dir`.
fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

const TAG: &str = "v0.0.0-test";
const TARGET: &str = "x86_64-unknown-linux-musl";

/// The directory holding the release archive of the debug binary, packed once per test run
/// (each archive is some 70 MB).
fn packed() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Under target/tmp, one copy replaced by each run.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("release");
        let _ = std::fs::remove_dir_all(&dir);
        let r = support::Cli::program(root().join("scripts/package-release.sh"))
            .arg(bin())
            .args([TAG, TARGET])
            .arg(&dir)
            .env("PACKAGE_GZIP_LEVEL", "1")
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .run();
        let printed = r.success().trim().to_string();
        assert_eq!(
            printed,
            dir.join(format!("meshform-{TAG}-{TARGET}.tar.gz"))
                .display()
                .to_string()
        );
        dir
    })
}

/// Every entry of a .tar.gz: path, mode, mtime, and the contents of files under 1 MiB.
fn entries(archive: &Path) -> Vec<(String, u32, u64, Option<String>)> {
    let file = std::fs::File::open(archive).expect("archive");
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for e in tar.entries().expect("tar entries") {
        let mut e = e.expect("tar entry");
        let path = e.path().expect("entry path").display().to_string();
        let header = e.header();
        let (mode, mtime, size) = (
            header.mode().expect("mode"),
            header.mtime().expect("mtime"),
            header.size().expect("size"),
        );
        assert_eq!(
            (header.uid().expect("uid"), header.gid().expect("gid")),
            (0, 0),
            "{path}"
        );
        let text = (size < 1 << 20).then(|| {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).expect("text entry");
            s
        });
        out.push((path, mode, mtime, text));
    }
    out
}

#[test]
fn the_release_archive_holds_the_binary_completions_and_man_pages() {
    let dir = packed();
    let asset = format!("meshform-{TAG}-{TARGET}.tar.gz");
    assert_eq!(
        names(dir),
        BTreeSet::from([asset.clone(), format!("{asset}.sha256")])
    );
    // The checksum file is in sha256sum's format and checks from its directory.
    let sum = std::fs::read_to_string(dir.join(format!("{asset}.sha256"))).expect("sha256");
    assert!(sum.ends_with(&format!("  {asset}\n")), "{sum}");
    let check = std::process::Command::new("sha256sum")
        .args(["-c", &format!("{asset}.sha256")])
        .current_dir(dir)
        .output()
        .expect("sha256sum runs");
    assert!(check.status.success(), "{check:?}");

    let entries = entries(&dir.join(&asset));
    let paths: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(
        paths, sorted,
        "names are sorted, for a reproducible archive"
    );
    let files: BTreeSet<&str> = paths
        .iter()
        .copied()
        .filter(|p| !p.ends_with('/'))
        .collect();
    let mut expected: BTreeSet<String> = [
        "meshform",
        "README.md",
        "completions/meshform.bash",
        "completions/_meshform",
        "completions/meshform.fish",
        "completions/meshform.elv",
        "completions/_meshform.ps1",
        "man/meshform.1",
        "man/meshform-policy-test.1",
        "man/meshform-argocd-generate.1",
        "man/meshform-argocd-parameters.1",
    ]
    .map(String::from)
    .into();
    expected.extend(SUBCOMMANDS.iter().map(|s| format!("man/meshform-{s}.1")));
    assert_eq!(
        files,
        expected.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
    for (path, mode, mtime, text) in &entries {
        assert_eq!(*mtime, 1_700_000_000, "{path}: mtime is SOURCE_DATE_EPOCH");
        match path.as_str() {
            "meshform" => assert_eq!(mode & 0o777, 0o755),
            p if p.ends_with('/') => assert_eq!(mode & 0o777, 0o755, "{p}"),
            p => assert_eq!(mode & 0o777, 0o644, "{p}"),
        }
        let text = text.as_deref().unwrap_or("");
        if path.starts_with("completions/") && !path.ends_with('/') {
            for sub in SUBCOMMANDS {
                assert!(text.contains(sub), "{path} lacks {sub}");
            }
        }
        if path.starts_with("man/") && !path.ends_with('/') {
            assert!(text.contains(".TH meshform"), "{path}");
        }
    }
    let size = entries_size(&dir.join(&asset), "meshform");
    assert_eq!(size, std::fs::metadata(bin()).expect("binary").len());
}

/// The size of one entry of a .tar.gz.
fn entries_size(archive: &Path, name: &str) -> u64 {
    let file = std::fs::File::open(archive).expect("archive");
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for e in tar.entries().expect("tar entries") {
        let e = e.expect("tar entry");
        if e.path().expect("path").to_str() == Some(name) {
            return e.header().size().expect("size");
        }
    }
    panic!("no {name} in {}", archive.display());
}

#[test]
fn package_release_refuses_bad_arguments() {
    let script = root().join("scripts/package-release.sh");
    let r = support::Cli::program(&script).arg(bin()).run();
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("usage:"), "{}", r.stderr);
    let r = support::Cli::program(&script)
        .arg(bin())
        .args(["v1/2", TARGET])
        .run();
    assert_eq!(r.code, Some(2), "{r:?}");
    let t = TempRepo::new();
    let r = support::Cli::program(&script)
        .arg(t.join("missing"))
        .args([TAG, TARGET])
        .run();
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("not an executable"), "{}", r.stderr);
}

/// action.yml as JSON.
fn action() -> Value {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    serde_saphyr::from_str(&text).expect("action.yml is YAML")
}

/// The `run:` script of the action's step `id`.
fn action_step(id: &str) -> String {
    action()["runs"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == id)
        .and_then(|s| s["run"].as_str())
        .unwrap_or_else(|| panic!("no action step {id:?} with a run script"))
        .to_string()
}

/// The `KEY=VALUE` lines a step wrote to `GITHUB_OUTPUT`.
fn outputs(file: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Writes an executable script.
fn script(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Runs an action step's script as a runner would (`bash -e`), with `fake/` first on PATH.
fn run_action_step(t: &TempRepo, id: &str, env: &[(&str, &str)]) -> Run {
    let path = format!(
        "{}:{}",
        t.join("fake").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = support::Cli::program("bash");
    c.current_dir(t.path())
        .args(["--noprofile", "--norc", "-e", "-c", &action_step(id)])
        .env("PATH", path)
        .env("GITHUB_OUTPUT", t.join("output"))
        .env("RUNNER_TEMP", t.join("runner-temp"))
        .env("RUNNER_TOOL_CACHE", t.join("tool-cache"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.run()
}

#[test]
fn the_action_plans_the_asset_of_the_runner_and_the_repository_of_uses() {
    let t = TempRepo::new();
    let r = run_action_step(
        &t,
        "plan",
        &[
            ("VERSION", "v1.2.3"),
            ("REPOSITORY", ""),
            (
                "ACTION_PATH",
                "/home/runner/work/_actions/acme/meshform/v1.2.3",
            ),
            ("RUNNER_OS", "Linux"),
            ("RUNNER_ARCH", "ARM64"),
        ],
    );
    r.exit(0);
    let root_dir = t.join("tool-cache/meshform/v1.2.3/Linux-ARM64");
    assert_eq!(
        outputs(&t.join("output")),
        [
            ("repository", "acme/meshform"),
            ("target", "aarch64-unknown-linux-musl"),
            ("root", &root_dir.display().to_string()),
            ("bin-dir", &root_dir.join("bin").display().to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );

    // No asset for macOS: an empty target, so the install step builds from source.
    let t = TempRepo::new();
    let env = [
        ("VERSION", "v1.2.3"),
        ("REPOSITORY", "other/fork"),
        ("ACTION_PATH", "/x/_actions/acme/meshform/v1.2.3"),
        ("RUNNER_OS", "macOS"),
        ("RUNNER_ARCH", "ARM64"),
    ];
    run_action_step(&t, "plan", &env).exit(0);
    let out = outputs(&t.join("output"));
    assert_eq!(out[0], ("repository".into(), "other/fork".into()));
    assert_eq!(out[1], ("target".into(), String::new()));

    // A version that is no tag fails the step with an annotation.
    let t = TempRepo::new();
    let mut bad = env;
    bad[0] = ("VERSION", "");
    let r = run_action_step(&t, "plan", &bad);
    assert_eq!(r.code, Some(1));
    assert!(r
        .stdout
        .contains("::error title=meshform::the version input"));
}

/// A fake `curl` that serves the files of `served` by the last part of the URL (exit 22, as
/// curl -f on a 404, for any other), and a fake `cargo` that records its arguments and
/// installs a stub binary under its `--root`.
fn fake_tools(t: &TempRepo, served: &Path) {
    let fake = t.mkdir("fake");
    script(
        &fake.join("curl"),
        &format!(
            r#"#!/usr/bin/env bash
out="" url=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    --retry) shift 2 ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
echo "$url" >>"{log}"
name=${{url##*/}}
[ -f "{served}/$name" ] || exit 22
cp "{served}/$name" "$out"
"#,
            log = t.join("curl.log").display(),
            served = served.display()
        ),
    );
    script(
        &fake.join("cargo"),
        &format!(
            r#"#!/usr/bin/env bash
echo "$*" >"{log}"
while [ "$#" -gt 0 ]; do
  if [ "$1" = --root ]; then mkdir -p "$2/bin"; printf '#!/bin/sh\necho built\n' >"$2/bin/meshform"; chmod +x "$2/bin/meshform"; fi
  shift
done
"#,
            log = t.join("cargo.log").display()
        ),
    );
}

#[test]
fn the_action_installs_the_release_asset_after_checking_its_sum() {
    let t = TempRepo::new();
    fake_tools(&t, packed());
    let root_dir = t.join("tool-cache/meshform").join(TAG);
    let root_s = root_dir.display().to_string();
    let env = [
        ("VERSION", TAG),
        ("REPOSITORY", "acme/meshform"),
        ("TARGET", TARGET),
        ("ROOT", root_s.as_str()),
        ("RUNNER_OS", "Linux"),
        ("RUNNER_ARCH", "X64"),
    ];
    let r = run_action_step(&t, "install", &env);
    r.exit(0);
    let asset = format!("meshform-{TAG}-{TARGET}.tar.gz");
    let urls = std::fs::read_to_string(t.join("curl.log")).expect("curl ran");
    let url = format!("https://github.com/acme/meshform/releases/download/{TAG}/{asset}");
    assert_eq!(urls, format!("{url}\n{url}.sha256\n"));
    assert!(
        !t.join("cargo.log").exists(),
        "no build when the asset exists"
    );
    assert_eq!(
        outputs(&t.join("output")),
        [("source".to_string(), "release".to_string())]
    );
    let installed = root_dir.join("bin/meshform");
    let v = support::Cli::program(&installed).arg("--version").run();
    assert!(v.success().starts_with("meshform "), "{v:?}");

    // A tampered archive fails the step and installs nothing.
    let t = TempRepo::new();
    let served = t.mkdir("served");
    std::fs::copy(
        packed().join(format!("{asset}.sha256")),
        served.join(format!("{asset}.sha256")),
    )
    .expect("copy sum");
    std::fs::write(served.join(&asset), b"not the archive").expect("write");
    fake_tools(&t, &served);
    let root_dir = t.join("root");
    let root_s = root_dir.display().to_string();
    let mut env = env;
    env[3] = ("ROOT", root_s.as_str());
    let r = run_action_step(&t, "install", &env);
    assert_ne!(r.code, Some(0), "{r:?}");
    assert!(!root_dir.join("bin/meshform").exists());
    assert!(!t.join("cargo.log").exists());
}

#[test]
fn the_action_builds_from_the_tag_when_no_asset_exists() {
    for target in [TARGET, ""] {
        let t = TempRepo::new();
        let empty = t.mkdir("served");
        fake_tools(&t, &empty);
        let root_dir = t.join("root");
        let root_s = root_dir.display().to_string();
        let r = run_action_step(
            &t,
            "install",
            &[
                ("VERSION", "v9.9.9"),
                ("REPOSITORY", "acme/meshform"),
                ("TARGET", target),
                ("ROOT", root_s.as_str()),
                ("RUNNER_OS", "macOS"),
                ("RUNNER_ARCH", "ARM64"),
            ],
        );
        r.exit(0);
        assert!(r
            .stdout
            .contains("::notice title=meshform::no release asset"));
        assert_eq!(
            std::fs::read_to_string(t.join("cargo.log")).expect("cargo ran"),
            format!(
                "install --locked --root {root_s} --git https://github.com/acme/meshform \
                 --tag v9.9.9 meshform\n"
            )
        );
        assert!(root_dir.join("bin/meshform").exists());
        assert_eq!(
            outputs(&t.join("output")),
            [("source".to_string(), "cargo".to_string())]
        );
        // Without a target, nothing is downloaded.
        assert_eq!(
            t.join("curl.log").exists(),
            !target.is_empty(),
            "{target:?}"
        );
    }
}

/// The targets `.github/workflows/release.yml` builds.
fn release_targets() -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(root().join(".github/workflows/release.yml")).expect("release.yml");
    let wf: Value = serde_saphyr::from_str(&text).expect("release.yml is YAML");
    let job = &wf["jobs"]["binaries"];
    assert!(
        job["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .any(|s| s["run"].as_str().is_some_and(|r| r
                .contains("scripts/package-release.sh \"$bin\" \"$GITHUB_REF_NAME\" \"$TARGET\""))),
        "the release packs with scripts/package-release.sh"
    );
    job["strategy"]["matrix"]["include"]
        .as_array()
        .expect("matrix")
        .iter()
        .map(|m| m["target"].as_str().expect("target").to_string())
        .collect()
}

#[test]
fn the_examples_download_assets_the_release_makes() {
    let targets = release_targets();
    assert!(targets.contains("x86_64-unknown-linux-musl"), "{targets:?}");
    // The action's targets, one per runner arch.
    let plan = action_step("plan");
    for t in ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"] {
        assert!(
            plan.contains(&format!("target={t}")),
            "action.yml lacks {t}"
        );
        assert!(targets.contains(t), "release.yml does not build {t}");
    }
    assert!(action_step("install").contains(r#"asset="meshform-$VERSION-$TARGET.tar.gz""#));
    // The Flux example: the same name, and its checksum.
    let flux = std::fs::read_to_string(root().join("plugin/flux/render.yaml")).expect("flux");
    let named: Vec<&str> = flux
        .split("meshform-${MESHFORM_VERSION}-")
        .skip(1)
        .filter_map(|s| s.split(".tar.gz").next())
        .collect();
    assert!(!named.is_empty(), "plugin/flux/render.yaml names no asset");
    for t in named {
        assert!(targets.contains(t), "flux downloads {t}, not built");
    }
    assert!(flux.contains("sha256sum -c"));
    // The PR workflow installs with the action rather than compiling.
    let pr = std::fs::read_to_string(root().join("plugin/github/meshform.yml")).expect("pr");
    assert!(pr.contains("uses: meshform/meshform@v"), "{pr}");
    assert!(!pr.contains("cargo install"), "{pr}");
}

/// A .dockerignore pattern: negated (`!`), its text, its glob.
struct Pattern {
    negated: bool,
    text: String,
    glob: globset::GlobMatcher,
}

/// .dockerignore's patterns, in order.
fn dockerignore() -> Vec<Pattern> {
    let text = std::fs::read_to_string(root().join(".dockerignore")).expect(".dockerignore");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (negated, pat) = l.strip_prefix('!').map_or((false, l), |p| (true, p));
            let pat = pat.trim_matches('/');
            let glob = globset::GlobBuilder::new(pat)
                .literal_separator(true)
                .build()
                .expect("pattern");
            Pattern {
                negated,
                text: pat.to_string(),
                glob: glob.compile_matcher(),
            }
        })
        .collect()
}

/// Whether Docker leaves `rel` out of the build context: the last pattern matching it or one
/// of its parent directories decides.
fn ignored(patterns: &[Pattern], rel: &Path) -> bool {
    let mut out = false;
    for p in patterns {
        if rel
            .ancestors()
            .any(|a| !a.as_os_str().is_empty() && p.glob.is_match(a))
        {
            out = !p.negated;
        }
    }
    out
}

/// The files of the build context Docker sends for `docker build -f plugin/Dockerfile .`
/// from this checkout (an ignored directory is not entered unless a `!` pattern reaches in).
fn context_files(patterns: &[Pattern]) -> BTreeSet<PathBuf> {
    fn visit(patterns: &[Pattern], dir: &Path, rel: &Path, out: &mut BTreeSet<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read dir") {
            let e = e.expect("entry");
            let rel = rel.join(e.file_name());
            let ty = e.file_type().expect("file type");
            let reopened = || {
                let prefix = format!("{}/", rel.display());
                patterns
                    .iter()
                    .any(|p| p.negated && p.text.starts_with(&prefix))
            };
            if ty.is_dir() {
                if !ignored(patterns, &rel) || reopened() {
                    visit(patterns, &e.path(), &rel, out);
                }
            } else if !ignored(patterns, &rel) {
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    visit(patterns, &root(), Path::new(""), &mut out);
    out
}

/// The files a build of plugin/Dockerfile must have: the manifest and lock, the sources, the
/// files they compile in (`include_str!`), the targets Cargo.toml declares, plugin.yaml.
fn build_inputs() -> BTreeSet<PathBuf> {
    let mut need: BTreeSet<PathBuf> = [
        "Cargo.toml",
        "Cargo.lock",
        "src/main.rs",
        "src/lib.rs",
        "plugin/plugin.yaml",
        "examples/genrepo.rs",
        "benches/stages.rs",
    ]
    .map(PathBuf::from)
    .into();
    for file in support::walk(&root().join("src")) {
        if file.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let rel = file.strip_prefix(root()).expect("under root").to_path_buf();
        let text = std::fs::read_to_string(&file).expect("source");
        for part in text.split("include_str!(\"").skip(1) {
            let target = part.split('"').next().expect("a quoted path");
            let mut clean = PathBuf::new();
            for c in rel.parent().expect("dir").join(target).components() {
                match c {
                    std::path::Component::ParentDir => {
                        clean.pop();
                    }
                    c => clean.push(c),
                }
            }
            need.insert(clean);
        }
        need.insert(rel);
    }
    need
}

#[test]
fn the_container_context_has_what_the_build_needs_and_no_target() {
    let patterns = dockerignore();
    let context = context_files(&patterns);
    let need = build_inputs();
    assert!(
        need.contains(Path::new("docs/config.schema.json")),
        "{need:?}"
    );
    assert!(
        need.contains(Path::new("policies/externalservice-ports.yaml")),
        "{need:?}"
    );
    let missing: Vec<_> = need.difference(&context).collect();
    assert!(missing.is_empty(), "the build context lacks {missing:?}");
    for gone in [
        "target/debug/meshform",
        "fuzz/target/x",
        ".git/HEAD",
        "tests/install.rs",
        "docs/ci.md",
    ] {
        assert!(ignored(&patterns, Path::new(gone)), "{gone} is sent");
    }
    assert!(
        !context.iter().any(|p| p.starts_with("target")),
        "target/ is sent"
    );
    // The Dockerfile copies the context whole and the plugin config by path.
    let dockerfile = std::fs::read_to_string(root().join("plugin/Dockerfile")).expect("Dockerfile");
    assert!(dockerfile.contains("COPY . ."));
    assert!(dockerfile.contains("COPY plugin/plugin.yaml "));
    assert!(dockerfile.contains("cargo build --release --locked --bin meshform"));

    // Cargo loads the manifest of the context as sent, every target it declares included
    // (`cargo metadata` does not look for them): asked for a binary that does not exist, it
    // gets as far as saying so, and builds nothing.
    let t = TempRepo::new();
    for rel in &context {
        let to = t.path().join(rel);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(root().join(rel), &to).expect("copy");
    }
    let out = std::process::Command::new(env!("CARGO"))
        .args(["build", "--offline", "--locked", "--bin", "no-such-binary"])
        .env("CARGO_TARGET_DIR", t.join("target"))
        .current_dir(t.path())
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no bin target named `no-such-binary`"),
        "{stderr}"
    );
}
