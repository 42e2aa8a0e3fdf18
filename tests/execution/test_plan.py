"""The execution plan of a section, per rule of the tool that owns the layout (no server)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from migration_lint.execution import (
    BY_FILE,
    BY_MARKER,
    BY_RULE,
    BY_STATEMENT,
    FILE_BLOCK,
    IMPLICIT,
    IMPLICIT_BLOCK,
    STATEMENT_BY_STATEMENT,
    TOOL_BLOCK,
    TOOL_TRANSACTION,
    implicit_blocks,
    plan_section,
)
from migration_lint.model import Migration, Section, Version

TWO_BLOCKS = "BEGIN; CREATE TABLE a (id int); COMMIT; BEGIN; CREATE TABLE b (id int); COMMIT;"


def migration(up: str, *, rule: str = "detect", down: str | None = None, marker: bool = False,
              version: str = "1") -> Migration:
    path = Path("001_m.sql")
    return Migration(
        Version.parse(version) if version else Version("", ()), "m", Section(up, path),
        None if down is None else Section(down, path), (path,), "onefile",
        no_transaction_marker=marker, transaction_rule=rule,
    )


def texts(plan) -> list[list[str]]:
    return [[s.text for s in batch.statements] for batch in plan.batches]


def test_detect_runs_a_plain_section_in_the_tools_transaction():
    plan = plan_section(migration("CREATE TABLE a (id int); CREATE TABLE b (id int)"), "up")
    assert (plan.mode, plan.cause, plan.refusal) == (TOOL_TRANSACTION, BY_RULE, None)
    assert [b.block for b in plan.batches] == [TOOL_BLOCK]
    assert plan.in_tool_transaction and plan.atomic


def test_detect_runs_a_file_with_blocks_of_its_own_as_written():
    plan = plan_section(migration(TWO_BLOCKS), "up")
    assert (plan.mode, plan.cause, plan.refusal) == (STATEMENT_BY_STATEMENT, BY_FILE, None)
    assert [b.block for b in plan.batches] == [FILE_BLOCK, FILE_BLOCK]
    assert texts(plan)[0] == ["BEGIN", "CREATE TABLE a (id int)", "COMMIT"]
    assert not plan.atomic and not plan.whole_section_in_block


def test_an_outer_pair_becomes_the_tools_transaction_under_detect_and_wrap():
    sql = "SET lock_timeout = '1s'; BEGIN; CREATE TABLE a (id int); SAVEPOINT s; COMMIT;"
    for rule in ("detect", "wrap"):
        plan = plan_section(migration(sql, rule=rule), "up")
        assert plan.mode == TOOL_TRANSACTION and plan.refusal is None
        assert [s.text for s in plan.dropped] == ["BEGIN", "COMMIT"]
        assert texts(plan) == [["SET lock_timeout = '1s'", "CREATE TABLE a (id int)", "SAVEPOINT s"]]
        # Under detect the tool's transaction replaces the pair; a wrapping tool opens its own
        # first, so the file's BEGIN nests in it (the linter's transaction-nesting).
        assert plan.in_tool_transaction == (rule == "wrap")


def test_detect_leaves_a_transaction_for_a_statement_postgres_refuses_in_one():
    plan = plan_section(migration("SET lock_timeout = '1s';\nCREATE INDEX CONCURRENTLY i ON t (c);"), "up")
    assert (plan.mode, plan.cause) == (STATEMENT_BY_STATEMENT, BY_STATEMENT)
    assert "CREATE INDEX CONCURRENTLY at 001_m.sql:2" in plan.reason
    assert [b.block for b in plan.batches] == [None, None]


def test_wrap_keeps_concurrently_in_the_tools_transaction():
    plan = plan_section(migration("CREATE INDEX CONCURRENTLY i ON t (c);", rule="wrap"), "up")
    assert (plan.mode, plan.cause, plan.refusal) == (TOOL_TRANSACTION, BY_RULE, None)
    assert not plan.could_run_outside(plan.section.statements[0])


def test_wrap_refuses_transaction_control_that_ends_the_tools_transaction():
    plan = plan_section(migration(TWO_BLOCKS, rule="wrap"), "up")
    assert plan.mode == TOOL_TRANSACTION
    assert plan.refusal is not None and plan.refusal.startswith("001_m.sql:1: COMMIT would end the transaction")
    assert not plan.atomic


def test_a_marker_wins_under_every_rule():
    for rule in ("detect", "wrap", "implicit"):
        plan = plan_section(migration("CREATE TABLE a (id int); CREATE TABLE b (id int)", rule=rule, marker=True), "up")
        assert (plan.mode, plan.cause) == (STATEMENT_BY_STATEMENT, BY_MARKER)


def test_implicit_sends_the_file_as_one_query():
    plan = plan_section(migration("CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY i ON a (id);", rule="implicit"), "up")
    assert plan.mode == IMPLICIT_BLOCK and [b.block for b in plan.batches] == [IMPLICIT]
    assert plan.script == plan.section.sql and plan.whole_section_in_block
    lone = plan_section(migration("CREATE INDEX CONCURRENTLY i ON a (id);", rule="implicit"), "up")
    assert [b.block for b in lone.batches] == [None] and not lone.whole_section_in_block
    assert lone.could_run_outside(lone.section.statements[0]) and not lone.atomic
    assert not plan.could_run_outside(plan.section.statements[1])


def test_implicit_blocks_end_at_commit_and_rollback_not_at_begin():
    section = Section("CREATE TABLE a (id int); BEGIN; CREATE TABLE b (id int); COMMIT; CREATE TABLE c (id int);"
                      " ROLLBACK; CREATE TABLE d (id int)", Path("x.sql"))
    blocks = implicit_blocks(section.statements)
    assert [[s.text.split()[2] if s.kind == "CreateStmt" else s.text for s in b] for b in blocks] == [
        ["a", "BEGIN", "b", "COMMIT"], ["c", "ROLLBACK"], ["d"]]


def test_implicit_with_transaction_control_is_not_atomic():
    plan = plan_section(migration(TWO_BLOCKS, rule="implicit"), "up")
    assert plan.mode == IMPLICIT_BLOCK and plan.refusal is None and not plan.atomic


def test_a_file_outside_a_directory_runs_as_psql_runs_it():
    plan = plan_section(migration("CREATE TABLE a (id int); CREATE TABLE b (id int)", version=""), "up")
    assert plan.mode == STATEMENT_BY_STATEMENT and plan.rule == "as-written"
    assert plan_section(migration("CREATE TABLE a (id int)", version=""), "up", rule="wrap").mode == TOOL_TRANSACTION


def test_down_is_planned_on_its_own():
    m = migration("CREATE TABLE a (id int)", down="DROP INDEX CONCURRENTLY i")
    assert plan_section(m, "up").mode == TOOL_TRANSACTION
    assert plan_section(m, "down").mode == STATEMENT_BY_STATEMENT
    with pytest.raises(ValueError):
        plan_section(dataclasses.replace(m, down=None), "down")
