"""Targets from a query, from the schemas matching a pattern, and from [tool.pytest-migrations.fleet]."""

from __future__ import annotations

import json

import pytest
from fleet_helpers import applied, query, write_migrations

MIGRATION = {"001_t.sql": "-- UP\nCREATE TABLE t (id int);\n-- DOWN\nDROP TABLE t;\n"}
SECRET = "s3cret-pw"


def with_password(dsn: str) -> str:
    return f"{dsn} password={SECRET}"  # the embedded server trusts local connections: unused, never shown


def test_schemas_matching_a_pattern_are_the_targets(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATION)
    dsn = databases[0].dsn
    for name in ("tenant_b", "tenant_a", "other"):
        query(dsn, f"CREATE SCHEMA {name}")
    result = cli("up", "--dir", directory, "--fleet-schemas", "tenant%", "--database-url", dsn, "--no-lint")
    assert result.code == 0, result.text
    assert "fleet: 2 applied" in result.out
    assert applied(dsn, "tenant_a") == ["001"] and applied(dsn, "tenant_b") == ["001"] and applied(dsn, "other") == []
    status = json.loads(cli("status", "--dir", directory, "--fleet-schemas", "tenant%", "--database-url", dsn,
                            "--format", "json").out)
    assert [(t["schema"], t["line"], t["version"]) for t in status["targets"]] == [("tenant_a", 1, "001"), ("tenant_b", 2, "001")]


def test_a_query_on_a_tenants_table_lists_databases_and_schemas_with_names_and_groups(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATION)
    control, first, second = databases
    query(second.dsn, "CREATE SCHEMA acme")
    query(control.dsn, 'CREATE TABLE tenants (name text, dsn text, schema text, "group" text, active bool)')
    query(control.dsn, "INSERT INTO tenants VALUES (%s, %s, NULL, 'canary', true), (%s, %s, 'acme', 'rest', true),"
          " ('gone', 'host=nowhere', NULL, 'rest', false)", "first", first.dsn, "acme", second.dsn)
    result = cli("up", "--dir", directory, "--database-url", control.dsn, "--no-lint", "--fleet-query",
                 'SELECT name, dsn, schema, "group" FROM tenants WHERE active ORDER BY name DESC')
    assert result.code == 0, result.text
    assert "wave 1 (canary): 1 target(s)" in result.out and "first: applied 1 migration(s)" in result.out
    assert "acme: applied 1 migration(s)" in result.out
    assert applied(first.dsn) == ["001"] and applied(second.dsn, "acme") == ["001"] and applied(control.dsn) == []


def test_a_query_without_a_dsn_column_lists_schemas_of_the_database_it_runs_on(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATION)
    dsn = databases[0].dsn
    query(dsn, "CREATE SCHEMA s1; CREATE TABLE registry (tenant text); INSERT INTO registry VALUES ('s1')")
    result = cli("up", "--dir", directory, "--database-url", dsn, "--no-lint",
                 "--fleet-query", "SELECT tenant AS schema FROM registry")
    assert result.code == 0, result.text
    assert applied(dsn, "s1") == ["001"]


@pytest.mark.parametrize(("query_text", "message"), [
    ("SELEC 1", "--fleet-query: the query failed on "),
    ("SELECT 'x' AS tenant", "--fleet-query: the query returns a column 'tenant'; name its columns dsn, schema, name, group"),
    ("SELECT 'x' AS name", "--fleet-query: the query must return a dsn or a schema column"),
    ("SELECT NULL::text AS schema WHERE false", "--fleet-query: the query listed no targets"),
    ("SELECT 'host=db1 dbname=''x password=" + SECRET + "' AS dsn", "--fleet-query, row 1: not a valid DSN"),
    ("SELECT 1 AS schema", "--fleet-query, row 1: schema must be a non-empty text, not int"),
    ("SELECT 'a' AS schema UNION ALL SELECT 'a'", "--fleet-query, row 2: the same target as row 1"),
    ("CREATE TABLE written (id int)", "--fleet-query: the query failed on "),  # read-only: it never writes
])
def test_a_bad_query_names_itself_exits_2_and_never_shows_a_password(cli, databases, tmp_path, query_text, message):
    directory = write_migrations(tmp_path / "m", MIGRATION)
    dsn = databases[0].dsn
    result = cli("up", "--dir", directory, "--database-url", with_password(dsn), "--fleet-query", query_text)
    assert result.code == 2, result.text
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.text
    assert SECRET not in result.text
    assert query(dsn, "SELECT to_regclass('written')") == [(None,)]


