//! Compiling policies: CEL parsing with the `cel` 0.15 crate, load-time checks of every
//! referenced variable and function (the crate has no type checker; docs/policies.md),
//! `variables.<name>` rewritten to plain identifiers, constant regexes compiled under a
//! size budget, and a static cost estimate in the manner of Kubernetes' CEL cost estimator.

use super::format::{broken_at, Located, Scope};
use crate::diag::{Diagnostic, Severity};
use crate::manifest::Location;
use cel::common::ast::{operators, EntryExpr, Expr, IdedExpr, LiteralValue};
use cel::{extensions, Env};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

/// Prefix of the identifiers `variables.<name>` is rewritten to.
pub const VAR_PREFIX: &str = "__v_";

/// Largest compiled size of a constant regex (bytes); a bigger one is a budget error.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Namespaces of qualified functions.
const NAMESPACES: &[&str] = &["inventory", "lists", "gloo", "math", "strings", "optional"];

/// Functions of the cel stdlib and the strings, lists and math extensions.
const STDLIB: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "bytes",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getFullYear",
    "getHours",
    "getMilliseconds",
    "getMinutes",
    "getMonth",
    "getSeconds",
    "optional.of",
    "optional.none",
    "optional.ofNonZeroValue",
    "hasValue",
    "value",
    "orValue",
    "or",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "split",
    "substring",
    "trim",
    "join",
    "format",
    "reverse",
    "strings.quote",
    "slice",
    "flatten",
    "distinct",
    "sort",
    "lists.range",
    "math.greatest",
    "math.least",
    "math.abs",
    "math.ceil",
    "math.floor",
    "math.round",
    "math.trunc",
    "math.sign",
    "math.sqrt",
    "math.isInf",
    "math.isNaN",
    "math.isFinite",
    "math.bitAnd",
    "math.bitOr",
    "math.bitXor",
    "math.bitNot",
    "math.bitShiftLeft",
    "math.bitShiftRight",
];

/// Type identifiers usable in expressions (`type(x) == int`).
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
];

/// The `inventory.*` and `gloo.*` functions.
pub const RUN_FUNCTIONS: &[&str] = &[
    "inventory.list",
    "inventory.get",
    "gloo.routeConflicts",
    "gloo.shadowedRoutes",
    "gloo.unresolvedReferences",
    "gloo.missingServices",
    "gloo.duplicateAddresses",
    "gloo.selectedEndpoints",
    "gloo.workspace",
];

/// The shared CEL environment: stdlib plus the strings, lists and math extensions.
pub fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        // The extension sets are fixed and disjoint; failing here is a programming error
        // caught by every test.
        let _ = env.add_extension(extensions::strings);
        let _ = env.add_extension(extensions::lists);
        let _ = env.add_extension(extensions::math);
        Arc::new(env)
    })
    .clone()
}

/// A compiled expression and where it is written.
#[derive(Debug)]
pub struct Prog {
    /// The rewritten AST.
    pub expr: IdedExpr,
    /// Where the expression is written in the policy file.
    pub at: Location,
    /// Which expression, e.g. `validations[0].expression`.
    pub what: String,
}

/// A compiled validation.
#[derive(Debug)]
pub struct CValidation {
    /// The check.
    pub expr: Prog,
    /// Fixed message.
    pub message: Option<String>,
    /// Message expression.
    pub message_expr: Option<Prog>,
    /// Field a `false` result points at.
    pub field_path: Option<String>,
    /// Help line.
    pub help: Option<String>,
}

/// A policy ready to run.
#[derive(Debug)]
pub struct Compiled {
    /// Its source.
    pub src: Located,
    /// Severity of its findings.
    pub severity: Severity,
    /// `matchConditions`.
    pub conditions: Vec<Prog>,
    /// Global variables in order.
    pub globals: Vec<(String, Prog)>,
    /// Per-object variables in order.
    pub locals: Vec<(String, Prog)>,
    /// Validations.
    pub validations: Vec<CValidation>,
}

impl Compiled {
    /// The policy name.
    pub fn name(&self) -> &str {
        &self.src.doc.metadata.name
    }

