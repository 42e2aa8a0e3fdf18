"""``pytest --migrations`` stopped or killed, and a password in an error: as the field test did it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
SLOW_MIGRATION = "-- UP\nCREATE TABLE a (id int);\nSELECT pg_sleep(60);\n-- DOWN\nDROP TABLE a;\n"


def _pytest_migrations(directory: Path, dsn: str) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MIGRATIONS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "--migrations", "--migrations-dir", str(directory / "migrations"),
         "--migrations-dsn", dsn, "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:xdist", str(directory)],
        cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _databases_of(dsn: str, pid: int) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {name for (name,) in conn.execute(
            "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE %s",
            (f"pytest-migrations owner % pid={pid} %",),
        )}


def _sleeping_in(dsn: str, databases: set[str]) -> bool:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return bool(conn.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = ANY(%s) AND query LIKE '%%pg_sleep(60)%%'",
            (sorted(databases),),
        ).fetchall())


def _wait_until_migrating(dsn: str, process: subprocess.Popen) -> set[str]:
    deadline = time.monotonic() + 60
    while True:
        databases = _databases_of(dsn, process.pid)
        if databases and _sleeping_in(dsn, databases):
            return databases
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the run never reached the migration:\n{process.communicate()[0]}")
        time.sleep(0.1)


@pytest.mark.system_pg
def test_a_killed_run_leaves_marked_databases_the_next_run_drops_and_sigterm_leaves_none(system_pg_server, tmp_path):
    dsn = system_pg_server.admin_dsn
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_slow.sql").write_text(SLOW_MIGRATION)

    killed = _pytest_migrations(tmp_path, dsn)
    _wait_until_migrating(dsn, killed)
    killed.kill()
    killed.communicate(timeout=30)
    leaked = _databases_of(dsn, killed.pid)
    assert leaked, "kill -9 leaves the run's databases (nothing can drop them at once)"

    stopped = _pytest_migrations(tmp_path, dsn)
    own = _wait_until_migrating(dsn, stopped)
    assert _databases_of(dsn, killed.pid) == set(), "the next run drops what the killed one left"
    assert own.isdisjoint(leaked)
    stopped.send_signal(signal.SIGTERM)  # what a cancelled CI job sends
    output = stopped.communicate(timeout=60)[0]
    assert stopped.returncode != 0
    assert _databases_of(dsn, stopped.pid) == set(), output


@pytest.mark.system_pg
def test_a_live_run_keeps_its_databases_when_another_run_starts(system_pg_server, tmp_path):
    dsn = system_pg_server.admin_dsn
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_slow.sql").write_text(SLOW_MIGRATION)
    first = _pytest_migrations(tmp_path, dsn)
    try:
        own = _wait_until_migrating(dsn, first)
        assert own.isdisjoint(system_pg_server.drop_stale_databases())
        assert own <= _databases_of(dsn, first.pid)
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert _databases_of(dsn, first.pid) == set()


@pytest.mark.parametrize("dsn, says", [
    ("postgresql://u:s3cret%zzpw@127.0.0.1:1/db", "invalid percent-encoded token"),
    ("postgresql://u:s3c@retpw@127.0.0.1:1/db", "cannot connect to PostgreSQL"),
])
def test_the_plugin_masks_a_password_quoted_in_a_connection_error(pytester: pytest.Pytester, monkeypatch, dsn, says):
    for name in ("MIGRATIONS_DATABASE_URL", "MIGRATIONS_DIR"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\n")
    (pytester.path / "migrations").mkdir()
    (pytester.path / "migrations" / "001_a.sql").write_text("-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n")
    result = pytester.runpytest_inprocess(
        "--migrations", "--migrations-dir", "migrations", "-rs", "-p", "no:randomly",
        "--migrations-dsn", dsn,
    )
    output = result.stdout.str() + result.stderr.str()
    assert says in output
    assert "s3c" not in output and "retpw" not in output
