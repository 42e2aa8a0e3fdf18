"""``migrations trace``: apply a directory's migrations to a throwaway database, one by one,
and report what each statement locked, rewrote and scanned.

The ``migrations`` CLI adds these arguments with :func:`add_trace_arguments` and runs the
command with :func:`run_trace_command`. Exit codes: 0 no blocking finding; 1 a blocking finding
(not suppressed) or a migration that failed to apply; 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from migration_lint.layouts import discover
from migration_lint.model import Migration, MigrationFileError, Version

from ..errors import PytestMigrationsError
from ._deploy import LockTimeoutError, check_lock_timeout, runner_lock_timeout
from ._report import format_run, run_json
from ._results import MigrationTrace
from ._tracer import trace_migration
from ._walker import TraceWalker

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
DIR_ENV = "MIGRATIONS_DIR"


class UsageError(PytestMigrationsError):
    """Bad arguments or input; the message is one line naming what is wrong."""


def add_trace_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``trace`` options to ``parser``; options it already has (``--dir``,
    ``--database-url``, ``--format``, ``--config`` from a shared set) are left as they are."""
    _add(parser, "--dir", help=f"migrations directory (env {DIR_ENV}; default: migrations)")
    _add(parser, "--database-url", "--dsn", dest="database_url",
         help="server to trace on: a throwaway database is created there and dropped afterwards"
              " (default: an embedded PostgreSQL 18; MIGRATIONS_DATABASE_URL is not used)")
    _add(parser, "--format", choices=("text", "json"), help="output format (default: text)")
    _add(parser, "--config", type=Path, help="pyproject.toml to read (default: nearest one)")
    _add(parser, "--to", metavar="VERSION", help="trace up to and including this version")
    _add(parser, "--layout", metavar="NAME", help="read the directory as this tool does (default: detected)")
    _add(parser, "--trace-rows", metavar="N", type=_non_negative, default=0,
         help="fill each empty pre-existing table with N generated rows before each migration,"
              " so the report says how long each lock was held")
    _add(parser, "--lock-timeout", metavar="DURATION", default=None,
         help="the lock_timeout your deploy sets for a migration that sets none (0: none); a lock held"
              " only for a catalog update under a lock_timeout is reported as brief and does not fail."
              " Default: [tool.pytest-migrations] lock_timeout (10s) when pyproject.toml configures the"
              " runner, else 0")
    _add(parser, "--after", metavar="DIR", type=Path, action="append", default=None,
         help="apply this directory's migrations first, untraced (e.g. the main set a deferred set builds on);"
              " may be repeated")
    _add(parser, "--since", metavar="VERSION",
         help="migrations older than VERSION are traced and reported, but their findings do not fail"
              " (default: [tool.pytest-migrations] since)")
    _add(parser, "--verbose", "-v", action="store_true", default=False,
         help="list every statement's locks, rewrites and scans, not only the findings")


def _add(parser: argparse.ArgumentParser, *flags: str, **kwargs: Any) -> None:
    if any(flag in parser._option_string_actions for flag in flags):
        return
    parser.add_argument(*flags, **kwargs)


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return value


def run_trace_command(args: argparse.Namespace) -> int:
    """Run ``migrations trace`` with parsed ``args``; prints the report, returns the exit code."""
    json_mode = getattr(args, "format", None) == "json"
    try:
        migrations, before = _load(args)
        lock_timeout = _lock_timeout(args)
        since = _since(args)
        progress = TerminalProgress(sys.stderr) if _is_terminal(sys.stderr) else None
        try:
            traces = _trace_all(
                migrations, before, getattr(args, "database_url", None), getattr(args, "trace_rows", 0) or 0,
                lock_timeout, progress=progress,
            )
        finally:
            if progress is not None:
                progress.clear()
    except UsageError as error:
        _error(str(error), json_mode)
        return EXIT_USAGE
    except _ServerError as error:
        _error(str(error), json_mode)
        return EXIT_FINDINGS
    if json_mode:
        document = run_json(traces)
        code = _exit_code(traces, since)
        document["exit_code"] = code
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return code
    sys.stdout.write(format_run(traces, verbose=bool(getattr(args, "verbose", False))) + "\n")
    older = [trace.migration.id for trace in traces if not trace.ok and _excused(trace, since)]
    if older:
        sys.stdout.write(f"older than since {since.text}, reported without failing: {', '.join(older)}\n")
    return _exit_code(traces, since)


