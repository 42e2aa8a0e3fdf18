"""Data-dependent checks: will this tenant's rows let the pending migrations through?

A migration that passes on ten tenants can fail on the eleventh because of that tenant's rows: a
``SET NOT NULL`` over NULLs, a unique index over duplicates, a CHECK or a foreign key the rows
break (added, or validated after ``NOT VALID``), a type change a value does not fit. Each such
statement becomes a read-only count over the target's current rows, run before any target is
written. A statement whose table an earlier pending statement writes (a backfill)
is not checked: the rows it will meet do not exist yet. Neither is one whose table or column an
earlier pending migration creates (the count fails with undefined_table or undefined_column).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

import pglast
import psycopg
from pglast import ast
from pglast.enums import AlterTableType, ConstrType
from pglast.stream import RawStream
from psycopg import sql

from ..runner import Step
from ..pgerrors import describe
from ..runner._errors import display_path

# The count cannot run because an earlier pending migration creates what it reads.
NOT_YET_CREATED = (
    psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedFunction,
    psycopg.errors.UndefinedObject, psycopg.errors.InvalidSchemaName,
)

WRITES = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.CopyStmt, ast.MergeStmt)
# Statements whose writes cannot be read from the SQL: after one, no table's rows are known.
OPAQUE = (ast.DoStmt, ast.CallStmt)


# A count, or what makes it from the target's catalog (None: nothing there to count).
CountQuery = Union[sql.Composable, Callable[[psycopg.Connection], "sql.Composable | None"]]


@dataclass(frozen=True)
class DataCheck:
    """One count whose result must be zero for the statement at ``where`` to succeed."""

    where: str  # file:line of the statement
    what: str  # e.g. "SET NOT NULL on accounts.email"
    query: CountQuery
    failure: str  # "{count} row(s) are NULL"
    # When the count does to every row what the statement does, an error is the finding itself:
    # what to say before it (None: an error means the check could not run).
    error_found: str | None = None


@dataclass(frozen=True)
class CheckOutcome:
    check: DataCheck
    count: int | None  # None: not run (see ``skipped``)
    skipped: str | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.count) or self.error is not None

    @property
    def line(self) -> str:
        if self.error is not None and self.check.error_found:
            return f"{self.check.where}: {self.check.what}: {self.check.error_found}: {self.error}"
        if self.error is not None:
            return f"{self.check.where}: {self.check.what}: the check query failed: {self.error}"
        return f"{self.check.where}: {self.check.what}: {self.check.failure.format(count=self.count)}"


def data_checks(steps: list[Step]) -> tuple[list[DataCheck], list[str]]:
    """The checks of the pending ``steps`` (in order), and why some statements were not checked."""
    checks: list[DataCheck] = []
    unchecked: list[str] = []
    written: dict[str, set[str]] = {}  # table name -> columns written ("*": any)
    opaque_at: str | None = None
    # Constraints a pending statement adds NOT VALID: a later VALIDATE CONSTRAINT reads the rows.
    not_valid: dict[tuple[str, str], Constraint] = {}
    for step in steps:
        if step.direction != "up":
            continue
        for statement in step.section.statements:
            if statement.tree is None:
                continue
            where = f"{display_path(step.section.path)}:{statement.line}"
            try:
                node = pglast.parse_sql(statement.text)[0].stmt
            except pglast.parser.ParseError:
                continue
            found = _checks_of(node, where, not_valid)
            for check, reads in found:
                changed = sorted(
                    f"{table}.{column}" if column != "*" else table
                    for table, columns in reads.items() for column in columns
                    if column in written.get(table, ()) or "*" in written.get(table, ()) or (column == "*" and table in written)
                )
                if opaque_at is not None:
                    unchecked.append(f"{where}: {check.what}: not checked (the rows may change at {opaque_at} before it)")
                elif changed:
                    unchecked.append(f"{where}: {check.what}: not checked (an earlier pending statement writes {', '.join(changed)})")
                else:
                    checks.append(check)
            if isinstance(node, ast.UpdateStmt):
                columns = {target.name for target in node.targetList or () if isinstance(target, ast.ResTarget) and target.name}
                written.setdefault(node.relation.relname, set()).update(columns or {"*"})
            elif isinstance(node, WRITES):
                relation = node.relation if not isinstance(node, ast.MergeStmt) else node.relation
                if isinstance(relation, ast.RangeVar):
                    written.setdefault(relation.relname, set()).add("*")
            elif isinstance(node, OPAQUE):
                opaque_at = where
    return checks, unchecked


def run_checks(conn: psycopg.Connection, checks: list[DataCheck]) -> list[CheckOutcome]:
    """Run ``checks`` on ``conn`` (autocommit) in one read-only transaction."""
    outcomes: list[CheckOutcome] = []
    if not checks:
        return outcomes
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        for check in checks:
            try:
                with conn.transaction():  # a savepoint: one failed count leaves the others running
                    query = check.query(conn) if callable(check.query) else check.query
                    if query is None:
                        outcomes.append(CheckOutcome(check, None, skipped="not in the database"))
                        continue
                    row = conn.execute(query).fetchone()
            except psycopg.Error as error:
                if isinstance(error, NOT_YET_CREATED):
                    outcomes.append(CheckOutcome(check, None, skipped="created by an earlier pending migration"))
                elif isinstance(error, psycopg.errors.ReadOnlySqlTransaction):
                    # A conversion that writes (nextval in USING) cannot be tried read-only.
                    outcomes.append(CheckOutcome(check, None, skipped="it would write"))
                else:
                    outcomes.append(CheckOutcome(check, None, error=describe(error)))
                continue
            outcomes.append(CheckOutcome(check, int(row[0]) if row else 0))
    return outcomes


Constraint = tuple[ast.RangeVar, ast.Constraint]


def _checks_of(node: ast.Node, where: str, not_valid: dict[tuple[str, str], Constraint]) -> list[tuple[DataCheck, str]]:
    if isinstance(node, ast.IndexStmt) and node.unique:
        columns = [_index_element(element) for element in node.indexParams or ()]
        condition = sql.SQL(_deparse(node.whereClause)) if node.whereClause is not None else None
        what = f"unique index {node.idxname or ''} on {_relation_text(node.relation)}".replace("  ", " ")
        check = _duplicates(where, what, node.relation, columns, condition, node.nulls_not_distinct)
        return [(check, {node.relation.relname: _columns_read(node)})]
    if isinstance(node, ast.AlterTableStmt):
        found = []
        for command in node.cmds or ():
            constraint = command.def_
            if command.subtype == AlterTableType.AT_ValidateConstraint:
                added = not_valid.get((node.relation.relname, command.name))
                made = _validate_check(node.relation, command.name, added[1] if added else None, where)
                constraint = added[1] if added else None
                reads = {node.relation.relname: _columns_read(constraint) if constraint is not None else {"*"}}
            else:
                made = _alter_check(node.relation, command, where)
                reads = {node.relation.relname: _columns_read(command)}
                if isinstance(constraint, ast.Constraint) and constraint.skip_validation and constraint.conname:
                    not_valid[(node.relation.relname, constraint.conname)] = (node.relation, constraint)
            if made is not None:
                if isinstance(constraint, ast.Constraint) and constraint.contype == ConstrType.CONSTR_FOREIGN:
                    reads.setdefault(constraint.pktable.relname, set()).add("*")
                found.append((made, reads))
        return found
    return []


def _columns_read(node: ast.Node) -> set[str]:
    """The column names ``node`` mentions (``*`` when it names none it can be pinned to)."""
    names: set[str] = set()
    for child in _nodes(node):
        if isinstance(child, ast.ColumnRef):
            last = child.fields[-1] if child.fields else None
            names.add(last.sval if isinstance(last, ast.String) else "*")
        elif isinstance(child, ast.IndexElem) and child.name:
            names.add(child.name)
        elif isinstance(child, ast.AlterTableCmd) and child.name:
            names.add(child.name)
        elif isinstance(child, ast.Constraint):
            for attrs in (child.keys, child.fk_attrs):
                names.update(a.sval for a in attrs or () if isinstance(a, ast.String))
    return names or {"*"}


def _nodes(node: object):
    if isinstance(node, ast.Node):
        yield node
        for name in node:
            yield from _nodes(getattr(node, name))
    elif isinstance(node, tuple):
        for item in node:
            yield from _nodes(item)


def _alter_check(relation: ast.RangeVar, command: ast.AlterTableCmd, where: str) -> DataCheck | None:
    table = _relation(relation)
    name = _relation_text(relation)
    if command.subtype == AlterTableType.AT_SetNotNull:
        return DataCheck(
            where, f"SET NOT NULL on {name}.{command.name}",
            sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(table, sql.Identifier(command.name)),
            "{count} row(s) hold NULL",
        )
    if command.subtype == AlterTableType.AT_AlterColumnType and isinstance(command.def_, ast.ColumnDef):
        # Each row's value converted (USING, else the column), read-only: the first row that
        # cannot be fails the count with the error the migration would meet. count(x) evaluates
        # x for every row; 0 * keeps the result zero. A cast truncates to a varchar's or char's
        # length where the statement's conversion (an assignment) refuses: that is counted.
        column = command.def_
        value = sql.SQL(_deparse(column.raw_default)) if column.raw_default is not None else sql.Identifier(command.name)
        type_name = _deparse(column.typeName)
        query = sql.SQL("0 * count(({})::{})").format(value, sql.SQL(type_name))
        failure = "{count} row(s) cannot be converted"
        length = _length_limit(column.typeName)
        if length is not None:
            query = sql.SQL("count(*) FILTER (WHERE char_length(rtrim(({})::text, ' ')) > {}) + {}").format(
                value, sql.Literal(length), query,
            )
            failure = "{count} value(s) longer than " + f"{length} characters"
        return DataCheck(
            where, f"ALTER COLUMN {command.name} TYPE {type_name} on {name}",
            sql.SQL("SELECT {} FROM {}").format(query, table), failure, error_found="a row cannot be converted",
        )
    if command.subtype == AlterTableType.AT_AddColumn and isinstance(command.def_, ast.ColumnDef):
        kinds = {constraint.contype for constraint in command.def_.constraints or ()}
        filled = {ConstrType.CONSTR_DEFAULT, ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED}
        if ConstrType.CONSTR_NOTNULL in kinds and not kinds & filled:
            # Every existing row would get NULL in a NOT NULL column: fine only on an empty table.
            return DataCheck(
                where, f"ADD COLUMN {command.def_.colname} NOT NULL without a default on {name}",
                sql.SQL("SELECT count(*) FROM {}").format(table),
                "{count} existing row(s) would hold NULL",
            )
        return None
    if command.subtype != AlterTableType.AT_AddConstraint or not isinstance(command.def_, ast.Constraint):
        return None
    constraint = command.def_
    if constraint.skip_validation or constraint.indexname:
        return None  # NOT VALID checks no row; USING INDEX adopts an index already built
    return _constraint_check(relation, constraint, where)


def _constraint_check(relation: ast.RangeVar, constraint: ast.Constraint, where: str,
                      what: str | None = None) -> DataCheck | None:
    """The count of the rows that break ``constraint`` once validated (``what``: how to name it)."""
    table = _relation(relation)
    name = _relation_text(relation)
    label = f"constraint {constraint.conname} on {name}" if constraint.conname else f"constraint on {name}"
    if constraint.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY):
        columns = [sql.Identifier(key.sval) for key in constraint.keys or ()]
        kind = "PRIMARY KEY" if constraint.contype == ConstrType.CONSTR_PRIMARY else "UNIQUE"
        primary = constraint.contype == ConstrType.CONSTR_PRIMARY
        check = _duplicates(where, f"{kind} {label}", relation, columns, None, bool(constraint.nulls_not_distinct) or primary)
        if primary:
            nulls = sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(c) for c in columns)
            check = DataCheck(
                where, check.what,
                sql.SQL("SELECT ({}) + (SELECT count(*) FROM {} WHERE {})").format(check.query, table, nulls),
                "{count} duplicate group(s) or NULL key(s)",
            )
        return check
    if constraint.contype == ConstrType.CONSTR_CHECK and constraint.raw_expr is not None:
        return DataCheck(
            where, what or f"CHECK {label}",
            sql.SQL("SELECT count(*) FROM {} WHERE NOT ({})").format(table, sql.SQL(_deparse(constraint.raw_expr))),
            "{count} row(s) break it",
        )
    if constraint.contype == ConstrType.CONSTR_FOREIGN and constraint.pk_attrs and constraint.fk_attrs:
        mine = [sql.Identifier(a.sval) for a in constraint.fk_attrs]
        theirs = [sql.Identifier(a.sval) for a in constraint.pk_attrs]
        return DataCheck(
            where, what or f"FOREIGN KEY {label}",
            _orphans(table, mine, _relation(constraint.pktable), theirs),
            "{count} row(s) reference no row of " + _relation_text(constraint.pktable),
        )
    return None


def _length_limit(type_name: ast.TypeName) -> int | None:
    """n of ``varchar(n)`` / ``char(n)``, whose assignment refuses a longer value (trailing spaces aside)."""
    names = [n.sval for n in type_name.names or () if isinstance(n, ast.String)]
    modifiers = type_name.typmods or ()
    if names and names[-1] in ("varchar", "bpchar") and len(modifiers) == 1 and not type_name.arrayBounds:
        constant = modifiers[0]
        if isinstance(constant, ast.A_Const) and isinstance(constant.val, ast.Integer):
            return constant.val.ival
    return None


def _validate_check(relation: ast.RangeVar, name: str, added: ast.Constraint | None, where: str) -> DataCheck | None:
    """``VALIDATE CONSTRAINT name``: the rows that break the constraint, from its pending ``ADD
    ... NOT VALID`` when there is one, else from the target's catalog (added by an applied migration)."""
    what = f"VALIDATE CONSTRAINT {name} on {_relation_text(relation)}"
    if added is not None:
        return _constraint_check(relation, added, where, what)
    return DataCheck(where, what, lambda conn: _count_from_catalog(conn, relation, name), "{count} row(s) break it")


