from __future__ import annotations

from typing import Iterable

from ..sqlnodes import column_constraints, type_name
from .base import ADVICE, WARNING, Rule, Violation

_SMALL = {"int4": "integer", "int2": "smallint", "serial": "serial", "serial4": "serial",
          "smallserial": "smallserial", "serial2": "smallserial"}


class PreferBigintForKeys(Rule):
    """Key columns declared `integer`/`smallint` (or `serial`) instead of `bigint`.

    ## What it does
    Flags a column declared `integer`, `smallint`, `serial` or `smallserial` that is a key: a
    column-level PRIMARY KEY or REFERENCES, an identity column, or one named `id` or `*_id`.

    ## Why is this bad?
    A 32-bit key runs out at 2,147,483,647; widening it later rewrites the table and every
    referencing table under ACCESS EXCLUSIVE locks. `bigint` costs 4 more bytes per row.

    ## Example
    ```sql
    CREATE TABLE users (id serial PRIMARY KEY);
    ```

    ## Use instead
    ```sql
    CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);
    ```
    """

    severity = WARNING
    group = ADVICE
    node_types = frozenset({"ColumnDef"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        name = node.get("colname") or ""
        declared = _SMALL.get(type_name(node.get("typeName")))
        if not name or declared is None or (node.get("typeName") or {}).get("arrayBounds"):
            return
        kinds = {c.get("contype") for c in column_constraints(node)}
        if not (kinds & {"CONSTR_PRIMARY", "CONSTR_FOREIGN", "CONSTR_IDENTITY"} or name == "id"
                or name.endswith("_id") or declared.endswith("serial")):
            return
        yield self.violation(
            f"key column {name} is {declared}: 32-bit keys run out, and widening later rewrites the table",
            fix_title="Use bigint (bigint GENERATED ... AS IDENTITY for a generated key)",
            location=(node.get("typeName") or {}).get("location"),
        )
