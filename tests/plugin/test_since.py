"""``--migrations-since`` (ini ``migrations_since``, ``MIGRATIONS_SINCE``, ``[tool.pytest-migrations]
since``): the ``::lint`` findings of migrations older than the line are reported and do not fail.
Only ``::lint`` items are selected here, so no server starts."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

BASE_ARGS = ("-p", "no:randomly", "-W", "ignore::DeprecationWarning", "-W", "ignore::pytest.PytestDeprecationWarning")

MIGRATIONS = {
    "001_orders.sql": """
        -- UP
        CREATE TABLE orders (id int, status text);
        -- DOWN
        DROP TABLE IF EXISTS orders;
    """,
    "002_index_status.sql": """
        -- UP
        SET lock_timeout = '5s';
        CREATE INDEX orders_status_idx ON orders (status);
        -- DOWN
        SET lock_timeout = '5s';
        DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
    """,
}


@pytest.fixture(autouse=True)
def _project(monkeypatch: pytest.MonkeyPatch, pytester: pytest.Pytester) -> None:
    for name in ("MIGRATIONS_DIR", "MIGRATIONS_SINCE", "MIGRATIONS_NO_LINT", "MIGRATIONS_NO_LOCKS"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\n")
    directory = pytester.path / "migrations"
    directory.mkdir()
    for name, text in MIGRATIONS.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def lint_outcome(pytester: pytest.Pytester, *args: str) -> tuple[str, str]:
    result = pytester.runpytest_inprocess("--migrations", *BASE_ARGS, "-rA", "-k", "lint", "--migrations-no-locks", *args)
    text = result.stdout.str()
    line = next((line for line in text.splitlines() if "002_index_status.sql::lint" in line and line.split()[0].isupper()), "")
    return line.split()[0] if line else "", text


def test_without_a_line_the_error_fails(pytester):
    assert lint_outcome(pytester)[0] == "FAILED"


def test_the_command_line_line(pytester):
    outcome, text = lint_outcome(pytester, "--migrations-since", "3")
    assert outcome == "PASSED"
    assert "older than since 3" in text[text.index("pytest-migrations warnings"):]
    assert lint_outcome(pytester, "--migrations-since", "2")[0] == "FAILED"


def test_the_environment_and_ini_lines(pytester, monkeypatch):
    pytester.makeini("[pytest]\nmigrations_since = 3\n")
    assert lint_outcome(pytester)[0] == "PASSED"
    monkeypatch.setenv("MIGRATIONS_SINCE", "2")  # the environment beats the ini file
    assert lint_outcome(pytester)[0] == "FAILED"


def test_the_pyproject_lines(pytester):
    pytester.makepyprojecttoml('[tool.pytest-migrations]\nsince = "3"\n')
    assert lint_outcome(pytester)[0] == "PASSED"
    pytester.makepyprojecttoml('[tool.migration-lint]\nsince = "3"\n')
    assert lint_outcome(pytester)[0] == "PASSED"


def test_a_line_that_is_no_version_is_a_usage_error(pytester):
    result = pytester.runpytest_inprocess("--migrations", *BASE_ARGS, "-k", "lint", "--migrations-since", "soon")
    assert result.ret != 0
    assert "--migrations-since" in result.stdout.str() + result.stderr.str()
