"""The round trip of a chain of migrations: UP, DOWN, UP again, each checked against a snapshot.

One database walks the whole chain, so the cost grows linearly with the number of migrations:

    S(k-1) ──UP k──▶ S(k) ──DOWN k──▶ must equal S(k-1) ──UP k──▶ must equal S(k)

UP k is applied for good, and S(k) read, by itself. DOWN k and the UP again run inside one
transaction that is always rolled back, so the chain goes on from the exact S(k) the first UP
made, even when the DOWN of k is broken: one bad DOWN fails one migration, not every one after
it. When the DOWN restored S(k-1) exactly, the UP again runs on the schema it first ran on, so it
must succeed but is not snapshotted a third time.

When both UP and DOWN can run inside a transaction, that transaction also checks the data: it
starts at S(k-1), gives the tables that UP or DOWN can reach a few generated rows, runs UP k and
DOWN k over them, and the rows must still be there unchanged before the UP again (the data
check; :func:`tables_at_risk` says which tables, :mod:`pytest_migrations.seed_data` fills
them). A row that is not is blamed on the step that lost it: what UP itself removed is a
warning, what UP kept and DOWN lost a failure. If a script fails over the rows, the round trip is
run again without them, to tell a failure of the script from one the rows cause (a warning).

Only a failing UP breaks the chain; the migrations after it are skipped as depending on it.
Each script runs as its execution plan says (:func:`migration_lint.execution.plan_section`, from
the rule of the tool that owns the layout), so the round trip runs what the user's tool runs: in
the tool's transaction (where a ``CREATE INDEX CONCURRENTLY`` fails, as in production), as one
query in PostgreSQL's implicit block, or statement by statement as written in autocommit mode.
Only scripts that run all or nothing can be rolled back by the round trip; if the round trip of
another fails, the database is rebuilt by replaying the UPs, so later migrations are still
checked from the right state.

Costs: the walk keeps a :class:`~pytest_migrations.snapshot.SnapshotCache`, so each snapshot reads
again only the relations (and other objects) whose catalog rows changed since the last ones: 1 to
3 ms where a full read takes 4 to 10. A script that runs inside a transaction goes to the server
in one round trip. ``bench/bench_roundtrip.py`` times the walk against its floor.

:class:`ChainWalker` is lazy: :meth:`ChainWalker.result_for` walks only as far as the migration
asked for, applying unchecked predecessors as set-up (``pytest -k 012`` round-trips one
migration). Nothing here imports pytest; the plugin is a thin layer over this module.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from migration_lint.execution import (
    ESCAPED, IMPLICIT_BLOCK, STATEMENT_BY_STATEMENT, TOOL_TRANSACTION, ExecutionPlan, plan_section,
)
from migration_lint.model import Migration, Section

from . import seed_data
from .pgerrors import PytestMigrationsError, UnsafeNewEnumValueUsage, describe, error_line
from .walk import ChainWalk

if TYPE_CHECKING:
    from .database import Server

__all__ = [
    "ChainWalker",
    "Problem",
    "ScriptError",
    "SetupSqlError",
    "StepResult",
    "compare_snapshots",
    "make_base_database",
    "round_trip",
    "run_section",
    "tables_at_risk",
]

logger = logging.getLogger("pytest_migrations.roundtrip")

_SEEDED_SAVEPOINT = "pytest_migrations_seeded"  # the data check's rows, before UP

PASSED = "passed"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Problem:
    """One reason a round trip failed, phrased for a reader: a headline and detail lines."""

    headline: str
    details: tuple[str, ...] = ()

    def render(self, limit: int = 20) -> str:
        shown = [f"  {line}" for line in self.details[:limit]]
        if len(self.details) > limit:
            shown.append(f"  ... and {len(self.details) - limit} more")
        return "\n".join([self.headline, *shown])


@dataclass
class StepResult:
    """The outcome of one migration's round trip."""

    migration: Migration
    outcome: str  # "passed", "failed" or "skipped"
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skip_reason: str | None = None
    missing_down: bool = False
    broke_chain: bool = False  # UP failed: what follows cannot be checked
    fails_over_rows: str | None = None  # "UP" or "DOWN" failed over seeded rows (then checked without them)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.outcome == PASSED

    @property
    def failed(self) -> bool:
        return self.outcome == FAILED

    def report(self) -> str:
        """The failure as text: one block per problem, no traceback."""
        return "\n".join(problem.render() for problem in self.problems)


class ScriptError(PytestMigrationsError):
    """A statement of a migration script failed; the message names file, line and SQLSTATE."""

    def __init__(self, message: str, error: BaseException | None = None) -> None:
        super().__init__(message)
        self.error = error  # PostgreSQL's error, to tell its kind by psycopg's SQLSTATE classes

    @property
    def sqlstate(self) -> str | None:
        return getattr(self.error, "sqlstate", None)


@dataclass
class _OverRows:
    """What the round trip over seeded rows found (see :meth:`ChainWalker._round_trip_over_rows`)."""

    note: str | None = None  # why the data check was skipped, said unless the plain round trip fails alike
    round_trip: StepResult | None = None  # the schema's problems and warnings, when it ran to the end
    again: Any = None  # the schema UP again made, to compare with S(k)
    fails_over_rows: str | None = None  # "UP" or "DOWN": the section that fails only once rows are seeded


