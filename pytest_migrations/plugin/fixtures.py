"""Fixtures for users' own tests: a database at head, and one moved to any version.

``migrations_db`` is a fresh database with every UP applied; ``migrate_to(version)`` moves one
database of the test up or down the chain, so a test can write rows at version N, migrate to
N+1 and check what the data migration did::

    def test_backfill(migrate_to):
        db = migrate_to("010")
        db.connection.execute("INSERT INTO users (email) VALUES ('a@example.com')")
        migrate_to("011")
        assert db.connection.execute("SELECT display_name FROM users").fetchone() == ("a",)

Databases are copies of a template at the version asked for (built once per session), so each
test starts from its own database in the time of one ``CREATE DATABASE``.

The fixtures are registered in every pytest run; psycopg, the model and the walk are imported
when a test first asks for one of them, not when pytest starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .._extra import missing_message
from .state import SETTINGS_ERROR_KEY, STATE_KEY, MigrationsState

if TYPE_CHECKING:
    import psycopg

    from migration_lint.model import Migration, Version

    from ..database import Server

__all__ = ["MigrationsDatabase", "migrate_to", "migrations_db", "migrations_server"]


@dataclass
class MigrationsDatabase:
    """A throwaway database of the test: its name, DSN, an autocommit connection, its version."""

    name: str
    dsn: str
    version: Version | None  # the last migration applied; None before the first
    _connection: psycopg.Connection[Any] | None = field(default=None, repr=False)

    @property
    def connection(self) -> psycopg.Connection[Any]:
        """An autocommit connection, opened on first use and closed after the test."""
        import psycopg

        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.dsn, autocommit=True)
        return self._connection

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """A new connection of your own (not autocommit unless asked); close it yourself."""
        import psycopg

        return psycopg.connect(self.dsn, **kwargs)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _Templates:
    """Template databases by position in the chain (-1: nothing applied), built on demand."""

    def __init__(self, state: MigrationsState, migrations: list[Migration]) -> None:
        self.state = state
        self.migrations = migrations
        self._by_position: dict[int, str] = {}

    def at(self, position: int) -> str:
        if position not in self._by_position:
            server = self.state.server
            name = server.create_database(template=self.state.base_database)
            try:
                with server.connect(name) as conn:
                    _apply(conn, self.migrations, -1, position)
            except BaseException:
                server.drop_database(name)
                raise
            self._by_position[position] = name
        return self._by_position[position]

    def close(self) -> None:
        for name in self._by_position.values():
            self.state.server.drop_database(name)
        self._by_position.clear()


def _apply(conn: psycopg.Connection[Any], migrations: list[Migration], start: int, stop: int) -> None:
    """Move from position ``start`` to ``stop``: UPs forward, DOWNs backward."""
    from migration_lint.execution import plan_section

    from ..roundtrip import ScriptError, run_section

    if stop > start:
        for migration in migrations[start + 1 : stop + 1]:
            run_section(conn, plan_section(migration, "up"))
    for migration in reversed(migrations[stop + 1 : start + 1]):
        if migration.down is None:
            raise ScriptError(f"{migration.id} has no DOWN: cannot migrate below it", None)
        run_section(conn, plan_section(migration, "down"))


def _position(migrations: list[Migration], version: str | int | Version | None) -> int:
    """Index of the migration with ``version`` (``None`` or ``"head"``: the last; ``"base"``: -1)."""
    from migration_lint.model import Version

    if version is None or version == "head":
        return len(migrations) - 1
    if version == "base":
        return -1
    if isinstance(version, Version):
        wanted = version
    else:
        text = str(version)
        for index, migration in enumerate(migrations):
            if text in (migration.id, migration.name, migration.version.text):
                return index
        try:
            wanted = Version.parse(text, migrations[0].version.scheme if migrations else "numeric")
        except ValueError:
            raise LookupError(f"no migration {text!r}: give a version such as {migrations[-1].version}") from None
    for index, migration in enumerate(migrations):
        if migration.version == wanted:
            return index
    raise LookupError(f"no migration with version {wanted}; versions run from {migrations[0].version} to {migrations[-1].version}")


def _state(request: pytest.FixtureRequest) -> MigrationsState:
    state = request.config.stash.get(STATE_KEY, None)
    if state is None:
        error = request.config.stash.get(SETTINGS_ERROR_KEY, None)
        if error:
            pytest.fail(error, pytrace=False)
        pytest.fail("pytest-migrations is not configured (was the plugin disabled with -p no:migrations?)", pytrace=False)
    return state


def _migrations(state: MigrationsState) -> list[Migration]:
    from migration_lint.model import MigrationFileError

    directory = state.settings.dir
    if directory is None:
        pytest.fail("no migrations directory: set --migrations-dir or ini migrations_dir", pytrace=False)
    try:
        migrations = state.migrations(Path(directory))
    except MigrationFileError as error:
        pytest.fail(str(error), pytrace=False)
    if not migrations:
        pytest.fail(f"{directory}: no migrations found", pytrace=False)
    return migrations


@pytest.fixture(scope="session")
def migrations_server(request: pytest.FixtureRequest) -> Server:
    """The PostgreSQL server the migrations are tested on (embedded, DSN or Docker image)."""
    state = _state(request)
    missing = missing_message("the migrations_db fixture")
    if missing is not None:
        pytest.fail(missing, pytrace=False)
    from ..database import DatabaseError, ServerUnavailable

    try:
        return state.server
    except ServerUnavailable as error:
        pytest.skip(str(error))
    except DatabaseError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def _migrations_templates(request: pytest.FixtureRequest, migrations_server: Server) -> Iterator[_Templates]:
    state = _state(request)
    templates = _Templates(state, _migrations(state))
    yield templates
    templates.close()


@pytest.fixture
def migrate_to(
    migrations_server: Server, _migrations_templates: _Templates
) -> Iterator[Callable[[str | int | Version | None], MigrationsDatabase]]:
    """``migrate_to(version)``: this test's database, moved up or down to ``version``.

    The first call makes the database (a copy of a template at ``version``); later calls run
    the UPs or DOWNs in between on the same database, keeping its data. ``"head"`` and
    ``"base"`` name the ends of the chain.
    """
    import psycopg

    from ..database import DatabaseError
    from ..roundtrip import ScriptError, SetupSqlError

    templates = _migrations_templates
    migrations = templates.migrations
    made: list[MigrationsDatabase] = []
    positions: list[int] = []

    def move(version: str | int | Version | None = "head") -> MigrationsDatabase:
        try:
            target = _position(migrations, version)
        except LookupError as error:
            pytest.fail(str(error), pytrace=False)
        try:
            if not made:
                name = migrations_server.create_database(template=templates.at(target))
                made.append(MigrationsDatabase(name, migrations_server.dsn(name), None))
            else:
                with psycopg.connect(made[0].dsn, autocommit=True) as conn:
                    _apply(conn, migrations, positions[0], target)
        except (ScriptError, SetupSqlError, DatabaseError) as error:
            pytest.fail(f"migrate_to({version!r}): {error}", pytrace=False)
        positions[:] = [target]
        database = made[0]
        database.version = migrations[target].version if target >= 0 else None
        return database

    yield move
    for database in made:
        database.close()
        migrations_server.drop_database(database.name)


@pytest.fixture
def migrations_db(migrate_to: Callable[..., MigrationsDatabase]) -> MigrationsDatabase:
    """A fresh database with every migration applied: ``.connection`` (autocommit), ``.dsn``, ``.name``."""
    return migrate_to("head")
