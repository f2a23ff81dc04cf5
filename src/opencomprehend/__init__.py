"""OpenComprehend: a self-hosted, wire-compatible Amazon Comprehend entity detection service."""

__version__ = "0.1.0"
