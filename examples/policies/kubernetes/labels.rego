# conftest-style (Rego v0) rules on Kubernetes manifests: every Deployment names its app, and
# a single replica is worth a warning.
# Run: bulwark config deploy/ --policy examples/policies/kubernetes
package main

deny[msg] {
	input.kind == "Deployment"
	not input.spec.template.metadata.labels["app.kubernetes.io/name"]
	msg := sprintf("Deployment %s has no app.kubernetes.io/name label on its pods", [input.metadata.name])
}

warn[msg] {
	input.kind == "Deployment"
	input.spec.replicas < 2
	msg := sprintf("Deployment %s runs a single replica", [input.metadata.name])
}
