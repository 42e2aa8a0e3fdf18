"""The chain walk without pytest's collection: ``pytest_migrations.roundtrip`` on a real server."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from migration_lint.layouts import discover
from pytest_migrations.database import Server
from seeding_schemas import BLOG_DOWN, BLOG_WITH_TRIGGERS
from shared_corpus import CORPUS, corpus_set
from pytest_migrations.roundtrip import ChainWalker, SetupSqlError, round_trip


def make_chain(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


CHAIN = {
    "001_users.sql": """
        -- UP
        CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
        -- DOWN
        DROP TABLE users;
    """,
    "002_users_email_index.sql": """
        -- UP
        CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
        -- DOWN
        SELECT 1;
    """,
    "003_users_name.sql": """
        -- UP
        BEGIN;
        ALTER TABLE users ADD COLUMN name text;
        COMMIT;
        -- DOWN
        ALTER TABLE users DROP COLUMN name;
    """,
    "004_orders.sql": """
        -- UP
        CREATE TABLE orders (id int PRIMARY KEY, user_id bigint REFERENCES users);
        -- DOWN
        DROP TABLE orders;
    """,
}


class CountingServer:
    """The real server, counting the databases the walker creates (the walk must make one)."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self.created = 0

    def create_database(self, template: str | None = None) -> str:
        self.created += 1
        return self._server.create_database(template)

    def __getattr__(self, name: str) -> object:
        return getattr(self._server, name)


def test_one_database_walks_the_whole_chain(pg_server: Server, tmp_path: Path) -> None:
    migrations = discover(make_chain(tmp_path / "m", {k: v for k, v in CHAIN.items() if k != "002_users_email_index.sql"}))
    server = CountingServer(pg_server)
    results = round_trip(server, migrations, check_data=False)  # type: ignore[arg-type]
    assert [r.outcome for r in results] == ["passed"] * 3
    assert server.created == 1


def test_a_broken_non_transactional_down_rebuilds_and_the_walk_goes_on(pg_server: Server, tmp_path: Path) -> None:
    migrations = discover(make_chain(tmp_path / "m", CHAIN))
    server = CountingServer(pg_server)
    results = round_trip(server, migrations, check_data=False)  # type: ignore[arg-type]
    assert [r.outcome for r in results] == ["passed", "failed", "passed", "passed"]
    assert "index users_email_idx: unexpected (not in the previous schema)" in results[1].report()
    assert server.created == 2  # the rebuild after 002, and nothing more


def test_lazy_walk_applies_predecessors_and_restarts_for_an_earlier_migration(pg_server: Server, tmp_path: Path) -> None:
    migrations = discover(make_chain(tmp_path / "m", CHAIN))
    server = CountingServer(pg_server)
    with ChainWalker(server, migrations, check_data=False) as walker:  # type: ignore[arg-type]
        assert walker.result_for("004_orders").outcome == "passed"
        assert server.created == 1
        assert walker.result_for("001_users").outcome == "passed"
        assert server.created == 2
        assert walker.result_for(migrations[1]).outcome == "failed"


def test_a_failing_up_skips_what_depends_on_it(pg_server: Server, tmp_path: Path) -> None:
    chain = dict(CHAIN)
    chain["003_users_name.sql"] = "-- UP\nALTER TABLE nobody ADD COLUMN name text;\n-- DOWN\nSELECT 1;\n"
    results = round_trip(pg_server, discover(make_chain(tmp_path / "m", chain)), check_data=False)
    assert [r.outcome for r in results] == ["passed", "failed", "failed", "skipped"]
    assert results[2].broke_chain
    assert results[3].skip_reason == "depends on 003_users_name which failed"