class ChainWalker(ChainWalk[StepResult]):
    """Walks a chain of migrations on one database of ``server``, lazily, in order (the lazy
    walk is :class:`~pytest_migrations.walk.ChainWalk`'s, shared with the tracer).

    ``setup_sql`` runs on every chain database before the first migration. ``jobs`` (by
    default 2 where there are two cores) lets a second walker take the later half of a long
    walk, where that pays for the second walker's start (see :meth:`expect`).
    Use as a context manager, or call :meth:`close`, to drop the databases it made.
    """

    def __init__(
        self,
        server: Server,
        migrations: Sequence[Migration],
        *,
        setup_sql: str | None = None,
        setup_sql_path: Path | None = None,
        check_data: bool = True,
        strict_column_order: bool = False,
        jobs: int | None = None,
    ) -> None:
        super().__init__(migrations)
        self.server = server
        self.setup_sql = setup_sql
        self.setup_sql_path = setup_sql_path
        self.check_data = check_data
        self.strict_column_order = strict_column_order
        self.jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
        self._expected: list[int] | None = None  # indexes of the migrations that will be asked for
        self._later: _LaterSegment | None = None  # the part of the chain a second walker walks
        self._database: str | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self._snapshot_cache: Any = None  # a SnapshotCache of the chain database
        self._position = -1  # index of the last migration applied to the chain database
        self._snapshot: Any = None  # snapshot at _position, when taken
        self._unseedable: set[str] = set()  # tables the data check could not fill, said once
        self._rollback_pending = False  # the data check's transaction is still open
        self._seed_memo: dict[Any, Any] = {}  # values found to satisfy CHECKs, by table description

    # -- public --------------------------------------------------------------------------------

    def expect(self, migrations: Iterable[Migration | str]) -> None:
        """Say which migrations will be asked for (all, by default). With ``jobs`` > 1 and enough
        of them, the later half is walked meanwhile by a second walker, on a database and a
        server process of its own (it first applies the UPs before it, unchecked): the cost
        still grows linearly, and a second core halves the time."""
        ids = {m if isinstance(m, str) else m.id for m in migrations}
        self._expected = sorted(self._index[i] for i in ids if i in self._index)

    @property
    def expecting(self) -> bool:
        """Whether :meth:`expect` was told what will be asked for."""
        return self._expected is not None

    def result_for(self, migration: Migration | str) -> StepResult:
        """The round-trip result of ``migration`` (a Migration or its id), walking to it if needed."""
        migration_id = migration if isinstance(migration, str) else migration.id
        if migration_id in self._results:
            return self._results[migration_id]
        index = self.index_of(migration_id)
        self._start_later_segment(index)
        if self._later is not None and index >= self._later.start:
            result = self._later.result(migration_id)
            self._results[migration_id] = result
            return result
        target = self.migrations[index]
        started = time.perf_counter()
        result = self._result_at(index, target)
        result.seconds = time.perf_counter() - started
        self._results[migration_id] = result
        return result

    def walk(self) -> Iterator[StepResult]:
        """Every migration's result, in order."""
        if self._expected is None:
            self.expect(self.migrations)
        yield from super().walk()

    # A second walker pays off only for a long enough walk: it first replays the UPs before its
    # part, and each walker makes a database of its own.
    _LATER_SEGMENT_MINIMUM = 8

    def _start_later_segment(self, first_asked: int) -> None:
        """Hand the later half of the expected migrations to a second walker, once, when the
        walk starts from the first of them."""
        expected = self._expected
        if self._later is not None or not expected or self._results:
            return
        if self.jobs < 2 or first_asked != expected[0] or len(expected) < self._LATER_SEGMENT_MINIMUM:
            return
        split = self._balanced_split(expected)
        if split is None:
            return
        second = ChainWalker(
            self.server, self.migrations, setup_sql=self.setup_sql, setup_sql_path=self.setup_sql_path,
            check_data=self.check_data, strict_column_order=self.strict_column_order, jobs=1,
        )  # fmt: skip
        self._later = _LaterSegment(second, split, [self.migrations[i].id for i in expected if i >= split])

    def _balanced_split(self, expected: list[int]) -> int | None:
        """The first index of the later part, so that both walkers take about as long; None
        when one walker alone would be about as fast.

        Measured over the corpus: a round trip costs about 10 ms plus 1.3 ms per statement of
        UP and DOWN; replaying an UP unchecked (the second walker's set-up) 0.5 ms plus 0.2 ms
        per statement, after some 60 ms of starting (its database, its connection, and the
        catalog statements its session plans). Only the order of magnitude matters.
        """

        def statements(section: Section | None) -> int:
            return 0 if section is None else len(section.statements)

        round_trip = {i: 10 + 1.3 * (statements(self.migrations[i].up) + statements(self.migrations[i].down))
                      for i in expected}  # fmt: skip
        alone = sum(round_trip.values())
        best, best_cost = expected[len(expected) // 2], float("inf")
        first, replay = 0.0, 60.0
        later = alone
        position = 0
        for index in range(expected[0], expected[-1] + 1):
            if index in round_trip:
                if position > 0:  # the later part starts here: compare the two walkers
                    cost = max(first, replay + later)
                    if cost < best_cost:
                        best, best_cost = index, cost
                first += round_trip[index]
                later -= round_trip[index]
                position += 1
            replay += 0.5 + 0.2 * statements(self.migrations[index].up)
        # a second database, connection and walk is worth it only for a clear gain
        return best if best_cost <= 0.8 * alone else None

    def close(self) -> None:
        if self._later is not None:
            self._later.close()
            self._later = None
        self._close_connection()
        if self._database is not None:
            try:
                self.server.drop_database(self._database)
            except Exception as exc:  # noqa: BLE001 - cleanup must not hide the real outcome
                logger.warning("could not drop %s: %s", self._database, exc)
        self._database = None

    def __enter__(self) -> ChainWalker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the walk ------------------------------------------------------------------------------

    def _result_at(self, index: int, migration: Migration) -> StepResult:
        if self._broken_before(index):
            return self._skip_dependent(migration)
        if index <= self._position or self._conn is None:
            self._restart()
        self._advance_to(index - 1)
        if self._broken_at is not None:
            return self._skip_dependent(migration)
        return self._round_trip(index, migration)

    def _skip_dependent(self, migration: Migration) -> StepResult:
        return StepResult(migration, SKIPPED, skip_reason=self._dependency())

    def _restart(self) -> None:
        """A fresh chain database with nothing applied."""
        self._close_connection()
        if self._database is not None:
            self.server.drop_database(self._database)
            self._database = None
        # Set-up SQL runs on each new chain database; a template would cost a second CREATE DATABASE.
        self._database = make_base_database(self.server, self.setup_sql, self.setup_sql_path)
        self._conn = self.server.connect(self._database, autocommit=True)
        # psycopg forgets the statements it prepared itself, with a DEALLOCATE ALL, whenever a
        # script DROPs or ALTERs something: that would take the snapshot's statements with them.
        self._conn.prepare_threshold = None
        self._position = -1
        self._snapshot = None
        self._snapshot_cache = None
        self._broken_at = None
        self._broken_reason = ""

    def _advance_to(self, index: int) -> None:
        """Apply the UPs up to ``index`` without checks (set-up for a later migration)."""
        while self._position < index:
            migration = self.migrations[self._position + 1]
            try:
                self._run(self._plan(migration, "up"))
            except ScriptError as error:
                self._break_at(migration, f"its UP failed: {error}")
                return
            self._position += 1
            self._snapshot = None

    def _round_trip(self, index: int, migration: Migration) -> StepResult:
        conn = self._connection
        before = self._snapshot if self._snapshot is not None else self._take_snapshot()
        result = StepResult(migration, PASSED)
        up_plan = self._plan(migration, "up")
        down_plan = self._plan(migration, "down")
        # Only what runs all or nothing can run inside the transaction the round trip rolls back.
        wrapped = up_plan is not None and down_plan is not None and up_plan.atomic and down_plan.atomic

        over_rows = _OverRows()
        if self.check_data and down_plan is not None:
            if wrapped:
                over_rows = self._round_trip_over_rows(migration, up_plan, down_plan, before, result)
            else:
                assert up_plan is not None
                reason = _not_atomic_reason(up_plan if not up_plan.atomic else down_plan)
                result.warnings.append(
                    f"{migration.id}: data check skipped: {reason}, so the rows it would seed"
                    " could not be rolled back"
                )

        try:
            after = self._run_then_snapshot(up_plan)
        except ScriptError as error:
            self._break_at(migration)
            result.outcome = FAILED
            result.broke_chain = True
            result.problems.append(Problem(f"UP of {migration.id} failed", (str(error),)))
            return result
        self._position = index
        self._snapshot = after

        if migration.repeatable:
            self._apply_again(index, migration, up_plan, after, result)
            return result

        if down_plan is None:
            result.outcome = FAILED
            result.missing_down = True
            result.problems.append(
                Problem(f"{migration.id} has no DOWN: it cannot be rolled back", (f"UP in {migration.path}",))
            )
            return result

        assert migration.down is not None
        if over_rows.round_trip is not None:
            result.problems.extend(over_rows.round_trip.problems)
            result.warnings.extend(over_rows.round_trip.warnings)
            if over_rows.again is not None:
                self._compare_again(migration, after, over_rows.again, result)
        elif wrapped:
            conn.execute("BEGIN")
            try:
                self._down_and_up_again(migration, up_plan, down_plan, before, after, result, nested=True)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._rollback_pending = True  # by the next script, in the same round trip (see _run)
        else:
            exact = self._down_and_up_again(migration, up_plan, down_plan, before, after, result, nested=False)
            if not exact:
                self._rebuild(index)
        result.fails_over_rows = over_rows.fails_over_rows
        note = over_rows.note
        if note and not any(p.headline.startswith(("DOWN of", "UP of")) and "failed" in p.headline
                            for p in result.problems):  # fmt: skip
            result.warnings.append(note)
        result.problems.sort(key=lambda problem: "lost or changed rows" in problem.headline)  # schema first
        if result.problems:
            result.outcome = FAILED
        return result

    def _down_and_up_again(
        self,
        migration: Migration,
        up_plan: ExecutionPlan,
        down_plan: ExecutionPlan,
        before: Any,
        after: Any,
        result: StepResult,
        *,
        nested: bool,
    ) -> bool:
        """DOWN, compare with S(k-1), UP, compare with S(k); whether the database is at S(k) again."""
        assert migration.down is not None
        try:
            self._run(down_plan, nested=nested)
        except ScriptError as error:
            result.problems.append(Problem(f"DOWN of {migration.id} failed", (str(error),)))
            return False
        ran_again, again = self._restored_and_up_again(migration, up_plan, before, result, nested=nested)
        if not ran_again:
            return False
        return again is None or self._compare_again(migration, after, again, result)

    def _restored_and_up_again(
        self, migration: Migration, up_plan: ExecutionPlan, before: Any, result: StepResult, *, nested: bool,
        restored: Any = None, up_ran: bool = False,
    ) -> tuple[bool, Any]:
        """After DOWN: compare with S(k-1) (``restored``, the schema after DOWN, if taken), then
        UP again (unless ``up_ran``: the caller ran it already, with success). Whether UP ran,
        and the schema it made, unless it needs no comparison with S(k)."""
        if restored is None:
            restored = self._take_snapshot()
        errors, warnings = self._compare(before, restored)
        if errors:
            result.problems.append(
                Problem(f"DOWN of {migration.id} did not restore the schema ({_count(errors)})", tuple(errors))
            )
        result.warnings.extend(f"{migration.id}: after DOWN: {line}" for line in warnings)
        try:
            if not up_ran:
                self._run(up_plan, nested=nested)
        except ScriptError as error:
            result.problems.append(Problem(f"UP of {migration.id} failed after its DOWN", (str(error),)))
            return False, None
        if nested and restored == before:
            # UP ran again on exactly the schema it first ran on, and what it made is rolled back:
            # that it ran is the check. Only data could make it build another schema (a DO block
            # deciding by rows), and no migration of the corpus or the examples does.
            return True, None
        return True, self._take_snapshot()

    def _apply_again(self, index: int, migration: Migration, up_plan: ExecutionPlan, after: Any,
                     result: StepResult) -> None:
        """A repeatable migration (Flyway ``R__``) is never rolled back: its tool applies it
        again, over what it made, whenever its checksum changes. So its round trip is UP again
        on S(k), which must run and give S(k) once more."""
        try:
            self._run(up_plan)
        except ScriptError as error:
            result.outcome = FAILED
            result.problems.append(Problem(
                f"UP of {migration.id} failed when applied again, as Flyway applies a repeatable"
                " migration again whenever it changes: make it re-runnable (CREATE OR REPLACE,"
                " DROP ... IF EXISTS first)", (str(error),),
            ))
            if not up_plan.atomic:
                self._rebuild(index)
            return
        again = self._take_snapshot()
        self._snapshot = again
        errors, warnings = self._compare(after, again)
        if errors:
            result.outcome = FAILED
            result.problems.append(Problem(
                f"UP of {migration.id} applied again gave another schema ({_count(errors)})", tuple(errors)
            ))
        result.warnings.extend(f"{migration.id}: after UP again: {line}" for line in warnings)

    def _compare_again(self, migration: Migration, after: Any, again: Any, result: StepResult) -> bool:
        """Whether UP again made S(k), as the first UP did."""
        errors, warnings = self._compare(after, again)
        if errors:
            result.problems.append(
                Problem(
                    f"UP of {migration.id} after its DOWN gave another schema ({_count(errors)})", tuple(errors)
                )
            )
        result.warnings.extend(f"{migration.id}: after UP again: {line}" for line in warnings)
        return not errors

    def _rebuild(self, index: int) -> None:
        """Replay the UPs up to ``index`` on a new database, after a round trip left it unknown."""
        logger.debug("rebuilding the chain database up to %s", self.migrations[index].id)
        self._restart()
        self._advance_to(index)
        if self._broken_at is None:
            self._snapshot = self._take_snapshot()

    # -- data check ----------------------------------------------------------------------------

    def _round_trip_over_rows(
        self, migration: Migration, up_plan: ExecutionPlan, down_plan: ExecutionPlan, before: Any, result: StepResult
    ) -> _OverRows:
        """The round trip over seeded rows, in one transaction rolled back: rows at S(k-1), UP,
        DOWN, the rows must have survived and the schema must be S(k-1) again, UP again.

        Problems with the rows go to ``result``; the schema's are kept in the outcome, for the
        caller to report once UP is applied for good, unless the round trip cannot be told from
        the rows: then the caller runs it again without them.
        """
        tables = tables_at_risk(migration, before)
        if tables == []:
            return _OverRows()  # nothing that existed before can lose a row
        conn = self._connection
        # Constraints checked at once: a row that breaks a deferred one is not seeded, and a
        # script that breaks one over the rows fails (the transaction never commits).
        rollback_first, self._rollback_pending = self._rollback_pending, False
        begin = ("ROLLBACK; " if rollback_first else "") + "BEGIN; SET CONSTRAINTS ALL IMMEDIATE"
        try:
            try:
                # rolled back below anyway: no savepoint of its own; begun with its first round trip
                seeded = seed_data.seed_rows(
                    conn, tables, atomic=False, memo=self._seed_memo, begin=begin, savepoint=_SEEDED_SAVEPOINT
                )
            except psycopg.Error as error:
                return _OverRows(f"{migration.id}: data check skipped: seeding failed: {error}")
            for table, reason in seeded.skipped.items():
                if table not in self._unseedable:
                    self._unseedable.add(table)
                    result.warnings.append(f"data check: table {table} could not be seeded: {reason}")
            if not seeded.tables:
                return _OverRows()
            restored = self._up_and_down_together_then_snapshot(up_plan, down_plan)
            for label, plan in () if restored is not None else (("UP", up_plan), ("DOWN", down_plan)):
                try:
                    self._run(plan, nested=True)
                except ScriptError as error:
                    if isinstance(error.error, UnsafeNewEnumValueUsage):
                        reason = f"{label} uses an enum value UP adds, which works only once UP is committed"
                        return _OverRows(f"{migration.id}: data check skipped: {reason}")
                    reason = f"{label} fails when the tables hold rows: {error}"
                    return _OverRows(f"{migration.id}: data check skipped: {reason}", fails_over_rows=label)
            if restored is None:
                restored = self._take_snapshot()
            # UP again goes with the reads of the rows DOWN left, in their round trip
            up_again = [sql.SQL(_nested_script(up_plan.statements))] if up_plan.statements and not up_plan.refusal else []
            try:
                losses = seed_data.find_losses(conn, seeded, restored, then=up_again)
            except psycopg.Error as error:
                if not up_again or conn.info.transaction_status != psycopg.pq.TransactionStatus.INERROR:
                    raise
                # UP again failed: back to what DOWN left; read the rows, then UP again alone says why
                try:
                    conn.execute(f"ROLLBACK TO SAVEPOINT {_SECTION_SAVEPOINT}; RELEASE SAVEPOINT {_SECTION_SAVEPOINT}")
                except psycopg.errors.InvalidSavepointSpecification:
                    raise error from None  # a read of the rows failed, before UP again began
                losses = seed_data.find_losses(conn, seeded, restored)
                up_again = []
            round_trip = StepResult(migration, PASSED)
            ran_again, again = self._restored_and_up_again(
                migration, up_plan, before, round_trip, nested=True, restored=restored, up_ran=bool(up_again)
            )
            if losses:
                self._blame(migration, up_plan, seeded, losses, result)
            if not ran_again:
                return _OverRows()  # the rows may be why: the plain round trip says
            return _OverRows(round_trip=round_trip, again=again)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                # rolled back by the next script, in the same round trip (see _run)
                self._rollback_pending = True

    def _up_and_down_together_then_snapshot(self, up_plan: ExecutionPlan, down_plan: ExecutionPlan) -> Any:
        """UP then DOWN over the seeded rows, as one script, and the snapshot of the schema they
        leave, in one round trip; None unless all went well. Then the transaction is back at the
        seeded rows, for the caller to run them one by one, which tells which failed and where
        (or, if the snapshot failed, does it all again)."""
        if up_plan.refusal or down_plan.refusal or not up_plan.statements or not down_plan.statements:
            return None
        conn = self._connection
        try:
            lead = _nested_script([*up_plan.statements, *down_plan.statements])
            return self._take_snapshot(lead=lead, lead_in_transaction=True)
        except psycopg.Error:
            conn.execute(f"ROLLBACK TO SAVEPOINT {_SEEDED_SAVEPOINT}")
        return None

    def _blame(
        self, migration: Migration, up_plan: ExecutionPlan, seeded: Any, losses: list[Any], result: StepResult
    ) -> None:
        """Blame each lost row on the step that lost it: back to the seeded rows, UP once more, and
        the rows it left. What UP removed on purpose (a cleanup, a dedupe, a dropped column) no
        DOWN can bring back, and is only said; what UP kept and DOWN lost fails the migration.
        Read only when rows were lost, which is rare: a round trip that loses none pays nothing."""
        assert migration.up is not None
        conn = self._connection
        conn.execute(f"ROLLBACK TO SAVEPOINT {_SEEDED_SAVEPOINT}")
        try:
            self._run(up_plan, nested=True)
        except ScriptError:
            after_up = None  # it ran over these very rows before: DOWN is the suspect
        else:
            after_up = seed_data.read_rows_now(conn, seeded, moved=_may_move_tables(migration.up))
        blamed = seed_data.blame(seeded, losses, after_up)
        result.warnings.extend(f"{migration.id}: {line}" for line in blamed.up)
        if blamed.down:
            result.problems.append(Problem(f"DOWN of {migration.id} lost or changed rows that UP kept", tuple(blamed.down)))

    # -- running SQL ---------------------------------------------------------------------------

    @property
    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            self._restart()
        assert self._conn is not None
        return self._conn

    def _close_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._rollback_pending = False

    @staticmethod
    def _plan(migration: Migration, direction: str) -> ExecutionPlan | None:
        if (migration.up if direction == "up" else migration.down) is None:
            return None
        return plan_section(migration, direction)

    def _run(self, plan: ExecutionPlan | None, *, nested: bool = False) -> None:
        """Run the section of ``plan`` as the plan says; inside the caller's transaction when
        ``nested``."""
        rollback_first, self._rollback_pending = self._rollback_pending, False
        if plan is None:
            if rollback_first:
                self._connection.execute("ROLLBACK")
            return
        run_section(self._connection, plan, nested=nested, rollback_first=rollback_first)

    def _run_then_snapshot(self, plan: ExecutionPlan | None) -> Any:
        """Run the section of ``plan`` (as :meth:`_run`), then take the snapshot of what it made:
        in one round trip, where the section runs as one script in a transaction of its own."""
        if plan is None or plan.refusal is not None or not plan.statements or plan.mode != TOOL_TRANSACTION:
            self._run(plan)
            return self._take_snapshot()
        conn = self._connection
        rollback_first, self._rollback_pending = self._rollback_pending, False
        try:
            return self._take_snapshot(lead=_transaction_script(plan.statements, rollback_first=rollback_first))
        except psycopg.Error:
            # The script failed (in its transaction, or as a whole when it did not parse or its
            # COMMIT failed): nothing of it stayed. Run alone, it says which statement and why.
            if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                conn.execute("ROLLBACK")
        self._run(plan)
        return self._take_snapshot()

    def _settle(self) -> None:
        """Roll back the data check's transaction now, if the next script has not."""
        if self._rollback_pending:
            self._rollback_pending = False
            self._connection.execute("ROLLBACK")

    def _take_snapshot(self, lead: str | None = None, lead_in_transaction: bool = False) -> Any:
        """The schema as the chain's connection sees it (after ``lead``, a script run first in
        the same round trip, see :func:`~pytest_migrations.snapshot.take_snapshot`), read
        through the chain database's SnapshotCache."""
        from .snapshot import SnapshotCache, take_snapshot

        self._settle()
        if self._snapshot_cache is None:
            self._snapshot_cache = SnapshotCache()
        return take_snapshot(
            self._connection, cache=self._snapshot_cache, lead=lead, lead_in_transaction=lead_in_transaction
        )

    def _compare(self, expected: Any, actual: Any) -> tuple[list[str], list[str]]:
        return compare_snapshots(expected, actual, strict_column_order=self.strict_column_order)


class _LaterSegment:
    """A second :class:`ChainWalker` walking migrations ``ids`` (from index ``start`` on) in a
    thread of its own; :meth:`result` waits for one of them."""

    def __init__(self, walker: ChainWalker, start: int, ids: list[str]) -> None:
        self.walker = walker
        self.start = start
        self._results: dict[str, StepResult | BaseException] = {}
        self._done = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._walk, args=(ids,), name="pytest_migrations_walk", daemon=True)
        self._thread.start()

    def _walk(self, ids: list[str]) -> None:
        for migration_id in ids:
            if self._stop:
                return
            try:
                outcome: StepResult | BaseException = self.walker.result_for(migration_id)
            except BaseException as error:  # noqa: BLE001 - handed to the thread that asks
                outcome = error
            with self._done:
                self._results[migration_id] = outcome
                self._done.notify_all()

    def result(self, migration_id: str) -> StepResult:
        with self._done:
            self._done.wait_for(lambda: migration_id in self._results or not self._thread.is_alive())
        outcome = self._results.get(migration_id)
        if outcome is None:  # asked for one it was not given: walk it here
            return self.walker.result_for(migration_id)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def close(self) -> None:
        self._stop = True
        self._thread.join()
        self.walker.close()


