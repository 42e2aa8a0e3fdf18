"""A lazy walk of a directory's migrations on one database, tracing each: what the pytest
plugin's ``::locks`` items need (``pytest -k 012`` traces up to 012 only)."""

from __future__ import annotations

from collections.abc import Sequence

from migration_lint.model import Migration

from ._results import MigrationTrace
from ._tracer import trace_migration


class TraceWalker:
    """Trace ``migrations`` in order on the (empty) database at ``dsn``, as far as asked.

    :meth:`result_for` traces every migration up to the one asked for and caches the results. After a
    migration fails to apply, the later ones are not run: their result carries an error naming
    the one that failed.
    """

    def __init__(
        self,
        dsn: str,
        migrations: Sequence[Migration],
        *,
        trace_rows: int = 0,
        static: bool = True,
        lock_timeout: str | None = None,
    ) -> None:
        self.dsn = dsn
        self.migrations = list(migrations)
        self.trace_rows = trace_rows
        self.static = static
        self.lock_timeout = lock_timeout
        self._traces: list[MigrationTrace] = []
        self._broken: MigrationTrace | None = None

    def result_for(self, migration: Migration | str) -> MigrationTrace:
        index = self._index(migration)
        while len(self._traces) <= index:
            self._trace_next()
        return self._traces[index]

    def walk(self) -> list[MigrationTrace]:
        """Trace every migration; the list of results in order."""
        if self.migrations:
            self.result_for(self.migrations[-1])
        return list(self._traces)

    def _index(self, migration: Migration | str) -> int:
        for index, candidate in enumerate(self.migrations):
            if candidate is migration or candidate.id == migration or (
                isinstance(migration, Migration) and candidate.id == migration.id
            ):
                return index
        raise KeyError(f"no migration {getattr(migration, 'id', migration)!r} in this walk")

    def _trace_next(self) -> None:
        index = len(self._traces)
        migration = self.migrations[index]
        if self._broken is not None:
            trace = MigrationTrace(migration=migration, server_version=self._broken.server_version)
            trace.error = f"not traced: migration {self._broken.migration.id} before it failed ({self._broken.error})"
            trace.depends_on = self._broken.migration.id
            self._traces.append(trace)
            return
        trace = trace_migration(
            self.dsn,
            migration,
            trace_rows=self.trace_rows,
            static=self.static,
            history=self.migrations[:index],
            lock_timeout=self.lock_timeout,
        )
        if trace.error:
            self._broken = trace
        self._traces.append(trace)
