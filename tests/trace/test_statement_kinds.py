"""What PostgreSQL 15 and 18 actually lock, rewrite, scan and validate, statement kind by kind.

Each case of ``trace_cases.CASES`` is traced on a fresh copy of ``schema.sql`` on the embedded
PostgreSQL 18 and on the system PostgreSQL 15; the facts must be exactly the pinned ones. A
new server version that behaves differently fails here first, and the case gets a per-version
twin. The same run pins which blocking statements no static rule covers (catalogue gaps).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from trace_harness import Sandbox, observed
from trace_cases import CASES, Case

VERSIONS = {18: "pg_server", 15: "system_pg_server"}

# Statement kinds that block reads or writes of an existing table (or rewrite it) while no static
# rule covers them: no rule that declares the lock flags them, nor, for a lock held only for a
# catalog update, ML010 (the cases run without a lock_timeout). The known gaps of the rule
# catalogue; each is explained in docs/lock-tracing.md. A rule that starts covering one makes
# this test fail, and the entry goes.
CATALOGUE_GAPS = {
    "create-rule",
}

# Static findings the trace shows harmless (the rule warns of a rewrite that does not happen).
HARMLESS_STATIC = {
    "set-logged-already-logged": {"ML028"},
    "set-tablespace-same": {"ML028"},
}


def _params() -> Iterator[object]:
    for case in CASES:
        for version in case.versions:
            marks = [pytest.mark.system_pg] if version == 15 else []
            yield pytest.param(case, version, id=f"pg{version}-{case.id}", marks=marks)


@pytest.fixture(scope="module")
def sandboxes(request: pytest.FixtureRequest) -> Iterator[dict[int, Sandbox]]:
    made: dict[int, Sandbox] = {}

    def get(version: int) -> Sandbox:
        if version not in made:
            server = request.getfixturevalue(VERSIONS[version])
            if server.major != version:
                pytest.skip(f"pinned for PostgreSQL {version}, the server is {server.major}")
            made[version] = Sandbox(server, server.create_database())
        return made[version]

    yield get  # type: ignore[misc]
    for sandbox in made.values():
        sandbox.server.drop_database(sandbox.database)


@pytest.mark.parametrize(("case", "version"), list(_params()))
def test_statement_kind(case: Case, version: int, sandboxes, tmp_path: Path) -> None:
    schema, trace = sandboxes(version).trace(case.sql, tmp_path)
    facts = observed(schema, trace)
    assert facts["method"] == case.method
    assert facts["locks"] == case.locks
    assert facts["rewritten"] == set(case.rewritten)
    assert facts["scanned"] == set(case.scanned)
    assert facts["validated"] == case.validated
    if facts["index_locks"] is not None:
        assert facts["index_locks"] == case.index_locks
    assert trace.static_available
    harmless = {static.code for _, static in trace.harmless_static}
    assert harmless == HARMLESS_STATIC.get(case.id, set())
    expects_finding = any(_blocks(name, mode) for name, mode in case.locks.items()) or bool(case.rewritten - _INDEX_NAMES)
    if case.method == "sampled" and not expects_finding:
        return  # a polled lock may or may not add a finding
    assert bool(trace.findings) == expects_finding
    if trace.findings:  # held for a catalog update only, or for work that grows with the table
        assert any(finding.long_work for finding in trace.findings) == long_work(case)
    gap = any(finding.catalogue_gap for finding in trace.findings)
    assert gap == (case.id in CATALOGUE_GAPS), [finding.message() for finding in trace.findings]


def long_work(case: Case) -> bool:
    """A rewrite (a sequence's takes constant time) or a scan: never brief, even under a lock_timeout."""
    return bool(case.rewritten - _SEQUENCES) or bool(case.scanned)


_SEQUENCES = {"counter"}


def _blocks(relation: str, mode: str) -> bool:
    if relation == "child_totals":  # a materialized view: only ACCESS EXCLUSIVE blocks its readers
        return mode == "ACCESS EXCLUSIVE"
    return mode in BLOCKING


BLOCKING = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
_INDEX_NAMES = {"child_pkey", "child_qty", "loose_id", "child_totals_parent"}


def test_enough_statement_kinds_are_pinned_on_both_versions() -> None:
    on_both = [case for case in CASES if {15, 18} <= set(case.versions)]
    assert len(on_both) >= 25
    assert len({case.id for case in CASES}) == len(CASES)