def _count(lines: Sequence[str]) -> str:
    return "1 difference" if len(lines) == 1 else f"{len(lines)} differences"


# -- building blocks, shared with the fixtures -------------------------------------------------------


def _not_atomic_reason(plan: ExecutionPlan) -> str:
    if plan.refusal is not None:
        return plan.refusal
    if plan.mode == IMPLICIT_BLOCK:
        return f"{plan.section.path.name} is sent as one query that does not run all or nothing"
    return plan.reason


def run_section(
    conn: psycopg.Connection[Any], plan: ExecutionPlan, *, nested: bool = False, rollback_first: bool = False,
) -> None:  # fmt: skip
    """Execute the section of ``plan`` on ``conn`` (autocommit) as the plan says; raise
    :class:`ScriptError`.

    In the tool's transaction, the section goes to the server as one script, in one round trip;
    only when it fails is it run again statement by statement, to name the statement that fails.
    ``nested`` (for a plan that runs all or nothing) runs it inside the transaction ``conn`` is in,
    under a savepoint. ``rollback_first`` ends the transaction ``conn`` is in first (in the same
    round trip, where it can). A refused plan raises its refusal and runs nothing.
    """
    section = plan.section
    statements = plan.statements
    if nested and not plan.atomic:
        raise ValueError(f"{section.path}: a section that does not run all or nothing cannot be nested")
    in_one_transaction = plan.mode == TOOL_TRANSACTION or nested
    if rollback_first and (not statements or not in_one_transaction or nested or plan.refusal):
        conn.execute("ROLLBACK")
        rollback_first = False
    if plan.refusal is not None:
        raise ScriptError(plan.refusal, None)
    if not statements:
        return
    if in_one_transaction:
        if _run_script(conn, statements, section, nested=nested, rollback_first=rollback_first):
            return
        if not nested:
            conn.execute("BEGIN")
        try:
            for statement in statements:
                _execute(conn, statement.text, section, statement.line)
        except BaseException:
            if not nested:
                conn.execute("ROLLBACK")
            raise
        if not nested:
            _commit(conn, section)
        return
    try:
        if plan.mode == ESCAPED:
            # Between the tool's BEGIN and COMMIT, as the tool sends it: the file's COMMIT ends
            # the first, and the tool's COMMIT the block the file's last BEGIN opened, if any.
            conn.execute("BEGIN")
            if plan.sent_as_one_query:
                _run_one_query(conn, plan)
            else:
                for statement in statements:
                    _execute(conn, statement.text, section, statement.line)
            if conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
                _commit(conn, section)
        elif plan.mode == IMPLICIT_BLOCK:
            _run_one_query(conn, plan)
        elif section.parse_errors:
            # Let PostgreSQL judge the text as a whole; our split cannot be trusted.
            _execute(conn, section.sql, section, section.first_line)
        else:
            assert plan.mode == STATEMENT_BY_STATEMENT
            for statement in statements:
                _execute(conn, statement.text, section, statement.line)
    finally:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            # The script failed (or stopped) inside a block of its own.
            conn.execute("ROLLBACK")


