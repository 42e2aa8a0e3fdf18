from __future__ import annotations

from typing import Iterable

from .base import ERROR, Rule, Violation, iter_alter_cmds


class BanCascade(Rule):
    """`CASCADE` drops or truncates objects the statement does not name.

    ## What it does
    Flags `DROP ... CASCADE`, `TRUNCATE ... CASCADE` and `ALTER TABLE ... DROP COLUMN/CONSTRAINT
    ... CASCADE`.

    ## Why is this bad?
    `CASCADE` silently removes every dependent object (views, foreign keys, rows of other tables
    for TRUNCATE), including ones added by later migrations or by hand, which the migration's
    author never saw.

    ## Example
    ```sql
    DROP TABLE customers CASCADE;
    ```

    ## Use instead
    Drop the dependent objects explicitly, then the object itself without `CASCADE`.
    """

    severity = ERROR
    node_types = frozenset({"DropStmt", "TruncateStmt", "AlterTableStmt"})
    plpgsql = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node_type == "AlterTableStmt":
            cascade = any(c.get("behavior") == "DROP_CASCADE" for c in iter_alter_cmds(node))
        else:
            cascade = node.get("behavior") == "DROP_CASCADE"
        if cascade:
            what = {"DropStmt": "DROP", "TruncateStmt": "TRUNCATE", "AlterTableStmt": "ALTER TABLE ... DROP"}[node_type]
            yield self.violation(
                f"{what} ... CASCADE also removes every dependent object, named nowhere in the migration",
                fix_title="Drop the dependent objects explicitly and remove CASCADE",
            )
