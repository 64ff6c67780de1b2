"""Running flows: fan-out arithmetic, running one task, the shim commands, the local executor."""
