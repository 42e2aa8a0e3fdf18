"""A database its own tool migrated: the runner reads that tool's tracking table with the tool's
version identity, shows what it applied as applied, and copies it into its own table on the next
run. The tables are made as each tool makes them (or by the real dbmate)."""

from __future__ import annotations

import json
from pathlib import Path

from runner_helpers import query, tables, write_migrations

GOOSE_TABLE = (  # goose's dialectquery Postgres.CreateTable, and the row it writes at once
    "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL,"
    " tstamp timestamp NULL default now(), PRIMARY KEY(id));"
    " INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true)"
)
GORP_TABLE = "CREATE TABLE gorp_migrations (id text NOT NULL PRIMARY KEY, applied_at timestamp with time zone)"


def entries(cli, args) -> dict[str, tuple[str, str | None]]:
    result = cli("status", *args, "--format", "json")
    return {e["version"]: (e["state"], e["detail"]) for e in json.loads(result.out)["migrations"]}


def states(cli, args) -> dict[str, str]:
    return {version: state for version, (state, _) in entries(cli, args).items()}


def goose(up: str, down: str) -> str:
    return f"-- +goose Up\n{up}\n-- +goose Down\n{down}\n"


def test_a_goose_database_shows_applied_and_is_adopted(tmp_path: Path, cli, db18) -> None:
    directory = write_migrations(tmp_path / "sql", {
        "00001_a.sql": goose("CREATE TABLE a (id int);", "DROP TABLE a;"),
        "00002_backfill.go": "package migrations\n",  # a Go migration goose ran; not SQL
        "00003_c.sql": goose("CREATE TABLE c (id int);", "DROP TABLE c;"),
        "00004_d.sql": goose("CREATE TABLE d (id int);", "DROP TABLE d;"),
    })  # fmt: skip
    dsn = db18.dsn
    query(dsn, GOOSE_TABLE)
    query(dsn, "CREATE TABLE a (id int); CREATE TABLE c (id int)")
    # 4 applied, then rolled back by an older goose, which appended is_applied = false.
    query(dsn, "INSERT INTO goose_db_version (version_id, is_applied) VALUES (1, true), (2, true), (3, true),"
               " (4, true), (4, false)")
    args = ("--dir", directory, "--database-url", dsn)

    found = entries(cli, args)
    assert {v: s for v, (s, _) in found.items()} == {"00001": "applied", "00003": "applied", "00004": "pending"}
    assert found["00001"][1] == "applied by goose (public.goose_db_version): the next run records it"
    assert cli("status", *args).code == 0
    assert "applied_migrations" not in tables(dsn)  # status writes nothing

    dry = cli("up", "--no-lint", *args, "--dry-run")
    assert "-- record what the directory's own tool applied" in dry.out and "'00003'" in dry.out
    assert cli("up", "--no-lint", *args).code == 0
    assert query(dsn, "SELECT version, direction, outcome FROM public.migration_history ORDER BY id") == [
        ("00001", "adopt", "adopted"), ("00003", "adopt", "adopted"), ("00004", "up", "applied"),
    ]
    assert "d" in tables(dsn) and set(states(cli, args).values()) == {"applied"}
    assert query(dsn, "SELECT count(*) FROM goose_db_version") == [(6,)]  # the tool's table untouched

    # A rollback by the runner holds, whatever goose's table still says.
    assert cli("down", "--no-lint", *args, "--steps", "2").code == 0
    assert states(cli, args) == {"00001": "applied", "00003": "pending", "00004": "pending"}
    assert "c" not in tables(dsn)


