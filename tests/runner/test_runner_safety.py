"""What a deploy must be able to trust: kills, races, edits, dirty state, baseline, dry-run."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import psycopg
from pglast import split as split_sql
from runner_helpers import EXAMPLES, applied_versions, query, run_process, spawn, tables, write_migrations

from pytest_migrations.snapshot import take_snapshot


def wait_for(condition, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def tracking_rows(dsn: str) -> list[tuple]:
    if query(dsn, "SELECT to_regclass('public.applied_migrations')") == [(None,)]:
        return []
    return query(dsn, "SELECT * FROM public.applied_migrations ORDER BY version")


def history_rows(dsn: str) -> list[tuple]:
    if query(dsn, "SELECT to_regclass('public.migration_history')") == [(None,)]:
        return []
    return query(dsn, "SELECT * FROM public.migration_history ORDER BY id")


def whole_state(dsn: str) -> tuple:
    with psycopg.connect(dsn, autocommit=True) as conn:
        catalog = take_snapshot(conn)
    return catalog, tracking_rows(dsn), history_rows(dsn)


# -- kills and races ---------------------------------------------------------------------------


def test_kill_9_during_a_long_migration_leaves_no_partial_state(db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_first.sql": "-- UP\nCREATE TABLE first (id int);\n-- DOWN\nDROP TABLE first;\n",
        "002_slow.sql": "-- UP\nCREATE TABLE slow (id int);\nSELECT pg_sleep(30);\n-- DOWN\nDROP TABLE slow;\n",
    })
    dsn = db18.dsn
    runner = spawn("up", "--dir", directory, "--database-url", dsn, "--no-lint")
    try:
        wait_for(
            lambda: query(dsn, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                               " AND query LIKE 'SELECT pg_sleep(30)%'") == [(1,)],
            what="the slow migration to start",
        )
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
        runner.communicate()
    assert runner.returncode == -signal.SIGKILL

    # The killed client's transaction is still open on the server and invisible to everyone.
    assert "slow" not in tables(dsn)
    assert applied_versions(dsn) == ["001"]
    # PostgreSQL ends it once it notices the client is gone; end it now instead of in 30 s.
    query(dsn, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
               " AND pid <> pg_backend_pid()")
    assert "slow" not in tables(dsn)
    assert applied_versions(dsn) == ["001"]
    assert [row[3] for row in history_rows(dsn)] == ["up"]  # 001 only: 002 left no trace at all

    # The lock died with the process and nothing is dirty: the next run simply applies 002.
    (directory / "002_slow.sql").write_text("-- UP\nCREATE TABLE slow (id int);\n-- DOWN\nDROP TABLE slow;\n")
    rerun = run_process("up", "--dir", directory, "--database-url", dsn, "--no-lint", "--lock-wait", "10")
    assert rerun.returncode == 0, rerun.stderr
    assert applied_versions(dsn) == ["001", "002"]


def test_eight_runners_at_once_apply_each_migration_exactly_once(db18):
    dsn = db18.dsn
    runners = [spawn("up", "--dir", EXAMPLES, "--database-url", dsn, "--no-lint") for _ in range(8)]
    outputs = [runner.communicate(timeout=120) for runner in runners]
    for runner, (out, err) in zip(runners, outputs):
        assert runner.returncode == 0, err
    versions = applied_versions(dsn)
    assert len(versions) == 19 and len(set(versions)) == 19
    ups = query(dsn, "SELECT version, count(*) FROM public.migration_history WHERE direction = 'up'"
                     " GROUP BY version HAVING count(*) <> 1")
    assert ups == []
    assert query(dsn, "SELECT count(*) FROM public.migration_history") == [(19,)]
    applied_lines = sum(out.count(" ... ok") for out, _ in outputs)
    assert applied_lines == 19
    assert sum("nothing to apply" in out for out, _ in outputs) >= 1


def test_create_index_concurrently_runs_under_the_lock(db18, tmp_path):
    """The lock is session-level on an idle connection, so CONCURRENTLY does not wait for it."""
    directory = write_migrations(tmp_path / "m", {
        "001_events.sql": "-- UP\nCREATE TABLE events (id int, at timestamptz);\n"
                          "INSERT INTO events SELECT g, now() FROM generate_series(1, 1000) g;\n"
                          "-- DOWN\nDROP TABLE events;\n",
        "002_index.sql": "-- UP\nCREATE INDEX CONCURRENTLY events_at_idx ON events (at);\n"
                         "-- DOWN\nDROP INDEX CONCURRENTLY events_at_idx;\n",
    })
    dsn = db18.dsn
    # lock_timeout bounds every wait of the index build: a self-deadlock would fail, not hang.
    result = run_process("up", "--dir", directory, "--database-url", dsn, "--no-lint", "--lock-timeout", "5s", timeout=60)
    assert result.returncode == 0, result.stderr
    assert query(dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_at_idx'::regclass") == [(True,)]
    assert query(dsn, "SELECT dirty FROM public.applied_migrations WHERE version = '002'") == [(False,)]
    result = run_process("down", "--dir", directory, "--database-url", dsn, "--lock-timeout", "5s", timeout=60)
    assert result.returncode == 0, result.stderr
    assert query(dsn, "SELECT to_regclass('events_at_idx')") == [(None,)]


# -- refusals ----------------------------------------------------------------------------------


def test_an_edited_applied_migration_is_refused_by_name(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_a.sql": "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n",
        "002_b.sql": "-- UP\nCREATE TABLE b (id int);\n-- DOWN\nDROP TABLE b;\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert cli("up", *args).code == 0
    # Fixing a DOWN after the fact is allowed: the checksum covers what was applied, the UP.
    (directory / "002_b.sql").write_text("-- UP\nCREATE TABLE b (id int);\n-- DOWN\nDROP TABLE IF EXISTS b;\n")
    (directory / "003_c.sql").write_text("-- UP\nCREATE TABLE c (id int);\n-- DOWN\nDROP TABLE c;\n")
    assert cli("verify", *args[:4]).code == 1
    (directory / "001_a.sql").write_text("-- UP\nCREATE TABLE a (id bigint);\n-- DOWN\nDROP TABLE a;\n")

    refused = cli("up", *args)
    assert refused.code == 1
    assert f"{directory / '001_a.sql'}: applied migration 001_a was edited after it was applied" in refused.err
    assert "002_b" not in refused.err
    assert "c" not in tables(db18.dsn)
    status = cli("status", *args[:4])
    assert status.code == 1 and "checksum-changed" in status.out

    repaired = cli("repair", "--update-checksums", *args[:4])
    assert repaired.code == 0 and "001_a: checksum updated" in repaired.out
    assert cli("up", *args).code == 0
    assert cli("verify", *args[:4]).code == 0
    assert query(db18.dsn, "SELECT outcome FROM public.migration_history WHERE direction = 'repair'") == [("checksum updated",)]


def test_out_of_order_version_is_refused_unless_allowed(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_a.sql": "-- UP\nCREATE TABLE a (id int);\n",
        "003_c.sql": "-- UP\nCREATE TABLE c (id int);\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert cli("up", *args).code == 0
    (directory / "002_b.sql").write_text("-- UP\nCREATE TABLE b (id int);\n")
    refused = cli("up", *args)
    assert refused.code == 1
    assert f"{directory / '002_b.sql'}: version 002 is older than the newest applied version 003" in refused.err
    assert "--allow-out-of-order" in refused.err
    assert cli("status", *args[:4]).code == 1
    assert cli("up", "--allow-out-of-order", *args).code == 0
    assert applied_versions(db18.dsn) == ["001", "003", "002"]


def test_transaction_control_of_the_file_runs_as_written_under_detect(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_a.sql": "-- UP\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint")
    dry = cli("up", "--dry-run", *args)
    assert "001_a.sql, outside a transaction, statement by statement" in dry.out
    assert cli("up", *args).code == 0
    assert tables(db18.dsn) == {"a", "b", "applied_migrations", "migration_history"}


def test_a_rollback_that_undoes_part_of_the_tools_transaction_is_refused_with_file_and_line(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "2024-01-01-000000_a/up.sql": "CREATE TABLE a (id int);\nROLLBACK;\nBEGIN;\nCREATE TABLE b (id int);\n",
    })
    result = cli("up", "--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert result.code == 2
    assert f"{directory / '2024-01-01-000000_a' / 'up.sql'}:2: ROLLBACK undoes the statements before it" in result.err
    assert tables(db18.dsn) == set()


def test_a_commit_with_nothing_reopened_after_it_runs_as_diesel_runs_it(cli, db18, tmp_path):
    # Diesel sends up.sql as one query in its transaction: the COMMIT ends it, the rest runs in the
    # query's implicit block, and Diesel's own COMMIT finds no transaction. The record follows it all.
    directory = write_migrations(tmp_path / "m", {
        "2024-01-01-000000_a/up.sql": "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert "which the file's own COMMIT at line 2 ends" in cli("up", "--dry-run", *args).out
    result = cli("up", *args)
    assert result.code == 0, result.err
    assert tables(db18.dsn) == {"a", "b", "applied_migrations", "migration_history"}
    assert query(db18.dsn, "SELECT version, dirty FROM applied_migrations") == [("2024-01-01-000000", False)]


def test_a_file_wrapped_in_begin_commit_commits_with_its_tracking_row(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_a.sql": "-- UP\nSET lock_timeout = '5s';\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n",
        "002_b.sql": "-- UP\nBEGIN;\nCREATE TABLE b (id int);\nINSERT INTO b VALUES (1);\nSELECT 1/0;\nCOMMIT;\n",
    })
    result = cli("up", "--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert result.code == 1
    assert f"{directory / '002_b.sql'}:5: division by zero (SQLSTATE 22012)" in result.err
    # 001 and its row committed together; 002 failed after its CREATE TABLE: nothing of it stays.
    assert tables(db18.dsn) == {"a", "applied_migrations", "migration_history"}
    assert applied_versions(db18.dsn) == ["001"]
    assert [(row[1], row[3], row[7]) for row in history_rows(db18.dsn)] == [("001", "up", "applied"), ("002", "up", "failed")]


# -- dirty, repair, baseline -------------------------------------------------------------------


def test_failed_non_transactional_migration_is_dirty_until_repaired(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "1_t.up.sql": "CREATE TABLE t (a int, b int);\n",
        "2_indexes.up.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n"
                            "CREATE INDEX CONCURRENTLY t_b_idx ON nope (b);\n",
        "3_later.up.sql": "CREATE TABLE later (id int);\n",
    })
    dsn = db18.dsn
    args = ("--dir", directory, "--database-url", dsn, "--no-lint")
    failed = cli("up", *args)
    assert failed.code == 1
    assert f"{directory / '2_indexes.up.sql'}:3: relation \"nope\" does not exist (SQLSTATE 42P01)" in failed.err
    assert "marked dirty" in failed.err
    assert query(dsn, "SELECT dirty, dirty_direction, failed_statement FROM public.applied_migrations WHERE version = '2'") == [
        (True, "up", f"{directory / '2_indexes.up.sql'}:3: CREATE INDEX CONCURRENTLY t_b_idx ON nope (b)")
    ]
    assert "later" not in tables(dsn)

    status = cli("status", *args[:4])
    assert status.code == 1 and "dirty" in status.out
    refused = cli("up", *args)
    assert refused.code == 1
    assert "migration 2_indexes is dirty: up failed at" in refused.err and "migrations repair" in refused.err
    assert "later" not in tables(dsn)

    # A human cleans up the half-done work and fixes the file, then tells the runner.
    query(dsn, "DROP INDEX t_a_idx")
    (directory / "2_indexes.up.sql").write_text(
        "-- no-transaction\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nCREATE INDEX CONCURRENTLY t_b_idx ON t (b);\n"
    )
    repaired = cli("repair", *args[:4])
    assert repaired.code == 0 and "2_indexes: dirty record cleared" in repaired.out and "marked pending" in repaired.out
    assert cli("up", *args).code == 0
    assert applied_versions(dsn) == ["1", "2", "3"]
    assert query(dsn, "SELECT direction, outcome FROM public.migration_history WHERE version = '2' ORDER BY id") == [
        ("up", "failed"), ("repair", "repaired"), ("up", "applied")
    ]


def test_baseline_adopts_a_hand_migrated_database(cli, db18):
    dsn = db18.dsn
    migrations = sorted(EXAMPLES.glob("*.sql"))[:5]
    with psycopg.connect(dsn, autocommit=True) as conn:  # what a team did by hand: psql -f, file by file
        for path in migrations:
            for statement in split_sql(path.read_text().split("-- DOWN")[0]):
                conn.execute(statement)
    by_hand = tables(dsn)
    args = ("--dir", EXAMPLES, "--database-url", dsn)

    result = cli("baseline", "005", *args)
    assert result.code == 0, result.err
    assert "baseline 005: 5 migration(s) recorded" in result.out
    assert applied_versions(dsn) == ["001", "002", "003", "004", "005"]
    assert query(dsn, "SELECT DISTINCT direction, outcome, message FROM public.migration_history") == [
        ("baseline", "baselined", "recorded as applied without running it (baseline 005)")
    ]
    assert tables(dsn) == by_hand | {"applied_migrations", "migration_history"}

    assert cli("up", *args, "--no-lint").code == 0  # 006.. only; re-running 001 would fail
    assert len(applied_versions(dsn)) == 19
    refused = cli("baseline", "003", *args)
    assert refused.code == 1 and "already applied, after the baseline 003" in refused.err


# -- dry run -----------------------------------------------------------------------------------


def test_dry_run_changes_nothing_and_shows_the_exact_sql(cli, db18, pg_server):
    dsn = db18.dsn
    args = ("--dir", EXAMPLES, "--database-url", dsn, "--no-lint")
    fresh = whole_state(dsn)
    result = cli("up", "--dry-run", *args)
    assert result.code == 0, result.err
    assert whole_state(dsn) == fresh  # not even the tracking tables were created
    assert 'CREATE TABLE IF NOT EXISTS "public"."applied_migrations"' in result.out

    assert cli("up", "--to", "008", *args).code == 0
    before = whole_state(dsn)
    for command in (("up", "--dry-run"), ("down", "--dry-run", "--steps", "3"), ("redo", "--dry-run")):
        result = cli(*command, *args)
        assert result.code == 0, result.err
        assert "validation: ok" in result.out
    assert whole_state(dsn) == before

    # Replaying the printed SQL on a copy does what the real run does, tracking rows included.
    plan = cli("up", "--dry-run", *args).out
    sql_text = plan.split("-- SQL, in the order a real run sends it:\n", 1)[1]
    assert sql_text.index("009_index_orders_created_at") < sql_text.index("010_add_users_display_name")
    assert "VALUES ('009', 'index_orders_created_at'" in sql_text
    with pg_server.fresh_database() as copy:
        assert cli("up", "--to", "008", "--dir", EXAMPLES, "--database-url", copy.dsn, "--no-lint").code == 0
        with psycopg.connect(copy.dsn, autocommit=True) as conn:
            for statement in split_sql(sql_text):
                conn.execute(statement)
        assert cli("up", *args).code == 0
        replayed, real = whole_state(copy.dsn), whole_state(dsn)
        assert replayed[0] == real[0]
        keep = lambda rows, columns: [tuple(row[i] for i in columns) for row in rows]  # noqa: E731
        assert keep(replayed[1], (0, 1, 2, 6)) == keep(real[1], (0, 1, 2, 6))
        assert keep(replayed[2], (1, 3, 7)) == keep(real[2], (1, 3, 7))


def test_dry_run_reports_validation_problems_and_exits_non_zero(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "2024-01-01-000000_a/up.sql": "CREATE TABLE a (id int);\n",
        "2024-01-02-000000_b/up.sql": "CREATE TABLE b (id int);\nROLLBACK;\n",
    })
    result = cli("up", "--dry-run", "--format", "json", "--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert result.code == 2
    document = json.loads(result.out)
    assert document["dry_run"] is True and document["ok"] is False
    assert [step["id"] for step in document["plan"]] == ["2024-01-01-000000_a"]
    assert any("2024-01-02-000000_b/up.sql:2: ROLLBACK undoes the statements before it" in problem for problem in document["problems"])
    assert query(db18.dsn, "SELECT to_regclass('public.applied_migrations')") == [(None,)]


# -- timeouts ----------------------------------------------------------------------------------


def test_lock_timeout_fails_cleanly_with_a_hint_and_retries_succeed(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (id int);\n",
        "002_alter.sql": "-- UP\nALTER TABLE t ADD COLUMN note text;\n",
    })
    dsn = db18.dsn
    args = ("--dir", directory, "--database-url", dsn, "--no-lint", "--lock-timeout", "100ms")
    assert cli("up", "--to", "001", *args).code == 0
    blocker = psycopg.connect(dsn)
    blocker.execute("LOCK TABLE t IN ACCESS SHARE MODE")  # a long read holds the table
    try:
        failed = cli("up", *args)
        assert failed.code == 1
        assert f"{directory / '002_alter.sql'}:2: canceling statement due to lock timeout (SQLSTATE 55P03)" in failed.err
        assert "--retries" in failed.err
        assert applied_versions(dsn) == ["001"]

        threading.Timer(0.5, blocker.rollback).start()  # the read ends while the runner retries
        retried = cli("up", "--retries", "3", *args)
    finally:
        time.sleep(0.6)
        blocker.close()
    assert retried.code == 0, retried.err
    assert "retry:" in retried.err
    assert applied_versions(dsn) == ["001", "002"]
    outcomes = query(dsn, "SELECT outcome FROM public.migration_history WHERE version = '002' ORDER BY id")
    assert outcomes[0] == ("failed",) and outcomes[-1] == ("applied",) and ("failed",) in outcomes[1:-1]


def test_timeouts_are_set_per_migration_unless_the_file_sets_its_own(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_plain.sql": "-- UP\nCREATE TABLE a (id int);\n",
        "002_own.sql": "-- UP\nSET lock_timeout = '2s';\nCREATE TABLE b (id int);\n",
        "003_own_config.sql": "-- UP\nSELECT set_config('statement_timeout', '1min', true);\nCREATE TABLE c (id int);\n",
    })
    result = cli("up", "--dry-run", "--dir", directory, "--database-url", db18.dsn, "--no-lint",
                 "--lock-timeout", "3s", "--statement-timeout", "30s")
    steps = result.out.split("-- up ")[1:]
    assert "SET LOCAL \"lock_timeout\" = '3s'" in steps[0] and "SET LOCAL \"statement_timeout\" = '30s'" in steps[0]
    assert "SET LOCAL \"lock_timeout\"" not in steps[1] and "SET LOCAL \"statement_timeout\" = '30s'" in steps[1]
    assert "SET LOCAL \"lock_timeout\" = '3s'" in steps[2] and "SET LOCAL \"statement_timeout\"" not in steps[2]
    # A setting made by one migration does not leak into the next (DISCARD ALL between them).
    directory2 = write_migrations(tmp_path / "n", {
        "001_sets.sql": "-- UP\nSET search_path = nowhere;\nCREATE TABLE public.a (id int);\n",
        "002_plain.sql": "-- UP\nCREATE TABLE b (id int);\n",
    })
    assert cli("up", "--dir", directory2, "--database-url", db18.dsn, "--no-lint").code == 0
    assert {"a", "b"} <= tables(db18.dsn)


# -- lint before apply -------------------------------------------------------------------------


def test_lint_errors_block_the_run_unless_no_lint(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (a int);\n",
        "002_index.sql": "-- UP\nCREATE INDEX t_a_idx ON t (a);\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn)
    refused = cli("up", *args)
    assert refused.code == 1
    assert f"lint: {directory / '002_index.sql'}:2: ML001" in refused.err and "--no-lint" in refused.err
    assert tables(db18.dsn) == set()  # lint runs before anything, even before the tracking tables

    plan = cli("up", "--dry-run", *args)
    assert plan.code == 1 and "finding(s), 1 error(s)" in plan.out and "ML001" in plan.out
    assert cli("up", "--no-lint", *args).code == 0
    assert applied_versions(db18.dsn) == ["001", "002"]


def test_repair_can_mark_applied_and_forget_deleted_files(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "1_t.up.sql": "CREATE TABLE t (a int);\n",
        "2_gone.up.sql": "CREATE TABLE gone (a int);\n",
        "3_index.up.sql": "-- no-transaction\nCREATE INDEX CONCURRENTLY t_a_idx ON t (a);\nVACUUM nope;\n",
    })
    dsn = db18.dsn
    args = ("--dir", directory, "--database-url", dsn, "--no-lint")
    assert cli("up", *args).code == 1
    query(dsn, "VACUUM t")  # the human finishes the migration by hand
    marked = cli("repair", "--mark", "applied", *args[:4])
    assert marked.code == 0 and "3_index: dirty record cleared" in marked.out and "marked applied" in marked.out
    assert query(dsn, "SELECT dirty FROM public.applied_migrations WHERE version = '3'") == [(False,)]

    (directory / "2_gone.up.sql").unlink()
    refused = cli("up", *args)
    assert refused.code == 1 and "applied migration 2_gone has no file" in refused.err
    assert cli("repair", "--forget-missing", *args[:4]).code == 0
    assert cli("verify", *args[:4]).code == 0
    assert applied_versions(dsn) == ["1", "3"]
    assert query(dsn, "SELECT version, outcome FROM public.migration_history WHERE direction = 'repair' ORDER BY id") == [
        ("3", "repaired"), ("2", "forgotten")
    ]
