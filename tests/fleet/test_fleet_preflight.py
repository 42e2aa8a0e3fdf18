"""The preflight catches a tenant whose rows break a pending migration before any target is written.

One case per kind of statement that can fail on a tenant's rows: the same migration passes on
two clean tenants and would fail on the one between them; the fleet stops with one error naming
that tenant's line, the statement's file and line and what the rows break, and writes nothing
anywhere (no record, no history row, no change of schema).
"""

from __future__ import annotations

import pytest
from fleet_helpers import applied, query, write_migrations

from pytest_migrations.database import Server

BASE = {
    "001_accounts.sql": (
        "-- UP\nCREATE TABLE orgs (id bigint PRIMARY KEY);\n"
        "CREATE TABLE accounts (id bigint, email text, org_id bigint, plan text);\n"
    ),
}
CLEAN_ROWS = "INSERT INTO orgs VALUES (1); INSERT INTO accounts VALUES (1, 'a@x', 1, 'free'), (2, 'b@x', 1, 'pro')"
TENANTS = ["clean_a", "broken", "clean_b"]

# (the pending migration, the row that breaks it on one tenant, what the preflight says after
# the migration's file name, and a migration applied before the rows break nothing yet)
CASES = {
    "set-not-null": (
        "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;",
        "(3, NULL, 1, 'free')",
        "2: SET NOT NULL on accounts.email: 1 row(s) hold NULL",
    ),
    "unique-index": (
        "CREATE UNIQUE INDEX accounts_email ON accounts (email);",
        "(3, 'a@x', 1, 'free')",
        "2: unique index accounts_email on accounts: 1 value(s) appear more than once",
    ),
    "unique-constraint": (
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);",
        "(3, 'b@x', 1, 'free')",
        "2: UNIQUE constraint accounts_email_key on accounts: 1 value(s) appear more than once",
    ),
    "primary-key-over-duplicates": (
        "ALTER TABLE accounts ADD PRIMARY KEY (id);",
        "(2, 'c@x', 1, 'free')",
        "2: PRIMARY KEY constraint on accounts: 1 duplicate group(s) or NULL key(s)",
    ),
    "primary-key-over-nulls": (
        "ALTER TABLE accounts ADD PRIMARY KEY (id);",
        "(NULL, 'c@x', 1, 'free')",
        "2: PRIMARY KEY constraint on accounts: 1 duplicate group(s) or NULL key(s)",
    ),
    "check": (
        "ALTER TABLE accounts ADD CONSTRAINT known_plan CHECK (plan IN ('free', 'pro'));",
        "(3, 'c@x', 1, 'gold')",
        "2: CHECK constraint known_plan on accounts: 1 row(s) break it",
    ),
    "foreign-key": (
        "ALTER TABLE accounts ADD CONSTRAINT account_org FOREIGN KEY (org_id) REFERENCES orgs (id);",
        "(3, 'c@x', 9, 'free')",
        "2: FOREIGN KEY constraint account_org on accounts: 1 row(s) reference no row of orgs",
    ),
    # The pattern the linter recommends: the constraint added NOT VALID, validated later; the
    # VALIDATE is what reads the rows.
    "check-validated-later": (
        "ALTER TABLE accounts ADD CONSTRAINT known_plan CHECK (plan IN ('free', 'pro')) NOT VALID;\n"
        "ALTER TABLE accounts VALIDATE CONSTRAINT known_plan;",
        "(3, 'c@x', 1, 'gold')",
        "3: VALIDATE CONSTRAINT known_plan on accounts: 1 row(s) break it",
    ),
    "foreign-key-validated-later": (
        "ALTER TABLE accounts ADD CONSTRAINT account_org FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;\n"
        "ALTER TABLE accounts VALIDATE CONSTRAINT account_org;",
        "(3, 'c@x', 9, 'free')",
        "3: VALIDATE CONSTRAINT account_org on accounts: 1 row(s) reference no row of orgs",
    ),
    "type-change": (
        "ALTER TABLE accounts ALTER COLUMN plan TYPE varchar(4);",
        "(3, 'c@x', 1, 'enterprise')",
        "2: ALTER COLUMN plan TYPE varchar(4) on accounts: 1 value(s) longer than 4 characters",
    ),
    "type-change-using": (
        "ALTER TABLE accounts ALTER COLUMN org_id TYPE smallint USING org_id * 1000;",
        "(3, 'c@x', 99, 'free')",
        "2: ALTER COLUMN org_id TYPE smallint on accounts: a row cannot be converted: smallint out of range (SQLSTATE 22003)",
    ),
    "add-column-not-null-without-default": (
        "ALTER TABLE accounts ADD COLUMN seats int NOT NULL;",
        None,  # any row breaks it: the broken tenant is the only one with rows
        "2: ADD COLUMN seats NOT NULL without a default on accounts: 2 existing row(s) would hold NULL",
    ),
    # Added NOT VALID by an applied migration (new rows are checked from then on, old ones are
    # not): the count comes from the constraint in each target's catalog.
    "check-added-by-an-applied-migration": (
        "ALTER TABLE accounts VALIDATE CONSTRAINT known_plan;",
        "(3, 'c@x', 1, 'gold')",
        "2: VALIDATE CONSTRAINT known_plan on accounts: 1 row(s) break it",
        "ALTER TABLE accounts ADD CONSTRAINT known_plan CHECK (plan IN ('free', 'pro')) NOT VALID;",
    ),
    "foreign-key-added-by-an-applied-migration": (
        "ALTER TABLE accounts VALIDATE CONSTRAINT account_org;",
        "(3, 'c@x', 9, 'free')",
        "2: VALIDATE CONSTRAINT account_org on accounts: 1 row(s) break it",
        "ALTER TABLE accounts ADD CONSTRAINT account_org FOREIGN KEY (org_id) REFERENCES orgs (id) NOT VALID;",
    ),
}


