"""Fleet targets: which databases and schemas one ``migrations up --fleet`` migrates.

Four sources, each read here and nowhere else:

- a ``.toml`` targets file of ``[[target]]`` tables (``dsn``, and optional ``name``, ``schema``
  and ``group``: groups are the waves, in the order they first appear);
- any other file: one target per line, a DSN optionally followed by whitespace and a schema
  name; blank lines and ``#`` comments are allowed;
- a query (:func:`targets_from_query`, run read-only) whose columns are named ``dsn``,
  ``schema``, ``name``, ``group``; or the schemas of a database whose names match a ``LIKE``
  pattern (:func:`targets_from_schemas`);
- ``[tool.pytest-migrations.fleet]`` in ``pyproject.toml`` (:func:`targets_from_config`):
  ``targets`` (a file), ``schemas``, ``query``, or ``[[tool.pytest-migrations.fleet.target]]``
  tables.

A target with a schema runs its migrations with that schema first on ``search_path`` and keeps
its tracking tables in it, so tenants that share a database never share a tracking table (nor,
through it, the runners' advisory lock). Errors name the source (file and line, the query and
its row) and never show a password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..config import TOOL_TABLE, ToolConfig
from ..database import describe_dsn, dsn_error
from ..pgerrors import describe
from ..runner import InputError, RunnerError
from ..runner._errors import display_path


@dataclass(frozen=True)
class Target:
    """One database, or one schema of a database, that the fleet migrates."""

    dsn: str
    schema: str | None
    source: Path | str  # a file, or the query (or config key) that listed it
    line: int  # in the file; the row of the query's result
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
        """``file:line`` of the target (``query, row N`` for a listed one), for messages about it."""
        if isinstance(self.source, Path):
            return f"{display_path(self.source)}:{self.line}"
        return f"{self.source}, row {self.line}"

    @property
    def database(self) -> tuple:
        """Which database it is in (host, address, port, name): targets equal here share one."""
        params = conninfo_to_dict(self.dsn)
        return params.get("host"), params.get("hostaddr"), params.get("port"), params.get("dbname")

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
    return _checked(targets, f"{display_path(path)}: no targets (one DSN, optionally followed by a schema, per line)")


def _checked(targets: list[Target], when_empty: str) -> list[Target]:
    """``targets``, refused when empty or when one database and schema appears twice."""
    seen: dict[tuple, Target] = {}
    for target in targets:
        identity = (*target.database, target.schema)
        if identity in seen:
            first = seen[identity]
            where = f"line {first.line}" if isinstance(first.source, Path) else f"row {first.line}"
            raise InputError(
                f"{target.place}: the same target as {where}; each database and schema is migrated once"
            )
        seen[identity] = target
    if not targets:
        raise InputError(when_empty)
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
    return _target_tables(path, entries, _header_lines(text, r"target"), 0)


def _header_lines(text: str, name: str) -> list[int]:
    """The line of each ``[[name]]`` header of ``text`` (``name`` a regular expression)."""
    header = re.compile(rf"(?m)^[ \t]*\[\[[ \t]*{name}[ \t]*\]\]")
    return [text.count("\n", 0, match.start()) + 1 for match in header.finditer(text)]


def _target_tables(path: Path, entries: list[Any], headers: list[int], fallback: int) -> list[Target]:
    targets: list[Target] = []
    names: dict[str, int] = {}
    for index, entry in enumerate(entries):
        line = headers[index] if index < len(headers) else fallback
        where = f"{display_path(path)}:{line}"
        if not isinstance(entry, dict):
            raise InputError(f"{where}: a target must be a table with a dsn")
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


# -- targets a query lists -----------------------------------------------------------------------

QUERY_COLUMNS = ("dsn", "schema", "name", "group")

SCHEMAS_QUERY = """
SELECT nspname AS schema FROM pg_catalog.pg_namespace
WHERE nspname LIKE %s AND nspname NOT LIKE 'pg\\_%%' AND nspname <> 'information_schema'
ORDER BY nspname
"""


def targets_from_query(dsn: str, query: str, *, source: str, params: tuple = (), when_empty: str | None = None) -> list[Target]:
    """The targets ``query`` lists when run (read-only) on ``dsn``.

    Its columns are named ``dsn`` (a NULL or a missing column: ``dsn`` itself), ``schema``,
    ``name`` and ``group``; at least ``dsn`` or ``schema``. ``source`` names the query in
    messages (``--fleet-query``, the configuration key), each target being its row.
    """
    try:
        conn = psycopg.connect(dsn, autocommit=True)
    except psycopg.Error as error:
        raise RunnerError(f"{source}: cannot connect to {describe_dsn(dsn)} to list the targets: {dsn_error(dsn, error)}") from None
    try:
        with conn, conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")  # listing targets never writes
            cursor = conn.execute(query, params or None)  # type: ignore[arg-type]
            if cursor.description is None:
                raise InputError(f"{source}: the query returns no rows to read targets from (it must be a SELECT)")
            columns = [column.name.lower() for column in cursor.description]
            rows = cursor.fetchall()
    except psycopg.Error as error:
        raise InputError(f"{source}: the query failed on {describe_dsn(dsn)}: {describe(error)}") from None
    unknown = [column for column in columns if column not in QUERY_COLUMNS]
    if unknown:
        raise InputError(
            f"{source}: the query returns a column {unknown[0]!r}; name its columns"
            f" {', '.join(QUERY_COLUMNS)} (SELECT ... AS dsn, ... AS schema)"
        )
    if "dsn" not in columns and "schema" not in columns:
        raise InputError(f"{source}: the query must return a dsn or a schema column")
    targets = []
    names: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        values = dict(zip(columns, row))
        where = f"{source}, row {number}"
        for key, value in values.items():
            if value is not None and not (isinstance(value, str) and value.strip()):
                raise InputError(f"{where}: {key} must be a non-empty text, not {type(value).__name__}")
        target_dsn = values.get("dsn") or dsn
        _check_dsn(target_dsn, where)
        name = values.get("name")
        if name is not None:
            if name in names:
                raise InputError(f"{where}: the name {name!r} is already used by row {names[name]}")
            names[name] = number
        targets.append(Target(target_dsn, values.get("schema"), source, number, name, values.get("group")))
    return _checked(targets, when_empty or f"{source}: the query listed no targets")


def targets_from_schemas(dsn: str, pattern: str, *, source: str | None = None) -> list[Target]:
    """A target for each schema of the database at ``dsn`` whose name matches the ``LIKE``
    ``pattern`` (``tenant_%``), in name order; PostgreSQL's own schemas never match."""
    source = source or f"--fleet-schemas {pattern!r}"
    return targets_from_query(dsn, SCHEMAS_QUERY, source=source, params=(pattern,),
                              when_empty=f"{source}: no schema of {describe_dsn(dsn)} matches")


