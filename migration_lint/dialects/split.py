"""Split a MySQL or SQLite section into statements with sqlglot, keeping each statement's place.

sqlglot's own ``parse`` splits at every semicolon, which cuts a trigger or procedure body
(``BEGIN ... END``) into pieces; here the tokens are grouped first, so a compound body stays one
statement, and each statement is parsed on its own so a finding or an error can name its line.

A few forms MySQL accepts that sqlglot 30 rejects are rewritten for the parser only (the
statement's text, spans and suggested rewrites always use the file as written):
``CREATE INDEX i USING BTREE ON ...``, ``ALGORITHM=`` / ``LOCK=`` after ``CREATE INDEX`` and
``DROP INDEX``, and ``RENAME AS``.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import MigrationFileError

_TRANSACTION_WORDS = frozenset({"TRANSACTION", "WORK", "DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
_ROUTINE = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?(?:TEMP(?:ORARY)?\s+)?"
    r"(?:TRIGGER|PROCEDURE|FUNCTION|EVENT)\b",
    re.IGNORECASE,
)
_INDEX_DDL = re.compile(r"^\s*(?:CREATE\s+(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX|DROP\s+INDEX)\b", re.IGNORECASE)
_INDEX_OPTION = re.compile(r"\s+(?P<name>ALGORITHM|LOCK)\s*=?\s*(?P<value>\w+)", re.IGNORECASE)
_USING_BEFORE_ON = re.compile(r"(\bINDEX\s+\S+)\s+USING\s+(?:BTREE|HASH)\b", re.IGNORECASE)
_RENAME_AS = re.compile(r"\bRENAME\s+AS\b", re.IGNORECASE)


class DialectParseError(MigrationFileError):
    """sqlglot cannot read a statement; ``str()`` is ``path:line:column: message``."""

    def __init__(self, path: Path | str, message: str, line: int, column: int = 1) -> None:
        self.column = column
        super().__init__(path, message, line)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class DialectStatement:
    """One statement of a section, parsed by sqlglot, with its place in the file.

    ``line``/``column`` are 1-based; ``end_column`` is one past the last character, as in
    :class:`migration_lint.parse.Statement`. ``expression`` is sqlglot's tree; an
    ``exp.Command`` when sqlglot recognised the statement but not its syntax (triggers,
    ``RENAME TABLE``, ``ALTER TABLE ... CONVERT TO``), which rules then read as text.
    ``options`` holds ``ALGORITHM``/``LOCK`` clauses of ``CREATE/DROP INDEX``, upper-cased.
    """

    text: str
    start: int  # character offset in the section text
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    expression: Any = field(compare=False, repr=False)
    options: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        return type(self.expression).__name__


class _Lines:
    def __init__(self, text: str, first_line: int) -> None:
        self.starts = [0] + [i + 1 for i, char in enumerate(text) if char == "\n"]
        self.first_line = first_line

    def locate(self, offset: int) -> tuple[int, int]:
        row = bisect_right(self.starts, offset) - 1
        return self.first_line + row, offset - self.starts[row] + 1


def split_statements(sql: str, dialect: str, path: Path | str, first_line: int = 1) -> list[DialectStatement]:
    """The statements of ``sql`` (a section starting on ``first_line`` of ``path``).

    Raises :class:`DialectParseError` naming the file, line and sqlglot's reason for the first
    statement sqlglot cannot read.
    """
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import TokenError

    if not sql.strip():
        return []
    lines = _Lines(sql, first_line)
    reader = Dialect.get_or_raise(dialect)
    try:
        tokens = reader.tokenize(sql)
    except TokenError as error:
        opened = _unterminated(sql)
        if opened is not None:
            line, column = lines.locate(opened)
            what = "comment" if sql.startswith("/*", opened) else "quoted string or name"
            raise DialectParseError(path, f"unterminated {what} starting here", line, column) from None
        line, column = lines.locate(_token_error_offset(sql, error))
        raise DialectParseError(path, f"sqlglot cannot read this {dialect} SQL: {_first_line(str(error))}", line, column) from None
    statements = []
    for start, end in _statement_spans(sql, tokens):
        text = sql[start:end]
        line, column = lines.locate(start)
        end_line, end_column = lines.locate(max(start, end - 1))
        expression, options = _parse(text, reader, dialect, path, lines, start)
        statements.append(DialectStatement(text, start, end, line, column, end_line, end_column + 1, expression, options))
    return statements


def _statement_spans(sql: str, tokens: list[Any]) -> list[tuple[int, int]]:
    """``(start, end)`` of each statement: cut at semicolons, except inside a routine's BEGIN ... END."""
    from sqlglot.tokens import TokenType

    spans: list[tuple[int, int]] = []
    first = None  # index of the statement's first token
    depth = 0
    routine = False
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.SEMICOLON:
            if first is None:
                continue
            if depth > 0:
                continue
            spans.append((tokens[first].start, tokens[index - 1].end + 1))
            first, routine = None, False
            continue
        if first is None:
            first = index
            routine = bool(_ROUTINE.match(sql, token.start))
        if not routine:
            continue
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.token_type == TokenType.BEGIN and not (
            following is not None and following.text.upper() in _TRANSACTION_WORDS
        ):
            depth += 1
        elif token.text.upper() == "END" and (following is None or following.token_type == TokenType.SEMICOLON):
            depth = max(0, depth - 1)
    if first is not None:
        spans.append((tokens[first].start, tokens[-1].end + 1))
    return spans


