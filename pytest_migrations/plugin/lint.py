"""The ``::lint`` items' one seam with :mod:`migration_lint`: a directory's findings, per file.

A directory is linted once, in order (rules know what earlier migrations created), through a
:class:`~migration_lint.session.LintSession` (the project's ``.migration-lint.toml`` or
``[tool.migration-lint]``); each ``::lint`` item then reports the findings in its migration's
files. Findings in migrations older than ``since`` come as warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migration_lint.model import Migration

__all__ = ["LintReport", "lint_directory"]


@dataclass(frozen=True)
class LintReport:
    """Findings of one directory, as ``path:line:column: CODE message`` lines by file and severity."""

    errors: dict[Path, list[str]]
    warnings: dict[Path, list[str]]

    def for_migration(self, migration: Migration) -> tuple[list[str], list[str]]:
        paths = dict.fromkeys(path.resolve() for path in migration.paths)
        errors = [line for path in paths for line in self.errors.get(path, [])]
        warnings = [line for path in paths for line in self.warnings.get(path, [])]
        return errors, warnings


def lint_directory(migrations: list[Migration], pg_version: int | None = None, since: str | None = None) -> LintReport:
    """Lint ``migrations`` through a lint session (the project's configuration; ``since`` overrides
    its own); raises ValueError (a bad configuration, one line)."""
    from migration_lint.config import ConfigError
    from migration_lint.session import LintSession

    errors: dict[Path, list[str]] = {}
    warnings: dict[Path, list[str]] = {}
    if not migrations:
        return LintReport(errors, warnings)
    try:
        session = LintSession.for_path(migrations[0].path.parent, pg_version=pg_version, since=since)
        findings = session.lint(migrations)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    for finding in findings:
        target = errors if finding.severity == "error" else warnings
        target.setdefault(Path(finding.path).resolve(), []).append(_render(finding))
    return LintReport(errors, warnings)


def _render(finding: Any) -> str:
    return f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}"
