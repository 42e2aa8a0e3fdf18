"""``migrations up --fleet TARGETS`` and ``migrations status --fleet TARGETS``: what they print."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..runner import EXIT_FAILED, EXIT_OK, InputError, RunnerSettings
from ._fleet import CONNECTIONS_PER_APPLY, Fleet, FleetRun, Preflight, TargetStatus
from ._targets import read_targets

DEFAULT_JOBS = 8


def add_fleet_arguments(parser: argparse.ArgumentParser, *, applying: bool) -> None:
    """The ``--fleet`` options of ``up`` (``applying``) and ``status``."""
    parser.add_argument("--fleet", metavar="TARGETS", type=Path,
                        help="run on every target of this file (a DSN and an optional schema per line)")
    parser.add_argument("--jobs", type=int, default=None,
                        help=f"with --fleet: at most N connections open at once (default: {DEFAULT_JOBS});"
                        " a target being migrated holds two")
    if applying:
        parser.add_argument("--continue-on-error", action="store_true", default=None,
                            help="with --fleet: keep migrating the other targets of the wave after one fails")
        parser.add_argument("--canary", type=int, default=None, metavar="N",
                            help="with --fleet: migrate the first N targets first, as a wave of their own;"
                            " any failure there stops the run")


FLEET_ONLY = ("jobs", "continue_on_error", "canary")


def refuse_fleet_options(args: argparse.Namespace) -> None:
    """A fleet option without ``--fleet`` is a mistake, not something to ignore."""
    for name in FLEET_ONLY:
        if getattr(args, name, None) is not None:
            raise InputError(f"--{name.replace('_', '-')} works only with --fleet TARGETS")


def run_fleet_command(args: argparse.Namespace, directory: Path, settings: RunnerSettings, output: Any) -> int:
    """Run ``args.command`` over the fleet; ``output`` is the CLI's Output (text or JSON)."""
    args.jobs = DEFAULT_JOBS if args.jobs is None else args.jobs
    args.canary = getattr(args, "canary", None) or 0
    args.continue_on_error = bool(getattr(args, "continue_on_error", None))
    if args.jobs < CONNECTIONS_PER_APPLY:
        raise InputError(
            f"--jobs must be at least {CONNECTIONS_PER_APPLY}: a target being migrated holds two"
            " connections (the runners' lock and the migration's)"
        )
    if args.canary < 0:
        raise InputError("--canary must be 0 or more")
    targets = read_targets(args.fleet)
    if args.canary and any(target.group for target in targets):
        raise InputError(f"{args.fleet}: its targets have groups, which are the waves; --canary is for a file without")
    fleet = Fleet(directory, targets, settings, jobs=args.jobs, on_progress=output.line)
    if args.command == "status":
        return _status(fleet.status(), output)
    if args.command == "up":
        if getattr(args, "to", None) is not None:
            raise InputError("--to is not supported with --fleet yet: the whole fleet goes to the newest version")
        started = time.monotonic()
        preflight = fleet.preflight()
        if not _preflight(preflight, args.dry_run, output):
            return EXIT_FAILED
        run = fleet.apply(preflight, dry_run=args.dry_run, continue_on_error=args.continue_on_error,
                          canary=args.canary, started=started)
        return _up(run, output)
    raise InputError(f"--fleet is not supported by `migrations {args.command}`")


def _preflight(preflight: Preflight, dry_run: bool, output: Any) -> bool:
    doc = output.document
    doc["dry_run"] = dry_run
    doc["preflight"] = {
        "ok": preflight.ok,
        "problems": preflight.problems,
        "targets": [
            {"target": c.target.label, "line": c.target.line, "pending": c.pending, "problems": c.problems,
             "data_checks": c.checks_run, "unchecked": c.unchecked}
            for c in preflight.targets
        ],
    }
    groups: dict[tuple[str, ...], int] = {}
    for check in preflight.targets:
        groups[tuple(check.pending)] = groups.get(tuple(check.pending), 0) + 1
    checks = sum(c.checks_run for c in preflight.targets)
    output.line(f"preflight: {len(preflight.targets)} target(s), {checks} data check(s) run")
    for pending, count in sorted(groups.items(), key=lambda item: -len(item[0])):
        output.line(f"  {count} target(s) would apply {len(pending)}: {', '.join(pending) or 'nothing'}")
    notes = {line for check in preflight.targets for line in check.unchecked}
    for line in sorted(notes):
        output.note(f"note: {line}")
    for problem in preflight.problems:
        output.error(problem)
    for check in preflight.failed:
        for problem in check.problems:
            output.error(f"{check.target.place}: {check.target.label}: {problem}")
    if not preflight.ok:
        where = f"on {len(preflight.failed)} target(s)" if preflight.failed else "for the whole fleet"
        output.line(f"preflight failed {where}: no target was written")
        return False
    return True


def _up(run: FleetRun, output: Any) -> int:
    doc = output.document
    doc["targets"] = [
        {"target": r.target.label, "line": r.target.line, "state": r.state, "applied": r.applied,
         "message": r.message, "duration_ms": r.duration_ms}
        for r in run.runs
    ]
    doc["wall_ms"] = run.wall_ms
    if run.dry_run:
        output.line("dry run: nothing was changed")
        return EXIT_OK
    counts: dict[str, int] = {}
    for target_run in run.runs:
        counts[target_run.state] = counts.get(target_run.state, 0) + 1
    for target_run in run.runs:
        if target_run.state == "failed":
            output.error(f"{target_run.target.place}: {target_run.target.label}: {target_run.message}")
    summary = ", ".join(f"{count} {state}" for state, count in counts.items())
    output.line(f"fleet: {summary} in {run.wall_ms} ms")
    if counts.get("not started"):
        output.line("run `migrations up --fleet` again to resume once the failure is fixed")
    return EXIT_OK if run.ok else EXIT_FAILED


def _status(statuses: list[TargetStatus], output: Any) -> int:
    output.document["targets"] = [
        {"target": s.target.label, "line": s.target.line, "schema": s.target.schema, "version": s.version,
         "pending": s.pending, "dirty": s.dirty, "disagreements": s.disagreements, "error": s.error}
        for s in statuses
    ]
    rows = [("line", "target", "version", "pending", "dirty", "state")]
    for s in statuses:
        state = "unreachable" if s.error else "dirty" if s.dirty else "disagrees" if s.disagreements else "ok"
        rows.append((str(s.target.line), s.target.label, s.version or "-", str(s.pending),
                     "yes" if s.dirty else "no", state))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        output.line("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    for s in statuses:
        for line in ([s.error] if s.error else []) + s.dirty + s.disagreements:
            output.line(f"{s.target.place}: {s.target.label}: {line}")
    versions: dict[str, int] = {}
    for s in statuses:
        versions[s.version or "-"] = versions.get(s.version or "-", 0) + 1
    output.line(f"{len(statuses)} target(s): " + ", ".join(f"{n} at {v}" for v, n in sorted(versions.items())))
    return EXIT_OK if all(s.ok for s in statuses) else EXIT_FAILED


__all__ = ["add_fleet_arguments", "refuse_fleet_options", "run_fleet_command"]
