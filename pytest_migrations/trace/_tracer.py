"""Run a migration statement by statement and record what each one locked, rewrote and scanned.

The migration runs as its execution plan says (:func:`migration_lint.execution.plan_section`, from
the rule of the tool that owns the layout), one transaction block at a time: the tool's
transaction, each ``BEGIN ... COMMIT`` of a file run as written, or each implicit block of a file
sent as one query. After each statement the tracer reads, on the same connection (so inside that
block):

- ``pg_locks`` for its own backend: a lock mode first seen after a statement was taken by it;
- ``pg_class.relfilenode`` of every relation: a pre-existing table or index whose file changed
  was rewritten (or, for TRUNCATE, replaced by an empty one);
- ``pg_stat_xact_user_tables.seq_scan``: a pre-existing table whose count grew was read in full
  (a rewrite, an index build, a constraint check);
- ``pg_constraint.convalidated`` and ``pg_attribute.attnotnull``: constraints on pre-existing
  tables that became valid, i.e. that the statement checked against the existing rows.

A statement that runs outside any block runs in a transaction of its own, traced the same way,
except for the statements PostgreSQL refuses in a transaction block (CONCURRENTLY, VACUUM): those
are sampled from a second connection, see :func:`_run_sampled`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from migration_lint.execution import (
    ESCAPED,
    FILE_BLOCK,
    IMPLICIT_BLOCK,
    STATEMENT_BY_STATEMENT,
    ExecutionPlan,
    implicit_blocks,
    plan_section,
)
from migration_lint.model import Migration
from migration_lint.parse import Statement
from migration_lint.transaction import non_transactional_reason, transaction_control

from ..pgerrors import PytestMigrationsError, describe, error_line
from . import _catalog
from ._catalog import TABLE_KINDS, CatalogState, RelationRow
from ._modes import is_blocking, rank
from ._results import (
    IN_TRANSACTION,
    OWN_TRANSACTION,
    POLLED,
    QUEUED,
    SAMPLED,
    LockFact,
    MigrationTrace,
    SeedResult,
    StatementTrace,
    TracedRelation,
)

_POLL_SECONDS = 0.001
# How long the sampler holds its snapshot and locks if the statement never waits for them.
_HOLD_SECONDS = 2.0


class TraceError(PytestMigrationsError):
    """The migration cannot be traced (e.g. it rolls back its own transaction); one line."""


@dataclass
class _Names:
    """Every relation seen during the migration, so that a dropped one keeps its name."""

    pre_existing: frozenset[int]
    rows: dict[int, RelationRow] = field(default_factory=dict)
    latest: dict[int, RelationRow] = field(default_factory=dict)

    def learn(self, state: CatalogState) -> None:
        # A relation keeps the name it had when first seen: a renamed table is reported by the
        # name the running application knows it by.
        for oid, row in state.relations.items():
            self.rows.setdefault(oid, row)
        self.latest.update(state.relations)

    def relation(self, oid: int) -> TracedRelation | None:
        row = self.rows.get(oid)
        if row is None:
            return None  # a transient relation of a rewrite, created and dropped inside one statement
        owner = self.rows.get(row.owner_oid) if row.owner_oid else None
        latest = self.latest.get(oid, row)
        renamed = (latest.schema, latest.name) != (row.schema, row.name)
        return TracedRelation(
            oid=oid,
            name=f"{row.schema}.{row.name}",
            kind=row.kind,
            of=f"{owner.schema}.{owner.name}" if owner else None,
            pre_existing=oid in self.pre_existing,
            of_oid=owner.oid if owner else None,
            renamed_to=f"{latest.schema}.{latest.name}" if renamed else None,
        )


@dataclass(frozen=True)
class _Unit:
    """Statements traced in one transaction block (``in_block``), or one statement on its own."""

    statements: tuple[Statement, ...]
    in_block: bool


def traced_units(plan: ExecutionPlan) -> list[_Unit]:
    """The transaction blocks of ``plan`` as the tracer runs them, the file's own BEGIN/COMMIT
    left out (the tracer opens and commits each block itself). Raises :class:`TraceError` for a
    refused plan and for a block the file rolls back or never commits."""
    if plan.refusal is not None:
        raise TraceError(plan.refusal)
    path = plan.section.path
    if plan.mode == STATEMENT_BY_STATEMENT:
        blocks = [(list(b.statements), b.block == FILE_BLOCK) for b in plan.batches]
    elif plan.mode == ESCAPED:
        # The tool's transaction up to the file's COMMIT, then as PostgreSQL runs the rest there.
        blocks = [(list(b.statements), b.block is not None) for b in plan.batches]
    elif plan.mode == IMPLICIT_BLOCK and len(plan.statements) > 1:
        blocks = [(block, True) for block in implicit_blocks(plan.statements)]
    else:
        blocks = [(plan.statements, plan.mode != IMPLICIT_BLOCK)]
    units = []
    for statements, in_block in blocks:
        controls = [(s, transaction_control(s)) for s in statements]
        for statement, control in controls:
            if control in ("rollback", "prepare transaction"):
                raise TraceError(
                    f"{path}:{statement.line}: cannot trace a migration that ends its own"
                    f" transaction with {control.upper()}"
                )
        if in_block and plan.mode == STATEMENT_BY_STATEMENT and controls[-1][1] != "commit":
            raise TraceError(f"{path}:{statements[0].line}: BEGIN is never committed, so the block would be rolled back")
        kept = tuple(s for s, control in controls if control not in ("begin", "commit"))
        if kept:
            units.append(_Unit(kept, in_block))
    return units


def traced_statements(migration: Migration) -> list[Statement]:
    """The UP statements the tracer runs: the file's own BEGIN/COMMIT are left out."""
    return [s for unit in traced_units(plan_section(migration, "up")) for s in unit.statements]


