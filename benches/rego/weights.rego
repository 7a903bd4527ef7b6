# forwardTo weights (docs/policies.md, routetable-weights): at most 100 in sum; a sum of 100 leaves nothing
# for unweighted destinations; a sum below 100 must leave at least 1 for each of them.
package meshform.weights

import data.meshform.lib

sum_of(f) := sum([object.get(d, "weight", 0) | some d in f.destinations])

unweighted(f) := count([d | some d in f.destinations; not d.weight])

deny contains msg if {
	some e in lib.route_tables
	some r in object.get(e.obj.spec, "http", [])
	f := r.forwardTo
	count(object.get(f, "destinations", [])) > 1
	sum_of(f) > 100
	msg := sprintf("%s: weights sum to %d, over 100", [lib.where(e), sum_of(f)])
}

deny contains msg if {
	some e in lib.route_tables
	some r in object.get(e.obj.spec, "http", [])
	f := r.forwardTo
	count(object.get(f, "destinations", [])) > 1
	sum_of(f) > 0
	unweighted(f) > 0
	100 - sum_of(f) < unweighted(f)
	msg := sprintf("%s: weights leave nothing for %d unweighted destination(s)", [lib.where(e), unweighted(f)])
}

deny contains msg if {
	some e in lib.route_tables
	some r in object.get(e.obj.spec, "http", [])
	f := r.forwardTo
	count(object.get(f, "destinations", [])) > 1
	unweighted(f) == 0
	sum_of(f) < 100
	msg := sprintf("%s: weights sum to %d, not 100", [lib.where(e), sum_of(f)])
}
