"""Lint the corpus repeated to about 1,000 files: our cold and warm wall times next to squawk's.

    python bench/bench_lint.py [--files 1000] [--runs 5]

Three shapes of run, as users make them: the directories (CI, ``migration-lint migrations/``),
the same files named one by one (pre-commit ``--all-files`` names every file), and one file
(pre-commit on a commit that adds a migration; the directory is still read for context). Cold:
no cache (``--no-cache``), one process per core (the default ``--jobs``), and for the directories
also in one process (``--jobs 1``). Warm: the same command again with the cache filled by a first
run. squawk (the ``squawk-cli`` dev dependency) lints the same files in the same rounds. Each
figure is the best of ``--runs`` runs of the whole command, start-up included; the commands take
turns within each round, so that other work on the machine weighs on all of them alike and the
ratios stay fair.
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
        relative = [str(d.relative_to(root)) for d in directories]
        files = sorted(str(p.relative_to(root)) for d in directories for p in d.glob("*.sql"))
        single = files[len(files) // 2]
        shapes = {"directories": relative, "file list": files, "one file": [single]}
        commands: dict[str, list[str]] = {}
        for shape, targets in shapes.items():
            subprocess.run([lint, "--format", "gcc", *targets], cwd=root, stdout=subprocess.DEVNULL, check=False)  # fill the cache
            commands[f"{shape}: squawk"] = [squawk, "--reporter", "gcc", *(files if shape != "one file" else [single])]
            commands[f"{shape}: cold"] = [lint, "--no-cache", "--format", "gcc", *targets]
            commands[f"{shape}: warm"] = [lint, "--format", "gcc", *targets]
        commands["directories: cold, one process"] = [lint, "--no-cache", "--jobs", "1", "--format", "gcc", *relative]
        best = best_of(commands, args.runs, root)
    print(f"files: {len(files)} in {len(directories)} directories ({os.cpu_count()} cores); best of {args.runs} runs")
    for shape in shapes:
        anchor = best[f"{shape}: squawk"]
        print(f"{shape}:")
        print(f"  squawk                {anchor:7.3f} s")
        for label in ("cold", "warm", "cold, one process"):
            name = f"{shape}: {label}"
            if name in best:
                print(f"  migration-lint {label:<6} {best[name]:7.3f} s  ({best[name] / anchor:.1f}x squawk)")


if __name__ == "__main__":
    main()
