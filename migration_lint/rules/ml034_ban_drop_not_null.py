from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name
from .base import ADVICE, WARNING, Rule, Violation, existing_table_cmds


class BanDropNotNull(Rule):
    """`DROP NOT NULL` lets NULLs into a column that readers assume is never NULL.

    ## What it does
    Flags `ALTER TABLE ... ALTER COLUMN ... DROP NOT NULL` in an UP section on an existing table.

    ## Why is this bad?
    Code deployed before the migration reads the column as never NULL; the first NULL written by
    the new code breaks it (and a rollback of the code).

    ## Lock taken
    ACCESS EXCLUSIVE (brief).

    ## Example
    ```sql
    ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
    ```

    ## Use instead
    Make every reader handle NULL first, deploy, then drop the constraint with
    `-- migration-lint: ignore[ban-drop-not-null] readers handle NULL since v3.1`.
    """

    severity = WARNING
    group = ADVICE
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})
    sections = frozenset({"up"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        for command in existing_table_cmds(node, ctx, "AT_DropNotNull"):
            yield self.violation(
                f"DROP NOT NULL on {qualified_name(node.get('relation'))}.{command.get('name')} lets NULLs reach "
                "code that assumes there are none",
                fix_title="Make readers handle NULL in an earlier deploy",
            )