# -- [tool.pytest-migrations.fleet] --------------------------------------------------------------

CONFIG_SECTION = f"[tool.{TOOL_TABLE}.fleet]"
CONFIG_SOURCES = ("targets", "schemas", "query", "target")
CONFIG_KEYS = frozenset({*CONFIG_SOURCES, "jobs"})


def fleet_config(config: ToolConfig) -> dict[str, Any] | None:
    """The fleet section of the configuration (``None``: there is none), its keys checked."""
    section = config.get("fleet")
    if section is None:
        return None
    where = display_path(config.path) if config.path else "pyproject.toml"
    if not isinstance(section, dict):
        raise InputError(f"{where}: {CONFIG_SECTION} must be a table")
    unknown = sorted(set(section) - CONFIG_KEYS)
    if unknown:
        line = _key_line(config, unknown[0])
        raise InputError(
            f"{where}{line}: unknown key {unknown[0]!r} in {CONFIG_SECTION}"
            f" (expected {', '.join(sorted(CONFIG_KEYS))})"
        )
    jobs = section.get("jobs")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int)):
        raise InputError(f"{where}{_key_line(config, 'jobs')}: {CONFIG_SECTION} jobs must be a whole number")
    return section


def targets_from_config(config: ToolConfig, dsn: str | None) -> list[Target]:
    """The targets ``[tool.pytest-migrations.fleet]`` names: exactly one of ``targets`` (a file,
    relative to ``pyproject.toml``), ``schemas`` or ``query`` (run on ``dsn``, the database
    URL), or ``[[tool.pytest-migrations.fleet.target]]`` tables."""
    section = fleet_config(config)
    if section is None:
        found = display_path(config.path) if config.path else "no pyproject.toml was found"
        raise InputError(
            f"--fleet without a targets file reads {CONFIG_SECTION} from pyproject.toml ({found}), which has none"
        )
    assert config.path is not None
    where = display_path(config.path)
    given = [key for key in CONFIG_SOURCES if key in section]
    if len(given) != 1:
        line = _key_line(config, given[1]) if len(given) > 1 else _section_line(config)
        listed = " and ".join(given) if given else "none of them"
        raise InputError(f"{where}{line}: {CONFIG_SECTION} needs one of {', '.join(CONFIG_SOURCES)}, not {listed}")
    key = given[0]
    value = section[key]
    line = _key_line(config, key)
    if key == "target":
        if not isinstance(value, list):
            raise InputError(f"{where}{line}: target must be an array of tables ([[tool.{TOOL_TABLE}.fleet.target]])")
        text = _config_text(config)
        headers = _header_lines(text, rf'tool[ \t]*\.[ \t]*"?{re.escape(TOOL_TABLE)}"?[ \t]*\.[ \t]*fleet[ \t]*\.[ \t]*target')
        fallback = int(line[1:]) if line else 0
        return _checked(_target_tables(config.path, value, headers, fallback), f"{where}{line}: no targets")
    if not (isinstance(value, str) and value.strip()):
        raise InputError(f"{where}{line}: {CONFIG_SECTION} {key} must be a non-empty string")
    if key == "targets":
        return read_targets(_relative_to(config.path, value))
    if not dsn:
        raise InputError(
            f"{where}{line}: {CONFIG_SECTION} {key} runs on the database URL: pass --database-url,"
            " set MIGRATIONS_DATABASE_URL, or set database_url"
        )
    source = f"{where}{line}: {key}"
    if key == "schemas":
        return targets_from_schemas(dsn, value, source=source)
    return targets_from_query(dsn, value, source=source)


