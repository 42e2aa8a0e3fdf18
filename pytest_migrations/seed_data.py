"""A few generated rows in every table, and a check that a migration's round trip kept them.

The up/down/up round trip proves more than the schema: after UP k then DOWN k, the rows that were
there before must still be there, unchanged. :func:`seed_rows` fills each table with a few rows
that satisfy its column types, NOT NULL, UNIQUE, foreign keys (parents first) and CHECK
constraints: ``col IN (...)`` is read from the definition; for any other CHECK an INSERT breaks,
candidate values of the column's type (e-mail-like, digits, upper/lower case, several lengths,
past/future dates, examples of the CHECK's own LIKE and regex patterns and constants) are
evaluated on the server with the constraint's own expression, and the first that holds in every
row is used. Values differ from row to row in every column, defaults included, unless a
constraint forbids it. A table that cannot be filled is skipped with PostgreSQL's reason. The
rows are recorded once every table is seeded, so that what triggers did to earlier tables is
part of them. :func:`verify_rows` later reads the tables again and names every lost or changed
row; in a round trip, :func:`read_rows_now` reads them as UP left them and :func:`blame`
names the step that lost each one.

Values are compared in their text form, so a column whose type a migration changes and changes
back (``varchar(255)`` -> ``varchar(768)`` -> ``varchar(255)``) still compares equal.

>>> seeded = seed_rows(conn)
>>> ...  # UP k, then DOWN k
>>> verify_rows(conn, seeded)
['table sessions: missing (3 seeded rows lost)']
>>> after_up = read_rows_now(conn, seeded)  # between UP k and DOWN k
>>> blame_losses(conn, seeded, after_up).up
['UP drops table sessions with its 3 seeded rows (an irreversible data change)']
"""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from .catalog import (
    FIRST_USER_OID, CatalogQuery, not_extension_member, quote_identifier, quote_literal, read_catalog, run_script,
    user_schema,
)  # fmt: skip
from .pgerrors import describe

__all__ = [
    "Filled", "Loss", "RowLosses", "RowsNow", "Seeded", "SeededTable", "blame", "blame_losses", "fill_tables",
    "find_losses", "read_rows_now", "remove_rows", "seed_rows", "verify_rows",
]

Row = dict[str, "str | None"]


@dataclass
class SeededTable:
    """The rows put into one table, as text, and the columns that identify a row."""

    name: str  # quote_ident'ed "schema.table"
    schema: str
    table: str
    columns: list[str]  # every column when seeded, in order
    key: list[str]  # primary key, else a NOT NULL unique key, else every column
    rows: list[Row]  # as they are once all seeding (and the triggers it fired) is done
    oid: int = 0
    attnums: dict[str, int] = field(default_factory=dict)  # column -> attnum: what a rename keeps


@dataclass
class Seeded:
    """What :func:`seed_rows` did: rows per table, and the tables it had to skip, with why."""

    tables: dict[str, SeededTable] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def seed_rows(
    conn: psycopg.Connection[Any],
    tables: Iterable[str] | None = None,
    *,
    rows_per_table: int = 3,
    exclude_schemas: Iterable[str] = (),
    exclude_tables: Iterable[str] = (),
    atomic: bool = True,
    memo: dict[Any, Any] | None = None,
    begin: str | None = None,
    savepoint: str | None = None,
) -> Seeded:
    """Insert ``rows_per_table`` generated rows into each table and return what went in.

    ``tables`` names the tables (``"name"`` for ``public.name``, or ``"schema.name"``); by default
    every ordinary and partitioned table outside the system schemas and extensions, less
    ``exclude_schemas`` and ``exclude_tables``. A partition is filled through its parent.

    Each table's INSERT runs in a savepoint: one that fails is tried again with one row, then
    skipped with PostgreSQL's message, and the others go on. The rows are committed unless
    ``conn`` is inside a transaction, which then holds them. ``atomic=False`` spares the
    savepoint around them all, for a caller that rolls its transaction back anyway.

    ``memo``, a dict kept by the caller from one seed to the next, remembers the values found to
    satisfy a table's CHECKs: a table described the same way (columns, constraints, the domains
    and enums of its columns) is seeded with them at once, without first failing an INSERT and
    trying candidates on the server.

    ``begin``, SQL that opens the caller's transaction on an autocommit ``conn``, goes to the
    server with the first round trip of the seed (with ``atomic=False``); ``savepoint`` names a
    savepoint left after the rows, made with the last round trip, for a caller that may go back
    to them.
    """
    wanted = None if tables is None else {_qualify(name) for name in tables}
    excluded = {_qualify(name) for name in exclude_tables}
    catalog = _Catalog.read(conn, list(exclude_schemas), wanted, begin)
    seeded = Seeded()
    candidates = [
        table
        for table in catalog.tables.values()
        if (wanted is None or table.plain_name in wanted) and table.plain_name not in excluded
    ]
    triggered = False
    mark = [sql.SQL("SAVEPOINT {}").format(sql.Identifier(savepoint))] if savepoint else []
    marked = False  # whether the savepoint went with a round trip
    # a partition is filled through its parent
    order = [t for t in _parents_first(candidates) if not (t.is_partition and t.parent in catalog.tables)]
    with conn.transaction() if atomic else contextlib.nullcontext():
        for group in _independent_groups(order, catalog):
            last = group[-1] is order[-1]
            then = mark if last and not (triggered or any(table.triggered for table in group)) else []
            batched = None
            if len(group) > 1:
                batched = _seed_together(conn, catalog, group, seeded, rows_per_table, memo, then)
            if batched is not None:
                seeded.skipped.update(batched)
                triggered = triggered or any(table.triggered for table in group if table.name in seeded.tables)
                marked = marked or bool(then)
                continue
            for table in group:
                then = mark if table is order[-1] and not (triggered or table.triggered) else []
                reason = _seed_table(conn, catalog, table, seeded, rows_per_table, memo, then)
                if reason:
                    seeded.skipped[table.name] = reason
                else:
                    triggered = triggered or table.triggered
                    marked = bool(then)
        if triggered:
            _record_as_they_are(conn, seeded, mark)
            marked = bool(mark)
        if mark and not marked:
            conn.execute(mark[0], prepare=False)
    return seeded


def _record_as_they_are(conn: psycopg.Connection[Any], seeded: Seeded, then: list[sql.Composable]) -> None:
    """Read the seeded rows again once every table is seeded: a trigger fired by a later table's
    INSERT may have changed rows of an earlier one (a counter, a search column, a timestamp on
    the parent), which RETURNING could not show. A table without a key of its own is recorded
    whole: its changed rows cannot be told from others."""
    tables = list(seeded.tables.values())
    current = _read_rows(conn, [(table, set(table.columns)) for table in tables], then)
    for table in tables:
        rows = current[table.name]
        if table.key == table.columns:
            table.rows = rows
            continue
        by_key = {tuple(row[column] for column in table.key): row for row in rows}
        table.rows = [by_key.get(tuple(row[column] for column in table.key), row) for row in table.rows]


def verify_rows(
    conn: psycopg.Connection[Any], seeded: Seeded, snapshot: Mapping[str, Mapping[str, Any]] | None = None
) -> list[str]:
    """One line per seeded row lost or changed (and per table or column gone); [] if all is well.

    Rows are matched on their key columns; rows that the migrations added are ignored. A
    ``snapshot`` of the database as it is now (:func:`~pytest_migrations.snapshot.take_snapshot`)
    tells which tables and columns are left, without asking the server.
    """
    return [loss.text for loss in _losses(conn, seeded, snapshot)]


@dataclass
class RowsNow:
    """The seeded rows as a step (an UP) left them, each table and column found by what a rename
    keeps (its oid, its attnum), else, for a table made again, by name."""

    tables: dict[str, _TableNow] = field(default_factory=dict)  # the seeded tables still there


@dataclass
class _TableNow:
    columns: dict[str, str]  # seeded column -> its name now, for the columns still there
    rows: list[Row]  # in the seeded columns' names


@dataclass
class RowLosses:
    """Who lost the seeded rows that a round trip did not bring back.

    ``up``: what UP deleted, dropped or changed and DOWN did not restore (an irreversible data
    change, a warning), one line per table and kind; ``down``: the rows, columns and values UP
    kept and DOWN lost or changed (the failure), one line each."""

    up: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)


