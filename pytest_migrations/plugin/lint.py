"""The ``::lint`` items' one seam with :mod:`migration_lint`: findings of one migration, by severity.

A directory is linted once (rules carry what earlier migrations created forward), with the
project's migration-lint configuration, and the findings are handed out per migration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migration_lint.model import Migration

from .options import Settings

__all__ = ["lint_migration"]

_cache: dict[tuple[int, Path], dict[Path, list[Any]]] = {}


def _findings_by_file(migrations: list[Migration], settings: Settings) -> dict[Path, list[Any]]:
    from migration_lint import config as lint_config
    from migration_lint.engine import Linter

    directory = migrations[0].path.parent if migrations else Path(".")
    config = lint_config.load_config(lint_config.find_config(directory))
    pg_version = settings.pg_version or getattr(config, "pg_version", None)
    options = {"pg_version": pg_version} if pg_version else {}
    linter = Linter(lint_config.build_rules(config), **options)
    by_file: dict[Path, list[Any]] = {}
    for finding in linter.lint_migrations(migrations):
        by_file.setdefault(Path(finding.path).resolve(), []).append(finding)
    return by_file


def lint_migration(migration: Migration, migrations: list[Migration], settings: Settings) -> tuple[list[str], list[str]]:
    """(errors, warnings) of ``migration`` as ``path:line:column: CODE message`` lines."""
    key = (id(migrations), migrations[0].path.parent.resolve() if migrations else Path("."))
    if key not in _cache:
        _cache[key] = _findings_by_file(migrations, settings)
    by_file = _cache[key]
    errors: list[str] = []
    warnings: list[str] = []
    for path in dict.fromkeys(p.resolve() for p in migration.paths):
        for finding in by_file.get(path, []):
            line = f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.message}"
            (errors if finding.severity == "error" else warnings).append(line)
    return errors, warnings
