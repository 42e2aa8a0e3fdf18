from __future__ import annotations

from typing import Iterable

from ..sqlnodes import drop_object_names, last_part, relation_name
from .base import ERROR, LOCK_TIMEOUT_OPTION, Rule, Violation, missing_lock_timeout


class AlterSequenceWithoutLockTimeout(Rule):
    """`ALTER` or `DROP SEQUENCE` on an existing sequence without a `lock_timeout`: inserts wait behind it.

    ## What it does
    Flags `ALTER SEQUENCE` (`RESTART`, `INCREMENT`, `AS`, `OWNED BY` ...) and `DROP SEQUENCE` on
    a sequence that was not created earlier in the same section when no `SET lock_timeout` to a
    non-zero value came before it in the file.

    ## Why is this bad?
    `ALTER SEQUENCE` takes a SHARE ROW EXCLUSIVE lock on the sequence (seen by `migrations
    trace`; `RESTART` also gives it a new file), and `nextval()` needs ROW EXCLUSIVE on it: while
    the statement waits for its lock behind a transaction that drew from the sequence, every
    INSERT into a table whose key comes from it waits too. `require-lock-timeout` (ML010) does
    not see this lock.

    ## Lock taken
    SHARE ROW EXCLUSIVE on the sequence (blocks `nextval`), ACCESS EXCLUSIVE for `DROP`, until
    the transaction commits.

    ## Example
    ```sql
    ALTER SEQUENCE orders_id_seq RESTART WITH 1000000;
    ```

    ## Use instead
    ```sql
    SET lock_timeout = '5s';
    ALTER SEQUENCE orders_id_seq RESTART WITH 1000000;
    ```
    or `SELECT setval('orders_id_seq', 1000000)`, which takes no lock that waits for others.

    ## Fix
    Inserts `SET lock_timeout = '<timeout>';` before the statement.

    ## Options
    - `timeout`: the value the fix sets (default `5s`).
    """

    severity = ERROR
    lock = "SHARE ROW EXCLUSIVE"
    node_types = frozenset({"AlterSeqStmt", "CreateSeqStmt", "DropStmt"})
    fixable = True
    options = (LOCK_TIMEOUT_OPTION,)

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_plpgsql or statement is None or statement.node is not node:
            return
        created = ctx.scratch.setdefault(f"{self.name}:created", set())
        if node_type == "DropStmt":
            if node.get("removeType") != "OBJECT_SEQUENCE":
                return
            names = [last_part(name) for name in drop_object_names(node)]
            if all(name in created for name in names):
                return
            yield from missing_lock_timeout(
                self, ctx,
                f"DROP SEQUENCE takes an ACCESS EXCLUSIVE lock on {names[0]!r} without a lock_timeout:"
                " waiting for the lock blocks every INSERT that draws from the sequence",
            )
            return
        name = relation_name(node.get("sequence"))
        if node_type == "CreateSeqStmt":
            created.add(name)
            return
        if name in created:
            return
        yield from missing_lock_timeout(
            self, ctx,
            f"ALTER SEQUENCE takes a SHARE ROW EXCLUSIVE lock on {name!r} without a lock_timeout:"
            " waiting for the lock blocks every INSERT that draws from the sequence",
        )
