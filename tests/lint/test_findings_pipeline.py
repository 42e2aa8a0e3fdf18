"""One findings pipeline for both linters: the pglast engine and the sqlglot dialects turn
violations into findings, apply suppressions, report unused ones and honour severity overrides
the same way, so a comment or a configuration line means the same under every ``--dialect``."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_lint.cli import main


@pytest.fixture(autouse=True)
def _plain(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(tmp_path)


def project(tmp_path: Path, migration: str, config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.migration-lint]\n{config}", encoding="utf-8")
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_first.sql").write_text(migration, encoding="utf-8")
    return directory


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(["--no-cache", "--format", "gcc", *args])
    return code, capsys.readouterr().out


UNKNOWN_RULE = """-- UP
-- migration-lint: ignore[no-such-rule] old habit
CREATE TABLE t (id int);
-- DOWN
DROP TABLE IF EXISTS t;
"""


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_suppression_of_an_unknown_rule_is_reported_in_every_dialect(tmp_path, capsys, dialect):
    directory = project(tmp_path, UNKNOWN_RULE)
    code, out = run(capsys, "--dialect", dialect, str(directory))
    assert "001_first.sql:2:1: warning: [unused-suppression] unused suppression: unknown rule 'no-such-rule'" in out
    assert code == 0


UNUSED_TWIN = """-- UP
-- migration-lint: ignore[ban-drop-table] nothing is dropped here
CREATE TABLE t (id int);
-- DOWN
DROP TABLE IF EXISTS t;
"""


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_severity_override_of_unused_suppression_holds_in_every_dialect(tmp_path, capsys, dialect):
    directory = project(tmp_path, UNUSED_TWIN, '[tool.migration-lint.severity]\nunused-suppression = "error"\n')
    code, out = run(capsys, "--dialect", dialect, str(directory))
    assert "001_first.sql:2:1: error: [unused-suppression] unused suppression: ban-drop-table reported nothing here" in out
    assert code == 1


@pytest.mark.parametrize("dialect", ["postgres", "mysql"])
def test_ignoring_unused_suppression_turns_the_report_off_in_every_dialect(tmp_path, capsys, dialect):
    directory = project(tmp_path, UNKNOWN_RULE, 'ignore = ["unused-suppression"]\n')
    code, out = run(capsys, "--dialect", dialect, str(directory))
    assert "unused-suppression" not in out
    assert code == 0


SILENCED = """-- UP
SET lock_timeout = '2s';
-- migration-lint: ignore[ban-drop-table] the archive was exported
DROP TABLE IF EXISTS archived;
-- DOWN
CREATE TABLE archived (id int);
"""


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_a_used_suppression_silences_the_twin_rule_in_every_dialect(tmp_path, capsys, dialect):
    directory = project(tmp_path, SILENCED)
    code, out = run(capsys, "--dialect", dialect, str(directory))
    assert "ban-drop-table" not in out
    assert "unused-suppression" not in out
    assert code == 0
