"""The lazy walk of a chain of migrations, in order, on one database: what the round trip
(:class:`~pytest_migrations.roundtrip.ChainWalker`) and the lock tracer
(:class:`~pytest_migrations.trace.TraceWalker`) share.

A walk answers :meth:`ChainWalk.result_for` by walking only as far as the migration asked for
(``pytest -k 012`` checks 012 and applies what comes before as set-up), keeps every result it
made, and after a migration whose UP failed, answers for each later one that it depends on the
one that failed, without running it. What a step does (a round trip, a trace) and what a
dependent result looks like is each walker's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Generic, TypeVar

from migration_lint.model import Migration

__all__ = ["ChainWalk"]

ResultT = TypeVar("ResultT")


class ChainWalk(Generic[ResultT]):
    """``migrations`` walked lazily; subclasses say what a step makes (:meth:`_result_at`)."""

    def __init__(self, migrations: Sequence[Migration]) -> None:
        self.migrations = list(migrations)
        self._index = {migration.id: index for index, migration in enumerate(self.migrations)}
        self._results: dict[str, ResultT] = {}
        self._broken_at: Migration | None = None  # the migration whose UP failed, breaking the chain
        self._broken_reason = ""

    def index_of(self, migration: Migration | str) -> int:
        """The position of ``migration`` (a Migration or its id) in the walk."""
        migration_id = migration if isinstance(migration, str) else migration.id
        try:
            return self._index[migration_id]
        except KeyError:
            raise KeyError(f"no migration {migration_id!r} in this walk") from None

    def result_for(self, migration: Migration | str) -> ResultT:
        """The result of ``migration`` (a Migration or its id), walking to it if needed."""
        migration_id = migration if isinstance(migration, str) else migration.id
        if migration_id not in self._results:
            index = self.index_of(migration_id)
            self._results[migration_id] = self._result_at(index, self.migrations[index])
        return self._results[migration_id]

    def walk(self) -> Iterator[ResultT]:
        """Every migration's result, in order."""
        for migration in self.migrations:
            yield self.result_for(migration)

    def _result_at(self, index: int, migration: Migration) -> ResultT:
        raise NotImplementedError

    def _break_at(self, migration: Migration, reason: str = "") -> None:
        """The UP of ``migration`` failed: what follows depends on it."""
        self._broken_at = migration
        self._broken_reason = reason

    def _broken_before(self, index: int) -> bool:
        """Whether a migration before position ``index`` broke the chain."""
        return self._broken_at is not None and self._index[self._broken_at.id] < index

    def _dependency(self) -> str:
        """Why a later migration is not checked: ``depends on 003_x which failed (...)``."""
        assert self._broken_at is not None
        reason = f"depends on {self._broken_at.id} which failed"
        return reason + (f" ({self._broken_reason})" if self._broken_reason else "")
