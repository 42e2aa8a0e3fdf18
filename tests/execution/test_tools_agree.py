"""The linter, the runner (``migrations``), the round trip and the tracer run a section the same
way: the one execution plan of :mod:`migration_lint.execution`, on real servers."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import psycopg
import pytest

from migration_lint.config import Config, build_rules
from migration_lint.engine import Linter
from migration_lint.execution import plan_section
from migration_lint.layouts import discover
from pytest_migrations.cli import main as migrations_main
from pytest_migrations.database import Server
from pytest_migrations.roundtrip import ChainWalker, ScriptError, run_section
from pytest_migrations.trace import trace_migration


@pytest.fixture(params=["pg18", "pg15"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue("pg_server" if request.param == "pg18" else "system_pg_server")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    capsys.readouterr()
    code = migrations_main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def lint(directory: Path, migrations=None) -> list:
    config = Config()
    linter = Linter(build_rules(config), pg_version=config.pg_version)
    return linter.lint_migrations(migrations if migrations is not None else discover(directory))


def columns(dsn: str, table: str) -> list[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
                            " AND NOT attisdropped ORDER BY attnum", (table,)).fetchall()
    return [name for (name,) in rows]


def relations(dsn: str) -> set[str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = relnamespace"
                            " WHERE nspname = 'public' AND relkind IN ('r', 'i')").fetchall()
    return {name for (name,) in rows}


# -- a onefile file (rule "detect") with two BEGIN ... COMMIT blocks of its own ------------------------

TWO_BLOCKS = {
    "001_t.sql": """
        -- UP
        CREATE TABLE t (id int);
        -- DOWN
        DROP TABLE t;
    """,
    "002_two_blocks.sql": """
        -- UP
        BEGIN;
        ALTER TABLE t ADD COLUMN x int;
        COMMIT;
        BEGIN;
        ALTER TABLE t ADD COLUMN y int;
        COMMIT;
        -- DOWN
        ALTER TABLE t DROP COLUMN y;
        ALTER TABLE t DROP COLUMN x;
    """,
}


def test_two_blocks_of_its_own_run_as_written_by_the_runner(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", TWO_BLOCKS)
    with server.fresh_database() as db:
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", db.dsn, "--no-lint")
        assert code == 0, out
        assert columns(db.dsn, "t") == ["id", "x", "y"]


def test_two_blocks_of_its_own_pass_the_round_trip_outside_its_transaction(server: Server, tmp_path: Path) -> None:
    migrations = discover(write(tmp_path / "m", TWO_BLOCKS))
    with ChainWalker(server, migrations) as walker:
        result = walker.result_for("002_two_blocks")
    assert result.outcome == "passed", result.report()
    # Not atomic as the tool runs it, so the round trip cannot roll seeded rows back around it.
    assert any("data check skipped" in w and "writes its own BEGIN" in w for w in result.warnings), result.warnings


def test_two_blocks_of_its_own_are_traced_as_two_transactions(server: Server, tmp_path: Path) -> None:
    migrations = discover(write(tmp_path / "m", TWO_BLOCKS))
    with server.fresh_database() as db:
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int)")
        trace = trace_migration(db.dsn, migrations[1], history=migrations[:1])
    assert trace.error is None, trace.error
    first, second = trace.statements
    assert first.blocking_held_before is False
    # The second ALTER runs after the file's COMMIT: nothing is held from the first block.
    assert second.blocking_held_before is False


def test_two_blocks_of_its_own_lint_clean_of_transaction_findings(tmp_path: Path) -> None:
    findings = lint(write(tmp_path / "m", TWO_BLOCKS))
    assert [f for f in findings if f.code in ("ML003", "ML021", "ML022")] == []


def test_a_failure_after_the_files_commits_leaves_the_same_database_in_runner_and_round_trip(
    server: Server, tmp_path: Path, capsys
) -> None:
    files = dict(TWO_BLOCKS)
    files["002_two_blocks.sql"] = files["002_two_blocks.sql"].replace("        -- DOWN", "        SELECT 1/0;\n        -- DOWN")
    directory = write(tmp_path / "m", files)
    migrations = discover(directory)
    with server.fresh_database() as by_runner, server.fresh_database() as by_round_trip:
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", by_runner.dsn, "--no-lint")
        assert code == 1 and "division by zero" in out, out
        with psycopg.connect(by_round_trip.dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int)")
            with pytest.raises(ScriptError, match="division by zero"):
                run_section(conn, plan_section(migrations[1], "up"))
        assert columns(by_runner.dsn, "t") == columns(by_round_trip.dsn, "t") == ["id", "x", "y"]


# -- a Diesel folder (rule "wrap"): the tool runs every up.sql and down.sql in a transaction ----------

DIESEL = {
    "2024-01-01-000000_t/up.sql": "CREATE TABLE t (id int);\n",
    "2024-01-01-000000_t/down.sql": "DROP TABLE t;\n",
    "2024-01-02-000000_index/up.sql": "CREATE INDEX t_id ON t (id);\n",
    "2024-01-02-000000_index/down.sql": "DROP INDEX CONCURRENTLY t_id;\n",
}


def test_diesel_down_with_concurrently_and_no_metadata_is_ml003(tmp_path: Path) -> None:
    findings = lint(write(tmp_path / "m", DIESEL))
    [finding] = [f for f in findings if f.code == "ML003"]
    assert finding.path.endswith("2024-01-02-000000_index/down.sql") and finding.section == "down"


def test_diesel_down_with_concurrently_and_no_metadata_fails_the_round_trip(server: Server, tmp_path: Path) -> None:
    migrations = discover(write(tmp_path / "m", DIESEL))
    with ChainWalker(server, migrations, check_data=False) as walker:
        result = walker.result_for("2024-01-02-000000_index")
    assert result.outcome == "failed"
    assert "DOWN of 2024-01-02-000000_index failed" in result.report()
    assert "cannot run inside a transaction block" in result.report()


def test_diesel_down_with_concurrently_and_no_metadata_fails_in_the_runner(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", DIESEL)
    with server.fresh_database() as db:
        args = ("--dir", directory, "--database-url", db.dsn, "--no-lint")
        assert run_cli(capsys, "up", *args)[0] == 0
        code, out = run_cli(capsys, "down", *args)
        assert code == 1 and "cannot run inside a transaction block" in out, out
        assert "t_id" in relations(db.dsn)


def test_diesel_metadata_run_in_transaction_false_runs_the_down_outside(server: Server, tmp_path: Path) -> None:
    files = dict(DIESEL)
    files["2024-01-02-000000_index/metadata.toml"] = "run_in_transaction = false\n"
    directory = write(tmp_path / "m", files)
    assert [f for f in lint(directory) if f.code == "ML003"] == []
    with ChainWalker(server, discover(directory), check_data=False) as walker:
        assert walker.result_for("2024-01-02-000000_index").outcome == "passed"


def test_under_wrap_two_blocks_of_its_own_are_refused_by_every_tool(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", {
        "2024-01-01-000000_t/up.sql": "CREATE TABLE t (id int);\n",
        "2024-01-01-000000_t/down.sql": "DROP TABLE t;\n",
        "2024-01-02-000000_two/up.sql": TWO_BLOCKS["002_two_blocks.sql"].split("-- UP\n")[1].split("        -- DOWN")[0],
        "2024-01-02-000000_two/down.sql": "ALTER TABLE t DROP COLUMN y, DROP COLUMN x;\n",
    })
    migrations = discover(directory)
    refusal = plan_section(migrations[1], "up").refusal
    assert refusal is not None and "would end the transaction" in refusal
    assert "ML021" in {f.code for f in lint(directory)}
    with server.fresh_database() as db:
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", db.dsn, "--no-lint")
        assert code == 2 and refusal in out, out
        assert "t" not in relations(db.dsn)  # nothing applied half-way
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int)")
        trace = trace_migration(db.dsn, migrations[1], history=migrations[:1])
        assert trace.untraceable and refusal in (trace.error or "")
    with ChainWalker(server, migrations, check_data=False) as walker:
        result = walker.result_for("2024-01-02-000000_two")
    assert result.outcome == "failed" and refusal in result.report()


# -- golang-migrate (rule "implicit"): the file goes as one query ------------------------------------

def implicit(migrations):
    return [dataclasses.replace(m, transaction_rule="implicit") for m in migrations]


IMPLICIT_FILES = {
    "001_t.up.sql": "CREATE TABLE t (id int);\n",
    "001_t.down.sql": "DROP TABLE t;\n",
    "002_lone.up.sql": "CREATE INDEX CONCURRENTLY t_lone ON t (id);\n",
    "002_lone.down.sql": "DROP INDEX CONCURRENTLY t_lone;\n",
    "003_pair.up.sql": "ALTER TABLE t ADD COLUMN v int;\nCREATE INDEX CONCURRENTLY t_v ON t (v);\n",
    "003_pair.down.sql": "DROP INDEX t_v;\nALTER TABLE t DROP COLUMN v;\n",
}


def test_implicit_a_lone_concurrently_runs_and_beside_anything_fails_all_or_nothing(server: Server, tmp_path: Path) -> None:
    migrations = implicit(discover(write(tmp_path / "m", IMPLICIT_FILES)))
    with server.fresh_database() as db, psycopg.connect(db.dsn, autocommit=True) as conn:
        run_section(conn, plan_section(migrations[0], "up"))
        run_section(conn, plan_section(migrations[1], "up"))
        assert "t_lone" in relations(db.dsn)
        with pytest.raises(ScriptError, match=r"003_pair.up.sql:2: CREATE INDEX CONCURRENTLY cannot run inside a transaction block"):
            run_section(conn, plan_section(migrations[2], "up"))
        assert columns(db.dsn, "t") == ["id"]  # the ALTER before it was rolled back with it


def test_implicit_round_trip_and_lint_agree(server: Server, tmp_path: Path) -> None:
    migrations = implicit(discover(write(tmp_path / "m", IMPLICIT_FILES)))
    ml003 = [(Path(f.path).name, f.line) for f in lint(tmp_path / "m", migrations) if f.code == "ML003"]
    assert ml003 == [("003_pair.up.sql", 2)]
    with ChainWalker(server, migrations, check_data=False) as walker:
        assert walker.result_for("002_lone").outcome == "passed", walker.result_for("002_lone").report()
        failed = walker.result_for("003_pair")
    assert failed.outcome == "failed" and "cannot run inside a transaction block" in failed.report()


def test_implicit_commit_in_the_file_ends_the_block_as_postgres_does(server: Server, tmp_path: Path) -> None:
    migrations = implicit(discover(write(tmp_path / "m", {
        "001_t.up.sql": "CREATE TABLE t (id int);\nCOMMIT;\nCREATE TABLE u (id int);\nINSERT INTO missing VALUES (1);\n",
    })))
    with server.fresh_database() as db, psycopg.connect(db.dsn, autocommit=True) as conn:
        with pytest.raises(ScriptError, match=r'001_t.up.sql:4: relation "missing" does not exist'):
            run_section(conn, plan_section(migrations[0], "up"))
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        by_round_trip = relations(db.dsn)
    # what PostgreSQL itself does with the same text, sent as golang-migrate's driver sends it
    with server.fresh_database() as db, psycopg.connect(db.dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute(migrations[0].up.sql.encode())
        assert relations(db.dsn) == by_round_trip == {"t"}
    # and the tracer: the first block committed, the second failed
    with server.fresh_database() as db:
        trace = trace_migration(db.dsn, migrations[0])
        assert trace.error is not None and "001_t.up.sql:4" in trace.error
        assert [s.statement.line for s in trace.statements] == [1, 3]
        assert relations(db.dsn) == {"t"}


def test_implicit_runner_sends_the_file_as_one_query(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", IMPLICIT_FILES)
    with server.fresh_database() as db:
        args = ("--dir", directory, "--database-url", db.dsn, "--no-lint", "--layout", "golang-migrate")
        code, out = run_cli(capsys, "up", "--dry-run", *args)
        assert "as one query" in out, out
        code, out = run_cli(capsys, "up", *args)
        assert code == 1 and "003_pair.up.sql:2" in out and "cannot run inside a transaction block" in out, out
        assert "t_lone" in relations(db.dsn) and columns(db.dsn, "t") == ["id"]
