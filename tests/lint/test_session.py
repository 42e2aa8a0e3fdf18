"""Every tool that lints goes through one lint session, so each honours ``[tool.migration-lint]``:
the CLI, the language server, the pytest plugin's ``::lint`` items, the runner's lint before
apply and the lock tracer. None of these needs a database: they lint."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_lint.layouts import discover

INDEX = "-- UP\nSET lock_timeout = '2s';\nCREATE INDEX orders_total ON orders (total);\n-- DOWN\nSET lock_timeout = '2s';\nDROP INDEX CONCURRENTLY IF EXISTS orders_total;\n"
RULE = "require-concurrent-index-creation"


def project(tmp_path: Path, config: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.migration-lint]\n{config}", encoding="utf-8")
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_orders.sql").write_text(
        "-- UP\nCREATE TABLE orders (id bigint PRIMARY KEY, total int);\n-- DOWN\nDROP TABLE IF EXISTS orders;\n",
        encoding="utf-8",
    )
    (directory / "002_orders_total.sql").write_text(INDEX, encoding="utf-8")
    return directory


def cli_codes(directory: Path, capsys) -> set[str]:
    from migration_lint.cli import main

    main(["--no-cache", "--format", "json", str(directory)])
    import json

    return {finding["rule"] for finding in json.loads(capsys.readouterr().out)}


def server_codes(directory: Path) -> set[str]:
    pytest.importorskip("pygls")
    from migration_lint.server import Settings, lint_buffer

    path = directory / "002_orders_total.sql"
    per_path, _, _ = lint_buffer(path, {path.resolve(): INDEX}, Settings())
    return {finding.rule for findings in per_path.values() for finding in findings}


def plugin_codes(directory: Path) -> set[str]:
    from pytest_migrations.plugin.lint import lint_directory

    migrations = discover(directory)
    report = lint_directory(migrations)
    lines = [line for m in migrations for group in report.for_migration(m) for line in group]
    return {code for line in lines for code in [line.split(": ", 1)[1].split(" ", 1)[0]]}


def runner_codes(directory: Path) -> set[str]:
    from pytest_migrations.runner._lint import lint

    migrations = discover(directory)
    outcome = lint(migrations, migrations)
    return {finding.code for finding in outcome.findings}


def tracer_codes(directory: Path) -> set[str]:
    from pytest_migrations.trace import _static

    migrations = discover(directory)
    found = _static.static_findings(migrations[1], 15, migrations[:1])
    assert found is not None
    return {finding.code for findings in found.values() for finding in findings}


def _by_code(codes: set[str]) -> set[str]:
    from migration_lint.rules import known_rule

    return {known_rule(code).name for code in codes}


CONSUMERS = {
    "cli": lambda directory, capsys: cli_codes(directory, capsys),
    "server": lambda directory, capsys: server_codes(directory),
    "plugin": lambda directory, capsys: _by_code(plugin_codes(directory)),
    "runner": lambda directory, capsys: _by_code(runner_codes(directory)),
    "tracer": lambda directory, capsys: _by_code(tracer_codes(directory)),
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(tmp_path)
    from pytest_migrations.trace import _static

    monkeypatch.setattr(_static, "_SESSIONS", {}, raising=False)


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
def test_each_tool_reports_the_rule_by_default(tmp_path, capsys, consumer):
    directory = project(tmp_path, "")
    assert RULE in CONSUMERS[consumer](directory, capsys)


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
def test_each_tool_honours_ignore_in_the_project_configuration(tmp_path, capsys, consumer):
    directory = project(tmp_path, f'ignore = ["{RULE}"]\n')
    assert RULE not in CONSUMERS[consumer](directory, capsys)


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
def test_each_tool_honours_per_file_ignores(tmp_path, capsys, consumer):
    directory = project(tmp_path, f'[tool.migration-lint.per-file-ignores]\n"migrations/002_*.sql" = ["{RULE}"]\n')
    assert RULE not in CONSUMERS[consumer](directory, capsys)


def test_plugin_and_runner_honour_severity_overrides(tmp_path):
    from pytest_migrations.plugin.lint import lint_directory
    from pytest_migrations.runner._lint import lint

    directory = project(tmp_path, f'[tool.migration-lint.severity]\n{RULE} = "warning"\n')
    migrations = discover(directory)
    errors, warnings = lint_directory(migrations).for_migration(migrations[1])
    assert not errors and any("ML001" in line for line in warnings)
    outcome = lint(migrations, migrations)
    assert not outcome.errors and "ML001" in {finding.code for finding in outcome.findings}


def test_one_session_reads_each_directory_once(tmp_path, monkeypatch):
    import migration_lint.layouts as layouts
    from migration_lint.session import LintSession

    directory = project(tmp_path, "")
    calls = []
    original = layouts.load_directory
    monkeypatch.setattr(layouts, "load_directory",
                        lambda path, *more: calls.append(path) or original(path, *more))
    session = LintSession.for_path(directory)
    first = session.migrations(directory)
    assert session.migrations(directory) is first
    assert len(calls) == 1
