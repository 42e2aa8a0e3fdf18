"""The one PostgreSQL error layer: the package's error root, SQLSTATE classes, ``describe(error)``.

Every module of ``pytest_migrations`` that reports a PostgreSQL error (runner, round trip, tracer,
plugin, the server layer) says it through :func:`describe`, so the same failure reads the same
everywhere: PostgreSQL's primary message, its detail, and ``(SQLSTATE xxxxx)``. Which error it
is, is decided by psycopg's SQLSTATE classes (``isinstance(error, LockNotAvailable)``), never
by comparing SQLSTATE strings.
"""

from __future__ import annotations

import psycopg
from psycopg.errors import (
    ActiveSqlTransaction,
    DeadlockDetected,
    InsufficientPrivilege,
    InvalidSavepointSpecification,
    LockNotAvailable,
    ObjectInUse,
    QueryCanceled,
    UnsafeNewEnumValueUsage,
)

from .errors import PytestMigrationsError

__all__ = [
    "RETRYABLE",
    "ActiveSqlTransaction",
    "DeadlockDetected",
    "InsufficientPrivilege",
    "InvalidSavepointSpecification",
    "LockNotAvailable",
    "ObjectInUse",
    "PytestMigrationsError",
    "QueryCanceled",
    "UnsafeNewEnumValueUsage",
    "connection_lost",
    "describe",
    "error_line",
]


# What a retry can cure: another session held the lock, or the deadlock chose this session.
RETRYABLE: tuple[type[psycopg.Error], ...] = (LockNotAvailable, DeadlockDetected)


def describe(error: BaseException, *, detail: bool = True) -> str:
    """``error`` as one line: PostgreSQL's message, ``; detail``, and ``(SQLSTATE xxxxx)``.

    ``detail=False`` leaves the detail out, for a message that must read the same on every run
    (a detail may quote the failing row). Works for any exception; for one that is not
    PostgreSQL's, its text (or its class name).
    """
    diag = getattr(error, "diag", None) if isinstance(error, psycopg.Error) else None
    primary = getattr(diag, "message_primary", None)
    if primary:
        text = _flat(primary)
    else:
        # psycopg's own text: for a connection failure several lines (one per host tried).
        text = _flat(str(error)) or type(error).__name__
    detail_text = getattr(diag, "message_detail", None) if detail else None
    if detail_text:
        text += f"; {_flat(detail_text)}"
    sqlstate = getattr(error, "sqlstate", None) or getattr(diag, "sqlstate", None)
    return f"{text} (SQLSTATE {sqlstate})" if sqlstate else text


def error_line(error: BaseException, sql: str, first_line: int = 1) -> int | None:
    """The line of ``sql`` (whose first line is ``first_line`` of its file) PostgreSQL points at.

    ``None`` when the error carries no statement position.
    """
    diag = getattr(error, "diag", None) if isinstance(error, psycopg.Error) else None
    position = getattr(diag, "statement_position", None)
    if not position or not str(position).isdigit():
        return None
    # PostgreSQL counts characters from 1 in the text it was sent.
    offset = min(max(int(position) - 1, 0), len(sql))
    return first_line + sql.count("\n", 0, offset)


def connection_lost(conn: psycopg.Connection) -> bool:
    """Whether ``conn`` can no longer be used (the server ended it, or the network did)."""
    return conn.closed or conn.broken


def _flat(text: str) -> str:
    return " ".join(text.split())
