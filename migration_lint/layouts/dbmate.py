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
    sent_as_one_query = True
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
            "dbmate applies the first, then fails to record the second (duplicate key in schema_migrations) "
            "and from then on counts it as applied",
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


def split_dbmate(text: str, path: Path) -> tuple[Section, Section, dict[str, str], dict[str, str]]:
    """UP, DOWN and the options on their headings, as dbmate cuts the file.

    dbmate 2.x reads a file as one or more ``-- migrate:up`` ... ``-- migrate:down`` sections; the
    UP here is every up block and the DOWN every down block, each line in its place in the file.
    """
    ups = list(_UP.finditer(text))
    downs = list(_DOWN.finditer(text))
    if not ups:
        raise MigrationFileError(path, "dbmate refuses it: no '-- migrate:up' line")
    if not downs:
        raise MigrationFileError(path, "dbmate refuses it: no '-- migrate:down' line (dbmate requires a down block)")
    if downs[0].start() < ups[0].start():
        raise MigrationFileError(path, "dbmate refuses it: '-- migrate:down' comes before '-- migrate:up'",
                                 line_of(text, downs[0].start()))
    for number, line in enumerate(text[: ups[0].start()].split("\n"), start=1):
        if line.strip() and not line.lstrip().startswith("--"):
            raise MigrationFileError(path, "dbmate refuses it: statements before '-- migrate:up'", number)
    lines = text.split("\n")
    blocks = {"up": [""] * len(lines), "down": [""] * len(lines)}
    headings = sorted([(line_of(text, m.start()) - 1, "up") for m in ups] + [(line_of(text, m.start()) - 1, "down") for m in downs])
    for index, (line, direction) in enumerate(headings):
        end = headings[index + 1][0] if index + 1 < len(headings) else len(lines)
        blocks[direction][line + 1 : end] = lines[line + 1 : end]
    up = Section("\n".join(blocks["up"]), path, 1, file_text=text)
    down = Section("\n".join(blocks["down"]), path, 1, file_text=text)
    up_options = _options(text[ups[0].start(): next_line(text, ups[0].start())])
    down_options = _options(text[downs[0].start(): next_line(text, downs[0].start())])
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
