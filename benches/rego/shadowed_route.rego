# A route that can never match because an earlier route of the same table matches everything
# it would (prefix `/` before `/db/`). Reported as a warning.
package meshform.shadowed_route

import data.meshform.lib

catch_all(m) if {
	object.keys(m) == {"uri"}
	object.keys(m.uri) == {"prefix"}
}

warn contains msg if {
	some e in lib.route_tables
	routes := object.get(e.obj.spec, "http", [])
	some j, later in routes
	some i, earlier in routes
	i < j
	some em in object.get(earlier, "matchers", [])
	catch_all(em)
	every lm in object.get(later, "matchers", [{"uri": {"prefix": "/"}}]) {
		startswith(object.get(object.get(lm, "uri", {}), "prefix", "/"), em.uri.prefix)
	}
	msg := sprintf("%s: route %v is shadowed by route %v", [lib.where(e), object.get(later, "name", j), object.get(earlier, "name", i)])
}
