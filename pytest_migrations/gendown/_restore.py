"""SQL that takes a schema back from one catalog snapshot to an earlier one.

:func:`restore` reads the differences :func:`~pytest_migrations.snapshot.diff_snapshots` finds
between the snapshot before a statement and the one after it, and writes the statements that undo
them: what came is dropped (a table with everything on it at once), what changed gets its earlier
definition back, what went is recreated from the earlier snapshot with everything that hung on it
(columns, constraints, indexes, triggers, policies, comments, privileges).

Drops come first, children before parents; then changes; then recreations, parents before
children. Names are the catalog's (``quote_ident``'ed), ``public.`` left out as a migration
writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from migration_lint.gendown.sql import ident, literal, unqualified

from ..snapshot import Difference

Snapshot = Mapping[str, Mapping[str, Any]]

__all__ = ["Restoration", "restore"]


@dataclass
class Restoration:
    """The statements that undo some differences, and what they cannot undo."""

    statements: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # said as comments above the statements
    irreversible: list[str] = field(default_factory=list)
    outside_transaction: bool = False


_NAME_PART = r'(?:"(?:[^"]|"")*"|[^."(]+)'
_LAST_PART = re.compile(rf"\.({_NAME_PART})$")


def split_last(name: str) -> tuple[str, str]:
    """``public.orders.status`` -> (``public.orders``, ``status``)."""
    match = _LAST_PART.search(name)
    if not match:
        return "", name
    return name[: match.start()], match.group(1)


def _short(name: str) -> str:
    return unqualified(name)


def restore(
    differences: Iterable[Difference],
    before: Snapshot,
    after: Snapshot,
    *,
    skip: set[str] = frozenset(),  # type: ignore[assignment]
    concurrently: bool = False,
    server_version: int = 180000,
) -> Restoration:
    """The statements that take ``after`` back to ``before`` for ``differences``.

    ``skip`` holds keys (``"table public.orders"``) the DOWN drops anyway: changes to them, or to
    what hangs on them, need no undoing. What came on them is still dropped, where the statement
    stands: it may depend on something dropped before the object it hangs on (a trigger's function). ``concurrently``: recreated indexes are built
    concurrently (the statement undone dropped them so), outside a transaction.
    """
    out = Restoration()
    _FRESH.update(_fresh_privileges(server_version))
    drops: list[tuple[int, str]] = []
    changes: list[str] = []
    creates: list[tuple[int, str]] = []
    # a column's type first: its other attributes (a default) are given back for the old type
    for difference in sorted(differences, key=lambda d: not (d.object_type == "column" and d.attribute == "type")):
        key = f"{difference.object_type} {difference.name}"
        if _inherited(difference.object_type, before.get(key) or after.get(key) or {}):
            continue  # comes and goes with the parent's
        if difference.severity != "error":
            continue
        if difference.kind != "unexpected" and difference.attribute not in _DEPENDENCIES and _skipped(
            key, difference, before, after, skip
        ):
            continue
        if difference.object_type == "column" and _of_view(difference.name, before, after):
            continue  # a view's columns come and go with its definition
        if difference.kind == "unexpected":
            drops.extend(_drop(difference.object_type, difference.name, after))
        elif difference.kind == "missing":
            creates.extend(_create(difference.object_type, difference.name, before, after, out, concurrently))
        elif difference.kind == "changed":
            changes.extend(_change(difference, before, after, out, concurrently))
    out.statements.extend(statement for _, statement in sorted(drops, key=lambda item: item[0]))
    # one object's changed attributes may each ask for the same DROP and CREATE: said once
    out.statements.extend(dict.fromkeys(changes))
    out.statements.extend(statement for _, statement in sorted(creates, key=lambda item: item[0]))
    if concurrently and any(" CONCURRENTLY " in statement for statement in out.statements):
        out.outside_transaction = True
    return out


# Changes undone even on what the DOWN drops anyway: they may hold on to something the DOWN drops
# before it (a default's sequence, a column's type).
_DEPENDENCIES = frozenset({"default", "type", "definition", "identity", "collation", "generated"})


def _inherited(object_type: str, attributes: Mapping[str, Any]) -> bool:
    """A partition's (or child table's) constraint, column or index that its parent's makes."""
    if object_type in ("constraint", "column"):
        return attributes.get("local") is False
    if object_type == "index":
        return bool(attributes.get("parent_index"))
    return False


def _of_view(column: str, before: Snapshot, after: Snapshot) -> bool:
    parent = split_last(column)[0]
    return any(f"{kind} {parent}" in snapshot for kind in ("view", "materialized-view") for snapshot in (before, after))


