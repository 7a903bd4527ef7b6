# EXTERNAL_SERVICE never in tcp routes; port protocols in Gloo's set; ports 1..65535.
package meshform.ports

import data.meshform.lib

protocols := {"HTTP", "HTTPS", "GRPC", "HTTP2", "MONGO", "TCP", "TLS"}

deny contains msg if {
	some e in lib.route_tables
	some r in object.get(e.obj.spec, "tcp", [])
	some d in r.forwardTo.destinations
	d.kind == "EXTERNAL_SERVICE"
	msg := sprintf("%s: tcp routes cannot forward to an EXTERNAL_SERVICE", [lib.where(e)])
}

deny contains msg if {
	some es in lib.external_services
	some p in es.obj.spec.ports
	not protocols[upper(object.get(p, "protocol", ""))]
	msg := sprintf("%s: port %v: protocol must be one of %v", [lib.where(es), p.number, protocols])
}

deny contains msg if {
	some es in lib.external_services
	some p in es.obj.spec.ports
	not in_range(p.number)
	msg := sprintf("%s: port %v out of range 1..65535", [lib.where(es), p.number])
}

deny contains msg if {
	some x in lib.external_endpoints
	some p in object.get(x.obj.spec, "ports", [])
	not in_range(p.number)
	msg := sprintf("%s: port %v out of range 1..65535", [lib.where(x), p.number])
}

in_range(n) if {
	is_number(n)
	n >= 1
	n <= 65535
}
