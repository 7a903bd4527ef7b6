//! Properties of the whole run (issue 7): output bytes do not depend on file order or thread
//! count, and rendering what we rendered gives the same bytes back.
//!
//! Repos are built in memory (`Repo::from_files`, what `Repo::load` does after reading), with
//! plain objects passed through so the properties hold for every stage the objects cross:
//! parsing, identity checks, sorting and emission. Values include the YAML 1.1 words, numbers
//! in strings and quoting hazards that the emitter must keep as they are.

mod support;
use support::memory_repo;

use meshform::config::Limits;
use meshform::pipeline::{self, Options};
use meshform::render::{emit, RenderOptions};
use meshform::source::SourceFile;
use proptest::prelude::*;

/// A value likely to trip a YAML emitter or reader.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("on".to_string()),
        Just("0755".to_string()),
        Just("yes".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("1e3".to_string()),
        Just("- item".to_string()),
        Just("a: b".to_string()),
        Just("# not a comment".to_string()),
        Just("  leading space".to_string()),
        Just("two\nlines\n".to_string()),
        Just("quote \" and ' and \\".to_string()),
        Just("ünïcødé ✓".to_string()),
        Just(String::new()),
        "[ -~]{0,20}",
    ]
}

fn scalar() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        tricky_string().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
        (-1.0e6f64..1.0e6).prop_map(serde_json::Value::from),
    ]
}

#[derive(Debug, Clone)]
struct Obj {
    name: String,
    namespace: String,
    data: Vec<(String, serde_json::Value)>,
    file: usize,
}

fn objects() -> impl Strategy<Value = Vec<Obj>> {
    prop::collection::vec(
        (
            "[a-z]([a-z0-9-]{0,8}[a-z0-9])?",
            prop::sample::select(vec!["web", "api", "default"]),
            prop::collection::vec(("[a-zA-Z][a-zA-Z0-9._-]{0,10}", scalar()), 0..5),
            0usize..6,
        ),
        1..25,
    )
    .prop_map(|v| {
        let mut seen = std::collections::BTreeSet::new();
        v.into_iter()
            .filter(|(n, ns, _, _)| seen.insert((n.clone(), ns.to_string())))
            .map(|(name, ns, data, file)| Obj {
                name,
                namespace: ns.to_string(),
                data: {
                    let mut keys = std::collections::BTreeSet::new();
                    data.into_iter()
                        .filter(|(k, _)| keys.insert(k.clone()))
                        .collect()
                },
                file,
            })
            .collect()
    })
}

/// The objects as YAML files, one or more documents each.
fn files(objs: &[Obj]) -> Vec<SourceFile> {
    let mut by_file: std::collections::BTreeMap<usize, Vec<String>> = Default::default();
    for o in objs {
        let data: serde_json::Map<String, serde_json::Value> = o.data.iter().cloned().collect();
        let v = serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": o.name, "namespace": o.namespace},
            "data": data,
        });
        by_file
            .entry(o.file)
            .or_default()
            .push(meshform::yaml::to_string(&v).expect("emit"));
    }
    by_file
        .into_iter()
        .map(|(i, docs)| SourceFile {
            path: format!("dir{}/f{i}.yaml", i % 2),
            data: docs.join("---\n").into_bytes(),
            blob: None,
        })
        .collect()
}

fn render_files(files: Vec<SourceFile>) -> String {
    let repo = memory_repo(
        files.into_iter().map(|f| (f.path, f.data)),
        Limits::default(),
    );
    let opts = Options {
        render: RenderOptions {
            passthrough: true,
            ..RenderOptions::default()
        },
        ..Options::default()
    };
    let out = pipeline::run(repo, &opts).expect("run");
    assert!(!out.has_errors(), "{:?}", out.findings);
    emit::yaml_stream(&out.objects).expect("emit")
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
        .install(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Files in any order, on any number of threads: the same bytes.
    #[test]
    fn same_bytes_under_any_file_order_and_thread_count(
        objs in objects(),
        seed in any::<u64>(),
        threads in 1usize..5,
    ) {
        let fs = files(&objs);
        let baseline = in_pool(1, || render_files(fs.clone()));
        // A permutation from the seed (proptest shrinks the seed, not the order).
        let mut shuffled = fs.clone();
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        let again = in_pool(threads, || render_files(shuffled));
        prop_assert_eq!(&baseline, &again);
        prop_assert_eq!(baseline.matches("kind: ConfigMap").count(), objs.len());
    }

    /// Rendering the rendered stream again gives the same bytes.
    #[test]
    fn render_parse_render_is_stable(objs in objects()) {
        let first = render_files(files(&objs));
        let second = render_files(vec![SourceFile {
            path: "rendered.yaml".into(),
            data: first.clone().into_bytes(),
            blob: None,
        }]);
        prop_assert_eq!(first, second);
    }
}
