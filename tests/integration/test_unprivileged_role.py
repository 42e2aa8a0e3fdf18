"""The plugin, the runner and the tracer as a role that may create databases and nothing more:
what the docs say a user needs. On the system PostgreSQL 15; the role is made for the test and
dropped after it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from pytest_migrations.cli import main as migrations_main

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.system_pg

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "migrations"
SYSTEM_PG_DSN = os.environ.get("MIGRATIONS_TEST_SYSTEM_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def creator_dsn() -> Iterator[str]:
    """The DSN of a new LOGIN CREATEDB role (no superuser); the role and its databases are
    dropped afterwards."""
    try:
        admin = psycopg.connect(SYSTEM_PG_DSN, autocommit=True, connect_timeout=2)
    except psycopg.Error as exc:
        pytest.skip(f"system PostgreSQL not reachable: {exc}")
    role = f"pm_creator_{os.getpid()}"
    with admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB NOSUPERUSER").format(sql.Identifier(role)))
        try:
            yield psycopg.conninfo.make_conninfo(SYSTEM_PG_DSN, user=role)
        finally:
            owned = admin.execute(
                "SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = %s)", [role]
            ).fetchall()
            for (name,) in owned:
                admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def creator_database(creator_dsn: str) -> str:
    """A database the role made, so owns."""
    name = f"pm_creator_db_{os.getpid()}"
    with psycopg.connect(creator_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return psycopg.conninfo.make_conninfo(creator_dsn, dbname=name)


def test_the_plugin_round_trips_and_traces_as_a_createdb_role(pytester: pytest.Pytester, creator_dsn: str) -> None:
    shutil.copytree(EXAMPLES, pytester.path / "migrations")
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_inprocess(
        "--migrations", "-p", "no:randomly", "-W", "ignore::DeprecationWarning", "--migrations-no-lint", f"--migrations-dsn={creator_dsn}",
        "--migrations-pg-version=15",
    )  # fmt: skip
    assert "permission denied" not in result.stdout.str()
    result.assert_outcomes(passed=38)  # round trip and lock trace of every example


def test_the_runner_applies_verifies_and_rolls_back_as_a_createdb_role(
    creator_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(*args: str) -> tuple[int, str]:
        code = migrations_main(["--dir", str(EXAMPLES), "--database-url", creator_database, *args])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    for command in (["up"], ["verify"], ["down", "--steps", "3"], ["status"], ["up"]):
        code, output = run(*command)
        assert "permission denied" not in output, output
        assert code == 0, output
        if command == ["status"]:
            assert "16 applied, 3 pending" in output


def test_the_tracer_traces_as_a_createdb_role(creator_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = migrations_main(["trace", "--dir", str(EXAMPLES), "--database-url", creator_dsn, "--trace-rows", "50"])
    output = capsys.readouterr()
    assert "permission denied" not in output.out + output.err, output
    assert code in (0, 1), output
    assert "migrations traced on PostgreSQL 15" in output.out
