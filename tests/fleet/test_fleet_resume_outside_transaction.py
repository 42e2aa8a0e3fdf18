"""A fleet run killed (``kill -9``) during a ``CREATE INDEX CONCURRENTLY``, then ``up --fleet`` again.

Outside a transaction each statement commits on its own and nothing rolls back: the build cut
short leaves an INVALID index. The dirty record keeps how many statements were done; the next run
reads the catalog, drops the INVALID index, builds it again, runs the rest, and says so in its
output and in the history. Nothing is repaired by hand and nothing runs twice.

A server restarted during the build is resumed the same way. Then the runner is killed right
after each statement it sends while it applies a migration outside a transaction holding a
setting, a concurrent build, a created table, an added column, a block of the file's own and a
concurrent drop: every resume ends at the same state, each effect once, reaching each of the
catalog's decisions along the way.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from fleet_helpers import applied, query, write_migrations
from test_fleet_faults import in_background, restart, restartable_server  # noqa: F401  (a fixture)
from test_fleet_resume import killable, wait_for_runner_backends_to_end  # noqa: F401  (a fixture)

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


EVERY_KIND = {
    "001_accounts.sql": (
        "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n"
        "CREATE TABLE effects (version text NOT NULL);\nCREATE INDEX accounts_old ON accounts (id);\n"
        "INSERT INTO effects VALUES ('001');\n"
    ),
    "002_outside.sql": (
        "-- UP\nSET lock_timeout = '10s';\n"
        "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\n"
        "CREATE TABLE audit (id bigint);\n"
        "ALTER TABLE accounts ADD COLUMN plan text;\n"
        "BEGIN;\nINSERT INTO effects VALUES ('002');\nCOMMIT;\n"
        "DROP INDEX CONCURRENTLY accounts_old;\n"
    ),
}
# The last statements an uninterrupted run sends: the whole of 002's step and what follows it.
STEP_POINTS = 26


def test_kill_9_at_every_statement_of_a_migration_outside_a_transaction_then_up_again_finishes_it_once(
    cli, databases, killable, tmp_path,
):
    directory = write_migrations(tmp_path / "m", EVERY_KIND)
    db = databases[0]
    targets = tmp_path / "targets.txt"
    targets.write_text(f"{db.dsn}\n", encoding="utf-8")
    args = ["up", "--dir", str(directory), "--fleet", str(targets), "--no-lint"]

    def reset() -> None:
        query(db.dsn, "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        assert cli("up", "--dir", directory, "--database-url", db.dsn, "--no-lint", "--to", "001").code == 0

    reset()
    clean = killable.run(args)
    assert clean["code"] == 0 and not clean["killed"], clean
    total = clean["sent"]
    notes: list[str] = []
    for kill_at in range(total - STEP_POINTS, total):
        # Right after a statement's answer: after a statement of the file, before its count
        # is recorded, the catalog must decide; "before" the next one is the same state.
        where = f"killed at statement {kill_at}/{total}, after its answer"
        reset()
        outcome = killable.run(args, kill_at, "after")
        assert outcome["killed"], f"{where}: {outcome}"
        wait_for_runner_backends_to_end(db.dsn, [db.name])
        [record] = query(db.dsn, "SELECT count(*) FILTER (WHERE dirty), count(*) FILTER (WHERE dirty AND failed_error IS NULL"
                                 " AND statements_done IS NOT NULL) FROM applied_migrations WHERE version = '002'")
        assert record[0] == record[1], f"{where}: a dirty record that is not resumable"

        again = cli(*args)
        assert again.code == 0, f"{where}: {again.text}"
        notes += [line for line in again.out.splitlines() if "resumed" in line]
        assert query(db.dsn, "SELECT version FROM effects ORDER BY version") == [("001",), ("002",)], where
        assert query(db.dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email'::regclass") == [(True,)], where
        assert query(db.dsn, "SELECT to_regclass('audit') IS NOT NULL, to_regclass('accounts_old') IS NULL") == [(True, True)], where
        assert query(db.dsn, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'plan'") == [(1,)]
        assert query(db.dsn, "SELECT version, count(*)::int FROM migration_history WHERE direction = 'up'"
                             " AND outcome = 'applied' GROUP BY version ORDER BY version") == [("001", 1), ("002", 1)], where
        assert query(db.dsn, "SELECT count(*) FROM applied_migrations WHERE dirty") == [(0,)], where
    # Most points fall inside the step, after its dirty record and before its clean mark, and
    # between them they reach every decision.
    assert len(notes) >= STEP_POINTS // 2, f"only {len(notes)} of {STEP_POINTS} kills were resumed"
    for decision in ("a setting, sent again", "the catalog shows it took effect", "had not taken effect, so it runs again",
                     "its BEGIN ... COMMIT had not committed", "every statement had run"):
        assert any(decision in note for note in notes), f"no kill led to {decision!r}"


def test_a_server_restarted_during_a_concurrent_index_build_is_resumed_by_the_next_up(cli, restartable_server, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    db = restartable_server.dsn(restartable_server.create_database())
    targets = tmp_path / "targets.txt"
    targets.write_text(f"{db}\n", encoding="utf-8")
    assert cli("up", "--dir", directory, "--database-url", db, "--no-lint", "--to", "001").code == 0
    args = ["up", "--dir", str(directory), "--fleet", str(targets), "--no-lint"]

    writer = psycopg.connect(db)  # holds the build in its first wait; the restart ends it too
    writer.execute("INSERT INTO accounts VALUES (1, 'a@example.com')")
    result = in_background(cli, *args)
    wait_for(lambda: query(db, BUILDING), "the build started")
    restart(restartable_server)
    writer.close()
    first = result()

    assert first.code == 1 and "the connection to the database was lost" in first.err
    assert "run `migrations up` again to resume it" in first.err
    assert query(db, "SELECT dirty, failed_error, statements_done FROM applied_migrations WHERE version = '002'") == [
        (True, None, 1),
    ]
    assert query(db, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email'::regclass") == [(False,)]

    again = cli(*args)
    assert again.code == 0, again.text
    assert "the build left index accounts_email INVALID, dropped and built again" in again.out
    assert applied(db) == ["001", "002"]
    assert query(db, "SELECT version FROM effects ORDER BY version") == [("001",), ("002",)]
    assert query(db, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'accounts_email'::regclass") == [(True,)]
