# An ExternalService has hosts or addresses, not both; addresses are IPs or CIDRs, unique
# within a workspace; hosts are DNS names with a wildcard only in the left-most label.
package meshform.external_service_hosts

import data.meshform.lib

host_re := `^(\*|\*?[a-zA-Z0-9-]*)?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*\.?$`

label_re := `^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`

deny contains msg if {
	some es in lib.external_services
	count(object.get(es.obj.spec, "hosts", [])) > 0
	count(object.get(es.obj.spec, "addresses", [])) > 0
	msg := sprintf("%s: hosts and addresses are mutually exclusive", [lib.where(es)])
}

deny contains msg if {
	some es in lib.external_services
	count(object.get(es.obj.spec, "hosts", [])) == 0
	count(object.get(es.obj.spec, "addresses", [])) == 0
	msg := sprintf("%s: one of hosts or addresses is required", [lib.where(es)])
}

valid_address(a) if net.cidr_is_valid(a)

valid_address(a) if {
	not contains(a, "/")
	not contains(a, ":")
	net.cidr_is_valid(concat("", [a, "/32"]))
}

valid_address(a) if {
	not contains(a, "/")
	contains(a, ":")
	net.cidr_is_valid(concat("", [a, "/128"]))
}

deny contains msg if {
	some es in lib.external_services
	some a in object.get(es.obj.spec, "addresses", [])
	not valid_address(a)
	msg := sprintf("%s: %s is not an IP address or CIDR", [lib.where(es), a])
}

addr_keys := [sprintf("%s|%s", [lib.workspace_of(es), a]) |
	some es in lib.external_services
	some a in object.get(es.obj.spec, "addresses", [])
]

deny contains msg if {
	some k in lib.duplicates(addr_keys)
	msg := sprintf("address used twice in one workspace: %s", [k])
}

valid_host(h) if {
	count(h) <= 255
	labels := split(trim_suffix(trim_prefix(h, "*."), "."), ".")
	every i, l in labels {
		count(l) <= 63
		regex.match(label_re, l)
	}
}

valid_host(h) if {
	# *foo.example.com: a wildcard prefix inside the left-most label.
	startswith(h, "*")
	not startswith(h, "*.")
	rest := split(h, ".")
	regex.match(`^\*[a-zA-Z0-9-]*$`, rest[0])
	every l in array.slice(rest, 1, count(rest)) {
		regex.match(label_re, l)
	}
}

deny contains msg if {
	some es in lib.external_services
	some h in object.get(es.obj.spec, "hosts", [])
	not valid_host(h)
	msg := sprintf("%s: %s is not a valid host name", [lib.where(es), h])
}