_IDENTITY_NOW = sql.SQL(
    """SELECT c.oid::int8, n.nspname::text, c.relname::text,
       (SELECT json_agg(json_build_array(a.attnum, a.attname::text)) FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND (c.oid = ANY ({oids}::pg_catalog.oid[])
          OR (n.nspname, c.relname) IN (SELECT * FROM unnest({schemas}::text[], {names}::text[])))"""
)
_READ_SAVEPOINT = sql.SQL("SAVEPOINT pytest_migrations_read")
_READ_RELEASE = sql.SQL("RELEASE SAVEPOINT pytest_migrations_read")
_READ_ROLLBACK = sql.SQL(
    "ROLLBACK TO SAVEPOINT pytest_migrations_read; RELEASE SAVEPOINT pytest_migrations_read"
)


def read_rows_now(conn: psycopg.Connection[Any], seeded: Seeded, *, moved: bool = False) -> RowsNow:
    """The seeded tables' rows now, for :func:`blame_losses` (between UP and DOWN).

    One round trip when no seeded table or column was renamed, dropped or made again: the rows
    are read by their seeded names, beside the catalog rows that say whether those names still
    mean the same table and columns; else a second reads them by what the catalog says. When the
    caller knows that UP may have ``moved`` them (a rename, a DROP), the catalog is read first.
    """
    tables = list(seeded.tables.values())
    identity = _IDENTITY_NOW.format(
        oids=sql.Literal([table.oid for table in tables]),
        schemas=sql.Literal([table.schema for table in tables]),
        names=sql.Literal([table.table for table in tables]),
    )
    guessed = {table.name: (table.schema, table.table, {column: column for column in table.columns}) for table in tables}
    records: list[list[tuple[Any, ...]]] | None = None
    try:
        if moved:
            [identities] = run_script(conn, [identity])
        else:
            identities, *records = run_script(conn, [_READ_SAVEPOINT, identity, *_reads(tables, guessed), _READ_RELEASE])
    except psycopg.Error:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            conn.execute(_READ_ROLLBACK, prepare=False)
        [identities] = run_script(conn, [identity])
    found = _found_now(tables, identities)
    if records is None or found != guessed:
        records = run_script(conn, _reads(tables, found))
    now = RowsNow()
    readable = [table for table in tables if table.name in found and found[table.name][2]]
    for table, rows in zip(readable, records):
        columns = found[table.name][2]
        now.tables[table.name] = _TableNow(columns, [dict(zip(columns, row)) for row in rows])
    for table in tables:
        if table.name in found and table.name not in now.tables:
            now.tables[table.name] = _TableNow({}, [])
    return now


