"""Lint before apply: the one place the runner meets :mod:`migration_lint`'s engine.

When the engine is not importable (a partial install, or a build without it) linting is
skipped and the run says so; it never fails a deploy for a missing linter.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from migration_lint.model import Migration

from ._errors import display_path


@dataclass(frozen=True)
class LintFinding:
    path: Path
    line: int | None
    code: str
    severity: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = f"{display_path(self.path)}:{self.line}" if self.line else display_path(self.path)
        return f"{where}: {self.code} {self.message} [{self.severity}]"


@dataclass
class LintOutcome:
    """``status`` is ``ok``, ``findings``, ``disabled`` (--no-lint) or ``unavailable``."""

    status: str
    findings: list[LintFinding] = field(default_factory=list)
    reason: str | None = None

    @property
    def errors(self) -> list[LintFinding]:
        return [finding for finding in self.findings if finding.is_error]


def _engine() -> Any | None:
    try:
        return importlib.import_module("migration_lint.engine")
    except ImportError:
        return None


def _findings_of(engine: Any, migration: Migration) -> Iterable[Any]:
    for name in ("lint_migration", "check_migration"):
        function = getattr(engine, name, None)
        if callable(function):
            return function(migration)
    raise LookupError("migration_lint.engine has no lint_migration()")


def lint(migrations: list[Migration], enabled: bool = True) -> LintOutcome:
    """Lint the migrations a run is about to apply."""
    if not enabled:
        return LintOutcome("disabled", reason="--no-lint")
    engine = _engine()
    if engine is None:
        return LintOutcome("unavailable", reason="the lint engine (migration_lint.engine) is not installed")
    findings: list[LintFinding] = []
    try:
        for migration in migrations:
            for raw in _findings_of(engine, migration):
                findings.append(
                    LintFinding(
                        Path(getattr(raw, "path", None) or migration.path),
                        getattr(raw, "line", None),
                        str(getattr(raw, "code", "")),
                        str(getattr(raw, "severity", "error")),
                        str(getattr(raw, "message", raw)),
                    )
                )
    except LookupError as error:
        return LintOutcome("unavailable", reason=str(error))
    return LintOutcome("findings" if findings else "ok", findings)
