"""Pairs of files: ``12_name.up.sql`` and ``12_name.down.sql`` (golang-migrate, sqlx, Authelia).

Versions are numbers (``1``, ``10``, not zero-padded), timestamps (``20240101120000``) or
Authelia's ``V0001.Name``. sqlx's ``-- no-transaction`` first line marks a migration that must run
outside a transaction block. A missing ``.down.sql`` is recorded, not fatal; a ``.down.sql``
without its ``.up.sql`` is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Migration, MigrationFileError, Section, read_sql_file
from ._naming import is_file, version_of

NAME = "paired"

FILE_NAME = re.compile(
    r"^V?(?P<version>\d+)(?:[._-](?P<name>.*?))?\.(?P<direction>up|down)\.sql$", re.IGNORECASE
)
_NO_TRANSACTION = re.compile(r"^\s*--\s*no-transaction\s*$", re.IGNORECASE)


def claims(entry: Path, kind: str | None = None) -> bool:
    return FILE_NAME.match(entry.name) is not None and is_file(entry, kind)


def has_no_transaction_marker(text: str) -> bool:
    first_line = text.split("\n", 1)[0]
    return _NO_TRANSACTION.match(first_line) is not None


def load(entries: list[Path]) -> list[Migration]:
    ups: dict[tuple[str, str], Path] = {}
    downs: dict[tuple[str, str], Path] = {}
    for entry in entries:
        match = FILE_NAME.match(entry.name)
        assert match is not None
        key = (match["version"], match["name"] or "")
        (ups if match["direction"].lower() == "up" else downs)[key] = entry
    for key, path in downs.items():
        if key not in ups:
            raise MigrationFileError(path, f"DOWN without an UP: no {path.name[:-len('.down.sql')]}.up.sql")
    migrations = []
    for (version_text, name), up_path in ups.items():
        up_text = read_sql_file(up_path)
        down_path = downs.get((version_text, name))
        down = None
        if down_path is not None:
            down = Section.of_file(down_path)
        paths = (up_path,) if down_path is None else (up_path, down_path)
        migrations.append(
            Migration(
                version_of(version_text, up_path),
                name,
                Section(up_text, up_path, file_text=up_text),
                down,
                paths,
                NAME,
                no_transaction_marker=has_no_transaction_marker(up_text),
            )
        )
    return migrations
