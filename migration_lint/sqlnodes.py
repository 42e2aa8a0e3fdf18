"""Small readers over pglast's JSON tree: names, types, constants, volatility.

pglast's JSON wraps nodes of a generic field in ``{"NodeType": {...}}`` and leaves typed fields
bare (``relation`` is a RangeVar's fields directly); these helpers hide that difference.
"""

from __future__ import annotations

from typing import Any, Iterator

Node = dict[str, Any]


def unwrap(node: Any) -> tuple[str | None, Node]:
    """``{"A_Const": {...}}`` -> ``("A_Const", {...})``; a bare dict -> ``(None, dict)``."""
    # Called for nearly every list item rules look at: kept to the fewest operations.
    if type(node) is not dict:
        return None, {}
    if len(node) == 1:
        ((key, value),) = node.items()
        if type(value) is dict and key[:1].isupper():
            return key, value
    return None, node


def strings(items: Any) -> list[str]:
    """The ``sval`` of a list of ``String`` nodes (qualified names, column lists)."""
    found = []
    for item in items or ():
        kind, inner = unwrap(item)
        if kind == "String":
            found.append(inner.get("sval", ""))
        elif kind == "A_Star":
            found.append("*")
    return found


def relation_name(relation: Node | None) -> str:
    """The table name of a RangeVar (without schema), lowercase as PostgreSQL folded it."""
    if not relation:
        return ""
    return relation.get("relname", "")


def qualified_name(relation: Node | None) -> str:
    if not relation:
        return ""
    schema = relation.get("schemaname")
    return f"{schema}.{relation.get('relname', '')}" if schema else relation.get("relname", "")


def type_name(type_node: Node | None) -> str:
    """The last part of a TypeName (``int4``, ``varchar``, ``timestamptz``)."""
    if not type_node:
        return ""
    names = strings(type_node.get("names"))
    return names[-1] if names else ""


def type_modifiers(type_node: Node | None) -> list[int | None]:
    """Integer type modifiers (``varchar(20)`` -> ``[20]``); ``None`` for a non-integer one."""
    found: list[int | None] = []
    for item in (type_node or {}).get("typmods", ()):
        found.append(integer_constant(item))
    return found


def is_array_type(type_node: Node | None) -> bool:
    return bool((type_node or {}).get("arrayBounds"))


def integer_constant(node: Any) -> int | None:
    kind, inner = unwrap(node)
    if kind == "A_Const" and "ival" in inner:
        return int(inner["ival"].get("ival", 0))
    if kind == "A_Const" and inner.get("isnull"):
        return None
    return None


def string_constant(node: Any) -> str | None:
    kind, inner = unwrap(node)
    if kind != "A_Const":
        return None
    if "sval" in inner:
        return inner["sval"].get("sval", "")
    if "ival" in inner:
        return str(inner["ival"].get("ival", 0))
    if "fval" in inner:
        return inner["fval"].get("fval", "")
    if "boolval" in inner:
        return "true" if inner["boolval"].get("boolval") else "false"
    return None


def setting_value(args: Any) -> str | None:
    """The value of ``SET name = value`` as text (``'5s'`` -> ``5s``, ``0`` -> ``0``)."""
    values = [string_constant(arg) for arg in args or ()]
    if not values or any(value is None for value in values):
        return None
    return ", ".join(v for v in values if v is not None)


def column_constraints(column_def: Node) -> Iterator[Node]:
    for item in column_def.get("constraints", ()):
        kind, inner = unwrap(item)
        if kind == "Constraint":
            yield inner


def func_name(func_call: Node) -> str:
    names = strings(func_call.get("funcname"))
    return names[-1].lower() if names else ""


