"""The faults and inputs a field test broke (issue 13), each against a real server."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg
import pytest
from runner_helpers import REPO, applied_versions, query, spawn, write_migrations

from pytest_migrations.runner import RunnerSettings

# -- passwords ----------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["e", "postgres", "1", "true"])
def test_a_password_that_is_also_common_text_leaves_the_output_intact(cli, db18, tmp_path, password):
    directory = write_migrations(tmp_path / "m", {"001_apply_postgres.sql": "-- UP\nCREATE TABLE applied (id int);\n"})
    # The embedded server trusts local connections: the password is carried, never checked.
    dsn = psycopg.conninfo.make_conninfo(db18.dsn, password=password)
    text = cli("up", "--dir", directory, "--database-url", dsn, "--no-lint")
    assert text.code == 0, text.err
    assert "applying 001_apply_postgres ... ok" in text.out and "***" not in text.text

    document = json.loads(cli("status", "--format", "json", "--dir", directory, "--database-url", dsn).out)
    assert document["ok"] is True and document["exit_code"] == 0
    assert [(m["version"], m["name"], m["state"]) for m in document["migrations"]] == [("001", "apply_postgres", "applied")]


@pytest.mark.parametrize("dsn", [
    "postgresql://u:s3cret%zzpw@127.0.0.1:1/db",  # libpq quotes the bad token: the password
    "postgresql://u:s3cret pw@127.0.0.1:1/db",  # libpq quotes the part with the space
    "postgresql://u:s3cretpw@[::1/db",  # libpq quotes the whole URL
    "postgresql://u:s3c@retpw@127.0.0.1:1/db",  # libpq reads the password's tail as the host
])
def test_a_password_quoted_in_a_connection_error_is_masked(cli, tmp_path, dsn):
    directory = write_migrations(tmp_path / "m", {"001_a.sql": "-- UP\nSELECT 1;\n"})
    result = cli("status", "--dir", directory, "--database-url", dsn)
    assert result.code in (1, 2) and result.err.startswith("error: ") and len(result.err.splitlines()) == 1
    assert "s3cret" not in result.text and "***" in result.err


# -- the lock's session --------------------------------------------------------------------------


def _holds_runner_lock(dsn: str) -> bool:
    return bool(query(dsn, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"))


def test_idle_session_timeout_does_not_end_the_lock_session_while_a_migration_runs(db18, tmp_path):
    # Shorter than one migration: a runner's lock session (and a waiting runner's working
    # session) sit idle for longer than that.
    query(db18.dsn, f'ALTER DATABASE "{db18.name}" SET idle_session_timeout = \'700ms\'')
    directory = write_migrations(tmp_path / "m", {
        "001_slow.sql": "-- UP\nCREATE TABLE slow (id int);\nSELECT pg_sleep(2.5);\n",
        "002_type.sql": "-- UP\nCREATE TYPE mood AS ENUM ('ok');\n",
    })
    args = ("up", "--dir", directory, "--database-url", db18.dsn, "--no-lint")
    first = spawn(*args)
    deadline = time.monotonic() + 20
    while not _holds_runner_lock(db18.dsn):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    second = spawn(*args)
    first_out, first_err = first.communicate(timeout=60)
    second_out, second_err = second.communicate(timeout=60)
    assert first.returncode == 0, first_err
    assert "applying 001_slow ... ok" in first_out and "applying 002_type ... ok" in first_out
    assert second.returncode == 0, second_err
    assert "waiting for another runner's lock" in second_err and "nothing to apply" in second_out
    assert applied_versions(db18.dsn) == ["001", "002"]
    assert query(db18.dsn, "SELECT count(*) FROM public.migration_history WHERE outcome = 'failed'") == [(0,)]


def test_idle_session_timeout_does_not_end_the_working_session_between_retries(cli, db18, tmp_path):
    query(db18.dsn, f'ALTER DATABASE "{db18.name}" SET idle_session_timeout = \'400ms\'')
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (id int);\n",
        "002_alter.sql": "-- UP\nALTER TABLE t ADD COLUMN note text;\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint", "--lock-timeout", "100ms")
    assert cli("up", "--to", "001", *args).code == 0
    blocker = psycopg.connect(db18.dsn)
    blocker.execute("LOCK TABLE t IN ACCESS SHARE MODE")  # idle in a transaction: not ended
    threading.Timer(2.0, blocker.rollback).start()  # after the first pause (1 s), before the third
    try:
        retried = cli("up", "--retries", "3", *args)
    finally:
        time.sleep(2.2)
        blocker.close()
    assert retried.code == 0, retried.err
    assert "retry:" in retried.err
    assert applied_versions(db18.dsn) == ["001", "002"]


# -- settings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("arguments, complaint", [
    (("--lock-timeout", "banana"), "--lock-timeout 'banana': is not a duration"),
    (("--statement-timeout", "5 parsecs"), "--statement-timeout '5 parsecs': is not a duration"),
    (("--lock-wait", "-5"), "--lock-wait -5.0: must be a number of seconds, 0 or more"),
    (("--retries", "-1"), "--retries -1: must be a whole number"),
    (("--table=",), "--table '': must not be empty"),
    (("--schema", "pg_temp"), "--schema 'pg_temp': names beginning with pg_ belong to PostgreSQL"),
    (("--history-table", "h" * 64), "is longer than PostgreSQL's 63 bytes"),
])
def test_bad_settings_on_the_command_line_stop_before_the_database_is_touched(cli, db18, tmp_path, arguments, complaint, dry_run):
    directory = write_migrations(tmp_path / "m", {
        "001_index.sql": "-- UP\nCREATE TABLE t (id int);\n",
        "002_index.sql": "-- UP\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n",
    })
    extra = ("--dry-run",) if dry_run else ()
    result = cli("up", *extra, *arguments, "--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert result.code == 2, result.text
    assert result.err.count("\n") == 1 and complaint in result.err, result.err
    assert "validation: ok" not in result.out
    assert query(db18.dsn, "SELECT to_regclass('public.applied_migrations'), to_regclass('public.t')") == [(None, None)]


@pytest.mark.parametrize("setting, complaint", [
    ("tracking_table = 5", "tracking_table: must be a name (a string), not 5"),
    ("lock_wait = -5", "lock_wait: must be a number of seconds, 0 or more, not -5"),
    ('lock_timeout = "banana"', "lock_timeout: is not a duration"),
    ('tracking_schema = "pg_toast"', "tracking_schema: names beginning with pg_ belong to PostgreSQL"),
])
def test_bad_settings_in_pyproject_stop_before_the_database_is_touched(cli, db18, tmp_path, setting, complaint):
    directory = write_migrations(tmp_path / "m", {"001_a.sql": "-- UP\nCREATE TABLE a (id int);\n"})
    config = tmp_path / "pyproject.toml"
    config.write_text(f"[tool.pytest-migrations]\n{setting}\n")
    for extra in ((), ("--dry-run",)):
        result = cli("up", *extra, "--config", config, "--dir", directory, "--database-url", db18.dsn, "--no-lint")
        assert result.code == 2 and result.err.count("\n") == 1, result.text
        assert f"{config}: [tool.pytest-migrations] {complaint}" in result.err
    assert query(db18.dsn, "SELECT to_regclass('public.applied_migrations'), to_regclass('public.a')") == [(None, None)]


def test_settings_made_in_code_are_checked_too():
    with pytest.raises(Exception, match="lock_timeout 'banana'"):
        RunnerSettings(lock_timeout="banana")
    assert RunnerSettings(lock_timeout="1.5s", statement_timeout="0", lock_wait=0).lock_timeout == "1.5s"


# -- INVALID indexes -----------------------------------------------------------------------------


def test_an_index_left_invalid_by_an_interrupted_build_fails_up_and_verify(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (1);\n",
        "002_unique.sql": "-- UP\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_id_key ON t (id);\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn)
    failed = cli("up", "--no-lint", *args)  # the build fails on the duplicate and leaves the index INVALID
    assert failed.code == 1 and "could not create unique index" in failed.err
    assert cli("repair", *args).code == 0

    again = cli("up", "--no-lint", *args)  # IF NOT EXISTS now skips the INVALID index
    assert again.code == 1, again.text
    assert "index public.t_id_key is INVALID after this migration" in again.err
    assert "REINDEX INDEX CONCURRENTLY public.t_id_key" in again.err
    assert cli("verify", *args).code == 1

    query(db18.dsn, "DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t)")
    query(db18.dsn, "REINDEX INDEX CONCURRENTLY t_id_key")
    assert cli("repair", *args).code == 0
    assert cli("up", "--no-lint", *args).code == 0
    assert cli("verify", *args).code == 0


def test_verify_names_an_invalid_index_of_an_applied_migration(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (id int);\n",
        "002_index.sql": "-- UP\nCREATE UNIQUE INDEX CONCURRENTLY t_id_key ON t (id);\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn)
    query(db18.dsn, "CREATE TABLE t (id int); INSERT INTO t VALUES (1), (1)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        query(db18.dsn, "CREATE UNIQUE INDEX CONCURRENTLY t_id_key ON t (id)")
    assert cli("baseline", "002", *args).code == 0  # adopted with the index as it is
    result = cli("verify", *args)
    assert result.code == 1
    assert f"{directory / '002_index.sql'}: index public.t_id_key, created by applied migration 002_index, is INVALID" in result.out


# -- permission and usage errors -----------------------------------------------------------------


def test_no_create_on_the_schema_is_one_line_not_an_internal_error(cli, db18, tmp_path):
    role = "pytest_migrations_no_create"
    query(db18.dsn, f"DROP ROLE IF EXISTS {role}")
    query(db18.dsn, f"CREATE ROLE {role} LOGIN")
    query(db18.dsn, f"REVOKE CREATE ON SCHEMA public FROM PUBLIC; REVOKE CREATE ON SCHEMA public FROM {role}")
    try:
        directory = write_migrations(tmp_path / "m", {"001_a.sql": "-- UP\nSELECT 1;\n"})
        dsn = psycopg.conninfo.make_conninfo(db18.dsn, user=role)
        result = cli("up", "--dir", directory, "--database-url", dsn, "--no-lint")
    finally:
        query(db18.dsn, f"DROP OWNED BY {role}; DROP ROLE {role}")
    assert result.code == 1 and "internal error" not in result.err
    assert "cannot create the tracking tables public.applied_migrations and public.migration_history:" in result.err
    assert "permission denied for schema public (SQLSTATE 42501)" in result.err
    assert "grant them, or choose another schema" in result.err


def test_new_with_a_name_too_long_for_the_file_system_is_a_usage_error(cli, tmp_path):
    directory = write_migrations(tmp_path / "m", {"001_a.sql": "-- UP\nSELECT 1;\n"})
    result = cli("new", "x" * 300, "--dir", directory)
    assert result.code == 2 and "internal error" not in result.err
    assert result.err.startswith("error: cannot write ") and "File name too long" in result.err
    assert sorted(path.name for path in directory.iterdir()) == ["001_a.sql"]


def test_retries_say_they_do_not_apply_to_a_non_transactional_migration(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (id int);\n",
        "002_index.sql": "-- UP\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n",
    })
    result = cli("up", "--retries", "3", "--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert result.code == 0, result.err
    assert "note: --retries does not apply to 002_index: it runs outside a transaction" in result.err
    assert "001_t" not in result.err


def test_a_non_transactional_lock_timeout_does_not_suggest_retries(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (id int);\n",
        "002_index.sql": "-- UP\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint", "--lock-timeout", "100ms")
    assert cli("up", "--to", "001", *args).code == 0
    with psycopg.connect(db18.dsn) as blocker:
        blocker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        failed = cli("up", *args)
    assert failed.code == 1 and "(SQLSTATE 55P03)" in failed.err
    assert "marked dirty" in failed.err and "--retries" not in failed.err


@pytest.mark.parametrize("concurrently", [False, True])
def test_a_failed_attempt_whose_connection_was_lost_is_in_the_history(cli, db18, tmp_path, concurrently):
    index = "CREATE INDEX CONCURRENTLY t_id ON t (id);\n" if concurrently else ""
    directory = write_migrations(tmp_path / "m", {
        "001_t.sql": "-- UP\nCREATE TABLE t (id int);\n",
        "002_dies.sql": f"-- UP\n{index}SELECT pg_terminate_backend(pg_backend_pid());\n",
    })
    result = cli("up", "--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert result.code == 1 and "internal error" not in result.err
    assert "the connection to the database was lost" in result.err
    rows = query(db18.dsn, "SELECT version, outcome, message FROM public.migration_history ORDER BY id")
    assert [(version, outcome) for version, outcome, _ in rows] == [("001", "applied"), ("002", "failed")]
    assert "the connection to the database was lost" in rows[1][2]
    # Outside a transaction a lost connection is an interruption, not an error of the statement:
    # the record keeps how far the migration got (the index was built), for `up` to resume it.
    dirty = query(db18.dsn, "SELECT version, dirty, failed_error IS NOT NULL, statements_done"
                            " FROM public.applied_migrations ORDER BY version")
    assert dirty == ([("001", False, False, None), ("002", True, False, 1)] if concurrently else [("001", False, False, None)])


def test_an_unclosed_comment_at_the_end_of_an_up_is_refused(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_a.sql": "-- UP\nCREATE TABLE a (id int);\n/* the rest was never written\n",
    })
    result = cli("up", "--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert result.code == 2
    assert f"{directory / '001_a.sql'}:3: syntax error: unterminated /* comment" in result.err
    assert query(db18.dsn, "SELECT to_regclass('public.a')") == [(None,)]


def test_down_steps_beyond_what_is_applied_says_so_and_rolls_back_nothing(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        f"00{n}_t{n}.sql": f"-- UP\nCREATE TABLE t{n} (id int);\n-- DOWN\nDROP TABLE t{n};\n" for n in range(1, 4)
    })
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert cli("up", *args).code == 0
    result = cli("down", "--steps", "10", *args)
    assert result.code == 2
    assert "--steps 10, but only 3 migration(s) are applied; nothing was rolled back" in result.err
    assert "--to 0" in result.err
    assert applied_versions(db18.dsn) == ["001", "002", "003"]


def test_down_after_out_of_order_rolls_back_the_last_applied(cli, db18, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_a.sql": "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n",
        "003_c.sql": "-- UP\nCREATE TABLE c (id int);\n-- DOWN\nDROP TABLE c;\n",
    })
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert cli("up", *args).code == 0
    write_migrations(directory, {"002_b.sql": "-- UP\nCREATE TABLE b (id int);\n-- DOWN\nDROP TABLE b;\n"})
    assert cli("up", "--allow-out-of-order", *args).code == 0
    result = cli("down", *args)
    assert result.code == 0 and "rolling back 002_b ... ok" in result.out
    assert sorted(applied_versions(db18.dsn)) == ["001", "003"]
    assert cli("up", "--allow-out-of-order", *args).code == 0
    redo = cli("redo", *args)
    assert redo.code == 0 and "rolling back 002_b ... ok" in redo.out


def test_the_runners_sessions_keep_tcp_alive_unless_the_dsn_says(system_pg_server, tmp_path):
    from pytest_migrations.runner import Runner

    with system_pg_server.fresh_database() as database:
        with Runner(tmp_path, database.dsn) as runner:
            assert runner.connection().info.get_parameters()["keepalives_idle"] == "60"
        with Runner(tmp_path, f"{database.dsn} keepalives_idle=300") as runner:
            assert runner.connection().info.get_parameters()["keepalives_idle"] == "300"
