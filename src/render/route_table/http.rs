//! HTTP routes as Istio writes them (docs/translation.md#routetable-rules): matchers, and each
//! action: forward (destinations, rewrites, faults), redirect, direct response, or the 500 that
//! replaces a failed route.

use super::super::{Ctx, Part};
use super::applied::Applied;
use super::delegation::{Action, FlatRoute};
use super::destinations::{
    http_destinations, mirror_destination, route_destinations, Subsets, Written,
};
use crate::diag::codes::Translate;
use crate::gloo::types::*;
use crate::gloo::Typed;
use serde_json::{json, Map, Value};

/// One Istio HTTPRoute for output cluster `cluster`; a route that fails (reported) becomes a
/// 500 direct response.
pub(super) fn http_route(
    ctx: &Ctx<'_>,
    r: &FlatRoute<'_>,
    applied: &Applied<'_>,
    cluster: &str,
    sources: &[Option<Labels>],
    subsets: &mut Subsets,
    part: &mut Part,
) -> Value {
    let mut j = Map::new();
    j.insert("name".into(), json!(r.name));
    j.insert(
        "match".into(),
        Value::Array(matches_json(&r.matchers, sources)),
    );
    let done = match &r.action {
        Action::Fail => Err(()),
        Action::Direct(d) => {
            j.insert("directResponse".into(), direct_response(d));
            applied.write_response(ctx, r, &mut j, part);
            Ok(())
        }
        Action::Redirect(rd) => redirect(ctx, r, rd, part).map(|m| {
            j.insert("redirect".into(), m);
            applied.write_response(ctx, r, &mut j, part);
        }),
        Action::Forward(f) => {
            forward(ctx, r, f, applied, cluster, subsets, part).map(|m| j.extend(m))
        }
    };
    if done.is_err() {
        // ROUTE_REPLACEMENT: "replaced with a 500 HTTP direct response"
        // (docs/translation.md#routetable-rules, [C]).
        j.insert("directResponse".into(), json!({"status": 500}));
    }
    Value::Object(j)
}

fn direct_response(d: &DirectResponseAction) -> Value {
    let mut dr = Map::new();
    dr.insert("status".into(), json!(d.status));
    if let Some(b) = &d.body {
        dr.insert("body".into(), json!({"string": b}));
    }
    Value::Object(dr)
}

/// The Istio redirect; `Err` has been reported.
fn redirect(
    ctx: &Ctx<'_>,
    r: &FlatRoute<'_>,
    rd: &RedirectAction,
    part: &mut Part,
) -> Result<Value, ()> {
    let table = r.table;
    let mut m = Map::new();
    if let Some(h) = &rd.host_redirect {
        m.insert("authority".into(), json!(h));
    }
    if let Some(p) = &rd.path_redirect {
        m.insert("uri".into(), json!(p));
    }
    let code = rd.response_code.unwrap_or_default().status();
    m.insert("redirectCode".into(), json!(code));
    if m.len() == 1 {
        part.diagnostics.push(ctx.error(
            &table.meta,
            Translate::RedirectEmpty,
            &format!("{}.redirect", r.field),
            "a redirect needs hostRedirect or pathRedirect",
        ));
        return Err(());
    }
    Ok(Value::Object(m))
}

/// The fields of a forwarding route: `rewrite`, `route`, and those of the route policies
/// `applied` holds (`fault`, `timeout`, `retries`, `mirror`, `headers` and `corsPolicy`);
/// `Err` has been reported.
fn forward(
    ctx: &Ctx<'_>,
    r: &FlatRoute<'_>,
    f: &ForwardToAction,
    applied: &Applied<'_>,
    cluster: &str,
    subsets: &mut Subsets,
    part: &mut Part,
) -> Result<Map<String, Value>, ()> {
    let table = r.table;
    let Some(written) = http_destinations(table, f) else {
        part.diagnostics.push(ctx.error(&table.meta, Translate::NoDestination, &format!("{}.forwardTo", r.field),
            "defaultDestination must be set when http forwardTo actions without destinations are specified."));
        return Err(());
    };
    let dfield = match written {
        Written::Route(_) => format!("{}.forwardTo.destinations", r.field),
        Written::Default(_) => "spec.defaultDestination".to_string(),
    };
    let (route, hosts) = route_destinations(
        ctx,
        table,
        written,
        &dfield,
        Some(r.index),
        cluster,
        r.ws,
        subsets,
        part,
    )?;
    let rewrite = rewrite(ctx, r, f, &hosts, part)?;
    let mut j = Map::new();
    if !rewrite.is_empty() {
        j.insert("rewrite".into(), Value::Object(rewrite));
    }
    j.insert("route".into(), Value::Array(route));
    applied.write_forward(ctx, r, cluster, subsets, &mut j, part);
    Ok(j)
}

