//! The docs show only commands, flags and files that exist: every `meshform …` command in a
//! fenced block of README.md and docs/*.md parses with the CLI's own definition, and every
//! repository path they name in backticks is a file or directory of this repository.

use clap::error::ErrorKind;
use clap::Parser;
use meshform::cli::Cli;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown page under docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

/// The lines of fenced code blocks, backslash continuations joined, with their line numbers.
fn fenced_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if !inside {
            continue;
        }
        let (n, mut joined) = pending.take().unwrap_or((i + 1, String::new()));
        joined.push_str(line.trim());
        if let Some(stripped) = joined.strip_suffix('\\') {
            pending = Some((n, format!("{} ", stripped.trim_end())));
        } else {
            out.push((n, joined));
        }
    }
    out
}

/// Splits a shell word list: single and double quotes group, nothing else is interpreted.
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                started = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if started || !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// The `meshform …` command of a line, cut at a comment, pipe, redirection or list operator,
/// with `${{ … }}` and `$VAR` expansions replaced by a plain word. `None` when the line runs
/// no meshform command, or shows a placeholder (`<…>`, `…`) rather than a command.
fn command(line: &str) -> Option<Vec<String>> {
    let start = line.find("meshform ")?;
    let before = line[..start].trim_end();
    // At the start of the line, after `$ `, `run: `, env assignments or a list operator.
    let ok_before = before.is_empty()
        || before.ends_with('$')
        || before.ends_with("run:")
        || before.ends_with("&&")
        || before.ends_with(';')
        || before.split_whitespace().all(|w| w.contains('='));
    if !ok_before {
        return None;
    }
    let mut cmd = line[start..].to_string();
    while let (Some(a), Some(b)) = (cmd.find("${{"), cmd.find("}}")) {
        if b < a {
            break;
        }
        cmd.replace_range(a..b + 2, "X");
    }
    let cut = cmd.find(['#', '|', '>', ';', '&']).unwrap_or(cmd.len());
    let cmd = cmd[..cut].trim();
    if cmd.contains('…') || cmd.contains('<') || cmd.contains("...") || cmd.contains(" [") {
        return None;
    }
    let words: Vec<String> = shell_words(cmd)
        .into_iter()
        .map(|w| if w.starts_with('$') { "X".into() } else { w })
        .collect();
    Some(words)
}

#[test]
fn shell_words_and_commands_are_read_like_a_shell() {
    assert_eq!(shell_words("a 'b c' \"d\" ''"), ["a", "b c", "d", ""]);
    assert_eq!(
        command("$ meshform render --cluster prod . > out.yaml  # note").unwrap(),
        ["meshform", "render", "--cluster", "prod", "."]
    );
    assert_eq!(
        command("- run: meshform render . --cluster ${{ matrix.cluster }} --out-dir out").unwrap(),
        [
            "meshform",
            "render",
            ".",
            "--cluster",
            "X",
            "--out-dir",
            "out"
        ]
    );
    assert!(command("cargo install meshform --locked").is_none());
    assert!(command("meshform diff --base … --head …").is_none());
    let joined = fenced_lines("```sh\nmeshform diff \\\n  --format markdown\n```\n");
    assert_eq!(joined, [(2, "meshform diff --format markdown".to_string())]);
}

