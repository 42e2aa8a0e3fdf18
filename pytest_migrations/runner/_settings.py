"""The runner's settings, built from command line, environment and ``pyproject.toml``."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ToolConfig

DEFAULT_SCHEMA = "public"
# Not "migrations" nor "schema_migrations": real projects own tables with those names (Authelia's
# first migration creates "migrations"; golang-migrate and dbmate use "schema_migrations").
DEFAULT_TABLE = "applied_migrations"
DEFAULT_HISTORY_TABLE = "migration_history"
DEFAULT_LOCK_TIMEOUT = "10s"
DEFAULT_LOCK_WAIT = 300.0


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

    @classmethod
    def from_config(cls, config: ToolConfig, **overrides: object) -> RunnerSettings:
        """Settings from ``[tool.pytest-migrations]``; ``overrides`` that are not ``None`` win."""
        values: dict[str, object] = {
            "schema": config.get_str("tracking_schema", DEFAULT_SCHEMA),
            "table": config.get_str("tracking_table", DEFAULT_TABLE),
            "history_table": config.get_str("history_table", DEFAULT_HISTORY_TABLE),
            "lock_timeout": config.get_str("lock_timeout", DEFAULT_LOCK_TIMEOUT),
            "statement_timeout": config.get_str("statement_timeout"),
            "lock_wait": config.get_float("lock_wait", DEFAULT_LOCK_WAIT),
            "layout": config.get_str("layout"),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        for key in ("lock_timeout", "statement_timeout"):
            if values[key] == "":
                values[key] = None
        return cls(**values)  # type: ignore[arg-type]
