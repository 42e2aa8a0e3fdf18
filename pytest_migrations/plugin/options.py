"""Command-line and ini options of ``pytest --migrations``, and their resolution.

Every option has an ini twin and most an environment variable. Precedence: command line >
environment > ini > default; the pytest header says which source each value came from.
Resolution is separate from registration so that ``pytest --help`` works whatever the
configuration holds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..config import ConfigError, read_tool_config
from ..errors import PytestMigrationsError
from ..trace._deploy import LockTimeoutError, check_lock_timeout, runner_lock_timeout

__all__ = ["AUTO_DIRS", "OPTIONS", "Option", "Settings", "add_options", "resolve_settings"]

AUTO_DIRS = ("migrations", "db/migrations", "web/db/migrations")
# pytest_migrations.database.DSN_ENV_VAR, spelt out: importing that package imports psycopg, which
# a pytest run without --migrations must not pay for (a test checks that the two agree).
DSN_ENV_VAR = "MIGRATIONS_DATABASE_URL"
EMBEDDED_MAJOR = 18


@dataclass(frozen=True)
class Option:
    """One setting: its flag, ini key, environment variable and help."""

    name: str  # attribute name in Settings
    flag: str
    ini: str
    env: str | None
    help: str
    flag_only: bool = False  # a boolean switch: ``--flag`` on the command line, ``true`` in ini
    metavar: str | None = None


OPTIONS = (
    Option("enabled", "--migrations", "migrations", None,
           "collect an up/down/up round-trip test (and a lint and a lock test) for every migration, whatever"
           " testpaths says. Not with xdist (-n) for the migrations alone: each worker starts a server and"
           " walks the chain again, so the run is slower (the walk uses a second core itself,"
           " --migrations-jobs); beside other tests, add --dist loadgroup so one worker walks each directory", True),
    Option("dir", "--migrations-dir", "migrations_dir", "MIGRATIONS_DIR",
           "directory of the migrations; default: the first of " + ", ".join(f"{d}/" for d in AUTO_DIRS)
           + " under the rootdir", metavar="PATH"),
    Option("dsn", "--migrations-dsn", "migrations_dsn", DSN_ENV_VAR,
           "run on this PostgreSQL server (postgresql://user@host:port/db; the role needs CREATEDB);"
           " default: an embedded PostgreSQL 18", metavar="DSN"),
    Option("image", "--migrations-image", "migrations_image", "MIGRATIONS_IMAGE",
           "run on a Docker container of this image, e.g. postgres:16 (needs Docker and testcontainers)",
           metavar="IMAGE"),
    Option("pg_version", "--migrations-pg-version", "migrations_pg_version", "MIGRATIONS_PG_VERSION",
           f"PostgreSQL major version to test on, e.g. 16: {EMBEDDED_MAJOR} is the embedded server, another"
           " version starts the Docker image postgres:N; with a DSN, the server must be that version",
           metavar="N"),
    Option("setup_sql", "--migrations-setup-sql", "migrations_setup_sql", "MIGRATIONS_SETUP_SQL",
           "SQL file run on every fresh database before the first migration (extensions, roles ...)",
           metavar="PATH"),
    Option("allow_missing_down", "--migrations-allow-missing-down", "migrations_allow_missing_down",
           "MIGRATIONS_ALLOW_MISSING_DOWN", "a migration without DOWN is an xfail instead of a failure", True),
    Option("strict_column_order", "--migrations-strict-column-order", "migrations_strict_column_order",
           "MIGRATIONS_STRICT_COLUMN_ORDER",
           "a DOWN that restores the columns in another order fails (default: a warning)", True),
    Option("no_data_check", "--migrations-no-data-check", "migrations_no_data_check",
           "MIGRATIONS_NO_DATA_CHECK", "do not seed rows to check that they survive UP and DOWN", True),
    Option("no_lint", "--migrations-no-lint", "migrations_no_lint", "MIGRATIONS_NO_LINT",
           "do not collect the ::lint test of each migration", True),
    Option("no_locks", "--migrations-no-locks", "migrations_no_locks", "MIGRATIONS_NO_LOCKS",
           "do not collect the ::locks test of each migration (the lock and rewrite trace)", True),
    Option("jobs", "--migrations-jobs", "migrations_jobs", "MIGRATIONS_JOBS",
           "1: one walker does every round trip; 2: a second walker, on a database and server process of"
           " its own, takes the later part of a long walk (default: 2 where there are two cores, 1 under"
           " xdist)", metavar="N"),
    Option("trace_rows", "--migrations-trace-rows", "migrations_trace_rows", "MIGRATIONS_TRACE_ROWS",
           "fill every empty table with N generated rows before each ::locks trace, so that findings say"
           " how long each lock was held (default 0: no rows)", metavar="N"),
    Option("lock_timeout", "--migrations-lock-timeout", "migrations_lock_timeout", "MIGRATIONS_LOCK_TIMEOUT",
           "the lock_timeout your deploy sets for a migration that sets none, e.g. 10s, or 0 for none;"
           " ::locks passes a lock held for a catalog update only when one is in force. Default: the"
           " migrations runner's ([tool.pytest-migrations] lock_timeout, 10s) when pyproject.toml configures"
           " it, else 0", metavar="DURATION"),
    Option("since", "--migrations-since", "migrations_since", "MIGRATIONS_SINCE",
           "migrations older than this version are still walked and reported, but their ::lint and ::locks"
           " findings do not fail (default: [tool.pytest-migrations] since, else [tool.migration-lint] since"
           " for ::lint)", metavar="VERSION"),
    Option("layout", "--migrations-layout", "migrations_layout", "MIGRATIONS_LAYOUT",
           "read the directory as this tool does, e.g. sqlx, golang-migrate, goose, diesel (every name:"
           " docs/layouts.md; default: layout in [tool.pytest-migrations], else detected)", metavar="NAME"),
)  # fmt: skip

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(PytestMigrationsError):
    """A setting holds a value that cannot be used; the message names where it came from."""


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("migrations", "pytest-migrations (up/down/up round trip of SQL migrations)")
    for option in OPTIONS:
        env = f" [env {option.env}]" if option.env else ""
        if option.flag_only:
            group.addoption(option.flag, action="store_true", default=None, dest=_dest(option),
                            help=option.help + env)
            parser.addini(option.ini, f"{option.help} (true/false)", type="string", default=None)
        else:
            group.addoption(option.flag, action="store", default=None, dest=_dest(option),
                            metavar=option.metavar, help=option.help + env)
            parser.addini(option.ini, option.help, type="string", default=None)


def _dest(option: Option) -> str:
    return f"migrations_{option.name}" if option.name != "enabled" else "migrations_enabled"


@dataclass(frozen=True)
class Settings:
    """The resolved settings, each with the source it came from."""

    enabled: bool = False
    dir: Path | None = None
    dsn: str | None = None
    image: str | None = None
    pg_version: int | None = None
    setup_sql: Path | None = None
    allow_missing_down: bool = False
    strict_column_order: bool = False
    no_data_check: bool = False
    no_lint: bool = False
    no_locks: bool = False
    trace_rows: int = 0
    jobs: int | None = None  # None: the walker's default
    lock_timeout: str = "0"
    since: str | None = None  # a migration version: older migrations' lint and lock findings do not fail
    layout: str | None = None  # None: detected
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def check_data(self) -> bool:
        return not self.no_data_check

    @property
    def lint(self) -> bool:
        return not self.no_lint

    @property
    def locks(self) -> bool:
        return not self.no_locks

    def read_setup_sql(self) -> str | None:
        if self.setup_sql is None:
            return None
        try:
            return self.setup_sql.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SettingsError(f"{self.setup_sql}: cannot read the set-up SQL: {error}") from None

    def header_lines(self, rootpath: Path) -> list[str]:
        """What the pytest header shows: every value that is not the default, and where it came from."""
        directory = os.path.relpath(self.dir, rootpath) if self.dir else "(none found)"
        parts = [f"dir={directory} ({self.sources.get('dir', 'default')})"]
        if self.dsn:
            from ..database import redact_dsn

            parts.append(f"server={redact_dsn(self.dsn)} ({self.sources['dsn']})")
        elif self.image:
            parts.append(f"server=docker {self.image} ({self.sources['image']})")
        else:
            parts.append(f"server=embedded PostgreSQL {EMBEDDED_MAJOR}")
        if self.pg_version is not None:
            parts.append(f"pg-version={self.pg_version} ({self.sources['pg_version']})")
        if self.setup_sql is not None:
            parts.append(f"setup-sql={self.setup_sql} ({self.sources['setup_sql']})")
        for name in ("allow_missing_down", "strict_column_order", "no_data_check", "no_lint", "no_locks"):
            if getattr(self, name):
                parts.append(f"{name.replace('_', '-')} ({self.sources[name]})")
        if self.jobs is not None:
            parts.append(f"jobs={self.jobs} ({self.sources['jobs']})")
        if self.layout is not None:
            parts.append(f"layout={self.layout} ({self.sources['layout']})")
        if self.locks:
            if self.trace_rows:
                parts.append(f"trace-rows={self.trace_rows} ({self.sources['trace_rows']})")
            parts.append(f"lock-timeout={self.lock_timeout} ({self.sources.get('lock_timeout', 'default: none')})")
        if self.since is not None:
            parts.append(f"since={self.since} ({self.sources['since']})")
        return ["migrations: " + ", ".join(parts)]


def _raw(config: pytest.Config, option: Option) -> tuple[Any, str, Path] | None:
    """The first value set for ``option``, its source, and the directory relative paths start from."""
    value = config.getoption(_dest(option), default=None)
    invocation_dir = Path(config.invocation_params.dir)
    if value is not None:
        return value, f"command line {option.flag}", invocation_dir
    if option.env and os.environ.get(option.env):
        return os.environ[option.env], f"environment {option.env}", invocation_dir
    ini_value = config.getini(option.ini)
    if ini_value not in (None, "", []):
        if config.inipath is None:
            return ini_value, f"ini {option.ini}", config.rootpath
        return ini_value, f"{config.inipath.name} {option.ini}", config.inipath.parent
    return None


def _as_bool(value: Any, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{source}: expected true or false, got {value!r}")


def _since(value: Any, source: str) -> str:
    from migration_lint.session import parse_since

    try:
        return parse_since(str(value)).text
    except ValueError as error:
        raise SettingsError(f"{source}: {error}") from None


def resolve_settings(config: pytest.Config) -> Settings:
    """Settings from command line, environment and ini, checked; raises :class:`SettingsError`."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        found = _raw(config, option)
        if found is None:
            continue
        value, source, base_dir = found
        sources[option.name] = source
        if option.flag_only:
            values[option.name] = _as_bool(value, source)
        elif option.name in ("dir", "setup_sql"):
            path = Path(os.path.expanduser(str(value)))
            values[option.name] = path if path.is_absolute() else base_dir / path
        elif option.name == "trace_rows":
            text = str(value).strip()
            if not text.isdigit():
                raise SettingsError(f"{source}: expected a number of rows (0 or more), got {value!r}")
            values[option.name] = int(text)
        elif option.name == "jobs":
            text = str(value).strip()
            if not text.isdigit() or int(text) < 1:
                raise SettingsError(f"{source}: expected a number of walkers (1 or more), got {value!r}")
            values[option.name] = int(text)
        elif option.name == "lock_timeout":
            try:
                values[option.name] = check_lock_timeout(str(value))
            except LockTimeoutError as error:
                raise SettingsError(f"{source}: {error}") from None
        elif option.name == "since":
            values[option.name] = _since(value, source)
        elif option.name == "layout":
            values[option.name] = _layout_name(str(value), source)
        elif option.name == "pg_version":
            text = str(value).strip()
            if not text.isdigit() or not 9 <= int(text) <= 99:
                raise SettingsError(f"{source}: expected a PostgreSQL major version such as 16, got {value!r}")
            values[option.name] = int(text)
        else:
            values[option.name] = str(value).strip() or None

    if "dir" not in values:
        for candidate in AUTO_DIRS:
            path = config.rootpath / candidate
            if path.is_dir():
                values["dir"] = path
                sources["dir"] = "auto-detected"
                break
    # The runner's lock_timeout matters to the ::locks items alone; reading it imports the runner,
    # which a run without --migrations must not pay for.
    if "lock_timeout" not in values and values.get("enabled"):
        try:
            found = runner_lock_timeout(start=config.rootpath)
        except (ConfigError, LockTimeoutError) as error:
            raise SettingsError(str(error)) from None
        if found is not None:
            values["lock_timeout"], sources["lock_timeout"] = found
    if "layout" not in values:
        try:
            tool_config = read_tool_config(start=config.rootpath)
            configured = tool_config.get_str("layout")
        except ConfigError as error:
            raise SettingsError(str(error)) from None
        if configured:
            sources["layout"] = f"{tool_config.path} [tool.pytest-migrations] layout"
            values["layout"] = _layout_name(configured, sources["layout"])
    if "since" not in values:
        try:
            tool = read_tool_config(start=config.rootpath)
            found_since = tool.get_str("since")
        except ConfigError as error:
            raise SettingsError(str(error)) from None
        if found_since is not None:
            values["since"] = _since(found_since, f"{tool.path} [tool.pytest-migrations] since")
            sources["since"] = f"{tool.path.name} [tool.pytest-migrations] since"
    setup_sql = values.get("setup_sql")
    if setup_sql is not None and not setup_sql.is_file():
        raise SettingsError(f"{sources['setup_sql']}: set-up SQL file {setup_sql} does not exist")
    version = values.get("pg_version")
    if version is not None and not values.get("dsn") and not values.get("image") and version != EMBEDDED_MAJOR:
        values["image"] = f"postgres:{version}"
        sources["image"] = f"from {sources['pg_version']}"
    if values.get("dsn") and values.get("image") and sources.get("image", "").startswith("from "):
        del values["image"]  # a DSN wins; the version is then checked against that server
    return Settings(**values, sources=sources)


def _layout_name(value: str, source: str) -> str:
    from migration_lint.layouts import layout_named

    try:
        return layout_named(value).spec
    except ValueError as error:
        raise SettingsError(f"{source}: {error}") from None
