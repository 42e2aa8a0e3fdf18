"""What every layout shares: the directory listing, the result of loading one, and the base class.

A :class:`Layout` is one original tool's reading of a migrations directory: which entries are
migrations, which it ignores, how it identifies, orders and pairs them, and how it runs a section
(its transaction rule). Files are read through a *reader* (``model.read_sql_file`` by default), so
that the language server can hand over open editor buffers.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from ..model import TRANSACTION_RULES, Migration, MigrationFileError, Section, Version

Reader = Callable[[Path], str]


@dataclass(frozen=True)
class Entry:
    """One name in a migrations directory and what the file system says it is.

    ``kind``: ``"file"``, ``"dir"``, ``"dangling"`` (a symbolic link to nothing), ``"loop"`` (a
    symbolic link loop), ``"special"`` (a FIFO, socket or device), ``"unreadable"``.
    """

    name: str
    path: Path
    kind: str

    def refuse(self) -> None:
        """Raise the one-line error for an entry that names a migration but cannot be one."""
        if self.kind == "dangling":
            raise MigrationFileError(self.path, "is a symbolic link to a file that does not exist")
        if self.kind == "loop":
            raise MigrationFileError(self.path, "is a symbolic link loop (too many levels of symbolic links)")
        if self.kind == "special":
            raise MigrationFileError(self.path, "is not a regular file (a FIFO, socket or device)")
        if self.kind == "unreadable":
            raise MigrationFileError(self.path, "cannot be read: permission denied")
        if self.kind == "dir":
            raise MigrationFileError(self.path, "is a directory, not a SQL file")


def list_directory(directory: Path) -> list[Entry]:
    """The entries of ``directory`` sorted by name, hidden ones left out; one-line errors."""
    if not directory.exists():
        if directory.is_symlink():
            raise MigrationFileError(directory, "is a symbolic link to a directory that does not exist")
        raise MigrationFileError(directory, "no such directory")
    if not directory.is_dir():
        raise MigrationFileError(directory, "is not a directory")
    try:
        with os.scandir(directory) as scanned:
            found = [(entry.name, _kind(entry)) for entry in scanned if not entry.name.startswith(".")]
    except OSError as error:
        raise MigrationFileError(directory, f"cannot be listed: {_reason(error)}") from None
    return [Entry(name, directory / name, kind) for name, kind in sorted(found)]


def _kind(entry: os.DirEntry) -> str:
    try:
        # The listing already says what a plain entry is: no system call for it.
        if not entry.is_symlink():
            return "file" if entry.is_file() else "dir" if entry.is_dir() else "special"
        mode = os.stat(entry.path).st_mode
    except FileNotFoundError:
        return "dangling"
    except OSError as error:
        if error.errno == 40:  # ELOOP
            return "loop"
        return "unreadable"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "special"


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower() if error.strerror else str(error)


@dataclass
class LoadedDirectory:
    """What a layout found in a directory: migrations in the tool's order, and what it left out."""

    directory: Path
    layout: Layout
    migrations: list[Migration] = field(default_factory=list)
    # Entries the tool does not read, with why (a README, a .go file, a loose .sql in Diesel ...).
    ignored: list[tuple[Path, str]] = field(default_factory=list)
    # Things the tool accepts that are probably mistakes (an empty file, an UP without SQL ...).
    warnings: list[MigrationFileError] = field(default_factory=list)
    # ``True`` when the layout was detected, ``False`` when ``--layout`` or configuration chose it.
    detected: bool = True

    def ignore(self, path: Path, why: str) -> None:
        self.ignored.append((path, why))

    def warn(self, path: Path, message: str, line: int | None = None) -> None:
        self.warnings.append(MigrationFileError(path, message, line))


