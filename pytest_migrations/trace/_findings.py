"""From facts to findings: blocking locks and rewrites of relations that existed before the
migration, each named with the static rule that covers it, or called a catalogue gap."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from migration_lint.model import Migration

from . import _static
from ._modes import ACCESS_EXCLUSIVE, is_blocking, rank
from ._results import (
    IN_TRANSACTION, SAMPLED, LockFact, MigrationTrace, StaticFinding, StatementTrace, TracedRelation, TraceFinding,
    format_seconds,
)  # fmt: skip


def attach_static(trace: MigrationTrace, history: Sequence[Migration] = ()) -> bool:
    """Put the linter's findings on each statement trace; ``False`` when the linter cannot run."""
    by_statement = _static.static_findings(trace.migration, trace.server_version, history)
    if by_statement is None:
        return False
    for statement_trace in trace.statements:
        found = by_statement.get((str(statement_trace.path), statement_trace.line), [])
        static = []
        for finding in found:
            lock = _static.rule_lock(finding.code)
            static.append(
                StaticFinding(
                    code=finding.code,
                    name=finding.rule,
                    message=finding.message,
                    lock=lock,
                    covers=_static.covers(lock),
                    harmless=_static.harmless_reason(finding.rule, lock, statement_trace, trace.server_version),
                )
            )
        statement_trace.static = tuple(static)
    return True


def draw_findings(trace: MigrationTrace) -> list[TraceFinding]:
    codes_by_line = {
        st.line: tuple(code for finding in st.static for code in (finding.code, finding.name)) for st in trace.statements
    }
    suppressed = _static.suppressed_statements(trace.migration, codes_by_line)
    later_work = _later_work(trace.statements)
    work_rules = _work_rules_by_transaction(trace.statements)
    findings = []
    held: dict[int, str] = {}  # relation oid -> strongest mode the open transaction holds
    wait_rules: tuple[str, ...] = ()  # rules about waiting for locks seen so far in the section
    for index, statement_trace in enumerate(trace.statements):
        if statement_trace.method != IN_TRANSACTION:
            held = {}
        wait_rules = tuple(dict.fromkeys([*wait_rules, *(f.code for f in statement_trace.static if _static.about_waiting(f.name))]))
        covering = tuple(dict.fromkeys(f.code for f in statement_trace.static if f.covers))
        through = later_work.get(index)
        for relation, mode in _blocking_relations(statement_trace, held):
            rewrite = any(r.oid == relation.oid for r in statement_trace.rewritten)
            scan = any(r.oid == relation.oid for r in statement_trace.scanned)
            # A sequence is rewritten in constant time (ALTER SEQUENCE ... RESTART).
            long_work = (rewrite and relation.kind != "sequence") or scan or through is not None
            timeout = statement_trace.lock_timeout or "0"
            codes = covering
            if not long_work and not has_timeout(timeout):
                codes = tuple(dict.fromkeys([*codes, *wait_rules]))
            elif through is not None or (scan and relation.oid in held):
                # Held through later work, or scanning under a lock taken earlier: what the rules
                # about work after a lock warn of (once per section, for the whole transaction).
                codes = tuple(dict.fromkeys([*codes, *work_rules.get(index, ())]))
            findings.append(
                TraceFinding(
                    migration_id=trace.migration.id,
                    path=statement_trace.path,
                    line=statement_trace.line,
                    statement=statement_trace.summary,
                    relation=relation,
                    mode=mode,
                    rewrite=rewrite,
                    scan=scan,
                    held_seconds=statement_trace.held_seconds if trace.seeded else None,
                    static_codes=codes,
                    static_available=trace.static_available,
                    suppressed=statement_trace.line in suppressed,
                    held_mode=held.get(relation.oid),
                    lock_timeout=timeout,
                    held_through=through,
                    brief=not long_work and has_timeout(timeout),
                )
            )
        for fact in statement_trace.acquired:
            if rank(fact.mode) > rank(held.get(fact.relation.oid, "")):
                held[fact.relation.oid] = fact.mode
    return findings


def has_timeout(lock_timeout: str) -> bool:
    """Whether ``current_setting('lock_timeout')`` is a limit (``"0"`` waits for ever)."""
    return lock_timeout.strip() not in ("", "0")


def _later_work(statements: Sequence[StatementTrace]) -> dict[int, str]:
    """For each statement of a transaction, the first later statement of that transaction that
    rewrites or scans a pre-existing table (``"line 12 scans public.orders"``): a lock taken
    before it is held while it runs."""
    found: dict[int, str] = {}
    pending: list[int] = []
    for index, statement in enumerate(statements):
        if statement.method != IN_TRANSACTION:
            pending = []
            continue
        rewritten = [r for r in statement.rewritten if r.kind != "sequence"]
        work, verb = (rewritten, "rewrites") if rewritten else (list(statement.scanned), "scans")
        if work and pending:
            for earlier in pending:
                found[earlier] = f"line {statement.line} {verb} {work[0].name}"
            pending = []
        pending.append(index)
    return found


def _work_rules_by_transaction(statements: Sequence[StatementTrace]) -> dict[int, tuple[str, ...]]:
    """For each statement run in the migration's one transaction, the codes of the rules about
    work after a lock that flag any statement of that transaction."""
    in_transaction = [index for index, statement in enumerate(statements) if statement.method == IN_TRANSACTION]
    codes = tuple(dict.fromkeys(
        f.code for index in in_transaction for f in statements[index].static if _static.about_work_under_lock(f.name)
    ))  # fmt: skip
    return {index: codes for index in in_transaction}


