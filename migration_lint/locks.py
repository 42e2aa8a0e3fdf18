"""Which table-level lock a statement takes, per PostgreSQL's documentation ("Explicit Locking")."""

from __future__ import annotations

from typing import Any

from .sqlnodes import qualified_name, unwrap

LEVELS = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
_RANK = {level: rank for rank, level in enumerate(LEVELS)}

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"

_SHARE_UPDATE_EXCLUSIVE_SUBCOMMANDS = frozenset(
    {
        "AT_ValidateConstraint", "AT_SetStatistics", "AT_ClusterOn", "AT_DropCluster",
        "AT_AttachPartition", "AT_SetRelOptions", "AT_ResetRelOptions", "AT_SetOptions",
        "AT_ResetOptions",
    }
)
_SHARE_ROW_EXCLUSIVE_SUBCOMMANDS = frozenset(
    {
        "AT_EnableTrig", "AT_EnableAlwaysTrig", "AT_EnableReplicaTrig", "AT_DisableTrig",
        "AT_EnableTrigAll", "AT_DisableTrigAll", "AT_EnableTrigUser", "AT_DisableTrigUser",
    }
)
_LOCK_MODES = {1: "ACCESS SHARE", 2: "ROW SHARE", 3: "ROW EXCLUSIVE", 4: "SHARE UPDATE EXCLUSIVE",
               5: "SHARE", 6: "SHARE ROW EXCLUSIVE", 7: "EXCLUSIVE", 8: "ACCESS EXCLUSIVE"}
_TABLE_OBJECTS = frozenset({"OBJECT_TABLE", "OBJECT_MATVIEW", "OBJECT_VIEW", "OBJECT_FOREIGN_TABLE"})


def rank(level: str | None) -> int:
    return -1 if level is None else _RANK[level]


def blocks_traffic(level: str | None) -> bool:
    """Whether waiting for or holding ``level`` stalls ordinary writes (SHARE and above)."""
    return rank(level) >= _RANK["SHARE"]


def strongest(levels: list[str]) -> str | None:
    return max(levels, key=rank) if levels else None


def alter_command_lock(command: dict) -> str:
    subtype = command.get("subtype", "")
    if subtype in _SHARE_UPDATE_EXCLUSIVE_SUBCOMMANDS:
        return SHARE_UPDATE_EXCLUSIVE
    if subtype == "AT_DetachPartition":
        _, partition = unwrap(command.get("def"))
        return SHARE_UPDATE_EXCLUSIVE if partition.get("concurrent") else ACCESS_EXCLUSIVE
    if subtype in _SHARE_ROW_EXCLUSIVE_SUBCOMMANDS:
        return SHARE_ROW_EXCLUSIVE
    if subtype == "AT_AddConstraint":
        _, constraint = unwrap(command.get("def"))
        if constraint.get("contype") == "CONSTR_FOREIGN":
            return SHARE_ROW_EXCLUSIVE
    return ACCESS_EXCLUSIVE


# The last statement asked about and its answer: the engine and several rules ask about the same
# statement one after the other. Holding the node keeps its id from being reused.
_last: tuple[Any, str | None, tuple[tuple[str, str], ...]] = (None, None, ())


