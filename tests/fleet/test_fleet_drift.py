"""``verify --fleet`` and ``status --fleet --drift``: each target's catalog against the schema of its version."""

from __future__ import annotations

import json

from fleet_helpers import query, write_migrations

MIGRATIONS = {
    "001_accounts.sql": "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n"
                        "-- DOWN\nDROP TABLE accounts;\n",
    "002_email_index.sql": "-- UP\nCREATE INDEX accounts_email ON accounts (email);\n"
                           "ALTER TABLE accounts ADD CONSTRAINT email_shape CHECK (email LIKE '%@%');\n"
                           "-- DOWN\nALTER TABLE accounts DROP CONSTRAINT email_shape;\nDROP INDEX accounts_email;\n",
}


def test_drift_lists_what_each_target_has_that_its_version_should_not_and_the_reverse(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    shared, own, behind = databases
    for name in ("clean", "Hand_Edited"):
        query(shared.dsn, f'CREATE SCHEMA "{name}"')
    path = tmp_path / "targets.txt"
    # The shared database is a target too: compared without its tenants' schemas.
    path.write_text(f"{shared.dsn} clean\n{shared.dsn} Hand_Edited\n{own.dsn}\n{behind.dsn}\n{shared.dsn}\n")
    assert cli("up", "--dir", directory, "--fleet", path, "--no-lint").code == 0
    assert cli("down", "--dir", directory, "--database-url", behind.dsn).code == 0  # behind is at 001

    clean = cli("verify", "--dir", directory, "--fleet", path, "--format", "json")
    assert clean.code == 1, clean.text  # behind has a pending migration, which verify refuses
    document = json.loads(clean.out)
    assert [(t["version"], t["pending"], t["drift"]["differences"]) for t in document["targets"]] == [
        ("002", 0, []), ("002", 0, []), ("002", 0, []), ("001", 1, []), ("002", 0, []),
    ]
    assert "002_email_index.sql: migration 002_email_index is pending" in document["targets"][3]["problems"][0]

    # Hands on the catalog: an index dropped, a column added, a constraint changed.
    query(shared.dsn, 'DROP INDEX "Hand_Edited".accounts_email')
    query(shared.dsn, 'ALTER TABLE "Hand_Edited".accounts ADD COLUMN note text')
    query(own.dsn, "ALTER TABLE accounts DROP CONSTRAINT email_shape,"
                   " ADD CONSTRAINT email_shape CHECK (email LIKE '%@%.%')")
    query(behind.dsn, "CREATE INDEX accounts_email ON accounts (email)")  # 002's index, without 002

    result = cli("verify", "--dir", directory, "--fleet", path)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0].split() == ["line", "target", "version", "pending", "problems", "drift"]
    assert lines[1].split()[-2:] == ["0", "none"]  # clean
    assert lines[2].split()[-3:] == ["0", "2", "difference(s)"]
    out = result.out
    assert 'targets.txt:2: ' in out and 'Hand_Edited: drift: index "Hand_Edited".accounts_email: missing (was: CREATE' in out
    assert 'Hand_Edited: drift: column "Hand_Edited".accounts.note: unexpected (not in the schema of its version)' in out
    assert "targets.txt:3: " in out and "drift: constraint accounts.email_shape: definition CHECK ((email ~~ '%@%'::text))" \
        " -> CHECK ((email ~~ '%@%.%'::text))" in out
    assert "targets.txt:4: " in out and "drift: index accounts_email: unexpected (not in the schema of its version)" in out
    assert "clean: drift" not in out
    assert "verify --fleet failed on 3 of 5 target(s) (3 drifted)" in out

    status = cli("status", "--dir", directory, "--fleet", path, "--drift", "--format", "json")
    assert status.code == 1
    drift = [t["drift"] for t in json.loads(status.out)["targets"]]
    assert [len(d["differences"]) for d in drift] == [0, 2, 1, 1, 0]
    column, index = drift[1]["differences"]  # in the order of object types
    assert column["kind"] == "unexpected" and column["found"] == {"type": "text", "not_null": False}
    assert index == {
        "kind": "missing", "object_type": "index", "name": '"Hand_Edited".accounts_email', "attribute": None,
        "expected": index["expected"], "found": None,
        "text": 'index "Hand_Edited".accounts_email: missing (was: CREATE INDEX accounts_email ON "Hand_Edited".accounts'
                ' USING btree (email))',
    }
    assert index["expected"]["definition"] == 'CREATE INDEX accounts_email ON "Hand_Edited".accounts USING btree (email)'
    plain = cli("status", "--dir", directory, "--fleet", path)
    assert "drift" not in plain.out  # only when asked: it builds the expected schema


def test_a_target_whose_records_are_dirty_is_not_compared_and_says_why(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    db = databases[0]
    path = tmp_path / "targets.txt"
    path.write_text(f"{db.dsn}\n")
    assert cli("up", "--dir", directory, "--fleet", path, "--no-lint").code == 0
    query(db.dsn, "UPDATE applied_migrations SET dirty = true WHERE version = '002'")
    result = cli("verify", "--dir", directory, "--fleet", path)
    assert result.code == 1
    assert "drift not compared: 002_email_index is dirty: its records do not say which schema it should have" in result.out
    assert "not compared" in result.out.splitlines()[1]


def test_fleet_only_options_need_fleet(cli, tmp_path):
    result = cli("status", "--dir", tmp_path, "--database-url", "postgresql://u@h/d", "--drift")
    assert result.code == 2 and "--drift works only with --fleet" in result.err


def test_the_expected_schema_is_built_on_the_scratch_server_given(cli, system_pg_server, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    name = system_pg_server.create_database()
    dsn = system_pg_server.dsn(name)
    try:
        query(dsn, "CREATE SCHEMA tenant")
        path = tmp_path / "targets.txt"
        path.write_text(f"{dsn} tenant\n")
        assert cli("up", "--dir", directory, "--fleet", path, "--no-lint").code == 0
        same = cli("verify", "--dir", directory, "--fleet", path, "--scratch-url", system_pg_server.dsn("postgres"))
        assert same.code == 0, same.text
        assert "verify --fleet ok: 1 target(s) match their files and the schema of their version" in same.out
        assert "note:" not in same.err
        other = cli("verify", "--dir", directory, "--fleet", path)  # the embedded server, another major version
        assert f"some targets run {system_pg_server.major}" in other.err
    finally:
        system_pg_server.drop_database(name)


def test_a_chain_that_does_not_build_on_an_empty_database_is_one_line(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {"001_extend.sql": "-- UP\nALTER TABLE legacy ADD COLUMN note text;\n"})
    db = databases[0]
    query(db.dsn, "CREATE TABLE legacy (id int)")  # made by hand before the first migration
    path = tmp_path / "targets.txt"
    path.write_text(f"{db.dsn}\n")
    assert cli("up", "--dir", directory, "--fleet", path, "--no-lint").code == 0
    result = cli("verify", "--dir", directory, "--fleet", path)
    assert result.code == 1
    assert result.err.startswith("error: cannot build the expected schema of version 001 on a throwaway database: ")
    assert 'relation "legacy" does not exist' in result.err and len(result.err.splitlines()) == 1