    /// Every per-object program.
    pub fn per_object(&self) -> impl Iterator<Item = &Prog> {
        self.locals.iter().map(|(_, p)| p).chain(self.checks())
    }

    /// The per-object programs other than variables: matchConditions, validations and their
    /// messageExpressions.
    pub fn checks(&self) -> impl Iterator<Item = &Prog> {
        self.conditions.iter().chain(
            self.validations
                .iter()
                .flat_map(|v| std::iter::once(&v.expr).chain(v.message_expr.iter())),
        )
    }

    /// True when any expression calls a function whose name starts with `prefix`.
    pub fn calls(&self, prefix: &str) -> bool {
        self.globals
            .iter()
            .map(|(_, p)| p)
            .chain(self.per_object())
            .any(|p| calls(&p.expr, prefix))
    }

    /// True when what the policy finds on an object depends on that object's value alone: no
    /// global variables, no `namespaceObject`, no `inventory.*` or `gloo.*` function (the
    /// other functions read only their arguments).
    pub fn reads_object_only(&self) -> bool {
        let mut other = false;
        for p in self.per_object() {
            walk(&p.expr, &mut |x| {
                other |= matches!(&x.expr, Expr::Ident(n) if n == "namespaceObject");
            });
        }
        !other && self.globals.is_empty() && !self.calls("inventory.") && !self.calls("gloo.")
    }
}

fn calls(e: &IdedExpr, prefix: &str) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if let Expr::Call(c) = &x.expr {
            let q = match c.target.as_deref().map(|t| &t.expr) {
                Some(Expr::Ident(ns)) if NAMESPACES.contains(&ns.as_str()) => {
                    format!("{ns}.{}", c.func_name)
                }
                _ => c.func_name.clone(),
            };
            found |= q.starts_with(prefix);
        }
    });
    found
}

fn walk(e: &IdedExpr, f: &mut impl FnMut(&IdedExpr)) {
    f(e);
    children(e, &mut |c| walk(c, f));
}

/// One step of a select chain ([`select_chain`]).
#[derive(Debug, Clone, Copy)]
pub(super) enum Step<'e> {
    /// `.f`
    Field(&'e str),
    /// `.?f`
    Optional(&'e str),
    /// `.orValue(d)` with a default that needs no evaluation ([`constant_default`]).
    Or(&'e IdedExpr),
}

/// `e` as an identifier followed by selects, optional selects and constant `orValue`s, in
/// source order: `object.spec.?tcp.orValue([])` is `("object", [Field(spec), Optional(tcp),
/// Or([])])`. `None` for anything else. The one reading of such chains, for the policies'
/// lent variables (run/lending.rs) and the analysis of what they read (reads.rs).
pub(super) fn select_chain(e: &IdedExpr) -> Option<(&str, Vec<Step<'_>>)> {
    let (root, step) = match &e.expr {
        Expr::Ident(n) => return Some((n.as_str(), Vec::new())),
        Expr::Select(s) if !s.test => (&*s.operand, Step::Field(&s.field)),
        Expr::Call(c) if c.func_name == operators::OPT_SELECT && c.target.is_none() => {
            let [operand, field] = c.args.as_slice() else {
                return None;
            };
            let Expr::Literal(LiteralValue::String(f)) = &field.expr else {
                return None;
            };
            (operand, Step::Optional(&f[..]))
        }
        Expr::Call(c) if c.func_name == "orValue" => {
            let [default] = c.args.as_slice() else {
                return None;
            };
            if !constant_default(default) {
                return None;
            }
            (c.target.as_deref()?, Step::Or(default))
        }
        _ => return None,
    };
    let (name, mut steps) = select_chain(root)?;
    steps.push(step);
    Some((name, steps))
}

/// An `orValue` default that needs no evaluation: a literal, `[]` or `{}`.
pub(super) fn constant_default(e: &IdedExpr) -> bool {
    match &e.expr {
        Expr::Literal(_) => true,
        Expr::List(l) => l.elements.is_empty(),
        Expr::Map(m) => m.entries.is_empty(),
        _ => false,
    }
}

/// Calls `f` on each direct sub-expression of `e`: a call's target and arguments, a
/// comprehension's parts, list elements, map keys and values, struct values, a select's operand.
pub(super) fn children<'e>(e: &'e IdedExpr, f: &mut impl FnMut(&'e IdedExpr)) {
    match &e.expr {
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                f(t);
            }
            c.args.iter().for_each(&mut *f);
        }
        Expr::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                f(x);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(&mut *f),
        Expr::Map(m) => m.entries.iter().for_each(|en| entry(en, f)),
        Expr::Struct(s) => s.entries.iter().for_each(|en| entry(en, f)),
        Expr::Select(s) => f(&s.operand),
        _ => {}
    }
}

