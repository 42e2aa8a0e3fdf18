"""The CLI's contract: layouts, `new`, exit codes, JSON, settings precedence, no password ever shown."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone

import pytest
from runner_helpers import EXAMPLES, REPO, applied_versions, query, run_process, tables, write_migrations

from migration_lint.layouts import discover
from pytest_migrations.runner import next_version

LAYOUTS = REPO / "tests" / "data" / "layouts"
LAYOUT_NAMES = sorted(path.name for path in LAYOUTS.iterdir()) if LAYOUTS.exists() else []


@pytest.mark.parametrize("layout", LAYOUT_NAMES)
def test_every_layout_goes_up_down_and_up_and_takes_a_new_migration(cli, db18, tmp_path, layout):
    directory = tmp_path / layout
    shutil.copytree(LAYOUTS / layout, directory)
    migrations = discover(directory)
    args = ("--dir", directory, "--database-url", db18.dsn, "--no-lint")
    assert cli("up", *args).code == 0
    assert len(applied_versions(db18.dsn)) == len(migrations)

    down = cli("down", "--to", "0", *args)
    no_down = [m for m in migrations if m.down is None]
    if no_down:
        assert down.code == 1 and f"{no_down[-1].id} has no DOWN" in down.err
        assert len(applied_versions(db18.dsn)) == len(migrations)
        assert cli("down", "--to", no_down[-1].version.text, *args).code == 0
    else:
        assert down.code == 0, down.err
        assert applied_versions(db18.dsn) == []
    assert cli("up", *args).code == 0

    created = cli("new", "add thing", "--dir", directory)
    assert created.code == 0, created.err
    after = discover(directory)
    newest = after[-1]
    assert len(after) == len(migrations) + 1 and newest.layout == migrations[-1].layout
    assert newest.version > migrations[-1].version and "add" in newest.name and "thing" in newest.name
    assert "SET lock_timeout" in newest.up_sql and newest.down is not None and "SET lock_timeout" in newest.down.sql
    assert cli("up", *args).code == 0
    assert len(applied_versions(db18.dsn)) == len(after)
    assert cli("down", *args).code == 0


@pytest.mark.parametrize(
    "layout, expected",
    [
        ("authelia_style", ["V0005.add_thing.up.sql", "V0005.add_thing.down.sql"]),
        ("flyway", ["V1.2.11__add_thing.sql", "U1.2.11__add_thing.sql"]),
        ("golang_migrate", ["12_add_thing.up.sql", "12_add_thing.down.sql"]),
        ("onefile", ["005_add_thing.sql"]),
        ("goose", ["00004_add_thing.sql"]),
    ],
)
def test_new_follows_the_naming_of_the_newest_file(cli, tmp_path, layout, expected):
    directory = tmp_path / layout
    shutil.copytree(LAYOUTS / layout, directory)
    result = cli("new", "add thing", "--dir", directory)
    assert result.code == 0, result.err
    assert [line.removeprefix("created ").rsplit("/", 1)[-1] for line in result.out.splitlines()] == expected
    if layout == "goose":
        assert (directory / expected[0]).read_text().startswith("-- +goose Up\n")


def test_new_in_an_empty_directory_and_timestamp_versions(cli, tmp_path):
    directory = tmp_path / "empty"
    directory.mkdir()
    assert cli("new", "create users", "--dir", directory).code == 0
    text = (directory / "001_create_users.sql").read_text()
    assert text.startswith("-- UP\nSET lock_timeout = '5s';") and "\n-- DOWN\nSET lock_timeout" in text
    assert cli("new", "create users", "--dir", directory).code == 0  # 002, not a clash
    assert cli("new", "!!!", "--dir", directory).code == 2
    noon = datetime(2030, 1, 2, 12, 0, 0, tzinfo=timezone.utc)
    assert next_version("20240101120000", noon) == "20300102120000"
    assert next_version("2024-01-04-000000", noon) == "2030-01-02-120000"
    assert next_version("20990101000000", noon) == "20990101000001"  # never behind the newest
    assert next_version("0009") == "0010" and next_version("1.2.9") == "1.2.10"


# -- exit codes and messages -------------------------------------------------------------------


def test_exit_codes_for_bad_input(cli, db18, tmp_path):
    dsn = db18.dsn
    assert cli("up").code == 2  # no database anywhere
    assert cli("up", "--steps", "1", "--database-url", dsn).code == 2  # argparse: unknown option
    missing = cli("status", "--dir", tmp_path / "nope", "--database-url", dsn)
    assert missing.code == 2 and "no such directory" in missing.err
    broken = write_migrations(tmp_path / "broken", {"001_a.sql": "-- UP\nCREATE TABLE a (id int);\nCREAT TABLE b;\n"})
    bad_sql = cli("up", "--dir", broken, "--database-url", dsn)
    assert bad_sql.code == 2 and f"{broken / '001_a.sql'}:3: syntax error" in bad_sql.err
    assert cli("up", "--to", "x1", "--dir", EXAMPLES, "--database-url", dsn).code == 2
    assert cli("up", "--to", "999", "--dir", EXAMPLES, "--database-url", dsn).code == 2
    assert cli("down", "--steps", "0", "--dir", EXAMPLES, "--database-url", dsn).code == 2
    assert tables(dsn) == set()
    for result in (missing, bad_sql):
        assert "Traceback" not in result.text and len(result.err.strip().splitlines()) == 1


def test_status_verify_history_and_json(cli, db18):
    dsn = db18.dsn
    args = ("--dir", EXAMPLES, "--database-url", dsn)
    status = cli("status", "--format", "json", *args)
    assert status.code == 0
    document = json.loads(status.out)
    assert {entry["state"] for entry in document["migrations"]} == {"pending"}
    assert cli("verify", *args).code == 1  # pending migrations fail the gate

    up = cli("up", "--format", "json", "--to", "003", "--no-lint", *args)
    document = json.loads(up.out)
    assert up.code == 0 and document["ok"] is True
    assert [(r["id"], r["outcome"]) for r in document["results"]] == [
        ("001_create_users", "applied"), ("002_create_set_updated_at", "applied"), ("003_create_products", "applied")
    ]
    assert all(isinstance(r["duration_ms"], int) for r in document["results"])

    text = cli("up", "--no-lint", *args)
    assert text.code == 0
    assert "applying 004_create_orders ... ok (" in text.out and "applied 16 migration(s) in" in text.out
    assert cli("verify", *args).code == 0
    redo = cli("redo", "--no-lint", *args)
    assert redo.code == 0 and "rolling back 019_set_updated_at_skip_unchanged" in redo.out

    history = json.loads(cli("history", "--format", "json", "--limit", "2", *args).out)["history"]
    assert [(h["version"], h["direction"], h["outcome"]) for h in history] == [
        ("019", "down", "rolled back"), ("019", "up", "applied")
    ]
    assert all(h["run_by"] and h["db_user"] == "postgres" and h["checksum"] for h in history)


def test_settings_precedence_pyproject_environment_command_line(cli, db18, tmp_path, monkeypatch):
    directory = write_migrations(tmp_path / "sql", {"001_a.sql": "-- UP\nCREATE TABLE a (id int);\n"})
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pytest-migrations]\n"
        f"dir = 'sql'\ndatabase_url = '{db18.dsn}'\n"
        "tracking_schema = 'ops'\ntracking_table = 'done'\nhistory_table = 'log'\nlock_timeout = '7s'\n"
    )
    monkeypatch.chdir(tmp_path)
    plan = cli("up", "--dry-run", "--no-lint")
    assert plan.code == 0, plan.err
    assert 'CREATE SCHEMA IF NOT EXISTS "ops"' in plan.out and "SET LOCAL \"lock_timeout\" = '7s'" in plan.out
    assert cli("up", "--no-lint").code == 0
    assert query(db18.dsn, "SELECT version FROM ops.done") == [("001",)]
    assert query(db18.dsn, "SELECT count(*) FROM ops.log") == [(1,)]

    monkeypatch.setenv("MIGRATIONS_DIR", str(tmp_path / "elsewhere"))
    assert cli("status").code == 2  # the environment beats pyproject.toml
    assert cli("status", "--dir", directory).code == 0  # and the command line beats both


def test_a_table_of_the_same_name_that_is_not_ours_is_refused(cli, db18):
    query(db18.dsn, "CREATE TABLE applied_migrations (id int)")
    result = cli("status", "--dir", EXAMPLES, "--database-url", db18.dsn)
    assert result.code == 1
    assert "public.applied_migrations exists but is not a pytest-migrations tracking table" in result.err


# -- secrets -------------------------------------------------------------------------------------


SECRET = "S3cr3t-p@ss"


def test_no_output_ever_shows_the_dsn_password(cli, db18, tmp_path, monkeypatch):
    failing = write_migrations(tmp_path / "m", {
        "001_a.sql": "-- UP\nCREATE TABLE a (id int);\n",
        "002_b.sql": "-- UP\nSELECT * FROM nowhere;\n",
    })
    with_password = f"{db18.dsn} password='{SECRET}'"
    outputs = [
        cli("up", "--dir", failing, "--database-url", with_password, "--no-lint"),
        cli("up", "--format", "json", "--dir", failing, "--database-url", with_password, "--no-lint"),
        cli("status", "--dir", failing, "--database-url", with_password),
        cli("up", "--dry-run", "--dir", failing, "--database-url", with_password, "--no-lint"),
        # Connection failures: the URL form, a refused port, and a host that does not resolve.
        cli("status", "--dir", failing, "--database-url", f"postgresql://postgres:S3cr3t-p%40ss@127.0.0.1:1/x"),
        cli("status", "--dir", failing, "--database-url", f"postgresql://u:{SECRET}@no-such-host.invalid/x?connect_timeout=2"),
        cli("status", "--dir", failing, "--database-url", f"postgresql://u:{SECRET}@[bad"),
    ]
    monkeypatch.setenv("MIGRATIONS_DATABASE_URL", f"postgresql://postgres:{SECRET}@127.0.0.1:1/x")
    outputs.append(cli("up", "--dir", failing))
    process = run_process("up", "--dir", failing, "--no-lint", env={"MIGRATIONS_DATABASE_URL": with_password})
    assert outputs[0].code == 1 and "nowhere" in outputs[0].err
    assert "applying 001_a ... ok" in outputs[0].out and "applying 002_b ... FAILED" in outputs[0].out
    failed_json = json.loads(outputs[1].out)
    assert failed_json["ok"] is False and failed_json["results"] == []  # 001 was applied by the run before
    assert failed_json["errors"] == [f'{failing / "002_b.sql"}:2: relation "nowhere" does not exist (SQLSTATE 42P01)']
    assert outputs[4].code == 1 and "cannot connect" in outputs[4].err and "***" in outputs[4].err
    for result in outputs:
        for form in (SECRET, "S3cr3t-p%40ss", "S3cr3t"):
            assert form not in result.text
    assert process.returncode == 1 and "S3cr3t" not in process.stdout + process.stderr
    assert "nowhere" in process.stderr
