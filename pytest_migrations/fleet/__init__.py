"""Fleets: one set of migrations over many databases and schemas (``migrations up --fleet``).

- ``_targets.py``: where the targets come from (a file, a query, schemas matching a pattern,
  ``[tool.pytest-migrations.fleet]``).
- ``_fleet.py``: :class:`Fleet`: preflight on every target, then bounded parallel runs of the
  :class:`~pytest_migrations.runner.Runner` (an :class:`Action`: up, or down), in waves;
  ``status`` over the fleet.
- ``_datacheck.py``: the counts that catch a tenant whose rows would break a pending migration.
- ``_drift.py``: each target's catalog against the schema its version should have, built once
  per version on a throwaway database (``verify --fleet``, ``status --fleet --drift``).
- ``_progress.py``: the live progress line on a terminal.
- ``_cli.py``: ``migrations up|down|status|verify --fleet``.
"""

from __future__ import annotations

from ._datacheck import CheckOutcome, DataCheck, data_checks, run_checks
from ._fleet import (
    UP,
    Action,
    Fleet,
    FleetRun,
    Preflight,
    TargetCheck,
    TargetRun,
    TargetStatus,
    WaveProgress,
)
from ._drift import TargetDrift, check_drift
from ._progress import LiveLine, render_progress
from ._targets import Target, read_targets, targets_from_config, targets_from_query, targets_from_schemas

__all__ = [
    "UP",
    "Action",
    "CheckOutcome",
    "DataCheck",
    "Fleet",
    "FleetRun",
    "LiveLine",
    "Preflight",
    "Target",
    "TargetCheck",
    "TargetDrift",
    "TargetRun",
    "TargetStatus",
    "WaveProgress",
    "check_drift",
    "data_checks",
    "read_targets",
    "render_progress",
    "run_checks",
    "targets_from_config",
    "targets_from_query",
    "targets_from_schemas",
]
