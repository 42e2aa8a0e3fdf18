from __future__ import annotations

from typing import Iterable

from ..schema_state import SchemaState
from ..sqlnodes import relation_name, strings, unwrap
from .base import ADVICE, WARNING, Rule, Violation, iter_alter_cmds


class ForeignKeyWithoutIndex(Rule):
    """A foreign key whose referencing columns have no index.

    ## What it does
    Flags a foreign key (in `CREATE TABLE` or `ALTER TABLE ... ADD`) when no index of the
    referencing table starts with the referencing columns, as far as the migrations of the
    directory tell (primary keys, unique constraints and `CREATE INDEX`): neither by the end of
    the migration nor in a later migration of the directory (a project that builds its indexes
    `CONCURRENTLY` in a migration of their own, after the foreign key, is not flagged).

    ## Why is this bad?
    Every `DELETE` or key `UPDATE` on the referenced table must find the referencing rows: without
    an index that is a sequential scan of the referencing table, per row, under lock; cascades
    and joins on the key are slow too.

    ## Example
    ```sql
    CREATE TABLE orders (
        id bigint PRIMARY KEY,
        customer_id bigint REFERENCES customers (id)
    );
    ```

    ## Use instead
    ```sql
    CREATE TABLE orders (
        id bigint PRIMARY KEY,
        customer_id bigint REFERENCES customers (id)
    );
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    ```
    """

    severity = WARNING
    group = ADVICE
    node_types = frozenset({"CreateStmt", "AlterTableStmt"})
    sections = frozenset({"up"})
    reads_later_migrations = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_plpgsql or statement is None or statement.node is not node:
            return ()
        table = relation_name(node.get("relation"))
        found = ctx.scratch.setdefault(self.name, [])
        if node_type == "CreateStmt":
            for element in node.get("tableElts", ()):
                kind, inner = unwrap(element)
                if kind == "ColumnDef":
                    for item in inner.get("constraints", ()):
                        constraint = unwrap(item)[1]
                        if constraint.get("contype") == "CONSTR_FOREIGN":
                            found.append((table, (inner.get("colname", ""),), statement, constraint.get("location")))
                elif kind == "Constraint" and inner.get("contype") == "CONSTR_FOREIGN":
                    found.append((table, tuple(strings(inner.get("fk_attrs"))), statement, inner.get("location")))
        else:
            for command in iter_alter_cmds(node):
                _, definition = unwrap(command.get("def"))
                if command.get("subtype") == "AT_AddConstraint" and definition.get("contype") == "CONSTR_FOREIGN":
                    found.append((table, tuple(strings(definition.get("fk_attrs"))), statement, definition.get("location")))
                elif command.get("subtype") == "AT_AddColumn":
                    for item in definition.get("constraints", ()):
                        constraint = unwrap(item)[1]
                        if constraint.get("contype") == "CONSTR_FOREIGN":
                            found.append((table, (definition.get("colname", ""),), statement, constraint.get("location")))
        return ()

    def end_section(self, ctx) -> Iterable[Violation]:
        for table, columns, statement, location in ctx.scratch.get(self.name, ()):
            if not columns or ctx.schema.has_index_on(table, columns) or _indexed_later(ctx, table, columns):
                continue
            yield Violation(
                f"foreign key on {table}({', '.join(columns)}) has no index starting with those columns",
                fix_title=f"CREATE INDEX CONCURRENTLY ON {table} ({', '.join(columns)})",
                statement=statement,
                location=location,
            )


def _indexed_later(ctx, table: str, columns: tuple[str, ...]) -> bool:
    """Whether a later migration of the directory builds an index of ``table`` starting with
    ``columns`` (asked only of a foreign key that has none yet, so most runs read nothing)."""
    for migration in ctx.later_migrations():
        built = SchemaState()
        for statement in migration.up.statements:
            if statement.tree is not None and statement.kind in _BUILDS_INDEXES:
                built.apply(statement.kind, statement.node)
        if built.has_index_on(table, columns):
            return True
    return False


_BUILDS_INDEXES = frozenset({"IndexStmt", "AlterTableStmt"})
