"""What makes ``migration-lint`` fast, checked as behaviour (the figures are in bench/): files
named one by one load their directory once, and a warm run never imports the parser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import migration_lint.layouts as layouts
from migration_lint.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _plain(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(tmp_path)


def history(directory: Path, count: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        path = directory / f"{number:03d}_step.sql"
        path.write_text(
            f"-- UP\nCREATE TABLE t{number} (id bigint PRIMARY KEY);\nCREATE INDEX i{number} ON t1 (id);\n"
            f"-- DOWN\nDROP TABLE IF EXISTS t{number};\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def findings(capsys, *args: str) -> list[tuple]:
    main(["--format", "json", *args])
    return sorted((f["path"], f["line"], f["code"]) for f in json.loads(capsys.readouterr().out))


def test_named_files_load_their_directory_once(tmp_path, capsys, monkeypatch):
    paths = history(tmp_path / "migrations", 12)
    calls: list[Path] = []
    original = layouts.load_directory
    monkeypatch.setattr(layouts, "load_directory",
                        lambda directory, *more: calls.append(Path(directory)) or original(directory, *more))
    named = findings(capsys, "--no-cache", *map(str, paths))
    assert len(calls) == 1
    calls.clear()
    whole = findings(capsys, "--no-cache", str(tmp_path / "migrations"))
    assert named == whole and named  # the same findings as the directory's, in context


def test_a_subset_of_named_files_reports_only_those_files(tmp_path, capsys):
    paths = history(tmp_path / "migrations", 6)
    whole = findings(capsys, "--no-cache", str(tmp_path / "migrations"))
    some = findings(capsys, "--no-cache", str(paths[2]), str(paths[4]))
    assert some == [f for f in whole if f[0] in (str(paths[2]), str(paths[4]))]
    assert some


def test_named_files_use_a_cached_directory(tmp_path, capsys):
    paths = history(tmp_path / "migrations", 5)
    whole = findings(capsys, str(tmp_path / "migrations"))  # fills the cache
    assert findings(capsys, str(paths[1])) == [f for f in whole if f[0] == str(paths[1])]


def _modules_after_run(cwd: Path, *args: str) -> set[str]:
    script = (
        "import sys, json\n"
        "from migration_lint.cli import main\n"
        f"code = main({list(args)!r})\n"
        "sys.stdout.flush()\n"
        "print('\\nMODULES', json.dumps(sorted(sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True,
                               env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, check=False)
    line = next(line for line in completed.stdout.splitlines() if line.startswith("MODULES "))
    return set(json.loads(line.split(" ", 1)[1]))


@pytest.mark.parametrize("named", ["directory", "files"])
def test_a_warm_run_does_not_import_the_parser(tmp_path, named):
    paths = history(tmp_path / "migrations", 4)
    targets = ["migrations"] if named == "directory" else [str(p.relative_to(tmp_path)) for p in paths]
    cold = _modules_after_run(tmp_path, *targets)
    assert "pglast.parser" in cold  # the first run parses
    warm = _modules_after_run(tmp_path, *targets)
    assert not {name for name in warm if name == "pglast" or name.startswith("pglast.")}
    assert not {name for name in warm if name.startswith("migration_lint.rules.ml")}


def test_named_files_of_a_folders_layout_are_read_with_their_directory(tmp_path, capsys):
    directory = tmp_path / "migrations"
    for version, up, down in (("001_orders", "CREATE TABLE orders (id int);", "DROP TABLE IF EXISTS orders;"),
                              ("002_index", "CREATE INDEX i ON orders (id);", "DROP INDEX IF EXISTS i;")):
        (directory / version).mkdir(parents=True)
        (directory / version / "up.sql").write_text(up + "\n", encoding="utf-8")
        (directory / version / "down.sql").write_text(down + "\n", encoding="utf-8")
    files = sorted(str(path) for path in directory.glob("*/*.sql"))
    whole = findings(capsys, "--no-cache", str(directory))
    assert findings(capsys, "--no-cache", *files) == whole and whole