/// The Istio rewrite of a forwarding route (empty for none); `Err` has been reported.
fn rewrite(
    ctx: &Ctx<'_>,
    r: &FlatRoute<'_>,
    f: &ForwardToAction,
    hosts: &[String],
    part: &mut Part,
) -> Result<Map<String, Value>, ()> {
    let mut rewrite = Map::new();
    if let Some(p) = &f.path_rewrite {
        if r.matchers
            .iter()
            .any(|m| m.uri.as_ref().is_some_and(|u| u.regex.is_some()))
        {
            part.diagnostics.push(ctx.error(
                &r.table.meta,
                Translate::PathRewriteRegex,
                &format!("{}.forwardTo.pathRewrite", r.field),
                "pathRewrite is unsupported with regex matchers",
            ));
            return Err(());
        }
        // Istio rejects `rewrite: {uri: ""}` (docs/validation.md item 38): strip to `/`.
        rewrite.insert(
            "uri".into(),
            json!(if p.is_empty() { "/" } else { p.as_str() }),
        );
    }
    if let Some(rr) = &f.regex_rewrite {
        rewrite.insert(
            "uriRegexRewrite".into(),
            json!({"match": rr.pattern.regex, "rewrite": rr.substitution}),
        );
    }
    if let Some(h) = &f.host_rewrite {
        rewrite.insert("authority".into(), json!(h));
    } else if f.auto_host_rewrite == Some(true) && hosts.len() == 1 {
        // Istio has no auto host rewrite; the single destination host is equivalent [I].
        rewrite.insert("authority".into(), json!(hosts[0]));
    }
    Ok(rewrite)
}

/// The `fault` of a FaultInjectionPolicy (docs/translation.md#policies); `None` when it sets
/// neither delay nor abort.
pub(super) fn fault(c: &FaultConfig) -> Option<Value> {
    let mut f = Map::new();
    if let Some(d) = &c.delay {
        f.insert("delay".into(), json!({"fixedDelay": d.fixed_delay, "percentage": {"value": whole(d.percentage.unwrap_or(100.0))}}));
    }
    if let Some(a) = &c.abort {
        f.insert("abort".into(), json!({"httpStatus": a.http_status, "percentage": {"value": whole(a.percentage.unwrap_or(100.0))}}));
    }
    (!f.is_empty()).then_some(Value::Object(f))
}

/// `timeout` and `retries` of a RetryTimeoutPolicy (docs/translation.md#retrytimeoutpolicy).
pub(super) fn retry_timeout(c: &RetryTimeoutConfig) -> Map<String, Value> {
    let mut j = Map::new();
    if let Some(t) = &c.request_timeout {
        j.insert("timeout".into(), json!(t.istio()));
    }
    if let Some(rp) = &c.retries {
        let mut m = Map::new();
        // Gloo's documented default is 2 retries; Istio reads a missing attempts as 0.
        m.insert("attempts".into(), json!(rp.attempts.unwrap_or(2)));
        if let Some(t) = &rp.per_try_timeout {
            m.insert("perTryTimeout".into(), json!(t.istio()));
        }
        if let Some(on) = &rp.retry_on {
            // Istio splits the list on commas without trimming.
            let on: Vec<&str> = on.split(',').map(str::trim).collect();
            m.insert("retryOn".into(), json!(on.join(",")));
        }
        if let Some(b) = rp.retry_remote_localities {
            m.insert("retryRemoteLocalities".into(), json!(b));
        }
        j.insert("retries".into(), Value::Object(m));
    }
    j
}

