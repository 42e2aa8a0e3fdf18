"""Shared by the trace tests: a scratch schema per case, filled by ``schema.sql``, and a
one-migration trace in it.

A schema per case rather than a database per case: CREATE DATABASE costs about 250 ms on a
stock PostgreSQL 15 (it writes the template to WAL), a schema from ``schema.sql`` about 20 ms.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from psycopg import sql
from psycopg.conninfo import make_conninfo

from migration_lint.layouts import load_file
from pytest_migrations.trace import MODES, QUEUED, SAMPLED, MigrationTrace, trace_migration

SCHEMA = Path(__file__).with_name("schema.sql")
_numbers = itertools.count(1)


class Sandbox:
    """One database on one server; each case gets a fresh schema holding ``schema.sql``."""

    def __init__(self, server, database: str) -> None:
        self.server = server
        self.database = database
        self.major = server.major

    def new_schema(self) -> tuple[str, str]:
        """A fresh schema with the base objects, and a DSN whose search_path is that schema."""
        schema = f"case_{next(_numbers)}"
        with self.server.connect(self.database) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
            conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
            conn.execute(SCHEMA.read_text())
        return schema, make_conninfo(self.server.dsn(self.database), options=f"-c search_path={schema}")

    def trace(self, migration_sql: str, directory: Path, **options) -> tuple[str, MigrationTrace]:
        schema, dsn = self.new_schema()
        # Versioned: a migration of a directory runs as the runner runs it (a file on its own
        # would run as psql -f runs it, statement by statement).
        path = directory / f"001_{schema}.sql"
        path.write_text(migration_sql + ";\n")
        # The linter reads schema.sql as the migration before, so it knows the tables and columns.
        options.setdefault("history", [load_file(SCHEMA)])
        return schema, trace_migration(dsn, load_file(path), **options)


def observed(schema: str, trace: MigrationTrace) -> dict:
    """The last statement's facts in the shape of a trace case (names without the schema)."""
    assert trace.error is None, trace.error
    last = trace.statements[-1]
    prefix = f"{schema}."
    locks: dict[str, str] = {}
    index_locks: dict[str, str] = {}
    for fact in last.acquired:
        relation = fact.relation
        if last.method == SAMPLED and fact.seen != QUEUED:
            continue  # polling may or may not catch it; only queued requests are certain
        if not relation.pre_existing or relation.kind == "TOAST table" or not relation.name.startswith(prefix):
            continue
        target = index_locks if relation.is_auxiliary else locks
        name = relation.name.removeprefix(prefix)
        if name not in target or MODES.index(fact.mode) > MODES.index(target[name]):
            target[name] = fact.mode
    return {
        "locks": locks,
        "index_locks": None if last.method == SAMPLED else index_locks,
        "rewritten": {r.name.removeprefix(prefix) for r in last.rewritten if r.name.startswith(prefix)},
        "scanned": {r.name.removeprefix(prefix) for r in last.scanned},
        "validated": tuple(v.replace(prefix, "") for v in last.validated),
        "method": last.method,
    }