def trace_migration(
    dsn: str,
    migration: Migration,
    *,
    trace_rows: int = 0,
    static: bool = True,
    history: Sequence[Migration] = (),
    lock_timeout: str | None = None,
    connect: Callable[[str], psycopg.Connection[Any]] | None = None,
) -> MigrationTrace:
    """Apply ``migration``'s UP to the database at ``dsn`` (at the schema of all earlier
    migrations) and return what each statement locked, rewrote and scanned, with findings.

    The migration stays applied (committed) unless it fails; ``MigrationTrace.error`` then says
    where. ``trace_rows`` first fills every empty pre-existing table with that many generated
    rows, so that the trace measures how long each lock is held. ``static`` asks the linter
    which rules flag each statement (to tell a covered finding from a catalogue gap);
    ``history``, the migrations before this one, gives the linter their schema as context.
    ``lock_timeout`` is the one the deploy sets for the migration (the ``migrations`` runner
    does, unless the file sets its own): it is set on the session first, as the runner would.
    """
    from ..seed_data import fill_tables
    from ._findings import attach_static, draw_findings

    began = time.perf_counter()
    open_connection = connect or _connect
    with open_connection(dsn) as conn:
        server_version = (conn.info.server_version or 0) // 10000
        plan = plan_section(migration, "up")
        trace = MigrationTrace(migration=migration, server_version=server_version, lock_timeout=lock_timeout, plan=plan)
        try:
            units = traced_units(plan)
        except TraceError as exc:
            trace.error = str(exc)
            trace.untraceable = True
            return trace
        if trace_rows > 0:
            trace.seeded = [SeedResult(filled.table, filled.rows, filled.reason) for filled in fill_tables(conn, trace_rows)]
        if lock_timeout is not None:
            # A session setting, so that a SET in the file wins, as with the runner.
            conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(lock_timeout)))
        before = _catalog.read_state(conn)
        names = _Names(pre_existing=frozenset(before.relations))
        names.learn(before)
        runner = _Runner(conn, dsn, names, migration.up.path, open_connection)
        try:
            trace.statements = runner.run_units(units, before, server_version)
        except _StatementFailed as failure:
            trace.statements = failure.done
            trace.error = failure.message
    trace.static_available = attach_static(trace, history) if static else False
    trace.findings = draw_findings(trace)
    trace.seconds = time.perf_counter() - began
    return trace


def _connect(dsn: str) -> psycopg.Connection[Any]:
    return psycopg.connect(dsn, autocommit=True)


class _StatementFailed(Exception):
    def __init__(self, message: str, done: list[StatementTrace]) -> None:
        super().__init__(message)
        self.message = message
        self.done = done


