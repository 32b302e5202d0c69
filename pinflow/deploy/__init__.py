"""Deploys of a project (a `pinflow.yml` or `serverless.yml` subset) through a pinflow server's API.

`project` reads the file, `package` zips functions deterministically, `rewrite` resolves intrinsics
and pins function references, `plan` computes what a deploy changes and what that does to running
executions, `apply` carries it out, `gc` deletes versions nothing needs, `demo` plays the story.
"""

__all__ = ["apply", "clients", "demo", "gc", "observe", "package", "plan", "project", "report", "rewrite",
           "roles", "variables", "yamlfile"]
