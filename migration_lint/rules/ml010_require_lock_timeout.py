from __future__ import annotations

from typing import Iterable

from ..locks import blocks_traffic, strongest, table_locks
from .base import ERROR, LOCK_TIMEOUT_OPTION, Rule, Violation, missing_lock_timeout


class RequireLockTimeout(Rule):
    """A statement that takes a blocking lock runs without a `lock_timeout`.

    ## What it does
    Flags the first statement of a section that takes a lock blocking reads or writes (SHARE or
    stronger: most `ALTER TABLE`, `CREATE INDEX`, `DROP`, `TRUNCATE`, `CREATE TRIGGER`, a
    foreign key to an existing table ...) on an existing table when no `SET lock_timeout` to a
    non-zero value came before it in the file. In a DOWN, the tables its UP created count as
    new.

    ## Why is this bad?
    While a DDL statement waits for its lock behind a long-running query, every later query on
    the table queues behind the DDL: one slow report turns a millisecond `ALTER TABLE` into an
    outage. A `lock_timeout` makes the migration fail fast instead, so it can be retried.

    ## Lock taken
    Whatever the flagged statement takes (SHARE or stronger).

    ## Example
    ```sql
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ## Use instead
    ```sql
    SET lock_timeout = '5s';
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ## Fix
    Inserts `SET lock_timeout = '<timeout>';` before the statement.

    ## Options
    - `timeout`: the value the fix sets (default `5s`).
    """

    severity = ERROR
    node_types = frozenset({
        "AlterTableStmt", "IndexStmt", "DropStmt", "RenameStmt", "TruncateStmt", "CreateTrigStmt",
        "VacuumStmt", "ClusterStmt", "RefreshMatViewStmt", "ReindexStmt", "LockStmt", "CreateStmt",
    })
    fixable = True
    options = (LOCK_TIMEOUT_OPTION,)

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_plpgsql or statement is None or statement.node is not node or ctx.has_timeout("lock_timeout"):
            return  # checked first: a statement under a lock_timeout needs no lock analysis
        if ctx.scratch.get(self.name):
            return
        locks = [(table, level) for table, level in table_locks(node_type, node)
                 if blocks_traffic(level) and table and not ctx.is_new_table(table)]
        if not locks:
            return
        level = strongest([level for _, level in locks])
        tables = ", ".join(dict.fromkeys(table for table, _ in locks))
        yield from missing_lock_timeout(
            self, ctx,
            f"takes {'an' if level.startswith(('A', 'E')) else 'a'} {level} lock on {tables} without a lock_timeout: waiting for the lock blocks every query behind it",
            fix_title="SET lock_timeout before the first statement that takes a blocking lock",
        )
