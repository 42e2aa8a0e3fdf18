"""``up`` finishing a migration outside a transaction that an interruption cut short.

The runner records, statement by statement, how far such a migration got; the next ``up``
skips what is done and reads from the catalog whether the statement that was running took
effect. What it cannot read stays dirty, and so does a statement that failed with an error of
its own: those wait for a human.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest
from runner_helpers import query, write_migrations

from migration_lint.execution import plan_section
from migration_lint.layouts import load_directory
from pytest_migrations.runner._lock import migration_lock_key
from pytest_migrations.runner._resume import Undecidable, resume_point

BUILD = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'CREATE INDEX CONCURRENTLY%'"
MIGRATIONS = {
    "001_t.sql": "-- UP\nCREATE TABLE t (id int);\nCREATE TABLE effects (version text);\n",
    "002_index.sql": "-- UP\nCREATE INDEX CONCURRENTLY t_id ON t (id);\nINSERT INTO effects VALUES ('002');\n",
}


def wait_for(dsn: str, text: str, seconds: float = 30) -> list[tuple]:
    deadline = time.monotonic() + seconds
    while not (rows := query(dsn, text)):
        assert time.monotonic() < deadline, f"nothing came of {text!r}"
        time.sleep(0.02)
    return rows


def test_a_lost_connection_during_a_concurrent_build_is_resumed_by_the_next_up(cli, database, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    args = ["up", "--dir", directory, "--database-url", database.dsn, "--no-lint"]
    assert cli(*args, "--to", "001").code == 0
    box: dict = {}
    with psycopg.connect(database.dsn) as writer:  # holds the build in its first wait
        writer.execute("INSERT INTO t VALUES (1)")
        thread = threading.Thread(target=lambda: box.setdefault("result", cli(*args)))
        thread.start()
        [(pid,)] = wait_for(database.dsn, BUILD)
        query(database.dsn, "SELECT pg_terminate_backend(%s)", pid)
        thread.join(timeout=60)
        writer.rollback()
    first = box["result"]
    assert first.code == 1
    assert "the connection to the database was lost" in first.err
    assert "its record keeps how far it got: run `migrations up` again to resume it" in first.err
    assert query(database.dsn, "SELECT dirty, failed_error, statements_done FROM applied_migrations"
                               " WHERE version = '002'") == [(True, None, 0)]
    assert query(database.dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id'::regclass") == [(False,)]

    # A session still holding the migration's own lock is a runner still at work, not an interruption.
    key = migration_lock_key("public", "applied_migrations", "002")
    with psycopg.connect(database.dsn, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (key,))
        other_pid = other.info.backend_pid
        busy = cli(*args, "--lock-wait", "0.2")
        dry = cli(*args, "--dry-run", "--lock-wait", "0.2")  # a dry run waits no longer than a real one
    assert dry.code == 1 and f"up is still running in PostgreSQL session {other_pid}" in dry.out
    assert busy.code == 1
    assert f"migration 002_index is dirty: up is still running in PostgreSQL session {other_pid}" in busy.err
    assert "(hint: wait for it to end, then run `migrations up` again)" in busy.err
    assert query(database.dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id'::regclass") == [(False,)]

    again = cli(*args)
    assert again.code == 0, again.text
    resumed = (f"resumed at statement 1 of 2 ({Path(directory) / '002_index.sql'}:2): the build left index t_id"
               " INVALID, dropped and built again")
    assert f"002_index: {resumed}" in again.text
    assert query(database.dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id'::regclass") == [(True,)]
    assert query(database.dsn, "SELECT version FROM effects") == [("002",)]
    assert query(database.dsn, "SELECT dirty, statements_done FROM applied_migrations WHERE version = '002'") == [(False, None)]
    history = query(database.dsn, "SELECT outcome, message FROM migration_history WHERE version = '002' ORDER BY id")
    assert [outcome for outcome, _ in history] == ["failed", "applied"] and history[1][1] == resumed


def test_a_statement_that_failed_with_an_error_stays_dirty_for_a_human(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (1);\n",
        "002_unique.sql": "-- UP\nCREATE UNIQUE INDEX CONCURRENTLY t_id ON t (id);\nSELECT 1;\n",
    })
    args = ["up", "--dir", directory, "--database-url", db18.dsn, "--no-lint"]
    failed = cli(*args)
    assert failed.code == 1 and "(SQLSTATE 23505)" in failed.err and "marked dirty" in failed.err
    again = cli(*args)
    assert again.code == 1
    assert "migration 002_unique is dirty: up failed at" in again.err and "`migrations repair`" in again.err
    assert "resumed" not in again.text
    assert query(db18.dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id'::regclass") == [(False,)]


@pytest.fixture
def catalog(db18):
    """A connection to a database holding a table ``t`` (id, b), a valid index ``t_valid`` and an
    INVALID one ``t_invalid`` (a unique build over duplicates)."""
    query(db18.dsn, "CREATE TABLE t (id int, b int); INSERT INTO t VALUES (1, 1), (1, 1)")
    query(db18.dsn, "CREATE INDEX t_valid ON t (id)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        query(db18.dsn, "CREATE UNIQUE INDEX CONCURRENTLY t_invalid ON t (id)")
    with psycopg.connect(db18.dsn, autocommit=True) as conn:
        yield conn


def plan_of(tmp_path: Path, body: str):
    """The plan of a migration: a setting, ``body`` on line 3, and a VACUUM that keeps it all outside a transaction."""
    directory = write_migrations(tmp_path / "m", {"001_x.sql": f"-- UP\nSET lock_timeout = '1s';\n{body}VACUUM t;\n"})
    [migration] = load_directory(directory).migrations
    return plan_section(migration, "up")


@pytest.mark.parametrize(("statement", "start", "said"), [
    ("CREATE INDEX CONCURRENTLY t_valid ON t (id);", 2, "resumed after statement 2 of 3 (.../001_x.sql:3): the catalog shows it took effect"),
    ("CREATE INDEX CONCURRENTLY t_new ON t (id);", 1, "the catalog shows it had not taken effect, so it runs again"),
    ("CREATE UNIQUE INDEX CONCURRENTLY t_invalid ON t (id);", 1, "the build left index t_invalid INVALID, dropped and built again"),
    ("DROP INDEX CONCURRENTLY t_gone;", 2, "the catalog shows it took effect"),
    ("DROP INDEX CONCURRENTLY t_valid;", 1, "had not taken effect"),
    ("CREATE TABLE t (id int);", 2, "took effect"),
    ("DROP TABLE IF EXISTS u, t;", 1, "had not taken effect"),
    ("ALTER TABLE t ADD COLUMN b int;", 2, "took effect"),
    ("ALTER TABLE t DROP COLUMN b;", 1, "had not taken effect"),
    ("BEGIN;\nINSERT INTO t VALUES (2);\nCOMMIT;", 1, "its BEGIN ... COMMIT had not committed, so it runs again"),
])
def test_the_catalog_decides_whether_the_running_statement_took_effect(catalog, tmp_path, statement, start, said):
    plan = plan_of(tmp_path, statement + "\n")
    resume = resume_point(catalog, plan, 1)
    assert resume.start_batch == start
    assert said.replace(".../", str(tmp_path / "m") + "/") in resume.note
    assert [s.text for s in resume.replay] == ["SET lock_timeout = '1s'"]  # the skipped setting, sent again
    assert len(resume.repair) == (1 if "INVALID" in said else 0)


@pytest.mark.parametrize("statement", [
    "INSERT INTO t VALUES (3);",
    "CREATE INDEX CONCURRENTLY ON t (b);",  # no name to look for
    "VACUUM t;",
])
def test_a_statement_whose_effect_the_catalog_cannot_show_is_undecidable(catalog, tmp_path, statement):
    plan = plan_of(tmp_path, statement + "\n")
    with pytest.raises(Undecidable, match=r"statement 2 of 3 \(.*001_x.sql:3\) was running when the run stopped,"
                                          r" and whether it took effect cannot be read from the catalog"):
        resume_point(catalog, plan, 1)


def test_a_tracking_table_of_an_earlier_release_is_read_as_it_is_and_given_the_progress_column_by_up(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    args = ["--dir", directory, "--database-url", db18.dsn]
    assert cli("up", *args, "--no-lint", "--to", "001").code == 0
    query(db18.dsn, "ALTER TABLE applied_migrations DROP COLUMN statements_done")
    status = cli("status", *args)
    assert status.code == 0 and "pending" in status.out, status.text
    assert cli("up", *args, "--no-lint", "--dry-run").code == 0
    assert query(db18.dsn, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'applied_migrations'::regclass"
                           " AND attname = 'statements_done' AND NOT attisdropped") == [(0,)]
    assert cli("up", *args, "--no-lint").code == 0
    assert query(db18.dsn, "SELECT version, dirty, statements_done FROM applied_migrations ORDER BY version") == [
        ("001", False, None), ("002", False, None),
    ]
