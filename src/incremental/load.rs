//! Loading a revision after another: the objects of unchanged files and unchanged documents
//! are the earlier revision's, and a blob read once is not read again.

use crate::diag::codes::Load;
use crate::diag::{Code, Diagnostic};
use crate::manifest::{names_a_list, parse_file, push_object, Location, Object, SourceText};
use crate::repo::Repo;
use crate::yaml::{self, Pos, YamlLimits};
use rayon::prelude::*;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// What a load kept for a later load of another revision (`Repo::load_after`) and for the
/// pairing of objects ([`super::same_objects`]).
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Per entry of `Repo::files`: the range of `objects` and of `warnings` it produced.
    pub(crate) parsed: Vec<(Range<usize>, Range<usize>)>,
    /// Per entry of `Repo::files`: the entry of the previous revision whose parsed objects and
    /// text it took, byte-identical in the same cluster (`None` when parsed afresh).
    pub(crate) reused: Vec<Option<usize>>,
    /// The decoded text of each blob read from a git revision (templates and policies
    /// included, as written), by blob id: a load of another revision does not read these
    /// blobs again.
    pub(crate) blobs: HashMap<git2::Oid, Arc<str>>,
}

/// One file's parse: its objects, its findings, and the index of the previous revision's file
/// whose objects it took whole.
pub(crate) type Parsed = (Vec<Object>, Vec<Diagnostic>, Option<usize>);

/// Parses each (text, cluster) in parallel. With `previous` (another revision loaded under the
/// same limits), a file it has byte-identical in the same cluster takes its objects, moved to
/// this file's index; a changed file of the same path and cluster takes its unchanged
/// documents ([`parse_file_after`]); any other file is parsed.
pub(crate) fn parse_all(
    texts: &[(SourceText, String)],
    previous: Option<&Repo>,
    yl: &YamlLimits,
) -> Vec<Parsed> {
    // (path, cluster) -> index into `previous.files`.
    let reusable: HashMap<(&str, &str), usize> = previous
        .map(|p| {
            let parsed = &p.loaded.parsed;
            (0..p.files.len().min(parsed.len()))
                .filter_map(|i| {
                    let cluster = p.objects.get(parsed[i].0.start)?.cluster.as_str();
                    Some(((&*p.files[i].path, cluster), i))
                })
                .collect()
        })
        .unwrap_or_default();
    texts
        .par_iter()
        .enumerate()
        .map(|(i, (st, cluster))| {
            let old = previous.zip(reusable.get(&(&*st.path, cluster.as_str())));
            match old {
                Some((p, &j)) if p.files[j].text == st.text => {
                    let (objs, warns) = &p.loaded.parsed[j];
                    let objs = p.objects[objs.clone()]
                        .iter()
                        .map(|o| Object {
                            file_index: i,
                            ..o.clone()
                        })
                        .collect();
                    (objs, p.warnings[warns.clone()].to_vec(), Some(j))
                }
                // A changed file: its unchanged documents are taken, the rest parsed.
                Some((p, &j)) => {
                    let (objs, warns) = &p.loaded.parsed[j];
                    let earlier = EarlierFile {
                        text: &p.files[j].text,
                        objects: &p.objects[objs.clone()],
                        warnings: &p.warnings[warns.clone()],
                    };
                    let (objs, warns) =
                        parse_file_after(&st.path, &st.text, i, cluster, yl, &earlier);
                    (objs, warns, None)
                }
                None => {
                    let (objs, warns) = parse_file(&st.path, &st.text, i, cluster, yl);
                    (objs, warns, None)
                }
            }
        })
        .collect()
}

/// The same file as parsed in an earlier revision: its text, objects and warnings.
pub struct EarlierFile<'a> {
    /// The earlier text.
    pub text: &'a str,
    /// The objects [`parse_file`] found in it, in order.
    pub objects: &'a [Object],
    /// The findings it gave (a successful load's: warnings only).
    pub warnings: &'a [Diagnostic],
}

