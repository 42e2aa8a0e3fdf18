"""Helpers for the fleet's tests (queries, files); fixtures are in conftest.py."""

from __future__ import annotations

from pathlib import Path

import psycopg


def query(dsn: str, text: str, *params: object) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.execute(text, params or None)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description is not None else []


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def applied(dsn: str, schema: str = "public") -> list[str]:
    if query(dsn, "SELECT to_regclass(%s)", f"{schema}.applied_migrations") == [(None,)]:
        return []
    return [v for (v,) in query(dsn, f'SELECT version FROM "{schema}".applied_migrations WHERE NOT dirty ORDER BY version')]
