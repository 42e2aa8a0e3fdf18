from __future__ import annotations

from typing import Iterable

from ..locks import table_locks
from ..sqlnodes import qualified_name, unwrap
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
    if node_type == "RenameStmt" and node.get("renameType") in _RENAMES_WITHOUT_TABLE_LOCKS:
        return True
    return (node_type == "DropStmt" and node.get("removeType") in _HARMLESS_DROPS
            and node.get("behavior") != "DROP_CASCADE")


_RENAMES_WITHOUT_TABLE_LOCKS = frozenset({"OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_FUNCTION", "OBJECT_PROCEDURE"})

# ALTER TABLE actions that only write the catalog: no rewrite, no scan (tests/trace pins them).
_CATALOG_ONLY_ACTIONS = frozenset({
    "AT_ColumnDefault", "AT_DropColumn", "AT_DropConstraint", "AT_DropNotNull", "AT_SetStatistics",
    "AT_SetOptions", "AT_ResetOptions", "AT_ChangeOwner", "AT_EnableTrig", "AT_DisableTrig",
    "AT_EnableTrigAll", "AT_DisableTrigAll", "AT_EnableTrigUser", "AT_DisableTrigUser",
})
# Statements that take a lock on an existing table but only write the catalog once they have it.
_CATALOG_ONLY = frozenset({"DropStmt", "RenameStmt", "CreateTrigStmt", "CreateStmt", "ViewStmt",
                           "CreatePolicyStmt", "AlterPolicyStmt", "RuleStmt", "AlterTableStmt"})


def _catalog_only(node_type: str, node: dict) -> bool:
    """Whether the statement, once it has its locks, only writes the catalog: under a
    lock_timeout, the held lock waits for it at most that long (its waiting is require-lock-timeout's
    concern, ML010), unlike a rewrite, a scan or a data change, which last as long as the table is big."""
    if node_type not in _CATALOG_ONLY or node.get("behavior") == "DROP_CASCADE" or node.get("concurrent"):
        return False
    if node_type != "AlterTableStmt":
        return True
    for item in node.get("cmds", ()):
        command = item.get("AlterTableCmd", {})
        subtype = command.get("subtype")
        constraint = unwrap(command.get("def"))[1]
        if subtype == "AT_AddConstraint" and constraint.get("skip_validation"):
            continue
        if subtype == "AT_AddColumn" and not constraint.get("constraints"):
            continue  # no default, no constraint: a catalog entry
        if subtype not in _CATALOG_ONLY_ACTIONS or command.get("behavior") == "DROP_CASCADE":
            return False
    return True


class WorkAfterExclusiveLock(Rule):
    """More work follows an ACCESS EXCLUSIVE lock in the same transaction, which holds it until COMMIT.

    ## What it does
    Flags the first statement that does more work (another table's lock, an index build, a data
    change, ...) after a statement took an ACCESS EXCLUSIVE lock on an existing table in the
    same transaction. Statements that only write the catalog and finish at once are not work:
    `SET`, `COMMENT`, `GRANT`, `CREATE`/`DROP FUNCTION`, `TYPE`, `DOMAIN` (without `CASCADE`),
    `CREATE SEQUENCE`, `ALTER TYPE ... ADD VALUE`, renaming a type or function, and `CREATE TABLE`
    that locks no other table (no foreign key, not a partition). Under a `lock_timeout`, neither
    is a statement that only writes the catalog once it has its lock (`DROP TABLE`, `ALTER TABLE
    ... DROP COLUMN`, `SET DEFAULT`, `ADD CONSTRAINT ... NOT VALID`, ...): it keeps the held lock
    at most that long. A lock on a view is not counted while the statement locks a table the view
    reads (the view's readers wait for that table anyway).

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
        touched = {table.rsplit(".", 1)[-1] for table, _ in table_locks(node_type, node)}
        touched.add(qualified_name(node.get("relation")).rsplit(".", 1)[-1])
        views_read: dict[str, set[str]] = ctx.scratch.setdefault(f"{self.name}:views", {})
        for table in touched:  # what a view reads, while it is known (a DROP VIEW forgets it)
            if table in ctx.schema.views:
                views_read[table] = ctx.schema.relations_read_by(table)
        if not ctx.exclusive_locks or ctx.scratch.get(self.name) or _instant(node_type, node):
            return
        if ctx.has_timeout("lock_timeout") and _catalog_only(node_type, node):
            return
        held = {t: s for t, s in ctx.exclusive_locks.items() if t not in touched or node_type in ("UpdateStmt", "DeleteStmt", "InsertStmt", "IndexStmt")}
        # A view's readers wait for the tables it reads: a lock on the view held while this
        # statement locks one of those keeps no one waiting who would not wait anyway.
        held = {t: s for t, s in held.items() if not views_read.get(t, set()) & touched}
        if not held:
            return
        table, first = next(iter(held.items()))
        ctx.scratch[self.name] = True
        yield self.violation(
            f"{table!r} is locked ACCESS EXCLUSIVE since line {first.line} and stays locked while this statement runs",
            fix_title="Move the ACCESS EXCLUSIVE statement to the end of the transaction or into its own migration",
        )

