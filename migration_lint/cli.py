"""``migration-lint``: lint PostgreSQL migrations written in plain SQL.

Exit status: 0 nothing at error severity, 1 findings at error severity, 2 usage or input error.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Any, Sequence

from . import __version__

_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", ".venv", "target", "build", "dist"})


class UsageError(Exception):
    """Bad input on the command line or in a file: one line, exit status 2."""


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal width the way ``shutil.get_terminal_size`` finds
    it: argparse makes a formatter for every argument it adds, and left to itself each one
    imports ``shutil`` (with its compression modules) to ask."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _terminal_columns() - 2 if width is None else width)


def _terminal_columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-lint",
        formatter_class=_HelpFormatter,
        description="Find dangerous operations in PostgreSQL migrations written in plain SQL.",
        epilog="Exit status: 0 clean, 1 findings at error severity, 2 usage or input error.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="migration directories or SQL files (layouts auto-detected); '-' reads stdin")
    parser.add_argument("--format", choices=("text", "json", "gcc", "sarif", "github", "gitlab"),
                        help="output format (default: text; github when GITHUB_ACTIONS=true)")
    parser.add_argument("--select", help="comma-separated rules (codes, prefixes, names or ALL) replacing the default set")
    parser.add_argument("--extend-select", help="comma-separated rules to add to the selection (e.g. opt-in style rules)")
    parser.add_argument("--ignore", help="comma-separated rules to leave out")
    parser.add_argument("--pg-version", help="target PostgreSQL major version (default 13, or from configuration)")
    parser.add_argument("--assume-in-transaction", action="store_true", default=None,
                        help="assume the migration tool wraps each file in a transaction")
    parser.add_argument("--no-assume-in-transaction", dest="assume_in_transaction", action="store_false",
                        help="override assume-in-transaction from the configuration")
    parser.add_argument("--config", type=Path, help="configuration file (default: nearest .migration-lint.toml or pyproject.toml)")
    parser.add_argument("--stdin-filename", help="file name to report (and to find context) for '-'")
    parser.add_argument("--fix", action="store_true", help="apply the suggested mechanical rewrites to the files")
    parser.add_argument("--diff", action="store_true", help="print the rewrites --fix would make as a unified diff; change nothing")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the findings cache")
    parser.add_argument("--jobs", type=int, default=0, metavar="N",
                        help="lint directories in N processes (default 0: one per core, "
                             f"once there are {_PARALLEL_MIN_FILES}+ files to lint cold; 1: never fork)")
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    parser.add_argument("--explain", metavar="RULE", help="print the documentation of a rule and exit")
    parser.add_argument("--generate-docs", metavar="DIR", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--layout", metavar="NAME",
                        help="read migration directories as this tool does, e.g. sqlx, golang-migrate, goose, diesel"
                             " (every name: docs/layouts.md; default: detected per directory)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="say which layout each directory has, which files its tool ignores, and load warnings")
    parser.add_argument("--dialect", choices=("postgres", "mysql", "sqlite"),
                        help="SQL dialect (default: postgres, or from configuration); mysql and sqlite are read by sqlglot")
    parser.add_argument("--version", action="version", version=f"migration-lint {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["server"]:  # `migration-lint server`: the language server (a directory: ./server)
        try:
            from .server import main as server_main
        except ImportError as error:
            print(f"migration-lint: the language server needs pygls ({error}); pip install 'pytest-migrations[lsp]'",
                  file=sys.stderr)
            return 2
        return server_main(arguments[1:])
    args = _parser().parse_args(arguments)
    # A run allocates hundreds of thousands of dicts (parse trees) and frees them by reference
    # counting; the cyclic collector would only walk them over and over (a tenth of a cold run).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    except UsageError as error:
        print(f"migration-lint: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    finally:
        if collecting:
            gc.enable()


def _split(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _configure(args: argparse.Namespace) -> Any:
    from .config import ConfigError, config_from_dict, find_config, load_config, parse_pg_version

    try:
        if args.config is not None:
            if not args.config.is_file():
                raise UsageError(f"{args.config}: configuration file not found")
            config = load_config(args.config)
        else:
            start = Path(args.paths[0]) if args.paths and args.paths[0] != "-" else Path.cwd()
            config = load_config(find_config(start if start.exists() else Path.cwd()))
        overrides = config_from_dict({
            key: value for key, value in {
                "select": _split(args.select) if args.select is not None else None,
                "extend-select": _split(args.extend_select) or None,
                "ignore": _split(args.ignore) or None,
            }.items() if value is not None
        }, Path("command line"))
        if args.select is not None:
            config.select = overrides.select
        config.extend_select += overrides.extend_select
        config.ignore += overrides.ignore
        if args.pg_version is not None:
            config.pg_version = parse_pg_version(args.pg_version)
        if args.assume_in_transaction is not None:
            config.assume_in_transaction = args.assume_in_transaction
        if args.dialect is not None:
            config.dialect = args.dialect
        if args.layout is not None:
            from .config import parse_layout

            config.layout = parse_layout(args.layout)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return config


class _Run:
    """What one run has gathered so far (a plain class: a dataclass costs start-up time)."""

    def __init__(self, config: Any, cache: Any, linter: Any = None) -> None:
        self.config = config
        self.cache = cache
        self.linter = linter
        self.findings: list = []
        self.input_errors: list[str] = []
        self.sources: dict[Path, str] = {}
        self.files_checked = 0
        self.notes: list[str] = []  # files skipped as not migrations; with --verbose, what each layout read

    def get_linter(self) -> Any:
        if self.linter is None:
            from .config import ConfigError
            from .dialects import make_linter

            try:
                self.linter = make_linter(self.config, self.config.dialect, self.sources)
            except ConfigError as error:
                raise UsageError(str(error)) from None
        return self.linter


def _run(args: argparse.Namespace) -> int:
    if args.list_rules:
        return _list_rules()
    if args.explain:
        return _explain(args.explain)
    if args.generate_docs:
        from .docs import write_docs

        for path in write_docs(args.generate_docs):
            print(path)
        return 0
    if not args.paths:
        raise UsageError("no PATH given (a migrations directory, SQL files, or '-' for stdin); see --help")
    config = _configure(args)
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    if args.fix:
        # Apply, re-lint, apply again: one rule's rewrite may make room for another's.
        for _ in range(5):
            run = _lint_all(args, config)
            findings = _sorted_findings(run, config)
            if run.input_errors or not _apply_fixes(run, findings, write=True):
                break
    else:
        run = _lint_all(args, config)
        findings = _sorted_findings(run, config)
        if args.diff:
            _apply_fixes(run, findings, write=False)

    from .report import ReportContext, render

    # Texts already read: given on stdin, or read by this process's linter.
    known = [run.sources] + ([run.linter._sources] if run.linter is not None else [])
    texts: dict[str, str] = {}

    def source_of(path: str) -> str:
        text = texts.get(path)
        if text is None:
            key = Path(path)
            text = next((sources[key] for sources in known if key in sources), None)
            if text is None:
                from .model import read_sql_file

                try:
                    text = read_sql_file(key)
                except Exception:
                    text = ""
            texts[path] = run.sources[key] = text
        return text

    color = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    rule_classes: list = []
    if fmt == "sarif":
        from .dialects.rules import rule_class_of

        rule_classes = [rule_class_of(code, config.dialect) for code in sorted({f.code for f in findings})]
    render(fmt, findings, sys.stdout, ReportContext(source_of, color, run.files_checked, not args.fix, rule_classes,
                                                     len(run.input_errors)))
    for message in run.notes:
        print(f"migration-lint: {message}", file=sys.stderr)
    for message in run.input_errors:
        print(f"migration-lint: {message}", file=sys.stderr)
    if run.input_errors:
        return 2
    return 1 if any(f.severity == "error" for f in findings) else 0


def _lint_all(args: argparse.Namespace, config: Any) -> _Run:
    cache = None
    if not args.no_cache and not args.fix and "-" not in args.paths:
        from .cache import CACHE_DIR_NAME, Cache

        base = config.source.parent if config.source else Path.cwd()
        cache = Cache(base / CACHE_DIR_NAME, config.cache_key())
    run = _Run(config, cache)
    units = _collect(args.paths, config, run)
    directories = [path for kind, path in units if kind == "dir"]
    fresh = _cold_directories(run, directories)
    jobs = args.jobs or os.cpu_count() or 1
    weights = _parallel_weights(fresh) if jobs > 1 else None
    if weights is not None:
        _lint_directories_in_parallel(run, fresh, weights, jobs)
    else:
        for directory in fresh:
            _lint_directory(run, directory)
    for kind, path in units:
        if kind == "stdin":
            _lint_stdin(run, args.stdin_filename)
        elif kind == "file":
            _lint_file(run, path)
    if args.verbose:
        for directory in directories:
            _describe_directory(run, directory)
    if cache is not None:
        cache.save()
    return run


def _describe_directory(run: _Run, directory: Path) -> None:
    """For ``--verbose``: the layout read, the files its tool ignores, and load warnings."""
    from .layouts import load_directory
    from .model import MigrationFileError

    try:
        loaded = load_directory(directory, run.config.layout)
    except MigrationFileError:
        return  # already reported as an input error
    how = "detected" if loaded.detected else "chosen"
    run.notes.append(f"{directory}: layout {loaded.layout.name} ({how}), {len(loaded.migrations)} migration(s), "
                     f"sections run as {loaded.layout.tool} runs them ({loaded.layout.transaction_rule})")
    run.notes.extend(f"{path}: ignored: {why}" for path, why in loaded.ignored)
    run.notes.extend(f"{warning} (warning)" for warning in loaded.warnings)


def _cold_directories(run: _Run, directories: list[Path]) -> list[Path]:
    """Take the directories the cache has whole; return the others."""
    if run.cache is None:
        return directories
    from .finding import Finding

    missing = []
    for directory in directories:
        cached = run.cache.get_directory(directory)
        if cached is None:
            missing.append(directory)
        else:
            run.findings.extend(map(Finding.from_row, cached["findings"]))
            run.files_checked += cached["files"]
    return missing


_PARALLEL_MIN_FILES = 300


def _parallel_weights(directories: list[Path]) -> list[int] | None:
    """Bytes in each directory (and its subfolders one level down), a measure of how long it
    takes to lint; ``None`` when forking is not worth it (a small run, one core, no fork)."""
    if not directories or (os.cpu_count() or 1) < 2 or not hasattr(os, "fork"):
        return None
    weights = []
    files = 0
    for directory in directories:
        total = 0
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    if entry.is_file():
                        files += 1
                        total += entry.stat().st_size
                    elif entry.is_dir() and not entry.name.startswith("."):
                        with os.scandir(entry.path) as inner:
                            for child in inner:
                                if child.is_file():
                                    files += 1
                                    total += child.stat().st_size
        except OSError:
            pass
        weights.append(total)
    return weights if files >= _PARALLEL_MIN_FILES else None


# The share of a migration's linting that a worker spends on it when it only reads it as context
# for later ones (reading the file, parsing its UP, replaying it): measured on the corpus.
_CONTEXT_COST = 0.4

_Unit = tuple  # (directory index, part, parts): one part of a directory's migrations


def _plan(weights: list[int], workers: int) -> list[list[_Unit]]:
    """The units of work of each worker: heaviest first to the least loaded worker, so that all
    finish at about the same time.

    A directory heavier than a worker's fair share is cut into consecutive parts (a project
    usually keeps all its migrations in one directory). A part's worker also reads the
    migrations before it for context, which costs; :func:`_part_bounds` sizes the parts so that
    each costs the same, the first being the largest.
    """
    fair = max(sum(weights) / workers, 1)
    units: list[tuple[float, _Unit]] = []
    for index, weight in enumerate(weights):
        parts = max(1, min(workers, round(weight / fair)))
        cost = weight * _part_share(parts)
        units.extend((cost, (index, part, parts)) for part in range(parts))
    groups: list[list[_Unit]] = [[] for _ in range(min(workers, len(units)))]
    loads = [0.0] * len(groups)
    for cost, unit in sorted(units, key=lambda item: -item[0]):
        lightest = loads.index(min(loads))
        groups[lightest].append(unit)
        loads[lightest] += cost + 1
    return [sorted(group) for group in groups if group]


def _part_share(parts: int) -> float:
    """The share of its directory's work that each of ``parts`` equal-cost parts takes."""
    if parts == 1:
        return 1.0
    return _CONTEXT_COST / (1 - (1 - _CONTEXT_COST) ** parts)


