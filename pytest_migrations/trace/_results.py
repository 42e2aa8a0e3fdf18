"""What a trace found: per statement the facts, per migration the findings drawn from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migration_lint.execution import ExecutionPlan
from migration_lint.model import Migration
from migration_lint.parse import Statement

from ._modes import blocks, rank
from ._report import format_migration, format_seconds, migration_json

# How a statement was observed.
IN_TRANSACTION = "transaction"
"""Inside the migration's one transaction; locks read from pg_locks after the statement."""
OWN_TRANSACTION = "own transaction"
"""A non-transactional migration's statement that PostgreSQL accepts in a transaction block."""
SAMPLED = "sampled"
"""A statement PostgreSQL runs only outside a transaction block (CONCURRENTLY, VACUUM): a second
connection reads its locks while it runs (see docs/lock-tracing.md for what it can miss)."""


@dataclass(frozen=True)
class TracedRelation:
    """A relation a statement locked, rewrote or scanned, as the catalogs named it."""

    oid: int
    name: str  # schema-qualified: "public.orders"
    kind: str  # "table", "index", "sequence", "TOAST table", ...
    of: str | None  # the table of an index or of a TOAST table
    pre_existing: bool  # existed before the migration started
    of_oid: int | None = None
    renamed_to: str | None = None  # its name after the migration, when the migration renamed it

    def describe(self) -> str:
        text = self._describe()
        return f"{text} (renamed {self.renamed_to})" if self.renamed_to else text

    def _describe(self) -> str:
        if self.kind == "TOAST table" and self.of:
            return f"TOAST table of {self.of}"
        if self.kind in ("index", "partitioned index") and self.of:
            return f"{self.kind} {self.name} on {self.of}"
        if self.kind == "sequence" and self.of:
            return f"sequence {self.name} of {self.of}"
        return f"{self.kind} {self.name}"

    @property
    def is_auxiliary(self) -> bool:
        """An index, TOAST table or owned sequence: it comes with its table's own lock."""
        return self.of is not None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "of": self.of, "pre_existing": self.pre_existing,
                "renamed_to": self.renamed_to}


# Finding severities.
BLOCKING = "blocking"
"""Fails: a rewrite, a scan, a lock held through later work, or a lock taken with no lock_timeout."""
BRIEF = "brief"
"""Reported only: a lock held for a catalog update, taken under a lock_timeout."""

# How a lock was seen.
HELD = "held"
"""Read from pg_locks after the statement, inside its transaction: certain."""
QUEUED = "queued"
"""Asked for while the tracer made the statement queue for the table: certain."""
POLLED = "polled"
"""Seen by polling pg_locks while the statement ran: certain, but polling may miss others."""


@dataclass(frozen=True)
class LockFact:
    """A lock mode the statement took on a relation."""

    relation: TracedRelation
    mode: str  # "ACCESS EXCLUSIVE"
    seen: str = HELD

    @property
    def blocks(self) -> str:
        return blocks(self.mode)

    @property
    def certain(self) -> bool:
        """Read from pg_locks while the statement's transaction held it."""
        return self.seen == HELD

    def to_json(self) -> dict[str, Any]:
        return {
            "relation": self.relation.to_json(),
            "mode": self.mode,
            "seen": self.seen,
            "blocks": self.blocks or None,
        }


@dataclass(frozen=True)
class StaticFinding:
    """A finding of the static linter on the same statement."""

    code: str
    name: str
    message: str
    lock: str | None = None  # the lock the rule says the statement takes
    covers: bool = False  # the rule warns of the lock or rewrite itself, not of something else
    harmless: str | None = None  # why the trace shows it harmless on this server, if it does

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "message": self.message, "lock": self.lock,
                "covers_lock": self.covers, "harmless_on_this_server": self.harmless}


