from __future__ import annotations

from typing import Iterable

from ..sqlnodes import relation_name
from .base import ERROR, Rule, Violation, existing_table_cmds, iter_alter_cmds


class SetNotNullRequiresCheck(Rule):
    """`SET NOT NULL` scans the whole table under an exclusive lock unless a validated CHECK proves it.

    ## What it does
    Flags `ALTER TABLE ... ALTER COLUMN ... SET NOT NULL` on an existing table, unless a
    `CHECK (column IS NOT NULL)` constraint was validated before it (in an earlier migration or
    earlier in this one) and the target is PostgreSQL 12+. When the CHECK was added in a history
    the linter does not see (a loose file), a `VALIDATE CONSTRAINT` of the same table earlier in
    the file, whose constraint name contains the column name, is taken as that CHECK.

    ## Why is this bad?
    PostgreSQL verifies that no row holds NULL by scanning the table while holding an ACCESS
    EXCLUSIVE lock. From PostgreSQL 12 on it skips the scan when a valid CHECK constraint
    already proves the column is not null.

    ## Lock taken
    ACCESS EXCLUSIVE for the scan.

    ## Example
    ```sql
    ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    ```

    ## Use instead
    ```sql
    ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
    -- in a later migration:
    ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;
    -- then (PostgreSQL 12+):
    ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    ALTER TABLE users DROP CONSTRAINT users_email_not_null;
    ```

    ## Safe on PostgreSQL ≥ 12
    With a validated `CHECK (column IS NOT NULL)` constraint.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        table = relation_name(node.get("relation"))
        # One ALTER TABLE drops constraints before it checks SET NOT NULL: a CHECK dropped by the
        # same statement proves nothing (tests/trace: set-not-null-dropping-its-check).
        drops_a_constraint = any(c.get("subtype") == "AT_DropConstraint" for c in iter_alter_cmds(node))
        for command in existing_table_cmds(node, ctx, "AT_SetNotNull"):
            column = command.get("name", "")
            if drops_a_constraint:
                yield self.violation(
                    f"SET NOT NULL on {table}.{column} scans the whole table under an ACCESS EXCLUSIVE lock: "
                    "the same ALTER TABLE drops a constraint first, so a CHECK it drops proves nothing",
                    fix_title="SET NOT NULL in one statement, DROP CONSTRAINT in the next",
                )
                continue
            # A constraint validated just before, whose definition we never saw (it was added
            # in a history we do not have) and whose name names the column, is taken to be the
            # CHECK (column IS NOT NULL) of the documented pattern.
            assumed = any(t == table and column in name for t, name in ctx.schema.validated_unknown)
            if ctx.schema.has_validated_not_null_check(table, column) or assumed:
                if ctx.pg_version >= 12:
                    continue
                message = (f"SET NOT NULL on {table}.{column} scans the table under an ACCESS EXCLUSIVE lock: "
                           f"PostgreSQL {ctx.pg_version} does not use the validated CHECK (needs 12+)")
            else:
                message = (f"SET NOT NULL on {table}.{column} scans the whole table under an ACCESS EXCLUSIVE lock")
            yield self.violation(
                message,
                fix_title="Add CHECK (column IS NOT NULL) NOT VALID, VALIDATE it in a later migration, then SET NOT NULL",
            )
