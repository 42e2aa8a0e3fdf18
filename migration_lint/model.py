"""The one model of a migration, shared by the linter, the runner and the pytest plugin.

A :class:`Migration` has a version, a name, an UP :class:`Section` and maybe a DOWN one. Each
section knows its statements (split and parsed by pglast, with their lines in the file); how it
runs (in a transaction or not) is its execution plan, :mod:`migration_lint.execution`.
:func:`discover` reads a directory in any of the supported layouts (see
:mod:`migration_lint.layouts`) and returns its migrations in version order.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .parse import Statement, split_statements


class MigrationFileError(Exception):
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


@dataclass(frozen=True)
class Version:
    """A migration version as written (``"012"``, ``"1.2.10"``, ``"20240101120000"``).

    Versions order numerically part by part, never lexically: ``9 < 10`` and ``1.2.9 < 1.2.10``.
    ``"1"`` and ``"01"`` are the same version.
    """

    text: str
    key: tuple[int, ...] = field(compare=True)

    @classmethod
    def parse(cls, text: str) -> Version:
        parts = [part for part in _VERSION_SEPARATORS.split(text) if part]
        if not parts or not all(part.isdigit() for part in parts):
            raise ValueError(f"not a version: {text!r}")
        key = tuple(int(part) for part in parts)
        while len(key) > 1 and key[-1] == 0:  # "1.0" is "1"
            key = key[:-1]
        return cls(text, key)

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
#   implicit transaction block unless the file writes its own BEGIN/COMMIT (golang-migrate).
TRANSACTION_RULES = ("detect", "wrap", "implicit")


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

    @property
    def id(self) -> str:
        """``<version>_<name>``, stable and unique within a directory; used to name test items."""
        return f"{self.version}_{self.name}" if self.name else str(self.version)

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


def discover(directory: Path | str) -> list[Migration]:
    """All migrations of ``directory`` in version order; the layout is detected.

    Raises :class:`MigrationFileError` for a directory mixing layouts, duplicate versions, a DOWN
    without an UP, unreadable or non-UTF-8 files.
    """
    from .layouts import load_directory

    return load_directory(Path(directory))


def load_file(path: Path | str) -> Migration:
    """One SQL file as a migration, whatever its name (for linting a loose file)."""
    from .layouts import load_single_file

    return load_single_file(Path(path))


def check_order(migrations: list[Migration]) -> list[Migration]:
    """Sort by version; two migrations with the same version are an error naming both files."""
    ordered = sorted(migrations, key=lambda m: m.version.key)
    for previous, current in zip(ordered, ordered[1:]):
        if previous.version == current.version:
            raise MigrationFileError(
                current.path,
                f"duplicate version {current.version}: also used by {previous.path.name}",
            )
    return ordered
