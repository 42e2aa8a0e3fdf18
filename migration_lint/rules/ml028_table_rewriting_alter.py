from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name
from .base import ERROR, Rule, Violation, existing_table_cmds

_REWRITES = {
    "AT_SetLogged": "SET LOGGED",
    "AT_SetUnLogged": "SET UNLOGGED",
    "AT_SetTableSpace": "SET TABLESPACE",
    "AT_SetAccessMethod": "SET ACCESS METHOD",
}


class TableRewritingAlter(Rule):
    """`SET LOGGED/UNLOGGED`, `SET TABLESPACE` and `SET ACCESS METHOD` rewrite the table.

    ## What it does
    Flags `ALTER TABLE ... SET LOGGED`, `SET UNLOGGED`, `SET TABLESPACE` and
    `SET ACCESS METHOD` on an existing table.

    ## Why is this bad?
    Each copies the whole table (and, for SET TABLESPACE, moves its files) while holding an
    ACCESS EXCLUSIVE lock; `SET LOGGED` also writes the whole table to the WAL.

    ## Lock taken
    ACCESS EXCLUSIVE for the rewrite.

    ## Example
    ```sql
    ALTER TABLE events SET LOGGED;
    ```

    ## Use instead
    Create a new table with the wanted property, copy the data in batches, and swap the tables
    in a short transaction; or plan a maintenance window.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        for command in existing_table_cmds(node, ctx, *_REWRITES):
            yield self.violation(
                f"{_REWRITES[command['subtype']]} rewrites {qualified_name(node.get('relation'))!r} under an ACCESS EXCLUSIVE lock",
                fix_title="Copy into a new table and swap, or use a maintenance window",
            )
