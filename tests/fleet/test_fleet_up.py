"""``migrations up --fleet`` and ``status --fleet`` on real databases and schemas (embedded PostgreSQL 18)."""

from __future__ import annotations

import json
import threading
import time

import psycopg
from fleet_helpers import applied, query, write_migrations

from pytest_migrations.runner import lock_key

ACCOUNTS = {
    "001_accounts.sql": "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n"
                        "-- DOWN\nDROP TABLE accounts;\n",
}
EMAIL_RULES = {
    "002_email_rules.sql": (
        "-- UP\n"
        "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"
        "CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));\n"
        "-- DOWN\nDROP INDEX accounts_email;\nALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n"
    ),
}


def targets_file(tmp_path, lines: list[str]):
    path = tmp_path / "targets.txt"
    path.write_text("# the fleet\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def schemas(dsn: str, *names: str) -> list[str]:
    for name in names:
        query(dsn, f'CREATE SCHEMA "{name}"')
    return [f"{dsn} {name}" for name in names]


def test_schemas_and_databases_are_migrated_each_with_its_own_tracking_tables(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {**ACCOUNTS, **EMAIL_RULES})
    shared, *own = databases
    lines = schemas(shared.dsn, "tenant_a", "tenant_b") + [db.dsn for db in own]
    targets = targets_file(tmp_path, lines)

    result = cli("up", "--dir", directory, "--fleet", targets, "--jobs", "4", "--no-lint")
    assert result.code == 0, result.text
    assert "fleet: 4 applied" in result.out
    for schema in ("tenant_a", "tenant_b"):
        assert applied(shared.dsn, schema) == ["001", "002"]
        # The migration's unqualified names landed in the tenant's schema.
        assert query(shared.dsn, "SELECT to_regclass(%s) IS NOT NULL", f"{schema}.accounts") == [(True,)]
    assert applied(shared.dsn) == []  # nothing in public of the shared database
    for db in own:
        assert applied(db.dsn) == ["001", "002"]

    status = cli("status", "--dir", directory, "--fleet", targets, "--format", "json")
    assert status.code == 0, status.text
    document = json.loads(status.out)
    assert [(t["schema"], t["version"], t["pending"], t["dirty"]) for t in document["targets"]] == [
        ("tenant_a", "002", 0, []), ("tenant_b", "002", 0, []), (None, "002", 0, []), (None, "002", 0, []),
    ]
    again = cli("up", "--dir", directory, "--fleet", targets, "--no-lint")
    assert again.code == 0 and "fleet: 4 up to date" in again.out


def test_a_tenant_whose_rows_break_a_migration_stops_the_fleet_before_any_target_is_written(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", ACCOUNTS)
    shared, other, _ = databases
    lines = schemas(shared.dsn, "clean", "nulls", "dupes") + [other.dsn]
    targets = targets_file(tmp_path, lines)
    assert cli("up", "--dir", directory, "--fleet", targets, "--no-lint").code == 0
    query(shared.dsn, "INSERT INTO clean.accounts VALUES (1, 'a@x'), (2, 'b@x')")
    query(shared.dsn, "INSERT INTO nulls.accounts VALUES (1, 'a@x'), (2, NULL)")
    query(shared.dsn, "INSERT INTO dupes.accounts VALUES (1, 'A@x'), (2, 'a@X')")  # equal under lower()
    write_migrations(directory, EMAIL_RULES)

    result = cli("up", "--dir", directory, "--fleet", targets, "--no-lint")
    assert result.code == 1
    assert "targets.txt:3: " in result.err and "nulls: " in result.err
    assert "002_email_rules.sql:2: SET NOT NULL on accounts.email: 1 row(s) hold NULL" in result.err
    assert "targets.txt:4: " in result.err
    assert "002_email_rules.sql:3: unique index accounts_email on accounts: 1 value(s) appear more than once" in result.err
    assert "no target was written" in result.out
    for schema in ("clean", "nulls", "dupes"):
        assert applied(shared.dsn, schema) == ["001"]
    assert applied(other.dsn) == ["001"]

    # Fixed by hand in the tenants' data, the fleet goes through.
    query(shared.dsn, "UPDATE nulls.accounts SET email = 'n@x' WHERE email IS NULL")
    query(shared.dsn, "DELETE FROM dupes.accounts WHERE id = 2")
    fixed = cli("up", "--dir", directory, "--fleet", targets, "--no-lint")
    assert fixed.code == 0, fixed.text
    for schema in ("clean", "nulls", "dupes"):
        assert applied(shared.dsn, schema) == ["001", "002"]


def test_a_backfill_before_set_not_null_is_not_flagged_and_check_and_foreign_keys_are(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        **ACCOUNTS,
        "002_orgs.sql": "-- UP\nCREATE TABLE orgs (id bigint PRIMARY KEY);\nALTER TABLE accounts ADD COLUMN org_id bigint;\n",
    })
    db = databases[0]
    targets = targets_file(tmp_path, [db.dsn])
    assert cli("up", "--dir", directory, "--fleet", targets, "--no-lint").code == 0
    query(db.dsn, "INSERT INTO orgs VALUES (1); INSERT INTO accounts VALUES (1, NULL, 1), (-2, NULL, 7)")
    write_migrations(directory, {
        "003_rules.sql": (
            "-- UP\n"
            "UPDATE accounts SET email = 'unknown' WHERE email IS NULL;\n"
            "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"
            "ALTER TABLE accounts ADD CONSTRAINT positive CHECK (id > 0);\n"
            "ALTER TABLE accounts ADD CONSTRAINT org FOREIGN KEY (org_id) REFERENCES orgs (id);\n"
        ),
    })
    result = cli("up", "--dir", directory, "--fleet", targets, "--no-lint")
    assert result.code == 1
    assert "hold NULL" not in result.err  # the backfill just before it fills the NULLs
    assert "not checked (an earlier pending statement writes accounts.email)" in result.err
    assert "003_rules.sql:4: CHECK constraint positive on accounts: 1 row(s) break it" in result.err
    assert "003_rules.sql:5: FOREIGN KEY constraint org on accounts: 1 row(s) reference no row of orgs" in result.err
    assert applied(db.dsn) == ["001", "002"]


def test_connections_never_exceed_jobs(cli, databases, tmp_path, open_connections):
    slow = {"001_slow.sql": "-- UP\nCREATE TABLE t (id int);\nSELECT pg_sleep(0.4);\n-- DOWN\nDROP TABLE t;\n"}
    directory = write_migrations(tmp_path / "m", slow)
    shared, *own = databases
    lines = schemas(shared.dsn, *[f"s{n}" for n in range(6)]) + [db.dsn for db in own]
    targets = targets_file(tmp_path, lines)
    names = [db.name for db in databases]
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        with psycopg.Connection.connect(shared.dsn, autocommit=True) as conn:  # not counted below
            while not done.is_set():
                (count,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pytest-migrations'"
                    " AND datname = ANY(%s)", (names,),
                ).fetchone()
                peak = max(peak, count)
                time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = cli("up", "--dir", directory, "--fleet", targets, "--jobs", "4", "--no-lint")
    finally:
        done.set()
        sampler.join()
    assert result.code == 0, result.text
    assert "fleet: 8 applied" in result.out
    # Two targets at once, each with its lock's connection and its working one: four, never five.
    assert open_connections.peak == 4
    # The server saw them at once. (Its count can exceed the process's for a moment: a backend
    # outlives its client's close by the time it takes to exit.)
    assert peak >= 4


def test_the_first_failure_stops_the_wave_unless_asked_to_continue(cli, databases, tmp_path):
    # A failure no preflight can see: the division runs only when the migration does.
    directory = write_migrations(tmp_path / "m", {
        "001_ratio.sql": "-- UP\nCREATE TABLE settings (n int);\nINSERT INTO settings SELECT 1 / (SELECT count(*) FROM marker)::int;\n",
    })
    shared = databases[0]
    lines = schemas(shared.dsn, "a", "broken", "c", "d")
    for schema in ("a", "c", "d"):
        query(shared.dsn, f"CREATE TABLE {schema}.marker (id int); INSERT INTO {schema}.marker VALUES (1)")
    query(shared.dsn, "CREATE TABLE broken.marker (id int)")
    targets = targets_file(tmp_path, lines)

    stopped = cli("up", "--dir", directory, "--fleet", targets, "--jobs", "2", "--no-lint")
    assert stopped.code == 1
    assert "targets.txt:3: " in stopped.err and "division by zero" in stopped.err
    assert "fleet: 1 applied, 1 failed, 2 not started" in stopped.out
    assert [applied(shared.dsn, s) for s in ("a", "broken", "c", "d")] == [["001"], [], [], []]

    went_on = cli("up", "--dir", directory, "--fleet", targets, "--jobs", "2", "--no-lint", "--continue-on-error")
    assert went_on.code == 1
    assert [applied(shared.dsn, s) for s in ("a", "broken", "c", "d")] == [["001"], [], ["001"], ["001"]]


def test_the_lock_of_one_schema_does_not_block_another(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", ACCOUNTS)
    shared = databases[0]
    targets = targets_file(tmp_path, schemas(shared.dsn, "busy", "free"))
    with psycopg.connect(shared.dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key("busy", "applied_migrations"),))
        result = cli("up", "--dir", directory, "--fleet", targets, "--no-lint", "--lock-wait", "1",
                     "--continue-on-error")
    assert result.code == 1
    assert "busy: another runner still holds the migration lock" in result.err
    assert applied(shared.dsn, "free") == ["001"]
    assert applied(shared.dsn, "busy") == []


def test_dry_run_writes_nothing_and_passwords_are_never_printed(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", ACCOUNTS)
    db = databases[0]
    unreachable = "postgresql://deploy:Sup3rSecretPw@127.0.0.1:1/shop"
    targets = targets_file(tmp_path, [db.dsn, unreachable])
    dry = cli("up", "--dir", directory, "--fleet", targets, "--dry-run", "--no-lint")
    assert dry.code == 1
    assert "targets.txt:3: 127.0.0.1:1/shop: cannot connect" in dry.err
    assert "Sup3rSecretPw" not in dry.text
    assert query(db.dsn, "SELECT to_regclass('public.applied_migrations')") == [(None,)]

    status = cli("status", "--dir", directory, "--fleet", targets)
    assert status.code == 1 and "unreachable" in status.out and "Sup3rSecretPw" not in status.text

    ok = targets_file(tmp_path, [db.dsn])
    dry_ok = cli("up", "--dir", directory, "--fleet", ok, "--dry-run", "--no-lint")
    assert dry_ok.code == 0 and "dry run: nothing was changed" in dry_ok.out
    assert "1 target(s) would apply 1: 001_accounts" in dry_ok.out
    assert query(db.dsn, "SELECT to_regclass('public.applied_migrations')") == [(None,)]


def test_jobs_below_two_is_a_usage_error(cli, tmp_path):
    targets = targets_file(tmp_path, ["postgresql://app@127.0.0.1:1/shop"])
    result = cli("up", "--dir", tmp_path, "--fleet", targets, "--jobs", "1")
    assert result.code == 2 and "--jobs must be at least 2" in result.err


def test_a_failed_canary_wave_stops_the_run_even_with_continue_on_error(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        "001_ratio.sql": "-- UP\nCREATE TABLE settings (n int);\nINSERT INTO settings SELECT 1 / (SELECT count(*) FROM marker)::int;\n",
    })
    shared = databases[0]
    lines = schemas(shared.dsn, "canary_ok", "canary_broken", "rest_1", "rest_2")
    for schema in ("canary_ok", "rest_1", "rest_2"):
        query(shared.dsn, f"CREATE TABLE {schema}.marker (id int); INSERT INTO {schema}.marker VALUES (1)")
    query(shared.dsn, "CREATE TABLE canary_broken.marker (id int)")
    targets = targets_file(tmp_path, lines)

    result = cli("up", "--dir", directory, "--fleet", targets, "--canary", "2", "--continue-on-error", "--no-lint")
    assert result.code == 1
    assert "wave 1 (canary): 2 target(s)" in result.out and "wave 2" not in result.out
    assert [applied(shared.dsn, s) for s in ("canary_ok", "canary_broken", "rest_1", "rest_2")] == [["001"], [], [], []]

    query(shared.dsn, "INSERT INTO canary_broken.marker VALUES (1)")
    fixed = cli("up", "--dir", directory, "--fleet", targets, "--canary", "2", "--no-lint")
    assert fixed.code == 0, fixed.text
    assert "wave 2 (the rest): 2 target(s)" in fixed.out
    assert all(applied(shared.dsn, s) == ["001"] for s in ("canary_broken", "rest_1", "rest_2"))


def test_toml_groups_are_the_waves(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", ACCOUNTS)
    shared, other, _ = databases
    schemas(shared.dsn, "first", "second")
    path = tmp_path / "fleet.toml"
    path.write_text(
        f'[[target]]\nname = "other"\ndsn = "{other.dsn}"\ngroup = "later"\n\n'
        f'[[target]]\nname = "first"\ndsn = "{shared.dsn}"\nschema = "first"\ngroup = "canary"\n\n'
        f'[[target]]\nname = "second"\ndsn = "{shared.dsn}"\nschema = "second"\ngroup = "later"\n',
        encoding="utf-8",
    )
    result = cli("up", "--dir", directory, "--fleet", path, "--no-lint")
    assert result.code == 0, result.text
    out = result.out
    assert out.index("wave 1 (later): 2 target(s)") < out.index("other: applied") < out.index("wave 2 (canary)")
    assert out.index("wave 2 (canary): 1 target(s)") < out.index("first: applied")
    assert applied(other.dsn) == ["001"] and applied(shared.dsn, "first") == ["001"]
    refused = cli("up", "--dir", directory, "--fleet", path, "--canary", "1")
    assert refused.code == 2 and "its targets have groups" in refused.err


def test_a_migration_that_does_not_parse_is_reported_once_with_exit_2(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {"001_bad.sql": "-- UP\nCREATE TABLE (;\n"})
    targets = targets_file(tmp_path, [db.dsn for db in databases])
    result = cli("up", "--dir", directory, "--fleet", targets, "--no-lint")
    assert result.code == 2
    assert result.err.count("001_bad.sql:2: syntax error") == 1
    assert all(applied(db.dsn) == [] for db in databases)


def test_a_dirty_target_shows_in_status_and_refuses_the_next_run_everywhere(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {
        **ACCOUNTS,
        "002_index.sql": "-- no-transaction\n-- UP\nCREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);\n"
                         "VACUUM missing_table;\n",
    })
    shared = databases[0]
    targets = targets_file(tmp_path, schemas(shared.dsn, "a", "b"))
    query(shared.dsn, "CREATE TABLE b.missing_table (id int)")  # b's 002 succeeds; a's fails after the index

    first = cli("up", "--dir", directory, "--fleet", targets, "--no-lint", "--continue-on-error")
    assert first.code == 1
    status = cli("status", "--dir", directory, "--fleet", targets, "--format", "json")
    assert status.code == 1
    by_schema = {t["schema"]: t for t in json.loads(status.out)["targets"]}
    assert by_schema["a"]["version"] == "001" and by_schema["a"]["dirty"][0].startswith("002_index: up failed at ")
    assert by_schema["b"]["version"] == "002" and by_schema["b"]["dirty"] == []
    text = cli("status", "--dir", directory, "--fleet", targets)
    assert "dirty" in text.out.splitlines()[1] and text.out.splitlines()[2].endswith("ok")

    write_migrations(directory, {"003_more.sql": "-- UP\nALTER TABLE accounts ADD COLUMN note text;\n"})
    refused = cli("up", "--dir", directory, "--fleet", targets, "--no-lint")
    assert refused.code == 1
    assert "targets.txt:2: " in refused.err and "migration 002_index is dirty" in refused.err
    assert applied(shared.dsn, "b") == ["001", "002"]  # b was not written either


def test_fleet_options_without_fleet_are_usage_errors(cli, tmp_path):
    result = cli("up", "--dir", tmp_path, "--database-url", "postgresql://app@127.0.0.1:1/shop", "--jobs", "4")
    assert result.code == 2 and "--jobs works only with --fleet TARGETS" in result.err


def test_a_not_null_column_without_a_default_is_caught_on_the_tenant_that_has_rows(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", ACCOUNTS)
    shared = databases[0]
    targets = targets_file(tmp_path, schemas(shared.dsn, "empty", "busy"))
    assert cli("up", "--dir", directory, "--fleet", targets, "--no-lint").code == 0
    query(shared.dsn, "INSERT INTO busy.accounts VALUES (1, 'a@x')")
    write_migrations(directory, {"002_plan.sql": "-- UP\nALTER TABLE accounts ADD COLUMN plan text NOT NULL;\n"})
    result = cli("up", "--dir", directory, "--fleet", targets, "--no-lint")
    assert result.code == 1
    assert result.err.count("error:") == 1
    assert "targets.txt:3: " in result.err
    assert "002_plan.sql:2: ADD COLUMN plan NOT NULL without a default on accounts: 1 existing row(s) would hold NULL" in result.err
    assert applied(shared.dsn, "empty") == ["001"]
