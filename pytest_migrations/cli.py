"""``migrations``: apply, roll back, check and inspect plain-SQL migrations from a shell or a pipeline.

Exit codes: 0 ok; 1 a migration failed, a check failed or the database disagrees with the files;
2 bad usage or bad input (arguments, settings, migration files that do not read or parse).
Settings: command line > environment (``MIGRATIONS_DIR``, ``MIGRATIONS_DATABASE_URL``) >
``[tool.pytest-migrations]`` in ``pyproject.toml`` > defaults. No output ever shows a DSN password.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Sequence

import psycopg

from migration_lint.layouts import LAYOUTS

from .config import ConfigError, read_tool_config
from .pgerrors import describe
from .runner import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    Event,
    InputError,
    Runner,
    RunnerError,
    RunnerSettings,
    RunReport,
    ValidationFailed,
    new_migration,
)
from .runner._errors import display_path
from .fleet._cli import add_fleet_arguments, refuse_fleet_options, run_fleet_command, wants_fleet
from .gendown import add_gen_down_arguments, run_gen_down_command
from .trace import add_trace_arguments, run_trace_command

DIR_ENV = "MIGRATIONS_DIR"
DSN_ENV = "MIGRATIONS_DATABASE_URL"
DEBUG_ENV = "MIGRATIONS_DEBUG"

EPILOG = """\
exit codes: 0 ok; 1 a migration failed, a check failed, or the database disagrees with the
files; 2 bad usage or input (arguments, settings, migration files that do not parse).

