"""The advisory lock that serialises runners against one database.

The lock is session-level and lives on a connection of its own that never opens a transaction.
A transaction-scoped lock (``pg_advisory_xact_lock``), or any lock held inside an open
transaction, makes ``CREATE INDEX CONCURRENTLY`` wait forever for that transaction to end: the
index build waits for every transaction that could still see the table, including the runner's
own (Flyway's long-standing bug). If the process dies, PostgreSQL drops the connection and the
lock with it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Callable

import psycopg
from psycopg import sql

from ._errors import RunnerError

POLL_INTERVAL = 0.1


def lock_key(schema: str, table: str) -> int:
    """A stable signed 64-bit key for the tracking table ``schema.table``."""
    digest = hashlib.sha256(f"pytest-migrations:{schema}.{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def migration_lock_key(schema: str, table: str, version: str) -> int:
    """The key a session holds while it runs migration ``version`` outside a transaction: held,
    the migration is still running somewhere, whatever its dirty record says."""
    digest = hashlib.sha256(f"pytest-migrations:{schema}.{table}:{version}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_sql(key: int) -> sql.Composable:
    return sql.SQL("SELECT pg_advisory_lock({})").format(sql.Literal(key))


def holder_of(conn: psycopg.Connection, key: int) -> int | None:
    """The PostgreSQL pid of another session holding the advisory lock ``key``, or ``None``."""
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    row = conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = %s"
        " AND objid::bigint = %s AND objsubid = 1 AND pid <> pg_backend_pid()"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
        (high, low),
    ).fetchone()
    return row[0] if row else None


def try_lock_sql(key: int) -> sql.Composable:
    return sql.SQL("SELECT pg_try_advisory_lock({})").format(sql.Literal(key))


def unlock_sql(key: int) -> sql.Composable:
    return sql.SQL("SELECT pg_advisory_unlock({})").format(sql.Literal(key))


class AdvisoryLock:
    """Hold the runners' lock on ``conn`` (autocommit) for the duration of a ``with`` block."""

    def __init__(
        self,
        conn: psycopg.Connection,
        key: int,
        wait: float,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        if not conn.autocommit:
            raise ValueError("the lock connection must be in autocommit mode")
        self.conn = conn
        self.key = key
        self.wait = wait
        self.on_wait = on_wait

    def __enter__(self) -> AdvisoryLock:
        deadline = time.monotonic() + self.wait
        told = False
        while True:
            row = self.conn.execute(try_lock_sql(self.key)).fetchone()
            if row and row[0]:
                return self
            if not told and self.on_wait is not None:
                self.on_wait()
                told = True
            if time.monotonic() >= deadline:
                holder = self._holder()
                raise RunnerError(
                    f"another runner still holds the migration lock after {self.wait:g} s{holder}",
                    hint="wait for it to finish, or raise lock_wait / --lock-wait",
                )
            time.sleep(POLL_INTERVAL)

    def _holder(self) -> str:
        high, low = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        row = self.conn.execute(
            "SELECT a.pid, a.application_name, a.client_addr::text FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = %s"
            " AND l.objid::bigint = %s AND l.objsubid = 1 LIMIT 1",
            (high, low),
        ).fetchone()
        if row is None:
            return ""
        pid, application, address = row
        return f" (PostgreSQL pid {pid}{', ' + application if application else ''}{', from ' + address if address else ''})"

    def __exit__(self, *exc_info: object) -> None:
        if self.conn.closed or self.conn.broken:
            return
        try:
            self.conn.execute(unlock_sql(self.key))
        except psycopg.Error:
            pass  # the connection is going away, and the lock with it
