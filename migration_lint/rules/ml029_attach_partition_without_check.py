from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name, relation_name, unwrap
from .base import WARNING, Rule, Violation, iter_alter_cmds


class AttachPartitionWithoutCheck(Rule):
    """`ATTACH PARTITION` scans the partition unless a CHECK constraint already implies its bound.

    ## What it does
    Flags `ALTER TABLE ... ATTACH PARTITION` when the partition being attached was not created
    in the same migration and has no validated CHECK constraint (from an earlier migration or
    earlier in this one) that could prove the partition bound.

    ## Why is this bad?
    PostgreSQL scans the whole partition to verify every row fits the bound, holding an ACCESS
    EXCLUSIVE lock on the partition (and SHARE UPDATE EXCLUSIVE on the parent) meanwhile. A
    valid CHECK constraint that implies the bound lets it skip the scan.

    ## Lock taken
    ACCESS EXCLUSIVE on the partition for the scan.

    ## Example
    ```sql
    ALTER TABLE measurements ATTACH PARTITION measurements_2024
        FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    ```

    ## Use instead
    ```sql
    ALTER TABLE measurements_2024 ADD CONSTRAINT in_2024
        CHECK (at >= '2024-01-01' AND at < '2025-01-01') NOT VALID;
    ALTER TABLE measurements_2024 VALIDATE CONSTRAINT in_2024;
    ALTER TABLE measurements ATTACH PARTITION measurements_2024
        FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    ALTER TABLE measurements_2024 DROP CONSTRAINT in_2024;
    ```
    """

    severity = WARNING
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        for command in iter_alter_cmds(node):
            if command.get("subtype") != "AT_AttachPartition":
                continue
            _, partition = unwrap(command.get("def"))
            name = relation_name(partition.get("name"))
            if ctx.is_new_table(name) or name in ctx.schema.checked_tables:
                continue
            yield self.violation(
                f"ATTACH PARTITION {qualified_name(partition.get('name'))} scans the partition under an "
                "ACCESS EXCLUSIVE lock: no validated CHECK constraint implies its bound",
                fix_title="Add and validate a CHECK matching the bound first",
            )
