//! Evaluating compiled policies over a repo: matching, Global variables once per run,
//! per-object evaluation in parallel (rayon) with `object` bound without copying (a
//! `VariableResolver` over objects converted once, shared/reference/cel.md §2.5), cost and
//! time budgets, exemptions, and findings pointing at the offending field. A diff's head takes
//! the base's quiet results of the policies that read their object alone ([`Memo`]).

use super::convert::{self, to_cel};
use super::engine::{estimate, select_chain, Compiled, Prog, Sizes, Step, VAR_PREFIX};
use super::format::FailurePolicy;
use super::reads::{self, Need};
use super::{functions, gloo, Report, EXEMPTION_PREFIX};
use crate::diag::{Diagnostic, Severity};
use crate::hashing::FastMap;
use crate::manifest::{Location, Object};
use crate::repo::{policy_budget, LoadError, Repo};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::objects::Key;
use cel::{Context, ExecutionError, IdedExpr, Value};
use rayon::prelude::*;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A run may spend `limits.policyCost` per object (at least this many times `policyCost`):
/// the built-ins are linear, so a fixed total would refuse large repos; a rule that scans the
/// inventory per object is stopped by the per-evaluation budget or by `limits.policyTimeMs`.
pub const RUN_COST_FACTOR: f64 = 100.0;

thread_local! {
    /// The object under evaluation on this thread (an index into `repo.objects`).
    static CURRENT: Cell<Option<usize>> = const { Cell::new(None) };
}

fn current() -> Option<usize> {
    CURRENT.with(Cell::get)
}

fn set_current(i: Option<usize>) {
    CURRENT.with(|c| c.set(i));
}

fn boxed(v: Value) -> Box<dyn Val> {
    match Box::<dyn Val>::try_from(v) {
        Ok(b) => b,
        Err(_) => null_val(),
    }
}

fn null_val() -> Box<dyn Val> {
    Box::<dyn Val>::try_from(Value::Null).unwrap_or_else(|_| unreachable!("null converts"))
}

/// Resolves `namespaceObject` for the current object, converting each Namespace once and
/// lending it to every evaluation. (`object` is converted per object task and resolved by the
/// evaluation's own scope, [`LocalRefs`].)
struct Resolver<'r> {
    objs: &'r [Object],
    vals: Vec<OnceLock<Box<dyn Val + 'r>>>,
    ns_of: Vec<Option<usize>>,
    null: Box<dyn Val>,
}

impl<'r> Resolver<'r> {
    fn val(&self, i: usize) -> &(dyn Val + 'r) {
        &**self.vals[i].get_or_init(|| convert::to_val(&self.objs[i].value))
    }
}

impl VariableResolver for Resolver<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        let i = current()?;
        match variable {
            "namespaceObject" => Some(CowVal::Borrowed(match self.ns_of[i] {
                Some(n) => self.val(n),
                None => &*self.null,
            })),
            _ => None,
        }
    }
}

/// `inventory.list` / `inventory.get` data.
struct Inventory {
    vals: Vec<Value>,
    by_kind: HashMap<(String, String), Vec<usize>>,
}

impl Inventory {
    fn build(objs: &[Object]) -> Inventory {
        let vals: Vec<Value> = objs.par_iter().map(|o| to_cel(&o.value)).collect();
        let mut by_kind: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, o) in objs.iter().enumerate() {
            by_kind
                .entry((o.id.api_version.clone(), o.id.kind.clone()))
                .or_default()
                .push(i);
        }
        Inventory { vals, by_kind }
    }
}

fn obj_ref(o: &Object, field: &str, note: &str) -> Value {
    let mut m = HashMap::new();
    for (k, v) in [
        ("apiVersion", o.id.api_version.as_str()),
        ("kind", &o.id.kind),
        ("namespace", &o.id.namespace),
        ("name", &o.id.name),
        ("cluster", &o.cluster),
        ("field", field),
        ("note", note),
    ] {
        m.insert(
            Key::String(Arc::new(k.into())),
            Value::String(Arc::new(v.into())),
        );
    }
    Value::Map(cel::objects::Map { map: Arc::new(m) })
}

fn violations_value(objs: &[Object], vs: &[gloo::Violation]) -> Value {
    Value::List(Arc::new(
        vs.iter()
            .map(|v| {
                let mut m = HashMap::new();
                m.insert(
                    Key::String(Arc::new("field".into())),
                    Value::String(Arc::new(v.field.clone())),
                );
                m.insert(
                    Key::String(Arc::new("message".into())),
                    Value::String(Arc::new(v.message.clone())),
                );
                m.insert(
                    Key::String(Arc::new("related".into())),
                    Value::List(Arc::new(
                        v.related
                            .iter()
                            .map(|(i, f, n)| obj_ref(&objs[*i], f, n))
                            .collect(),
                    )),
                );
                Value::Map(cel::objects::Map { map: Arc::new(m) })
            })
            .collect(),
    ))
}