/// `mirror` and `mirrorPercentage` of a MirrorPolicy on a route rendered for output cluster
/// `cluster`; the mirror destination resolves as a forwardTo destination of the route's table
/// would (docs/translation.md#mirrorpolicy). A destination that does not resolve is reported
/// and left out.
pub(super) fn mirror(
    ctx: &Ctx<'_>,
    p: &Typed<MirrorPolicySpec>,
    r: &FlatRoute<'_>,
    cluster: &str,
    subsets: &mut Subsets,
    j: &mut Map<String, Value>,
    part: &mut Part,
) {
    let Some(c) = &p.spec.config else {
        return;
    };
    let Some(d) = &c.destination else {
        return;
    };
    let field = "spec.config.destination";
    let Ok(m) = mirror_destination(ctx, &p.meta, d, field, cluster, r.ws, subsets, part) else {
        return;
    };
    j.insert("mirror".into(), m);
    if let Some(pc) = c.percentage {
        j.insert("mirrorPercentage".into(), json!({"value": whole(pc)}));
    }
}

/// A percentage as written: `100`, not `100.0`, when it is whole.
fn whole(p: f64) -> Value {
    if p.fract() == 0.0 && p.abs() < 1e15 {
        json!(p as i64)
    } else {
        json!(p)
    }
}

/// Istio StringMatch from a Gloo value (exact or regex); `{}` means presence (Istio's
/// translation of an empty StringMatch is a present match).
fn value_match(value: &Option<String>, regex: bool) -> Value {
    match value {
        None => json!({}),
        Some(v) if regex => json!({"regex": v}),
        Some(v) => json!({"exact": v}),
    }
}

/// One Istio HTTPMatchRequest per (matcher × source label set)
/// (docs/translation.md#routetable-rules, [O]).
fn matches_json(matchers: &[HttpRequestMatcher], sources: &[Option<Labels>]) -> Vec<Value> {
    let default = [HttpRequestMatcher {
        uri: Some(StringMatch {
            prefix: Some("/".into()),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let ms: &[HttpRequestMatcher] = if matchers.is_empty() {
        &default
    } else {
        matchers
    };
    let none = [None];
    let srcs: &[Option<Labels>] = if sources.is_empty() { &none } else { sources };
    let mut out = Vec::new();
    for m in ms {
        for s in srcs {
            out.push(match_json(m, s));
        }
    }
    out
}

/// One Istio HTTPMatchRequest: the matcher, from the source labels `s` (none: any source).
fn match_json(m: &HttpRequestMatcher, s: &Option<Labels>) -> Value {
    let mut j = Map::new();
    if let Some(u) = &m.uri {
        if let Some(e) = &u.exact {
            j.insert("uri".into(), json!({"exact": e}));
        } else if let Some(p) = &u.prefix {
            j.insert("uri".into(), json!({"prefix": p}));
        } else if let Some(r) = &u.regex {
            j.insert("uri".into(), json!({"regex": r}));
        } else if let Some(sfx) = &u.suffix {
            // Gloo does not support suffix matching; a regex keeps its meaning [I].
            j.insert(
                "uri".into(),
                json!({"regex": format!(".*{}", regex::escape(sfx))}),
            );
        }
        if u.ignore_case && u.regex.is_none() {
            j.insert("ignoreUriCase".into(), json!(true));
        }
    }
    let mut headers = Map::new();
    let mut without = Map::new();
    for h in &m.headers {
        let v = value_match(&h.value, h.regex);
        if h.invert_match {
            without.insert(h.name.clone(), v);
        } else {
            headers.insert(h.name.clone(), v);
        }
    }
    if !headers.is_empty() {
        j.insert("headers".into(), Value::Object(headers));
    }
    if !without.is_empty() {
        j.insert("withoutHeaders".into(), Value::Object(without));
    }
    let mut qp = Map::new();
    for q in &m.query_parameters {
        qp.insert(q.name.clone(), value_match(&q.value, q.regex));
    }
    if !qp.is_empty() {
        j.insert("queryParams".into(), Value::Object(qp));
    }
    if let Some(me) = &m.method {
        j.insert("method".into(), json!({"exact": me.to_uppercase()}));
    }
    if let Some(p) = m.port {
        if p != 0 {
            j.insert("port".into(), json!(p));
        }
    }
    if let Some(l) = s {
        j.insert("sourceLabels".into(), json!(l));
    }
    Value::Object(j)
}
