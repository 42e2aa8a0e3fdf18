"""What the migrations read so far have established about the schema, as far as rules need it.

The linter reads a directory in version order and carries this state forward, so that the
documented two-step patterns lint clean: a ``CHECK (col IS NOT NULL) NOT VALID`` validated in a
later migration makes ``SET NOT NULL`` cheap on PostgreSQL 12+, and a unique index built
``CONCURRENTLY`` earlier makes ``ADD CONSTRAINT ... UNIQUE USING INDEX`` cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from .sqlnodes import (
    check_not_null_column,
    constraint_name,
    is_array_type,
    type_modifiers,
    type_name,
    drop_object_names,
    last_part,
    relation_name,
    strings,
    unwrap,
)


@dataclass
class SchemaState:
    tables: set[str] = field(default_factory=set)
    # (table, constraint name) -> column, for CHECK (column IS NOT NULL) constraints not yet validated
    pending_not_null_checks: dict[tuple[str, str], str] = field(default_factory=dict)
    # (table, column) proven NOT NULL by a validated CHECK constraint
    validated_not_null: set[tuple[str, str]] = field(default_factory=set)
    # index name -> (table, columns, unique, built concurrently)
    indexes: dict[str, tuple[str, tuple[str, ...], bool, bool]] = field(default_factory=dict)
    # table -> column lists covered by an index (including primary keys and unique constraints)
    indexed_columns: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    # table -> column -> its TypeName node, as far as migrations declared them (read through
    # column_type: most columns are never asked about, so their types are not worked out early)
    columns: dict[str, dict[str, dict]] = field(default_factory=dict)
    # tables with a validated CHECK constraint (any), for ATTACH PARTITION
    checked_tables: set[str] = field(default_factory=set)
    # (table, constraint name) validated though we never saw it added (an earlier history we
    # do not have, e.g. a loose file): its definition is unknown
    validated_unknown: set[tuple[str, str]] = field(default_factory=set)
    # What other objects rely on, for the objects a DROP ... CASCADE would take along (read
    # through dependencies(); stored as the nodes migrations wrote, worked out only when asked):
    # table -> column -> its DEFAULT expression
    defaults: dict[str, dict[str, dict]] = field(default_factory=dict)
    # (table, constraint) -> the table a foreign key references
    foreign_keys: dict[tuple[str, str], str] = field(default_factory=dict)
    # (table, trigger) -> the function it executes
    triggers: dict[tuple[str, str], str] = field(default_factory=dict)
    # view or materialized view -> its query
    views: dict[str, dict] = field(default_factory=dict)
    # function -> its CreateFunctionStmt (argument and result types)
    functions: dict[str, dict] = field(default_factory=dict)

    def copy(self) -> SchemaState:
        import copy

        return copy.deepcopy(self)

    # -- questions rules ask -----------------------------------------------------------------
    def has_validated_not_null_check(self, table: str, column: str) -> bool:
        return (table, column) in self.validated_not_null

    def column_type(self, table: str, column: str) -> tuple[str, tuple, bool] | None:
        """(type name, type modifiers, is array) of the column as migrations declared it."""
        type_node = self.columns.get(table, {}).get(column)
        if type_node is None:
            return None
        return type_name(type_node), tuple(type_modifiers(type_node)), is_array_type(type_node)

    def has_index_on(self, table: str, columns: tuple[str, ...]) -> bool:
        """Whether an index of ``table`` starts with ``columns`` (in any order)."""
        wanted = set(columns)
        return any(set(indexed[: len(columns)]) == wanted for indexed in self.indexed_columns.get(table, ()))

    def dependencies(self) -> Iterator[tuple[Holder, frozenset[Referenced]]]:
        """Every object that relies on another, with what it relies on: a column on its type, a
        column's default on the sequences and functions it calls, a foreign key on the table it
        references, a trigger on its function, a view on its relations and functions, a function
        on its argument and result types."""
        holders: list[Holder] = [("column", t, c) for t, columns in self.columns.items() for c in columns]
        holders += [("default", t, c) for t, columns in self.columns.items() for c, type_node in columns.items()
                    if type_name(type_node) in _SERIAL_TYPES and c not in self.defaults.get(t, {})]
        holders += [("default", t, c) for t, defaults in self.defaults.items() for c in defaults]
        holders += [("constraint", t, n) for t, n in self.foreign_keys]
        holders += [("trigger", t, n) for t, n in self.triggers]
        holders += [("view", v, "") for v in self.views] + [("function", f, "") for f in self.functions]
        for holder in holders:
            yield holder, self.references(holder)

    def references(self, holder: Holder) -> frozenset[Referenced]:
        """What one object of :meth:`dependencies` relies on."""
        kind, name, detail = holder
        if kind == "column":
            type_node = self.columns.get(name, {}).get(detail)
            return frozenset({("type", type_name(type_node))}) if type_node else frozenset()
        if kind == "default":
            found = set(_called(self.defaults.get(name, {}).get(detail, {})))
            if type_name(self.columns.get(name, {}).get(detail)) in _SERIAL_TYPES:
                found.add(("sequence", f"{name}_{detail}_seq"))
            return frozenset(found)
        if kind == "constraint":
            referenced = self.foreign_keys.get((name, detail))
            return frozenset({("relation", referenced)}) if referenced else frozenset()
        if kind == "trigger":
            function = self.triggers.get((name, detail))
            return frozenset({("function", function)}) if function else frozenset()
        if kind == "view":
            return frozenset(_called(self.views.get(name, {})))
        if kind == "function":
            node = self.functions.get(name, {})
            types = [unwrap(p)[1].get("argType") for p in node.get("parameters", ())] + [node.get("returnType")]
            return frozenset(("type", type_name(t)) for t in types if t)
        return frozenset()

    def relations_read_by(self, view: str) -> set[str]:
        """The tables and views a view's query reads, as far as its CREATE VIEW was seen."""
        return {name for kind, name in _called(self.views.get(view, {})) if kind == "relation"}

    def holders_removed_by(self, kind: str | None, node: dict[str, Any]) -> set[Holder]:
        """The objects of :meth:`dependencies` that a statement drops or changes, so that they no
        longer rely on what they relied on."""
        removed: set[Holder] = set()
        if kind == "DropStmt":
            remove = node.get("removeType")
            for name in drop_object_names(node):
                short = last_part(name)
                if remove in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE"):
                    columns = [*self.columns.get(short, {}), *self.defaults.get(short, {})]
                    removed.update(("column", short, c) for c in columns)
                    removed.update(("default", short, c) for c in columns)
                    removed.update(("constraint", t, n) for t, n in self.foreign_keys if t == short)
                    removed.update(("trigger", t, n) for t, n in self.triggers if t == short)
                elif remove in ("OBJECT_VIEW", "OBJECT_MATVIEW"):
                    removed.add(("view", short, ""))
                elif remove in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE"):
                    removed.add(("function", short, ""))
                elif remove == "OBJECT_TRIGGER":
                    parts = name.split(".")
                    if len(parts) >= 2:
                        removed.add(("trigger", parts[-2], parts[-1]))
        elif kind == "AlterTableStmt":
            table = relation_name(node.get("relation"))
            for item in node.get("cmds", ()):
                command = item.get("AlterTableCmd", {})
                subtype, name = command.get("subtype"), command.get("name", "")
                if subtype == "AT_DropColumn":
                    removed.update({("column", table, name), ("default", table, name)})
                elif subtype == "AT_AlterColumnType":
                    removed.add(("column", table, name))
                elif subtype == "AT_ColumnDefault":
                    removed.add(("default", table, name))
                elif subtype == "AT_DropConstraint":
                    removed.add(("constraint", table, name))
        return removed

    # -- updates -------------------------------------------------------------------------------
    def apply(self, kind: str | None, node: dict[str, Any]) -> None:
        handler = _HANDLERS.get(kind or "")
        if handler is not None:
            handler(self, node)

    def _add_index(self, table: str, name: str | None, columns: tuple[str, ...], unique: bool, concurrent: bool) -> None:
        if not columns:
            return
        self.indexed_columns.setdefault(table, []).append(columns)
        if name:
            self.indexes[name] = (table, columns, unique, concurrent)


