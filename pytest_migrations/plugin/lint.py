"""The ``::lint`` items' one seam with :mod:`migration_lint`: a directory's findings, per file.

A directory is linted once, in order (rules know what earlier migrations created), through a
:class:`~migration_lint.session.LintSession` (the project's ``.migration-lint.toml`` or
``[tool.migration-lint]``); each ``::lint`` item then reports the findings in its migration's
files. Findings in migrations older than ``since`` come as warnings. Where the ``::locks`` item
of the same migration runs too, a lint error the trace confirms carries the traced fact, and the
``::locks`` item leaves it to the ``::lint`` item: one verdict per statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migration_lint.model import Migration

__all__ = ["LintReport", "lint_directory", "render"]


@dataclass(frozen=True)
class LintReport:
    """Findings of one directory by file and severity (``path:line:column: CODE message`` lines
    through :meth:`for_migration`)."""

    errors: dict[Path, list[Any]]
    warnings: dict[Path, list[Any]]

    def for_migration(self, migration: Migration) -> tuple[list[str], list[str]]:
        errors, warnings = self.findings_for(migration)
        return [render(f) for f in errors], [render(f) for f in warnings]

    def findings_for(self, migration: Migration) -> tuple[list[Any], list[Any]]:
        paths = dict.fromkeys(path.resolve() for path in migration.paths)
        errors = [finding for path in paths for finding in self.errors.get(path, [])]
        warnings = [finding for path in paths for finding in self.warnings.get(path, [])]
        return errors, warnings

    def error_codes(self, path: Path, first_line: int, last_line: int) -> set[str]:
        """Codes of the errors (what fails a ``::lint`` item) on lines ``first_line`` to
        ``last_line`` of ``path``: the statement a trace finding is about."""
        return {f.code for f in self.errors.get(Path(path).resolve(), []) if first_line <= f.line <= last_line}


def lint_directory(migrations: list[Migration], pg_version: int | None = None, since: str | None = None) -> LintReport:
    """Lint ``migrations`` through a lint session (the project's configuration; ``since`` overrides
    its own); raises ValueError (a bad configuration, one line)."""
    from migration_lint.config import ConfigError
    from migration_lint.session import LintSession

    errors: dict[Path, list[Any]] = {}
    warnings: dict[Path, list[Any]] = {}
    if not migrations:
        return LintReport(errors, warnings)
    try:
        session = LintSession.for_path(migrations[0].path.parent, pg_version=pg_version, since=since)
        findings = session.lint(migrations)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    for finding in findings:
        target = errors if finding.severity == "error" else warnings
        target.setdefault(Path(finding.path).resolve(), []).append(finding)
    return LintReport(errors, warnings)


def render(finding: Any) -> str:
    return f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}"