def _found_now(
    tables: list[SeededTable], identities: list[tuple[Any, ...]]
) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Each seeded table still there: (schema, name, seeded column -> column now)."""
    by_oid = {oid: (schema, name, dict(columns or [])) for oid, schema, name, columns in identities}
    by_name = {(schema, name): attnums for schema, name, attnums in by_oid.values()}
    found = {}
    for table in tables:
        if table.oid in by_oid:  # the same table, maybe renamed: its columns by attnum
            schema, name, attnums = by_oid[table.oid]
            columns = {column: attnums[attnum] for column, attnum in table.attnums.items() if attnum in attnums}
        elif (table.schema, table.table) in by_name:  # made again: its columns by name
            schema, name = table.schema, table.table
            present = set(by_name[(schema, name)].values())
            columns = {column: column for column in table.columns if column in present}
        else:
            continue
        found[table.name] = (schema, name, columns)
    return found


def _reads(tables: list[SeededTable], found: Mapping[str, tuple[str, str, Mapping[str, str]]]) -> list[sql.Composable]:
    """One SELECT per table found with columns left, its values as text, in the seeded order."""
    statements = []
    for table in tables:
        if table.name not in found or not found[table.name][2]:
            continue
        schema, name, columns = found[table.name]
        statements.append(
            sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(now)) for now in columns.values()),
                sql.Identifier(schema, name),
            )
        )
    return statements


def find_losses(
    conn: psycopg.Connection[Any], seeded: Seeded, snapshot: Mapping[str, Mapping[str, Any]] | None = None,
    *, then: list[sql.Composable] | None = None,
) -> list[Loss]:
    """The seeded rows lost or changed, as :func:`verify_rows` finds them, for :func:`blame`.
    ``then``: statements sent after the rows' reads, in the same round trip (if one fails, the
    error is raised and the rows are not read)."""
    return _losses(conn, seeded, snapshot, then)


def blame_losses(
    conn: psycopg.Connection[Any],
    seeded: Seeded,
    after_up: RowsNow,
    snapshot: Mapping[str, Mapping[str, Any]] | None = None,
) -> RowLosses:
    """The seeded rows a round trip lost or changed (as :func:`verify_rows` finds them now,
    after DOWN), each blamed on the step that lost it (see :func:`blame`)."""
    return blame(seeded, _losses(conn, seeded, snapshot), after_up)


def blame(seeded: Seeded, losses: list[Loss], after_up: RowsNow | None) -> RowLosses:
    """Each of ``losses`` blamed on the step that made it: UP, if ``after_up`` (the rows read
    between UP and DOWN) no longer held it as seeded, else DOWN (all of them without
    ``after_up``)."""
    blamed = RowLosses()
    if after_up is None:
        blamed.down = [loss.text for loss in losses]
        return blamed
    counts: dict[tuple[str, str, str], int] = {}

    def up(table: SeededTable, kind: str, column: str = "", rows: int = 1) -> None:
        counts[(table.name, kind, column)] = counts.get((table.name, kind, column), 0) + rows

    def up_also_lost(table: SeededTable, now: _TableNow | None, row: Row) -> None:
        """What UP had already taken from a row that DOWN then lost whole: each step's loss is
        named, so a DOWN deleting rows does not hide the column UP dropped from them."""
        row_now = _row_now(table, now, row)
        assert now is not None and row_now is not None
        for column in table.columns:
            if column not in now.columns:
                up(table, "column", column)
            elif row_now[column] != row[column]:
                up(table, "values", column)

    for loss in losses:
        table = seeded.tables[loss.table]
        now = after_up.tables.get(table.name)
        if loss.row is None and loss.column is None:  # the table is gone
            kept = [row for row in table.rows if _row_now(table, now, row) is not None]
            if kept:
                blamed.down.append(f"table {_display(table.name)}: missing ({_rows(len(kept))} that UP kept lost)")
            for row in kept:
                up_also_lost(table, now, row)
            if len(kept) < len(table.rows):
                up(table, "table" if now is None else "rows", rows=len(table.rows) - len(kept))
        elif loss.row is None:  # a column is gone
            if now is not None and loss.column in now.columns:
                blamed.down.append(loss.text)
            else:
                up(table, "column", loss.column or "")
        elif not loss.changes:  # a row is gone
            if _row_now(table, now, loss.row) is not None:
                blamed.down.append(loss.text)
                up_also_lost(table, now, loss.row)
            else:
                up(table, "table" if now is None else "rows")
        else:
            row_now = _row_now(table, now, loss.row)
            kept = [
                change for change, column in zip(loss.changes, loss.changed)
                if row_now is not None and column in row_now and row_now[column] == loss.row[column]
            ]  # fmt: skip
            if kept:
                blamed.down.append(f"table {_display(table.name)}: row {loss.label} changed: " + ", ".join(kept))
            for column in loss.changed:
                if row_now is None or column not in row_now or row_now[column] != loss.row[column]:
                    up(table, "column" if now is None or column not in now.columns else "values", column)
    for (name, kind, column), count in counts.items():
        display = _display(name)
        keyless = seeded.tables[name].key == seeded.tables[name].columns
        blamed.up.append({
            "table": f"UP drops table {display} with its {_rows(count)}",
            "rows": f"UP deletes {'or changes ' if keyless else ''}{_rows(count)} of {display}",
            "column": f"UP drops column {column} of {display} with its seeded values",
            "values": f"UP changes {column} in {_rows(count)} of {display}",
        }[kind] + " (an irreversible data change)")  # fmt: skip
    return blamed


def _row_now(table: SeededTable, now: _TableNow | None, row: Row) -> Row | None:
    """The row of ``now`` with the key of seeded ``row`` (None if none, or a key column is gone)."""
    if now is None or any(column not in now.columns for column in table.key):
        return None
    identity = tuple(row[column] for column in table.key)
    return next((candidate for candidate in now.rows if tuple(candidate[c] for c in table.key) == identity), None)


@dataclass
class Loss:
    """One way the seeded rows differ from what is there now."""

    table: str
    text: str
    column: str | None = None  # a column gone
    row: Row | None = None  # a row gone or changed
    label: str = ""
    changes: list[str] = field(default_factory=list)  # "column 'old' -> 'new'"
    changed: list[str] = field(default_factory=list)  # the columns of ``changes``


def _losses(
    conn: psycopg.Connection[Any], seeded: Seeded, snapshot: Mapping[str, Mapping[str, Any]] | None,
    then: list[sql.Composable] | None = None,
) -> list[Loss]:
    losses: list[Loss] = []
    tables = list(seeded.tables.values())
    if snapshot is None:
        present_columns = _existing_columns(conn, tables)
    else:
        present_columns = {table.name: _snapshot_columns(snapshot, table.name) for table in tables}
    present_rows = _read_rows(conn, [(table, present_columns[table.name]) for table in tables], then)
    for table in tables:
        display = _display(table.name)
        present = present_columns[table.name]
        if present is None:
            losses.append(Loss(table.name, f"table {display}: missing ({_rows(len(table.rows))} lost)"))
            continue
        for column in table.columns:
            if column not in present:
                losses.append(Loss(table.name, f"table {display}: column {column} missing (its seeded values lost)", column))
        columns = [column for column in table.columns if column in present]
        key = [column for column in table.key if column in present] or columns
        current: dict[tuple[str | None, ...], list[Row]] = {}
        for row in present_rows[table.name]:
            current.setdefault(tuple(row[column] for column in key), []).append(row)
        for seeded_row in table.rows:
            identity = tuple(seeded_row[column] for column in key)
            label = _row_label(key, identity)
            candidates = current.get(identity)
            if not candidates:
                # without a key of its own, a changed row cannot be told from a lost one
                lost = "missing" if key != columns else "missing or changed"
                losses.append(Loss(table.name, f"table {display}: row {label} {lost}", row=seeded_row, label=label))
                continue
            if any(all(row[c] == seeded_row[c] for c in columns) for row in candidates):
                continue  # unchanged (several rows may share the key: one of them is ours)
            changed = [column for column in columns if seeded_row[column] != candidates[0][column]]
            changes = [f"{column} {_text(seeded_row[column])} -> {_text(candidates[0][column])}" for column in changed]
            losses.append(
                Loss(table.name, f"table {display}: row {label} changed: " + ", ".join(changes),
                      row=seeded_row, label=label, changes=changes, changed=changed)
            )  # fmt: skip
    return losses


def remove_rows(conn: psycopg.Connection[Any], seeded: Seeded) -> list[str]:
    """Delete the seeded rows again (children first), by key; one line per table that resisted.

    Rows a migration changed or removed are simply not found. Seeding again after this reuses
    the same values without colliding.
    """
    problems: list[str] = []
    with conn.transaction():
        tables = list(seeded.tables.values())
        present_columns = _existing_columns(conn, tables)
        for table in reversed(tables):
            present = present_columns[table.name]
            if present is None:
                continue
            key = [column for column in table.key if column in present]
            if not key:
                continue
            condition = sql.SQL(" AND ").join(
                sql.SQL("{}::text IS NOT DISTINCT FROM {}").format(sql.Identifier(column), sql.Placeholder(column))
                for column in key
            )
            statement = sql.SQL("DELETE FROM {} WHERE {}").format(sql.Identifier(table.schema, table.table), condition)
            try:
                with conn.transaction(), conn.cursor() as cursor:
                    cursor.executemany(statement, [{column: row[column] for column in key} for row in table.rows])
            except psycopg.Error as error:
                problems.append(f"table {_display(table.name)}: seeded rows not removed: {describe(error, detail=False)}")
    return problems


# -- the tracer's filler: many rows, made on the server ------------------------------------------


@dataclass(frozen=True)
class Filled:
    """What :func:`fill_tables` did to one table."""

    table: str  # "schema.name"
    rows: int  # rows inserted; 0 when skipped
    reason: str = ""  # why it was skipped


def fill_tables(conn: psycopg.Connection[Any], rows: int) -> list[Filled]:
    """Fill every empty table made after initdb with ``rows`` generated rows, parents first: the
    tracer's filler (``--trace-rows``), so that rewrites, scans and index builds take time.

    The same seeder as :func:`seed_rows` (the catalog read once, tables in the order their
    foreign keys need) with another filler: one ``INSERT ... SELECT ... FROM generate_series(1,
    N)`` per table, values made on the server from the row number ``g``, so that integer foreign
    keys 1..N find their parents' rows. Columns with a default, identity or generated columns are
    left to PostgreSQL, nullable foreign keys stay NULL. When that INSERT fails, a second fills
    only the NOT NULL columns; when that fails too, the table is skipped and the reason kept.
    Partitions are filled through their parents; a table with rows is left alone.
    """
    catalog = _Catalog.read(conn, [], None)
    tables = [table for table in catalog.tables.values() if not table.is_partition]
    return [_fill_table(conn, catalog, table, rows) for table in _parents_first(tables)]


def _fill_table(conn: psycopg.Connection[Any], catalog: _Catalog, table: _Table, rows: int) -> Filled:
    name = table.plain_name
    target = sql.Identifier(table.schema, table.relname)
    has_rows = conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(target), prepare=False).fetchone()
    if has_rows and has_rows[0]:
        return Filled(name, 0, "already has rows")
    foreign = {column for foreign_key in table.foreign_keys for column in foreign_key.columns}
    left_out = [c for c in table.columns if c.default is not None or c.identity or c.generated]
    values = {c.name: _series_value(catalog, c) for c in table.columns if c not in left_out}
    missing = [c.name for c in table.columns if c.not_null and c not in left_out and values[c.name] is None]
    if missing:
        return Filled(name, 0, f"no value generator for NOT NULL column(s) {', '.join(missing)}")
    attempts = [
        [c.name for c in table.columns if values.get(c.name) is not None and (c.not_null or c.name not in foreign)],
        [c.name for c in table.columns if c.not_null and c not in left_out],
    ]
    error = ""
    for attempt, chosen in enumerate(attempts):
        if attempt and chosen == attempts[0]:
            break
        series = sql.SQL("pg_catalog.generate_series(1, {}) AS s(g)").format(sql.Literal(rows))
        if chosen:
            statement = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                target, sql.SQL(", ").join(map(sql.Identifier, chosen)),
                sql.SQL(", ").join(values[column] for column in chosen), series,  # type: ignore[misc]
            )  # fmt: skip
        else:
            statement = sql.SQL("INSERT INTO {} SELECT FROM {}").format(target, series)
        try:
            with conn.transaction():
                conn.execute(statement, prepare=False)
            return Filled(name, rows, "")
        except psycopg.Error as exc:
            error = (exc.diag.message_primary or str(exc) or type(exc).__name__).splitlines()[0]
    return Filled(name, 0, f"INSERT failed: {error}")


def _series_value(catalog: _Catalog, column: _Column) -> sql.Composable | None:
    """An expression of the row number ``g`` of the column's type, or None for a type we cannot make."""
    info = catalog.types.get(column.type_oid)
    type_name = column.type_name
    while info is not None and info.kind == "d":
        base = catalog.types.get(info.base)
        type_name = _with_typmod(base.name, info.base_typmod) if base else ""
        info = base
    if info is None:
        return None
    expression = _series_expression(info, type_name)
    if expression is None:
        return None
    return sql.Composed([sql.SQL("CAST("), expression, sql.SQL(f" AS {column.type_name})")])


def _series_expression(info: _Type, type_name: str) -> sql.Composable | None:
    if info.kind == "e":
        return sql.Literal(info.labels[0]) if info.labels else None
    base = type_name.split("(")[0].strip()
    modifier = _LENGTH.search(type_name)
    if base == "smallint":
        return sql.SQL("g % 32767")
    if info.category == "N":
        return sql.SQL("g")
    if info.category == "S":
        length = int(modifier.group(1)) if modifier and base != "text" else 32
        return sql.SQL("pg_catalog.left(pg_catalog.md5(g::text), {})").format(sql.Literal(min(length, 32)))
    if info.category == "B":
        return sql.SQL("g % 2 = 0")
    if base.startswith("timestamp"):
        return sql.SQL("timestamp '2000-01-01' + g * interval '1 second'")
    if base == "date":
        return sql.SQL("date '2000-01-01' + g % 36500")
    if base.startswith("time"):
        return sql.SQL("time '00:00' + g * interval '1 second'")
    if base == "interval":
        return sql.SQL("g * interval '1 second'")
    if base == "uuid":
        return sql.SQL("pg_catalog.md5(g::text)")
    if base in ("json", "jsonb") or info.category == "A":
        return sql.SQL("'{}'")
    if base == "bytea":
        return sql.SQL("pg_catalog.decode(pg_catalog.md5(g::text), 'hex')")
    if base in ("inet", "cidr"):
        return sql.SQL("'10.0.0.0'::inet + g")
    return None


# -- the catalog -------------------------------------------------------------------------------