def _exit_code(traces: Sequence[MigrationTrace], since: Version | None = None) -> int:
    return EXIT_OK if all(trace.ok or _excused(trace, since) for trace in traces) else EXIT_FINDINGS


def _excused(trace: MigrationTrace, since: Version | None) -> bool:
    """A migration older than the ``since`` line that applied: its lock findings do not fail."""
    version = trace.migration.version
    return since is not None and trace.error is None and bool(version.text) and version < since


def _since(args: argparse.Namespace) -> Version | None:
    """``--since``, else ``[tool.pytest-migrations] since``."""
    from migration_lint.session import parse_since

    from ..config import ConfigError, read_tool_config

    given = getattr(args, "since", None)
    try:
        value = given if given is not None else read_tool_config(getattr(args, "config", None)).get_str("since")
        return parse_since(value) if value is not None else None
    except ConfigError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:
        raise UsageError(f"{'--since' if given is not None else '[tool.pytest-migrations] since'}: {error}") from None


def _error(message: str, json_mode: bool) -> None:
    if json_mode:
        sys.stdout.write(json.dumps({"errors": [message], "exit_code": None}) + "\n")
    sys.stderr.write(f"error: {message}\n")


def _load(args: argparse.Namespace) -> tuple[list[Migration], list[Migration]]:
    directory = _directory(args)
    layout = _layout(args)
    migrations = _discover(directory, layout)
    to = getattr(args, "to", None)
    if to:
        try:
            limit = Version.parse(to, migrations[0].version.scheme if migrations else "numeric")
        except ValueError:
            raise UsageError(f"--to {to!r}: not a version") from None
        if not any(migration.version == limit for migration in migrations):
            raise UsageError(f"--to {to}: no migration with this version in {directory}")
        migrations = [migration for migration in migrations if migration.version <= limit]
    before = [migration for path in (getattr(args, "after", None) or ()) for migration in _discover(path)]
    return migrations, before


def _lock_timeout(args: argparse.Namespace) -> str:
    """The deploy's lock_timeout: ``--lock-timeout``, else the runner's, else ``"0"``."""
    from ..config import ConfigError

    given = getattr(args, "lock_timeout", None)
    try:
        if given is not None:  # '' is the runner's "none"
            return check_lock_timeout(given) if str(given).strip() else "0"
        found = runner_lock_timeout(getattr(args, "config", None))
    except LockTimeoutError as error:
        raise UsageError(f"--lock-timeout: {error}" if given is not None else str(error)) from None
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return found[0] if found else "0"


def _directory(args: argparse.Namespace) -> Path:
    given = getattr(args, "dir", None) or os.environ.get(DIR_ENV)
    if given:
        return Path(given)
    from ..config import ConfigError, read_tool_config

    try:
        config = read_tool_config(getattr(args, "config", None))
        configured = config.resolve_path("dir")
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return configured or Path("migrations")


def _layout(args: argparse.Namespace) -> str | None:
    """``--layout``, else ``layout`` of ``[tool.pytest-migrations]``, else ``None`` (detected)."""
    given = getattr(args, "layout", None)
    if given:
        return given
    from ..config import ConfigError, read_tool_config

    try:
        return read_tool_config(getattr(args, "config", None)).get_str("layout")
    except ConfigError as error:
        raise UsageError(str(error)) from None


