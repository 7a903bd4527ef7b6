//! Item 33 of docs/validation.md (`analyzeUnreachableHTTPRules`): warnings for HTTP routes and
//! matches that earlier routes leave no traffic to.

use crate::diag::codes::Istio;
use crate::json::Field;
use crate::validate::rules::common::arr;
use crate::validate::rules::Ctx;
use crate::validate::Loc;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

impl Ctx<'_> {
    /// Item 33 (`analyzeUnreachableHTTPRules`), warnings.
    pub(super) fn unreachable(&mut self, routes: &[Value], sp: &Loc<'_>) {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut catch_all: Option<usize> = None;
        let mut earlier: Vec<(usize, &Map<String, Value>)> = Vec::new();
        for (i, r) in routes.iter().enumerate() {
            if r.is_null() {
                continue;
            }
            let p = sp.key("http").index(i);
            if let Some(c) = catch_all {
                self.warn(
                    Istio::UnreachableRoute,
                    p,
                    format!("route is unreachable: route {c} before it has no match and takes all traffic"),
                );
                continue;
            }
            let matches = arr(r, "match");
            if matches.is_empty() {
                catch_all = Some(i);
                continue;
            }
            let mut dup = 0;
            for (j, m) in matches.iter().enumerate() {
                let key = canonical_json(m, "name");
                let covered_by = earlier.iter().find(|(_, e)| covers(e, m)).map(|(n, _)| *n);
                if let Some(&first) = seen.get(&key) {
                    dup += 1;
                    self.warn(
                        Istio::UnreachableRoute,
                        p.key("match").index(j),
                        format!("match is never used: route {first} has the same match"),
                    );
                } else if let Some(n) = covered_by {
                    dup += 1;
                    self.warn(
                        Istio::UnreachableRoute,
                        p.key("match").index(j),
                        format!("match is never used: a shorter prefix in route {n} matches everything it would"),
                    );
                } else {
                    seen.insert(key, i);
                }
            }
            for m in matches {
                if let Some(o) = m.as_object() {
                    earlier.push((i, o));
                }
            }
            if dup == matches.len() {
                self.warn(
                    Istio::UnreachableRoute,
                    p,
                    "route is unreachable: all its matches are used by earlier routes",
                );
            }
        }
    }
}

/// The compact JSON of `v` with map keys sorted at every level and the top-level key `skip`
/// left out: equal for matches that differ only in key order (and in `skip`).
fn canonical_json(v: &Value, skip: &str) -> String {
    struct Sorted<'a>(&'a Value, Option<&'a str>);
    impl serde::Serialize for Sorted<'_> {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{SerializeMap, SerializeSeq};
            match self.0 {
                Value::Object(m) => {
                    let mut entries: Vec<(&String, &Value)> = m
                        .iter()
                        .filter(|(k, _)| Some(k.as_str()) != self.1)
                        .collect();
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                    let mut out = ser.serialize_map(Some(entries.len()))?;
                    for (k, x) in entries {
                        out.serialize_entry(k, &Sorted(x, None))?;
                    }
                    out.end()
                }
                Value::Array(a) => {
                    let mut out = ser.serialize_seq(Some(a.len()))?;
                    for x in a {
                        out.serialize_element(&Sorted(x, None))?;
                    }
                    out.end()
                }
                other => other.serialize(ser),
            }
        }
    }
    serde_json::to_string(&Sorted(v, Some(skip))).unwrap_or_default()
}

/// Does the earlier match `e` take every request the later match `m` would (`coveredValidation`)?
/// True when `e`'s URI is a prefix (or absent) that `m`'s prefix or exact path starts with, and
/// every other condition of `e` appears unchanged in `m`.
fn covers(e: &Map<String, Value>, m: &Value) -> bool {
    let Some(m) = m.as_object() else { return false };
    let e_prefix = match e.field("uri") {
        None => "",
        Some(u) => match u.field("prefix").and_then(Value::as_str) {
            Some(p) if u.as_object().is_some_and(|o| o.len() == 1) => p,
            _ => return false,
        },
    };
    let m_path = match m.field("uri") {
        Some(u) if u.as_object().is_some_and(|o| o.len() == 1) => u
            .field("prefix")
            .or_else(|| u.field("exact"))
            .and_then(Value::as_str),
        _ => None,
    };
    let Some(m_path) = m_path else { return false };
    if !m_path.starts_with(e_prefix) {
        return false;
    }
    e.iter()
        .filter(|(k, _)| *k != "uri" && *k != "name")
        .all(|(k, v)| m.field(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::rules::testing::{clean, has, run};
    use serde_json::json;

    #[test]
    fn canonical_json_is_the_sorted_form_without_the_key() {
        let m =
            json!({"uri": {"prefix": "/"}, "name": "x", "headers": {"b": {}, "a": {"exact": "1"}}});
        let mut expected = m.clone();
        expected.as_object_mut().unwrap().remove("name");
        assert_eq!(
            canonical_json(&m, "name"),
            crate::istio::object::canonical(&expected).to_string()
        );
        assert_eq!(
            canonical_json(&json!([{"b": 1, "a": 2}]), "name"),
            r#"[{"a":2,"b":1}]"#
        );
    }

    #[test]
    fn unreachable_rules_warn() {
        let ok = json!({"hosts": ["a.com"], "http": [
            {"match": [{"uri": {"prefix": "/db/"}}], "route": [{"destination": {"host": "a"}}]},
            {"match": [{"uri": {"prefix": "/"}}], "route": [{"destination": {"host": "a"}}]}]});
        clean(&run("VirtualService", ok));
        let bad = json!({"hosts": ["a.com"], "http": [
            {"match": [{"uri": {"prefix": "/"}}], "route": [{"destination": {"host": "a"}}]},
            {"match": [{"uri": {"prefix": "/db/"}}], "route": [{"destination": {"host": "a"}}]},
            {"match": [{"uri": {"prefix": "/"}, "name": "again"}], "route": [{"destination": {"host": "a"}}]},
            {"route": [{"destination": {"host": "a"}}]},
            {"match": [{"uri": {"exact": "/x"}}], "route": [{"destination": {"host": "a"}}]}]});
        let p = run("VirtualService", bad);
        has(&p, "istio-unreachable-route", "spec.http[1]", false);
        has(
            &p,
            "istio-unreachable-route",
            "spec.http[2].match[0]",
            false,
        );
        has(&p, "istio-unreachable-route", "spec.http[4]", false);
        assert!(p
            .iter()
            .all(|x| x.severity == crate::diag::Severity::Warning));
    }
}
