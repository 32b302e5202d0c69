"""JSONPath as Step Functions reads it: paths, reference paths, and setting a value at a path.

AWS evaluates paths with Jayway JsonPath semantics: a *definite* path (only names and indexes) selects
one node and fails when it is missing; an *indefinite* path (wildcards, deep scan, slices, unions,
filters) gathers every match into a list, which may be empty. Paths are compiled once and cached.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


class PathSyntaxError(ValueError):
    """A path that cannot be parsed, or a reference path that uses what only a path may use."""


class PathNotFound(LookupError):
    """A definite path selected nothing."""


# Segment kinds. A segment is a tuple (kind, argument); kinds are small strings for readability.
NAME = "name"  # argument: str
INDEX = "index"  # argument: int
WILDCARD = "wildcard"  # argument: None
DEEP = "deep"  # argument: the segment applied at every depth
UNION_NAMES = "names"  # argument: tuple[str, ...]
UNION_INDEXES = "indexes"  # argument: tuple[int, ...]
SLICE = "slice"  # argument: (start, stop, step)
FILTER = "filter"  # argument: a predicate callable


@dataclass(frozen=True, slots=True)
class Path:
    """A compiled path. `root` is "$" (input), "$$" (context) or a variable name."""

    text: str
    root: str
    segments: tuple[tuple[str, Any], ...]
    definite: bool

    @property
    def is_variable(self) -> bool:
        return self.root not in ("$", "$$")

    def find(self, document: Any) -> Any:
        """The value at this path in `document` (the input, the context object or the variable value).

        Raises:
            PathNotFound: a definite path selected nothing.
        """
        if self.definite:
            node = document
            for kind, arg in self.segments:
                if kind == NAME:
                    if type(node) is not dict or arg not in node:
                        raise PathNotFound(self.text)
                    node = node[arg]
                else:  # INDEX
                    if type(node) is not list:
                        raise PathNotFound(self.text)
                    try:
                        node = node[arg]
                    except IndexError:
                        raise PathNotFound(self.text) from None
            return node
        return list(_walk(document, self.segments, 0, document))

    def exists(self, document: Any) -> bool:
        """Whether the path selects something (IsPresent)."""
        try:
            found = self.find(document)
        except PathNotFound:
            return False
        return self.definite or bool(found)


def _walk(node: Any, segments: tuple[tuple[str, Any], ...], i: int, root: Any) -> Iterator[Any]:
    if i == len(segments):
        yield node
        return
    kind, arg = segments[i]
    for child in _step(node, kind, arg, root):
        yield from _walk(child, segments, i + 1, root)


def _children(node: Any) -> list[Any]:
    if type(node) is dict:
        return list(node.values())
    if type(node) is list:
        return list(node)
    return []


def _step(node: Any, kind: str, arg: Any, root: Any) -> Iterator[Any]:
    """The children `node` leads to through one segment; `root` is the document a filter's `$` reads."""
    if kind == NAME:
        if type(node) is dict and arg in node:
            yield node[arg]
    elif kind == INDEX:
        if type(node) is list and -len(node) <= arg < len(node):
            yield node[arg]
    elif kind == WILDCARD:
        yield from _children(node)
    elif kind == UNION_NAMES:
        if type(node) is dict:
            for name in arg:
                if name in node:
                    yield node[name]
    elif kind == UNION_INDEXES:
        if type(node) is list:
            for index in arg:
                if -len(node) <= index < len(node):
                    yield node[index]
    elif kind == SLICE:
        if type(node) is list:
            start, stop, step = arg
            yield from node[slice(start, stop, step)]
    elif kind == FILTER:
        if type(node) is list:
            for child in node:
                if arg(child, root):
                    yield child
        elif type(node) is dict and arg(node, root):
            # Jayway applies a filter to an object as to a one-element list.
            yield node
    elif kind == DEEP:
        inner_kind, inner_arg = arg
        yield from _deep(node, inner_kind, inner_arg, root)


def _deep(node: Any, kind: str, arg: Any, root: Any) -> Iterator[Any]:
    yield from _step(node, kind, arg, root)
    for child in _children(node):
        if type(child) in (dict, list):
            yield from _deep(child, kind, arg, root)