def test_an_up_that_fails_where_its_snapshot_goes_with_it_is_reported_and_not_applied(
    pg_server: Server, tmp_path: Path
) -> None:
    """UP goes to the server with the snapshot after it, in one round trip: when UP fails, the
    statement that fails is named as when UP runs alone, and nothing of UP stays."""
    chain = {
        "001_users.sql": CHAIN["001_users.sql"],
        "002_half.sql": """
            -- UP
            CREATE TABLE half (id int);
            ALTER TABLE nobody ADD COLUMN name text;
            -- DOWN
            DROP TABLE half;
        """,
    }
    migrations = discover(make_chain(tmp_path / "m", chain))
    with ChainWalker(pg_server, migrations, check_data=True, jobs=1) as walker:
        results = list(walker.walk())
        assert [r.outcome for r in results] == ["passed", "failed"]
        assert "002_half.sql:3" in results[1].report() and '"nobody" does not exist' in results[1].report()
        tables = walker._connection.execute("SELECT count(*) FROM pg_class WHERE relname = 'half'").fetchone()
    assert tables == (0,)


def test_an_up_that_breaks_a_deferred_constraint_fails_at_its_commit(pg_server: Server, tmp_path: Path) -> None:
    """Every statement runs; the COMMIT fails: a failed UP that names it, not a crash."""
    chain = {
        "001_users.sql": CHAIN["001_users.sql"],
        "002_orders.sql": """
            -- UP
            CREATE TABLE orders (id int, user_id bigint REFERENCES users DEFERRABLE INITIALLY DEFERRED);
            INSERT INTO orders VALUES (1, 42);
            -- DOWN
            DROP TABLE orders;
        """,
    }
    results = round_trip(pg_server, discover(make_chain(tmp_path / "m", chain)), check_data=True)
    assert [r.outcome for r in results] == ["passed", "failed"]
    assert results[1].broke_chain and "violates foreign key constraint" in results[1].report()
    assert results[1].report().endswith("in: COMMIT")


def test_sections_that_drop_the_prepared_snapshot_statements_pass(pg_server: Server, tmp_path: Path) -> None:
    """A section that deallocates every prepared statement, ours included, in the round trip that
    then reads the snapshot with them: the snapshot is read again, UP is not run twice."""
    chain = {
        "001_users.sql": CHAIN["001_users.sql"],
        "002_names.sql": """
            -- UP
            ALTER TABLE users ADD COLUMN name text;
            DEALLOCATE ALL;
            -- DOWN
            ALTER TABLE users DROP COLUMN name;
            DEALLOCATE ALL;
        """,
        "003_orders.sql": CHAIN["004_orders.sql"],
    }
    results = round_trip(pg_server, discover(make_chain(tmp_path / "m", chain)), check_data=True)
    assert [(r.outcome, r.problems) for r in results] == [("passed", [])] * 3


def test_setup_sql_failure_names_the_file_and_line(pg_server: Server, tmp_path: Path) -> None:
    migrations = discover(make_chain(tmp_path / "m", CHAIN))
    setup = tmp_path / "setup.sql"
    setup.write_text("CREATE EXTENSION pg_trgm;\n\nCREATE TABLE broken (;\n")
    with ChainWalker(pg_server, migrations, setup_sql=setup.read_text(), setup_sql_path=setup) as walker:
        with pytest.raises(SetupSqlError, match=rf"^{setup}:3: syntax error at or near \";\" \(SQLSTATE 42601\)$"):
            walker.result_for("001_users")


SNAPSHOT = {
    "table public.orders": {"columns": ["id"]},
    "table public.items": {"columns": ["id", "order_id"]},
    "table public.\"Audit\"": {"columns": ["id"]},
    "table public.notes": {"columns": ["id", "item_id"]},
    "table public.logged": {"columns": ["id"]},
    "constraint public.items.items_order_id_fkey": {
        "type": "foreign key", "definition": "FOREIGN KEY (order_id) REFERENCES public.orders(id)",
    },
    "constraint public.notes.notes_item_id_fkey": {
        "type": "foreign key", "definition": "FOREIGN KEY (item_id) REFERENCES public.items(id) ON DELETE CASCADE",
    },
    "trigger public.logged.logged_audit": {"definition": "CREATE TRIGGER logged_audit ..."},
    "function public.archive_all()": {"definition": "CREATE FUNCTION ..."},
}  # fmt: skip


