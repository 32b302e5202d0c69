"""Amazon States Language: a pure interpreter (`step`), its in-memory drivers and the validator.

The three entry points external checks call, kept stable: `run`, `validate`, `test_state`.
"""

from pinflow.asl.definition import Definition, parse
from pinflow.asl.driver import Result, TaskError, run, test_state
from pinflow.asl.errors import AslError
from pinflow.asl.interpreter import SCHEMA_VERSION, Step, step
from pinflow.asl.validate import Diagnostic, validate

__all__ = [
    "SCHEMA_VERSION",
    "AslError",
    "Definition",
    "Diagnostic",
    "Result",
    "Step",
    "TaskError",
    "parse",
    "run",
    "step",
    "test_state",
    "validate",
]
