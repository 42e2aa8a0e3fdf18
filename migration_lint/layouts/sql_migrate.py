"""sql-migrate: any ``*.sql`` file, with ``-- +migrate Up`` and ``-- +migrate Down`` sections.

Follows sql-migrate's ``FileMigrationSource.FindMigrations`` / ``findMigrations`` (every name
ending in ``.sql``; the migration's id is the file name) and ``byId`` / ``Migration.Less`` (ids
with a leading number first, by that number as an ``int64``; equal numbers, and names without a
number, by file name), and ``sqlparse.ParseMigration``: a command is a line starting exactly with
``-- +migrate `` (``--+ migrate Up`` is an ordinary comment); lines before the first command are
skipped (a licence block); every ``Up`` section of a file adds to the UP and every ``Down`` to the
DOWN, in file order; ``notransaction`` after ``Up`` or ``Down`` runs that direction outside a
transaction. sql-migrate runs every other direction in a transaction it opens.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Migration, MigrationFileError, Section, Version
from ._base import Entry, Layout, LoadedDirectory, Reader, warn_if_empty

_COMMAND = "-- +migrate "


class SqlMigrate(Layout):
    name = "sql-migrate"
    aliases = ("sql_migrate",)
    tool = "sql-migrate"
    followed = "sql-migrate: findMigrations, byId / Migration.Less, sqlparse.ParseMigration"
    shape = "`20240101120000-name.sql` (any name ending in .sql) with `-- +migrate Up` / `-- +migrate Down`"
    transaction_rule = "wrap"
    version_scheme = "sql-migrate"

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        for entry in entries:
            if not entry.name.endswith(".sql"):
                loaded.ignore(entry.path, "does not end in .sql: sql-migrate does not read it")
                continue
            if entry.kind != "file":
                entry.refuse()
            migration = self._load_file(entry.path, reader(entry.path))
            warn_if_empty(loaded, migration)
            loaded.migrations.append(migration)
        loaded.migrations.sort(key=lambda m: m.version.key)
        return loaded

    def _load_file(self, path: Path, text: str) -> Migration:
        up, down, up_no_transaction, down_no_transaction = split_sql_migrate(text, path)
        # The id is the file name: two files may share a number (nakama's -1 and -2).
        version = Version.parse(path.name[: -len(".sql")], self.version_scheme)
        name = re.sub(r"^\d+[_-]?", "", version.text)
        return self.migration(version, name, up, down, (path,), no_transaction_marker=up_no_transaction,
                              down_no_transaction_marker=down_no_transaction)

    def version_as_written(self, migration: Migration) -> str:
        number = re.match(r"\d+", migration.version.text)
        return number[0] if number else migration.version.text

    def scaffold(self, directory: Path, newest: Migration | None, version: str, name: str,
                 up: str, down: str) -> dict[Path, str]:
        separator = "-"
        if newest is not None:
            number = re.match(r"\d+(?P<separator>[_-]?)", newest.version.text)
            separator = number["separator"] or "-" if number else "-"
        return {directory / f"{version}{separator}{name}.sql": f"-- +migrate Up\n{up}\n-- +migrate Down\n{down}"}


def split_sql_migrate(text: str, path: Path) -> tuple[Section, Section | None, bool, bool]:
    """UP and DOWN (each the concatenation of its sections) and their ``notransaction`` flags.

    A section keeps its lines in place: lines of the other direction, and the text before the first
    command, become blank, so every statement still reports its line in the file.
    """
    lines = text.split("\n")
    up_lines = [""] * len(lines)
    down_lines = [""] * len(lines)
    direction = None
    seen_up = seen_down = False
    up_no_transaction = down_no_transaction = False
    for number, line in enumerate(lines):
        if line.startswith(_COMMAND):
            fields = line[len(_COMMAND):].split()
            if not fields:
                raise MigrationFileError(path, "sql-migrate refuses it: incomplete '-- +migrate' command", number + 1)
            command, options = fields[0], fields[1:]
            if command == "Up":
                direction, seen_up = "up", True
                up_no_transaction = up_no_transaction or "notransaction" in options
            elif command == "Down":
                direction, seen_down = "down", True
                down_no_transaction = down_no_transaction or "notransaction" in options
            continue
        if direction == "up":
            up_lines[number] = line
        elif direction == "down":
            down_lines[number] = line
    if direction is None:
        raise MigrationFileError(path, "sql-migrate refuses it: no '-- +migrate Up' or '-- +migrate Down' line")
    up = Section("\n".join(up_lines), path, 1, file_text=text)
    down = Section("\n".join(down_lines), path, 1, file_text=text) if seen_down else None
    if not seen_up:
        up = Section("", path, 1, file_text=text)
    return up, down, up_no_transaction, down_no_transaction


def has_sql_migrate_marker(text: str) -> bool:
    return re.search(r"^-- \+migrate (?:Up|Down)\b", text, re.MULTILINE) is not None


LAYOUT = SqlMigrate()