@pytest.mark.parametrize(
    ("up", "down", "expected"),
    [
        ("CREATE TABLE fresh (id int)", "DROP TABLE fresh", []),
        ("CREATE INDEX items_idx ON items (order_id)", "DROP INDEX items_idx", []),
        ("ALTER TABLE items ADD COLUMN note text", "ALTER TABLE items DROP COLUMN note", ["public.items", "public.orders"]),
        ('ALTER TABLE "Audit" ADD COLUMN at date', 'ALTER TABLE "Audit" DROP COLUMN at', ["public.Audit"]),
        ("ALTER TABLE orders RENAME TO orders_v2", "ALTER TABLE orders_v2 RENAME TO orders", ["public.orders"]),
        ("SELECT 1", "DROP TABLE orders", ["public.orders"]),
        ("UPDATE orders SET id = lower(id::text)::int", "SELECT 1", ["public.orders"]),
        ("DELETE FROM items WHERE id < 0", "SELECT 1", ["public.items", "public.notes", "public.orders"]),
        ("UPDATE logged SET id = id", "SELECT 1", None),
        ("UPDATE orders SET id = archive_all()", "SELECT 1", None),
        ("SELECT archive_all()", "SELECT 1", None),
        ("CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS 'DELETE FROM orders'", "SELECT wipe()", None),
        ("DO $$ BEGIN END $$", "SELECT 1", None),
        ("SELECT setval('s', 1)", "SELECT 1", []),
        ("CREATE TABLE t (id int)", "DROP TYPE mood CASCADE", None),
        ("ALTER TYPE mood RENAME VALUE 'a' TO 'b'", "SELECT 1", None),
        ("ALTER TYPE mood ADD VALUE 'c'", "SELECT 1", []),
    ],
)
def test_tables_at_risk(tmp_path: Path, up: str, down: str, expected: list[str] | None) -> None:
    from pytest_migrations.roundtrip import tables_at_risk

    (tmp_path / "001_x.sql").write_text(f"-- UP\n{up};\n-- DOWN\n{down};\n")
    (migration,) = discover(tmp_path)
    assert tables_at_risk(migration, SNAPSHOT) == expected


class CheckedWalker(ChainWalker):
    """A walker whose every (cached) snapshot is checked against a full one of the same state."""

    checked = 0

    def _take_snapshot(self, **lead):  # type: ignore[no-untyped-def]
        from pytest_migrations.snapshot import diff_snapshots, format_diff, take_snapshot

        cached = super()._take_snapshot(**lead)  # a script sent with it is done: it is of after
        full = take_snapshot(self._connection)
        assert cached == full, format_diff(diff_snapshots(full, cached))
        CheckedWalker.checked += 1
        return cached


REPO = Path(__file__).resolve().parents[2]
WALKED_SETS = {
    "examples": (REPO / "examples" / "migrations", None),
    "authelia-postgres": (CORPUS / "authelia-postgres", None),
    "quickwit-postgresql": (CORPUS / "quickwit-postgresql", None),
    "docsrs": (CORPUS / "docsrs", "CREATE EXTENSION fuzzystrmatch"),
}