@dataclass
class _Column:
    name: str
    type_oid: int
    type_name: str
    not_null: bool
    default: str | None
    identity: bool
    generated: bool
    attnum: int = 0


@dataclass
class _Constraint:
    kind: str  # p, u, f, c
    name: str
    columns: list[str]
    definition: str
    references: int | None = None
    ref_columns: list[str] = field(default_factory=list)


@dataclass
class _Table:
    oid: int
    name: str  # quote_ident'ed "schema.table"
    schema: str
    relname: str
    is_partition: bool
    parent: int | None
    columns: list[_Column]
    constraints: list[_Constraint]
    triggered: bool = False  # a trigger or rule can change rows (of any table) when one is inserted
    partitions: list[str] = field(default_factory=list)  # the bounds of its partitions

    @property
    def plain_name(self) -> str:
        return f"{self.schema}.{self.relname}"

    @property
    def foreign_keys(self) -> list[_Constraint]:
        return [c for c in self.constraints if c.kind == "f"]

    def key(self) -> list[str]:
        for kind in ("p", "u"):
            for constraint in self.constraints:
                if constraint.kind == kind and all(
                    column.not_null for column in self.columns if column.name in constraint.columns
                ):
                    return constraint.columns
        return [column.name for column in self.columns]

    def unique_columns(self) -> set[str]:
        return {name for c in self.constraints if c.kind in ("p", "u") for name in c.columns}


@dataclass
class _Type:
    oid: int
    name: str  # format_type, qualified
    kind: str  # typtype: b, c, d, e, r, m, p
    category: str
    element: int  # array element type, or 0
    base: int  # domain base type, or 0
    base_typmod: int
    labels: list[str]
    attributes: list[tuple[str, int, int]]  # composite: name, type, typmod
    subtype: int  # range subtype, or 0
    checks: list[str]  # domain CHECK definitions


# The tables a seed reads: those named in $2 (all when NULL) and, to any depth, the tables they
# reference and the partitioned tables they are partitions of; all of them ordinary or
# partitioned, made after initdb, outside the system schemas, $1 and extensions.
_CHOSEN = f"""
candidate AS (
    SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid >= {FIRST_USER_OID} AND c.relkind IN ('r', 'p') AND {user_schema('n.nspname')}
      AND n.nspname <> ALL ($1) AND {not_extension_member('pg_class', 'c.oid')}
),
chosen (oid) AS (
    SELECT oid FROM candidate WHERE $2 IS NULL OR nspname || '.' || relname = ANY ($2)
    UNION
    SELECT needed.oid FROM chosen,
    LATERAL (SELECT k.confrelid FROM pg_constraint k WHERE k.conrelid = chosen.oid AND k.contype = 'f'
             UNION ALL SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = chosen.oid) needed (oid)
    WHERE needed.oid IN (SELECT oid FROM candidate)
)"""

_TABLES = CatalogQuery(
    f"""
WITH RECURSIVE {_CHOSEN}
SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), n.nspname, c.relname,
       c.relispartition,
       (SELECT i.inhparent FROM pg_inherits i WHERE i.inhrelid = c.oid AND c.relispartition),
       (SELECT json_agg(json_build_array(a.attname, a.atttypid::int8, format_type(a.atttypid, a.atttypmod),
                                         a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                                         a.attidentity <> '', a.attgenerated <> '', a.attnum) ORDER BY a.attnum)
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
       (SELECT json_agg(json_build_array(
                   k.contype, k.conname,
                   (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum),
                   pg_get_constraintdef(k.oid), NULLIF(k.confrelid, 0)::int8,
                   (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum)))
        FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f', 'c')),
       c.relhasrules OR EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
       (SELECT json_agg(pg_get_expr(p.relpartbound, p.oid) ORDER BY p.oid) FROM pg_inherits i
        JOIN pg_class p ON p.oid = i.inhrelid WHERE i.inhparent = c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid IN (SELECT oid FROM chosen)
ORDER BY 2
""",
    "(text[], text[])",
)

# The types of the chosen tables' columns, and the types those are made of, to any depth.
_TYPES = CatalogQuery(
    f"""
WITH RECURSIVE {_CHOSEN},
needed (oid) AS (
    SELECT a.atttypid FROM pg_attribute a
    WHERE a.attrelid = ANY (ARRAY(SELECT oid FROM chosen)) AND a.attnum > 0 AND NOT a.attisdropped
    UNION
    -- OFFSET 0 and ANY (ARRAY ...): look rows up by oid (the planner would read whole catalogs)
    SELECT part.oid FROM needed, LATERAL (SELECT * FROM pg_type t WHERE t.oid = needed.oid OFFSET 0) t,
    LATERAL (SELECT CASE WHEN t.typlen = -1 AND t.typcategory = 'A' THEN t.typelem ELSE 0 END
             UNION ALL SELECT t.typbasetype
             UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid
             UNION ALL SELECT a.atttypid FROM pg_attribute a
                       WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
    ) part (oid)
    WHERE part.oid <> 0
)
SELECT t.oid, format_type(t.oid, NULL), t.typtype, t.typcategory,
       CASE WHEN t.typlen = -1 AND t.typcategory = 'A' THEN t.typelem ELSE 0 END,
       t.typbasetype, t.typtypmod,
       (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid),
       (SELECT json_agg(json_build_array(a.attname, a.atttypid::int8, a.atttypmod) ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = t.typrelid AND t.typtype = 'c' AND a.attnum > 0
        AND NOT a.attisdropped),
       coalesce((SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid), 0),
       (SELECT json_agg(pg_get_constraintdef(k.oid)) FROM pg_constraint k
        WHERE k.contypid = t.oid AND k.contype = 'c')
FROM pg_type t WHERE t.oid = ANY (ARRAY(SELECT oid FROM needed))
""",
    "(text[], text[])",
)


@dataclass
class _Catalog:
    tables: dict[int, _Table]
    types: dict[int, _Type]

    @classmethod
    def read(
        cls, conn: psycopg.Connection[Any], excluded_schemas: list[str], wanted: set[str] | None, begin: str | None = None
    ) -> _Catalog:
        """The ``wanted`` tables (``"schema.name"``; all when None), the tables they need filled
        first and their partitioned parents, and all their columns' types."""
        # Read with a bare search_path so every type name comes qualified, usable anywhere;
        # the INSERTs then run with the session's own path (triggers and defaults rely on it).
        names = sql.SQL("NULL") if wanted is None else sql.Literal(sorted(wanted))
        arguments = sql.SQL("({}, {}::text[])").format(sql.Literal(excluded_schemas), names)
        table_rows, type_rows = read_catalog(conn, [(_TABLES, arguments), (_TYPES, arguments)], begin=begin)
        tables = {}
        for oid, name, schema, relname, is_partition, parent, columns, constraints, triggered, bounds in table_rows:
            tables[oid] = _Table(
                oid, name, schema, relname, is_partition, parent,
                [_Column(*column) for column in columns or []],
                [_Constraint(kind, cname, cols or [], definition, ref, ref_cols or [])
                 for kind, cname, cols, definition, ref, ref_cols in constraints or []],
                triggered, bounds or [],
            )  # fmt: skip
        types: dict[int, _Type] = {}
        for oid, name, kind, category, element, base, base_typmod, labels, attributes, subtype, checks in type_rows:
            types[oid] = _Type(
                oid, name, kind, category, element, base, base_typmod, labels or [],
                [tuple(attribute) for attribute in attributes or []], subtype, checks or [],
            )  # fmt: skip
        return cls(tables, types)


def _parents_first(tables: list[_Table]) -> list[_Table]:
    """Tables in an order where every referenced table comes before its referrers (cycles cut)."""
    by_oid = {table.oid: table for table in tables}
    ordered: list[_Table] = []
    state: dict[int, str] = {}

    def visit(table: _Table) -> None:
        if state.get(table.oid):
            return  # done, or on the current path (a cycle: its nullable keys get NULL)
        state[table.oid] = "visiting"
        for foreign_key in table.foreign_keys:
            parent = by_oid.get(foreign_key.references or 0)
            if parent is not None and parent.oid != table.oid:
                visit(parent)
            # a partition's parent is filled instead of it, so its parent's parents come first
        if table.parent in by_oid:
            visit(by_oid[table.parent])  # type: ignore[index]
        state[table.oid] = "done"
        ordered.append(table)

    for table in sorted(tables, key=lambda t: t.name):
        visit(table)
    return ordered


# -- generating rows ---------------------------------------------------------------------------


