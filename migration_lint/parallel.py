"""Linting directories on several cores: on a large cold run, directories (or consecutive parts
of one large directory, each re-reading the migrations before it for context) are linted in
forked children while this process does its share."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .targets import LintResult

PARALLEL_MIN_FILES = 300

# The share of a migration's linting that a worker spends on it when it only reads it as context
# for later ones (reading the file, parsing its UP, replaying it): measured on the corpus.
_CONTEXT_COST = 0.4

Unit = tuple  # (directory index, part, parts): one part of a directory's migrations
# Lints one part of a directory into a result: (result, directory, part, parts).
LintPart = Callable[["LintResult", Path, int, int], None]


def parallel_weights(directories: list[Path]) -> list[int] | None:
    """Bytes in each directory (and its subfolders one level down), a measure of how long it
    takes to lint; ``None`` when forking is not worth it (a small run, one core, no fork)."""
    if not directories or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
        return None
    weights = []
    files = 0
    for directory in directories:
        total = 0
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_file():
                        files += 1
                        total += entry.stat().st_size
                    elif entry.is_dir() and not entry.name.startswith("."):
                        with os.scandir(entry.path) as inner:
                            for child in inner:
                                if child.is_file():
                                    files += 1
                                    total += child.stat().st_size
        except OSError:
            pass
        weights.append(total)
    return weights if files >= PARALLEL_MIN_FILES else None


def plan(weights: list[int], workers: int) -> list[list[Unit]]:
    """The units of work of each worker: heaviest first to the least loaded worker, so that all
    finish at about the same time.

    A directory heavier than a worker's fair share is cut into consecutive parts (a project
    usually keeps all its migrations in one directory). A part's worker also reads the
    migrations before it for context, which costs; :func:`part_bounds` sizes the parts so that
    each costs the same, the first being the largest.
    """
    fair = max(sum(weights) / workers, 1)
    units: list[tuple[float, Unit]] = []
    for index, weight in enumerate(weights):
        parts = max(1, min(workers, round(weight / fair)))
        cost = weight * _part_share(parts)
        units.extend((cost, (index, part, parts)) for part in range(parts))
    groups: list[list[Unit]] = [[] for _ in range(min(workers, len(units)))]
    loads = [0.0] * len(groups)
    for cost, unit in sorted(units, key=lambda item: -item[0]):
        lightest = loads.index(min(loads))
        groups[lightest].append(unit)
        loads[lightest] += cost + 1
    return [sorted(group) for group in groups if group]


def _part_share(parts: int) -> float:
    """The share of its directory's work that each of ``parts`` equal-cost parts takes."""
    if parts == 1:
        return 1.0
    return _CONTEXT_COST / (1 - (1 - _CONTEXT_COST) ** parts)


def part_bounds(sizes: list[int], parts: int) -> list[int]:
    """Where ``parts`` consecutive parts of migrations of these ``sizes`` begin and end, so that
    each part's own size plus the context cost of the migrations before it are the same."""
    total = sum(sizes) or 1
    share = _part_share(parts)
    bounds = [0]
    done = 0.0
    cumulative = 0
    index = 0
    for _ in range(parts - 1):
        done = done * (1 - _CONTEXT_COST) + share  # fraction covered once this part ends
        while index < len(sizes) and cumulative + sizes[index] / 2 < done * total:
            cumulative += sizes[index]
            index += 1
        bounds.append(index)
    bounds.append(len(sizes))
    return bounds


def _lint_units(result: LintResult, directories: list[Path], units: list[Unit], lint_part: LintPart) -> list[tuple[int, list, list[str]]]:
    """``(files, findings, input errors)`` of each unit, each linted on its own."""
    outcomes = []
    for index, part, parts in units:
        worker = result.worker()
        lint_part(worker, directories[index], part, parts)
        outcomes.append((worker.files_checked, worker.findings, worker.input_errors))
    return outcomes


def lint_in_parallel(result: LintResult, directories: list[Path], weights: list[int], jobs: int, lint_part: LintPart) -> None:
    """Lint directories in ``jobs`` processes: this one and ``jobs - 1`` forked children.

    Plain ``os.fork`` and a pipe per child rather than a ``multiprocessing`` pool: the pool's
    imports and start-up cost more than a child's share of a thousand files takes to lint, and
    the parent would sit idle while the pool works. The linter (every rule imported) is built
    before forking, so children share it. A child sends its findings back as ``marshal`` data
    (rows of plain values, same interpreter on both ends: the fastest way across). If a child
    fails, this process lints its share itself.
    """
    import marshal

    from .finding import Finding

    groups = plan(weights, jobs)
    result.session.linter  # built once, before forking, so that every child shares it
    children = []
    for group in groups[1:]:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no room for another process: do its share here
            os.close(read_end)
            os.close(write_end)
            groups[0].extend(group)
            continue
        if pid == 0:  # the child: lint, send, and leave without running the parent's exit code
            status = 1
            try:
                os.close(read_end)
                outcomes = _lint_units(result, directories, group, lint_part)
                payload = marshal.dumps([(files, [f.to_row() for f in found], errors) for files, found, errors in outcomes])
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        children.append((pid, read_end, group))
    outcomes = dict(zip(groups[0], _lint_units(result, directories, groups[0], lint_part)))
    for pid, read_end, group in children:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        try:
            received = marshal.loads(payload) if status == 0 else None
        except (EOFError, ValueError, TypeError):
            received = None
        if received is not None and len(received) == len(group):
            outcomes.update(
                (unit, (files, list(map(Finding.from_row, rows)), errors))
                for unit, (files, rows, errors) in zip(group, received)
            )
        else:
            outcomes.update(zip(group, _lint_units(result, directories, group, lint_part)))
    # Put the parts back together in order: the findings come out as one process would list them.
    for index, directory in enumerate(directories):
        parts = [outcomes[unit] for unit in sorted(unit for unit in outcomes if unit[0] == index)]
        files = sum(part[0] for part in parts)
        found = [finding for part in parts for finding in part[1]]
        errors = [error for part in parts for error in part[2]]
        result.files_checked += files
        result.findings.extend(found)
        result.input_errors.extend(errors)
        if result.cache is not None and not errors:
            result.cache.put_directory(directory, files, [f.to_row() for f in found])
