"""Helpers shared by the test suites (real servers started for tests, and the like)."""
