"""Turn SQL text into statements with their spans, using pglast (PostgreSQL's own parser).

The whole script is parsed once to JSON (``parse_sql_json``), which is several times cheaper than
building pglast's Python node objects; rules walk the plain ``dict`` tree. When the script does not
parse, PostgreSQL's scanner still splits it so that every statement keeps its line, and the
statements that do parse keep their trees: one typo must not hide the rest of a file from the
linter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterator

from ._pglast import parser as _pg

Node = dict[str, Any]


@dataclass(frozen=True)
class ParseFailure:
    """PostgreSQL's parse error for one statement, located in the section's text."""

    message: str
    offset: int  # character offset in the section text


class _computed_once:
    """Like ``functools.cached_property`` without its lock (Python 3.11 takes one per first read,
    which costs more than the value): the engine and the rules ask each statement for its kind
    and node tens of times. The value lands in the instance's ``__dict__``, which shadows this
    descriptor from then on."""

    def __init__(self, compute: Any) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self._name] = self._compute(instance)
        return value


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a section, with its place in the file."""

    text: str
    start: int  # character offset in the section text
    end: int
    line: int  # 1-based line in the file
    column: int  # 1-based
    end_line: int
    end_column: int
    tree: Node | None = field(default=None, compare=False, repr=False)
    error: ParseFailure | None = None

    @_computed_once
    def kind(self) -> str | None:
        """The parse node type, e.g. ``IndexStmt``; ``None`` when the statement does not parse."""
        if self.tree is None:
            return None
        return next(iter(self.tree))

    @_computed_once
    def node(self) -> Node:
        """The statement's own node (the value under :attr:`kind`)."""
        if self.tree is None:
            return {}
        return next(iter(self.tree.values()))


class _LineIndex:
    """Maps character offsets of a section to 1-based (line, column) in its file.

    Statements are located in order, so it counts the newlines since the offset asked last
    (``str.count``, in C) rather than indexing every line of the text first.
    """

    def __init__(self, text: str, first_line: int) -> None:
        self._text = text
        self._first_line = first_line
        self._offset = 0
        self._line = first_line

    def locate(self, offset: int) -> tuple[int, int]:
        text = self._text
        if offset >= self._offset:
            self._line += text.count("\n", self._offset, offset)
        else:
            self._line = self._first_line + text.count("\n", 0, offset)
        self._offset = offset
        return self._line, offset - text.rfind("\n", 0, offset)


def _byte_to_char(text: str, encoded: bytes) -> Any:
    """A converter from UTF-8 byte offsets (pglast's JSON locations) to character offsets."""
    if len(encoded) == len(text):
        return lambda offset: offset
    last = [0, 0]  # statements come in order, so decode only the bytes since the last call

    def to_char(offset: int) -> int:
        byte_at, char_at = last
        if offset < byte_at:
            byte_at, char_at = 0, 0
        char_at += len(encoded[byte_at:offset].decode("utf-8", errors="ignore"))
        last[:] = [offset, char_at]
        return char_at

    return to_char


def _skip_trivia(text: str, start: int, end: int) -> int:
    """First offset in ``text[start:end]`` that is not whitespace or a comment."""
    position = start
    while position < end:
        char = text[position]
        if char.isspace():
            position += 1
        elif text.startswith("--", position):
            newline = text.find("\n", position, end)
            position = end if newline < 0 else newline + 1
        elif text.startswith("/*", position):
            depth, position = 1, position + 2
            while position < end and depth:
                if text.startswith("/*", position):
                    depth, position = depth + 1, position + 2
                elif text.startswith("*/", position):
                    depth, position = depth - 1, position + 2
                else:
                    position += 1
        else:
            break
    return position


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and (text[end - 1].isspace() or text[end - 1] == ";"):
        end -= 1
    return end


