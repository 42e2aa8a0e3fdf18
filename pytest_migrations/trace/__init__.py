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

from ._cli import UsageError, add_trace_arguments, run_trace_command, trace_directory
from ._deploy import LockTimeoutError, check_lock_timeout, runner_lock_timeout
from ._modes import MODES, blocks, mode_name
from ._report import format_run, run_json
from ._results import (
    BLOCKING,
    BRIEF,
    HELD,
    POLLED,
    QUEUED,
    IN_TRANSACTION,
    OWN_TRANSACTION,
    SAMPLED,
    LockFact,
    MigrationTrace,
    SeedResult,
    StatementTrace,
    StaticFinding,
    TracedRelation,
    TraceFinding,
)
from ._static import TRACE_RULE_NAME
from ._tracer import TraceError, trace_migration, traced_statements
from ._walker import TraceWalker

__all__ = [
    "BLOCKING",
    "BRIEF",
    "HELD",
    "POLLED",
    "QUEUED",
    "IN_TRANSACTION",
    "MODES",
    "OWN_TRANSACTION",
    "SAMPLED",
    "TRACE_RULE_NAME",
    "LockFact",
    "LockTimeoutError",
    "MigrationTrace",
    "SeedResult",
    "StatementTrace",
    "StaticFinding",
    "TraceError",
    "TraceFinding",
    "TraceWalker",
    "TracedRelation",
    "UsageError",
    "add_trace_arguments",
    "blocks",
    "check_lock_timeout",
    "format_run",
    "mode_name",
    "run_json",
    "run_trace_command",
    "runner_lock_timeout",
    "trace_directory",
    "trace_migration",
    "traced_statements",
]
