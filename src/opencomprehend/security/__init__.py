"""Secrets the operator manages: the master key, API credentials (and, later, the KMS keyring)."""
