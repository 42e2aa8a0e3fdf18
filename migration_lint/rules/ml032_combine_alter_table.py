from __future__ import annotations

from typing import Iterable

from ..sqlnodes import relation_name
from .base import ADVICE, WARNING, Rule, Violation, iter_alter_cmds

# Subcommands that must stay in a statement (and transaction) of their own.
_APART = frozenset({"AT_ValidateConstraint", "AT_AttachPartition", "AT_DetachPartition", "AT_DetachPartitionFinalize"})

# Pairs of actions where one relies on what the other removes. PostgreSQL runs the removal of
# one ALTER TABLE before the checks of its other actions: `SET NOT NULL` next to the `DROP
# CONSTRAINT` of the CHECK (col IS NOT NULL) that proves it scans the whole table ("verifying
# table" at client_min_messages=debug1), while two statements scan nothing.
_RELIES_ON_WHAT_IS_REMOVED = (
    (frozenset({"AT_SetNotNull"}), frozenset({"AT_DropConstraint"})),
)


def _must_stay_apart(earlier: set[str], current: set[str]) -> bool:
    return any((one & earlier and other & current) or (other & earlier and one & current)
               for one, other in _RELIES_ON_WHAT_IS_REMOVED)


class CombineAlterTable(Rule):
    """Several `ALTER TABLE` statements on one table where one statement would do.

    ## What it does
    Flags an `ALTER TABLE` on an existing table that an earlier `ALTER TABLE` of the same
    section already altered, when both could be one statement with comma-separated actions.

    ## Why is this bad?
    Each statement queues for the ACCESS EXCLUSIVE lock again (each wait blocks the queries
    behind it), and each rewriting action rewrites the table again; one statement takes the lock
    once and rewrites at most once.

    ## Lock taken
    ACCESS EXCLUSIVE, once per statement.

    ## Example
    ```sql
    ALTER TABLE users ADD COLUMN nickname text;
    ALTER TABLE users ADD COLUMN bio text;
    ```

    ## Use instead
    ```sql
    ALTER TABLE users ADD COLUMN nickname text, ADD COLUMN bio text;
    ```
    Statements are never to be combined when one relies on what the other removes: `SET NOT
    NULL` and the `DROP CONSTRAINT` of the CHECK that proves it stay two statements, because in
    one `ALTER TABLE` PostgreSQL drops the CHECK first and then scans the whole table.
    """

    severity = WARNING
    group = ADVICE
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})
    sections = frozenset({"up"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if ctx.in_plpgsql or statement is None or statement.node is not node:
            return
        if node.get("objtype") not in (None, "OBJECT_TABLE") or ctx.is_new_table(node.get("relation")):
            return
        if any(c.get("subtype") in _APART for c in iter_alter_cmds(node)):
            return
        table = relation_name(node.get("relation"))
        actions = {c.get("subtype") for c in iter_alter_cmds(node)}
        seen: dict[str, tuple[int, set[str]]] = ctx.scratch.setdefault(self.name, {})
        if table not in seen:
            seen[table] = (statement.line, actions)
            return
        line, earlier = seen[table]
        if _must_stay_apart(earlier, actions):
            seen[table] = (statement.line, actions)  # only what follows may join this one
            return
        earlier |= actions
        yield self.violation(
            f"{table!r} was already altered at line {line}: combine the actions into one ALTER TABLE",
            fix_title="Merge the ALTER TABLE statements, separating actions with commas",
        )