fn entry<'e>(en: &'e cel::common::ast::IdedEntryExpr, f: &mut impl FnMut(&'e IdedExpr)) {
    match &en.expr {
        EntryExpr::MapEntry(m) => {
            f(&m.key);
            f(&m.value);
        }
        EntryExpr::StructField(s) => f(&s.value),
    }
}

/// Rewrites `variables.<name>` to `__v_<name>`; returns unknown variable names.
pub(super) fn rewrite(e: &mut IdedExpr, known: &BTreeSet<String>, unknown: &mut Vec<String>) {
    if let Expr::Select(s) = &e.expr {
        if matches!(&s.operand.expr, Expr::Ident(v) if v == "variables") && !s.test {
            if known.contains(&s.field) {
                e.expr = Expr::Ident(format!("{VAR_PREFIX}{}", s.field));
            } else {
                unknown.push(s.field.clone());
            }
            return;
        }
    }
    match &mut e.expr {
        Expr::Call(c) => {
            if let Some(t) = &mut c.target {
                rewrite(t, known, unknown);
            }
            c.args.iter_mut().for_each(|a| rewrite(a, known, unknown));
        }
        Expr::Comprehension(c) => {
            for x in [
                &mut c.iter_range,
                &mut c.accu_init,
                &mut c.loop_cond,
                &mut c.loop_step,
                &mut c.result,
            ] {
                rewrite(x, known, unknown);
            }
        }
        Expr::List(l) => l
            .elements
            .iter_mut()
            .for_each(|a| rewrite(a, known, unknown)),
        Expr::Map(m) => m.entries.iter_mut().for_each(|en| match &mut en.expr {
            EntryExpr::MapEntry(m) => {
                rewrite(&mut m.key, known, unknown);
                rewrite(&mut m.value, known, unknown);
            }
            EntryExpr::StructField(s) => rewrite(&mut s.value, known, unknown),
        }),
        Expr::Select(s) => rewrite(&mut s.operand, known, unknown),
        _ => {}
    }
}

/// A reference in a CEL expression that meshform cannot evaluate.
#[derive(Debug, thiserror::Error)]
enum RefError {
    #[error("`variables` must be used as variables.<name>")]
    BareVariables,
    #[error("`{0}` is not available in a Global variable")]
    ObjectInGlobal(String),
    #[error("unknown variable `{0}`")]
    UnknownVariable(String),
    #[error("unknown function `{0}`")]
    UnknownFunction(String),
    #[error("regex {pattern:?} exceeds the regex budget ({size} bytes compiled)")]
    RegexTooBig { pattern: String, size: usize },
    #[error("invalid regex {pattern:?}: {source}")]
    Regex {
        pattern: String,
        source: regex::Error,
    },
    #[error("message types are not supported (`{0}`)")]
    MessageType(String),
    #[error("unsupported expression")]
    Unsupported,
}

