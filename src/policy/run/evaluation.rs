//! Per-object evaluation: the (policy, object) pairs evaluated object by object in parallel,
//! each object converted once and lent to every policy that matched it; matchConditions,
//! validations and violation lists (docs/policies.md, "Validation results"); findings at the
//! offending field, and exemptions (docs/policies.md, "Exemptions").

use super::budget::Budget;
use super::lending::{self, Local};
use super::matching::ById;
use super::scope::set_current;
use crate::diag::codes::Policy;
use crate::diag::{Code, Diagnostic, Severity};
use crate::manifest::{Location, Object};
use crate::policy::convert;
use crate::policy::engine::{CValidation, Compiled, Prog};
use crate::policy::format::FailurePolicy;
use crate::policy::reads::{self, Need};
use crate::policy::EXEMPTION_PREFIX;
use crate::repo::Repo;
use cel::common::value::Val;
use cel::{Context, Value};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A finding of one evaluation.
pub(super) struct Finding {
    pub diag: Diagnostic,
    /// Suppressed by an exemption annotation.
    pub suppressed: bool,
}

/// What one evaluation gave: whether the policy applied (past its matchConditions), and its
/// findings.
pub(super) type Evaluated = (bool, Vec<Finding>);

/// What findings are made with: the repo, its objects by identity (for `related` entries) and
/// whether exemptions are ignored.
pub(super) struct Env<'a> {
    pub repo: &'a Repo,
    pub by_id: ById<'a>,
    pub no_exemptions: bool,
}

/// Evaluates the (policy, object) `pairs` not `taken`, object by object in parallel, each in
/// its policy's scope in `scopes`; returns each pair's result in `pairs` order (a taken pair
/// has its taken result and no findings), and the time spent per policy.
pub(super) fn evaluate(
    env: &Env<'_>,
    policies: &[Compiled],
    scopes: &[Option<Context<'_, '_>>],
    pairs: &[(usize, usize)],
    taken: &[Option<bool>],
    budget: &Budget,
) -> (Vec<Evaluated>, Timing) {
    let pass = Pass {
        env,
        policies,
        locals: lending::locals(policies),
        scopes,
        pairs,
        budget,
        timing: Timing::new(policies.len()),
    };
    // Object by object: each object is converted to a CEL value once, lent to every policy
    // that matched it, and dropped, rather than all held until the run ends (memory is time
    // on this machine: docs/performance.md). Results go back to `pairs` order.
    let order = untaken_by_object(pairs, taken);
    let groups: Vec<&[usize]> = order.chunk_by(|&a, &b| pairs[a].1 == pairs[b].1).collect();
    let (set_reads, group_reads) = group_reads(policies, pairs, &groups);
    let per_object: Vec<Vec<(usize, Evaluated)>> = groups
        .par_iter()
        .zip(group_reads.par_iter())
        .map(|(ks, &set)| pass.eval_object(ks, &set_reads[set]))
        .collect();
    let mut evaluated: Vec<Evaluated> = taken
        .iter()
        .map(|t| (t.unwrap_or(false), Vec::new()))
        .collect();
    for (k, r) in per_object.into_iter().flatten() {
        evaluated[k] = r;
    }
    (evaluated, pass.timing)
}

/// The indices into `pairs` of the pairs not taken, by object, then policy.
fn untaken_by_object(pairs: &[(usize, usize)], taken: &[Option<bool>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..pairs.len()).filter(|&k| taken[k].is_none()).collect();
    order.sort_by_key(|&k| (pairs[k].1, pairs[k].0));
    order
}