/// The `gloo.*` functions returning violation lists, in the order of `GlooValues::lists`.
const GLOO_LISTS: [&str; 5] = [
    "routeConflicts",
    "shadowedRoutes",
    "unresolvedReferences",
    "missingServices",
    "duplicateAddresses",
];

/// `gloo.*` results per function, indexed by object.
#[derive(Default)]
struct GlooValues {
    lists: [Vec<Option<Value>>; 5],
    endpoints: Vec<Option<i64>>,
    workspace: Vec<Option<Value>>,
}

/// The `gloo.*` facts some policy calls.
fn gloo_wanted(policies: &[Compiled]) -> gloo::Wanted {
    let calls = |f: &str| policies.iter().any(|p| p.calls(&format!("gloo.{f}")));
    gloo::Wanted {
        route_conflicts: calls("routeConflicts"),
        shadowed: calls("shadowedRoutes"),
        references: calls("unresolvedReferences") || calls("missingServices"),
        external_services: calls("duplicateAddresses") || calls("selectedEndpoints"),
    }
}

fn gloo_values(repo: &Repo, model: &crate::gloo::Model, wanted: gloo::Wanted) -> GlooValues {
    let objs = &repo.objects[..];
    let ix = gloo::build_wanted(repo, model, wanted);
    let conv = |m: &gloo::PerObject| -> Vec<Option<Value>> {
        m.iter()
            .map(|v| (!v.is_empty()).then(|| violations_value(objs, v)))
            .collect()
    };
    let mut names: FastMap<&str, Arc<String>> = FastMap::default();
    let workspace = ix
        .workspace
        .iter()
        .map(|w| {
            w.as_deref().map(|w| {
                let s = names.entry(w).or_insert_with(|| Arc::new(w.to_string()));
                Value::String(s.clone())
            })
        })
        .collect();
    GlooValues {
        lists: [
            conv(&ix.route_conflicts),
            conv(&ix.shadowed),
            conv(&ix.unresolved),
            conv(&ix.missing_services),
            conv(&ix.duplicate_addresses),
        ],
        endpoints: ix.selected_endpoints,
        workspace,
    }
}

