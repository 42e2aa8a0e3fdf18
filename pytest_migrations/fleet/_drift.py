"""Drift: does each target's catalog hold the schema its recorded version should have?

The schema a version should have is built once per version, not once per target: the runner
applies the directory's migrations, up to each version the fleet is at, on a throwaway database
(the embedded server, or ``--scratch-url``), and the snapshot module reads it after each. Schema
targets are built in a schema of that database named :data:`EXPECTED_SCHEMA` (first on the
search path, as a schema target's is), whose name the comparison then reads as the target's;
database targets in a second throwaway database, as a whole. Each target's catalog is read once
(a database holding many schema targets once for all of them) and compared with
:func:`~pytest_migrations.snapshot.diff_snapshots`. The tracking tables are left out of both.

A schema target is compared on the objects of its schema only (an extension or an object a
migration puts elsewhere belongs to the database, not to the tenant); a database target on
everything. A target whose records do not say which schema it should have (dirty, an edited or
missing file, versions applied out of order) is not compared, and says why.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any, Callable

import psycopg
from psycopg import sql

from migration_lint.extensions import created_extensions

from ..database import (
    DatabaseError,
    DsnServer,
    InvalidDsn,
    describe_dsn,
    dsn_error,
    embedded_server,
    server_for_extensions,
)
from ..runner import InputError, RunnerError, StatusEntry
from ..snapshot import Difference, Snapshot, diff_snapshots, take_snapshot
from ._fleet import Fleet
from ._targets import Target

# The schema the expected schema of a schema target is built in: a name no tenant has.
EXPECTED_SCHEMA = "pytest_migrations_expected"


@dataclass
class TargetDrift:
    """One target: its version, what the runner's verify found, and how its catalog differs."""

    target: Target
    version: str | None = None  # newest applied
    pending: int = 0
    problems: list[str] = field(default_factory=list)  # the runner's verify (with ``verify``)
    differences: list[Difference] = field(default_factory=list)
    not_compared: str | None = None  # why the catalog was not compared
    error: str | None = None  # unreachable
    server_major: int | None = None

    @property
    def drifted(self) -> bool:
        return bool(self.differences)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.problems and not self.differences and self.not_compared is None


@dataclass
class _Reading:
    drift: TargetDrift
    applied: list[str] = field(default_factory=list)  # versions, in the directory's order


def check_drift(
    fleet: Fleet,
    *,
    scratch_dsn: str | None = None,
    verify: bool = False,
    on_note: Callable[[str], None] | None = None,
) -> list[TargetDrift]:
    """Each target of ``fleet`` against the schema of its version (and, with ``verify``, the
    runner's verify: checksums, pending, dirty, INVALID indexes)."""
    note = on_note or (lambda line: None)
    with ThreadPoolExecutor(max_workers=fleet.jobs) as pool:
        readings = list(pool.map(lambda target: _read_records(fleet, target, verify), fleet.targets))
    comparable = [r for r in readings if r.drift.error is None and r.drift.not_compared is None]
    if not comparable:
        return [r.drift for r in readings]
    wanted = {(tuple(r.applied), r.drift.target.schema is not None) for r in comparable}
    with ExpectedSchemas(fleet, scratch_dsn) as expected:
        built = expected.build(sorted(wanted, key=lambda item: (len(item[0]), item[1])))
        majors = {r.drift.server_major for r in comparable} - {None, expected.major}
        if majors:
            note(
                f"note: the expected schema was built on PostgreSQL {expected.major}, some targets run"
                f" {', '.join(map(str, sorted(majors)))}: what differs between versions may show as drift;"
                " --scratch-url a server of the targets' version"
            )
    groups: dict[str, list[_Reading]] = {}
    for reading in comparable:
        target = reading.drift.target
        key = target.dsn if target.schema is not None else f"database {id(reading)}"
        groups.setdefault(key, []).append(reading)
    # A database target leaves out the schemas that are targets of their own.
    tenants: dict[tuple, list[str]] = {}
    for target in fleet.targets:
        if target.schema is not None:
            tenants.setdefault(target.database, []).append(target.schema)
    with ThreadPoolExecutor(max_workers=fleet.jobs) as pool:
        list(pool.map(lambda group: _compare(fleet, group, built, tenants), groups.values()))
    return [r.drift for r in readings]


def _read_records(fleet: Fleet, target: Target, verify: bool) -> _Reading:
    drift = TargetDrift(target)
    reading = _Reading(drift)
    try:
        with fleet.runner(target, lint=False) as runner:
            entries: list[StatusEntry] = runner.status()
            if verify:
                drift.problems = [problem.line for problem in runner.verify()]
            drift.server_major = runner.connection().info.server_version // 10000
    except RunnerError as error:
        drift.error = error.line
        return reading
    except Exception as error:
        drift.error = f"{type(error).__name__}: {dsn_error(target.dsn, error)}"
        return reading
    # The version is the newest versioned migration's; the runner applies every (Flyway)
    # repeatable after the versioned ones, on the targets and on the expected schema alike.
    versioned = [e for e in entries if not e.repeatable]
    applied = [e for e in versioned if e.state == "applied"]
    drift.version = applied[-1].version if applied else None
    drift.pending = sum(1 for e in entries if e.state in ("pending", "outdated"))
    odd = [e for e in entries if e.state not in ("applied", "pending")]
    if odd:
        drift.not_compared = f"{odd[0].version}_{odd[0].name} is {odd[0].state}: its records do not say which schema it should have"
        return reading
    first_pending = next((i for i, e in enumerate(versioned) if e.state == "pending"), len(versioned))
    if any(e.state == "applied" for e in versioned[first_pending:]):
        drift.not_compared = "versions were applied out of order: no version's schema is the one it should have"
        return reading
    reading.applied = [e.version for e in applied]
    return reading


