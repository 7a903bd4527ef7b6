//! Per-cluster templates: files ending in `.yaml.j2`, rendered with minijinja before parsing.
//!
//! The context holds `cluster` (name, labels) and `values`. Undefined values are errors at the
//! template's file:line. Templates get no file system, environment or network access: the
//! environment has no loader (so `include`/`import` only see the template itself), no globals
//! and no functions beyond minijinja's pure built-ins. Work is bounded by fuel
//! (`limits.templateFuel` instructions), a recursion limit and the output size
//! (`limits.templateOutput`), checked while writing. Values are inserted as plain text (no
//! auto-escaping); `{{ x | tojson }}` gives a quoted, escaped scalar.

use crate::config::{Config, Limits};
use crate::diag::codes::Load;
use crate::diag::Diagnostic;
use crate::manifest::Location;
use crate::yaml::Pos;
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Deepest nesting of includes, macros and blocks.
pub const RECURSION_LIMIT: usize = 64;

/// What a template sees.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Context {
    /// `{name, labels}` of the cluster being rendered.
    pub cluster: Value,
    /// `clusters[].values` merged with `--values` files.
    pub values: Value,
}

impl Context {
    /// The context for one cluster. Values from `extra` (the `--values` files) replace
    /// `clusters[].values` key by key; nested mappings are merged recursively.
    pub fn for_cluster(config: &Config, cluster: &str, extra: &Map<String, Value>) -> Context {
        let cc = config.cluster(cluster);
        let labels = cc
            .map(|c| serde_json::to_value(&c.labels).unwrap_or_default())
            .unwrap_or_else(|| json!({}));
        let mut values = cc.map(|c| c.values.clone()).unwrap_or_default();
        merge(&mut values, extra);
        Context {
            cluster: json!({"name": cluster, "labels": labels}),
            values: Value::Object(values),
        }
    }
}