fn register_run_functions(
    ctx: &mut Context<'_, '_>,
    inv: Option<Arc<Inventory>>,
    gv: Option<Arc<GlooValues>>,
) -> Result<(), cel::DeclarationError> {
    let empty = || Value::List(Arc::new(Vec::new()));
    let i1 = inv.clone();
    ctx.add_function(
        "inventory.list",
        move |cel::extractors::Arguments(args): cel::extractors::Arguments| -> Result<Value, cel::ExecutionError> {
            let s = |i: usize| args.get(i).and_then(convert::as_str);
            let (Some(api), Some(kind)) = (s(0), s(1)) else {
                return Err(cel::ExecutionError::function_error(
                    "inventory.list",
                    "expects (apiVersion, kind[, namespace]) strings",
                ));
            };
            let ns = s(2);
            let Some(inv) = &i1 else { return Ok(Value::List(Arc::new(Vec::new()))) };
            let items = inv
                .by_kind
                .get(&(api.to_string(), kind.to_string()))
                .into_iter()
                .flatten()
                .filter(|&&i| {
                    ns.is_none_or(|n| {
                        convert::get(&inv.vals[i], "metadata")
                            .and_then(|m| convert::get(m, "namespace"))
                            .and_then(convert::as_str)
                            .unwrap_or("")
                            == n
                    })
                })
                .map(|&i| inv.vals[i].clone())
                .collect();
            Ok(Value::List(Arc::new(items)))
        },
    )?;
    let i2 = inv;
    ctx.add_function(
        "inventory.get",
        move |cel::extractors::Arguments(args): cel::extractors::Arguments| -> Result<Value, cel::ExecutionError> {
            let s = |i: usize| args.get(i).and_then(convert::as_str);
            let (Some(api), Some(kind), Some(ns), Some(name)) = (s(0), s(1), s(2), s(3)) else {
                return Err(cel::ExecutionError::function_error(
                    "inventory.get",
                    "expects (apiVersion, kind, namespace, name) strings",
                ));
            };
            let Some(inv) = &i2 else { return Ok(Value::Null) };
            let md = |v: &Value, k: &str| {
                convert::get(v, "metadata")
                    .and_then(|m| convert::get(m, k))
                    .and_then(convert::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            Ok(inv
                .by_kind
                .get(&(api.to_string(), kind.to_string()))
                .into_iter()
                .flatten()
                .map(|&i| &inv.vals[i])
                .find(|v| md(v, "namespace") == ns && md(v, "name") == name)
                .cloned()
                .unwrap_or(Value::Null))
        },
    )?;
    for (f, name) in GLOO_LISTS.iter().enumerate() {
        let g = gv.clone();
        ctx.add_function(&format!("gloo.{name}"), move || -> Value {
            current()
                .and_then(|i| g.as_ref()?.lists[f].get(i)?.clone())
                .unwrap_or_else(empty)
        })?;
    }
    let g = gv.clone();
    ctx.add_function("gloo.selectedEndpoints", move || -> Value {
        Value::Int(
            current()
                .and_then(|i| *g.as_ref()?.endpoints.get(i)?)
                .unwrap_or(0),
        )
    })?;
    let g = gv;
    ctx.add_function("gloo.workspace", move || -> Value {
        current()
            .and_then(|i| g.as_ref()?.workspace.get(i)?.clone())
            .unwrap_or(Value::Null)
    })?;
    Ok(())
}

/// Plural resource name of a kind, Kubernetes style (`RouteTable` → `routetables`).
pub fn plural(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k.ends_with('s') || k.ends_with("ch") || k.ends_with('x') {
        format!("{k}es")
    } else if let Some(stem) = k
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{k}s")
    }
}

/// `res` is the plural of the object's kind ([`plural`]).
fn rule_matches(r: &super::format::ResourceRule, o: &Object, res: &str) -> bool {
    let group = o.id.group();
    let version = o.id.api_version.rsplit('/').next().unwrap_or_default();
    let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
    any(&r.api_groups, group)
        && any(&r.api_versions, version)
        && r.resources
            .iter()
            .any(|x| x == "*" || x == res || x.eq_ignore_ascii_case(&o.id.kind))
}

fn value_size(v: &Value) -> f64 {
    match v {
        Value::List(l) => l.len() as f64,
        Value::Map(m) => m.map.len() as f64,
        Value::String(s) => s.len() as f64,
        _ => 1.0,
    }
}

struct Finding {
    diag: Diagnostic,
    suppressed: bool,
}

struct Env<'a> {
    repo: &'a Repo,
    by_id: HashMap<(&'a str, &'a str, &'a str, &'a str, &'a str), usize>,
    no_exemptions: bool,
}

impl Env<'_> {
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
        let mut d = Diagnostic::new(severity, p.name(), message)
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
        let key = format!("{EXEMPTION_PREFIX}{}", p.name());
        let mut out = Vec::new();
        let mut suppressed = false;
        if let Some(reason) = o.annotations().find(|(k, _)| *k == key).map(|(_, v)| v) {
            if self.no_exemptions {
                d.help = Some(format!(
                    "{} (exemption annotation {key} ignored: --no-exemptions)",
                    d.help.clone().unwrap_or_default()
                ));
            } else if reason.trim().is_empty() {
                out.push(Finding {
                    diag: Diagnostic::warning(
                        "policy-exemption",
                        format!("exemption {key} has no reason, so it is not applied"),
                    )
                    .at(self
                        .repo
                        .locate(o, &format!("metadata.annotations[\"{key}\"]")))
                    .on(o.id.clone())
                    .help("give the reason as the annotation value"),
                    suppressed: false,
                });
            } else {
                d.help = Some(format!("exempted: {reason}"));
                suppressed = true;
            }
        }
        out.push(Finding {
            diag: d,
            suppressed,
        });
        out
    }

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
        let mut refs = LocalRefs::default();
        refs.vars.push(("object", CowVal::Borrowed(object)));
        // Variables that only read a field of the object are lent, not copied.
        let mut lent = vec![false; p.locals.len()];
        for (k, l) in locals.iter().enumerate() {
            let Some(path) = &l.path else {
                continue;
            };
            let v = match path.find(object) {
                Ok(Some(v)) => CowVal::Borrowed(v),
                Ok(None) => match Value::resolve_val(path.default, pctx) {
                    Ok(d) => CowVal::Owned(d.into_owned()),
                    Err(_) => continue,
                },
                Err(()) => continue,
            };
            refs.vars.push((l.bound.as_str(), v));
            lent[k] = true;
        }
        let mut ctx = lending_scope(pctx, &refs);
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
        let unlent = p.locals.iter().zip(locals).zip(lent).filter(|(_, l)| !**l);
        for (((_, prog), l), _) in unlent {
            match local(ctx, &prog.expr) {
                Ok(v) => ctx.add_variable_as_val(l.bound.clone(), v),
                Err(e) => return self.eval_error(p, i, prog, e.to_string()),
            }
        }
        let cluster = self.repo.objects[i].cluster.as_str();
        let mut out = Vec::new();
        for v in &p.validations {
            let result = match ctx.resolve(&v.expr.expr) {
                Ok(r) => r,
                Err(e) => {
                    out.extend(self.eval_error(p, i, &v.expr, e.to_string()));
                    continue;
                }
            };
            let default_message = || -> String {
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
            };
            match result {
                Value::Bool(true) => {}
                Value::Bool(false) => out.extend(self.finding(
                    p,
                    i,
                    p.severity,
                    v.field_path.clone(),
                    default_message(),
                    v.help.as_ref(),
                    Vec::new(),
                )),
                Value::List(items) => {
                    for item in items.iter() {
                        let (field, message, related) = match item {
                            Value::String(f) => (Some(f.to_string()), default_message(), vec![]),
                            Value::Map(_) => {
                                let field = convert::get(item, "field")
                                    .and_then(convert::as_str)
                                    .map(str::to_string)
                                    .or_else(|| v.field_path.clone());
                                let message = convert::get(item, "message")
                                    .and_then(convert::as_str)
                                    .map_or_else(default_message, str::to_string);
                                let related = match convert::get(item, "related") {
                                    Some(Value::List(rs)) => {
                                        rs.iter().filter_map(|r| self.related(cluster, r)).collect()
                                    }
                                    _ => vec![],
                                };
                                (field, message, related)
                            }
                            other => {
                                out.extend(self.eval_error(
                                    p,
                                    i,
                                    &v.expr,
                                    format!(
                                        "a violation must be a field path string or a map, got {}",
                                        other.type_of()
                                    ),
                                ));
                                continue;
                            }
                        };
                        out.extend(self.finding(
                            p,
                            i,
                            p.severity,
                            field,
                            message,
                            v.help.as_ref(),
                            related,
                        ));
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
        out
    }
}

/// Evaluates a per-object variable to bind: as the `Value` it converts to and back, without
/// the two copies when that round trip changes nothing (see [`convert::plain`]).
fn local<'v>(ctx: &Context<'_, 'v>, e: &IdedExpr) -> Result<Box<dyn Val + 'v>, ExecutionError> {
    let v = Value::resolve_val(e, ctx)?;
    if convert::plain(v.as_ref()) {
        return Ok(v.into_owned());
    }
    Value::try_from(v.as_ref()).map(boxed)
}

/// A per-object variable of a policy, prepared once per run.
struct Local<'e> {
    /// The name it is bound to in the evaluation scope (`VAR_PREFIX` + its name).
    bound: String,
    /// Its field path, when it only reads a field of `object`.
    path: Option<ObjectPath<'e>>,
}

/// A per-object variable that only reads a field of `object`, such as
/// `object.?spec.orValue({})` or `object.spec.?tcp.orValue([])`: `object`, then plain selects,
/// then at least one optional select, then `orValue` of a literal. Such a variable is lent out
/// of the converted object instead of being copied into the scope.
#[derive(Debug)]
struct ObjectPath<'e> {
    /// Fields selected with `.f`, then those selected with `.?f`.
    plain: Vec<&'e str>,
    optional: Vec<&'e str>,
    /// The argument of `orValue`.
    default: &'e IdedExpr,
}