/// How far each group's object is converted (reads.rs): what each policy reads, then the
/// union for each set of policies that matches an object. Objects of one kind mostly share
/// their set of policies: one union per distinct set. Returns the unions, and per group the
/// index of its union.
fn group_reads(
    policies: &[Compiled],
    pairs: &[(usize, usize)],
    groups: &[&[usize]],
) -> (Vec<Need>, Vec<usize>) {
    let reads: Vec<Need> = policies
        .iter()
        .map(|p| {
            reads::policy_needs(
                p.locals.iter().map(|(n, l)| (n.as_str(), &l.expr)),
                p.checks().map(|prog| &prog.expr),
            )
        })
        .collect();
    let mut set_index: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut set_reads: Vec<Need> = Vec::new();
    let group_reads: Vec<usize> = groups
        .iter()
        .map(|ks| {
            let set: Vec<usize> = ks.iter().map(|&k| pairs[k].0).collect();
            *set_index.entry(set).or_insert_with_key(|set| {
                let mut n = Need::node();
                set.iter().for_each(|&pi| n.merge(reads[pi].clone()));
                set_reads.push(n);
                set_reads.len() - 1
            })
        })
        .collect();
    (set_reads, group_reads)
}

/// What every object task of one run's evaluation reads.
struct Pass<'a> {
    env: &'a Env<'a>,
    policies: &'a [Compiled],
    /// Per policy, its per-object variables.
    locals: Vec<Vec<Local<'a>>>,
    scopes: &'a [Option<Context<'a, 'a>>],
    pairs: &'a [(usize, usize)],
    budget: &'a Budget,
    timing: Timing,
}

impl Pass<'_> {
    /// Evaluates the pairs `ks` (indices into `pairs`) of one object, converted once, as far
    /// as `need` reads. Past the time limit, a pair is skipped (not applied, no findings).
    fn eval_object(&self, ks: &[usize], need: &Need) -> Vec<(usize, Evaluated)> {
        let objs = &self.env.repo.objects;
        let object = reads::to_val_pruned(&objs[self.pairs[ks[0]].1].value, need);
        ks.iter()
            .map(|&k| {
                let (pi, i) = self.pairs[k];
                if self.budget.over_time() {
                    return (k, (false, Vec::new()));
                }
                let r = self.timing.time(pi, || match &self.scopes[pi] {
                    Some(scope) => {
                        let p = &self.policies[pi];
                        self.env.eval_one(p, &self.locals[pi], scope, i, &*object)
                    }
                    None => (false, Vec::new()),
                });
                (k, r)
            })
            .collect()
    }
}

/// Evaluation time per policy, for the debug log.
pub(super) struct Timing {
    on: bool,
    spent: Vec<AtomicU64>,
}