def _part_bounds(sizes: list[int], parts: int) -> list[int]:
    """Where ``parts`` consecutive parts of migrations of these ``sizes`` begin and end, so that
    each part's own size plus the context cost of the migrations before it are the same."""
    total = sum(sizes) or 1
    share = _part_share(parts)
    bounds = [0]
    done = 0.0
    cumulative = 0
    index = 0
    for _ in range(parts - 1):
        done = done * (1 - _CONTEXT_COST) + share  # fraction covered once this part ends
        while index < len(sizes) and cumulative + sizes[index] / 2 < done * total:
            cumulative += sizes[index]
            index += 1
        bounds.append(index)
    bounds.append(len(sizes))
    return bounds


def _lint_units(run: _Run, directories: list[Path], units: list[_Unit]) -> list[tuple[int, list, list[str]]]:
    """``(files, findings, input errors)`` of each unit, each linted on its own."""
    results = []
    for index, part, parts in units:
        worker = _Run(run.config, None, linter=run.linter)
        _lint_directory(worker, directories[index], part, parts)
        results.append((worker.files_checked, worker.findings, worker.input_errors))
    return results


def _lint_directories_in_parallel(run: _Run, directories: list[Path], weights: list[int], jobs: int) -> None:
    """Lint directories in ``jobs`` processes: this one and ``jobs - 1`` forked children.

    Plain ``os.fork`` and a pipe per child rather than a ``multiprocessing`` pool: the pool's
    imports and start-up cost more than a child's share of a thousand files takes to lint, and
    the parent would sit idle while the pool works. The linter (every rule imported) is built
    before forking, so children share it. A child sends its findings back as ``marshal`` data
    (rows of plain values, same interpreter on both ends: the fastest way across). If a child
    fails, this process lints its share itself.
    """
    import marshal

    from .finding import Finding

    groups = _plan(weights, jobs)
    run.get_linter()
    children = []
    for group in groups[1:]:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no room for another process: do its share here
            os.close(read_end)
            os.close(write_end)
            groups[0].extend(group)
            continue
        if pid == 0:  # the child: lint, send, and leave without running the parent's exit code
            status = 1
            try:
                os.close(read_end)
                results = _lint_units(run, directories, group)
                payload = marshal.dumps([(files, [f.to_row() for f in found], errors) for files, found, errors in results])
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        children.append((pid, read_end, group))
    results = dict(zip(groups[0], _lint_units(run, directories, groups[0])))
    for pid, read_end, group in children:
        with os.fdopen(read_end, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        try:
            received = marshal.loads(payload) if status == 0 else None
        except (EOFError, ValueError, TypeError):
            received = None
        if received is not None and len(received) == len(group):
            results.update(
                (unit, (files, list(map(Finding.from_row, rows)), errors))
                for unit, (files, rows, errors) in zip(group, received)
            )
        else:
            results.update(zip(group, _lint_units(run, directories, group)))
    # Put the parts back together in order: the findings come out as one process would list them.
    for index, directory in enumerate(directories):
        parts = [results[unit] for unit in sorted(unit for unit in results if unit[0] == index)]
        files = sum(part[0] for part in parts)
        found = [finding for part in parts for finding in part[1]]
        errors = [error for part in parts for error in part[2]]
        run.files_checked += files
        run.findings.extend(found)
        run.input_errors.extend(errors)
        if run.cache is not None and not errors:
            run.cache.put_directory(directory, files, [f.to_row() for f in found])


def _sorted_findings(run: _Run, config: Any) -> list:
    findings = _dedupe(run.findings)
    if config.per_file_ignores:
        findings = [f for f in findings if f.code not in config.ignored_for(f.path)]
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.code))
    return findings


