"""Lint SQL written in a test, as a loose file or as one migration of a directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migration_lint.config import Config, build_rules
from migration_lint.engine import Finding, Linter
from migration_lint.layouts import discover, load_file
from migration_lint.model import read_sql_file


def lint_sql(
    tmp_path: Path,
    sql: str,
    *,
    rules: list[str] | None = None,
    file: str | None = None,
    earlier: dict[str, str] | None = None,
    pg_version: int = 13,
    assume_in_transaction: bool = False,
    options: dict[str, Any] | None = None,
    extra_files: dict[str, str] | None = None,
    later: dict[str, str] | None = None,
) -> tuple[list[Finding], Path]:
    """Findings for ``sql``; with ``file``, ``earlier`` or ``later`` it is a migration of a
    directory (``earlier`` and ``later``: the other migrations' file names and SQL, placed in
    that directory; their names say where they sort)."""
    config = Config(pg_version=pg_version, assume_in_transaction=assume_in_transaction)
    if rules is not None:
        config.select = list(rules)
    if options:
        config.rule_options = options
    linter = Linter(build_rules(config), pg_version=pg_version, assume_in_transaction=assume_in_transaction)
    if file is None and not earlier and not later:
        path = tmp_path / "migration.sql"
        path.write_text(sql, encoding="utf-8")
        return linter.lint_migrations([load_file(path)]), path
    directory = tmp_path / "migrations"
    directory.mkdir(exist_ok=True)
    for name, text in {**(earlier or {}), **(later or {}), **(extra_files or {})}.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    path = directory / (file or "999_target.sql")
    path.write_text(sql, encoding="utf-8")
    migrations = discover(directory)
    target = [m for m in migrations if path in m.paths]
    return linter.lint_migrations(migrations, only=target), path


def apply_edits(path: Path, findings: list[Finding]) -> str:
    text = read_sql_file(path)
    edits = sorted((e for f in findings if f.path == str(path) for e in f.edits), key=lambda e: e.start, reverse=True)
    for edit in edits:
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    return text