settings: command line > MIGRATIONS_DIR / MIGRATIONS_DATABASE_URL > [tool.pytest-migrations]
in pyproject.toml (dir, database_url, tracking_schema, tracking_table, history_table,
lock_timeout, statement_timeout, lock_wait, layout) > defaults.
"""


class Output:
    """Prints text or collects one JSON document.

    It does not search what it prints for a password: every message that shows a DSN masks
    its password where it is made (``redact_dsn``, ``dsn_error``).
    """

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode
        self.document: dict[str, Any] = {}
        self.pending_line = False

    def line(self, text: str = "", *, end: str = "\n") -> None:
        if self.json_mode:
            return
        sys.stdout.write(text + end)
        sys.stdout.flush()
        self.pending_line = end != "\n"

    def note(self, text: str) -> None:
        if self.json_mode:
            self.document.setdefault("notes", []).append(text)
            return
        self._break_line()
        sys.stderr.write(text + "\n")

    def error(self, text: str) -> None:
        if self.json_mode:
            self.document.setdefault("errors", []).append(text)
            return
        self._break_line()
        sys.stderr.write("error: " + text + "\n")
        sys.stderr.flush()

    def _break_line(self) -> None:
        if self.pending_line:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self.pending_line = False

    def finish(self, exit_code: int) -> int:
        if self.json_mode:
            self.document["exit_code"] = exit_code
            self.document["ok"] = exit_code == EXIT_OK
            sys.stdout.write(json.dumps(self.document, indent=2, default=_json_default) + "\n")
        return exit_code


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _common_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--dir", default=default, help=f"migrations directory (env {DIR_ENV}; default: migrations)")
    parser.add_argument("--database-url", default=default, help=f"PostgreSQL DSN (env {DSN_ENV})")
    parser.add_argument("--format", choices=("text", "json"), default=default, help="output format (default: text)")
    parser.add_argument("--schema", default=default, help="schema of the tracking tables (default: public)")
    parser.add_argument("--table", default=default, help="current-state table (default: applied_migrations)")
    parser.add_argument("--history-table", default=default, help="history table (default: migration_history)")
    parser.add_argument("--lock-timeout", default=default, help="lock_timeout per migration unless the file sets one (default: 10s; for trace, the deploy's: that of [tool.pytest-migrations] if present, else none; '' for none)")
    parser.add_argument("--statement-timeout", default=default, help="statement_timeout per migration unless the file sets one (default: none)")
    parser.add_argument("--lock-wait", type=float, default=default, help="seconds to wait for another runner's lock (default: 300)")
    parser.add_argument("--config", type=Path, default=default, help="pyproject.toml to read (default: nearest one)")
    parser.add_argument("--layout", default=default, metavar="NAME",
                        help=f"read the directory as this tool does ({', '.join(layout.name for layout in LAYOUTS)}; default: detected)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="migrations",
        description="Apply and roll back plain-SQL PostgreSQL migrations, with tracking, a lock and checks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=EPILOG,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        _common_options(sub, suppress=True)
        return sub

    def applying(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--dry-run", action="store_true", help="print the plan and its exact SQL; change nothing")
        sub.add_argument("--retries", type=int, default=0, help="retry a migration that hit lock_timeout N times")
        sub.add_argument("--no-lint", action="store_true", help="do not block on lint errors (only UPs are linted)")

    status = command("status", "every migration: applied, pending, dirty, edited or missing; exit 1 on disagreement")
    add_fleet_arguments(status, "status")
    up = command("up", "apply pending migrations in order")
    add_fleet_arguments(up, "up")
    up.add_argument("--to", metavar="VERSION", help="stop after this version")
    up.add_argument("--allow-out-of-order", action="store_true", help="apply pending versions older than the newest applied one")
    applying(up)
    down = command("down", "roll back applied migrations with their DOWN scripts, newest first")
    which = down.add_mutually_exclusive_group()
    which.add_argument("--steps", type=int, help="how many migrations to roll back (default: 1)")
    which.add_argument("--to", metavar="VERSION", help="roll back every migration after VERSION (0: all)")
    add_fleet_arguments(down, "down")
    applying(down)
    redo = command("redo", "roll back the newest applied migration and apply it again")
    applying(redo)
    history = command("history", "the log of every up, down, baseline and repair ever run")
    history.add_argument("--limit", type=int, help="only the newest N entries")
    verify = command("verify", "deploy gate: files match their checksums, nothing pending, dirty or missing")
    add_fleet_arguments(verify, "verify")
    new = command("new", "write the next migration file from a template")
    new.add_argument("name", help="what the migration does, e.g. add_orders_status")
    repair = command("repair", "clear dirty records after fixing the database by hand")
    repair.add_argument("--mark", choices=("applied", "pending"), help="what the dirty migration now is (default: pending after a failed up, applied after a failed down)")
    repair.add_argument("--update-checksums", action="store_true", help="accept the current checksum of edited applied files")
    repair.add_argument("--forget-missing", action="store_true", help="remove the records of applied migrations whose files are gone")
    baseline = command("baseline", "record every migration up to VERSION as applied, without running them")
    baseline.add_argument("version", metavar="VERSION")
    trace = command("trace", "run migrations on a throwaway database and report the locks, rewrites and scans each statement takes")
    add_trace_arguments(trace)
    gen_down = command("gen-down", "write the DOWN scripts migrations lack (or replace failing ones), each proven by its round trip first")
    add_gen_down_arguments(gen_down)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `migrations history | head`: the reader left, which is fine
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, or a usage error already printed
        return exit.code if isinstance(exit.code, int) else EXIT_USAGE
    if args.command == "trace":  # prints its own text or JSON document
        return run_trace_command(args)
    if args.command == "gen-down":  # a throwaway server of its own, like trace
        return run_gen_down_command(args)
    output = Output(getattr(args, "format", None) == "json")
    output.document["command"] = args.command
    try:
        code = _dispatch(args, output)
    except ValidationFailed as failure:
        for problem in failure.problems:
            output.error(problem.line)
        code = failure.exit_code
    except RunnerError as error:
        if error.report is not None:
            _report_results(error.report, output)
        output.error(error.line)
        code = error.exit_code
    except ConfigError as error:
        output.error(str(error))
        code = EXIT_USAGE
    except psycopg.Error as error:  # the runner's own SQL failed where no step expected it
        output.error(f"database error: {describe(error)}")
        code = EXIT_FAILED
    except KeyboardInterrupt:
        output.error("interrupted")
        code = 130
    except BrokenPipeError:
        raise
    except Exception as error:  # one line, never a traceback (that could show a DSN)
        if os.environ.get(DEBUG_ENV):
            raise
        output.error(f"internal error: {type(error).__name__}: {' '.join(str(error).split())}")
        code = EXIT_FAILED
    return output.finish(code)


def _dispatch(args: argparse.Namespace, output: Output) -> int:
    config = read_tool_config(getattr(args, "config", None))
    directory = (
        Path(args.dir) if getattr(args, "dir", None)
        else Path(os.environ[DIR_ENV]) if os.environ.get(DIR_ENV)
        else config.resolve_path("dir") or Path("migrations")
    )
    if args.command == "new":
        try:
            written = new_migration(directory, args.name, layout=_layout(args, config))
        except OSError as error:  # e.g. a name longer than the file system allows
            where = f" {error.filename}" if error.filename else ""
            raise InputError(f"cannot write{where}: {error.strerror or error}") from None
        output.document["files"] = [str(path) for path in written]
        for path in written:
            output.line(f"created {display_path(path)}")
        return EXIT_OK

    dsn = getattr(args, "database_url", None) or os.environ.get(DSN_ENV) or config.get_str("database_url")
    if wants_fleet(args):
        return run_fleet_command(args, directory, _settings(args, config), output, config=config, database_url=dsn)
    refuse_fleet_options(args)
    if not dsn:
        raise InputError(
            f"no database: pass --database-url, set {DSN_ENV}, or set database_url in [tool.pytest-migrations]"
        )
    with Runner(directory, dsn, _settings(args, config), on_event=_progress(output)) as runner:
        handler = _HANDLERS[args.command]
        return handler(runner, args, output)


def _settings(args: argparse.Namespace, config: Any) -> RunnerSettings:
    lock_timeout = getattr(args, "lock_timeout", None)
    statement_timeout = getattr(args, "statement_timeout", None)
    retries = getattr(args, "retries", None)
    return RunnerSettings.from_config(
        config,
        schema=getattr(args, "schema", None),
        table=getattr(args, "table", None),
        history_table=getattr(args, "history_table", None),
        lock_timeout=lock_timeout,
        statement_timeout=statement_timeout,
        lock_wait=getattr(args, "lock_wait", None),
        retries=retries,
        allow_out_of_order=getattr(args, "allow_out_of_order", None) or None,
        lint=False if getattr(args, "no_lint", False) else None,
        layout=_layout(args, config),
    )


def _layout(args: argparse.Namespace, config: Any) -> str | None:
    return getattr(args, "layout", None) or config.get_str("layout")


def _progress(output: Output) -> Callable[[Event], None]:
    def show(event: Event) -> None:
        if event.kind == "lock-wait":
            output.note(event.message + " ...")
        elif event.kind == "start" and event.step is not None:
            verb = "applying" if event.step.direction == "up" else "rolling back"
            output.line(f"{verb} {event.step.label} ...", end=" ")
        elif event.kind == "done":
            output.line(f"ok ({_duration(event.duration_ms)})")
        elif event.kind == "retry":
            output.line("lock timeout")
            output.note(f"retry: {event.message}")
        elif event.kind == "failed":
            output.line("FAILED")
        elif event.kind == "note":
            output.note(f"note: {event.message}")

    return show


def _duration(milliseconds: int | None) -> str:
    if milliseconds is None:
        return "-"
    return f"{milliseconds} ms" if milliseconds < 10_000 else f"{milliseconds / 1000:.1f} s"


# -- commands ------------------------------------------------------------------------------------


def _status(runner: Runner, args: argparse.Namespace, output: Output) -> int:
    entries = runner.status()
    loaded = runner.loaded
    how = "detected" if loaded.detected else "chosen"
    output.document["layout"] = {"name": loaded.layout.name, "detected": loaded.detected,
                                 "transaction_rule": loaded.layout.transaction_rule}
    output.document["ignored"] = [{"path": str(path), "why": why} for path, why in loaded.ignored]
    output.document["warnings"] = [str(warning) for warning in loaded.warnings]
    output.line(f"layout: {loaded.layout.spec} ({how}; {loaded.layout.tool})")
    for path, why in loaded.ignored:
        output.line(f"ignored: {display_path(path)}: {why}")
    for warning in loaded.warnings:
        output.line(f"warning: {warning}")
    output.document["migrations"] = [
        {
            "version": e.version, "name": e.name, "state": e.state,
            "path": str(e.path) if e.path else None,
            "applied_at": e.record.applied_at if e.record else None,
            "applied_by": e.record.applied_by if e.record else None,
            "execution_ms": e.record.execution_ms if e.record else None,
            "detail": e.detail,
        }
        for e in entries
    ]
    rows = [("version", "name", "state", "applied at", "duration")]
    for e in entries:
        applied_at = e.record.applied_at.strftime("%Y-%m-%d %H:%M:%S") if e.record and e.record.applied_at else ""
        duration = _duration(e.record.execution_ms) if e.record and e.record.execution_ms is not None else ""
        rows.append((e.version, e.name, e.state, applied_at, duration))
    _table(output, rows)
    for e in entries:
        if e.disagrees:
            output.line(f"{e.version}_{e.name}: {e.state}: {e.detail}")
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.state] = counts.get(e.state, 0) + 1
    output.line(", ".join(f"{count} {state}" for state, count in counts.items()) or "no migrations")
    return EXIT_FAILED if any(e.disagrees for e in entries) else EXIT_OK


def _table(output: Output, rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        output.line("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _report(report: RunReport, output: Output) -> int:
    doc = output.document
    doc["dry_run"] = report.dry_run
    doc["plan"] = [
        {"id": s.label, "version": s.migration.version.text, "name": s.migration.name,
         "direction": s.direction, "transactional": s.transactional, "path": str(s.section.path)}
        for s in report.plan.steps
    ]
    _report_results(report, output)
    lint = report.lint
    if lint is not None:
        doc["lint"] = {"status": lint.status, "reason": lint.reason, "findings": [str(f) for f in lint.findings]}
        if not report.dry_run:
            for finding in lint.findings:
                if not finding.is_error:  # errors stopped the run and are reported as problems
                    output.note(f"lint: {finding}")
    if report.dry_run:
        doc["sql"] = report.sql
        doc["problems"] = [p.line for p in report.problems]
        output.line(f"dry run: {report.action}, {len(report.plan.steps)} step(s); nothing will be changed")
        for step in report.plan.steps:
            mode = "transaction" if step.transactional else "no transaction"
            output.line(f"  {step.direction:<4} {step.label}  ({display_path(step.section.path)}, {mode})")
        if lint is not None:
            summary = (
                f"{len(lint.findings)} finding(s), {len(lint.errors)} error(s)" if lint.status == "findings"
                else lint.status + (f" ({lint.reason})" if lint.reason else "")
            )
            output.line(f"lint: {summary}")
            for finding in lint.findings:
                output.line(f"  {finding}")
        if report.problems:
            output.line(f"validation: {len(report.problems)} problem(s); a real run would refuse")
            for problem in report.problems:
                output.line(f"  {problem.line}")
        else:
            output.line("validation: ok")
        output.line("-- SQL, in the order a real run sends it:")
        for text in report.sql:
            output.line(text)
        return report.exit_code
    if not report.results:
        output.line(f"nothing to {'apply' if report.action == 'up' else 'roll back'}")
    else:
        total = sum(r.duration_ms for r in report.results)
        verb = {"up": "applied", "down": "rolled back", "redo": "redone"}[report.action]
        count = len(report.results) if report.action != "redo" else 1
        output.line(f"{verb} {count} migration(s) in {_duration(total)}")
    return EXIT_OK


def _report_results(report: RunReport, output: Output) -> None:
    output.document["results"] = [
        {"id": r.migration.id, "version": r.migration.version.text, "direction": r.direction,
         "outcome": r.outcome, "duration_ms": r.duration_ms, "attempts": r.attempts}
        for r in report.results
    ]


def _up(runner: Runner, args: argparse.Namespace, output: Output) -> int:
    for warning in runner.loaded.warnings:  # an empty file would otherwise be applied as a silent no-op
        output.note(f"warning: {warning}")
    return _report(runner.up(to=args.to, dry_run=args.dry_run), output)


def _down(runner: Runner, args: argparse.Namespace, output: Output) -> int:
    return _report(runner.down(steps=args.steps, to=args.to, dry_run=args.dry_run), output)


def _redo(runner: Runner, args: argparse.Namespace, output: Output) -> int:
    return _report(runner.redo(dry_run=args.dry_run), output)


def _history(runner: Runner, args: argparse.Namespace, output: Output) -> int:
    records = runner.history(args.limit)
    output.document["history"] = [record.__dict__ for record in records]
    rows = [("when", "version", "name", "direction", "outcome", "duration", "by", "message")]
    for r in records:
        rows.append((
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"), r.version or "", r.name or "", r.direction,
            r.outcome, _duration(r.duration_ms) if r.duration_ms is not None else "",
            f"{r.run_by} ({r.db_user})", " ".join((r.message or "").split()),
        ))
    _table(output, rows)
    return EXIT_OK


def _verify(runner: Runner, args: argparse.Namespace, output: Output) -> int:
    problems = runner.verify()
    output.document["problems"] = [p.line for p in problems]
    for problem in problems:
        output.line(problem.line)
    if problems:
        output.line(f"verify failed: {len(problems)} problem(s)")
        return EXIT_FAILED
    output.line(f"verify ok: {len(runner.migrations)} migration(s) applied, files match their checksums")
    return EXIT_OK


def _repair(runner: Runner, args: argparse.Namespace, output: Output) -> int:
    changes = runner.repair(mark=args.mark, update_checksums=args.update_checksums, forget_missing=args.forget_missing)
    output.document["changes"] = changes
    for change in changes:
        output.line(change)
    if not changes:
        output.line("nothing to repair")
    return EXIT_OK


def _baseline(runner: Runner, args: argparse.Namespace, output: Output) -> int:
    recorded = runner.baseline(args.version)
    output.document["baselined"] = [m.id for m in recorded]
    for migration in recorded:
        output.line(f"baselined {migration.id} (recorded as applied, not run)")
    output.line(f"baseline {args.version}: {len(recorded)} migration(s) recorded")
    return EXIT_OK


_HANDLERS: dict[str, Callable[[Runner, argparse.Namespace, Output], int]] = {
    "status": _status,
    "up": _up,
    "down": _down,
    "redo": _redo,
    "history": _history,
    "verify": _verify,
    "repair": _repair,
    "baseline": _baseline,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
