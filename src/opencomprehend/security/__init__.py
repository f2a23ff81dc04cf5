"""Secrets the operator manages: the master key, API credentials, data access roles and the KMS keyring."""
