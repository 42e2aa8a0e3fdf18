"""What the migrations read so far have established about the schema, as far as rules need it.

The linter reads a directory in version order and carries this state forward, so that the
documented two-step patterns lint clean: a ``CHECK (col IS NOT NULL) NOT VALID`` validated in a
later migration makes ``SET NOT NULL`` cheap on PostgreSQL 12+, and a unique index built
``CONCURRENTLY`` earlier makes ``ADD CONSTRAINT ... UNIQUE USING INDEX`` cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .sqlnodes import (
    check_not_null_column,
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


def _table_constraint(state: SchemaState, table: str, constraint: dict) -> None:
    contype = constraint.get("contype")
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
    if type_node and column_def.get("colname"):
        state.columns.setdefault(table, {})[column_def["colname"]] = type_node


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
        elif subtype == "AT_ValidateConstraint":
            column = state.pending_not_null_checks.pop((table, command.get("name", "")), None)
            if column:
                state.validated_not_null.add((table, column))
            else:
                state.validated_unknown.add((table, command.get("name", "")))
            state.checked_tables.add(table)
        elif subtype == "AT_DropConstraint":
            state.pending_not_null_checks.pop((table, command.get("name", "")), None)


def _drop(state: SchemaState, node: dict) -> None:
    remove = node.get("removeType")
    for name in drop_object_names(node):
        short = last_part(name)
        if remove == "OBJECT_TABLE":
            state.tables.discard(short)
            state.indexed_columns.pop(short, None)
            state.columns.pop(short, None)
        elif remove == "OBJECT_INDEX":
            state.indexes.pop(short, None)


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


_HANDLERS = {
    "CreateStmt": _create_table,
    "CreateTableAsStmt": _create_table_as,
    "IndexStmt": _create_index,
    "AlterTableStmt": _alter_table,
    "DropStmt": _drop,
    "RenameStmt": _rename,
}
