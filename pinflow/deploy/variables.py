"""Serverless Framework variables in a project file: `${self:...}`, `${sls:stage}`, `${file(...)}`, ...

Supported sources: `self:` (a path in the project file), `sls:stage`, `opt:stage` / `opt:region`,
`aws:region`, `aws:accountId`, `env:NAME`, `file(path)` with an optional `:path.in.file`, and
`strToBool(...)`. A fallback follows a comma: `${opt:stage, 'dev'}`, `${env:A, ${env:B}, 'x'}`.
Anything in `${...}` that names none of Serverless's sources (`${AWS::Region}`, `${hello.Arn}` in a
`Fn::Sub`) is CloudFormation's business and is left as it is.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pinflow.deploy import yamlfile
from pinflow.deploy.yamlfile import ProjectError, YamlList, YamlMap

OURS = ("self:", "sls:", "opt:", "aws:", "env:", "file(", "strToBool(")
# Sources Serverless knows that need a cloud account: named so the error says why.
UNSUPPORTED = ("cf:", "cf(", "ssm:", "ssm(", "s3:", "param:", "secretsmanager:")
MAX_DEPTH = 32
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@dataclass
class Context:
    """What variables resolve against."""

    root: Any
    base_dir: Path
    stage: str | None = None
    region: str | None = None
    account: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    environ: Callable[[str], str | None] = os.environ.get
    _files: dict[Path, Any] = field(default_factory=dict)


def resolve_tree(value: Any, context: Context, path: str = "", *, depth: int = 0) -> Any:
    """A copy of `value` with every Serverless variable in its strings resolved; locations are kept.

    Raises:
        ProjectError: a variable that cannot be resolved, located at the string holding it.
    """
    if depth > MAX_DEPTH:
        raise ProjectError("variables refer to each other in a loop", path=path)
    if isinstance(value, YamlMap):
        made = yamlfile.new_map(value.file, value.line)
        made.owner_line = value.owner_line
        for key, item in value.items():
            with _located(value.file, value.line_of(key)):
                made[key] = resolve_tree(item, context, _join(path, key), depth=depth)
            made.key_lines[key] = value.key_lines.get(key, value.line or 0)
        return made
    if isinstance(value, YamlList):
        listed = yamlfile.new_list(value.file, value.line)
        for index, item in enumerate(value):
            with _located(value.file, value.line_of(index)):
                listed.append(resolve_tree(item, context, f"{path}[{index}]", depth=depth))
            listed.item_lines.append(value.line_of(index))
        return listed
    if isinstance(value, dict):
        return {key: resolve_tree(item, context, _join(path, key), depth=depth)
                for key, item in value.items()}
    if isinstance(value, list):
        return [resolve_tree(item, context, f"{path}[{index}]", depth=depth)
                for index, item in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return resolve_text(value, context, path, depth=depth)
    return value


def resolve_text(text: str, context: Context, path: str = "", *, depth: int = 0) -> Any:
    """One string's variables resolved. A string that is exactly one variable takes the variable's
    value whatever its type (a mapping from `${file(...)}`, a number); otherwise values are
    written into the text.

    Raises:
        ProjectError: an unresolvable variable or an unsupported source.
    """
    spans = _spans(text)
    if not spans:
        return text
    if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(text):
        found, value = _variable(text[2:-1], context, path, depth)
        return value if found else text
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        found, value = _variable(text[start + 2:end - 1], context, path, depth)
        if not found:
            pieces.append(text[start:end])
        elif isinstance(value, dict | list):
            raise ProjectError(f"{text[start:end]} is a mapping or a list and cannot be part of a text",
                               path=path)
        else:
            pieces.append(_as_text(value))
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


@contextmanager
def _located(file: str | None, line: int | None) -> Iterator[None]:
    """Give an error raised inside without a location the location of the value being resolved."""
    try:
        yield
    except ProjectError as exc:
        if exc.file is None and exc.line is None:
            exc.file, exc.line = file, line
        raise


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each top-level `${...}`, braces balanced so nested variables stay inside."""
    spans: list[tuple[int, int]] = []
    index = 0
    while True:
        start = text.find("${", index)
        if start < 0:
            return spans
        depth, cursor = 0, start + 1
        while cursor < len(text):
            char = text[cursor]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    break
            cursor += 1
        if depth != 0:
            return spans  # an unclosed `${`: not a variable
        spans.append((start, cursor + 1))
        index = cursor + 1