@pytest.mark.parametrize("name", sorted(WALKED_SETS))
def test_cached_snapshots_of_the_walk_are_full_ones(pg_server: Server, name: str) -> None:
    """The walk reads only what changed since its last snapshots (SnapshotCache): over real
    chains, DOWNs in rolled-back transactions and renames included, it reads what a full
    snapshot reads."""
    directory, setup_sql = WALKED_SETS[name]
    if directory.parent == CORPUS:
        corpus_set(name)
    migrations = discover(directory)
    CheckedWalker.checked = 0
    with CheckedWalker(pg_server, migrations, setup_sql=setup_sql, jobs=1) as walker:
        results = list(walker.walk())
    outcomes = [result.outcome for result in results]
    # A DOWN that fails inside the round trip's transaction is rolled back: no snapshot after it.
    failed_downs = sum(any(p.headline == f"DOWN of {r.migration.id} failed" for p in r.problems) for r in results)
    assert CheckedWalker.checked >= 2 * len(migrations) - outcomes.count("skipped") * 2 - failed_downs
    assert "passed" in outcomes


def _outcomes(results: list) -> list[tuple[str, str, list[Any], str]]:
    def problem(p: Any) -> Any:
        # seeded rows hold sequence values and now(): which rows, not their values, must agree
        return (p.headline, len(p.details)) if "rows" in p.headline else p.render(limit=1000)

    return [
        (r.migration.id, r.outcome, [problem(p) for p in r.problems], (r.skip_reason or "").split(" (")[0])
        for r in results
    ]


@pytest.mark.parametrize("name", sorted(WALKED_SETS))
def test_two_walkers_find_what_one_finds(pg_server: Server, name: str) -> None:
    """With two cores the later half of a long walk goes to a second walker (its own database,
    the earlier UPs replayed first): every migration's outcome, problems and the warnings are
    those of one walker walking it all."""
    directory, setup_sql = WALKED_SETS[name]
    if directory.parent == CORPUS:
        corpus_set(name)
    migrations = discover(directory)
    with ChainWalker(pg_server, migrations, setup_sql=setup_sql, jobs=1) as alone:
        one = list(alone.walk())
    with ChainWalker(pg_server, migrations, setup_sql=setup_sql, jobs=2) as shared:
        two = list(shared.walk())
        assert shared._later is not None and 0 < shared._later.start < len(migrations)
    assert _outcomes(two) == _outcomes(one)
    assert {_any_foreign_key(w) for r in two for w in r.warnings} == {_any_foreign_key(w) for r in one for w in r.warnings}


def _any_foreign_key(warning: str) -> str:
    """Where rows break several foreign keys at once, PostgreSQL reports the one whose trigger
    fires first, and triggers fire in name order, a name holding the constraint's oid: two
    databases built apart can name different keys for the same failing step."""
    warning = re.sub(r'violates (RESTRICT setting of )?foreign key constraint "[^"]*" on table "[^"]*"',
                     "violates a foreign key", warning)
    warning = re.sub(r"Key \(.*?\)=\(.*?\) is", "Key is", warning)
    return re.sub(r'(referenced|not present) (from|in) table "[^"]*"', r"\1 \2 a table", warning)


def test_no_second_walker_where_its_start_would_eat_the_gain(pg_server: Server, tmp_path: Path) -> None:
    """Sharing a walk costs the second walker a database, a connection and its session's
    catalog statements before its first round trip: a chain of a few one-statement migrations
    is walked by one walker, even with two asked for (the corpus sets above are shared)."""
    files = {f"{n:03d}_t{n}.sql": f"-- UP\nCREATE TABLE t{n} (id int);\n-- DOWN\nDROP TABLE t{n};\n" for n in range(1, 9)}
    migrations = discover(make_chain(tmp_path / "chain", files))
    with ChainWalker(pg_server, migrations, jobs=2) as walker:
        results = list(walker.walk())
        assert walker._later is None
    assert [result.outcome for result in results] == ["passed"] * 8


# -- the data check blames the step that lost a row ---------------------------------------------------

DATA_BASE = {
    "001_blog.sql": "-- UP\n" + BLOG_WITH_TRIGGERS + (
        "CREATE TABLE tags (id serial PRIMARY KEY, name text NOT NULL DEFAULT '');\n"
        "CREATE TABLE line_items (id serial PRIMARY KEY, order_ref text NOT NULL);\n"
        "CREATE TABLE orders (ref text PRIMARY KEY);\n"
        "-- DOWN\n"
        "DROP TABLE orders, line_items, tags;\n"
    ) + BLOG_DOWN,
}


