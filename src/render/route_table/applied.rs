//! What the route policies give one route: the policy of each kind that applies to it, looked
//! up once per route and written into the route's `http[]` entry in every VirtualService copy
//! (docs/translation.md#policies).

use super::super::{Ctx, Part};
use super::delegation::{Action, FlatRoute};
use super::destinations::Subsets;
use super::{headers_cors, http, policies};
use crate::gloo::types::MirrorPolicySpec;
use crate::gloo::{Meta, Typed};
use serde_json::{Map, Value};

/// The fields the route policies give one route, each with the policy it comes from.
#[derive(Default)]
pub(super) struct Applied<'a> {
    /// `fault`, from a FaultInjectionPolicy.
    pub fault: Option<(&'a Meta, Value)>,
    /// `timeout` and `retries`, from a RetryTimeoutPolicy.
    pub retry_timeout: Option<(&'a Meta, Map<String, Value>)>,
    /// The MirrorPolicy, whose destination resolves per output cluster.
    pub mirror: Option<&'a Typed<MirrorPolicySpec>>,
    /// `headers`, from a HeaderManipulationPolicy.
    pub headers: Option<(&'a Meta, Value)>,
    /// `corsPolicy`, from a CORSPolicy.
    pub cors: Option<(&'a Meta, Value)>,
}

impl<'a> Applied<'a> {
    /// The route policies of each kind that apply to route `r`. A forwarding route takes every
    /// kind; a redirect or direct response only `headers` and `corsPolicy`, the fields Envoy
    /// applies to a response it makes itself (docs/translation.md#headermanipulationpolicy);
    /// a route that failed takes none.
    pub fn of(ctx: &Ctx<'a>, r: &FlatRoute<'_>, part: &mut Part) -> Self {
        let mut a = Applied::default();
        let m = ctx.model;
        match r.action {
            Action::Forward(_) => {
                if let Some(p) = policies::applying(ctx, &m.fault_policies, r, part) {
                    a.fault = http::fault(&p.spec.config).map(|f| (&p.meta, f));
                }
                if let Some(p) = policies::applying(ctx, &m.retry_timeout_policies, r, part) {
                    let fields = p.spec.config.as_ref().map(http::retry_timeout);
                    a.retry_timeout = fields.filter(|f| !f.is_empty()).map(|f| (&p.meta, f));
                }
                if let Some(p) = policies::applying(ctx, &m.mirror_policies, r, part) {
                    let has = p
                        .spec
                        .config
                        .as_ref()
                        .is_some_and(|c| c.destination.is_some());
                    a.mirror = has.then_some(p);
                }
            }
            Action::Redirect(_) | Action::Direct(_) => {}
            Action::Fail => return a,
        }
        if let Some(p) = policies::applying(ctx, &m.header_policies, r, part) {
            if let Some(h) = p.spec.config.as_ref().and_then(headers_cors::headers) {
                a.headers = Some((&p.meta, h));
            }
        }
        if let Some(p) = policies::applying(ctx, &m.cors_policies, r, part) {
            if let Some(c) = p.spec.config.as_ref().and_then(headers_cors::cors) {
                a.cors = Some((&p.meta, c));
            }
        }
        a
    }

    /// The policies the fields come from.
    pub fn policies(&self) -> impl Iterator<Item = &'a Meta> + '_ {
        let f = |x: &Option<(&'a Meta, Value)>| x.as_ref().map(|(m, _)| *m);
        [
            f(&self.fault),
            self.retry_timeout.as_ref().map(|(m, _)| *m),
            self.mirror.map(|p| &p.meta),
            f(&self.headers),
            f(&self.cors),
        ]
        .into_iter()
        .flatten()
    }

    /// Writes the fields into forwarding route `j`, rendered for output cluster `cluster`.
    pub fn write_forward(
        &self,
        ctx: &Ctx<'_>,
        r: &FlatRoute<'_>,
        cluster: &str,
        subsets: &mut Subsets,
        j: &mut Map<String, Value>,
        part: &mut Part,
    ) {
        if let Some((_, f)) = &self.fault {
            j.insert("fault".into(), f.clone());
        }
        if let Some((_, fields)) = &self.retry_timeout {
            j.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        if let Some(p) = self.mirror {
            http::mirror(ctx, p, r, cluster, subsets, j, part);
        }
        self.write_response(ctx, r, j, part);
    }

    /// Writes `headers` and `corsPolicy` into route `j`.
    pub fn write_response(
        &self,
        ctx: &Ctx<'_>,
        r: &FlatRoute<'_>,
        j: &mut Map<String, Value>,
        part: &mut Part,
    ) {
        if let Some((meta, h)) = &self.headers {
            headers_cors::write_headers(ctx, r, meta, h, j, part);
        }
        if let Some((_, c)) = &self.cors {
            j.insert("corsPolicy".into(), c.clone());
        }
    }
}
