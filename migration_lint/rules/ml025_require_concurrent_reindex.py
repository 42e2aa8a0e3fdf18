from __future__ import annotations

import re
from typing import Iterable

from ..sqlnodes import unwrap
from .base import ERROR, Edit, Rule, Violation

_REINDEX_HEAD = re.compile(r"^\s*REINDEX\s+(?:\([^)]*\)\s*)?(?:INDEX|TABLE|SCHEMA|DATABASE|SYSTEM)\b", re.IGNORECASE)


class RequireConcurrentReindex(Rule):
    """`REINDEX` without `CONCURRENTLY` blocks writes (and reads that use the index).

    ## What it does
    Flags `REINDEX` without `CONCURRENTLY` on PostgreSQL 12+, where the concurrent form exists;
    before 12 it flags every `REINDEX` of an index or table.

    ## Why is this bad?
    A plain `REINDEX` holds a SHARE lock on the table (no writes) and an ACCESS EXCLUSIVE lock
    on the index (queries that would use it wait) for the whole rebuild.

    ## Lock taken
    SHARE on the table, ACCESS EXCLUSIVE on the index.

    ## Example
    ```sql
    REINDEX INDEX orders_customer_idx;
    ```

    ## Use instead
    ```sql
    REINDEX INDEX CONCURRENTLY orders_customer_idx;
    ```
    (outside a transaction block). Before PostgreSQL 12, build a new index concurrently and drop
    the old one.

    ## Safe on PostgreSQL ≥ 12
    With `CONCURRENTLY`.

    ## Fix
    Inserts `CONCURRENTLY` on PostgreSQL 12+ outside a transaction block.
    """

    severity = ERROR
    lock = "SHARE"
    node_types = frozenset({"ReindexStmt"})
    fixable = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if any(unwrap(p)[1].get("defname") == "concurrently" for p in node.get("params", ())):
            return
        if ctx.is_new_table(node.get("relation")):
            return
        edits = ()
        statement = ctx.statement
        if ctx.pg_version >= 12 and statement is not None and ctx.can_leave_transaction():
            match = _REINDEX_HEAD.match(statement.text)
            if match and node.get("kind") in ("REINDEX_OBJECT_INDEX", "REINDEX_OBJECT_TABLE"):
                edits = (Edit(match.end(), match.end(), " CONCURRENTLY"),)
        yield self.violation(
            "REINDEX without CONCURRENTLY blocks writes to the table while it rebuilds",
            fix_title="Use REINDEX ... CONCURRENTLY (PostgreSQL 12+), outside a transaction block",
            edits=edits,
        )