def _seed_table(
    conn: psycopg.Connection[Any], catalog: _Catalog, table: _Table, seeded: Seeded, count: int,
    memo: dict[Any, Any] | None = None, then: list[sql.Composable] | None = None,
) -> str | None:
    """Insert rows (``then`` after them, in the same round trip); the reason it could not, or None."""
    key = _description(catalog, table)
    if memo is not None and isinstance(memo.get(key), str):
        return memo[key]  # the same table failed every attempt
    # the first attempt that worked for this table, whatever migrations changed since, is where
    # the next seed starts (a partition key whose default only fits stays so)
    remembered, start = memo.get(key, ({}, memo.get(table.name, 0))) if memo is not None else ({}, 0)
    chosen = dict(remembered)
    reason, attempt = _seed_table_with(conn, catalog, table, seeded, count, chosen, start, then or [])
    if memo is not None and reason is None:
        if chosen or attempt:
            memo[key] = (chosen, attempt)
        memo[table.name] = attempt
    elif memo is not None and reason is not None and attempt == len(_ATTEMPTS):
        memo[key] = reason  # every INSERT failed: it will again, unless the table changes
    return reason


def _independent_groups(order: list[_Table], catalog: _Catalog) -> list[list[_Table]]:
    """``order`` cut into runs of tables none of which takes values from another of its run
    (through a foreign key, to the table or the partitioned parent it is filled through)."""
    groups: list[list[_Table]] = []
    members: set[int] = set()
    for table in order:
        sources = set()
        for foreign_key in table.foreign_keys:
            parent = catalog.tables.get(foreign_key.references or 0)
            while parent is not None and parent.oid != table.oid:
                sources.add(parent.oid)
                parent = catalog.tables.get(parent.parent or 0) if parent.is_partition else None
        if groups and not sources & members:
            groups[-1].append(table)
        else:
            groups.append([table])
            members = set()
        members.add(table.oid)
    return groups


def _seed_together(
    conn: psycopg.Connection[Any], catalog: _Catalog, tables: list[_Table], seeded: Seeded, count: int,
    memo: dict[Any, Any] | None, then: list[sql.Composable],
) -> dict[str, str] | None:
    """Insert the rows of ``tables`` (independent of one another) in one round trip, each as
    the first attempt :func:`_seed_table` would make; the tables skipped, with why. None when
    an INSERT failed: then nothing of them stayed, for :func:`_seed_table` to seed them one by
    one, which finds what fails and tries other values."""
    skipped: dict[str, str] = {}
    inserts: list[tuple[_Table, Any, int, dict[str, _Template], int, list[sql.Composable]]] = []
    for table in tables:
        key = _description(catalog, table)
        if memo is not None and isinstance(memo.get(key), str):
            skipped[table.name] = memo[key]
            continue
        remembered, start = memo.get(key, ({}, memo.get(table.name, 0))) if memo is not None else ({}, 0)
        chosen = dict(remembered)
        rows, own_values, first = _attempts(count)[start]
        try:
            values = _row_values(catalog, table, seeded, rows, own_values, table.unique_columns(), first, chosen)
        except _Unfillable as error:
            skipped[table.name] = str(error)
            continue
        inserts.append((table, key, start, chosen, rows, _insert_statements(conn, table, values, rows)))
    if not inserts:
        if then:
            conn.execute(then[0], prepare=False)
        return skipped
    statements = [statement for *_, table_statements in inserts for statement in table_statements]
    try:
        results = run_script(conn, [_SAVEPOINT, *statements, _RELEASE, *then])
    except psycopg.Error:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            conn.execute(_ROLLBACK, prepare=False)
        return None
    for table, key, attempt, chosen, rows, table_statements in inserts:
        records = [row for records in results[: len(table_statements)] for row in _as_rows(table, records)]
        results = results[len(table_statements):]
        seeded.tables[table.name] = _seeded_table(table, records)
        if memo is not None:
            if chosen or attempt:
                memo[key] = (chosen, attempt)
            memo[table.name] = attempt
    return skipped


def _description(catalog: _Catalog, table: _Table) -> tuple[Any, ...]:
    """What the values that satisfy a table's CHECKs depend on."""
    types = [catalog.types.get(column.type_oid) for column in table.columns]
    return (
        table.name,
        tuple((c.name, c.type_name, c.not_null, c.default, c.identity, c.generated) for c in table.columns),
        tuple((c.kind, c.name, c.definition) for c in table.constraints),
        tuple((tuple(t.labels), tuple(t.checks)) if t is not None else () for t in types),
        tuple(table.partitions),
    )


# (which defaults give way to values of their own, first row number). Rows whose values differ
# in every column show what an UP that merges or deduplicates rows does; defaults are kept only
# where values of their own fail (a CHECK or a trigger that wants them, a partition made for
# today's date), and then, if three rows sharing one collide, in no unique column. The later
# attempts step past rows a previous seed (or the migrations) left in unique columns.
_ALL, _NONE, _UNIQUE = "all", "none", "unique"
_ATTEMPTS = ((_ALL, 1), (_NONE, 1), (_UNIQUE, 1), (_UNIQUE, 1001))


def _seed_table_with(
    conn: psycopg.Connection[Any], catalog: _Catalog, table: _Table, seeded: Seeded, count: int,
    chosen: dict[str, _Template], start: int = 0, then: list[sql.Composable] | None = None,
) -> tuple[str | None, int]:
    """Insert rows: (the reason it could not, or None; the attempt that worked)."""
    unique = table.unique_columns()
    attempts = _attempts(count)
    reason = "no attempt made"
    # ``chosen``: columns whose values were chosen to satisfy a CHECK (here or by an earlier seed
    # of the same table); ``repaired``: the CHECKs tried here, each at most once
    repaired: set[str] = set()
    unsatisfied: dict[str, str] = {}  # CHECK -> why no value tried satisfied it
    for attempt, (rows, own_values, first) in enumerate(attempts):
        if attempt < start:
            continue
        while True:
            try:
                values = _row_values(catalog, table, seeded, rows, own_values, unique, first, chosen)
            except _Unfillable as error:  # depends on what other tables got: not remembered
                return str(error), -1
            try:
                inserted = _insert(conn, table, values, rows, then or [])
            except psycopg.Error as error:
                reason = describe(error, detail=False)
                check = _violated_check(table, error)
                if check is not None and check.name in unsatisfied:
                    reason = unsatisfied[check.name]
                if check is None or check.name in repaired:
                    break
                repaired.add(check.name)
                if not _satisfy_check(conn, catalog, table, check, values, first, chosen):
                    reason = unsatisfied[check.name] = f"{reason}; no value tried satisfies it"
                    if own_values == _ALL:
                        break  # the columns' defaults may
                    return reason, attempt
                continue
            seeded.tables[table.name] = _seeded_table(table, inserted)
            return None, attempt
    return reason, len(attempts) - 1


def _attempts(count: int) -> list[tuple[int, str, int]]:
    """(rows, which defaults give way, first row number) of each attempt, in turn."""
    return [(count, *attempt) for attempt in _ATTEMPTS] + [(1, _UNIQUE, 2001)]


def _seeded_table(table: _Table, inserted: list[Row]) -> SeededTable:
    return SeededTable(
        table.name, table.schema, table.relname,
        [column.name for column in table.columns], table.key(), inserted,
        table.oid, {column.name: column.attnum for column in table.columns},
    )  # fmt: skip


class _Unfillable(Exception):
    """A table for which no rows can be made (a type we cannot generate, a parent left empty)."""


def _row_values(
    catalog: _Catalog,
    table: _Table,
    seeded: Seeded,
    rows: int,
    own_values: str,
    unique: set[str],
    first: int = 1,
    chosen: Mapping[str, _Template] | None = None,
) -> list[dict[str, sql.Composable]]:
    """For each row, column -> SQL expression; columns left out take their default."""
    foreign_values: dict[str, list[sql.Composable | None]] = {}
    for foreign_key in table.foreign_keys:
        parent = catalog.tables.get(foreign_key.references or 0)
        parent_rows = _parent_rows(parent, catalog, seeded) if parent and parent.oid != table.oid else []
        if not parent_rows:
            nullable = all(not _column(table, name).not_null for name in foreign_key.columns)
            if not nullable:
                parent_name = _display(parent.name) if parent else "another table"
                why = "references itself" if parent and parent.oid == table.oid else f"references {parent_name}, which has no seeded rows"
                raise _Unfillable(f"{foreign_key.name}: NOT NULL foreign key {why}")
            for name in foreign_key.columns:
                foreign_values[name] = [None] * rows
            continue
        for name, parent_column in zip(foreign_key.columns, foreign_key.ref_columns):
            column = _column(table, name)
            foreign_values[name] = [
                _cast(parent_rows[index % len(parent_rows)].get(parent_column), column.type_name)
                for index in range(rows)
            ]

    result: list[dict[str, sql.Composable]] = [{} for _ in range(rows)]
    for column in table.columns:
        if column.generated or column.identity:
            continue
        if column.name in foreign_values:
            for index in range(rows):
                value = foreign_values[column.name][index]
                result[index][column.name] = value if value is not None else sql.SQL("NULL")
            continue
        if chosen and column.name in chosen:
            # picked to satisfy a CHECK, which the column's default may not
            for index in range(rows):
                result[index][column.name] = _cast_text(chosen[column.name](first + index), column.type_name)
            continue
        if column.default is not None:
            # A sequence's value is left to it (an explicit one would collide later); another
            # default gives way to values of their own (see _ATTEMPTS).
            if "nextval(" in column.default or own_values == _NONE:
                continue
            if own_values == _UNIQUE and column.name not in unique:
                continue
        allowed = _allowed_values(table, column)
        for index in range(rows):
            value = _value(catalog, column.type_oid, column.type_name, first + index, column.name, allowed)
            if value is None:
                if column.not_null:
                    raise _Unfillable(f"column {column.name}: cannot generate a {column.type_name}")
                value = sql.SQL("NULL")
            result[index][column.name] = value
    return result


