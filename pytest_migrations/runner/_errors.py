"""Errors of the runner: one line each, with the exit code the CLI returns."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..pgerrors import PytestMigrationsError

EXIT_OK = 0
EXIT_FAILED = 1  # a migration failed, the database disagrees with the files, a check failed
EXIT_USAGE = 2  # bad arguments, unreadable or invalid migration files, bad settings


class RunnerError(PytestMigrationsError):
    """A refusal or failure, as one line; ``exit_code`` is 1 (failed) or 2 (bad input)."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED, *, hint: str | None = None) -> None:
        self.message = message
        self.exit_code = exit_code
        self.hint = hint
        self.report: Any = None  # the RunReport of a run that failed midway
        super().__init__(self.line)

    @property
    def line(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class InputError(RunnerError):
    """Bad migration files or settings: exit 2."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, EXIT_USAGE, hint=hint)


class MigrationFailed(RunnerError):
    """PostgreSQL refused a statement of a migration."""

    def __init__(self, message: str, *, error: BaseException | None = None, hint: str | None = None) -> None:
        self.error = error  # PostgreSQL's error, to tell its kind by psycopg's SQLSTATE classes
        super().__init__(message, EXIT_FAILED, hint=hint)

    @property
    def sqlstate(self) -> str | None:
        return getattr(self.error, "sqlstate", None)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if relative.startswith("..") else relative