def _commit(conn: psycopg.Connection[Any], section: Section) -> None:
    """COMMIT the section's transaction; a deferred constraint its rows break fails it here."""
    try:
        conn.execute("COMMIT")
    except psycopg.Error as error:
        raise _script_error(error, "COMMIT", section, section.statements[-1].line) from None


def _run_one_query(conn: psycopg.Connection[Any], plan: ExecutionPlan) -> None:
    """The section as one simple query, as golang-migrate's driver sends a file; an error names
    the statement it points at, else the one PostgreSQL refuses in a transaction block."""
    section = plan.section
    try:
        # No parameters: the text goes as written, by the simple query protocol.
        conn.execute(section.sql.encode("utf-8"), prepare=False)
    except psycopg.Error as error:
        failed = plan.statement_at(error.diag.statement_position and int(error.diag.statement_position))
        if failed is None and isinstance(error, psycopg.errors.ActiveSqlTransaction):
            failed = plan.refused_in_block()
        if failed is None and plan.atomic:
            # Nothing of it stayed: run it again statement by statement in a transaction rolled
            # back, to name the statement that fails.
            conn.execute("BEGIN")
            try:
                for statement in plan.statements:
                    _execute(conn, statement.text, section, statement.line)
            finally:
                conn.execute("ROLLBACK")
        failed = failed or plan.statements[0]
        raise _script_error(error, failed.text, section, failed.line) from None


