"""Migrate a fleet of databases and schemas: preflight everywhere, then apply in parallel.

A fleet run (``up`` or ``down``, an :class:`Action`) never writes a target before every target
passed its preflight: the runner's own validation in dry-run mode (readable files, recorded
checksums, no dirty record, no out-of-order version, a DOWN for every migration rolled back),
the lint of the pending migrations (once for the fleet), and the data checks of ``_datacheck``
over each target's rows; a rollback by ``steps`` also needs every target at one version. With
``continue_on_error`` the targets that failed their preflight are skipped and the others go
ahead. Then each target is migrated by its own
:class:`~pytest_migrations.runner.Runner`, which takes its advisory lock (keyed by the tracking
schema and table, in the target's database), records every migration in the target's tracking
tables and applies each transactional migration all or nothing. A fleet run therefore holds no
state of its own: what is applied where is in the targets, and running it again resumes.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from migration_lint.model import Migration

from ..database import dsn_error
from ..runner import InputError, Runner, RunnerError, RunnerSettings, RunReport, StatusEntry, ValidationFailed
from ..runner._lint import LintOutcome, lint
from ._datacheck import DataCheck, data_checks, run_checks
from ._targets import Target

# A target being migrated holds two connections: the advisory lock's and the working one.
CONNECTIONS_PER_APPLY = 2
CONNECTIONS_PER_CHECK = 1


@dataclass(frozen=True)
class Action:
    """What the fleet runs on every target: ``up`` (``to`` a version, else the newest) or
    ``down`` (``to`` a version, ``"0"`` for everything, or ``steps`` back from a version every
    target shares). A run that names ``to`` can be repeated after an interruption: the targets
    already there have nothing left to do."""

    command: str = "up"
    to: str | None = None
    steps: int | None = None

    def __post_init__(self) -> None:
        if self.command not in ("up", "down"):
            raise ValueError(f"a fleet runs up or down, not {self.command!r}")

    def run(self, runner: Runner, *, dry_run: bool = False) -> RunReport:
        if self.command == "down":
            return runner.down(steps=self.steps, to=self.to, dry_run=dry_run)
        return runner.up(to=self.to, dry_run=dry_run)

    @property
    def done(self) -> str:
        """The state of a target this action changed."""
        return "applied" if self.command == "up" else "rolled back"

    @property
    def idle(self) -> str:
        """The state of a target it had nothing to do on."""
        return "up to date" if self.command == "up" else "nothing to roll back"


UP = Action()


@dataclass
class TargetCheck:
    """The preflight of one target: what it would apply, and what stops it."""

    target: Target
    pending: list[str] = field(default_factory=list)  # migration ids, in the order they would run
    problems: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    checks_run: int = 0
    checks_skipped: int = 0
    server_version: int | None = None
    version: str | None = None  # the newest applied version before the run
    end_version: str | None = None  # where the action leaves it ("0": nothing applied)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Preflight:
    targets: list[TargetCheck]
    lint: LintOutcome | None = None
    problems: list[str] = field(default_factory=list)  # fleet-wide: lint errors
    action: Action = UP  # what the apply runs: a rollback by steps becomes one to a version

    @property
    def ok(self) -> bool:
        return not self.problems and all(t.ok for t in self.targets)

    def allows(self, continue_on_error: bool) -> bool:
        """Whether any target may be written: all passed, or (``continue_on_error``) the
        failures are targets' own, which are then skipped; a fleet-wide failure stops all."""
        return self.ok or (continue_on_error and not self.problems)

    @property
    def failed(self) -> list[TargetCheck]:
        return [t for t in self.targets if not t.ok]


SUCCEEDED = ("applied", "up to date", "rolled back", "nothing to roll back")


@dataclass
class TargetRun:
    target: Target
    # "applied" / "rolled back", "up to date" / "nothing to roll back", "failed", "not started",
    # "skipped" (failed its preflight, under continue_on_error)
    state: str
    applied: list[str] = field(default_factory=list)
    message: str | None = None
    duration_ms: int = 0


