"""Shared fixtures for the test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pytest_migrations.database import DsnServer, EmbeddedServer, ServerUnavailable, embedded_server, open_server

SYSTEM_PG_DSN = os.environ.get("MIGRATIONS_TEST_SYSTEM_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_server() -> EmbeddedServer:
    """The embedded PostgreSQL 18 of this process (one per session/xdist worker; removed at exit)."""
    return embedded_server()


@pytest.fixture(scope="session")
def system_pg_server() -> Iterator[DsnServer]:
    """The system PostgreSQL through the DSN backend ($MIGRATIONS_TEST_SYSTEM_DSN); skipped if unreachable."""
    try:
        server = open_server(dsn=SYSTEM_PG_DSN)
    except ServerUnavailable as exc:
        pytest.skip(f"system PostgreSQL not reachable: {exc}")
    assert isinstance(server, DsnServer)
    with server:
        yield server
