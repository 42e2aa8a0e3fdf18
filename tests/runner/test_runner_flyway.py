"""Flyway's repeatable migrations (``R__``) in the runner: applied after the pending versioned
ones, ordered by description, again whenever they change, never rolled back."""

from __future__ import annotations

import json
from pathlib import Path

from runner_helpers import query, write_migrations

FILES = {
    "V1__t.sql": "CREATE TABLE t (a int);\n",
    "U1__t.sql": "DROP TABLE t;\n",
    "V2__b.sql": "ALTER TABLE t ADD COLUMN b int;\n",
    "U2__b.sql": "ALTER TABLE t DROP COLUMN b;\n",
    "R__views.sql": "CREATE OR REPLACE VIEW v AS SELECT a FROM t;\n",
    "R__a_function.sql": "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
}


def states(cli, args) -> dict[str, str]:
    result = cli("status", *args, "--format", "json")
    return {entry["version"]: entry["state"] for entry in json.loads(result.out)["migrations"]}


def history(dsn: str) -> list[tuple]:
    return query(dsn, "SELECT version, direction, outcome, message FROM public.migration_history ORDER BY id")


def test_repeatables_run_after_the_versioned_again_when_changed_and_are_never_rolled_back(
    tmp_path: Path, cli, db18
) -> None:
    directory = write_migrations(tmp_path / "sql", FILES)
    args = ("--dir", directory, "--database-url", db18.dsn)
    assert states(cli, args) == {"1": "pending", "2": "pending", "R__a_function": "pending", "R__views": "pending"}

    dry = cli("up", "--no-lint", *args, "--to", "1", "--dry-run")
    assert dry.code == 0, dry.err
    planned = [line.split(":")[0] for line in dry.out.splitlines() if line.startswith("-- up ")]
    assert planned == ["-- up 1_t", "-- up R__a_function", "-- up R__views"]  # whatever the target
    assert query(db18.dsn, "SELECT to_regclass('public.applied_migrations')") == [(None,)]

    assert cli("up", "--no-lint", *args).code == 0
    assert [(v, d, o) for v, d, o, _ in history(db18.dsn)] == [
        ("1", "up", "applied"), ("2", "up", "applied"), ("R__a_function", "up", "applied"), ("R__views", "up", "applied"),
    ]
    assert set(states(cli, args).values()) == {"applied"}

    # A changed repeatable is outdated, not an edited migration: status agrees, up applies it again.
    (directory / "R__views.sql").write_text("CREATE OR REPLACE VIEW v AS SELECT a, b FROM t;\n")
    status = cli("status", *args)
    assert status.code == 0 and "R__views" in status.out and "outdated" in status.out
    assert states(cli, args)["R__views"] == "outdated"
    verify = cli("verify", *args)
    assert verify.code == 1 and "repeatable migration R__views changed since it was applied" in verify.out
    assert "edited after it was applied" not in verify.out
    dry = cli("up", "--no-lint", *args, "--dry-run")
    assert [line.split(":")[0] for line in dry.out.splitlines() if line.startswith("-- up ")] == ["-- up R__views"]
    assert cli("up", "--no-lint", *args).code == 0
    assert query(db18.dsn, "SELECT attname FROM pg_attribute WHERE attrelid = 'v'::regclass AND attnum > 0 ORDER BY attnum") == [("a",), ("b",)]
    assert history(db18.dsn)[-1] == (
        "R__views", "up", "applied", "applied again: the repeatable migration changed since it was last applied",
    )
    assert query(db18.dsn, "SELECT count(*) FROM public.applied_migrations WHERE version = 'R__views'") == [(1,)]
    assert set(states(cli, args).values()) == {"applied"} and cli("verify", *args).code == 0

    # A repeatable's file removed: Flyway forgets it; neither status nor verify objects.
    (directory / "R__a_function.sql").unlink()
    assert states(cli, args)["R__a_function"] == "removed"
    assert cli("status", *args).code == 0 and cli("verify", *args).code == 0

    # A new versioned migration after applied repeatables is pending, not out of order; the
    # unchanged repeatables do not run again.
    write_migrations(directory, {"V3__w.sql": "CREATE TABLE w (id int);\n", "U3__w.sql": "DROP TABLE w;\n"})
    assert states(cli, args)["3"] == "pending"
    applied = history(db18.dsn)
    assert cli("up", "--no-lint", *args).code == 0
    assert [(v, d) for v, d, _, _ in history(db18.dsn)[len(applied):]] == [("3", "up")]

    # down rolls back the last versioned migration, never a repeatable one (Flyway's undo neither).
    assert cli("down", "--no-lint", *args).code == 0
    assert history(db18.dsn)[-1][:3] == ("3", "down", "rolled back")
    assert states(cli, args) == {"1": "applied", "2": "applied", "3": "pending", "R__a_function": "removed", "R__views": "applied"}
    redo = cli("redo", "--no-lint", *args, "--dry-run")
    assert "-- down 2_b" in redo.out and "R__" not in redo.out


def test_marquez_applies_its_three_views_last_by_description(cli, db18) -> None:
    from shared_corpus import corpus_set

    args = ("--dir", corpus_set("marquez"), "--database-url", db18.dsn)
    result = cli("up", "--no-lint", *args)
    assert result.code == 0, result.err
    applied = [version for version, *_ in history(db18.dsn)]
    assert len(applied) == 84
    assert applied[-4:] == ["74", "R__Datasets_view", "R__Jobs_view_and_rewrite_function", "R__Runs_view"]
    assert set(states(cli, args).values()) == {"applied"}
    again = cli("up", "--no-lint", *args)
    assert again.code == 0 and len(history(db18.dsn)) == 84  # nothing changed, nothing runs again
    assert query(db18.dsn, "SELECT count(*) FROM pg_views WHERE viewname IN ('datasets_view', 'jobs_view', 'runs_view')") == [(3,)]
