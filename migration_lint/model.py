"""The one model of a migration, shared by the linter, the runner and the pytest plugin.

A :class:`Migration` has a version, a name, an UP :class:`Section` and maybe a DOWN one. Each
section knows its statements (split and parsed by pglast, with their lines in the file); how it
runs (in a transaction or not) is its execution plan, :mod:`migration_lint.execution`. Reading a
directory is the job of :mod:`migration_lint.layouts` (``discover``), which builds these objects;
this module imports nothing of it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .errors import MigrationLintError
from .parse import Statement, split_statements


class MigrationFileError(MigrationLintError):
    """A migration file or directory that cannot be read as a migration; names file and line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.message = message
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


_VERSION_SEPARATORS = re.compile(r"[._-]")

# How versions compare, one scheme per family of tools (the layout chooses):
# - ``"numeric"``: parts split on ``.``, ``_`` and ``-`` compare as integers, trailing zero parts
#   dropped (golang-migrate, sqlx, goose, Flyway's versioned migrations, this project's own);
# - ``"diesel"``: the name up to the first ``_`` with its dashes removed, compared as a string;
# - ``"dbmate"``: the leading digits, compared as a string;
# - ``"sql-migrate"``: the file name; numbered files first by their number, then by name;
# - ``"flyway"``: numeric, with repeatable (``R__``) migrations after every versioned one.
VERSION_SCHEMES = ("numeric", "diesel", "dbmate", "sql-migrate", "flyway")


@dataclass(frozen=True)
class Version:
    """A migration version as written (``"012"``, ``"1.2.10"``, ``"20240101120000"``).

    ``key`` is its identity and its place in the order, as the layout's tool sees them: in the
    ``"numeric"`` scheme ``9 < 10``, ``1.2.9 < 1.2.10``, and ``"1"`` and ``"01"`` are the same
    version. Keys of one scheme compare with each other only.
    """

    text: str
    key: tuple = field(compare=True)
    scheme: str = field(default="numeric", compare=False)

    @classmethod
    def parse(cls, text: str, scheme: str = "numeric") -> Version:
        """``text`` as a version of ``scheme``; ``ValueError`` when it is not one."""
        if scheme == "diesel":
            identity = text.split("_", 1)[0].replace("-", "")
            if not identity:
                raise ValueError(f"not a version: {text!r}")
            return cls(text, (identity,), scheme)
        if scheme == "dbmate":
            digits = re.match(r"\d+", text)
            if digits is None:
                raise ValueError(f"not a version: {text!r}")
            return cls(text, (digits[0],), scheme)
        if scheme == "sql-migrate":
            file_name = text if text.endswith(".sql") else text + ".sql"
            number = re.match(r"\d+", file_name)
            if number is None:
                return cls(text, (1, 0, file_name), scheme)
            return cls(text, (0, int(number[0]), file_name), scheme)
        if scheme == "flyway" and text.startswith("R__"):
            return cls(text, (1, text[3:]), scheme)
        parts = [part for part in _VERSION_SEPARATORS.split(text) if part]
        if not parts or not all(part.isdigit() for part in parts):
            raise ValueError(f"not a version: {text!r}")
        key = tuple(int(part) for part in parts)
        while len(key) > 1 and key[-1] == 0:  # "1.0" is "1"
            key = key[:-1]
        if scheme == "flyway":
            return cls(text, (0, *key), scheme)
        if scheme != "numeric":
            raise ValueError(f"unknown version scheme {scheme!r}")
        return cls(text, key, scheme)

    def parse_like(self, text: str) -> Version:
        """``text`` read in this version's scheme (a version recorded in a tracking table)."""
        return Version.parse(text, self.scheme)

    def __str__(self) -> str:
        return self.text

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __le__(self, other: Version) -> bool:
        return self.key <= other.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


UNVERSIONED = Version("", ())

# How the tool that owns a layout runs a section:
# - ``"detect"``: in one transaction, unless the file is marked no-transaction, writes its own
#   BEGIN/COMMIT, or holds a statement PostgreSQL refuses inside a transaction block (this runner,
#   Flyway);
# - ``"wrap"``: always in one transaction the tool opens, unless the file is marked no-transaction
#   (sqlx, goose, sql-migrate, dbmate, Diesel): a CONCURRENTLY statement there fails as in production;
# - ``"implicit"``: the file is sent as one multi-statement query, which PostgreSQL runs as one
#   implicit transaction block unless the file writes its own BEGIN/COMMIT (golang-migrate);
# - ``"split"``: the file is cut at every ``;`` and each piece is sent on its own, in no
#   transaction but the file's own (golang-migrate with ``x-multi-statement=true``).
TRANSACTION_RULES = ("detect", "wrap", "implicit", "split")


