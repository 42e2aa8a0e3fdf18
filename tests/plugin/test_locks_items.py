"""``::locks`` items end to end, with pytester, on the embedded PostgreSQL 18 of this process: each
migration traced on its own database, failing on a blocking lock of a table that existed before."""

from __future__ import annotations

import pytest

from test_plugin import _clean_environment, failure_text, outcomes_by_item, run, write_migrations  # noqa: F401

pytest_plugins = ["pytester"]

# Only the lock trace: the round trip and the lint have tests of their own.
LOCKS_ONLY = ("--migrations-no-lint", "-k", "locks", "-rA")

ITEMS = """
    -- UP
    CREATE TABLE items (id int PRIMARY KEY, name text);
    -- DOWN
    DROP TABLE items;
"""


def index_migration(statement: str, *, before: str = "SET lock_timeout = '5s';") -> str:
    return f"""
        -- UP
        {before}
        {statement}
        -- DOWN
        DROP INDEX items_name_idx;
    """


def test_a_plain_create_index_on_an_existing_table_fails_naming_the_mode_and_what_it_blocks(
    pytester: pytest.Pytester,
) -> None:
    write_migrations(pytester.path, {
        "001_items.sql": ITEMS,
        "002_index_name.sql": index_migration("CREATE INDEX items_name_idx ON items (name);"),
    })  # fmt: skip
    result = run(pytester, *LOCKS_ONLY)
    assert outcomes_by_item(result) == {"001_items.sql::locks": "PASSED", "002_index_name.sql::locks": "FAILED"}
    text = failure_text(result, "002_index_name::locks")
    assert "002_index_name.sql:3: `CREATE INDEX items_name_idx ON items (name)` takes SHARE on table public.items" in text
    assert "(blocks writes) and scans it" in text and "blocking: held for the whole scan" in text
    assert "static rule: ML001" in text and "To pass: avoid the rewrite or scan" in text and "ignore[traced-lock]" in text
    assert "Traceback" not in text and "runtest" not in text


def test_create_index_concurrently_passes(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_items.sql": ITEMS,
        "002_index_name.sql": """
            -- UP
            CREATE INDEX CONCURRENTLY items_name_idx ON items (name);
            -- DOWN
            DROP INDEX CONCURRENTLY items_name_idx;
        """,
    })  # fmt: skip
    result = run(pytester, *LOCKS_ONLY)
    assert outcomes_by_item(result) == {"001_items.sql::locks": "PASSED", "002_index_name.sql::locks": "PASSED"}


def test_a_suppressed_statement_passes_and_its_finding_is_still_shown(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_items.sql": ITEMS,
        "002_index_name.sql": index_migration(
            "-- migration-lint: ignore[traced-lock] items holds a few rows, written by one nightly job\n"
            "        CREATE INDEX items_name_idx ON items (name);"
        ),
        "003_index_id_name.sql": index_migration(
            "-- migration-lint: ignore[ML001] the covering rule's code silences the trace too\n"
            "        CREATE INDEX items_id_name_idx ON items (id, name);"
        ),
    })  # fmt: skip
    result = run(pytester, *LOCKS_ONLY)
    assert set(outcomes_by_item(result).values()) == {"PASSED"}
    result.stdout.fnmatch_lines(["*002_index_name.sql:4: `CREATE INDEX items_name_idx ON items (name)`*ML001 [[]suppressed[]]"])


def test_trace_rows_report_how_long_the_lock_was_held(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_items.sql": ITEMS,
        "002_index_name.sql": index_migration("CREATE INDEX items_name_idx ON items (name);"),
    })  # fmt: skip
    result = run(pytester, *LOCKS_ONLY, "--migrations-trace-rows", "2000")
    text = failure_text(result, "002_index_name::locks")
    assert "seeded public.items with 2000 rows" in text
    assert "scans it; held " in text and " until commit; blocking" in text
    result.stdout.fnmatch_lines(["migrations: *trace-rows=2000 (command line --migrations-trace-rows)*"])


def test_a_catalog_only_lock_fails_without_a_lock_timeout_and_is_brief_with_one(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_items.sql": ITEMS,
        "002_add_price.sql": """
            -- UP
            ALTER TABLE items ADD COLUMN price int;
            -- DOWN
            ALTER TABLE items DROP COLUMN price;
        """,
    })  # fmt: skip
    result = run(pytester, *LOCKS_ONLY)
    text = failure_text(result, "002_add_price::locks")
    assert "takes ACCESS EXCLUSIVE on table public.items (blocks reads and writes); blocking: no lock_timeout" in text
    assert "To pass: set a lock_timeout in the file" in text
    result.stdout.fnmatch_lines(["migrations: *lock-timeout=0 (default: none)*"])

    # The deploy sets one: said on the command line, or by configuring the migrations runner.
    result = run(pytester, *LOCKS_ONLY, "--migrations-lock-timeout", "3s")
    assert outcomes_by_item(result)["002_add_price.sql::locks"] == "PASSED"
    result.stdout.fnmatch_lines(["*002_add_price.sql:2: `ALTER TABLE items ADD COLUMN price int`*brief: a catalog update under lock_timeout 3s*"])
    (pytester.path / "pyproject.toml").write_text("[tool.pytest-migrations]\ndir = 'migrations'\n")
    result = run(pytester, *LOCKS_ONLY)
    assert outcomes_by_item(result)["002_add_price.sql::locks"] == "PASSED"
    result.stdout.fnmatch_lines(["migrations: *lock-timeout=10s (runner default, *pyproject.toml has [[]tool.pytest-migrations[]])*"])