class _Runner:
    def __init__(
        self,
        conn: psycopg.Connection[Any],
        dsn: str,
        names: _Names,
        path: Path,
        open_connection: Callable[[str], psycopg.Connection[Any]],
    ) -> None:
        self.conn = conn
        self.dsn = dsn
        self.names = names
        self.path = path
        self.open_connection = open_connection

    def run_units(self, units: Sequence[_Unit], before: CatalogState, server_version: int) -> list[StatementTrace]:
        """Each unit in order: a block in one transaction, a statement alone in its own (or
        sampled, when PostgreSQL refuses it in a transaction block)."""
        traces: list[StatementTrace] = []
        state = before
        for unit in units:
            if unit.in_block:
                state = self._run_block(unit.statements, state, traces)
            else:
                state = self._run_alone(unit.statements[0], state, server_version, traces)
        return traces

    def _run_block(self, statements: Sequence[Statement], before: CatalogState, traces: list[StatementTrace]) -> CatalogState:
        block: list[StatementTrace] = []
        self.conn.execute("BEGIN")
        try:
            observation = _Observation(state=before, locks=set(), scans=_catalog.read_seq_scans(self.conn))
            for statement in statements:
                trace, observation = self._run_observed(statement, observation, IN_TRANSACTION, [*traces, *block])
                block.append(trace)
            commit_seconds = self._commit([*traces, *block])
        except BaseException:
            self._rollback()
            raise
        _set_held_seconds(block, commit_seconds)
        traces.extend(block)
        return observation.state

    def _run_alone(
        self, statement: Statement, state: CatalogState, server_version: int, traces: list[StatementTrace]
    ) -> CatalogState:
        if non_transactional_reason(statement, server_version) is not None:
            trace, state = self._run_sampled(statement, state, traces)
            traces.append(trace)
            return state
        self.conn.execute("BEGIN")
        try:
            start = _Observation(state=state, locks=set(), scans=_catalog.read_seq_scans(self.conn))
            trace, observation = self._run_observed(statement, start, OWN_TRANSACTION, traces)
            commit_seconds = self._commit([*traces, trace])
        except BaseException:
            self._rollback()
            raise
        _set_held_seconds([trace], commit_seconds)
        traces.append(trace)
        return observation.state

    def _commit(self, done: list[StatementTrace]) -> float:
        began = time.perf_counter()
        try:
            self.conn.execute("COMMIT")
        except psycopg.Error as exc:  # a deferred constraint, a serialization failure
            raise _StatementFailed(f"{self.path}: COMMIT failed: {describe(exc)}", list(done)) from None
        return time.perf_counter() - began

    def _rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except psycopg.Error:
            pass

    def _execute(self, statement: Statement, done: list[StatementTrace]) -> float:
        began = time.perf_counter()
        try:
            self.conn.execute(statement.text)
        except psycopg.Error as exc:
            raise _StatementFailed(f"{self.path}:{_line(exc, statement)}: {describe(exc)}", list(done)) from None
        return time.perf_counter() - began

    def _run_observed(
        self, statement: Statement, previous: _Observation, method: str, done: list[StatementTrace]
    ) -> tuple[StatementTrace, _Observation]:
        lock_timeout = self._setting("lock_timeout")
        seconds = self._execute(statement, done)
        current = _Observation(
            state=_catalog.read_state(self.conn),
            locks={(oid, mode) for oid, mode, granted in _catalog.read_own_locks(self.conn) if granted},
            scans=_catalog.read_seq_scans(self.conn),
        )
        self.names.learn(current.state)
        acquired = []
        for oid, mode in sorted(current.locks - previous.locks):
            relation = self.names.relation(oid)
            if relation is not None:
                acquired.append(LockFact(relation, mode))
        trace = StatementTrace(
            statement=statement,
            path=self.path,
            method=method,
            acquired=tuple(sorted(acquired, key=_fact_order)),
            rewritten=self._rewritten(previous.state, current.state),
            scanned=self._scanned(previous.scans, current.scans),
            validated=self._validated(previous.state, current.state),
            dropped=self._dropped(previous.state, current.state),
            seconds=seconds,
            blocking_held_before=any(
                is_blocking(mode) and oid in self.names.pre_existing for oid, mode in previous.locks
            ),
            lock_timeout=lock_timeout,
        )
        return trace, current

    def _setting(self, name: str) -> str:
        row = self.conn.execute("SELECT pg_catalog.current_setting(%s)", (name,)).fetchone()
        return str(row[0]) if row else ""

    # -- statements that run only outside a transaction block --------------------------------------
    def _run_sampled(
        self, statement: Statement, before: CatalogState, done: list[StatementTrace]
    ) -> tuple[StatementTrace, CatalogState]:
        """Run ``statement`` in autocommit while other connections make it wait and watch it.

        Before it starts, one connection per table the statement names holds SHARE UPDATE
        EXCLUSIVE on that table, in an open transaction. Every mode from SHARE UPDATE EXCLUSIVE
        up conflicts with it, so the statement queues for the table, and pg_locks shows the mode
        it asks for; the watcher then ends that holder's transaction and lets it through, table
        after table. Weaker modes (and locks on relations the statement does not name) are only
        polled, so they may be missed; the note says which way each lock was seen.
        """
        lock_timeout = self._setting("lock_timeout")
        pid = self.conn.info.backend_pid
        seen: dict[tuple[int, str], str] = {}
        caught: set[int] = set()
        outcome: dict[str, Any] = {}

        def run() -> None:
            began = time.perf_counter()
            try:
                self.conn.execute(statement.text)
            except psycopg.Error as exc:
                outcome["error"] = exc
            outcome["seconds"] = time.perf_counter() - began

        targets = _statement_tables(self.conn, statement, self.names.pre_existing)
        with self.open_connection(self.dsn) as watcher:
            holders = self._hold(targets)
            try:
                worker = threading.Thread(target=run, name="migrations-trace-statement", daemon=True)
                started = time.perf_counter()
                worker.start()
                while worker.is_alive():
                    locks, waiting = _catalog.read_backend_locks(watcher, pid)
                    for oid, mode, granted in locks:
                        if not granted and oid in holders:
                            seen[(oid, mode)] = QUEUED
                            caught.add(oid)
                            _release(holders.pop(oid))
                        else:
                            seen.setdefault((oid, mode), POLLED)
                    if holders and waiting and time.perf_counter() - started > _HOLD_SECONDS:
                        for oid in list(holders):  # it waits for something else: never hold it up for long
                            _release(holders.pop(oid))
                    worker.join(_POLL_SECONDS)
            finally:
                for holder in holders.values():
                    _release(holder)
        if "error" in outcome:
            raise _StatementFailed(f"{self.path}:{_line(outcome['error'], statement)}: {describe(outcome['error'])}", list(done))
        after = _catalog.read_state(self.conn)
        self.names.learn(after)
        acquired = []
        for (oid, mode), how in seen.items():
            relation = self.names.relation(oid)
            if relation is not None:
                acquired.append(LockFact(relation, mode, how))
        if caught:
            note = "ran outside a transaction block; made to queue for the tables it names, other locks sampled"
        elif acquired:
            note = "ran outside a transaction block; locks sampled while it ran and may be incomplete"
        else:
            note = "ran outside a transaction block and finished between two samples: its locks were not seen"
        seconds = float(outcome.get("seconds", 0.0))
        trace = StatementTrace(
            statement=statement,
            path=self.path,
            method=SAMPLED,
            acquired=tuple(sorted(acquired, key=_fact_order)),
            rewritten=self._rewritten(before, after),
            scanned=(),
            validated=self._validated(before, after),
            dropped=self._dropped(before, after),
            seconds=seconds,
            held_seconds=seconds,
            lock_timeout=lock_timeout,
            note=note + "; sequential scans are not observed outside a transaction",
        )
        return trace, after

    def _hold(self, tables: list[tuple[int, sql.Composable]]) -> dict[int, psycopg.Connection[Any]]:
        holders: dict[int, psycopg.Connection[Any]] = {}
        for oid, name in tables:
            holder = self.open_connection(self.dsn)
            try:
                holder.execute("BEGIN")
                holder.execute(sql.SQL("LOCK TABLE ONLY {} IN SHARE UPDATE EXCLUSIVE MODE NOWAIT").format(name))
            except psycopg.Error:
                holder.close()
                continue
            holders[oid] = holder
        return holders

    # -- what changed ----------------------------------------------------------------------------------
    def _rewritten(self, before: CatalogState, after: CatalogState) -> tuple[TracedRelation, ...]:
        found = []
        for oid, row in after.relations.items():
            old = before.relations.get(oid)
            if old is None or oid not in self.names.pre_existing:
                continue
            if row.filenode != old.filenode and row.filenode != 0:
                relation = self.names.relation(oid)
                if relation is not None:
                    found.append(relation)
        return tuple(sorted(found, key=_relation_order))

    def _dropped(self, before: CatalogState, after: CatalogState) -> tuple[TracedRelation, ...]:
        gone = [self.names.relation(oid) for oid in before.relations.keys() - after.relations.keys()
                if oid in self.names.pre_existing]
        return tuple(sorted((relation for relation in gone if relation is not None), key=_relation_order))

    def _scanned(self, before: dict[int, int], after: dict[int, int]) -> tuple[TracedRelation, ...]:
        found = []
        for oid, count in after.items():
            if count > before.get(oid, 0) and oid in self.names.pre_existing:
                relation = self.names.relation(oid)
                row = self.names.rows.get(oid)
                if relation is not None and row is not None and row.relkind in TABLE_KINDS:
                    found.append(relation)
        return tuple(sorted(found, key=_relation_order))

    def _validated(self, before: CatalogState, after: CatalogState) -> tuple[str, ...]:
        found = []
        for oid, constraint in after.constraints.items():
            # PostgreSQL 18 records NOT NULL in pg_constraint too; attnotnull below covers every version.
            if constraint.contype not in ("c", "f") or constraint.table_oid not in self.names.pre_existing:
                continue
            old = before.constraints.get(oid)
            if constraint.validated and (old is None or not old.validated):
                found.append(f"{constraint.type} {constraint.name} on {self._table_name(constraint.table_oid)}")
        for table_oid, column in sorted(after.not_null - before.not_null):
            if table_oid in self.names.pre_existing:
                found.append(f"NOT NULL {self._table_name(table_oid)}.{column}")
        return tuple(sorted(found))

    def _table_name(self, oid: int) -> str:
        row = self.names.rows.get(oid)
        return f"{row.schema}.{row.name}" if row else str(oid)