def _create_table(state: SchemaState, node: dict) -> None:
    table = relation_name(node.get("relation"))
    state.tables.add(table)
    for element in node.get("tableElts", ()):
        kind, inner = unwrap(element)
        if kind == "ColumnDef":
            _record_column(state, table, inner)
            for item in inner.get("constraints", ()):
                constraint = unwrap(item)[1]
                if constraint.get("contype") in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
                    state._add_index(table, constraint.get("conname"), (inner.get("colname", ""),), True, False)
        elif kind == "Constraint":
            _table_constraint(state, table, inner)


def _table_constraint(state: SchemaState, table: str, constraint: dict, columns: tuple[str, ...] = ()) -> None:
    contype = constraint.get("contype")
    if contype == "CONSTR_FOREIGN":
        keys = tuple(strings(constraint.get("fk_attrs"))) or columns
        name = constraint_name(table, constraint, columns) or f"{table}_{'_'.join(keys)}_fkey"
        state.foreign_keys[(table, name)] = relation_name(constraint.get("pktable"))
    if contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
        if constraint.get("indexname"):
            existing = state.indexes.get(constraint["indexname"])
            if existing:
                state.indexes.pop(constraint["indexname"])
                state.indexes[constraint.get("conname") or constraint["indexname"]] = existing
            return
        state._add_index(table, constraint.get("conname"), tuple(strings(constraint.get("keys"))), True, False)
    if contype == "CONSTR_CHECK" and not constraint.get("skip_validation"):
        state.checked_tables.add(table)
    column = check_not_null_column(constraint)
    if column:
        if constraint.get("skip_validation"):
            state.pending_not_null_checks[(table, constraint.get("conname") or "")] = column
        else:
            state.validated_not_null.add((table, column))