@dataclass
class FleetRun:
    preflight: Preflight
    runs: list[TargetRun] = field(default_factory=list)
    dry_run: bool = False
    wall_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.preflight.ok and all(r.state in SUCCEEDED for r in self.runs)


@dataclass(frozen=True)
class WaveProgress:
    """Where a wave stands: what the live progress line shows."""

    number: int
    waves: int
    name: str
    total: int
    done: int = 0  # migrated, or nothing to do
    running: int = 0
    failed: int = 0
    skipped: int = 0  # failed the preflight (continue_on_error)

    @property
    def left(self) -> int:
        return self.total - self.done - self.running - self.failed - self.skipped


@dataclass
class TargetStatus:
    target: Target
    version: str | None = None  # newest applied
    pending: int = 0
    dirty: list[str] = field(default_factory=list)
    disagreements: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.dirty and not self.disagreements


class Fleet:
    """The migrations of ``directory`` over ``targets``, with at most ``jobs`` connections open."""

    def __init__(
        self,
        directory: Path | str,
        targets: list[Target],
        settings: RunnerSettings | None = None,
        *,
        jobs: int = 8,
        on_progress: Callable[[str], None] | None = None,
        on_wave: Callable[[WaveProgress], None] | None = None,
        on_target: Callable[[TargetRun], None] | None = None,
    ) -> None:
        if jobs < CONNECTIONS_PER_APPLY:
            raise ValueError(f"jobs must be at least {CONNECTIONS_PER_APPLY}")
        self.directory = Path(directory)
        self.targets = targets
        self.settings = settings or RunnerSettings()
        self.jobs = jobs
        self.on_progress = on_progress or (lambda line: None)
        self.on_wave = on_wave or (lambda progress: None)
        self.on_target = on_target or (lambda run: None)
        self._checks_by_pending: dict[tuple[str, ...], tuple[list[DataCheck], list[str]]] = {}
        self._checks_lock = threading.Lock()

    def settings_for(self, target: Target, **changes: object) -> RunnerSettings:
        """The runner's settings for ``target``: its schema holds its tracking tables."""
        return dataclasses.replace(self.settings, schema=target.schema or self.settings.schema, **changes)

    def runner(self, target: Target, **changes: object) -> Runner:
        return Runner(self.directory, target.connection_dsn(), self.settings_for(target, **changes))

    # -- preflight ---------------------------------------------------------------------------

    def migrations(self) -> list[Migration]:
        """The directory's migrations, read once before any target is opened.

        Files that do not read or parse raise here (exit 2), once, not once per target.
        """
        with Runner(self.directory, "", self.settings) as runner:
            return runner.migrations

    def preflight(self, action: Action = UP) -> Preflight:
        """Check every target (read-only) for ``action``; nothing is written, not even tracking tables."""
        migrations = self.migrations()
        with ThreadPoolExecutor(max_workers=max(1, self.jobs // CONNECTIONS_PER_CHECK)) as pool:
            checks = list(pool.map(lambda target: self._preflight_one(target, action), self.targets))
        result = Preflight(checks, action=action)
        if action.command == "down" and action.to is None:
            result.action = self._rollback_target(checks, action)
        pending_ids = {step for check in checks for step in check.pending}
        # DOWNs are not linted: the runner lints what it applies, the UPs.
        if pending_ids and action.command == "up":
            versions = [c.server_version for c in checks if c.server_version]
            result.lint = lint(
                migrations,
                [m for m in migrations if m.id in pending_ids],
                enabled=self.settings.lint,
                pg_version=min(versions) // 10000 if versions else None,
                runner_sets_lock_timeout=self.settings.lock_timeout is not None,
                start=self.directory,
            )
            result.problems = [f"lint: {finding}" for finding in result.lint.errors]
        return result

    @staticmethod
    def _rollback_target(checks: list[TargetCheck], action: Action) -> Action:
        """``down`` by ``steps`` as a rollback to one version, so that a run cut short resumes
        with it. Every target must start at one version (the one most share): steps from
        different versions would leave the fleet at different versions."""
        counted: dict[str | None, int] = {}
        for check in checks:
            if check.ok:
                counted[check.version] = counted.get(check.version, 0) + 1
        if not counted:
            return action
        common = max(counted, key=lambda version: (counted[version], version is not None, version or ""))
        for check in checks:
            if check.ok and check.version != common:
                others = counted[common]
                check.problems.append(
                    f"at version {check.version or 'none'} while {others} other target(s) are at {common or 'none'}:"
                    f" --steps {action.steps or 1} would leave the fleet at different versions;"
                    " give --to VERSION to roll every target back to one version"
                )
        end = next((c.end_version for c in checks if c.ok and c.version == common), None)
        return Action("down", to=end) if end is not None else action

    def _preflight_one(self, target: Target, action: Action = UP) -> TargetCheck:
        check = TargetCheck(target)
        try:
            with self.runner(target, lint=False) as runner:
                report = action.run(runner, dry_run=True)
                conn = runner.connection()
                check.server_version = conn.info.server_version
                check.pending = [step.migration.id for step in report.plan.steps]
                check.problems = [problem.line for problem in report.problems]
                check.version, check.end_version = _versions(runner.status(), report)
                checks, check.unchecked = self._data_checks(report.plan.steps)
                outcomes = run_checks(conn, checks)
        except ValidationFailed as failure:
            check.problems.extend(problem.line for problem in failure.problems)
            return check
        except InputError:
            raise  # the command line's (a --to no migration has): the same on every target, said once
        except RunnerError as error:
            check.problems.append(error.line)
            return check
        except Exception as error:  # a target that cannot be checked is a failed preflight
            check.problems.append(_unexpected(target, error))
            return check
        check.checks_run = sum(1 for outcome in outcomes if outcome.count is not None)
        check.problems.extend(outcome.line for outcome in outcomes if outcome.failed)
        # A count skipped because a pending migration creates the table or column is no gap: the
        # rows it would meet are written by the pending migrations themselves.
        check.checks_skipped = sum(1 for outcome in outcomes if outcome.skipped)
        return check

    def _data_checks(self, steps: list) -> tuple[list[DataCheck], list[str]]:
        key = tuple(step.migration.id for step in steps)
        with self._checks_lock:
            if key not in self._checks_by_pending:
                self._checks_by_pending[key] = data_checks(steps)
            checks, unchecked = self._checks_by_pending[key]
        return checks, list(unchecked)

    # -- up ----------------------------------------------------------------------------------

    def up(self, *, dry_run: bool = False, continue_on_error: bool = False, canary: int = 0) -> FleetRun:
        """Preflight every target, then (unless ``dry_run``) migrate them, ``jobs`` connections at most.

        A failed preflight anywhere writes nothing anywhere, unless ``continue_on_error``: then
        the targets that failed it are skipped (a fleet-wide failure, lint, still stops all).
        ``canary`` > 0 migrates the first ``canary`` targets as a wave of their own; any failure
        in it stops the run. In a wave, the first failed target stops it (targets already
        running finish; none starts after it) unless ``continue_on_error``.
        """
        return self.run(UP, dry_run=dry_run, continue_on_error=continue_on_error, canary=canary)

    def down(self, *, steps: int | None = None, to: str | None = None, dry_run: bool = False,
             continue_on_error: bool = False, canary: int = 0) -> FleetRun:
        """Roll every target back (``to`` a version, or ``steps`` from the version all share),
        with the preflight, waves and failure handling of :meth:`up`."""
        return self.run(Action("down", to=to, steps=steps), dry_run=dry_run,
                        continue_on_error=continue_on_error, canary=canary)

    def run(self, action: Action, *, dry_run: bool = False, continue_on_error: bool = False,
            canary: int = 0) -> FleetRun:
        started = time.monotonic()
        preflight = self.preflight(action)
        return self.apply(preflight, dry_run=dry_run, continue_on_error=continue_on_error, canary=canary,
                          started=started)

    def apply(
        self,
        preflight: Preflight,
        *,
        dry_run: bool = False,
        continue_on_error: bool = False,
        canary: int = 0,
        started: float | None = None,
    ) -> FleetRun:
        """Run ``preflight.action`` on every target after ``preflight`` (see :meth:`up`);
        nothing when it failed, unless ``continue_on_error`` (then on the targets that passed)."""
        started = time.monotonic() if started is None else started
        run = FleetRun(preflight, dry_run=dry_run)
        indexed = list(enumerate(self.targets))
        results: dict[int, TargetRun] = {}
        action = preflight.action
        if not dry_run and preflight.allows(continue_on_error):
            waves = self.waves(canary)
            for number, (name, wave) in enumerate(waves, start=1):
                if len(waves) > 1:
                    self.on_progress(f"wave {number} ({name}): {len(wave)} target(s)")
                # A target the preflight found with nothing to do is not opened again: nothing
                # it had applied can become pending, so a resumed run only visits what is left.
                todo = []
                for index, target in wave:
                    check = preflight.targets[index]
                    if not check.ok:
                        results[index] = TargetRun(target, "skipped", message="failed its preflight")
                    elif not check.pending:
                        results[index] = TargetRun(target, action.idle)
                    else:
                        todo.append((index, target))
                progress = WaveProgress(
                    number, len(waves), name, len(wave),
                    done=sum(1 for index, _ in wave if results.get(index) and results[index].state == action.idle),
                    skipped=sum(1 for index, _ in wave if results.get(index) and results[index].state == "skipped"),
                )
                self._wave(todo, results, continue_on_error, action, progress)
                if any(outcome.state == "failed" for outcome in results.values()):
                    break  # a failed wave, canary included, never lets the next one start
        run.runs = [results.get(i) or TargetRun(t, "not started") for i, t in indexed]
        run.wall_ms = round((time.monotonic() - started) * 1000)
        return run

    def waves(self, canary: int = 0) -> list[tuple[str, list[tuple[int, Target]]]]:
        """The waves, in order: the targets' groups (in the order they first appear), else the
        first ``canary`` targets and then the rest, else one wave."""
        indexed = list(enumerate(self.targets))
        if any(target.group for target in self.targets):
            groups: dict[str, list[tuple[int, Target]]] = {}
            for index, target in indexed:
                groups.setdefault(target.group or "ungrouped", []).append((index, target))
            return list(groups.items())
        if 0 < canary < len(indexed):
            return [("canary", indexed[:canary]), ("the rest", indexed[canary:])]
        return [("all", indexed)]

    def _wave(self, wave: list[tuple[int, Target]], results: dict[int, TargetRun], continue_on_error: bool,
              action: Action = UP, progress: WaveProgress | None = None) -> None:
        stop = threading.Event()
        order = iter(wave)
        order_lock = threading.Lock()
        state = [progress or WaveProgress(1, 1, "all", len(wave))]

        def moved(**change: int) -> None:  # under order_lock
            now = state[0]
            state[0] = dataclasses.replace(now, **{key: getattr(now, key) + delta for key, delta in change.items()})
            self.on_wave(state[0])

        with order_lock:
            self.on_wave(state[0])

        def worker() -> None:
            while True:
                with order_lock:
                    if stop.is_set():
                        return
                    item = next(order, None)
                    if item is not None:
                        moved(running=1)
                if item is None:
                    return
                index, target = item
                outcome = self._apply_one(target, action)
                results[index] = outcome
                with order_lock:
                    self.on_progress(progress_line(outcome))
                    self.on_target(outcome)
                    if outcome.state == "failed":
                        moved(running=-1, failed=1)
                    else:
                        moved(running=-1, done=1)
                if outcome.state == "failed" and not continue_on_error:
                    stop.set()

        workers = max(1, self.jobs // CONNECTIONS_PER_APPLY)
        threads = [threading.Thread(target=worker, name=f"fleet-{n}") for n in range(min(workers, len(wave)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _apply_one(self, target: Target, action: Action = UP) -> TargetRun:
        started = time.monotonic()
        # Lint ran once for the whole fleet in the preflight.
        with self.runner(target, lint=False) as runner:
            try:
                report = action.run(runner)
            except ValidationFailed as failure:
                message = "; ".join(p.line for p in failure.problems)
                return TargetRun(target, "failed", message=message, duration_ms=_since(started))
            except RunnerError as error:
                done = [r.migration.id for r in error.report.results] if error.report is not None else []
                return TargetRun(target, "failed", done, error.line, _since(started))
            except Exception as error:
                return TargetRun(target, "failed", message=_unexpected(target, error),
                                 duration_ms=_since(started))
        applied = [r.migration.id for r in report.results]
        return TargetRun(target, action.done if applied else action.idle, applied, duration_ms=_since(started))

    # -- status ------------------------------------------------------------------------------

    def status(self) -> list[TargetStatus]:
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            return list(pool.map(self._status_one, self.targets))

    def _status_one(self, target: Target) -> TargetStatus:
        status = TargetStatus(target)
        try:
            with self.runner(target) as runner:
                entries: list[StatusEntry] = runner.status()
        except RunnerError as error:
            status.error = error.line
            return status
        except Exception as error:
            status.error = _unexpected(target, error)
            return status
        # The version a target is at is its newest versioned migration's; a Flyway repeatable has
        # none, and one changed since it ran is pending again.
        applied = [e for e in entries if e.record is not None and e.state != "dirty" and not e.repeatable]
        status.version = applied[-1].version if applied else None
        status.pending = sum(1 for e in entries if e.state in ("pending", "outdated"))
        status.dirty = [f"{e.version}_{e.name}: {e.detail or ''}" for e in entries if e.state == "dirty"]
        status.disagreements = [
            f"{e.version}_{e.name}: {e.state}: {e.detail or ''}"
            for e in entries if e.disagrees and e.state != "dirty"
        ]
        return status


def _versions(entries: list[StatusEntry], report: RunReport) -> tuple[str | None, str]:
    """The newest applied version before ``report``'s plan runs, and after it (``"0"``: none).

    Versioned migrations only, as in ``status``: a Flyway repeatable has no place in the order."""
    applied = [e.version for e in entries if e.record is not None and e.state != "dirty" and not e.repeatable]
    repeatable = {e.version for e in entries if e.repeatable}
    before = applied[-1] if applied else None
    after = list(applied)
    for step in report.plan.steps:
        version = step.migration.version.text
        if version in repeatable:
            continue
        if step.direction == "down" and version in after:
            after.remove(version)
        elif step.direction == "up" and version not in after:
            after.append(version)
    order = [e.version for e in entries]
    after.sort(key=order.index)
    return before, after[-1] if after else "0"


def _unexpected(target: Target, error: Exception) -> str:
    """An error no layer below turned into a message: its type and text, the DSN's password masked."""
    return f"{type(error).__name__}: {dsn_error(target.dsn, error)}"


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def progress_line(run: TargetRun) -> str:
    """The line a target's outcome prints."""
    if run.state == "failed":
        return f"{run.target.label}: FAILED: {run.message}"
    if run.state in ("applied", "rolled back"):
        return f"{run.target.label}: {run.state} {len(run.applied)} migration(s) in {run.duration_ms} ms"
    return f"{run.target.label}: {run.state}"


__all__ = [
    "UP", "Action", "Fleet", "FleetRun", "Preflight", "TargetCheck", "TargetRun", "TargetStatus", "WaveProgress",
]
