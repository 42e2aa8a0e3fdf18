from __future__ import annotations

from typing import Iterable

from ..sqlnodes import relation_name
from .base import ERROR, LOCK_TIMEOUT_OPTION, Rule, Violation, missing_lock_timeout


class PolicyChangeWithoutLockTimeout(Rule):
    """`CREATE POLICY` or `ALTER POLICY` on an existing table without a `lock_timeout`.

    ## What it does
    Flags `CREATE POLICY` and `ALTER POLICY` on a table that was not created earlier in the
    same migration when no `SET lock_timeout` to a non-zero value came before it in the file.

    ## Why is this bad?
    A row-level security policy looks like metadata, but PostgreSQL takes an ACCESS EXCLUSIVE
    lock on the table to add or change one (seen by `migrations trace`). Held only for a
    catalog update, it is harmless; waited for behind a long-running query, it makes every
    later query on the table, reads included, queue behind it. `require-lock-timeout` (ML010)
    does not see this lock.

    ## Lock taken
    ACCESS EXCLUSIVE on the table, until the transaction commits.

    ## Example
    ```sql
    CREATE POLICY tenant_isolation ON orders USING (tenant_id = current_setting('app.tenant')::bigint);
    ```

    ## Use instead
    ```sql
    SET lock_timeout = '5s';
    CREATE POLICY tenant_isolation ON orders USING (tenant_id = current_setting('app.tenant')::bigint);
    ```

    ## Fix
    Inserts `SET lock_timeout = '<timeout>';` before the statement.

    ## Options
    - `timeout`: the value the fix sets (default `5s`).
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"CreatePolicyStmt", "AlterPolicyStmt"})
    fixable = True
    options = (LOCK_TIMEOUT_OPTION,)

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_plpgsql or statement is None or statement.node is not node:
            return
        table = node.get("table")
        if ctx.is_new_table(table):
            return
        verb = "CREATE POLICY" if node_type == "CreatePolicyStmt" else "ALTER POLICY"
        yield from missing_lock_timeout(
            self, ctx,
            f"{verb} takes an ACCESS EXCLUSIVE lock on {relation_name(table)!r} without a lock_timeout:"
            " waiting for the lock blocks every query on the table behind it",
        )