@dataclass(frozen=True, eq=False)
class Section:
    """The UP or DOWN script of a migration: its SQL and where it sits in which file."""

    sql: str
    path: Path
    first_line: int = 1  # the line of ``path`` on which ``sql`` starts
    commented_out: bool = False  # a DOWN kept behind ``-- `` so that running the file runs only UP
    # The whole text of ``path`` as the layout read it (``read_sql_file``), so that the linter,
    # which looks for suppression comments anywhere in the file, need not read it again.
    file_text: str | None = field(default=None, repr=False)

    @classmethod
    def of_file(cls, path: Path) -> Section:
        """The whole of the SQL file ``path`` as one section."""
        text = read_sql_file(path)
        return cls(text, path, file_text=text)

    @cached_property
    def statements(self) -> tuple[Statement, ...]:
        return tuple(split_statements(self.sql, self.first_line))

    @property
    def is_empty(self) -> bool:
        if "/*" not in self.sql and any(
            line.strip(" \t;") and not line.lstrip().startswith("--") for line in self.sql.split("\n")
        ):
            return False  # SQL outside line comments: known without parsing (a warm lint never parses)
        return not self.statements

    @cached_property
    def parse_errors(self) -> tuple[Statement, ...]:
        return tuple(statement for statement in self.statements if statement.error)

    @cached_property
    def checksum(self) -> str:
        import hashlib  # here, not at the top: the linter never asks for it

        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class Migration:
    """One migration: ``version``, ``name``, UP and optional DOWN, and how it must be run."""

    version: Version
    name: str
    up: Section
    down: Section | None
    paths: tuple[Path, ...]
    layout: str
    # The file says it must run outside a transaction (sqlx ``-- no-transaction``, dbmate
    # ``transaction:false``, goose ``NO TRANSACTION``, Diesel ``run_in_transaction = false``).
    no_transaction_marker: bool = False
    # How the migration's own tool runs a section (see ``TRANSACTION_RULES``); the layout sets it and
    # the execution plan reads it.
    transaction_rule: str = "detect"
    # The DOWN's own marker where the tool reads one per direction (dbmate's
    # ``-- migrate:down transaction:false``, sql-migrate's ``-- +migrate Down notransaction``);
    # ``None``: the same as ``no_transaction_marker``.
    down_no_transaction_marker: bool | None = None
    # The tool sends a section to the server as one query (dbmate, sqlx, Diesel, golang-migrate),
    # rather than one statement at a time (goose, sql-migrate, this runner, Flyway): it decides
    # what a COMMIT in the middle of a section leaves in a transaction block.
    sent_as_one_query: bool = False
    # A Flyway repeatable (``R__name.sql``): no version of its own, applied after every versioned
    # migration, again whenever its checksum changes.
    repeatable: bool = False

    @property
    def id(self) -> str:
        """``<version>_<name>``, stable and unique within a directory; used to name test items."""
        # A sql-migrate version is its file name, a repeatable's is R__ and its name: both say it all.
        if not self.name or self.version.scheme == "sql-migrate" or self.repeatable:
            return str(self.version)
        return f"{self.version}_{self.name}"

    @property
    def path(self) -> Path:
        """The file that holds the UP script."""
        return self.up.path

    @property
    def up_sql(self) -> str:
        return self.up.sql

    @property
    def down_sql(self) -> str | None:
        return None if self.down is None else self.down.sql

    @property
    def has_down(self) -> bool:
        return self.down is not None

    @property
    def checksum(self) -> str:
        """SHA-256 of the UP script, which is what a database has applied.

        Files are read with their line endings normalised, so a checkout that turns LF into CRLF
        does not change it; editing the DOWN of an applied migration (to fix it) does not either.
        """
        return self.up.checksum

    @property
    def down_marked_no_transaction(self) -> bool:
        """The file says the DOWN must run outside a transaction."""
        if self.down_no_transaction_marker is None:
            return self.no_transaction_marker
        return self.down_no_transaction_marker

    def __repr__(self) -> str:
        return f"Migration({self.id!r}, layout={self.layout!r})"


def read_sql_file(path: Path) -> str:
    """The text of a migration file: UTF-8, BOM dropped, line endings normalised to ``\\n``."""
    try:
        data = _read_bytes(path)
    except IsADirectoryError:
        raise MigrationFileError(path, "is a directory, not a SQL file") from None
    except OSError as error:
        raise MigrationFileError(path, f"cannot be read: {error.strerror or error}") from None
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise MigrationFileError(path, "is a binary file, not SQL (NUL byte)", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise MigrationFileError(
            path, f"is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})", line
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _read_bytes(path: Path) -> bytes:
    """The file's bytes through ``os.read``: half the cost of ``Path.read_bytes`` and its buffered
    file object, and the linter reads every file of a directory."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = []
        while True:
            chunk = os.read(descriptor, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(descriptor)
