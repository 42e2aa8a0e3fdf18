from __future__ import annotations

import re
from typing import Iterable

from ..sqlnodes import drop_object_names
from .base import ERROR, Edit, Rule, Violation

_DROP_INDEX = re.compile(r"^\s*DROP\s+INDEX\b", re.IGNORECASE)


class RequireConcurrentIndexDeletion(Rule):
    """`DROP INDEX` without `CONCURRENTLY` locks the table against reads and writes.

    ## What it does
    Flags `DROP INDEX` without `CONCURRENTLY`, unless the index's table was created earlier in
    the same migration.

    ## Why is this bad?
    A plain `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the index's table. While it waits for
    that lock behind a long query, every other query on the table queues behind it.

    ## Lock taken
    ACCESS EXCLUSIVE on the table.

    ## Example
    ```sql
    DROP INDEX orders_customer_id_idx;
    ```

    ## Use instead
    ```sql
    DROP INDEX CONCURRENTLY orders_customer_id_idx;
    ```
    `CONCURRENTLY` cannot run in a transaction block and drops one index at a time.

    ## Fix
    Inserts `CONCURRENTLY`, when the statement drops one index and is outside a transaction block.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"DropStmt"})
    fixable = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node.get("removeType") != "OBJECT_INDEX" or node.get("concurrent"):
            return
        names = drop_object_names(node)
        if all(_index_of_new_table(name, ctx) for name in names):
            return
        edits = ()
        statement = ctx.statement
        match = _DROP_INDEX.match(statement.text) if statement is not None else None
        if match is not None and len(names) == 1 and ctx.can_leave_transaction() and node.get("behavior") != "DROP_CASCADE":
            edits = (Edit(match.end(), match.end(), " CONCURRENTLY"),)
        yield self.violation(
            f"DROP INDEX {', '.join(names)} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table",
            fix_title="Use DROP INDEX CONCURRENTLY, outside a transaction block",
            edits=edits,
        )


def _index_of_new_table(name: str, ctx) -> bool:
    index = ctx.schema.indexes.get(name.rsplit(".", 1)[-1])
    return index is not None and ctx.is_new_table(index[0])