_SECTION_SAVEPOINT = "pytest_migrations_section"


def _run_script(
    conn: psycopg.Connection[Any], statements: list[Any], section: Section, *, nested: bool,
    rollback_first: bool = False,
) -> bool:  # fmt: skip
    """Run ``statements`` as one script in a transaction (a savepoint when ``nested``); whether
    it succeeded. A failure leaves no trace: the transaction or the savepoint is rolled back,
    unless the script does not parse, which raises :class:`ScriptError` for its statement.
    ``rollback_first``: the script first rolls back the transaction ``conn`` is in."""
    if nested:
        begin = f"SAVEPOINT {_SECTION_SAVEPOINT}"
        undo = f"ROLLBACK TO SAVEPOINT {_SECTION_SAVEPOINT}; RELEASE SAVEPOINT {_SECTION_SAVEPOINT}"
    else:
        begin, undo = _transaction_begin(rollback_first), "ROLLBACK"
    separator = _SEPARATOR
    script = _nested_script(statements) if nested else _transaction_script(statements, rollback_first=rollback_first)
    try:
        # No parameters: the text goes to the server as written (no placeholder parsing).
        conn.execute(script.encode("utf-8"), prepare=False)
    except psycopg.Error as error:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            try:
                conn.execute(undo, prepare=False)
            except psycopg.errors.InvalidSavepointSpecification:
                # The script did not parse, so none of it ran, the savepoint neither, and the
                # caller's transaction is aborted as by a failing statement: name the statement.
                starts, offset = [], len(begin) + len(separator)
                for statement in statements:
                    starts.append(offset)
                    offset += len(statement.text) + len(separator)
                position = int(error.diag.statement_position or 1) - 1  # 1-based, in characters
                failed = statements[max(0, bisect.bisect_right(starts, position) - 1)]
                raise _script_error(error, failed.text, section, failed.line) from None
        return False
    return True


