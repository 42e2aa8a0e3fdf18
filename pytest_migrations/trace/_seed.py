"""``--trace-rows N``: fill each empty pre-existing table with N generated rows before a trace,
so that rewrites, scans and index builds take time and the trace can say how long locks last.

One ``INSERT ... SELECT ... FROM generate_series(1, N)`` per table, parents before the tables
that reference them (so that integer foreign keys 1..N find their rows). Columns with a default,
identity or generated columns are left to PostgreSQL; a value is made up from the column's type
for the others (nullable foreign keys stay NULL). When that INSERT fails, a second one fills only
the NOT NULL columns; when that fails too, the table is skipped and the report says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from ._results import SeedResult

_TABLES = """
SELECT c.oid::int8, n.nspname::text, c.relname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.oid >= 16384
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (
      SELECT FROM pg_catalog.pg_depend d
      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY n.nspname, c.relname
"""
_REFERENCES = """
SELECT conrelid::int8, confrelid::int8 FROM pg_catalog.pg_constraint WHERE contype = 'f'
"""
_COLUMNS = """
SELECT a.attrelid::int8, a.attname::text, a.attnotnull, a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '',
       pg_catalog.format_type(a.atttypid, a.atttypmod), base.typname::text, base.typcategory::text,
       a.atttypmod,
       (SELECT e.enumlabel::text FROM pg_catalog.pg_enum e WHERE e.enumtypid = base.oid
        ORDER BY e.enumsortorder LIMIT 1),
       EXISTS (SELECT FROM pg_catalog.pg_constraint f
               WHERE f.contype = 'f' AND f.conrelid = a.attrelid AND a.attnum = ANY (f.conkey))
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type base ON base.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
WHERE a.attrelid >= 16384 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""


@dataclass(frozen=True)
class _Column:
    name: str
    not_null: bool
    has_default: bool
    type_text: str  # format_type(): quoted as PostgreSQL would write it
    base_type: str
    category: str
    typmod: int
    first_enum_label: str | None
    is_foreign_key: bool

    def value(self) -> sql.Composable | None:
        """An expression of ``g`` (1..N) of this column's type, or ``None`` when we have none."""
        cast = sql.SQL(self.type_text)
        template = _value_template(self)
        if template is None:
            return None
        if isinstance(template, sql.Composable):
            return sql.SQL("CAST({} AS {})").format(template, cast)
        return sql.SQL("CAST(" + template + " AS {})").format(cast)


def _value_template(column: _Column) -> str | sql.Composable | None:
    base, category = column.base_type, column.category
    if column.first_enum_label is not None:
        return sql.Literal(column.first_enum_label)
    if base == "int2":
        return "g % 32767"
    if category == "N":
        return "g"
    if category == "S":
        length = column.typmod - 4 if column.typmod > 4 else 32
        return sql.SQL("pg_catalog.left(pg_catalog.md5(g::text), {})").format(sql.Literal(min(length, 32)))
    if category == "B":
        return "g % 2 = 0"
    if base in ("timestamp", "timestamptz"):
        return "timestamp '2000-01-01' + g * interval '1 second'"
    if base == "date":
        return "date '2000-01-01' + g % 36500"
    if base in ("time", "timetz"):
        return "time '00:00' + g * interval '1 second'"
    if base == "interval":
        return "g * interval '1 second'"
    if base == "uuid":
        return "pg_catalog.md5(g::text)"
    if base in ("json", "jsonb"):
        return "'{{}}'"
    if base == "bytea":
        return "pg_catalog.decode(pg_catalog.md5(g::text), 'hex')"
    if category == "A":
        return "'{{}}'"
    if base in ("inet", "cidr"):
        return "'10.0.0.0'::inet + g"
    return None


def seed_tables(conn: psycopg.Connection[Any], rows: int) -> list[SeedResult]:
    """Fill every empty user table with ``rows`` generated rows; one result per table."""
    tables = conn.execute(_TABLES).fetchall()
    columns: dict[int, list[_Column]] = {}
    for row in conn.execute(_COLUMNS).fetchall():
        columns.setdefault(row[0], []).append(_Column(*row[1:]))
    references: dict[int, set[int]] = {}
    for table, referenced in conn.execute(_REFERENCES).fetchall():
        if table != referenced:
            references.setdefault(table, set()).add(referenced)
    results = []
    for oid, schema, name in _parents_first(tables, references):
        results.append(_seed_table(conn, sql.Identifier(schema, name), f"{schema}.{name}", columns.get(oid, []), rows))
    return results


def _parents_first(tables: list[tuple[int, str, str]], references: dict[int, set[int]]) -> list[tuple[int, str, str]]:
    by_oid = {table[0]: table for table in tables}
    ordered: list[tuple[int, str, str]] = []
    visiting: set[int] = set()
    done: set[int] = set()

    def visit(oid: int) -> None:
        if oid in done or oid in visiting or oid not in by_oid:
            return  # a cycle of foreign keys is broken where it is met
        visiting.add(oid)
        for referenced in sorted(references.get(oid, ())):
            visit(referenced)
        visiting.discard(oid)
        done.add(oid)
        ordered.append(by_oid[oid])

    for table in tables:
        visit(table[0])
    return ordered


def _seed_table(
    conn: psycopg.Connection[Any], table: sql.Identifier, name: str, columns: list[_Column], rows: int
) -> SeedResult:
    has_rows = conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(table)).fetchone()
    if has_rows and has_rows[0]:
        return SeedResult(name, 0, "already has rows")
    missing = [c.name for c in columns if c.not_null and not c.has_default and c.value() is None]
    if missing:
        return SeedResult(name, 0, f"no value generator for NOT NULL column(s) {', '.join(missing)}")
    attempts = [
        [c for c in columns if not c.has_default and c.value() is not None and (c.not_null or not c.is_foreign_key)],
        [c for c in columns if not c.has_default and c.not_null],
    ]
    error = ""
    for attempt, chosen in enumerate(attempts):
        if attempt and chosen == attempts[0]:
            break
        try:
            conn.execute(_insert(table, chosen, rows))
            return SeedResult(name, rows, "")
        except psycopg.Error as exc:
            error = (exc.diag.message_primary or str(exc) or type(exc).__name__).splitlines()[0]
    return SeedResult(name, 0, f"INSERT failed: {error}")


def _insert(table: sql.Identifier, columns: list[_Column], rows: int) -> sql.Composed:
    series = sql.SQL("pg_catalog.generate_series(1, {}) AS s(g)").format(sql.Literal(rows))
    if not columns:
        return sql.SQL("INSERT INTO {} SELECT FROM {}").format(table, series)
    return sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
        table,
        sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
        sql.SQL(", ").join(c.value() for c in columns),  # type: ignore[misc]
        series,
    )