/// As [`parse_file`], taking from `earlier` the objects and warnings of every document whose
/// text is unchanged (moved to their new lines), so that a diff parses only the documents a
/// change touched. Where the split into documents is not surely the parser's
/// ([`yaml::split_documents`]), or a parsed document is a List or gives any finding but a
/// YAML 1.1 note, the whole file is parsed as [`parse_file`] does: the result is the same
/// either way.
pub fn parse_file_after(
    path: &Arc<str>,
    text: &str,
    file_index: usize,
    cluster: &str,
    limits: &YamlLimits,
    earlier: &EarlierFile<'_>,
) -> (Vec<Object>, Vec<Diagnostic>) {
    // Document by document; `None` to parse the whole file.
    let piecewise = || -> Option<(Vec<Object>, Vec<Diagnostic>)> {
        let pieces = yaml::split_documents(text, limits)?;
        let before = yaml::split_documents(earlier.text, limits)?;
        let by_text: crate::hashing::FastMap<&str, &yaml::Piece> = before
            .iter()
            .filter(|p| p.index.is_some())
            .map(|p| (&earlier.text[p.range.clone()], p))
            .collect();
        // A line of a piece that starts at `from`, in the same piece starting at `to`.
        let shift = |line: u32, from: u32, to: u32| Some(line.checked_sub(from)? + to);
        // Both in file order (a parse emits them so), every warning placed: a piece's share of
        // each is found by binary search, so a file of many documents costs no more than one
        // pass over each list.
        let in_order = earlier.objects.is_sorted_by_key(|o| o.doc_index)
            && earlier.warnings.iter().all(|w| w.location.is_some())
            && earlier
                .warnings
                .is_sorted_by_key(|w| w.location.as_ref().map(|l| l.line));
        if !in_order {
            return None;
        }
        let mut objects = Vec::new();
        let mut diags = Vec::new();
        for piece in &pieces {
            let Some(index) = piece.index else { continue };
            let t = &text[piece.range.clone()];
            if let Some(old) = by_text.get(t) {
                let at = |line: u32| shift(line, old.line, piece.line);
                let doc = old.index?;
                let first = earlier.objects.partition_point(|o| o.doc_index < doc);
                let last = earlier.objects.partition_point(|o| o.doc_index <= doc);
                for o in &earlier.objects[first..last] {
                    if !o.pointer.is_empty() || o.value.is_null() {
                        return None;
                    }
                    objects.push(Object {
                        location: Location {
                            file: path.clone(),
                            line: at(o.location.line)?,
                            column: o.location.column,
                        },
                        doc_index: index,
                        cluster: cluster.to_string(),
                        file_index,
                        ..o.clone()
                    });
                }
                let line_of = |w: &Diagnostic| w.location.as_ref().map(|l| l.line);
                let first = earlier
                    .warnings
                    .partition_point(|w| line_of(w) < Some(old.line));
                let last = earlier
                    .warnings
                    .partition_point(|w| line_of(w) < Some(old.end_line));
                for w in &earlier.warnings[first..last] {
                    let loc = w.location.as_ref()?;
                    if w.code != Code::from(Load::Yaml11Scalar) || !w.related.is_empty() {
                        return None;
                    }
                    let mut w = w.clone();
                    w.location = Some(Location {
                        file: path.clone(),
                        line: at(loc.line)?,
                        column: loc.column,
                    });
                    diags.push(w);
                }
                continue;
            }
            let parsed = yaml::parse_stream(t, limits).ok()?;
            let at = |pos: Pos| {
                Some(Pos {
                    line: shift(pos.line, 1, piece.line)?,
                    column: pos.column,
                })
            };
            for w in parsed.warnings {
                diags.push(
                    Diagnostic::warning(Load::Yaml11Scalar, w.message)
                        .at(Location::new(path.clone(), at(w.pos)?)),
                );
            }
            for doc in parsed.documents {
                if doc.index != 0 || names_a_list(&doc.value) {
                    return None;
                }
                let found = diags.len();
                push_object(
                    &mut objects,
                    &mut diags,
                    doc.value,
                    doc.max_list,
                    Location::new(path.clone(), at(doc.pos)?),
                    index,
                    String::new(),
                    cluster,
                    file_index,
                );
                if diags.len() > found {
                    return None;
                }
            }
        }
        Some((objects, diags))
    };
    piecewise().unwrap_or_else(|| parse_file(path, text, file_index, cluster, limits))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a parse gives, as comparable text (values, places, indexes, findings).
    fn summary((objs, diags): &(Vec<Object>, Vec<Diagnostic>)) -> String {
        let objs: Vec<String> = objs
            .iter()
            .map(|o| {
                format!(
                    "{:?} {} {} {} {:?} {} {} {}",
                    o.id,
                    o.value,
                    o.location,
                    o.doc_index,
                    o.pointer,
                    o.cluster,
                    o.file_index,
                    o.max_list
                )
            })
            .collect();
        format!("{objs:#?}\n{diags:#?}")
    }

    #[test]
    fn parse_file_after_gives_what_parse_file_gives() {
        let path: Arc<str> = "f.yaml".into();
        let limits = YamlLimits::default();
        let cm = |name: &str, extra: &str| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{extra}")
        };
        let (a, b, c) = (cm("a", ""), cm("b", "data:\n  k: yes\n"), cm("c", ""));
        let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: l}\n";
        let cases = [
            // (earlier, now)
            (format!("{a}---\n{b}"), format!("# moved\n\n{a}---\n{b}")),
            (format!("{a}---\n{b}"), format!("---\n{b}---\n{a}")),
            (
                format!("{a}---\n{b}"),
                format!("{a}---\n{}---\n{b}", cm("a2", "")),
            ),
            (format!("{a}---\n{b}---\n{c}"), format!("{a}---\n---\n{c}")),
            (
                format!("{a}---\n{b}"),
                format!("{a}---\n{}", cm("b", "data:\n  k: on\n")),
            ),
            (
                format!("{a}---\n{b}"),
                format!("{a}---\n{}", cm("b", "data: [\n")),
            ),
            (format!("{a}---\n{b}"), format!("{a}---\n- not an object\n")),
            (format!("{a}---\n{b}"), format!("{a}---\n{list}")),
            (format!("{a}---\n{list}"), format!("{b}---\n{list}")),
            (format!("{a}---\n{b}"), format!("{a}...\n---\n{b}")),
            (format!("{a}---\n{b}"), format!("{a}---\nx: &y 1\n")),
            (
                format!("{a}---\n{b}"),
                format!("{a}---\n{}", cm("Bad_Name", "")),
            ),
        ];
        for (earlier, now) in &cases {
            let before = parse_file(&path, earlier, 3, "c", &limits);
            let past = EarlierFile {
                text: earlier,
                objects: &before.0,
                warnings: &before.1,
            };
            let got = parse_file_after(&path, now, 5, "c", &limits, &past);
            let want = parse_file(&path, now, 5, "c", &limits);
            assert_eq!(summary(&got), summary(&want), "{earlier:?} -> {now:?}");
        }
        // The unchanged documents' objects are the earlier ones, not parsed again.
        let (earlier, now) = &cases[1];
        let before = parse_file(&path, earlier, 0, "c", &limits);
        let past = EarlierFile {
            text: earlier,
            objects: &before.0,
            warnings: &before.1,
        };
        let (got, _) = parse_file_after(&path, now, 0, "c", &limits, &past);
        assert!(Arc::ptr_eq(&got[0].value, &before.0[1].value));
        assert!(Arc::ptr_eq(&got[1].value, &before.0[0].value));
    }
}
