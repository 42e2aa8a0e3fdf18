"""The ``migrations`` runner: apply and roll back plain-SQL migrations safely.

- :class:`Runner` (``_runner.py``): validation, advisory lock, up/down/redo, status, verify,
  repair, baseline; progress as :class:`Event`.
- ``_plan.py``: the commands of each step, shared by real runs and ``--dry-run``.
- ``_tracking.py``: the current-state table and the append-only history, composed with psycopg.sql.
- ``_lock.py``: the session-level advisory lock on a connection of its own.
- ``_scaffold.py``: ``migrations new NAME``.
- ``_lint.py``: lint before apply, skipped when the lint engine is absent.

The CLI (:mod:`pytest_migrations.cli`) is a thin layer that prints what these return.
"""

from __future__ import annotations

from ._errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, InputError, MigrationFailed, RunnerError
from ._lint import LintFinding, LintOutcome
from ._lock import lock_key
from ._plan import Command, Plan, Step
from ._runner import (
    DISAGREEING_STATES,
    Event,
    Runner,
    RunReport,
    StatusEntry,
    StepResult,
    ValidationFailed,
)
from ._scaffold import new_migration, next_version
from ._settings import RunnerSettings
from ._tracking import AppliedRecord, HistoryRecord, Tracking

__all__ = [
    "DISAGREEING_STATES",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "AppliedRecord",
    "Command",
    "Event",
    "HistoryRecord",
    "InputError",
    "LintFinding",
    "LintOutcome",
    "MigrationFailed",
    "Plan",
    "RunReport",
    "Runner",
    "RunnerError",
    "RunnerSettings",
    "StatusEntry",
    "Step",
    "StepResult",
    "Tracking",
    "ValidationFailed",
    "lock_key",
    "new_migration",
    "next_version",
]
