//! Reuse between two revisions of one repo, behind one seam (docs/architecture.md,
//! "Incremental reuse").
//!
//! `meshform diff` runs the base and then the head. Each stage of the base's run can record
//! what the head's run of that stage may take; the head hands each stage an [`Incr`]: the
//! earlier revision's repo, the pairing of this revision's objects with its ([`same_objects`]),
//! and that stage's memo. A stage given [`Incr::OFF`] runs alone. Either way it gives the same
//! result (tests/incremental.rs). What each stage takes:
//! - loading ([`load`], `Repo::load_after`): the objects of unchanged files and unchanged
//!   documents, and the text of blobs already read;
//! - typing (`gloo::Specs`): the typed spec of every unchanged object typing found clean;
//! - translation ([`render`]): the output of every ExternalService and RouteTable whose inputs
//!   did not change, and the finished merged objects equal to the base's;
//! - policies (`policy::Memo`): the quiet results of the policies that read their object alone.

pub mod load;
pub mod render;

use crate::hashing::{FastMap, FastSet};
use crate::repo::Repo;
use std::sync::Arc;

/// What one stage of a run is given about other revisions.
pub struct Incr<'a, M> {
    /// Record what a later revision's run of this stage can take (a diff's base).
    pub record: bool,
    /// What an earlier revision's run of this stage recorded (a diff's head).
    pub earlier: Option<Earlier<'a, M>>,
}

/// An earlier revision, as one stage of a later revision's run sees it.
pub struct Earlier<'a, M> {
    /// The earlier revision's repo.
    pub repo: &'a Repo,
    /// Per object of this revision: the index of the same object in the earlier one
    /// ([`same_objects`]).
    pub same: &'a [Option<usize>],
    /// What the earlier revision's run of this stage recorded.
    pub memo: M,
}

impl<'a, M> Incr<'a, M> {
    /// A run on its own: nothing recorded, nothing taken.
    pub const OFF: Self = Incr {
        record: false,
        earlier: None,
    };

    /// A stage's context: with `record`, it records; with an earlier revision (its repo and
    /// the pairing of objects) and that revision's memo of this stage, it takes from them.
    pub fn new(
        record: bool,
        earlier: Option<(&'a Repo, &'a [Option<usize>])>,
        memo: Option<M>,
    ) -> Self {
        Incr {
            record,
            earlier: earlier
                .zip(memo)
                .map(|((repo, same), memo)| Earlier { repo, same, memo }),
        }
    }
}

/// What each stage of one run recorded for a later revision's run.
#[derive(Default)]
pub struct Memos {
    /// Typing: the clean typed specs.
    pub typing: Option<crate::gloo::Specs>,
    /// Translation: each unit's output and the merged objects.
    pub render: Option<render::Memo>,
    /// Policies: the quiet results of object-only policies.
    pub policy: Option<crate::policy::Memo>,
}

/// For each object of `repo`, the index of the same object in `earlier`, the revision it was
/// loaded after (`Repo::load_after`): the one parsed from the same file when the file was
/// taken whole, else the one of the same identity and cluster when its value is equal. `None`
/// for a changed or new object, and for every object when `repo` took whole files from another
/// revision than `earlier`.
pub fn same_objects(repo: &Repo, earlier: &Repo) -> Vec<Option<usize>> {
    if !loaded_after(repo, earlier) {
        return vec![None; repo.objects.len()];
    }
    let taken = taken_files(repo);
    let by_key: FastMap<_, usize> = earlier
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| !taken.contains(&o.file_index))
        .map(|(j, o)| (o.key(), j))
        .collect();
    repo.objects
        .iter()
        .enumerate()
        .map(|(i, o)| match reused_from(repo, o.file_index) {
            Some(f) => {
                let at = i - repo.loaded.parsed.get(o.file_index)?.0.start;
                let j = earlier.loaded.parsed.get(f)?.0.start + at;
                Some(j)
            }
            // (A released value is null: never the same as anything.)
            None => by_key.get(&o.key()).copied().filter(|&j| {
                let v = &earlier.objects[j].value;
                !v.is_null() && (Arc::ptr_eq(v, &o.value) || *v == o.value)
            }),
        })
        .collect()
}

/// For the file at `index` of `repo.files`: the index of the earlier revision's file whose
/// parsed objects `Repo::load_after` took (same text, same cluster), or `None`.
pub fn reused_from(repo: &Repo, index: usize) -> Option<usize> {
    repo.loaded.reused.get(index).copied().flatten()
}

/// True when every file `repo` took whole from an earlier revision is `earlier`'s file of that
/// index (`Repo::load_after` shares the text itself, so one pointer comparison a file): `repo`
/// was loaded after `earlier`. Any other pair makes the indexes of [`reused_from`] meaningless.
pub fn loaded_after(repo: &Repo, earlier: &Repo) -> bool {
    repo.files.iter().enumerate().all(|(i, f)| {
        reused_from(repo, i).is_none_or(|j| {
            earlier
                .files
                .get(j)
                .is_some_and(|e| Arc::ptr_eq(&e.text, &f.text))
        })
    })
}

/// The indexes of the earlier revision's files `repo` took whole.
pub fn taken_files(repo: &Repo) -> FastSet<usize> {
    (0..repo.files.len())
        .filter_map(|i| reused_from(repo, i))
        .collect()
}
