from __future__ import annotations

import re
from typing import Iterable

from ..sqlnodes import relation_name
from .base import ERROR, Edit, Rule, Violation

_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", re.IGNORECASE)


class RequireConcurrentIndexCreation(Rule):
    """`CREATE INDEX` on an existing table without `CONCURRENTLY` blocks writes while it builds.

    ## What it does
    Flags `CREATE INDEX` (and `CREATE UNIQUE INDEX`) without `CONCURRENTLY` on a table that was
    not created earlier in the same migration.

    ## Why is this bad?
    A plain `CREATE INDEX` holds a SHARE lock for the whole build: every INSERT, UPDATE and
    DELETE on the table waits until the index is finished, which on a large table means minutes.

    ## Lock taken
    SHARE on the table (blocks writes, allows reads) for the duration of the build.

    ## Example
    ```sql
    CREATE INDEX orders_customer_id_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
    ```
    `CONCURRENTLY` cannot run inside a transaction block: mark the migration as
    non-transactional for your tool (`-- no-transaction`, dbmate's `transaction:false`, ...), and
    keep it alone in its migration, since a failed concurrent build leaves an INVALID index behind
    that must be dropped before retrying.

    ## Fix
    Inserts `CONCURRENTLY`. Only offered when the statement does not run in a transaction block.
    """

    severity = ERROR
    lock = "SHARE"
    node_types = frozenset({"IndexStmt"})
    fixable = True
    plpgsql = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node.get("concurrent") or ctx.is_new_table(node.get("relation")):
            return
        if not (node.get("relation") or {}).get("inh", False):
            return  # CREATE INDEX ON ONLY parent: instant, partitions are indexed separately
        table = relation_name(node.get("relation"))
        edits = ()
        statement = ctx.statement
        match = _CREATE_INDEX.match(statement.text) if statement is not None and ctx.can_leave_transaction() else None
        if match is not None:
            edits = (Edit(match.end(), match.end(), " CONCURRENTLY"),)
        yield self.violation(
            f"CREATE INDEX on existing table {table!r} without CONCURRENTLY blocks writes while the index builds",
            fix_title="Use CREATE INDEX CONCURRENTLY, outside a transaction block",
            edits=edits,
        )
