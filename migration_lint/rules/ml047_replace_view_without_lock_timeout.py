from __future__ import annotations

from typing import Iterable

from ..sqlnodes import relation_name
from .base import ERROR, LOCK_TIMEOUT_OPTION, Rule, Violation, missing_lock_timeout


class ReplaceViewWithoutLockTimeout(Rule):
    """`CREATE OR REPLACE VIEW` without a `lock_timeout`: readers of the view queue behind it.

    ## What it does
    Flags `CREATE OR REPLACE VIEW` of a view that was not created earlier in the same migration
    when no `SET lock_timeout` to a non-zero value came before it in the file.

    ## Why is this bad?
    Replacing an existing view takes an ACCESS EXCLUSIVE lock on it (seen by `migrations
    trace`), and every query that reads the view takes ACCESS SHARE. Held only for a catalog
    update, the lock is harmless; waited for behind a long report on the view, it makes every
    later query on the view queue behind it. `require-lock-timeout` (ML010) does not see this
    lock.

    ## Lock taken
    ACCESS EXCLUSIVE on the view (when it exists), until the transaction commits.

    ## Example
    ```sql
    CREATE OR REPLACE VIEW order_totals AS SELECT order_id, sum(price) AS total FROM order_items GROUP BY order_id;
    ```

    ## Use instead
    ```sql
    SET lock_timeout = '5s';
    CREATE OR REPLACE VIEW order_totals AS SELECT order_id, sum(price) AS total FROM order_items GROUP BY order_id;
    ```

    ## Fix
    Inserts `SET lock_timeout = '<timeout>';` before the statement.

    ## Options
    - `timeout`: the value the fix sets (default `5s`).
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"ViewStmt"})
    fixable = True
    options = (LOCK_TIMEOUT_OPTION,)

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_plpgsql or statement is None or statement.node is not node:
            return
        name = relation_name(node.get("view"))
        created = ctx.scratch.setdefault(f"{self.name}:created", set())
        if not node.get("replace"):
            created.add(name)
            return
        if name in created:
            return
        yield from missing_lock_timeout(
            self, ctx,
            f"CREATE OR REPLACE VIEW takes an ACCESS EXCLUSIVE lock on {name!r} without a lock_timeout:"
            " waiting for the lock blocks every query on the view behind it",
        )
