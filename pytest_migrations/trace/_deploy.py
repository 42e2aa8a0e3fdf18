"""The lock_timeout a deploy sets: whether a brief lock waits at most that long, or for ever.

A trace judges a lock held only for a catalog update by the lock_timeout in force when it was
taken (see ``docs/lock-tracing.md``): the file's own ``SET lock_timeout``, or the one the deploy
sets for a file that sets none. The ``migrations`` runner sets ``[tool.pytest-migrations]
lock_timeout`` (10s unless configured); other tools set none unless told.
"""

from __future__ import annotations

from pathlib import Path

from ..config import check_duration
from ..errors import PytestMigrationsError

__all__ = ["LockTimeoutError", "check_lock_timeout", "runner_lock_timeout"]


class LockTimeoutError(PytestMigrationsError, ValueError):
    """A lock_timeout PostgreSQL would not accept; the message names the value."""


def check_lock_timeout(value: str) -> str:
    """``value`` stripped, or :class:`LockTimeoutError`; ``"0"`` (no limit) is a valid answer."""
    try:
        return check_duration(value)
    except ValueError:
        raise LockTimeoutError(f"expected a lock_timeout such as 5s, 500ms or 0 (none), got {value!r}") from None


def runner_lock_timeout(path: Path | None = None, *, start: Path | None = None) -> tuple[str, str] | None:
    """``(lock_timeout, where it comes from)`` when ``path`` (default: the ``pyproject.toml``
    nearest to ``start``) configures the
    ``migrations`` runner (a ``[tool.pytest-migrations]`` table), which sets that lock_timeout on
    every migration that sets none; ``None`` when it does not. Raises
    :class:`~pytest_migrations.config.ConfigError` for an unreadable file."""
    from ..config import TOOL_TABLE, read_tool_config
    from ..runner._settings import DEFAULT_LOCK_TIMEOUT

    config = read_tool_config(path, start=start)
    if config.path is None or not config.values:
        return None
    configured = config.get_str("lock_timeout")
    if configured is None:
        return DEFAULT_LOCK_TIMEOUT, f"runner default, {config.path} has [tool.{TOOL_TABLE}]"
    try:
        value = check_lock_timeout(configured) if configured.strip() else "0"
    except LockTimeoutError as error:
        raise LockTimeoutError(f"{config.path}: [tool.{TOOL_TABLE}] lock_timeout: {error}") from None
    return value, f"{config.path} [tool.{TOOL_TABLE}] lock_timeout"
