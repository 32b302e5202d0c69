"""Parse `States.Name(arg, ...)` text into a `Call`.

Arguments are 'string' literals (escapes: \\' \\{ \\} \\\\), numbers, null, true, false, paths
(`$...`, `$$...`, `$name...`) and nested calls, at most `MAX_DEPTH` levels deep. The function name and
the number of arguments are checked here, so a definition can be judged before it runs.
"""

from __future__ import annotations

import math
import re

from pinflow.asl.intrinsics.nodes import Arg, Call, IntrinsicSyntaxError, Literal, LiteralValue, PathArg
from pinflow.asl.intrinsics.registry import FUNCTIONS

# AWS: "You can nest up to 10 intrinsic functions within a field".
MAX_DEPTH = 10

_CALL_START = re.compile(r"States\.[A-Za-z0-9_]+\(")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBER = re.compile(r"-?[0-9]+(?P<fraction>\.[0-9]+)?(?P<exponent>[eE][+-]?[0-9]+)?")
_KEYWORDS: dict[str, LiteralValue] = {"null": None, "true": True, "false": False}
_WHITESPACE = " \t\n\r"
_ESCAPABLE = "'{}\\"


def looks_like_intrinsic(text: str) -> bool:
    """Whether `text` is meant as an intrinsic call: it starts with `States.<Name>(`.

    A text that passes may still fail to parse; `parse` then says what is wrong with it.
    """
    return _CALL_START.match(text) is not None


def parse(text: str) -> Call:
    """Parse an intrinsic function call.

    Args:
        text: the call as written in the definition, e.g. `States.Format('{}', $.name)`.

    Returns:
        The call, immutable, safe to cache and to evaluate any number of times.

    Raises:
        IntrinsicSyntaxError: the text is not one well-formed call of a known `States.*` function
            with the right number of arguments.
    """
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, reason: str, position: int | None = None) -> IntrinsicSyntaxError:
        return IntrinsicSyntaxError(reason, self.text, self.pos if position is None else position)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_whitespace(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
            self.pos += 1

    def ends_token(self, position: int) -> bool:
        return position >= len(self.text) or self.text[position] in ",)" + _WHITESPACE

    def parse(self) -> Call:
        call = self.call(depth=1)
        if self.pos != len(self.text):
            raise self.error("unexpected text after the closing parenthesis of the call")
        return call

    def call(self, depth: int) -> Call:
        start = self.pos
        match = _NAME.match(self.text, self.pos)
        if match is None:
            raise self.error("expected a function name such as States.Format")
        name = match.group()
        function = FUNCTIONS.get(name)
        if function is None:
            raise self.error(f"unknown intrinsic function '{name}'")
        if depth > MAX_DEPTH:
            raise self.error(f"intrinsic functions can be nested at most {MAX_DEPTH} levels deep")
        self.pos = match.end()
        if self.peek() != "(":
            raise self.error(f"expected '(' right after {name}")
        self.pos += 1
        args: list[Arg] = []
        self.skip_whitespace()
        if self.peek() == ")":
            self.pos += 1
        else:
            while True:
                args.append(self.argument(depth))
                self.skip_whitespace()
                char = self.peek()
                if char == ")":
                    self.pos += 1
                    break
                if not char:
                    raise self.error(f"missing ')' to close {name}(")
                if char != ",":
                    raise self.error("expected ',' or ')' after an argument")
                self.pos += 1
                self.skip_whitespace()
        count = len(args)
        if not function.accepts(count):
            expected = function.arity_text()
            raise self.error(f"{name} takes {expected} argument(s) but {count} were given", start)
        return Call(name, tuple(args))

    def argument(self, depth: int) -> Arg:
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return PathArg(self.path())
        if char == "-" or char.isdigit():
            return self.number()
        match = _NAME.match(self.text, self.pos)
        if match is not None:
            word = match.group()
            if word in _KEYWORDS and self.ends_token(match.end()):
                self.pos = match.end()
                return Literal(_KEYWORDS[word])
            if match.end() < len(self.text) and self.text[match.end()] == "(":
                return self.call(depth + 1)
        if not char:
            raise self.error("expected an argument but the text ended")
        raise self.error(
            "expected an argument: a 'string', a number, null, true, false, a path or an intrinsic function"
        )

    def string(self) -> Literal:
        start = self.pos
        self.pos += 1
        value: list[str] = []
        pieces: list[str] = []
        piece: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.error("unterminated string literal", start)
            char = self.text[self.pos]
            if char == "\\":
                escaped = self.text[self.pos + 1 : self.pos + 2]
                if not escaped:
                    raise self.error("a backslash at the end escapes nothing")
                if escaped not in _ESCAPABLE:
                    raise self.error(
                        f"invalid escape sequence '\\{escaped}': only \\', \\{{, \\}} and \\\\ are allowed"
                    )
                value.append(escaped)
                piece.append(escaped)
                self.pos += 2
            elif char == "'":
                self.pos += 1
                break
            elif self.text.startswith("{}", self.pos):
                # An unescaped {} is a States.Format placeholder; an escaped one is plain text.
                value.append("{}")
                pieces.append("".join(piece))
                piece = []
                self.pos += 2
            else:
                value.append(char)
                piece.append(char)
                self.pos += 1
        pieces.append("".join(piece))
        if not self.ends_token(self.pos):
            raise self.error("expected ',' or ')' after a string literal")
        return Literal("".join(value), tuple(pieces))

    def number(self) -> Literal:
        match = _NUMBER.match(self.text, self.pos)
        if match is None or not self.ends_token(match.end()):
            raise self.error("invalid number")
        literal = match.group()
        try:
            number: int | float
            if match.group("fraction") or match.group("exponent"):
                number = float(literal)
                if not math.isfinite(number):
                    raise ValueError(literal)
            else:
                number = int(literal)
        except ValueError:
            raise self.error("number out of range") from None
        self.pos = match.end()
        return Literal(number)

    def path(self) -> str:
        """Scan a path up to the ',' or ')' or whitespace that ends it, outside brackets and quotes."""
        start = self.pos
        closers: list[str] = []
        quote = ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                if char == "\\":
                    self.pos += 1
                elif char == quote:
                    quote = ""
            elif closers and char in "'\"":
                quote = char
            elif char in "[(":
                closers.append("]" if char == "[" else ")")
            elif char in "])":
                if not closers:
                    break
                if closers.pop() != char:
                    raise self.error(f"unbalanced '{char}' in a path")
            elif not closers and (char == "," or char in _WHITESPACE):
                break
            self.pos += 1
        if quote or closers:
            raise self.error("unterminated bracket or quote in a path", start)
        return self.text[start : self.pos]