class ExpectedSchemas:
    """The schema each applied prefix of the directory should give, built on throwaway databases."""

    def __init__(self, fleet: Fleet, scratch_dsn: str | None) -> None:
        self.fleet = fleet
        self.scratch_dsn = scratch_dsn
        self.stack = ExitStack()
        self.server: Any = None
        self.major: int | None = None

    def __enter__(self) -> ExpectedSchemas:
        try:
            if self.scratch_dsn:
                given = DsnServer(self.scratch_dsn)
                self.stack.enter_context(given)  # ours: its databases go with it
            else:
                given = embedded_server()  # shared by the process: only our databases are dropped
            self.server = server_for_extensions(given, created_extensions(self.fleet.migrations()),
                                                replaceable=not self.scratch_dsn)
            self.major = self.server.major
        except InvalidDsn as error:
            self.stack.close()
            raise InputError(f"--scratch-url: {error}") from None
        except DatabaseError as error:
            self.stack.close()
            raise RunnerError(f"cannot build the expected schema: {error}") from None
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stack.close()

    def build(self, wanted: list[tuple[tuple[str, ...], bool]]) -> dict[tuple[tuple[str, ...], bool], Snapshot]:
        """For each (applied versions, schema target?), the snapshot its target should match.

        One database per kind of target; the versions are applied in order on it, a snapshot
        after each, so each migration runs once."""
        built: dict[tuple[tuple[str, ...], bool], Snapshot] = {}
        for in_schema in (True, False):
            prefixes = sorted({versions for versions, kind in wanted if kind == in_schema}, key=len)
            if not prefixes:
                continue
            database = self.stack.enter_context(self.server.fresh_database())
            target = Target(database.dsn, EXPECTED_SCHEMA if in_schema else None, "the expected schema", 0)
            if in_schema:
                with psycopg.connect(database.dsn, autocommit=True) as conn:
                    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(EXPECTED_SCHEMA)))
            with self.fleet.runner(target, lint=False) as runner:
                for versions in prefixes:
                    if versions:
                        try:
                            runner.up(to=versions[-1])
                        except RunnerError as error:
                            raise RunnerError(
                                f"cannot build the expected schema of version {versions[-1]} on a throwaway"
                                f" database: {error.line}"
                            ) from None
                    built[(versions, in_schema)] = _snapshot(
                        runner.connection(), [target], self.fleet
                    )[target.schema]
        return built


def _snapshot(
    conn: psycopg.Connection, targets: list[Target], fleet: Fleet, other_schemas: Sequence[str] = (),
) -> dict[str | None, Snapshot]:
    """The snapshot of each target on ``conn``'s database (a schema target: its schema's objects
    only), without the tracking tables nor ``other_schemas``."""
    excluded = []
    for target in targets:
        settings = fleet.settings_for(target)  # the tracking tables, as the runner names them
        excluded += [f"{settings.schema}.{settings.table}", f"{settings.schema}.{settings.history_table}"]
    whole = take_snapshot(conn, exclude_tables=excluded, exclude_schemas=other_schemas)
    result: dict[str | None, Snapshot] = {}
    for target in targets:
        if target.schema is None:
            result[None] = whole
            continue
        name = quote_ident(conn, target.schema)
        result[target.schema] = {
            key: value for key, value in whole.items()
            if key == f"schema {name}" or key.partition(" ")[2].startswith(f"{name}.")
        }
    return result


def quote_ident(conn: psycopg.Connection, name: str) -> str:
    """``name`` as the snapshot writes it: PostgreSQL's ``quote_ident``, quoted only when needed."""
    row = conn.execute("SELECT pg_catalog.quote_ident(%s)", (name,)).fetchone()
    assert row is not None
    return str(row[0])


def _as_schema(snapshot: Snapshot, quoted: str) -> Snapshot:
    """The expected snapshot with :data:`EXPECTED_SCHEMA` read as the schema ``quoted`` (as
    ``quote_ident`` writes it): in names, keys and definitions alike (the name appears nowhere else)."""
    name = json.dumps(quoted)[1:-1]
    return json.loads(json.dumps(snapshot).replace(EXPECTED_SCHEMA, name))


def _compare(
    fleet: Fleet, group: list[_Reading], built: dict[tuple[tuple[str, ...], bool], Snapshot],
    tenants: dict[tuple, list[str]],
) -> None:
    first = group[0].drift.target
    others = tenants.get(first.database, []) if first.schema is None else []
    try:
        with psycopg.connect(first.dsn, autocommit=True) as conn:
            snapshots = _snapshot(conn, [r.drift.target for r in group], fleet, others)
            quoted = {r.drift.target.schema: quote_ident(conn, r.drift.target.schema)
                      for r in group if r.drift.target.schema is not None}
    except psycopg.Error as error:
        for reading in group:
            reading.drift.error = f"cannot read the catalog of {describe_dsn(first.dsn)}: {dsn_error(first.dsn, error)}"
        return
    for reading in group:
        target = reading.drift.target
        expected = built[(tuple(reading.applied), target.schema is not None)]
        if target.schema is not None:
            expected = _as_schema(expected, quoted[target.schema])
        reading.drift.differences = diff_snapshots(expected, snapshots[target.schema])


__all__ = ["EXPECTED_SCHEMA", "ExpectedSchemas", "TargetDrift", "check_drift"]
