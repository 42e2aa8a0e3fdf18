"""Collectors and test items: one file node per migration, with ``::roundtrip``, ``::lint`` and
``::locks``.

Node ids are the migration's UP file relative to the rootdir, so ``-k 012``, ``--lf`` and
copying ``migrations/012_add_orders.sql::roundtrip`` from a failure all work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from migration_lint.model import Migration, MigrationFileError

from ..database import DatabaseError, ServerUnavailable
from ..errors import PytestMigrationsError
from ..roundtrip import SetupSqlError, StepResult
from ..trace import TRACE_RULE_NAME, MigrationTrace, TraceFinding
from .lint import LintReport, render
from .options import SettingsError
from .state import STATE_KEY, WARNING_PROPERTY, MigrationsState

__all__ = ["LintItem", "LocksFailed", "LocksItem", "MigrationFile", "MigrationsDirectory", "RoundTripFailed", "RoundTripItem"]


class RoundTripFailed(PytestMigrationsError):
    """Raised by a round-trip item; carries the walker's result for :meth:`RoundTripItem.repr_failure`."""

    def __init__(self, result: StepResult, suggestion: str | None = None) -> None:
        super().__init__(result.report())
        self.result = result
        self.suggestion = suggestion  # a generated DOWN that would pass, or what none can undo


class MigrationsUsageError(PytestMigrationsError):
    """Settings or server trouble met while running an item: shown as one line."""


def _state(node: pytest.Item | pytest.Collector) -> MigrationsState:
    return node.config.stash[STATE_KEY]


def _nodeid(path: Path, config: pytest.Config) -> str:
    """The path relative to the rootdir, with ``..`` for a directory outside it."""
    return Path(os.path.relpath(path.resolve(), config.rootpath.resolve())).as_posix()


ITEM_NAMES = ("roundtrip", "lint", "locks")


def junit_classname(nodeid: str) -> str:
    """The JUnit class of a migration item: its directory as the package, its file as the class.

    pytest would write ``migrations.001_add_orders.sql``, which report viewers split at the dots
    into a package ``migrations.001_add_orders`` and a class ``sql``; here the dots inside each
    part become underscores and ``.sql`` goes, as ``.py`` goes from a test module:
    ``migrations.001_add_orders``, ``migrations.12_add_orders_up``.
    """
    path = nodeid.partition("::")[0]
    if path.lower().endswith(".sql"):
        path = path[: -len(".sql")]
    return ".".join(part.replace(".", "_") for part in path.split("/") if part)


def _group_name(directory: Path, config: pytest.Config) -> str:
    try:
        return f"migrations:{directory.relative_to(config.rootpath)}"
    except ValueError:
        return f"migrations:{directory}"


class MigrationsDirectory(pytest.Directory):
    """The migrations directory: collects one :class:`MigrationFile` per migration.

    A directory that cannot be read as migrations (mixed layouts, duplicate versions ...)
    becomes one collection error naming the file and line.
    """

    @classmethod
    def for_path(cls, parent: pytest.Collector, path: Path) -> MigrationsDirectory:
        return cls.from_parent(parent, path=path, nodeid=_nodeid(path, parent.config))

    def collect(self) -> Iterator[MigrationFile]:
        _state(self).collected_directories.add(self.path.resolve())
        for migration in _state(self).migrations(self.path):
            yield MigrationFile.from_parent(
                self, path=migration.path, nodeid=_nodeid(migration.path, self.config),
                migration=migration, directory=self.path,
            )  # fmt: skip

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, MigrationFileError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)  # type: ignore[return-value]