def _split_fallbacks(inner: str) -> list[str]:
    """`a, 'b', ${c}` -> ["a", "'b'", "${c}"], splitting only at top-level commas outside quotes."""
    parts: list[str] = []
    depth, quote, current = 0, "", []
    for char in inner:
        if quote:
            current.append(char)
            if char == quote:
                quote = ""
            continue
        if char in "'\"":
            quote = char
        elif char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def is_ours(inner: str) -> bool:
    """Whether `${inner}` is a Serverless variable (as opposed to CloudFormation's `${AWS::Region}`)."""
    head = inner.lstrip()
    return head.startswith(OURS) or head.startswith(UNSUPPORTED)


def _variable(inner: str, context: Context, path: str, depth: int) -> tuple[bool, Any]:
    """(True, value) for a Serverless variable; (False, None) for text that is not one."""
    if not is_ours(inner):
        return False, None
    alternatives = _split_fallbacks(inner)
    for alternative in alternatives:
        value = _alternative(alternative, context, path, depth)
        if value is not None:
            return True, value
    raise ProjectError(f"cannot resolve variable ${{{inner}}}", path=path)


def _alternative(text: str, context: Context, path: str, depth: int) -> Any:
    """The value of one alternative of a variable, None when it has none."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if _NUMBER.fullmatch(text):
        return json.loads(text)
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if text.startswith("strToBool(") and text.endswith(")"):
        inner = text[len("strToBool("):-1].strip()
        resolved = _alternative(inner, context, path, depth + 1) if inner else None
        if resolved is None and inner and "${" not in inner:
            resolved = inner  # a bare word: strToBool(true)
        return str(resolved).strip().lower() in ("true", "1", "yes")
    if text.startswith("file(") and "${" in text:
        text = str(resolve_text(text, context, path, depth=depth + 1))
    elif "${" in text:
        return resolve_text(text, context, path, depth=depth + 1)
    if text.startswith(UNSUPPORTED):
        raise ProjectError(f"variable source {text.split(':')[0].split('(')[0]!r} needs AWS and is not "
                           "supported by pinflow", path=path)
    if text.startswith("self:"):
        return _self(text[5:], context, path, depth)
    if text.startswith("sls:"):
        return _known(text, {"sls:stage": context.stage}, path)
    if text.startswith("opt:"):
        return context.options.get(text[4:])
    if text.startswith("aws:"):
        return _known(text, {"aws:region": context.region, "aws:accountId": context.account}, path)
    if text.startswith("env:"):
        return context.environ(text[4:])
    if text.startswith("file("):
        return _file(text, context, path, depth)
    raise ProjectError(f"unknown variable ${{{text}}}", path=path)


def _known(text: str, values: dict[str, Any], path: str) -> Any:
    if text not in values:
        raise ProjectError(f"unknown variable ${{{text}}} (known: {', '.join(sorted(values))})", path=path)
    value = values[text]
    if value is None:
        raise ProjectError(f"${{{text}}} is not known yet here", path=path)
    return value


def _self(address: str, context: Context, path: str, depth: int) -> Any:
    found = _lookup(context.root, address)
    if found is None:
        return None
    return resolve_tree(found, context, path, depth=depth + 1)


def _lookup(value: Any, address: str) -> Any:
    for part in [piece for piece in address.split(".") if piece]:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _file(text: str, context: Context, path: str, depth: int) -> Any:
    close = text.find(")")
    if close < 0:
        raise ProjectError(f"${{{text}}}: no closing parenthesis", path=path)
    name = text[len("file("):close].strip().strip("'\"")
    address = text[close + 1:].lstrip(":")
    target = (context.base_dir / name).resolve()
    if target not in context._files:
        context._files[target] = _load_file(target, context.base_dir, path)
    loaded = context._files[target]
    value = _lookup(loaded, address) if address else loaded
    if value is None:
        return None
    return resolve_tree(value, context, path, depth=depth + 1)


def _load_file(target: Path, base_dir: Path, path: str) -> Any:
    try:
        label = str(target.relative_to(base_dir.resolve()))
    except ValueError:
        label = str(target)
    if not target.is_file():
        raise ProjectError(f"file not found: {label}", path=path)
    try:
        return yamlfile.load(target, label)
    except ProjectError:
        if target.suffix != ".json":
            raise
        # JSON that YAML refuses (tabs, for one) still loads, without line numbers.
        try:
            return json.loads(target.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ProjectError(f"not valid JSON: {exc}", file=label) from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
