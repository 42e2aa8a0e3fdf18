from __future__ import annotations

from typing import Iterable

from ..sqlnodes import column_constraints, qualified_name, type_name, unwrap
from .base import ERROR, Rule, Violation, existing_table_cmds

_SERIAL_TYPES = {"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"}


class AddingRequiredField(Rule):
    """`ADD COLUMN ... NOT NULL` without a default fails on a table that has rows.

    ## What it does
    Flags `ALTER TABLE ... ADD COLUMN ... NOT NULL` without `DEFAULT` (and not an identity,
    serial or generated column) on an existing table.

    ## Why is this bad?
    Existing rows would hold NULL in the new column, so PostgreSQL refuses the statement as soon
    as the table has a row: the migration passes on an empty development database and fails in
    production.

    ## Lock taken
    ACCESS EXCLUSIVE.

    ## Example
    ```sql
    ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;
    ```

    ## Use instead
    ```sql
    ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;
    ```
    or add it nullable, backfill, and set NOT NULL safely (see `set-not-null-requires-check`).
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        for command in existing_table_cmds(node, ctx, "AT_AddColumn"):
            _, column = unwrap(command.get("def"))
            if type_name(column.get("typeName")) in _SERIAL_TYPES:
                continue
            kinds = {c.get("contype") for c in column_constraints(column)}
            if "CONSTR_NOTNULL" in kinds and not kinds & {"CONSTR_DEFAULT", "CONSTR_IDENTITY", "CONSTR_GENERATED", "CONSTR_PRIMARY"}:
                yield self.violation(
                    f"ADD COLUMN {column.get('colname')} NOT NULL without a DEFAULT fails as soon as "
                    f"{qualified_name(node.get('relation'))!r} has a row",
                    fix_title="Give the column a DEFAULT, or add it nullable, backfill, then set NOT NULL",
                    location=column.get("location"),
                )