class MigrationFile(pytest.File):
    """One migration, named by its UP file."""

    def __init__(self, *, migration: Migration, directory: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.migration = migration
        self.directory = directory

    def collect(self) -> Iterator[pytest.Item]:
        state = _state(self)
        group = pytest.mark.xdist_group(name=_group_name(self.directory, self.config))
        roundtrip = RoundTripItem.from_parent(self, name="roundtrip", migration=self.migration)
        roundtrip.add_marker(group)
        yield roundtrip
        if state.settings.lint:
            lint = LintItem.from_parent(self, name="lint", migration=self.migration)
            lint.add_marker(group)
            yield lint
        if state.settings.locks:
            locks = LocksItem.from_parent(self, name="locks", migration=self.migration)
            locks.add_marker(group)
            yield locks


class _MigrationItem(pytest.Item):
    def __init__(self, *, migration: Migration, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.migration = migration
        # Some plugins' hook wrappers (pytest-lsp's pytest_runtest_call) fail to yield for an
        # item without funcargs, breaking every non-function item; ours have no fixtures.
        self.funcargs: dict[str, Any] = {}

    @property
    def directory(self) -> Path:
        assert isinstance(self.parent, MigrationFile)
        return self.parent.directory

    def _warn(self, lines: list[str]) -> None:
        # Carried by the report, so that under xdist the controller's summary shows them too.
        self.user_properties.extend((WARNING_PROPERTY, line) for line in lines)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.migration.id}::{self.name}"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, RoundTripFailed):
            suggestion = excinfo.value.suggestion
            return excinfo.value.result.report() + (f"\n\n{suggestion}" if suggestion else "")
        if isinstance(excinfo.value, (MigrationsUsageError, SetupSqlError, SettingsError, DatabaseError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))


class RoundTripItem(_MigrationItem):
    """UP, DOWN (schema back to before?), UP again (schema as after the first UP?), data kept."""

    def runtest(self) -> None:
        state = _state(self)
        try:
            walker = state.walker(self.directory)
        except ServerUnavailable as error:
            _skip_here(str(error))
        if not walker.expecting:
            # the round trips of this directory this session runs: a long walk is shared out
            walker.expect(
                item.migration for item in self.session.items
                if isinstance(item, RoundTripItem) and item.directory == self.directory
            )  # fmt: skip
        result = walker.result_for(self.migration)
        self._warn(result.warnings)
        if result.outcome == "skipped":
            _skip_here(result.skip_reason or "skipped")
        if result.missing_down and len(result.problems) == 1 and state.settings.allow_missing_down:
            pytest.xfail(f"{self.migration.id} has no DOWN (allowed by {state.settings.sources['allow_missing_down']})")
        if result.failed:
            raise RoundTripFailed(result, None if result.broke_chain or self.migration.repeatable else self._suggested_down(state))

    def _suggested_down(self, state: MigrationsState) -> str | None:
        from ..gendown import suggest_down

        return suggest_down(
            state.server, state.migrations(self.directory), self.migration,
            setup_sql=state.settings.read_setup_sql(), setup_sql_path=state.settings.setup_sql,
        )  # fmt: skip


def _skip_here(reason: str) -> None:
    """Skip, reported at the item (the migration file), not at this line of the plugin."""
    raise pytest.skip.Exception(reason, _use_item_location=True)


class LintItem(_MigrationItem):
    """migration-lint on this migration: errors fail, warnings go to the terminal summary."""

    def runtest(self) -> None:
        state = _state(self)
        try:
            report = state.lint_report(self.directory)
        except ValueError as error:  # the lint configuration is invalid
            raise MigrationsUsageError(str(error)) from None
        errors, warnings = report.findings_for(self.migration)
        self._warn([render(finding) for finding in warnings])
        if errors:
            raise MigrationsLintFailed("\n".join(self._with_traced_facts(errors, report)))

    def _with_traced_facts(self, errors: list[Any], report: LintReport) -> list[str]:
        """Each error rendered, followed by what the trace of the same migration saw of it, when
        its ``::locks`` item runs in this session (the trace is then made anyway)."""
        trace = self._trace()
        if trace is None:
            return [render(finding) for finding in errors]
        from ..trace import reports, split_by_static, traced_fact

        confirmed, _ = split_by_static(trace, report.error_codes)
        spans = {statement.line: statement.statement.end_line for statement in trace.statements}
        lines = []
        for error in errors:
            lines.append(render(error))
            for finding in confirmed:
                if not reports(finding, trace, Path(error.path), error.line, error.code):
                    continue
                fact = traced_fact(finding, trace)
                if not finding.line <= error.line <= spans.get(finding.line, finding.line):  # a later statement it covers
                    fact = fact.replace("traced:", f"traced at line {finding.line}:", 1)
                lines.append(f"    {fact}")
        return lines

    def _trace(self) -> MigrationTrace | None:
        state = _state(self)
        locks_selected = state.settings.locks and any(
            isinstance(item, LocksItem) and item.migration is self.migration for item in self.session.items
        )
        if not locks_selected:
            return None
        try:
            trace = state.trace_walker(self.directory).result_for(self.migration)
        except (ServerUnavailable, DatabaseError, SetupSqlError):
            return None  # the ::locks item reports it
        return trace if trace.error is None and not trace.untraceable else None

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, MigrationsLintFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)


