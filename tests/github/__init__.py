"""Test infrastructure for the GitHub Actions backend: act harness, offline action stand-ins."""
