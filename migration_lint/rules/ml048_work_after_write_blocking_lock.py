from __future__ import annotations

from typing import Iterable

from ..locks import ACCESS_EXCLUSIVE, blocks_traffic, table_locks
from ..sqlnodes import relation_name, unwrap
from .base import WARNING, Rule, Violation


class WorkAfterWriteBlockingLock(Rule):
    """A scan or data change follows a lock that blocks writes (a foreign key, a trigger) in the same transaction.

    ## What it does
    Flags the first `UPDATE`, `DELETE`, `INSERT ... SELECT` or plain `CREATE INDEX` on an
    existing table that comes after a statement took a SHARE, SHARE ROW EXCLUSIVE or EXCLUSIVE
    lock on an existing table in the same transaction: `CREATE TRIGGER`, a foreign key (on both
    tables, also from `CREATE TABLE ... REFERENCES`), `ENABLE`/`DISABLE TRIGGER`, `LOCK TABLE`.
    (ACCESS EXCLUSIVE is `work-after-exclusive-lock`, ML031.)

    ## Why is this bad?
    The lock is held until COMMIT. Taken for a catalog update it lasts milliseconds, but a
    backfill or an index build after it keeps every INSERT, UPDATE and DELETE on the locked
    table waiting for as long as that work takes, which grows with the data
    (`migrations trace` shows it as a lock "held while line N scans ...").

    ## Lock taken
    The SHARE ROW EXCLUSIVE (or SHARE, EXCLUSIVE) lock of the earlier statement, held through this one.

    ## Example
    ```sql
    BEGIN;
    CREATE TRIGGER orders_audit AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION audit();
    UPDATE orders SET status = 'paid' WHERE paid_at IS NOT NULL;
    COMMIT;
    ```

    ## Use instead
    Do the data change or the index build first, or in a migration of its own, and take the
    lock last in its transaction.
    """

    severity = WARNING
    lock = "SHARE ROW EXCLUSIVE"
    node_types = frozenset({"*"})  # every statement, whatever its type

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_plpgsql or statement is None or statement.node is not node or not ctx.in_transaction:
            return
        if ctx.scratch.get(self.name):
            return  # once per section
        held: dict[str, int] = ctx.scratch.setdefault(f"{self.name}:held", {})
        target = _work_target(node_type, node)
        if target is not None and held and ctx.is_existing_table(target):
            table, line = next(iter(held.items()))
            ctx.scratch[self.name] = True
            yield self.violation(
                f"{table!r} is locked against writes since line {line} and stays locked while this statement"
                f" reads {target!r} in full",
                fix_title="Do this work before taking the lock, or in a migration of its own",
            )
            return
        for table, level in table_locks(node_type, node):
            if table and level != ACCESS_EXCLUSIVE and blocks_traffic(level) and not ctx.is_new_table(table):
                held.setdefault(table.rsplit(".", 1)[-1], statement.line)


def _work_target(node_type: str, node: dict) -> str | None:
    """The existing table a statement may read in full: data changes and index builds."""
    if node_type in ("UpdateStmt", "DeleteStmt"):
        return relation_name(node.get("relation")) or None
    if node_type == "InsertStmt":  # INSERT ... SELECT reads its source; INSERT ... VALUES is quick
        select = (node.get("selectStmt") or {}).get("SelectStmt") or {}
        for source in select.get("fromClause") or ():
            kind, inner = unwrap(source)
            if kind == "RangeVar":
                return relation_name(inner) or None
        return None
    if node_type == "IndexStmt" and not node.get("concurrent"):
        return relation_name(node.get("relation")) or None
    return None
