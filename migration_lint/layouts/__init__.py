"""On-disk layouts of migrations, one module each, and their detection.

============  ===============================================  =============================
layout        files                                            used by
============  ===============================================  =============================
onefile       ``012_name.sql`` with ``-- UP`` / ``-- DOWN``    hand-run projects, goose,
                                                               sql-migrate
paired        ``12_name.up.sql`` + ``12_name.down.sql``        golang-migrate, sqlx, Authelia
folders       ``<version>_name/up.sql`` + ``down.sql``         Diesel, Sourcegraph
dbmate        ``<version>_name.sql`` with ``-- migrate:up``    dbmate
flyway        ``V1.2__name.sql`` + optional ``U1.2__name.sql`` Flyway
============  ===============================================  =============================

A directory holds one layout; mixing two is an error that names a file of each.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..model import Migration, MigrationFileError, check_order
from . import dbmate, flyway, folders, onefile, paired

# Order matters: the first layout that claims an entry owns it.
LAYOUTS = (folders, paired, flyway, dbmate, onefile)

__all__ = ["LAYOUTS", "detect_layout", "load_directory", "load_single_file"]


def _claims(directory: Path) -> dict[str, list[Path]]:
    if not directory.exists():
        raise MigrationFileError(directory, "no such directory")
    if not directory.is_dir():
        raise MigrationFileError(directory, "is not a directory")
    try:
        # The listing says which entries are files or folders: no system call per entry.
        with os.scandir(directory) as scanned:
            listing = sorted((entry.name, _kind(entry)) for entry in scanned)
    except OSError as error:
        raise MigrationFileError(directory, f"cannot be listed: {error.strerror or error}") from None
    claimed: dict[str, list[Path]] = {}
    for name, kind in listing:
        if name.startswith("."):
            continue
        entry = directory / name
        for layout in LAYOUTS:
            if layout.claims(entry, kind):
                claimed.setdefault(layout.NAME, []).append(entry)
                break
    return claimed


def _kind(entry: os.DirEntry) -> str:
    try:
        return "dir" if entry.is_dir() else "file" if entry.is_file() else "other"
    except OSError:
        return "other"


def detect_layout(directory: Path) -> str | None:
    """The layout name of ``directory``, or ``None`` when it holds no migration at all."""
    claimed = _claims(directory)
    _refuse_mixed(claimed)
    return next(iter(claimed), None)


def _refuse_mixed(claimed: dict[str, list[Path]]) -> None:
    if len(claimed) > 1:
        (first, first_entries), (second, second_entries) = list(claimed.items())[:2]
        raise MigrationFileError(
            second_entries[0],
            f"mixes layouts: this is {second}, but {first_entries[0].name} is {first}; "
            "keep one layout per directory",
        )


def load_directory(directory: Path) -> list[Migration]:
    claimed = _claims(directory)
    _refuse_mixed(claimed)
    if not claimed:
        return []
    (name, entries), = claimed.items()
    layout = next(module for module in LAYOUTS if module.NAME == name)
    return check_order(layout.load(entries))


def load_single_file(path: Path) -> Migration:
    for layout in (paired, flyway, dbmate):
        if layout.claims(path):
            siblings = [entry for entry in sorted(path.parent.iterdir()) if layout.claims(entry)]
            for migration in layout.load(siblings):
                if path in migration.paths:
                    return migration
    return onefile.load_file(path, require_version=False)
