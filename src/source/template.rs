//! Per-cluster templates: files ending in `.yaml.j2`, rendered with minijinja before parsing.
//!
//! The context holds `cluster` (name, labels) and `values`. Undefined values are errors at the
//! template's file:line. Templates get no file system, environment or network access: the
//! environment has no loader and no functions beyond minijinja's pure built-ins.

use crate::config::{Config, Limits};
use crate::diag::Diagnostic;
use crate::manifest::Location;
use crate::yaml::Pos;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// What a template sees.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Context {
    /// `{name, labels}` of the cluster being rendered.
    pub cluster: Value,
    /// `clusters[].values` merged with `--values` files.
    pub values: Value,
}

impl Context {
    /// The context for one cluster.
    pub fn for_cluster(config: &Config, cluster: &str, extra: &Map<String, Value>) -> Context {
        let cc = config.cluster(cluster);
        let labels = cc
            .map(|c| serde_json::to_value(&c.labels).unwrap_or_default())
            .unwrap_or_else(|| json!({}));
        let mut values = cc.map(|c| c.values.clone()).unwrap_or_default();
        for (k, v) in extra {
            values.insert(k.clone(), v.clone());
        }
        Context {
            cluster: json!({"name": cluster, "labels": labels}),
            values: Value::Object(values),
        }
    }
}

/// Renders one template; errors name the template's file and line.
pub fn render(
    path: &Arc<str>,
    text: &str,
    ctx: &Context,
    limits: &Limits,
) -> Result<String, Box<Diagnostic>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_recursion_limit(64);
    let fail = |e: minijinja::Error| {
        let line = e.line().unwrap_or(1) as u32;
        let mut msg = e.kind().to_string();
        if let Some(d) = e.detail() {
            msg = format!("{msg}: {d}");
        }
        Box::new(
            Diagnostic::error("template", msg)
                .at(Location::new(path.clone(), Pos { line, column: 1 })),
        )
    };
    env.add_template_owned(path.to_string(), text.to_string())
        .map_err(fail)?;
    let tmpl = env.get_template(path).map_err(fail)?;
    let out = tmpl.render(minijinja::value::Serde(ctx)).map_err(fail)?;
    if out.len() > limits.template_output {
        return Err(Box::new(
            Diagnostic::error(
                "template",
                format!(
                    "template output is {} bytes, over limits.templateOutput ({})",
                    out.len(),
                    limits.template_output
                ),
            )
            .at(Location::new(path.clone(), Pos { line: 1, column: 1 })),
        ));
    }
    Ok(out)
}
