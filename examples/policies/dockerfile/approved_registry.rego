# Base images must come from the organisation's registry (or be distroless or scratch).
# Run: bulwark config Dockerfile --policy examples/policies/dockerfile
package main

import rego.v1

approved := ["registry.example.com/", "gcr.io/distroless/"]

deny contains finding if {
	some instr in input
	instr.cmd == "from"
	image := instr.args[0]
	image != "scratch"
	not from_approved(image)
	not earlier_stage(image)
	finding := {
		"id": "ORG-DF-001",
		"msg": sprintf("base image %s is not from an approved registry", [image]),
		"severity": "high",
		"line": instr.line,
	}
}

from_approved(image) if {
	some prefix in approved
	startswith(image, prefix)
}

earlier_stage(name) if {
	some instr in input
	instr.cmd == "from"
	count(instr.args) == 3
	lower(instr.args[2]) == lower(name)
}
