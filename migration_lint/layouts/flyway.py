"""Flyway: ``V<version>__<description>.sql`` with optional ``U<version>__<description>.sql`` undo.

Versions separate their parts with dots or underscores (``V1_2__x.sql`` is 1.2) and order
numerically: 1.2.9 before 1.2.10. Repeatable ``R__`` migrations have no version and are refused.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Migration, MigrationFileError, Section
from ._naming import is_file, version_of

NAME = "flyway"

FILE_NAME = re.compile(r"^(?P<prefix>[VUR])(?P<version>\d+(?:[._]\d+)*)?__(?P<name>.+)\.sql$")


def claims(entry: Path, kind: str | None = None) -> bool:
    return FILE_NAME.match(entry.name) is not None and is_file(entry, kind)


def load(entries: list[Path]) -> list[Migration]:
    versioned: dict[tuple[int, ...], tuple[str, str, Path]] = {}
    undos: dict[tuple[int, ...], Path] = {}
    for entry in entries:
        match = FILE_NAME.match(entry.name)
        assert match is not None
        if match["prefix"] == "R" or not match["version"]:
            raise MigrationFileError(entry, "repeatable (R__) Flyway migrations are not supported")
        version = version_of(match["version"].replace("_", "."), entry)
        if match["prefix"] == "U":
            undos[version.key] = entry
            continue
        if version.key in versioned:
            other = versioned[version.key][2]
            raise MigrationFileError(entry, f"duplicate version {version}: also used by {other.name}")
        versioned[version.key] = (match["version"].replace("_", "."), match["name"], entry)
    for key, path in undos.items():
        if key not in versioned:
            raise MigrationFileError(path, "undo (U) file without its versioned (V) migration")
    migrations = []
    for key, (version_text, name, path) in versioned.items():
        undo = undos.get(key)
        down = Section.of_file(undo) if undo else None
        migrations.append(
            Migration(
                version_of(version_text, path), name, Section.of_file(path), down,
                (path,) if undo is None else (path, undo), NAME,
            )
        )
    return migrations
