"""``migrations new NAME``: the next migration file, in the layout the directory already uses.

The version continues the newest migration's style (same prefix, separators, zero padding or
timestamp style), so a directory of ``V0026.StorageAAD.up.sql`` gets ``V0027.Name.up.sql`` and one
of ``20240519141105_x.up.sql`` gets the current UTC timestamp; the layout
(:meth:`migration_lint.layouts.Layout.scaffold`) says which files to write and with what markers.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from migration_lint.layouts import layout_named, load_directory
from migration_lint.model import Migration, MigrationFileError

from ._errors import InputError, display_path

LOCK_TIMEOUT_LINE = "SET lock_timeout = '5s';"
_BODY = (
    f"{LOCK_TIMEOUT_LINE}  -- give up rather than queue behind a long transaction and block others\n"
    "\n"
    "-- {what}\n"
)

_TIMESTAMP_FORMATS = {
    r"\d{14}": "%Y%m%d%H%M%S",
    r"\d{12}": "%Y%m%d%H%M",
    r"\d{4}-\d{2}-\d{2}-\d{6}": "%Y-%m-%d-%H%M%S",
}


def _clean_name(name: str, separator: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", separator, name.strip()).strip(separator)
    if not cleaned:
        raise InputError(f"{name!r} is not a usable migration name (use letters, digits and _)")
    return cleaned


def next_version(previous: str | None, now: datetime | None = None) -> str:
    """The version after ``previous`` in the same style: ``009`` -> ``010``, timestamps -> now."""
    if previous is None:
        return "001"
    for pattern, time_format in _TIMESTAMP_FORMATS.items():
        if re.fullmatch(pattern, previous) and previous[:2] in ("19", "20"):
            stamp = (now or datetime.now(timezone.utc)).strftime(time_format)
            if stamp <= previous:  # a clock behind the newest file still moves forward
                digits = re.sub(r"\D", "", previous)
                return str(int(digits) + 1) if "-" not in previous else previous[:-6] + str(int(previous[-6:]) + 1).zfill(6)
            return stamp
    parts = re.split(r"([._])", previous)
    last = parts[-1]
    parts[-1] = str(int(last) + 1).zfill(len(last))
    return "".join(parts)


def new_migration(directory: Path | str, name: str, now: datetime | None = None,
                  layout: str | None = None) -> list[Path]:
    """Write the next migration of ``directory`` from a template; returns the files written."""
    directory = Path(directory)
    try:
        if not directory.exists():
            raise InputError(f"{display_path(directory)}: no such directory")
        try:
            chosen = layout_named(layout) if layout else None
        except ValueError as error:
            raise InputError(f"--layout: {error}") from None
        loaded = load_directory(directory, chosen)
    except MigrationFileError as error:
        raise InputError(str(error)) from None
    versioned = [m for m in loaded.migrations if not m.repeatable]
    newest: Migration | None = versioned[-1] if versioned else None
    target = loaded.layout if (newest is not None or chosen is not None) else layout_named("onefile")
    separator = "-" if newest and "-" in newest.name and "_" not in newest.name else "_"
    clean = _clean_name(name, separator)
    version = next_version(target.version_as_written(newest) if newest else None, now)
    files = target.scaffold(directory, newest, version, clean, _BODY.format(what=f"{clean}: write the migration here"),
                            _BODY.format(what="undo it here"))
    for path in files:
        if path.exists():
            raise InputError(f"{display_path(path)}: already exists")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