def split_statements(text: str, first_line: int = 1) -> list[Statement]:
    """Split ``text`` into statements with their trees, spans and parse errors.

    ``first_line`` is the line of the file on which ``text`` starts, so that statements of a
    ``-- DOWN`` section report lines of the file, not of the section.
    """
    if not text.strip():
        return []
    lines = _LineIndex(text, first_line)
    try:
        parsed = json.loads(_pg.parse_sql_json(text))
    except (_pg.ParseError, RecursionError):  # RecursionError: nesting too deep for json.loads
        return _split_with_scanner(text, lines)
    except ValueError:  # e.g. a NUL character, which PostgreSQL's parser refuses
        return [_failed(text, 0, len(text), "invalid character in SQL text", 0, lines)]

    encoded = text.encode("utf-8")
    to_char = _byte_to_char(text, encoded)
    statements = []
    for raw in parsed.get("stmts", []):
        byte_start = raw.get("stmt_location", 0)
        byte_end = byte_start + raw["stmt_len"] if "stmt_len" in raw else len(encoded)
        start = _skip_trivia(text, to_char(byte_start), to_char(byte_end))
        end = _trim_end(text, start, to_char(byte_end))
        statements.append(_statement(text, start, end, lines, tree=raw["stmt"]))
    return statements


def _split_with_scanner(text: str, lines: _LineIndex) -> list[Statement]:
    statements = []
    for start, end in _scanner_spans(text):
        fragment = text[start:end]
        try:
            tree = json.loads(_pg.parse_sql_json(fragment))["stmts"]
        except _pg.ParseError as error:
            message, offset = _parse_error_parts(error)
            statements.append(_failed(text, start, end, message, start + offset, lines))
            continue
        except ValueError:
            statements.append(_failed(text, start, end, "invalid character in SQL text", start, lines))
            continue
        except RecursionError:
            statements.append(_failed(text, start, end, "statement nested too deeply to analyse", start, lines))
            continue
        node = tree[0]["stmt"] if tree else None
        statements.append(_statement(text, start, end, lines, tree=node))
    return statements


def _scanner_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each statement, cut at the semicolons PostgreSQL's scanner sees.

    pglast's own scanner-based ``split`` drops statements it cannot classify, so this cuts by
    tokens. When even the scanner fails (an unterminated string or comment), everything from the
    failure on is one last statement, which will carry the scanner's error.
    """
    try:
        tokens = list(_pg.scan(text))
        failed_at = None
    except _pg.ParseError as error:
        failed_at = _parse_error_parts(error)[1]
        try:
            tokens = list(_pg.scan(text[:failed_at]))
        except _pg.ParseError:
            tokens = []
    spans: list[tuple[int, int]] = []
    start = None
    for token in tokens:
        if token.name == "ASCII_59":
            if start is not None:
                spans.append((start, token.start))
            start = None
        elif start is None:
            start = token.start
        last_end = token.end + 1
    if start is not None:
        spans.append((start, last_end if failed_at is None else len(text)))
    elif failed_at is not None:
        # Not past trivia: what failed may be the trivia itself (an unclosed ``/*`` after the
        # last statement, which PostgreSQL refuses).
        spans.append((failed_at, len(text)))
    return [(s, _trim_end(text, s, e)) for s, e in spans if _trim_end(text, s, e) > s]


def _parse_error_parts(error: Exception) -> tuple[str, int]:
    """PostgreSQL's message and the character offset pglast reports for it."""
    message = str(error.args[0]) if error.args else str(error)
    offset = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else 0
    return message, offset


def _statement(text: str, start: int, end: int, lines: _LineIndex, *, tree: Node | None) -> Statement:
    line, column = lines.locate(start)
    end_line, end_column = lines.locate(max(start, end - 1))
    return Statement(text[start:end], start, end, line, column, end_line, end_column + 1, tree)


def _failed(text: str, start: int, end: int, message: str, at: int, lines: _LineIndex) -> Statement:
    statement = _statement(text, start, end, lines, tree=None)
    return Statement(
        statement.text, start, end, statement.line, statement.column,
        statement.end_line, statement.end_column, None, ParseFailure(message, at),
    )


def parses(text: str) -> bool:
    """Whether PostgreSQL's parser accepts ``text``."""
    try:
        _pg.parse_sql_json(text)
    except (_pg.ParseError, ValueError):
        return False
    return True


def walk(node: Any) -> Iterator[tuple[str, Node]]:
    """Yield ``(node_type, fields)`` for every node below ``node``, depth first."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if isinstance(value, dict) and key[:1].isupper():
                    yield key, value
                if isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(current, list):
            stack.extend(reversed(current))


def parse_plpgsql(create_function_sql: str) -> list[Node]:
    """The PL/pgSQL tree of a ``CREATE FUNCTION``/``DO`` statement, or ``[]`` when it has none."""
    try:
        return json.loads(_pg.parse_plpgsql_json(create_function_sql))
    except (_pg.ParseError, ValueError, RuntimeError):  # RecursionError is a RuntimeError
        return []
