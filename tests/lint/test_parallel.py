"""``migration-lint`` on several cores gives what one process gives, to the byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import migration_lint.cli as cli
import migration_lint.parallel as parallel
from shared_corpus import corpus_set



@pytest.fixture(autouse=True)
def _every_run_forks(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)  # fork even on a one-core CI runner


def lint(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--no-cache", "--format", "json", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_one_directory_cut_into_parts(capsys, jobs):
    directory = corpus_set("docsrs")
    assert parallel.parallel_weights([directory]) is not None
    assert parallel.plan(parallel.parallel_weights([directory]), int(jobs)) == [[(0, part, int(jobs))] for part in range(int(jobs))]
    alone = lint(capsys, "--jobs", "1", str(directory))
    shared = lint(capsys, "--jobs", jobs, str(directory))
    assert alone == shared and alone[0] == 1 and alone[1].count('"code"') > 10


def test_a_later_part_knows_what_earlier_migrations_established(tmp_path, capsys):
    """The part holding 002 and 003 reads 001 for context: the varchar(10) column 001 creates
    makes widening it to varchar(20) safe (without 001 the current type is unknown)."""
    migrations = tmp_path / "migrations"
    padding = "".join(f"-- {'x' * 70}\n" for _ in range(200))  # the heaviest: a part of its own
    write(migrations / "001_orders.sql", f"-- UP\n{padding}CREATE TABLE orders (id bigint PRIMARY KEY, note varchar(10));\n"
          "-- DOWN\nDROP TABLE IF EXISTS orders;\n")
    write(migrations / "002_widen.sql", "-- UP\nSET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN note TYPE varchar(20);\n"
          "-- DOWN\nSELECT 1;\n")
    write(migrations / "003_index.sql", "-- UP\nSET lock_timeout = '2s';\nCREATE INDEX orders_note ON orders (note);\n"
          "-- DOWN\nSELECT 1;\n")
    sizes = [len(p.read_text()) for p in sorted(migrations.iterdir())]
    assert parallel.part_bounds(sizes, 2) == [0, 1, 3]
    alone = lint(capsys, "--jobs", "1", str(migrations))
    shared = lint(capsys, "--jobs", "2", str(migrations))
    assert alone == shared
    assert "changing-column-type" not in shared[1]
    assert "require-concurrent-index-creation" in shared[1] and "003_index.sql" in shared[1]


def test_part_bounds_cover_every_migration_once():
    sizes = [5, 80, 3, 3, 400, 12, 12, 12, 90, 1]
    for parts in (1, 2, 3, 4):
        bounds = parallel.part_bounds(sizes, parts)
        assert bounds[0] == 0 and bounds[-1] == len(sizes) and len(bounds) == parts + 1
        assert bounds == sorted(bounds)
    # Equal sizes: later parts are smaller, since their workers also read the earlier migrations.
    first, second, end = parallel.part_bounds([10] * 100, 2)
    assert second - first > end - second
