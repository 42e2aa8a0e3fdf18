from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name, unwrap
from .base import ERROR, Rule, Violation


class BanTruncate(Rule):
    """`TRUNCATE` in an UP migration deletes every row of an existing table.

    ## What it does
    Flags `TRUNCATE` of a table not created in the same migration, in an UP section.

    ## Why is this bad?
    All rows go at once, under an ACCESS EXCLUSIVE lock, without firing DELETE triggers; a
    schema migration is rarely the place for it and the data cannot be recovered.

    ## Lock taken
    ACCESS EXCLUSIVE.

    ## Example
    ```sql
    TRUNCATE audit_log;
    ```

    ## Use instead
    Delete the rows in a data migration or maintenance job you can review and run separately.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"TruncateStmt"})
    sections = frozenset({"up"})
    plpgsql = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        tables = [qualified_name(unwrap(r)[1]) for r in node.get("relations", ())]
        existing = [t for t in tables if not ctx.is_new_table(t)]
        if existing:
            yield self.violation(
                f"TRUNCATE {', '.join(existing)} deletes every row",
                fix_title="Delete data outside the schema migration",
            )
