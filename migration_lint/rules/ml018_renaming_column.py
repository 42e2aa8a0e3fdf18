from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name
from .base import ERROR, Rule, Violation


class RenamingColumn(Rule):
    """Renaming a column breaks every query of the running application that names it.

    ## What it does
    Flags `ALTER TABLE ... RENAME COLUMN` in an UP section, unless the table was created in the
    same migration.

    ## Why is this bad?
    Code deployed before the migration still reads and writes the old name and fails until the
    new version is everywhere; a rollback of the code fails too.

    ## Lock taken
    ACCESS EXCLUSIVE (brief).

    ## Example
    ```sql
    ALTER TABLE users RENAME COLUMN mail TO email;
    ```

    ## Use instead
    Add the new column, write both, backfill, move reads over, then drop the old column in a
    later migration.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"RenameStmt"})
    sections = frozenset({"up"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node.get("renameType") != "OBJECT_COLUMN" or ctx.is_new_table(node.get("relation")):
            return
        yield self.violation(
            f"renaming column {node.get('subname')!r} of {qualified_name(node.get('relation'))!r} "
            f"to {node.get('newname')!r} breaks code that uses the old name",
            fix_title="Add the new column, dual-write and backfill, then drop the old one later",
        )
