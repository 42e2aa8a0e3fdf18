"""Fixtures for the runner's tests: fresh databases on the shared servers, and CLI helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from migrations_cli import cli  # noqa: F401  (the fixture, shared by the runner's and the fleet's tests)
from pytest_migrations.database import Database, Server


@pytest.fixture(params=["pg18", "pg15"])
def server(request: pytest.FixtureRequest) -> Server:
    """The embedded PostgreSQL 18, then the system PostgreSQL 15."""
    name = "pg_server" if request.param == "pg18" else "system_pg_server"
    return request.getfixturevalue(name)


@pytest.fixture
def database(server: Server) -> Iterator[Database]:
    with server.fresh_database() as db:
        yield db


@pytest.fixture
def db18(pg_server: Server) -> Iterator[Database]:
    """A fresh database on the embedded server, for tests that need one server only."""
    with pg_server.fresh_database() as db:
        yield db