# Functions whose result does not change within a statement (STABLE) or ever (IMMUTABLE): a
# column default built from them is evaluated once for ALTER TABLE ... ADD COLUMN and stored in
# the catalog (PostgreSQL 11+), so the table is not rewritten.
NON_VOLATILE_FUNCTIONS = frozenset(
    {
        "now", "current_timestamp", "current_date", "current_time", "localtimestamp",
        "localtime", "transaction_timestamp", "statement_timestamp", "current_user",
        "session_user", "current_schema", "current_database", "version", "lower", "upper",
        "length", "coalesce", "nullif", "greatest", "least", "concat", "to_timestamp",
        "to_date", "to_char", "to_number", "make_date", "make_timestamp", "make_timestamptz",
        "make_interval", "jsonb_build_object", "json_build_object", "jsonb_build_array",
        "json_build_array", "array_fill", "abs", "round", "trunc", "date_trunc", "timezone",
        "btrim", "trim", "ltrim", "rtrim", "replace", "substr", "substring", "left", "right",
        "format", "md5", "pg_catalog.now", "array_length", "cardinality", "jsonb",
        "to_jsonb", "to_json", "int4", "int8", "text", "numeric", "bool", "date", "interval",
    }
)


def volatile_parts(expression: Any) -> list[str]:
    """Names of calls in ``expression`` that are (or may be) volatile: ``random()``,
    ``gen_random_uuid()``, ``clock_timestamp()``, ``nextval()``, user functions."""
    found = []
    stack = [expression]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if key == "FuncCall" and isinstance(value, dict):
                    name = func_name(value)
                    if name not in NON_VOLATILE_FUNCTIONS:
                        found.append(name)
                elif key == "SQLValueFunction":
                    continue  # CURRENT_TIMESTAMP & co. are stable
                if isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(current, list):
            stack.extend(current)
    return found


def check_not_null_column(constraint: Node) -> str | None:
    """The column of a ``CHECK (col IS NOT NULL)`` constraint, else ``None``."""
    if constraint.get("contype") != "CONSTR_CHECK":
        return None
    kind, test = unwrap(constraint.get("raw_expr"))
    if kind != "NullTest" or test.get("nulltesttype") != "IS_NOT_NULL":
        return None
    arg_kind, arg = unwrap(test.get("arg"))
    if arg_kind != "ColumnRef":
        return None
    fields = strings(arg.get("fields"))
    return fields[-1] if fields else None


def drop_object_names(drop: Node) -> list[str]:
    """Dotted names of the objects of a ``DropStmt``."""
    names = []
    for item in drop.get("objects", ()):
        kind, inner = unwrap(item)
        if kind == "List":
            names.append(".".join(strings(inner.get("items"))))
        elif kind == "String":
            names.append(inner.get("sval", ""))
        elif kind == "TypeName":
            names.append(type_name(inner))
        elif kind == "ObjectWithArgs":
            names.append(".".join(strings(inner.get("objname"))))
        else:
            names.append("")
    return names


def last_part(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


# PostgreSQL's suffix for the name it gives a constraint the statement leaves unnamed.
_CONSTRAINT_SUFFIXES = {"CONSTR_PRIMARY": "pkey", "CONSTR_UNIQUE": "key", "CONSTR_FOREIGN": "fkey"}
_NAMEDATALEN = 63


def constraint_name(table: str, constraint: Node, columns: tuple[str, ...] = ()) -> str | None:
    """The name of a PRIMARY KEY, UNIQUE or FOREIGN KEY constraint: its own, else the one
    PostgreSQL chooses (``orders_pkey``, ``orders_email_key``, ``orders_customer_id_fkey``);
    ``columns``: those of the column a column constraint sits on. ``None`` for another kind, or
    where PostgreSQL would shorten the name (past 63 bytes) or number it to keep it unique."""
    if constraint.get("conname"):
        return constraint["conname"]
    suffix = _CONSTRAINT_SUFFIXES.get(constraint.get("contype", ""))
    if suffix is None:
        return None
    table = last_part(table)
    if suffix == "pkey":
        name = f"{table}_pkey"
    else:
        keys = strings(constraint.get("fk_attrs" if suffix == "fkey" else "keys")) or list(columns)
        if not keys:
            return None
        name = f"{table}_{'_'.join(keys)}_{suffix}"
    return name if len(name.encode("utf-8")) <= _NAMEDATALEN else None
