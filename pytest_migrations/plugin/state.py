"""What one pytest session (or xdist worker) shares: the server, the migrations, the chain and
trace walkers.

Everything is made on first use, so ``pytest --migrations --collect-only`` starts no server and a
run that selects no migration item starts none either. The state exists in every pytest run (the
fixtures use it): the model, the servers and the walkers are imported only when first needed, so a
run without ``--migrations`` imports neither psycopg nor the runner.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .options import Settings

if TYPE_CHECKING:
    from migration_lint.layouts import LoadedDirectory
    from migration_lint.model import Migration

    from ..database import DatabaseError, Server
    from ..roundtrip import ChainWalker
    from ..trace import TraceWalker
    from .lint import LintReport

__all__ = ["MigrationsState", "SETTINGS_ERROR_KEY", "STATE_KEY", "WARNING_PROPERTY"]

# The user property an item's warnings travel in (under xdist, to the controller's summary).
WARNING_PROPERTY = "pytest-migrations warning"

logger = logging.getLogger("pytest_migrations.plugin")


class MigrationsState:
    """Per-session state, kept on ``config.stash[STATE_KEY]``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded: dict[Path, LoadedDirectory] = {}
        # directories whose collector pytest (or the plugin) actually collected
        self.collected_directories: set[Path] = set()
        self._server: Server | None = None
        self._server_error: DatabaseError | None = None
        self._walkers: dict[Path, ChainWalker] = {}
        self._base: str | None = None
        self._lint: dict[Path, Any] = {}
        self._trace_walkers: dict[Path, TraceWalker] = {}
        self._trace_databases: list[tuple[Server, str]] = []
        self._chain_servers: dict[Path, Server | DatabaseError] = {}
        # Under xdist the workers have the cores already: a walker works alone.
        self.walker_jobs: int | None = None

    # -- migrations ----------------------------------------------------------------------------

    def migrations(self, directory: Path) -> list[Migration]:
        """The migrations of ``directory``; raises MigrationFileError (once per call, not cached)."""
        return self.loaded(directory).migrations

    def loaded(self, directory: Path) -> LoadedDirectory:
        """``directory`` as its layout reads it (migrations, ignored files, warnings), read once."""
        from migration_lint.layouts import load_directory

        directory = directory.resolve()
        if directory not in self._loaded:
            self._loaded[directory] = load_directory(directory, self.settings.layout)
        return self._loaded[directory]

    def lint_report(self, directory: Path) -> LintReport:
        """migration-lint's findings for ``directory``, computed once."""
        from .lint import lint_directory

        directory = directory.resolve()
        if directory not in self._lint:
            try:
                self._lint[directory] = lint_directory(
                    self.migrations(directory), self.settings.pg_version, self.settings.since
                )
            except ValueError as error:
                self._lint[directory] = error
        found = self._lint[directory]
        if isinstance(found, Exception):
            raise found
        return found

    # -- server --------------------------------------------------------------------------------

    @property
    def server(self) -> Server:
        """The server, started or connected on first use; a failure is remembered and re-raised."""
        from ..database import DatabaseError

        if self._server_error is not None:
            raise self._server_error
        if self._server is None:
            try:
                self._server = self._open_server()
            except DatabaseError as error:
                self._server_error = error
                raise
        return self._server

    def _open_server(self) -> Server:
        from ..database import DatabaseError, open_server

        settings = self.settings
        server = open_server(dsn=settings.dsn, image=None if settings.dsn else settings.image)
        if settings.pg_version is not None and server.major != settings.pg_version:
            server.close()
            raise DatabaseError(
                f"{server} is PostgreSQL {server.major}, but {settings.sources['pg_version']}"
                f" asks for {settings.pg_version}"
            )
        return server

    def server_for(self, directory: Path) -> Server:
        """The server the chain of ``directory`` walks on: the session's, unless the chain (or
        the set-up SQL) creates an extension it lacks; then, in place of the default embedded
        server, a local PostgreSQL install's that has it, else :class:`ExtensionUnavailable`."""
        from migration_lint.extensions import created_extensions
        from migration_lint.model import Section

        from ..database import DatabaseError, EmbeddedServer, server_for_extensions

        directory = directory.resolve()
        if directory not in self._chain_servers:
            setup_sql = self.settings.read_setup_sql()
            setup = Section(setup_sql, self.settings.setup_sql or Path("set-up SQL")) if setup_sql else None
            needed = created_extensions(self.migrations(directory), setup)
            # Only the default server may be replaced: not one the user chose, nor a version asked for.
            replaceable = isinstance(self.server, EmbeddedServer) and self.settings.pg_version is None
            try:
                self._chain_servers[directory] = server_for_extensions(self.server, needed, replaceable=replaceable)
            except DatabaseError as error:
                self._chain_servers[directory] = error
        found = self._chain_servers[directory]
        if isinstance(found, DatabaseError):
            raise found
        return found

    @property
    def base_database(self) -> str:
        """A database with the set-up SQL applied, copied by fixtures (the walkers keep their own)."""
        if self._base is None:
            from ..roundtrip import make_base_database

            self._base = make_base_database(self.server, self.settings.read_setup_sql(), self.settings.setup_sql)
        return self._base

    def walker(self, directory: Path) -> ChainWalker:
        directory = directory.resolve()
        if directory not in self._walkers:
            from ..roundtrip import ChainWalker

            self._walkers[directory] = ChainWalker(
                self.server_for(directory),
                self.migrations(directory),
                setup_sql=self.settings.read_setup_sql(),
                setup_sql_path=self.settings.setup_sql,
                check_data=self.settings.check_data,
                strict_column_order=self.settings.strict_column_order,
                jobs=self.walker_jobs,
            )
        return self._walkers[directory]

    def trace_walker(self, directory: Path) -> TraceWalker:
        """The ``::locks`` items' walk: each migration traced, and applied for good, on a database
        of its own (the round trip's database goes up and down, this one only up)."""
        directory = directory.resolve()
        if directory not in self._trace_walkers:
            from ..roundtrip import make_base_database
            from ..trace import TraceWalker

            server = self.server_for(directory)
            database = make_base_database(server, self.settings.read_setup_sql(), self.settings.setup_sql)
            self._trace_databases.append((server, database))
            self._trace_walkers[directory] = TraceWalker(
                server.dsn(database),
                self.migrations(directory),
                trace_rows=self.settings.trace_rows,
                lock_timeout=self.settings.lock_timeout,
            )
        return self._trace_walkers[directory]

    def close(self) -> None:
        for walker in self._walkers.values():
            walker.close()
        self._walkers.clear()
        self._trace_walkers.clear()
        if self._server is not None:
            from ..database import DatabaseError

            for server, database in self._trace_databases:
                try:
                    server.drop_database(database)
                except DatabaseError as error:
                    logger.warning("%s", error)
            self._trace_databases.clear()
            if self._base is not None:
                try:
                    self._server.drop_database(self._base)
                except DatabaseError as error:
                    logger.warning("%s", error)
            self._server.close()  # the shared embedded server keeps running for the process
            self._server = None
        self._chain_servers.clear()


STATE_KEY = pytest.StashKey[MigrationsState]()
SETTINGS_ERROR_KEY = pytest.StashKey[str]()
"""Why the settings could not be resolved, in a run without ``--migrations`` (fixtures say it)."""