def _blocking_relations(trace: StatementTrace, held: dict[int, str]) -> list[tuple[TracedRelation, str | None]]:
    """Pre-existing relations the statement blocked, with the strongest new mode on each (``None``
    when it took none but rewrote or scanned a table under a blocking lock taken earlier).

    An index or TOAST table is left out when its table is listed for the same statement: its
    lock comes with the table's.
    """
    strongest: dict[int, tuple[TracedRelation, str | None]] = {}
    # An index that CONCURRENTLY drops (REINDEX's old copy, DROP INDEX's) is already invalid
    # when its ACCESS EXCLUSIVE is taken: no query uses it any more.
    dead = {relation.oid for relation in trace.dropped if relation.is_auxiliary} if trace.method == SAMPLED else set()
    for fact in trace.acquired:
        if not fact.relation.pre_existing or not _blocks_others(fact) or fact.relation.oid in dead:
            continue
        known = strongest.get(fact.relation.oid)
        if known is None or rank(fact.mode) > rank(known[1] or ""):
            strongest[fact.relation.oid] = (fact.relation, fact.mode)
    for relation in trace.rewritten:
        strongest.setdefault(relation.oid, (relation, None))
    for relation in trace.scanned:
        if is_blocking(held.get(relation.oid, "")):
            strongest.setdefault(relation.oid, (relation, None))
    # An index, TOAST table or owned sequence adds nothing when its table is listed too, or was
    # already blocked by an earlier statement of the transaction.
    covered = {relation.oid for relation, _ in strongest.values()}
    covered |= {oid for oid, mode in held.items() if is_blocking(mode)}
    return sorted(
        ((relation, mode) for relation, mode in strongest.values() if relation.of_oid not in covered),
        key=lambda item: (item[0].is_auxiliary, item[0].name),
    )


def _blocks_others(fact: LockFact) -> bool:
    # Only REFRESH writes a materialized view: a mode that blocks writes and not reads blocks no one.
    if fact.relation.kind == "materialized view":
        return fact.mode == ACCESS_EXCLUSIVE
    return bool(fact.blocks)


def split_by_static(
    trace: MigrationTrace, reported: Callable[[Path, int, int], Collection[str]]
) -> tuple[list[TraceFinding], list[TraceFinding]]:
    """The blocking findings of ``trace`` as (confirmed, unreported): confirmed when a static
    finding that already fails elsewhere (``reported(path, first line, last line)`` gives the
    codes of those on the statement) is one of the rules covering it; the rest are traced facts
    that no failing static finding reports (a rewrite or scan the rules did not predict)."""
    confirmed, unreported = [], []
    for finding in trace.blocking_findings:
        (own_first, own_last), waited = _reporting_lines(finding, trace)
        codes = set(reported(finding.path, own_first, own_last))
        if waited is not None:
            codes |= set(reported(finding.path, *waited)) & _static.waiting_codes()
        (confirmed if set(finding.static_codes) & codes else unreported).append(finding)
    return confirmed, unreported


def reports(finding: TraceFinding, trace: MigrationTrace, path: Path, line: int, code: str) -> bool:
    """Whether a static finding (``code`` at ``path``:``line``) reports the traced ``finding``:
    one of its rules, on its statement, or, for a lock that only waits without a lock_timeout,
    the rule about waiting on an earlier statement of its section (see :func:`split_by_static`)."""
    if code not in finding.static_codes or Path(path).resolve() != Path(finding.path).resolve():
        return False
    (own_first, own_last), waited = _reporting_lines(finding, trace)
    if own_first <= line <= own_last:
        return True
    return waited is not None and code in _static.waiting_codes() and waited[0] <= line <= waited[1]


def _reporting_lines(finding: TraceFinding, trace: MigrationTrace) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """The lines of ``finding``'s statement, and, for a lock that only waits without a
    lock_timeout, those of the statements before it in its section: the rule about waiting
    reports the first statement of a section that waits (its fix, a ``SET lock_timeout`` before
    it, covers every later one), so that finding reports this one too."""
    end = next((st.statement.end_line for st in trace.statements if st.line == finding.line and st.path == finding.path), finding.line)
    if finding.long_work:
        return (finding.line, end), None
    first = next((st.line for st in trace.statements if st.path == finding.path), finding.line)
    return (finding.line, end), ((first, finding.line - 1) if first < finding.line else None)


def traced_fact(finding: TraceFinding, trace: MigrationTrace) -> str:
    """What the trace saw of one finding, in a line: ``traced: ACCESS EXCLUSIVE on orders, rewrites
    it, held 120.0 ms over 10,000 rows``."""
    name = finding.relation.name.removeprefix("public.")
    parts = [f"{finding.effective_mode} on {name}"]
    if finding.rewrites_rows:
        parts.append("rewrites it")
    elif finding.scan:
        parts.append("scans it")
    if finding.held_through:
        parts.append(f"held while {finding.held_through}")
    if finding.held_seconds is not None:
        table = finding.relation.of or finding.relation.name
        rows = sum(seed.rows for seed in trace.seeded if seed.table in (table, table.removeprefix("public.")))
        parts.append(f"held {format_seconds(finding.held_seconds)}" + (f" over {rows:,} rows" if rows else ""))
    return "traced: " + ", ".join(parts)
