from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name
from .base import ERROR, Rule, Violation


class UnboundedDataChange(Rule):
    """`UPDATE` or `DELETE` without `WHERE` touches every row of an existing table.

    ## What it does
    Flags `UPDATE` and `DELETE` without a `WHERE` clause on a table not created in the same
    migration, also inside DO blocks and PL/pgSQL functions.

    ## Why is this bad?
    In a schema migration it locks every row of the table for the whole transaction (blocking
    concurrent writers), writes a new version of every row (bloat, WAL, replication lag), and,
    for DELETE, loses the data. It is also the classic forgotten-WHERE mistake.

    ## Lock taken
    ROW EXCLUSIVE on the table, and a row lock on every row until commit.

    ## Example
    ```sql
    UPDATE users SET newsletter = false;
    ```

    ## Use instead
    Backfill in batches, in a data migration or job, each batch in its own transaction:
    ```sql
    UPDATE users SET newsletter = false WHERE id BETWEEN 1 AND 10000;
    ```
    """

    severity = ERROR
    lock = "ROW EXCLUSIVE"
    node_types = frozenset({"UpdateStmt", "DeleteStmt"})
    sections = frozenset({"up"})
    plpgsql = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node.get("whereClause") is not None:
            return
        if ctx.statement is not None and ctx.statement.node is not node and not ctx.in_plpgsql:
            return  # a data-modifying CTE's inner statement: reported with its outer statement only
        table = qualified_name(node.get("relation"))
        if ctx.is_new_table(table):
            return
        verb = "UPDATE" if node_type == "UpdateStmt" else "DELETE"
        where = " (inside a PL/pgSQL body)" if ctx.in_plpgsql else ""
        yield self.violation(
            f"{verb} without WHERE touches every row of {table!r}{where}",
            fix_title="Batch the change with a WHERE clause, outside the schema migration",
        )
