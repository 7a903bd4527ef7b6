# Shared helpers for the Rego versions of meshform's built-in policies (benchmark peer only).
#
# Input, as `conftest --combine` would give it, plus each object's cluster and place:
#   {"objects": [{"cluster": "cluster1", "file": "...", "line": 3, "obj": {...}}, ...]}
# Written for regorus (Rego v1 syntax). Indexes are built once per evaluation as rules.
package meshform.lib

gloo_net := "networking.gloo.solo.io/v2"

gloo_admin := "admin.gloo.solo.io/v2"

route_tables := [e | some e in input.objects; e.obj.apiVersion == gloo_net; e.obj.kind == "RouteTable"]

external_services := [e | some e in input.objects; e.obj.apiVersion == gloo_net; e.obj.kind == "ExternalService"]

external_endpoints := [e | some e in input.objects; e.obj.apiVersion == gloo_net; e.obj.kind == "ExternalEndpoint"]

workspaces := [e | some e in input.objects; e.obj.apiVersion == gloo_admin; e.obj.kind == "Workspace"]

workspace_settings := [e | some e in input.objects; e.obj.apiVersion == gloo_admin; e.obj.kind == "WorkspaceSettings"]

where(e) := sprintf("%s:%d", [e.file, e.line])

ns(e) := object.get(e.obj.metadata, "namespace", "default")

labels(e) := object.get(e.obj.metadata, "labels", {})

# "cluster/namespace" -> workspace name.
ws_by_ns := {k: w.obj.metadata.name |
	some w in workspaces
	some wc in w.obj.spec.workloadClusters
	some n in wc.namespaces
	k := sprintf("%s/%s", [wc.name, n.name])
}

workspace_of(e) := ws_by_ns[sprintf("%s/%s", [e.cluster, ns(e)])]

ws_labels := {w.obj.metadata.name: labels(w) | some w in workspaces}

settings_of := {name: s.obj.spec |
	some s in workspace_settings
	name := workspace_of(s)
}

selects_ws(sel, name) if sel.name == name

selects_ws(sel, _) if sel.name == "*"

selects_ws(sel, name) if {
	not sel.name
	every k, v in sel.selector {
		ws_labels[name][k] == v
	}
}

kind_names := {
	"SERVICE": "Service",
	"EXTERNAL_SERVICE": "ExternalService",
	"ROUTE_TABLE": "RouteTable",
	"VIRTUAL_DESTINATION": "VirtualDestination",
}

res_kind_ok(r, _) if not r.kind

res_kind_ok(r, _) if r.kind == "ALL"

res_kind_ok(r, e) if kind_names[r.kind] == e.obj.kind

res_matches(r, e) if {
	res_kind_ok(r, e)
	every k, v in object.get(r, "labels", {}) {
		labels(e)[k] == v
	}
	object.get(r, "name", e.obj.metadata.name) == e.obj.metadata.name
	object.get(r, "namespace", ns(e)) == ns(e)
}

res_ok(x, _) if not x.resources

res_ok(x, e) if {
	some r in x.resources
	res_matches(r, e)
}

exports(owner, to, e) if {
	some x in settings_of[owner].exportTo
	some w in x.workspaces
	selects_ws(w, to)
	res_ok(x, e)
}

imports(ws, owner, e) if {
	some x in settings_of[ws].importFrom
	some w in x.workspaces
	selects_ws(w, owner)
	res_ok(x, e)
}

# Is object `e` usable from workspace `ws`?
visible(e, ws) if workspace_of(e) == ws

visible(e, ws) if {
	owner := workspace_of(e)
	owner != ws
	exports(owner, ws, e)
	imports(ws, owner, e)
}

# "Kind/cluster/namespace/name" -> object, for reference lookups.
by_key := {k: e |
	some e in input.objects
	k := sprintf("%s/%s/%s/%s", [e.obj.kind, e.cluster, ns(e), e.obj.metadata.name])
}

dest_kinds := {"SERVICE": "Service", "EXTERNAL_SERVICE": "ExternalService", "VIRTUAL_DESTINATION": "VirtualDestination"}

# Delegated (host-less) tables per namespace.
children := [e | some e in route_tables; count(object.get(e.obj.spec, "hosts", [])) == 0]

child_namespaces := {ns(c) | some c in children}

children_by_ns := {n: [c | some c in children; ns(c) == n] | some n in child_namespaces}

selected_children(parent, sel) := [c |
	some c in object.get(children_by_ns, object.get(sel, "namespace", ns(parent)), [])
	every k, v in object.get(sel, "labels", {}) {
		labels(c)[k] == v
	}
	object.get(sel, "name", c.obj.metadata.name) == c.obj.metadata.name
]

# Values that occur more than once in a list, in O(n log n): sort and compare neighbours.
duplicates(xs) := {s[i] |
	s := sort(xs)
	some i in numbers.range(1, count(s) - 1)
	s[i] == s[i - 1]
}
