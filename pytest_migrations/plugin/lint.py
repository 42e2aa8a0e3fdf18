"""The ``::lint`` items' one seam with :mod:`migration_lint`: a directory's findings, per file.

A directory is linted once, in order (rules know what earlier migrations created), with the
project's migration-lint configuration (``migration-lint.toml`` or ``[tool.migration-lint]``);
each ``::lint`` item then reports the findings in its migration's files. Where the ``::locks``
item of the same migration runs too, a lint error the trace confirms carries the traced fact, and
the ``::locks`` item leaves it to the ``::lint`` item: one verdict per statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migration_lint.model import Migration

__all__ = ["LintUnavailable", "LintReport", "lint_directory", "render"]


class LintUnavailable(Exception):
    """The lint engine cannot be imported (a partial install): the items are skipped."""


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


def lint_directory(migrations: list[Migration], pg_version: int | None = None) -> LintReport:
    """Lint ``migrations``; raises LintUnavailable, or ValueError (a bad configuration, one line)."""
    try:
        from migration_lint.config import ConfigError, build_rules, find_config, load_config
        from migration_lint.engine import Linter
    except ImportError as error:
        raise LintUnavailable(f"the migration-lint engine cannot be imported: {error}") from None
    errors: dict[Path, list[str]] = {}
    warnings: dict[Path, list[str]] = {}
    if not migrations:
        return LintReport(errors, warnings)
    try:
        config = load_config(find_config(migrations[0].path.parent))
        rules = build_rules(config)
    except ConfigError as error:
        raise ValueError(str(error)) from None
    wanted = [m for m in migrations if not any(config.is_excluded(path) for path in m.paths)]
    linter = Linter(
        rules,
        pg_version=pg_version or config.pg_version,
        assume_in_transaction=config.assume_in_transaction,
    )
    for finding in linter.lint_migrations(migrations, only=wanted):
        target = errors if finding.severity == "error" else warnings
        target.setdefault(Path(finding.path).resolve(), []).append(finding)
    return LintReport(errors, warnings)


def render(finding: Any) -> str:
    return f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}"
