"""Identity policies: documents, IAM wildcards and evaluation, checked before every invocation."""

from pinflow.iam import conditions, evaluate, policy, wildcard

__all__ = ["conditions", "evaluate", "policy", "wildcard"]