def _count_from_catalog(conn: psycopg.Connection, relation: ast.RangeVar, name: str) -> sql.Composable | None:
    """The count of rows that break constraint ``name`` of ``relation`` as the catalog defines it
    (CHECK, FOREIGN KEY, NOT NULL); None when the table has no such constraint."""
    row = conn.execute(
        "SELECT c.contype, pg_get_expr(c.conbin, c.conrelid), c.confrelid::regclass::text,"
        " (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.conkey) WITH ORDINALITY k(num, n)"
        "  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num),"
        " (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(c.confkey) WITH ORDINALITY k(num, n)"
        "  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num)"
        " FROM pg_constraint c WHERE c.conrelid = %s::regclass AND c.conname = %s",
        (_relation(relation).as_string(conn), name),
    ).fetchone()
    if row is None:
        return None
    kind, expression, referenced, mine, theirs = row
    table = _relation(relation)
    if kind == "c":
        return sql.SQL("SELECT count(*) FROM {} WHERE NOT ({})").format(table, sql.SQL(expression))
    if kind == "n":
        return sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(table, sql.Identifier(mine[0]))
    if kind == "f":
        return _orphans(table, [sql.Identifier(c) for c in mine], sql.SQL(referenced), [sql.Identifier(c) for c in theirs])
    return None


