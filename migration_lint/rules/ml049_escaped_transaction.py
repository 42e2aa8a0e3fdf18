from __future__ import annotations

from typing import Iterable

from .base import WARNING, Rule, Violation


class EscapedTransaction(Rule):
    """A `COMMIT` in the middle of a migration steps out of the transaction the tool opened.

    ## What it does
    Flags the file's own `COMMIT` that ends the transaction the migration tool opens around the
    migration (goose, sql-migrate, dbmate, sqlx, Diesel), as in `COMMIT; CREATE INDEX
    CONCURRENTLY ...; BEGIN;`. The tools send such a section as written, between their own
    `BEGIN` and `COMMIT`, and PostgreSQL runs it: the statements before the `COMMIT` are
    committed there, the ones after it run outside a transaction (goose and sql-migrate send
    each on its own, so `CONCURRENTLY` works there; dbmate, sqlx and Diesel send the section as
    one query, whose implicit block still refuses it, which is ML003), and the tool's `COMMIT`
    closes the block the file's last `BEGIN` opened.

    ## Why is this bad?
    The migration is no longer all or nothing. When a statement after the `COMMIT` fails, the
    statements before it stay applied while the migration is not recorded as applied: the tool
    runs them again on the next attempt, and this project's runner marks the migration dirty.
    Without a `BEGIN` after the `COMMIT`, the rest runs outside any transaction and the tool's
    own `COMMIT` finds none: PostgreSQL answers with a warning, but a driver that checks the
    transaction state (Go's lib/pq) reports an error after the migration was recorded.

    ## Example
    ```sql
    -- +migrate Up
    ALTER TABLE users ADD COLUMN nickname text;
    COMMIT;
    CREATE INDEX CONCURRENTLY users_nickname ON users (nickname);
    BEGIN;
    ```

    ## Use instead
    Keep each part safe to run twice, or give the non-transactional statement a migration of
    its own marked to run outside a transaction:
    ```sql
    -- +migrate Up notransaction
    CREATE INDEX CONCURRENTLY IF NOT EXISTS users_nickname ON users (nickname);
    ```
    When the partial apply is intended (each part written to be re-run), suppress it with a
    reason: `-- migration-lint: ignore[escaped-transaction] each part is idempotent`.
    """

    severity = WARNING
    node_types = frozenset({"TransactionStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        plan = ctx.plan
        if ctx.in_plpgsql or plan is None or plan.escape is None or ctx.statement is not plan.escape:
            return
        from ..transaction import transaction_control

        tool = ctx.migration.layout if ctx.migration is not None else "the migration tool"
        before = [s for s in plan.batches[0].statements if transaction_control(s) is None]
        problems = []
        if before:
            problems.append(
                f"the {len(before)} statement(s) before it stay applied when a later one fails, while the"
                " migration is not recorded as applied"
            )
        if not plan.tool_commits_last_block:
            problems.append(
                f"no BEGIN follows, so the rest runs outside a transaction and {tool}'s own COMMIT finds"
                " none (PostgreSQL warns; lib/pq reports an error after the migration was recorded)"
            )
        if not problems:
            return
        yield self.violation(
            f"COMMIT ends the transaction {tool} opens around this migration: " + "; ".join(problems),
            fix_title="Make each part safe to run again, or move the non-transactional statements to a"
                      " migration of their own marked to run outside a transaction",
        )