def test_a_sql_migrate_database_identifies_migrations_by_file_name(tmp_path: Path, cli, db18) -> None:
    sections = "-- +migrate Up\nCREATE TABLE {0} (id int);\n-- +migrate Down\nDROP TABLE {0};\n"
    directory = write_migrations(tmp_path / "sql", {
        "1_a.sql": sections.format("a"), "2-b.sql": sections.format("b"), "10_c.sql": sections.format("c"),
    })  # fmt: skip
    dsn = db18.dsn
    query(dsn, GORP_TABLE)
    query(dsn, "CREATE TABLE a (id int); CREATE TABLE b (id int)")
    query(dsn, "INSERT INTO gorp_migrations VALUES ('1_a.sql', now()), ('2-b.sql', now())")
    args = ("--dir", directory, "--database-url", dsn)
    assert states(cli, args) == {"1_a": "applied", "2-b": "applied", "10_c": "pending"}
    verify = cli("verify", *args)
    assert verify.code == 1 and "10_c.sql: migration 10_c is pending" in verify.out
    assert "missing" not in verify.out and "1_a" not in verify.out
    assert cli("up", "--no-lint", *args).code == 0
    assert query(dsn, "SELECT version, outcome FROM public.migration_history ORDER BY id") == [
        ("1_a", "adopted"), ("2-b", "adopted"), ("10_c", "applied"),
    ]
    assert cli("verify", *args).code == 0


