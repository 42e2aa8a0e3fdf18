from __future__ import annotations

import re
from typing import Iterable

from ..sqlnodes import drop_object_names, last_part
from .base import ADVICE, WARNING, Edit, Rule, Violation, iter_alter_cmds

_CREATE_TABLE = re.compile(r"^\s*CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+", re.IGNORECASE)
_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?", re.IGNORECASE)


def _quoted(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


class RequireIfNotExists(Rule):
    """`CREATE TABLE/INDEX` or `ADD COLUMN` outside a transaction that a re-run cannot repeat.

    ## What it does
    Flags `CREATE TABLE`, named `CREATE INDEX` and `ALTER TABLE ... ADD COLUMN` without `IF NOT
    EXISTS` in statements that run outside a transaction block; and `CREATE INDEX CONCURRENTLY`
    (with or without `IF NOT EXISTS`) that no `DROP INDEX CONCURRENTLY IF EXISTS` of the same
    index precedes in its section.

    ## Why is this bad?
    Outside a transaction, a migration that fails half-way keeps what it created. Re-running it
    after the fix fails on the first object that already exists. A failed `CREATE INDEX
    CONCURRENTLY` leaves an INVALID index of that name behind: `IF NOT EXISTS` then skips the
    build and keeps the INVALID index, which no query uses and, for a unique index, enforces
    nothing, while the migration reports success.

    ## Example
    ```sql
    -- no-transaction
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    -- no-transaction
    DROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;  -- the INVALID leftover of a failed build
    CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);
    ```

    ## Fix
    Inserts `IF NOT EXISTS` into `CREATE TABLE` and named `CREATE INDEX`, and the `DROP INDEX
    CONCURRENTLY IF EXISTS` before a `CREATE INDEX CONCURRENTLY`.
    """

    severity = WARNING
    group = ADVICE
    node_types = frozenset({"CreateStmt", "IndexStmt", "AlterTableStmt", "DropStmt"})
    fixable = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        statement = ctx.statement
        if node_type == "DropStmt":
            if node.get("removeType") == "OBJECT_INDEX" and node.get("missing_ok"):
                dropped = ctx.scratch.setdefault(self.name, set())
                dropped.update(last_part(name) for name in drop_object_names(node))
            return
        if ctx.in_transaction or ctx.in_plpgsql or statement is None:
            return
        if node_type == "AlterTableStmt":
            for command in iter_alter_cmds(node):
                if command.get("subtype") == "AT_AddColumn" and not command.get("missing_ok"):
                    yield self.violation("ADD COLUMN without IF NOT EXISTS fails when the migration is re-run",
                                         fix_title="Use ADD COLUMN IF NOT EXISTS")
            return
        if node_type == "IndexStmt" and node.get("concurrent") and node.get("idxname"):
            yield from self._concurrent_index(node, ctx)
            return
        if node.get("if_not_exists"):
            return
        if node_type == "IndexStmt" and not node.get("idxname"):
            return  # an unnamed index cannot be IF NOT EXISTS
        pattern = _CREATE_TABLE if node_type == "CreateStmt" else _CREATE_INDEX
        match = pattern.match(statement.text)
        edits = (Edit(match.end(), match.end(), "IF NOT EXISTS "),) if match else ()
        what = "CREATE TABLE" if node_type == "CreateStmt" else "CREATE INDEX"
        yield self.violation(f"{what} without IF NOT EXISTS fails when the migration is re-run",
                             fix_title="Add IF NOT EXISTS", edits=edits)

    def _concurrent_index(self, node: dict, ctx) -> Iterable[Violation]:
        name = node["idxname"]
        if name in ctx.scratch.get(self.name, ()):
            return
        schema = (node.get("relation") or {}).get("schemaname")
        target = (f"{_quoted(schema)}." if schema else "") + _quoted(name)
        edits = (Edit(0, 0, f"DROP INDEX CONCURRENTLY IF EXISTS {target};\n"),)
        fix_title = "Drop an INVALID leftover first: DROP INDEX CONCURRENTLY IF EXISTS before the CREATE"
        if node.get("if_not_exists"):
            message = (f"CREATE INDEX CONCURRENTLY IF NOT EXISTS keeps the INVALID index {name} a failed build "
                       "leaves behind, and reports success")
        else:
            message = (f"CREATE INDEX CONCURRENTLY fails when re-run after a failed build, which leaves an "
                       f"INVALID index {name} behind")
        yield self.violation(message, fix_title=fix_title, edits=edits)
