"""``migrations gen-down``: write the DOWN scripts migrations lack, or replace those that fail.

The ``migrations`` CLI adds the arguments with :func:`add_gen_down_arguments` and runs the command
with :func:`run_gen_down_command`. Exit codes: 0 every DOWN asked for was generated, proven and
written; 1 a DOWN is irreversible (unless ``--allow-irreversible``) or failed its round trip (not
written), or the server failed; 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from migration_lint.layouts import discover
from migration_lint.model import Migration, MigrationFileError, Version

from ..errors import PytestMigrationsError
from ._generate import GenerationError, Generated, broken_downs, generate, prove

__all__ = ["add_gen_down_arguments", "run_gen_down_command"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DIR_ENV = "MIGRATIONS_DIR"


class _UsageError(PytestMigrationsError):
    pass


def add_gen_down_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``gen-down`` options; those ``parser`` already has (``--dir``, ``--database-url``,
    ``--config`` from the shared set) are left as they are."""
    _add(parser, "versions", nargs="*", metavar="VERSION", help="the migrations to write a DOWN for")
    _add(parser, "--dir", help=f"migrations directory (env {DIR_ENV}; default: migrations)")
    _add(parser, "--database-url", "--dsn", dest="database_url",
         help="server to generate on: a throwaway database is made there and dropped afterwards"
              " (default: an embedded PostgreSQL 18; MIGRATIONS_DATABASE_URL is not used)")  # fmt: skip
    _add(parser, "--config", type=Path, help="pyproject.toml to read (default: nearest one)")
    _add(parser, "--missing", action="store_true", default=False, help="every migration without a DOWN")
    _add(parser, "--replace-broken", action="store_true", default=False,
         help="every DOWN that fails its round trip (and the VERSIONs named, if their DOWN fails)")  # fmt: skip
    _add(parser, "--dry-run", action="store_true", default=False, help="print each DOWN; write nothing")
    _add(parser, "--diff", action="store_true", default=False, help="print what would change in each file; write nothing")
    _add(parser, "--allow-irreversible", action="store_true", default=False,
         help="exit 0 when a DOWN says it cannot undo everything (it is written either way)")  # fmt: skip
    _add(parser, "--setup-sql", type=Path, default=None,
         help="SQL run on the throwaway database before the first migration (e.g. CREATE EXTENSION ...)")  # fmt: skip


def _add(parser: argparse.ArgumentParser, *flags: str, **kwargs: Any) -> None:
    if any(flag in parser._option_string_actions for flag in flags):
        return
    parser.add_argument(*flags, **kwargs)


def run_gen_down_command(args: argparse.Namespace) -> int:
    """Run ``migrations gen-down`` with parsed ``args``; prints what it did, returns the exit code."""
    from ..database import DatabaseError, DsnServer, InvalidDsn, embedded_server
    from ..roundtrip import SetupSqlError

    try:
        directory = _directory(args)
        migrations = _discover(directory)
        setup_path = getattr(args, "setup_sql", None)
        setup_sql = _read(setup_path) if setup_path else None
        named = _named(migrations, getattr(args, "versions", None) or [])
        if not named and not args.missing and not args.replace_broken:
            raise _UsageError("name the VERSIONs to write a DOWN for, or pass --missing or --replace-broken")
        dsn = getattr(args, "database_url", None)
        server = DsnServer(dsn) if dsn else embedded_server()
    except _UsageError as error:
        return _fail(str(error), EXIT_USAGE)
    except InvalidDsn as error:
        return _fail(str(error), EXIT_USAGE)
    except DatabaseError as error:
        return _fail(str(error), EXIT_FAILED)
    try:
        with server:
            return _run(args, server, migrations, named, setup_sql, setup_path)
    except SetupSqlError as error:
        return _fail(f"set-up SQL failed: {error}", EXIT_USAGE)
    except GenerationError as error:
        return _fail(str(error), EXIT_FAILED)
    except DatabaseError as error:
        return _fail(str(error), EXIT_FAILED)


