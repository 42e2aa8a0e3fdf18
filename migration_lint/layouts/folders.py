"""Diesel: one folder per migration holding ``up.sql``, maybe ``down.sql`` and ``metadata.toml``.

Follows Diesel's ``FileBasedMigrations`` (diesel_migrations/src/file_based_migrations.rs) over
``migrations_internals::migrations_directories`` (every entry that is not a file and does not start
with ``.``; files are ignored) and ``valid_sql_migration_directory`` (a folder without ``up.sql``
stops Diesel: "unknown migration format"). The version is ``version_from_string``: the folder name
up to the first ``_``, dashes removed, kept as a string; versions are identified and ordered as
strings (``MigrationVersion`` derives ``Ord`` on its text, and ``pending_migrations`` sorts by it),
so ``2024-09-4_x`` (``2024094``) runs after ``2024-09-19_y`` (``20240919``), and
``2026-05-27-120000`` and ``2026-05-27-120000-0000`` are two versions. Each migration runs in a
transaction unless ``metadata.toml`` says ``run_in_transaction = false`` (``TomlMetadata``: a file
that does not parse counts as absent; a file that parses without the key reads ``false``, serde's
default for a ``bool``). Sourcegraph's folders (``metadata.yaml`` with
``createIndexConcurrently: true``) are read the same way.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ..model import Migration, MigrationFileError, read_sql_file
from ._base import Entry, Layout, LoadedDirectory, Reader, list_directory, refuse_duplicates, section_of, warn_if_empty
from .onefile import renamed

DIRECTORY_NAME = re.compile(r"^(?P<version>[^_]*)(?:_(?P<name>.*))?$")
_CREATE_INDEX_CONCURRENTLY = re.compile(r"^createIndexConcurrently:\s*true\s*$", re.MULTILINE | re.IGNORECASE)


class Diesel(Layout):
    name = "diesel"
    aliases = ("folders",)
    tool = "Diesel"
    followed = "Diesel: FileBasedMigrations, migrations_internals::version_from_string, MigrationHarness::pending_migrations"
    shape = "`2024-01-01-000000_name/up.sql` + `down.sql` (+ `metadata.toml`)"
    transaction_rule = "wrap"
    sent_as_one_query = True
    version_scheme = "diesel"

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        for entry in entries:
            if entry.kind == "file":
                loaded.ignore(entry.path, "a file beside the migration folders: Diesel ignores it")
                continue
            if entry.kind != "dir":
                entry.refuse()
            inside = {e.name: e for e in list_directory(entry.path)}
            up = inside.get("up.sql")
            if up is None:
                raise MigrationFileError(
                    entry.path, "has no up.sql: Diesel stops on it (unknown migration format)"
                )
            for name, found in inside.items():
                if name not in ("up.sql", "down.sql", "metadata.toml", "metadata.yaml"):
                    loaded.ignore(found.path, "not up.sql, down.sql or metadata.toml: Diesel ignores it")
            migration = self._load_folder(entry.path, inside, reader, loaded)
            warn_if_empty(loaded, migration)
            loaded.migrations.append(migration)
        loaded.migrations.sort(key=lambda m: m.version.key)
        refuse_duplicates(
            loaded.migrations,
            "Diesel keys migrations by version and keeps only one of them, whichever the directory lists last",
        )
        return loaded

    def _load_folder(self, folder: Path, inside: dict[str, Entry], reader: Reader, loaded: LoadedDirectory) -> Migration:
        up_entry, down_entry = inside["up.sql"], inside.get("down.sql")
        for found in (up_entry, down_entry):
            if found is not None and found.kind != "file":
                found.refuse()
        match = DIRECTORY_NAME.match(folder.name)
        assert match is not None
        version = self.parse_version(match["version"], folder)
        down = section_of(down_entry.path, reader) if down_entry is not None else None
        paths = (up_entry.path,) if down is None else (up_entry.path, down_entry.path)  # type: ignore[union-attr]
        no_transaction = False
        if "metadata.toml" in inside:
            no_transaction = _diesel_says_no_transaction(inside["metadata.toml"].path, loaded)
        if "metadata.yaml" in inside:
            no_transaction = no_transaction or _sourcegraph_says_concurrent(inside["metadata.yaml"].path)
        return self.migration(version, match["name"] or "", section_of(up_entry.path, reader), down, paths,
                              no_transaction_marker=no_transaction)

    def version_as_written(self, migration: Migration) -> str:
        match = DIRECTORY_NAME.match(migration.path.parent.name)
        return match["version"].rstrip("-") if match else migration.version.text

    def scaffold(self, directory: Path, newest: Migration | None, version: str, name: str,
                 up: str, down: str) -> dict[Path, str]:
        folder = f"{version}_{name}"
        if newest is not None:
            match = DIRECTORY_NAME.match(newest.path.parent.name)
            if match and match["name"] is not None:
                folder = renamed(newest.path.parent.name, match, version, name)
        return {directory / folder / "up.sql": up, directory / folder / "down.sql": down}


def _sourcegraph_says_concurrent(metadata: Path) -> bool:
    """Sourcegraph marks a migration that builds an index concurrently in its metadata."""
    return _CREATE_INDEX_CONCURRENTLY.search(read_sql_file(metadata)) is not None


def _diesel_says_no_transaction(metadata: Path, loaded: LoadedDirectory) -> bool:
    # Imported here: only Diesel's metadata.toml needs it, and it costs start-up time.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        settings = tomllib.loads(read_sql_file(metadata))
    except tomllib.TOMLDecodeError as error:
        loaded.warn(metadata, f"is not valid TOML ({error}): Diesel ignores it and runs the migration in a transaction")
        return False
    if "run_in_transaction" not in settings:
        loaded.warn(metadata, "has no run_in_transaction: Diesel then reads false (serde's default for a bool) "
                              "and runs the migration outside a transaction")
        return True
    value = settings["run_in_transaction"]
    if not isinstance(value, bool):
        loaded.warn(metadata, "run_in_transaction is not true or false: Diesel ignores the file")
        return False
    return value is False


LAYOUT = Diesel()