def _discover(directory: Path, layout: str | None = None) -> list[Migration]:
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory of migrations")
    try:
        migrations = discover(directory, layout)
    except MigrationFileError as error:
        raise UsageError(str(error)) from None
    except ValueError as error:  # an unknown --layout
        raise UsageError(f"--layout: {error}") from None
    for migration in migrations:
        for statement in migration.up.parse_errors:
            message = statement.error.message if statement.error else "syntax error"
            raise UsageError(f"{migration.up.path}:{statement.line}: PostgreSQL cannot parse this: {message}")
    return migrations


class _ServerError(PytestMigrationsError):
    pass


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class TerminalProgress:
    """One line on a terminal, rewritten in place, saying which migration is being traced: a
    long directory otherwise prints nothing until the report. Only for a terminal (the caller
    checks), so logs and pipes get the report alone."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._shown = False

    def __call__(self, done: int, total: int, migration: Migration) -> None:
        width = len(str(total))
        self.stream.write(f"\r\x1b[Ktracing [{done + 1:>{width}}/{total}] {migration.id}")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


@contextmanager
def _throwaway_database(dsn: str | None, migrations: Sequence[Migration] = ()) -> Iterator[tuple[str, int]]:
    """A fresh database on the server at ``dsn``, else on the embedded one, or, when the
    ``migrations`` create an extension that one lacks, on a local PostgreSQL install's that has it."""
    from migration_lint.extensions import created_extensions

    from ..database import DatabaseError, DsnServer, InvalidDsn, embedded_server, server_for_extensions

    try:
        given = DsnServer(dsn) if dsn else embedded_server()
        server = server_for_extensions(given, created_extensions(migrations), replaceable=not dsn)
        with given, server.fresh_database() as database:
            yield database.dsn, server.major
    except InvalidDsn as error:
        raise UsageError(str(error)) from None
    except DatabaseError as error:
        raise _ServerError(str(error)) from None


def _trace_all(
    migrations: Sequence[Migration],
    before: Sequence[Migration],
    dsn: str | None,
    trace_rows: int,
    lock_timeout: str | None = None,
    progress: Callable[[int, int, Migration], None] | None = None,
) -> list[MigrationTrace]:
    traces: list[MigrationTrace] = []
    with _throwaway_database(dsn, [*before, *migrations]) as (database_dsn, _major):
        for migration in before:
            applied = trace_migration(database_dsn, migration, static=False)
            if applied.error:
                raise UsageError(f"cannot apply --after migration {migration.id}: {applied.error}")
        walker = TraceWalker(database_dsn, migrations, trace_rows=trace_rows, lock_timeout=lock_timeout, applied=before)
        for index, migration in enumerate(migrations):
            if progress is not None:
                progress(index, len(migrations), migration)
            trace = walker.result_for(migration)
            traces.append(trace)
            if trace.error:
                break
    return traces


def trace_directory(
    directory: Path | str,
    *,
    dsn: str | None = None,
    to: str | None = None,
    trace_rows: int = 0,
    after: Sequence[Path | str] = (),
    lock_timeout: str | None = "0",
) -> list[MigrationTrace]:
    """Trace every migration of ``directory`` (up to ``to``) on a throwaway database, in order.

    ``dsn`` names the server to use (default: the embedded one); ``after`` are directories whose
    migrations are applied first, untraced. Stops after the first migration that fails.
    Raises :class:`UsageError` for unreadable input.
    """
    args = argparse.Namespace(dir=str(directory), to=to, after=[Path(p) for p in after], config=None)
    migrations, before = _load(args)
    try:
        return _trace_all(migrations, before, dsn, trace_rows, lock_timeout)
    except _ServerError as error:
        raise UsageError(str(error)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pytest_migrations.trace``: the trace command on its own."""
    parser = argparse.ArgumentParser(prog="migrations trace", description=__doc__.split("\n\n")[0])
    add_trace_arguments(parser)
    return run_trace_command(parser.parse_args(argv))