# A newline before each semicolon: a statement may end in a -- comment.
_SEPARATOR = "\n;\n"


def _nested_script(statements: Sequence[Any]) -> str:
    """``statements`` as :func:`_run_script` sends them nested: under the section's savepoint."""
    return _SEPARATOR.join(
        [f"SAVEPOINT {_SECTION_SAVEPOINT}", *(statement.text for statement in statements),
         f"RELEASE SAVEPOINT {_SECTION_SAVEPOINT}"]
    )  # fmt: skip


def _transaction_begin(rollback_first: bool) -> str:
    return "ROLLBACK\n;\nBEGIN" if rollback_first else "BEGIN"


def _transaction_script(statements: Sequence[Any], *, rollback_first: bool = False) -> str:
    """``statements`` as :func:`_run_script` sends them in a transaction of their own (first
    ending the one ``conn`` is in, with ``rollback_first``)."""
    return _SEPARATOR.join([_transaction_begin(rollback_first), *(statement.text for statement in statements), "COMMIT"])


def _execute(conn: psycopg.Connection[Any], text: str, section: Section, line: int) -> None:
    try:
        # No parameters: the text goes to the server as written (no placeholder parsing).
        conn.execute(text.encode("utf-8"))
    except psycopg.Error as error:
        raise _script_error(error, text, section, line) from None


