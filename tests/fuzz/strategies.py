"""Hypothesis strategies for the members of any operation, drawn from botocore's shape of each.

Values are mostly of the member's type (so that botocore can write the request), drawn from a mix
of names and ARNs of resources that exist, good values, and the ones that have broken servers:
lone surrogates, control characters, digits that are not ASCII, numbers past 64 bits, deep JSON.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

from botocore.model import Shape
from hypothesis import strategies as st

ACCOUNT = "123456789012"
MACHINE_ARN = f"arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/fuzz-a"
AWS_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaRole"

# Members naming what an operation acts on: with `only_good`, the playground's resource.
_NAMES = frozenset({"functionname", "rolename", "policyname", "policyarn", "resource", "resourcearn",
                    "statemachinearn", "statemachinealiasarn", "statemachineversionarn", "executionarn",
                    "activityarn", "name"})
# Good values of members that take one of a few forms.
_PLAIN = {"statementid": ["s", "fuzz-a"], "action": ["lambda:InvokeFunction", "lambda:*"],
          "principal": ["events.amazonaws.com", "*", ACCOUNT], "sourceaccount": [ACCOUNT]}
# Optional members a request rarely gets far without: drawn more often than the others.
_PREFERRED = frozenset({"ZipFile", "Runtime", "Handler", "Role", "definition", "roleArn", "Publish",
                        "FunctionVersion", "routingConfiguration", "input", "Description", "description",
                        "Qualifier"})
# What has broken a server, one way or another.
NASTY_TEXT = (
    "\ud800", "a\udfffb", "\x00", "a\x01b", "\x1b[31m", "\ufffe", "²", "\u0661\u0662", "99999999999999999999",
    "-1", "", " ", "*", "?", "../../bin/sh", "$LATEST", "%00", "%ED%A0%80", "<x>&amp;", "\"'", "\n",
    "é" * 300, "a" * 2049, "arn:", "arn:aws:states:::", "::::", "null", "{}", "[1]",
)
NASTY_INTEGERS = (0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**30)
# Pieces that turn a good value into one that passes a first look (its prefix, its first character)
# and breaks what parses the rest: digits that are not ASCII, leading zeros, numbers past each store's
# integers, thousands of digits, a lone surrogate, a dot, a space.
MUTATIONS = ("²", "\u0661", "0", "00", "9" * 30, "3000000000", "2147483648", "9" * 5000, "\ud800", ".", " ", "-", "$")
# JSON texts for members that hold JSON (definitions, inputs, policies).
NASTY_JSON_TEXT = (
    "", "{", "[]", "null", '{"a": "\\ud800"}', '"\\udc00"', "[" * 3000 + "]" * 3000,
    '{"a":' * 2000 + "1" + "}" * 2000, "NaN", '{"a": 1e999}', "1" * 400,
)


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


ECHO_ZIP = _zip("def handler(event, context):\n    return event\n")
PASS_DEFINITION = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": f"{FUNCTION_ARN}*"}]})
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def task_definition(function: str) -> str:
    return json.dumps({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": f"{FUNCTION_ARN}{function}",
                                                        "End": True}}})


class Pool:
    """Names and ARNs the fuzzer may use: of resources made before the run, and of its own."""

    def __init__(self, protected: dict[str, list[str]]) -> None:
        self.protected = protected
        self.names = ["fuzz-a", "fuzz-b", "fuzz_c", "live", "1", "2"]
        self.arns = [f"{MACHINE_ARN}fuzz-a", f"{MACHINE_ARN}fuzz-a:1", f"{MACHINE_ARN}fuzz-a:live",
                     f"{FUNCTION_ARN}fuzz-a", f"{FUNCTION_ARN}fuzz-a:1", f"{ROLE_ARN}fuzz-a",
                     f"arn:aws:states:us-east-1:{ACCOUNT}:execution:fuzz-a:x",
                     f"arn:aws:states:us-east-1:{ACCOUNT}:activity:fuzz-a", POLICY_ARN]

    def identifiers(self) -> st.SearchStrategy[str]:
        every = [*self.names, *self.arns, *(v for values in self.protected.values() for v in values)]
        return st.sampled_from(every)


def text(pool: Pool) -> st.SearchStrategy[str]:
    """Any string: mostly identifiers and plain names (so that requests get past the door and reach
    resources), then nasty values and Hypothesis's own (lone surrogates included)."""
    return st.one_of(
        pool.identifiers(),
        pool.identifiers(),
        st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True),
        st.sampled_from(NASTY_TEXT),
        st.text(st.characters(exclude_categories=()), max_size=12),
    )


def _change(value: str, piece: str, where: int) -> str:
    head, tail = value[:1], value[1:]
    return (head + piece + tail, head + piece, value + piece)[where]


