"""File-name patterns shared by the layouts."""

from __future__ import annotations

from pathlib import Path

from ..model import MigrationFileError, Version


def is_file(entry: Path, kind: str | None) -> bool:
    """Whether ``entry`` is a file: ``kind`` is what a directory listing said (``"file"``,
    ``"dir"``, ``"other"``), ``None`` to ask the file system."""
    return entry.is_file() if kind is None else kind == "file"


def version_of(text: str, path: Path) -> Version:
    try:
        return Version.parse(text)
    except ValueError:
        raise MigrationFileError(path, f"{text!r} is not a version number") from None