def _script_error(error: psycopg.Error, text: str, section: Section, line: int) -> ScriptError:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    at = error_line(error, text, line) or line
    return ScriptError(f"{section.path}:{at}: {describe(error)}, in: {_shorten(first_line)}", error)


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(statement: Any, section: Section) -> str:
    return f"{section.path.name}:{statement.line}"


def make_base_database(server: Server, setup_sql: str | None, setup_sql_path: Path | None = None) -> str:
    """A new database with the set-up SQL applied (the chain's start, the fixtures' template)."""
    name = server.create_database()
    if setup_sql and setup_sql.strip():
        with server.connect(name, autocommit=True) as conn:
            try:
                conn.execute(setup_sql.encode("utf-8"))
            except psycopg.Error as error:
                server.drop_database(name)
                where = str(setup_sql_path or "set-up SQL")
                line = error_line(error, setup_sql)
                raise SetupSqlError(f"{where}{f':{line}' if line else ''}: {describe(error)}") from None
    return name


class SetupSqlError(PytestMigrationsError):
    """The set-up SQL failed on a fresh database."""


def compare_snapshots(expected: Any, actual: Any, *, strict_column_order: bool = False) -> tuple[list[str], list[str]]:
    """(errors, warnings) as readable lines, e.g. ``column orders.status: default 'new'::text -> (none)``."""
    from .snapshot import diff_snapshots

    if expected == actual:
        return [], []
    errors: list[str] = []
    warnings: list[str] = []
    for difference in diff_snapshots(expected, actual, strict_column_order=strict_column_order):
        (warnings if _is_warning(difference) else errors).append(str(difference))
    return errors, warnings


def _is_warning(difference: Any) -> bool:
    severity = getattr(difference, "severity", None)
    if severity is not None:
        return str(getattr(severity, "value", severity)).lower() == "warning"
    return bool(getattr(difference, "warning", False) or getattr(difference, "is_warning", False))


def round_trip(
    server: Server,
    migrations: Sequence[Migration],
    *,
    setup_sql: str | None = None,
    check_data: bool = True,
    strict_column_order: bool = False,
    only: Iterable[str] | None = None,
) -> list[StepResult]:
    """Round-trip ``migrations`` (or the ids in ``only``) on ``server``; the walk without pytest."""
    wanted = None if only is None else set(only)
    with ChainWalker(
        server, migrations, setup_sql=setup_sql, check_data=check_data, strict_column_order=strict_column_order
    ) as walker:
        return [walker.result_for(m) for m in migrations if wanted is None or m.id in wanted]


# -- which tables a migration can lose rows of ---------------------------------------------------------

# Statements that cannot change or remove rows of a table that existed before the migration.
_ROW_SAFE_KINDS = frozenset({
    "CreateStmt", "IndexStmt", "ViewStmt", "CreateFunctionStmt", "CreateTrigStmt", "CommentStmt",
    "GrantStmt", "GrantRoleStmt", "CreateSeqStmt", "AlterSeqStmt", "CreateEnumStmt",
    "CompositeTypeStmt", "CreateDomainStmt", "AlterDomainStmt", "CreateExtensionStmt",
    "CreateSchemaStmt", "VariableSetStmt", "VariableShowStmt", "TransactionStmt",
    "CreatePolicyStmt", "AlterPolicyStmt", "RuleStmt", "CreateTableAsStmt", "RefreshMatViewStmt",
    "CreateRoleStmt", "AlterRoleStmt", "DropRoleStmt", "AlterOwnerStmt", "AlterFunctionStmt",
    "DefineStmt", "AlterDefaultPrivilegesStmt", "CreateStatsStmt", "VacuumStmt", "ClusterStmt",
    "ReindexStmt", "CreateCastStmt", "CreateRangeStmt", "AlterExtensionStmt", "LockStmt",
    "CreateEventTrigStmt", "AlterEventTrigStmt", "CreatePublicationStmt", "AlterPublicationStmt",
    "CreateOpClassStmt", "CreateOpFamilyStmt", "AlterOpFamilyStmt", "CreateConversionStmt",
    "AlterStatsStmt", "AlterCollationStmt", "AlterTableSpaceOptionsStmt",
})  # fmt: skip
# Statements that name the tables whose rows they can change.
_NAMING_KINDS = frozenset({"AlterTableStmt", "RenameStmt", "AlterObjectSchemaStmt", "TruncateStmt"})


def tables_at_risk(migration: Migration, before: Any) -> list[str] | None:
    """Tables of ``before`` whose rows UP or DOWN of ``migration`` could change or lose.

    ``None`` means any table (a DO block, a call of a function of the project, a CASCADE, DML on
    a table with triggers or rules, a statement that does not parse); ``[]`` means none. Tables
    the named ones reference are added, so that their rows can be seeded at all, and tables whose
    foreign keys cascade from a table DML touches, whose rows it can change.
    """
    catalogued = _Catalogued.read(before)
    existing = catalogued.tables
    sections = [section for section in (migration.up, migration.down) if section is not None]
    statements = [statement for section in sections for statement in section.statements]
    project_functions = catalogued.functions | _functions_made(statements)
    named: set[str] = set()
    dml: set[str] = set()
    for statement in statements:
        kind, node = statement.kind, statement.node
        if kind is None:
            return None
        if kind in _ROW_SAFE_KINDS:
            if kind == "CreateTableAsStmt" and _calls(node, project_functions):
                return None  # the function may write anywhere
            continue
        if kind == "AlterEnumStmt":
            if node.get("oldVal"):
                return None  # RENAME VALUE changes the text of every row holding it
            continue
        if kind == "SelectStmt":
            if _calls(node, project_functions) or node.get("intoClause"):
                return None
            continue
        if kind == "DropStmt":
            if node.get("behavior") == "DROP_CASCADE" or node.get("removeType") == "OBJECT_SCHEMA":
                return None
            if node.get("removeType") in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE"):
                for names in node.get("objects", []):
                    named.add(_plain([item["String"]["sval"] for item in names.get("List", {}).get("items", [])]))
            continue
        if kind in _NAMING_KINDS or kind in _DML_KINDS:
            if node.get("behavior") == "DROP_CASCADE" or _calls(node, project_functions):
                return None
            relations = {_relation_name(relation) for relation in _relations(node)}
            named.update(relations)
            if kind in _DML_KINDS:
                dml.update(relations)
            continue
        return None  # DO, CALL, COPY, anything not known to be harmless
    if any(catalogued.has_triggers_or_rules(table) for table in dml & existing):
        return None
    touched = {name for name in named if name in existing} | _closure(dml & existing, catalogued.cascading_children)
    return sorted(_closure(touched, catalogued.references, existing, include_start=True))


