//! Binding an evaluation's variables without copying: `object` and the per-object variables
//! that only read a field of it are lent out of the object converted once per object task
//! ([`LocalRefs`]); the other per-object variables are evaluated and bound ([`bind_unlent`]).

use super::scope::null_val;
use crate::policy::convert;
use crate::policy::engine::{select_chain, Compiled, Prog, Step, VAR_PREFIX};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, ExecutionError, IdedExpr, Value};

/// A per-object variable of a policy, prepared once per run.
pub(super) struct Local<'e> {
    /// The name it is bound to in the evaluation scope (`VAR_PREFIX` + its name).
    bound: String,
    /// Its field path, when it only reads a field of `object`.
    path: Option<ObjectPath<'e>>,
}

/// Per policy, its per-object variables in order.
pub(super) fn locals(policies: &[Compiled]) -> Vec<Vec<Local<'_>>> {
    policies
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
        .collect()
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

/// Variables lent to one evaluation, resolved in its scope before the policy's scope.
#[derive(Default)]
pub(super) struct LocalRefs<'a> {
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

/// `object` and the variables of `locals` that read a field of it, lent out of `object`
/// (a missing field gives the default, evaluated in `pctx`); and which of `locals` were lent.
/// A variable whose field path fails is not lent: evaluating it gives its error.
pub(super) fn lend<'a>(
    locals: &'a [Local<'_>],
    pctx: &Context<'_, 'a>,
    object: &'a dyn Val,
) -> (LocalRefs<'a>, Vec<bool>) {
    let mut refs = LocalRefs::default();
    refs.vars.push(("object", CowVal::Borrowed(object)));
    let mut lent = vec![false; locals.len()];
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
    (refs, lent)
}

/// A scope of `parent` that resolves the variables in `refs` first.
pub(super) fn lending_scope<'a>(
    parent: &'a Context<'a, 'a>,
    refs: &'a LocalRefs<'a>,
) -> Context<'a, 'a> {
    let mut ctx = parent.new_inner_scope();
    ctx.set_variable_resolver(refs);
    ctx
}

/// Evaluates and binds in `ctx`, in order, the per-object variables of `p` that `lent` marks
/// as not lent; the first that fails, with its error.
pub(super) fn bind_unlent<'p>(
    ctx: &mut Context<'_, '_>,
    p: &'p Compiled,
    locals: &[Local<'_>],
    lent: &[bool],
) -> Result<(), (&'p Prog, ExecutionError)> {
    let unlent = p.locals.iter().zip(locals).zip(lent).filter(|(_, l)| !**l);
    for (((_, prog), l), _) in unlent {
        match local(ctx, &prog.expr) {
            Ok(v) => ctx.add_variable_as_val(l.bound.clone(), v),
            Err(e) => return Err((prog, e)),
        }
    }
    Ok(())
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

fn boxed(v: Value) -> Box<dyn Val> {
    match Box::<dyn Val>::try_from(v) {
        Ok(b) => b,
        Err(_) => null_val(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::convert::to_cel;

    #[test]
    fn field_reading_variables_are_recognized() {
        let env = crate::policy::engine::env();
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
        let env = crate::policy::engine::env();
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
}