def mutated(good: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A good value changed a little: a piece of MUTATIONS put after its first character, in place of
    everything after it, or at its end (`v1` becomes `v01`, `v²`, `v` and thirty nines, `v1²`, ...)."""
    return st.builds(_change, good, st.sampled_from(MUTATIONS), st.integers(0, 2))


def _strings(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The paths of the strings in a request's members."""
    if isinstance(value, str):
        return [path]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [found for key, item in items for found in _strings(item, (*path, key))]


def _replaced(value: Any, path: tuple[Any, ...], new: str) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def one_mutated(params: Any) -> st.SearchStrategy[Any]:
    """`params` with exactly one of its strings changed a little (see `mutated`), the rest as they were:
    a request that gets past every check but the one that member's value meets."""
    paths = _strings(params)
    if not paths:
        return st.just(params)

    def change(path: tuple[Any, ...], piece: str, where: int) -> Any:
        current = params
        for key in path:
            current = current[key]
        return _replaced(params, path, _change(current, piece, where))

    return st.builds(change, st.sampled_from(paths), st.sampled_from(MUTATIONS), st.integers(0, 2))


def _string(shape: Shape, member: str, pool: Pool, only_good: bool) -> st.SearchStrategy[str]:
    """A string for `member`: a good value of its kind half the time when there is one, so that
    requests get through and make resources for later ones to act on, and a mutated one a third of it.
    With `only_good`, a good value always (a plain word where the member has none; the playground's
    resource where it names one), so that the request reaches what it names."""
    lowered = member.lower()
    good: list[st.SearchStrategy[str]] = []
    if shape.enum:
        good.append(st.sampled_from(list(shape.enum)))
    if lowered == "definition":
        good.append(st.sampled_from([PASS_DEFINITION, task_definition("fuzz-a"), *NASTY_JSON_TEXT]))
    elif lowered in ("input", "output") or lowered.endswith("document"):
        good.append(st.sampled_from(['{"n": 1}', POLICY, TRUST, *NASTY_JSON_TEXT]))
    elif lowered == "runtime":
        good.append(st.sampled_from(["python3.11", "python3.12", "nodejs20.x"]))
    elif lowered == "handler":
        good.append(st.just("app.handler"))
    elif lowered in ("role", "rolearn"):
        good.append(st.sampled_from([f"{ROLE_ARN}fuzz-a", *pool.protected.get("role", [])]))
    elif lowered in ("functionname", "name", "rolename", "policyname", "functionversion"):
        good.append(st.sampled_from(["fuzz-a", "fuzz-b", "live", "1"] if lowered != "functionversion" else
                                    ["1", "2", "$LATEST"]))
    elif lowered == "versionid":
        good.append(st.sampled_from(["v1", "v2", "v3"]))
    elif lowered == "qualifier":
        good.append(st.sampled_from(["1", "2", "live", "$LATEST"]))
    elif lowered == "policyarn":
        good.append(st.sampled_from([POLICY_ARN, AWS_POLICY_ARN, *pool.protected.get("policy", [])]))
    elif lowered in _PLAIN:
        good.append(st.sampled_from(_PLAIN[lowered]))
    if not good:
        return st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True) if only_good else text(pool)
    if only_good and lowered in _NAMES:
        return st.sampled_from([POLICY_ARN if lowered == "policyarn" else "fuzz-a"])  # the playground's
    if only_good:
        return st.one_of(*good)
    changed = mutated(st.one_of(*good))
    return st.one_of(*good, *good, *good, changed, changed, text(pool))


def value(shape: Shape, pool: Pool, member: str = "", depth: int = 0,
          only_good: bool = False) -> st.SearchStrategy[Any]:
    """A value for `shape` (mostly of its type, so that botocore can serialize it); with `only_good`,
    its strings are good values (see `_string`)."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 3:
            return st.just({})
        required = {name: value(m, pool, name, depth + 1, only_good) for name, m in shape.members.items()
                    if name in shape.required_members}
        optional = {name: value(m, pool, name, depth + 1, only_good) for name, m in shape.members.items()
                    if name not in shape.required_members}
        preferred = {name: strategy for name, strategy in optional.items() if name in _PREFERRED}
        others = sorted(name for name in optional if name not in _PREFERRED)
        if not others:
            return st.fixed_dictionaries(required, optional=preferred)
        # A few other optional members at a time: with all of them drawn, some value is nearly always
        # wrong and the request never gets past validation.
        return st.sets(st.sampled_from(others), max_size=2).flatmap(
            lambda chosen: st.fixed_dictionaries({**required, **{name: optional[name] for name in sorted(chosen)}},
                                                 optional=preferred))
    if kind == "list":
        return st.lists(value(shape.member, pool, member, depth + 1, only_good), max_size=2 if depth < 3 else 0)
    if kind == "map":
        return st.dictionaries(text(pool), value(shape.value, pool, member, depth + 1, only_good), max_size=2)
    if kind == "string":
        return _string(shape, member, pool, only_good)
    if kind in ("integer", "long"):
        return st.one_of(st.integers(-5, 1000), st.sampled_from(NASTY_INTEGERS))
    if kind in ("float", "double"):
        return st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.just(1e300))
    if kind == "boolean":
        return st.booleans()
    if kind == "blob":
        return st.one_of(st.just(ECHO_ZIP), st.just(ECHO_ZIP), st.binary(max_size=20), st.just(b'{"n": 1}'))
    if kind == "timestamp":
        return st.sampled_from([0, 1_700_000_000, 4_000_000_000])
    return st.none()


# Values a JSON body may hold where botocore would have written something else.
WRONG_TYPES = st.sampled_from([
    [1], {"a": [1]}, 1, -1, 10**30, 1.5, True, None, "\ud800", "x", {"": "\ud800"},
    json.loads("[" * 500 + "]" * 500),
])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