def _walk(pg_server: Server, root: Path, files: dict[str, str]) -> dict[str, Any]:
    migrations = discover(make_chain(root, {**DATA_BASE, **files}))
    return {result.migration.id: result for result in round_trip(pg_server, migrations)}


def test_a_trigger_that_seeding_fires_is_not_blamed_on_the_down(pg_server: Server, tmp_path: Path) -> None:
    """Seeding comments updates their posts and a row of activity: a round trip touching
    neither must not report those rows changed."""
    results = _walk(pg_server, tmp_path / "m", {
        "002_comment_note.sql": "-- UP\nALTER TABLE comments ADD COLUMN note text;\n-- DOWN\nALTER TABLE comments DROP COLUMN note;\n",
        "003_activity.sql": "-- UP\nUPDATE comments SET body = body;\n-- DOWN\nSELECT 1;\n",
    })  # fmt: skip
    for migration_id in ("002_comment_note", "003_activity"):
        assert results[migration_id].outcome == "passed", results[migration_id].report()
        assert not [w for w in results[migration_id].warnings if "UP " in w]


def test_an_orphan_cleanup_up_is_a_warning_not_a_failed_down(pg_server: Server, tmp_path: Path) -> None:
    results = _walk(pg_server, tmp_path / "m", {
        "002_line_items_orders.sql": """
            -- UP
            DELETE FROM line_items WHERE order_ref NOT IN (SELECT ref FROM orders);
            ALTER TABLE line_items ADD FOREIGN KEY (order_ref) REFERENCES orders;
            -- DOWN
            ALTER TABLE line_items DROP CONSTRAINT line_items_order_ref_fkey;
        """,
    })  # fmt: skip
    result = results["002_line_items_orders"]
    assert result.outcome == "passed", result.report()
    assert "002_line_items_orders: UP deletes 3 seeded rows of line_items (an irreversible data change)" in result.warnings


def test_a_dedupe_up_finds_no_duplicates_the_seeding_made(pg_server: Server, tmp_path: Path) -> None:
    results = _walk(pg_server, tmp_path / "m", {
        "002_unique_tags.sql": """
            -- UP
            DELETE FROM tags a USING tags b WHERE a.id > b.id AND a.name = b.name;
            CREATE UNIQUE INDEX tags_name_key ON tags (name);
            -- DOWN
            DROP INDEX tags_name_key;
        """,
    })  # fmt: skip
    result = results["002_unique_tags"]
    assert result.outcome == "passed", result.report()
    assert not [w for w in result.warnings if "UP deletes" in w], result.warnings


def test_a_down_that_loses_rows_up_kept_still_fails(pg_server: Server, tmp_path: Path) -> None:
    results = _walk(pg_server, tmp_path / "m", {
        "002_tags_color.sql": """
            -- UP
            ALTER TABLE tags ADD COLUMN color text;
            -- DOWN
            DROP TABLE tags;
            CREATE TABLE tags (id serial PRIMARY KEY, name text NOT NULL DEFAULT '');
        """,
        "003_rename_title.sql": """
            -- UP
            ALTER TABLE posts RENAME COLUMN title TO headline;
            -- DOWN
            ALTER TABLE posts DROP COLUMN headline;
            ALTER TABLE posts ADD COLUMN title text NOT NULL DEFAULT '';
        """,
    })  # fmt: skip
    lost = results["002_tags_color"]
    assert lost.outcome == "failed"
    assert "DOWN of 002_tags_color lost or changed rows that UP kept" in lost.report()
    assert "table tags: row (id=" in lost.report()
    assert not [w for w in lost.warnings if "UP deletes" in w]
    renamed = results["003_rename_title"]
    assert renamed.outcome == "failed"
    report = renamed.report()
    assert "DOWN of 003_rename_title lost or changed rows that UP kept" in report
    assert "changed: title '" in report and "-> ''" in report


