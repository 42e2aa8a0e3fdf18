"""The one bridge from the tracer to the static linter: which rules flag a statement, which
suppression comments cover it, and when a static finding is shown harmless by the trace."""

from __future__ import annotations

from collections.abc import Sequence
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
    when the linter cannot be run. ``history`` are the migrations before it (for context)."""
    try:
        from migration_lint.engine import Linter
        from migration_lint.rules import all_rule_classes
    except ImportError:
        return None
    try:
        rules = [cls() for cls in all_rule_classes() if not cls.opt_in]
        linter = Linter(rules, pg_version=pg_version)
        findings = linter.lint_migrations([*history, migration], only=[migration])
    except Exception:  # a linter bug must not stop a trace; the report says the rules are unknown
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


# Findings about the file rather than what a statement does to the database.
_NOT_ABOUT_STATEMENTS = frozenset({"ML900", "ML901"})


def rule_lock(code: str) -> str | None:
    """The lock a rule says its flagged statement takes (``Rule.lock``), if it declares one."""
    try:
        from migration_lint.rules import known_rule
    except ImportError:
        return None
    rule = known_rule(code)
    return getattr(rule, "lock", None) if rule is not None else None


def harmless_reason(lock: str | None, trace: StatementTrace, pg_version: int) -> str | None:
    """Why the trace shows a static finding about locking harmless here, or ``None``.

    Only findings of rules that declare a blocking lock are judged, and only when the statement
    neither took a blocking lock on a relation that existed before the migration, nor rewrote
    one, nor ran while the transaction already blocked others (an earlier statement's lock
    would hide its own).
    """
    if lock is None or not is_blocking(lock) or trace.blocking_held_before:
        return None
    if trace.blocking_pre_existing or trace.rewritten:
        return None
    if trace.method == "sampled" and not trace.acquired:
        return None  # nothing seen is not proof of nothing taken
    taken = sorted({fact.mode for fact in trace.acquired if fact.relation.pre_existing})
    if taken:
        return f"on PostgreSQL {pg_version} it took only {', '.join(taken)} on existing relations"
    return f"on PostgreSQL {pg_version} it locked no relation that existed before the migration"


def suppressed_statements(migration: Migration, codes_by_line: dict[int, tuple[str, ...]]) -> set[int]:
    """Lines of UP statements whose trace findings a suppression comment silences.

    A comment silences a trace finding when it ignores every rule, :data:`TRACE_RULE_NAME`, or a
    static rule that flags the same statement.
    """
    try:
        from migration_lint.suppress import find_suppressions, resolve_ranges
    except ImportError:
        return set()
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
