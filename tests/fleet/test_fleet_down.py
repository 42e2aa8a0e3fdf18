"""``migrations down --fleet`` and a preflight that fails on some targets under ``--continue-on-error``."""

from __future__ import annotations

import json

from fleet_helpers import applied, query, write_migrations

MIGRATIONS = {
    "001_accounts.sql": "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n"
                        "-- DOWN\nDROP TABLE accounts;\n",
    "002_email_index.sql": "-- UP\nCREATE INDEX accounts_email ON accounts (email);\n"
                           "-- DOWN\nDROP INDEX accounts_email;\n",
}


def fleet_of(tmp_path, dsn: str, *names: str):
    for name in names:
        query(dsn, f'CREATE SCHEMA "{name}"')
    path = tmp_path / "targets.txt"
    path.write_text("".join(f"{dsn} {name}\n" for name in names), encoding="utf-8")
    return path


def test_down_rolls_the_fleet_back_one_version_with_the_same_preflight_and_dry_run(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    dsn = databases[0].dsn
    targets = fleet_of(tmp_path, dsn, "a", "b", "c")
    assert cli("up", "--dir", directory, "--fleet", targets, "--no-lint").code == 0

    dry = cli("down", "--dir", directory, "--fleet", targets, "--dry-run", "--format", "json")
    assert dry.code == 0, dry.text
    document = json.loads(dry.out)
    assert document["action"] == {"command": "down", "to": "001", "steps": None}
    assert [t["pending"] for t in document["preflight"]["targets"]] == [["002_email_index"]] * 3
    assert all(applied(dsn, schema) == ["001", "002"] for schema in "abc")

    result = cli("down", "--dir", directory, "--fleet", targets, "--jobs", "4", "--canary", "1")
    assert result.code == 0, result.text
    assert "3 target(s) would roll back 1: 002_email_index" in result.out
    assert "rolling back to version 001 (after an interruption, run again with --to 001)" in result.out
    assert "wave 1 (canary): 1 target(s)" in result.out
    assert "fleet: 3 rolled back" in result.out
    for schema in "abc":
        assert applied(dsn, schema) == ["001"]
        assert query(dsn, "SELECT to_regclass(%s)", f"{schema}.accounts_email") == [(None,)]
    status = json.loads(cli("status", "--dir", directory, "--fleet", targets, "--format", "json").out)
    assert [(t["version"], t["pending"]) for t in status["targets"]] == [("001", 1)] * 3


def test_down_refuses_a_missing_down_and_targets_at_different_versions_before_writing(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    dsn = databases[0].dsn
    targets = fleet_of(tmp_path, dsn, "a", "b", "c")
    assert cli("up", "--dir", directory, "--fleet", targets, "--no-lint").code == 0
    query(dsn, "DROP INDEX c.accounts_email")
    query(dsn, "DELETE FROM c.applied_migrations WHERE version = '002'")  # c is one version behind

    mixed = cli("down", "--dir", directory, "--fleet", targets)
    assert mixed.code == 1
    assert "targets.txt:3: " in mixed.err
    assert "at version 001 while 2 other target(s) are at 002: --steps 1 would leave the fleet at different" \
           " versions; give --to VERSION" in mixed.err
    assert "no target was written" in mixed.out
    assert [applied(dsn, schema) for schema in "abc"] == [["001", "002"], ["001", "002"], ["001"]]

    # --to names where every target ends: c has nothing to roll back.
    to = cli("down", "--dir", directory, "--fleet", targets, "--to", "001")
    assert to.code == 0, to.text
    assert "fleet: 2 rolled back, 1 nothing to roll back" in to.out
    assert [applied(dsn, schema) for schema in "abc"] == [["001"]] * 3

    (directory / "001_accounts.sql").write_text("-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n")
    no_down = cli("down", "--dir", directory, "--fleet", targets, "--to", "0")
    assert no_down.code == 1
    assert no_down.err.count("has no DOWN") == 3 and "no target was written" in no_down.out
    assert [applied(dsn, schema) for schema in "abc"] == [["001"]] * 3


def test_a_down_cut_short_is_finished_by_the_same_command_with_to(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    dsn = databases[0].dsn
    targets = fleet_of(tmp_path, dsn, "a", "b", "c")
    assert cli("up", "--dir", directory, "--fleet", targets, "--no-lint").code == 0
    # A view on b's table makes its DROP TABLE fail during the apply, which no preflight can see.
    query(dsn, "CREATE VIEW b.emails AS SELECT email FROM b.accounts")

    first = cli("down", "--dir", directory, "--fleet", targets, "--to", "0", "--continue-on-error", "--jobs", "2")
    assert first.code == 1
    assert "targets.txt:2: " in first.err and "cannot drop table accounts because other objects depend on it" in first.err
    assert applied(dsn, "a") == [] and applied(dsn, "c") == []
    assert applied(dsn, "b") == ["001"]  # 002 rolled back; 001's DOWN failed and rolled back whole

    query(dsn, "DROP VIEW b.emails")
    again = cli("down", "--dir", directory, "--fleet", targets, "--to", "0")
    assert again.code == 0, again.text
    assert "fleet: 2 nothing to roll back, 1 rolled back" in again.out
    assert [applied(dsn, schema) for schema in "abc"] == [[], [], []]


def test_continue_on_error_skips_the_targets_that_fail_the_preflight_and_migrates_the_others(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {"001_accounts.sql": MIGRATIONS["001_accounts.sql"]})
    dsn = databases[0].dsn
    targets = fleet_of(tmp_path, dsn, "a", "nulls", "c")
    assert cli("up", "--dir", directory, "--fleet", targets, "--no-lint").code == 0
    query(dsn, "INSERT INTO nulls.accounts VALUES (1, NULL)")
    write_migrations(directory, {"002_email_required.sql": "-- UP\nALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"})

    refused = cli("up", "--dir", directory, "--fleet", targets, "--no-lint")
    assert refused.code == 1 and "no target was written" in refused.out
    assert [applied(dsn, schema) for schema in ("a", "nulls", "c")] == [["001"]] * 3

    dry = cli("up", "--dir", directory, "--fleet", targets, "--no-lint", "--continue-on-error", "--dry-run")
    assert dry.code == 1 and "2 target(s) go ahead" in dry.out
    assert [applied(dsn, schema) for schema in ("a", "nulls", "c")] == [["001"]] * 3

    result = cli("up", "--dir", directory, "--fleet", targets, "--no-lint", "--continue-on-error")
    assert result.code == 1
    assert "targets.txt:2: " in result.err and "SET NOT NULL on accounts.email: 1 row(s) hold NULL" in result.err
    assert "preflight failed on 1 target(s): skipped (--continue-on-error); 2 target(s) go ahead" in result.out
    assert "targets.txt:2: " in result.err and "nulls: skipped: failed its preflight" in result.err
    assert "fleet: 2 applied, 1 skipped in " in result.out
    assert [applied(dsn, schema) for schema in ("a", "nulls", "c")] == [["001", "002"], ["001"], ["001", "002"]]

    # A fleet-wide failure (lint) still stops every target.
    write_migrations(directory, {"003_index.sql": "-- UP\nCREATE INDEX accounts_email ON accounts (email);\n"})
    linted = cli("up", "--dir", directory, "--fleet", targets, "--continue-on-error")
    assert linted.code == 1 and "lint: " in linted.err and "no target was written" in linted.out
    assert applied(dsn, "a") == ["001", "002"]


def test_up_to_a_version_stops_every_target_there(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{db.dsn}\n" for db in databases[:2]))
    result = cli("up", "--dir", directory, "--fleet", targets, "--no-lint", "--to", "001")
    assert result.code == 0, result.text
    assert "2 target(s) would apply 1: 001_accounts" in result.out
    assert [applied(db.dsn) for db in databases[:2]] == [["001"], ["001"]]
    assert "fleet: 2 up to date in " in cli("up", "--dir", directory, "--fleet", targets, "--no-lint", "--to", "001").out
    unknown = cli("up", "--dir", directory, "--fleet", targets, "--no-lint", "--to", "009")
    assert unknown.code == 2 and unknown.err.count("no migration with version 009") == 1, unknown.text
