"""Finishing a migration outside a transaction that an interruption cut short.

Such a migration runs statement by statement, each committing on its own, and the runner records
after each batch (a statement, or a ``BEGIN ... COMMIT`` of the file, whose count commits inside
it) how many statements are done. A kill of the runner, a lost connection or a server restart
leaves the record dirty with that count and no error: the next ``up`` skips the statements done
and decides from the catalog whether the one that was running took effect. A ``CREATE INDEX
CONCURRENTLY`` cut short leaves an INVALID index, which is dropped (``DROP INDEX CONCURRENTLY``)
and built again; a valid one is done. A created or dropped table or index, an added or dropped
column: the object is there or not. Anything else (an ``INSERT``, a function call) cannot be read
back, and the record stays dirty, saying which statement and what to do. A statement that failed
with an error of its own is no interruption: its record keeps the error and waits for a human.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from migration_lint.execution import FILE_BLOCK, STATEMENT_BY_STATEMENT, ExecutionPlan
from migration_lint.parse import Statement
from migration_lint.sqlnodes import strings, unwrap

from ._errors import RunnerError, display_path
from ._lock import POLL_INTERVAL, holder_of

# Statements that only set the session up: skipped by a resume, they are sent again, since the
# statements after them count on them (a search_path, a lock_timeout).
_SESSION_SETTING = "VariableSetStmt"


# How long a run that does not take the runners' lock (a dry run, the fleet's preflight) waits for
# a migration's own lock: long enough for the session of a killed runner to end (the server
# checks on its client as often as the runner's ``client_connection_check_interval`` says), not
# for a live runner.
DEAD_CLIENT_GRACE = 5.0


def records_progress(plan: ExecutionPlan) -> bool:
    """Whether the runner records ``plan``'s progress statement by statement (as written, outside
    a transaction); other plans run as one query or inside the tool's transaction."""
    return plan.mode == STATEMENT_BY_STATEMENT and plan.direction == "up"


@dataclass(frozen=True)
class Resume:
    """Where an interrupted migration starts again, and what is undone first."""

    start_batch: int
    note: str  # for the output and the history: "resumed at statement N of M (...): why"
    replay: tuple[Statement, ...] = ()
    repair: tuple[sql.Composable, ...] = field(default_factory=tuple)


class Undecidable(RunnerError):
    """Whether the statement that was running took effect cannot be told: a human must say."""


def resume_point(conn: psycopg.Connection, plan: ExecutionPlan, statements_done: int) -> Resume:
    """Where to resume ``plan`` after ``statements_done`` statements (raises :class:`Undecidable`)."""
    counted, start = 0, 0
    while start < len(plan.batches) and counted < statements_done:
        counted += len(plan.batches[start].statements)
        start += 1
    total = len(plan.statements)
    if counted != statements_done:
        raise Undecidable(f"its record says {statements_done} of its {total} statements ran, which is no"
                          " point between its statements")
    path = display_path(plan.section.path)
    skipped = tuple(s for batch in plan.batches[:start] for s in batch.statements if s.kind == _SESSION_SETTING)
    if start == len(plan.batches):
        return Resume(start, f"resumed after statement {total} of {total} ({path}): every statement had run", skipped)
    batch = plan.batches[start]
    first = batch.statements[0]
    where = f"statement {statements_done + 1} of {total} ({path}:{first.line})"
    if batch.block == FILE_BLOCK:
        return Resume(start, f"resumed at {where}: its BEGIN ... COMMIT had not committed, so it runs again", skipped)
    if first.kind == _SESSION_SETTING:
        return Resume(start, f"resumed at {where}: a setting, sent again", skipped)
    if any(s.kind == _SESSION_SETTING and s.node.get("name") == "search_path" for s in skipped):
        raise Undecidable(f"{where} was running, and the catalog is read with the search_path an earlier statement sets")
    took_effect, repair = _took_effect(conn, first)
    if took_effect is None:
        raise Undecidable(
            f"{where} was running when the run stopped, and whether it took effect cannot be read from"
            f" the catalog ({_shorten(first.text)})"
        )
    if took_effect:
        return Resume(start + 1, f"resumed after {where}: the catalog shows it took effect", skipped)
    if repair:
        return Resume(start, f"resumed at {where}: {repair[0]}, dropped and built again", skipped, (repair[1],))
    return Resume(start, f"resumed at {where}: the catalog shows it had not taken effect, so it runs again", skipped)


