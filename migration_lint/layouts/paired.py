"""Pairs of files, ``12_name.up.sql`` and ``12_name.down.sql``: golang-migrate, sqlx, and others.

One shape, three readings:

- ``golang-migrate``: golang-migrate's ``source.Parse`` (``^([0-9]+)_(.*)\\.(down|up)\\.(.*)$``, the
  version a ``uint``) over the entries ``iofs.PartialDriver.Init`` lists: a migration is a version,
  its UP and DOWN files pair by version alone (the names after it may differ); a version with
  only a DOWN has an empty UP; two files for one version and direction are an error; anything
  else is ignored. The PostgreSQL driver sends a file as one multi-statement query, which
  PostgreSQL runs as one implicit transaction unless the file says BEGIN/COMMIT itself.
- ``sqlx``: sqlx's ``resolve_blocking`` (every regular file whose name, split at the first ``_``,
  ends in ``.sql``; the part before it must be an ``i64`` or sqlx stops; ``.up.sql`` / ``.down.sql``
  are reversible halves, any other ``.sql`` a simple migration; sorted by version). sqlx runs each
  migration in a transaction unless the file starts with ``-- no-transaction``.
- ``paired``: this project's own reading, for names neither tool accepts (Authelia's
  ``V0001.Name.up.sql``): an optional ``V``, digits, then ``.``, ``_`` or ``-``.

A directory of pairs is read as sqlx unless it holds Go source files (golang-migrate is a Go
library) or names only ``paired`` accepts; ``--layout`` decides otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Migration, MigrationFileError, Section, Version
from ._base import Entry, Layout, LoadedDirectory, Reader, refuse_duplicates, section_of, warn_if_empty
from .onefile import renamed

FILE_NAME = re.compile(
    r"^V?(?P<version>\d+)(?:[._-](?P<name>.*?))?\.(?P<direction>up|down)\.sql$", re.IGNORECASE
)
GOLANG_MIGRATE = re.compile(r"^(?P<version>[0-9]+)_(?P<name>.*)\.(?P<direction>down|up)\.(?P<extension>.*)$")
_SQLX_NO_TRANSACTION = "-- no-transaction"
_PAIRED_NO_TRANSACTION = re.compile(r"^\s*--\s*no-transaction\s*$", re.IGNORECASE)


class _Pairs(Layout):
    """Pair ``(version, direction)`` files into migrations; subclasses say which files count."""

    duplicate_policy = ""

    def _pair(self, loaded: LoadedDirectory, halves: dict[str, dict[object, list[tuple[Version, str, Entry]]]],
              reader: Reader, orphan_down_is_error: bool) -> None:
        for direction in ("up", "down"):
            for found in halves[direction].values():
                if len(found) > 1:
                    first, second = found[0][2], found[1][2]
                    raise MigrationFileError(
                        second.path,
                        f"duplicate version {found[1][0]}: {first.name} is also its {direction.upper()}; "
                        f"{self.duplicate_policy}",
                    )
        for key, [(version, name, up_entry)] in halves["up"].items():
            up_text = reader(up_entry.path)
            up = section_of(up_entry.path, reader, up_text)
            down_found = halves["down"].get(key)
            down = None
            paths = [up_entry.path]
            if down_found:
                down_entry = down_found[0][2]
                down = section_of(down_entry.path, reader)
                paths.append(down_entry.path)
            migration = self.migration(version, name, up, down, paths,
                                       no_transaction_marker=self.no_transaction(up_text))
            if down is not None and self.name == "sqlx":
                migration = _with_down_marker(migration, self.no_transaction(down.sql))
            warn_if_empty(loaded, migration)
            loaded.migrations.append(migration)
        for key, [(version, name, down_entry)] in halves["down"].items():
            if key in halves["up"]:
                continue
            if orphan_down_is_error:
                raise MigrationFileError(
                    down_entry.path,
                    f"DOWN without an UP: no {version}_*.up.sql; {self.name} would never run it",
                )
            # golang-migrate: the version exists and its UP is empty (a no-op).
            empty = Section("", down_entry.path, 1, file_text="")
            migration = self.migration(version, name, empty, section_of(down_entry.path, reader),
                                       [down_entry.path])
            loaded.warn(down_entry.path, f"version {version} has no UP file: {self.tool} runs nothing for its UP")
            loaded.migrations.append(migration)
        loaded.migrations.sort(key=lambda m: m.version.key)

    def no_transaction(self, text: str) -> bool:
        return False

    def scaffold(self, directory: Path, newest: Migration | None, version: str, name: str,
                 up: str, down: str) -> dict[Path, str]:
        up_name = f"{version}_{name}.up.sql"
        if newest is not None:
            match = FILE_NAME.match(newest.path.name)
            if match:
                up_name = renamed(newest.path.name, match, version, name)
        down_name = re.sub(r"\.up\.sql$", ".down.sql", up_name, flags=re.IGNORECASE)
        return {directory / up_name: up, directory / down_name: down}


def _with_down_marker(migration: Migration, down_marker: bool) -> Migration:
    from dataclasses import replace

    return replace(migration, down_no_transaction_marker=down_marker)


_GO_BOOLEANS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


class GolangMigrate(_Pairs):
    name = "golang-migrate"
    aliases = ("golang_migrate", "migrate")
    tool = "golang-migrate"
    followed = "golang-migrate: source.Parse (source/parse.go), iofs.PartialDriver.Init, Migrate.newMigration"
    shape = "`12_name.up.sql` + `12_name.down.sql` (names after the version may differ)"
    transaction_rule = "implicit"
    sent_as_one_query = True
    duplicate_policy = "golang-migrate stops with 'duplicate migration file'"
    # ``x-multi-statement`` of the database URL (database/postgres/postgres.go, Postgres.Open and
    # Postgres.Run): the driver cuts the file at every ';' (multistmt.Parse) and runs each piece
    # on its own, instead of sending the file as one query.
    multi_statement = False

    def with_options(self, options: dict[str, str]) -> Layout:
        unknown = sorted(set(options) - {"x-multi-statement"})
        if unknown:
            raise ValueError(f"layout {self.name}: unknown option {unknown[0]!r} (known: x-multi-statement)")
        if "x-multi-statement" not in options:
            return self
        value = options["x-multi-statement"]
        # strconv.ParseBool, as golang-migrate reads it
        if value not in _GO_BOOLEANS:
            raise ValueError(f"layout {self.name}: x-multi-statement must be true or false, not {value!r}")
        if not _GO_BOOLEANS[value]:
            return self
        from copy import copy

        variant = copy(self)
        variant.multi_statement, variant.transaction_rule, variant.sent_as_one_query = True, "split", False
        return variant

    @property
    def spec(self) -> str:
        return f"{self.name}?x-multi-statement=true" if self.multi_statement else self.name

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        halves: dict[str, dict[object, list]] = {"up": {}, "down": {}}
        for entry in entries:
            if entry.kind == "dir":
                loaded.ignore(entry.path, "a directory: golang-migrate skips it")
                continue
            match = GOLANG_MIGRATE.match(entry.name)
            if match is None:
                loaded.ignore(entry.path, "matches no N_name.up|down.ext pattern: golang-migrate skips it")
                continue
            if entry.kind != "file":
                entry.refuse()
            if int(match["version"]) >= 2**64:
                raise MigrationFileError(entry.path, "golang-migrate refuses it: the version does not fit a uint64")
            version = self.parse_version(match["version"], entry.path)
            halves[match["direction"]].setdefault(version.key, []).append((version, match["name"], entry))
        self._pair(loaded, halves, reader, orphan_down_is_error=False)
        return loaded


class Sqlx(_Pairs):
    name = "sqlx"
    tool = "sqlx"
    followed = "sqlx: migrate::source::resolve_blocking, MigrationType::from_filename, Migrator::run"
    shape = "`20240101120000_name.up.sql` + `.down.sql`, or `20240101120000_name.sql` alone"
    transaction_rule = "wrap"
    sent_as_one_query = True
    duplicate_policy = "sqlx would apply one and then fail on the other (its version is already recorded)"

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        halves: dict[str, dict[object, list]] = {"up": {}, "down": {}}
        for entry in entries:
            if entry.kind == "dir":
                loaded.ignore(entry.path, "not a file: sqlx skips it")
                continue
            prefix, underscore, rest = entry.name.partition("_")
            if not underscore or not rest.endswith(".sql"):
                loaded.ignore(entry.path, "not <VERSION>_<DESCRIPTION>.sql: sqlx skips it")
                continue
            if entry.kind != "file":
                entry.refuse()
            if not re.fullmatch(r"[+-]?\d+", prefix) or not -(2**63) <= int(prefix) < 2**63:
                raise MigrationFileError(
                    entry.path, "sqlx refuses it: the part before the first '_' is not an integer version"
                )
            version = self.parse_version(prefix.lstrip("+"), entry.path)
            if rest.endswith(".down.sql"):
                direction, name = "down", rest[: -len(".down.sql")]
            else:
                direction, name = "up", rest[: -len(".up.sql")] if rest.endswith(".up.sql") else rest[: -len(".sql")]
            halves[direction].setdefault(version.key, []).append((version, name, entry))
        self._pair(loaded, halves, reader, orphan_down_is_error=True)
        return loaded

    def no_transaction(self, text: str) -> bool:
        return text.startswith(_SQLX_NO_TRANSACTION)


class Paired(_Pairs):
    name = "paired"
    aliases = ("pairs",)
    tool = "this project (Authelia-style names)"
    followed = "migration_lint.layouts.paired (names golang-migrate and sqlx do not accept)"
    shape = "`V0001.Name.up.sql` + `V0001.Name.down.sql`, or `12-name.up.sql`"
    transaction_rule = "detect"
    duplicate_policy = "the runner refuses a directory where two files claim one version"

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        halves: dict[str, dict[object, list]] = {"up": {}, "down": {}}
        for entry in entries:
            match = FILE_NAME.match(entry.name)
            if match is None:
                loaded.ignore(entry.path, "not a <version>_<name>.up.sql or .down.sql file")
                continue
            if entry.kind != "file":
                entry.refuse()
            version = self.parse_version(match["version"], entry.path)
            halves[match["direction"].lower()].setdefault(version.key, []).append((version, match["name"] or "", entry))
        self._pair(loaded, halves, reader, orphan_down_is_error=True)
        refuse_duplicates(loaded.migrations, self.duplicate_policy)
        return loaded

    def no_transaction(self, text: str) -> bool:
        return _PAIRED_NO_TRANSACTION.match(text.split("\n", 1)[0]) is not None


GOLANG = GolangMigrate()
SQLX = Sqlx()
PAIRED = Paired()


def choose(entries: list[Entry], reader: Reader) -> Layout:
    """Which reading of a directory of pairs: see the module docstring."""
    pair_files = [e for e in entries if e.kind == "file" and re.search(r"\.(up|down)\.sql$", e.name, re.IGNORECASE)]
    if any(GOLANG_MIGRATE.match(e.name) is None for e in pair_files):
        return PAIRED
    if any(e.name.endswith(".go") for e in entries):
        return GOLANG
    return SQLX
