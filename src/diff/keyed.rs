//! Lists diffed by identity: Istio lists whose entries have a name or a port (VirtualService
//! `http`/`tcp`/`tls` by `name`, DestinationRule `subsets` by `name` and `portLevelSettings` by
//! `port.number`, Gateway `servers` by `port.name` or port number and hosts, ServiceEntry `ports`
//! by `name` or `number`).
//!
//! Entries are matched by key, not position: an added and a removed route are an added and a
//! removed entry, and an entry that only moved is no change. Only VirtualService routes are
//! evaluated in order (the first match wins), so a new order of the same routes is reported as
//! a change of the list's order. A list where some entry has no key, or two share one, is
//! compared by position.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

/// How the entries of a keyed list are identified.
#[derive(Debug, Clone, Copy)]
enum KeyBy {
    /// `name`.
    Name,
    /// `port.number`.
    PortNumber,
    /// `port.name`, else `port.number` and `hosts`.
    Server,
    /// `name`, else `number`.
    NameOrNumber,
}

/// A list whose entries have an identity.
#[derive(Debug)]
pub struct Keyed {
    /// Field path from the object's root; `*` stands for any entry of a list.
    path: &'static [&'static str],
    by: KeyBy,
    /// Whether the order of the entries means something.
    ordered: bool,
}

const VIRTUAL_SERVICE: &[Keyed] = &[
    Keyed {
        path: &["spec", "http"],
        by: KeyBy::Name,
        ordered: true,
    },
    Keyed {
        path: &["spec", "tcp"],
        by: KeyBy::Name,
        ordered: true,
    },
    Keyed {
        path: &["spec", "tls"],
        by: KeyBy::Name,
        ordered: true,
    },
];

const DESTINATION_RULE: &[Keyed] = &[
    Keyed {
        path: &["spec", "subsets"],
        by: KeyBy::Name,
        ordered: false,
    },
    Keyed {
        path: &["spec", "trafficPolicy", "portLevelSettings"],
        by: KeyBy::PortNumber,
        ordered: false,
    },
    Keyed {
        path: &["spec", "subsets", "*", "trafficPolicy", "portLevelSettings"],
        by: KeyBy::PortNumber,
        ordered: false,
    },
];

const GATEWAY: &[Keyed] = &[Keyed {
    path: &["spec", "servers"],
    by: KeyBy::Server,
    ordered: false,
}];

const SERVICE_ENTRY: &[Keyed] = &[Keyed {
    path: &["spec", "ports"],
    by: KeyBy::NameOrNumber,
    ordered: false,
}];

/// The keyed lists of an object, by its `apiVersion` and `kind`.
pub fn lists_of(object: &Value) -> &'static [Keyed] {
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if crate::manifest::group_of(api) != "networking.istio.io" {
        return &[];
    }
    match object.get("kind").and_then(Value::as_str).unwrap_or("") {
        "VirtualService" => VIRTUAL_SERVICE,
        "DestinationRule" => DESTINATION_RULE,
        "Gateway" => GATEWAY,
        "ServiceEntry" => SERVICE_ENTRY,
        _ => &[],
    }
}

/// The keyed list at `trace` (field names, `*` for list entries), if any.
pub fn find<'k>(lists: &'k [Keyed], trace: &[&str]) -> Option<&'k Keyed> {
    lists.iter().find(|k| k.path == trace)
}

fn port_number(v: Option<&Value>) -> Option<u64> {
    v.and_then(|p| p.get("number")).and_then(Value::as_u64)
}

