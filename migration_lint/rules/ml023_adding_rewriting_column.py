from __future__ import annotations

from typing import Iterable

from ..sqlnodes import column_constraints, qualified_name, type_name, unwrap
from .base import ERROR, Rule, Violation, existing_table_cmds

_SERIAL_TYPES = {"serial", "serial2", "serial4", "serial8", "smallserial", "bigserial"}


class AddingRewritingColumn(Rule):
    """Adding a serial, identity or `GENERATED ... STORED` column rewrites the table.

    ## What it does
    Flags `ALTER TABLE ... ADD COLUMN` on an existing table when the column is `serial`/
    `bigserial`, `GENERATED ... AS IDENTITY`, or `GENERATED ALWAYS AS (expr) STORED`. A
    `VIRTUAL` generated column (PostgreSQL 18+, where it is the default without `STORED`) is
    computed when read and rewrites nothing, so it is not flagged.

    ## Why is this bad?
    Every existing row needs its own value, so PostgreSQL rewrites the whole table under an
    ACCESS EXCLUSIVE lock: no reads, no writes until it is done.

    ## Lock taken
    ACCESS EXCLUSIVE for the rewrite.

    ## Example
    ```sql
    ALTER TABLE events ADD COLUMN seq bigserial;
    ```

    ## Use instead
    Add a plain nullable column, attach a sequence default to it, backfill existing rows in
    batches, then add the constraints; for a generated column, compute it in a view or fill a
    plain column by trigger and backfill, or on PostgreSQL 18+ make it `VIRTUAL`.

    ## Safe on PostgreSQL ≥ 18
    `GENERATED ALWAYS AS (expr) VIRTUAL` (or without `STORED`): nothing is rewritten.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        table = qualified_name(node.get("relation"))
        for command in existing_table_cmds(node, ctx, "AT_AddColumn"):
            _, column = unwrap(command.get("def"))
            kind = None
            if type_name(column.get("typeName")) in _SERIAL_TYPES:
                kind = type_name(column.get("typeName"))
            for constraint in column_constraints(column):
                if constraint.get("contype") == "CONSTR_IDENTITY":
                    kind = "identity"
                elif constraint.get("contype") == "CONSTR_GENERATED":
                    # VIRTUAL (PostgreSQL 18+, the default there without STORED) is computed on read.
                    if constraint.get("generated_kind") == "v" and ctx.pg_version >= 18:
                        continue
                    kind = "GENERATED ... STORED"
            if kind:
                yield self.violation(
                    f"ADD COLUMN {column.get('colname')} ({kind}) rewrites {table!r} under an ACCESS EXCLUSIVE lock",
                    fix_title="Add a plain column, then fill it in batches",
                    location=column.get("location"),
                )