def _collect(paths: Sequence[str], config: Any, run: _Run) -> list[tuple[str, Path]]:
    units: list[tuple[str, Path]] = []
    for raw in paths:
        if raw == "-":
            units.append(("stdin", Path("-")))
            continue
        path = Path(raw)
        if not path.exists():
            run.input_errors.append(f"{raw}: no such file or directory")
        elif path.is_dir():
            if config.is_excluded(path) and raw not in (".", ""):
                continue
            found = list(_migration_dirs(path, config, errors=run.input_errors))
            units.extend(("dir", d) for d in found)
        elif config.is_excluded(path):
            continue
        else:
            units.append(("file", path))
    return units


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether ``entry`` is a folder; a symbolic link loop is not (the layout reports it)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _migration_dirs(directory: Path, config: Any, depth: int = 0, errors: list[str] | None = None) -> list[Path]:
    """``directory`` if it holds migrations, else the folders below it that do; a folder that
    cannot be listed is one line in ``errors``."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as error:
        if errors is not None:
            errors.append(f"{directory}: cannot be listed: {(error.strerror or str(error)).lower()}")
        return []
    # Any name ending in .sql counts, file or not: the layout says what a dangling link or a FIFO is.
    has_sql = any(e.name.lower().endswith(".sql") for e in entries)
    subdirs = [e for e in entries if _is_dir(e) and not e.name.startswith(".") and e.name not in _SKIPPED_DIRS]
    if has_sql or any(os.path.isfile(os.path.join(e.path, "up.sql")) for e in subdirs):
        return [directory]
    if depth >= 8:
        return []
    found: list[Path] = []
    for entry in subdirs:
        child = directory / entry.name
        if not config.is_excluded(child):
            found.extend(_migration_dirs(child, config, depth + 1, errors))
    return found


def _lint_directory(run: _Run, directory: Path, part: int = 0, parts: int = 1) -> None:
    """Lint one directory, or with ``parts`` > 1 its ``part``-th share of migrations (the ones
    before it are read for context). The cache, if any, was asked by ``_cold_directories``."""
    from .layouts import discover
    from .model import MigrationFileError

    try:
        migrations = discover(directory, run.config.layout)
    except MigrationFileError as error:
        if not part:  # the first part reports the directory's problems
            run.input_errors.append(str(error))
        return
    if not migrations and not part:
        # Not a migration history: SQL scripts (no versions, no headings), each linted on its own.
        for path in sorted(directory.glob("*.sql")):
            if path.is_file() and not run.config.is_excluded(path):
                _lint_file(run, path)
        return
    wanted = [m for m in migrations if not any(run.config.is_excluded(p) for p in m.paths)]
    if parts > 1:
        sizes = [len(m.up.sql) + (len(m.down.sql) if m.down is not None else 0) for m in migrations]
        bounds = _part_bounds(sizes, parts)
        mine = {id(m) for m in migrations[bounds[part] : bounds[part + 1]]}
        migrations = migrations[: bounds[part + 1]]
        wanted = [m for m in wanted if id(m) in mine]
    try:
        found = _lint_with_cache(run, migrations, wanted)
    except MigrationFileError as error:  # SQL that sqlglot cannot parse (--dialect mysql|sqlite)
        run.input_errors.append(str(error))
        return
    files = sum(len(m.paths) for m in wanted)
    run.files_checked += files
    run.findings.extend(found)
    if run.cache is not None:
        run.cache.put_directory(directory, files, [f.to_row() for f in found])


def _migration_keys(migrations: Sequence[Any]) -> dict[int, str]:
    from .cache import content_key

    keys: dict[int, str] = {}
    previous = ""
    for migration in migrations:
        previous = content_key(
            previous, migration.layout, migration.transaction_rule, str(migration.no_transaction_marker),
            str(migration.down_no_transaction_marker), str(migration.version.text),
            *(str(p) for p in migration.paths), migration.up.sql,
            "" if migration.down is None else migration.down.sql,
            "" if migration.down is None else str(migration.down.commented_out),
        )
        keys[id(migration)] = "m:" + previous
    return keys


def _lint_with_cache(run: _Run, migrations: Sequence[Any], wanted: Sequence[Any]) -> list:
    from .finding import Finding

    keys = _migration_keys(migrations) if run.cache is not None else {}
    found: list = []
    missing = []
    for migration in wanted:
        cached = run.cache.get(keys[id(migration)]) if run.cache is not None else None
        if cached is None:
            missing.append(migration)
        else:
            found.extend(map(Finding.from_row, cached))
    if missing:
        linter = run.get_linter()
        fresh = linter.lint_migrations(migrations, only=missing)
        if run.cache is not None:
            by_path: dict[str, list] = {}
            for finding in fresh:
                by_path.setdefault(finding.path, []).append(finding.to_row())
            for migration in missing:
                items = [item for p in dict.fromkeys(str(p) for p in migration.paths) for item in by_path.get(p, [])]
                run.cache.put(keys[id(migration)], items)
        found.extend(fresh)
    return found


def _lint_file(run: _Run, path: Path) -> None:
    from .layouts import load_directory, load_file
    from .model import MigrationFileError

    migrations: list = []
    target = None
    try:
        loaded = load_directory(path.parent, run.config.layout)
        migrations = loaded.migrations
        target = next((m for m in migrations if any(p == path or p.resolve() == path.resolve() for p in m.paths)), None)
        if target is None:
            why = next((why for ignored, why in loaded.ignored if ignored.resolve() == path.resolve()), None)
            if why is not None and loaded.migrations:
                run.notes.append(f"{path}: skipped: not a migration of this {loaded.layout.name} directory ({why})")
                return
    except MigrationFileError:
        migrations, target = [], None
    try:
        if target is None:
            target = load_file(path)
            migrations = [target]
    except MigrationFileError as error:
        run.input_errors.append(str(error))
        return

    index = next(i for i, m in enumerate(migrations) if m is target)
    try:
        found = _lint_with_cache(run, migrations[: index + 1], [target])
    except MigrationFileError as error:
        run.input_errors.append(str(error))
        return
    run.files_checked += 1
    wanted = {str(path)} | {str(p) for p in target.paths if p == path}
    run.findings.extend(f for f in found if f.path in wanted or Path(f.path).resolve() == path.resolve())


def _lint_stdin(run: _Run, filename: str | None) -> None:
    from .layouts import load_text
    from .model import MigrationFileError

    data = sys.stdin.buffer.read()
    path = Path(filename or "-")
    if b"\x00" in data:
        run.input_errors.append(f"{path}: is a binary file, not SQL (NUL byte)")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        run.input_errors.append(f"{path}: is not valid UTF-8 (byte offset {error.start})")
        return
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    run.sources[path] = text
    try:
        migration = load_text(text, path)
    except MigrationFileError as error:
        run.input_errors.append(str(error))
        return
    linter = run.get_linter()
    linter._sources[path] = text
    try:
        run.findings.extend(linter.lint_migrations([migration]))
    except MigrationFileError as error:
        run.input_errors.append(str(error))
        return
    run.files_checked += 1


def _dedupe(findings: list) -> list:
    seen = set()
    unique = []
    for finding in findings:
        key = (finding.path, finding.line, finding.column, finding.code, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique


def _apply_fixes(run: _Run, findings: list, *, write: bool) -> bool:
    """Apply (or with ``write=False`` print as a diff) every non-overlapping edit; whether any
    file changed."""
    import difflib

    from .model import read_sql_file

    by_path: dict[str, list] = {}
    for finding in findings:
        if finding.edits:
            by_path.setdefault(finding.path, []).append(finding)
    changed = False
    for path, fixable in by_path.items():
        try:
            original = run.sources.get(Path(path)) or read_sql_file(Path(path))
        except Exception:
            continue
        chosen, taken = [], []
        for finding in sorted(fixable, key=lambda f: f.edits[0].start):
            spans = [(e.start, e.end) for e in finding.edits]
            if any(not (end < s or start > e) for start, end in spans for s, e in taken):
                continue
            taken.extend(spans)
            chosen.append(finding)
        text = original
        for edit in sorted((e for f in chosen for e in f.edits), key=lambda e: e.start, reverse=True):
            text = text[: edit.start] + edit.replacement + text[edit.end :]
        if text == original:
            continue
        changed = True
        if write:
            Path(path).write_text(text, encoding="utf-8")
            run.sources.pop(Path(path), None)
        else:
            sys.stdout.writelines(difflib.unified_diff(
                original.splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=f"a/{path.lstrip('/')}", tofile=f"b/{path.lstrip('/')}",
            ))
    return changed


def _list_rules() -> int:
    from .rules import all_rule_classes

    for cls in all_rule_classes():
        flags = []
        if cls.opt_in:
            flags.append("opt-in")
        if cls.lifecycle != "stable":
            flags.append(cls.lifecycle)
        if cls.fixable:
            flags.append("fix")
        extra = f" ({', '.join(flags)})" if flags else ""
        print(f"{cls.code}  {cls.name:<44} {cls.severity:<8}{extra}  {cls.summary()}")
    return 0


def _explain(rule: str) -> int:
    from .docs import rule_markdown
    from .rules import known_rule

    from .dialects.rules import dialect_only_rule

    cls = known_rule(rule) or dialect_only_rule(rule)
    if cls is None:
        raise UsageError(f"unknown rule {rule!r} (see migration-lint --list-rules)")
    sys.stdout.write(rule_markdown(cls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
