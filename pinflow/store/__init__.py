"""Persistence: one small store seam over SQLite (the embedded default) and PostgreSQL."""

from pinflow.store.base import Store, Tx, open_store

__all__ = ["Store", "Tx", "open_store"]
