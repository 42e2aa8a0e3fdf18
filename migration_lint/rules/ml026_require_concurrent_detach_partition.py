from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name, unwrap
from .base import ERROR, Rule, Violation, existing_table_cmds


class RequireConcurrentDetachPartition(Rule):
    """`DETACH PARTITION` without `CONCURRENTLY` locks the whole partitioned table (PostgreSQL 14+).

    ## What it does
    Flags `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY` when the target is
    PostgreSQL 14 or later, where the concurrent form exists.

    ## Why is this bad?
    A plain detach takes an ACCESS EXCLUSIVE lock on the parent table: every query on any
    partition waits.

    ## Lock taken
    ACCESS EXCLUSIVE on the parent.

    ## Example
    ```sql
    ALTER TABLE measurements DETACH PARTITION measurements_2020;
    ```

    ## Use instead
    ```sql
    ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;
    ```
    (outside a transaction block).

    ## Safe on PostgreSQL ≥ 14
    With `CONCURRENTLY`.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if ctx.pg_version < 14:
            return
        for command in existing_table_cmds(node, ctx, "AT_DetachPartition"):
            _, partition = unwrap(command.get("def"))
            if partition.get("concurrent"):
                continue
            yield self.violation(
                f"DETACH PARTITION {qualified_name(partition.get('name'))} without CONCURRENTLY takes an "
                f"ACCESS EXCLUSIVE lock on {qualified_name(node.get('relation'))!r}",
                fix_title="Use DETACH PARTITION ... CONCURRENTLY, outside a transaction block",
            )
