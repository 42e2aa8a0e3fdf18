"""What the project's own migration tool recorded as applied, read with that tool's identity.

A team adopting the runner on a database that goose, sql-migrate, dbmate, golang-migrate, sqlx,
Diesel or Flyway migrated has that tool's tracking table and none of the runner's. Each reader
below reads the table the way its tool does (the table it creates, in the schema its
``search_path`` finds first, the rows that count, which of them wins) and names the versions it
holds applied, in the tool's own version text, which the layout of the same tool parses into the
same identity as the files' (``Version.parse`` in the layout's scheme). Nothing here writes to a
tool's table: the runner copies the records into its own (``Runner``: "adopted"), and from then on
its own table and history decide.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import psycopg
from psycopg import sql

from migration_lint.layouts.flyway import flyway_checksum
from migration_lint.model import Migration, Version


@dataclass(frozen=True)
class ToolRecord:
    """One migration the tool holds applied (or, ``dirty``, failed half-way)."""

    version: str  # as the tool writes it; parsed in the layout's scheme
    applied_at: datetime | None  # ``None``: the tool does not record when
    dirty: bool = False
    # The tool's checksum differs from the file's (sqlx, Flyway record one): an edited file, or a
    # Flyway repeatable changed since it ran (``up`` applies it again).
    changed: bool = False
    # The tool says so without having run it: golang-migrate's single version row covers every
    # version below it, a Flyway BASELINE every version up to it.
    implied: bool = False
    # Not an SQL migration (a Flyway Java migration): the runner has no file for it, by design.
    sql: bool = True


@dataclass(frozen=True)
class ToolTable:
    """Where ``tool`` keeps its records and how to read them."""

    tool: str
    table: str
    columns: frozenset[str]
    read: Callable[[psycopg.Connection, sql.Composable, list[Migration], str], list[ToolRecord]]

    def label(self, schema: str) -> str:
        return f"{self.tool} ({schema}.{self.table})"


def _goose(conn: psycopg.Connection, table: sql.Composable, migrations: list[Migration], scheme: str) -> list[ToolRecord]:
    # goose's ListMigrations: every row, newest id first; the first row seen of a version decides
    # (a rollback deletes the row, or in older versions appends one with is_applied false).
    # Version 0 is the row goose writes when it creates the table.
    seen: set[int] = set()
    records = []
    query = sql.SQL("SELECT version_id, is_applied, tstamp::timestamptz FROM {} ORDER BY id DESC").format(table)
    for version_id, is_applied, tstamp in conn.execute(query):
        if version_id in seen:
            continue
        seen.add(version_id)
        if is_applied and version_id != 0:
            records.append(ToolRecord(str(version_id), tstamp))
    return records


def _sql_migrate(conn: psycopg.Connection, table: sql.Composable, migrations: list[Migration], scheme: str) -> list[ToolRecord]:
    # gorp_migrations: one row per applied migration, its id the file name; a rollback deletes it.
    query = sql.SQL("SELECT id, applied_at::timestamptz FROM {}").format(table)
    return [ToolRecord(identifier, applied_at) for identifier, applied_at in conn.execute(query)]


def _dbmate(conn: psycopg.Connection, table: sql.Composable, migrations: list[Migration], scheme: str) -> list[ToolRecord]:
    # schema_migrations(version): the leading digits of each applied file's name; no time.
    query = sql.SQL("SELECT version FROM {}").format(table)
    return [ToolRecord(str(version), None) for (version,) in conn.execute(query)]


def _golang_migrate(conn: psycopg.Connection, table: sql.Composable, migrations: list[Migration], scheme: str) -> list[ToolRecord]:
    # schema_migrations(version, dirty): one row, the version the database is at. golang-migrate
    # holds every migration up to it applied; dirty: that one failed half-way.
    row = conn.execute(sql.SQL("SELECT version, dirty FROM {} LIMIT 1").format(table)).fetchone()
    if row is None or row[0] is None or row[0] < 0:  # -1: golang-migrate's "no version"
        return []
    current = Version.parse(str(row[0]), scheme)
    records = [ToolRecord(m.version.text, None, implied=True) for m in migrations if m.version < current]
    return [*records, ToolRecord(str(row[0]), None, dirty=bool(row[1]))]


def _sqlx(conn: psycopg.Connection, table: sql.Composable, migrations: list[Migration], scheme: str) -> list[ToolRecord]:
    # _sqlx_migrations: a row per applied version; success false is sqlx's "partially applied"
    # (dirty); its checksum, SHA-384 of the file, is what sqlx validates.
    by_key = {m.version.key: m for m in migrations}
    records = []
    query = sql.SQL("SELECT version, installed_on, success, checksum FROM {}").format(table)
    for version, installed_on, success, checksum in conn.execute(query):
        migration = by_key.get(Version.parse(str(version), scheme).key)
        changed = migration is not None and checksum is not None and bytes(checksum) != _sqlx_checksum(migration)
        records.append(ToolRecord(str(version), installed_on, dirty=not success, changed=changed))
    return records


def _sqlx_checksum(migration: Migration) -> bytes:
    return hashlib.sha384((migration.up.file_text or migration.up.sql).encode("utf-8")).digest()


def _diesel(conn: psycopg.Connection, table: sql.Composable, migrations: list[Migration], scheme: str) -> list[ToolRecord]:
    # __diesel_schema_migrations(version, run_on): the folder's version, dashes removed; a
    # rollback deletes the row.
    query = sql.SQL("SELECT version, run_on::timestamptz FROM {}").format(table)
    return [ToolRecord(version, run_on) for version, run_on in conn.execute(query)]


def _flyway(conn: psycopg.Connection, table: sql.Composable, migrations: list[Migration], scheme: str) -> list[ToolRecord]:
    # flyway_schema_history, in installed_rank order (MigrationInfoServiceImpl.refresh): a
    # versioned row applies (success false: failed), an UNDO_SQL or DELETE row takes it back, a
    # BASELINE covers every version up to it; a repeatable (version NULL) is its latest row by
    # description, outdated when its checksum is not the file's.
    repeatables = {m.path.name: m for m in migrations if m.repeatable}
    versioned: dict[tuple, ToolRecord] = {}
    latest_repeatable: dict[str, ToolRecord] = {}
    baseline: Version | None = None
    query = sql.SQL(
        "SELECT version, type, script, checksum, installed_on::timestamptz, success FROM {} ORDER BY installed_rank"
    ).format(table)
    for version, kind, script, checksum, installed_on, success in conn.execute(query):
        if version is None:
            name = script.rsplit("/", 1)[-1]
            if kind == "DELETE" and success:
                latest_repeatable.pop(name, None)
                continue
            migration = repeatables.get(name)
            changed = migration is not None and checksum != flyway_checksum(migration)
            latest_repeatable[name] = ToolRecord(
                name.removesuffix(".sql"), installed_on, dirty=not success, changed=changed,
            )
            continue
        parsed = Version.parse(version, scheme)
        if kind == "SCHEMA":
            continue
        if kind == "BASELINE":
            baseline = parsed if baseline is None or baseline < parsed else baseline
            continue
        if kind in ("UNDO_SQL", "DELETE"):
            if success:
                versioned.pop(parsed.key, None)
            continue
        versioned[parsed.key] = ToolRecord(version, installed_on, dirty=not success, sql=kind == "SQL")
    records = list(versioned.values())
    if baseline is not None:
        records += [ToolRecord(m.version.text, None, implied=True) for m in migrations
                    if not m.repeatable and m.version <= baseline and m.version.key not in versioned]
    return records + list(latest_repeatable.values())


# The tracking table of each layout's tool, as the tool creates it by default.
TOOL_TABLES: dict[str, ToolTable] = {
    "goose": ToolTable("goose", "goose_db_version", frozenset({"version_id", "is_applied", "id", "tstamp"}), _goose),
    "sql-migrate": ToolTable("sql-migrate", "gorp_migrations", frozenset({"id", "applied_at"}), _sql_migrate),
    "dbmate": ToolTable("dbmate", "schema_migrations", frozenset({"version"}), _dbmate),
    "golang-migrate": ToolTable("golang-migrate", "schema_migrations", frozenset({"version", "dirty"}), _golang_migrate),
    "sqlx": ToolTable("sqlx", "_sqlx_migrations", frozenset({"version", "installed_on", "success", "checksum"}), _sqlx),
    "diesel": ToolTable("Diesel", "__diesel_schema_migrations", frozenset({"version", "run_on"}), _diesel),
    "flyway": ToolTable("Flyway", "flyway_schema_history",
                        frozenset({"installed_rank", "version", "type", "script", "checksum", "installed_on", "success"}),
                        _flyway),
}


@dataclass(frozen=True)
class ToolRecords:
    """What the tool's table holds, and where it was found."""

    table: ToolTable
    schema: str
    records: list[ToolRecord]

    @property
    def label(self) -> str:
        return self.table.label(self.schema)


def read_tool_records(conn: psycopg.Connection, layout: str, migrations: list[Migration],
                      scheme: str) -> ToolRecords | None:
    """The records of ``layout``'s tool, from its table where its ``search_path`` finds it;
    ``None`` when the layout has no other tool, the table is absent, or it is not the tool's
    (a table of the same name with other columns: dbmate's and golang-migrate's share a name)."""
    tool_table = TOOL_TABLES.get(layout)
    if tool_table is None:
        return None
    row = conn.execute(
        "SELECT n.nspname, array_agg(a.attname::text) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE c.oid = to_regclass(%s) GROUP BY n.nspname",
        (sql.Identifier(tool_table.table).as_string(conn),),
    ).fetchone()
    if row is None:
        return None
    schema, columns = row
    if not tool_table.columns <= set(columns):
        return None
    if layout == "dbmate" and "dirty" in columns:
        return None  # golang-migrate's table of the same name
    identifier = sql.Identifier(schema, tool_table.table)
    return ToolRecords(tool_table, schema, tool_table.read(conn, identifier, migrations, scheme))
