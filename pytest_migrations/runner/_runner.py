"""The runner: validate, lock, plan, apply or roll back, and record every run.

The order of a run never changes: read and check the files (nothing connects before they all
parse), take the advisory lock, create the tracking tables on first use, read what is applied,
refuse anything inconsistent (dirty records, edited or missing applied files, out-of-order
versions, lint errors, transaction control the runner cannot honour), then send the planned
commands. A dry run does all of it but the lock and the writes, and returns the plan as SQL.
"""

from __future__ import annotations

import contextlib
import re
import time
from datetime import datetime, timezone
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from migration_lint.execution import plan_section
from migration_lint.layouts import LoadedDirectory, layout_named, load_directory
from migration_lint.model import Migration, MigrationFileError, Section, Version

from ..database import dsn_error, redact_dsn
from ..pgerrors import RETRYABLE, ActiveSqlTransaction, InsufficientPrivilege, LockNotAvailable, QueryCanceled, describe, error_line
from ._adopt import read_tool_records
from ._errors import InputError, MigrationFailed, RunnerError, display_path
from ._indexes import invalid_indexes, repair_hint
from ._lint import LintOutcome, lint
from ._lock import AdvisoryLock, lock_key, migration_lock_key
from ._plan import Command, Plan, Step, build_step
from ._resume import DEAD_CLIENT_GRACE, Resume, Undecidable, records_progress, resume_point, wait_until_not_running
from ._settings import RunnerSettings
from ._tracking import AppliedRecord, HistoryRecord, Tracking

APPLICATION_NAME = "pytest-migrations"

# Status states in which the database and the files disagree (``status`` exits 1).
DISAGREEING_STATES = frozenset({"dirty", "checksum-changed", "missing-file", "out-of-order"})


class ValidationFailed(RunnerError):
    """Everything that stops a run, found before anything ran; one line each."""

    def __init__(self, problems: list[RunnerError]) -> None:
        self.problems = problems
        exit_code = max(problem.exit_code for problem in problems)
        super().__init__(problems[0].message, exit_code, hint=problems[0].hint)


@dataclass(frozen=True)
class Event:
    """Progress of a run, for the CLI to print: ``lock-wait``, ``start``, ``done``, ``retry``,
    ``failed``, ``note``."""

    kind: str
    step: Step | None = None
    message: str = ""
    duration_ms: int | None = None


@dataclass(frozen=True)
class StepResult:
    migration: Migration
    direction: str
    outcome: str  # "applied", "rolled back"
    duration_ms: int
    attempts: int = 1


@dataclass
class RunReport:
    """What ``up``/``down``/``redo`` did, or, for a dry run, would do."""

    action: str
    dry_run: bool
    plan: Plan
    results: list[StepResult] = field(default_factory=list)
    lint: LintOutcome | None = None
    problems: list[RunnerError] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)  # dry run: the commands, in order

    @property
    def exit_code(self) -> int:
        return max((problem.exit_code for problem in self.problems), default=0)


@dataclass(frozen=True)
class StatusEntry:
    version: str
    name: str
    # applied, pending, out-of-order, dirty, checksum-changed, missing-file; for a repeatable
    # migration (Flyway ``R__``) also outdated (changed since applied: ``up`` applies it again)
    # and removed (applied once, its file gone: Flyway forgets it)
    state: str
    path: Path | None = None
    record: AppliedRecord | None = None
    detail: str | None = None
    repeatable: bool = False
    hint: str | None = None  # what to do about a dirty record, where the general advice would mislead

    @property
    def disagrees(self) -> bool:
        return self.state in DISAGREEING_STATES


