from __future__ import annotations

from typing import Iterable

from ..sqlnodes import is_array_type, qualified_name, relation_name, type_modifiers, type_name, unwrap
from .base import ERROR, Rule, Violation, existing_table_cmds

_VARCHAR = "varchar"
_UNBOUNDED_TEXT = {"text", "varchar"}
_PRECISION_TYPES = {"timestamp", "timestamptz", "time", "timetz", "interval"}


def _no_rewrite(old: tuple[str, tuple, bool], new: tuple[str, tuple, bool], pg_version: int, utc: bool) -> bool:
    """Whether PostgreSQL changes ``old`` to ``new`` without rewriting the table (binary coercible
    and not narrowing), per the ALTER TABLE documentation's list."""
    (old_name, old_mods, old_array), (new_name, new_mods, new_array) = old, new
    if old_array != new_array:
        return False
    if old_name == new_name and old_mods == new_mods:
        return True
    if old_name in (_VARCHAR, "text") and new_name == "text":
        return True
    if old_name in (_VARCHAR, "text") and new_name == _VARCHAR:
        if not new_mods:
            return True
        return old_name == _VARCHAR and bool(old_mods) and None not in old_mods + new_mods and new_mods[0] >= old_mods[0]
    if old_name == new_name == "numeric":
        if not new_mods:
            return True
        if not old_mods or None in old_mods + new_mods:
            return False
        old_scale = old_mods[1] if len(old_mods) > 1 else 0
        new_scale = new_mods[1] if len(new_mods) > 1 else 0
        return old_scale == new_scale and new_mods[0] >= old_mods[0]
    if old_name == new_name == "varbit":
        return not new_mods or (bool(old_mods) and None not in old_mods + new_mods and new_mods[0] >= old_mods[0])
    if old_name == new_name and old_name in _PRECISION_TYPES:
        old_precision = old_mods[0] if old_mods else 6
        new_precision = new_mods[0] if new_mods else 6
        return None not in (old_precision, new_precision) and new_precision >= old_precision
    if old_name == "cidr" and new_name == "inet":
        return True
    if {old_name, new_name} == {"timestamp", "timestamptz"} and pg_version >= 12 and utc:
        # With TimeZone UTC both types store the same microseconds, either way round.
        old_precision = old_mods[0] if old_mods else 6
        new_precision = new_mods[0] if new_mods else 6
        return None not in (old_precision, new_precision) and new_precision >= old_precision
    return False


def _shown(described: tuple[str, tuple, bool]) -> str:
    """A type as a migration would write it: ``varchar(20)``, ``text[]``."""
    name, modifiers, array = described
    text = name + (f"({', '.join(str(m) for m in modifiers)})" if modifiers else "")
    return text + ("[]" if array else "")


def _plain_using(expression: dict, column: str, new: tuple[str, tuple, bool]) -> bool:
    """``USING col`` or ``USING col::new_type``: the conversion PostgreSQL makes without ``USING``."""
    kind, inner = unwrap(expression)
    if kind == "TypeCast":
        cast = inner.get("typeName") or {}
        if (type_name(cast), tuple(type_modifiers(cast)), is_array_type(cast)) != new:
            return False
        kind, inner = unwrap(inner.get("arg"))
    if kind != "ColumnRef":
        return False
    fields = [unwrap(field) for field in inner.get("fields", ())]
    return bool(fields) and fields[-1][0] == "String" and fields[-1][1].get("sval") == column


class ChangingColumnType(Rule):
    """`ALTER COLUMN ... TYPE` rewrites the table and its indexes under an exclusive lock.

    ## What it does
    Flags `ALTER TABLE ... ALTER COLUMN ... TYPE` on an existing table, except the changes
    PostgreSQL makes without a rewrite when it knows the column's current type from earlier
    migrations: `varchar(n)` to a wider `varchar(m)`, to `varchar` or to `text`; `text` to
    `varchar`; `numeric(p,s)` to `numeric(q,s)` with q ≥ p, or to `numeric`; `varbit(n)`
    widening; a higher precision for `timestamp`, `time` and `interval`; `cidr` to `inet`;
    `timestamp` to `timestamptz` and back on PostgreSQL 12+ when the section sets `TimeZone` to
    UTC before it (a DOWN undoing such an UP included).
    A `USING` clause rewrites, unless it is the column itself or the column cast to the new type
    (`USING label::varchar(20)`), which PostgreSQL treats like no `USING` at all.

    ## Why is this bad?
    A rewrite copies the whole table and rebuilds every index while holding an ACCESS EXCLUSIVE
    lock: the table is unavailable for reads and writes for the duration.

    ## Lock taken
    ACCESS EXCLUSIVE (even for the changes that do not rewrite, but then only briefly).

    ## Example
    ```sql
    ALTER TABLE orders ALTER COLUMN amount TYPE bigint;
    ```

    ## Use instead
    Add a new column, backfill it in batches, switch readers and writers over, then drop the old
    column; or keep to the non-rewriting changes listed above.

    ## Safe on PostgreSQL ≥ 12
    `timestamp` to `timestamptz`, or back, with `SET TimeZone = 'UTC'` earlier in the section.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        table = relation_name(node.get("relation"))
        utc = (ctx.setting("timezone") or "").strip("'\"").lower() in ("utc", "etc/utc", "gmt", "z")
        for command in existing_table_cmds(node, ctx, "AT_AlterColumnType"):
            column = command.get("name", "")
            _, definition = unwrap(command.get("def"))
            type_node = definition.get("typeName") or {}
            new = (type_name(type_node), tuple(type_modifiers(type_node)), is_array_type(type_node))
            old = ctx.schema.column_type(table, column)
            shown = _shown(new)
            using = definition.get("raw_default")
            if using is not None and not _plain_using(using, column, new):
                message = f"ALTER COLUMN {column} TYPE {shown} USING ... rewrites {qualified_name(node.get('relation'))!r}"
            elif old is None:
                message = (f"ALTER COLUMN {column} TYPE {shown} on {table!r} rewrites the table unless it only "
                           "widens a varchar/numeric (the current type is not known from earlier migrations)")
            elif _no_rewrite(old, new, ctx.pg_version, utc):
                continue
            else:
                message = f"ALTER COLUMN {column} TYPE {shown} (from {_shown(old)}) rewrites {table!r} and its indexes under an ACCESS EXCLUSIVE lock"
            yield self.violation(
                message,
                fix_title="Add a new column, backfill it in batches, and switch over",
                location=type_node.get("location"),
            )