def _view_columns(view: str, snapshot: Snapshot) -> list[str]:
    return [key for key in snapshot if key.startswith("column ") and split_last(key[len("column "):])[0] == view]


def _skipped(key: str, difference: Difference, before: Snapshot, after: Snapshot, skip: set[str]) -> bool:
    if key in skip:
        return True
    parent, _ = split_last(difference.name)
    if difference.object_type in ("column", "constraint", "trigger", "policy", "rule"):
        return any(f"{kind} {parent}" in skip for kind in ("table", "view", "materialized-view"))
    if difference.object_type == "index":
        table = (after.get(key) or before.get(key) or {}).get("table")
        return f"table {table}" in skip or f"materialized-view {table}" in skip
    if difference.object_type == "domain-constraint":
        return f"domain {parent}" in skip
    return False


# -- drop what came ------------------------------------------------------------------------------------

_DROP_ORDER = ["view", "materialized-view", "trigger", "policy", "rule", "statistics", "constraint", "index",
               "column", "table", "sequence", "function", "procedure", "aggregate", "domain-constraint", "domain",
               "type", "extension", "schema"]  # fmt: skip


def _drop(object_type: str, name: str, after: Snapshot) -> list[tuple[int, str]]:
    rank = _DROP_ORDER.index(object_type) if object_type in _DROP_ORDER else len(_DROP_ORDER)
    attributes = after.get(f"{object_type} {name}", {})
    parent, own = split_last(name)
    if object_type == "column":
        sql = f"ALTER TABLE {_short(parent)} DROP COLUMN IF EXISTS {own};"
    elif object_type == "constraint":
        rank -= 0.5 if attributes.get("type") == "foreign key" else 0  # type: ignore[assignment]
        sql = f"ALTER TABLE {_short(parent)} DROP CONSTRAINT IF EXISTS {own};"
    elif object_type in ("trigger", "policy", "rule"):
        sql = f"DROP {object_type.upper()} IF EXISTS {own} ON {_short(parent)};"
    elif object_type == "domain-constraint":
        sql = f"ALTER DOMAIN {_short(parent)} DROP CONSTRAINT IF EXISTS {own};"
    elif object_type == "index":
        if attributes.get("constraint"):
            return []  # goes with its constraint
        sql = f"DROP INDEX IF EXISTS {_short(name)};"
    elif object_type == "sequence":
        if attributes.get("identity"):
            return []  # goes with its identity column
        sql = f"DROP SEQUENCE IF EXISTS {_short(name)};"
    elif object_type in _KEYWORDS:
        sql = f"DROP {_KEYWORDS[object_type]} IF EXISTS {_short(name)};"
    else:
        return []
    return [(rank, sql)]


_KEYWORDS = {
    "table": "TABLE", "view": "VIEW", "materialized-view": "MATERIALIZED VIEW", "sequence": "SEQUENCE",
    "function": "FUNCTION", "procedure": "PROCEDURE", "aggregate": "AGGREGATE", "type": "TYPE",
    "domain": "DOMAIN", "schema": "SCHEMA", "extension": "EXTENSION", "statistics": "STATISTICS",
    "index": "INDEX", "collation": "COLLATION", "publication": "PUBLICATION", "event-trigger": "EVENT TRIGGER",
    "foreign-server": "SERVER", "foreign-data-wrapper": "FOREIGN DATA WRAPPER",
}  # fmt: skip


# -- recreate what went ----------------------------------------------------------------------------------

_CREATE_ORDER = ["schema", "extension", "type", "domain", "domain-constraint", "function", "procedure",
                 "aggregate", "sequence", "table", "column", "constraint", "index", "view", "materialized-view",
                 "trigger", "policy", "rule", "statistics"]  # fmt: skip