def _release(holder: psycopg.Connection[Any]) -> None:
    try:
        holder.execute("COMMIT")
    except psycopg.Error:
        pass
    holder.close()


_TABLE_OF = """
SELECT coalesce(i.indrelid, c.oid)::int8, n.nspname::text, t.relname::text, t.relkind::text
FROM pg_catalog.pg_class c
LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
JOIN pg_catalog.pg_class t ON t.oid = coalesce(i.indrelid, c.oid)
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE c.oid = pg_catalog.to_regclass(%s)
"""


def _statement_tables(
    conn: psycopg.Connection[Any], statement: Statement, pre_existing: frozenset[int]
) -> list[tuple[int, sql.Composable]]:
    """Pre-existing tables a statement names (an index stands for its table), resolved with the
    connection's search_path."""
    names = []
    for relation in _named_relations(statement.node):
        names.append(".".join(part for part in relation if part))
    found: dict[int, sql.Composable] = {}
    for dotted in names:
        quoted = ".".join(_quote_ident(part) for part in dotted.split("."))
        row = conn.execute(_TABLE_OF, (quoted,)).fetchone()
        if row and row[0] in pre_existing and row[3] in ("r", "p"):
            found.setdefault(row[0], sql.Identifier(row[1], row[2]))
    return sorted(found.items(), key=lambda item: item[0])


