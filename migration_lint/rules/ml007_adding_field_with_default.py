from __future__ import annotations

from typing import Iterable

from ..sqlnodes import column_constraints, qualified_name, unwrap, volatile_parts
from .base import ERROR, Rule, Violation, existing_table_cmds


class AddingFieldWithDefault(Rule):
    """`ADD COLUMN` with a volatile default (or any default before PostgreSQL 11) rewrites the table.

    ## What it does
    Flags `ALTER TABLE ... ADD COLUMN ... DEFAULT expr` on an existing table when `expr` calls a
    volatile function (`random()`, `gen_random_uuid()`, `clock_timestamp()`, `nextval()`, a
    user-defined function), or, before PostgreSQL 11, for any non-NULL default.

    ## Why is this bad?
    PostgreSQL 11+ stores a constant default in the catalog and adds the column instantly, but
    a volatile default must be computed per row: the table is rewritten under an ACCESS
    EXCLUSIVE lock. Before 11 every default rewrites.

    ## Lock taken
    ACCESS EXCLUSIVE for the rewrite.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN token uuid;
    ALTER TABLE orders ALTER COLUMN token SET DEFAULT gen_random_uuid();
    -- backfill existing rows in batches
    ```

    ## Safe on PostgreSQL ≥ 11
    Non-volatile defaults (constants, `now()`, `CURRENT_TIMESTAMP`).
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        table = qualified_name(node.get("relation"))
        for command in existing_table_cmds(node, ctx, "AT_AddColumn"):
            kind, column = unwrap(command.get("def"))
            for constraint in column_constraints(column):
                if constraint.get("contype") != "CONSTR_DEFAULT":
                    continue
                expression = constraint.get("raw_expr")
                if unwrap(expression)[0] == "A_Const" and unwrap(expression)[1].get("isnull"):
                    continue
                volatile = volatile_parts(expression)
                if volatile:
                    message = (f"ADD COLUMN {column.get('colname')} with volatile default "
                               f"{volatile[0]}() rewrites {table!r} under an ACCESS EXCLUSIVE lock")
                elif ctx.pg_version < 11:
                    message = (f"ADD COLUMN {column.get('colname')} with a DEFAULT rewrites {table!r} "
                               f"before PostgreSQL 11 (target is {ctx.pg_version})")
                else:
                    continue
                yield self.violation(
                    message,
                    fix_title="Add the column without a default, SET DEFAULT separately, and backfill in batches",
                    location=constraint.get("location"),
                )