/// The lent form: `object`, plain selects, at least one optional select, then one `orValue`.
fn object_path(e: &IdedExpr) -> Option<ObjectPath<'_>> {
    let ("object", steps) = select_chain(e)? else {
        return None;
    };
    let (Step::Or(default), selects) = steps.split_last()? else {
        return None;
    };
    let mut plain = Vec::new();
    let mut optional = Vec::new();
    for step in selects {
        match *step {
            // `.?a.b`: a select after an optional one is optional too.
            Step::Field(f) if optional.is_empty() => plain.push(f),
            Step::Optional(f) => optional.push(f),
            _ => return None,
        }
    }
    if optional.is_empty() {
        return None;
    }
    Some(ObjectPath {
        plain,
        optional,
        default,
    })
}

impl ObjectPath<'_> {
    /// The value, borrowed from `object`, or `None` for the default; `Err(())` when the plain
    /// selects do not reach a value (the expression fails: evaluate it to get its error).
    fn find<'a, 'v>(&self, object: &'a (dyn Val + 'v)) -> Result<Option<&'a (dyn Val + 'v)>, ()> {
        let mut v = object;
        for f in &self.plain {
            v = convert::map_field(v, f).ok_or(())?;
        }
        // `.?f` of anything but a map holding `f` is `optional.none()`, and so is every
        // optional select after it.
        Ok(self
            .optional
            .iter()
            .try_fold(v, |v, f| convert::map_field(v, f)))
    }
}

