"""Fixtures for the fleet's tests: databases and schemas on the embedded server, a CLI runner."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from migrations_cli import cli  # noqa: F401  (the fixture, shared by the runner's and the fleet's tests)
from pytest_migrations.database import Database, Server


@pytest.fixture
def databases(pg_server: Server) -> Iterator[list[Database]]:
    """Three fresh databases on the embedded server."""
    made: list[Database] = []
    try:
        for _ in range(3):
            name = pg_server.create_database()
            made.append(Database(name, pg_server.dsn(name)))
        yield made
    finally:
        for database in made:
            pg_server.drop_database(database.name)


class OpenConnections:
    """This process's open psycopg connections, counted at psycopg.connect and close."""

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self.lock = threading.Lock()


@pytest.fixture
def open_connections(monkeypatch: pytest.MonkeyPatch) -> OpenConnections:
    counter = OpenConnections()
    real_connect, real_close = psycopg.connect, psycopg.Connection.close

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        with counter.lock:
            counter.open += 1
            counter.peak = max(counter.peak, counter.open)
        return conn

    def close(conn):
        if not conn.closed:
            with counter.lock:
                counter.open -= 1
        real_close(conn)

    monkeypatch.setattr(psycopg, "connect", connect)
    monkeypatch.setattr(psycopg.Connection, "close", close)
    return counter