def _record_column(state: SchemaState, table: str, column_def: dict) -> None:
    type_node = column_def.get("typeName")
    column = column_def.get("colname")
    if type_node and column:
        state.columns.setdefault(table, {})[column] = type_node
    for item in column_def.get("constraints", ()):
        constraint = unwrap(item)[1]
        if constraint.get("contype") == "CONSTR_DEFAULT" and column:
            state.defaults.setdefault(table, {})[column] = constraint.get("raw_expr") or {}
        elif constraint.get("contype") == "CONSTR_FOREIGN" and column:
            _table_constraint(state, table, constraint, (column,))


def _create_index(state: SchemaState, node: dict) -> None:
    columns = tuple(unwrap(p)[1].get("name") or "" for p in node.get("indexParams", ()))
    state._add_index(
        relation_name(node.get("relation")), node.get("idxname"), columns,
        bool(node.get("unique")), bool(node.get("concurrent")),
    )


def _alter_table(state: SchemaState, node: dict) -> None:
    table = relation_name(node.get("relation"))
    for item in node.get("cmds", ()):
        command = item.get("AlterTableCmd", {})
        subtype = command.get("subtype")
        if subtype == "AT_AddConstraint":
            _table_constraint(state, table, unwrap(command.get("def"))[1])
        elif subtype == "AT_AddColumn":
            _record_column(state, table, unwrap(command.get("def"))[1])
        elif subtype == "AT_AlterColumnType":
            definition = unwrap(command.get("def"))[1]
            definition = dict(definition, colname=command.get("name", ""))
            _record_column(state, table, definition)
        elif subtype == "AT_DropColumn":
            state.columns.get(table, {}).pop(command.get("name", ""), None)
            state.defaults.get(table, {}).pop(command.get("name", ""), None)
        elif subtype == "AT_ColumnDefault":
            if command.get("def"):
                state.defaults.setdefault(table, {})[command.get("name", "")] = command["def"]
            else:
                state.defaults.get(table, {}).pop(command.get("name", ""), None)
        elif subtype == "AT_ValidateConstraint":
            column = state.pending_not_null_checks.pop((table, command.get("name", "")), None)
            if column:
                state.validated_not_null.add((table, column))
            else:
                state.validated_unknown.add((table, command.get("name", "")))
            state.checked_tables.add(table)
        elif subtype == "AT_DropConstraint":
            state.pending_not_null_checks.pop((table, command.get("name", "")), None)
            state.foreign_keys.pop((table, command.get("name", "")), None)