# --- parsing -------------------------------------------------------------------------------------

_VARIABLE_ROOT = re.compile(r"\$([^\W\d][\w]*)")
_LITERAL = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?(?![\w])|(true|false|null)(?![\w])")
_BARE_WORD = re.compile(r"[^\s=!<>&|()\[\]'\"]+")
# A filter's predicate reads the node under test and the document's root; an operand gives a value.
Predicate = Callable[[Any, Any], bool]
Operand = Callable[[Any, Any], Any]
_DOT_NAME = re.compile(r"[^.\[\]()\s'\"=<>!&|,]+")
# Outside a filter Jayway reads a name after a dot up to the next '.', '[' or '(' (a function), and
# refuses a space in it (PathCompiler.readPropertyOrFunctionToken).
_PATH_NAME = re.compile(r"[^.\[( ]+")
_INT = re.compile(r"-?\d+")


@functools.lru_cache(maxsize=4096)
def compile_path(text: str, *, reference: bool = False) -> Path:
    """Compile a JSONPath (`$...`), a context path (`$$...`) or a variable path (`$name...`).

    Args:
        text: the path.
        reference: require a reference path (AWS: dot and bracket notation selecting a single node).

    Raises:
        PathSyntaxError: the text is not a valid path (of the required kind).
    """
    if not isinstance(text, str) or not text.startswith("$"):
        raise PathSyntaxError(f"The path '{text}' does not start with '$'")
    # Jayway trims spaces (only spaces) from a path's end before reading it: AWS reads
    # "$$.Execution.Name " as "$$.Execution.Name" (CharacterIndex.trim). A leading space is no path:
    # Jayway looks at the first character before trimming and reads " $.v" as "$. $.v", which fails.
    source, text = text, text.rstrip(" ")
    if text.startswith("$$"):
        root, pos = "$$", 2
    else:
        match = _VARIABLE_ROOT.match(text)
        if match:
            root, pos = match.group(1), match.end()
        else:
            root, pos = "$", 1
    parser = _Parser(text, pos)
    segments = parser.parse_segments()
    definite = all(kind in (NAME, INDEX) for kind, _ in segments)
    if reference and not definite:
        raise PathSyntaxError(f"The path '{source}' is not a reference path")
    return Path(source, root, tuple(segments), definite)


def is_path(value: object) -> bool:
    """Whether `value` is a string that compiles as a path."""
    if not isinstance(value, str) or not value.startswith("$"):
        return False
    try:
        compile_path(value)
    except PathSyntaxError:
        return False
    return True


