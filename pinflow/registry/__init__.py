"""The immutable things: function versions and code, state machine revisions, versions and aliases,
roles and their policies, activities. Nothing a running execution holds can be deleted or changed.

Modules are imported by their users (`from pinflow.registry import functions`).
"""

__all__ = [
    "activities",
    "counters",
    "functions",
    "lambda_shapes",
    "machine_aliases",
    "paging",
    "refs",
    "roles",
    "sfn_shapes",
    "state_machines",
    "tags",
]
