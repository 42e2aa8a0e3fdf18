"""Flyway: ``V<version>__<description>.sql``, optional ``U<version>__...`` undo, ``R__...`` repeatables.

Follows Flyway's ``SqlMigrationResolver`` / ``ResourceNameParser`` (files ending in ``.sql`` whose
name starts with a configured prefix, ``V``, ``U`` or ``R``, then the version, then ``__``; other
files are not migrations: ``V57__readme.md``, callbacks, notes; locations are scanned with their
subfolders) and ``MigrationVersion`` (parts separated by ``.`` or ``_``, compared as integers, so
1.2.9 < 1.2.10 and 1.0 = 1; two files with one version stop Flyway). Repeatables have no version:
Flyway applies them after every versioned migration, ordered by description, and again whenever
their checksum changes. Flyway runs each migration in a transaction unless a statement cannot run
in one (``PostgreSQLParser.detectCanExecuteInTransaction``: CREATE/DROP INDEX CONCURRENTLY,
VACUUM, ALTER SYSTEM, ...); then it runs the whole script outside one (mixing both kinds in one
script is an error unless ``mixed`` is set): the ``detect`` rule.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from ..model import Migration, MigrationFileError, Version
from ._base import Entry, Layout, LoadedDirectory, Reader, list_directory, refuse_duplicates, section_of, warn_if_empty
from .onefile import renamed

FILE_NAME = re.compile(r"^(?P<prefix>[VUR])(?P<version>[^_]*(?:_[^_]+)*?)?__(?P<name>.+)\.sql$")


class Flyway(Layout):
    name = "flyway"
    tool = "Flyway"
    followed = "Flyway: SqlMigrationResolver, ResourceNameParser, MigrationVersion, PostgreSQLParser.detectCanExecuteInTransaction"
    shape = "`V1.2__name.sql` + optional `U1.2__name.sql`; `R__name.sql` repeatables"
    transaction_rule = "detect"
    version_scheme = "flyway"

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        versioned: list[tuple[Version, str, Entry]] = []
        undos: dict[object, Entry] = {}
        repeatables: list[tuple[Version, str, Entry]] = []
        for entry in _walk(entries):
            match = FILE_NAME.match(entry.name)
            if not entry.name.endswith(".sql") or match is None:
                if entry.kind != "dir":
                    loaded.ignore(entry.path, "not V<version>__name.sql, U... or R__...: Flyway does not read it")
                continue
            if entry.kind != "file":
                entry.refuse()
            prefix, version_text = match["prefix"], (match["version"] or "")
            if prefix == "R":
                if version_text:
                    raise MigrationFileError(entry.path, "Flyway refuses it: a repeatable migration has no version")
                repeatables.append((self.parse_version("R__" + match["name"], entry.path), match["name"], entry))
                continue
            if not re.fullmatch(r"\d+(?:[._]\d+)*", version_text):
                raise MigrationFileError(entry.path, f"Flyway refuses it: {version_text!r} is not a version (digits separated by . or _)")
            version = self.parse_version(version_text.replace("_", "."), entry.path)
            if prefix == "U":
                if version.key in undos:
                    raise MigrationFileError(entry.path, f"duplicate undo version {version}: also {undos[version.key].name}; Flyway stops")
                undos[version.key] = entry
            else:
                versioned.append((version, match["name"], entry))
        for version, name, entry in versioned:
            undo = undos.pop(version.key, None)
            down = section_of(undo.path, reader) if undo is not None else None
            paths = (entry.path,) if undo is None else (entry.path, undo.path)
            migration = self.migration(version, name, section_of(entry.path, reader), down, paths)
            warn_if_empty(loaded, migration)
            loaded.migrations.append(migration)
        for entry in undos.values():
            raise MigrationFileError(entry.path, "undo (U) file without its versioned (V) migration")
        loaded.migrations.sort(key=lambda m: m.version.key)
        refuse_duplicates(loaded.migrations, "Flyway stops: 'Found more than one migration with version'")
        applied_after = []
        for version, name, entry in sorted(repeatables, key=lambda item: item[0].key):
            migration = self.migration(version, name, section_of(entry.path, reader), None, (entry.path,), repeatable=True)
            warn_if_empty(loaded, migration)
            applied_after.append(migration)
        refuse_duplicates(applied_after, "Flyway stops: two repeatable migrations with one description")
        loaded.migrations.extend(applied_after)
        return loaded

    def version_as_written(self, migration: Migration) -> str:
        match = FILE_NAME.match(migration.path.name)
        if match and match["version"]:
            return match["version"]
        return migration.version.text

    def scaffold(self, directory: Path, newest: Migration | None, version: str, name: str,
                 up: str, down: str) -> dict[Path, str]:
        up_name = f"V{version}__{name}.sql"
        if newest is not None and not newest.repeatable:
            match = FILE_NAME.match(newest.path.name)
            if match and match["version"]:
                up_name = renamed(newest.path.name, match, version, name)
        return {directory / up_name: up, directory / ("U" + up_name[1:]): down}


def _walk(entries: list[Entry]) -> list[Entry]:
    """``entries`` and those of their subfolders, depth first: Flyway scans a location recursively."""
    found = []
    for entry in entries:
        found.append(entry)
        if entry.kind == "dir":
            found.extend(_walk(list_directory(entry.path)))
    return found


def flyway_checksum(migration: Migration) -> int:
    """The checksum Flyway records in ``flyway_schema_history`` for ``migration``'s script
    (``ChecksumCalculator``): a CRC-32, as a signed 32-bit integer, of the file's lines without
    their line breaks, the BOM left out; so that a record of Flyway's can be compared to a file."""
    crc = 0
    text = (migration.up.file_text or migration.up.sql).removeprefix("\ufeff")
    for line in re.split(r"\r\n|\r|\n", text):
        crc = zlib.crc32(line.encode("utf-8"), crc)
    return crc - (1 << 32) if crc >= 1 << 31 else crc


def looks_like_flyway(name: str) -> bool:
    return name.endswith(".sql") and re.match(r"^(?:[VU]\d+(?:[._]\d+)*__|R__).+\.sql$", name) is not None


LAYOUT = Flyway()