class _Parser:
    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos

    def error(self, why: str) -> PathSyntaxError:
        return PathSyntaxError(f"Invalid path '{self.text}': {why}")

    def parse_segments(self, stop: Callable[[], bool] | None = None) -> list[tuple[str, Any]]:
        segments: list[tuple[str, Any]] = []
        text = self.text
        while self.pos < len(text):
            if stop is not None and stop():
                break
            ch = text[self.pos]
            if text.startswith("..", self.pos):
                self.pos += 2
                if self.pos < len(text) and text[self.pos] == "[":
                    inner = self.parse_bracket()
                elif self.pos < len(text) and text[self.pos] == "*":
                    self.pos += 1
                    inner = (WILDCARD, None)
                else:
                    inner = (NAME, self.parse_dot_name(stop is None))
                segments.append((DEEP, inner))
            elif ch == ".":
                self.pos += 1
                if self.pos < len(text) and text[self.pos] == "*":
                    self.pos += 1
                    segments.append((WILDCARD, None))
                elif self.pos < len(text) and text[self.pos] == "[":
                    segments.append(self.parse_bracket())
                else:
                    segments.append((NAME, self.parse_dot_name(stop is None)))
            elif ch == "[":
                segments.append(self.parse_bracket())
            else:
                raise self.error(f"unexpected character {ch!r} at {self.pos}")
        return segments

    def parse_dot_name(self, outside_filter: bool = False) -> str:
        match = (_PATH_NAME if outside_filter else _DOT_NAME).match(self.text, self.pos)
        if not match:
            raise self.error(f"a name is expected at {self.pos}")
        self.pos = match.end()
        return match.group(0)

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def expect(self, ch: str) -> None:
        self.skip_spaces()
        if not self.text.startswith(ch, self.pos):
            raise self.error(f"{ch!r} expected at {self.pos}")
        self.pos += len(ch)

    def parse_quoted(self) -> str:
        quote = self.text[self.pos]
        self.pos += 1
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in (quote, "\\"):
                # Jayway: a backslash escapes only the quote and itself; any other stays literal.
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch == quote:
                self.pos += 1
                return "".join(out)
            out.append(ch)
            self.pos += 1
        raise self.error("unterminated string")

    def parse_bracket(self) -> tuple[str, Any]:
        self.pos += 1  # '['
        self.skip_spaces()
        text = self.text
        if self.pos >= len(text):
            raise self.error("unterminated '['")
        ch = text[self.pos]
        if ch == "*":
            self.pos += 1
            self.expect("]")
            return (WILDCARD, None)
        if ch in "'\"":
            names = [self.parse_quoted()]
            self.skip_spaces()
            while text.startswith(",", self.pos):
                self.pos += 1
                self.skip_spaces()
                if self.pos >= len(text) or text[self.pos] not in "'\"":
                    raise self.error("a quoted name is expected")
                names.append(self.parse_quoted())
                self.skip_spaces()
            self.expect("]")
            return (NAME, names[0]) if len(names) == 1 else (UNION_NAMES, tuple(names))
        if ch == "?":
            self.pos += 1
            self.expect("(")
            predicate = self.parse_filter_or()
            self.expect(")")
            self.expect("]")
            return (FILTER, predicate)
        # indexes, unions of indexes, slices
        end = text.find("]", self.pos)
        if end < 0:
            raise self.error("unterminated '['")
        body = text[self.pos : end].replace(" ", "")
        self.pos = end + 1
        if ":" in body:
            parts = body.split(":")
            if len(parts) > 3 or not all(p == "" or _INT.fullmatch(p) for p in parts):
                raise self.error(f"bad slice [{body}]")
            values = [int(p) if p else None for p in parts] + [None] * (3 - len(parts))
            return (SLICE, tuple(values))
        items = body.split(",")
        if not all(_INT.fullmatch(p) for p in items):
            raise self.error(f"bad index [{body}]")
        indexes = tuple(int(p) for p in items)
        return (INDEX, indexes[0]) if len(indexes) == 1 else (UNION_INDEXES, indexes)

    # Filters: `@.x`, `@.x == 1`, `@.x < @.y`, `@.x == $.y`, `!(@.x)`, `&&`, `||`, parentheses. A
    # predicate takes the node under test and the document's root (what `$` reads inside a filter).
    def parse_filter_or(self) -> Predicate:
        left = self.parse_filter_and()
        while True:
            self.skip_spaces()
            if self.text.startswith("||", self.pos):
                self.pos += 2
                right = self.parse_filter_and()
                left = (lambda a, b: lambda node, root: a(node, root) or b(node, root))(left, right)
            else:
                return left

    def parse_filter_and(self) -> Predicate:
        left = self.parse_filter_unary()
        while True:
            self.skip_spaces()
            if self.text.startswith("&&", self.pos):
                self.pos += 2
                right = self.parse_filter_unary()
                left = (lambda a, b: lambda node, root: a(node, root) and b(node, root))(left, right)
            else:
                return left

    def parse_filter_unary(self) -> Predicate:
        self.skip_spaces()
        if self.text.startswith("!", self.pos) and not self.text.startswith("!=", self.pos):
            self.pos += 1
            inner = self.parse_filter_unary()
            return lambda node, root: not inner(node, root)
        if self.text.startswith("(", self.pos):
            self.pos += 1
            inner = self.parse_filter_or()
            self.expect(")")
            return inner
        left = self.parse_operand()
        self.skip_spaces()
        for op in ("==", "!=", "<=", ">=", "<", ">", "=~"):
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                if op == "=~":
                    return _regex_predicate(left, self.parse_regex())
                right = self.parse_operand()
                return _comparison(op, left, right)
        return lambda node, root: left(node, root) is not _MISSING

    def parse_operand(self) -> Operand:
        self.skip_spaces()
        text = self.text
        if self.pos >= len(text):
            raise self.error("an operand is expected")
        ch = text[self.pos]
        if ch in "@$":
            # `@` is the node under test; `$` the document's root, as in Jayway.
            self.pos += 1
            segments = tuple(self.parse_segments(stop=self._at_operator))
            sub = Path(ch, ch, segments, all(k in (NAME, INDEX) for k, _ in segments))
            if ch == "@":
                return lambda node, root: _relative(sub, node)
            return lambda node, root: _relative(sub, root)
        if ch in "'\"":
            value: Any = self.parse_quoted()
            return lambda node, root: value
        match = _LITERAL.match(text, self.pos)
        if match:
            self.pos = match.end()
            literal = json.loads(match.group(0))
            return lambda node, root: literal
        word = _BARE_WORD.match(text, self.pos)
        if not word:
            raise self.error(f"unexpected {ch!r} in filter at {self.pos}")
        # A bare word is read as a string: a leniency, not AWS's behaviour established. AWS accepted the
        # published samples that compare `@.status==Failure`; Jayway 2.x's FilterCompiler reads an
        # unquoted value as a number and fails on a word (docs/fidelity.md).
        self.pos = word.end()
        bare = word.group(0)
        return lambda node, root: bare

    def _at_operator(self) -> bool:
        ch = self.text[self.pos]
        return ch in " =!<>&|)"

    def parse_regex(self) -> re.Pattern[str]:
        self.skip_spaces()
        if not self.text.startswith("/", self.pos):
            raise self.error("a /regex/ is expected")
        end = self.text.find("/", self.pos + 1)
        if end < 0:
            raise self.error("unterminated regex")
        body = self.text[self.pos + 1 : end]
        self.pos = end + 1
        flags = 0
        if self.text.startswith("i", self.pos):
            flags = re.IGNORECASE
            self.pos += 1
        try:
            return re.compile(body, flags)
        except re.error as exc:
            raise self.error(f"bad regex: {exc}") from None