/// Checks free identifiers and function names; returns the first problem.
fn check_refs(
    e: &IdedExpr,
    bound: &mut Vec<String>,
    allowed_vars: &[&str],
) -> Result<(), RefError> {
    match &e.expr {
        Expr::Ident(n) => {
            if bound.iter().any(|b| b == n)
                || n.starts_with(VAR_PREFIX)
                || allowed_vars.contains(&n.as_str())
                || TYPE_NAMES.contains(&n.as_str())
            {
                Ok(())
            } else if n == "variables" {
                Err(RefError::BareVariables)
            } else if n == "object" || n == "namespaceObject" {
                Err(RefError::ObjectInGlobal(n.to_string()))
            } else {
                Err(RefError::UnknownVariable(n.to_string()))
            }
        }
        Expr::Call(c) => {
            let qualified = match c.target.as_deref().map(|t| &t.expr) {
                Some(Expr::Ident(ns))
                    if NAMESPACES.contains(&ns.as_str()) && !bound.iter().any(|b| b == ns) =>
                {
                    Some(format!("{ns}.{}", c.func_name))
                }
                _ => None,
            };
            let name = qualified.clone().unwrap_or_else(|| c.func_name.clone());
            let operator = !name.starts_with(|ch: char| ch.is_ascii_alphabetic());
            if !operator
                && !STDLIB.contains(&name.as_str())
                && !super::functions::NAMES.contains(&name.as_str())
                && !RUN_FUNCTIONS.contains(&name.as_str())
            {
                return Err(RefError::UnknownFunction(name));
            }
            if name == "matches" {
                let pat = if c.target.is_some() {
                    c.args.first()
                } else {
                    c.args.get(1)
                };
                if let Some(IdedExpr {
                    expr: Expr::Literal(LiteralValue::String(p)),
                    ..
                }) = pat
                {
                    regex::RegexBuilder::new(p)
                        .size_limit(REGEX_SIZE_LIMIT)
                        .build()
                        .map_err(|err| match err {
                            regex::Error::CompiledTooBig(size) => RefError::RegexTooBig {
                                pattern: p.to_string(),
                                size,
                            },
                            source => RefError::Regex {
                                pattern: p.to_string(),
                                source,
                            },
                        })?;
                }
            }
            if qualified.is_none() {
                if let Some(t) = &c.target {
                    check_refs(t, bound, allowed_vars)?;
                }
            }
            for a in &c.args {
                check_refs(a, bound, allowed_vars)?;
            }
            Ok(())
        }
        Expr::Comprehension(c) => {
            check_refs(&c.iter_range, bound, allowed_vars)?;
            check_refs(&c.accu_init, bound, allowed_vars)?;
            bound.push(c.accu_var.clone());
            bound.push(c.iter_var.clone());
            if let Some(v2) = &c.iter_var2 {
                bound.push(v2.clone());
            }
            let r = [&c.loop_cond, &c.loop_step, &c.result]
                .iter()
                .try_for_each(|x| check_refs(x, bound, allowed_vars));
            bound.truncate(bound.len() - 2 - usize::from(c.iter_var2.is_some()));
            r
        }
        Expr::List(l) => l
            .elements
            .iter()
            .try_for_each(|a| check_refs(a, bound, allowed_vars)),
        Expr::Map(m) => m.entries.iter().try_for_each(|en| match &en.expr {
            EntryExpr::MapEntry(m) => {
                check_refs(&m.key, bound, allowed_vars)?;
                check_refs(&m.value, bound, allowed_vars)
            }
            EntryExpr::StructField(s) => check_refs(&s.value, bound, allowed_vars),
        }),
        Expr::Struct(s) => Err(RefError::MessageType(s.type_name.clone())),
        Expr::Select(s) => check_refs(&s.operand, bound, allowed_vars),
        Expr::Literal(_) => Ok(()),
        Expr::Unspecified => Err(RefError::Unsupported),
    }
}

fn prog(
    src: &Located,
    text: &str,
    pointer: &str,
    what: String,
    known: &BTreeSet<String>,
    global: bool,
) -> Result<Prog, Box<Diagnostic>> {
    let at = src.locate(pointer);
    let fail = |msg: String| {
        Box::new(broken_at(
            at.clone(),
            format!("policy {}: {what}: {msg}", src.doc.metadata.name),
        ))
    };
    let program = env()
        .compile(text)
        .map_err(|e| fail(format!("CEL syntax error: {e}")))?;
    let mut expr = program.expression().clone();
    let mut unknown = Vec::new();
    rewrite(&mut expr, known, &mut unknown);
    if let Some(u) = unknown.first() {
        return Err(fail(format!(
            "unknown variable `variables.{u}` (declare it under spec.variables, before its use)"
        )));
    }
    let allowed: &[&str] = if global {
        &[]
    } else {
        &["object", "namespaceObject"]
    };
    check_refs(&expr, &mut Vec::new(), allowed).map_err(|e| fail(e.to_string()))?;
    Ok(Prog { expr, at, what })
}

