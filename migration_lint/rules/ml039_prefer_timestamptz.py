from __future__ import annotations

import re
from typing import Iterable

from ..sqlnodes import type_name
from .base import ADVICE, WARNING, Edit, Rule, Violation

_TIMESTAMP = re.compile(r"timestamp(\s*\(\s*\d+\s*\))?(\s+without\s+time\s+zone)?", re.IGNORECASE)


class PreferTimestamptz(Rule):
    """`timestamp` (without time zone) where `timestamptz` records an unambiguous instant.

    ## What it does
    Flags columns declared `timestamp` / `timestamp without time zone`.

    ## Why is this bad?
    A `timestamp` stores a wall-clock reading with no zone: the same value means different
    instants for clients in different time zones, and daylight-saving changes make values
    ambiguous. `timestamptz` stores an instant (in UTC) and costs the same 8 bytes.

    ## Example
    ```sql
    CREATE TABLE events (at timestamp NOT NULL);
    ```

    ## Use instead
    ```sql
    CREATE TABLE events (at timestamptz NOT NULL);
    ```

    ## Fix
    Replaces the type with `timestamptz` (keeping a precision).
    """

    severity = WARNING
    group = ADVICE
    fixable = True
    node_types = frozenset({"ColumnDef"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        type_node = node.get("typeName") or {}
        if type_name(type_node) != "timestamp":
            return
        edits = ()
        offset = ctx.statement_offset(type_node.get("location"))
        if offset is not None and not ctx.in_plpgsql:
            match = _TIMESTAMP.match(ctx.statement.text, offset)
            if match:
                edits = (Edit(match.start(), match.end(), "timestamptz" + (match.group(1) or "").replace(" ", "")),)
        yield self.violation(
            f"column {node.get('colname') or ''} is timestamp without time zone: prefer timestamptz",
            fix_title="Use timestamptz",
            edits=edits,
            location=type_node.get("location"),
        )
