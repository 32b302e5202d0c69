"""Repositories: one module per aggregate, the only code that runs the store's named queries.

Each module's functions take an open transaction (`pinflow.store.Tx`) and keyword-only parameters, and
return typed rows (frozen dataclasses whose fields are the query's columns). The engine and the
registry call these functions; neither runs SQL nor reads another aggregate's tables directly.
"""