/// Compiles a policy, checking every expression.
pub fn compile(src: Located) -> Result<Compiled, Box<Diagnostic>> {
    let spec = &src.doc.spec;
    let mut known_global = BTreeSet::new();
    let mut known_all = BTreeSet::new();
    let mut globals = Vec::new();
    let mut locals = Vec::new();
    for (i, v) in spec.variables.iter().enumerate() {
        let ptr = format!("/spec/variables/{i}/expression");
        let what = format!("variables[{i}] ({})", v.name);
        match v.scope {
            Scope::Global => {
                let p = prog(&src, &v.expression, &ptr, what, &known_global, true)?;
                globals.push((v.name.clone(), p));
                known_global.insert(v.name.clone());
            }
            Scope::Object => {
                let p = prog(&src, &v.expression, &ptr, what, &known_all, false)?;
                locals.push((v.name.clone(), p));
            }
        }
        known_all.insert(v.name.clone());
    }
    let conditions = spec
        .match_conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            prog(
                &src,
                &c.expression,
                &format!("/spec/matchConditions/{i}/expression"),
                format!("matchConditions[{i}] ({})", c.name),
                &known_global,
                false,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut validations = Vec::new();
    for (i, v) in spec.validations.iter().enumerate() {
        let expr = prog(
            &src,
            &v.expression,
            &format!("/spec/validations/{i}/expression"),
            format!("validations[{i}].expression"),
            &known_all,
            false,
        )?;
        let message_expr = v
            .message_expression
            .as_ref()
            .map(|m| {
                prog(
                    &src,
                    m,
                    &format!("/spec/validations/{i}/messageExpression"),
                    format!("validations[{i}].messageExpression"),
                    &known_all,
                    false,
                )
            })
            .transpose()?;
        validations.push(CValidation {
            expr,
            message: v.message.clone(),
            message_expr,
            field_path: v.field_path.clone(),
            help: v.help.clone(),
        });
    }
    let severity = src.severity();
    Ok(Compiled {
        src,
        severity,
        conditions,
        globals,
        locals,
        validations,
    })
}

/// Sizes the cost estimate assumes.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Objects in the inventory.
    pub inventory: f64,
    /// Longest list in the data the policy sees.
    pub list: f64,
    /// Sizes of evaluated Global variables.
    pub globals: HashMap<String, f64>,
}