/// What one evaluation gave: whether the policy applied (past its matchConditions), and its
/// findings.
type Evaluated = (bool, Vec<Finding>);

/// A scope of `parent` that resolves the variables in `refs` first.
fn lending_scope<'a>(parent: &'a Context<'a, 'a>, refs: &'a LocalRefs<'a>) -> Context<'a, 'a> {
    let mut ctx = parent.new_inner_scope();
    ctx.set_variable_resolver(refs);
    ctx
}

/// Per-object variables lent out of the object (see [`ObjectPath`]), resolved in the
/// evaluation's scope.
#[derive(Default)]
struct LocalRefs<'a> {
    vars: Vec<(&'a str, CowVal<'a, 'a>)>,
}

impl VariableResolver for LocalRefs<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        self.vars
            .iter()
            .find(|(n, _)| *n == variable)
            .map(|(_, v)| CowVal::Borrowed(v.as_ref()))
    }
}

/// Evaluates the policies over the repo.
pub fn run(
    repo: &Repo,
    model: &crate::gloo::Model,
    policies: &[Compiled],
    no_exemptions: bool,
) -> Result<Report, LoadError> {
    run_detailed(repo, model, policies, no_exemptions).map(|(r, _)| r)
}

/// What a run found quiet, for a run of a later revision of the same repo with the same
/// policies ([`run_with`]): the result of each policy that reads its object alone
/// ([`Compiled::reads_object_only`]) on each object where it found nothing.
#[derive(Debug, Default)]
pub struct Memo {
    /// (policy index, object index) → whether the policy applied (matched and passed its
    /// matchConditions).
    quiet: FastMap<(u32, u32), bool>,
}

/// An earlier run's memo and, for each object of this run, the index of the same object in
/// that run's repo (`Repo::same_objects`).
pub struct Prior<'a> {
    /// The earlier run's memo.
    pub memo: &'a Memo,
    /// Per object of this run: the same object in the earlier run, if any.
    pub earlier: &'a [Option<usize>],
}

/// As [`run`], also returning the (policy index, object index) pairs the policies applied to
/// (matched and past their matchConditions).
pub fn run_detailed(
    repo: &Repo,
    model: &crate::gloo::Model,
    policies: &[Compiled],
    no_exemptions: bool,
) -> Result<(Report, Vec<(usize, usize)>), LoadError> {
    run_with(repo, model, policies, no_exemptions, false, None).map(|(r, a, _)| (r, a))
}

/// A run's report, the (policy, object) pairs that applied, and with `record`, its memo.
pub type Detailed = (Report, Vec<(usize, usize)>, Option<Memo>);

