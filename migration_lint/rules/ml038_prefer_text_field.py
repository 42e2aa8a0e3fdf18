from __future__ import annotations

from typing import Iterable

from ..sqlnodes import type_modifiers, type_name
from .base import ADVICE, WARNING, Rule, Violation


class PreferTextField(Rule):
    """`varchar(n)` where `text` (with a CHECK if the limit matters) is easier to change.

    ## What it does
    Flags columns declared `varchar(n)` / `character varying(n)`.

    ## Why is this bad?
    A length limit is a business rule, and business rules change. A CHECK constraint can be
    replaced without blocking (`NOT VALID`, then `VALIDATE`), whereas narrowing a `varchar(n)`
    rewrites the table under an ACCESS EXCLUSIVE lock. `text` and `varchar` perform the same in
    PostgreSQL.

    ## Example
    ```sql
    CREATE TABLE users (email varchar(255));
    ```

    ## Use instead
    ```sql
    CREATE TABLE users (email text CHECK (length(email) <= 255));
    ```
    """

    severity = WARNING
    group = ADVICE
    node_types = frozenset({"ColumnDef"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        type_node = node.get("typeName")
        if type_name(type_node) == "varchar" and type_modifiers(type_node):
            yield self.violation(
                f"column {node.get('colname') or ''} is varchar({type_modifiers(type_node)[0]}): prefer text with a CHECK constraint",
                fix_title="Use text, and a CHECK (length(...) <= n) if the limit matters",
                location=(type_node or {}).get("location"),
            )
