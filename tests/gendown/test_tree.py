"""What the parse tree alone says about a DOWN, and where each layout keeps it (no server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_lint.gendown import Down, invert_section, place_down, render, tree_down
from migration_lint.gendown.tree import copy_of
from migration_lint.layouts import discover
from migration_lint.parse import split_statements


def _inverse(sql: str):  # type: ignore[no-untyped-def]
    return invert_section(split_statements(sql))


@pytest.mark.parametrize(("up", "down"), [
    ("CREATE TABLE shop.orders (id int)", "DROP TABLE IF EXISTS shop.orders;"),
    ('CREATE TABLE "Orders" (id int)', 'DROP TABLE IF EXISTS "Orders";'),
    ("CREATE INDEX orders_idx ON orders (a)", "DROP INDEX IF EXISTS orders_idx;"),
    ("CREATE INDEX CONCURRENTLY orders_idx ON shop.orders (a)", "DROP INDEX CONCURRENTLY IF EXISTS shop.orders_idx;"),
    ("CREATE SEQUENCE s", "DROP SEQUENCE IF EXISTS s;"),
    ("CREATE VIEW v AS SELECT 1", "DROP VIEW IF EXISTS v;"),
    ("CREATE MATERIALIZED VIEW m AS SELECT 1", "DROP MATERIALIZED VIEW IF EXISTS m;"),
    ("CREATE TYPE mood AS ENUM ('a')", "DROP TYPE IF EXISTS mood;"),
    ("CREATE DOMAIN positive AS int CHECK (VALUE > 0)", "DROP DOMAIN IF EXISTS positive;"),
    ("CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION f()", "DROP TRIGGER IF EXISTS t ON orders;"),
    ("CREATE POLICY p ON orders USING (true)", "DROP POLICY IF EXISTS p ON orders;"),
    ("CREATE EXTENSION pg_trgm", "DROP EXTENSION IF EXISTS pg_trgm;"),
    ("CREATE SCHEMA shop", "DROP SCHEMA IF EXISTS shop;"),
    ("ALTER TABLE orders ADD COLUMN note text", "ALTER TABLE orders DROP COLUMN IF EXISTS note;"),
    ("ALTER TABLE orders ADD CONSTRAINT c CHECK (a > 0)", "ALTER TABLE orders DROP CONSTRAINT IF EXISTS c;"),
    ("ALTER TABLE orders RENAME TO purchases", "ALTER TABLE purchases RENAME TO orders;"),
    ("ALTER TABLE shop.orders RENAME TO purchases", "ALTER TABLE shop.purchases RENAME TO orders;"),
    ("ALTER TABLE orders RENAME COLUMN a TO b", "ALTER TABLE orders RENAME COLUMN b TO a;"),
    ("ALTER INDEX i RENAME TO j", "ALTER INDEX j RENAME TO i;"),
    ("ALTER TABLE orders RENAME CONSTRAINT c TO d", "ALTER TABLE orders RENAME CONSTRAINT d TO c;"),
    ("ALTER TRIGGER t ON orders RENAME TO u", "ALTER TRIGGER u ON orders RENAME TO t;"),
    ("ALTER TYPE mood RENAME TO feeling", "ALTER TYPE feeling RENAME TO mood;"),
    ("ALTER TYPE mood RENAME VALUE 'a' TO 'b'", "ALTER TYPE mood RENAME VALUE 'b' TO 'a';"),
])  # fmt: skip
def test_the_tree_knows_these_inverses(up: str, down: str) -> None:
    [inverse] = _inverse(up)
    assert inverse.sql == (down,)
    assert inverse.exact and inverse.irreversible is None


def test_concurrently_runs_outside_a_transaction() -> None:
    [inverse] = _inverse("CREATE INDEX CONCURRENTLY i ON t (a)")
    assert inverse.outside_transaction


@pytest.mark.parametrize(("up", "restore"), [
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint", "AlterColumnType"),
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint", "AlterColumnType"),
    ("ALTER TABLE t ALTER COLUMN a SET DEFAULT 1", "ColumnDefault"),
    ("DROP INDEX i", "the index i as it was"),
    ("COMMENT ON TABLE t IS 'x'", "the previous comment"),
    ("GRANT SELECT ON t TO PUBLIC", "the privileges as they were"),
    ("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1'", "previous definition"),
])  # fmt: skip
def test_what_only_the_catalog_can_undo(up: str, restore: str) -> None:
    [inverse] = _inverse(up)
    assert inverse.needs_catalog and restore in (inverse.restore or "")


@pytest.mark.parametrize(("up", "reason"), [
    ("UPDATE orders SET status = 'x'", "changes rows of orders"),
    ("DELETE FROM orders", "deletes rows of orders"),
    ("INSERT INTO orders VALUES (1)", "adds rows to orders"),
    ("ALTER TYPE mood ADD VALUE 'calm'", "cannot remove the value 'calm'"),
    ("ALTER TABLE orders DROP COLUMN note", "values of column orders.note are gone"),
    ("DROP TABLE orders", "rows of orders are gone"),
    ("DO $$ BEGIN DELETE FROM orders; END $$", "DO block"),
    ("SELECT my_backfill()", "my_backfill()"),
    ("ALTER TABLE t ALTER COLUMN a TYPE level USING CASE WHEN a THEN 'x' END", "USING expression"),
])  # fmt: skip
def test_what_cannot_be_undone(up: str, reason: str) -> None:
    [inverse] = _inverse(up)
    assert reason in (inverse.irreversible or "")


def test_rows_written_to_what_the_up_creates_need_no_undoing() -> None:
    inverses = _inverse("""
        CREATE TABLE t (a int);
        INSERT INTO t VALUES (1);
        ALTER TABLE u ADD COLUMN b int;
        UPDATE u SET b = 0;
        UPDATE u SET c = 0;
    """)
    assert [inverse.nothing for inverse in inverses] == [False, True, False, True, False]
    assert "changes rows of u" in (inverses[-1].irreversible or "")


def test_settings_and_maintenance_change_nothing() -> None:
    assert all(inverse.nothing for inverse in _inverse("SET lock_timeout = '1s'; VACUUM t; ANALYZE t; BEGIN; COMMIT;"))


def test_tree_down_says_what_it_cannot_know(tmp_path: Path) -> None:
    (tmp_path / "001_x.sql").write_text(
        "-- UP\nSET lock_timeout = '3s';\nCREATE TABLE t (a int);\nALTER TABLE u ALTER COLUMN a TYPE bigint;\n"
        "ALTER TABLE u ALTER COLUMN b SET NOT NULL;\nUPDATE u SET a = 1;\n"
    )
    [migration] = discover(tmp_path)
    down, unknown = tree_down(migration)
    text = render(down, migration.up)
    assert unknown == 2
    assert text.split("\n")[1:] == [
        "-- irreversible: changes rows of u: the rows as they were are not kept",
        "SET lock_timeout = '3s';",
        "-- assumes the previous state (the column was nullable)",
        "ALTER TABLE u ALTER COLUMN b DROP NOT NULL;",
        "-- TODO line 4: restore what AlterColumnType changed on a",
        "DROP TABLE IF EXISTS t;",
        "",
    ]


# -- where each layout keeps its DOWN ----------------------------------------------------------------

DOWN = "DROP TABLE IF EXISTS t;\n"


def _placed(directory: Path, text: str = DOWN, *, outside: bool = False) -> Path:
    [migration] = discover(directory)
    placement = place_down(migration, text, outside_transaction=outside)
    for path, content in placement.files.items():
        path.write_text(content)
    [again] = discover(directory)
    assert again.down is not None and again.down.sql.strip() == placement.down.sql.strip()
    assert again.down.first_line == placement.down.first_line
    return next(iter(placement.files))


def test_onefile_gains_a_down_section(tmp_path: Path) -> None:
    (tmp_path / "001_t.sql").write_text("-- UP\nCREATE TABLE t (a int);\n")
    path = _placed(tmp_path)
    assert path.read_text() == "-- UP\nCREATE TABLE t (a int);\n\n-- DOWN\n" + DOWN


def test_onefile_without_markers_gains_both(tmp_path: Path) -> None:
    (tmp_path / "001_t.sql").write_text("CREATE TABLE t (a int);\n")
    assert _placed(tmp_path).read_text() == "-- UP\nCREATE TABLE t (a int);\n\n-- DOWN\n" + DOWN


def test_onefile_down_is_replaced_and_a_commented_one_stays_commented(tmp_path: Path) -> None:
    (tmp_path / "001_t.sql").write_text("-- UP\nCREATE TABLE t (a int);\n-- DOWN\n-- DROP TABLE x;\n")
    assert _placed(tmp_path).read_text() == "-- UP\nCREATE TABLE t (a int);\n-- DOWN\n-- DROP TABLE IF EXISTS t;\n"


def test_goose_file_gets_a_goose_marker(tmp_path: Path) -> None:
    (tmp_path / "20240101000000_t.sql").write_text("-- +goose Up\nCREATE TABLE t (a int);\n")
    assert _placed(tmp_path).read_text().endswith("\n-- +goose Down\n" + DOWN)


def test_paired_writes_the_down_file_marked_like_its_up(tmp_path: Path) -> None:
    (tmp_path / "1_t.up.sql").write_text("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n")
    path = _placed(tmp_path, "DROP INDEX CONCURRENTLY IF EXISTS i;\n", outside=True)
    assert path.name == "1_t.down.sql"
    assert path.read_text() == "-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS i;\n"


def test_folders_write_down_sql(tmp_path: Path) -> None:
    (tmp_path / "2024-01-01-000000_t").mkdir()
    (tmp_path / "2024-01-01-000000_t" / "up.sql").write_text("CREATE TABLE t (a int);\n")
    assert _placed(tmp_path) == tmp_path / "2024-01-01-000000_t" / "down.sql"


def test_dbmate_section_says_transaction_false(tmp_path: Path) -> None:
    (tmp_path / "20240101000000_t.sql").write_text("-- migrate:up\nCREATE TABLE t (a int);\n\n-- migrate:down\nSELECT 1;\n")
    text = _placed(tmp_path, "DROP INDEX CONCURRENTLY IF EXISTS i;\n", outside=True).read_text()
    assert text == ("-- migrate:up\nCREATE TABLE t (a int);\n\n-- migrate:down transaction:false\n"
                    "DROP INDEX CONCURRENTLY IF EXISTS i;\n")  # fmt: skip


def test_flyway_writes_an_undo_file_and_its_configuration(tmp_path: Path) -> None:
    (tmp_path / "V1.2__t.sql").write_text("CREATE INDEX CONCURRENTLY i ON t (a);\n")
    [migration] = discover(tmp_path)
    placement = place_down(migration, "DROP INDEX CONCURRENTLY IF EXISTS i;\n", outside_transaction=True)
    assert sorted(path.name for path in placement.files) == ["U1.2__t.sql", "U1.2__t.sql.conf"]
    assert placement.files[tmp_path / "U1.2__t.sql.conf"] == "executeInTransaction=false\n"


def test_render_sets_the_ups_lock_timeout(tmp_path: Path) -> None:
    (tmp_path / "001_t.sql").write_text("-- UP\nSET LOCAL lock_timeout TO '5s';\nALTER TABLE t ADD COLUMN a int;\n")
    [migration] = discover(tmp_path)
    text = render(Down(["ALTER TABLE t DROP COLUMN IF EXISTS a;"]), migration.up)
    assert text == "SET LOCAL lock_timeout TO '5s';\nALTER TABLE t DROP COLUMN IF EXISTS a;\n"


def test_render_writes_keywords_in_the_case_of_the_up(tmp_path: Path) -> None:
    (tmp_path / "001_t.sql").write_text("-- UP\ncreate table orders (id int, \"Note\" text default 'NOT NULL');\n")
    [migration] = discover(tmp_path)
    down = Down(["ALTER TABLE orders ADD COLUMN \"Note\" text DEFAULT 'NOT NULL'::text;",
                 "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;"])
    assert render(down, migration.up) == (
        "alter table orders add column \"Note\" text default 'NOT NULL'::text;\n"
        "create function f() returns int as $$ SELECT 1 $$ language sql;\n"
    )


@pytest.mark.parametrize(("sql", "columns"), [
    ("INSERT INTO b (x, y, z) SELECT a, c::text, 1 FROM s.old", (("x", "a"), ("y", "c"), ("z", None))),
    ("INSERT INTO b SELECT a FROM old", ((None, "a"),)),
    ("INSERT INTO b SELECT * FROM old", ()),
    ("INSERT INTO b SELECT a FROM old WHERE a > 1", None),
    ("INSERT INTO b SELECT a FROM old JOIN other USING (a)", None),
    ("INSERT INTO b VALUES (1)", None),
])  # fmt: skip
def test_copies_the_down_can_run_back(sql: str, columns: tuple | None) -> None:
    [statement] = split_statements(sql)
    copy = copy_of(statement)
    if columns is None:
        assert copy is None
    else:
        assert copy is not None and copy.columns == columns and copy.star == ("*" in sql)
