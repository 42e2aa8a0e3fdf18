"""INVALID indexes a migration names: the trace an interrupted ``CREATE INDEX CONCURRENTLY`` leaves.

A build that fails or is killed leaves the index in the catalog with ``indisvalid = false``: it
is maintained on every write and never used. Running the migration again does not cure it,
because ``CREATE INDEX ... IF NOT EXISTS`` sees the name and skips. So ``up`` checks, after a
migration's statements and before it is recorded, that no index it creates by name is INVALID,
and ``verify`` checks the same for every applied migration.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.errors import ObjectNotInPrerequisiteState

from migration_lint.model import Migration, Section
from migration_lint.parse import walk

# What the check raises: the index is not in the state the migration needs.
CHECK_ERRCODE = ObjectNotInPrerequisiteState.sqlstate


@dataclass(frozen=True)
class NamedIndex:
    """An index a section creates by name; ``schema`` is ``None`` when the search path decides."""

    schema: str | None
    name: str


def created_indexes(section: Section) -> list[NamedIndex]:
    """The indexes ``section`` creates by name (``CREATE [UNIQUE] INDEX [CONCURRENTLY] name ...``)."""
    found: list[NamedIndex] = []
    for statement in section.statements:
        if statement.tree is None:
            continue
        for node_type, fields in walk(statement.tree):
            if node_type == "IndexStmt" and fields.get("idxname"):
                relation = fields.get("relation") or {}
                index = NamedIndex(relation.get("schemaname") or None, fields["idxname"])
                if index not in found:
                    found.append(index)
    return found


def repair_hint(qualified: str, direction: str = "up") -> str:
    return (
        f"an interrupted CREATE INDEX CONCURRENTLY left it, and IF NOT EXISTS skips it: rebuild it"
        f" with REINDEX INDEX CONCURRENTLY {qualified} (or drop it with DROP INDEX CONCURRENTLY"
        f" {qualified}), then `migrations repair` and `migrations {direction}` again"
    )


def _matching(indexes: list[NamedIndex]) -> sql.Composable:
    """A condition on ``n.nspname``/``c.relname`` that matches ``indexes`` (search path for unqualified)."""
    qualified = [index for index in indexes if index.schema is not None]
    unqualified = [index.name for index in indexes if index.schema is None]
    conditions: list[sql.Composable] = []
    if qualified:
        conditions.append(sql.SQL("(n.nspname, c.relname) IN ({})").format(sql.SQL(", ").join(
            sql.SQL("({}, {})").format(sql.Literal(index.schema), sql.Literal(index.name)) for index in qualified
        )))
    if unqualified:
        conditions.append(sql.SQL("(c.relname = ANY({}) AND n.nspname = ANY(current_schemas(false)))").format(
            sql.Literal(unqualified)
        ))
    return sql.SQL(" OR ").join(conditions)


def _invalid_query(indexes: list[NamedIndex]) -> sql.Composable:
    return sql.SQL(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_index i"
        " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE NOT i.indisvalid AND ({}) ORDER BY 1"
    ).format(_matching(indexes))


def invalid_index_check(section: Section) -> sql.Composable | None:
    """A statement that fails naming the INVALID indexes ``section`` (an UP or a DOWN) creates; ``None``: none.

    Sent on the migration's own session, after its statements, so that its ``search_path`` holds.
    """
    indexes = created_indexes(section)
    if not indexes:
        return None
    body = sql.SQL(
        "DECLARE invalid text; BEGIN"
        " SELECT string_agg(name, ', ') INTO invalid FROM ({}) AS found(name);"
        " IF invalid IS NOT NULL THEN RAISE EXCEPTION USING ERRCODE = {},"
        " MESSAGE = 'index ' || invalid || ' is INVALID after this migration', DETAIL = invalid;"
        " END IF; END"
    ).format(_invalid_query(indexes), sql.Literal(CHECK_ERRCODE))
    # DO takes its body as a string constant; dollar-quoted it reads as written in the dry run.
    text = body.as_string(None)
    if "$check$" in text:  # an index named so: quoted the plain way
        return sql.SQL("DO {}").format(sql.Literal(text))
    return sql.SQL("DO $check$ {} $check$").format(sql.SQL(text))


def invalid_indexes(conn: psycopg.Connection, migrations: list[Migration]) -> list[tuple[Migration, str]]:
    """``(migration, index)`` for every INVALID index the UPs of ``migrations`` create by name."""
    named = [(migration, index) for migration in migrations for index in created_indexes(migration.up)]
    if not named:
        return []
    query = sql.SQL(
        "SELECT n.nspname, c.relname, format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_index i"
        " JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE NOT i.indisvalid AND ({})"
    ).format(_matching([index for _, index in named]))
    invalid = conn.execute(query).fetchall()
    return [
        (migration, qualified)
        for migration, index in named
        for schema, name, qualified in invalid
        if name == index.name and index.schema in (None, schema)
    ]
