"""Fleet targets: which databases and schemas one ``migrations up --fleet`` migrates.

A targets file holds one target per line: a DSN, optionally followed by whitespace and a schema
name. A target with a schema runs its migrations with that schema first on ``search_path`` and
keeps its tracking tables in it, so tenants that share a database never share a tracking table
(nor, through it, the runners' advisory lock). Blank lines and ``#`` comments are allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..database import describe_dsn
from ..runner import InputError, scrubber
from ..runner._errors import display_path


@dataclass(frozen=True)
class Target:
    """One database, or one schema of a database, that the fleet migrates."""

    dsn: str
    schema: str | None
    source: Path
    line: int

    @property
    def label(self) -> str:
        """``host:port/db`` and the schema: what every message calls the target (no password)."""
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
    """The targets of ``path``; a bad line raises :class:`InputError` naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{display_path(path)}: targets file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{display_path(path)}: cannot read the targets file: {error}") from None
    targets: list[Target] = []
    seen: dict[tuple, int] = {}
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
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.Error as error:
            reason = " ".join(str(error).split())
            raise InputError(f"{where}: not a valid DSN: {scrubber(dsn)(reason)}") from None
        identity = (
            params.get("host"), params.get("hostaddr"), params.get("port"), params.get("dbname"), schema,
        )
        if identity in seen:
            raise InputError(
                f"{where}: the same target as line {seen[identity]}; each database and schema is migrated once"
            )
        seen[identity] = number
        targets.append(Target(dsn, schema, path, number))
    if not targets:
        raise InputError(f"{display_path(path)}: no targets (one DSN, optionally followed by a schema, per line)")
    return targets


__all__ = ["Target", "read_targets"]
