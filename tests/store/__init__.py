"""Fault-injection tests of the datastore (issue 14): corruption, writers, signing, failures."""
