"""The runner's settings, built from command line, environment and ``pyproject.toml``.

Every value is checked here, before anything connects: a timeout PostgreSQL would refuse, a
tracking name it would truncate, a negative wait. A bad one is one line naming where it came
from, and exit 2, for a real run and a dry run alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..config import TOOL_TABLE, ConfigError, ToolConfig, check_duration
from ._errors import InputError

DEFAULT_SCHEMA = "public"
# Not "migrations" nor "schema_migrations": real projects own tables with those names (Authelia's
# first migration creates "migrations"; golang-migrate and dbmate use "schema_migrations").
DEFAULT_TABLE = "applied_migrations"
DEFAULT_HISTORY_TABLE = "migration_history"
DEFAULT_LOCK_TIMEOUT = "10s"
DEFAULT_LOCK_WAIT = 300.0

# PostgreSQL truncates longer identifiers without an error (NAMEDATALEN - 1 bytes).
MAX_IDENTIFIER_BYTES = 63

# Each setting: its command-line option and its key in [tool.pytest-migrations].
_SOURCES = {
    "schema": ("--schema", "tracking_schema"),
    "table": ("--table", "tracking_table"),
    "history_table": ("--history-table", "history_table"),
    "lock_timeout": ("--lock-timeout", "lock_timeout"),
    "statement_timeout": ("--statement-timeout", "statement_timeout"),
    "lock_wait": ("--lock-wait", "lock_wait"),
    "retries": ("--retries", None),
    "retry_delay": ("retry_delay", None),
    "layout": ("--layout", "layout"),
}


@dataclass(frozen=True)
class RunnerSettings:
    """How the runner tracks migrations and how long it lets one wait."""

    schema: str = DEFAULT_SCHEMA
    table: str = DEFAULT_TABLE
    history_table: str = DEFAULT_HISTORY_TABLE
    # PostgreSQL's lock_timeout and statement_timeout, set for each migration that does not set
    # its own; ``None`` leaves the server's setting alone.
    lock_timeout: str | None = DEFAULT_LOCK_TIMEOUT
    statement_timeout: str | None = None
    # Seconds to wait for the advisory lock held by another runner.
    lock_wait: float = DEFAULT_LOCK_WAIT
    # Extra attempts for a migration that failed on lock_timeout (or a deadlock).
    retries: int = 0
    retry_delay: float = 1.0
    allow_out_of_order: bool = False
    lint: bool = True
    # The layout to read the directory as (``--layout``, ``layout`` in the configuration);
    # ``None`` detects it.
    layout: str | None = None

    def __post_init__(self) -> None:
        for key in _SOURCES:
            problem = _problem(key, getattr(self, key))
            if problem is not None:
                raise InputError(f"{key} {getattr(self, key)!r}: {problem}")
        if self.table == self.history_table:
            raise InputError(f"the tracking table and the history table are both named {self.table!r}")

    @classmethod
    def from_config(cls, config: ToolConfig, **overrides: object) -> RunnerSettings:
        """Settings from ``[tool.pytest-migrations]``; ``overrides`` (the command line) that are not
        ``None`` win. A bad value raises :class:`InputError` naming its option or key."""
        values: dict[str, object] = {}
        where: dict[str, str] = {}
        for key, (option, config_key) in _SOURCES.items():
            if overrides.get(key) is not None:
                values[key], where[key] = overrides[key], option
            elif config_key is not None and config_key in config.values:
                values[key] = config.values[config_key]
                where[key] = f"{config.path}: [tool.{TOOL_TABLE}] {config_key}"
        values.update({key: value for key, value in overrides.items() if value is not None and key not in _SOURCES})
        for key in ("lock_timeout", "statement_timeout"):
            if isinstance(values.get(key), (int, float)) and not isinstance(values[key], bool):
                values[key] = str(values[key])  # a bare number: milliseconds, as PostgreSQL reads it
            if values.get(key) == "" or (isinstance(values.get(key), str) and not values[key].strip()):  # type: ignore[union-attr]
                values[key] = None
        for key, source in where.items():
            problem = _problem(key, values.get(key))
            if problem is not None:
                message = f"{source} {values[key]!r}: {problem}"
                if source.startswith("-"):
                    raise InputError(message)
                raise ConfigError(f"{source}: {problem}, not {values[key]!r}")
        return cls(**values)  # type: ignore[arg-type]


def _problem(key: str, value: object) -> str | None:
    """Why ``value`` will not do for setting ``key``; ``None`` when it will."""
    if key in ("schema", "table", "history_table"):
        if not isinstance(value, str):
            return "must be a name (a string)"
        if not value.strip():
            return "must not be empty"
        if "\x00" in value:
            return "must not contain a NUL character"
        if len(value.encode("utf-8")) > MAX_IDENTIFIER_BYTES:
            return f"is longer than PostgreSQL's {MAX_IDENTIFIER_BYTES} bytes for a name, which it would cut short"
        if key == "schema" and value.startswith("pg_"):
            return "names beginning with pg_ belong to PostgreSQL (pg_temp vanishes with the session)"
        return None
    if key in ("lock_timeout", "statement_timeout"):
        if value is None:
            return None
        if not isinstance(value, str):
            return "must be a duration such as 5s, 500ms or 0"
        try:
            check_duration(value)
        except ValueError:
            return "is not a duration PostgreSQL accepts, such as 5s, 500ms, 1min or 0 (none)"
        return None
    if key in ("lock_wait", "retry_delay"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            return "must be a number of seconds, 0 or more"
        return None
    if key == "layout":
        if value is not None and not isinstance(value, str):
            return "must be the name of a layout (a string)"
        return None
    if key == "retries":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return "must be a whole number, 0 or more"
        return None
    return None
