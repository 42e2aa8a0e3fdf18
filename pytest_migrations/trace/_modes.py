"""PostgreSQL's table-level lock modes: their names and what each one stops other sessions doing."""

from __future__ import annotations

# pg_locks.mode -> the name PostgreSQL's documentation uses ("Explicit Locking"), weakest first.
MODE_NAMES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
MODES = tuple(MODE_NAMES.values())
_RANK = {mode: rank for rank, mode in enumerate(MODES)}

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
# Plain SELECT takes ACCESS SHARE and INSERT/UPDATE/DELETE take ROW EXCLUSIVE; a mode blocks
# reads or writes when it conflicts with those.
_BLOCKS_READS = frozenset({ACCESS_EXCLUSIVE})
_BLOCKS_WRITES = frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", ACCESS_EXCLUSIVE})


def mode_name(pg_locks_mode: str) -> str:
    """``AccessExclusiveLock`` -> ``ACCESS EXCLUSIVE``; an unknown mode is returned unchanged."""
    return MODE_NAMES.get(pg_locks_mode, pg_locks_mode)


def rank(mode: str) -> int:
    return _RANK.get(mode, -1)


def blocks(mode: str) -> str:
    """What ``mode`` stops other sessions doing: ``"reads and writes"``, ``"writes"`` or ``""``."""
    if mode in _BLOCKS_READS:
        return "reads and writes"
    if mode in _BLOCKS_WRITES:
        return "writes"
    return ""


def is_blocking(mode: str) -> bool:
    return bool(blocks(mode))