def _create(
    object_type: str, name: str, before: Snapshot, after: Snapshot, out: Restoration, concurrently: bool
) -> list[tuple[float, str]]:
    rank: float = _CREATE_ORDER.index(object_type) if object_type in _CREATE_ORDER else len(_CREATE_ORDER)
    key = f"{object_type} {name}"
    attributes = before[key]
    if _inherited(object_type, attributes):
        return []  # made by its parent's
    found: list[tuple[float, str]] = []
    if object_type == "table":
        found.extend(_create_table(name, before, after, out, concurrently))
        return found
    if object_type == "column":
        table, column = split_last(name)
        definition = _column_definition(attributes, _identity_sequence(before, table, column))
        found.append((rank, f"ALTER TABLE {_short(table)} ADD COLUMN {column} {definition};"))
    elif object_type == "constraint":
        found.append((rank + (0.5 if attributes.get("type") == "foreign key" else 0), _add_constraint(name, attributes)))
    elif object_type == "index":
        if attributes.get("constraint"):
            return []
        found.append((rank, _create_index(attributes, concurrently)))
    elif object_type == "sequence":
        if attributes.get("identity"):
            return []
        found.extend((rank, statement) for statement in _create_sequence(name, attributes))
    elif object_type in ("view", "materialized-view"):
        found.extend((rank, statement) for statement in _create_view(object_type, name, before))
    elif object_type in ("function", "procedure"):
        found.append((rank, _function_definition(attributes)))
    elif object_type in ("trigger", "rule", "statistics"):
        found.append((rank, attributes["definition"].rstrip(";") + ";"))
        if object_type == "trigger" and attributes.get("enabled", "origin") != "origin":
            found.append((rank, _trigger_enabled(name, attributes["enabled"])))
    elif object_type == "policy":
        found.append((rank, _create_policy(name, attributes)))
    elif object_type == "type":
        found.append((rank, _create_type(name, attributes)))
    elif object_type == "domain":
        found.extend((rank, statement) for statement in _create_domain(name, before))
    elif object_type == "domain-constraint":
        domain, constraint = split_last(name)
        not_valid = _not_valid(attributes)
        found.append((rank, f"ALTER DOMAIN {_short(domain)} ADD CONSTRAINT {constraint} {attributes['definition']}{not_valid};"))
    elif object_type == "schema":
        found.append((rank, f"CREATE SCHEMA IF NOT EXISTS {name};"))
    elif object_type == "extension":
        found.append((rank, f"CREATE EXTENSION IF NOT EXISTS {name} WITH SCHEMA {attributes.get('schema', 'public')}"
                            f" VERSION {literal(str(attributes.get('version')))};"))  # fmt: skip
    else:
        out.irreversible.append(f"the {object_type} {_short(name)} cannot be recreated by this generator")
        return []
    found.extend((rank + 0.9, statement) for statement in _comment_and_grants(object_type, name, attributes, {}))
    return found


def _create_table(
    name: str, before: Snapshot, after: Snapshot, out: Restoration, concurrently: bool
) -> list[tuple[float, str]]:
    table = before[f"table {name}"]
    rank = float(_CREATE_ORDER.index("table"))
    found: list[tuple[float, str]] = []
    # sequences the table's columns own come first: their defaults name them
    owned = [key for key, attributes in before.items() if key.startswith("sequence ")
             and split_last(attributes.get("owned_by") or "")[0] == name and not attributes.get("identity")]  # fmt: skip
    for key in owned:
        found.extend((rank - 0.5, statement) for statement in _create_sequence(key.split(" ", 1)[1], before[key], owned=False))
    columns = []
    for column in table.get("columns") or []:
        attributes = before.get(f"column {name}.{ident(column)}", {})
        definition = _column_definition(attributes, _identity_sequence(before, name, ident(column)))
        columns.append(f"    {ident(column)} {definition}")
    head = "CREATE UNLOGGED TABLE" if table.get("persistence") == "unlogged" else "CREATE TABLE"
    tail = ""
    if table.get("partition_of"):
        tail = f" PARTITION OF {_short(table['partition_of'])} {table.get('partition_bound', '')}"
        body = ""
    else:
        body = " (\n" + ",\n".join(columns) + "\n)" if columns else " ()"
    if table.get("inherits"):
        tail += " INHERITS (" + ", ".join(_short(parent) for parent in table["inherits"]) + ")"
    if table.get("partition_key"):
        tail += f" PARTITION BY {table['partition_key']}"
    if table.get("options"):
        tail += " WITH (" + ", ".join(table["options"]) + ")"
    found.append((rank, f"{head} {_short(name)}{body}{tail};"))
    for key in owned:
        sequence = before[key]
        found.append((rank + 0.1, f"ALTER SEQUENCE {_short(key.split(' ', 1)[1])} OWNED BY {_short(sequence['owned_by'])};"))
    if table.get("row_security"):
        found.append((rank + 0.2, f"ALTER TABLE {_short(name)} ENABLE ROW LEVEL SECURITY;"))
    if table.get("force_row_security"):
        found.append((rank + 0.2, f"ALTER TABLE {_short(name)} FORCE ROW LEVEL SECURITY;"))
    found.extend((rank + 0.9, statement) for statement in _comment_and_grants("table", name, table, {}))
    children = ("column", "constraint", "trigger", "policy", "rule")
    for key, attributes in before.items():
        object_type, child = key.split(" ", 1)
        if object_type == "column" and split_last(child)[0] == name:
            found.extend((rank + 0.9, statement) for statement in _comment_and_grants("column", child, attributes, {}))
        elif object_type in children and object_type != "column" and split_last(child)[0] == name:
            found.extend(_create(object_type, child, before, after, out, concurrently))
        elif object_type == "index" and attributes.get("table") == name:
            found.extend(_create("index", child, before, after, out, concurrently))
    return found


