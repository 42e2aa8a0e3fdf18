"""dbmate: ``<version>_name.sql`` with ``-- migrate:up`` and ``-- migrate:down`` sections.

Follows dbmate's ``DB.FindMigrations`` (files matching ``^(\\d+).*\\.sql$``, the version being the
leading digits as a string, sorted by file name) and ``parseMigrationContents`` (the first
``-- migrate:up`` and the first ``-- migrate:down`` line cut the file; only comments may come
before the UP; ``transaction:false`` on a heading runs that direction outside a transaction, every
other direction runs in one transaction dbmate opens). Files that do not match are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import Migration, MigrationFileError, Section
from ._base import Entry, Layout, LoadedDirectory, Reader, line_of, next_line, refuse_duplicates, warn_if_empty
from .onefile import renamed

FILE_NAME = re.compile(r"^(?P<version>\d+)(?:_(?P<name>.*?))?(?:\.sql)+$")
_FIND = re.compile(r"^(\d+).*\.sql$")
_UP = re.compile(r"^--\s*migrate:up(\s*$|\s+\S+)", re.MULTILINE)
_DOWN = re.compile(r"^--\s*migrate:down(\s*$|\s+\S+)", re.MULTILINE)


class Dbmate(Layout):
    name = "dbmate"
    tool = "dbmate"
    followed = "dbmate: DB.FindMigrations, parseMigrationContents, parseMigrationOptions"
    shape = "`20240101120000_name.sql` with `-- migrate:up` / `-- migrate:down`"
    transaction_rule = "wrap"
    version_scheme = "dbmate"

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        for entry in entries:
            if not _FIND.match(entry.name):
                loaded.ignore(entry.path, "does not match dbmate's <digits>...sql: dbmate does not read it")
                continue
            if entry.kind == "dir":
                loaded.ignore(entry.path, "a directory: dbmate skips it")
                continue
            if entry.kind != "file":
                entry.refuse()
            migration = self._load_file(entry.path, reader(entry.path))
            warn_if_empty(loaded, migration)
            loaded.migrations.append(migration)
        loaded.migrations.sort(key=lambda m: m.path.name)
        refuse_duplicates(
            loaded.migrations,
            "dbmate records applied migrations by version, so it would apply the first and then fail "
            "to record the second (or skip it once the first is recorded)",
        )
        return loaded

    def _load_file(self, path: Path, text: str) -> Migration:
        digits = re.match(r"\d+", path.name)
        assert digits is not None
        name_match = FILE_NAME.match(path.name)
        name = (name_match["name"] or "") if name_match else path.name[len(digits[0]):].removesuffix(".sql").lstrip("_")
        up, down, up_options, down_options = split_dbmate(text, path)
        return self.migration(
            self.parse_version(digits[0], path), name, up, down, (path,),
            no_transaction_marker=up_options.get("transaction") == "false",
            down_no_transaction_marker=down_options.get("transaction") == "false",
        )

    def scaffold(self, directory: Path, newest: Migration | None, version: str, name: str,
                 up: str, down: str) -> dict[Path, str]:
        file_name = f"{version}_{name}.sql"
        if newest is not None:
            match = FILE_NAME.match(newest.path.name)
            if match:
                file_name = renamed(newest.path.name, match, version, name)
                file_name = re.sub(r"(\.sql)+$", ".sql", file_name)
        return {directory / file_name: f"-- migrate:up\n{up}\n-- migrate:down\n{down}"}


def split_dbmate(text: str, path: Path) -> tuple[Section, Section | None, dict[str, str], dict[str, str]]:
    """UP, DOWN and the options on their headings, as dbmate cuts the file."""
    up_marker = _UP.search(text)
    if up_marker is None:
        raise MigrationFileError(path, "dbmate refuses it: no '-- migrate:up' line")
    down_marker = _DOWN.search(text)
    if down_marker is not None and down_marker.start() < up_marker.start():
        raise MigrationFileError(path, "dbmate refuses it: '-- migrate:down' comes before '-- migrate:up'",
                                 line_of(text, down_marker.start()))
    for number, line in enumerate(text[: up_marker.start()].split("\n"), start=1):
        if line.strip() and not line.lstrip().startswith("--"):
            raise MigrationFileError(path, "dbmate refuses it: statements before '-- migrate:up'", number)
    up_start = next_line(text, up_marker.start())
    up_end = down_marker.start() if down_marker else len(text)
    up = Section(text[up_start:up_end], path, line_of(text, up_start), file_text=text)
    down = None
    if down_marker is not None:
        down_start = next_line(text, down_marker.start())
        down = Section(text[down_start:], path, line_of(text, down_start), file_text=text)
    up_options = _options(text[up_marker.start(): next_line(text, up_marker.start())])
    down_options = _options(text[down_marker.start(): next_line(text, down_marker.start())]) if down_marker else {}
    return up, down, up_options, down_options


def _options(heading: str) -> dict[str, str]:
    """``transaction:false foo:bar`` after ``-- migrate:up`` as a dict (dbmate's parseMigrationOptions)."""
    rest = re.sub(r"^--\s*migrate:(up|down)", "", heading.strip())
    options = {}
    for pair in rest.split():
        parts = pair.split(":")
        if len(parts) == 2:
            options[parts[0]] = parts[1]
    return options


def has_dbmate_marker(text: str) -> bool:
    return _UP.search(text) is not None


LAYOUT = Dbmate()
