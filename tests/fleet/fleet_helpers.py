"""Helpers for the fleet's tests (queries, files); fixtures are in conftest.py."""

from __future__ import annotations

from database_helpers import query, write_migrations  # noqa: F401  (re-exported for the tests)


def applied(dsn: str, schema: str = "public") -> list[str]:
    if query(dsn, "SELECT to_regclass(%s)", f"{schema}.applied_migrations") == [(None,)]:
        return []
    return [v for (v,) in query(dsn, f'SELECT version FROM "{schema}".applied_migrations WHERE NOT dirty ORDER BY version')]
