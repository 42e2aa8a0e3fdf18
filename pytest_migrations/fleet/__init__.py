"""Fleets: one set of migrations over many databases and schemas (``migrations up --fleet``).

- ``_targets.py``: the targets file (a DSN and an optional schema per line).
- ``_fleet.py``: :class:`Fleet`: preflight on every target, then bounded parallel runs of the
  :class:`~pytest_migrations.runner.Runner`; ``status`` over the fleet.
- ``_datacheck.py``: the counts that catch a tenant whose rows would break a pending migration.
- ``_cli.py``: ``migrations up --fleet`` / ``migrations status --fleet``.
"""

from __future__ import annotations

from ._datacheck import CheckOutcome, DataCheck, data_checks, run_checks
from ._fleet import Fleet, FleetRun, Preflight, TargetCheck, TargetRun, TargetStatus
from ._targets import Target, read_targets

__all__ = [
    "CheckOutcome",
    "DataCheck",
    "Fleet",
    "FleetRun",
    "Preflight",
    "Target",
    "TargetCheck",
    "TargetRun",
    "TargetStatus",
    "data_checks",
    "read_targets",
    "run_checks",
]