/// Deep merge of mappings: `over` wins; lists and scalars are replaced whole (as Helm does).
pub fn merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// A writer that fails once more than `limit` bytes were written.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + b.len() > self.limit {
            return Err(std::io::Error::other("template output limit"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_fuel(Some(limits.template_fuel));
    // minijinja JSON-escapes `*.yaml.j2` by default, which quotes every string and breaks
    // `name: app-{{ cluster.name }}`. Text is inserted as is, as Helm does; `| tojson` quotes.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    // `Environment::new` registers only minijinja's pure built-ins; nothing reads files, the
    // process environment or the network. There is deliberately no loader.
    let at = |line: u32| Location::new(path.clone(), Pos { line, column: 1 });
    let fail = |e: minijinja::Error| {
        let line = e.line().unwrap_or(1) as u32;
        let pos = error_pos(text, &e).unwrap_or(Pos { line, column: 1 });
        let (code, mut msg) = match e.kind() {
            ErrorKind::OutOfFuel => (
                Load::TemplateLimit,
                format!(
                    "template ran out of fuel (limits.templateFuel = {} instructions); \
                     an endless or very long loop?",
                    limits.template_fuel
                ),
            ),
            ErrorKind::WriteFailure => (
                Load::TemplateLimit,
                format!(
                    "template output is over limits.templateOutput ({} bytes)",
                    limits.template_output
                ),
            ),
            ErrorKind::UndefinedError => (Load::Template, "undefined value".to_string()),
            k => (Load::Template, k.to_string()),
        };
        if let Some(d) = e.detail() {
            msg = format!("{msg}: {d}");
        }
        if e.kind() == ErrorKind::UndefinedError {
            if let Some(expr) = undefined_expr(text, &e) {
                msg = format!("{msg}: `{expr}`");
            }
        }
        Box::new(
            Diagnostic::error(code, msg)
                .at(Location::new(path.clone(), pos))
                .help(
                    "templates see `cluster.name`, `cluster.labels` and `values` \
             (meshform.yaml clusters[].values and --values files)",
                ),
        )
    };
    env.add_template_owned(path.to_string(), text.to_string())
        .map_err(fail)?;
    let tmpl = env.get_template(path).map_err(fail)?;
    let mut out = Bounded {
        buf: Vec::new(),
        limit: limits.template_output,
    };
    tmpl.render_captured_to(minijinja::value::Serde(ctx), &mut out)
        .map_err(fail)?;
    String::from_utf8(out.buf).map_err(|_| {
        Box::new(Diagnostic::error(Load::Template, "template output is not UTF-8").at(at(1)))
    })
}

/// Where in `text` an error is: the start of minijinja's span (line and column, both from 1),
/// when it gave one on the line it names.
fn error_pos(text: &str, e: &minijinja::Error) -> Option<Pos> {
    let start = e.range()?.start;
    let before = text.get(..start)?;
    let line = before.matches('\n').count() + 1;
    if e.line().is_some_and(|l| l != line) {
        return None;
    }
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some(Pos {
        line: line as u32,
        column: column as u32,
    })
}

/// The source text an undefined-value error points at, if minijinja gave a span.
fn undefined_expr(text: &str, e: &minijinja::Error) -> Option<String> {
    let r = e.range()?;
    let s = text.get(r)?.trim();
    (!s.is_empty() && s.len() <= 80).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        let cfg = Config::parse(
            "apiVersion: meshform.dev/v1alpha1\nkind: Config\nclusters:\n- name: eu\n  labels: {region: eu-west}\n  values: {replicas: 2, host: {name: eu.example.com, port: 80}}\n",
        )
        .unwrap();
        let extra = json!({"host": {"port": 8080}, "extra": true});
        Context::for_cluster(&cfg, "eu", extra.as_object().unwrap())
    }

    fn run(text: &str) -> Result<String, Box<Diagnostic>> {
        render(&"t.yaml.j2".into(), text, &ctx(), &Limits::default())
    }

    #[test]
    fn context_merges_values_deeply() {
        let out = run("{{ cluster.name }} {{ cluster.labels.region }} {{ values.replicas }} {{ values.host.name }}:{{ values.host.port }} {{ values.extra | tojson }}").unwrap();
        assert_eq!(out, "eu eu-west 2 eu.example.com:8080 true");
    }

    #[test]
    fn undefined_is_an_error_at_the_line() {
        let d = run("a: 1\nb: {{ values.nope }}\n").unwrap_err();
        let loc = d.location.clone().unwrap();
        assert_eq!((&*loc.file, loc.line, loc.column), ("t.yaml.j2", 2, 7));
        assert!(d.message.contains("undefined"), "{}", d.message);
        assert!(d.message.contains("values.nope"), "{}", d.message);
        // Attribute of an undefined value, and an undefined top-level name.
        assert_eq!(
            run("x\n\n{{ nope.a }}").unwrap_err().location.unwrap().line,
            3
        );
        assert!(run("{% for x in nope %}{% endfor %}").is_err());
    }

    #[test]
    fn no_environment_files_or_other_templates() {
        for t in [
            "{{ env }}",
            "{{ environ.HOME }}",
            "{% include '/etc/passwd' %}",
            "{% import 'other.j2' as o %}",
            "{% extends 'base.j2' %}",
            "{{ lookup('file', '/etc/passwd') }}",
            "{{ range(3) | map('open') | list }}",
        ] {
            assert!(run(t).is_err(), "{t} rendered");
        }
    }

    #[test]
    fn fuel_stops_long_loops() {
        let d =
            run("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
                .unwrap_err();
        assert_eq!(d.code, "template-limit");
        assert!(d.message.contains("templateFuel"), "{}", d.message);
    }

    #[test]
    fn self_include_hits_the_recursion_limit() {
        let d = run("x\n{% include 't.yaml.j2' %}").unwrap_err();
        assert_eq!(d.location.unwrap().file.as_ref(), "t.yaml.j2");
    }

    #[test]
    fn output_is_bounded_while_writing() {
        let limits = Limits {
            template_output: 1000,
            ..Limits::default()
        };
        let d = render(&"t.yaml.j2".into(), "{{ 'x' * 2000 }}", &ctx(), &limits).unwrap_err();
        assert_eq!(d.code, "template-limit");
        assert!(d.message.contains("templateOutput"), "{}", d.message);
        assert!(render(&"t".into(), "{{ 'x' * 1000 }}", &ctx(), &limits).is_ok());
    }

    #[test]
    fn text_is_inserted_as_is_and_tojson_quotes() {
        let out = run("name: app-{{ cluster.name }}\nq: {{ 'a: \"b\"' | tojson }}").unwrap();
        assert_eq!(out, "name: app-eu\nq: \"a: \\\"b\\\"\"");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let d = run("a: 1\nb: {{ values.replicas \n").unwrap_err();
        assert_eq!(d.location.unwrap().line, 2);
    }
}
