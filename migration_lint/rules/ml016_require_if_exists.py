from __future__ import annotations

import re
from typing import Iterable

from ..sqlnodes import drop_object_names, last_part, relation_name
from .base import ADVICE, WARNING, Edit, Rule, Violation, iter_alter_cmds
from .ml036_down_does_not_undo import DROP_KINDS, created_objects

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
    an UP where the statement runs outside a transaction block (a migration marked
    non-transactional, or a file run as it is), and in a DOWN for objects its UP did not create
    (what the UP created is there when its DOWN runs).

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
    group = ADVICE
    node_types = frozenset({"DropStmt", "AlterTableStmt"})
    fixable = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if ctx.in_transaction and ctx.section_name == "up":
            return  # a failure rolls the whole transaction back: nothing is left half done
        statement = ctx.statement
        made = self._made_by_up(ctx)
        if node_type == "DropStmt":
            if node.get("missing_ok") or node.get("removeType") in _NO_IF_EXISTS:
                return
            kind = DROP_KINDS.get(node.get("removeType", ""), "")
            names = [last_part(name) for name in drop_object_names(node)]
            if names and all((kind, name) in made or (kind == "table" and ctx.is_new_table(name)) for name in names):
                return
            edits = ()
            match = _DROP_HEAD.match(statement.text) if statement is not None and statement.node is node else None
            if match is not None:
                edits = (Edit(match.end(), match.end(), "IF EXISTS "),)
            yield self.violation("DROP without IF EXISTS fails when the object is already gone",
                                 fix_title="Add IF EXISTS", edits=edits)
            return
        table = relation_name(node.get("relation"))
        for command in iter_alter_cmds(node):
            if command.get("subtype") in ("AT_DropColumn", "AT_DropConstraint") and not command.get("missing_ok"):
                what = "COLUMN" if command["subtype"] == "AT_DropColumn" else "CONSTRAINT"
                if (what.lower(), f"{table}.{command.get('name')}") in made or ctx.is_new_table(table):
                    continue
                yield self.violation(f"DROP {what} {command.get('name')} without IF EXISTS fails when it is already gone",
                                     fix_title=f"Use DROP {what} IF EXISTS")

    def _made_by_up(self, ctx) -> set[tuple[str, str]]:
        """In a DOWN, what its UP created, as ``(kind, name)`` (``table.name`` for columns and
        constraints): the DOWN exists to remove them, and they are there when it runs."""
        if ctx.section_name != "down" or ctx.migration is None:
            return set()
        made = ctx.scratch.get(self.name)
        if made is None:
            made = set()
            up = [s for s in ctx.migration.up.statements if s.tree is not None]
            for kind, name, table in created_objects(up, unnamed_constraints=True):
                made.add((kind, f"{table}.{name}" if kind in ("column", "constraint") else name))
            ctx.scratch[self.name] = made
        return made
