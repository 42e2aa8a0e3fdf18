"""Helpers for the runner's tests (paths, subprocesses, queries); fixtures are in conftest.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from database_helpers import query, write_migrations  # noqa: F401  (re-exported for the tests)

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "migrations"
def run_process(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """``migrations ARGS`` in a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "pytest_migrations.cli", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, cwd=REPO,
    )


def spawn(*args: str | Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest_migrations.cli", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )


def tables(dsn: str) -> set[str]:
    return {
        name
        for (name,) in query(dsn, "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                             " WHERE nspname = 'public' AND relkind IN ('r', 'p')")
    }


def applied_versions(dsn: str) -> list[str]:
    return [v for (v,) in query(dsn, "SELECT version FROM public.applied_migrations ORDER BY applied_at, version")]
