//! The run's CEL root context (docs/policies.md, "What expressions can use"): the helper
//! functions, the run functions (`inventory.*` and `gloo.*`, over data built once per run)
//! and the `namespaceObject` resolver. The `gloo.*` functions and the resolver answer for the
//! object under evaluation on the current thread ([`set_current`]).

use crate::diag::codes::Policy;
use crate::diag::Diagnostic;
use crate::hashing::FastMap;
use crate::manifest::Object;
use crate::policy::convert::{self, to_cel};
use crate::policy::engine::{self, Compiled};
use crate::policy::{functions, gloo};
use crate::repo::{LoadError, Repo};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::extractors::Arguments;
use cel::objects::Key;
use cel::{Context, ExecutionError, Value};
use rayon::prelude::*;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

thread_local! {
    /// The object under evaluation on this thread (an index into `repo.objects`).
    static CURRENT: Cell<Option<usize>> = const { Cell::new(None) };
}

fn current() -> Option<usize> {
    CURRENT.with(Cell::get)
}

/// Sets the object under evaluation on this thread (`None` outside per-object evaluation).
pub(super) fn set_current(i: Option<usize>) {
    CURRENT.with(|c| c.set(i));
}

/// The root context: the helper functions and the run functions over `facts`, with
/// `resolver` for `namespaceObject`.
pub(super) fn root<'r>(
    resolver: &'r Resolver<'_>,
    facts: Facts,
) -> Result<Context<'r, 'r>, LoadError> {
    let mut root = Context::with_env(engine::env());
    let setup = functions::register(&mut root)
        .and_then(|_| register_inventory(&mut root, facts.inventory))
        .and_then(|_| register_gloo(&mut root, facts.gloo));
    if let Err(e) = setup {
        return Err(LoadError::Invalid(vec![Diagnostic::error(
            Policy::Engine,
            format!("cannot set up the CEL environment: {e}"),
        )]));
    }
    root.set_variable_resolver(resolver);
    Ok(root)
}

/// Resolves `namespaceObject` for the current object, converting each Namespace once and
/// lending it to every evaluation. (`object` is converted per object task and resolved by the
/// evaluation's own scope, `lending::LocalRefs`.)
pub(super) struct Resolver<'r> {
    objs: &'r [Object],
    vals: Vec<OnceLock<Box<dyn Val + 'r>>>,
    ns_of: Vec<Option<usize>>,
    null: Box<dyn Val>,
}

impl<'r> Resolver<'r> {
    /// `ns_of`: per object, the index of its Namespace object.
    pub fn new(objs: &'r [Object], ns_of: Vec<Option<usize>>) -> Resolver<'r> {
        Resolver {
            objs,
            vals: (0..objs.len()).map(|_| OnceLock::new()).collect(),
            ns_of,
            null: null_val(),
        }
    }

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

/// CEL `null` as a `Val`.
pub(super) fn null_val() -> Box<dyn Val> {
    Box::<dyn Val>::try_from(Value::Null).unwrap_or_else(|_| unreachable!("null converts"))
}

/// What the run functions read, each built only when some policy calls its functions.
pub(super) struct Facts {
    inventory: Option<Arc<Inventory>>,
    gloo: Option<Arc<GlooValues>>,
}

impl Facts {
    pub fn build(repo: &Repo, model: &crate::gloo::Model, policies: &[Compiled]) -> Facts {
        let inventory = policies
            .iter()
            .any(|p| p.calls("inventory."))
            .then(|| Arc::new(Inventory::build(&repo.objects)));
        let gloo = policies
            .iter()
            .any(|p| p.calls("gloo."))
            .then(|| Arc::new(gloo_values(repo, model, gloo_wanted(policies))));
        Facts { inventory, gloo }
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

fn register_inventory(
    ctx: &mut Context<'_, '_>,
    inv: Option<Arc<Inventory>>,
) -> Result<(), cel::DeclarationError> {
    let i1 = inv.clone();
    ctx.add_function(
        "inventory.list",
        move |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            inventory_list(i1.as_deref(), &args)
        },
    )?;
    let i2 = inv;
    ctx.add_function(
        "inventory.get",
        move |Arguments(args): Arguments| -> Result<Value, ExecutionError> {
            inventory_get(i2.as_deref(), &args)
        },
    )?;
    Ok(())
}

/// `inventory.list(apiVersion, kind[, namespace])`.
fn inventory_list(inv: Option<&Inventory>, args: &[Value]) -> Result<Value, ExecutionError> {
    let s = |i: usize| args.get(i).and_then(convert::as_str);
    let (Some(api), Some(kind)) = (s(0), s(1)) else {
        return Err(ExecutionError::function_error(
            "inventory.list",
            "expects (apiVersion, kind[, namespace]) strings",
        ));
    };
    let ns = s(2);
    let Some(inv) = inv else {
        return Ok(Value::List(Arc::new(Vec::new())));
    };
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
}

/// `inventory.get(apiVersion, kind, namespace, name)`.
fn inventory_get(inv: Option<&Inventory>, args: &[Value]) -> Result<Value, ExecutionError> {
    let s = |i: usize| args.get(i).and_then(convert::as_str);
    let (Some(api), Some(kind), Some(ns), Some(name)) = (s(0), s(1), s(2), s(3)) else {
        return Err(ExecutionError::function_error(
            "inventory.get",
            "expects (apiVersion, kind, namespace, name) strings",
        ));
    };
    let Some(inv) = inv else {
        return Ok(Value::Null);
    };
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

/// A violation list as the `gloo.*` functions return it: maps with `field`, `message` and
/// `related`.
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

/// A `related` entry naming `o`.
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

/// The `gloo.*` functions: each returns the current object's entry, or an empty result when
/// there is none.
fn register_gloo(
    ctx: &mut Context<'_, '_>,
    gv: Option<Arc<GlooValues>>,
) -> Result<(), cel::DeclarationError> {
    let empty = || Value::List(Arc::new(Vec::new()));
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
