"""The one bridge from the tracer to the static linter: which rules flag a statement, which
suppression comments cover it, and when a static finding is shown harmless by the trace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migration_lint.model import Migration

from ._modes import is_blocking

if TYPE_CHECKING:
    from ._results import StatementTrace

# The name under which a suppression comment silences a trace finding that no static rule
# covers: ``-- migration-lint: ignore[traced-lock] reason``.
TRACE_RULE_NAME = "traced-lock"


def static_findings(
    migration: Migration, pg_version: int, history: Sequence[Migration] = ()
) -> dict[tuple[str, int], list[Any]] | None:
    """The linter's findings on ``migration``'s UP by ``(path, statement line)``, or ``None``
    when the linter cannot be run. ``history`` are the migrations before it (for context).

    The lint session reads the project's ``[tool.migration-lint]`` as every other tool does, and
    keeps the findings that suppression comments silence: :func:`suppressed_statements` applies
    the comments to trace findings, which needs to know which rules flag a statement anyway.
    """
    try:
        # The linter reads the same execution plan of the migration as the tracer followed: the
        # layout's rule, whatever assume-in-transaction the configuration says.
        session = _session(migration.path.parent, pg_version)
        findings = session.lint([*history, migration], only=[migration])
    except Exception:  # a linter bug or a bad configuration must not stop a trace: the rules are unknown
        return None
    by_statement: dict[tuple[str, int], list[Any]] = {}
    spans = [(statement.line, statement.end_line) for statement in migration.up.statements]
    up_path = str(migration.up.path)
    for finding in findings:
        if finding.section != "up" or finding.path != up_path or finding.code in _NOT_ABOUT_STATEMENTS:
            continue
        for first, last in spans:
            if first <= finding.line <= last:
                by_statement.setdefault((up_path, first), []).append(finding)
                break
    return by_statement


def _session(directory: Path, pg_version: int) -> Any:
    """A lint session per configuration (as it is now) and server version: a trace of many
    migrations reads the configuration once."""
    from migration_lint.config import find_config
    from migration_lint.session import LintSession

    config_file = find_config(directory)
    stamp = config_file.stat().st_mtime_ns if config_file is not None else None
    key = (config_file, stamp, pg_version)
    if key not in _SESSIONS:
        _SESSIONS[key] = LintSession.for_path(
            directory, config_file=config_file, pg_version=pg_version, assume_in_transaction=False,
            apply_suppressions=False,
        )
    return _SESSIONS[key]


_SESSIONS: dict[tuple[Path | None, int | None, int], Any] = {}

# Findings about the file rather than what a statement does to the database.
_NOT_ABOUT_STATEMENTS = frozenset({"ML900", "ML901"})


def rule_lock(code: str) -> str | None:
    """The lock a rule says its flagged statement takes (``Rule.lock``), if it declares one."""
    from migration_lint.rules import known_rule

    rule = known_rule(code)
    return getattr(rule, "lock", None) if rule is not None else None


# What a rule warns of, where it is more than "takes a blocking lock": the trace judges a
# finding by that. Rules not listed here are judged by the lock they declare.
REWRITE, SCAN, LOCK = "rewrite", "scan", "lock"
_CONCERNS = {
    "changing-column-type": REWRITE,
    "adding-field-with-default": REWRITE,
    "adding-rewriting-column": REWRITE,
    "table-rewriting-alter": REWRITE,
    "ban-vacuum-full-and-cluster": REWRITE,
    "set-not-null-requires-check": SCAN,
    "constraint-missing-not-valid": SCAN,
    "unique-constraint-without-index": SCAN,
    "attach-partition-without-check": SCAN,
    "adding-exclusion-constraint": SCAN,
}


def concern(rule_name: str) -> str:
    return _CONCERNS.get(rule_name, LOCK)


# Rules about waiting for a lock (a missing lock_timeout): they cover a lock that is held only
# for a catalog update, whose one harm is the queue it makes while it waits, and nothing else.
_ABOUT_WAITING = frozenset({"require-lock-timeout"})
# Rules about holding a lock through later work of the transaction.
_ABOUT_WORK_UNDER_LOCK = frozenset({"work-after-exclusive-lock", "work-after-write-blocking-lock"})


def about_waiting(rule_name: str) -> bool:
    return rule_name in _ABOUT_WAITING


def waiting_codes() -> set[str]:
    """The codes of the rules about waiting for a lock."""
    from migration_lint.rules import code_of

    return {code for code in map(code_of, _ABOUT_WAITING) if code is not None}


def about_work_under_lock(rule_name: str) -> bool:
    return rule_name in _ABOUT_WORK_UNDER_LOCK


def covers(lock: str | None) -> bool:
    """Whether a rule's finding covers a traced blocking lock: rules that declare the lock they
    warn of do; rules about something else on the same statement (a missing lock_timeout, a
    missing DOWN, a DROP without IF EXISTS) do not."""
    return lock is not None


def harmless_reason(rule_name: str, lock: str | None, trace: StatementTrace, pg_version: int) -> str | None:
    """Why the trace shows a static finding harmless on this server, or ``None``.

    A rule that warns of a rewrite (or a full scan) is harmless when the statement rewrote (or
    scanned) no table that existed before the migration: the lock it still takes is brief. Any
    other rule that declares a blocking lock is harmless when the statement took no blocking lock
    on a relation that existed before, and the transaction did not already hold one (which would
    hide the statement's own).
    """
    if lock is None or trace.method == "sampled":
        return None  # sampling proves what it sees, never what it does not
    worry = concern(rule_name)
    if worry == REWRITE or worry == SCAN:
        if trace.rewritten or trace.scanned:
            return None
        what = "rewrote" if worry == REWRITE else "scanned"
        return f"on PostgreSQL {pg_version} it {what} no existing table, so its lock is held only briefly"
    if not is_blocking(lock.split(" / ")[0]) or trace.blocking_held_before:
        return None
    if trace.blocking_pre_existing or trace.rewritten:
        return None
    taken = sorted({fact.mode for fact in trace.acquired if fact.relation.pre_existing})
    if taken:
        return f"on PostgreSQL {pg_version} it took only {', '.join(taken)} on existing relations"
    return f"on PostgreSQL {pg_version} it locked no relation that existed before the migration"


def suppressed_statements(migration: Migration, codes_by_line: dict[int, tuple[str, ...]]) -> set[int]:
    """Lines of UP statements whose trace findings a suppression comment silences.

    A comment silences a trace finding when it ignores every rule, :data:`TRACE_RULE_NAME`, or a
    static rule that flags the same statement.
    """
    from migration_lint.suppress import find_suppressions, resolve_ranges

    section = migration.up
    from migration_lint.model import read_sql_file

    try:
        text = read_sql_file(section.path)
    except Exception:
        return set()
    suppressions = find_suppressions(text)
    if not suppressions:
        return set()
    sections = [s for s in (migration.up, migration.down) if s is not None and s.path == section.path]
    spans = [(statement.line, statement.end_line) for s in sections for statement in s.statements]
    resolve_ranges(suppressions, spans, text.count("\n") + 1)
    silenced = set()
    for statement in section.statements:
        names = {TRACE_RULE_NAME, *codes_by_line.get(statement.line, ())}
        for suppression in suppressions:
            if suppression.kind == "enable" or not suppression.covers(statement.line):
                continue
            if not suppression.rules or names & set(suppression.rules):
                silenced.add(statement.line)
    return silenced