def _parent_rows(parent: _Table, catalog: _Catalog, seeded: Seeded) -> list[Row]:
    """A referenced table's seeded rows (a partition's rows live in its seeded parent)."""
    if parent.name in seeded.tables:
        return seeded.tables[parent.name].rows
    if parent.is_partition and parent.parent in catalog.tables:
        return _parent_rows(catalog.tables[parent.parent], catalog, seeded)  # type: ignore[index]
    return []


_SAVEPOINT = sql.SQL("SAVEPOINT pytest_migrations_seed")
_RELEASE = sql.SQL("RELEASE SAVEPOINT pytest_migrations_seed")
_ROLLBACK = sql.SQL("ROLLBACK TO SAVEPOINT pytest_migrations_seed; RELEASE SAVEPOINT pytest_migrations_seed")


def _insert(
    conn: psycopg.Connection[Any], table: _Table, values: list[dict[str, sql.Composable]], rows: int,
    then: list[sql.Composable] | None = None,
) -> list[Row]:
    """Insert the rows in a savepoint of their own, in one round trip; the rows as inserted."""
    statements = _insert_statements(conn, table, values, rows)
    try:
        results = run_script(conn, [_SAVEPOINT, *statements, _RELEASE, *(then or [])])
    except psycopg.Error:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            conn.execute(_ROLLBACK, prepare=False)
        raise
    return [row for records in results for row in _as_rows(table, records)]


def _insert_statements(
    conn: psycopg.Connection[Any], table: _Table, values: list[dict[str, sql.Composable]], rows: int
) -> list[sql.Composable]:
    """The INSERTs of the rows, each returning what went in."""
    # written as text: composing psycopg's sql objects value by value costs more than the INSERT
    target = f"{quote_identifier(table.schema)}.{quote_identifier(table.relname)}"
    returning = ", ".join(f"{quote_identifier(column.name)}::text" for column in table.columns)
    names = [column.name for column in table.columns if column.name in values[0]]
    if names:
        rows_text = ", ".join(
            "(" + ", ".join(row[name].as_string(conn) for name in names) + ")" for row in values
        )
        columns = ", ".join(map(quote_identifier, names))
        statements = [sql.SQL(f"INSERT INTO {target} ({columns}) VALUES {rows_text} RETURNING {returning}")]
    else:
        statements = [sql.SQL(f"INSERT INTO {target} DEFAULT VALUES RETURNING {returning}")] * rows
    return statements


def _as_rows(table: _Table, records: list[tuple[Any, ...]]) -> list[Row]:
    return [dict(zip((column.name for column in table.columns), record)) for record in records]


def _column(table: _Table, name: str) -> _Column:
    return next(column for column in table.columns if column.name == name)


def _cast(text: str | None, type_name: str) -> sql.Composable | None:
    # type_name comes from format_type(), which quotes and qualifies it; there is no Identifier
    # for a type with its modifier (numeric(12,2))
    if text is None:
        return None
    return _cast_text(text, type_name)


def _cast_text(text: str, type_name: str) -> sql.Composable:
    # one SQL object of text: SQL.format() parses its template on every call, and a Literal
    # goes through the connection's adapters, for every value
    return sql.SQL(f"CAST({quote_literal(text)} AS {type_name})")


# CHECK ((status = ANY (ARRAY['new'::text, 'paid'::text]))), CHECK ((VALUE = ANY (...)))
_ANY_ARRAY = re.compile(r"^CHECK \(\(\(?(?P<column>\"(?:[^\"]|\"\")+\"|\w+)\)?(?:::[\w .]+)? = ANY \(\(?ARRAY\[(?P<items>.*)\]\)?(?:::[\w .\[\]]+)?\)\)\)$")
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def _allowed_values(table: _Table, column: _Column) -> list[str] | None:
    """The values a simple ``col IN (...)`` CHECK allows, to pick from."""
    for constraint in table.constraints:
        if constraint.kind == "c" and constraint.columns == [column.name]:
            allowed = _any_array_values(constraint.definition, column.name)
            if allowed:
                return allowed
    return None


def _any_array_values(definition: str, column: str) -> list[str] | None:
    match = _ANY_ARRAY.match(definition)
    if not match or match.group("column").strip('"').replace('""', '"') != column:
        return None
    values = [item.replace("''", "'") for item in _QUOTED.findall(match.group("items"))]
    return values or None


def _value(
    catalog: _Catalog,
    type_oid: int,
    type_name: str,
    index: int,
    column: str,
    allowed: list[str] | None = None,
    depth: int = 0,
) -> sql.Composable | None:
    """An SQL expression of the given type for row ``index`` (1-based), distinct per row."""
    info = catalog.types.get(type_oid)
    if info is None or depth > 4:
        return None
    if allowed:
        return _cast(allowed[(index - 1) % len(allowed)], type_name)
    if info.kind == "d":
        domain_allowed = None
        for check in info.checks:
            domain_allowed = _any_array_values(check, "VALUE") or domain_allowed
        base = catalog.types.get(info.base)
        base_name = _with_typmod(base.name, info.base_typmod) if base else ""
        inner = _value(catalog, info.base, base_name, index, column, domain_allowed, depth + 1)
        return None if inner is None else sql.SQL("CAST({} AS {})").format(inner, sql.SQL(type_name))
    if info.kind == "e":
        return _cast(info.labels[(index - 1) % len(info.labels)], type_name) if info.labels else None
    if info.element:
        element = catalog.types.get(info.element)
        inner = _value(catalog, info.element, element.name if element else "", index, column, None, depth + 1)
        return None if inner is None else sql.SQL("CAST(ARRAY[{}] AS {})").format(inner, sql.SQL(type_name))
    if info.kind == "c":
        parts = []
        for name, attribute_type, typmod in info.attributes:
            attribute = catalog.types.get(attribute_type)
            attribute_name = _with_typmod(attribute.name, typmod) if attribute else ""
            part = _value(catalog, attribute_type, attribute_name, index, name, None, depth + 1)
            parts.append(part if part is not None else sql.SQL("NULL"))
        return sql.SQL("CAST(ROW({}) AS {})").format(sql.SQL(", ").join(parts), sql.SQL(type_name))
    if info.kind == "r":
        subtype = catalog.types.get(info.subtype)
        if subtype is None:
            return None
        lower = _value(catalog, info.subtype, subtype.name, index, column, None, depth + 1)
        upper = _value(catalog, info.subtype, subtype.name, index + 5, column, None, depth + 1)
        if lower is None or upper is None:
            return None
        # every range type has a constructor function of its own name
        return sql.SQL("{}({}, {})").format(sql.SQL(info.name), lower, upper)
    text = _scalar_text(info, type_name, index, column)
    return None if text is None else _cast(text, type_name)


def _with_typmod(name: str, typmod: int) -> str:
    """A domain's base type with the domain's modifier (``varchar`` + 10 -> ``varchar(10)``)."""
    if typmod < 0:
        return name
    if name in ("character varying", "character", "bit", "bit varying"):
        size = typmod - 4 if name.startswith("character") else typmod
        return f"{name}({size})"
    if name == "numeric":
        precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
        return f"numeric({precision},{scale})"
    return name


_LENGTH = re.compile(r"\((\d+)(?:,(\d+))?\)")