def _identity_sequence(before: Snapshot, table: str, column: str) -> tuple[str, Mapping[str, Any]] | None:
    """The sequence of an identity column, by name, with its settings."""
    owner = f"{table}.{column}"
    for key, attributes in before.items():
        if key.startswith("sequence ") and attributes.get("identity") and attributes.get("owned_by") == owner:
            return key[len("sequence ") :], attributes
    return None


def _column_definition(attributes: Mapping[str, Any], identity_sequence: tuple[str, Mapping[str, Any]] | None = None) -> str:
    parts = [attributes.get("type", "text")]
    if attributes.get("collation"):
        parts.append(f"COLLATE {attributes['collation']}")
    if attributes.get("generated"):
        expression, _, kind = attributes["generated"].rpartition(" ")
        parts.append(f"GENERATED ALWAYS AS ({expression}) {kind}")
    elif attributes.get("identity"):
        parts.append(f"GENERATED {attributes['identity']} AS IDENTITY{_identity_options(identity_sequence)}")
    elif attributes.get("default") is not None:
        parts.append(f"DEFAULT {attributes['default']}")
    named = attributes.get("not_null_constraint")
    if named:  # a NOT NULL constraint (PostgreSQL 18) named otherwise than by default
        name = re.match(r'^("(?:[^"]|"")*"|\S+)', named).group(1)  # type: ignore[union-attr]
        parts.append(f"CONSTRAINT {name} NOT NULL" + (" NO INHERIT" if "NO INHERIT" in named else ""))
    elif attributes.get("not_null"):
        parts.append("NOT NULL")
    return " ".join(parts)


def _identity_options(identity_sequence: tuple[str, Mapping[str, Any]] | None) -> str:
    """`` (SEQUENCE NAME ...)`` when the sequence is not the one PostgreSQL would name (the table
    was renamed since), and its settings that are not the defaults."""
    if identity_sequence is None:
        return ""
    name, sequence = identity_sequence
    options = [f"SEQUENCE NAME {_short(name)}"]
    if sequence.get("start") not in (None, 1, "1"):
        options.append(f"START WITH {sequence['start']}")
    if sequence.get("increment") not in (None, 1, "1"):
        options.append(f"INCREMENT BY {sequence['increment']}")
    return " (" + " ".join(options) + ")"


def _add_constraint(name: str, attributes: Mapping[str, Any]) -> str:
    table, constraint = split_last(name)
    return f"ALTER TABLE {_short(table)} ADD CONSTRAINT {constraint} {attributes.get('definition', '')}{_not_valid(attributes)};"


def _not_valid(attributes: Mapping[str, Any]) -> str:
    """`` NOT VALID`` for a constraint not validated, unless its definition says so already."""
    if attributes.get("validated", True) or str(attributes.get("definition", "")).endswith(" NOT VALID"):
        return ""
    return " NOT VALID"


def _create_index(attributes: Mapping[str, Any], concurrently: bool) -> str:
    # a partitioned table's index, made ON ONLY it, would not make its partitions' indexes
    definition = attributes["definition"].replace(" ON ONLY ", " ON ", 1)
    if concurrently:
        definition = re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ", definition)
    return _unqualify_create(definition) + ";"


def _unqualify_create(definition: str) -> str:
    """``CREATE INDEX x ON public.orders USING btree (a)`` -> ``... ON orders USING btree (a)``."""
    return re.sub(r" ON (ONLY )?public\.", r" ON \1", definition, count=1)


def _create_sequence(name: str, attributes: Mapping[str, Any], *, owned: bool = True) -> list[str]:
    options = []
    if attributes.get("type") and attributes["type"] != "bigint":
        options.append(f"AS {attributes['type']}")
    for label, attribute in (("START WITH", "start"), ("INCREMENT BY", "increment"), ("MINVALUE", "min"),
                             ("MAXVALUE", "max"), ("CACHE", "cache")):  # fmt: skip
        if attributes.get(attribute) is not None:
            options.append(f"{label} {attributes[attribute]}")
    if attributes.get("cycle"):
        options.append("CYCLE")
    statements = [f"CREATE SEQUENCE {_short(name)}" + ("".join(f" {option}" for option in options)) + ";"]
    if owned and attributes.get("owned_by"):
        statements.append(f"ALTER SEQUENCE {_short(name)} OWNED BY {_short(attributes['owned_by'])};")
    return statements