/// Estimated worst-case cost of evaluating `e` once, and the size of its value.
pub fn estimate(e: &IdedExpr, s: &Sizes) -> (f64, f64) {
    match &e.expr {
        Expr::Literal(LiteralValue::String(t)) => (1.0, t.len() as f64),
        Expr::Literal(LiteralValue::Int(i)) => (1.0, (*i.inner()).max(0) as f64),
        Expr::Literal(_) => (1.0, 1.0),
        Expr::Ident(n) => {
            let size = n
                .strip_prefix(VAR_PREFIX)
                .and_then(|v| s.globals.get(v).copied())
                .unwrap_or(s.list);
            (1.0, size)
        }
        Expr::Select(x) => (1.0 + estimate(&x.operand, s).0, s.list),
        Expr::List(l) => {
            let c: f64 = l.elements.iter().map(|a| estimate(a, s).0).sum();
            (1.0 + c, l.elements.len() as f64)
        }
        Expr::Map(m) => {
            let mut c = 1.0;
            for en in &m.entries {
                if let EntryExpr::MapEntry(me) = &en.expr {
                    c += estimate(&me.key, s).0 + estimate(&me.value, s).0;
                }
            }
            (c, m.entries.len() as f64)
        }
        Expr::Struct(_) | Expr::Unspecified => (1.0, 1.0),
        Expr::Comprehension(c) => {
            let (rc, rs) = estimate(&c.iter_range, s);
            let (ic, _) = estimate(&c.accu_init, s);
            let (cc, _) = estimate(&c.loop_cond, s);
            let (sc, _) = estimate(&c.loop_step, s);
            let (xc, _) = estimate(&c.result, s);
            (rc + ic + rs.max(1.0) * (cc + sc + 1.0) + xc, rs)
        }
        Expr::Call(call) => {
            let name = match call.target.as_deref().map(|t| &t.expr) {
                Some(Expr::Ident(ns)) if NAMESPACES.contains(&ns.as_str()) => {
                    format!("{ns}.{}", call.func_name)
                }
                _ => call.func_name.clone(),
            };
            let mut cost = 1.0;
            let mut sizes = Vec::new();
            if let Some(t) = &call.target {
                if !name.contains('.') {
                    let (c, z) = estimate(t, s);
                    cost += c;
                    sizes.push(z);
                }
            }
            for a in &call.args {
                let (c, z) = estimate(a, s);
                cost += c;
                sizes.push(z);
            }
            let first = sizes.first().copied().unwrap_or(1.0);
            let total: f64 = sizes.iter().sum();
            let size = match name.as_str() {
                "inventory.list" => {
                    cost += s.inventory;
                    s.inventory
                }
                "lists.range" => {
                    cost += first;
                    first
                }
                "size" => first,
                "_==_" | "_!=_" | "_<_" | "_>_" | "_<=_" | "_>=_" | "!_" | "_&&_" | "_||_"
                | "isIP" | "isCIDR" | "isHostname" | "family" | "containsIP" | "containsCIDR" => {
                    1.0
                }
                "_+_" => {
                    cost += total;
                    total
                }
                "flatten" => {
                    cost += first * s.list;
                    first * s.list
                }
                "matches" | "contains" | "startsWith" | "endsWith" | "split" | "replace"
                | "join" | "format" => {
                    cost += total;
                    total
                }
                "sum" => {
                    cost += first;
                    1.0
                }
                // One pass over the spec's routes and their destinations.
                "routes" => {
                    cost += first.max(s.list);
                    s.list
                }
                "lists.duplicates" | "distinct" | "sort" | "reverse" | "slice" | "@in" | "_[_]" => {
                    cost += first + sizes.get(1).copied().unwrap_or(0.0);
                    first.max(1.0)
                }
                n if n.starts_with("gloo.") => s.list,
                _ => s.list,
            };
            (cost, size)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(n: f64) -> Sizes {
        Sizes {
            inventory: n,
            list: 10.0,
            globals: HashMap::new(),
        }
    }

    fn est(src: &str, s: &Sizes) -> f64 {
        estimate(env().compile(src).unwrap().expression(), s).0
    }

    #[test]
    fn nested_inventory_is_quadratic() {
        let e = "inventory.list('v1','X').all(a, inventory.list('v1','X').exists(b, a == b))";
        let small = est(e, &sizes(100.0));
        let big = est(e, &sizes(10_000.0));
        assert!(big > 90.0 * small, "{small} {big}");
        assert!(big > 1e8);
        let linear = est("object.spec.http.all(r, size(r) > 0)", &sizes(10_000.0));
        assert!(linear < 1000.0, "{linear}");
    }

    #[test]
    fn unknown_names_are_rejected() {
        let e = env().compile("isIPP('1.2.3.4')").unwrap();
        let r = check_refs(e.expression(), &mut Vec::new(), &["object"]);
        assert!(
            matches!(&r, Err(RefError::UnknownFunction(f)) if f == "isIPP"),
            "{r:?}"
        );
        assert_eq!(r.unwrap_err().to_string(), "unknown function `isIPP`");
        let e = env().compile("foo.bar").unwrap();
        let r = check_refs(e.expression(), &mut Vec::new(), &["object"]);
        assert_eq!(r.unwrap_err().to_string(), "unknown variable `foo`");
        let e = env()
            .compile("object.spec.hosts.all(h, isHostname(h)) && inventory.list('a','b').size() > 0 && lists.duplicates([1]) == []")
            .unwrap();
        assert!(check_refs(e.expression(), &mut Vec::new(), &["object"]).is_ok());
    }

    #[test]
    fn catastrophic_constant_regex_is_a_budget_error() {
        let e = env()
            .compile("object.name.matches('((a{100}){100}){100}')")
            .unwrap();
        let r = check_refs(e.expression(), &mut Vec::new(), &["object"]);
        assert!(matches!(r, Err(RefError::RegexTooBig { .. })), "{r:?}");
    }
}
