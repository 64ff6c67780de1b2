"""Test infrastructure for the Argo Workflows backend: strict validator, local harness, S3."""
