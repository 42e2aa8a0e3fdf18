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
    ESCAPED,
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


ESCAPE = ("ALTER TABLE t ADD COLUMN v int;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (v);\n"
          "CREATE INDEX CONCURRENTLY j ON t (id);\nBEGIN;\nUPDATE t SET v = 1;\n")


def test_wrap_statement_by_statement_tools_run_an_escape_as_written():
    # goose and sql-migrate send each statement in their transaction: the file's COMMIT ends it,
    # the statements up to its BEGIN run in autocommit, and the tool's COMMIT ends the last block.
    plan = plan_section(migration(ESCAPE, rule="wrap"), "up")
    assert (plan.mode, plan.cause, plan.refusal) == (ESCAPED, BY_FILE, None)
    assert [b.block for b in plan.batches] == [TOOL_BLOCK, None, None, FILE_BLOCK]
    assert texts(plan)[0] == ["ALTER TABLE t ADD COLUMN v int", "COMMIT"]
    assert plan.tool_commits_last_block and not plan.sent_as_one_query
    assert plan.escape is plan.section.statements[1]
    assert "from line 3 run on their own, outside a transaction" in plan.reason
    index = plan.section.statements[2]
    assert plan.could_run_outside(index) and plan.block_of(index) is None
    assert not plan.could_run_outside(plan.section.statements[0])
    assert not plan.atomic and not plan.in_tool_transaction and not plan.whole_section_in_block


def test_wrap_one_query_tools_run_the_escaped_part_in_the_querys_implicit_block():
    # dbmate, sqlx and Diesel send the section as one query: after the COMMIT, PostgreSQL runs
    # the rest in an implicit block, which the file's BEGIN makes explicit (one transaction).
    m = dataclasses.replace(migration(ESCAPE, rule="wrap"), sent_as_one_query=True)
    plan = plan_section(m, "up")
    assert plan.mode == ESCAPED and plan.sent_as_one_query and plan.tool_commits_last_block
    assert [b.block for b in plan.batches] == [TOOL_BLOCK, IMPLICIT]
    assert not plan.could_run_outside(plan.section.statements[2])
    assert "implicit transaction block of the one query" in plan.reason


def test_wrap_a_commit_with_no_begin_after_it_leaves_the_tools_commit_nothing_to_end():
    plan = plan_section(migration("CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n", rule="wrap"), "up")
    assert plan.mode == ESCAPED and plan.refusal is None and not plan.tool_commits_last_block
    assert [b.block for b in plan.batches] == [TOOL_BLOCK, None]
    assert "COMMIT finds none (PostgreSQL warns)" in plan.reason


def test_wrap_two_blocks_of_its_own_the_first_begin_only_warns():
    plan = plan_section(migration(TWO_BLOCKS, rule="wrap"), "up")
    assert plan.mode == ESCAPED and plan.refusal is None
    assert [b.block for b in plan.batches] == [TOOL_BLOCK, FILE_BLOCK]
    assert texts(plan)[0] == ["BEGIN", "CREATE TABLE a (id int)", "COMMIT"]
    assert not plan.tool_commits_last_block


def test_wrap_refuses_what_the_tool_itself_would_get_wrong():
    cases = {
        "CREATE TABLE a (id int);\nROLLBACK;\nBEGIN;\n": "001_m.sql:2: ROLLBACK undoes the statements before it",
        "CREATE TABLE a (id int);\nPREPARE TRANSACTION 'x';\n": "001_m.sql:2: PREPARE in a migration",
        "COMMIT;\nSAVEPOINT s;\nBEGIN;\n": "001_m.sql:2: SAVEPOINT outside a transaction block fails",
    }
    for sql, refusal in cases.items():
        plan = plan_section(migration(sql, rule="wrap"), "up")
        assert plan.mode == TOOL_TRANSACTION and plan.refusal is not None and plan.refusal.startswith(refusal), plan.refusal
        assert not plan.atomic


def test_assumed_in_transaction_still_refuses_a_commit_in_the_middle():
    # --assume-in-transaction names no tool: there is nothing to follow.
    plan = plan_section(migration(ESCAPE), "up", rule="wrap")
    assert plan.refusal is not None and plan.refusal.startswith("001_m.sql:2: COMMIT would end the transaction")


def test_split_sends_each_statement_on_its_own():
    plan = plan_section(migration("CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY i ON a (id);\n", rule="split"), "up")
    assert (plan.mode, plan.refusal) == (STATEMENT_BY_STATEMENT, None)
    assert [b.block for b in plan.batches] == [None, None] and not plan.whole_section_in_block


def test_split_refuses_a_semicolon_inside_a_statement():
    body = ("CREATE TABLE a (id int);\n"
            "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND $$;\n")
    plan = plan_section(migration(body, rule="split"), "up")
    assert plan.refusal is not None and plan.refusal.startswith("001_m.sql:4: golang-migrate with x-multi-statement")
    comment = plan_section(migration("-- first; then\nCREATE TABLE a (id int);\n", rule="split"), "up")
    assert comment.refusal is not None and comment.refusal.startswith("001_m.sql:1:")
    fine = plan_section(migration("-- first;\nCREATE TABLE a (id int);\nSELECT 'a' || 'b';\n", rule="split"), "up")
    assert fine.refusal is None


def test_a_marker_wins_under_every_rule():
    for rule in ("detect", "wrap", "implicit", "split"):
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
