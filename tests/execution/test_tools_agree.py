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
from migration_lint.session import LintSession
from pytest_migrations.cli import main as migrations_main
from pytest_migrations.database import Server
from pytest_migrations.roundtrip import ChainWalker, ScriptError, run_section
from pytest_migrations.trace import trace_migration
from pytest_migrations.trace._results import IN_TRANSACTION
from shared_corpus import corpus_set


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


# -- a wrapped section that steps out of its tool's transaction: COMMIT; ... BEGIN; -----------------
# goose and sql-migrate send each statement inside their transaction (sql-migrate's
# MigrationSet.applyMigrations, goose's runSQLMigration): the file's COMMIT ends it, the statements
# up to the file's BEGIN run in autocommit, the tool's COMMIT ends the last block.

ESCAPE_UP = """
    CREATE TABLE t (id int);
    COMMIT;
    CREATE INDEX CONCURRENTLY t_id ON t (id);
    BEGIN;
    ALTER TABLE t ADD COLUMN v int;
"""
ESCAPE = {
    "20240101000000-escape.sql": "-- +migrate Up" + ESCAPE_UP + "-- +migrate Down\nDROP TABLE t;\n",
}


def indexes(dsn: str) -> dict[str, bool]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                            " AND c.relname NOT LIKE '%%migration%%'").fetchall()
    return dict(rows)


def tracking(dsn: str) -> list[tuple[str, bool]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('public.applied_migrations')").fetchone() == (None,):
            return []
        return conn.execute("SELECT version, dirty FROM public.applied_migrations ORDER BY version").fetchall()


def history(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute("SELECT version, outcome FROM public.migration_history ORDER BY id").fetchall()


def test_escape_is_linted_run_round_tripped_and_traced_as_the_tool_runs_it(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", ESCAPE)
    migrations = discover(directory)
    plan = plan_section(migrations[0], "up")
    assert plan.mode == "escaped" and plan.refusal is None
    findings = {(f.code, f.line) for f in lint(directory)}
    # CONCURRENTLY runs outside a transaction there, as in production: no ML003, no ML021, no ML022.
    assert not {code for code, _ in findings} & {"ML003", "ML021", "ML022"}
    assert ("ML049", 3) in findings  # the CREATE TABLE before the COMMIT stays if a later statement fails
    with server.fresh_database() as db:
        args = ("--dir", directory, "--database-url", db.dsn, "--no-lint")
        code, out = run_cli(capsys, "up", "--dry-run", *args)
        assert code == 0 and "which the file's own COMMIT at line 3 ends" in out, out
        code, out = run_cli(capsys, "up", *args)
        assert code == 0, out
        assert columns(db.dsn, "t") == ["id", "v"] and indexes(db.dsn) == {"t_id": True}
        assert tracking(db.dsn) == [("20240101000000-escape", False)]
        assert history(db.dsn) == [("20240101000000-escape", "applied")]
    with ChainWalker(server, migrations) as walker:
        result = walker.result_for("20240101000000-escape")
    assert result.outcome == "passed", result.report()
    with server.fresh_database() as db:
        trace = trace_migration(db.dsn, migrations[0])
        assert trace.error is None, trace.error
        # the CREATE TABLE in the tool's transaction, the index on its own, the ALTER in the file's block
        assert [(s.line, s.method) for s in trace.statements] == [
            (2, IN_TRANSACTION), (4, trace.statements[1].method), (6, IN_TRANSACTION)]
        assert trace.statements[1].method != IN_TRANSACTION
        assert indexes(db.dsn) == {"t_id": True}


def test_escape_failing_before_its_commit_leaves_no_record(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", {
        "20240101000000-escape.sql": "-- +migrate Up\nCREATE TABLE t (id int);\nSELECT 1/0;\nCOMMIT;\n"
                                     "CREATE INDEX CONCURRENTLY t_id ON t (id);\nBEGIN;\n",
    })
    with server.fresh_database() as db:
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", db.dsn, "--no-lint")
        assert code == 1 and "20240101000000-escape.sql:3: division by zero" in out, out
        assert "nothing of 20240101000000-escape stayed" in out and "repair" not in out, out
        assert "t" not in relations(db.dsn)
        assert tracking(db.dsn) == []  # no record of what did not happen
        assert history(db.dsn) == [("20240101000000-escape", "failed")]


def test_escape_failing_after_its_commit_is_recorded_dirty(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", {
        "20240101000000-escape.sql": "-- +migrate Up\nCREATE TABLE t (id int);\nCOMMIT;\n"
                                     "CREATE INDEX CONCURRENTLY t_x ON t (x);\nBEGIN;\nALTER TABLE t ADD COLUMN v int;\n",
    })
    with server.fresh_database() as db:
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", db.dsn, "--no-lint")
        assert code == 1 and "20240101000000-escape.sql:4:" in out and 'column "x" does not exist' in out, out
        assert "COMMIT at" in out and "marked dirty" in out, out
        assert columns(db.dsn, "t") == ["id"]  # committed before the failure; the ALTER never ran
        assert tracking(db.dsn) == [("20240101000000-escape", True)]
        assert history(db.dsn) == [("20240101000000-escape", "failed")]


def test_escape_in_a_one_query_tool_keeps_concurrently_in_the_querys_implicit_block(server: Server, tmp_path: Path, capsys) -> None:
    # dbmate (DB.Migrate: tx.Exec of the whole up block) sends the section as one query: after the
    # COMMIT, PostgreSQL runs the rest in the query's implicit block, where CONCURRENTLY fails.
    directory = write(tmp_path / "m", {
        "20240101000000_escape.sql": "-- migrate:up" + ESCAPE_UP + "-- migrate:down\nDROP TABLE t;\n",
    })
    migrations = discover(directory)
    assert plan_section(migrations[0], "up").sent_as_one_query
    assert ("ML003", 4) in {(f.code, f.line) for f in lint(directory)}
    with server.fresh_database() as db:
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", db.dsn, "--no-lint")
        assert code == 1 and "cannot run inside a transaction block" in out and "escape.sql:4" in out, out
        assert columns(db.dsn, "t") == ["id"] and tracking(db.dsn) == [("20240101000000", True)]
    with ChainWalker(server, migrations, check_data=False) as walker:
        result = walker.result_for(migrations[0].id)
    assert result.outcome == "failed" and "cannot run inside a transaction block" in result.report()
    with server.fresh_database() as db:
        trace = trace_migration(db.dsn, migrations[0])
        assert trace.error is not None and "escape.sql:4" in trace.error


def test_under_wrap_a_rollback_is_refused_by_every_tool(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", {
        "2024-01-01-000000_t/up.sql": "CREATE TABLE t (id int);\n",
        "2024-01-01-000000_t/down.sql": "DROP TABLE t;\n",
        "2024-01-02-000000_two/up.sql": "ALTER TABLE t ADD COLUMN x int;\nROLLBACK;\nBEGIN;\nALTER TABLE t ADD COLUMN y int;\n",
        "2024-01-02-000000_two/down.sql": "ALTER TABLE t DROP COLUMN y, DROP COLUMN x;\n",
    })
    migrations = discover(directory)
    refusal = plan_section(migrations[1], "up").refusal
    assert refusal is not None and "up.sql:2: ROLLBACK undoes the statements before it" in refusal
    assert "records 2024-01-02-000000_two as applied" in refusal
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


