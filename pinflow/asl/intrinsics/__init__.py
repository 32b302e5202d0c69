"""The `States.*` intrinsic functions of JSONPath states: parse a call once, evaluate it many times."""

from pinflow.asl.intrinsics.evaluator import evaluate
from pinflow.asl.intrinsics.nodes import Arg, Call, IntrinsicSyntaxError, Literal, PathArg
from pinflow.asl.intrinsics.parser import MAX_DEPTH, looks_like_intrinsic, parse
from pinflow.asl.intrinsics.registry import FUNCTIONS

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "Arg",
    "Call",
    "IntrinsicSyntaxError",
    "Literal",
    "PathArg",
    "evaluate",
    "looks_like_intrinsic",
    "parse",
]