_DML_KINDS = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})
# Statements after which a table or column may no longer be found under its name.
_MOVING_KINDS = frozenset({"RenameStmt", "AlterObjectSchemaStmt", "DropStmt", "DoStmt", "CallStmt"})


def _may_move_tables(section: Section) -> bool:
    """Whether ``section`` may rename, drop or re-create a table or drop a column (a guess that
    only saves a round trip: reading the rows finds out either way)."""
    for statement in section.statements:
        if statement.kind is None or statement.kind in _MOVING_KINDS:
            return True
        if statement.kind == "AlterTableStmt" and any(
            command.get("AlterTableCmd", {}).get("subtype") == "AT_DropColumn" for command in statement.node.get("cmds", [])
        ):
            return True
    return False


def _relation_name(relation: dict[str, Any]) -> str:
    return _plain([relation["schemaname"], relation["relname"]] if relation.get("schemaname") else [relation["relname"]])


def _calls(node: Any, functions: set[str]) -> bool:
    """Whether ``node`` calls one of ``functions`` (built-in functions do not write to tables)."""
    if isinstance(node, dict):
        call = node.get("FuncCall")
        if call is not None and call["funcname"][-1].get("String", {}).get("sval") in functions:
            return True
        return any(_calls(value, functions) for value in node.values())
    if isinstance(node, list):
        return any(_calls(value, functions) for value in node)
    return False


def _plain(parts: list[str]) -> str:
    return ".".join(parts) if len(parts) > 1 else f"public.{parts[0]}"


def _unquote(name: str) -> str:
    """``public."Orders"`` -> ``public.Orders`` (snapshot names are quote_ident'ed)."""
    if '"' not in name:
        return name
    out, quoted, index = [], False, 0
    while index < len(name):
        char = name[index]
        if char == '"':
            if quoted and name[index + 1 : index + 2] == '"':
                out.append('"')
                index += 1
            else:
                quoted = not quoted
        else:
            out.append(char)
        index += 1
    return "".join(out)


_REFERENCES = re.compile(r'REFERENCES\s+((?:"(?:[^"]|"")*"|[^\s(."]+)(?:\.(?:"(?:[^"]|"")*"|[^\s(."]+))?)\s*\(')


@dataclass
class _Catalogued:
    """What :func:`tables_at_risk` asks of a snapshot, read in one pass over it."""

    tables: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)  # the names of the project's functions and procedures
    triggers_and_rules: list[str] = field(default_factory=list)  # "trigger schema.table.name", unquoted
    references: dict[str, set[str]] = field(default_factory=dict)  # table -> the tables its foreign keys name
    # table -> the tables whose foreign keys cascade (or set null/default) from it
    cascading_children: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, snapshot: Any) -> _Catalogued:
        found = cls()
        for key, attributes in snapshot.items():
            kind, _, name = key.partition(" ")
            if kind == "table":
                found.tables.add(_unquote(name))
            elif kind in ("function", "procedure"):
                found.functions.add(_unquote(name.split("(", 1)[0]).rsplit(".", 1)[-1])
            elif kind in ("trigger", "rule"):
                found.triggers_and_rules.append(_unquote(key))
            elif kind == "constraint" and attributes.get("type") == "foreign key":
                definition = attributes.get("definition", "")
                match = _REFERENCES.search(definition)
                if match is None:
                    continue
                owner = _unquote(name.rsplit(".", 1)[0])
                target = _unquote(match.group(1))
                target = target if "." in target else f"public.{target}"
                found.references.setdefault(owner, set()).add(target)
                if _CASCADES.search(definition):
                    found.cascading_children.setdefault(target, set()).add(owner)
        return found

    def has_triggers_or_rules(self, table: str) -> bool:
        prefixes = tuple(f"{kind} {table}." for kind in ("trigger", "rule"))
        return any(key.startswith(prefixes) for key in self.triggers_and_rules)


_CASCADES = re.compile(r"ON (DELETE|UPDATE) (CASCADE|SET)")


def _functions_made(statements: Sequence[Any]) -> set[str]:
    """The names of the functions ``statements`` make."""
    return {statement.node["funcname"][-1]["String"]["sval"] for statement in statements
            if statement.kind == "CreateFunctionStmt"}  # fmt: skip


def _closure(
    tables: set[str], edges: dict[str, set[str]], within: set[str] | None = None, *, include_start: bool = False
) -> set[str]:
    """The tables reached from ``tables`` along ``edges``, transitively (only those ``within``,
    when given; ``tables`` themselves too with ``include_start``)."""
    found: set[str] = set()
    todo = list(tables) if include_start else [child for table in tables for child in edges.get(table, ())]
    while todo:
        table = todo.pop()
        if table in found or (within is not None and table not in within):
            continue
        found.add(table)
        todo.extend(edges.get(table, ()))
    return found


def _relations(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "relname" in node:
            yield node
        for value in node.values():
            yield from _relations(value)
    elif isinstance(node, list):
        for value in node:
            yield from _relations(value)