/// As [`run_detailed`]; with `record`, also what a later revision's run can take
/// ([`Memo`]); with `prior` (the same policies' memo on an earlier revision), each quiet
/// result of an object-only policy on an unchanged object is taken instead of evaluated.
pub fn run_with(
    repo: &Repo,
    model: &crate::gloo::Model,
    policies: &[Compiled],
    no_exemptions: bool,
    record: bool,
    prior: Option<Prior<'_>>,
) -> Result<Detailed, LoadError> {
    let start = Instant::now();
    let deadline = start + Duration::from_millis(repo.limits.policy_time_ms);
    let budget = repo.limits.policy_cost as f64;
    let objs = &repo.objects;

    let mut ns_index: HashMap<(&str, &str), usize> = HashMap::new();
    let mut by_id = HashMap::new();
    for (i, o) in objs.iter().enumerate() {
        if o.id.api_version == "v1" && o.id.kind == "Namespace" {
            ns_index
                .entry((o.cluster.as_str(), o.id.name.as_str()))
                .or_insert(i);
        }
        by_id
            .entry((
                o.cluster.as_str(),
                o.id.api_version.as_str(),
                o.id.kind.as_str(),
                o.id.namespace.as_str(),
                o.id.name.as_str(),
            ))
            .or_insert(i);
    }
    let ns_of: Vec<Option<usize>> = objs
        .iter()
        .map(|o| {
            ns_index
                .get(&(o.cluster.as_str(), o.id.namespace.as_str()))
                .copied()
        })
        .collect();

    // Which objects each policy applies to. Plurals once per kind, not per object and rule.
    let plurals: HashMap<&str, String> = objs
        .iter()
        .map(|o| o.id.kind.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|k| (k, plural(k)))
        .collect();
    let matched: Vec<Vec<usize>> = policies
        .par_iter()
        .map(|p| {
            let mc = &p.src.doc.spec.match_constraints;
            (0..objs.len())
                .filter(|&i| {
                    let o = &objs[i];
                    let res = plurals[o.id.kind.as_str()].as_str();
                    mc.resource_rules.iter().any(|r| rule_matches(r, o, res))
                        && !mc
                            .exclude_resource_rules
                            .iter()
                            .any(|r| rule_matches(r, o, res))
                        && mc
                            .object_selector
                            .as_ref()
                            .is_none_or(|s| s.matches(|k| o.label(k)))
                        && mc
                            .namespace_selector
                            .as_ref()
                            .is_none_or(|s| match ns_of[i] {
                                Some(n) => s.matches(|k| objs[n].label(k)),
                                None => s.matches(|k| {
                                    (k == "kubernetes.io/metadata.name")
                                        .then_some(o.id.namespace.as_str())
                                }),
                            })
                })
                .collect()
        })
        .collect();

    tracing::debug!("policies: matched in {:?}", start.elapsed());
    let inv = policies
        .iter()
        .any(|p| p.calls("inventory."))
        .then(|| Arc::new(Inventory::build(objs)));
    let gv = policies
        .iter()
        .any(|p| p.calls("gloo."))
        .then(|| Arc::new(gloo_values(repo, model, gloo_wanted(policies))));

    tracing::debug!(
        "policies: inventory and gloo index in {:?}",
        start.elapsed()
    );
    let resolver = Resolver {
        objs,
        vals: (0..objs.len()).map(|_| OnceLock::new()).collect(),
        ns_of,
        null: null_val(),
    };
    let mut root = Context::with_env(super::engine::env());
    let setup =
        functions::register(&mut root).and_then(|_| register_run_functions(&mut root, inv, gv));
    if let Err(e) = setup {
        return Err(LoadError::Invalid(vec![Diagnostic::error(
            "policy-engine",
            format!("cannot set up the CEL environment: {e}"),
        )]));
    }
    root.set_variable_resolver(&resolver);

    // Global variables, once per policy, in order.
    let mut errors = Vec::new();
    let mut findings = Vec::new();
    let mut scopes: Vec<Option<Context>> = Vec::new();
    let mut global_sizes: Vec<HashMap<String, f64>> = Vec::new();
    let inventory = objs.len() as f64;
    let lists: Vec<usize> = objs.iter().map(|o| o.max_list).collect();
    let all_list = lists.iter().copied().max().unwrap_or(0) as f64;
    set_current(None);
    for p in policies {
        let mut scope = root.new_inner_scope();
        let mut sizes = Sizes {
            inventory,
            list: all_list.max(1.0),
            globals: HashMap::new(),
        };
        let mut ok = true;
        for (name, prog) in &p.globals {
            let (cost, _) = estimate(&prog.expr, &sizes);
            if cost > budget {
                errors.push(policy_budget(
                    prog.at.clone(),
                    format!(
                        "policy {}: {} has an estimated cost of {cost:.0}, over limits.policyCost {budget:.0} (inventory of {inventory} objects)",
                        p.name(),
                        prog.what
                    ),
                ));
                ok = false;
                break;
            }
            match scope.resolve(&prog.expr) {
                Ok(v) => {
                    sizes.globals.insert(name.clone(), value_size(&v));
                    scope.add_variable_from_value(format!("{VAR_PREFIX}{name}"), v);
                }
                Err(e) => {
                    ok = false;
                    if p.src.doc.spec.failure_policy == FailurePolicy::Fail {
                        findings.push(
                            Diagnostic::error(
                                p.name(),
                                format!(
                                    "policy {} could not evaluate {}: {e}",
                                    p.name(),
                                    prog.what
                                ),
                            )
                            .at(prog.at.clone()),
                        );
                    }
                    break;
                }
            }
        }
        global_sizes.push(sizes.globals);
        scopes.push(ok.then_some(scope));
    }

    // Per-object cost, per evaluation and for the run.
    let mut run_cost = 0.0;
    for ((p, m), gs) in policies.iter().zip(&matched).zip(&global_sizes) {
        if m.is_empty() {
            continue;
        }
        let list = m.iter().map(|&i| lists[i]).max().unwrap_or(0) as f64;
        let sizes = Sizes {
            inventory,
            list: list.max(1.0),
            globals: gs.clone(),
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
        run_cost += cost * m.len() as f64;
    }
    let run_budget = budget * RUN_COST_FACTOR.max(objs.len() as f64);
    if errors.is_empty() && run_cost > run_budget {
        errors.push(policy_budget(
            Location::new("meshform.yaml".into(), crate::yaml::Pos { line: 1, column: 1 }),
            format!(
                "the policies' estimated total cost {run_cost:.0} over {} objects is over the run budget {run_budget:.0} (limits.policyCost per object)",
                objs.len(),
            ),
        ));
    }
    if !errors.is_empty() {
        crate::diag::normalize(&mut errors);
        return Err(LoadError::PolicyCost(errors));
    }

    tracing::debug!("policies: globals and cost in {:?}", start.elapsed());
    let env = Env {
        repo,
        by_id,
        no_exemptions,
    };
    let locals: Vec<Vec<Local>> = policies
        .iter()
        .map(|p| {
            p.locals
                .iter()
                .map(|(name, l)| Local {
                    bound: format!("{VAR_PREFIX}{name}"),
                    path: object_path(&l.expr),
                })
                .collect()
        })
        .collect();
    let timed_out = AtomicBool::new(false);
    // Evaluation time per policy, for the debug log.
    let timing = tracing::enabled!(tracing::Level::DEBUG);
    let spent: Vec<AtomicU64> = policies.iter().map(|_| AtomicU64::new(0)).collect();
    let pairs: Vec<(usize, usize)> = matched
        .iter()
        .enumerate()
        .filter(|(pi, _)| scopes[*pi].is_some())
        .flat_map(|(pi, m)| m.iter().map(move |&i| (pi, i)))
        .collect();
    // A policy that reads its object alone finds on an unchanged object what it found
    // before: where that was nothing, the earlier result is taken.
    let object_only: Vec<bool> = policies.iter().map(Compiled::reads_object_only).collect();
    let taken: Vec<Option<bool>> = match &prior {
        Some(prior) => pairs
            .par_iter()
            .map(|&(pi, i)| {
                if !object_only[pi] {
                    return None;
                }
                let j = prior.earlier.get(i).copied().flatten()?;
                prior.memo.quiet.get(&(pi as u32, j as u32)).copied()
            })
            .collect(),
        None => vec![None; pairs.len()],
    };
    // Object by object: each object is converted to a CEL value once, lent to every policy
    // that matched it, and dropped, rather than all held until the run ends (memory is time
    // on this machine: docs/performance.md). Results go back to `pairs` order.
    let mut order: Vec<usize> = (0..pairs.len()).filter(|&k| taken[k].is_none()).collect();
    order.sort_by_key(|&k| (pairs[k].1, pairs[k].0));
    let groups: Vec<&[usize]> = order.chunk_by(|&a, &b| pairs[a].1 == pairs[b].1).collect();
    // Each object is converted only as far as the policies that match it read (reads.rs):
    // what each policy reads, then the union for each set of policies that matches an object.
    let reads: Vec<Need> = policies
        .iter()
        .map(|p| {
            reads::policy_needs(
                p.locals.iter().map(|(n, l)| (n.as_str(), &l.expr)),
                p.checks().map(|prog| &prog.expr),
            )
        })
        .collect();
    // Objects of one kind mostly share their set of policies: one union per distinct set.
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
    let per_object: Vec<Vec<(usize, Evaluated)>> = groups
        .par_iter()
        .zip(group_reads.par_iter())
        .map(|(ks, &set)| {
            let object = reads::to_val_pruned(&objs[pairs[ks[0]].1].value, &set_reads[set]);
            ks.iter()
                .map(|&k| {
                    let (pi, i) = pairs[k];
                    if timed_out.load(Ordering::Relaxed) || Instant::now() > deadline {
                        timed_out.store(true, Ordering::Relaxed);
                        return (k, (false, Vec::new()));
                    }
                    let t = timing.then(Instant::now);
                    let r = match &scopes[pi] {
                        Some(scope) => env.eval_one(&policies[pi], &locals[pi], scope, i, &*object),
                        None => (false, Vec::new()),
                    };
                    if let Some(t) = t {
                        spent[pi].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
                    }
                    (k, r)
                })
                .collect()
        })
        .collect();
    let mut evaluated: Vec<Evaluated> = taken
        .iter()
        .map(|t| (t.unwrap_or(false), Vec::new()))
        .collect();
    for (k, r) in per_object.into_iter().flatten() {
        evaluated[k] = r;
    }
    let memo = record.then(|| Memo {
        quiet: pairs
            .iter()
            .zip(&evaluated)
            .filter(|((pi, _), (_, found))| object_only[*pi] && found.is_empty())
            .map(|(&(pi, i), (applied, _))| ((pi as u32, i as u32), *applied))
            .collect(),
    });
    let applied: Vec<(usize, usize)> = pairs
        .iter()
        .zip(&evaluated)
        .filter(|(_, (a, _))| *a)
        .map(|(p, _)| *p)
        .collect();
    let results = evaluated.into_iter().flat_map(|(_, f)| f);
    set_current(None);
    if timed_out.load(Ordering::Relaxed) {
        return Err(LoadError::PolicyTimeout {
            limit_ms: repo.limits.policy_time_ms,
        });
    }
    let mut report = Report {
        findings,
        suppressed: Vec::new(),
        policies: policies.len(),
        taken: taken.iter().flatten().count(),
    };
    for f in results {
        if f.suppressed {
            report.suppressed.push(f.diag);
        } else {
            report.findings.push(f.diag);
        }
    }
    crate::diag::normalize(&mut report.suppressed);
    for (p, t) in policies.iter().zip(&spent) {
        let t = Duration::from_nanos(t.load(Ordering::Relaxed));
        if !t.is_zero() {
            tracing::debug!("policy {}: evaluations took {t:?}", p.name());
        }
    }
    tracing::debug!(
        "policies: {} evaluations ({} taken from the earlier revision) in {:?}",
        pairs.len(),
        report.taken,
        start.elapsed()
    );
    Ok((report, applied, memo))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_reading_variables_are_recognized() {
        let env = super::super::engine::env();
        let path = |src: &str| {
            let e = env.compile(src).unwrap().expression().clone();
            object_path(&e).map(|p| (p.plain.join("."), p.optional.join(".")))
        };
        let s = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(path("object.?spec.orValue({})"), s("", "spec"));
        assert_eq!(path("object.spec.?tcp.orValue([])"), s("spec", "tcp"));
        assert_eq!(path("object.a.b.?c.?d.orValue('')"), s("a.b", "c.d"));
        for no in [
            "object.spec",
            "object.?spec.orValue([1])",
            "object.?spec.a.orValue({})",
            "namespaceObject.?spec.orValue({})",
            "object.?spec.orValue(object)",
            "object.?spec.value()",
            "has(object.spec)",
        ] {
            assert_eq!(path(no), None, "{no}");
        }
    }

    /// A lent variable has the value the expression evaluates to, or the expression fails.
    #[test]
    fn lent_variables_match_evaluation() {
        let env = super::super::engine::env();
        let exprs = [
            "object.?spec.orValue({})",
            "object.spec.?tcp.orValue([])",
            "object.?a.?b.orValue('x')",
            "object.a.?b.orValue(1)",
            "object.a.b.?c.orValue(null)",
        ];
        let objects = [
            serde_json::json!({}),
            serde_json::json!({"spec": null}),
            serde_json::json!({"spec": "s", "a": [1]}),
            serde_json::json!({"spec": {"tcp": [1]}, "a": {"b": null}}),
            serde_json::json!({"spec": {"tcp": null}, "a": {"b": {"c": 3}}}),
            serde_json::json!({"spec": [], "a": {"b": [{"c": 1}]}}),
            serde_json::json!({"spec": {"http": []}, "a": {"b": 2}}),
        ];
        for src in exprs {
            let e = env.compile(src).unwrap().expression().clone();
            let path = object_path(&e).unwrap();
            for j in &objects {
                let j = &crate::node::Node::from(j);
                let mut ctx = Context::with_env(env.clone());
                ctx.add_variable_from_value("object", to_cel(j));
                let want = ctx.resolve(&e);
                let obj = convert::to_val(j);
                match path.find(obj.as_ref()) {
                    Ok(Some(v)) => {
                        assert_eq!(Value::try_from(v).ok(), want.ok(), "{src} {j}")
                    }
                    Ok(None) => {
                        assert_eq!(ctx.resolve(path.default).ok(), want.ok(), "{src} {j}")
                    }
                    Err(()) => assert!(want.is_err(), "{src} {j}: {want:?}"),
                }
            }
        }
    }

    #[test]
    fn plurals() {
        assert_eq!(plural("RouteTable"), "routetables");
        assert_eq!(plural("Gateway"), "gateways");
        assert_eq!(plural("Policy"), "policies");
        assert_eq!(plural("Ingress"), "ingresses");
    }
}
