"""dbmate: ``<version>_name.sql`` with ``-- migrate:up`` and ``-- migrate:down`` sections.

``-- migrate:up transaction:false`` runs the migration outside a transaction block.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Migration, MigrationFileError, Section, read_sql_file
from ._naming import is_file, version_of

NAME = "dbmate"

FILE_NAME = re.compile(r"^(?P<version>\d+)(?:_(?P<name>.*))?\.sql$")
_MARKER = re.compile(r"^--\s*migrate:(?P<direction>up|down)\b(?P<options>.*)$", re.MULTILINE)


def claims(entry: Path, kind: str | None = None) -> bool:
    if not (entry.suffix == ".sql" and is_file(entry, kind)):
        return False
    try:
        head = entry.read_bytes()
    except OSError:
        return False
    return b"-- migrate:up" in head or b"--migrate:up" in head


def load(entries: list[Path]) -> list[Migration]:
    return [_load_one(entry) for entry in entries]


def _load_one(path: Path) -> Migration:
    match = FILE_NAME.match(path.name)
    if not match:
        raise MigrationFileError(path, "file name has no version (expected e.g. 20240101120000_name.sql)")
    text = read_sql_file(path)
    markers = list(_MARKER.finditer(text))
    ups = [m for m in markers if m["direction"] == "up"]
    downs = [m for m in markers if m["direction"] == "down"]
    if len(ups) != 1 or len(downs) > 1:
        extra = (ups[1:] or downs[1:])[0]
        raise MigrationFileError(path, f"repeated '-- migrate:{extra['direction']}' marker", _line_of(text, extra.start()))
    up_marker = ups[0]
    down_marker = downs[0] if downs else None
    if down_marker is not None and down_marker.start() < up_marker.start():
        raise MigrationFileError(path, "'-- migrate:down' comes before '-- migrate:up'", _line_of(text, down_marker.start()))
    up_start = _next_line(text, up_marker.end())
    up_end = down_marker.start() if down_marker else len(text)
    up = Section(text[up_start:up_end], path, _line_of(text, up_start), file_text=text)
    down = None
    if down_marker is not None:
        down_start = _next_line(text, down_marker.end())
        down = Section(text[down_start:], path, _line_of(text, down_start), file_text=text)
    no_transaction = "transaction:false" in up_marker["options"].replace(" ", "")
    return Migration(
        version_of(match["version"], path), match["name"] or "", up, down, (path,), NAME,
        no_transaction_marker=no_transaction,
        transaction_rule="wrap",
    )


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _next_line(text: str, offset: int) -> int:
    newline = text.find("\n", offset)
    return len(text) if newline < 0 else newline + 1
