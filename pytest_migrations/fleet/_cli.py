"""``migrations up|down|status|verify --fleet``: where the targets come from, and what is printed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from ..config import ToolConfig
from ..runner import EXIT_FAILED, EXIT_OK, InputError, RunnerSettings
from ..runner._errors import display_path
from ._fleet import CONNECTIONS_PER_APPLY, Action, Fleet, FleetRun, Preflight, TargetRun, TargetStatus
from ._drift import TargetDrift, check_drift
from ._progress import LiveLine, is_terminal
from ._targets import Target, fleet_config, read_targets, targets_from_config, targets_from_query, targets_from_schemas

DEFAULT_JOBS = 8
# ``--fleet`` given without a file: the targets of [tool.pytest-migrations.fleet].
FROM_CONFIG = ""


def add_fleet_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """The ``--fleet`` options of ``command``: ``up``, ``down``, ``status`` or ``verify``."""
    applying = command in ("up", "down")
    parser.add_argument("--fleet", metavar="TARGETS", nargs="?", const=FROM_CONFIG, default=None,
                        help="run on every target of this file (a DSN and an optional schema per line, or TOML);"
                        " without a file, on the targets of [tool.pytest-migrations.fleet]")
    parser.add_argument("--fleet-schemas", metavar="PATTERN", default=None,
                        help="run on every schema of the --database-url database whose name matches this LIKE"
                        " pattern (e.g. 'tenant_%%')")
    parser.add_argument("--fleet-query", metavar="SQL", default=None,
                        help="run on the targets this query lists, run read-only on --database-url: columns"
                        " dsn (default: that database), schema, name, group")
    parser.add_argument("--jobs", type=int, default=None,
                        help=f"with --fleet: at most N connections open at once (default: {DEFAULT_JOBS});"
                        " a target being migrated holds two")
    if command in ("status", "verify"):  # each target's catalog against the schema of its version
        if command == "status":
            parser.add_argument("--drift", action="store_true", default=None,
                                help="with --fleet: compare each target's catalog with the schema its version should have")
        parser.add_argument("--scratch-url", metavar="DSN", default=None,
                            help="with --fleet: the server where the expected schemas are built, in throwaway"
                            " databases (default: an embedded PostgreSQL 18; best: one of the targets' version)")
    if applying:
        parser.add_argument("--continue-on-error", action="store_true", default=None,
                            help="with --fleet: skip the targets that fail the preflight and migrate the others;"
                            " keep migrating the other targets of the wave after one fails")
        parser.add_argument("--canary", type=int, default=None, metavar="N",
                            help="with --fleet: migrate the first N targets first, as a wave of their own;"
                            " any failure there stops the run")


FLEET_ONLY = ("jobs", "continue_on_error", "canary", "drift", "scratch_url")
SOURCES = ("fleet", "fleet_schemas", "fleet_query")


def wants_fleet(args: argparse.Namespace) -> bool:
    """Whether the command runs on a fleet (any of ``--fleet``, ``--fleet-schemas``, ``--fleet-query``)."""
    return any(getattr(args, name, None) is not None for name in SOURCES)


def refuse_fleet_options(args: argparse.Namespace) -> None:
    """A fleet option without ``--fleet`` is a mistake, not something to ignore."""
    for name in FLEET_ONLY:
        if getattr(args, name, None) is not None:
            raise InputError(f"--{name.replace('_', '-')} works only with --fleet TARGETS")


def fleet_targets(args: argparse.Namespace, config: ToolConfig, database_url: str | None) -> list[Target]:
    """The targets of the one source the command line names."""
    given = [name for name in SOURCES if getattr(args, name, None) is not None]
    if len(given) > 1:
        raise InputError(" and ".join(f"--{name.replace('_', '-')}" for name in given) + ": give one source of targets")
    if args.fleet_schemas is not None or args.fleet_query is not None:
        option = "--fleet-schemas" if args.fleet_schemas is not None else "--fleet-query"
        if not database_url:
            raise InputError(
                f"{option} runs on a database: pass --database-url, set MIGRATIONS_DATABASE_URL,"
                " or set database_url in [tool.pytest-migrations]"
            )
        if args.fleet_schemas is not None:
            return targets_from_schemas(database_url, args.fleet_schemas)
        return targets_from_query(database_url, args.fleet_query, source="--fleet-query")
    if args.fleet == FROM_CONFIG:
        return targets_from_config(config, database_url)
    return read_targets(Path(args.fleet))


def run_fleet_command(
    args: argparse.Namespace,
    directory: Path,
    settings: RunnerSettings,
    output: Any,
    *,
    config: ToolConfig | None = None,
    database_url: str | None = None,
) -> int:
    """Run ``args.command`` over the fleet; ``output`` is the CLI's Output (text or JSON)."""
    config = config or ToolConfig()
    section = fleet_config(config) or {}
    args.jobs = args.jobs if args.jobs is not None else section.get("jobs", DEFAULT_JOBS)
    args.canary = getattr(args, "canary", None) or 0
    args.continue_on_error = bool(getattr(args, "continue_on_error", None))
    args.drift = bool(getattr(args, "drift", None))
    args.scratch_url = getattr(args, "scratch_url", None)
    if args.jobs < CONNECTIONS_PER_APPLY:
        raise InputError(
            f"--jobs must be at least {CONNECTIONS_PER_APPLY}: a target being migrated holds two"
            " connections (the runners' lock and the migration's)"
        )
    if args.canary < 0:
        raise InputError("--canary must be 0 or more")
    targets = fleet_targets(args, config, database_url)
    if args.canary and any(target.group for target in targets):
        source = targets[0].source
        named = display_path(source) if isinstance(source, Path) else source
        raise InputError(f"{named}: its targets have groups, which are the waves; --canary is for targets without")
    live = LiveLine(sys.stdout) if not output.json_mode and is_terminal(sys.stdout) else None
    fleet = Fleet(
        directory, targets, settings, jobs=args.jobs,
        # On a terminal the live line counts the targets; only those that fail print a line.
        on_progress=output.line if live is None else None,
        on_wave=live.show if live is not None else None,
        on_target=_failures_above(live) if live is not None else None,
    )
    if args.command == "status":
        statuses = fleet.status()
        drifts = _drifts(fleet, args, output, verify=False) if args.drift else None
        return _status(statuses, output, drifts)
    if args.command == "verify":
        return _verify(_drifts(fleet, args, output, verify=True), output)
    if args.command in ("up", "down"):
        if args.command == "up":
            action = Action("up", to=args.to)
        else:
            action = Action("down", to=args.to, steps=args.steps if args.to is None else None)
        started = time.monotonic()
        preflight = fleet.preflight(action)
        if not _preflight(preflight, args.dry_run, args.continue_on_error, output):
            return EXIT_FAILED
        try:
            run = fleet.apply(preflight, dry_run=args.dry_run, continue_on_error=args.continue_on_error,
                              canary=args.canary, started=started)
        finally:
            if live is not None:
                live.finish()
        return _applied(run, output)
    raise InputError(f"--fleet is not supported by `migrations {args.command}`")


