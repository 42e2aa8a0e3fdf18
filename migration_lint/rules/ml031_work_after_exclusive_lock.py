from __future__ import annotations

from typing import Iterable

from ..locks import table_locks
from ..sqlnodes import qualified_name
from .base import WARNING, Rule, Violation

# Statements that finish at once and take no lock that could make the held one wait longer.
_HARMLESS = frozenset({
    "VariableSetStmt", "VariableShowStmt", "TransactionStmt", "CommentStmt", "GrantStmt",
    "GrantRoleStmt", "AlterDefaultPrivilegesStmt", "NotifyStmt", "DiscardStmt",
    # Catalog-only and instant: functions, types, sequences, enum values (no table is read or
    # locked; tests/trace pins the locks they take).
    "CreateFunctionStmt", "CreateEnumStmt", "CompositeTypeStmt", "CreateRangeStmt", "CreateDomainStmt",
    "CreateSeqStmt", "AlterEnumStmt",
})
# DROP of these object kinds is catalog-only too, unless CASCADE takes dependents along. Not a
# sequence: DROP SEQUENCE waits for its ACCESS EXCLUSIVE lock behind every transaction that drew
# from it (tests/trace: drop-sequence).
_HARMLESS_DROPS = frozenset({"OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_TYPE", "OBJECT_DOMAIN"})


def _instant(node_type: str, node: dict) -> bool:
    if node_type in _HARMLESS:
        return True
    if node_type == "CreateStmt":  # a new table, unless it locks another (a foreign key, PARTITION OF)
        return not table_locks(node_type, node)
    return (node_type == "DropStmt" and node.get("removeType") in _HARMLESS_DROPS
            and node.get("behavior") != "DROP_CASCADE")


class WorkAfterExclusiveLock(Rule):
    """More work follows an ACCESS EXCLUSIVE lock in the same transaction, which holds it until COMMIT.

    ## What it does
    Flags the first statement that does more work (another table's lock, an index build, a data
    change, ...) after a statement took an ACCESS EXCLUSIVE lock on an existing table in the
    same transaction. Statements that only write the catalog and finish at once are not work:
    `SET`, `COMMENT`, `GRANT`, `CREATE`/`DROP FUNCTION`, `TYPE`, `DOMAIN` (without `CASCADE`),
    `CREATE SEQUENCE`, `ALTER TYPE ... ADD VALUE`, and `CREATE TABLE` that locks no other table (no
    foreign key, not a partition).

    ## Why is this bad?
    Locks are released at commit, not when the statement ends: a quick `ALTER TABLE` followed by
    a long `UPDATE`, an index build or a wait for another table's lock keeps the first table
    unreadable for the whole time.

    ## Lock taken
    The ACCESS EXCLUSIVE lock of the earlier statement, held through this one.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE users ADD COLUMN nickname text;
    UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
    COMMIT;
    ```

    ## Use instead
    Put the statement that takes the ACCESS EXCLUSIVE lock last in its transaction, or in a
    migration of its own.
    """

    severity = WARNING
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"*"})  # every statement, whatever its type

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_plpgsql or statement is None or statement.node is not node or not ctx.in_transaction:
            return
        if not ctx.exclusive_locks or ctx.scratch.get(self.name) or _instant(node_type, node):
            return
        touched = {table.rsplit(".", 1)[-1] for table, _ in table_locks(node_type, node)}
        touched.add(qualified_name(node.get("relation")).rsplit(".", 1)[-1])
        held = {t: s for t, s in ctx.exclusive_locks.items() if t not in touched or node_type in ("UpdateStmt", "DeleteStmt", "InsertStmt", "IndexStmt")}
        if not held:
            return
        table, first = next(iter(held.items()))
        ctx.scratch[self.name] = True
        yield self.violation(
            f"{table!r} is locked ACCESS EXCLUSIVE since line {first.line} and stays locked while this statement runs",
            fix_title="Move the ACCESS EXCLUSIVE statement to the end of the transaction or into its own migration",
        )

