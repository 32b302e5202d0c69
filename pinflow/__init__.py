"""pinflow: a self-hosted Amazon States Language engine that pins each execution to what it started with."""

__version__ = "0.1.0"
