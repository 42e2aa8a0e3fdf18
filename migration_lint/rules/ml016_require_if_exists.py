from __future__ import annotations

import re
from typing import Iterable

from .base import WARNING, Edit, Rule, Violation, iter_alter_cmds

# DROP <object kind> [CONCURRENTLY]: where IF EXISTS goes.
_DROP_HEAD = re.compile(
    r"^\s*DROP\s+(?:MATERIALIZED\s+VIEW|FOREIGN\s+TABLE|FOREIGN\s+DATA\s+WRAPPER|TEXT\s+SEARCH\s+\w+|"
    r"ACCESS\s+METHOD|EVENT\s+TRIGGER|OPERATOR\s+CLASS|OPERATOR\s+FAMILY|USER\s+MAPPING\s+FOR|"
    r"PROCEDURAL\s+LANGUAGE|\w+)\s+(?:CONCURRENTLY\s+)?",
    re.IGNORECASE,
)
_NO_IF_EXISTS = {"OBJECT_USER_MAPPING"}


class RequireIfExists(Rule):
    """`DROP` without `IF EXISTS` fails when the object is already gone.

    ## What it does
    Flags `DROP <object>` and `ALTER TABLE ... DROP COLUMN/CONSTRAINT` without `IF EXISTS` in
    every DOWN, and in an UP where the statement runs outside a transaction block (a migration
    marked non-transactional, or a file run as it is).

    ## Why is this bad?
    Outside a transaction a failure leaves the statements before it applied: re-running the
    migration after a fix fails on the first object that is already gone. A DOWN is run by hand
    in an incident, against a database whose state may not match what it expects. `IF EXISTS`
    makes the step idempotent. An UP inside a transaction rolls back as a whole, so it is not
    needed there.

    ## Example
    ```sql
    DROP INDEX orders_customer_idx;
    ```

    ## Use instead
    ```sql
    DROP INDEX IF EXISTS orders_customer_idx;
    ```

    ## Fix
    Inserts `IF EXISTS` into `DROP` statements.
    """

    severity = WARNING
    node_types = frozenset({"DropStmt", "AlterTableStmt"})
    fixable = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if ctx.in_transaction and ctx.section_name == "up":
            return  # a failure rolls the whole transaction back: nothing is left half done
        statement = ctx.statement
        if node_type == "DropStmt":
            if node.get("missing_ok") or node.get("removeType") in _NO_IF_EXISTS:
                return
            edits = ()
            match = _DROP_HEAD.match(statement.text) if statement is not None and statement.node is node else None
            if match is not None:
                edits = (Edit(match.end(), match.end(), "IF EXISTS "),)
            yield self.violation("DROP without IF EXISTS fails when the object is already gone",
                                 fix_title="Add IF EXISTS", edits=edits)
            return
        for command in iter_alter_cmds(node):
            if command.get("subtype") in ("AT_DropColumn", "AT_DropConstraint") and not command.get("missing_ok"):
                what = "COLUMN" if command["subtype"] == "AT_DropColumn" else "CONSTRAINT"
                yield self.violation(f"DROP {what} {command.get('name')} without IF EXISTS fails when it is already gone",
                                     fix_title=f"Use DROP {what} IF EXISTS")