@dataclass
class StatementTrace:
    """The facts observed for one statement of a migration's UP."""

    statement: Statement
    path: Path
    method: str  # IN_TRANSACTION, OWN_TRANSACTION or SAMPLED
    acquired: tuple[LockFact, ...] = ()  # modes first held after this statement
    rewritten: tuple[TracedRelation, ...] = ()  # pre-existing relations given a new relfilenode
    scanned: tuple[TracedRelation, ...] = ()  # pre-existing tables read by a sequential scan
    validated: tuple[str, ...] = ()  # constraints on pre-existing tables that became valid
    dropped: tuple[TracedRelation, ...] = ()  # pre-existing relations gone after the statement
    seconds: float = 0.0  # the statement's own run time
    held_seconds: float | None = None  # from the statement's start to its transaction's commit
    blocking_held_before: bool = False  # the transaction already blocked others when it started
    lock_timeout: str = "0"  # the lock_timeout in force when the statement ran
    note: str = ""
    static: tuple[StaticFinding, ...] = ()

    @property
    def line(self) -> int:
        return self.statement.line

    @property
    def location(self) -> str:
        return f"{self.path}:{self.statement.line}"

    @property
    def kind(self) -> str | None:
        return self.statement.kind

    @property
    def summary(self) -> str:
        return summarize(self.statement.text)

    def modes_on(self, name: str) -> list[str]:
        """Modes this statement took on the relation called ``name`` (for tests and reports)."""
        return sorted({fact.mode for fact in self.acquired if fact.relation.name == name}, key=rank)

    @property
    def blocking_pre_existing(self) -> list[LockFact]:
        return [fact for fact in self.acquired if fact.relation.pre_existing and fact.blocks]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "line": self.statement.line,
            "kind": self.kind,
            "statement": self.summary,
            "method": self.method,
            "locks": [fact.to_json() for fact in self.acquired],
            "rewritten": [relation.to_json() for relation in self.rewritten],
            "scanned": [relation.to_json() for relation in self.scanned],
            "validated": list(self.validated),
            "dropped": [relation.to_json() for relation in self.dropped],
            "seconds": round(self.seconds, 6),
            "held_seconds": None if self.held_seconds is None else round(self.held_seconds, 6),
            "lock_timeout": self.lock_timeout,
            "note": self.note or None,
            "static": [finding.to_json() for finding in self.static],
        }


@dataclass(frozen=True)
class TraceFinding:
    """A statement that blocks reads or writes of a relation that existed before the migration."""

    migration_id: str
    path: Path
    line: int
    statement: str  # a one-line summary of the statement
    relation: TracedRelation
    mode: str | None  # the strongest mode the statement took on it (None: held from before)
    rewrite: bool
    scan: bool  # the statement read the whole table while holding the lock
    held_seconds: float | None
    static_codes: tuple[str, ...]  # rules that flagged this statement; empty: a catalogue gap
    static_available: bool  # False when the linter could not be asked
    suppressed: bool = False
    held_mode: str | None = None  # the mode the transaction already held on it, if any
    lock_timeout: str = "0"  # the lock_timeout in force when the statement ran ("0": none)
    held_through: str | None = None  # "line 12 scans public.orders": later work its lock is held through
    brief: bool = False  # lock held for a catalog update only, under a lock_timeout: does not fail

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def severity(self) -> str:
        """``"blocking"`` (fails the ``::locks`` item and the CLI) or ``"brief"`` (reported only)."""
        return BRIEF if self.brief else BLOCKING

    @property
    def long_work(self) -> bool:
        """The lock is held while rows are read or written: for as long as the table is big (a
        sequence is rewritten in constant time)."""
        return self.rewrites_rows or self.scan or self.held_through is not None

    @property
    def rewrites_rows(self) -> bool:
        return self.rewrite and self.relation.kind != "sequence"

    @property
    def effective_mode(self) -> str:
        """The strongest mode in force while the statement ran (a rewrite needs ACCESS EXCLUSIVE)."""
        modes = [mode for mode in (self.mode, self.held_mode) if mode]
        if self.rewrite:
            modes.append("ACCESS EXCLUSIVE")
        return max(modes, key=rank)

    @property
    def blocks(self) -> str:
        return blocks(self.effective_mode)

    @property
    def catalogue_gap(self) -> bool:
        """No static rule flags a statement that needs one (a brief finding needs none)."""
        return self.static_available and not self.static_codes and not self.brief

    def message(self) -> str:
        what = []
        if self.mode:
            what.append(f"takes {self.mode} on {self.relation.describe()} (blocks {self.blocks})")
        if self.rewrite:
            what.append("rewrites it" if self.mode else f"rewrites {self.relation.describe()}")
        elif self.scan:
            what.append("scans it" if self.mode else f"scans {self.relation.describe()}")
        if not self.mode and self.held_mode:
            what[-1] += f" under the {self.held_mode} lock taken earlier (blocks {self.blocks})"
        elif not self.mode:
            what[-1] += f" (blocks {self.blocks})"
        text = f"{self.location}: `{self.statement}` " + " and ".join(what)
        if self.held_through:
            text += f", held while {self.held_through}"
        if self.held_seconds is not None:
            text += f"; held {format_seconds(self.held_seconds)} until commit"
        text += f"; {self.verdict()}"
        if not self.static_available:
            text += "; static rule: unknown (linter not available)"
        elif self.static_codes:
            text += f"; static rule: {', '.join(self.static_codes)}"
        elif not self.brief:
            text += "; no static rule flags this statement (catalogue gap)"
        if self.suppressed:
            text += " [suppressed]"
        return text

    def verdict(self) -> str:
        """Why the finding blocks (fails) or is brief (reported only), in a few words."""
        if self.brief:
            return f"brief: a catalog update under lock_timeout {self.lock_timeout}"
        if self.rewrites_rows:
            return "blocking: held for the whole rewrite"
        if self.scan:
            return "blocking: held for the whole scan"
        if self.held_through:
            return "blocking: held through later work of its transaction"
        return "blocking: no lock_timeout, so while it waits for the lock every later query on the table waits too"

    def to_json(self) -> dict[str, Any]:
        return {
            "migration": self.migration_id,
            "path": str(self.path),
            "line": self.line,
            "statement": self.statement,
            "relation": self.relation.to_json(),
            "mode": self.mode,
            "held_mode": self.held_mode,
            "blocks": self.blocks,
            "rewrite": self.rewrite,
            "scan": self.scan,
            "held_seconds": None if self.held_seconds is None else round(self.held_seconds, 6),
            "static_rules": list(self.static_codes) if self.static_available else None,
            "catalogue_gap": self.catalogue_gap,
            "suppressed": self.suppressed,
            "severity": self.severity,
            "lock_timeout": self.lock_timeout,
            "held_through": self.held_through,
        }


