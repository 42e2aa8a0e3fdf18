from __future__ import annotations

from typing import Iterable

from .base import ERROR, Rule, Violation


class TransactionNesting(Rule):
    """`BEGIN` inside a transaction, or `COMMIT` of the runner's transaction.

    ## What it does
    Flags `BEGIN` while a transaction is already open (an earlier `BEGIN` in the file, or the
    migration tool's own transaction), `COMMIT`/`ROLLBACK` in a migration the tool wraps in
    its transaction, and a second `COMMIT`/`ROLLBACK` after the transaction already ended.

    A `COMMIT` that deliberately steps out of the tool's transaction, followed by the file's own
    `BEGIN` (`COMMIT; ... BEGIN;`, which goose and sql-migrate run as written), is ML049
    `escaped-transaction`, not this rule.

    ## Why is this bad?
    PostgreSQL ignores a nested `BEGIN` with a warning, so the `COMMIT` that was meant for the
    inner block commits the outer transaction early; the rest of the migration then runs
    outside any transaction, and the tool's own bookkeeping may commit without the migration.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE users ADD COLUMN nickname text;
    BEGIN;
    ALTER TABLE users ADD COLUMN bio text;
    COMMIT;
    ```

    ## Use instead
    One transaction per migration: either let the tool wrap it, or write one `BEGIN`/`COMMIT`
    pair in a migration the tool runs as it is.
    """

    severity = ERROR
    node_types = frozenset({"TransactionStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if ctx.in_plpgsql:
            return
        kind = node.get("kind", "")
        if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            if ctx.explicit_depth:
                yield self.violation("BEGIN inside a transaction that an earlier BEGIN opened; PostgreSQL ignores it",
                                     fix_title="Remove the nested BEGIN")
            elif ctx.wrapped or _in_the_tools_block(ctx):
                yield self.violation("BEGIN in a migration the tool already runs inside a transaction",
                                     fix_title="Remove BEGIN/COMMIT and let the tool manage the transaction")
        elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK") and not ctx.explicit_depth:
            verb = "COMMIT" if kind == "TRANS_STMT_COMMIT" else "ROLLBACK"
            if ctx.wrapped:
                yield self.violation(f"{verb} ends the transaction the migration tool opened around this migration",
                                     fix_title="Remove it and let the tool manage the transaction")
            elif any(s.kind == "TransactionStmt" for s in ctx.section.statements[: ctx.index]):
                yield self.violation(f"{verb} without an open transaction: an earlier statement already ended it",
                                     fix_title=f"Remove the extra {verb}")


def _in_the_tools_block(ctx) -> bool:
    """The statement runs in the transaction the tool opens, before the file's COMMIT ends it."""
    from ..execution import ESCAPED, TOOL_BLOCK

    plan = ctx.plan
    return plan is not None and plan.mode == ESCAPED and plan.block_of(ctx.statement) == TOOL_BLOCK
