from __future__ import annotations

from typing import Iterable

from ..sqlnodes import type_name
from .base import ADVICE, WARNING, Rule, Violation


class BanCharField(Rule):
    """`char(n)` pads values with spaces and is never faster than `text`.

    ## What it does
    Flags columns declared `char(n)` / `character(n)`.

    ## Why is this bad?
    Values are blank-padded to n characters, trailing spaces are ignored in comparisons but not
    everywhere else, and the type is no faster than `text` or `varchar` in PostgreSQL.

    ## Example
    ```sql
    CREATE TABLE countries (code char(2));
    ```

    ## Use instead
    ```sql
    CREATE TABLE countries (code text CHECK (length(code) = 2));
    ```
    """

    severity = WARNING
    group = ADVICE
    node_types = frozenset({"ColumnDef"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        type_node = node.get("typeName") or {}
        if type_name(type_node) == "bpchar":
            yield self.violation(
                f"column {node.get('colname') or ''} is char(n): values are blank-padded",
                fix_title="Use text (with a CHECK on the length if it matters)",
                location=type_node.get("location"),
            )