def _named_relations(node: Any) -> list[tuple[str, ...]]:
    from migration_lint.sqlnodes import drop_object_names

    found: list[tuple[str, ...]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if "relname" in current:
                found.append((current.get("schemaname") or "", current["relname"]))
            if current.get("removeType") in ("OBJECT_INDEX", "OBJECT_TABLE", "OBJECT_MATVIEW"):
                found.extend(tuple(name.split(".")) for name in drop_object_names(current) if name)
            stack.extend(value for value in current.values() if isinstance(value, (dict, list)))
        elif isinstance(current, list):
            stack.extend(current)
    return found


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Observation:
    state: CatalogState
    locks: set[tuple[int, str]]
    scans: dict[int, int]


def _set_held_seconds(traces: list[StatementTrace], commit_seconds: float) -> None:
    """A lock taken by statement i is held through the later statements until commit.

    Only the statements' own run times are added up, not the tracer's catalog reads in between.
    """
    remaining = commit_seconds
    for trace in reversed(traces):
        remaining += trace.seconds
        trace.held_seconds = remaining


def _fact_order(fact: LockFact) -> tuple[str, int]:
    return fact.relation.name, -rank(fact.mode)


def _relation_order(relation: TracedRelation) -> str:
    return relation.name


def _line(error: BaseException, statement: Statement) -> int:
    """The file line PostgreSQL points at in ``statement``, else the statement's first line."""
    return error_line(error, statement.text, statement.line) or statement.line
