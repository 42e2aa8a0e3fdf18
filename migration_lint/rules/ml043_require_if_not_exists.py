from __future__ import annotations

import re
from typing import Iterable

from .base import WARNING, Edit, Rule, Violation, iter_alter_cmds

_CREATE_TABLE = re.compile(r"^\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+", re.IGNORECASE)
_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?", re.IGNORECASE)


class RequireIfNotExists(Rule):
    """`CREATE TABLE/INDEX` or `ADD COLUMN` without `IF NOT EXISTS` outside a transaction.

    ## What it does
    Flags `CREATE TABLE`, `CREATE INDEX` (most often `CONCURRENTLY`) and `ALTER TABLE ... ADD
    COLUMN` without `IF NOT EXISTS` in statements that run outside a transaction block.

    ## Why is this bad?
    Outside a transaction, a migration that fails half-way keeps what it created. Re-running it
    after the fix fails on the first object that already exists. A failed `CREATE INDEX
    CONCURRENTLY` also leaves an INVALID index of that name behind.

    ## Example
    ```sql
    -- no-transaction
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    -- no-transaction
    DROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;  -- an INVALID leftover
    CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_idx ON orders (customer_id);
    ```

    ## Fix
    Inserts `IF NOT EXISTS` into `CREATE TABLE` and named `CREATE INDEX`.
    """

    severity = WARNING
    node_types = frozenset({"CreateStmt", "IndexStmt", "AlterTableStmt"})
    fixable = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_transaction or ctx.in_plpgsql or statement is None:
            return
        if node_type == "AlterTableStmt":
            for command in iter_alter_cmds(node):
                if command.get("subtype") == "AT_AddColumn" and not command.get("missing_ok"):
                    yield self.violation("ADD COLUMN without IF NOT EXISTS fails when the migration is re-run",
                                         fix_title="Use ADD COLUMN IF NOT EXISTS")
            return
        if node.get("if_not_exists"):
            return
        if node_type == "IndexStmt" and not node.get("idxname"):
            return  # an unnamed index cannot be IF NOT EXISTS
        pattern = _CREATE_TABLE if node_type == "CreateStmt" else _CREATE_INDEX
        match = pattern.match(statement.text)
        edits = (Edit(match.end(), match.end(), "IF NOT EXISTS "),) if match else ()
        what = "CREATE TABLE" if node_type == "CreateStmt" else "CREATE INDEX"
        yield self.violation(f"{what} without IF NOT EXISTS fails when the migration is re-run",
                             fix_title="Add IF NOT EXISTS", edits=edits)
