"""The tracer's walk of a directory's migrations on one database, tracing each: what the pytest
plugin's ``::locks`` items need (``pytest -k 012`` traces up to 012 only). The lazy walk itself
is :class:`~pytest_migrations.walk.ChainWalk`, shared with the round trip."""

from __future__ import annotations

from collections.abc import Sequence

from migration_lint.model import Migration

from ..walk import ChainWalk
from ._results import MigrationTrace
from ._tracer import trace_migration


class TraceWalker(ChainWalk[MigrationTrace]):
    """Trace ``migrations`` in order on the (empty) database at ``dsn``, as far as asked.

    Each trace applies its migration for good, so asking for one traces every migration before
    it. After a migration fails to apply, the later ones are not run: their result carries an
    error naming the one that failed. ``applied`` are migrations already on the database (the
    trace command's ``--after``): the linter reads their schema as context for every trace.
    """

    def __init__(
        self,
        dsn: str,
        migrations: Sequence[Migration],
        *,
        trace_rows: int = 0,
        static: bool = True,
        lock_timeout: str | None = None,
        applied: Sequence[Migration] = (),
    ) -> None:
        super().__init__(migrations)
        self.dsn = dsn
        self.trace_rows = trace_rows
        self.static = static
        self.lock_timeout = lock_timeout
        self.applied = list(applied)
        self._traced = 0  # migrations traced (or found depending on a failed one), in order

    @property
    def _traces(self) -> list[MigrationTrace]:
        return [self._results[migration.id] for migration in self.migrations[: self._traced]]

    def walk(self) -> list[MigrationTrace]:  # type: ignore[override]
        """Trace every migration; the list of results in order."""
        return list(super().walk())

    def _result_at(self, index: int, migration: Migration) -> MigrationTrace:
        while self._traced < index:  # each trace applies its migration: the earlier ones first
            self.result_for(self.migrations[self._traced])
        self._traced = index + 1
        if self._broken_at is not None:
            broken = self._results[self._broken_at.id]
            trace = MigrationTrace(migration=migration, server_version=broken.server_version)
            trace.error = f"not traced: migration {self._broken_at.id} before it failed ({broken.error})"
            trace.depends_on = self._broken_at.id
            return trace
        trace = trace_migration(
            self.dsn,
            migration,
            trace_rows=self.trace_rows,
            static=self.static,
            history=[*self.applied, *self.migrations[:index]],
            lock_timeout=self.lock_timeout,
        )
        if trace.error:
            self._break_at(migration, trace.error)
        return trace