def table_locks(kind: str | None, node: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """``((table, lock level), ...)`` the statement takes on existing relations."""
    global _last
    last_node, last_kind, locks = _last
    if node is last_node and kind == last_kind:
        return locks
    locks = tuple(_table_locks(kind, node))
    _last = (node, kind, locks)
    return locks


def _table_locks(kind: str | None, node: dict[str, Any]) -> list[tuple[str, str]]:
    if kind == "AlterTableStmt":
        table = qualified_name(node.get("relation"))
        found: list[tuple[str, str]] = []
        levels = []
        for item in node.get("cmds", ()):
            command = item.get("AlterTableCmd", {})
            levels.append(alter_command_lock(command))
            _, definition = unwrap(command.get("def"))
            if command.get("subtype") == "AT_AddConstraint" and definition.get("pktable"):
                found.append((qualified_name(definition["pktable"]), SHARE_ROW_EXCLUSIVE))
            if command.get("subtype") == "AT_AddColumn":  # ADD COLUMN ... REFERENCES locks the referenced table
                for item in definition.get("constraints", ()):
                    constraint = unwrap(item)[1]
                    if constraint.get("contype") == "CONSTR_FOREIGN" and constraint.get("pktable"):
                        found.append((qualified_name(constraint["pktable"]), SHARE_ROW_EXCLUSIVE))
            if command.get("subtype") in ("AT_AttachPartition", "AT_DetachPartition") and definition.get("name"):
                # The partition is locked too: ACCESS EXCLUSIVE, SHARE UPDATE EXCLUSIVE to detach concurrently.
                partition_level = SHARE_UPDATE_EXCLUSIVE if definition.get("concurrent") else ACCESS_EXCLUSIVE
                found.append((qualified_name(definition["name"]), partition_level))
        level = strongest(levels)
        return ([(table, level)] if level else []) + found
    if kind == "IndexStmt":
        level = SHARE_UPDATE_EXCLUSIVE if node.get("concurrent") else SHARE
        return [(qualified_name(node.get("relation")), level)]
    if kind == "DropStmt":
        remove = node.get("removeType")
        if remove in _TABLE_OBJECTS:
            from .sqlnodes import drop_object_names

            return [(name, ACCESS_EXCLUSIVE) for name in drop_object_names(node)]
        if remove == "OBJECT_INDEX":
            return [("", SHARE_UPDATE_EXCLUSIVE if node.get("concurrent") else ACCESS_EXCLUSIVE)]
        if remove in ("OBJECT_TRIGGER", "OBJECT_RULE", "OBJECT_POLICY"):
            from .sqlnodes import drop_object_names

            return [(name.rsplit(".", 1)[0], ACCESS_EXCLUSIVE) for name in drop_object_names(node)]
        return []
    if kind == "RenameStmt":
        if node.get("relation"):
            # Renaming an index takes SHARE UPDATE EXCLUSIVE on it since PostgreSQL 12.
            level = SHARE_UPDATE_EXCLUSIVE if node.get("renameType") == "OBJECT_INDEX" else ACCESS_EXCLUSIVE
            return [(qualified_name(node["relation"]), level)]
        return []
    if kind in ("CreatePolicyStmt", "AlterPolicyStmt"):
        return [(qualified_name(node.get("table")), ACCESS_EXCLUSIVE)]
    if kind == "RuleStmt":
        return [(qualified_name(node.get("relation")), ACCESS_EXCLUSIVE)]
    if kind == "AlterSeqStmt":
        # Blocks nextval(), so every INSERT that draws from the sequence.
        return [(qualified_name(node.get("sequence")), SHARE_ROW_EXCLUSIVE)]
    if kind == "TruncateStmt":
        return [(qualified_name(unwrap(r)[1]), ACCESS_EXCLUSIVE) for r in node.get("relations", ())]
    if kind == "CreateTrigStmt":
        return [(qualified_name(node.get("relation")), SHARE_ROW_EXCLUSIVE)]
    if kind == "VacuumStmt":
        full = any(unwrap(o)[1].get("defname") == "full" for o in node.get("options", ()))
        level = ACCESS_EXCLUSIVE if full else SHARE_UPDATE_EXCLUSIVE
        return [(qualified_name(unwrap(r)[1].get("relation")), level) for r in node.get("rels", ())] or [("", level)]
    if kind == "ClusterStmt":
        return [(qualified_name(node.get("relation")), ACCESS_EXCLUSIVE)]
    if kind == "RefreshMatViewStmt":
        return [(qualified_name(node.get("relation")), "EXCLUSIVE" if node.get("concurrent") else ACCESS_EXCLUSIVE)]
    if kind == "ReindexStmt":
        concurrent = any(unwrap(o)[1].get("defname") == "concurrently" for o in node.get("params", ()))
        return [(qualified_name(node.get("relation")), SHARE_UPDATE_EXCLUSIVE if concurrent else SHARE)]
    if kind == "LockStmt":
        level = _LOCK_MODES.get(node.get("mode", 8), ACCESS_EXCLUSIVE)
        return [(qualified_name(unwrap(r)[1]), level) for r in node.get("relations", ())]
    if kind == "CreateStmt":
        found = []
        for parent in node.get("inhRelations", ()):
            if node.get("partbound"):
                found.append((qualified_name(unwrap(parent)[1]), ACCESS_EXCLUSIVE))
        for element in node.get("tableElts", ()):
            element_kind, inner = unwrap(element)
            constraints = []
            if element_kind == "Constraint":
                constraints = [inner]
            elif element_kind == "ColumnDef":
                constraints = [unwrap(c)[1] for c in inner.get("constraints", ())]
            for constraint in constraints:
                if constraint.get("contype") == "CONSTR_FOREIGN" and constraint.get("pktable"):
                    found.append((qualified_name(constraint["pktable"]), SHARE_ROW_EXCLUSIVE))
        return found
    return []