def _create_view(object_type: str, name: str, before: Snapshot) -> list[str]:
    attributes = before[f"{object_type} {name}"]
    keyword = "VIEW" if object_type == "view" else "MATERIALIZED VIEW"
    options = " WITH (" + ", ".join(attributes["options"]) + ")" if attributes.get("options") else ""
    statements = [f"CREATE {keyword} {_short(name)}{options} AS\n{attributes['definition'].rstrip().rstrip(';')};"]
    for key, column in before.items():
        if key.startswith("column ") and split_last(key.split(" ", 1)[1])[0] == name:
            statements.extend(_comment_and_grants("column", key.split(" ", 1)[1], column, {}))
            if column.get("default") is not None:
                statements.append(f"ALTER VIEW {_short(name)} ALTER COLUMN {split_last(key)[1]} SET DEFAULT {column['default']};")
    return statements


def _function_definition(attributes: Mapping[str, Any]) -> str:
    return attributes["definition"].rstrip().rstrip(";") + ";"


def _trigger_enabled(name: str, enabled: str) -> str:
    table, trigger = split_last(name)
    action = {"disabled": "DISABLE", "replica": "ENABLE REPLICA", "always": "ENABLE ALWAYS"}.get(enabled, "ENABLE")
    return f"ALTER TABLE {_short(table)} {action} TRIGGER {trigger};"


def _create_policy(name: str, attributes: Mapping[str, Any]) -> str:
    table, policy = split_last(name)
    text = f"CREATE POLICY {policy} ON {_short(table)}"
    if attributes.get("permissive") is False:
        text += " AS RESTRICTIVE"
    text += f" FOR {attributes.get('command', 'ALL')}"
    if attributes.get("roles"):
        text += " TO " + ", ".join(attributes["roles"])
    if attributes.get("using"):
        text += f" USING ({attributes['using']})"
    if attributes.get("with_check"):
        text += f" WITH CHECK ({attributes['with_check']})"
    return text + ";"


def _create_type(name: str, attributes: Mapping[str, Any]) -> str:
    kind = attributes.get("kind")
    if kind == "enum":
        return f"CREATE TYPE {_short(name)} AS ENUM (" + ", ".join(literal(value) for value in attributes.get("values") or []) + ");"
    if kind == "composite":
        members = [re.sub(r" -- .*$", "", member) for member in attributes.get("attributes") or []]
        return f"CREATE TYPE {_short(name)} AS (" + ", ".join(members) + ");"
    if kind == "range":
        options = [f"SUBTYPE = {attributes['subtype']}"]
        for label, attribute in (("SUBTYPE_OPCLASS", "subtype_operator_class"), ("COLLATION", "subtype_collation"),
                                 ("CANONICAL", "canonical"), ("SUBTYPE_DIFF", "subtype_diff")):  # fmt: skip
            if attributes.get(attribute):
                options.append(f"{label} = {re.sub(r'[(].*$', '', attributes[attribute])}")
        return f"CREATE TYPE {_short(name)} AS RANGE (" + ", ".join(options) + ");"
    return f"-- the type {_short(name)} ({kind}) must be recreated by hand"


def _create_domain(name: str, before: Snapshot) -> list[str]:
    attributes = before[f"domain {name}"]
    text = f"CREATE DOMAIN {_short(name)} AS {attributes.get('base_type')}"
    if attributes.get("collation"):
        text += f" COLLATE {attributes['collation']}"
    if attributes.get("default") is not None:
        text += f" DEFAULT {attributes['default']}"
    if attributes.get("not_null"):
        text += " NOT NULL"
    statements = [text + ";"]
    for key, constraint in before.items():
        if key.startswith("domain-constraint ") and split_last(key.split(" ", 1)[1])[0] == name:
            _, own = split_last(key)
            not_valid = _not_valid(constraint)
            statements.append(f"ALTER DOMAIN {_short(name)} ADD CONSTRAINT {own} {constraint['definition']}{not_valid};")
    return statements


# -- give back what changed -------------------------------------------------------------------------------


