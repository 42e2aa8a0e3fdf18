from __future__ import annotations

from typing import Iterable

from ..sqlnodes import drop_object_names
from .base import ERROR, Rule, Violation


class BanDropSchema(Rule):
    """`DROP SCHEMA` in an UP migration deletes every object in it.

    ## What it does
    Flags `DROP SCHEMA` in an UP section.

    ## Why is this bad?
    With `CASCADE` it silently deletes every table, view and function of the schema; without
    it, it fails as soon as the schema holds anything.

    ## Lock taken
    ACCESS EXCLUSIVE on every object dropped.

    ## Example
    ```sql
    DROP SCHEMA reporting CASCADE;
    ```

    ## Use instead
    Drop the objects one by one in migrations of their own, after the code stopped using them.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"DropStmt"})
    sections = frozenset({"up"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node.get("removeType") == "OBJECT_SCHEMA":
            yield self.violation(
                f"DROP SCHEMA {', '.join(drop_object_names(node))} deletes every object in it",
                fix_title="Drop the schema's objects one by one once unused",
            )
