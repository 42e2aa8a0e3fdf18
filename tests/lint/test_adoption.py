"""Adopting the linter on a project with a history: ``--since`` / ``since`` (older migrations are
linted and reported but never fail, and ``--fix`` leaves them alone) and ``--changed-since``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from migration_lint.cli import main

CHECK = "-- UP\nSET lock_timeout = '1s';\nALTER TABLE {t} ADD CONSTRAINT {t}_positive CHECK (a > 0);\n-- DOWN\nSET lock_timeout = '1s';\nALTER TABLE {t} DROP CONSTRAINT IF EXISTS {t}_positive;\n"


@pytest.fixture(autouse=True)
def _plain(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(tmp_path)


def history(tmp_path: Path, config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.migration-lint]\n{config}", encoding="utf-8")
    directory = tmp_path / "migrations"
    directory.mkdir()
    for number, table in ((1, "orders"), (2, "users"), (3, "items")):
        (directory / f"{number:03d}_{table}.sql").write_text(CHECK.format(t=table), encoding="utf-8")
    return directory


def run(capsys, *args: str) -> tuple[int, list[dict], str]:
    code = main(["--no-cache", "--format", "json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip().startswith("[") else [], captured.err


def severities(findings: list[dict]) -> dict[str, str]:
    return {Path(f["path"]).name: f["severity"] for f in findings if f["rule"] == "constraint-missing-not-valid"}


def test_since_reports_older_migrations_without_failing(tmp_path, capsys):
    directory = history(tmp_path)
    code, findings, _ = run(capsys, "--since", "3", str(directory))
    assert severities(findings) == {"001_orders.sql": "warning", "002_users.sql": "warning", "003_items.sql": "error"}
    assert code == 1
    older = next(f for f in findings if f["path"].endswith("001_orders.sql"))
    assert "older than since 3" in older["message"]
    code, findings, _ = run(capsys, "--since", "4", str(directory))
    assert set(severities(findings).values()) == {"warning"} and code == 0


def test_since_from_the_configuration(tmp_path, capsys):
    directory = history(tmp_path, 'since = "3"\n')
    code, findings, _ = run(capsys, str(directory))
    assert severities(findings)["002_users.sql"] == "warning" and severities(findings)["003_items.sql"] == "error"
    assert code == 1


def test_since_applies_to_files_named_one_by_one(tmp_path, capsys):
    directory = history(tmp_path, 'since = "2"\n')
    code, findings, _ = run(capsys, str(directory / "001_orders.sql"))
    assert severities(findings) == {"001_orders.sql": "warning"} and code == 0


@pytest.mark.parametrize("bad", ["abc", "1.x"])
def test_a_since_that_is_no_version_is_a_usage_error(tmp_path, capsys, bad):
    directory = history(tmp_path)
    code, _, err = run(capsys, "--since", bad, str(directory))
    assert code == 2 and err.count("\n") == 1 and "--since" in err


def test_a_since_in_the_configuration_that_is_no_version_names_the_file(tmp_path, capsys):
    directory = history(tmp_path, 'since = "last-year"\n')
    code, _, err = run(capsys, str(directory))
    assert code == 2 and "pyproject.toml" in err and "since" in err


def test_fix_leaves_migrations_older_than_since_alone_and_says_so(tmp_path, capsys):
    directory = history(tmp_path)
    before = {path.name: path.read_text() for path in directory.iterdir()}
    code = main(["--fix", "--since", "3", "--format", "gcc", str(directory)])
    err = capsys.readouterr().err
    after = {path.name: path.read_text() for path in directory.iterdir()}
    assert after["001_orders.sql"] == before["001_orders.sql"]
    assert after["002_users.sql"] == before["002_users.sql"]
    assert "NOT VALID" in after["003_items.sql"]
    assert "001_orders.sql: not fixed: migration 001 is older than since 3" in err
    assert "002_users.sql: not fixed" in err
    assert code == 0


def test_fix_as_the_pre_commit_hook_runs_it_keeps_the_configured_line(tmp_path, capsys):
    """pre-commit runs ``migration-lint --fix`` on the staged files, named one by one relative
    to the repository: ``since`` comes from the configuration, and an applied migration (which
    a runner would then refuse as changed) is not rewritten."""
    directory = history(tmp_path, 'since = "3"\n')
    before = {path.name: path.read_text() for path in directory.iterdir()}
    code = main(["--fix", "--format", "gcc", *sorted(f"migrations/{name}" for name in before)])
    err = capsys.readouterr().err
    after = {path.name: path.read_text() for path in directory.iterdir()}
    assert {name for name in before if after[name] != before[name]} == {"003_items.sql"}
    assert "001_orders.sql: not fixed: migration 001 is older than since 3" in err
    assert code == 0


def test_diff_leaves_out_migrations_older_than_since(tmp_path, capsys):
    directory = history(tmp_path, 'since = "3"\n')
    main(["--no-cache", "--diff", "--format", "gcc", str(directory)])
    out = capsys.readouterr().out
    diffed = [line for line in out.splitlines() if line.startswith("+++ b/")]
    assert len(diffed) == 1 and diffed[0].endswith("003_items.sql")


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin", "HOME": str(cwd)})


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changed_since_lints_only_changed_migrations_with_the_rest_as_context(tmp_path, capsys):
    directory = history(tmp_path)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "history")
    (directory / "002_users.sql").write_text(CHECK.format(t="users") + "-- edited\n", encoding="utf-8")
    (directory / "004_orders_index.sql").write_text(
        "-- UP\nCREATE INDEX orders_a ON orders (a);\n-- DOWN\nDROP INDEX IF EXISTS orders_a;\n", encoding="utf-8"
    )
    code, findings, _ = run(capsys, "--changed-since", "main", str(directory))
    assert {Path(f["path"]).name for f in findings} == {"002_users.sql", "004_orders_index.sql"}
    assert code == 1
    # Context still counts: orders was made by 001, so 004 indexes an existing table.
    assert any(f["rule"] == "require-concurrent-index-creation" for f in findings)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changed_since_an_unknown_ref_is_one_line_and_exit_2(tmp_path, capsys):
    directory = history(tmp_path)
    _git(tmp_path, "init", "-q", "-b", "main")
    code, _, err = run(capsys, "--changed-since", "no-such-branch", str(directory))
    assert code == 2
    assert err.startswith("migration-lint: --changed-since no-such-branch:") and err.count("\n") == 1


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_changed_since_narrows_files_named_one_by_one(tmp_path, capsys):
    directory = history(tmp_path)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "history")
    (directory / "003_items.sql").write_text(CHECK.format(t="items") + "-- edited\n", encoding="utf-8")
    named = [str(path) for path in sorted(directory.glob("*.sql"))]
    code, findings, _ = run(capsys, "--changed-since", "HEAD", *named)
    assert {Path(f["path"]).name for f in findings} == {"003_items.sql"} and code == 1
