"""On-disk layouts of migrations: the only loader, one :class:`Layout` per original tool.

================  ====================================================================  ========
layout            files                                                                 runs a
                                                                                        section
================  ====================================================================  ========
onefile           ``012_name.sql`` with ``-- UP`` / ``-- DOWN`` (DOWN maybe in            detect
                  ``012_name.down.sql``)
goose             ``00001_name.sql`` with ``-- +goose Up`` / ``-- +goose Down``           wrap
sql-migrate       ``1677078479.sql`` with ``-- +migrate Up`` / ``-- +migrate Down``       wrap
dbmate            ``20240101120000_name.sql`` with ``-- migrate:up`` / ``-- migrate:down``  wrap
sqlx              ``20240101_name.up.sql`` + ``.down.sql``                                wrap
golang-migrate    ``12_name.up.sql`` + ``12_other.down.sql``                              implicit
paired            ``V0001.Name.up.sql`` + ``.down.sql``                                   detect
diesel            ``2024-01-01-000000_name/up.sql`` + ``down.sql``                         wrap
flyway            ``V1.2__name.sql`` + ``U1.2__name.sql``, ``R__name.sql``                detect
================  ====================================================================  ========

A tool's option that changes how it runs a section follows the name after ``?``, as in the tool's
database URL: ``golang-migrate?x-multi-statement=true`` runs under the rule ``split``
(:meth:`Layout.with_options`, read only by :func:`layout_named`).

:data:`LAYOUTS` is the one list of them. :func:`load_directory` detects the layout of a directory
(or takes the one the user names) and returns a :class:`LoadedDirectory`: the migrations in the
tool's order, the entries the tool ignores, and warnings. Detection looks at the shapes present:
folders holding ``up.sql``, ``*.up.sql`` pairs, Flyway names, and for single files the markers
inside (goose, sql-migrate, dbmate, else this project's ``-- UP``). Two shapes in one directory
are an error naming a file of each; files only the chosen tool ignores are listed, never refused.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Migration, MigrationFileError, read_sql_file
from ._base import Entry, Layout, LoadedDirectory, Reader, list_directory
from .dbmate import LAYOUT as DBMATE
from .dbmate import has_dbmate_marker, split_dbmate
from .flyway import LAYOUT as FLYWAY
from .flyway import looks_like_flyway
from .folders import LAYOUT as DIESEL
from .goose import LAYOUT as GOOSE
from .goose import has_goose_marker, split_goose
from .onefile import LAYOUT as ONEFILE
from .onefile import load_loose_file
from .paired import GOLANG, PAIRED, SQLX, choose
from .sql_migrate import LAYOUT as SQL_MIGRATE
from .sql_migrate import has_sql_migrate_marker

LAYOUTS: tuple[Layout, ...] = (ONEFILE, GOOSE, SQL_MIGRATE, DBMATE, SQLX, GOLANG, PAIRED, DIESEL, FLYWAY)
_BY_NAME = {name: layout for layout in LAYOUTS for name in (layout.name, *layout.aliases)}
# What ``--layout`` and the ``layout`` configuration key accept.
LAYOUT_NAMES: tuple[str, ...] = tuple(_BY_NAME)

__all__ = [
    "LAYOUTS", "LAYOUT_NAMES", "Entry", "Layout", "LoadedDirectory", "NotAMigration", "Reader",
    "detect_layout", "discover", "layout_named", "load_directory", "load_file", "load_text",
]


class NotAMigration(MigrationFileError):
    """A file the layouts do not read as a migration (a report query, a README): skipped, not an error."""


def layout_named(name: str) -> Layout:
    """The layout called ``name`` (or one of its aliases), with the options of its tool written
    after a ``?`` as in the tool's database URL (``golang-migrate?x-multi-statement=true``); a
    one-line error listing the names, or naming the option."""
    base, _, query = name.partition("?")
    layout = _BY_NAME.get(base.strip().lower().replace(" ", "-"))
    if layout is None:
        raise ValueError(f"unknown layout {base!r}: choose one of {', '.join(layout.name for layout in LAYOUTS)}")
    if not query.strip():
        return layout
    from urllib.parse import parse_qsl

    try:
        options = dict(parse_qsl(query.strip(), keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise ValueError(f"layout {name!r}: write its options as key=value, joined by '&'") from None
    return layout.with_options(options)


def load_directory(directory: Path | str, layout: str | Layout | None = None,
                   reader: Reader | None = None) -> LoadedDirectory:
    """The migrations of ``directory`` as ``layout`` (detected when ``None``) reads them."""
    directory = Path(directory)
    read = _memo(reader or read_sql_file)
    entries = list_directory(directory)
    chosen = layout_named(layout) if isinstance(layout, str) else layout
    detected = chosen is None
    if chosen is None:
        chosen = _detect(entries, read)
    if chosen is None:
        loaded = LoadedDirectory(directory, ONEFILE)
        for entry in entries:
            loaded.ignore(entry.path, "not a .sql file")
        loaded.detected = True
        return loaded
    loaded = chosen.load(directory, entries, read)
    loaded.detected = detected
    return loaded


def discover(directory: Path | str, layout: str | Layout | None = None, reader: Reader | None = None) -> list[Migration]:
    """All migrations of ``directory`` in the order its tool applies them.

    Raises :class:`MigrationFileError` (one line naming file and cause) for a directory mixing
    layouts, two migrations claiming one version, unreadable or non-UTF-8 files.
    """
    return load_directory(directory, layout, reader).migrations


def detect_layout(directory: Path | str, reader: Reader | None = None) -> str | None:
    """The name of the layout of ``directory``, or ``None`` when it holds no migration at all."""
    found = _detect(list_directory(Path(directory)), _memo(reader or read_sql_file))
    return None if found is None else found.name


def load_file(path: Path | str, reader: Reader | None = None) -> Migration:
    """One SQL file read on its own, whatever its directory holds (``migration-lint FILE``)."""
    path = Path(path)
    return load_text((reader or read_sql_file)(path), path)


def load_text(text: str, path: Path) -> Migration:
    """``text`` as the migration file ``path``, read by the tool whose markers it carries.

    Without a version in its name and without markers it is a plain script, run as it is: its
    version is ``UNVERSIONED``.
    """
    for layout, has_marker in ((GOOSE, has_goose_marker), (SQL_MIGRATE, has_sql_migrate_marker),
                               (DBMATE, has_dbmate_marker)):
        if has_marker(text):
            return _load_marked(layout, text, path)
    return load_loose_file(path, text)


def _load_marked(layout: Layout, text: str, path: Path) -> Migration:
    digits = re.match(r"\d+", path.name)
    if layout is GOOSE:
        up, down, no_transaction = split_goose(text, path)
        down_marker = None
    elif layout is DBMATE:
        up, down, up_options, down_options = split_dbmate(text, path)
        no_transaction, down_marker = up_options.get("transaction") == "false", down_options.get("transaction") == "false"
    else:
        from .sql_migrate import split_sql_migrate

        up, down, no_transaction, down_marker = split_sql_migrate(text, path)
    if layout is SQL_MIGRATE:
        version = layout.parse_version(path.name.removesuffix(".sql"), path)
    elif digits is not None:
        version = layout.parse_version(digits[0], path)
    else:
        from ..model import Version

        version = Version(path.stem, ())  # marked, so a migration, but without a place in any order
    name = path.stem[len(digits[0]):].lstrip("_-") if digits is not None and layout is not SQL_MIGRATE else ""
    return layout.migration(version, name, up, down, (path,), no_transaction_marker=no_transaction,
                            down_no_transaction_marker=down_marker)


def _memo(reader: Reader) -> Reader:
    texts: dict[Path, str] = {}

    def read(path: Path) -> str:
        text = texts.get(path)
        if text is None:
            text = texts[path] = reader(path)
        return text

    return read


def _detect(entries: list[Entry], read: Reader) -> Layout | None:
    """The layout whose shape the entries have; two shapes are an error naming a file of each."""
    shapes: dict[str, Entry] = {}
    marked: dict[Layout, Entry] = {}
    plain_sql: list[Entry] = []
    for entry in entries:
        lower = entry.name.lower()
        if entry.kind == "dir":
            if _holds_up_sql(entry.path):
                shapes.setdefault("diesel", entry)
            continue
        if lower.endswith(".up.sql"):
            shapes.setdefault("pairs", entry)
        elif looks_like_flyway(entry.name):
            shapes.setdefault("flyway", entry)
        elif lower.endswith(".sql") and not lower.endswith(".down.sql"):
            plain_sql.append(entry)
    if not shapes or list(shapes) == ["pairs"]:
        for entry in plain_sql:
            if entry.kind != "file":
                continue
            text = read(entry.path)
            for layout, has_marker in ((GOOSE, has_goose_marker), (SQL_MIGRATE, has_sql_migrate_marker),
                                       (DBMATE, has_dbmate_marker)):
                if has_marker(text):
                    marked.setdefault(layout, entry)
                    break
    for layout, entry in marked.items():
        shapes.setdefault(layout.name, entry)
    if len(shapes) > 1:
        (first, first_entry), (second, second_entry) = list(shapes.items())[:2]
        raise MigrationFileError(
            second_entry.path,
            f"mixes layouts: this is {_shape_name(second)}, but {first_entry.name} is {_shape_name(first)}; "
            "keep one layout per directory, or name one with --layout",
        )
    if not shapes:
        return ONEFILE if plain_sql or any(e.name.lower().endswith(".down.sql") for e in entries) else None
    (shape, _), = shapes.items()
    if shape == "diesel":
        return DIESEL
    if shape == "flyway":
        return FLYWAY
    if shape == "pairs":
        return choose(entries, read)
    return _BY_NAME[shape]


def _shape_name(shape: str) -> str:
    return {"pairs": "a pair of .up.sql/.down.sql files", "diesel": "a Diesel migration folder",
            "flyway": "a Flyway migration"}.get(shape, f"a {shape} migration")


def _holds_up_sql(folder: Path) -> bool:
    try:
        return (folder / "up.sql").exists()
    except OSError:
        return False
