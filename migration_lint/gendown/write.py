"""Where each layout keeps a DOWN, and how it marks one that runs outside a transaction.

One function per layout, ``place_<layout>(migration, text, outside_transaction)``, each returning
the files to write (path -> whole new content) and the DOWN as the layout would read it back.
They belong with the layouts (``migration_lint/layouts/``) and are kept here, one each, so that
they can move there whole.

============  ========================================  ============================================
layout        the DOWN goes                             outside a transaction
============  ========================================  ============================================
onefile       the ``-- DOWN`` section (goose: ``-- +    nothing (a CONCURRENTLY statement says it);
              goose Down``, sql-migrate: ``-- +migrate  sql-migrate: ``-- +migrate Down notransaction``
              Down``), replacing the one there
paired        ``<version>_<name>.down.sql``             ``-- no-transaction`` first line when the UP
                                                        has it (sqlx)
folders       ``down.sql`` beside ``up.sql``            Diesel's ``metadata.toml`` covers both
dbmate        the ``-- migrate:down`` section           ``-- migrate:down transaction:false``
flyway        ``U<version>__<name>.sql``                ``U<version>__<name>.sql.conf``:
                                                        ``executeInTransaction=false``
============  ========================================  ============================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..model import Migration, Section
from ..layouts.dbmate import split_dbmate

__all__ = ["Placement", "place_down"]


@dataclass(frozen=True)
class Placement:
    """The files to write (path -> content) and the DOWN as the layout reads it back."""

    files: dict[Path, str]
    down: Section


def place_down(migration: Migration, text: str, *, outside_transaction: bool = False) -> Placement:
    """Put ``text`` where ``migration``'s layout keeps its DOWN (replacing the DOWN there)."""
    place = _PLACES.get(migration.layout)
    if place is None:
        raise ValueError(f"no known place for the DOWN of a {migration.layout} migration")
    return place(migration, text, outside_transaction)


def _in_section(migration: Migration, text: str, marker: str) -> Placement:
    """Replace the DOWN section of the UP's file (or add one after the UP) with ``text``."""
    path = migration.path
    whole = migration.up.file_text if migration.up.file_text is not None else path.read_text()
    lines = whole.split("\n")
    written = text
    commented = False
    if migration.down is not None and migration.down.path == path:
        start = migration.down.first_line - 1  # the line after the marker
        kept = lines[:start]
        if migration.down.commented_out:  # kept behind `-- `, as the file had it
            commented = True
            written = "\n".join(f"-- {line}" if line else line for line in text.rstrip("\n").split("\n")) + "\n"
    else:
        kept = whole.rstrip("\n").split("\n") + ["", marker]
        start = len(kept)
    content = "\n".join(kept) + "\n" + written
    return Placement({path: content}, Section(text, path, start + 1, commented_out=commented, file_text=content))


def place_onefile(migration: Migration, text: str, outside_transaction: bool) -> Placement:
    up_text = migration.up.file_text or ""
    if re.search(r"^--\s*\+goose\s+up", up_text, re.IGNORECASE | re.MULTILINE):
        marker = "-- +goose Down"
    elif re.search(r"^--\s*\+migrate\s+up", up_text, re.IGNORECASE | re.MULTILINE):
        marker = "-- +migrate Down" + (" notransaction" if outside_transaction else "")
    else:
        marker = "-- DOWN"
    if migration.down is None and not re.search(r"^--\s*(\+goose\s+|\+migrate\s+)?up\b", up_text, re.IGNORECASE | re.MULTILINE):
        # a file that is all UP: it gains both markers
        path = migration.path
        content = "-- UP\n" + up_text.rstrip("\n") + "\n\n-- DOWN\n" + text
        first = content.count("\n", 0, content.index("\n-- DOWN\n") + len("\n-- DOWN\n")) + 1
        return Placement({path: content}, Section(text, path, first, file_text=content))
    return _in_section(migration, text, marker)


def place_dbmate(migration: Migration, text: str, outside_transaction: bool) -> Placement:
    marker = "-- migrate:down" + (" transaction:false" if outside_transaction else "")
    path = migration.path
    whole = migration.up.file_text if migration.up.file_text is not None else path.read_text()
    lines = whole.rstrip("\n").split("\n")
    headings = [n for n, line in enumerate(lines) if re.match(r"^--\s*migrate:(up|down)\b", line)]
    downs = [n for n in headings if re.match(r"^--\s*migrate:down\b", lines[n])]
    if len(downs) > 1 or (downs and downs[0] != headings[-1]):
        # dbmate joins several up/down blocks: which one to replace is the author's call
        raise ValueError(f"{path.name} has several '-- migrate:' blocks: write its DOWN by hand")
    if downs:
        kept = lines[: downs[0]] + [marker if outside_transaction else lines[downs[0]]]
    else:
        kept = lines + ["", marker]
    content = "\n".join(kept) + "\n" + text
    _, down, _, _ = split_dbmate(content, path)  # the section as the layout reads it back
    return Placement({path: content}, down)


def place_paired(migration: Migration, text: str, outside_transaction: bool) -> Placement:
    up = migration.path
    path = migration.down.path if migration.down is not None else up.with_name(
        re.sub(r"\.up\.sql$", ".down.sql", up.name, flags=re.IGNORECASE))  # fmt: skip
    if outside_transaction and migration.no_transaction_marker:
        text = "-- no-transaction\n" + text
    return Placement({path: text}, Section(text, path, file_text=text))


def place_folders(migration: Migration, text: str, outside_transaction: bool) -> Placement:
    path = migration.path.parent / "down.sql"
    return Placement({path: text}, Section(text, path, file_text=text))


def place_flyway(migration: Migration, text: str, outside_transaction: bool) -> Placement:
    up = migration.path
    path = migration.down.path if migration.down is not None else up.with_name("U" + up.name[1:])
    files = {path: text}
    if outside_transaction:
        files[path.with_name(path.name + ".conf")] = "executeInTransaction=false\n"
    return Placement(files, Section(text, path, file_text=text))


_PLACES = {
    "onefile": place_onefile,
    "goose": place_onefile,
    "sql-migrate": place_onefile,
    "paired": place_paired,
    "sqlx": place_paired,
    "golang-migrate": place_paired,
    "folders": place_folders,
    "diesel": place_folders,
    "dbmate": place_dbmate,
    "flyway": place_flyway,
}