def test_nakama_escapes_run_in_the_runner_and_the_tracer(tmp_path: Path, pg_server: Server, capsys) -> None:
    directory = corpus_set("nakama")
    migrations = discover(directory)
    with pg_server.fresh_database() as db:
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", db.dsn, "--no-lint")
        assert code == 0, out
        rows = dict(tracking(db.dsn))
        assert len(rows) == len(migrations) and not any(rows.values())
        assert indexes(db.dsn)["users_display_name_idx"] is True
        assert "acl" in columns(db.dsn, "console_user") and "role" not in columns(db.dsn, "console_user")
        # down the last one: DROP INDEX in sql-migrate's transaction
        code, out = run_cli(capsys, "down", "--dir", directory, "--database-url", db.dsn, "--no-lint")
        assert code == 0 and "users_display_name_idx" not in indexes(db.dsn), out
        last = migrations[-1]
        assert last.id == "20260319134532-add-display-name-index"
        trace = trace_migration(db.dsn, last, history=migrations[:-1])
        assert trace.error is None, trace.error
        concurrently = next(s for s in trace.statements if s.statement.kind == "IndexStmt")
        assert concurrently.method != IN_TRANSACTION


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


# -- golang-migrate with x-multi-statement=true (rule "split"): each piece cut at ';' on its own ---------

MULTI = "golang-migrate?x-multi-statement=true"


def test_multi_statement_layout_is_read_from_the_configuration_by_linter_and_runner(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", IMPLICIT_FILES)
    (tmp_path / ".migration-lint.toml").write_text(f'layout = "{MULTI}"\n', encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(f'[tool.pytest-migrations]\nlayout = "{MULTI}"\n', encoding="utf-8")
    session = LintSession.for_path(directory)
    migrations = session.migrations(directory)
    assert {m.transaction_rule for m in migrations} == {"split"}
    # the CONCURRENTLY beside an ALTER runs on its own: no ML003, where one query fails it
    assert [f for f in session.lint(migrations) if f.code == "ML003"] == []
    assert ("ML003", 2) in {(f.code, f.line) for f in lint(directory, implicit(discover(directory)))}
    with server.fresh_database() as db:
        args = ("--dir", directory, "--database-url", db.dsn, "--config", tmp_path / "pyproject.toml")
        code, out = run_cli(capsys, "status", *args)
        assert f"layout: {MULTI} (" in out, out
        code, out = run_cli(capsys, "up", *args, "--no-lint")
        assert code == 0, out
        assert columns(db.dsn, "t") == ["id", "v"] and {"t_lone", "t_v"} <= relations(db.dsn)


def test_multi_statement_round_trip_and_tracer_run_each_statement_alone(server: Server, tmp_path: Path) -> None:
    migrations = discover(write(tmp_path / "m", IMPLICIT_FILES), MULTI)
    with ChainWalker(server, migrations, check_data=False) as walker:
        result = walker.result_for("003_pair")
    assert result.outcome == "passed", result.report()
    with server.fresh_database() as db:
        with psycopg.connect(db.dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE t (id int)")
        trace = trace_migration(db.dsn, migrations[2], history=migrations[:2])
        assert trace.error is None, trace.error
        assert [s.method != IN_TRANSACTION for s in trace.statements] == [True, True]


def test_multi_statement_refuses_a_semicolon_the_tool_would_cut_a_statement_at(server: Server, tmp_path: Path, capsys) -> None:
    directory = write(tmp_path / "m", {
        "001_f.up.sql": "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND $$;\n",
    })
    [migration] = discover(directory, MULTI)
    refusal = plan_section(migration, "up").refusal
    assert refusal is not None and refusal.startswith(f"{directory / '001_f.up.sql'}:3: golang-migrate with x-multi-statement")
    with server.fresh_database() as db:
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", db.dsn, "--no-lint", "--layout", MULTI)
        assert code == 2 and refusal in out, out
        assert relations(db.dsn) == set()
        # sent as one query (the default), the same file runs
        code, out = run_cli(capsys, "up", "--dir", directory, "--database-url", db.dsn, "--no-lint", "--layout", "golang-migrate")
        assert code == 0, out