_MISSING = object()


def _relative(path: Path, node: Any) -> Any:
    try:
        return path.find(node)
    except PathNotFound:
        return _MISSING


def _comparison(op: str, left: Operand, right: Operand) -> Predicate:
    def predicate(node: Any, root: Any) -> bool:
        a, b = left(node, root), right(node, root)
        if a is _MISSING or b is _MISSING:
            return op == "!=" and a is not b
        if op == "==":
            return _json_equal(a, b)
        if op == "!=":
            return not _json_equal(a, b)
        numeric = _is_number(a) and _is_number(b)
        if not numeric and not (isinstance(a, str) and isinstance(b, str)):
            return False
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
        if op == ">":
            return bool(a > b)
        return bool(a >= b)

    return predicate


def _regex_predicate(left: Operand, pattern: re.Pattern[str]) -> Predicate:
    def predicate(node: Any, root: Any) -> bool:
        value = left(node, root)
        return isinstance(value, str) and pattern.fullmatch(value) is not None

    return predicate


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_equal(a: Any, b: Any) -> bool:
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)


# --- setting a value (ResultPath) -----------------------------------------------------------------


def set_at(document: Any, path: Path, value: Any) -> Any:
    """Return `document` with `value` placed at the reference path `path` (ResultPath semantics).

    Intermediate objects are created as needed; the document is copied along the path, never mutated.

    Raises:
        PathNotFound: the path crosses a value that is not an object (States.ResultPathMatchFailure).
    """
    if not path.segments:
        return value
    return _set(document, path.segments, 0, value)


def _set(node: Any, segments: tuple[tuple[str, Any], ...], i: int, value: Any) -> Any:
    kind, arg = segments[i]
    last = i == len(segments) - 1
    if kind == NAME:
        if node is None:
            node = {}
        if type(node) is not dict:
            raise PathNotFound(arg)
        copy = dict(node)
        copy[arg] = value if last else _set(node.get(arg), segments, i + 1, value)
        return copy
    if kind == INDEX:
        if type(node) is not list or not -len(node) <= arg < len(node):
            raise PathNotFound(str(arg))
        items = list(node)
        items[arg] = value if last else _set(node[arg], segments, i + 1, value)
        return items
    raise PathNotFound(kind)
