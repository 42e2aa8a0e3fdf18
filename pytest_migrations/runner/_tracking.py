"""The tracking tables: what is applied now, and the append-only history of every run.

Every statement is composed with :mod:`psycopg.sql` and returned, not executed, so that the
dry-run prints exactly what a real run sends. Table names are always schema-qualified: a
migration may empty ``search_path`` (pg_dump output does) and its tracking row must still land.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from migration_lint.model import Migration, Version

from ._errors import RunnerError
from ._settings import RunnerSettings

# Custom setting holding the start of a non-transactional migration (its statements commit one
# by one, so now() is no use for its duration).
STARTED_AT_SETTING = "migrations.started_at"

APPLIED_COLUMNS = (
    "version", "name", "checksum", "applied_at", "applied_by", "execution_ms",
    "dirty", "dirty_direction", "failed_statement", "failed_error", "statements_done",
)
# Added after the first release: a table made before it lacks the column until a run that
# applies something adds it (``create_statements``).
PROGRESS_COLUMN = "statements_done"
HISTORY_COLUMNS = (
    "id", "version", "name", "direction", "checksum", "started_at", "duration_ms",
    "outcome", "run_by", "db_user", "message",
)


def who_runs() -> str:
    """``user@host`` of the process running migrations, for ``applied_by`` and history."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name in some containers
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class AppliedRecord:
    """A row of the current-state table."""

    version: str
    name: str
    checksum: str
    applied_at: datetime | None  # None: a record of a tool that does not say when (dbmate)
    applied_by: str
    execution_ms: int | None
    dirty: bool
    dirty_direction: str | None
    failed_statement: str | None
    failed_error: str | None
    # A migration outside a transaction: how many of its statements are known to have run (each
    # commits on its own); ``None``: no progress recorded (a transactional or older record).
    statements_done: int | None = None
    # Not in the runner's table yet: read from the tracking table of the project's own tool
    # (its label, e.g. "goose (public.goose_db_version)"), to be copied into it by the next run.
    adopted_from: str | None = None
    # The version an earlier release of the runner wrote this record under, when the layout's
    # identity for it changed since (a sql-migrate migration is now its file name): the next run
    # rewrites it.
    recorded_as: str | None = None

    @property
    def key(self) -> tuple[int, ...] | None:
        """The version's ordering key; ``None`` for a version that is not a number."""
        try:
            return Version.parse(self.version).key
        except ValueError:
            return None


@dataclass(frozen=True)
class HistoryRecord:
    """A row of the history log."""

    id: int
    version: str | None
    name: str | None
    direction: str
    checksum: str | None
    started_at: datetime
    duration_ms: int | None
    outcome: str
    run_by: str
    db_user: str
    message: str | None


