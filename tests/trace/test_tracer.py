"""How the tracer attributes, reports and judges what it sees (on the embedded PostgreSQL 18)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from migration_lint.layouts import load_file
from pytest_migrations.trace import (
    IN_TRANSACTION,
    OWN_TRANSACTION,
    QUEUED,
    SAMPLED,
    TRACE_RULE_NAME,
    MigrationTrace,
    trace_migration,
    traced_statements,
)
from trace_harness import SCHEMA, Sandbox


@pytest.fixture(scope="module")
def sandbox(pg_server) -> Iterator[Sandbox]:
    box = Sandbox(pg_server, pg_server.create_database())
    yield box
    pg_server.drop_database(box.database)


def trace(sandbox: Sandbox, tmp_path: Path, migration_sql: str, **options) -> tuple[str, MigrationTrace]:
    return sandbox.trace(migration_sql.rstrip().rstrip(";"), tmp_path, **options)


def test_a_lock_is_attributed_to_the_statement_that_first_took_it(sandbox, tmp_path) -> None:
    schema, result = trace(sandbox, tmp_path, "ALTER TABLE child ADD COLUMN a int;\nCREATE INDEX child_a ON child (a)")
    add_column, create_index = result.statements
    assert add_column.modes_on(f"{schema}.child") == ["ACCESS EXCLUSIVE"]
    assert create_index.modes_on(f"{schema}.child") == ["SHARE"]  # new mode, though weaker than the one held
    assert create_index.blocking_held_before and not add_column.blocking_held_before
    assert [f.line for f in result.findings] == [1, 2]
    scan = result.findings[1]
    assert (scan.mode, scan.held_mode, scan.scan, scan.blocks) == ("SHARE", "ACCESS EXCLUSIVE", True, "reads and writes")


def test_a_scan_under_a_lock_taken_earlier_is_a_finding(sandbox, tmp_path) -> None:
    schema, result = trace(
        sandbox, tmp_path,
        "ALTER TABLE child ADD COLUMN a int;\nALTER TABLE child ADD CONSTRAINT child_qty_small CHECK (qty < 1000)",
    )
    check = result.statements[1]
    assert check.acquired == () and [r.name for r in check.scanned] == [f"{schema}.child"]
    finding = result.findings[1]
    assert (finding.line, finding.mode, finding.held_mode, finding.scan) == (2, None, "ACCESS EXCLUSIVE", True)
    assert "under the ACCESS EXCLUSIVE lock taken earlier" in finding.message()


def test_relations_made_by_the_migration_are_not_findings(sandbox, tmp_path) -> None:
    schema, result = trace(
        sandbox, tmp_path,
        "CREATE TABLE fresh (id int);\nCREATE INDEX fresh_id ON fresh (id);\n"
        "ALTER TABLE fresh ADD COLUMN r float8 DEFAULT random()",
    )
    assert result.findings == []
    assert all(not fact.relation.pre_existing for st in result.statements for fact in st.acquired)
    assert result.statements[0].modes_on(f"{schema}.fresh") == ["ACCESS EXCLUSIVE"]
    assert result.statements[2].rewritten == ()  # a rewrite, but of a table nobody else can see yet


def test_an_outer_begin_commit_pair_is_dropped(sandbox, tmp_path) -> None:
    schema, result = trace(sandbox, tmp_path, "BEGIN;\nALTER TABLE child ADD COLUMN a int;\nCOMMIT")
    assert result.error is None
    assert [st.line for st in result.statements] == [2]
    assert result.statements[0].method == IN_TRANSACTION
    assert [f.relation.name for f in result.findings] == [f"{schema}.child"]
    path = tmp_path / "wrapped.sql"
    path.write_text("BEGIN;\nSELECT 1;\nCOMMIT;\n")
    assert [s.line for s in traced_statements(load_file(path))] == [2]


def test_a_migration_that_rolls_itself_back_is_refused(sandbox, tmp_path) -> None:
    _, result = trace(sandbox, tmp_path, "BEGIN;\nALTER TABLE child ADD COLUMN a int;\nROLLBACK")
    assert result.error is not None and result.error.endswith(":3: cannot trace a migration that ends its own transaction with ROLLBACK")
    assert result.statements == []


def test_a_failing_statement_names_its_line_and_rolls_the_migration_back(sandbox, tmp_path) -> None:
    schema, result = trace(sandbox, tmp_path, "ALTER TABLE child ADD COLUMN a int;\n\nALTER TABLE nowhere ADD COLUMN b int")
    assert result.error is not None
    assert result.error.startswith(f"{tmp_path}/001_{schema}.sql:3: ")
    assert "nowhere" in result.error and "(SQLSTATE 42P01)" in result.error
    assert len(result.statements) == 1 and not result.ok
    with sandbox.server.connect(sandbox.database) as conn:
        columns = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s AND table_name = 'child'"
            " AND column_name = 'a'", (schema,)
        ).fetchone()
    assert columns == (0,)


def test_a_non_transactional_migration_runs_each_statement_on_its_own(sandbox, tmp_path) -> None:
    schema, result = trace(
        sandbox, tmp_path,
        "CREATE INDEX CONCURRENTLY child_note ON child (note);\nALTER TABLE child ADD COLUMN a int",
    )
    assert result.plan is not None and result.plan.description == "outside a transaction, statement by statement"
    concurrent, add_column = result.statements
    assert (concurrent.method, add_column.method) == (SAMPLED, OWN_TRANSACTION)
    assert [(f.mode, f.seen) for f in concurrent.acquired if f.relation.name == f"{schema}.child"] == [
        ("SHARE UPDATE EXCLUSIVE", QUEUED)
    ]
    assert "outside a transaction block" in concurrent.note
    # Each statement commits on its own, so a lock is held only for its own statement.
    assert add_column.held_seconds is not None and add_column.held_seconds < result.seconds
    assert [f.line for f in result.findings] == [2]


def test_suppression_by_trace_name_or_by_the_covering_rule(sandbox, tmp_path) -> None:
    _, by_name = trace(
        sandbox, tmp_path,
        f"-- migration-lint: ignore[{TRACE_RULE_NAME}] adding a nullable column is brief\n"
        "ALTER TABLE child ADD COLUMN a int",
    )
    assert [f.suppressed for f in by_name.findings] == [True]
    assert by_name.blocking_findings == [] and by_name.ok
    _, by_rule = trace(sandbox, tmp_path, "-- migration-lint: ignore[ML001]\nCREATE INDEX child_note ON child (note)")
    assert [(f.static_codes, f.suppressed) for f in by_rule.findings] == [(("ML001",), True)]
    _, unrelated = trace(sandbox, tmp_path, "-- migration-lint: ignore[ML012]\nCREATE INDEX child_note ON child (note)")
    assert [f.suppressed for f in unrelated.findings] == [False]
    assert len(unrelated.blocking_findings) == 1


def test_covered_findings_name_the_rule_and_gaps_say_so(sandbox, tmp_path) -> None:
    _, column = trace(sandbox, tmp_path, "ALTER TABLE child ADD COLUMN a int")
    (waits,) = column.findings
    # ML010 (no lock_timeout) is about waiting: it covers a lock held for a catalog update only ...
    assert waits.static_codes == ("ML010",) and not waits.catalogue_gap
    _, index = trace(sandbox, tmp_path, "CREATE INDEX child_note ON child (note)")
    (covered,) = index.findings
    # ... but not one held for a scan, which only a rule about the scan covers.
    assert {s.code for s in index.statements[0].static} >= {"ML001", "ML010"}
    assert covered.static_codes == ("ML001",) and "static rule: ML001" in covered.message()
    # CREATE RULE takes ACCESS EXCLUSIVE on its table, and no rule (ML010 included) looks at it.
    _, gap = trace(sandbox, tmp_path, "CREATE RULE child_quiet AS ON DELETE TO child DO INSTEAD NOTHING")
    (finding,) = gap.findings
    assert finding.catalogue_gap and "no static rule flags this statement (catalogue gap)" in finding.message()


def test_a_catalog_only_lock_under_a_lock_timeout_is_brief(sandbox, tmp_path) -> None:
    _, result = trace(sandbox, tmp_path, "SET lock_timeout = '2s';\nALTER TABLE child ADD COLUMN a int")
    (finding,) = result.findings
    assert (finding.brief, finding.severity, finding.lock_timeout) == (True, "brief", "2s")
    assert result.ok and result.blocking_findings == [] and result.brief_findings == [finding]
    assert not finding.catalogue_gap and "brief: a catalog update under lock_timeout 2s" in finding.message()
    assert "(0 blocking, 1 brief)" in result.format()
    # The deploy's lock_timeout counts as well: set on the session, a SET in the file wins over it.
    _, deployed = trace(sandbox, tmp_path, "ALTER TABLE child ADD COLUMN a int", lock_timeout="3s")
    assert [(f.brief, f.lock_timeout) for f in deployed.findings] == [(True, "3s")]
    _, overridden = trace(sandbox, tmp_path, "SET lock_timeout = 0;\nALTER TABLE child ADD COLUMN a int", lock_timeout="3s")
    assert [(f.brief, f.lock_timeout) for f in overridden.findings] == [(False, "0")]
    assert not overridden.ok and "blocking: no lock_timeout" in overridden.findings[0].message()


def test_a_rewrite_a_scan_or_later_work_is_never_brief(sandbox, tmp_path) -> None:
    _, rewrite = trace(sandbox, tmp_path, "ALTER TABLE child ALTER COLUMN id TYPE bigint", lock_timeout="2s")
    assert [(f.brief, f.rewrite) for f in rewrite.findings] == [(False, True)]
    assert "blocking: held for the whole rewrite" in rewrite.findings[0].message()
    _, scan = trace(sandbox, tmp_path, "CREATE INDEX child_note ON child (note)", lock_timeout="2s")
    assert [(f.brief, f.scan) for f in scan.findings] == [(False, True)] and not scan.ok
    schema, later = trace(
        sandbox, tmp_path, "ALTER TABLE child ADD COLUMN a int;\nUPDATE loose SET v = v + 1", lock_timeout="2s"
    )
    (held,) = later.findings
    assert (held.line, held.brief, held.held_through) == (1, False, f"line 2 scans {schema}.loose")
    assert held.static_codes == ("ML031",)  # work-after-exclusive-lock flags the UPDATE
    assert "held while line 2 scans" in held.message() and "blocking: held through later work" in held.message()
    # A sequence is rewritten in constant time: ALTER SEQUENCE ... RESTART is a catalog update.
    _, sequence = trace(sandbox, tmp_path, "ALTER SEQUENCE counter RESTART WITH 100", lock_timeout="2s")
    assert [(f.rewrite, f.brief) for f in sequence.findings] == [(True, True)]


def test_without_the_linter_findings_say_the_rule_is_unknown(sandbox, tmp_path) -> None:
    _, result = trace(sandbox, tmp_path, "ALTER TABLE child ADD COLUMN a int", static=False)
    assert not result.static_available
    assert not result.findings[0].catalogue_gap
    assert "static rule: unknown" in result.findings[0].message()


def test_trace_rows_fills_tables_and_measures_how_long_locks_are_held(sandbox, tmp_path) -> None:
    schema, dsn = sandbox.new_schema()
    with sandbox.server.connect(sandbox.database) as conn:
        conn.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(schema)))
        conn.execute(
            "CREATE TABLE author (id serial PRIMARY KEY, name varchar(5) NOT NULL, at timestamptz NOT NULL,"
            " u uuid NOT NULL UNIQUE, doc jsonb, mood mood NOT NULL);"
            "CREATE TABLE book (id bigint GENERATED ALWAYS AS IDENTITY, author_id int NOT NULL REFERENCES author (id),"
            " day date NOT NULL, price numeric(8, 2), tags text[] NOT NULL, ok boolean NOT NULL);"
            "CREATE TABLE shape (id int, p point NOT NULL);"
            "TRUNCATE child, remark, parent, loose, events"
        )
    path = tmp_path / "001_rows.sql"
    path.write_text("ALTER TABLE book ADD COLUMN r float8 DEFAULT random();\n")
    result = trace_migration(dsn, load_file(path), trace_rows=300)
    seeded = {s.table.removeprefix(f"{schema}."): s for s in result.seeded}
    assert seeded["author"].rows == 300 and seeded["book"].rows == 300 and seeded["parent"].rows == 300
    assert seeded["shape"].rows == 0 and "no value generator for NOT NULL column(s) p" in seeded["shape"].reason
    with sandbox.server.connect(sandbox.database) as conn:
        count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, "book"))).fetchone()
    assert count == (300,)
    finding = result.findings[0]
    assert finding.rewrite and finding.held_seconds is not None and finding.held_seconds > 0
    assert "until commit" in finding.message()
    again = trace_migration(dsn, _file(tmp_path, "002_more.sql", "SELECT 1"), trace_rows=300)
    assert {s.reason for s in again.seeded if s.table.endswith((".author", ".book"))} == {"already has rows"}


def _file(directory: Path, name: str, text: str):
    path = directory / name
    path.write_text(text + ";\n")
    return load_file(path)


def test_json_report_is_plain_data(sandbox, tmp_path) -> None:
    schema, result = trace(sandbox, tmp_path, "ALTER TABLE child ALTER COLUMN id TYPE bigint")
    document = json.loads(json.dumps(result.to_json()))
    assert document["server_version"] == 18 and document["error"] is None
    (finding,) = document["findings"]
    assert finding["relation"]["name"] == f"{schema}.child" and finding["rewrite"] is True
    assert finding["blocks"] == "reads and writes" and finding["static_rules"] == ["ML006"]
    (statement,) = document["statements"]
    assert statement["line"] == 1 and statement["kind"] == "AlterTableStmt"
    assert {"name": f"{schema}.child", "kind": "table", "of": None, "pre_existing": True, "renamed_to": None} in [
        relation for relation in statement["rewritten"]
    ]
    text = result.format(verbose=True)
    assert "rewrites it" in text and "AlterTableStmt" in text


def test_a_failing_commit_keeps_the_statements_traced_so_far(sandbox, tmp_path) -> None:
    _, result = trace(
        sandbox, tmp_path,
        "ALTER TABLE loose ADD CONSTRAINT loose_parent FOREIGN KEY (v) REFERENCES parent (id)"
        " DEFERRABLE INITIALLY DEFERRED;\nINSERT INTO loose VALUES (1000, 999)",
    )
    assert result.error is not None and ": COMMIT failed: " in result.error and "(SQLSTATE 23503)" in result.error
    assert [st.line for st in result.statements] == [1, 2]


def test_a_static_finding_the_trace_contradicts_is_reported_harmless(sandbox, tmp_path) -> None:
    _, result = trace(sandbox, tmp_path, "ALTER TABLE child SET LOGGED")
    ((statement, static),) = result.harmless_static
    assert static.code == "ML028" and "rewrote no existing table" in static.harmless
    assert "static ML028 (table-rewriting-alter) is harmless here" in result.format()
    assert result.to_json()["harmless_static"] == [
        {"path": str(statement.path), "line": 1, "code": "ML028", "rule": "table-rewriting-alter",
         "reason": static.harmless}
    ]


def test_a_type_change_without_rewrite_still_rebuilds_an_expression_index(sandbox, tmp_path) -> None:
    """Found in the corpus (docsrs): varchar to text is binary coercible, so ML006 stays silent,
    but an index whose expression uses the column is built anew, reading the table under ACCESS
    EXCLUSIVE. A known catalogue gap (docs/lock-tracing.md)."""
    schema, dsn = sandbox.new_schema()
    with sandbox.server.connect(sandbox.database) as conn:
        conn.execute(sql.SQL("CREATE INDEX child_label_lower ON {} (lower(label))").format(sql.Identifier(schema, "child")))
    result = trace_migration(dsn, _file(tmp_path, "001_text.sql", "ALTER TABLE child ALTER COLUMN label TYPE text"),
                             lock_timeout="2s", history=[load_file(SCHEMA)])
    (finding,) = result.findings
    assert (finding.mode, finding.scan, finding.rewrite, finding.brief) == ("ACCESS EXCLUSIVE", True, False, False)
    assert finding.catalogue_gap
