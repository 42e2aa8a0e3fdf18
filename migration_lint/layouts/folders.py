"""One directory per migration holding ``up.sql`` and ``down.sql`` (Diesel, Sourcegraph).

Diesel names directories ``2024-01-01-000000_create_users`` and may say
``run_in_transaction = false`` in ``metadata.toml``; Sourcegraph names them
``1528395834_name`` beside a ``metadata.yaml``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ..model import Migration, MigrationFileError, Section, read_sql_file
from ._naming import version_of

NAME = "folders"

DIRECTORY_NAME = re.compile(r"^(?P<version>\d[\d-]*?)(?:_(?P<name>.*))?$")


def claims(entry: Path, kind: str | None = None) -> bool:
    is_dir = entry.is_dir() if kind is None else kind == "dir"
    return is_dir and ((entry / "up.sql").exists() or (entry / "down.sql").exists())


def load(entries: list[Path]) -> list[Migration]:
    return [_load_one(entry) for entry in entries]


def _load_one(directory: Path) -> Migration:
    up_path, down_path = directory / "up.sql", directory / "down.sql"
    if not up_path.exists():
        raise MigrationFileError(down_path, "DOWN without an UP: no up.sql beside it")
    match = DIRECTORY_NAME.match(directory.name)
    if not match:
        raise MigrationFileError(directory, "directory name has no version (expected e.g. 2024-01-01-000000_name)")
    down = Section.of_file(down_path) if down_path.exists() else None
    paths = (up_path,) if down is None else (up_path, down_path)
    return Migration(
        version_of(match["version"].rstrip("-"), directory),
        match["name"] or "",
        Section.of_file(up_path),
        down,
        paths,
        NAME,
        no_transaction_marker=_diesel_says_no_transaction(directory / "metadata.toml")
        or _sourcegraph_says_concurrent(directory / "metadata.yaml"),
        transaction_rule="wrap",
    )


_CREATE_INDEX_CONCURRENTLY = re.compile(r"^createIndexConcurrently:\s*true\s*$", re.MULTILINE | re.IGNORECASE)


def _sourcegraph_says_concurrent(metadata: Path) -> bool:
    """Sourcegraph marks a migration that builds an index concurrently in its metadata."""
    return metadata.exists() and _CREATE_INDEX_CONCURRENTLY.search(read_sql_file(metadata)) is not None


def _diesel_says_no_transaction(metadata: Path) -> bool:
    if not metadata.exists():
        return False
    # Imported here: only Diesel's metadata.toml needs it, and it costs start-up time.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        settings = tomllib.loads(read_sql_file(metadata))
    except tomllib.TOMLDecodeError as error:
        raise MigrationFileError(metadata, f"invalid TOML: {error}") from None
    return settings.get("run_in_transaction", True) is False