def _failures_above(live: LiveLine):
    def show(run: TargetRun) -> None:
        if run.state == "failed":
            live.print(f"{run.target.label}: FAILED: {run.message}")

    return show


def _preflight(preflight: Preflight, dry_run: bool, continue_on_error: bool, output: Any) -> bool:
    """Print the preflight; whether any target goes ahead."""
    doc = output.document
    action = preflight.action
    doc["dry_run"] = dry_run
    doc["action"] = {"command": action.command, "to": action.to, "steps": action.steps}
    doc["preflight"] = {
        "ok": preflight.ok,
        "problems": preflight.problems,
        "targets": [
            {"target": c.target.label, "line": c.target.line, "pending": c.pending, "problems": c.problems,
             "data_checks": c.checks_run, "unchecked": c.unchecked, "version": c.version}
            for c in preflight.targets
        ],
    }
    groups: dict[tuple[str, ...], int] = {}
    for check in preflight.targets:
        if check.ok:
            groups[tuple(check.pending)] = groups.get(tuple(check.pending), 0) + 1
    checks = sum(c.checks_run for c in preflight.targets)
    output.line(f"preflight: {len(preflight.targets)} target(s), {checks} data check(s) run")
    verb = "would apply" if action.command == "up" else "would roll back"
    for pending, count in sorted(groups.items(), key=lambda item: -len(item[0])):
        output.line(f"  {count} target(s) {verb} {len(pending)}: {', '.join(pending) or 'nothing'}")
    if action.command == "down" and action.to is not None:
        # Named, so that a rollback cut short is finished by the same command with --to.
        output.line(f"  rolling back to version {action.to} (after an interruption, run again with --to {action.to})")
    notes = {line for check in preflight.targets for line in check.unchecked}
    for line in sorted(notes):
        output.note(f"note: {line}")
    for problem in preflight.problems:
        output.error(problem)
    for check in preflight.failed:
        for problem in check.problems:
            output.error(f"{check.target.place}: {check.target.label}: {problem}")
    if preflight.ok:
        return True
    where = f"on {len(preflight.failed)} target(s)" if preflight.failed else "for the whole fleet"
    if preflight.allows(continue_on_error):
        going = len(preflight.targets) - len(preflight.failed)
        output.line(f"preflight failed {where}: skipped (--continue-on-error); {going} target(s) go ahead")
        return True
    output.line(f"preflight failed {where}: no target was written")
    return False


