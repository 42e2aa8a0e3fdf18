"""Fixtures for the runner's tests: fresh databases on the shared servers, and CLI helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_migrations.cli import main
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