def _orphans(table: sql.Composable, mine: list[sql.Composable], referenced: sql.Composable,
             theirs: list[sql.Composable]) -> sql.Composable:
    present = sql.SQL(" AND ").join(sql.SQL("c.{} IS NOT NULL").format(c) for c in mine)
    match = sql.SQL(" AND ").join(sql.SQL("p.{} = c.{}").format(p, c) for p, c in zip(theirs, mine))
    return sql.SQL("SELECT count(*) FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {})").format(
        table, present, referenced, match,
    )


def _duplicates(
    where: str, what: str, relation: ast.RangeVar, columns: list[sql.Composable],
    condition: sql.Composable | None, nulls_not_distinct: bool,
) -> DataCheck:
    filters = [] if nulls_not_distinct else [sql.SQL("({}) IS NOT NULL").format(c) for c in columns]
    if condition is not None:
        filters.append(sql.SQL("({})").format(condition))
    where_clause = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(filters) if filters else sql.SQL("")
    query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {}{} GROUP BY {} HAVING count(*) > 1) AS duplicates").format(
        _relation(relation), where_clause, sql.SQL(", ").join(columns),
    )
    return DataCheck(where, what, query, "{count} value(s) appear more than once")


def _index_element(element: ast.IndexElem) -> sql.Composable:
    if element.name:
        return sql.Identifier(element.name)
    return sql.SQL("({})").format(sql.SQL(_deparse(element.expr)))


def _deparse(node: ast.Node) -> str:
    return RawStream()(node)


def _relation(relation: ast.RangeVar) -> sql.Composable:
    if relation.schemaname:
        return sql.Identifier(relation.schemaname, relation.relname)
    return sql.Identifier(relation.relname)


def _relation_text(relation: ast.RangeVar) -> str:
    return f"{relation.schemaname}.{relation.relname}" if relation.schemaname else relation.relname


__all__ = ["CheckOutcome", "DataCheck", "data_checks", "run_checks"]
