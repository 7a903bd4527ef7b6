//! Evaluating compiled policies over a repo, in named steps: which objects each policy
//! applies to (`matching`); the CEL root context with the run's functions (`scope`); Global
//! variables once per policy (`globals`); cost and time budgets (`budget`); then per-object
//! evaluation in parallel (rayon, `evaluation`), with `object` and the variables that read a
//! field of it bound without copying (`lending`; the names expressions see: docs/policies.md,
//! "What expressions can use"), exemptions, and findings pointing at the offending field. A
//! diff's head takes the base's quiet results of the policies that read their object alone
//! ([`Memo`]).

mod budget;
mod evaluation;
mod globals;
mod lending;
mod matching;
mod scope;

pub use budget::RUN_COST_FACTOR;
pub use matching::plural;

use super::engine::Compiled;
use super::Report;
use crate::hashing::FastMap;
use crate::incremental::{Earlier, Incr};
use crate::repo::{LoadError, Repo};
use budget::Budget;
use evaluation::{Env, Evaluated};
use globals::Globals;
use rayon::prelude::*;
use std::time::Instant;

/// What a run found quiet, for a run of a later revision of the same repo with the same
/// policies ([`run`]): the result of each policy that reads its object alone
/// ([`Compiled::reads_object_only`]) on each object where it found nothing.
#[derive(Debug, Default)]
pub struct Memo {
    /// (policy index, object index) → whether the policy applied (matched and passed its
    /// matchConditions).
    quiet: FastMap<(u32, u32), bool>,
}

/// A run's report, the (policy, object) pairs that applied (matched and past their
/// matchConditions), and with `inc.record`, its memo.
pub type Detailed = (Report, Vec<(usize, usize)>, Option<Memo>);

/// Evaluates the policies over the repo. With `inc.record`, also returns what a later
/// revision's run can take ([`Memo`]); with `inc.earlier` (the same policies' memo on an
/// earlier revision), each quiet result of an object-only policy on an unchanged object is
/// taken instead of evaluated.
pub fn run(
    repo: &Repo,
    model: &crate::gloo::Model,
    policies: &[Compiled],
    no_exemptions: bool,
    inc: Incr<'_, &Memo>,
) -> Result<Detailed, LoadError> {
    let start = Instant::now();
    let objs = &repo.objects;
    let index = matching::Index::build(objs);
    let matched = matching::matched(policies, objs, &index.ns_of);
    tracing::debug!("policies: matched in {:?}", start.elapsed());

    let facts = scope::Facts::build(repo, model, policies);
    tracing::debug!(
        "policies: inventory and gloo index in {:?}",
        start.elapsed()
    );
    let resolver = scope::Resolver::new(objs, index.ns_of);
    let root = scope::root(&resolver, facts)?;

    let budget = Budget::new(repo, start);
    let Globals {
        scopes,
        sizes,
        errors,
        findings,
    } = globals::evaluate(&root, policies, &budget);
    budget.check_costs(policies, &matched, &sizes, errors)?;
    tracing::debug!("policies: globals and cost in {:?}", start.elapsed());

    let pairs = pairs(&matched, &scopes);
    let object_only: Vec<bool> = policies.iter().map(Compiled::reads_object_only).collect();
    let taken = taken(&pairs, &object_only, inc.earlier);
    let env = Env {
        repo,
        by_id: index.by_id,
        no_exemptions,
    };
    let (evaluated, timing) =
        evaluation::evaluate(&env, policies, &scopes, &pairs, &taken, &budget);
    let memo = inc
        .record
        .then(|| Memo::record(&pairs, &evaluated, &object_only));
    let applied = applied(&pairs, &evaluated);
    scope::set_current(None);
    budget.check_time()?;

    let report = report(findings, evaluated, policies.len(), &taken);
    timing.log(policies);
    tracing::debug!(
        "policies: {} evaluations ({} taken from the earlier revision) in {:?}",
        pairs.len(),
        report.taken,
        start.elapsed()
    );
    Ok((report, applied, memo))
}

/// The (policy, object) pairs to evaluate: each policy whose Global variables are bound,
/// with each object it matched.
fn pairs<T>(matched: &[Vec<usize>], scopes: &[Option<T>]) -> Vec<(usize, usize)> {
    matched
        .iter()
        .enumerate()
        .filter(|(pi, _)| scopes[*pi].is_some())
        .flat_map(|(pi, m)| m.iter().map(move |&i| (pi, i)))
        .collect()
}

/// Per pair, the result taken from the earlier revision's memo, if any. A policy that reads
/// its object alone finds on an unchanged object what it found before: where that was
/// nothing, the earlier result is taken.
fn taken(
    pairs: &[(usize, usize)],
    object_only: &[bool],
    prior: Option<Earlier<'_, &Memo>>,
) -> Vec<Option<bool>> {
    let Some(prior) = prior else {
        return vec![None; pairs.len()];
    };
    pairs
        .par_iter()
        .map(|&(pi, i)| {
            if !object_only[pi] {
                return None;
            }
            let j = prior.same.get(i).copied().flatten()?;
            prior.memo.quiet.get(&(pi as u32, j as u32)).copied()
        })
        .collect()
}

impl Memo {
    /// The quiet results among `evaluated` (per pair of `pairs`) of the object-only policies.
    fn record(pairs: &[(usize, usize)], evaluated: &[Evaluated], object_only: &[bool]) -> Memo {
        Memo {
            quiet: pairs
                .iter()
                .zip(evaluated)
                .filter(|((pi, _), (_, found))| object_only[*pi] && found.is_empty())
                .map(|(&(pi, i), (applied, _))| ((pi as u32, i as u32), *applied))
                .collect(),
        }
    }
}

/// The pairs that applied.
fn applied(pairs: &[(usize, usize)], evaluated: &[Evaluated]) -> Vec<(usize, usize)> {
    pairs
        .iter()
        .zip(evaluated)
        .filter(|(_, (a, _))| *a)
        .map(|(p, _)| *p)
        .collect()
}

/// The report: the Global variables' `findings`, then the evaluations' findings in pair
/// order, the suppressed ones apart.
fn report(
    findings: Vec<crate::diag::Diagnostic>,
    evaluated: Vec<Evaluated>,
    policies: usize,
    taken: &[Option<bool>],
) -> Report {
    let mut report = Report {
        findings,
        suppressed: Vec::new(),
        policies,
        taken: taken.iter().flatten().count(),
    };
    for f in evaluated.into_iter().flat_map(|(_, f)| f) {
        if f.suppressed {
            report.suppressed.push(f.diag);
        } else {
            report.findings.push(f.diag);
        }
    }
    crate::diag::normalize(&mut report.suppressed);
    report
}
