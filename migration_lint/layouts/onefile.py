"""This project's own layout: ``NNN_description.sql`` with ``-- UP`` and ``-- DOWN`` sections.

It is what projects that apply migrations by hand write, and what ``migrations new`` writes. A
heading may carry text after the word (``-- DOWN (in separate file or section)``); the DOWN may be
commented out, one statement a line behind ``-- ``, so that feeding the whole file to ``psql`` runs
only the UP; or it may sit in a file of its own, ``NNN_description.down.sql``, beside the UP,
chosen migration by migration. A file without any heading is all UP. Sections may hold their own
``BEGIN; ... COMMIT;``.

Ignored: files that are not ``.sql``, and ``.sql`` files with neither a version in their name nor a
``-- UP`` heading (a report query, a seed script). A ``.sql`` file that has headings but no version
is refused: the runner could not place it in the order.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import UNVERSIONED, Migration, MigrationFileError, Section, Version
from ..parse import parses
from ._base import Entry, Layout, LoadedDirectory, Reader, refuse_duplicates, warn_if_empty

FILE_NAME = re.compile(r"^V?(?P<version>\d+(?:\.\d+)*)(?:[_.-](?P<name>.*))?\.sql$", re.IGNORECASE)
_DOWN_FILE = re.compile(r"\.down\.sql$", re.IGNORECASE)

# ``-- UP`` alone on its line in any case (trailing dashes, ``:`` or ``=`` allowed), or ``-- UP``
# / ``-- DOWN`` in capitals followed by any text that does not continue the word.
_HEADING = re.compile(
    r"^--\s*(?:(?P<alone>up|down)\s*[:=-]*\s*|(?P<titled>UP|DOWN)(?:\W.*)?)$", re.IGNORECASE
)


def _heading(line: str) -> str | None:
    match = _HEADING.match(line.strip())
    if match is None:
        return None
    if match["titled"] is not None and not match["titled"].isupper():
        return None
    return (match["alone"] or match["titled"]).lower()


class OneFile(Layout):
    name = "onefile"
    tool = "this project (hand-run SQL, psql -f)"
    followed = "migration_lint.layouts.onefile (this project's own runner is the tool)"
    shape = "`012_name.sql` with `-- UP` / `-- DOWN`; the DOWN may be commented out or in `012_name.down.sql`"
    transaction_rule = "detect"

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        loaded = LoadedDirectory(directory, self)
        sql = [e for e in entries if e.name.lower().endswith(".sql")]
        downs = {e.name[: -len(".down.sql")].lower(): e for e in sql if _DOWN_FILE.search(e.name)}
        used_downs: set[str] = set()
        for entry in entries:
            if not entry.name.lower().endswith(".sql"):
                loaded.ignore(entry.path, "not a .sql file")
                continue
            if _DOWN_FILE.search(entry.name):
                continue
            match = FILE_NAME.match(entry.name)
            if entry.kind != "file":
                if match:
                    entry.refuse()
                loaded.ignore(entry.path, "not a file")
                continue
            text = reader(entry.path)
            if match is None:
                markers = _markers(text.split("\n"))
                if not markers:
                    loaded.ignore(entry.path, "no version in its name and no '-- UP' heading: not a migration")
                    continue
                raise MigrationFileError(
                    entry.path,
                    "has '-- UP'/'-- DOWN' headings but no version in its name, so it has no place in "
                    "the order: rename it NNN_name.sql or move it out of the directory",
                    markers[0][0] + 1,
                )
            stem = entry.name[: -len(".sql")].lower()
            down_entry = downs.get(stem)
            if down_entry is not None:
                used_downs.add(stem)
            migration = self.migration_of_file(entry.path, text, down_entry, reader,
                                               self.parse_version(match["version"], entry.path), match["name"] or "")
            warn_if_empty(loaded, migration)
            loaded.migrations.append(migration)
        for stem, entry in downs.items():
            if stem not in used_downs:
                if entry.kind != "file":
                    entry.refuse()
                raise MigrationFileError(entry.path, f"DOWN without an UP: no {entry.name[: -len('.down.sql')]}.sql beside it")
        loaded.migrations.sort(key=lambda m: m.version.key)
        refuse_duplicates(loaded.migrations, "the runner refuses a directory where two files claim one version")
        return loaded

    def migration_of_file(self, path: Path, text: str, down_entry: Entry | None, reader: Reader,
                          version: Version, name: str) -> Migration:
        up, down, no_transaction = split_sections(text, path)
        paths: tuple[Path, ...] = (path,)
        if down_entry is not None:
            if down_entry.kind != "file":
                down_entry.refuse()
            if down is not None and not down.commented_out and not down.is_empty:
                raise MigrationFileError(
                    down_entry.path,
                    f"a second DOWN: {path.name} has a '-- DOWN' section with SQL too; keep one of them",
                )
            down_text = reader(down_entry.path)
            down = Section(down_text, down_entry.path, 1, file_text=down_text)
            paths = (path, down_entry.path)
        return self.migration(version, name, up, down, paths, no_transaction_marker=no_transaction)

    def version_as_written(self, migration: Migration) -> str:
        return migration.version.text

    def scaffold(self, directory: Path, newest: Migration | None, version: str, name: str,
                 up: str, down: str) -> dict[Path, str]:
        if newest is None:
            return {directory / f"{version}_{name}.sql": f"-- UP\n{up}\n-- DOWN\n{down}"}
        match = FILE_NAME.match(newest.path.name)
        assert match is not None
        file_name = renamed(newest.path.name, match, version, name)
        if len(newest.paths) > 1 and newest.down is not None and newest.down.path != newest.path:
            down_name = file_name[: -len(".sql")] + ".down.sql"
            return {directory / file_name: f"-- UP\n{up}", directory / down_name: down}
        return {directory / file_name: f"-- UP\n{up}\n-- DOWN\n{down}"}


def renamed(template: str, match: re.Match[str], version: str, name: str) -> str:
    """``template`` with the spans of its ``version`` and ``name`` groups replaced."""
    result = template[: match.start("version")] + version
    if match["name"] is not None:
        result += template[match.end("version") : match.start("name")] + name + template[match.end("name") :]
    else:
        result += "_" + name + template[match.end("version") :]
    return result


def load_loose_file(path: Path, text: str) -> Migration:
    """A ``.sql`` file read on its own, whatever its name (``migration-lint FILE``).

    With a version in its name, or ``-- UP`` headings, it is a migration like one of a directory
    (a missing DOWN is one, its transaction is the runner's); otherwise it is a script run as it is.
    """
    match = FILE_NAME.match(path.name)
    up, down, no_transaction = split_sections(text, path)
    if match:
        version, name = Version.parse(match["version"]), match["name"] or ""
    elif _markers(text.split("\n")):
        # No place in any order, but a migration all the same: it is linted as one.
        version, name = Version(path.stem, ()), ""
    else:
        version, name = UNVERSIONED, path.stem
    return LAYOUT.migration(version, name, up, down, (path,), no_transaction_marker=no_transaction)


def has_headings(text: str) -> bool:
    """Whether ``text`` has a ``-- UP`` or ``-- DOWN`` heading (or a goose/sql-migrate/dbmate marker)."""
    return bool(_markers(text.split("\n"))) or _ANY_TOOL_MARKER.search(text) is not None


_ANY_TOOL_MARKER = re.compile(r"^--\s*(?:\+goose\s+up|\+migrate\s+up|migrate:up)\b", re.IGNORECASE | re.MULTILINE)


def _markers(lines: list[str]) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(lines):
        if not line.startswith("--") and not line.lstrip().startswith("--"):
            continue
        direction = _heading(line)
        if direction is not None:
            found.append((number, direction))
    return found


def split_sections(text: str, path: Path) -> tuple[Section, Section | None, bool]:
    """UP, DOWN (or ``None``) and ``False`` (this layout reads no no-transaction marker)."""
    lines = text.split("\n")
    markers = _markers(lines)
    if not markers:
        return Section(text, path, 1, file_text=text), None, False
    ups = [m for m in markers if m[1] == "up"]
    downs = [m for m in markers if m[1] == "down"]
    if not ups:
        raise MigrationFileError(path, "has a DOWN section but no UP section (no '-- UP' line)", downs[0][0] + 1)
    for direction, found in (("UP", ups), ("DOWN", downs)):
        if len(found) > 1:
            raise MigrationFileError(path, f"has a second '-- {direction}' heading", found[1][0] + 1)
    up_line = ups[0][0]
    if downs and downs[0][0] < up_line:
        raise MigrationFileError(path, "the DOWN section comes before the UP section", downs[0][0] + 1)
    preamble = "\n".join(lines[:up_line])
    if not _only_comments(preamble):
        raise MigrationFileError(path, "SQL before the '-- UP' heading", _first_code_line(lines[:up_line]))
    up_end = downs[0][0] if downs else len(lines)
    up = Section("\n".join(lines[up_line + 1 : up_end]), path, up_line + 2, file_text=text)
    if not downs:
        return up, None, False
    down_line = downs[0][0]
    down_text = "\n".join(lines[down_line + 1 :])
    down = Section(down_text, path, down_line + 2, file_text=text)
    if down.is_empty:
        uncommented = uncomment(down_text)
        if uncommented is not None:
            down = Section(uncommented, path, down_line + 2, commented_out=True, file_text=text)
    return up, down, False


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.split("\n")) and (
        "/*" not in text
    )


def _first_code_line(lines: list[str]) -> int:
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.strip().startswith("--"):
            return number
    return 1


_COMMENT_PREFIX = re.compile(r"^(\s*)-- ?")


def uncomment(text: str) -> str | None:
    """The SQL of a DOWN written behind ``-- ``, or ``None`` when the comments hold no SQL.

    Lines keep their numbers and statements their columns: prose lines (comments that are not SQL, such as
    ``-- drop the table again``) become blank, so statements still point at the right line.
    """
    # The ``-- `` becomes blanks rather than going away, so columns stay those of the file.
    lines = [_COMMENT_PREFIX.sub(_blank_out, line) if line.strip() else line for line in text.split("\n")]
    candidate = "\n".join(lines)
    if not candidate.strip():
        return None
    if parses(candidate):
        return candidate
    # Group lines into statements ending with ';'; keep the tail of each group that parses.
    kept = [""] * len(lines)
    group: list[int] = []
    for number, line in enumerate(lines):
        group.append(number)
        if line.rstrip().endswith(";"):
            _keep_parsable_tail(lines, group, kept)
            group = []
    if group:
        _keep_parsable_tail(lines, group, kept)
    result = "\n".join(kept)
    return result if result.strip() else None


def _blank_out(match: re.Match[str]) -> str:
    return match[1] + " " * (len(match[0]) - len(match[1]))


def _keep_parsable_tail(lines: list[str], group: list[int], kept: list[str]) -> None:
    for skip in range(len(group)):
        tail = group[skip:]
        text = "\n".join(lines[n] for n in tail)
        if text.strip() and text.strip() != ";" and parses(text):
            for n in tail:
                kept[n] = lines[n]
            return


LAYOUT = OneFile()