def _run(args: argparse.Namespace, server: Any, migrations: list[Migration], named: list[Migration],
         setup_sql: str | None, setup_path: Path | None) -> int:  # fmt: skip
    wanted: dict[str, str] = {}  # id -> why
    broken: dict[str, str] = {}
    if args.replace_broken:
        for result in broken_downs(server, migrations, setup_sql=setup_sql, setup_sql_path=setup_path):
            broken[result.migration.id] = result.problems[0].headline if result.problems else "its round trip fails"
    for migration in named:
        if migration.repeatable:
            print(f"{_where(migration)}: a repeatable migration has no DOWN: Flyway applies it again when it"
                  " changes, and never rolls it back")
        elif migration.down is None:
            wanted[migration.id] = "named"
        elif migration.id in broken:
            wanted[migration.id] = f"replaces a DOWN that fails: {broken[migration.id]}"
        elif not args.replace_broken:
            print(f"{_where(migration)}: has a DOWN; pass --replace-broken to replace it if it fails its round trip")
        else:
            print(f"{_where(migration)}: its DOWN passes its round trip: kept")
    if args.missing:
        wanted.update({m.id: "has no DOWN" for m in migrations
                       if m.down is None and not m.repeatable and m.id not in wanted})
    if args.replace_broken and not named:
        wanted.update({id_: f"replaces a DOWN that fails: {why}" for id_, why in broken.items()})
    if not wanted:
        print("nothing to generate")
        return EXIT_OK
    failure = None
    try:
        generated = generate(server, migrations, wanted, setup_sql=setup_sql, setup_sql_path=setup_path)
    except GenerationError as error:  # what came before the failing UP is still given
        generated, failure = error.generated, error
    if generated:
        prove(server, migrations, generated, setup_sql=setup_sql, setup_sql_path=setup_path)
    code = EXIT_OK
    writing = not (args.dry_run or args.diff)
    for item in generated:
        code = max(code, _report(item, wanted[item.migration.id], args, writing))
    if failure is not None:
        code = _fail(str(failure), EXIT_FAILED)
    return code


def _report(item: Generated, why: str, args: argparse.Namespace, writing: bool) -> int:
    where = _where(item.migration)
    statements = len(item.down.statements)
    irreversible = item.irreversible
    if not item.proven and (not irreversible or not _runs(item)):
        print(f"{where}: not written: the generated DOWN fails its round trip")
        for line in (item.proof.report() if item.proof else "").splitlines():
            print(f"  {line}")
        _show(item, args)
        return EXIT_FAILED
    verb = "would write" if not writing else "wrote"
    paths = ", ".join(_display(path) for path in item.placement.files)
    proof = "round trip passed" if item.proven else "round trip fails, as said"
    print(f"{where}: {verb} {paths} ({statements} statement{'s' if statements != 1 else ''}, {proof}; {why})")
    for reason in irreversible:
        print(f"  irreversible: {reason}")
    _show(item, args)
    if writing:
        for path, content in item.placement.files.items():
            try:
                path.write_text(content, encoding="utf-8")
            except OSError as error:
                print(f"{_display(path)}: cannot be written: {error.strerror or error}")
                return EXIT_FAILED
    return EXIT_FAILED if irreversible and not args.allow_irreversible else EXIT_OK


def _runs(item: Generated) -> bool:
    """Whether the DOWN ran, and UP again after it: an irreversible DOWN must at least do that."""
    problems = item.proof.problems if item.proof else []
    return item.proof is not None and not any(
        problem.headline.startswith(("DOWN of", "UP of")) and " failed" in problem.headline for problem in problems
    )


def _show(item: Generated, args: argparse.Namespace) -> None:
    if args.dry_run:
        sys.stdout.write("".join(f"    {line}\n" for line in item.text.rstrip("\n").split("\n")))
    if args.diff:
        for path, content in item.placement.files.items():
            old = path.read_text(encoding="utf-8") if path.exists() else ""
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(keepends=True), content.splitlines(keepends=True),
                fromfile=f"a/{_display(path)}", tofile=f"b/{_display(path)}",
            ))  # fmt: skip


def _where(migration: Migration) -> str:
    return _display(migration.path)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _fail(message: str, code: int) -> int:
    sys.stderr.write(f"error: {message}\n")
    return code


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise _UsageError(f"{path}: cannot be read: {error.strerror or error}") from None


def _directory(args: argparse.Namespace) -> Path:
    given = getattr(args, "dir", None) or os.environ.get(DIR_ENV)
    if given:
        return Path(given)
    from ..config import ConfigError, read_tool_config

    try:
        return read_tool_config(getattr(args, "config", None)).resolve_path("dir") or Path("migrations")
    except ConfigError as error:
        raise _UsageError(str(error)) from None


def _discover(directory: Path) -> list[Migration]:
    if not directory.is_dir():
        raise _UsageError(f"{directory}: not a directory of migrations")
    try:
        migrations = discover(directory)
    except MigrationFileError as error:
        raise _UsageError(str(error)) from None
    for migration in migrations:
        for statement in migration.up.parse_errors:
            message = statement.error.message if statement.error else "syntax error"
            raise _UsageError(f"{migration.up.path}:{statement.line}: PostgreSQL cannot parse this: {message}")
    return migrations


def _named(migrations: Sequence[Migration], versions: Sequence[str]) -> list[Migration]:
    found = []
    for text in versions:
        try:
            version = Version.parse(text)
        except ValueError:
            version = None
        match = [m for m in migrations if m.version == version or m.id == text]
        if not match:
            raise _UsageError(f"{text}: no migration with this version")
        found.extend(match)
    return found