impl Timing {
    fn new(policies: usize) -> Timing {
        Timing {
            on: tracing::enabled!(tracing::Level::DEBUG),
            spent: (0..policies).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Runs `f`, adding its time to policy `pi`'s when the debug log is on.
    fn time<T>(&self, pi: usize, f: impl FnOnce() -> T) -> T {
        let t = self.on.then(Instant::now);
        let r = f();
        if let Some(t) = t {
            self.spent[pi].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
        r
    }

    /// Logs the time each policy's evaluations took.
    pub fn log(&self, policies: &[Compiled]) {
        for (p, t) in policies.iter().zip(&self.spent) {
            let t = Duration::from_nanos(t.load(Ordering::Relaxed));
            if !t.is_zero() {
                tracing::debug!("policy {}: evaluations took {t:?}", p.name());
            }
        }
    }
}

impl Env<'_> {
    /// Evaluates one policy on one object: (whether it applied, findings).
    fn eval_one(
        &self,
        p: &Compiled,
        locals: &[Local],
        pctx: &Context<'_, '_>,
        i: usize,
        object: &dyn Val,
    ) -> Evaluated {
        set_current(Some(i));
        // Variables that only read a field of the object are lent, not copied.
        let (refs, lent) = lending::lend(locals, pctx, object);
        let mut ctx = lending::lending_scope(pctx, &refs);
        for c in &p.conditions {
            match ctx.resolve(&c.expr) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => return (false, Vec::new()),
                Ok(other) => {
                    return (
                        true,
                        self.eval_error(p, i, c, format!("expected bool, got {}", other.type_of())),
                    )
                }
                Err(e) => return (true, self.eval_error(p, i, c, e.to_string())),
            }
        }
        (true, self.eval_validations(p, locals, &mut ctx, &lent, i))
    }

    fn eval_validations(
        &self,
        p: &Compiled,
        locals: &[Local],
        ctx: &mut Context<'_, '_>,
        lent: &[bool],
        i: usize,
    ) -> Vec<Finding> {
        if let Err((prog, e)) = lending::bind_unlent(ctx, p, locals, lent) {
            return self.eval_error(p, i, prog, e.to_string());
        }
        let mut out = Vec::new();
        for v in &p.validations {
            self.validation(p, v, ctx, i, &mut out);
        }
        out
    }

    /// Adds the findings of validation `v` of `p` on object `i` to `out`.
    fn validation(
        &self,
        p: &Compiled,
        v: &CValidation,
        ctx: &Context<'_, '_>,
        i: usize,
        out: &mut Vec<Finding>,
    ) {
        let result = match ctx.resolve(&v.expr.expr) {
            Ok(r) => r,
            Err(e) => {
                out.extend(self.eval_error(p, i, &v.expr, e.to_string()));
                return;
            }
        };
        match result {
            Value::Bool(true) => {}
            Value::Bool(false) => out.extend(self.finding(
                p,
                i,
                p.severity,
                v.field_path.clone(),
                failure_message(ctx, v),
                v.help.as_ref(),
                Vec::new(),
            )),
            Value::List(items) => {
                let cluster = self.repo.objects[i].cluster.as_str();
                for item in items.iter() {
                    out.extend(self.violation(p, v, ctx, i, cluster, item));
                }
            }
            other => out.extend(self.eval_error(
                p,
                i,
                &v.expr,
                format!(
                    "expected bool or a list of violations, got {}",
                    other.type_of()
                ),
            )),
        }
    }

    /// The findings of one element of a violation list: a field path string, or a map with
    /// optional `field`, `message` and `related` (entries resolved in `cluster` unless they
    /// name theirs).
    fn violation(
        &self,
        p: &Compiled,
        v: &CValidation,
        ctx: &Context<'_, '_>,
        i: usize,
        cluster: &str,
        item: &Value,
    ) -> Vec<Finding> {
        let (field, message, related) = match item {
            Value::String(f) => (Some(f.to_string()), failure_message(ctx, v), vec![]),
            Value::Map(_) => {
                let field = convert::get(item, "field")
                    .and_then(convert::as_str)
                    .map(str::to_string)
                    .or_else(|| v.field_path.clone());
                let message = convert::get(item, "message")
                    .and_then(convert::as_str)
                    .map_or_else(|| failure_message(ctx, v), str::to_string);
                let related = match convert::get(item, "related") {
                    Some(Value::List(rs)) => {
                        rs.iter().filter_map(|r| self.related(cluster, r)).collect()
                    }
                    _ => vec![],
                };
                (field, message, related)
            }
            other => {
                return self.eval_error(
                    p,
                    i,
                    &v.expr,
                    format!(
                        "a violation must be a field path string or a map, got {}",
                        other.type_of()
                    ),
                )
            }
        };
        self.finding(p, i, p.severity, field, message, v.help.as_ref(), related)
    }

    /// A `related` entry of a violation: the location of the object it names (in `cluster`
    /// unless it names one) and its note; `None` when the repo has no such object.
    fn related(&self, cluster: &str, item: &Value) -> Option<(Location, String)> {
        let s = |k: &str| {
            convert::get(item, k)
                .and_then(convert::as_str)
                .unwrap_or("")
        };
        let c = if s("cluster").is_empty() {
            cluster
        } else {
            s("cluster")
        };
        let i = *self
            .by_id
            .get(&(c, s("apiVersion"), s("kind"), s("namespace"), s("name")))?;
        let o = &self.repo.objects[i];
        let note = if s("note").is_empty() {
            format!("{}", o.id)
        } else {
            s("note").to_string()
        };
        Some((self.repo.locate(o, s("field")), note))
    }

    /// The finding of `p` on object `i`, at `field` (else at the object's start), with
    /// `help` or the policy's `help` annotation; its exemption applied ([`Env::exemption`]).
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        p: &Compiled,
        i: usize,
        severity: Severity,
        field: Option<String>,
        message: String,
        help: Option<&String>,
        related: Vec<(Location, String)>,
    ) -> Vec<Finding> {
        let o = &self.repo.objects[i];
        let location = match &field {
            Some(f) if !f.is_empty() => self.repo.locate(o, f),
            _ => o.location.clone(),
        };
        let mut d = Diagnostic::new(severity, Code::policy(p.name()), message)
            .at(location)
            .on(o.id.clone());
        if let Some(f) = field.filter(|f| !f.is_empty()) {
            d = d.field(f);
        }
        let ann = &p.src.doc.metadata.annotations;
        if let Some(h) = help.or(ann.get("help")) {
            d = d.help(h.clone());
        }
        d.related = related;
        let mut out = Vec::new();
        let suppressed = self.exemption(p, o, &mut d, &mut out);
        out.push(Finding {
            diag: d,
            suppressed,
        });
        out
    }

