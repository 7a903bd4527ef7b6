# Every rule in one evaluation, so the shared indexes in lib.rego are built once
# (regorus resets its rule cache between `eval_rule` calls).
package meshform.all

deny := (((((data.meshform.unique_route_prefix.deny | data.meshform.wildcard_endpoints.deny) | data.meshform.external_service_hosts.deny) | data.meshform.references.deny) | data.meshform.weights.deny) | data.meshform.route_table_rules.deny) | data.meshform.ports.deny

warn := data.meshform.shadowed_route.warn

result := {"deny": deny, "warn": warn}