class Tracking:
    """SQL for the tracking tables named by ``settings``."""

    def __init__(self, settings: RunnerSettings, run_by: str | None = None) -> None:
        self.schema = settings.schema
        self.table = sql.Identifier(settings.schema, settings.table)
        self.history = sql.Identifier(settings.schema, settings.history_table)
        self.table_name = f"{settings.schema}.{settings.table}"
        self.history_name = f"{settings.schema}.{settings.history_table}"
        self._table_parts = (settings.schema, settings.table)
        self._history_parts = (settings.schema, settings.history_table)
        self.run_by = run_by or who_runs()

    # -- reading ---------------------------------------------------------------------------

    def missing_objects(self, conn: psycopg.Connection) -> tuple[bool, bool, bool]:
        """Whether the schema, the table and the history table are absent."""
        row = conn.execute(
            "SELECT to_regnamespace(%s) IS NULL, to_regclass(%s) IS NULL, to_regclass(%s) IS NULL",
            (
                sql.Identifier(self.schema).as_string(conn),
                self.table.as_string(conn),
                self.history.as_string(conn),
            ),
        ).fetchone()
        assert row is not None
        return row[0], row[1], row[2]

    def progress_missing(self, conn: psycopg.Connection) -> bool:
        """Whether the table exists without the progress column (made by an earlier release)."""
        row = conn.execute(
            "SELECT to_regclass(%s) IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute"
            " WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped)",
            (self.table.as_string(conn), self.table.as_string(conn), PROGRESS_COLUMN),
        ).fetchone()
        assert row is not None
        return bool(row[0])

    def check_shape(self, conn: psycopg.Connection) -> None:
        """Refuse a table of the same name that is not ours, before reading or writing it."""
        for parts, identifier, expected in (
            (self._table_parts, self.table, tuple(c for c in APPLIED_COLUMNS if c != PROGRESS_COLUMN)),
            (self._history_parts, self.history, HISTORY_COLUMNS),
        ):
            columns = {
                name
                for (name,) in conn.execute(
                    "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s)"
                    " AND attnum > 0 AND NOT attisdropped",
                    (identifier.as_string(conn),),
                )
            }
            if columns and not set(expected) <= columns:
                missing = ", ".join(sorted(set(expected) - columns))
                raise RunnerError(
                    f"table {'.'.join(parts)} exists but is not a pytest-migrations tracking table"
                    f" (no column {missing})",
                    hint="choose other names with tracking_table / history_table in"
                    " [tool.pytest-migrations] or --table",
                )

    def read_applied(self, conn: psycopg.Connection) -> list[AppliedRecord]:
        without_progress = self.progress_missing(conn)
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(
                sql.SQL("NULL::integer") if column == PROGRESS_COLUMN and without_progress else sql.Identifier(column)
                for column in APPLIED_COLUMNS
            ),
            self.table,
        )
        records = [AppliedRecord(*row) for row in conn.execute(query)]
        return sorted(records, key=lambda record: (record.key is None, record.key or (), record.version))

    def read_history(self, conn: psycopg.Connection, limit: int | None = None) -> list[HistoryRecord]:
        query = sql.SQL("SELECT {} FROM {} ORDER BY id").format(
            sql.SQL(", ").join(map(sql.Identifier, HISTORY_COLUMNS)), self.history
        )
        if limit is not None:
            query = sql.SQL("SELECT * FROM ({} DESC LIMIT {}) AS newest ORDER BY id").format(
                query, sql.Literal(limit)
            )
        return [HistoryRecord(*row) for row in conn.execute(query)]

    # -- creating --------------------------------------------------------------------------

    def create_statements(self, schema_missing: bool, table_missing: bool, history_missing: bool,
                          progress_missing: bool = False) -> list[sql.Composable]:
        statements: list[sql.Composable] = []
        if progress_missing:
            statements.append(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} integer").format(
                self.table, sql.Identifier(PROGRESS_COLUMN)
            ))
        if schema_missing:
            statements.append(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
        if table_missing:
            statements.append(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    "version text PRIMARY KEY, "
                    "name text NOT NULL, "
                    "checksum text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now(), "
                    "applied_by text NOT NULL, "
                    "execution_ms bigint, "
                    "dirty boolean NOT NULL DEFAULT false, "
                    "dirty_direction text, "
                    "failed_statement text, "
                    "failed_error text, "
                    "statements_done integer)"
                ).format(self.table)
            )
        if history_missing:
            statements.append(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} ("
                    "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                    "version text, "
                    "name text, "
                    "direction text NOT NULL, "
                    "checksum text, "
                    "started_at timestamptz NOT NULL DEFAULT now(), "
                    "duration_ms bigint, "
                    "outcome text NOT NULL, "
                    "run_by text NOT NULL, "
                    "db_user text NOT NULL DEFAULT current_user, "
                    "message text)"
                ).format(self.history)
            )
        return statements

    # -- writing ---------------------------------------------------------------------------

    @staticmethod
    def transaction_duration() -> sql.Composable:
        """Milliseconds since the transaction began, i.e. since the migration began."""
        return sql.SQL("(extract(epoch FROM clock_timestamp() - now()) * 1000)::bigint")

    @staticmethod
    def remember_start() -> sql.Composable:
        return sql.SQL("SELECT set_config({}, clock_timestamp()::text, false)").format(
            sql.Literal(STARTED_AT_SETTING)
        )

    @staticmethod
    def remembered_start() -> sql.Composable:
        return sql.SQL("NULLIF(current_setting({}, true), '')::timestamptz").format(
            sql.Literal(STARTED_AT_SETTING)
        )

    @classmethod
    def session_duration(cls) -> sql.Composable:
        return sql.SQL("(extract(epoch FROM clock_timestamp() - {}) * 1000)::bigint").format(
            cls.remembered_start()
        )

    def insert_applied(self, migration: Migration, *, dirty: bool, checksum: str | None = None,
                       with_progress: bool = False) -> sql.Composable:
        """The row of an applied migration; ``dirty`` while a non-transactional one runs, with
        no statement done yet when its progress is recorded (``with_progress``)."""
        if dirty:
            return self._insert_row(migration, checksum, sql.SQL("clock_timestamp()"), sql.NULL, True, sql.Literal("up"),
                                    statements_done=0 if with_progress else None)
        return self._insert_row(migration, checksum, sql.SQL("now()"), self.transaction_duration(), False, sql.NULL)

    def insert_adopted(self, record: AppliedRecord) -> sql.Composable:
        """``record``, read from another tool's table, as a row of the runner's own."""
        return sql.SQL(
            "INSERT INTO {} (version, name, checksum, applied_at, applied_by, execution_ms, dirty,"
            " dirty_direction, failed_statement, failed_error) VALUES ({}, {}, {}, {}, {}, NULL, {}, {}, {}, {})"
        ).format(
            self.table,
            sql.Literal(record.version),
            sql.Literal(record.name),
            sql.Literal(record.checksum),
            sql.Literal(record.applied_at) if record.applied_at is not None else sql.SQL("now()"),
            sql.Literal(record.applied_by),
            sql.Literal(record.dirty),
            sql.Literal(record.dirty_direction),
            sql.Literal(record.failed_statement),
            sql.Literal(record.failed_error),
        )

    def recorded_versions(self, conn: psycopg.Connection) -> set[str]:
        """Every version the history mentions: what the runner has touched once."""
        query = sql.SQL("SELECT DISTINCT version FROM {} WHERE version IS NOT NULL").format(self.history)
        return {version for (version,) in conn.execute(query)}

    def insert_baselined(self, migration: Migration) -> sql.Composable:
        # Nothing ran, so there is no duration to record.
        return self._insert_row(migration, None, sql.SQL("now()"), sql.NULL, False, sql.NULL)

    def _insert_row(
        self, migration: Migration, checksum: str | None, applied_at: sql.Composable,
        duration: sql.Composable, dirty: bool, direction: sql.Composable, *, statements_done: int | None = None,
    ) -> sql.Composable:
        # The progress column only where it is written: a table of an earlier release may lack it.
        progress = (sql.SQL(", {}").format(sql.Identifier(PROGRESS_COLUMN)), sql.SQL(", {}").format(sql.Literal(statements_done))) \
            if statements_done is not None else (sql.SQL(""), sql.SQL(""))
        return sql.SQL(
            "INSERT INTO {} (version, name, checksum, applied_at, applied_by, execution_ms, dirty,"
            " dirty_direction{}) VALUES ({}, {}, {}, {}, {}, {}, {}, {}{})"
        ).format(
            self.table,
            progress[0],
            sql.Literal(migration.version.text),
            sql.Literal(migration.name),
            sql.Literal(checksum or migration.checksum),
            applied_at,
            sql.Literal(self.run_by),
            duration,
            sql.Literal(dirty),
            direction,
            progress[1],
        )

    def mark_clean_after_up(self, version: str, *, with_progress: bool = False) -> sql.Composable:
        progress = sql.SQL(", {} = NULL").format(sql.Identifier(PROGRESS_COLUMN)) if with_progress else sql.SQL("")
        return sql.SQL(
            "UPDATE {} SET dirty = false, dirty_direction = NULL, execution_ms = {}{} WHERE version = {}"
        ).format(self.table, self.session_duration(), progress, sql.Literal(version))

    def record_progress(self, version: str, statements_done: int) -> sql.Composable:
        """How far a migration outside a transaction got: the next run resumes after it."""
        return sql.SQL("UPDATE {} SET {} = {} WHERE version = {}").format(
            self.table, sql.Identifier(PROGRESS_COLUMN), sql.Literal(statements_done), sql.Literal(version)
        )

    def mark_dirty(self, version: str, direction: str) -> sql.Composable:
        return sql.SQL(
            "UPDATE {} SET dirty = true, dirty_direction = {}, failed_statement = NULL,"
            " failed_error = NULL WHERE version = {}"
        ).format(self.table, sql.Literal(direction), sql.Literal(version))

    def mark_failed(self, version: str, statement: str, error: str) -> sql.Composable:
        return sql.SQL(
            "UPDATE {} SET dirty = true, failed_statement = {}, failed_error = {} WHERE version = {}"
        ).format(self.table, sql.Literal(statement), sql.Literal(error), sql.Literal(version))

    def mark_repaired(self, version: str) -> sql.Composable:
        return sql.SQL(
            "UPDATE {} SET dirty = false, dirty_direction = NULL, failed_statement = NULL,"
            " failed_error = NULL WHERE version = {}"
        ).format(self.table, sql.Literal(version))

    def update_checksum(self, version: str, checksum: str) -> sql.Composable:
        return sql.SQL("UPDATE {} SET checksum = {} WHERE version = {}").format(
            self.table, sql.Literal(checksum), sql.Literal(version)
        )

    def rename(self, old: str, new: str) -> sql.Composable:
        return sql.SQL("UPDATE {} SET version = {} WHERE version = {}").format(
            self.table, sql.Literal(new), sql.Literal(old)
        )

    def delete(self, version: str) -> sql.Composable:
        return sql.SQL("DELETE FROM {} WHERE version = {}").format(self.table, sql.Literal(version))

    def insert_history(
        self,
        *,
        version: str | None,
        name: str | None,
        direction: str,
        checksum: str | None,
        outcome: str,
        message: str | None = None,
        started_at: sql.Composable | None = None,
        duration: sql.Composable | None = None,
    ) -> sql.Composable:
        return sql.SQL(
            "INSERT INTO {} (version, name, direction, checksum, started_at, duration_ms, outcome,"
            " run_by, message) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})"
        ).format(
            self.history,
            sql.Literal(version),
            sql.Literal(name),
            sql.Literal(direction),
            sql.Literal(checksum),
            started_at or sql.SQL("now()"),
            duration or sql.NULL,
            sql.Literal(outcome),
            sql.Literal(self.run_by),
            sql.Literal(message),
        )
