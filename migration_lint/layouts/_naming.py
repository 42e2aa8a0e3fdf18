"""File-name patterns shared by the layouts."""

from __future__ import annotations

from pathlib import Path

from ..model import MigrationFileError, Version


def version_of(text: str, path: Path) -> Version:
    try:
        return Version.parse(text)
    except ValueError:
        raise MigrationFileError(path, f"{text!r} is not a version number") from None