def wait_until_not_running(conn: psycopg.Connection, key: int, wait: float) -> int | None:
    """Wait up to ``wait`` seconds for another session to let go of the migration's lock (a killed
    runner's session ends within a second or so); the pid still holding it, or ``None``."""
    deadline = time.monotonic() + wait
    while (pid := holder_of(conn, key)) is not None and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    return pid


def _took_effect(conn: psycopg.Connection, statement: Statement) -> tuple[bool | None, tuple[str, sql.Composable] | None]:
    """Whether ``statement`` took effect (``None``: cannot tell), and, when it left something
    that must go before it runs again, what (in words) and the statement that removes it."""
    kind, node = statement.kind, statement.node
    if kind == "IndexStmt" and node.get("idxname"):
        name = _qualified(node.get("relation", {}).get("schemaname"), node["idxname"])
        state = _index_state(conn, name)
        if state == "valid":
            return True, None
        if state is None:
            return False, None
        if node.get("concurrent"):
            found = conn.execute("SELECT %s::regclass::text", (name,)).fetchone()
            return False, (f"the build left index {found[0]} INVALID",  # type: ignore[index]
                           sql.SQL("DROP INDEX CONCURRENTLY {}").format(sql.SQL(found[0])))  # type: ignore[index]
        return None, None
    if kind == "CreateStmt":
        relation = node.get("relation", {})
        return _relation_exists(conn, _qualified(relation.get("schemaname"), relation["relname"])), None
    if kind == "DropStmt" and node.get("removeType") in ("OBJECT_TABLE", "OBJECT_INDEX", "OBJECT_VIEW", "OBJECT_SEQUENCE"):
        names = [_qualified(*_name_parts(obj)) for obj in node.get("objects", [])]
        present = [_relation_exists(conn, name) for name in names]
        if not any(present):
            return True, None
        if all(present) or node.get("missing_ok"):
            return False, None
        return None, None
    if kind == "AlterTableStmt" and node.get("objtype") == "OBJECT_TABLE":
        relation = node.get("relation", {})
        table = _qualified(relation.get("schemaname"), relation["relname"])
        wanted: list[tuple[str, bool]] = []
        for command in node.get("cmds", []):
            alter = command.get("AlterTableCmd", {})
            if alter.get("subtype") == "AT_AddColumn":
                wanted.append((alter.get("def", {}).get("ColumnDef", {}).get("colname"), True))
            elif alter.get("subtype") == "AT_DropColumn":
                wanted.append((alter.get("name"), False))
            else:
                return None, None
        if not wanted or not _relation_exists(conn, table):
            return None, None
        reached = [_column_exists(conn, table, column) == present for column, present in wanted]
        if all(reached):
            return True, None
        if not any(reached):
            return False, None
    return None, None


def _name_parts(obj: dict) -> tuple[str | None, str]:
    parts = strings(unwrap(obj)[1].get("items"))
    return (parts[-2] if len(parts) > 1 else None), parts[-1]


def _qualified(schema: str | None, name: str) -> str:
    """The name as ``to_regclass`` reads it: quoted, qualified where the statement qualified it."""
    parts = [schema, name] if schema else [name]
    return ".".join('"' + part.replace('"', '""') + '"' for part in parts)


def _relation_exists(conn: psycopg.Connection, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
    return bool(row and row[0])


def _index_state(conn: psycopg.Connection, name: str) -> str | None:
    row = conn.execute(
        "SELECT CASE WHEN indisvalid THEN 'valid' ELSE 'invalid' END FROM pg_catalog.pg_index"
        " WHERE indexrelid = to_regclass(%s)",
        (name,),
    ).fetchone()
    return row[0] if row else None


def _column_exists(conn: psycopg.Connection, table: str, column: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s"
        " AND attnum > 0 AND NOT attisdropped)",
        (table, column),
    ).fetchone()
    return bool(row and row[0])


def _shorten(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
