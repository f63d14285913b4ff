# Conftest-compatible guardrails for the Kubernetes manifests idp generates. Every generated file
# is parsed as data and given as `input`, one YAML document at a time, exactly as
# `conftest test` would; so these rules run unchanged under conftest, and a team's existing
# conftest policies can be dropped into this folder.
#
# deny_<name> stops the operation (a waiver for rule `deny_<name>` turns it into an allowed,
# recorded exception); warn_<name> is reported in the receipt; `exception` lists rule names
# (without the deny_/warn_ prefix) that do not apply to an input.
package main

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "Job"}

pod_spec := input.spec.template.spec if input.kind in workload_kinds

deny_privileged contains msg if {
	some c in pod_spec.containers
	c.securityContext.privileged == true
	msg := sprintf("%s %s: container %s must not run privileged", [input.kind, input.metadata.name, c.name])
}

deny_run_as_root contains msg if {
	not pod_spec.securityContext.runAsNonRoot
	some c in pod_spec.containers
	not c.securityContext.runAsNonRoot
	msg := sprintf("%s %s: container %s must set runAsNonRoot", [input.kind, input.metadata.name, c.name])
}

deny_host_namespaces contains msg if {
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	pod_spec[field] == true
	msg := sprintf("%s %s: %s is not allowed", [input.kind, input.metadata.name, field])
}

deny_privilege_escalation contains msg if {
	some c in pod_spec.containers
	not c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("%s %s: container %s must set allowPrivilegeEscalation: false", [input.kind, input.metadata.name, c.name])
}

warn_missing_probes contains msg if {
	input.kind == "Deployment"
	some c in pod_spec.containers
	not c.readinessProbe
	msg := sprintf("Deployment %s: container %s has no readinessProbe", [input.metadata.name, c.name])
}
