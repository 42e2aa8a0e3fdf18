from __future__ import annotations

import re
from typing import Iterable

from ..sqlnodes import qualified_name
from .base import WARNING, Edit, Rule, Violation

_HEAD = re.compile(r"^\s*REFRESH\s+MATERIALIZED\s+VIEW\b", re.IGNORECASE)


class RequireConcurrentRefresh(Rule):
    """`REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` blocks every read of the view.

    ## What it does
    Flags `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY` (except `WITH NO DATA`) on a view
    not created in the same migration.

    ## Why is this bad?
    The plain refresh holds an ACCESS EXCLUSIVE lock on the view while its query runs: every
    `SELECT` from the view waits.

    ## Lock taken
    ACCESS EXCLUSIVE on the materialized view.

    ## Example
    ```sql
    REFRESH MATERIALIZED VIEW daily_totals;
    ```

    ## Use instead
    ```sql
    REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals;
    ```
    (needs a unique index on the view; it takes an EXCLUSIVE lock, which allows reads).

    ## Fix
    Inserts `CONCURRENTLY`.
    """

    severity = WARNING
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"RefreshMatViewStmt"})
    fixable = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node.get("concurrent") or node.get("skipData") or ctx.is_new_table(node.get("relation")):
            return
        statement = ctx.statement
        match = _HEAD.match(statement.text) if statement is not None and not ctx.in_plpgsql else None
        edits = (Edit(match.end(), match.end(), " CONCURRENTLY"),) if match else ()
        yield self.violation(
            f"REFRESH MATERIALIZED VIEW {qualified_name(node.get('relation'))} without CONCURRENTLY blocks every read of it",
            fix_title="Use REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view)",
            edits=edits,
        )
