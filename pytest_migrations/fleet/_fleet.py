"""Migrate a fleet of databases and schemas: preflight everywhere, then apply in parallel.

A fleet run never writes a target before every target passed its preflight: the runner's own
validation in dry-run mode (readable files, recorded checksums, no dirty record, no out-of-order
version), the lint of the pending migrations (once for the fleet), and the data checks of
``_datacheck`` over each target's rows. Then each target is migrated by its own
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
from ..runner import Runner, RunnerError, RunnerSettings, StatusEntry, ValidationFailed
from ..runner._lint import LintOutcome, lint
from ._datacheck import DataCheck, data_checks, run_checks
from ._targets import Target

# A target being migrated holds two connections: the advisory lock's and the working one.
CONNECTIONS_PER_APPLY = 2
CONNECTIONS_PER_CHECK = 1


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

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Preflight:
    targets: list[TargetCheck]
    lint: LintOutcome | None = None
    problems: list[str] = field(default_factory=list)  # fleet-wide: lint errors

    @property
    def ok(self) -> bool:
        return not self.problems and all(t.ok for t in self.targets)

    @property
    def failed(self) -> list[TargetCheck]:
        return [t for t in self.targets if not t.ok]


@dataclass
class TargetRun:
    target: Target
    state: str  # "applied", "up to date", "failed", "not started"
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
        return self.preflight.ok and all(r.state in ("applied", "up to date") for r in self.runs)


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
    ) -> None:
        if jobs < CONNECTIONS_PER_APPLY:
            raise ValueError(f"jobs must be at least {CONNECTIONS_PER_APPLY}")
        self.directory = Path(directory)
        self.targets = targets
        self.settings = settings or RunnerSettings()
        self.jobs = jobs
        self.on_progress = on_progress or (lambda line: None)
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

    def preflight(self) -> Preflight:
        """Check every target (read-only); nothing is written, not even tracking tables."""
        migrations = self.migrations()
        with ThreadPoolExecutor(max_workers=max(1, self.jobs // CONNECTIONS_PER_CHECK)) as pool:
            checks = list(pool.map(self._preflight_one, self.targets))
        result = Preflight(checks)
        pending_ids = {step for check in checks for step in check.pending}
        if pending_ids:
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

    def _preflight_one(self, target: Target) -> TargetCheck:
        check = TargetCheck(target)
        try:
            with self.runner(target, lint=False) as runner:
                report = runner.up(dry_run=True)
                conn = runner.connection()
                check.server_version = conn.info.server_version
                check.pending = [step.migration.id for step in report.plan.steps]
                check.problems = [problem.line for problem in report.problems]
                checks, check.unchecked = self._data_checks(report.plan.steps)
                outcomes = run_checks(conn, checks)
        except ValidationFailed as failure:
            check.problems.extend(problem.line for problem in failure.problems)
            return check
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

        A failed preflight anywhere writes nothing anywhere. ``canary`` > 0 migrates the first
        ``canary`` targets as a wave of their own; any failure in it stops the run. In a wave,
        the first failed target stops it (targets already running finish; none starts after
        it) unless ``continue_on_error``.
        """
        started = time.monotonic()
        preflight = self.preflight()
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
        """Migrate every target after ``preflight`` (see :meth:`up`); nothing when it failed."""
        started = time.monotonic() if started is None else started
        run = FleetRun(preflight, dry_run=dry_run)
        indexed = list(enumerate(self.targets))
        results: dict[int, TargetRun] = {}
        if not dry_run and preflight.ok:
            waves = self.waves(canary)
            for number, (name, wave) in enumerate(waves, start=1):
                if len(waves) > 1:
                    self.on_progress(f"wave {number} ({name}): {len(wave)} target(s)")
                # A target the preflight found up to date is not opened again: nothing it had
                # applied can become pending, so a resumed run only visits what is left.
                todo = [(index, target) for index, target in wave if preflight.targets[index].pending]
                for index, target in wave:
                    if not preflight.targets[index].pending:
                        results[index] = TargetRun(target, "up to date")
                self._wave(todo, results, continue_on_error)
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

    def _wave(self, wave: list[tuple[int, Target]], results: dict[int, TargetRun], continue_on_error: bool) -> None:
        stop = threading.Event()
        order = iter(wave)
        order_lock = threading.Lock()

        def worker() -> None:
            while True:
                with order_lock:
                    if stop.is_set():
                        return
                    item = next(order, None)
                if item is None:
                    return
                index, target = item
                outcome = self._apply_one(target)
                results[index] = outcome
                self.on_progress(_progress_line(outcome))
                if outcome.state == "failed" and not continue_on_error:
                    stop.set()

        workers = max(1, self.jobs // CONNECTIONS_PER_APPLY)
        threads = [threading.Thread(target=worker, name=f"fleet-{n}") for n in range(min(workers, len(wave)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _apply_one(self, target: Target) -> TargetRun:
        started = time.monotonic()
        # Lint ran once for the whole fleet in the preflight.
        with self.runner(target, lint=False) as runner:
            try:
                report = runner.up()
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
        return TargetRun(target, "applied" if applied else "up to date", applied, duration_ms=_since(started))

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


def _unexpected(target: Target, error: Exception) -> str:
    """An error no layer below turned into a message: its type and text, the DSN's password masked."""
    return f"{type(error).__name__}: {dsn_error(target.dsn, error)}"


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _progress_line(run: TargetRun) -> str:
    if run.state == "failed":
        return f"{run.target.label}: FAILED: {run.message}"
    if run.state == "applied":
        return f"{run.target.label}: applied {len(run.applied)} migration(s) in {run.duration_ms} ms"
    return f"{run.target.label}: {run.state}"


__all__ = ["Fleet", "FleetRun", "Preflight", "TargetCheck", "TargetRun", "TargetStatus"]
