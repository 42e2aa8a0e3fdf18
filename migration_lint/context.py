"""What a rule sees when a statement is checked: :class:`LintContext`, written only by the engine.

Its own module, below both the engine and the rules: a rule's type hints name it, and the engine
imports the rules' base classes, so neither imports the other's module.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .schema_state import SchemaState
from .sqlnodes import relation_name

if TYPE_CHECKING:
    from .execution import ExecutionPlan
    from .model import Migration, Section
    from .parse import Statement


@dataclass
class LintContext:
    """What is known when a statement is checked. Rules read it; only the engine writes it."""

    pg_version: int
    migration: Migration | None
    section: Section
    section_name: str  # "up" or "down"
    statement: Statement | None = None
    index: int = 0  # of the statement in its section
    # How the section runs (:mod:`migration_lint.execution`): the tool's transaction, PostgreSQL's
    # implicit block, or statement by statement.
    plan: ExecutionPlan | None = None
    # The statement runs inside a transaction block (the tool's, the implicit one of a query of
    # several statements, or one a BEGIN of the file opened).
    in_transaction: bool = False
    # The tool opens a transaction around the whole section (the plan says so).
    wrapped: bool = False
    # Depth of BEGINs written in the file itself that are still open.
    explicit_depth: int = 0
    # Tables created earlier in this migration (in a DOWN: also those its UP created).
    created_tables: set[str] = field(default_factory=set)
    # Settings from SET statements earlier in the file: name -> value as text.
    settings: dict[str, str] = field(default_factory=dict)
    # Tables locked ACCESS EXCLUSIVE by the open transaction -> the statement that took the lock.
    exclusive_locks: dict[str, Statement] = field(default_factory=dict)
    # What earlier migrations of the directory (and this one's UP so far) established. A DOWN
    # section reads the state after UP and does not change it.
    schema: SchemaState = field(default_factory=SchemaState)
    # The statement being checked is SQL inside a PL/pgSQL body (DO block or function).
    in_plpgsql: bool = False
    # Free per-rule scratch space for rules that accumulate over a section (keyed by rule name).
    scratch: dict[str, Any] = field(default_factory=dict)
    # The migrations of the directory, in order, and this migration's position among them (empty
    # for a loose file): read through later_migrations().
    directory: Sequence[Migration] = ()
    position: int = -1

    # -- questions rules ask ------------------------------------------------------------------
    def is_new_table(self, relation: dict | str | None) -> bool:
        """Whether the table was created earlier in this migration (so nobody else uses it yet)."""
        if not self.created_tables:  # most migrations alter tables they did not create
            return False
        name = relation if isinstance(relation, str) else relation_name(relation)
        return bool(name) and name.rsplit(".", 1)[-1] in self.created_tables

    def is_existing_table(self, relation: dict | str | None) -> bool:
        """Whether the table exists before this migration (created earlier or unknown to us)."""
        return not self.is_new_table(relation)

    def can_leave_transaction(self) -> bool:
        """Whether the current statement could be made non-transactional (e.g. by a fix adding
        CONCURRENTLY) and then run outside a transaction block, as the plan of its section says:
        no BEGIN of the file around it, and a tool that would then run it on its own."""
        if self.explicit_depth or self.in_plpgsql or self.statement is None:
            return False
        return self.plan is None or self.plan.could_run_outside(self.statement)

    @property
    def transaction_place(self) -> str:
        """Where the current statement's transaction block comes from, for messages."""
        if self.explicit_depth or self.plan is None:
            return "after BEGIN"
        return self.plan.block_phrase if self.statement is None else self.plan.block_phrase_for(self.statement)

    def later_migrations(self) -> Iterator[Migration]:
        """The migrations of the directory after this one, in order: what a rule may count on
        being built later (an index a later migration creates), read only when a rule asks."""
        return itertools.islice(self.directory, self.position + 1, None) if self.position >= 0 else iter(())

    def setting(self, name: str) -> str | None:
        return self.settings.get(name.lower())

    def has_timeout(self, name: str = "lock_timeout") -> bool:
        """Whether ``SET <name>`` to a non-zero value came earlier in the file."""
        value = self.setting(name)
        if value is None:
            return False
        return value.strip().strip("'\"").lower() not in ("0", "0ms", "0s", "default", "")

    def statement_offset(self, location: int | None) -> int | None:
        """Character offset in ``statement.text`` of a pglast node ``location`` (a byte offset)."""
        statement = self.statement
        if statement is None or location is None or location < 0:
            return None
        if self.in_plpgsql or self.section.parse_errors:
            encoded = statement.text.encode("utf-8")
            offset = len(encoded[:location].decode("utf-8", errors="ignore"))
        else:
            sql = self.section.sql
            if sql.isascii():
                char = location
            else:
                char = len(sql.encode("utf-8")[:location].decode("utf-8", errors="ignore"))
            offset = char - statement.start
        return offset if 0 <= offset <= len(statement.text) else None
