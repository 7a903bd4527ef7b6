//! Global variables (`scope: Global`): evaluated once per policy, in order, each bound in
//! the policy's scope of the root context for its per-object expressions.

use super::budget::{value_size, Budget};
use super::scope::set_current;
use crate::diag::{Code, Diagnostic};
use crate::policy::engine::{Compiled, Sizes, VAR_PREFIX};
use crate::policy::format::FailurePolicy;
use cel::Context;
use std::collections::HashMap;

/// Each policy's Global variables.
pub(super) struct Globals<'p, 'v> {
    /// Per policy: its scope with its Global variables bound, or `None` when one was over
    /// budget or failed (the policy is then evaluated on no object).
    pub scopes: Vec<Option<Context<'p, 'v>>>,
    /// Per policy: the sizes of its Global variables, for the cost estimates.
    pub sizes: Vec<HashMap<String, f64>>,
    /// Global variables estimated over budget.
    pub errors: Vec<Diagnostic>,
    /// Global variables that failed in a policy with `failurePolicy: Fail`.
    pub findings: Vec<Diagnostic>,
}

/// Evaluates the Global variables of every policy in a scope of `root`; a policy stops at its
/// first variable that is over budget or fails.
pub(super) fn evaluate<'p, 'v>(
    root: &'p Context<'_, 'v>,
    policies: &[Compiled],
    budget: &Budget,
) -> Globals<'p, 'v> {
    let mut out = Globals {
        scopes: Vec::new(),
        sizes: Vec::new(),
        errors: Vec::new(),
        findings: Vec::new(),
    };
    set_current(None);
    for p in policies {
        let mut scope = root.new_inner_scope();
        let mut sizes = budget.global_sizes();
        let ok = bind(p, &mut scope, &mut sizes, budget, &mut out);
        out.sizes.push(sizes.globals);
        out.scopes.push(ok.then_some(scope));
    }
    out
}

/// Binds the Global variables of `p` in `scope`, recording their sizes in `sizes.globals`; false at
/// the first one over budget (an error in `out`) or failing (a finding in `out` under
/// `failurePolicy: Fail`).
fn bind(
    p: &Compiled,
    scope: &mut Context<'_, '_>,
    sizes: &mut Sizes,
    budget: &Budget,
    out: &mut Globals<'_, '_>,
) -> bool {
    for (name, prog) in &p.globals {
        if let Err(e) = budget.check_global(p, prog, sizes) {
            out.errors.push(e);
            return false;
        }
        match scope.resolve(&prog.expr) {
            Ok(v) => {
                sizes.globals.insert(name.clone(), value_size(&v));
                scope.add_variable_from_value(format!("{VAR_PREFIX}{name}"), v);
            }
            Err(e) => {
                if p.src.doc.spec.failure_policy == FailurePolicy::Fail {
                    out.findings.push(
                        Diagnostic::error(
                            Code::policy(p.name()),
                            format!("policy {} could not evaluate {}: {e}", p.name(), prog.what),
                        )
                        .at(prog.at.clone()),
                    );
                }
                return false;
            }
        }
    }
    true
}