def _scalar_text(info: _Type, type_name: str, index: int, column: str) -> str | None:
    """The text of a value of a built-in scalar type, or None if we do not know the type."""
    base = type_name.split("(")[0].strip()
    modifier = _LENGTH.search(type_name)
    size = int(modifier.group(1)) if modifier else None
    if base in ("smallint", "integer", "bigint", "oid", "money"):
        return str(index)
    if base in ("real", "double precision"):
        return f"{index}.25"
    if base == "numeric":
        scale = int(modifier.group(2) or 0) if modifier else 0
        whole_digits = (size - scale) if size is not None else 10
        if whole_digits <= 0:
            return f"0.{index}"[: 2 + scale]
        whole = index % 10**whole_digits
        return f"{whole}.5" if scale else str(whole)
    if base in ("text", "character varying", "character", "name", "citext", "bpchar"):
        # a text column named like *json* often holds JSON that a later migration parses
        text = f'{{"seed": {index}}}' if "json" in column.lower() else f"{index}-{column}"
        return text[:size] if size else text
    if base == '"char"':
        return "abc"[(index - 1) % 3]
    if base == "boolean":
        return "true" if index % 2 else "false"
    day = (datetime.date(2024, 1, 1) + datetime.timedelta(days=index - 1)).isoformat()
    if base == "date":
        return day
    if base.startswith("timestamp"):
        zone = "+00" if "with time zone" in type_name else ""
        return f"{day} 12:34:56.123456{zone}"
    if base.startswith("time"):
        clock = f"{index // 3600 % 24:02d}:{index // 60 % 60:02d}:{index % 60:02d}"
        return clock + ("+00" if "with time zone" in type_name else "")
    if base == "interval":
        return f"{index} days 02:03:04"
    if base == "uuid":
        return f"00000000-0000-4000-8000-{index:012d}"
    if base in ("json", "jsonb"):
        return f'{{"seed": {index}}}'
    if base == "bytea":
        return f"\\x{index:04x}ff"
    octets = f"{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"
    if base == "inet":
        return f"10.{octets}"
    if base == "cidr":
        return f"10.{octets}/32"
    if base == "macaddr":
        return f"08:00:2b:{index >> 16 & 255:02x}:{index >> 8 & 255:02x}:{index & 255:02x}"
    if base == "macaddr8":
        return f"08:00:2b:01:02:{index >> 16 & 255:02x}:{index >> 8 & 255:02x}:{index & 255:02x}"
    if base == "bit":
        width = size or 1
        return format(index, "b").zfill(width)[-width:]
    if base == "bit varying":
        return format(index, "b")
    if base == "xml":
        return f"<seed>{index}</seed>"
    if base == "tsvector":
        return f"seed{index}"
    if base == "tsquery":
        return f"seed{index}"
    if base == "point":
        return f"({index},{index})"
    if base == "box":
        return f"((0,0),({index},{index}))"
    if base == "lseg":
        return f"[(0,0),({index},{index})]"
    if base == "line":
        return f"{{1,-1,{index}}}"
    if base == "path":
        return f"[(0,0),({index},{index})]"
    if base == "polygon":
        return f"((0,0),({index},0),({index},{index}))"
    if base == "circle":
        return f"<(0,0),{index}>"
    if info.category in ("N",):
        return str(index)
    if info.category in ("S",):
        return f"{index}-{column}"
    return None


# -- satisfying CHECK constraints -----------------------------------------------------------

# a column's text value for row ``index`` (1-based)
_Template = Callable[[int], str]

_CANDIDATE_COLUMN = "pytest_migrations_candidate"
_CHECK_EXPRESSION = sql.SQL(
    "SELECT pg_get_expr(conbin, conrelid) FROM pg_constraint WHERE conrelid = %s AND conname = %s AND contype = 'c'"
)


def _violated_check(table: _Table, error: psycopg.Error) -> _Constraint | None:
    """The table's own CHECK that ``error`` reports violated, if that is what it reports."""
    if not isinstance(error, psycopg.errors.CheckViolation):
        return None
    name = error.diag.constraint_name
    return next((c for c in table.constraints if c.kind == "c" and c.name == name and c.columns), None)


def _satisfy_check(
    conn: psycopg.Connection[Any],
    catalog: _Catalog,
    table: _Table,
    check: _Constraint,
    values: list[dict[str, sql.Composable]],
    first: int,
    chosen: dict[str, _Template],
) -> bool:
    """Find, for one column the CHECK names, values that make it hold for every row (the other
    columns as they were); record them in ``chosen``. False if no candidate does."""
    expression = conn.execute(_CHECK_EXPRESSION, (table.oid, check.name), prepare=False).fetchone()
    if expression is None or expression[0] is None:
        return False
    columns = [_column(table, name) for name in check.columns]
    current = {
        column.name: [row[column.name] if column.name in row else _omitted(column) for row in values]
        for column in columns
    }
    foreign = {name for foreign_key in table.foreign_keys for name in foreign_key.columns}
    unique = table.unique_columns()
    for column in columns:
        if column.generated or column.identity or column.name in foreign:
            continue
        distinct, shared = [], []
        for template in _candidates(catalog, column, check.definition):
            own = len({template(first + i) for i in range(len(values))}) == len(values)
            (distinct if own else shared).append(template)
        # a value of its own in each row where the CHECK allows it; a unique column needs one
        templates = distinct if column.name in unique else distinct + shared
        found = _first_passing(conn, expression[0], columns, current, column, templates, first)
        if found is not None:
            chosen[column.name] = found
            return True
    return False


def _omitted(column: _Column) -> sql.Composable:
    """What a column left out of the INSERT gets: its default (the catalog's own SQL) or NULL."""
    if column.default is not None and not column.identity and not column.generated:
        return sql.SQL("CAST(({}) AS {})").format(sql.SQL(column.default), sql.SQL(column.type_name))
    return sql.SQL("CAST(NULL AS {})").format(sql.SQL(column.type_name))


def _first_passing(
    conn: psycopg.Connection[Any],
    expression: str,
    columns: list[_Column],
    current: dict[str, list[sql.Composable]],
    varied: _Column,
    templates: list[_Template],
    first: int,
) -> _Template | None:
    """The first template whose values make ``expression`` hold (true or NULL, as a CHECK) in
    every row; all evaluated on the server in one query, or one by one if one of them errors."""
    if not templates:
        return None

    def query(numbers: list[int]) -> sql.Composable:
        rows = []
        for number in numbers:
            for index in range(len(current[varied.name])):
                cells = [sql.Literal(number)]
                for column in columns:
                    if column.name == varied.name:
                        cells.append(_cast_text(templates[number](first + index), column.type_name))
                    else:
                        cells.append(current[column.name][index])
                rows.append(sql.SQL("({})").format(sql.SQL(", ").join(cells)))
        # the expression is the catalog's own SQL, over columns named as in the table
        return sql.SQL(
            "SELECT {candidate} FROM (VALUES {rows}) AS candidates ({candidate}, {names})"
            " GROUP BY 1 HAVING bool_and(({expression}) IS NOT FALSE) ORDER BY 1 LIMIT 1"
        ).format(
            candidate=sql.Identifier(_CANDIDATE_COLUMN),
            rows=sql.SQL(", ").join(rows),
            names=sql.SQL(", ").join(sql.Identifier(column.name) for column in columns),
            expression=sql.SQL(expression),
        )

    def evaluate(numbers: list[int]) -> int | None:
        with conn.transaction():  # a savepoint: a value that does not cast fails only itself
            found = conn.execute(query(numbers), prepare=False).fetchone()
        return None if found is None else int(found[0])

    try:
        number = evaluate(list(range(len(templates))))
    except psycopg.Error:
        number = None
        for single in range(len(templates)):
            try:
                number = evaluate([single])
            except psycopg.Error:
                continue
            if number is not None:
                break
    return None if number is None else templates[number]


def _candidates(catalog: _Catalog, column: _Column, definition: str) -> list[_Template]:
    """Values of the column's type covering common CHECK shapes, those the CHECK's own
    constants suggest first."""
    info = catalog.types.get(column.type_oid)
    while info is not None and info.kind == "d":
        info = catalog.types.get(info.base)
    if info is None:
        return []
    base = info.name.split("(")[0]
    if info.kind == "e":
        labels = info.labels
        return [lambda index, shift=shift: labels[(index - 1 + shift) % len(labels)] for shift in range(len(labels))] + [
            lambda index, label=label: label for label in labels
        ]
    if info.category == "S":
        return _text_candidates(definition)
    if info.category == "N":
        return _number_candidates(definition, decimals=base not in ("smallint", "integer", "bigint"))
    if info.category == "B":
        return [lambda index: "true", lambda index: "false"]
    if info.category == "D":
        clock = "" if base == "date" else " 12:00:00"
        return [
            lambda index, year=year: _day(year, index) + clock
            for year in (2000, 1990, 2099, 2024)  # past, long past, future
        ]
    if info.category == "T":
        return [lambda index, unit=unit: f"{index} {unit}" for unit in ("minutes", "hours", "days", "seconds")]
    return []