class MigrationsLintFailed(PytestMigrationsError):
    """migration-lint found errors in a migration."""


class LocksFailed(PytestMigrationsError):
    """The trace of a migration found a blocking lock, rewrite or scan that no failing lint error
    reports (``confirmed`` are those that one does), or the migration failed."""

    def __init__(self, trace: MigrationTrace, confirmed: list[TraceFinding] | None = None) -> None:
        super().__init__(trace.format())
        self.trace = trace
        self.confirmed = confirmed or []


class LocksItem(_MigrationItem):
    """The migration applied on a real server, statement by statement, with what each one locked,
    rewrote and scanned (:mod:`pytest_migrations.trace`). Fails on a blocking finding that the
    file does not suppress: a lock that blocks reads or writes of a table that existed before,
    taken without a lock_timeout or held through a rewrite or a scan (see docs/lock-tracing.md),
    unless a lint error on the statement already fails this migration's ``::lint`` item for it
    (that failure carries the traced fact). Brief findings (a catalog update under a
    lock_timeout) and those go to the report's ``locks`` section."""

    def runtest(self) -> None:
        state = _state(self)
        try:
            walker = state.trace_walker(self.directory)
        except ServerUnavailable as error:
            _skip_here(str(error))
        trace = walker.result_for(self.migration)
        if trace.depends_on is not None:
            _skip_here(f"depends on {trace.depends_on} which failed")
        if trace.untraceable:
            _skip_here(f"cannot trace: {trace.error}")
        if not trace.ok and trace.error is None and _older_than_since(self.migration, state.settings.since):
            self._warn([f"{self.migration.id}: older than since {state.settings.since}: its lock findings"
                        " are reported and do not fail"])
            self.add_report_section("call", "locks", trace.format())
            return
        confirmed = self._reported_by_lint(trace)
        if trace.error is not None or len(confirmed) < len(trace.blocking_findings):
            raise LocksFailed(trace, confirmed)
        if trace.findings:  # brief, suppressed or failing the ::lint item: shown with -rP
            self.add_report_section("call", "locks", trace.format())

    def _reported_by_lint(self, trace: MigrationTrace) -> list[TraceFinding]:
        """The blocking findings a lint error on the same statement already fails the ``::lint``
        item of this migration for (it carries the traced fact): not failed twice."""
        state = _state(self)
        lint_selected = state.settings.lint and any(
            isinstance(item, LintItem) and item.migration is self.migration for item in self.session.items
        )
        if not lint_selected:
            return []
        try:
            report = state.lint_report(self.directory)
        except ValueError:
            return []
        from ..trace import split_by_static

        confirmed, _ = split_by_static(trace, report.error_codes)
        return confirmed

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:  # type: ignore[override]
        if isinstance(excinfo.value, LocksFailed):
            return _locks_failure(excinfo.value.trace, excinfo.value.confirmed)
        return super().repr_failure(excinfo, style=style)


def _older_than_since(migration: Migration, since: str | None) -> bool:
    if since is None or not migration.version.text:
        return False
    from migration_lint.session import parse_since

    return migration.version < migration.version.parse_like(parse_since(since).text)


def _locks_failure(trace: MigrationTrace, confirmed: list[TraceFinding]) -> str:
    """The trace's report, then what to do about its kinds of blocking finding (those the
    ``::lint`` item fails for are said to be there)."""
    text = trace.format()
    if confirmed:
        text += "\n" + "\n".join(f"{f.location}: reported by the ::lint item ({', '.join(f.static_codes)})" for f in confirmed)
    blocking = [f for f in trace.blocking_findings if f not in confirmed]
    if not blocking:
        return text
    advice = []
    if any(not f.long_work for f in blocking):
        advice.append("set a lock_timeout in the file (or pass --migrations-lock-timeout if your deploy sets one)")
    if any(f.rewrites_rows or f.scan for f in blocking):
        advice.append("avoid the rewrite or scan (the static rule named says how)")
    if any(f.held_through and not (f.rewrites_rows or f.scan) for f in blocking):
        advice.append("end the transaction before the later work (or move it to a migration of its own)")
    advice.append(
        f"if the table is small or unused while this runs, put `-- migration-lint: ignore[{TRACE_RULE_NAME}] <reason>`"
        " above the statement"
    )
    return text + "\nTo pass: " + "; ".join(advice) + "."