@dataclass(frozen=True)
class SeedResult:
    """What ``--trace-rows`` did to one pre-existing table."""

    table: str
    rows: int  # rows inserted; 0 when skipped
    reason: str = ""  # why it was skipped or filled only partly

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "rows": self.rows, "skipped": self.reason or None}


@dataclass
class MigrationTrace:
    """The trace of one migration's UP on one server."""

    migration: Migration
    server_version: int  # major version, e.g. 18
    statements: list[StatementTrace] = field(default_factory=list)
    findings: list[TraceFinding] = field(default_factory=list)
    seeded: list[SeedResult] = field(default_factory=list)
    static_available: bool = False
    error: str | None = None  # "path:line: message" when the migration failed to apply
    seconds: float = 0.0
    lock_timeout: str | None = None  # the deploy's lock_timeout, set before the migration ran
    untraceable: bool = False  # the tracer cannot run it (error says why); nothing was applied
    depends_on: str | None = None  # not traced: this earlier migration failed (error says how)
    plan: ExecutionPlan | None = None  # how the UP runs, which the trace followed

    @property
    def blocking_findings(self) -> list[TraceFinding]:
        """Findings neither brief nor suppressed in the migration file: what fails a ``::locks`` item."""
        return [finding for finding in self.findings if not finding.suppressed and not finding.brief]

    @property
    def brief_findings(self) -> list[TraceFinding]:
        return [finding for finding in self.findings if finding.brief and not finding.suppressed]

    @property
    def harmless_static(self) -> list[tuple[StatementTrace, StaticFinding]]:
        return [(trace, finding) for trace in self.statements for finding in trace.static if finding.harmless]

    @property
    def ok(self) -> bool:
        return self.error is None and not self.blocking_findings

    def format(self, *, verbose: bool = False) -> str:
        return format_migration(self, verbose=verbose)

    def to_json(self) -> dict[str, Any]:
        return migration_json(self)


def summarize(text: str, width: int = 72) -> str:
    """The statement on one line, comments dropped, cut to ``width`` characters."""
    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            lines.append(stripped)
    one_line = " ".join(" ".join(lines).split()).rstrip(";")
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"

