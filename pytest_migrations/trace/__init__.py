"""Lock and rewrite tracing: prove on a real server what each migration locks, rewrites and scans.

Static rules guess; this measures. :func:`trace_migration` applies one migration to a database
that holds the schema of all earlier migrations and records, statement by statement, the lock
modes its transaction took (``pg_locks``), the pre-existing tables and indexes it rewrote
(``relfilenode``), the tables it read in full (``pg_stat_xact_user_tables``) and the constraints
it validated. Findings name every statement that blocks reads or writes of a relation that
existed before the migration, with the static rule that covers it or "catalogue gap"; static
findings the trace shows harmless on the server's version are marked so.

>>> walker = TraceWalker(database_dsn, migrations)       # the plugin: one per session
>>> trace = walker.result_for(migration)                 # a ``::locks`` item
>>> trace.ok, trace.blocking_findings, print(trace.format())
>>> trace = trace_migration(database_dsn, migration)      # one migration, schema of the earlier ones
>>> traces = trace_directory("migrations", trace_rows=10_000)   # ``migrations trace``

What each statement kind does on PostgreSQL 15 and 18 is pinned by ``tests/trace/`` and listed
in ``docs/lock-tracing.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._cli import UsageError, add_trace_arguments, run_trace_command, trace_directory
    from ._deploy import LockTimeoutError, check_lock_timeout, runner_lock_timeout
    from ._findings import reports, split_by_static, traced_fact
    from ._modes import MODES, blocks, mode_name
    from ._report import format_run, run_json
    from ._results import (
        BLOCKING, BRIEF, HELD, IN_TRANSACTION, OWN_TRANSACTION, POLLED, QUEUED, SAMPLED, LockFact, MigrationTrace,
        SeedResult, StatementTrace, StaticFinding, TracedRelation, TraceFinding,
    )  # fmt: skip
    from ._static import TRACE_RULE_NAME
    from ._tracer import TraceError, trace_migration, traced_statements
    from ._walker import TraceWalker

# name -> module: the pytest plugin loads this package in every pytest run, so a name is
# imported from its module only when first used.
_EXPORTS = {
    "UsageError": "_cli",
    "add_trace_arguments": "_cli",
    "run_trace_command": "_cli",
    "trace_directory": "_cli",
    "LockTimeoutError": "_deploy",
    "check_lock_timeout": "_deploy",
    "runner_lock_timeout": "_deploy",
    "reports": "_findings",
    "split_by_static": "_findings",
    "traced_fact": "_findings",
    "MODES": "_modes",
    "blocks": "_modes",
    "mode_name": "_modes",
    "format_run": "_report",
    "run_json": "_report",
    "BLOCKING": "_results",
    "BRIEF": "_results",
    "HELD": "_results",
    "POLLED": "_results",
    "QUEUED": "_results",
    "IN_TRANSACTION": "_results",
    "OWN_TRANSACTION": "_results",
    "SAMPLED": "_results",
    "LockFact": "_results",
    "MigrationTrace": "_results",
    "SeedResult": "_results",
    "StatementTrace": "_results",
    "StaticFinding": "_results",
    "TracedRelation": "_results",
    "TraceFinding": "_results",
    "TRACE_RULE_NAME": "_static",
    "TraceError": "_tracer",
    "trace_migration": "_tracer",
    "traced_statements": "_tracer",
    "TraceWalker": "_walker",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
