from __future__ import annotations

from typing import Iterable

from .base import ERROR, Rule, Violation


class UncommittedTransaction(Rule):
    """A `BEGIN` with no `COMMIT` after it.

    ## What it does
    Flags a section that opens a transaction with `BEGIN` and ends without `COMMIT` or
    `ROLLBACK`. Not when the migration tool's own `COMMIT` ends it: the `BEGIN` that follows a
    `COMMIT` stepping out of the tool's transaction (ML049 `escaped-transaction`).

    ## Why is this bad?
    Run with `psql -f`, the open transaction is rolled back when the session ends: the migration
    silently does nothing. Run by a tool, the transaction stays open across its bookkeeping,
    holding every lock the migration took.

    ## Example
    ```sql
    BEGIN;
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ## Use instead
    ```sql
    BEGIN;
    ALTER TABLE users ADD COLUMN nickname text;
    COMMIT;
    ```
    """

    severity = ERROR
    node_types = frozenset({"TransactionStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if ctx.in_plpgsql:
            return ()
        kind = node.get("kind", "")
        if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START") and not ctx.explicit_depth:
            ctx.scratch[self.name] = ctx.statement
        elif kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE"):
            ctx.scratch.pop(self.name, None)
        return ()

    def end_section(self, ctx) -> Iterable[Violation]:
        begin = ctx.scratch.get(self.name)
        if ctx.plan is not None and ctx.plan.tool_commits_last_block:
            return  # the migration tool's own COMMIT ends it
        if begin is not None and ctx.explicit_depth:
            yield Violation("BEGIN is never committed: the transaction is still open at the end of the migration",
                            fix_title="Add COMMIT at the end", statement=begin)
