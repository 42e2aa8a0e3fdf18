"""What a statement means for transactions: does it control one, can it run inside one."""

from __future__ import annotations

from .parse import Statement

_DEFINITELY_NON_TRANSACTIONAL = {
    "CreatedbStmt": "CREATE DATABASE",
    "DropdbStmt": "DROP DATABASE",
    "AlterSystemStmt": "ALTER SYSTEM",
    "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE",
    "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
    "DropSubscriptionStmt": "DROP SUBSCRIPTION",
}


def non_transactional_reason(statement: Statement, pg_version: int | None = None) -> str | None:
    """Why PostgreSQL refuses to run ``statement`` inside a transaction block, or ``None``.

    ``pg_version`` (a major version) matters only for ``ALTER TYPE ... ADD VALUE``, which
    PostgreSQL accepts inside a transaction block from 12 on; without a version it is assumed to.
    """
    kind, node = statement.kind, statement.node
    if kind is None:
        return None
    if kind in _DEFINITELY_NON_TRANSACTIONAL:
        return _DEFINITELY_NON_TRANSACTIONAL[kind]
    if kind == "IndexStmt" and node.get("concurrent"):
        return "CREATE INDEX CONCURRENTLY"
    if kind == "DropStmt" and node.get("concurrent"):
        return "DROP INDEX CONCURRENTLY"
    if kind == "ReindexStmt" and _has_option(node, "concurrently"):
        return "REINDEX CONCURRENTLY"
    if kind == "VacuumStmt" and node.get("is_vacuumcmd"):
        return "VACUUM"
    if kind == "AlterTableStmt":
        for command in node.get("cmds", []):
            alter = command.get("AlterTableCmd", {})
            partition = alter.get("def", {}).get("PartitionCmd", {})
            if alter.get("subtype") == "AT_DetachPartition" and partition.get("concurrent"):
                return "DETACH PARTITION CONCURRENTLY"
    if kind == "AlterEnumStmt" and node.get("newVal") and pg_version is not None and pg_version < 12:
        return "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
    return None


def _has_option(node: dict, name: str) -> bool:
    return any(param.get("DefElem", {}).get("defname") == name for param in node.get("params", []))


def transaction_control(statement: Statement) -> str | None:
    """``begin``, ``commit``, ``rollback``, ``savepoint``, ... for transaction control, else ``None``."""
    if statement.kind != "TransactionStmt":
        return None
    kind = statement.node.get("kind", "")
    return {
        "TRANS_STMT_BEGIN": "begin",
        "TRANS_STMT_START": "begin",
        "TRANS_STMT_COMMIT": "commit",
        "TRANS_STMT_ROLLBACK": "rollback",
        "TRANS_STMT_SAVEPOINT": "savepoint",
        "TRANS_STMT_RELEASE": "release",
        "TRANS_STMT_ROLLBACK_TO": "rollback to",
        "TRANS_STMT_PREPARE": "prepare transaction",
        "TRANS_STMT_COMMIT_PREPARED": "commit prepared",
        "TRANS_STMT_ROLLBACK_PREPARED": "rollback prepared",
    }.get(kind, kind.lower())
