from __future__ import annotations

from typing import Iterable

from ..sqlnodes import unwrap
from .base import ERROR, Rule, Violation


class BanVacuumFullAndCluster(Rule):
    """`VACUUM FULL` and `CLUSTER` rewrite the table under an ACCESS EXCLUSIVE lock.

    ## What it does
    Flags `VACUUM FULL` and `CLUSTER` in migrations.

    ## Why is this bad?
    Both copy the whole table and rebuild its indexes while holding an ACCESS EXCLUSIVE lock:
    the table is unavailable for the duration, which grows with its size.

    ## Lock taken
    ACCESS EXCLUSIVE.

    ## Example
    ```sql
    VACUUM FULL events;
    ```

    ## Use instead
    Use `pg_repack` or `pg_squeeze` outside the migration, which rebuild the table online.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"VacuumStmt", "ClusterStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node_type == "ClusterStmt":
            yield self.violation("CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
                                 fix_title="Use pg_repack outside the migration")
            return
        if any(unwrap(option)[1].get("defname") == "full" for option in node.get("options", ())):
            yield self.violation("VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock",
                                 fix_title="Use plain VACUUM, or pg_repack outside the migration")
