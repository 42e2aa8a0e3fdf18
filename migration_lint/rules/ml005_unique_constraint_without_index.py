from __future__ import annotations

from typing import Iterable

from ..sqlnodes import column_constraints, qualified_name, unwrap
from .base import ERROR, Rule, Violation, existing_table_cmds


class UniqueConstraintWithoutIndex(Rule):
    """`UNIQUE` or `PRIMARY KEY` added to an existing table builds its index under an exclusive lock.

    ## What it does
    Flags `ALTER TABLE ... ADD CONSTRAINT ... UNIQUE` / `PRIMARY KEY` (and `ADD COLUMN ...
    UNIQUE/PRIMARY KEY`) on an existing table unless the constraint adopts an index built
    beforehand (`USING INDEX`).

    ## Why is this bad?
    PostgreSQL builds the unique index while holding an ACCESS EXCLUSIVE lock on the table: no
    reads, no writes until the whole table is indexed.

    ## Lock taken
    ACCESS EXCLUSIVE for the index build.

    ## Example
    ```sql
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    ```

    ## Use instead
    ```sql
    CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
    -- then, in a later migration:
    ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
    ```
    For a primary key, the columns must already be NOT NULL (see `set-not-null-requires-check`),
    or `ADD PRIMARY KEY USING INDEX` scans the table to set them.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        table = qualified_name(node.get("relation"))
        for command in existing_table_cmds(node, ctx, "AT_AddConstraint", "AT_AddColumn"):
            subtype = command.get("subtype")
            kind, definition = unwrap(command.get("def"))
            if subtype == "AT_AddConstraint" and definition.get("contype") in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
                if definition.get("indexname"):
                    continue
                what = "UNIQUE" if definition["contype"] == "CONSTR_UNIQUE" else "PRIMARY KEY"
                yield self.violation(
                    f"ADD {what} on {table!r} builds its index while holding an ACCESS EXCLUSIVE lock",
                    fix_title=f"Build a unique index CONCURRENTLY first, then ADD CONSTRAINT ... {what} USING INDEX",
                    location=definition.get("location"),
                )
            elif subtype == "AT_AddColumn" and kind == "ColumnDef":
                for constraint in column_constraints(definition):
                    if constraint.get("contype") in ("CONSTR_UNIQUE", "CONSTR_PRIMARY"):
                        what = "UNIQUE" if constraint["contype"] == "CONSTR_UNIQUE" else "PRIMARY KEY"
                        yield self.violation(
                            f"ADD COLUMN {definition.get('colname')} {what} on {table!r} builds an index "
                            "while holding an ACCESS EXCLUSIVE lock",
                            fix_title="Add the column, build a unique index CONCURRENTLY, then add the constraint USING INDEX",
                            location=constraint.get("location"),
                        )