def _relative_to(pyproject: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else pyproject.parent / path


def _config_text(config: ToolConfig) -> str:
    try:
        return config.path.read_text(encoding="utf-8") if config.path else ""
    except OSError:
        return ""


_SECTION_HEADER = re.compile(
    rf'(?m)^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*"?{re.escape(TOOL_TABLE)}"?[ \t]*\.[ \t]*fleet[ \t]*\]'
)


def _section_line(config: ToolConfig) -> str:
    """``:N``, the line of the ``[tool.pytest-migrations.fleet]`` header ("" when not found)."""
    text = _config_text(config)
    match = _SECTION_HEADER.search(text)
    return f":{text.count(chr(10), 0, match.start()) + 1}" if match else ""


def _key_line(config: ToolConfig, key: str) -> str:
    """``:N``, the line of ``key = ...`` in the fleet section ("" when not found)."""
    text = _config_text(config)
    match = _SECTION_HEADER.search(text)
    if match is None:
        return ""
    end = re.compile(r"(?m)^[ \t]*\[").search(text, match.end())
    body_end = end.start() if end else len(text)
    found = re.compile(rf'(?m)^[ \t]*"?{re.escape(key)}"?[ \t]*=').search(text, match.end(), body_end)
    if found is None:
        return f":{text.count(chr(10), 0, match.start()) + 1}"
    return f":{text.count(chr(10), 0, found.start()) + 1}"


__all__ = [
    "CONFIG_SECTION",
    "Target",
    "fleet_config",
    "read_targets",
    "targets_from_config",
    "targets_from_query",
    "targets_from_schemas",
]