def _day(year: int, index: int) -> str:
    return (datetime.date(year, 1, 1) + datetime.timedelta(days=index - 1)).isoformat()


_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def _constants(definition: str) -> list[str]:
    """The numbers written in a CHECK, outside its string literals."""
    return list(dict.fromkeys(_NUMBER.findall(_QUOTED.sub("''", definition))))


def _number_candidates(definition: str, decimals: bool) -> list[_Template]:
    templates: list[_Template] = []
    for constant in _constants(definition):
        value = float(constant) if "." in constant else int(constant)
        if isinstance(value, float) and not decimals:
            continue
        templates += [
            lambda index, v=value: str(v + index),
            lambda index, v=value: str(v - index),
            lambda index, v=value: str(v),
        ]
    templates += [
        lambda index: str(index),
        lambda index: str(10 * index),
        lambda index: str(100 * index),
        lambda index: str(1000 + index),
        lambda index: str(1_000_000 + index),
        lambda index: str(-index),
        lambda index: "0",
    ]
    if decimals:
        templates += [lambda index: f"0.{index:02d}", lambda index: f"{index}.5"]
    return templates


def _text_candidates(definition: str) -> list[_Template]:
    templates: list[_Template] = []
    for literal in dict.fromkeys(item.replace("''", "'") for item in _QUOTED.findall(definition)):
        templates.append(lambda index, text=literal: text)
        if "%" in literal or "_" in literal:
            templates.append(lambda index, pattern=literal: _like_example(pattern, index))
        if _regex_example(literal, 1) is not None:
            templates.append(lambda index, pattern=literal: _regex_example(pattern, index) or "")
    templates += [
        lambda index: f"user{index}@example.com",
        lambda index: str(index),
        lambda index: "seed" + _letters(index - 1, 2),
        lambda index: "SEED" + _letters(index - 1, 2).upper(),
        lambda index: "Seed" + _letters(index - 1, 2),
        lambda index: f"https://example.com/{index}",
        lambda index: f"Seed {index}",
    ]
    lengths = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 32, 64}
    lengths |= {int(c) for c in _constants(definition) if c.isdigit() and 0 < int(c) <= 64}
    for length in sorted(lengths):
        templates += [
            lambda index, n=length: _letters(index - 1, n),
            lambda index, n=length: _letters(index - 1, n).upper(),
            lambda index, n=length: str(index).zfill(n)[-n:],
        ]
    return templates


def _letters(number: int, width: int) -> str:
    """``number`` in base 26 as ``width`` lowercase letters (``aa``, ``ab``, ...)."""
    letters = []
    for _ in range(width):
        number, digit = divmod(number, 26)
        letters.append(chr(ord("a") + digit))
    return "".join(reversed(letters))


def _like_example(pattern: str, index: int) -> str:
    """A string matching a LIKE pattern: ``%`` becomes the row number (then nothing), ``_`` a digit."""
    out, escaped, numbered = [], False, False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "%":
            out.append("" if numbered else str(index))
            numbered = True
        elif char == "_":
            out.append(str(index % 10))
        else:
            out.append(char)
    return "".join(out)


_CLASSES = {"d": "0123456789", "w": "abcdefghijklmnopqrstuvwxyz", "s": " "}
_QUANTIFIER = re.compile(r"[+*?]|\{(\d+)(?:,(\d*))?\}")


def _regex_example(pattern: str, index: int) -> str | None:
    """A string matching a simple regular expression (literals, ``.``, ``\\d``, classes,
    quantifiers, ``^``/``$``), distinct per ``index``; None for anything else (groups, ``|``)."""
    choices: list[str] = []  # per output character, the characters it may be
    position = 0
    body = pattern[1:] if pattern.startswith("^") else pattern
    body = body[:-1] if body.endswith("$") and not body.endswith("\\$") else body
    if not body or any(char in body for char in "()|"):
        return None
    while position < len(body):
        char = body[position]
        if char == "\\" and position + 1 < len(body):
            escaped = body[position + 1]
            members = _CLASSES.get(escaped, escaped if not escaped.isalnum() else "")
            position += 2
        elif char == "[":
            end = body.find("]", position + 2)
            if end < 0 or body[position + 1] == "^":
                return None
            members = _class_members(body[position + 1 : end])
            position = end + 1
        elif char == ".":
            members, position = "abcdefghijklmnopqrstuvwxyz", position + 1
        elif char in "+*?{^$":
            return None
        else:
            members, position = char, position + 1
        if not members:
            return None
        repeat = 1
        quantifier = _QUANTIFIER.match(body, position)
        if quantifier:
            position = quantifier.end()
            if quantifier.group(0) == "?":
                repeat = 0
            elif quantifier.group(1) is not None:
                repeat = int(quantifier.group(1))
            if repeat > 64:
                return None
        choices += [members] * repeat
    number, out = index - 1, []
    for members in reversed(choices):  # the row number in mixed radix, last character fastest
        number, digit = divmod(number, len(members))
        out.append(members[digit])
    return "".join(reversed(out))


def _class_members(inside: str) -> str:
    members, position = [], 0
    while position < len(inside):
        if inside[position] == "\\" and position + 1 < len(inside):
            members.append(_CLASSES.get(inside[position + 1], inside[position + 1]))
            position += 2
        elif position + 2 < len(inside) and inside[position + 1] == "-":
            start, stop = ord(inside[position]), ord(inside[position + 2])
            members.append("".join(chr(code) for code in range(start, min(stop, start + 63) + 1)))
            position += 3
        else:
            members.append(inside[position])
            position += 1
    return "".join(dict.fromkeys("".join(members)))


# -- reading back ------------------------------------------------------------------------------


_EXISTING_COLUMNS = CatalogQuery(
    """SELECT w.schema, w.name, (SELECT array_agg(a.attname::text) FROM pg_attribute a
                                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
       FROM unnest($1, $2) AS w (schema, name)
       JOIN pg_namespace n ON n.nspname = w.schema
       JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.name AND c.relkind IN ('r', 'p')""",
    "(text[], text[])",
)


def _existing_columns(conn: psycopg.Connection[Any], tables: list[SeededTable]) -> dict[str, set[str] | None]:
    """Each table's columns now, or None for a table gone; one round trip."""
    arguments = sql.SQL("({}, {})").format(
        sql.Literal([table.schema for table in tables]), sql.Literal([table.table for table in tables])
    )
    [rows] = read_catalog(conn, [(_EXISTING_COLUMNS, arguments)])
    found = {(schema, name): set(columns or []) for schema, name, columns in rows}
    return {table.name: found.get((table.schema, table.table)) for table in tables}


def _snapshot_columns(snapshot: Mapping[str, Mapping[str, Any]], name: str) -> set[str] | None:
    entry = snapshot.get(f"table {name}")  # both name tables "schema.table", each part quote_ident'ed
    return None if entry is None or entry.get("kind") not in (None, "partitioned") else set(entry.get("columns", []))


def _read_rows(
    conn: psycopg.Connection[Any], tables: list[tuple[SeededTable, set[str] | None]],
    then: list[sql.Composable] | None = None,
) -> dict[str, list[Row]]:
    """The rows of each table, in the columns it still has, as text; one round trip. Read with
    the session's settings, as the seeded rows were returned."""
    reads = [(table, [c for c in table.columns if c in present]) for table, present in tables if present]
    reads = [(table, columns) for table, columns in reads if columns]
    statements = [
        sql.SQL("SELECT {} FROM {}.{}".format(
            ", ".join(f"{quote_identifier(c)}::text" for c in columns),
            quote_identifier(table.schema), quote_identifier(table.table),
        ))
        for table, columns in reads
    ]  # fmt: skip
    results = run_script(conn, [*statements, *(then or [])]) if statements or then else []
    rows: dict[str, list[Row]] = {table.name: [] for table, _ in tables}
    for (table, columns), records in zip(reads, results):
        rows[table.name] = [dict(zip(columns, record)) for record in records]
    return rows


def _qualify(name: str) -> str:
    return name if "." in name else f"public.{name}"


def _display(name: str) -> str:
    return name[len("public.") :] if name.startswith("public.") else name


def _rows(count: int) -> str:
    return f"{count} seeded row" + ("" if count == 1 else "s")


def _text(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _row_label(key: list[str], values: tuple[str | None, ...]) -> str:
    shown = ", ".join(f"{column}={_text(value)}" for column, value in zip(key, values))
    return f"({shown})" if len(shown) <= 120 else f"({shown[:119]}…)"

