//! Several policies of one kind on one target (a route, a destination port): Gloo applies the
//! oldest whole and marks the others FAILED (docs/translation.md#policies).

use super::{Ctx, Part};
use crate::diag::codes::Translate;
use crate::gloo::{Meta, Typed};

/// Which of two policies Gloo considers older: the earlier `metadata.creationTimestamp`;
/// a policy without one after those with one (it is not created yet); then namespace and name.
fn age_key(m: &Meta) -> (bool, Option<&str>, &str, &str) {
    let created = m.created.as_deref();
    (created.is_none(), created, &m.namespace, &m.name)
}

/// What the policies collide on, for the warning.
pub(crate) struct Target<'t> {
    /// The target, as the warning names it (``route `r` of RouteTable ns/name``).
    pub name: &'t str,
    /// Its kind (`route`).
    pub one: &'t str,
    /// Its kind in the plural (`routes`).
    pub many: &'t str,
}

/// The oldest of the policies of kind `kind` that select one target; each other one is a
/// `policy-conflict` warning at its own line, naming the winner's.
pub(crate) fn oldest<'p, T>(
    ctx: &Ctx<'_>,
    kind: &str,
    hits: Vec<&'p Typed<T>>,
    target: &Target<'_>,
    part: &mut Part,
) -> Option<&'p Typed<T>> {
    let mut all = hits;
    if all.len() > 1 {
        all.sort_by(|a, b| age_key(&a.meta).cmp(&age_key(&b.meta)));
    }
    let winner = *all.first()?;
    let by = if winner.meta.created.is_some() {
        "the older by creationTimestamp"
    } else {
        "first by namespace and name, as the repo has no creation times"
    };
    for loser in &all[1..] {
        let winner_at = ctx.repo.locate(ctx.obj(&winner.meta), "metadata.name");
        part.diagnostics.push(
            ctx.warning(
                &loser.meta,
                Translate::PolicyConflict,
                "metadata.name",
                format!(
                    "{kind} {}/{} and {}/{} both select {}; Gloo applies only the oldest, {}/{} ({by}), and ignores this one for that {}",
                    loser.meta.namespace,
                    loser.meta.name,
                    winner.meta.namespace,
                    winner.meta.name,
                    target.name,
                    winner.meta.namespace,
                    winner.meta.name,
                    target.one,
                ),
            )
            .related(winner_at, format!("{kind} {}/{}", winner.meta.namespace, winner.meta.name))
            .help(format!(
                "make the two policies select different {}, or merge them into one",
                target.many
            )),
        );
    }
    Some(winner)
}
