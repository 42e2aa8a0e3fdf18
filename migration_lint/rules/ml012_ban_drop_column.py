from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name
from .base import ERROR, Rule, Violation, existing_table_cmds


class BanDropColumn(Rule):
    """`DROP COLUMN` in an UP migration breaks code that still reads or writes the column.

    ## What it does
    Flags `ALTER TABLE ... DROP COLUMN` in an UP section on a table not created in the same
    migration.

    ## Why is this bad?
    The application version running during the deploy still selects or inserts the column and
    fails; `SELECT *` consumers change shape; the data is lost.

    ## Lock taken
    ACCESS EXCLUSIVE (brief: the column is only marked dropped).

    ## Example
    ```sql
    ALTER TABLE users DROP COLUMN legacy_flags;
    ```

    ## Use instead
    Remove every use of the column from the code and deploy first; then drop it in a later
    migration with `-- migration-lint: ignore[ban-drop-column] <reason>`.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})
    sections = frozenset({"up"})
    plpgsql = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        for command in existing_table_cmds(node, ctx, "AT_DropColumn"):
            yield self.violation(
                f"DROP COLUMN {command.get('name')} of {qualified_name(node.get('relation'))!r} breaks code that still uses it",
                fix_title="Stop using the column in a deploy first, then drop it in a later migration",
            )
