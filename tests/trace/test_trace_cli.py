"""``migrations trace`` through :func:`add_trace_arguments` / :func:`run_trace_command`, and the
whole real-world corpus traced without error on PostgreSQL 18 and 15."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pytest_migrations.trace import add_trace_arguments, run_trace_command, trace_directory
from pytest_migrations.trace._cli import main
from shared_corpus import CORPUS, corpus_set



@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_create.up.sql").write_text("CREATE TABLE item (id int PRIMARY KEY, name text);\n")
    (directory / "002_index.up.sql").write_text("CREATE INDEX item_name ON item (name);\n")
    (directory / "003_column.up.sql").write_text("ALTER TABLE item ADD COLUMN price int;\n")
    return directory


def test_text_report_and_exit_code(migrations: Path, pg_server, capsys) -> None:
    code = main(["--dir", str(migrations)])
    out = capsys.readouterr().out
    assert code == 1
    assert "002_index.up.sql:1: `CREATE INDEX item_name ON item (name)` takes SHARE on table public.item" in out
    assert "static rule: ML001" in out and "blocking: held for the whole scan" in out
    assert "003_column.up.sql:1:" in out and "blocking: no lock_timeout" in out and "static rule: ML010" in out
    assert out.rstrip().splitlines()[-1].startswith(
        "3 migrations traced on PostgreSQL 18: 2 findings (2 blocking, 0 brief, 0 suppressed; 0 catalogue gap(s))"
    )


def test_lock_timeout_makes_a_catalog_only_lock_brief(migrations: Path, pg_server, capsys) -> None:
    code = main(["--dir", str(migrations), "--lock-timeout", "3s", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and document["summary"]["blocking"] == 1 and document["summary"]["brief"] == 1
    index, column = (m["findings"][0] for m in document["migrations"][1:])
    assert (index["severity"], index["scan"]) == ("blocking", True)  # an index build is never brief
    assert (column["severity"], column["lock_timeout"]) == ("brief", "3s")


def test_the_runner_lock_timeout_applies_when_pyproject_configures_the_runner(
    migrations: Path, pg_server, capsys
) -> None:
    pyproject = migrations.parent / "pyproject.toml"
    pyproject.write_text('[tool.pytest-migrations]\nlock_timeout = "2s"\n')
    main(["--dir", str(migrations), "--config", str(pyproject)])
    out = capsys.readouterr().out
    assert "brief: a catalog update under lock_timeout 2s" in out and "lock_timeout 2s unless a file sets its own" in out
    main(["--dir", str(migrations), "--config", str(pyproject), "--lock-timeout", ""])  # the runner's "none"
    assert "blocking: no lock_timeout" in capsys.readouterr().out
    pyproject.write_text('[tool.pytest-migrations]\nlock_timeout = "soon"\n')
    assert main(["--dir", str(migrations), "--config", str(pyproject)]) == 2
    assert "[tool.pytest-migrations] lock_timeout: expected a lock_timeout" in capsys.readouterr().err


def test_to_stops_at_a_version_and_json_is_one_document(migrations: Path, pg_server, capsys) -> None:
    code = main(["--dir", str(migrations), "--to", "1", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0 and document["exit_code"] == 0
    assert [m["migration"] for m in document["migrations"]] == ["001_create"]
    assert document["summary"]["findings"] == 0 and document["server_version"] == 18


def test_trace_rows_reports_seeded_tables_and_hold_times(migrations: Path, pg_server, capsys) -> None:
    main(["--dir", str(migrations), "--trace-rows", "500", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    index = document["migrations"][1]
    assert index["seeded"] == [{"table": "public.item", "rows": 500, "skipped": None}]
    assert index["findings"][0]["held_seconds"] is not None


def test_a_dsn_traces_on_that_server_in_a_throwaway_database(migrations: Path, system_pg_server, capsys) -> None:
    code = main(["--dir", str(migrations), "--database-url", system_pg_server.admin_dsn, "--to", "2"])
    out = capsys.readouterr().out
    assert code == 1 and "on PostgreSQL 15" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "7"], "--to 7: no migration with this version in"),
        (["--to", "x1"], "--to 'x1': not a version"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(migrations: Path, argv, message, capsys) -> None:
    assert main(["--dir", str(migrations), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_a_negative_row_count_is_a_usage_error(migrations: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--dir", str(migrations), "--trace-rows", "-3"])
    assert exit_info.value.code == 2 and "must be 0 or more" in capsys.readouterr().err


def test_bad_input_names_file_and_line(tmp_path: Path, capsys) -> None:
    directory = tmp_path / "broken"
    directory.mkdir()
    (directory / "001_ok.up.sql").write_text("CREATE TABLE a (id int);\n")
    (directory / "002_bad.up.sql").write_text("CREATE TABLE b (id int);\nALTER TABLE b ADD COLUMN;\n")
    assert main(["--dir", str(directory)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {directory / '002_bad.up.sql'}:2: PostgreSQL cannot parse this")
    assert main(["--dir", str(tmp_path / "absent")]) == 2
    assert "not a directory of migrations" in capsys.readouterr().err


def test_a_failing_migration_exits_1_naming_file_and_line(tmp_path: Path, pg_server, capsys) -> None:
    directory = tmp_path / "failing"
    directory.mkdir()
    (directory / "001_bad.up.sql").write_text("CREATE TABLE a (id int);\nINSERT INTO missing VALUES (1);\n")
    assert main(["--dir", str(directory)]) == 1
    out = capsys.readouterr().out
    assert f"error: {directory / '001_bad.up.sql'}:2: relation \"missing\" does not exist (SQLSTATE 42P01)" in out


def test_an_unreachable_server_is_one_line_without_the_password(migrations: Path, capsys) -> None:
    code = main(["--dir", str(migrations), "--database-url", "postgresql://someone:s3cret@127.0.0.1:1/db"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "s3cret" not in err


def test_arguments_join_a_parser_that_already_has_the_shared_ones() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir")
    parser.add_argument("--database-url")
    parser.add_argument("--format", choices=("text", "json"))
    add_trace_arguments(parser)
    args = parser.parse_args(["--dir", "m", "--trace-rows", "10", "--to", "3", "--after", "base"])
    assert (args.dir, args.trace_rows, args.to, args.after) == ("m", 10, "3", [Path("base")])
    assert callable(run_trace_command)


CORPUS_SETS = [
    ("authelia-postgres", ()),
    ("quickwit-postgresql", ()),
    ("quickwit-postgresql-deferred", ("quickwit-postgresql",)),
    ("docsrs", ()),
]


# Every set on 18; on 15 the two that exercise the most (a pg_dump baseline with an extension, and
# a statement run outside a transaction), to keep the suite fast.
CORPUS_RUNS = [pytest.param(name, after, 18, id=f"{name}-18") for name, after in CORPUS_SETS] + [
    pytest.param(name, after, 15, id=f"{name}-15", marks=pytest.mark.system_pg)
    for name, after in CORPUS_SETS if name in ("docsrs", "quickwit-postgresql-deferred")
]


@pytest.mark.parametrize(("name", "after", "version"), CORPUS_RUNS)
def test_every_corpus_set_traces_without_error(name: str, after: tuple[str, ...], version: int, request) -> None:
    corpus_set(name)
    for base in after:
        corpus_set(base)
    server = request.getfixturevalue("pg_server" if version == 18 else "system_pg_server")
    dsn = None if version == 18 else server.admin_dsn
    traces = trace_directory(CORPUS / name, dsn=dsn, after=[CORPUS / base for base in after])
    assert [trace.error for trace in traces if trace.error] == []
    assert len(traces) == len(list((CORPUS / name).glob("*.up.sql")))
    assert all(trace.server_version == server.major and trace.static_available for trace in traces)
    for trace in traces:
        for statement in trace.statements:
            for fact in statement.acquired:
                assert fact.relation.name and fact.mode
        json.dumps(trace.to_json())
        trace.format(verbose=True)


def test_the_walker_traces_lazily_and_stops_after_a_failure(tmp_path: Path, pg_server) -> None:
    from migration_lint.layouts import discover
    from pytest_migrations.trace import TraceWalker

    directory = tmp_path / "walk"
    directory.mkdir()
    (directory / "001_a.up.sql").write_text("CREATE TABLE a (id int);\n")
    (directory / "002_b.up.sql").write_text("ALTER TABLE a ADD COLUMN b int;\n")
    (directory / "003_c.up.sql").write_text("ALTER TABLE nowhere ADD COLUMN c int;\n")
    (directory / "004_d.up.sql").write_text("ALTER TABLE a ADD COLUMN d int;\n")
    migrations = discover(directory)
    with pg_server.fresh_database() as database:
        walker = TraceWalker(database.dsn, migrations)
        second = walker.result_for("002_b")
        assert len(walker._traces) == 2 and not second.ok
        assert [f.relation.name for f in second.blocking_findings] == ["public.a"]
        assert "blocking: no lock_timeout" in second.format()
        traces = walker.walk()
        assert [t.error is None for t in traces] == [True, True, False, False]
        assert traces[3].error.startswith("not traced: migration 003_c before it failed (")
        assert (traces[2].depends_on, traces[3].depends_on) == (None, "003_c")
        assert walker.result_for(migrations[1]) is second


def test_a_malformed_dsn_is_a_usage_error(migrations: Path, capsys) -> None:
    assert main(["--dir", str(migrations), "--database-url", "password=s3cret nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid DSN") and "s3cret" not in err


def test_progress_on_a_terminal_only(tmp_path: Path) -> None:
    """A long trace shows which migration it is at on a terminal (stderr a TTY), and nothing
    extra where stderr is a pipe or a log."""
    import os
    import pty
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "pytest_migrations.cli", "trace", "--dir", str(root / "examples" / "migrations"),
               "--to", "003"]  # fmt: skip

    piped = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert piped.returncode in (0, 1), piped.stderr
    assert "tracing [" not in piped.stderr + piped.stdout

    leader, follower = pty.openpty()
    try:
        on_terminal = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, env=env, timeout=300)
        os.close(follower)
        follower = -1
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    terminal = seen.decode()
    assert "tracing [1/3] 001_create_users" in terminal and "tracing [3/3] 003_create_products" in terminal
    assert terminal.endswith("\r\x1b[K")  # the line is cleared before the report
    assert on_terminal.returncode == piped.returncode and b"tracing [" not in on_terminal.stdout


def test_findings_of_migrations_older_than_since_do_not_fail(migrations: Path, pg_server, capsys) -> None:
    assert main(["--dir", str(migrations), "--since", "3"]) == 1  # 003 is not older than 3
    capsys.readouterr()
    assert main(["--dir", str(migrations), "--since", "4"]) == 0
    out = capsys.readouterr().out
    assert "static rule: ML001" in out  # still reported
    assert out.rstrip().splitlines()[-1] == "older than since 4, reported without failing: 002_index, 003_column"
    pyproject = migrations.parent / "pyproject.toml"
    pyproject.write_text('[tool.pytest-migrations]\nsince = "4"\n')
    assert main(["--dir", str(migrations), "--config", str(pyproject), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["exit_code"] == 0
    assert main(["--dir", str(migrations), "--since", "later"]) == 2
    assert "--since" in capsys.readouterr().err
