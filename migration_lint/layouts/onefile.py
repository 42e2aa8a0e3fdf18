"""One file per migration, ``NNN_description.sql``, with ``-- UP`` and ``-- DOWN`` sections.

This is the layout of projects that apply migrations by hand. The UP may wrap itself in
``BEGIN; ... COMMIT;``. The DOWN may be commented out, one statement a line behind ``-- ``, so
that feeding the whole file to ``psql`` runs only the UP; such a DOWN is read uncommented.

goose (``-- +goose Up`` / ``-- +goose Down``, ``-- +goose NO TRANSACTION``) and sql-migrate
(``-- +migrate Up`` / ``-- +migrate Down``, ``-- +migrate Up notransaction``) files are the same
shape and load here too. A file without any marker is all UP, with no DOWN.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..model import UNVERSIONED, Migration, MigrationFileError, Section, read_sql_file
from ..parse import parses
from ._naming import is_file, version_of

NAME = "onefile"

FILE_NAME = re.compile(r"^V?(?P<version>\d+(?:\.\d+)*)(?:[_.-](?P<name>.*))?\.sql$", re.IGNORECASE)

# ``-- UP`` alone on its line (trailing dashes or a colon allowed), or a goose/sql-migrate marker.
_PLAIN_MARKER = re.compile(r"^--\s*(?P<direction>up|down)\s*[:=-]*\s*$", re.IGNORECASE)
_TOOL_MARKER = re.compile(
    r"^--\s*\+(?P<tool>goose|migrate)\s+(?P<direction>up|down)\b(?P<options>.*)$", re.IGNORECASE
)
_GOOSE_NO_TRANSACTION = re.compile(r"^--\s*\+goose\s+no\s+transaction\s*$", re.IGNORECASE | re.MULTILINE)


def claims(entry: Path, kind: str | None = None) -> bool:
    return entry.suffix.lower() == ".sql" and is_file(entry, kind)


def load(entries: list[Path]) -> list[Migration]:
    return [load_file(entry, require_version=True) for entry in entries]


def load_file(path: Path, *, require_version: bool) -> Migration:
    match = FILE_NAME.match(path.name)
    if match:
        version, name = version_of(match["version"], path), match["name"] or ""
    elif require_version:
        raise MigrationFileError(
            path, "file name has no version number (expected e.g. 012_add_orders.sql)"
        )
    else:
        version, name = UNVERSIONED, path.stem
    text = read_sql_file(path)
    up, down, no_transaction = split_sections(text, path)
    return Migration(version, name, up, down, (path,), NAME, no_transaction_marker=no_transaction)


def _markers(lines: list[str]) -> list[tuple[int, str, str]]:
    found = []
    for number, line in enumerate(lines):
        stripped = line.strip()
        plain = _PLAIN_MARKER.match(stripped)
        if plain:
            found.append((number, plain["direction"].lower(), ""))
            continue
        tool = _TOOL_MARKER.match(stripped)
        if tool:
            found.append((number, tool["direction"].lower(), tool["options"].strip().lower()))
    return found


def split_sections(text: str, path: Path) -> tuple[Section, Section | None, bool]:
    lines = text.split("\n")
    markers = _markers(lines)
    no_transaction = bool(_GOOSE_NO_TRANSACTION.search(text))
    if not markers:
        return Section(text, path, 1, file_text=text), None, no_transaction

    ups = [m for m in markers if m[1] == "up"]
    downs = [m for m in markers if m[1] == "down"]
    if not ups:
        raise MigrationFileError(path, "has a DOWN section but no UP section (no '-- UP' line)", downs[0][0] + 1)
    for direction, found in (("UP", ups), ("DOWN", downs)):
        if len(found) > 1:
            raise MigrationFileError(path, f"has a second '-- {direction}' marker", found[1][0] + 1)
    up_line, _, up_options = ups[0]
    if downs and downs[0][0] < up_line:
        raise MigrationFileError(path, "the DOWN section comes before the UP section", downs[0][0] + 1)
    preamble = "\n".join(lines[:up_line])
    if not _only_comments(preamble):
        raise MigrationFileError(path, "SQL before the '-- UP' marker", _first_code_line(lines[:up_line]))
    no_transaction = no_transaction or "notransaction" in up_options

    up_end = downs[0][0] if downs else len(lines)
    up = Section("\n".join(lines[up_line + 1 : up_end]), path, up_line + 2, file_text=text)
    if not downs:
        return up, None, no_transaction
    down_line = downs[0][0]
    down_text = "\n".join(lines[down_line + 1 :])
    down = Section(down_text, path, down_line + 2, file_text=text)
    if down.is_empty:
        uncommented = uncomment(down_text)
        if uncommented is not None:
            down = Section(uncommented, path, down_line + 2, commented_out=True, file_text=text)
    return up, down, no_transaction


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