def _drop(state: SchemaState, node: dict) -> None:
    remove = node.get("removeType")
    for name in drop_object_names(node):
        short = last_part(name)
        if remove == "OBJECT_TABLE":
            state.tables.discard(short)
            state.indexed_columns.pop(short, None)
            state.columns.pop(short, None)
            state.defaults.pop(short, None)
            for held in [key for key in (*state.foreign_keys, *state.triggers) if key[0] == short]:
                state.foreign_keys.pop(held, None)
                state.triggers.pop(held, None)
        elif remove == "OBJECT_INDEX":
            state.indexes.pop(short, None)
        elif remove in ("OBJECT_VIEW", "OBJECT_MATVIEW"):
            state.views.pop(short, None)
        elif remove in ("OBJECT_FUNCTION", "OBJECT_PROCEDURE"):
            state.functions.pop(short, None)
        elif remove == "OBJECT_TRIGGER":
            parts = name.split(".")
            if len(parts) >= 2:
                state.triggers.pop((parts[-2], parts[-1]), None)


def _rename(state: SchemaState, node: dict) -> None:
    if node.get("renameType") == "OBJECT_TABLE":
        old, new = relation_name(node.get("relation")), node.get("newname", "")
        if old in state.tables:
            state.tables.discard(old)
            state.tables.add(new)
        if old in state.indexed_columns:
            state.indexed_columns[new] = state.indexed_columns.pop(old)
        if old in state.columns:
            state.columns[new] = state.columns.pop(old)
    elif node.get("renameType") == "OBJECT_COLUMN":
        table = relation_name(node.get("relation"))
        columns = state.columns.get(table, {})
        if node.get("subname") in columns:
            columns[node.get("newname", "")] = columns.pop(node["subname"])
    elif node.get("renameType") == "OBJECT_INDEX":
        old = relation_name(node.get("relation"))
        if old in state.indexes:
            state.indexes[node.get("newname", "")] = state.indexes.pop(old)


def _create_table_as(state: SchemaState, node: dict) -> None:
    into = node.get("into") or {}
    state.tables.add(relation_name(into.get("rel")))
    if node.get("objtype") == "OBJECT_MATVIEW":
        state.views[relation_name(into.get("rel"))] = node.get("query") or {}


def _create_view(state: SchemaState, node: dict) -> None:
    state.views[relation_name(node.get("view"))] = node.get("query") or {}


def _create_trigger(state: SchemaState, node: dict) -> None:
    function = strings(node.get("funcname"))
    if function:
        state.triggers[(relation_name(node.get("relation")), node.get("trigname", ""))] = function[-1]


def _create_function(state: SchemaState, node: dict) -> None:
    name = strings(node.get("funcname"))
    if name:
        state.functions[name[-1]] = node


# Holders and what they rely on: (kind, name, detail) and (kind, name).
Holder = tuple[str, str, str]
Referenced = tuple[str, str]
_SERIAL_TYPES = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})


def _called(expression: Any) -> Iterator[Referenced]:
    """The relations, functions and sequences (``nextval('s')``) an expression or query names."""
    stack = [expression]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            if "relname" in current and "relpersistence" in current:  # a RangeVar
                yield ("relation", current["relname"])
            call = current.get("FuncCall")
            if isinstance(call, dict):
                name = strings(call.get("funcname"))
                if name:
                    yield ("function", name[-1])
                    if name[-1] == "nextval":
                        for text in _string_constants(call.get("args")):
                            yield ("sequence", last_part(text))
            stack.extend(v for v in current.values() if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend(current)


def _string_constants(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            constant = current.get("A_Const")
            if isinstance(constant, dict) and "sval" in constant:
                yield constant["sval"].get("sval", "")
            stack.extend(v for v in current.values() if isinstance(v, (dict, list)))
        elif isinstance(current, list):
            stack.extend(current)


_HANDLERS = {
    "CreateStmt": _create_table,
    "CreateTableAsStmt": _create_table_as,
    "ViewStmt": _create_view,
    "CreateTrigStmt": _create_trigger,
    "CreateFunctionStmt": _create_function,
    "IndexStmt": _create_index,
    "AlterTableStmt": _alter_table,
    "DropStmt": _drop,
    "RenameStmt": _rename,
}
