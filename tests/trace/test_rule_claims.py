"""What some rules claim about PostgreSQL, seen on the real servers (15 and 18) in the server's own
words: the DEBUG1 messages of ALTER TABLE ("verifying table", "validating foreign key
constraint", "rewriting table") and the catalog state a failed CREATE INDEX CONCURRENTLY leaves.

The lock and scan facts of the same statements are pinned by the statement-kind cases
(``trace_cases.py``); these tests hold the reasons the rules give.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

SERVERS = [pytest.param("pg_server", id="pg18"), pytest.param("system_pg_server", id="pg15", marks=pytest.mark.system_pg)]


@pytest.fixture(params=SERVERS)
def conn(request: pytest.FixtureRequest) -> Iterator[psycopg.Connection]:
    server = request.getfixturevalue(request.param)
    database = server.create_database()
    try:
        with server.connect(database) as connection:
            connection.execute("CREATE TABLE parent (id int PRIMARY KEY)")
            connection.execute("INSERT INTO parent SELECT generate_series(1, 20)")
            connection.execute("CREATE TABLE child (id int, qty int, at timestamptz)")
            connection.execute("INSERT INTO child SELECT g, g, now() FROM generate_series(1, 20) AS g")
            connection.execute("ALTER TABLE child ADD CONSTRAINT child_qty_nn CHECK (qty IS NOT NULL)")
            yield connection
    finally:
        server.drop_database(database)


def debug_messages(conn: psycopg.Connection, sql: str) -> list[str]:
    """The DEBUG1 messages the server sends while running ``sql``."""
    messages: list[str] = []

    def keep(diagnostic: psycopg.errors.Diagnostic) -> None:
        messages.append(diagnostic.message_primary or "")

    conn.add_notice_handler(keep)
    try:
        conn.execute("SET client_min_messages = debug1")
        conn.execute(sql)
        conn.execute("RESET client_min_messages")
    finally:
        conn.remove_notice_handler(keep)
    return [m for m in messages if "toast" not in m and "deduplication" not in m]


@pytest.mark.parametrize("actions", [
    "ALTER COLUMN qty SET NOT NULL, DROP CONSTRAINT child_qty_nn",
    "DROP CONSTRAINT child_qty_nn, ALTER COLUMN qty SET NOT NULL",
])
def test_set_not_null_beside_the_drop_of_its_check_scans_the_table(conn, actions) -> None:
    # ML032 never suggests combining them; ML008 flags them combined.
    assert debug_messages(conn, f"ALTER TABLE child {actions}") == ['verifying table "child"']


def test_set_not_null_then_drop_of_its_check_scans_nothing(conn) -> None:
    messages = debug_messages(conn, "ALTER TABLE child ALTER COLUMN qty SET NOT NULL")
    assert not [m for m in messages if m.startswith("verifying table")], messages
    assert debug_messages(conn, "ALTER TABLE child DROP CONSTRAINT child_qty_nn") == []


def test_add_column_references_validates_only_with_a_default(conn) -> None:
    # ML004: without a default every row holds NULL; with one (even NULL) the key is checked.
    assert debug_messages(conn, "ALTER TABLE child ADD COLUMN p1 int REFERENCES parent (id)") == []
    assert debug_messages(conn, "ALTER TABLE child ADD COLUMN p2 int DEFAULT 1 REFERENCES parent (id)") == [
        'validating foreign key constraint "child_p2_fkey"']
    assert debug_messages(conn, "ALTER TABLE child ADD COLUMN p3 int DEFAULT NULL REFERENCES parent (id)") == [
        'validating foreign key constraint "child_p3_fkey"']


def test_timestamptz_to_timestamp_rewrites_only_outside_utc(conn) -> None:
    # ML006: a DOWN that sets TimeZone UTC before turning timestamptz back into timestamp.
    assert debug_messages(conn, "SET TimeZone = 'UTC'; ALTER TABLE child ALTER COLUMN at TYPE timestamp") == []
    assert debug_messages(conn, "SET TimeZone = 'UTC'; ALTER TABLE child ALTER COLUMN at TYPE timestamptz") == []
    assert debug_messages(conn, "SET TimeZone = 'Europe/Paris'; ALTER TABLE child ALTER COLUMN at TYPE timestamp") == [
        'rewriting table "child"']


def test_create_index_concurrently_if_not_exists_keeps_an_invalid_index(conn) -> None:
    # ML043 never suggests IF NOT EXISTS here: it drops the INVALID leftover first.
    conn.execute("INSERT INTO child (id, qty) VALUES (1, 1)")  # a duplicate id
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("CREATE UNIQUE INDEX CONCURRENTLY child_id ON child (id)")

    def valid() -> bool:
        return conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'child_id'::regclass").fetchone()[0]

    assert valid() is False
    conn.execute("DELETE FROM child WHERE id = 1 AND at IS NULL")
    conn.execute("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS child_id ON child (id)")  # reports success
    assert valid() is False
    conn.execute("DROP INDEX CONCURRENTLY IF EXISTS child_id")
    conn.execute("CREATE UNIQUE INDEX CONCURRENTLY child_id ON child (id)")
    assert valid() is True