class Runner:
    """Apply and roll back the migrations of ``directory`` on the database at ``dsn``.

    Use it as a context manager; it closes its connections on exit. ``on_event`` receives
    progress (:class:`Event`). Methods raise :class:`RunnerError` with a one-line message.
    """

    def __init__(
        self,
        directory: Path | str,
        dsn: str,
        settings: RunnerSettings | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.dsn = dsn
        self.settings = settings or RunnerSettings()
        self.tracking = Tracking(self.settings)
        self.on_event = on_event or (lambda event: None)
        self._migrations: list[Migration] | None = None
        self._loaded: LoadedDirectory | None = None
        self._conn: psycopg.Connection | None = None
        self._lock_conn: psycopg.Connection | None = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- files -------------------------------------------------------------------------------

    @property
    def migrations(self) -> list[Migration]:
        """The directory's migrations; refuses unreadable files and SQL that does not parse."""
        if self._migrations is None:
            migrations = self.loaded.migrations
            # Every UP must parse before anything runs. A DOWN must parse only when a run is
            # about to use it: its checksum is not recorded so that a broken DOWN can be fixed
            # after the fact, and it must not block deploys that never run it.
            problems = [problem for m in migrations for problem in _parse_problems(m.up)]
            if problems:
                raise ValidationFailed(problems)
            self._migrations = migrations
        return self._migrations

    @property
    def loaded(self) -> LoadedDirectory:
        """The directory as its layout reads it: migrations, ignored files, warnings."""
        if self._loaded is None:
            try:
                layout = layout_named(self.settings.layout) if self.settings.layout else None
            except ValueError as error:
                raise InputError(f"--layout: {error}") from None
            try:
                self._loaded = load_directory(self.directory, layout)
            except MigrationFileError as error:
                raise InputError(str(error)) from None
        return self._loaded

    def parse_version(self, text: str) -> Version:
        """``text`` in the version scheme of the directory's layout."""
        try:
            return Version.parse(text, self.loaded.layout.version_scheme)
        except ValueError:
            raise InputError(f"{text!r} is not a version number") from None

    def _is_repeatable_record(self, record: AppliedRecord) -> bool:
        """Whether ``record`` is a repeatable migration's (Flyway ``R__``), by its version."""
        return self.loaded.layout.version_scheme == "flyway" and record.version.startswith("R__")

    def _record_key(self, record: AppliedRecord) -> tuple | None:
        """A recorded version's key in the scheme of the directory's layout (``None``: not a version)."""
        return self._record_key_of(record.version)

    # -- connections -------------------------------------------------------------------------

    def _open(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(
                self.dsn, autocommit=True, prepare_threshold=None, application_name=APPLICATION_NAME,
                **_keepalives(self.dsn),
            )
        except psycopg.Error as error:
            raise RunnerError(f"cannot connect to {redact_dsn(self.dsn)}: {dsn_error(self.dsn, error)}") from None
        conn.add_notice_handler(lambda diagnostic: None)
        try:
            self._stay_connected(conn)
        except psycopg.Error as error:
            conn.close()
            raise RunnerError(f"cannot set up the runner's session: {describe(error)}") from None
        return conn

    @staticmethod
    def _stay_connected(conn: psycopg.Connection) -> None:
        """Keep the server from ending ``conn`` for being idle (idle_session_timeout, PostgreSQL 14+),
        and have it end a statement whose client is gone (client_connection_check_interval).

        The runner's sessions sit idle on purpose: the lock's for as long as a migration runs,
        the working one while it waits for another runner's lock or before a retry. Losing the
        lock's session would let a second runner in while this one still works. Sent again after
        each ``DISCARD ALL``, which resets it.
        """
        if conn.info.server_version >= 140000:
            conn.execute("SET idle_session_timeout = 0")
            # A statement outlives its client: after a kill -9 of the runner it would go on for as
            # long as it has left, holding its locks, and the next run would wait behind it.
            # The server checks that the client is still there while a statement runs (Linux
            # servers; others refuse a non-zero value, and do without).
            with contextlib.suppress(psycopg.errors.InvalidParameterValue):
                conn.execute("SET client_connection_check_interval = '1s'")

    def connection(self) -> psycopg.Connection:
        """The runner's working connection (autocommit; migrations open their own transaction)."""
        if self._conn is None or self._conn.closed:
            self._conn = self._open()
        return self._conn

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        key = lock_key(self.settings.schema, self.settings.table)
        with self._open() as lock_conn:
            # It never opens a transaction; should anything ever do so, it must not cost the lock.
            lock_conn.execute("SET idle_in_transaction_session_timeout = 0")
            waiting = lambda: self.on_event(Event("lock-wait", message="waiting for another runner's lock"))
            with AdvisoryLock(lock_conn, key, self.settings.lock_wait, on_wait=waiting):
                self._lock_conn = lock_conn
                try:
                    yield
                finally:
                    self._lock_conn = None

    def _check_lock(self) -> None:
        """Stop before the next migration if the lock's connection died (another runner may start)."""
        if self._lock_conn is None:
            return
        try:
            self._lock_conn.execute("SELECT 1")
        except psycopg.Error:
            raise RunnerError(
                "lost the connection that holds the migration lock; stopped before the next migration",
                hint="run `migrations up` again",
            ) from None

    # -- reading the database ----------------------------------------------------------------

    def _setup_commands(self) -> list[Command]:
        conn = self.connection()
        missing = self.tracking.missing_objects(conn)
        progress_missing = self.tracking.progress_missing(conn)
        return [Command("tracking", query) for query in self.tracking.create_statements(*missing, progress_missing)]

    def _ensure_tracking(self) -> None:
        commands = self._setup_commands()
        conn = self.connection()
        if commands:
            with self._database_step(f"cannot create the tracking tables {self.tracking.table_name} and {self.tracking.history_name}"):
                with conn.transaction():
                    for command in commands:
                        conn.execute(command.query)
        self.tracking.check_shape(conn)

    @contextlib.contextmanager
    def _database_step(self, what: str) -> Iterator[None]:
        """Turn a PostgreSQL error of the runner's own SQL (not a migration's) into one line."""
        try:
            yield
        except psycopg.Error as error:
            hint = None
            if isinstance(error, InsufficientPrivilege):
                hint = (
                    f"the role needs USAGE and CREATE on schema {self.settings.schema} and its tracking"
                    " tables: grant them, or choose another schema with --schema / tracking_schema"
                )
            raise RunnerError(f"{what}: {describe(error)}", hint=hint) from None

    def applied(self) -> list[AppliedRecord]:
        """The current-state records, and those of the project's own tool not adopted yet."""
        conn = self.connection()
        with self._database_step(f"cannot read {self.tracking.table_name}"):
            _, table_missing, history_missing = self.tracking.missing_objects(conn)
            if not table_missing or not history_missing:
                self.tracking.check_shape(conn)
            ours = [] if table_missing else self._current_identity(self.tracking.read_applied(conn))
            touched = set() if history_missing else self.tracking.recorded_versions(conn)
        with self._database_step("cannot read the tracking table of the directory's tool"):
            return ours + self._adoptable(conn, ours, touched)

    def _current_identity(self, records: list[AppliedRecord]) -> list[AppliedRecord]:
        """Records an earlier release of the runner wrote under the identity it gave sql-migrate
        files then (the leading number as version, the rest as name: ``1`` and ``a`` for
        ``1_a.sql``), under the one sql-migrate gives them (the file name), so that they are not
        a missing file beside a pending one; the next run rewrites them."""
        if self.loaded.layout.version_scheme != "sql-migrate":
            return records
        by_key = {m.version.key: m for m in self.migrations}
        current = []
        for record in records:
            if self._record_key(record) in by_key or not record.name:
                current.append(record)
                continue
            written = (by_key.get(self._record_key_of(f"{record.version}{separator}{record.name}"))
                       for separator in "_-.")
            migration = next((m for m in written if m is not None), None)
            if migration is None:
                current.append(record)
            else:
                current.append(replace(record, version=migration.version.text, recorded_as=record.version))
        return current

    def _adoptable(self, conn: psycopg.Connection, ours: list[AppliedRecord], touched: set[str]) -> list[AppliedRecord]:
        """What the directory's own tool (goose, Flyway ...) recorded as applied, in its table,
        for the versions the runner never touched (no record, no history row): a database that
        tool migrated shows everything applied, and the next run copies these records into the
        runner's table. A version the runner rolled back stays rolled back, whatever the tool's
        table still says."""
        scheme = self.loaded.layout.version_scheme
        found = read_tool_records(conn, self.loaded.layout.name, self.migrations, scheme)
        if found is None:
            return []
        known = {self._record_key(record) for record in ours} | {
            self._record_key_of(version) for version in touched
        }
        by_key = {m.version.key: m for m in self.migrations}
        # Migrations the tool ran that are not SQL files (goose's Go migrations, which the layout
        # lists as ignored; Flyway's Java ones): nothing the runner could run or miss.
        not_sql = {self._record_key_of(match[0]) for path, _ in self.loaded.ignored
                   if path.suffix == ".go" and (match := re.match(r"\d+", path.name))}
        adopted = []
        place = {m.version.key: index for index, m in enumerate(self.migrations)}
        in_order = sorted(found.records, key=lambda record: place.get(self._record_key_of(record.version), len(place)))
        for record in in_order:
            key = self._record_key_of(record.version)
            if key is None or key in known:
                continue
            known.add(key)
            migration = by_key.get(key)
            if migration is None and (not record.sql or key in not_sql):
                continue
            # The tool's own checksum says the file changed since: keep that visible (an edited
            # versioned file; a Flyway repeatable that `up` applies again).
            checksum = migration.checksum if migration is not None else ""
            if record.changed:
                checksum = f"other per {found.table.tool}"
            adopted.append(AppliedRecord(
                version=migration.version.text if migration is not None else record.version,
                name=migration.name if migration is not None else "",
                checksum=checksum,
                applied_at=record.applied_at,
                applied_by=f"{found.label}" + (", implied" if record.implied else ""),
                execution_ms=None,
                dirty=record.dirty,
                dirty_direction="up" if record.dirty else None,
                failed_statement=found.label if record.dirty else None,
                failed_error="recorded there as failed half-way" if record.dirty else None,
                adopted_from=found.label,
            ))
        return adopted

    def _record_key_of(self, version: str) -> tuple | None:
        try:
            return Version.parse(version, self.loaded.layout.version_scheme).key
        except ValueError:
            return None

    def _adopt(self, records: list[AppliedRecord]) -> None:
        """Copy the tool's records into the runner's table, each with a history row saying so,
        and rewrite those an earlier release wrote under another identity."""
        adopted = [record for record in records if record.adopted_from is not None or record.recorded_as is not None]
        if not adopted:
            return
        self._ensure_tracking()
        conn = self.connection()
        with self._database_step(f"cannot record in {self.tracking.table_name} what the directory's tool applied"):
            with conn.transaction():
                for command in self._adoption_commands(adopted):
                    conn.execute(command.query)

    def _adoption_commands(self, adopted: list[AppliedRecord]) -> list[Command]:
        commands = []
        for record in adopted:
            if record.recorded_as is not None:
                commands.append(Command("tracking", self.tracking.rename(record.recorded_as, record.version)))
                commands.append(Command("tracking", self.tracking.insert_history(
                    version=record.version, name=record.name, direction="repair", checksum=record.checksum,
                    outcome="renamed", message=f"recorded as {record.recorded_as} by an earlier release of the"
                    f" runner; {self.loaded.layout.tool} knows it as {record.version}",
                )))
                continue
            commands.append(Command("tracking", self.tracking.insert_adopted(record)))
            commands.append(Command("tracking", self.tracking.insert_history(
                version=record.version, name=record.name, direction="adopt", checksum=record.checksum,
                outcome="adopted", message=f"recorded as applied by {record.applied_by}",
            )))
        return commands

    def history(self, limit: int | None = None) -> list[HistoryRecord]:
        conn = self.connection()
        with self._database_step(f"cannot read {self.tracking.history_name}"):
            if self.tracking.missing_objects(conn)[2]:
                return []
            self.tracking.check_shape(conn)
            return self.tracking.read_history(conn, limit)

    # -- status and checks -------------------------------------------------------------------

    def status(self) -> list[StatusEntry]:
        return self._status(self.migrations, self.applied())

    def _status(self, migrations: list[Migration], applied: list[AppliedRecord]) -> list[StatusEntry]:
        """One entry per migration and per record without a file, in the order the layout's tool
        applies them (a record without a file goes where its version would be)."""
        keys = {record.version: self._record_key(record) for record in applied}
        by_key = {keys[record.version]: record for record in applied if keys[record.version] is not None}
        by_text = {record.version: record for record in applied if keys[record.version] is None}
        found = [by_key.get(m.version.key) or by_text.get(m.version.text) for m in migrations]
        # Out of order: pending, yet the tool's order puts an applied migration after it. Repeatable
        # migrations come after every versioned one whenever they ran: they put nothing out of order.
        last_applied = max(
            (index for index, (m, record) in enumerate(zip(migrations, found)) if record is not None and not m.repeatable),
            default=-1,
        )
        newest_text = found[last_applied].version if last_applied >= 0 else ""  # type: ignore[union-attr]
        entries: list[tuple[float, StatusEntry]] = []
        matched: set[str] = set()
        for index, (migration, record) in enumerate(zip(migrations, found)):
            if record is None:
                out_of_order = index < last_applied and not migration.repeatable
                entries.append((index, StatusEntry(
                    migration.version.text, migration.name, "out-of-order" if out_of_order else "pending",
                    migration.path,
                    detail=f"older than the newest applied version {newest_text}" if out_of_order else None,
                    repeatable=migration.repeatable,
                )))
                continue
            matched.add(record.version)
            if record.dirty:
                state, detail = "dirty", _dirty_detail(record)
            elif record.checksum != migration.checksum and migration.repeatable:
                # Flyway's OUTDATED: a repeatable migration is meant to change; `up` applies it again.
                state = "outdated"
                detail = f"changed since it was applied ({_checksums(record, migration)}): `up` applies it again"
            elif record.checksum != migration.checksum:
                state, detail = "checksum-changed", _checksums(record, migration)
            else:
                state = "applied"
                detail = f"applied by {record.applied_by}: the next run records it" if record.adopted_from else None
            entries.append((index, StatusEntry(
                migration.version.text, migration.name, state, migration.path, record, detail,
                repeatable=migration.repeatable,
            )))
        for record in applied:
            if record.version not in matched:
                key = keys[record.version]
                place = next((index for index, m in enumerate(migrations) if key is not None and key < m.version.key),
                             len(migrations))
                repeatable = self._is_repeatable_record(record)
                if record.dirty:
                    state, detail = "dirty", _dirty_detail(record)
                elif repeatable:
                    # Flyway reports it and goes on: what it made stays, nothing runs it again.
                    state, detail = "removed", f"repeatable migration applied earlier; no file for it in {display_path(self.directory)} any more"
                else:
                    state, detail = "missing-file", f"no file for it in {display_path(self.directory)}"
                entries.append((place - 0.5, StatusEntry(
                    record.version, record.name, state, None, record, detail, repeatable=repeatable,
                )))
        return [entry for _, entry in sorted(entries, key=lambda item: item[0])]

    def _consistency_problems(self, entries: list[StatusEntry], *, out_of_order: bool) -> list[RunnerError]:
        problems: list[RunnerError] = []
        for entry in entries:
            label = f"{entry.version}_{entry.name}" if entry.name else entry.version
            if entry.state == "dirty":
                resumable = entry.record is not None and entry.record.statements_done is not None \
                    and entry.record.failed_error is None
                problems.append(RunnerError(
                    f"migration {label} is dirty: {entry.detail}",
                    hint=entry.hint or (
                        "run `migrations up`: it resumes the migration where the catalog shows what its"
                        " running statement did" if resumable
                        else "fix the database by hand, then run `migrations repair`"
                    ),
                ))
            elif entry.state == "checksum-changed":
                assert entry.path is not None
                problems.append(RunnerError(
                    f"{display_path(entry.path)}: applied migration {label} was edited after it was"
                    f" applied ({entry.detail})",
                    hint="restore the file and put the change in a new migration; if the edit is"
                    " harmless, `migrations repair --update-checksums`",
                ))
            elif entry.state == "missing-file":
                problems.append(RunnerError(
                    f"applied migration {label} has no file in {display_path(self.directory)}",
                    hint="restore the file, or `migrations repair --forget-missing`",
                ))
            elif entry.state == "out-of-order" and out_of_order:
                assert entry.path is not None
                problems.append(RunnerError(
                    f"{display_path(entry.path)}: version {entry.version} is {entry.detail}; refusing to"
                    " apply it out of order",
                    hint="give it a newer version, or pass --allow-out-of-order",
                ))
        return problems

    def verify(self) -> list[RunnerError]:
        """Everything a deploy gate must refuse: edits, missing files, dirty, pending migrations."""
        entries = self.status()
        problems = self._consistency_problems(entries, out_of_order=True)
        ids = {m.path: m.id for m in self.migrations}
        for entry in entries:
            if entry.state == "pending":
                assert entry.path is not None
                label = ids.get(entry.path, entry.version)
                problems.append(RunnerError(f"{display_path(entry.path)}: migration {label} is pending"))
            elif entry.state == "outdated":
                assert entry.path is not None
                problems.append(RunnerError(
                    f"{display_path(entry.path)}: repeatable migration {entry.version} {entry.detail}"
                ))
        applied = {entry.version for entry in entries if entry.state in ("applied", "outdated")}
        with self._database_step("cannot read the indexes"):
            invalid = invalid_indexes(self.connection(), [m for m in self.migrations if m.version.text in applied])
        for migration, index in invalid:
            problems.append(RunnerError(
                f"{display_path(migration.up.path)}: index {index}, created by applied migration"
                f" {migration.id}, is INVALID",
                hint=f"rebuild it with REINDEX INDEX CONCURRENTLY {index}",
            ))
        return problems

    # -- up, down, redo ----------------------------------------------------------------------

    def up(self, to: str | None = None, *, dry_run: bool = False) -> RunReport:
        target = self.parse_version(to) if to is not None else None
        if target is not None and not any(m.version == target and not m.repeatable for m in self.migrations):
            raise InputError(f"no migration with version {to} in {display_path(self.directory)}")

        def steps(entries: list[StatusEntry], problems: list[RunnerError]) -> list[tuple[Migration, str]]:
            # Flyway: the pending versioned migrations (up to the target), then every repeatable
            # one never applied or changed since, whatever the target (the layout orders them last).
            pending_states = {"pending", "out-of-order", "outdated"}
            wanted = {e.version for e in entries if e.state in pending_states}
            return [
                (m, "up") for m in self.migrations
                if m.version.text in wanted and (target is None or m.repeatable or m.version <= target)
            ]

        return self._run("up", steps, dry_run)

    def down(self, steps: int | None = None, to: str | None = None, *, dry_run: bool = False) -> RunReport:
        if steps is not None and to is not None:
            raise InputError("give --steps or --to, not both")
        if steps is not None and steps < 1:
            raise InputError("--steps must be at least 1")
        target = self.parse_version(to) if to is not None else None

        def plan(entries: list[StatusEntry], problems: list[RunnerError]) -> list[tuple[Migration, str]]:
            applied = _last_applied_first(entries)
            if target is not None:
                chosen = [e for e in applied if (key := self._record_key(e.record)) is None or key > target.key]
            else:
                if steps is not None and steps > len(applied):
                    problems.append(InputError(
                        f"--steps {steps}, but only {len(applied)} migration(s) are applied; nothing was rolled back",
                        hint=f"--steps {len(applied)}, or --to 0 to roll back everything" if applied else None,
                    ))
                    return []
                chosen = applied[: steps or 1]
            return self._rollback_steps(chosen, problems)

        return self._run("down", plan, dry_run)

    def redo(self, *, dry_run: bool = False) -> RunReport:
        def plan(entries: list[StatusEntry], problems: list[RunnerError]) -> list[tuple[Migration, str]]:
            rollback = self._rollback_steps(_last_applied_first(entries)[:1], problems)
            return rollback + [(migration, "up") for migration, _ in rollback]

        return self._run("redo", plan, dry_run)

    def _rollback_steps(self, chosen: list[StatusEntry], problems: list[RunnerError]) -> list[tuple[Migration, str]]:
        by_version = {m.version.text: m for m in self.migrations}
        result = []
        for entry in chosen:
            migration = by_version.get(entry.version)
            if migration is None:
                continue  # reported as missing-file by the consistency checks
            if migration.down is None:
                problems.append(RunnerError(
                    f"{display_path(migration.path)}: migration {migration.id} has no DOWN, so the"
                    " rollback stops before anything runs; nothing was rolled back",
                    hint="roll back to a version after it with --to, or write its DOWN",
                ))
                break
            result.append((migration, "down"))
        return result

    def _run(
        self,
        action: str,
        choose: Callable[[list[StatusEntry], list[RunnerError]], list[tuple[Migration, str]]],
        dry_run: bool,
    ) -> RunReport:
        migrations = self.migrations
        conn = self.connection()
        lock = contextlib.nullcontext() if dry_run else self._locked()
        with lock:
            # The tracking tables are created only once the run is known to go ahead, so that a
            # refused run leaves the database exactly as it found it.
            setup = self._setup_commands()
            applied = self.applied()
            entries = self._status(migrations, applied)
            resumes: dict[str, Resume] = {}
            if action == "up":
                # A dry run (the fleet's preflight) waits only as long as a killed runner's
                # statement takes to end, not for a live runner.
                entries, resumes = self._resumable(
                    entries, wait=min(DEAD_CLIENT_GRACE, self.settings.lock_wait) if dry_run else self.settings.lock_wait,
                )
            problems = self._consistency_problems(entries, out_of_order=not self.settings.allow_out_of_order)
            chosen = choose(entries, problems)
            outdated = {entry.version for entry in entries if entry.state == "outdated"}
            steps: list[Step] = []
            for migration, direction in chosen:
                if direction == "down" and migration.down is not None:
                    parse_problems = _parse_problems(migration.down)
                    if parse_problems:
                        problems.extend(parse_problems)
                        continue
                try:
                    steps.append(build_step(
                        migration, direction, self.tracking, self.settings,  # type: ignore[arg-type]
                        again=direction == "up" and migration.version.text in outdated,
                        resume=resumes.get(migration.version.text) if direction == "up" else None,
                    ))
                except RunnerError as error:
                    problems.append(error)
            lint_outcome = lint(
                migrations,
                [step.migration for step in steps if step.direction == "up"],
                enabled=self.settings.lint,
                pg_version=conn.info.server_version // 10000,
                runner_sets_lock_timeout=self.settings.lock_timeout is not None,
                start=self.directory,
            )
            for finding in lint_outcome.errors:
                problems.append(RunnerError(
                    f"lint: {finding}", hint="fix the migration, suppress the finding, or pass --no-lint"
                ))
            key = lock_key(self.settings.schema, self.settings.table)
            adopted = [record for record in applied
                       if record.adopted_from is not None or record.recorded_as is not None] if steps else []
            plan = Plan(action, steps, setup, key, adopt=self._adoption_commands(adopted))
            report = RunReport(action, dry_run, plan, lint=lint_outcome, problems=problems)
            if dry_run:
                report.sql = plan.render(conn)
                return report
            if problems:
                raise ValidationFailed(problems)
            if setup and steps:
                self._ensure_tracking()
            self._adopt(adopted)
            try:
                for step in steps:
                    self._check_lock()
                    if step.resume is not None:
                        self.on_event(Event("note", step, f"{step.label}: {step.resume.note}"))
                    report.results.append(self._execute(step))
            except RunnerError as error:
                error.report = report  # what did run before the failure, for the caller to show
                raise
        return report

    def _resumable(self, entries: list[StatusEntry], *, wait: float) -> tuple[list[StatusEntry], dict[str, Resume]]:
        """The dirty entries of interrupted migrations outside a transaction that ``up`` can
        finish, made pending, with where each resumes; the others keep their state, and the
        detail says why they cannot be resumed. A migration whose own lock another session
        holds is still running there: waited for up to ``wait`` seconds, then left dirty."""
        by_version = {m.version.text: m for m in self.migrations}
        resumes: dict[str, Resume] = {}
        result: list[StatusEntry] = []
        for entry in entries:
            record, migration = entry.record, by_version.get(entry.version)
            if (entry.state != "dirty" or record is None or migration is None or record.statements_done is None
                    or record.failed_error is not None or (record.dirty_direction or "up") != "up"):
                result.append(entry)
                continue
            if record.checksum != migration.checksum:
                result.append(replace(
                    entry, detail=f"{entry.detail}; the file changed since ({_checksums(record, migration)}),"
                    " so it cannot be resumed",
                    hint="restore the file as it was applied and run `migrations up` to resume it; or finish"
                    " the migration by hand, then `migrations repair`",
                ))
                continue
            plan = plan_section(migration, "up")
            if not records_progress(plan):
                result.append(entry)
                continue
            conn = self.connection()
            key = migration_lock_key(self.settings.schema, self.settings.table, record.version)
            with self._database_step(f"cannot read how far migration {migration.id} got"):
                running = wait_until_not_running(conn, key, wait)
                if running is not None:
                    result.append(replace(
                        entry, detail=f"up is still running in PostgreSQL session {running}, which holds the"
                        " migration's own lock",
                        hint="wait for it to end, then run `migrations up` again",
                    ))
                    continue
                try:
                    resumes[entry.version] = resume_point(conn, plan, record.statements_done)
                except Undecidable as why:
                    result.append(replace(
                        entry, detail=f"up was interrupted and cannot be resumed: {why.message}",
                        hint="see whether that statement took effect: finish the migration by hand, then"
                        " `migrations repair --mark applied`; or undo what it did, then `migrations repair`"
                        " (the next `up` runs it from the start)",
                    ))
                    continue
            result.append(replace(entry, state="pending"))
        return result, resumes

    # -- executing ---------------------------------------------------------------------------

    def _execute(self, step: Step) -> StepResult:
        attempts = 1 + (self.settings.retries if step.transactional else 0)
        if self.settings.retries and not step.transactional:
            # A retry is safe only where a failure left nothing behind.
            self.on_event(Event("note", step, (
                f"--retries does not apply to {step.label}: it runs outside a transaction, so a"
                " failed attempt may leave part of it done"
            )))
        for attempt in range(1, attempts + 1):
            self.on_event(Event("start", step))
            started = time.monotonic()
            try:
                if step.transactional:
                    self._send_transactional(step, attempt, attempts)
                else:
                    self._send_statement_by_statement(step)
            except MigrationFailed as failure:
                if isinstance(failure.error, RETRYABLE) and attempt < attempts:
                    delay = self.settings.retry_delay * 2 ** (attempt - 1)
                    self.on_event(Event("retry", step, f"{failure.message}; retrying in {delay:g} s ({attempt}/{attempts - 1})"))
                    time.sleep(delay)
                    continue
                self.on_event(Event("failed", step, failure.line))
                raise
            duration_ms = round((time.monotonic() - started) * 1000)
            with contextlib.suppress(psycopg.Error):  # the next step's failure, if any, says it
                self._stay_connected(self.connection())
            self.on_event(Event("done", step, duration_ms=duration_ms))
            outcome = "applied" if step.direction == "up" else "rolled back"
            return StepResult(step.migration, step.direction, outcome, duration_ms, attempt)
        raise AssertionError("unreachable")

    def _send_transactional(self, step: Step, attempt: int, attempts: int) -> None:
        conn = self.connection()
        started = time.monotonic()
        for command in step.commands:
            try:
                conn.execute(command.query)  # type: ignore[arg-type]
            except psycopg.Error as error:
                failure = self._failure(step, command, error)
                self._rollback_quietly(conn)
                retrying = isinstance(error, RETRYABLE) and attempt < attempts
                if command.kind == "commit" and conn.broken and self._committed(step):
                    # The connection went with the COMMIT's answer, not before the COMMIT: the
                    # migration, its record and its history row are in; a failed row would lie.
                    return
                self._record_quietly(conn, [
                    self._failed_history(step, failure.message + (" (will retry)" if retrying else ""), started),
                ])
                raise failure from None

    def _send_statement_by_statement(self, step: Step) -> None:
        conn = self.connection()
        started = time.monotonic()
        for command in step.commands:
            try:
                conn.execute(command.query)  # type: ignore[arg-type]
            except psycopg.Error as error:
                failure = self._failure(step, command, error)
                # A failure inside a block of the file's own (or of a query of several
                # statements) leaves it open and aborted: end it before recording.
                self._rollback_quietly(conn)
                version = step.migration.version.text
                escape = step.plan.escape
                if escape is not None and not self._escape_committed(step, conn):
                    # The failure came inside the tool's transaction, before the file's COMMIT:
                    # rolled back with the dirty mark, nothing of it stayed.
                    self._record_quietly(conn, [self._failed_history(step, failure.message, started)])
                    nothing = (
                        f"nothing of {step.label} stayed: the failure came before its COMMIT at"
                        f" {display_path(step.section.path)}:{escape.line}, so its transaction was rolled back"
                    )
                    failure.hint = f"{nothing}; {failure.hint}" if failure.hint else nothing
                    raise failure from None
                if step.records_progress and self._connection_lost():
                    # Not an error of the statement's: how far it got is recorded, statement by
                    # statement, and the next run finishes it.
                    self._record_quietly(conn, [self._failed_history(step, failure.message, started)])
                    interrupted = (
                        "the migration runs outside a transaction and its record keeps how far it got:"
                        " run `migrations up` again to resume it"
                    )
                    failure.hint = f"{interrupted}; {failure.hint}" if failure.hint else interrupted
                    raise failure from None
                where = (
                    f"{display_path(step.section.path)}:{command.statement.line}: {_shorten(command.statement.text)}"
                    if command.statement is not None else command.render(conn) if not conn.broken else ""
                )
                self._record_quietly(conn, [
                    self.tracking.mark_failed(version, where, failure.message),
                    self._failed_history(step, failure.message, started),
                ])
                if escape is not None:
                    dirty = (
                        f"its COMMIT at {display_path(step.section.path)}:{escape.line} had committed the"
                        " statements before it, so the migration is now marked dirty and the database is"
                        " partly changed: fix it by hand, then run `migrations repair`"
                    )
                else:
                    dirty = (
                        "the migration ran outside a transaction and is now marked dirty; the database"
                        " may be partly changed (a failed CONCURRENTLY build leaves an INVALID index):"
                        " fix it by hand, then run `migrations repair`"
                    )
                failure.hint = f"{dirty}; {failure.hint}" if failure.hint else dirty
                raise failure from None

    def _failed_history(self, step: Step, message: str, started: float) -> sql.Composable:
        """The history row of a failed attempt at ``step`` that began at ``started`` (monotonic)."""
        return self.tracking.insert_history(
            version=step.migration.version.text, name=step.migration.name, direction=step.direction,
            checksum=step.migration.checksum, outcome="failed", message=message,
            duration=sql.Literal(round((time.monotonic() - started) * 1000)),
        )

    def _failure(self, step: Step, command: Command, error: psycopg.Error) -> MigrationFailed:
        section_path = display_path(step.section.path)
        reason = describe(error)
        if self._connection_lost():
            reason = f"the connection to the database was lost: {reason}"
        hint = None
        if command.kind == "file" and command.statement is not None:
            statement = command.statement
            line = error_line(error, statement.text, statement.line) or statement.line
            where = f"{section_path}:{line}"
        elif command.kind == "script":
            position = error.diag.statement_position
            failed = step.plan.statement_at(int(position) if position else None)
            if failed is None and isinstance(error, ActiveSqlTransaction):
                failed = step.plan.refused_in_block()
            where = f"{section_path}:{failed.line if failed is not None else step.section.first_line}"
        elif command.kind == "check":
            # The check names the indexes in its DETAIL, for the hint; the message says it once.
            where, names = section_path, error.diag.message_detail or "..."
            reason = f"{error.diag.message_primary} (SQLSTATE {error.sqlstate})"
            hint = repair_hint(names, step.direction)
        elif command.kind == "commit":
            lines = [s.line for s in step.file_statements]
            line = step.commit_line or (lines[-1] if lines else step.section.first_line)
            where, reason = f"{section_path}:{line}", f"at COMMIT: {reason}"
        elif command.kind == "tracking":
            where = f"{section_path}"
            reason = f"recording {step.migration.id} in {self.tracking.table_name} failed: {reason}"
        else:
            where = f"{section_path}"
            reason = f"{step.direction} {step.migration.id}: {reason}"
        if isinstance(error, LockNotAvailable):
            hint = (
                f"another session holds a lock this migration needs (lock_timeout"
                f" {self.settings.lock_timeout or 'from the file'}); nothing was changed by this"
                " statement: retry when the database is quieter"
                + (", or with --retries N" if step.transactional else "")
            )
        elif isinstance(error, QueryCanceled):
            hint = "statement_timeout cut the statement short; raise statement_timeout for this migration with SET statement_timeout in the file"
        return MigrationFailed(f"{where}: {reason}", error=error, hint=hint)

    def _connection_lost(self) -> bool:
        """Whether the working connection went with the last error (the server ended the session)."""
        conn = self._conn
        return conn is not None and (conn.broken or conn.closed)

    @staticmethod
    def _rollback_quietly(conn: psycopg.Connection) -> None:
        if conn.broken or conn.closed:
            return
        if conn.info.transaction_status != TransactionStatus.IDLE:
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")

    def _record_quietly(self, conn: psycopg.Connection, queries: list[sql.Composable]) -> None:
        """Record a failure after the fact; the failure itself matters more than its record.

        When the failure took the connection with it (the server ended the session, the
        network went), the record goes through a new one: the history promises failed attempts.
        """
        if conn.broken or conn.closed:
            self._conn = None
            try:
                conn = self.connection()
            except RunnerError:
                return
        with contextlib.suppress(psycopg.Error):
            for query in queries:
                conn.execute(query)
        with contextlib.suppress(psycopg.Error):
            conn.execute("DISCARD ALL")
            self._stay_connected(conn)

    def _escape_committed(self, step: Step, conn: psycopg.Connection) -> bool:
        """Whether the file's COMMIT in an escaped section committed the statements before it
        (and with them the dirty mark), read from the tracking table; True if unknown."""
        if conn.broken or conn.closed:
            return True
        try:
            records = {record.version: record for record in self.tracking.read_applied(conn)}
        except psycopg.Error:
            self._rollback_quietly(conn)
            return True
        # The dirty mark (the new row of an UP, the mark on the row of a DOWN) went in with them.
        record = records.get(step.migration.version.text)
        return record is not None and record.dirty

    def _committed(self, step: Step) -> bool:
        """Whether ``step``'s transaction committed, asked on a new connection; False if unknown."""
        self._conn = None
        try:
            records = {record.version: record.checksum for record in self.tracking.read_applied(self.connection())}
        except (RunnerError, psycopg.Error):
            return False
        if step.direction == "up":  # a repeatable applied again had a record before, of another checksum
            return records.get(step.migration.version.text) == step.migration.checksum
        return step.migration.version.text not in records

    # -- repair and baseline -----------------------------------------------------------------

    def repair(
        self,
        *,
        mark: str | None = None,
        update_checksums: bool = False,
        forget_missing: bool = False,
    ) -> list[str]:
        """Clear dirty records, and on request accept edited checksums or forget missing files.

        A dirty ``up`` becomes pending again (the next ``up`` reruns it) and a dirty ``down``
        stays applied, unless ``mark`` ("applied" or "pending") says what the human did.
        Returns one line per change; every change is also written to the history.
        """
        if mark not in (None, "applied", "pending"):
            raise InputError(f"--mark must be 'applied' or 'pending', not {mark!r}")
        migrations = self.migrations
        conn = self.connection()
        done: list[str] = []
        with self._locked():
            self._ensure_tracking()
            self._adopt(self.applied())  # a dirty record of the tool's is repaired as the runner's own
            entries = self._status(migrations, self.tracking.read_applied(conn))
            by_version = {m.version.text: m for m in migrations}
            queries: list[sql.Composable] = []
            for entry in entries:
                record = entry.record
                if record is None:
                    continue
                label = f"{record.version}_{record.name}" if record.name else record.version
                if entry.state == "dirty":
                    becomes = mark or ("pending" if record.dirty_direction != "down" else "applied")
                    queries.append(
                        self.tracking.delete(record.version) if becomes == "pending"
                        else self.tracking.mark_repaired(record.version)
                    )
                    message = (
                        f"dirty record cleared ({record.dirty_direction or 'up'} had failed"
                        f"{': ' + record.failed_error if record.failed_error else ''}); marked {becomes}"
                    )
                    queries.append(self.tracking.insert_history(
                        version=record.version, name=record.name, direction="repair",
                        checksum=record.checksum, outcome="repaired", message=message,
                    ))
                    done.append(f"{label}: {message}")
                elif entry.state == "checksum-changed" and update_checksums:
                    migration = by_version[entry.version]
                    queries.append(self.tracking.update_checksum(record.version, migration.checksum))
                    message = f"checksum updated from {record.checksum[:12]} to {migration.checksum[:12]}"
                    queries.append(self.tracking.insert_history(
                        version=record.version, name=record.name, direction="repair",
                        checksum=migration.checksum, outcome="checksum updated", message=message,
                    ))
                    done.append(f"{label}: {message}")
                elif entry.state == "missing-file" and forget_missing:
                    queries.append(self.tracking.delete(record.version))
                    message = "record removed: its file no longer exists"
                    queries.append(self.tracking.insert_history(
                        version=record.version, name=record.name, direction="repair",
                        checksum=record.checksum, outcome="forgotten", message=message,
                    ))
                    done.append(f"{label}: {message}")
            if queries:
                with conn.transaction():
                    for query in queries:
                        conn.execute(query)
        return done

    def baseline(self, version: str) -> list[Migration]:
        """Record every migration up to ``version`` as applied without running it."""
        target = self.parse_version(version)
        migrations = self.migrations
        if not any(m.version == target and not m.repeatable for m in migrations):
            raise InputError(f"no migration with version {version} in {display_path(self.directory)}")
        conn = self.connection()
        with self._locked():
            self._ensure_tracking()
            self._adopt(self.applied())
            applied = self.tracking.read_applied(conn)
            entries = self._status(migrations, applied)
            problems = [p for p in self._consistency_problems(entries, out_of_order=False)]
            later = [r for r in applied if (key := self._record_key(r)) is not None and key > target.key
                     and not self._is_repeatable_record(r)]
            if later:
                problems.append(RunnerError(
                    f"migration {later[0].version} is already applied, after the baseline {version}:"
                    " baseline adopts a database migrated by hand, before the runner applied anything"
                ))
            if problems:
                raise ValidationFailed(problems)
            recorded = {e.version for e in entries if e.record is not None}
            chosen = [m for m in migrations if not m.repeatable and m.version <= target and m.version.text not in recorded]
            if chosen:
                with conn.transaction():
                    for migration in chosen:
                        conn.execute(self.tracking.insert_baselined(migration))
                        conn.execute(self.tracking.insert_history(
                            version=migration.version.text, name=migration.name, direction="baseline",
                            checksum=migration.checksum, outcome="baselined",
                            message=f"recorded as applied without running it (baseline {version})",
                        ))
        return chosen


def _parse_problems(section: Section) -> list[RunnerError]:
    problems: list[RunnerError] = []
    for statement in section.parse_errors:
        assert statement.error is not None
        problems.append(InputError(
            f"{display_path(section.path)}:{statement.line}: syntax error: {statement.error.message}"
        ))
    return problems


def _keepalives(dsn: str) -> dict[str, int]:
    """TCP keepalives every minute, unless the DSN says otherwise: a session that sits idle for
    as long as a migration runs (the lock's) must not be dropped by a firewall or a NAT gateway
    that forgets quiet connections (the operating system's default is to wait two hours)."""
    try:
        given = conninfo_to_dict(dsn)
    except psycopg.Error:
        return {}  # the connection attempt reports it
    wanted = {"keepalives_idle": 60, "keepalives_interval": 10, "keepalives_count": 6}
    return {key: value for key, value in wanted.items() if key not in given}


# When a record of another tool that keeps no time (dbmate, golang-migrate) was applied: before anything dated.
_LONG_AGO = datetime.min.replace(tzinfo=timezone.utc)


def _last_applied_first(entries: list[StatusEntry]) -> list[StatusEntry]:
    """The applied entries, the one applied last first: after ``--allow-out-of-order`` the newest
    version is not the last one applied, and a rollback undoes in the order things were done.

    Repeatable migrations are left out: Flyway's undo rolls back versioned migrations only, and
    leaves what a repeatable one made (a view, a function) and its record as they are."""
    applied = [entry for entry in entries if entry.record is not None and not entry.repeatable]
    return sorted(
        applied,
        key=lambda entry: (entry.record.applied_at or _LONG_AGO, entry.record.key or (), entry.version),  # type: ignore[union-attr]
        reverse=True,
    )


def _checksums(record: AppliedRecord, migration: Migration) -> str:
    if record.adopted_from is not None:
        return f"the checksum {record.adopted_from} recorded is not the file's"
    return f"recorded {record.checksum[:12]}, file has {migration.checksum[:12]}"


def _dirty_detail(record: AppliedRecord) -> str:
    direction = record.dirty_direction or "up"
    if record.failed_statement or record.failed_error:
        return f"{direction} failed at {record.failed_statement}: {record.failed_error}"
    if record.statements_done is not None:
        return f"{direction} was interrupted after {record.statements_done} of its statements had run"
    return f"{direction} was interrupted before it finished"


def _shorten(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


__all__ = [
    "DISAGREEING_STATES",
    "Event",
    "RunReport",
    "Runner",
    "StatusEntry",
    "StepResult",
    "ValidationFailed",
]
