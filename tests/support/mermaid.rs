//! Checks of the Mermaid blocks of a markdown document: every label at most 80 characters as
//! shown, and every block accepted by Mermaid's own parser (`tests/mermaid/parse.mjs`, run with
//! `node` when `npm ci` was run in `tests/mermaid`; skipped with a message otherwise, unless
//! `MESHFORM_REQUIRE_MERMAID` is set, as `.ci/run` does).

use super::cli::Cli;
use super::files::root;

/// The longest label a picture may show.
pub const MAX_LABEL: usize = 80;

/// The ```` ```mermaid ```` blocks of `md`.
pub fn mermaid_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = md.lines();
    while let Some(l) = lines.next() {
        let ticks = l.len() - l.trim_start_matches('`').len();
        if ticks >= 3 && &l[ticks..] == "mermaid" {
            let close = &l[..ticks];
            let body: Vec<&str> = lines.by_ref().take_while(|x| *x != close).collect();
            out.push(body.join("\n") + "\n");
        }
    }
    out
}

/// The quoted labels of a block, with Mermaid's entities (`#35;`, `#quot;`) decoded.
pub fn mermaid_labels(block: &str) -> Vec<String> {
    let named = |e: &str| match e {
        "quot" => Some('"'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        n => n.parse::<u32>().ok().and_then(char::from_u32),
    };
    let mut out = Vec::new();
    for quoted in block.split('"').skip(1).step_by(2) {
        let mut s = String::new();
        let mut rest = quoted;
        while let Some(at) = rest.find('#') {
            s.push_str(&rest[..at]);
            let tail = &rest[at + 1..];
            match tail
                .find(';')
                .and_then(|end| Some((end, named(&tail[..end])?)))
            {
                Some((end, c)) => {
                    s.push(c);
                    rest = &tail[end + 1..];
                }
                None => {
                    s.push('#');
                    rest = tail;
                }
            }
        }
        s.push_str(rest);
        out.push(s);
    }
    out
}

/// Asserts every block of `md` parses with Mermaid's parser (when it is installed) and no
/// label is longer than [`MAX_LABEL`]; returns the blocks.
#[track_caller]
pub fn check_mermaid(md: &str) -> Vec<String> {
    let blocks = mermaid_blocks(md);
    for b in &blocks {
        for l in mermaid_labels(b) {
            assert!(
                l.chars().count() <= MAX_LABEL,
                "label of {} characters: {l}\n{b}",
                l.chars().count()
            );
        }
    }
    let dir = root().join("tests/mermaid");
    let installed =
        dir.join("node_modules/mermaid").is_dir() && dir.join("node_modules/jsdom").is_dir();
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed || !node {
        let required = std::env::var_os("MESHFORM_REQUIRE_MERMAID").is_some_and(|v| !v.is_empty());
        assert!(
            !required,
            "MESHFORM_REQUIRE_MERMAID is set but node or the packages of tests/mermaid are missing (run `npm ci` there)"
        );
        eprintln!("skipped: Mermaid's parser not run (needs `node` and `npm ci` in tests/mermaid)");
        return blocks;
    }
    let r = Cli::program("node")
        .arg(dir.join("parse.mjs"))
        .stdin(md.as_bytes().to_vec())
        .run();
    assert_eq!(
        r.code,
        Some(0),
        "Mermaid's parser: {}{}\n{md}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stdout
            .contains(&format!("{} mermaid blocks, 0 failures", blocks.len())),
        "{}",
        r.stdout
    );
    blocks
}
