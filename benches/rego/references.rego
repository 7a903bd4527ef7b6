# Every forwardTo destination and delegate selector resolves to an object visible to the
# RouteTable's workspace (import and export both checked).
package meshform.references

import data.meshform.lib

destinations(e) := [d |
	some r in object.get(e.obj.spec, "http", [])
	some d in r.forwardTo.destinations
]

target_key(e, d) := sprintf("%s/%s/%s/%s", [
	lib.dest_kinds[object.get(d, "kind", "SERVICE")],
	object.get(d.ref, "cluster", e.cluster),
	object.get(d.ref, "namespace", lib.ns(e)),
	d.ref.name,
])

deny contains msg if {
	some e in lib.route_tables
	some d in destinations(e)
	k := target_key(e, d)
	not lib.by_key[k]
	msg := sprintf("%s: destination %s not found", [lib.where(e), k])
}

deny contains msg if {
	some e in lib.route_tables
	some d in destinations(e)
	k := target_key(e, d)
	t := lib.by_key[k]
	not lib.visible(t, lib.workspace_of(e))
	msg := sprintf("%s: destination %s is not visible in workspace %s", [lib.where(e), k, lib.workspace_of(e)])
}

deny contains msg if {
	some e in lib.route_tables
	some r in object.get(e.obj.spec, "http", [])
	some sel in r.delegate.routeTables
	ws := lib.workspace_of(e)
	count([c | some c in lib.selected_children(e, sel); lib.visible(c, ws)]) == 0
	msg := sprintf("%s: delegate selector %v selects no visible RouteTable", [lib.where(e), sel])
}
