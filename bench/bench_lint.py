"""Lint the corpus repeated to about 1,000 files: our cold and warm wall times next to squawk's.

    python bench/bench_lint.py [--files 1000] [--runs 5]

Cold: no cache (``--no-cache``), one process per core (the default ``--jobs``), and for
reference in one process (``--jobs 1``). Warm: a second run over the unchanged directories with
the cache filled by a first run. squawk (the ``squawk-cli`` dev dependency) lints the same files.
Each figure is the best of ``--runs`` runs of the whole command, start-up included; the commands
take turns within each round, so that other work on the machine weighs on all of them alike and
the ratios stay fair.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SETS = ("authelia-postgres", "quickwit-postgresql", "quickwit-postgresql-deferred", "docsrs")


def build_tree(root: Path, wanted: int) -> list[Path]:
    directories: list[Path] = []
    count = 0
    copy = 0
    while count < wanted:
        for name in SETS:
            source = CORPUS / name
            target = root / f"{name}-{copy}"
            target.mkdir(parents=True)
            for path in source.glob("*.sql"):
                shutil.copyfile(path, target / path.name)
                count += 1
            directories.append(target)
        copy += 1
    return directories


def best_of(commands: dict[str, list[str]], runs: int, cwd: Path) -> dict[str, float]:
    """The best wall time of each command, the commands taking turns in each round."""
    # As installed for a user: byte-code caching on (a test environment may turn it off).
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    best = {name: float("inf") for name in commands}
    for _ in range(runs + 1):  # the first round warms the OS file cache and byte-code
        for name, command in commands.items():
            started = time.perf_counter()
            subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=environment)
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    lint = shutil.which("migration-lint") or sys.exit("migration-lint is not installed")
    squawk = shutil.which("squawk") or sys.exit("squawk is not installed (pip install squawk-cli)")
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        directories = build_tree(root / "tree", args.files)
        files = sorted(str(p) for d in directories for p in d.glob("*.sql"))
        relative = [str(d.relative_to(root)) for d in directories]
        subprocess.run([lint, "--format", "gcc", *relative], cwd=root, stdout=subprocess.DEVNULL, check=False)  # fill the cache
        best = best_of({
            "squawk": [squawk, "--reporter", "gcc", *files],
            "cold": [lint, "--no-cache", "--format", "gcc", *relative],
            "warm": [lint, "--format", "gcc", *relative],
            "one process": [lint, "--no-cache", "--jobs", "1", "--format", "gcc", *relative],
        }, args.runs, root)
    squawk_time = best["squawk"]
    print(f"files linted:        {len(files)} ({os.cpu_count()} cores)")
    print(f"squawk:              {squawk_time:.3f} s")
    print(f"migration-lint cold: {best['cold']:.3f} s  ({best['cold'] / squawk_time:.1f}x squawk)")
    print(f"migration-lint warm: {best['warm']:.3f} s  ({best['warm'] / squawk_time:.1f}x squawk)")
    print(f"cold in one process: {best['one process']:.3f} s  ({best['one process'] / squawk_time:.1f}x squawk)")


if __name__ == "__main__":
    main()
