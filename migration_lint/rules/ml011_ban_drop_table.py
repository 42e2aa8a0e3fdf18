from __future__ import annotations

from typing import Iterable

from ..sqlnodes import drop_object_names
from .base import ERROR, Rule, Violation


class BanDropTable(Rule):
    """`DROP TABLE` in an UP migration deletes data that running code may still use.

    ## What it does
    Flags `DROP TABLE` (and `DROP MATERIALIZED VIEW`, `DROP FOREIGN TABLE`) in an UP section,
    unless the table was created earlier in the same migration.

    ## Why is this bad?
    The data is gone for good, and the application version still running during a deploy (or
    the one you roll back to) fails on the missing table.

    ## Lock taken
    ACCESS EXCLUSIVE.

    ## Example
    ```sql
    DROP TABLE legacy_sessions;
    ```

    ## Use instead
    Stop using the table in the code first, deploy, back it up, then drop it in a later
    migration with an explicit suppression:
    ```sql
    -- migration-lint: ignore[ban-drop-table] unused since v2.3, backed up
    DROP TABLE legacy_sessions;
    ```
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"DropStmt"})
    sections = frozenset({"up"})
    plpgsql = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node.get("removeType") not in ("OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
            return
        names = [n for n in drop_object_names(node) if not ctx.is_new_table(n)]
        if names:
            yield self.violation(
                f"DROP TABLE {', '.join(names)} deletes data the running application may still use",
                fix_title="Stop using the table first, then drop it in a later migration",
            )
