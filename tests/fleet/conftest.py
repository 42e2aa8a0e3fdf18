"""Fixtures for the fleet's tests: databases and schemas on the embedded server, a CLI runner."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from pytest_migrations.cli import main
from pytest_migrations.database import Database, Server


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run ``migrations ARGS`` in this process; returns its exit code and output."""
    monkeypatch.delenv("MIGRATIONS_DATABASE_URL", raising=False)
    monkeypatch.delenv("MIGRATIONS_DIR", raising=False)

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


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