def test_source_errors_exit_2(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATION)
    dsn = databases[0].dsn
    none = cli("up", "--dir", directory, "--fleet-schemas", "tenant%", "--database-url", with_password(dsn))
    assert none.code == 2 and "--fleet-schemas 'tenant%': no schema of " in none.err and SECRET not in none.text
    no_url = cli("up", "--dir", directory, "--fleet-schemas", "tenant%")
    assert no_url.code == 2 and "--fleet-schemas runs on a database: pass --database-url" in no_url.err
    both = cli("up", "--dir", directory, "--fleet", tmp_path / "t.txt", "--fleet-schemas", "x%", "--database-url", dsn)
    assert both.code == 2 and "--fleet and --fleet-schemas: give one source of targets" in both.err
    (tmp_path / "pyproject.toml").write_text("[tool.pytest-migrations]\nlock_wait = 5\n")
    missing = cli("up", "--dir", directory, "--fleet", "--config", tmp_path / "pyproject.toml")
    assert missing.code == 2
    assert "--fleet without a targets file reads [tool.pytest-migrations.fleet] from pyproject.toml" in missing.err


def pyproject(tmp_path, text: str):
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_config_section_names_a_file_a_pattern_or_target_tables(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATION)
    shared, first, second = databases
    query(shared.dsn, "CREATE SCHEMA tenant_a; CREATE SCHEMA tenant_b")

    by_pattern = pyproject(tmp_path, f'[tool.pytest-migrations]\ndatabase_url = "{shared.dsn}"\n\n'
                                     '[tool.pytest-migrations.fleet]\nschemas = "tenant%"\njobs = 2\n')
    result = cli("up", "--dir", directory, "--fleet", "--config", by_pattern, "--no-lint")
    assert result.code == 0, result.text
    assert applied(shared.dsn, "tenant_a") == ["001"] and applied(shared.dsn, "tenant_b") == ["001"]

    (tmp_path / "tenants.txt").write_text(f"{first.dsn}\n")
    by_file = pyproject(tmp_path, '[tool.pytest-migrations.fleet]\ntargets = "tenants.txt"\n')
    result = cli("up", "--dir", directory, "--fleet", "--config", by_file, "--no-lint")
    assert result.code == 0, result.text
    assert applied(first.dsn) == ["001"]

    by_tables = pyproject(tmp_path, (
        "[tool.pytest-migrations]\nlock_wait = 5\n\n"
        f'[[tool.pytest-migrations.fleet.target]]\nname = "second"\ndsn = "{second.dsn}"\ngroup = "canary"\n\n'
        f'[[tool.pytest-migrations.fleet.target]]\nname = "first"\ndsn = "{first.dsn}"\ngroup = "rest"\n'
    ))
    result = cli("up", "--dir", directory, "--fleet", "--config", by_tables, "--no-lint")
    assert result.code == 0, result.text
    assert "wave 1 (canary): 1 target(s)" in result.out and "fleet: 1 applied, 1 up to date" in result.out
    status = json.loads(cli("status", "--dir", directory, "--fleet", "--config", by_tables, "--format", "json").out)
    assert [(t["target"], t["line"]) for t in status["targets"]] == [("second", 4), ("first", 9)]


@pytest.mark.parametrize(("text", "message"), [
    ('[tool.pytest-migrations.fleet]\nschemas = "a%"\nquery = "SELECT 1"\n',
     "pyproject.toml:3: [tool.pytest-migrations.fleet] needs one of targets, schemas, query, target, not schemas and query"),
    ('[tool.pytest-migrations]\nlock_wait = 5\n[tool.pytest-migrations.fleet]\njobs = 4\n',
     "pyproject.toml:3: [tool.pytest-migrations.fleet] needs one of targets, schemas, query, target, not none of them"),
    ('[tool.pytest-migrations.fleet]\nschemas = "a%"\nshards = 3\n',
     "pyproject.toml:3: unknown key 'shards' in [tool.pytest-migrations.fleet]"),
    ('[tool.pytest-migrations.fleet]\nschemas = "a%"\njobs = "many"\n',
     "pyproject.toml:3: [tool.pytest-migrations.fleet] jobs must be a whole number"),
    ('[tool.pytest-migrations.fleet]\nschemas = "a%"\n',
     "pyproject.toml:2: [tool.pytest-migrations.fleet] schemas runs on the database URL"),
    ('[tool.pytest-migrations.fleet]\ntargets = "absent.txt"\n', "absent.txt: targets file not found"),
    ('# fleet\n[[tool.pytest-migrations.fleet.target]]\nname = "a"\n', "pyproject.toml:2: a target needs a dsn"),
    ('[[tool.pytest-migrations.fleet.target]]\ndsn = "host=a password=' + SECRET + '"\n\n'
     '[[tool.pytest-migrations.fleet.target]]\ndsn = "host=a dbname=\'x password=' + SECRET + '"\n',
     "pyproject.toml:4: not a valid DSN"),
])
def test_a_bad_config_section_names_file_and_line(cli, tmp_path, text, message):
    path = pyproject(tmp_path, text)
    result = cli("up", "--dir", tmp_path, "--fleet", "--config", path)
    assert result.code == 2, result.text
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1 and SECRET not in result.text
