"""Function packaging and invocation: zip a folder, run its handler in warm workers like AWS Lambda.

Modules are imported by their users (`from pinflow.functions import invoker`), not here, so that a
worker process starts without loading the invoker's machinery.
"""

__all__ = ["errors", "invoker", "lambda_context", "package", "pool", "protocol", "runtimes", "sandbox", "spawner",
           "worker_main"]