/// Inline code spans that hold a whole command (`meshform render --cluster NAME .`), with their
/// line numbers; a span showing a synopsis (`[PATH]`, `a|b`) is left out.
fn inline_commands(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if inside {
            continue;
        }
        for (j, part) in line.split('`').enumerate() {
            if j % 2 == 1 && part.starts_with("meshform ") && !part.contains(['[', '|']) {
                out.push((i + 1, part.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_documented_command_parses() {
    let mut seen = 0;
    let mut bad = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read page");
        let mut lines = fenced_lines(&text);
        lines.extend(inline_commands(&text));
        for (n, line) in lines {
            let Some(words) = command(&line) else {
                continue;
            };
            seen += 1;
            if let Err(e) = Cli::try_parse_from(&words) {
                // A span naming a command or a flag (`meshform policy test`, `--out-dir`)
                // rather than a whole command: every word exists, the value is left out.
                let names_a_flag = words.last().is_some_and(|w| w.starts_with('-'));
                if e.kind() == ErrorKind::MissingRequiredArgument
                    || (e.kind() == ErrorKind::InvalidValue && names_a_flag)
                {
                    continue;
                }
                let first = e.to_string().lines().next().unwrap_or("").to_string();
                bad.push(format!(
                    "{}:{n}: `{}`: {first}",
                    rel(&page),
                    words.join(" ")
                ));
            }
        }
    }
    assert!(seen >= 10, "only {seen} documented commands found");
    assert!(
        bad.is_empty(),
        "commands in the docs that meshform rejects:\n{}",
        bad.join("\n")
    );
}

/// Backticked paths that start at a top-level directory of this repository.
fn repo_paths(text: &str) -> Vec<(usize, String)> {
    const TOP: [&str; 12] = [
        ".ci/",
        "benches/",
        "docs/",
        "examples/",
        "fixtures/",
        "fuzz/",
        "plugin/",
        "policies/",
        "schemas/",
        "scripts/",
        "src/",
        "tests/",
    ];
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (j, part) in line.split('`').enumerate() {
            if j % 2 == 0 {
                continue;
            }
            let p = part.trim_end_matches('/');
            let plain = p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'));
            if plain && TOP.iter().any(|t| p.starts_with(t)) {
                out.push((i + 1, p.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_documented_path_exists() {
    let mut seen = 0;
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read page");
        for (n, p) in repo_paths(&text) {
            seen += 1;
            if !root().join(&p).exists() {
                missing.push(format!("{}:{n}: `{p}`", rel(&page)));
            }
        }
    }
    assert!(seen >= 10, "only {seen} documented paths found");
    assert!(
        missing.is_empty(),
        "paths in the docs that do not exist:\n{}",
        missing.join("\n")
    );
}

/// The anchors GitHub gives a page's headings: lower case, letters, digits, `-` and `_` kept,
/// spaces become `-`, the rest dropped; a repeated anchor gets `-1`, `-2`, ….
fn heading_anchors(text: &str) -> Vec<String> {
    let mut anchors: Vec<String> = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        let Some(title) = line.strip_prefix('#') else {
            continue;
        };
        if inside {
            continue;
        }
        let title = title.trim_start_matches('#');
        if !title.starts_with(' ') {
            continue;
        }
        let base: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('-'),
                c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                _ => None,
            })
            .collect();
        let mut anchor = base.clone();
        let mut n = 0;
        while anchors.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        anchors.push(anchor);
    }
    anchors
}

/// Each `docs/<page>.md#<anchor>` in a file's text, with its line number.
fn doc_links(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("docs/") {
            rest = &rest[at + "docs/".len()..];
            let page: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect();
            let Some(after) = rest[page.len()..].strip_prefix(".md#") else {
                continue;
            };
            let anchor: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .collect();
            out.push((i + 1, page, anchor));
        }
    }
    out
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn heading_anchors_are_read_like_github() {
    let page = "# How meshform translates Gloo to Istio\n```\n# not a heading\n```\n\
                ### ExternalService → ServiceEntry, DestinationRule\n#### MirrorPolicy\n\
                #### MirrorPolicy\n#nospace\n";
    assert_eq!(
        heading_anchors(page),
        [
            "how-meshform-translates-gloo-to-istio",
            "externalservice--serviceentry-destinationrule",
            "mirrorpolicy",
            "mirrorpolicy-1",
        ]
    );
    assert_eq!(
        doc_links(
            "see (docs/translation.md#egress, [I]) and docs/config.md and docs/ci.md#report-paths."
        ),
        [
            (1, "translation".to_string(), "egress".to_string()),
            (1, "ci".to_string(), "report-paths".to_string()),
        ]
    );
}

/// Source comments and messages, and the built-in policies, cite docs/ sections that exist, and
/// no file the repository does not have (`shared/…`, or a `§` section of one).
#[test]
fn every_docs_anchor_cited_from_src_exists() {
    let mut files = Vec::new();
    source_files(&root().join("src"), &mut files);
    for entry in std::fs::read_dir(root().join("policies")).expect("policies/") {
        let path = entry.expect("policies entry").path();
        if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
    files.sort();
    let mut seen = 0;
    let mut bad = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let outside = ["../shared", "shared/reference", "shared/schemas"];
            if line.contains('§') || outside.iter().any(|o| line.contains(o)) {
                bad.push(format!(
                    "{}:{}: a reference to a file outside the repository: {}",
                    rel(&file),
                    n + 1,
                    line.trim()
                ));
            }
        }
        for (n, page, anchor) in doc_links(&text) {
            seen += 1;
            let path = root().join("docs").join(format!("{page}.md"));
            let Ok(doc) = std::fs::read_to_string(&path) else {
                bad.push(format!("{}:{n}: docs/{page}.md does not exist", rel(&file)));
                continue;
            };
            if !heading_anchors(&doc).contains(&anchor) {
                bad.push(format!(
                    "{}:{n}: docs/{page}.md has no heading #{anchor}",
                    rel(&file)
                ));
            }
        }
    }
    assert!(seen >= 10, "only {seen} docs anchors found in src/");
    assert!(
        bad.is_empty(),
        "citations in src/ that point nowhere:\n{}",
        bad.join("\n")
    );
}

/// The fenced ```yaml blocks of a page, with the line of their first line.
fn yaml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut block: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let fence = line.trim_start();
        match block.take() {
            None if fence == "```yaml" => block = Some((i + 2, String::new())),
            None => {}
            Some(b) if fence.starts_with("```") => out.push(b),
            Some((n, mut body)) => {
                body.push_str(line);
                body.push('\n');
                block = Some((n, body));
            }
        }
    }
    out
}

/// Every whole `meshform.yaml` docs/config.md shows is one meshform accepts, and the example that
/// says it shows the default limits shows them.
#[test]
fn the_config_page_shows_configs_meshform_accepts() {
    let page = root().join("docs/config.md");
    let text = std::fs::read_to_string(&page).expect("read docs/config.md");
    let mut seen = 0;
    for (n, block) in yaml_blocks(&text) {
        if !block.contains("kind: Config") {
            continue;
        }
        seen += 1;
        let config = meshform::config::Config::parse(&block)
            .unwrap_or_else(|e| panic!("docs/config.md:{n}: meshform.yaml refused: {e}"));
        if block.contains("the defaults are shown") {
            assert_eq!(
                config.limits,
                meshform::config::Limits::default(),
                "docs/config.md:{n}: the limits shown are not the defaults"
            );
        }
    }
    assert!(seen >= 1, "no meshform.yaml example in docs/config.md");
}

/// Test functions the docs name (`every_limit_is_settable_and_enforced`) exist.
#[test]
fn every_test_the_docs_name_exists() {
    let mut code = String::new();
    for dir in ["src", "tests", "fuzz", "benches", "examples"] {
        let mut files = Vec::new();
        if root().join(dir).is_dir() {
            source_files(&root().join(dir), &mut files);
        }
        for f in files {
            code.push_str(&std::fs::read_to_string(f).unwrap_or_default());
        }
    }
    let mut seen = 0;
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read page");
        for (i, line) in text.lines().enumerate() {
            for (j, part) in line.split('`').enumerate() {
                let words = part.split('_').count();
                let ident = part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                // Test names are sentences; GitHub event names are not tests.
                if j % 2 == 0 || !ident || words < 4 || part.starts_with("pull_request") {
                    continue;
                }
                seen += 1;
                if !code.contains(&format!("fn {part}(")) {
                    missing.push(format!("{}:{}: `{part}`", rel(&page), i + 1));
                }
            }
        }
    }
    assert!(seen >= 10, "only {seen} test names found in the docs");
    assert!(
        missing.is_empty(),
        "tests the docs name that do not exist:\n{}",
        missing.join("\n")
    );
}

/// The pages' links to sections, `[..](#a)`, `[..](page.md#a)` and `docs/page.md#a`, point at
/// headings that exist.
#[test]
fn every_section_link_in_the_docs_exists() {
    let mut seen = 0;
    let mut bad = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read page");
        let dir = page.parent().expect("page dir").to_path_buf();
        let mut links: Vec<(usize, PathBuf, String)> = doc_links(&text)
            .into_iter()
            .map(|(n, p, a)| (n, root().join("docs").join(format!("{p}.md")), a))
            .collect();
        for (i, line) in text.lines().enumerate() {
            for part in line.split("](").skip(1) {
                let Some(target) = part.split(')').next() else {
                    continue;
                };
                let Some((file, anchor)) = target.split_once('#') else {
                    continue;
                };
                if file.contains("://") || !(file.is_empty() || file.ends_with(".md")) {
                    continue;
                }
                let path = if file.is_empty() {
                    page.clone()
                } else {
                    dir.join(file)
                };
                links.push((i + 1, path, anchor.to_string()));
            }
        }
        for (n, path, anchor) in links {
            seen += 1;
            let Ok(doc) = std::fs::read_to_string(&path) else {
                bad.push(format!("{}:{n}: {} does not exist", rel(&page), rel(&path)));
                continue;
            };
            if !heading_anchors(&doc).contains(&anchor) {
                bad.push(format!(
                    "{}:{n}: {} has no heading #{anchor}",
                    rel(&page),
                    rel(&path)
                ));
            }
        }
    }
    assert!(seen >= 10, "only {seen} section links found in the docs");
    assert!(
        bad.is_empty(),
        "section links that point nowhere:\n{}",
        bad.join("\n")
    );
}

/// The diagnostics the docs quote (`error[empty-render]`) carry codes of the registry, whose
/// table docs/codes.md is.
#[test]
fn every_quoted_diagnostic_code_exists() {
    let codes = std::fs::read_to_string(root().join("docs/codes.md")).expect("read docs/codes.md");
    let mut seen = 0;
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read page");
        for (i, line) in text.lines().enumerate() {
            for severity in ["error[", "warning["] {
                for part in line.split(severity).skip(1) {
                    let Some(code) = part.split(']').next() else {
                        continue;
                    };
                    if code.is_empty() || !code.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    {
                        continue;
                    }
                    seen += 1;
                    if !codes.contains(&format!("| `{code}` |")) {
                        missing.push(format!("{}:{}: {severity}{code}]", rel(&page), i + 1));
                    }
                }
            }
        }
    }
    assert!(seen >= 5, "only {seen} quoted codes found in the docs");
    assert!(
        missing.is_empty(),
        "codes the docs quote that the registry lacks:\n{}",
        missing.join("\n")
    );
}