fn name(v: &Value) -> Option<&str> {
    v.get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn key_of(by: KeyBy, entry: &Value) -> Option<String> {
    match by {
        KeyBy::Name => name(entry).map(str::to_string),
        KeyBy::PortNumber => port_number(entry.get("port")).map(|n| format!("port={n}")),
        KeyBy::Server => {
            let port = entry.get("port");
            if let Some(n) = port.and_then(name) {
                return Some(n.to_string());
            }
            let n = port_number(port)?;
            let hosts: Vec<&str> = entry
                .get("hosts")
                .and_then(Value::as_array)
                .map(|h| h.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Some(format!("port={n},hosts={}", hosts.join(",")))
        }
        KeyBy::NameOrNumber => name(entry)
            .map(str::to_string)
            .or_else(|| port_number(Some(entry)).map(|n| format!("port={n}"))),
    }
}

impl Keyed {
    /// The key of every entry, or `None` when one has none or two share one.
    pub fn keys(&self, entries: &[Value]) -> Option<Vec<String>> {
        let keys: Vec<String> = entries
            .iter()
            .map(|e| key_of(self.by, e))
            .collect::<Option<_>>()?;
        let unique: BTreeSet<&String> = keys.iter().collect();
        (unique.len() == keys.len()).then_some(keys)
    }

    /// Whether the entries both sides have are in another order, and that order matters.
    pub fn reordered(&self, before: &[String], after: &[String]) -> bool {
        if !self.ordered {
            return false;
        }
        let in_after: BTreeSet<&String> = after.iter().collect();
        let in_before: BTreeSet<&String> = before.iter().collect();
        before
            .iter()
            .filter(|k| in_after.contains(k))
            .ne(after.iter().filter(|k| in_before.contains(k)))
    }
}

/// An entry's key as a path segment: `[orders]`, or quoted (`["a b"]`) when it holds other
/// characters than letters, digits and `-._:/*=,`, or only digits (which would read as an index).
pub fn segment(key: &str) -> String {
    let plain = !key.is_empty()
        && !key.bytes().all(|b| b.is_ascii_digit())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:/*=,".contains(c));
    if plain {
        format!("[{key}]")
    } else {
        format!("[{}]", serde_json::to_string(key).unwrap_or_default())
    }
}

/// A unified diff whose hunks are headed by the field or entry they belong to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Unified {
    /// The hunks.
    pub text: String,
    /// `+` lines.
    pub added: usize,
    /// `-` lines.
    pub removed: usize,
}

impl Unified {
    fn whole(&mut self, head: &str, sign: char, body: &str) {
        let _ = writeln!(self.text, "@@ {head} @@");
        for l in body.lines() {
            let _ = writeln!(self.text, "{sign}{l}");
        }
        let n = body.lines().count();
        if sign == '+' {
            self.added += n;
        } else {
            self.removed += n;
        }
    }

    /// The line diff of `old` and `new`, each hunk headed by `head`, or by the path of its
    /// first changed line when `head` is `None`.
    fn lines(&mut self, head: Option<&str>, old: &str, new: &str, context: usize) {
        let td = TextDiff::from_lines(old, new);
        let (old_lines, new_lines): (Vec<&str>, Vec<&str>) =
            (old.lines().collect(), new.lines().collect());
        for group in td.grouped_ops(context) {
            let title = match head {
                Some(h) => h.to_string(),
                None => group
                    .iter()
                    .find_map(|op| {
                        let (tag, o, n) = op.as_tag_tuple();
                        match tag {
                            similar::DiffTag::Equal => None,
                            similar::DiffTag::Insert => Some(yaml_path(&new_lines, n.start)),
                            _ => Some(yaml_path(&old_lines, o.start)),
                        }
                    })
                    .unwrap_or_default(),
            };
            let _ = writeln!(self.text, "@@ {title} @@");
            for op in &group {
                for c in td.iter_changes(op) {
                    let sign = match c.tag() {
                        ChangeTag::Insert => {
                            self.added += 1;
                            '+'
                        }
                        ChangeTag::Delete => {
                            self.removed += 1;
                            '-'
                        }
                        ChangeTag::Equal => ' ',
                    };
                    let line = c.value();
                    let _ = writeln!(self.text, "{sign}{}", line.trim_end_matches('\n'));
                }
            }
        }
    }
}

/// The key of a YAML line `key: …` or `key:`.
fn line_key(line: &str) -> &str {
    let t = line.trim_start();
    t.split_once(": ")
        .map(|(k, _)| k)
        .or_else(|| t.strip_suffix(':'))
        .unwrap_or(t)
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The path, two fields deep at most (`spec.hosts`), of line `at` of an object's YAML.
fn yaml_path(lines: &[&str], at: usize) -> String {
    let at = at.min(lines.len().saturating_sub(1));
    let Some(top) = (0..=at).rev().find(|&i| indent(lines[i]) == 0) else {
        return String::new();
    };
    let mut path = line_key(lines[top]).to_string();
    let second = (top + 1..=at)
        .rev()
        .find(|&i| indent(lines[i]) == 2 && !lines[i].trim_start().starts_with('-'));
    if let Some(i) = second {
        path.push('.');
        path.push_str(line_key(lines[i]));
    }
    path
}

fn to_yaml(v: &Value) -> String {
    super::to_yaml(v)
}

/// An entry written as an item of its list: `- ` before the first line, indented to the list's
/// depth.
fn item_yaml(entry: &Value, depth: usize) -> String {
    let pad = " ".repeat(2 * depth.saturating_sub(1));
    let mut out = String::new();
    for (i, l) in to_yaml(entry).lines().enumerate() {
        let mark = if i == 0 { "- " } else { "  " };
        let _ = writeln!(out, "{pad}{mark}{l}");
    }
    out
}

fn get<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

/// Removes the field at `path`, and the maps that it leaves empty (not the root).
fn remove(v: &mut Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    if let Some(Value::Object(m)) = parents.iter().try_fold(&mut *v, |v, k| v.get_mut(k)) {
        m.remove(*last);
        if m.is_empty() && !parents.is_empty() {
            remove(v, parents);
        }
    }
}

/// The diff of a changed object with keyed lists, or `None` when it has none that can be
/// keyed on both sides (the caller then diffs the YAML by lines). The rest of the object comes
/// first, its hunks headed by the field they are in (`@@ spec.hosts @@`), then each keyed
/// list: its order when that changed and matters, then every entry that changed, was added or
/// was removed, headed `@@ spec.http[orders] @@`; an added or removed entry is one whole block.
pub fn unified(before: &Value, after: &Value, context: usize) -> Option<Unified> {
    let entries = |v: &Value, path: &[&str]| -> Option<Vec<Value>> {
        match get(v, path) {
            None => Some(Vec::new()),
            Some(Value::Array(a)) => Some(a.clone()),
            Some(_) => None,
        }
    };
    let mut lists = Vec::new();
    for k in lists_of(after)
        .iter()
        .chain(lists_of(before))
        .filter(|k| !k.path.contains(&"*"))
    {
        if lists
            .iter()
            .any(|(l, ..): &(&Keyed, _, _, _, _)| l.path == k.path)
        {
            continue;
        }
        let (Some(a), Some(b)) = (entries(before, k.path), entries(after, k.path)) else {
            continue;
        };
        if let (Some(ka), Some(kb)) = (k.keys(&a), k.keys(&b)) {
            lists.push((k, a, ka, b, kb));
        }
    }
    if lists.is_empty() {
        return None;
    }
    let (mut rest_before, mut rest_after) = (before.clone(), after.clone());
    for (k, ..) in &lists {
        remove(&mut rest_before, k.path);
        remove(&mut rest_after, k.path);
    }
    let mut out = Unified::default();
    out.lines(None, &to_yaml(&rest_before), &to_yaml(&rest_after), context);
    for (k, a, ka, b, kb) in &lists {
        let list = k.path.join(".");
        let depth = k.path.len();
        if k.reordered(ka, kb) {
            let _ = writeln!(
                out.text,
                "@@ {list} (order) @@\n-{}\n+{}",
                ka.join(", "),
                kb.join(", ")
            );
            out.added += 1;
            out.removed += 1;
        }
        let in_before: HashMap<&str, usize> = ka
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        let in_after: HashMap<&str, usize> = kb
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_str(), i))
            .collect();
        // A removed entry is shown before the entry that followed it in base and is still
        // there, or at the end.
        let mut removed_before: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut removed_last = Vec::new();
        for (i, key) in ka.iter().enumerate() {
            if in_after.contains_key(key.as_str()) {
                continue;
            }
            match (i + 1..ka.len()).find_map(|n| in_after.get(ka[n].as_str())) {
                Some(&j) => removed_before.entry(j).or_default().push(i),
                None => removed_last.push(i),
            }
        }
        let show_removed = |out: &mut Unified, is: &[usize]| {
            for &i in is {
                let head = format!("{list}{} (removed)", segment(&ka[i]));
                out.whole(&head, '-', &item_yaml(&a[i], depth));
            }
        };
        for (j, key) in kb.iter().enumerate() {
            if let Some(is) = removed_before.get(&j) {
                show_removed(&mut out, is);
            }
            let head = format!("{list}{}", segment(key));
            match in_before.get(key.as_str()) {
                None => out.whole(&format!("{head} (added)"), '+', &item_yaml(&b[j], depth)),
                Some(&i) if a[i] == b[j] => {}
                Some(&i) => out.lines(
                    Some(&head),
                    &item_yaml(&a[i], depth),
                    &item_yaml(&b[j], depth),
                    context,
                ),
            }
        }
        show_removed(&mut out, &removed_last);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::paths::changed_paths;
    use serde_json::json;

    fn vs(http: Value) -> Value {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": "api", "namespace": "gw"},
               "spec": {"hosts": ["api.example.com"], "http": http}})
    }

    fn route(name: &str, prefix: &str, host: &str) -> Value {
        json!({"name": name, "match": [{"uri": {"prefix": prefix}}],
               "route": [{"destination": {"host": host}}]})
    }

    #[test]
    fn a_removed_and_an_added_route_are_two_whole_blocks() {
        let a = vs(json!([
            route("orders", "/orders", "orders"),
            route("old-catalog", "/catalog", "catalog")
        ]));
        let b = vs(json!([
            route("orders", "/orders", "orders"),
            route("shipping", "/shipping", "shipping")
        ]));
        let u = unified(&a, &b, 3).expect("keyed");
        assert_eq!(
            u.text,
            "@@ spec.http[shipping] (added) @@\n\
             +  - name: shipping\n\
             +    match:\n\
             +    - uri:\n\
             +        prefix: /shipping\n\
             +    route:\n\
             +    - destination:\n\
             +        host: shipping\n\
             @@ spec.http[old-catalog] (removed) @@\n\
             -  - name: old-catalog\n\
             -    match:\n\
             -    - uri:\n\
             -        prefix: /catalog\n\
             -    route:\n\
             -    - destination:\n\
             -        host: catalog\n"
        );
        assert_eq!((u.added, u.removed), (7, 7));
        assert_eq!(
            changed_paths(&a, &b),
            ["spec.http[shipping]", "spec.http[old-catalog]"]
        );
    }

    #[test]
    fn a_changed_route_is_headed_by_its_name_and_paths_use_it() {
        let a = vs(json!([
            route("a", "/a", "a"),
            route("orders", "/api/orders", "orders")
        ]));
        let b = vs(json!([
            route("a", "/a", "a"),
            route("orders", "/api/v2/orders", "orders")
        ]));
        let u = unified(&a, &b, 1).expect("keyed");
        assert_eq!(
            u.text,
            "@@ spec.http[orders] @@\n     - uri:\n-        prefix: /api/orders\n\
             +        prefix: /api/v2/orders\n     route:\n"
        );
        assert_eq!(
            changed_paths(&a, &b),
            ["spec.http[orders].match[0].uri.prefix"]
        );
    }

    #[test]
    fn moved_routes_change_only_the_order_and_other_fields_are_headed_by_field() {
        let a = vs(json!([route("a", "/a", "a"), route("b", "/b", "b")]));
        let mut b = vs(json!([route("b", "/b", "b"), route("a", "/a", "a")]));
        b["spec"]["hosts"] = json!(["api.example.org"]);
        let u = unified(&a, &b, 0).expect("keyed");
        assert_eq!(
            u.text,
            "@@ spec.hosts @@\n-  - api.example.com\n+  - api.example.org\n\
             @@ spec.http (order) @@\n-a, b\n+b, a\n"
        );
        assert_eq!(changed_paths(&a, &b), ["spec.hosts[0]", "spec.http"]);
    }

    #[test]
    fn moved_subsets_ports_and_servers_are_no_change() {
        let dr = |subsets: Value| {
            json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                   "metadata": {"name": "d"}, "spec": {"host": "h", "subsets": subsets,
                   "trafficPolicy": {"portLevelSettings": [
                       {"port": {"number": 80}, "tls": {"mode": "DISABLE"}}]}}})
        };
        let (x, y) = (json!({"name": "x"}), json!({"name": "y"}));
        let a = dr(json!([x, y]));
        let b = dr(json!([y, x]));
        assert_eq!(unified(&a, &b, 3), Some(Unified::default()));
        assert!(changed_paths(&a, &b).is_empty());
        let mut c = b.clone();
        c["spec"]["trafficPolicy"]["portLevelSettings"][0]["tls"]["mode"] = json!("SIMPLE");
        assert_eq!(
            changed_paths(&a, &c),
            ["spec.trafficPolicy.portLevelSettings[port=80].tls.mode"]
        );
        let gw = |servers: Value| {
            json!({"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
                   "metadata": {"name": "g"}, "spec": {"servers": servers}})
        };
        let s1 = json!({"port": {"number": 443, "name": "https"}, "hosts": ["a"]});
        let s2 = json!({"port": {"number": 80}, "hosts": ["a", "b"]});
        assert!(changed_paths(&gw(json!([s1, s2])), &gw(json!([s2, s1]))).is_empty());
        assert_eq!(
            changed_paths(&gw(json!([s1])), &gw(json!([s1, s2]))),
            ["spec.servers[port=80,hosts=a,b]"]
        );
    }

    #[test]
    fn lists_without_unique_keys_are_compared_by_position() {
        let a = vs(json!([{"route": [{"destination": {"host": "a"}}]}]));
        let b = vs(json!([{"route": [{"destination": {"host": "b"}}]}]));
        // The list stays in the rest of the object, diffed by lines.
        let u = unified(&a, &b, 0).expect("other keyed lists");
        assert_eq!(
            u.text,
            "@@ spec.http @@\n-        host: a\n+        host: b\n"
        );
        assert_eq!(
            changed_paths(&a, &b),
            ["spec.http[0].route[0].destination.host"]
        );
    }

    #[test]
    fn keys_that_read_otherwise_are_quoted() {
        assert_eq!(segment("orders.backend-apis"), "[orders.backend-apis]");
        assert_eq!(segment("8080"), "[\"8080\"]");
        assert_eq!(segment("a b]"), "[\"a b]\"]");
    }
}
