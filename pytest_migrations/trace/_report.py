"""Text and JSON reports of traces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from migration_lint.execution import TOOL_TRANSACTION

if TYPE_CHECKING:  # the results import this module to format themselves
    from ._results import MigrationTrace, StatementTrace, TraceFinding

JSON_FORMAT_VERSION = 1


def format_statement(trace: StatementTrace) -> str:
    """One line of facts: ``path:line Kind: ACCESS EXCLUSIVE public.t; rewrote ...``."""
    parts = []
    locks = [f"{fact.mode} {fact.relation.describe()}" + ("" if fact.certain else f" ({fact.seen})")
             + ("" if fact.relation.pre_existing else " (new)") for fact in trace.acquired]
    parts.append("locks: " + (", ".join(locks) if locks else "none new"))
    if trace.rewritten:
        parts.append("rewrote: " + ", ".join(r.describe() for r in trace.rewritten))
    if trace.scanned:
        parts.append("scanned: " + ", ".join(r.name for r in trace.scanned))
    if trace.dropped:
        parts.append("dropped: " + ", ".join(r.describe() for r in trace.dropped))
    if trace.validated:
        parts.append("validated: " + ", ".join(trace.validated))
    if trace.held_seconds is not None:
        parts.append(f"ran {format_seconds(trace.seconds)}, held to commit {format_seconds(trace.held_seconds)}")
    if trace.note:
        parts.append(trace.note)
    return f"{trace.location} {trace.kind or '?'} `{trace.summary}`: " + "; ".join(parts)


def format_migration(trace: MigrationTrace, *, verbose: bool = False) -> str:
    migration = trace.migration
    lines = [
        f"{migration.id} ({migration.up.path}) on PostgreSQL {trace.server_version}:"
        f" {len(trace.statements)} statement(s), {_count(trace.findings, 'finding')}"
        + _severities(trace.findings)
        + ("" if trace.plan is None or trace.plan.mode == TOOL_TRANSACTION else f", run {trace.plan.description}")
    ]
    for seeded in trace.seeded:
        if seeded.rows:
            lines.append(f"  seeded {seeded.table} with {seeded.rows} rows")
        elif seeded.reason != "already has rows":
            lines.append(f"  not seeded {seeded.table}: {seeded.reason}")
    if trace.error:
        lines.append(f"  error: {trace.error}")
    for finding in trace.findings:
        lines.append(f"  {finding.message()}")
    for statement_trace, static in trace.harmless_static:
        lines.append(f"  {statement_trace.location}: static {static.code} ({static.name}) is harmless here: {static.harmless}")
    if verbose:
        for statement_trace in trace.statements:
            lines.append(f"    {format_statement(statement_trace)}")
    return "\n".join(lines)


def format_run(traces: Sequence[MigrationTrace], *, verbose: bool = False, static_available: bool | None = None) -> str:
    blocks = [format_migration(trace, verbose=verbose) for trace in traces]
    findings = [finding for trace in traces for finding in trace.findings]
    gaps = sum(1 for finding in findings if finding.catalogue_gap)
    suppressed = sum(1 for finding in findings if finding.suppressed)
    blocking = sum(1 for trace in traces for _ in trace.blocking_findings)
    brief = sum(1 for trace in traces for _ in trace.brief_findings)
    harmless = sum(len(trace.harmless_static) for trace in traces)
    version = traces[0].server_version if traces else 0
    summary = (
        f"{_count(traces, 'migration')} traced on PostgreSQL {version}: {_count(findings, 'finding')}"
        f" ({blocking} blocking, {brief} brief, {suppressed} suppressed; {gaps} catalogue gap(s)),"
        f" {harmless} static finding(s) harmless here"
    )
    timeout = traces[0].lock_timeout if traces else None
    if timeout is not None:
        summary += f"; lock_timeout {timeout} unless a file sets its own"
    failed = [trace for trace in traces if trace.error]
    if failed:
        summary += f"; {failed[0].migration.id} failed to apply"
    if traces and not any(trace.static_available for trace in traces):
        summary += "; static rules unknown (linter not available)"
    return "\n".join([*blocks, summary])


def migration_json(trace: MigrationTrace) -> dict[str, Any]:
    return {
        "migration": trace.migration.id,
        "version": trace.migration.version.text,
        "path": str(trace.migration.up.path),
        "transactional": trace.plan is not None and trace.plan.mode == TOOL_TRANSACTION,
        "execution": None if trace.plan is None else trace.plan.description,
        "server_version": trace.server_version,
        "error": trace.error,
        "untraceable": trace.untraceable,
        "depends_on": trace.depends_on,
        "lock_timeout": trace.lock_timeout,
        "seconds": round(trace.seconds, 6),
        "static_available": trace.static_available,
        "seeded": [seeded.to_json() for seeded in trace.seeded],
        "findings": [finding.to_json() for finding in trace.findings],
        "harmless_static": [
            {"path": str(statement.path), "line": statement.line, "code": static.code, "rule": static.name,
             "reason": static.harmless}
            for statement, static in trace.harmless_static
        ],
        "statements": [statement.to_json() for statement in trace.statements],
    }


def run_json(traces: Sequence[MigrationTrace]) -> dict[str, Any]:
    findings = [finding for trace in traces for finding in trace.findings]
    return {
        "format_version": JSON_FORMAT_VERSION,
        "server_version": traces[0].server_version if traces else None,
        "summary": {
            "migrations": len(traces),
            "findings": len(findings),
            "blocking": sum(len(trace.blocking_findings) for trace in traces),
            "brief": sum(len(trace.brief_findings) for trace in traces),
            "suppressed": sum(1 for finding in findings if finding.suppressed),
            "catalogue_gaps": sum(1 for finding in findings if finding.catalogue_gap),
            "harmless_static": sum(len(trace.harmless_static) for trace in traces),
            "failed": next((trace.migration.id for trace in traces if trace.error), None),
        },
        "migrations": [migration_json(trace) for trace in traces],
    }


def _severities(findings: Sequence[TraceFinding]) -> str:
    if not findings:
        return ""
    blocking = sum(1 for finding in findings if not finding.brief and not finding.suppressed)
    brief = sum(1 for finding in findings if finding.brief and not finding.suppressed)
    suppressed = sum(1 for finding in findings if finding.suppressed)
    parts = [f"{blocking} blocking", f"{brief} brief"] + ([f"{suppressed} suppressed"] if suppressed else [])
    return f" ({', '.join(parts)})"


def _count(items: Sequence[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def format_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"
