"""Fleet targets: which databases and schemas one ``migrations up --fleet`` migrates.

A ``.toml`` targets file holds ``[[target]]`` tables (``dsn``, and optional ``name``, ``schema``
and ``group``: groups are the waves, in the order they first appear). Any other file holds one
target per line: a DSN, optionally followed by whitespace and a schema
name. A target with a schema runs its migrations with that schema first on ``search_path`` and
keeps its tracking tables in it, so tenants that share a database never share a tracking table
(nor, through it, the runners' advisory lock). Blank lines and ``#`` comments are allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..database import describe_dsn, dsn_error
from ..runner import InputError
from ..runner._errors import display_path


@dataclass(frozen=True)
class Target:
    """One database, or one schema of a database, that the fleet migrates."""

    dsn: str
    schema: str | None
    source: Path
    line: int
    name: str | None = None  # TOML targets only
    group: str | None = None  # TOML targets only: the wave it belongs to

    @property
    def label(self) -> str:
        """Its name, else ``host:port/db`` and the schema: what messages call it (no password)."""
        if self.name:
            return self.name
        where = describe_dsn(self.dsn)
        return f"{where} {self.schema}" if self.schema else where

    @property
    def place(self) -> str:
        """``file:line`` of the target, for messages about it."""
        return f"{display_path(self.source)}:{self.line}"

    def connection_dsn(self) -> str:
        """The DSN the runner connects with: the target's schema first on ``search_path``.

        The path is a startup option, not a ``SET``: the runner's ``DISCARD ALL`` between
        migrations resets a session to its startup values, so the path survives it.
        """
        if self.schema is None:
            return self.dsn
        params = conninfo_to_dict(self.dsn)
        path = f"{_quote_ident(self.schema)},public"
        option = "-c search_path=" + path.replace("\\", "\\\\").replace(" ", "\\ ")
        existing = str(params.get("options") or "").strip()
        return make_conninfo(self.dsn, options=f"{existing} {option}".strip())


def _quote_ident(name: str) -> str:
    return sql.Identifier(name).as_string(None)


def read_targets(path: Path | str) -> list[Target]:
    """The targets of ``path`` (``*.toml``: named targets in groups; otherwise one per line).

    A bad target raises :class:`InputError` naming the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{display_path(path)}: targets file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{display_path(path)}: cannot read the targets file: {error}") from None
    targets = _read_toml(path, text) if path.suffix == ".toml" else _read_lines(path, text)
    seen: dict[tuple, Target] = {}
    for target in targets:
        params = conninfo_to_dict(target.dsn)
        identity = (
            params.get("host"), params.get("hostaddr"), params.get("port"), params.get("dbname"), target.schema,
        )
        if identity in seen:
            raise InputError(
                f"{target.place}: the same target as line {seen[identity].line}; each database and schema"
                " is migrated once"
            )
        seen[identity] = target
    if not targets:
        raise InputError(f"{display_path(path)}: no targets (one DSN, optionally followed by a schema, per line)")
    return targets


def _read_lines(path: Path, text: str) -> list[Target]:
    targets: list[Target] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{display_path(path)}:{number}"
        parts = line.split()
        comment = next((i for i, part in enumerate(parts) if part.startswith("#")), None)
        if comment is not None:
            parts = parts[:comment]
        # A URL is one word; a key=value DSN is every leading word with an '='.
        size = 1 if "://" in parts[0] else next((i for i, part in enumerate(parts) if "=" not in part), len(parts))
        if size == 0:
            raise InputError(f"{where}: not a DSN (expected postgresql://... or host=... dbname=...)")
        dsn, rest = " ".join(parts[:size]), parts[size:]
        if len(rest) > 1:
            raise InputError(
                f"{where}: expected a DSN and at most one schema name, found {len(rest) + 1} words"
                " (a DSN value with spaces must be written as a postgresql:// URL)"
            )
        schema = rest[0] if rest else None
        _check_dsn(dsn, where)
        targets.append(Target(dsn, schema, path, number))
    return targets


def _check_dsn(dsn: str, where: str) -> None:
    try:
        conninfo_to_dict(dsn)
    except psycopg.Error as error:
        raise InputError(f"{where}: not a valid DSN: {dsn_error(dsn, error)}") from None


TARGET_KEYS = frozenset({"name", "dsn", "schema", "group"})


def _read_toml(path: Path, text: str) -> list[Target]:
    """``[[target]]`` tables with ``dsn`` and optional ``name``, ``schema``, ``group``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        line = f":{match.group(1)}" if match else ""
        raise InputError(f"{display_path(path)}{line}: not valid TOML: {error}") from None
    unknown = sorted(set(document) - {"target"})
    if unknown:
        raise InputError(f"{display_path(path)}: unknown key {unknown[0]!r} (expected [[target]] tables)")
    entries = document.get("target", [])
    if not isinstance(entries, list):
        raise InputError(f"{display_path(path)}: 'target' must be an array of tables ([[target]])")
    # Array tables carry no line numbers: the n-th [[target]] header is the n-th target's line.
    headers = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"(?m)^[ \t]*\[\[[ \t]*target[ \t]*\]\]", text)]
    targets: list[Target] = []
    names: dict[str, int] = {}
    for index, entry in enumerate(entries):
        line = headers[index] if index < len(headers) else 0
        where = f"{display_path(path)}:{line}"
        unknown = sorted(set(entry) - TARGET_KEYS)
        if unknown:
            raise InputError(f"{where}: unknown key {unknown[0]!r} in a target (expected {', '.join(sorted(TARGET_KEYS))})")
        for key in TARGET_KEYS:
            if key in entry and not (isinstance(entry[key], str) and entry[key].strip()):
                raise InputError(f"{where}: {key} must be a non-empty string")
        if "dsn" not in entry:
            raise InputError(f"{where}: a target needs a dsn")
        _check_dsn(entry["dsn"], where)
        name = entry.get("name")
        if name is not None:
            if name in names:
                raise InputError(f"{where}: the name {name!r} is already used by the target on line {names[name]}")
            names[name] = line
        targets.append(Target(entry["dsn"], entry.get("schema"), path, line, name, entry.get("group")))
    return targets


__all__ = ["Target", "read_targets"]