def test_golang_migrate_version_row_covers_every_earlier_version_and_its_dirty_flag(tmp_path: Path, cli, db18) -> None:
    directory = write_migrations(tmp_path / "sql", {
        f"{n}_t{n}.{direction}.sql": f"{'CREATE' if direction == 'up' else 'DROP'} TABLE t{n}{' (id int)' if direction == 'up' else ''};\n"
        for n in (1, 2, 3) for direction in ("up", "down")
    })  # fmt: skip
    dsn = db18.dsn
    query(dsn, "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
    query(dsn, "CREATE TABLE t1 (id int); CREATE TABLE t2 (id int); INSERT INTO schema_migrations VALUES (2, true)")
    args = ("--dir", directory, "--database-url", dsn, "--layout", "golang-migrate")  # pairs alone read as sqlx
    found = entries(cli, args)
    assert {v: s for v, (s, _) in found.items()} == {"1": "applied", "2": "dirty", "3": "pending"}
    assert found["2"][1] == "up failed at golang-migrate (public.schema_migrations): recorded there as failed half-way"
    assert cli("up", "--no-lint", *args).code == 1  # a dirty version stops a run, as golang-migrate's own
    repaired = cli("repair", *args, "--mark", "applied")
    assert repaired.code == 0, repaired.err
    assert cli("up", "--no-lint", *args).code == 0
    assert set(states(cli, args).values()) == {"applied"} and "t3" in tables(dsn)


def test_flyway_history_versioned_baseline_and_repeatables(tmp_path: Path, cli, db18) -> None:
    from migration_lint.layouts import load_directory
    from migration_lint.layouts.flyway import flyway_checksum

    directory = write_migrations(tmp_path / "sql", {
        "V1__a.sql": "CREATE TABLE a (id int);\n",
        "V2__b.sql": "CREATE TABLE b (id int);\n",
        "V3__c.sql": "CREATE TABLE c (id int);\n",
        "R__same.sql": "CREATE OR REPLACE VIEW same AS SELECT 1 AS one;\n",
        "R__changed.sql": "CREATE OR REPLACE VIEW changed AS SELECT 1 AS one, 2 AS two;\n",
    })  # fmt: skip
    checksums = {m.path.name: flyway_checksum(m) for m in load_directory(directory).migrations}
    dsn = db18.dsn
    query(dsn, "CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),"
               " description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL,"
               " checksum int, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),"
               " execution_time int NOT NULL, success boolean NOT NULL)")
    query(dsn, "CREATE TABLE a (id int); CREATE TABLE b (id int);"
               " CREATE VIEW same AS SELECT 1 AS one; CREATE VIEW changed AS SELECT 1 AS one")
    rows = [
        (1, "1", "<< Flyway Baseline >>", "BASELINE", "<< Flyway Baseline >>", None),
        (2, "2", "b", "SQL", "V2__b.sql", 1),
        (3, "2.5", "backfill", "JDBC", "db.migration.V2_5__backfill", None),  # Java: no file here
        (4, None, "same", "SQL", "R__same.sql", checksums["R__same.sql"]),
        (5, None, "changed", "SQL", "R__changed.sql", checksums["R__changed.sql"] + 1),
    ]
    for row in rows:
        query(dsn, "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum,"
                   " installed_by, execution_time, success) VALUES (%s, %s, %s, %s, %s, %s, 'flyway', 0, true)", *row)
    args = ("--dir", directory, "--database-url", dsn)
    assert states(cli, args) == {"1": "applied", "2": "applied", "3": "pending", "R__changed": "outdated", "R__same": "applied"}
    assert cli("status", *args).code == 0
    assert cli("up", "--no-lint", *args).code == 0
    assert query(dsn, "SELECT version, outcome FROM public.migration_history WHERE direction <> 'adopt' ORDER BY id") == [
        ("3", "applied"), ("R__changed", "applied"),
    ]
    assert query(dsn, "SELECT two FROM changed") == [(2,)]
    assert set(states(cli, args).values()) == {"applied"}


def test_sqlx_checksums_and_diesel_dashless_versions(tmp_path: Path, cli, db18) -> None:
    import hashlib

    sqlx = write_migrations(tmp_path / "sqlx", {
        "1_a.up.sql": "CREATE TABLE a (id int);\n", "1_a.down.sql": "DROP TABLE a;\n",
        "2_b.up.sql": "CREATE TABLE b (id int);\n", "2_b.down.sql": "DROP TABLE b;\n",
    })  # fmt: skip
    dsn = db18.dsn
    query(dsn, "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,"
               " installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, checksum BYTEA NOT NULL,"
               " execution_time BIGINT NOT NULL)")
    query(dsn, "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)"
               " VALUES (1, 'a', true, %s, 1), (2, 'b', true, %s, 1)",
          hashlib.sha384(b"CREATE TABLE a (id int);\n").digest(), hashlib.sha384(b"CREATE TABLE b;\n").digest())
    args = ("--dir", sqlx, "--database-url", dsn)
    assert states(cli, args) == {"1": "applied", "2": "checksum-changed"}  # sqlx too refuses an edited file
    assert cli("status", *args).code == 1

    diesel = write_migrations(tmp_path / "diesel", {
        "2024-01-01-000000_a/up.sql": "CREATE TABLE d1 (id int);\n", "2024-01-01-000000_a/down.sql": "DROP TABLE d1;\n",
        "2024-02-01-000000_b/up.sql": "CREATE TABLE d2 (id int);\n", "2024-02-01-000000_b/down.sql": "DROP TABLE d2;\n",
    })  # fmt: skip
    query(dsn, "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL,"
               " run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)")
    query(dsn, "INSERT INTO __diesel_schema_migrations (version) VALUES ('20240101000000')")
    args = ("--dir", diesel, "--database-url", dsn)
    assert list(states(cli, args).values()) == ["applied", "pending"]


def test_sql_migrate_records_of_an_earlier_release_keep_matching_their_files(tmp_path: Path, cli, db18) -> None:
    sections = "-- +migrate Up\nCREATE TABLE {0} (id int);\n-- +migrate Down\nDROP TABLE {0};\n"
    directory = write_migrations(tmp_path / "sql", {"20180103142001_a.sql": sections.format("a")})
    dsn = db18.dsn
    args = ("--dir", directory, "--database-url", dsn)
    assert cli("up", "--no-lint", *args).code == 0
    # What releases before the sql-migrate layout recorded: the leading number, the rest as name.
    query(dsn, "UPDATE public.applied_migrations SET version = '20180103142001', name = 'a'")
    write_migrations(directory, {"20180104000000-b.sql": sections.format("b")})
    assert states(cli, args) == {"20180103142001_a": "applied", "20180104000000-b": "pending"}
    assert cli("status", *args).code == 0
    assert cli("up", "--no-lint", *args).code == 0
    assert query(dsn, "SELECT version FROM public.applied_migrations ORDER BY version") == [
        ("20180103142001_a",), ("20180104000000-b",),
    ]
    assert ("20180103142001_a", "repair", "renamed") in query(
        dsn, "SELECT version, direction, outcome FROM public.migration_history")
    assert cli("down", "--no-lint", *args, "--steps", "2").code == 0
    assert query(dsn, "SELECT count(*) FROM public.applied_migrations") == [(0,)] and "a" not in tables(dsn)