class Layout:
    """One tool's reading of a migrations directory. Subclasses set the attributes and ``load``."""

    name: str = ""
    aliases: tuple[str, ...] = ()
    tool: str = ""  # the original tool, as users know it
    followed: str = ""  # the function of the original tool this layout follows
    shape: str = ""  # what the directory looks like, for the README table and --help
    transaction_rule: str = "detect"
    # The tool sends each section as one query, not statement by statement (``Migration.sent_as_one_query``).
    sent_as_one_query: bool = False
    version_scheme: str = "numeric"

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        assert cls.transaction_rule in TRANSACTION_RULES, cls

    def load(self, directory: Path, entries: list[Entry], reader: Reader) -> LoadedDirectory:
        raise NotImplementedError

    # -- options of the tool that change how it runs a section (``golang-migrate?x-multi-statement=true``)
    def with_options(self, options: dict[str, str]) -> Layout:
        """This layout under the tool's ``options`` (as its users spell them); a ``ValueError``
        for an option the tool does not read."""
        if options:
            raise ValueError(f"layout {self.name} takes no options (given: {', '.join(options)})")
        return self

    @property
    def spec(self) -> str:
        """The name that chooses this layout with its options (``--layout``, the ``layout`` key)."""
        return self.name

    def parse_version(self, text: str, path: Path | None = None) -> Version:
        """``text`` in this layout's version scheme; a one-line error naming ``path``."""
        try:
            return Version.parse(text, self.version_scheme)
        except ValueError:
            raise MigrationFileError(path or Path(text), f"{text!r} is not a version number") from None

    # -- ``migrations new`` ----------------------------------------------------------------------
    def version_as_written(self, migration: Migration) -> str:
        """The version as the migration's file name spells it (``new`` continues its style)."""
        return migration.version.text

    def scaffold(self, directory: Path, newest: Migration | None, version: str, name: str,
                 up: str, down: str) -> dict[Path, str]:
        """The files ``migrations new`` writes for the next migration: path -> text."""
        raise NotImplementedError

    def migration(self, version: Version, name: str, up: Section, down: Section | None,
                  paths: Iterable[Path], **extra: object) -> Migration:
        """A :class:`Migration` of this layout, with its tool's transaction rule."""
        return Migration(version, name, up, down, tuple(paths), self.name,
                         transaction_rule=self.transaction_rule, sent_as_one_query=self.sent_as_one_query,
                         **extra)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<layout {self.name}>"


def section_of(path: Path, reader: Reader, text: str | None = None) -> Section:
    """The whole of ``path`` as one section."""
    text = reader(path) if text is None else text
    return Section(text, path, 1, file_text=text)


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def next_line(text: str, offset: int) -> int:
    newline = text.find("\n", offset)
    return len(text) if newline < 0 else newline + 1


def warn_if_empty(loaded: LoadedDirectory, migration: Migration) -> None:
    """Warn about an UP that holds no SQL: an empty file, comments only, or a marker alone."""
    up = migration.up
    if _holds_sql(up.sql):
        return
    text = up.file_text if up.file_text is not None else up.sql
    if not text.strip():
        loaded.warn(up.path, "is empty: the migration changes nothing")
    elif up.sql.strip() == text.strip():
        loaded.warn(up.path, "holds only comments: the migration changes nothing")
    else:
        loaded.warn(up.path, "has an UP section without SQL: the migration changes nothing", up.first_line)


_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def _holds_sql(text: str) -> bool:
    """Whether anything but comments, blanks and semicolons is left: cheap, no parse at load time."""
    return bool(_COMMENTS.sub("", text).replace(";", "").strip())


def refuse_duplicates(migrations: list[Migration], what_the_tool_does: str) -> None:
    """Two migrations with one version: one line naming both files and what the tool does."""
    seen: dict[object, Migration] = {}
    for migration in migrations:
        other = seen.get(migration.version.key)
        if other is not None:
            raise MigrationFileError(
                migration.path,
                f"duplicate version {migration.version}: also used by {_display(other.path, migration.path)}; "
                f"{what_the_tool_does}",
            )
        seen[migration.version.key] = migration


def _display(path: Path, beside: Path) -> str:
    """``path`` as short as it can be said next to ``beside``."""
    if path.parent == beside.parent:
        return path.name
    if path.parent.parent == beside.parent.parent:
        return f"{path.parent.name}/{path.name}"
    return str(path)
