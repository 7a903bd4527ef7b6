# Gloo 2.6's six RouteTable rules (docs/policies.md, "Built-in policies"), with Gloo's messages.
package meshform.route_table_rules

import data.meshform.lib

delegated(e) if count(object.get(e.obj.spec, "hosts", [])) == 0

deny contains msg if {
	some e in lib.route_tables
	delegated(e)
	e.obj.spec.virtualGateways
	msg := sprintf("%s: The virtualGateways field must be empty or unset for delegated RouteTables.", [lib.where(e)])
}

deny contains msg if {
	some e in lib.route_tables
	delegated(e)
	e.obj.spec.applyToDestinations
	msg := sprintf("%s: The applyToDestinations field must be empty or unset for delegated RouteTables.", [lib.where(e)])
}

deny contains msg if {
	some e in lib.route_tables
	delegated(e)
	e.obj.spec.failureMode
	msg := sprintf("%s: The failureMode field must be empty or unset for delegated RouteTables.", [lib.where(e)])
}

deny contains msg if {
	some e in lib.route_tables
	not e.obj.spec.http
	not e.obj.spec.tcp
	not e.obj.spec.tls
	msg := sprintf("%s: At least one of http, tcp, or tls keys must be set.", [lib.where(e)])
}

has_forward(e) if {
	some r in e.obj.spec.http
	r.forwardTo
}

deny contains msg if {
	some e in lib.route_tables
	e.obj.spec.defaultDestination
	not has_forward(e)
	msg := sprintf("%s: defaultDestination can only be set for http routes with forwardTo actions.", [lib.where(e)])
}

deny contains msg if {
	some e in lib.route_tables
	some r in object.get(e.obj.spec, "http", [])
	count(r.forwardTo.destinations) == 0
	not e.obj.spec.defaultDestination
	msg := sprintf("%s: defaultDestination must be set when http forwardTo actions without destinations are specified.", [lib.where(e)])
}