    /// Applies `o`'s exemption annotation for `p`, if any, to its finding `d`: true when it
    /// suppresses `d`. Ignored with `--no-exemptions` (said in `d`'s help); without a reason
    /// it is not applied, and a warning saying so goes to `out`.
    fn exemption(
        &self,
        p: &Compiled,
        o: &Object,
        d: &mut Diagnostic,
        out: &mut Vec<Finding>,
    ) -> bool {
        let key = format!("{EXEMPTION_PREFIX}{}", p.name());
        let Some(reason) = o.annotations().find(|(k, _)| *k == key).map(|(_, v)| v) else {
            return false;
        };
        if self.no_exemptions {
            d.help = Some(format!(
                "{} (exemption annotation {key} ignored: --no-exemptions)",
                d.help.clone().unwrap_or_default()
            ));
            false
        } else if reason.trim().is_empty() {
            out.push(Finding {
                diag: Diagnostic::warning(
                    Policy::Exemption,
                    format!("exemption {key} has no reason, so it is not applied"),
                )
                .at(self
                    .repo
                    .locate(o, &format!("metadata.annotations[\"{key}\"]")))
                .on(o.id.clone())
                .help("give the reason as the annotation value"),
                suppressed: false,
            });
            false
        } else {
            d.help = Some(format!("exempted: {reason}"));
            true
        }
    }

    /// The finding for an expression of `p` that failed on object `i`: an error, or nothing
    /// under `failurePolicy: Ignore`.
    fn eval_error(&self, p: &Compiled, i: usize, prog: &Prog, err: String) -> Vec<Finding> {
        if p.src.doc.spec.failure_policy == FailurePolicy::Ignore {
            tracing::debug!("policy {} {}: {err} (ignored)", p.name(), prog.what);
            return Vec::new();
        }
        self.finding(
            p,
            i,
            Severity::Error,
            None,
            format!(
                "policy {} could not evaluate {}: {err}",
                p.name(),
                prog.what
            ),
            None,
            vec![(prog.at.clone(), "the expression".into())],
        )
    }
}

/// The message of a failed validation: its messageExpression's value, else its message, else
/// `<expression> is false`.
fn failure_message(ctx: &Context<'_, '_>, v: &CValidation) -> String {
    if let Some(m) = &v.message_expr {
        match ctx.resolve(&m.expr) {
            Ok(Value::String(s)) => return s.to_string(),
            Ok(other) => return format!("{other:?}"),
            Err(e) => {
                return format!(
                    "{} (messageExpression failed: {e})",
                    v.message
                        .clone()
                        .unwrap_or_else(|| "validation failed".into())
                )
            }
        }
    }
    v.message
        .clone()
        .unwrap_or_else(|| format!("{} is false", v.expr.what))
}
