"""The dbmate layout against the real dbmate: same order, same pending list, same resulting schema.

The binary comes from the npm package ``dbmate`` (``.ci/run`` installs it under ``.ci/dbmate``;
``$DBMATE`` or one on the PATH works too). Both tools run on fresh databases of the system
PostgreSQL (dbmate speaks TCP only).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from migration_lint.layouts import discover, load_directory


REPOSITORY = Path(__file__).resolve().parents[2]
CORPUS = REPOSITORY.parent / "shared" / "corpus"


def _dbmate() -> str:
    for candidate in (os.environ.get("DBMATE"), str(REPOSITORY / ".ci" / "dbmate" / "node_modules" / ".bin" / "dbmate"),
                      shutil.which("dbmate")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("dbmate is not installed: `npm install --prefix .ci/dbmate dbmate` (what .ci/run does), or set $DBMATE")


def _url(dsn: str) -> str:
    """``dsn`` as the URL dbmate wants (it reads no keyword=value strings)."""
    from urllib.parse import quote

    parts = conninfo_to_dict(dsn)
    user = quote(str(parts.get("user", "postgres")))
    password = f":{quote(str(parts['password']))}" if parts.get("password") else ""
    host, port = parts.get("host", "127.0.0.1"), parts.get("port", "5432")
    return f"postgres://{user}{password}@{host}:{port}/{quote(str(parts['dbname']))}?sslmode=disable"


def run_dbmate(directory: Path, dsn: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_dbmate(), "--url", _url(dsn), "--migrations-dir", str(directory), "--no-dump-schema", *command],
        capture_output=True, text=True, timeout=120,
    )


def dbmate_status(directory: Path, dsn: str) -> list[tuple[bool, str]]:
    """``(applied, file name)`` for every migration, in dbmate's order."""
    result = run_dbmate(directory, dsn, "status")
    assert result.returncode in (0, 1), result.stderr
    return [(line.startswith("[X]"), line[4:]) for line in result.stdout.splitlines() if line.startswith(("[X] ", "[ ] "))]


_TRACKING = ("schema_migrations", "applied_migrations", "migration_history")


