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

from . import __version__, install_command
from .errors import MigrationLintError

# Listed in --help: argparse knows nothing of it, as main() hands ``server`` over before parsing.
_COMMANDS = f"""commands:
  server        run the language server (LSP over stdio); needs the [lsp] extra:
                {install_command("lsp")}"""


class UsageError(MigrationLintError):
    """Bad input on the command line or in a file: one line, exit status 2."""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
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
        usage="%(prog)s [options] PATH...\n       %(prog)s server [--log-file FILE]",
        description="Find dangerous operations in PostgreSQL migrations written in plain SQL.",
        epilog=_COMMANDS + "\n\nExit status: 0 clean, 1 findings at error severity, 2 usage or input error.",
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
                             "once there are 300+ files to lint cold; 1: never fork)")
    parser.add_argument("--since", metavar="VERSION",
                        help="migrations older than VERSION are linted and reported but never fail, and --fix "
                             "leaves them alone (default: 'since' in the configuration)")
    parser.add_argument("--changed-since", metavar="GIT_REF",
                        help="lint only the migrations whose files changed since GIT_REF (committed or not); "
                             "the others are read for context")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings are at error severity")
    parser.add_argument("--statistics", action="store_true", help="print the number of findings of each rule instead of the findings")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the text output (default auto: on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it)")
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    parser.add_argument("--explain", metavar="RULE", help="print the documentation of a rule and exit")
    parser.add_argument("--generate-docs", metavar="DIR", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dialect", choices=("postgres", "mysql", "sqlite"),
                        help="SQL dialect (default: postgres, or from configuration); mysql and sqlite are read by sqlglot")
    parser.add_argument("--layout", metavar="NAME",
                        help="read migration directories as this tool does, e.g. sqlx, golang-migrate, goose, diesel"
                             " (every name: docs/layouts.md; default: detected per directory)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="say which layout each directory has, which files its tool ignores, and load warnings")
    parser.add_argument("--version", action="version", version=f"migration-lint {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["server"]:  # `migration-lint server`: the language server (a directory: ./server)
        try:
            from .server import main as server_main
        except ImportError as error:
            print(f"migration-lint: the language server needs pygls ({error}); {install_command('lsp')}",
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


def _session(args: argparse.Namespace) -> Any:
    """The lint session: the configuration found once, with the command line's overrides."""
    from .config import ConfigError, config_from_dict, find_config, load_config, parse_pg_version
    from .session import LintSession, parse_since

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
        if args.layout is not None:
            from .config import parse_layout

            config.layout = parse_layout(args.layout)
        since = None
        if args.since is not None:
            try:
                since = parse_since(args.since).text
            except ValueError as error:
                raise UsageError(f"--since: {error}") from None
        changed = None
        if args.changed_since is not None:
            from .changes import ChangesError, changed_since

            try:
                changed = changed_since(args.changed_since, Path.cwd())
            except ChangesError as error:
                raise UsageError(str(error)) from None
        return LintSession(
            config,
            dialect=args.dialect,
            pg_version=parse_pg_version(args.pg_version) if args.pg_version is not None else None,
            assume_in_transaction=args.assume_in_transaction,
            since=since,
            changed=changed,
        )
    except ConfigError as error:
        raise UsageError(str(error)) from None


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
    session = _session(args)
    fmt = args.format or ("github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text")
    notes: list[str] = []
    if args.fix:
        from .fix import apply_fixes

        # Apply, re-lint, apply again: one rule's rewrite may make room for another's.
        for _ in range(5):
            result, findings = _lint(args, session, use_cache=False)
            if result.input_errors or not apply_fixes(findings, result.sources, write=True, protected=session.older_paths,
                                                      since=session.config.since, notes=notes):
                break
            session = _session(args)  # the files changed: read them again
    else:
        result, findings = _lint(args, session, use_cache=not args.no_cache and "-" not in args.paths)
        if args.diff:
            from .fix import apply_fixes

            apply_fixes(findings, result.sources, write=False, protected=session.older_paths,
                        since=session.config.since, notes=notes)
    if args.statistics:
        _print_statistics(findings)
    else:
        _report(args, fmt, session, result, findings)
    if args.verbose:
        notes += _describe_directories(session, result)
    for message in result.notes + notes + result.input_errors:
        print(f"migration-lint: {message}", file=sys.stderr)
    if result.input_errors:
        return 2
    if args.exit_zero:
        return 0
    return 1 if any(f.severity == "error" for f in findings) else 0


def _describe_directories(session: Any, result: Any) -> list[str]:
    """For ``--verbose``: per directory read, the layout, the files its tool ignores, load warnings."""
    from .model import MigrationFileError

    lines = []
    for directory in result.directories:
        try:
            loaded = session.loaded(directory)
        except MigrationFileError:
            continue  # already reported as an input error
        how = "detected" if loaded.detected else "chosen"
        lines.append(f"{directory}: layout {loaded.layout.spec} ({how}), {len(loaded.migrations)} migration(s), "
                     f"sections run as {loaded.layout.tool} runs them ({loaded.layout.transaction_rule})")
        lines.extend(f"{path}: ignored: {why}" for path, why in loaded.ignored)
        lines.extend(f"{warning} (warning)" for warning in loaded.warnings)
    return lines


def _lint(args: argparse.Namespace, session: Any, *, use_cache: bool) -> tuple[Any, list]:
    from .config import ConfigError
    from .session import ordered
    from .targets import lint_targets

    cache = None
    if use_cache:
        from .cache import CACHE_DIR_NAME, Cache

        config = session.config
        base = config.source.parent if config.source else Path.cwd()
        cache = Cache(base / CACHE_DIR_NAME, config.cache_key())
    # --fix reads which migrations are older than `since` from this process's session: no forks.
    jobs = 1 if args.fix else (args.jobs or os.cpu_count() or 1)
    try:
        result = lint_targets(session, args.paths, cache=cache, jobs=jobs, stdin_filename=args.stdin_filename)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    return result, ordered(result.findings)


def _colour(args: argparse.Namespace, fmt: str) -> bool:
    if fmt != "text" or args.color == "never":
        return False
    if args.color == "always":
        return True
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "").lower() not in ("", "0", "false"):
        return True
    return sys.stdout.isatty()


def _report(args: argparse.Namespace, fmt: str, session: Any, result: Any, findings: list) -> None:
    from .report import ReportContext, render

    texts: dict[str, str] = {}

    def source_of(path: str) -> str:
        text = texts.get(path)
        if text is None:
            key = Path(path)
            text = result.sources.get(key)
            if text is None:
                from .model import read_sql_file

                try:
                    text = read_sql_file(key)
                except Exception:
                    text = ""
            texts[path] = text
        return text

    rule_classes: list = []
    if fmt == "sarif":
        from .dialects.rules import rule_class_of

        rule_classes = [rule_class_of(code, session.dialect) for code in sorted({f.code for f in findings})]
    render(fmt, findings, sys.stdout, ReportContext(source_of, _colour(args, fmt), result.files_checked, not args.fix,
                                                     rule_classes, len(result.input_errors)))


def _print_statistics(findings: list) -> None:
    """Findings counted by rule, most first, as ``ruff --statistics`` prints them."""
    counts: dict[str, list] = {}
    for finding in findings:
        entry = counts.setdefault(finding.code, [0, finding.rule, False])
        entry[0] += 1
        entry[2] = entry[2] or finding.fixable
    rows = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    width = max((len(str(entry[0])) for _, entry in rows), default=1)
    for code, (count, rule, fixable) in rows:
        print(f"{count:>{width}}\t{code}\t{'[*] ' if fixable else '[ ] '}{rule}")


def _list_rules() -> int:
    from .rules import all_rule_classes

    for cls in all_rule_classes():
        flags = []
        if cls.opt_in:
            flags.append("advice")
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
    sys.stdout.write(rule_markdown(cls, stamp=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
