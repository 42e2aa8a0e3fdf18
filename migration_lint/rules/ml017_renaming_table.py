from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name
from .base import ERROR, Rule, Violation


class RenamingTable(Rule):
    """Renaming a table breaks every query of the running application that names it.

    ## What it does
    Flags `ALTER TABLE ... RENAME TO` (tables, views, materialized views) in an UP section,
    unless the table was created in the same migration.

    ## Why is this bad?
    Code deployed before the migration (still running during a rolling deploy, or after a
    rollback) queries the old name and fails.

    ## Lock taken
    ACCESS EXCLUSIVE (brief).

    ## Example
    ```sql
    ALTER TABLE customers RENAME TO clients;
    ```

    ## Use instead
    Create the new name as an updatable view (or the reverse), move the code over, then drop
    the old name in a later migration.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"RenameStmt"})
    sections = frozenset({"up"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node.get("renameType") not in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE"):
            return
        if ctx.is_new_table(node.get("relation")):
            return
        yield self.violation(
            f"renaming {qualified_name(node.get('relation'))!r} to {node.get('newname')!r} breaks code that uses the old name",
            fix_title="Expand and contract: add the new name, migrate the code, drop the old name later",
        )
