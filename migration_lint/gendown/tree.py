"""What the parse tree of an UP says about its inverse, statement by statement, with no database.

:func:`invert_section` gives one :class:`Inverse` per statement of an UP. Some inverses the tree
knows outright: a CREATE is undone by a DROP of the name it gives, a RENAME by renaming back
(the tree names both sides, which a comparison of two schemas cannot), an ADD COLUMN by dropping
the column. Others need the state before the statement, which only a catalog has: the type a
column had before ``ALTER COLUMN ... TYPE``, the definition of a dropped index. Those say what
must be restored (:attr:`Inverse.restore`), and the tree's guess where it has one (``SET NOT
NULL`` was probably ``DROP NOT NULL``). What no DOWN can undo says why
(:attr:`Inverse.irreversible`): rows an UPDATE changed, an enum value PostgreSQL cannot remove,
the values of a dropped column, what a DO block or a function call did.

``pytest_migrations.gendown`` completes these inverses from the catalog of a throwaway server;
the language server renders them as they are (:func:`migration_lint.gendown.render.tree_down`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..parse import Statement
from ..sqlnodes import strings, unwrap
from .sql import ident, literal, qualified

__all__ = ["Copy", "Inverse", "copy_of", "invert_section", "invert_statement", "rows_written"]


@dataclass(frozen=True)
class Inverse:
    """How to undo one statement of an UP, as far as its parse tree says."""

    statement: Statement
    sql: tuple[str, ...] = ()  # statements that undo it, in the order to run them
    exact: bool = True  # ``sql`` undoes the statement whatever the state before it
    restore: str | None = None  # what must come back from the state before it, when not exact
    irreversible: str | None = None  # why no DOWN can undo it
    outside_transaction: bool = False  # ``sql`` cannot run inside a transaction block
    renames: bool = False  # a rename: the catalog sees an object go and another come
    creates: bool = False  # ``sql`` drops what the statement made (its only effect when it made it)
    nothing: bool = False  # the statement changes nothing a DOWN must undo
    # ``irreversible`` only because what it drops held data: void when it dropped nothing that existed
    only_dropped_data: bool = False

    @property
    def needs_catalog(self) -> bool:
        """Whether only the state before the statement says how to undo it."""
        return not self.nothing and self.restore is not None


def invert_section(statements: Sequence[Statement]) -> list[Inverse]:
    """One :class:`Inverse` per statement, in the UP's order (a DOWN runs them in reverse).

    Rows written to a table, or to columns, that the same UP creates need no undoing: the DOWN
    drops them with the table or the column.
    """
    created_tables: set[str] = set()
    created_columns: set[tuple[str, str]] = set()
    inverses = []
    for statement in statements:
        inverse = _invert(statement)
        written = _rows_written(statement)
        if written is not None and inverse.irreversible is not None:
            table, columns = written
            if table in created_tables or (columns and all((table, c) in created_columns for c in columns)):
                inverse = Inverse(statement, nothing=True)
        inverses.append(inverse)
        kind, node = statement.kind, statement.node
        if kind == "CreateStmt" or kind == "CreateTableAsStmt":
            relation = node.get("relation") or node.get("into", {}).get("rel")
            created_tables.add(_table_key(relation))
        elif kind == "AlterTableStmt":
            for command in node.get("cmds", []):
                cmd = command.get("AlterTableCmd", {})
                if cmd.get("subtype") == "AT_AddColumn":
                    _, column = unwrap(cmd.get("def"))
                    created_columns.add((_table_key(node.get("relation")), column.get("colname", "")))
    return inverses


def _table_key(relation: dict[str, Any] | None) -> str:
    relation = relation or {}
    return f"{relation.get('schemaname') or ''}.{relation.get('relname', '')}"


def invert_statement(statement: Statement) -> Inverse:
    """The inverse of one statement on its own, whatever the statements around it made."""
    return _invert(statement)


def rows_written(statement: Statement) -> tuple[dict[str, Any], list[str]] | None:
    """(the table as a RangeVar, the columns an UPDATE sets) of an INSERT, UPDATE, DELETE or
    TRUNCATE of one table; ``None`` for any other statement."""
    kind, node = statement.kind, statement.node
    if kind == "UpdateStmt":
        return node.get("relation") or {}, [unwrap(target)[1].get("name", "") for target in node.get("targetList", [])]
    if kind in ("InsertStmt", "DeleteStmt"):
        return node.get("relation") or {}, []
    if kind == "TruncateStmt" and len(node.get("relations", [])) == 1:
        return unwrap(node["relations"][0])[1], []
    return None


def _rows_written(statement: Statement) -> tuple[str, list[str]] | None:
    written = rows_written(statement)
    return None if written is None else (_table_key(written[0]), written[1])


@dataclass(frozen=True)
class Copy:
    """``INSERT INTO target (columns) SELECT ... FROM source``, every row, column to column: what a
    DOWN runs the other way when the UP drops ``source`` later (a table rebuilt under its name).

    ``columns`` pairs each target column (``None``: the target's columns in order) with the source
    column it copies (``None``: a constant or an expression, which nothing copies back);
    ``star`` for ``SELECT *``."""

    target: dict[str, Any]  # RangeVars, as written
    source: dict[str, Any]
    columns: tuple[tuple[str | None, str | None], ...]
    star: bool = False


def copy_of(statement: Statement) -> Copy | None:
    """The :class:`Copy` an INSERT ... SELECT is, or ``None`` (a filter, a join, a grouping ...)."""
    if statement.kind != "InsertStmt" or statement.node.get("onConflictClause") or statement.node.get("withClause"):
        return None
    kind, select = unwrap(statement.node.get("selectStmt"))
    sources = select.get("fromClause") or []
    if kind != "SelectStmt" or len(sources) != 1 or any(
        select.get(clause) for clause in ("whereClause", "groupClause", "havingClause", "distinctClause",
                                          "limitCount", "limitOffset", "withClause", "valuesLists", "sortClause")
    ):  # fmt: skip
        return None
    source_kind, source = unwrap(sources[0])
    if source_kind != "RangeVar":
        return None
    values = [unwrap(target)[1].get("val") for target in select.get("targetList", [])]
    if len(values) == 1 and strings(unwrap(values[0])[1].get("fields")) == ["*"]:
        return Copy(statement.node["relation"], source, (), star=True)
    names = [unwrap(column)[1].get("name") for column in statement.node.get("cols", [])]
    if names and len(names) != len(values):
        return None
    copied = []
    for index, value in enumerate(values):
        value_kind, node = unwrap(value)
        while value_kind == "TypeCast":
            value_kind, node = unwrap(node.get("arg"))
        fields = strings(node.get("fields")) if value_kind == "ColumnRef" else []
        copied.append((names[index] if names else None, fields[-1] if fields and fields[-1] != "*" else None))
    return Copy(statement.node["relation"], source, tuple(copied))


# Statements that change nothing a DOWN must undo: settings, transaction control, maintenance.
_NOTHING = frozenset({
    "VariableSetStmt", "VariableShowStmt", "TransactionStmt", "VacuumStmt", "ReindexStmt",
    "ClusterStmt", "RefreshMatViewStmt", "LockStmt", "NotifyStmt", "ListenStmt", "CheckPointStmt",
    "DiscardStmt", "ExplainStmt", "AlterOwnerStmt", "AlterSystemStmt", "LoadStmt",
})  # fmt: skip

# A DO block that only does DDL leaves everything it did in the catalog; one of these words means
# it may also change rows, or run SQL no reader can see.
_DO_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|TRUNCATE|MERGE|COPY|EXECUTE|PERFORM|CALL)\b", re.IGNORECASE)

_BUILTIN_NO_EFFECT = frozenset({"setval", "nextval", "currval", "pg_sleep", "set_config", "current_setting",
                                "pg_advisory_lock", "pg_advisory_xact_lock", "pg_advisory_unlock", "now"})  # fmt: skip


def _invert(statement: Statement) -> Inverse:
    kind, node = statement.kind, statement.node
    if kind is None:
        return Inverse(statement, irreversible="the statement does not parse")
    if kind in _NOTHING:
        return Inverse(statement, nothing=True)
    handler = _HANDLERS.get(kind)
    if handler is not None:
        return handler(statement, node)
    return Inverse(statement, exact=False, restore=f"whatever {_words(kind)} changed")


def _words(kind: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r" \1", kind.removesuffix("Stmt")).upper()


# -- CREATE ------------------------------------------------------------------------------------------


def _drop(statement: Statement, what: str, name: str, *, on: str | None = None, concurrently: bool = False) -> Inverse:
    keyword = f"DROP {what}{' CONCURRENTLY' if concurrently else ''} IF EXISTS {name}"
    return Inverse(statement, (keyword + (f" ON {on}" if on else "") + ";",), creates=True, outside_transaction=concurrently)


def _create_table(statement: Statement, node: dict[str, Any]) -> Inverse:
    return _drop(statement, "TABLE", qualified(node["relation"]))


def _create_table_as(statement: Statement, node: dict[str, Any]) -> Inverse:
    what = "MATERIALIZED VIEW" if node.get("objtype") == "OBJECT_MATVIEW" else "TABLE"
    return _drop(statement, what, qualified(node["into"]["rel"]))


def _create_view(statement: Statement, node: dict[str, Any]) -> Inverse:
    inverse = _drop(statement, "VIEW", qualified(node["view"]))
    if node.get("replace"):
        return replace(inverse, exact=False, restore="the view's previous definition, if it existed")
    return inverse


def _create_index(statement: Statement, node: dict[str, Any]) -> Inverse:
    name = node.get("idxname")
    concurrently = bool(node.get("concurrent"))
    if not name:
        return Inverse(statement, exact=False, restore="drop the index PostgreSQL named", outside_transaction=concurrently)
    schema = node["relation"].get("schemaname")
    return _drop(statement, "INDEX", f"{ident(schema)}.{ident(name)}" if schema else ident(name), concurrently=concurrently)


def _create_sequence(statement: Statement, node: dict[str, Any]) -> Inverse:
    return _drop(statement, "SEQUENCE", qualified(node["sequence"]))


def _create_function(statement: Statement, node: dict[str, Any]) -> Inverse:
    what = "PROCEDURE" if node.get("is_procedure") else "FUNCTION"
    inverse = _drop(statement, what, _dotted(strings(node["funcname"])))
    if node.get("replace"):
        return replace(inverse, exact=False, restore="the function's previous definition, if it existed")
    return inverse


def _create_trigger(statement: Statement, node: dict[str, Any]) -> Inverse:
    inverse = _drop(statement, "TRIGGER", ident(node["trigname"]), on=qualified(node["relation"]))
    if node.get("replace"):
        return replace(inverse, exact=False, restore="the trigger's previous definition, if it existed")
    return inverse


def _create_policy(statement: Statement, node: dict[str, Any]) -> Inverse:
    return _drop(statement, "POLICY", ident(node["policy_name"]), on=qualified(node["table"]))


def _create_type(statement: Statement, node: dict[str, Any]) -> Inverse:
    names = node.get("domainname") or node.get("typeName") or node.get("typevar")
    if isinstance(names, dict):  # a composite type names a RangeVar
        return _drop(statement, "TYPE", qualified(names))
    return _drop(statement, "DOMAIN" if "domainname" in node else "TYPE", _dotted(strings(names)))


def _create_schema(statement: Statement, node: dict[str, Any]) -> Inverse:
    return _drop(statement, "SCHEMA", ident(node["schemaname"]))


def _create_extension(statement: Statement, node: dict[str, Any]) -> Inverse:
    return _drop(statement, "EXTENSION", ident(node["extname"]))


def _create_statistics(statement: Statement, node: dict[str, Any]) -> Inverse:
    if not node.get("defnames"):
        return Inverse(statement, exact=False, restore="drop the statistics object PostgreSQL named")
    return _drop(statement, "STATISTICS", _dotted(strings(node["defnames"])))


def _create_rule(statement: Statement, node: dict[str, Any]) -> Inverse:
    inverse = _drop(statement, "RULE", ident(node["rulename"]), on=qualified(node["relation"]))
    if node.get("replace"):
        return replace(inverse, exact=False, restore="the rule's previous definition, if it existed")
    return inverse


def _create_role(statement: Statement, node: dict[str, Any]) -> Inverse:
    return _drop(statement, "ROLE", ident(node["role"]))


def _dotted(parts: list[str]) -> str:
    return ".".join(ident(part) for part in parts)


# -- ALTER TABLE -------------------------------------------------------------------------------------

_ALTER_KEYWORD = {"OBJECT_TABLE": "TABLE", "OBJECT_INDEX": "INDEX", "OBJECT_SEQUENCE": "SEQUENCE",
                  "OBJECT_VIEW": "VIEW", "OBJECT_MATVIEW": "MATERIALIZED VIEW",
                  "OBJECT_FOREIGN_TABLE": "FOREIGN TABLE", "OBJECT_TYPE": "TYPE"}  # fmt: skip

_GUESSES = {
    # subtype -> (the tree's guess at the inverse, what it assumes) given (table, column)
    "AT_SetNotNull": ("ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL;", "the column was nullable"),
    "AT_DropNotNull": ("ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;", "the column was NOT NULL"),
    "AT_EnableRowSecurity": ("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;", "row level security was off"),
    "AT_DisableRowSecurity": ("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;", "row level security was on"),
    "AT_ForceRowSecurity": ("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;", "it was not forced"),
    "AT_NoForceRowSecurity": ("ALTER TABLE {table} FORCE ROW LEVEL SECURITY;", "it was forced"),
}


def _alter_table(statement: Statement, node: dict[str, Any]) -> Inverse:
    table = qualified(node["relation"])
    keyword = _ALTER_KEYWORD.get(node.get("objtype", "OBJECT_TABLE"), "TABLE")
    sql: list[str] = []
    restores: list[str] = []
    irreversible: list[str] = []
    dropped: list[str] = []
    exact = True
    creates = True
    for command in reversed(node.get("cmds", [])):
        cmd = command.get("AlterTableCmd", {})
        subtype = cmd.get("subtype", "")
        column = ident(cmd["name"]) if cmd.get("name") else ""
        definition_kind, definition = unwrap(cmd.get("def"))
        if subtype == "AT_AddColumn":
            sql.append(f"ALTER {keyword} {table} DROP COLUMN IF EXISTS {ident(definition['colname'])};")
        elif subtype == "AT_AddConstraint" and definition_kind == "Constraint" and definition.get("conname"):
            sql.append(f"ALTER {keyword} {table} DROP CONSTRAINT IF EXISTS {ident(definition['conname'])};")
        elif subtype == "AT_AttachPartition":
            partition = qualified(unwrap(definition.get("name"))[1] or definition.get("name"))
            sql.append(f"ALTER TABLE {table} DETACH PARTITION {partition};")
        elif subtype in ("AT_DropColumn",):
            creates = exact = False
            restores.append(f"column {column} as it was")
            dropped.append(f"the values of column {table}.{column} are gone with it")
        elif subtype in _GUESSES:
            guess, assumes = _GUESSES[subtype]
            sql.append(guess.format(table=table, column=column))
            restores.append(f"the previous state ({assumes})")
            creates = exact = False
        elif subtype == "AT_ChangeOwner":  # owners are not part of a schema's comparison
            continue
        elif subtype == "AT_AlterColumnType" and not _plain_cast(definition.get("raw_default"), cmd.get("name", "")):
            creates = exact = False
            restores.append(f"the type of {column}")
            irreversible.append(f"the values of {table}.{column} are converted by a USING expression the DOWN cannot invert")
        else:
            creates = exact = False
            what = subtype.removeprefix("AT_")
            restores.append(f"what {what} changed" + (f" on {column}" if column else ""))
    return Inverse(
        statement, tuple(sql), exact=exact, creates=creates and bool(sql),
        restore="; ".join(restores) or None, irreversible="; ".join(irreversible + dropped) or None,
        only_dropped_data=bool(dropped) and not irreversible,
    )  # fmt: skip


def _plain_cast(expression: Any, column: str) -> bool:
    """Whether a USING expression is the column itself, cast (or none): a cast back inverts it."""
    if expression is None:
        return True
    kind, node = unwrap(expression)
    while kind == "TypeCast":
        kind, node = unwrap(node.get("arg"))
    return kind == "ColumnRef" and strings(node.get("fields"))[-1:] == [column]


# -- RENAME ------------------------------------------------------------------------------------------


def _rename(statement: Statement, node: dict[str, Any]) -> Inverse:
    rename_type = node.get("renameType", "")
    new = ident(node["newname"])
    relation = node.get("relation")
    old = node.get("subname")
    schema = relation.get("schemaname") if relation else None

    def in_schema(name: str) -> str:
        return f"{ident(schema)}.{name}" if schema else name

    sql = None
    if rename_type in _ALTER_KEYWORD and relation is not None:
        sql = f"ALTER {_ALTER_KEYWORD[rename_type]} {in_schema(new)} RENAME TO {ident(relation['relname'])};"
    elif rename_type in ("OBJECT_COLUMN", "OBJECT_ATTRIBUTE") and old:
        keyword = "TYPE" if rename_type == "OBJECT_ATTRIBUTE" else _ALTER_KEYWORD.get(node.get("relationType", ""), "TABLE")
        target = qualified(relation) if relation else _dotted(strings(unwrap(node.get("object"))[1].get("items")))
        word = "ATTRIBUTE" if rename_type == "OBJECT_ATTRIBUTE" else "COLUMN"
        sql = f"ALTER {keyword} {target} RENAME {word} {new} TO {ident(old)};"
    elif rename_type == "OBJECT_TABCONSTRAINT" and old:
        sql = f"ALTER TABLE {qualified(relation)} RENAME CONSTRAINT {new} TO {ident(old)};"
    elif rename_type in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE") and old:
        word = rename_type.removeprefix("OBJECT_")
        sql = f"ALTER {word} {new} ON {qualified(relation)} RENAME TO {ident(old)};"
    elif rename_type == "OBJECT_SCHEMA" and old:
        sql = f"ALTER SCHEMA {new} RENAME TO {ident(old)};"
    elif rename_type in ("OBJECT_TYPE", "OBJECT_DOMAIN", "OBJECT_FUNCTION", "OBJECT_PROCEDURE"):
        kind, obj = unwrap(node.get("object"))
        parts = strings(obj.get("items") if kind == "List" else obj.get("objname"))
        if parts:
            word = rename_type.removeprefix("OBJECT_")
            moved = [*parts[:-1], node["newname"]]
            sql = f"ALTER {word} {_dotted(moved)} RENAME TO {ident(parts[-1])};"
    if sql is None:
        return Inverse(statement, exact=False, restore="the previous name")
    return Inverse(statement, (sql,), renames=True)


def _alter_enum(statement: Statement, node: dict[str, Any]) -> Inverse:
    name = _dotted(strings(node["typeName"]))
    if node.get("oldVal"):
        return Inverse(
            statement, (f"ALTER TYPE {name} RENAME VALUE {literal(node['newVal'])} TO {literal(node['oldVal'])};",),
            renames=True,
        )  # fmt: skip
    return Inverse(
        statement,
        irreversible=f"PostgreSQL cannot remove the value {literal(node['newVal'])} it adds to the enum {name}",
    )


# -- DROP, data, code -------------------------------------------------------------------------------


def _drop_statement(statement: Statement, node: dict[str, Any]) -> Inverse:
    what = node.get("removeType", "").removeprefix("OBJECT_").lower().replace("_", " ")
    names = []
    for item in node.get("objects", []):
        kind, inner = unwrap(item)
        parts = strings(inner.get("items") if kind == "List" else inner.get("objname") or inner.get("names"))
        names.append(".".join(parts) or "?")
    restore = f"the {what} {', '.join(names)} as it was (definition, indexes, constraints, grants, comments)"
    if node.get("removeType") in ("OBJECT_TABLE", "OBJECT_FOREIGN_TABLE", "OBJECT_MATVIEW"):
        return Inverse(statement, exact=False, restore=restore, only_dropped_data=True,
                       irreversible=f"the rows of {', '.join(names)} are gone: the DOWN recreates it empty")  # fmt: skip
    return Inverse(statement, exact=False, restore=restore)


def _rows(statement: Statement, node: dict[str, Any]) -> Inverse:
    written = _rows_written(statement)
    table = written[0].lstrip(".") if written else "a table"
    verb = {"InsertStmt": "adds rows to", "UpdateStmt": "changes rows of", "DeleteStmt": "deletes rows of",
            "TruncateStmt": "empties", "MergeStmt": "merges rows into", "CopyStmt": "copies rows into"}  # fmt: skip
    return Inverse(statement, irreversible=f"{statement.kind and verb.get(statement.kind, 'writes')} {table}:"
                   " the rows as they were are not kept")  # fmt: skip


def _do(statement: Statement, node: dict[str, Any]) -> Inverse:
    if _DO_WRITES.search(statement.text.split("$", 1)[-1] if "$" in statement.text else statement.text):
        return Inverse(statement, exact=False, restore="what the DO block changed in the schema",
                       irreversible="a DO block that may write rows or run dynamic SQL: its effects are opaque")  # fmt: skip
    return Inverse(statement, exact=False, restore="what the DO block changed in the schema")


def _select(statement: Statement, node: dict[str, Any]) -> Inverse:
    calls = sorted(set(_called(node)) - _BUILTIN_NO_EFFECT)
    if node.get("intoClause"):
        return _drop(statement, "TABLE", qualified(node["intoClause"]["rel"]))
    if not calls:
        return Inverse(statement, nothing=True)
    return Inverse(statement, exact=False, restore=f"what {', '.join(calls)}() changed in the schema",
                   irreversible=f"calls {', '.join(calls)}(), whose effects are opaque")  # fmt: skip


def _call(statement: Statement, node: dict[str, Any]) -> Inverse:
    return Inverse(statement, exact=False, restore="what the procedure changed in the schema",
                   irreversible="CALL runs a procedure whose effects are opaque")  # fmt: skip


def _called(node: Any) -> list[str]:
    found = []
    if isinstance(node, dict):
        call = node.get("FuncCall")
        if call is not None:
            names = strings(call.get("funcname"))
            if names and names[0] != "pg_catalog":
                found.append(names[-1])
        for value in node.values():
            found.extend(_called(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_called(value))
    return found


def _grant(statement: Statement, node: dict[str, Any]) -> Inverse:
    # The tree cannot tell a privilege granted anew from one the grantee already had.
    return Inverse(statement, exact=False, restore="the privileges as they were")


def _restore(what: str) -> Any:
    def handler(statement: Statement, node: dict[str, Any]) -> Inverse:
        return Inverse(statement, exact=False, restore=what)

    return handler


_HANDLERS = {
    "CreateStmt": _create_table,
    "CreateForeignTableStmt": lambda statement, node: _drop(statement, "FOREIGN TABLE", qualified(node["base"]["relation"])),
    "CreateTableAsStmt": _create_table_as,
    "ViewStmt": _create_view,
    "IndexStmt": _create_index,
    "CreateSeqStmt": _create_sequence,
    "CreateFunctionStmt": _create_function,
    "CreateTrigStmt": _create_trigger,
    "CreatePolicyStmt": _create_policy,
    "CreateEnumStmt": _create_type,
    "CompositeTypeStmt": _create_type,
    "CreateRangeStmt": _create_type,
    "CreateDomainStmt": _create_type,
    "CreateSchemaStmt": _create_schema,
    "CreateExtensionStmt": _create_extension,
    "CreateStatsStmt": _create_statistics,
    "RuleStmt": _create_rule,
    "CreateRoleStmt": _create_role,
    "AlterTableStmt": _alter_table,
    "RenameStmt": _rename,
    "AlterEnumStmt": _alter_enum,
    "DropStmt": _drop_statement,
    "InsertStmt": _rows,
    "UpdateStmt": _rows,
    "DeleteStmt": _rows,
    "TruncateStmt": _rows,
    "MergeStmt": _rows,
    "CopyStmt": _rows,
    "DoStmt": _do,
    "SelectStmt": _select,
    "CallStmt": _call,
    "GrantStmt": _grant,
    "CommentStmt": _restore("the previous comment"),
    "AlterSeqStmt": _restore("the sequence's previous settings"),
    "AlterFunctionStmt": _restore("the function's previous settings"),
    "AlterDomainStmt": _restore("the domain as it was"),
    "AlterPolicyStmt": _restore("the policy as it was"),
    "AlterObjectSchemaStmt": _restore("the previous schema"),
    "AlterDefaultPrivilegesStmt": _restore("the default privileges as they were"),
    "AlterTypeStmt": _restore("the type as it was"),
    "AlterExtensionStmt": _restore("the extension's previous version"),
    "AlterStatsStmt": _restore("the statistics target as it was"),
}
