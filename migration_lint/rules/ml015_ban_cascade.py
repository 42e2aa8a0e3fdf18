from __future__ import annotations

from typing import Iterable

from ..sqlnodes import drop_object_names, last_part
from .base import ERROR, Rule, Violation, iter_alter_cmds

# What a dropped object is, as the objects relying on it name it (schema_state.dependencies).
_REFERENCED_KIND = {
    "OBJECT_TABLE": "relation", "OBJECT_VIEW": "relation", "OBJECT_MATVIEW": "relation",
    "OBJECT_FOREIGN_TABLE": "relation", "OBJECT_SEQUENCE": "sequence", "OBJECT_FUNCTION": "function",
    "OBJECT_PROCEDURE": "function", "OBJECT_TYPE": "type", "OBJECT_DOMAIN": "type",
}


class BanCascade(Rule):
    """`CASCADE` drops or truncates objects the statement does not name.

    ## What it does
    Flags `DROP ... CASCADE`, `TRUNCATE ... CASCADE` and `ALTER TABLE ... DROP COLUMN/CONSTRAINT
    ... CASCADE`; except a `DROP ... CASCADE` whose dependents, as far as the migrations of the
    directory show them (columns of a type, defaults calling a sequence or function, triggers
    executing a function, foreign keys to a table, views reading it), were all dropped or changed
    away on earlier lines of the same section.

    ## Why is this bad?
    `CASCADE` silently removes every dependent object (views, foreign keys, rows of other tables
    for TRUNCATE), including ones added by later migrations or by hand, which the migration's
    author never saw.

    ## Example
    ```sql
    DROP TABLE customers CASCADE;
    ```

    ## Use instead
    Drop the dependent objects explicitly, then the object itself without `CASCADE`.
    """

    severity = ERROR
    node_types = frozenset({"DropStmt", "TruncateStmt", "AlterTableStmt"})
    plpgsql = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        # What earlier lines of the section dropped or changed, with what it relied on then.
        removed: dict = ctx.scratch.setdefault(self.name, {})
        if node_type == "AlterTableStmt":
            cascade = any(c.get("behavior") == "DROP_CASCADE" for c in iter_alter_cmds(node))
        else:
            cascade = node.get("behavior") == "DROP_CASCADE"
        if cascade and not (node_type == "DropStmt" and self._dependents_already_gone(node, ctx, removed)):
            what = {"DropStmt": "DROP", "TruncateStmt": "TRUNCATE", "AlterTableStmt": "ALTER TABLE ... DROP"}[node_type]
            yield self.violation(
                f"{what} ... CASCADE also removes every dependent object, named nowhere in the migration",
                fix_title="Drop the dependent objects explicitly and remove CASCADE",
            )
        for holder in ctx.schema.holders_removed_by(node_type, node):
            if holder not in removed:
                removed[holder] = ctx.schema.references(holder)

    @staticmethod
    def _dependents_already_gone(node: dict, ctx, removed: dict) -> bool:
        """Whether every object the migrations show relying on what is dropped was dropped (or
        changed away from it) on an earlier line of this section: CASCADE then takes nothing
        along that the migration does not name."""
        kind = _REFERENCED_KIND.get(node.get("removeType", ""))
        if kind is None:
            return False
        for name in drop_object_names(node):
            target = (kind, last_part(name))
            known = {holder for holder, refs in ctx.schema.dependencies() if target in refs}
            known |= {holder for holder, refs in removed.items() if target in refs}
            if not known or known - removed.keys():
                return False
        return True
