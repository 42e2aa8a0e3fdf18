from __future__ import annotations

from typing import Iterable

from ..transaction import non_transactional_reason
from .base import ERROR, Rule, Violation

_KINDS = frozenset({
    "IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "AlterTableStmt", "AlterEnumStmt",
    "CreatedbStmt", "DropdbStmt", "AlterSystemStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt",
    "CreateSubscriptionStmt", "DropSubscriptionStmt",
})


class NonTransactionalInTransaction(Rule):
    """A statement PostgreSQL refuses inside a transaction block would run inside one.

    ## What it does
    Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY`,
    `DETACH PARTITION CONCURRENTLY`, `VACUUM`, `CREATE/DROP DATABASE`, `ALTER SYSTEM`,
    `CREATE/DROP TABLESPACE`, subscriptions, and `ALTER TYPE ... ADD VALUE` before PostgreSQL 12,
    when the statement runs in a transaction block: after a `BEGIN` in the file, in a migration
    the tool wraps in a transaction (sqlx, goose, sql-migrate, dbmate and Diesel unless the
    migration is marked no-transaction, `--assume-in-transaction`), or beside other statements in
    a file golang-migrate sends as one query (PostgreSQL's implicit transaction block).

    ## Why is this bad?
    PostgreSQL rejects it (`cannot run inside a transaction block`) and the migration fails,
    often only in production, where the runner wraps files a developer ran by hand.

    ## Example
    ```sql
    BEGIN;
    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
    COMMIT;
    ```

    ## Use instead
    ```sql
    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
    ```
    and mark the migration as non-transactional for your tool (`-- no-transaction` for sqlx,
    `-- migrate:up transaction:false` for dbmate, `-- +goose NO TRANSACTION` for goose).
    """

    severity = ERROR
    node_types = _KINDS

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if statement is None or not ctx.in_transaction or statement.node is not node:
            return
        reason = non_transactional_reason(statement, ctx.pg_version)
        if reason is None:
            return
        yield self.violation(
            f"{reason} cannot run inside a transaction block, and this one runs {ctx.transaction_place}",
            fix_title="Move it to its own migration marked as non-transactional",
        )