def _change(difference: Difference, before: Snapshot, after: Snapshot, out: Restoration, concurrently: bool) -> list[str]:
    object_type, name, attribute = difference.object_type, difference.name, difference.attribute or ""
    old, new = difference.before, difference.after
    key = f"{object_type} {name}"
    if attribute == "comment":
        return [_comment_on(object_type, name, old)]
    if attribute == "privileges":
        return _grants(object_type, name, old or [], new or [])
    if object_type == "column":
        return _change_column(name, attribute, old, before[key], after[key], out)
    if object_type == "table":
        return _change_table(name, attribute, old, new, out)
    if object_type == "constraint":
        if attribute in ("definition", "validated", "deferrable", "deferred", "type"):
            table, constraint = split_last(name)
            return [f"ALTER TABLE {_short(table)} DROP CONSTRAINT IF EXISTS {constraint};", _add_constraint(name, before[key])]
    elif object_type == "index":
        if before[key].get("constraint") or after[key].get("constraint"):
            return []  # built by its constraint, given back with it
        if attribute in ("definition", "unique", "primary", "statistics"):
            return [f"DROP INDEX IF EXISTS {_short(name)};", _create_index(before[key], concurrently)]
        if attribute == "clustered":
            table = _short(before[key]["table"])
            return [f"ALTER TABLE {table} CLUSTER ON {split_last(name)[1]};" if old else f"ALTER TABLE {table} SET WITHOUT CLUSTER;"]
        if attribute in ("constraint", "table", "valid", "replica_identity"):
            return []  # follows the constraint, the table, the build, the table's replica identity
    elif object_type == "sequence":
        return _change_sequence(name, attribute, old, out)
    elif object_type in ("view", "materialized-view"):
        if attribute == "definition" and object_type == "view":
            if set(_view_columns(name, before)) != set(_view_columns(name, after)):
                # CREATE OR REPLACE VIEW cannot take columns away
                return [f"DROP VIEW IF EXISTS {_short(name)};", *_create_view(object_type, name, before)]
            return [f"CREATE OR REPLACE VIEW {_short(name)} AS\n{old.rstrip().rstrip(';')};"]
        if attribute == "definition":
            return [f"DROP MATERIALIZED VIEW IF EXISTS {_short(name)};", *_create_view(object_type, name, before)]
    elif object_type in ("function", "procedure"):
        if attribute == "definition":
            if _returns(old) != _returns(new):
                return [f"DROP {object_type.upper()} IF EXISTS {_short(name)};", _function_definition(before[key])]
            return [_function_definition(before[key])]
    elif object_type == "trigger":
        if attribute == "definition":
            table, trigger = split_last(name)
            return [f"DROP TRIGGER IF EXISTS {trigger} ON {_short(table)};", old.rstrip(";") + ";"]
        if attribute == "enabled":
            return [_trigger_enabled(name, old or "origin")]
    elif object_type == "policy":
        table, policy = split_last(name)
        return [f"DROP POLICY IF EXISTS {policy} ON {_short(table)};", _create_policy(name, before[key])]
    elif object_type in ("rule", "statistics"):
        if attribute == "definition":
            if object_type == "rule":
                table, rule = split_last(name)
                return [f"DROP RULE IF EXISTS {rule} ON {_short(table)};", old.rstrip(";") + ";"]
            return [f"DROP STATISTICS IF EXISTS {_short(name)};", old.rstrip(";") + ";"]
    elif object_type == "type":
        if attribute == "values" and isinstance(old, list) and isinstance(new, list):
            added = [value for value in new if value not in old]
            if added and all(value in new for value in old):
                out.irreversible.append(
                    f"PostgreSQL cannot remove the value(s) {', '.join(literal(v) for v in added)} of the enum {_short(name)}"
                )  # fmt: skip
                return []
    elif object_type == "domain":
        if attribute == "default":
            return [f"ALTER DOMAIN {_short(name)} " + (f"SET DEFAULT {old};" if old is not None else "DROP DEFAULT;")]
        if attribute == "not_null":
            return [f"ALTER DOMAIN {_short(name)} {'SET' if old else 'DROP'} NOT NULL;"]
    elif object_type == "domain-constraint":
        domain, constraint = split_last(name)
        not_valid = _not_valid(before[key])
        return [f"ALTER DOMAIN {_short(domain)} DROP CONSTRAINT IF EXISTS {constraint};",
                f"ALTER DOMAIN {_short(domain)} ADD CONSTRAINT {constraint} {before[key]['definition']}{not_valid};"]  # fmt: skip
    elif object_type == "extension":
        if attribute == "version":
            return [f"ALTER EXTENSION {name} UPDATE TO {literal(str(old))};"]
        if attribute == "schema":
            return [f"ALTER EXTENSION {name} SET SCHEMA {old};"]
    out.irreversible.append(f"{difference}: this generator cannot give it back")
    return []


def _returns(definition: str | None) -> str:
    match = re.search(r"^ RETURNS .*$", definition or "", re.MULTILINE)
    return match.group(0) if match else ""


