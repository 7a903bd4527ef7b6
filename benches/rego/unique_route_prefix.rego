# No two HTTP routes, across all RouteTables and including delegated children under their
# parent's hosts, match the same host with the same prefix and the same other matchers.
package meshform.unique_route_prefix

import data.meshform.lib

other(m) := json.marshal(object.remove(m, ["uri"]))

# host|prefix|other-matchers|place, for every prefix matcher reachable from a host.
entries contains [key, lib.where(e)] if {
	some e in lib.route_tables
	some host in object.get(e.obj.spec, "hosts", [])
	some r in object.get(e.obj.spec, "http", [])
	some m in object.get(r, "matchers", [])
	key := sprintf("%s|%s|%s", [host, m.uri.prefix, other(m)])
}

entries contains [key, lib.where(c)] if {
	some e in lib.route_tables
	count(object.get(e.obj.spec, "hosts", [])) > 0
	some r in object.get(e.obj.spec, "http", [])
	some sel in r.delegate.routeTables
	some c in lib.selected_children(e, sel)
	some host in e.obj.spec.hosts
	some cr in object.get(c.obj.spec, "http", [])
	some m in object.get(cr, "matchers", [])
	key := sprintf("%s|%s|%s", [host, m.uri.prefix, other(m)])
}

dups := lib.duplicates([k | some [k, _] in entries])

deny contains msg if {
	some k in dups
	places := sort([w | some [k2, w] in entries; k2 == k])
	msg := sprintf("%s: duplicate route prefix %s (also at %s)", [places[0], k, places[1]])
}
