"""Project settings from ``[tool.pytest-migrations]`` in ``pyproject.toml``.

Shared by the ``migrations`` CLI and the pytest plugin. This module only finds and reads the
table; each consumer picks the keys it knows, so a key one of them adds does not break the other.
Precedence everywhere: command line > environment variable > ``pyproject.toml`` > built-in default.

Keys read by the runner::

    [tool.pytest-migrations]
    dir = "migrations"                     # MIGRATIONS_DIR
    database_url = "postgresql://..."      # MIGRATIONS_DATABASE_URL (better kept out of the file)
    tracking_schema = "public"
    tracking_table = "applied_migrations"
    history_table = "migration_history"
    lock_timeout = "10s"                   # set per migration unless the file sets its own
    statement_timeout = "0"                # likewise; "0" means none
    lock_wait = 300                        # seconds to wait for another runner's advisory lock
    layout = "goose"                       # read the directory as this tool does (default: detected)
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import PytestMigrationsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOOL_TABLE = "pytest-migrations"

__all__ = ["ConfigError", "ToolConfig", "check_duration", "find_pyproject", "read_tool_config"]


class ConfigError(PytestMigrationsError):
    """``pyproject.toml`` cannot be read or holds a value of the wrong type; names file and key."""


# PostgreSQL's time units for a duration setting (lock_timeout, statement_timeout); a bare
# number is milliseconds; case matters, as it does to PostgreSQL.
_DURATION = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|min|h|d)?$")
_MILLISECONDS = {"us": 0.001, "ms": 1, None: 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_MAX_MILLISECONDS = 2**31 - 1  # PostgreSQL keeps these settings as a 32-bit count of milliseconds


def check_duration(value: str) -> str:
    """``value`` stripped if PostgreSQL accepts it for lock_timeout or statement_timeout, else ValueError.

    The one place that decides it, so a bad value is refused before anything connects.
    """
    text = str(value).strip()
    match = _DURATION.match(text)
    if match is None or float(match[1]) * _MILLISECONDS[match[2]] > _MAX_MILLISECONDS:
        raise ValueError(f"expected a duration such as 5s, 500ms, 1min or 0 (none), got {value!r}")
    return text


@dataclass(frozen=True)
class ToolConfig:
    """The ``[tool.pytest-migrations]`` table and the file it came from (``None``: no file)."""

    values: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def get_str(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key, default)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{self.path}: [tool.{TOOL_TABLE}] {key} must be a string, not {value!r}")

    def get_float(self, key: str, default: float | None = None) -> float | None:
        value = self.values.get(key, default)
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return value
        raise ConfigError(f"{self.path}: [tool.{TOOL_TABLE}] {key} must be a number, not {value!r}")

    def resolve_path(self, key: str) -> Path | None:
        """A path setting, relative to the directory of ``pyproject.toml``."""
        value = self.get_str(key)
        if value is None:
            return None
        path = Path(value)
        if not path.is_absolute() and self.path is not None:
            path = self.path.parent / path
        return path


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest ``pyproject.toml`` in ``start`` (default: the working directory) or above."""
    directory = (start or Path.cwd()).resolve()
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def read_tool_config(path: Path | None = None, *, start: Path | None = None) -> ToolConfig:
    """Read ``[tool.pytest-migrations]`` from ``path``, or from the nearest ``pyproject.toml``."""
    path = path or find_pyproject(start)
    if path is None:
        return ToolConfig()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: is not valid UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    table = document.get("tool", {}).get(TOOL_TABLE, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.{TOOL_TABLE}] must be a table")
    return ToolConfig(dict(table), path)
