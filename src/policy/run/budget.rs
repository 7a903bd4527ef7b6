//! Cost and time budgets (docs/policies.md, "Cost and time budgets"): each expression's
//! estimated cost against `limits.policyCost` per evaluation, the run's estimated total
//! against the run budget, and `limits.policyTimeMs` for the evaluation.

use crate::diag::Diagnostic;
use crate::manifest::Location;
use crate::policy::engine::{estimate, Compiled, Prog, Sizes};
use crate::repo::{policy_budget, LoadError, Repo};
use cel::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A run may spend `limits.policyCost` per object (at least this many times `policyCost`):
/// the built-ins are linear, so a fixed total would refuse large repos; a rule that scans the
/// inventory per object is stopped by the per-evaluation budget or by `limits.policyTimeMs`.
pub const RUN_COST_FACTOR: f64 = 100.0;

/// A run's limits and the data its cost estimates use.
pub(super) struct Budget {
    /// `limits.policyCost`: the most one evaluation of an expression may cost.
    per_eval: f64,
    /// Objects in the inventory.
    inventory: f64,
    /// Per object, its longest list.
    lists: Vec<usize>,
    /// The longest list of all objects.
    all_list: f64,
    /// `limits.policyTimeMs`.
    time_ms: u64,
    /// When evaluation stops: `limits.policyTimeMs` after the run started.
    deadline: Instant,
    /// Set once an evaluation found the deadline passed.
    timed_out: AtomicBool,
}

impl Budget {
    /// The budget of a run over `repo` that started at `start`.
    pub fn new(repo: &Repo, start: Instant) -> Budget {
        let lists: Vec<usize> = repo.objects.iter().map(|o| o.max_list).collect();
        let all_list = lists.iter().copied().max().unwrap_or(0) as f64;
        Budget {
            per_eval: repo.limits.policy_cost as f64,
            inventory: repo.objects.len() as f64,
            lists,
            all_list,
            time_ms: repo.limits.policy_time_ms,
            deadline: start + Duration::from_millis(repo.limits.policy_time_ms),
            timed_out: AtomicBool::new(false),
        }
    }

    /// The sizes a policy's first Global variable is estimated with: the whole inventory.
    pub fn global_sizes(&self) -> Sizes {
        Sizes {
            inventory: self.inventory,
            list: self.all_list.max(1.0),
            globals: HashMap::new(),
        }
    }

    /// A `policy-budget` error when the Global variable `prog` of `p` is estimated over
    /// `limits.policyCost`.
    pub fn check_global(&self, p: &Compiled, prog: &Prog, sizes: &Sizes) -> Result<(), Diagnostic> {
        let (budget, inventory) = (self.per_eval, self.inventory);
        let (cost, _) = estimate(&prog.expr, sizes);
        if cost > budget {
            return Err(policy_budget(
                prog.at.clone(),
                format!(
                    "policy {}: {} has an estimated cost of {cost:.0}, over limits.policyCost {budget:.0} (inventory of {inventory} objects)",
                    p.name(),
                    prog.what
                ),
            ));
        }
        Ok(())
    }

    /// Checks each per-object expression against `limits.policyCost`, then the run's total
    /// against the run budget. `matched` and `global_sizes` are per policy; `errors` are the
    /// Global variables' budget errors. Any error fails the run.
    pub fn check_costs(
        &self,
        policies: &[Compiled],
        matched: &[Vec<usize>],
        global_sizes: &[HashMap<String, f64>],
        mut errors: Vec<Diagnostic>,
    ) -> Result<(), LoadError> {
        let mut run_cost = 0.0;
        for ((p, m), gs) in policies.iter().zip(matched).zip(global_sizes) {
            if m.is_empty() {
                continue;
            }
            run_cost += self.per_object(p, m, gs, &mut errors) * m.len() as f64;
        }
        let run_budget = self.per_eval * RUN_COST_FACTOR.max(self.inventory);
        if errors.is_empty() && run_cost > run_budget {
            errors.push(policy_budget(
                config_start(),
                format!(
                    "the policies' estimated total cost {run_cost:.0} over {} objects is over the run budget {run_budget:.0} (limits.policyCost per object)",
                    self.lists.len(),
                ),
            ));
        }
        if !errors.is_empty() {
            crate::diag::normalize(&mut errors);
            return Err(LoadError::PolicyCost(errors));
        }
        Ok(())
    }

    /// The estimated cost of evaluating `p` on one of the objects `m`; each per-object
    /// expression over `limits.policyCost` adds an error to `errors`.
    fn per_object(
        &self,
        p: &Compiled,
        m: &[usize],
        globals: &HashMap<String, f64>,
        errors: &mut Vec<Diagnostic>,
    ) -> f64 {
        let (budget, inventory) = (self.per_eval, self.inventory);
        let list = m.iter().map(|&i| self.lists[i]).max().unwrap_or(0) as f64;
        let sizes = Sizes {
            inventory,
            list: list.max(1.0),
            globals: globals.clone(),
        };
        let mut cost = 0.0;
        for prog in p.per_object() {
            let (c, _) = estimate(&prog.expr, &sizes);
            cost += c;
            if c > budget {
                errors.push(policy_budget(
                    prog.at.clone(),
                    format!(
                        "policy {}: {} has an estimated cost of {c:.0} per object, over limits.policyCost {budget:.0} (inventory of {inventory} objects, lists of up to {list} items)",
                        p.name(),
                        prog.what
                    ),
                ));
            }
        }
        cost
    }

    /// True once evaluation has run past `limits.policyTimeMs`: then every evaluation left
    /// is skipped.
    pub fn over_time(&self) -> bool {
        if self.timed_out.load(Ordering::Relaxed) || Instant::now() > self.deadline {
            self.timed_out.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    /// The run's error when evaluation ran past `limits.policyTimeMs`.
    pub fn check_time(&self) -> Result<(), LoadError> {
        if self.timed_out.load(Ordering::Relaxed) {
            return Err(LoadError::PolicyTimeout {
                limit_ms: self.time_ms,
            });
        }
        Ok(())
    }
}

/// The size of an evaluated Global variable, for the estimates of the expressions that read
/// it.
pub(super) fn value_size(v: &Value) -> f64 {
    match v {
        Value::List(l) => l.len() as f64,
        Value::Map(m) => m.map.len() as f64,
        Value::String(s) => s.len() as f64,
        _ => 1.0,
    }
}

/// Where run-wide budget errors point: the start of `meshform.yaml`, which sets the limits.
fn config_start() -> Location {
    Location::new(
        "meshform.yaml".into(),
        crate::yaml::Pos { line: 1, column: 1 },
    )
}
