"""What the tracer reads from the catalogs around each statement.

Every query names ``pg_catalog`` objects in full, because a migration may empty ``search_path``
(pg_dump baselines do). Only objects made after initdb are read (:data:`FIRST_USER_OID`): the
others are the system catalogs, which every statement touches and no application waits on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from ..catalog import FIRST_USER_OID
from ._modes import mode_name

_RELKINDS = {
    "r": "table",
    "p": "partitioned table",
    "i": "index",
    "I": "partitioned index",
    "S": "sequence",
    "t": "TOAST table",
    "v": "view",
    "m": "materialized view",
    "c": "composite type",
    "f": "foreign table",
}
# Kinds whose contents a statement can scan or rewrite.
TABLE_KINDS = frozenset({"r", "m", "t"})

_RELATIONS = f"""
SELECT c.oid::int8, c.relfilenode::int8, c.relkind::text, n.nspname::text, c.relname::text,
       coalesce(i.indrelid, owner.oid, serial.refobjid)::int8
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_catalog.pg_class owner ON owner.reltoastrelid = c.oid
LEFT JOIN pg_catalog.pg_depend serial
       ON c.relkind = 'S' AND serial.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND serial.objid = c.oid
      AND serial.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND serial.deptype IN ('a', 'i')
      AND serial.refobjsubid > 0
WHERE c.oid >= {FIRST_USER_OID}
"""
_CONSTRAINTS = f"""
SELECT oid::int8, conrelid::int8, conname::text, contype::text, convalidated
FROM pg_catalog.pg_constraint
WHERE conrelid >= {FIRST_USER_OID}
"""
_NOT_NULL_COLUMNS = f"""
SELECT a.attrelid::int8, a.attname::text
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
WHERE a.attrelid >= {FIRST_USER_OID} AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
  AND c.relkind IN ('r', 'p')
"""
# Counts of this backend not yet sent to the statistics system; inside one transaction block
# they only grow, so the difference over a statement is the scans that statement made.
_SEQ_SCANS = """
SELECT relid::int8, seq_scan FROM pg_catalog.pg_stat_xact_user_tables WHERE seq_scan > 0
"""
_OWN_LOCKS = f"""
SELECT l.relation::int8, l.mode, l.granted
FROM pg_catalog.pg_locks l
WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation' AND l.relation >= {FIRST_USER_OID}
  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
"""
_BACKEND_LOCKS = """
SELECT l.locktype, l.relation::int8, l.mode, l.granted
FROM pg_catalog.pg_locks l
WHERE l.pid = %s
"""
_CONSTRAINT_TYPES = {"c": "CHECK", "f": "FOREIGN KEY", "n": "NOT NULL", "p": "PRIMARY KEY", "u": "UNIQUE",
                     "x": "EXCLUDE", "t": "constraint trigger"}


@dataclass(frozen=True)
class RelationRow:
    oid: int
    filenode: int
    relkind: str
    schema: str
    name: str
    owner_oid: int | None  # the table of an index, of a TOAST table, of a serial or identity sequence

    @property
    def kind(self) -> str:
        return _RELKINDS.get(self.relkind, self.relkind)


@dataclass(frozen=True)
class ConstraintRow:
    oid: int
    table_oid: int
    name: str
    contype: str
    validated: bool

    @property
    def type(self) -> str:
        return _CONSTRAINT_TYPES.get(self.contype, self.contype)


@dataclass
class CatalogState:
    """Relations, constraints and NOT NULL columns as one connection sees them at one moment."""

    relations: dict[int, RelationRow] = field(default_factory=dict)
    constraints: dict[int, ConstraintRow] = field(default_factory=dict)
    not_null: frozenset[tuple[int, str]] = frozenset()


def read_state(conn: psycopg.Connection[Any]) -> CatalogState:
    relations = {row[0]: RelationRow(*row) for row in conn.execute(_RELATIONS).fetchall()}
    constraints = {row[0]: ConstraintRow(*row) for row in conn.execute(_CONSTRAINTS).fetchall()}
    not_null = frozenset((row[0], row[1]) for row in conn.execute(_NOT_NULL_COLUMNS).fetchall())
    return CatalogState(relations, constraints, not_null)


def read_seq_scans(conn: psycopg.Connection[Any]) -> dict[int, int]:
    return {row[0]: row[1] for row in conn.execute(_SEQ_SCANS).fetchall()}


def read_own_locks(conn: psycopg.Connection[Any]) -> set[tuple[int, str, bool]]:
    """``{(relation oid, mode, granted)}`` held or awaited by this connection's backend."""
    return {(row[0], mode_name(row[1]), row[2]) for row in conn.execute(_OWN_LOCKS).fetchall()}


def read_backend_locks(conn: psycopg.Connection[Any], pid: int) -> tuple[set[tuple[int, str, bool]], bool]:
    """Relation locks of backend ``pid`` (user relations only) and whether it waits for any lock."""
    relation_locks = set()
    waiting = False
    for locktype, relation, mode, granted in conn.execute(_BACKEND_LOCKS, (pid,)).fetchall():
        if not granted:
            waiting = True
        if locktype == "relation" and relation is not None and relation >= FIRST_USER_OID:
            relation_locks.add((relation, mode_name(mode), granted))
    return relation_locks, waiting