@pytest.fixture
def database(pg_server: Server):
    with pg_server.fresh_database() as database:
        yield database


@pytest.mark.parametrize("kind", list(CASES))
def test_a_tenant_whose_rows_break_a_migration_is_caught_before_any_target_is_written(cli, database, tmp_path, kind):
    statement, breaking_row, message, *earlier = CASES[kind]
    directory = write_migrations(tmp_path / "m", BASE)
    dsn = database.dsn
    for name in TENANTS:
        query(dsn, f"CREATE SCHEMA {name}")
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{dsn} {name}\n" for name in TENANTS), encoding="utf-8")
    args = ["up", "--dir", directory, "--fleet", targets, "--no-lint"]
    assert cli(*args).code == 0
    for name in TENANTS:
        if breaking_row is not None or name == "broken":
            query(dsn, f"SET search_path = {name}; {CLEAN_ROWS}")
    if breaking_row is not None:
        query(dsn, f"INSERT INTO broken.accounts VALUES {breaking_row}")
    rule = "002_rule.sql"
    if earlier:
        write_migrations(directory, {"002_not_valid.sql": f"-- UP\n{earlier[0]}\n"})
        assert cli(*args).code == 0
        rule = "003_rule.sql"
    write_migrations(directory, {rule: f"-- UP\n{statement}\n"})
    before = query(dsn, "SELECT count(*) FROM pg_class")

    result = cli(*args)

    assert result.code == 1, result.text
    assert result.err.count("error:") == 1, result.err
    assert f"targets.txt:2: " in result.err and f"/{database.name} broken: " in result.err
    assert f"{rule}:{message}" in result.err
    assert "preflight failed on 1 target(s): no target was written" in result.out
    for name in TENANTS:
        assert applied(dsn, name) == (["001", "002"] if earlier else ["001"])
        assert query(dsn, f"SELECT count(*) FROM {name}.migration_history WHERE version = %s", rule[:3]) == [(0,)]
    assert query(dsn, "SELECT count(*) FROM pg_class") == before  # no index, constraint index or table


def test_a_type_change_the_preflight_cannot_try_read_only_does_not_stop_the_fleet(cli, database, tmp_path):
    directory = write_migrations(tmp_path / "m", {**BASE, "002_numbers.sql": "-- UP\nCREATE SEQUENCE account_numbers;\n"})
    targets = tmp_path / "targets.txt"
    targets.write_text(f"{database.dsn}\n", encoding="utf-8")
    args = ["up", "--dir", directory, "--fleet", targets, "--no-lint"]
    assert cli(*args).code == 0
    query(database.dsn, CLEAN_ROWS)
    write_migrations(directory, {
        "003_renumber.sql": "-- UP\nALTER TABLE accounts ALTER COLUMN id TYPE integer USING nextval('account_numbers');\n",
    })

    result = cli(*args)  # nextval writes: the conversion cannot be tried in the read-only preflight

    assert result.code == 0, result.text
    assert applied(database.dsn) == ["001", "002", "003"]