def test_a_failing_up_fails_its_locks_item_and_skips_the_later_ones(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_items.sql": ITEMS,
        "002_broken.sql": "-- UP\nALTER TABLE nowhere ADD COLUMN x int;\n-- DOWN\nSELECT 1;\n",
        "003_more.sql": "-- UP\nCREATE TABLE more (id int);\n-- DOWN\nDROP TABLE more;\n",
    })  # fmt: skip
    result = run(pytester, "--migrations-no-lint", "-k", "locks", "-rA")
    assert outcomes_by_item(result) == {"001_items.sql::locks": "PASSED", "002_broken.sql::locks": "FAILED"}
    assert 'error: ' in failure_text(result, "002_broken::locks")
    assert 'relation "nowhere" does not exist' in failure_text(result, "002_broken::locks")
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] migrations/003_more.sql:*: depends on 002_broken which failed"])


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--migrations-trace-rows=many", "command line --migrations-trace-rows: expected a number of rows"),
        ("--migrations-lock-timeout=soon", "command line --migrations-lock-timeout: expected a lock_timeout such as 5s"),
        ("--migrations-jobs=0", "command line --migrations-jobs: expected a number of walkers (1 or more)"),
    ],
)
def test_bad_trace_settings_are_usage_errors(pytester: pytest.Pytester, option: str, message: str) -> None:
    write_migrations(pytester.path, {"001_items.sql": ITEMS})
    result = run(pytester, option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_no_locks_leaves_the_items_out(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {"001_items.sql": ITEMS})
    result = run(pytester, "--co", "-q", "--migrations-no-locks")
    assert "::locks" not in result.stdout.str() and "::roundtrip" in result.stdout.str()
    pytester.makeini("[pytest]\nmigrations_no_locks = true\n")
    result = run(pytester, "--co", "-q")
    assert "::locks" not in result.stdout.str()


# -- one verdict per statement: ::lint and ::locks never fail twice for one problem --------------

ORDERS = """
    -- UP
    CREATE TABLE orders (id int PRIMARY KEY, qty int);
    -- DOWN
    DROP TABLE orders;
"""


def test_a_lock_problem_fails_once_in_lint_carrying_the_traced_fact(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_orders.sql": ORDERS,
        # ML006 predicts the rewrite, ML010 the missing lock_timeout: both lint errors.
        "002_qty_type.sql": """
            -- UP
            ALTER TABLE orders ALTER COLUMN qty TYPE bigint;
            -- DOWN
            ALTER TABLE orders ALTER COLUMN qty TYPE int;
        """,
    })  # fmt: skip
    result = run(pytester, "-k", "002 and (lint or locks)", "-rA", "--migrations-trace-rows", "1000")
    assert outcomes_by_item(result) == {"002_qty_type.sql::lint": "FAILED", "002_qty_type.sql::locks": "PASSED"}
    text = failure_text(result, "002_qty_type::lint")
    assert "002_qty_type.sql:2:" in text and "ML006" in text
    assert "    traced: ACCESS EXCLUSIVE on orders, rewrites it, held " in text and " over 1,000 rows" in text
    # Without the ::lint item, the ::locks item is the one verdict.
    result = run(pytester, "-k", "002 and (lint or locks)", "-rA", "--migrations-no-lint")
    assert outcomes_by_item(result) == {"002_qty_type.sql::locks": "FAILED"}


def test_locks_fails_on_what_no_failing_lint_error_reports(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_orders.sql": ORDERS,
        # The project lets ML006 pass: the rewrite the trace sees is reported by no failing rule.
        "002_qty_type.sql": """
            -- UP
            SET lock_timeout = '5s';
            ALTER TABLE orders ALTER COLUMN qty TYPE bigint;
            -- DOWN
            SET lock_timeout = '5s';
            ALTER TABLE orders ALTER COLUMN qty TYPE int;
        """,
    })  # fmt: skip
    (pytester.path / ".migration-lint.toml").write_text('ignore = ["changing-column-type"]\n')
    result = run(pytester, "-k", "002 and (lint or locks)", "-rA")
    assert outcomes_by_item(result) == {"002_qty_type.sql::lint": "PASSED", "002_qty_type.sql::locks": "FAILED"}
    text = failure_text(result, "002_qty_type::locks")
    assert "rewrites it" in text and "blocking: held for the whole rewrite" in text


def test_a_missing_lock_timeout_fails_once_for_its_whole_section(pytester: pytest.Pytester) -> None:
    """ML010 reports the first statement of a section that waits for a lock without a
    lock_timeout; its fix covers the later ones. A later statement that only waits is that same
    problem: the ::lint failure carries it, and ::locks does not fail a second time
    (quickwit's 3_add-split-publish-timestamp-field: ADD COLUMN, then CREATE TRIGGER)."""
    write_migrations(pytester.path, {
        "001_orders.sql": ORDERS,
        "002_notes.sql": """
            -- UP
            ALTER TABLE orders ADD COLUMN note text;
            CREATE TRIGGER orders_note BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
            -- DOWN
            SET lock_timeout = '5s';
            DROP TRIGGER orders_note ON orders;
            ALTER TABLE orders DROP COLUMN note;
        """,
    })  # fmt: skip
    result = run(pytester, "-k", "002 and (lint or locks)", "-rA")
    assert outcomes_by_item(result) == {"002_notes.sql::lint": "FAILED", "002_notes.sql::locks": "PASSED"}
    text = failure_text(result, "002_notes::lint")
    assert "002_notes.sql:2:1: ML010" in text
    assert "    traced: ACCESS EXCLUSIVE on orders\n" in text + "\n"
    assert "    traced at line 3: " in text