def _change_column(
    name: str, attribute: str, old: Any, was: Mapping[str, Any], now: Mapping[str, Any], out: Restoration
) -> list[str]:
    table, column = split_last(name)
    alter = f"ALTER TABLE {_short(table)} ALTER COLUMN {column}"
    if attribute == "type" or (attribute == "collation" and was.get("type") == now.get("type")):
        collate = f" COLLATE {was['collation']}" if was.get("collation") else ""
        statements = []
        if now.get("default") is not None and was.get("default") != now.get("default") and attribute == "type":
            # the new default may not cast to the old type; the old one is given back after
            statements.append(f"{alter} DROP DEFAULT;")
        # a type of the project (an enum) casts to another only through text
        through_text = "::text" if "." in was["type"] or "." in now.get("type", "") else ""
        statements.append(f"{alter} TYPE {was['type']}{collate} USING {column}{through_text}::{was['type']};")
        return statements
    if attribute == "collation":
        return []  # given back with the type
    if attribute == "default":
        return [f"{alter} SET DEFAULT {old};" if old is not None else f"{alter} DROP DEFAULT;"]
    if attribute == "not_null":
        return [f"{alter} {'SET' if old else 'DROP'} NOT NULL;"]
    if attribute == "identity":
        if old is None:
            return [f"{alter} DROP IDENTITY IF EXISTS;"]
        if now.get("identity") is None:
            return [f"{alter} ADD GENERATED {old} AS IDENTITY;"]
        return [f"{alter} SET GENERATED {old};"]
    if attribute == "statistics":
        return [f"{alter} SET STATISTICS {old if old is not None else -1};"]
    if attribute == "storage":
        storage = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}.get(old or "", "DEFAULT")
        return [f"{alter} SET STORAGE {storage};"]
    if attribute == "not_null_constraint":
        return []
    out.irreversible.append(f"column {_short(name)}: {attribute} cannot be given back by this generator")
    return []


def _change_table(name: str, attribute: str, old: Any, new: Any, out: Restoration) -> list[str]:
    alter = f"ALTER TABLE {_short(name)}"
    if attribute == "row_security":
        return [f"{alter} {'ENABLE' if old else 'DISABLE'} ROW LEVEL SECURITY;"]
    if attribute == "force_row_security":
        return [f"{alter} {'FORCE' if old else 'NO FORCE'} ROW LEVEL SECURITY;"]
    if attribute == "options":
        statements = []
        gone = [option.split("=", 1)[0] for option in new or [] if option.split("=", 1)[0] not in
                {o.split("=", 1)[0] for o in old or []}]  # fmt: skip
        if gone:
            statements.append(f"{alter} RESET (" + ", ".join(gone) + ");")
        if old:
            statements.append(f"{alter} SET (" + ", ".join(old) + ");")
        return statements
    if attribute == "persistence":
        return [f"{alter} SET {'UNLOGGED' if old == 'unlogged' else 'LOGGED'};"]
    if attribute == "replica_identity":
        return [f"{alter} REPLICA IDENTITY {(old or 'default').upper()};"] if old != "index" else []
    out.irreversible.append(f"table {_short(name)}: {attribute} cannot be given back by this generator")
    return []


def _change_sequence(name: str, attribute: str, old: Any, out: Restoration) -> list[str]:
    alter = f"ALTER SEQUENCE {_short(name)}"
    labels = {"type": "AS", "start": "START WITH", "increment": "INCREMENT BY", "min": "MINVALUE", "max": "MAXVALUE",
              "cache": "CACHE"}  # fmt: skip
    if attribute in labels:
        return [f"{alter} {labels[attribute]} {old};"]
    if attribute == "cycle":
        return [f"{alter} {'CYCLE' if old else 'NO CYCLE'};"]
    if attribute == "owned_by":
        return [f"{alter} OWNED BY {_short(old) if old else 'NONE'};"]
    if attribute == "identity":
        return []
    out.irreversible.append(f"sequence {_short(name)}: {attribute} cannot be given back by this generator")
    return []


# -- comments and privileges -------------------------------------------------------------------------------

_COMMENT_KEYWORDS = {
    "table": "TABLE", "column": "COLUMN", "index": "INDEX", "sequence": "SEQUENCE", "view": "VIEW",
    "materialized-view": "MATERIALIZED VIEW", "function": "FUNCTION", "procedure": "PROCEDURE", "type": "TYPE",
    "domain": "DOMAIN", "schema": "SCHEMA", "extension": "EXTENSION", "statistics": "STATISTICS",
    "aggregate": "AGGREGATE", "collation": "COLLATION",
}  # fmt: skip