def _applied(run: FleetRun, output: Any) -> int:
    doc = output.document
    doc["targets"] = [
        {"target": r.target.label, "line": r.target.line, "state": r.state, "applied": r.applied,
         "message": r.message, "duration_ms": r.duration_ms}
        for r in run.runs
    ]
    doc["wall_ms"] = run.wall_ms
    if run.dry_run:
        output.line("dry run: nothing was changed")
        return EXIT_OK if run.preflight.ok else EXIT_FAILED
    counts: dict[str, int] = {}
    for target_run in run.runs:
        counts[target_run.state] = counts.get(target_run.state, 0) + 1
    for target_run in run.runs:
        if target_run.state == "failed":
            output.error(f"{target_run.target.place}: {target_run.target.label}: {target_run.message}")
        elif target_run.state == "skipped":
            output.error(f"{target_run.target.place}: {target_run.target.label}: skipped: {target_run.message}")
    summary = ", ".join(f"{count} {state}" for state, count in counts.items())
    output.line(f"fleet: {summary} in {run.wall_ms} ms")
    if counts.get("not started") or counts.get("skipped"):
        output.line(f"run `migrations {run.preflight.action.command} --fleet` again to resume once the failure is fixed")
    return EXIT_OK if run.ok else EXIT_FAILED


def _drifts(fleet: Fleet, args: argparse.Namespace, output: Any, *, verify: bool) -> list[TargetDrift]:
    return check_drift(fleet, scratch_dsn=args.scratch_url, verify=verify, on_note=output.note)


EXPECTED = "the schema of its version"


def _drift_cell(drift: TargetDrift) -> str:
    if drift.error:
        return "-"
    if drift.not_compared:
        return "not compared"
    return f"{len(drift.differences)} difference(s)" if drift.differences else "none"


def _drift_document(drift: TargetDrift) -> dict[str, Any]:
    return {
        "not_compared": drift.not_compared,
        "differences": [
            {"kind": d.kind, "object_type": d.object_type, "name": d.name, "attribute": d.attribute,
             "expected": d.before, "found": d.after, "text": d.text(EXPECTED)}
            for d in drift.differences
        ],
    }


def _drift_lines(drift: TargetDrift, output: Any) -> None:
    where = f"{drift.target.place}: {drift.target.label}"
    if drift.not_compared:
        output.line(f"{where}: drift not compared: {drift.not_compared}")
    for difference in drift.differences:
        output.line(f"{where}: drift: {difference.text(EXPECTED)}")


def _status(statuses: list[TargetStatus], output: Any, drifts: list[TargetDrift] | None = None) -> int:
    output.document["targets"] = [
        {"target": s.target.label, "line": s.target.line, "schema": s.target.schema, "version": s.version,
         "pending": s.pending, "dirty": s.dirty, "disagreements": s.disagreements, "error": s.error,
         **({"drift": _drift_document(drifts[i])} if drifts is not None else {})}
        for i, s in enumerate(statuses)
    ]
    rows = [("line", "target", "version", "pending", "dirty", "state") + (("drift",) if drifts is not None else ())]
    for i, s in enumerate(statuses):
        state = "unreachable" if s.error else "dirty" if s.dirty else "disagrees" if s.disagreements else "ok"
        drift = (_drift_cell(drifts[i]),) if drifts is not None else ()
        rows.append((str(s.target.line), s.target.label, s.version or "-", str(s.pending),
                     "yes" if s.dirty else "no", state) + drift)
    _table(rows, output)
    for i, s in enumerate(statuses):
        for line in ([s.error] if s.error else []) + s.dirty + s.disagreements:
            output.line(f"{s.target.place}: {s.target.label}: {line}")
        if drifts is not None:
            _drift_lines(drifts[i], output)
    versions: dict[str, int] = {}
    for s in statuses:
        versions[s.version or "-"] = versions.get(s.version or "-", 0) + 1
    output.line(f"{len(statuses)} target(s): " + ", ".join(f"{n} at {v}" for v, n in sorted(versions.items())))
    drifted = drifts is not None and any(d.drifted for d in drifts)
    return EXIT_OK if all(s.ok for s in statuses) and not drifted else EXIT_FAILED


def _verify(drifts: list[TargetDrift], output: Any) -> int:
    """``verify --fleet``: the runner's verify on every target, and drift."""
    output.document["targets"] = [
        {"target": d.target.label, "line": d.target.line, "schema": d.target.schema, "version": d.version,
         "pending": d.pending, "problems": d.problems, "error": d.error, "drift": _drift_document(d)}
        for d in drifts
    ]
    rows = [("line", "target", "version", "pending", "problems", "drift")]
    for d in drifts:
        problems = "unreachable" if d.error else str(len(d.problems))
        rows.append((str(d.target.line), d.target.label, d.version or "-", str(d.pending), problems, _drift_cell(d)))
    _table(rows, output)
    for d in drifts:
        where = f"{d.target.place}: {d.target.label}"
        for line in ([d.error] if d.error else []) + d.problems:
            output.line(f"{where}: {line}")
        _drift_lines(d, output)
    failed = [d for d in drifts if not d.ok]
    drifted = sum(1 for d in drifts if d.drifted)
    if failed:
        output.line(f"verify --fleet failed on {len(failed)} of {len(drifts)} target(s) ({drifted} drifted)")
        return EXIT_FAILED
    output.line(f"verify --fleet ok: {len(drifts)} target(s) match their files and the schema of their version")
    return EXIT_OK


def _table(rows: list[tuple[str, ...]], output: Any) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        output.line("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


__all__ = ["add_fleet_arguments", "fleet_targets", "refuse_fleet_options", "run_fleet_command", "wants_fleet"]
