# An ExternalService with a wildcard host must select at least one ExternalEndpoint in a
# namespace it can see.
package meshform.wildcard_endpoints

import data.meshform.lib

ee_namespaces := {lib.ns(x) | some x in lib.external_endpoints}

ee_by_ns := {n: [x | some x in lib.external_endpoints; lib.ns(x) == n] | some n in ee_namespaces}

selects(es) if {
	sel := es.obj.spec.selector
	count(sel) > 0
	some x in object.get(ee_by_ns, lib.ns(es), [])
	every k, v in sel {
		lib.labels(x)[k] == v
	}
}

deny contains msg if {
	some es in lib.external_services
	some h in object.get(es.obj.spec, "hosts", [])
	startswith(h, "*")
	not selects(es)
	msg := sprintf("%s: wildcard host %s selects no ExternalEndpoint", [lib.where(es), h])
}