def _comment_on(object_type: str, name: str, text: str | None) -> str:
    value = "NULL" if text is None else literal(text)
    if object_type in ("constraint", "trigger", "policy", "rule"):
        parent, own = split_last(name)
        return f"COMMENT ON {object_type.upper()} {own} ON {_short(parent)} IS {value};"
    if object_type == "domain-constraint":
        parent, own = split_last(name)
        return f"COMMENT ON CONSTRAINT {own} ON DOMAIN {_short(parent)} IS {value};"
    keyword = _COMMENT_KEYWORDS.get(object_type, object_type.upper())
    return f"COMMENT ON {keyword} {_short(name)} IS {value};"


_GRANT_TARGETS = {
    "table": "TABLE", "view": "TABLE", "materialized-view": "TABLE", "sequence": "SEQUENCE",
    "function": "FUNCTION", "procedure": "PROCEDURE", "aggregate": "FUNCTION", "schema": "SCHEMA",
    "type": "TYPE", "domain": "DOMAIN", "foreign-server": "FOREIGN SERVER",
    "foreign-data-wrapper": "FOREIGN DATA WRAPPER",
}  # fmt: skip
_PRIVILEGE = re.compile(r'^("(?:[^"]|"")*"|\S+) (.+?)( WITH GRANT OPTION)?(?: GRANTED BY .+)?$')


def _grants(object_type: str, name: str, old: list[str], new: list[str]) -> list[str]:
    if object_type == "column":
        table, column = split_last(name)
        target, columns = f"TABLE {_short(table)}", f" ({column})"
    elif object_type in _GRANT_TARGETS:
        target, columns = f"{_GRANT_TARGETS[object_type]} {_short(name)}", ""
    else:
        return []

    def parsed(items: list[str]) -> dict[tuple[str, str], bool]:
        found = {}
        for item in items:
            match = _PRIVILEGE.match(item)
            if match:
                grantee = "CURRENT_USER" if match.group(1) == "<owner>" else match.group(1)
                found[(grantee, match.group(2))] = bool(match.group(3))
        return found

    was, now = parsed(old), parsed(new)
    statements = []
    for (grantee, privilege), option in sorted(now.items()):
        if (grantee, privilege) not in was:
            statements.append(f"REVOKE {privilege}{columns} ON {target} FROM {grantee};")
        elif option and not was[(grantee, privilege)]:
            statements.append(f"REVOKE GRANT OPTION FOR {privilege}{columns} ON {target} FROM {grantee};")
    for (grantee, privilege), option in sorted(was.items()):
        if (grantee, privilege) not in now or (option and not now[(grantee, privilege)]):
            statements.append(f"GRANT {privilege}{columns} ON {target} TO {grantee}{' WITH GRANT OPTION' if option else ''};")
    return statements


def _comment_and_grants(object_type: str, name: str, attributes: Mapping[str, Any], default: Mapping[str, Any]) -> list[str]:
    """COMMENT and GRANT statements for an object recreated from ``attributes``.

    Privileges are given back as differences from what a new object gets: the owner's all, and for
    functions and types PUBLIC's EXECUTE or USAGE.
    """
    statements = []
    if attributes.get("comment") is not None:
        statements.append(_comment_on(object_type, name, attributes["comment"]))
    privileges = attributes.get("privileges")
    if privileges is not None:
        fresh = _FRESH.get(object_type)
        if fresh is not None and sorted(privileges) != fresh:
            statements.extend(_grants(object_type, name, privileges, fresh))
        elif object_type == "column" and privileges:
            statements.extend(_grants(object_type, name, privileges, []))
    return statements


def _fresh_privileges(server_version: int) -> dict[str, list[str]]:
    """What the snapshot shows for a new object of each type, by its owner (MAINTAIN is 17's)."""
    table = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"]
    if server_version >= 170000:
        table.append("MAINTAIN")
    table_privileges = sorted(f"<owner> {privilege}" for privilege in table)
    return {"table": table_privileges, "view": table_privileges, "materialized-view": table_privileges}


_FRESH: dict[str, list[str]] = {
    "sequence": sorted(["<owner> SELECT", "<owner> UPDATE", "<owner> USAGE"]),
    "function": sorted(["<owner> EXECUTE", "PUBLIC EXECUTE"]), "procedure": sorted(["<owner> EXECUTE", "PUBLIC EXECUTE"]),
    "type": sorted(["<owner> USAGE", "PUBLIC USAGE"]), "domain": sorted(["<owner> USAGE", "PUBLIC USAGE"]),
    "schema": sorted(["<owner> CREATE", "<owner> USAGE"]),
}  # fmt: skip