def schema_of(dsn: str, schema: str = "public") -> list[tuple]:
    """Columns, indexes, constraints and functions of ``schema``, the tools' tracking tables left out."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name <> ALL(%s) ORDER BY 1, 2", (schema, list(_TRACKING))
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = %s AND tablename <> ALL(%s) ORDER BY 1, 2",
            (schema, list(_TRACKING)),
        ).fetchall()
        constraints = conn.execute(
            "SELECT cl.relname, conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace JOIN pg_class cl ON cl.oid = c.conrelid"
            " WHERE n.nspname = %s AND cl.relname <> ALL(%s) ORDER BY 1, 2", (schema, list(_TRACKING))
        ).fetchall()
        functions = conn.execute(
            "SELECT p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc) FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = %s ORDER BY 1, 2", (schema,)
        ).fetchall()
    return columns + indexes + constraints + functions


def write(path: Path, up: str, down: str, up_options: str = "", down_options: str = "") -> None:
    path.write_text(f"-- migrate:up {up_options}\n{up}\n\n-- migrate:down {down_options}\n{down}\n", encoding="utf-8")


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """A dbmate directory whose names order differently as numbers and as strings."""
    path = tmp_path / "db" / "migrations"
    path.mkdir(parents=True)
    write(path / "1_create_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);", "DROP TABLE users;")
    write(path / "10_create_orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);",
          "DROP TABLE orders;")
    write(path / "9_add_users_name.sql", "ALTER TABLE users ADD COLUMN name text;", "ALTER TABLE users DROP COLUMN name;")
    write(path / "05_create_tags.sql.sql", "CREATE TABLE tags (label text);", "DROP TABLE tags;")
    write(path / "11_index_users_email.sql", "CREATE INDEX users_email_idx ON users (email);", "DROP INDEX users_email_idx;")
    (path / "README.md").write_text("how to run dbmate\n")
    (path / "schema.sql").write_text("-- not a migration: no leading digits\n")
    return path


@pytest.fixture
def two_databases(system_pg_server):
    with system_pg_server.fresh_database() as theirs, system_pg_server.fresh_database() as ours:
        yield theirs, ours


def test_order_is_dbmate_order(directory: Path, two_databases) -> None:
    theirs, _ = two_databases
    listed = [name for _, name in dbmate_status(directory, theirs.dsn)]
    assert listed == ["05_create_tags.sql.sql", "10_create_orders.sql", "11_index_users_email.sql",
                      "1_create_users.sql", "9_add_users_name.sql"]  # file names, compared as strings
    loaded = load_directory(directory)
    assert loaded.layout.name == "dbmate"
    assert [m.path.name for m in loaded.migrations] == listed
    assert {p.name for p, _ in loaded.ignored} == {"README.md", "schema.sql"}


def test_up_gives_dbmate_schema_and_pending_list(directory: Path, two_databases, cli) -> None:
    theirs, ours = two_databases
    # 10_create_orders sorts before 1_create_users: dbmate creates orders first. The index of
    # migration 11 needs users, which 1 creates after it: both tools stop there, 11 rolled back.
    result = run_dbmate(directory, theirs.dsn, "up")
    ran = cli("up", "--dir", directory, "--database-url", ours.dsn, "--no-lint")
    assert (result.returncode == 0) == (ran.code == 0), (result.stderr, ran.text)
    assert schema_of(theirs.dsn) == schema_of(ours.dsn)
    pending_theirs = [name for applied, name in dbmate_status(directory, theirs.dsn) if not applied]
    status = cli("status", "--dir", directory, "--database-url", ours.dsn, "--format", "json")
    import json

    document = json.loads(status.out)
    pending_ours = [Path(m["path"]).name for m in document["migrations"] if m["state"] in ("pending", "out-of-order")]
    assert pending_ours == pending_theirs, [(m["version"], m["state"]) for m in document["migrations"]]
    assert document["layout"]["name"] == "dbmate"


def test_schema_equal_when_every_migration_applies(tmp_path: Path, two_databases, cli) -> None:
    theirs, ours = two_databases
    path = tmp_path / "migrations"
    path.mkdir()
    write(path / "20240101000000_create_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY, email text);",
          "DROP TABLE users;")
    write(path / "20240102000000_index_users_email.sql", "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
          "DROP INDEX CONCURRENTLY users_email_idx;", "transaction:false", "transaction:false")
    write(path / "20240103000000_add_users_name.sql", "ALTER TABLE users ADD COLUMN name text NOT NULL DEFAULT '';",
          "ALTER TABLE users DROP COLUMN name;")
    assert run_dbmate(path, theirs.dsn, "up").returncode == 0
    assert cli("up", "--dir", path, "--database-url", ours.dsn, "--no-lint").code == 0
    assert schema_of(theirs.dsn) == schema_of(ours.dsn) != []
    assert [applied for applied, _ in dbmate_status(path, theirs.dsn)] == [True, True, True]
    # One rollback each: the last migration is pending again on both sides, the schema still equal.
    assert run_dbmate(path, theirs.dsn, "rollback").returncode == 0
    assert cli("down", "--dir", path, "--database-url", ours.dsn, "--no-lint").code == 0
    assert schema_of(theirs.dsn) == schema_of(ours.dsn)
    assert [name for applied, name in dbmate_status(path, theirs.dsn) if not applied] == ["20240103000000_add_users_name.sql"]


@pytest.mark.parametrize("name", ["measure", "r4c-cesium-viewer"])
def test_corpus_dbmate_sets_order_as_dbmate_lists_them(name: str, two_databases) -> None:
    directory = CORPUS / name
    if not directory.is_dir():
        pytest.skip(f"{directory} is absent: the real migration sets live beside the project in ../shared/corpus")
    theirs, _ = two_databases
    # dbmate status on an empty database: every file, in the order dbmate would apply them.
    listed = [file_name for _, file_name in dbmate_status(directory, theirs.dsn)]
    assert [m.path.name for m in discover(directory)] == listed


def test_measure_applies_to_the_schema_dbmate_gives(two_databases, cli) -> None:
    directory = CORPUS / "measure"
    if not directory.is_dir():
        pytest.skip(f"{directory} is absent: the real migration sets live beside the project in ../shared/corpus")
    theirs, ours = two_databases
    # What the set's init-postgres.sh prepares: the schema measure, first on the search_path.
    for database in (theirs, ours):
        with psycopg.connect(database.dsn, autocommit=True) as conn:
            conn.execute("CREATE SCHEMA measure; CREATE SCHEMA dbmate")
    result = subprocess.run(
        [_dbmate(), "--url", _url(theirs.dsn) + "&search_path=dbmate,measure", "--migrations-dir", str(directory),
         "--no-dump-schema", "up"], capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    parts = conninfo_to_dict(ours.dsn)
    ours_dsn = make_conninfo(**{**parts, "options": "-csearch_path=measure"})
    ran = cli("up", "--dir", directory, "--database-url", ours_dsn, "--no-lint")
    assert ran.code == 0, ran.text
    theirs_schema = schema_of(theirs.dsn, "measure")
    assert len(theirs_schema) > 100 and schema_of(ours.dsn, "measure") == theirs_schema


def test_a_database_dbmate_migrated_is_adopted_not_migrated_again(tmp_path: Path, system_pg_server, cli) -> None:
    path = tmp_path / "db" / "migrations"
    path.mkdir(parents=True)
    write(path / "20240101000000_users.sql", "CREATE TABLE users (id bigint PRIMARY KEY);", "DROP TABLE users;")
    write(path / "20240102000000_orders.sql", "CREATE TABLE orders (id bigint PRIMARY KEY);", "DROP TABLE orders;")
    with system_pg_server.fresh_database() as db:
        assert run_dbmate(path, db.dsn, "up").returncode == 0
        write(path / "20240103000000_tags.sql", "CREATE TABLE tags (label text);", "DROP TABLE tags;")
        args = ("--dir", path, "--database-url", db.dsn)
        status = cli("status", *args, "--format", "json")
        import json

        states = {m["version"]: m["state"] for m in json.loads(status.out)["migrations"]}
        assert states == {"20240101000000": "applied", "20240102000000": "applied", "20240103000000": "pending"}
        pending_theirs = [name for applied, name in dbmate_status(path, db.dsn) if not applied]
        assert pending_theirs == ["20240103000000_tags.sql"]
        ran = cli("up", *args, "--no-lint")
        assert ran.code == 0, ran.text  # re-running 1 or 2 would fail: their tables exist
        assert "applying 20240103000000_tags" in ran.out and "users" not in ran.out
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            outcomes = conn.execute("SELECT version, outcome FROM migration_history ORDER BY id").fetchall()
        assert outcomes == [("20240101000000", "adopted"), ("20240102000000", "adopted"), ("20240103000000", "applied")]


# A COMMIT in the up block steps out of dbmate's transaction (DB.Migrate sends the block with one
# tx.Exec): the part before it commits; the rest runs in that query's implicit block, where
# CONCURRENTLY still fails. lib/pq then reports "unexpected transaction status idle" from the
# Rollback (the failure itself masked) or from the Commit (nothing reopened a transaction).
ESCAPES = {
    "reopened": ("CREATE TABLE t (id int);\nCOMMIT;\nBEGIN;\nALTER TABLE t ADD COLUMN v int;", True, None),
    "concurrently_in_the_query": (
        "CREATE TABLE t (id int);\nCOMMIT;\nCREATE INDEX CONCURRENTLY t_id ON t (id);\nBEGIN;\nALTER TABLE t ADD COLUMN v int;",
        False, "cannot run inside a transaction block"),
    "not_reopened": ("CREATE TABLE t (id int);\nCOMMIT;\nCREATE TABLE u (id int);", True, None),
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_an_escaped_up_block_leaves_the_schema_dbmate_leaves(case: str, tmp_path: Path, two_databases, cli) -> None:
    theirs, ours = two_databases
    up, applies, error = ESCAPES[case]
    path = tmp_path / "migrations"
    path.mkdir()
    write(path / "20240101000000_escape.sql", up, "DROP TABLE t;")
    result = run_dbmate(path, theirs.dsn, "up")
    ran = cli("up", "--dir", path, "--database-url", ours.dsn, "--no-lint")
    assert (ran.code == 0) == applies, ran.text
    if error:
        assert error in ran.text and result.returncode != 0
    if case != "reopened":  # lib/pq's transaction-state check after the COMMIT of the file
        assert "unexpected transaction status idle" in result.stderr, result.stderr
    assert schema_of(theirs.dsn) == schema_of(ours.dsn) != []
    recorded = [applied for applied, _ in dbmate_status(path, theirs.dsn)] == [True]
    assert recorded == applies
    with psycopg.connect(ours.dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT dirty FROM applied_migrations").fetchall()
    assert rows == [(not applies,)]  # applied clean, or marked dirty: the part before the COMMIT stayed
