from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name, unwrap
from .base import ERROR, Rule, Violation, existing_table_cmds


class AddingExclusionConstraint(Rule):
    """`ADD CONSTRAINT ... EXCLUDE` builds an index and checks every row under an exclusive lock.

    ## What it does
    Flags `ALTER TABLE ... ADD CONSTRAINT ... EXCLUDE` on an existing table.

    ## Why is this bad?
    Exclusion constraints cannot be added `NOT VALID` nor from a prebuilt index: PostgreSQL
    builds the index and checks all rows while holding an ACCESS EXCLUSIVE lock.

    ## Lock taken
    ACCESS EXCLUSIVE for the build.

    ## Example
    ```sql
    ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
    ```

    ## Use instead
    Add it when the table is created, or in a maintenance window; or enforce the rule with a
    trigger that takes a row lock.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        for command in existing_table_cmds(node, ctx, "AT_AddConstraint"):
            _, constraint = unwrap(command.get("def"))
            if constraint.get("contype") == "CONSTR_EXCLUSION":
                yield self.violation(
                    f"ADD CONSTRAINT ... EXCLUDE on {qualified_name(node.get('relation'))!r} builds its index "
                    "and checks every row under an ACCESS EXCLUSIVE lock",
                    fix_title="Add exclusion constraints when creating the table, or in a maintenance window",
                    location=constraint.get("location"),
                )
