"""``migrations new NAME``: the next migration file, in the layout the directory already uses.

The new file is named after the newest existing one (same prefix, separators, zero padding or
timestamp style), so a directory of ``V0026.StorageAAD.up.sql`` gets ``V0027.Name.up.sql`` and one
of ``20240519141105_x.up.sql`` gets the current UTC timestamp.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from migration_lint.layouts import dbmate, detect_layout, flyway, folders, onefile, paired
from migration_lint.model import Migration, MigrationFileError, discover

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


def _renamed(template: str, match: re.Match[str], version: str, name: str) -> str:
    """``template`` with the spans of its ``version`` and ``name`` groups replaced."""
    result = template[: match.start("version")] + version
    if match["name"] is not None:
        result += template[match.end("version") : match.start("name")] + name + template[match.end("name") :]
    else:
        result += "_" + name + template[match.end("version") :]
    return result


def new_migration(directory: Path | str, name: str, now: datetime | None = None) -> list[Path]:
    """Write the next migration of ``directory`` from a template; returns the files written."""
    directory = Path(directory)
    try:
        if not directory.exists():
            raise InputError(f"{display_path(directory)}: no such directory")
        layout = detect_layout(directory) or "onefile"
        migrations = discover(directory)
    except MigrationFileError as error:
        raise InputError(str(error)) from None
    newest: Migration | None = migrations[-1] if migrations else None
    separator = "-" if newest and "-" in newest.name and "_" not in newest.name else "_"
    clean = _clean_name(name, separator)
    version = next_version(_version_as_written(newest, layout) if newest else None, now)
    what = f"{clean}: write the migration here"
    body = _BODY.format(what=what)
    undo = _BODY.format(what="undo it here")

    def next_name(pattern: re.Pattern[str], template: str) -> str:
        # discover() only found ``newest`` because its name matches its layout's pattern.
        match = pattern.match(template)
        assert match is not None
        return _renamed(template, match, version, clean)

    if newest is None:
        files = {directory / f"{version}_{clean}.sql": f"-- UP\n{body}\n-- DOWN\n{undo}"}
    elif layout == "onefile":
        up_marker, down_marker = _onefile_markers(newest.path)
        files = {directory / next_name(onefile.FILE_NAME, newest.path.name): f"{up_marker}\n{body}\n{down_marker}\n{undo}"}
    elif layout == "paired":
        up_name = next_name(paired.FILE_NAME, newest.path.name)
        down_name = re.sub(r"\.up\.sql$", ".down.sql", up_name, flags=re.IGNORECASE)
        files = {directory / up_name: body, directory / down_name: undo}
    elif layout == "folders":
        target = directory / next_name(folders.DIRECTORY_NAME, newest.path.parent.name)
        files = {target / "up.sql": body, target / "down.sql": undo}
    elif layout == "dbmate":
        files = {directory / next_name(dbmate.FILE_NAME, newest.path.name): f"-- migrate:up\n{body}\n-- migrate:down\n{undo}"}
    elif layout == "flyway":
        up_name = next_name(flyway.FILE_NAME, newest.path.name)
        files = {directory / up_name: body, directory / ("U" + up_name[1:]): undo}
    else:  # pragma: no cover - a new layout must be taught here
        raise InputError(f"{display_path(directory)}: cannot write a {layout} migration yet")

    for path in files:
        if path.exists():
            raise InputError(f"{display_path(path)}: already exists")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def _onefile_markers(path: Path) -> tuple[str, str]:
    """The section markers the directory's newest file uses: goose, sql-migrate or plain."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for tool in ("goose", "migrate"):
        if re.search(rf"^--\s*\+{tool}\s+up\b", text, re.IGNORECASE | re.MULTILINE):
            return f"-- +{tool} Up", f"-- +{tool} Down"
    return "-- UP", "-- DOWN"


def _version_as_written(migration: Migration, layout: str) -> str:
    """The version as its file name spells it (``1_2`` for Flyway's ``V1_2__x``)."""
    if layout == "flyway":
        match = flyway.FILE_NAME.match(migration.path.name)
        if match and match["version"]:
            return match["version"]
    if layout == "folders":
        match = folders.DIRECTORY_NAME.match(migration.path.parent.name)
        if match:
            return match["version"].rstrip("-")
    return migration.version.text
