from __future__ import annotations

from typing import Iterable

from ..sqlnodes import constraint_name, drop_object_names, last_part, relation_name, strings, unwrap
from .base import WARNING, Rule, Violation, iter_alter_cmds

# DropStmt removeType -> the kind created_objects() names it by.
DROP_KINDS = {
    "OBJECT_TABLE": "table", "OBJECT_INDEX": "index", "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "view",
    "OBJECT_SEQUENCE": "sequence", "OBJECT_TYPE": "type", "OBJECT_DOMAIN": "type",
    "OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "function", "OBJECT_SCHEMA": "schema",
    "OBJECT_EXTENSION": "extension", "OBJECT_TRIGGER": "trigger", "OBJECT_FOREIGN_TABLE": "table",
}


def created_objects(statements, *, unnamed_constraints: bool = False) -> list[tuple[str, str, str]]:
    """``(kind, name, table)`` of the objects UP creates; ``table`` for columns and indexes. With
    ``unnamed_constraints``, also the keys ``ALTER TABLE ... ADD`` leaves unnamed, by the name
    PostgreSQL gives them (``orders_pkey``)."""
    found: list[tuple[str, str, str]] = []
    new_tables: set[str] = set()
    for statement in statements:
        kind, node = statement.kind, statement.node
        if kind == "CreateStmt":
            table = relation_name(node.get("relation"))
            new_tables.add(table)
            found.append(("table", table, table))
        elif kind == "CreateTableAsStmt":
            found.append(("view" if node.get("objtype") == "OBJECT_MATVIEW" else "table",
                          relation_name((node.get("into") or {}).get("rel")), ""))
        elif kind == "IndexStmt" and node.get("idxname"):
            found.append(("index", node["idxname"], relation_name(node.get("relation"))))
        elif kind == "ViewStmt" and not node.get("replace"):
            found.append(("view", relation_name(node.get("view")), ""))
        elif kind == "CreateSeqStmt":
            found.append(("sequence", relation_name(node.get("sequence")), ""))
        elif kind in ("CreateEnumStmt", "CompositeTypeStmt", "CreateDomainStmt"):
            names = strings(node.get("typeName") or node.get("domainname")) or [relation_name(node.get("typevar"))]
            found.append(("type", names[-1] if names else "", ""))
        elif kind == "CreateFunctionStmt" and not node.get("replace"):
            found.append(("function", (strings(node.get("funcname")) or [""])[-1], ""))
        elif kind == "CreateSchemaStmt":
            found.append(("schema", node.get("schemaname", ""), ""))
        elif kind == "CreateExtensionStmt":
            found.append(("extension", node.get("extname", ""), ""))
        elif kind == "CreateTrigStmt" and not node.get("replace"):
            found.append(("trigger", node.get("trigname", ""), relation_name(node.get("relation"))))
        elif kind == "AlterTableStmt":
            table = relation_name(node.get("relation"))
            if table in new_tables:
                continue
            for command in iter_alter_cmds(node):
                _, definition = unwrap(command.get("def"))
                if command.get("subtype") == "AT_AddColumn":
                    found.append(("column", definition.get("colname", ""), table))
                    if unnamed_constraints:
                        column = (definition.get("colname", ""),)
                        for item in definition.get("constraints", ()):
                            name = constraint_name(table, unwrap(item)[1], column)
                            if name:
                                found.append(("constraint", name, table))
                elif command.get("subtype") == "AT_AddConstraint":
                    name = constraint_name(table, definition) if unnamed_constraints else definition.get("conname")
                    if name:
                        found.append(("constraint", name, table))
    return found


def _undone(statements) -> tuple[set[tuple[str, str]], set[str], bool]:
    """Objects the DOWN drops (kind, name), tables it drops, and whether it cascades a schema."""
    dropped: set[tuple[str, str]] = set()
    tables: set[str] = set()
    everything = False
    for statement in statements:
        kind, node = statement.kind, statement.node
        if kind == "DropStmt":
            what = DROP_KINDS.get(node.get("removeType", ""))
            if what == "schema" and node.get("behavior") == "DROP_CASCADE":
                everything = True
            for name in drop_object_names(node):
                short = last_part(name)
                dropped.add((what or "", short))
                if what in ("table", "view"):  # a materialized view takes its indexes along too
                    tables.add(short)
        elif kind == "AlterTableStmt":
            table = relation_name(node.get("relation"))
            for command in iter_alter_cmds(node):
                if command.get("subtype") == "AT_DropColumn":
                    dropped.add(("column", f"{table}.{command.get('name', '')}"))
                elif command.get("subtype") == "AT_DropConstraint":
                    dropped.add(("constraint", f"{table}.{command.get('name', '')}"))
        elif kind == "DropdbStmt":
            everything = True
        elif kind in ("RenameStmt", "DoStmt"):
            everything = True  # too clever to follow statically: trust it
    return dropped, tables, everything


class DownDoesNotUndo(Rule):
    """The DOWN leaves behind an object the UP creates.

    ## What it does
    Compares, statically, the objects an UP creates (tables, columns, indexes, views, sequences,
    types, functions, schemas, extensions, triggers, named constraints) with what its DOWN
    drops, and reports the ones the DOWN leaves behind. Dropping a table covers its columns,
    indexes, constraints and triggers; `DROP SCHEMA ... CASCADE` covers everything. `CREATE OR
    REPLACE` objects are skipped (the DOWN may restore the previous version instead). A DOWN
    holding a statement that does not parse is left to `syntax-error`: what it undoes is unknown.

    ## Why is this bad?
    After a rollback the schema is not the one the previous version expects, and re-applying the
    UP fails on the object that is still there.

    ## Example
    ```sql
    -- UP
    CREATE TABLE tags (id bigint PRIMARY KEY);
    CREATE INDEX CONCURRENTLY users_name_idx ON users (name);
    -- DOWN
    DROP TABLE tags;
    ```

    ## Use instead
    ```sql
    -- UP
    CREATE TABLE tags (id bigint PRIMARY KEY);
    CREATE INDEX CONCURRENTLY users_name_idx ON users (name);
    -- DOWN
    DROP INDEX IF EXISTS users_name_idx;
    DROP TABLE tags;
    ```
    The round-trip test of the pytest plugin checks the same against a real database.
    """

    severity = WARNING

    def check_migration(self, migration, ctx) -> Iterable[Violation]:
        if migration.down is None:
            return
        created = created_objects([s for s in migration.up.statements if s.tree is not None])
        if not created:
            return
        if any(s.tree is None for s in migration.down.statements):
            return  # what a statement that does not parse undoes is unknown (syntax-error reports it)
        down_statements = migration.down.statements
        dropped, dropped_tables, everything = _undone(down_statements)
        if everything:
            return
        left = []
        for kind, name, table in created:
            if kind in ("column", "constraint"):
                if (kind, f"{table}.{name}") in dropped or table in dropped_tables:
                    continue
                left.append(f"{kind} {table}.{name}")
            elif (kind, name) in dropped or (table and table in dropped_tables):
                continue
            else:
                left.append(f"{kind} {name}")
        if not left:
            return
        first = down_statements[0] if down_statements else None
        shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        empty = "is empty and " if not down_statements else ""
        yield Violation(
            f"DOWN {empty}does not undo what UP creates: {shown}",
            fix_title="Drop every object UP creates, in reverse order",
            statement=first, path=migration.down.path, line=None if first else migration.down.first_line,
        )