def test_each_step_names_its_own_loss_in_one_migration(pg_server: Server, tmp_path: Path) -> None:
    """measure's 20260707100000 in small: UP drops a column, DOWN adds it back and deletes every
    row (now null in it). The failure is DOWN's lost rows; UP's dropped column stays a warning
    beside it, not hidden by the rows DOWN lost."""
    results = _walk(pg_server, tmp_path / "m", {
        "002_drop_post_ref.sql": """
            -- UP
            ALTER TABLE comments DROP COLUMN post_id;
            -- DOWN
            ALTER TABLE comments ADD COLUMN post_id int REFERENCES posts;
            DELETE FROM comments WHERE post_id IS NULL;
            ALTER TABLE comments ALTER COLUMN post_id SET NOT NULL;
        """,
    })  # fmt: skip
    result = results["002_drop_post_ref"]
    assert result.outcome == "failed"
    [problem] = [p for p in result.problems if "rows that UP kept" in p.headline]
    assert problem.details == tuple(f"table comments: row (id='{n}') missing" for n in (1, 2, 3))
    assert [w for w in result.warnings if "UP " in w] == [
        "002_drop_post_ref: UP drops column post_id of comments with its seeded values (an irreversible data change)"
    ]


def test_hatchet_downs_are_blamed_only_for_what_they_lose(pg_server: Server) -> None:
    """Hatchet (224 goose migrations: triggers, partitions, enums, dedupes): the data check
    blames one DOWN, which drops the enum the UP converted a column of another table to (DROP TYPE
    ... CASCADE takes the column and its values); what its UPs delete or change is said."""
    directory = REPO.parent / "shared" / "corpus" / "hatchet"
    if not directory.is_dir():
        pytest.skip(f"no corpus at {directory}")
    with ChainWalker(pg_server, discover(directory)) as walker:
        results = list(walker.walk())
    blamed = {
        result.migration.id: problem.details
        for result in results for problem in result.problems if "rows that UP kept" in problem.headline
    }  # fmt: skip
    assert blamed == {
        "20260119123835_v1_0_69": ('table "TenantResourceLimitAlert": column resource missing (its seeded values lost)',)
    }
    warnings = {warning for result in results for warning in result.warnings}
    assert '20251229174938_v1_0_67: UP changes version in 2 seeded rows of "Tenant" (an irreversible data change)' in warnings


def test_a_repeatable_migration_is_applied_again_not_rolled_back(pg_server: Server, tmp_path: Path) -> None:
    migrations = discover(make_chain(tmp_path / "m", {
        "V1__t.sql": "CREATE TABLE t (a int);\n",
        "U1__t.sql": "DROP TABLE t;\n",
        "R__a_view.sql": "CREATE OR REPLACE VIEW v AS SELECT a FROM t;\n",
        "R__b_index.sql": "CREATE INDEX ON t (a);\n",  # a second run adds a second index
        "R__c_plain_view.sql": "CREATE VIEW w AS SELECT 1 AS one;\n",  # a second run fails
    }))  # fmt: skip
    results = round_trip(pg_server, migrations, check_data=False)
    assert [(r.migration.id, r.outcome) for r in results] == [
        ("1_t", "passed"), ("R__a_view", "passed"), ("R__b_index", "failed"), ("R__c_plain_view", "failed"),
    ]
    assert not any(r.missing_down for r in results)
    assert "UP of R__b_index applied again gave another schema" in results[2].report()
    assert "t_a_idx1" in results[2].report()
    assert "UP of R__c_plain_view failed when applied again" in results[3].report()
    assert 'relation "w" already exists' in results[3].report()
