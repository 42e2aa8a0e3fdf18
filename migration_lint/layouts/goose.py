"""goose: ``<version>_<name>.sql`` with ``-- +goose Up`` and ``-- +goose Down`` annotations.

Follows goose's ``collectMigrationsFS`` (every ``*.sql`` and ``*.go`` file of the directory; the
version is the number before the first ``_``, an ``int64`` above zero; two files with one version
are an error) and ``sqlparser.ParseSQLMigration`` (annotations matched without regard to case, as
goose v3.27 does; comment lines before ``-- +goose Up`` are skipped, SQL there is an error; no
``Down`` annotation is a no-op DOWN). goose runs each migration in a transaction unless the file
says ``-- +goose NO TRANSACTION``. Go migrations are listed as ignored: an SQL-only runner cannot
run them, so they are gaps in the chain.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Migration, MigrationFileError, Section
from ._base import Entry, Layout, LoadedDirectory, Reader, refuse_duplicates, warn_if_empty
from .onefile import renamed

FILE_NAME = re.compile(r"^(?P<version>\d+)_(?P<name>.*)\.sql$")
_ANNOTATION = re.compile(r"^--\s*\+goose\s+(?P<command>.+?)\s*$", re.IGNORECASE)


class Goose(Layout):
    name = "goose"
    tool = "goose"
    followed = "goose: collectMigrationsFS, NumericComponent, sqlparser.ParseSQLMigration"
    shape = "`20240101120000_name.sql` with `-- +goose Up` / `-- +goose Down`"
    transaction_rule = "wrap"

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        for entry in entries:
            suffix = Path(entry.name).suffix
            if suffix == ".go":
                why = "a Go test file" if entry.name.endswith("_test.go") else (
                    "a Go migration: goose runs it from a binary built with it; an SQL-only runner cannot"
                )
                loaded.ignore(entry.path, why)
                continue
            if suffix != ".sql":
                loaded.ignore(entry.path, "neither .sql nor .go: goose does not read it")
                continue
            if entry.kind != "file":
                entry.refuse()
            match = FILE_NAME.match(entry.name)
            if match is None or int(match["version"]) < 1:
                raise MigrationFileError(
                    entry.path,
                    "goose refuses it: a migration file name starts with a version above zero and '_' "
                    "(e.g. 00001_create_users.sql)",
                )
            migration = self._load_file(entry.path, reader(entry.path), match)
            warn_if_empty(loaded, migration)
            loaded.migrations.append(migration)
        loaded.migrations.sort(key=lambda m: m.version.key)
        refuse_duplicates(loaded.migrations, "goose stops with 'found duplicate migration version'")
        return loaded

    def _load_file(self, path: Path, text: str, match: re.Match[str]) -> Migration:
        up, down, no_transaction = split_goose(text, path)
        return self.migration(self.parse_version(match["version"], path), match["name"], up, down, (path,),
                              no_transaction_marker=no_transaction)

    def scaffold(self, directory: Path, newest: Migration | None, version: str, name: str,
                 up: str, down: str) -> dict[Path, str]:
        file_name = f"{version}_{name}.sql"
        if newest is not None:
            match = FILE_NAME.match(newest.path.name)
            if match:
                file_name = renamed(newest.path.name, match, version, name)
        return {directory / file_name: f"-- +goose Up\n{up}\n-- +goose Down\n{down}"}


def split_goose(text: str, path: Path) -> tuple[Section, Section | None, bool]:
    """UP, DOWN and NO TRANSACTION of a goose file, as goose's parser cuts them."""
    lines = text.split("\n")
    up_line = down_line = None
    no_transaction = False
    for number, line in enumerate(lines):
        if not line.startswith("--"):
            continue
        annotation = _ANNOTATION.match(line)
        if annotation is None:
            continue
        command = annotation["command"].lower()
        if command == "up":
            if up_line is not None:
                raise MigrationFileError(path, "goose refuses it: a second '-- +goose Up'", number + 1)
            up_line = number
        elif command == "down":
            if up_line is None:
                raise MigrationFileError(path, "goose refuses it: '-- +goose Down' before '-- +goose Up'", number + 1)
            if down_line is None:
                down_line = number
        elif command == "no transaction":
            no_transaction = True
    if up_line is None:
        raise MigrationFileError(path, "goose refuses it: no '-- +goose Up' annotation")
    for number, line in enumerate(lines[:up_line]):
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            raise MigrationFileError(path, "goose refuses it: SQL before '-- +goose Up'", number + 1)
    up_end = down_line if down_line is not None else len(lines)
    up = Section("\n".join(lines[up_line + 1 : up_end]), path, up_line + 2, file_text=text)
    down = None
    if down_line is not None:
        down = Section("\n".join(lines[down_line + 1 :]), path, down_line + 2, file_text=text)
    return up, down, no_transaction


def has_goose_marker(text: str) -> bool:
    return re.search(r"^--\s*\+goose\s+up\s*$", text, re.IGNORECASE | re.MULTILINE) is not None


LAYOUT = Goose()