def _parse(text: str, reader: Any, dialect: str, path: Path | str, lines: _Lines, start: int) -> tuple[Any, dict[str, str]]:
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    readable, options = _readable(text, dialect)
    logger = logging.getLogger("sqlglot")
    level = logger.level
    logger.setLevel(logging.ERROR)  # "falling back to parsing as a Command" is expected here
    try:
        expressions = [e for e in reader.parse(readable) if e is not None]
    except ParseError as error:
        detail = error.errors[0] if error.errors else {}
        offset = _offset_in(readable, detail.get("line"), detail.get("col"))
        line, column = lines.locate(start + min(offset, len(text)))
        reason = detail.get("description") or _first_line(str(error))
        raise DialectParseError(path, f"sqlglot cannot parse this {dialect} statement: {reason}", line, column) from None
    except TokenError as error:
        line, column = lines.locate(start)
        raise DialectParseError(path, f"{dialect} SQL does not tokenize: {_first_line(str(error))}", line, column) from None
    finally:
        logger.setLevel(level)
    if len(expressions) == 1:
        return expressions[0], options
    # A routine body split by sqlglot: keep the whole statement as one command.
    return exp.Command(this=text.split(None, 1)[0].upper(), expression=exp.Literal.string(text)), options


def _readable(text: str, dialect: str) -> tuple[str, dict[str, str]]:
    """``text`` rewritten where sqlglot lags behind MySQL, and the index options it removed."""
    options: dict[str, str] = {}
    if dialect != "mysql":
        return text, options
    if _INDEX_DDL.match(text):
        def keep(match: re.Match[str]) -> str:
            options[match["name"].upper()] = match["value"].upper()
            return ""

        # Only trailing options: ALGORITHM/LOCK may also be column names inside the index.
        tail = re.compile(r"(?:" + _INDEX_OPTION.pattern + r")+\s*$", re.IGNORECASE)
        found = tail.search(text)
        if found:
            _INDEX_OPTION.sub(keep, found.group(0))
            text = text[: found.start()]
        text = _USING_BEFORE_ON.sub(r"\1", text)
    text = _RENAME_AS.sub("RENAME TO", text)
    return text, options


def _offset_in(text: str, line: int | None, column: int | None) -> int:
    """Character offset of sqlglot's (line, col) in ``text``; its col is the end of the bad token."""
    if not line:
        return 0
    position = 0
    for _ in range(line - 1):
        newline = text.find("\n", position)
        if newline < 0:
            break
        position = newline + 1
    return max(0, position + (column or 1) - 1)


def _token_error_offset(sql: str, error: Exception) -> int:
    """Where the tokenizer failed: sqlglot names the text before it, not an offset."""
    match = re.search(r"Error tokenizing '(.*)'", str(error), re.DOTALL)
    found = sql.find(match.group(1)) if match else -1
    return found + len(match.group(1)) - 1 if match and found >= 0 else 0


def _unterminated(sql: str) -> int | None:
    """Offset of the quote or comment opener that is never closed, if any."""
    position, length = 0, len(sql)
    while position < length:
        char = sql[position]
        if char in "'\"`":
            close = position + 1
            while close < length:
                if sql[close] == "\\" and char != "`":
                    close += 2
                    continue
                if sql[close] == char:
                    if close + 1 < length and sql[close + 1] == char:  # doubled quote
                        close += 2
                        continue
                    break
                close += 1
            if close >= length:
                return position
            position = close + 1
        elif sql.startswith("--", position) or char == "#":
            newline = sql.find("\n", position)
            position = length if newline < 0 else newline + 1
        elif sql.startswith("/*", position):
            close = sql.find("*/", position + 2)
            if close < 0:
                return position
            position = close + 2
        else:
            position += 1
    return None


def _first_line(message: str) -> str:
    return message.strip().split("\n", 1)[0]
