"""A fleet run killed (``kill -9``) during a ``CREATE INDEX CONCURRENTLY``, then ``up --fleet`` again.

Outside a transaction each statement commits on its own and nothing rolls back: the build cut
short leaves an INVALID index. The dirty record keeps how many statements were done; the next run
reads the catalog, drops the INVALID index, builds it again, runs the rest, and says so in its
output and in the history. Nothing is repaired by hand and nothing runs twice.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
from fleet_helpers import applied, query, write_migrations

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = {
    "001_accounts.sql": (
        "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n"
        "CREATE TABLE effects (version text NOT NULL);\nINSERT INTO effects VALUES ('001');\n"
    ),
    "002_email_index.sql": (
        "-- UP\nSET lock_timeout = '10s';\n"
        "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\n"
        "INSERT INTO effects VALUES ('002');\n"
    ),
}
BUILDING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'pytest-migrations'"
    " AND query LIKE 'CREATE INDEX CONCURRENTLY%'"
)


def wait_for(predicate, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def test_a_runner_killed_during_a_concurrent_index_build_is_resumed_by_the_next_up(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    victim, other, _ = databases
    targets = tmp_path / "targets.txt"
    targets.write_text(f"{victim.dsn}\n{other.dsn}\n", encoding="utf-8")
    for db in (victim, other):
        assert cli("up", "--dir", directory, "--database-url", db.dsn, "--no-lint", "--to", "001").code == 0
    args = ["up", "--dir", str(directory), "--fleet", str(targets), "--no-lint"]

    # A writer's open transaction holds the build in its first wait, after the INVALID index is
    # already in the catalog: that is where the kill lands.
    with psycopg.connect(victim.dsn) as writer:
        writer.execute("INSERT INTO accounts VALUES (1, 'a@example.com')")
        process = subprocess.Popen([sys.executable, "-m", "pytest_migrations.cli", *args], cwd=REPO,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: query(victim.dsn, BUILDING), "the build started")
            wait_for(lambda: applied(other.dsn) == ["001", "002"], "the other target finished")
        finally:
            process.kill()
            process.wait(timeout=30)
        # The server ends the build once it sees its client gone; the writer then lets go.
        wait_for(lambda: not query(victim.dsn, BUILDING), "the server ended the killed runner's build")
        writer.rollback()

    assert query(victim.dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email'::regclass") == [(False,)]
    assert query(victim.dsn, "SELECT dirty, failed_error, statements_done FROM applied_migrations"
                             " WHERE version = '002'") == [(True, None, 1)]
    status = cli("status", "--dir", directory, "--fleet", targets)
    assert "002_email_index: up was interrupted after 1 of its statements had run" in status.out

    again = cli(*args)
    assert again.code == 0, again.text
    where = f"resumed at statement 2 of 3 ({directory / '002_email_index.sql'}:3)"
    resumed = f"{where}: the build left index accounts_email INVALID, dropped and built again"
    assert "applied 1 migration(s)" in again.out and f"(002_email_index: {resumed})" in again.out
    for db in (victim, other):
        assert applied(db.dsn) == ["001", "002"]
        assert query(db.dsn, "SELECT version FROM effects ORDER BY version") == [("001",), ("002",)]
        assert query(db.dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email'::regclass") == [(True,)]
        assert query(db.dsn, "SELECT dirty, statements_done FROM applied_migrations WHERE version = '002'") == [(False, None)]
    history = query(victim.dsn, "SELECT version, outcome, message FROM migration_history WHERE direction = 'up' ORDER BY id")
    assert [(version, outcome) for version, outcome, _ in history] == [("001", "applied"), ("002", "applied")]
    assert history[1][2].endswith(resumed)
