"""How a migration section runs: the one decision the linter, the runner, the round trip and the
tracer all read.

:func:`plan_section` turns a section, its direction and the rule of the tool that owns the layout
(``Migration.transaction_rule``, see :data:`migration_lint.model.TRANSACTION_RULES`) into an
:class:`ExecutionPlan`:

- the mode: inside a transaction the tool opens (:data:`TOOL_TRANSACTION`), sent as one
  multi-statement query that PostgreSQL runs in its implicit transaction block
  (:data:`IMPLICIT_BLOCK`), statement by statement as written, outside any transaction but the
  file's own ``BEGIN ... COMMIT`` (:data:`STATEMENT_BY_STATEMENT`), or between the tool's BEGIN
  and COMMIT with the file's own ``COMMIT; ... BEGIN;`` stepping out of the tool's transaction
  (:data:`ESCAPED`);
- the batches of statements to send, each with the transaction block it runs in;
- why (the marker, the statement, the file's own transaction control, or the tool's rule), and,
  when the tool itself would break on the section, why it is refused.

The rules, as the tools run a section:

``detect`` (this project's runner, Flyway)
    one transaction, unless the file is marked no-transaction, holds a statement PostgreSQL refuses
    inside a transaction block, or writes transaction control of its own other than one
    ``BEGIN ... COMMIT`` around the whole script (which the tool's transaction replaces): then the
    file runs as written, statement by statement, its own blocks included.
``wrap`` (sqlx, goose, sql-migrate, dbmate, Diesel)
    always one transaction the tool opens, unless the file is marked no-transaction. A
    ``CREATE INDEX CONCURRENTLY`` there fails, as it will in production. The tool sends the
    section between its BEGIN and its COMMIT whatever it holds, so a ``COMMIT`` of the file ends
    the tool's transaction and what follows runs as PostgreSQL runs it there (:data:`ESCAPED`):
    goose and sql-migrate send each statement on its own, so the statements up to the file's next
    ``BEGIN`` run in autocommit (a ``CREATE INDEX CONCURRENTLY`` there works); dbmate, sqlx and
    Diesel send the section as one query (``Migration.sent_as_one_query``), so they run in that
    query's implicit block. The tool's COMMIT closes the file's last ``BEGIN``, or finds no
    transaction (PostgreSQL warns). A ``ROLLBACK`` (the tool would record a migration whose
    first part it undid), two-phase commit, or a savepoint outside any block is refused.
``implicit`` (golang-migrate)
    the file goes to the server as one simple query. PostgreSQL runs a query of several statements
    in one implicit transaction block (all or nothing; a lone statement runs on its own, so
    ``CREATE INDEX CONCURRENTLY`` alone in a file works and beside anything else fails); a
    ``COMMIT`` or ``ROLLBACK`` in the file ends the block and the statements after it form the
    next one, and a ``BEGIN`` turns the current block into an explicit one.
``split`` (golang-migrate with ``x-multi-statement=true``)
    the tool cuts the file at every ``;`` (quotes, dollar quotes and comments not understood) and
    sends each piece on its own: statement by statement, as written. A ``;`` inside a statement
    (a function body, a string, a comment) cuts it in two, which the tool would send broken: refused.

A file linted on its own, outside any migration directory (no version), runs as ``psql -f`` runs
it: as written, statement by statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .transaction import non_transactional_reason, transaction_control

if TYPE_CHECKING:
    from .model import Migration, Section
    from .parse import Statement

TOOL_TRANSACTION = "transaction"
IMPLICIT_BLOCK = "implicit"
STATEMENT_BY_STATEMENT = "statements"
ESCAPED = "escaped"  # the tool's BEGIN ... COMMIT around a section whose own COMMIT steps out of it

# The rule of a file linted alone, outside a migration directory: psql -f.
AS_WRITTEN = "as-written"

# Why a plan is what it is.
BY_MARKER = "marker"  # the file says it runs outside a transaction
BY_STATEMENT = "statement"  # a statement PostgreSQL refuses inside a transaction block
BY_FILE = "file"  # the file's own BEGIN/COMMIT
BY_RULE = "rule"  # the tool's rule, nothing in the file changes it

# Kinds of transaction block a batch runs in.
TOOL_BLOCK = "tool"  # the tool sends BEGIN before the batch and COMMIT after it (ESCAPED: the file's COMMIT ends it)
FILE_BLOCK = "file"  # the file's own BEGIN ... COMMIT, sent as written (ESCAPED: the tool's COMMIT may end it)
IMPLICIT = "implicit"  # one multi-statement query: PostgreSQL's implicit block(s)

# Transaction control a section may keep inside the tool's transaction: it cannot end it.
_INSIDE_A_TRANSACTION = frozenset({"savepoint", "release", "rollback to"})
_ENDS_A_BLOCK = frozenset({"commit", "rollback", "prepare transaction"})


@dataclass(frozen=True)
class Batch:
    """Statements sent together, and the transaction block they run in (``None``: the one
    statement of the batch runs on its own, in autocommit)."""

    statements: tuple[Statement, ...]
    block: str | None


@dataclass(frozen=True)
class ExecutionPlan:
    """How one section of a migration runs (see the module's docstring)."""

    migration: Migration
    direction: str  # "up" or "down"
    section: Section
    rule: str
    mode: str
    batches: tuple[Batch, ...]
    cause: str
    reason: str
    # Why the tool itself would break on this section (transaction control that ends the tool's
    # transaction), or ``None``. Every tool refuses a refused plan with this text.
    refusal: str | None = None
    # The file's BEGIN and COMMIT around the whole script, which the tool's transaction replaces.
    dropped: tuple[Statement, ...] = ()
    # ESCAPED: the tool sends the section as one query (``Migration.sent_as_one_query``), and its
    # COMMIT at the end closes the section's last block (else it finds no transaction open).
    sent_as_one_query: bool = False
    tool_commits_last_block: bool = False

    # -- what the tools ask ----------------------------------------------------------------------
    @property
    def in_tool_transaction(self) -> bool:
        """The tool opens a transaction around the section, which the file's own BEGIN does not
        replace (under ``detect`` the tool's transaction takes the place of the file's pair)."""
        return self.mode == TOOL_TRANSACTION and not (self.dropped and self.rule == "detect")

    @property
    def whole_section_in_block(self) -> bool:
        """Every statement of the section runs inside a transaction block."""
        if self.mode == TOOL_TRANSACTION:
            return True
        return self.mode == IMPLICIT_BLOCK and len(self.section.statements) > 1

    @property
    def atomic(self) -> bool:
        """The section runs all or nothing, and runs the same inside a transaction a caller opens
        (which the round trip rolls back): in the tool's transaction, or as one query whose
        implicit block no transaction control of the file ends or no lone statement escapes."""
        if self.refusal is not None:
            return False
        if self.mode == TOOL_TRANSACTION:
            return True
        if self.mode != IMPLICIT_BLOCK:
            return False
        statements = self.section.statements
        if any(transaction_control(s) is not None for s in statements):
            return False
        return len(statements) > 1 or not any(non_transactional_reason(s) for s in statements)

    @property
    def statements(self) -> list[Statement]:
        """Every statement sent, in order (the file's own transaction control included, the
        dropped outer pair not)."""
        return [statement for batch in self.batches for statement in batch.statements]

    @property
    def script(self) -> str:
        """The text of an :data:`IMPLICIT_BLOCK` section as the tool sends it: the section as
        written, in one query."""
        return self.section.sql

    @property
    def escape(self) -> Statement | None:
        """The file's COMMIT that ends the tool's transaction in an :data:`ESCAPED` plan."""
        if self.mode != ESCAPED or not self.batches or self.batches[0].block != TOOL_BLOCK:
            return None
        return self.batches[0].statements[-1]

    def block_of(self, statement: Statement) -> str | None:
        """The kind of transaction block ``statement`` runs in, as the plan's batches say
        (``None``: on its own, in autocommit)."""
        for batch in self.batches:
            if any(s is statement for s in batch.statements):
                return batch.block
        return None

    @property
    def description(self) -> str:
        """How the section runs, in a few words (the dry-run and the reports print it)."""
        if self.mode == ESCAPED:
            escape = self.escape
            where = f" at line {escape.line}" if escape is not None else ""
            return f"in one transaction, which the file's own COMMIT{where} ends (what follows runs outside it)"
        if self.mode == TOOL_TRANSACTION:
            return "in one transaction" + (" (the file's own BEGIN/COMMIT removed)" if self.dropped else "")
        if self.mode == IMPLICIT_BLOCK:
            if len(self.section.statements) > 1:
                return "as one query, in PostgreSQL's implicit transaction block"
            return "as one query of one statement, outside a transaction block"
        return "outside a transaction, statement by statement"

    @property
    def block_phrase(self) -> str:
        """Where a statement of a section that runs in a block as a whole runs, for messages."""
        if self.mode == IMPLICIT_BLOCK:
            return "in the implicit transaction block PostgreSQL runs a query of several statements in"
        return "in the transaction the migration tool opens around it"

    def block_phrase_for(self, statement: Statement) -> str:
        """Where ``statement`` runs in a block, for messages (an :data:`ESCAPED` section runs
        in several)."""
        if self.mode != ESCAPED:
            return self.block_phrase
        block = self.block_of(statement)
        if block == IMPLICIT:
            return "in the implicit transaction block of the query the migration tool sends, after the file's COMMIT"
        if block == FILE_BLOCK:
            return "after BEGIN"
        return "in the transaction the migration tool opens around it"

    def statement_at(self, position: int | None) -> Statement | None:
        """The statement of the section, sent as one query, at the 1-based character
        ``position`` of a PostgreSQL error (``None`` without one)."""
        if not position:
            return None
        offset = position - 1
        for statement in self.section.statements:
            if statement.start <= offset < max(statement.end, statement.start + 1):
                return statement
        before = [s for s in self.section.statements if s.start <= offset]
        return before[-1] if before else None

    def refused_in_block(self) -> Statement | None:
        """The first statement PostgreSQL refuses inside a transaction block, if any: in a query
        of several statements, the one an error "cannot run inside a transaction block" is about."""
        return next((s for s in self.section.statements if non_transactional_reason(s)), None)

    def could_run_outside(self, statement: Statement) -> bool:
        """Whether ``statement``, made non-transactional (a fix adding CONCURRENTLY), would then
        run outside a transaction block, without making the rest of the section lose its
        transaction. The caller checks the file's own open BEGIN."""
        if self.mode == STATEMENT_BY_STATEMENT:
            return True
        if self.mode == ESCAPED:
            return self.block_of(statement) is None
        if self.mode == IMPLICIT_BLOCK:
            return len(self.section.statements) == 1
        if self.rule != "detect" or self.cause not in (BY_RULE, BY_FILE):
            return False  # the tool wraps the section whatever it holds
        others = [s for s in self.section.statements if s is not statement and s.kind != "VariableSetStmt"]
        return not others


def plan_section(migration: Migration, direction: str, *, rule: str | None = None) -> ExecutionPlan:
    """How the ``direction`` (``"up"`` or ``"down"``) section of ``migration`` runs.

    ``rule`` overrides the layout's rule (the linter's ``--assume-in-transaction`` says
    ``"wrap"``). Raises ``ValueError`` for a missing section or an unknown rule.
    """
    section = migration.up if direction == "up" else migration.down if direction == "down" else None
    if section is None:
        raise ValueError(f"{migration.id} has no {direction} section")
    if rule is None:
        rule = migration.transaction_rule if migration.version.text else AS_WRITTEN
    statements = section.statements

    def plan(mode: str, batches: tuple[Batch, ...], cause: str, reason: str, **more: object) -> ExecutionPlan:
        return ExecutionPlan(migration, direction, section, rule, mode, batches, cause, reason, **more)  # type: ignore[arg-type]

    # Some tools read the mark per direction (dbmate's transaction:false, sql-migrate's notransaction).
    if migration.down_marked_no_transaction if direction == "down" else migration.no_transaction_marker:
        return plan(STATEMENT_BY_STATEMENT, _as_written(statements), BY_MARKER,
                    f"{migration.id} is marked to run outside a transaction")
    if rule == AS_WRITTEN:
        return plan(STATEMENT_BY_STATEMENT, _as_written(statements), BY_RULE,
                    "a file outside a migration directory runs as written, as psql -f runs it")
    if rule == "split":
        return plan(STATEMENT_BY_STATEMENT, _as_written(statements), BY_RULE,
                    "the tool cuts the file at every ';' and sends each piece on its own, in no transaction"
                    " but the file's own", refusal=_cut_statement(migration, section))
    if rule == "implicit":
        block = IMPLICIT if len(statements) > 1 else None
        reason = (
            "the tool sends the file as one query, which PostgreSQL runs in one implicit transaction block"
            if block else "the tool sends the file as one query, and its one statement runs on its own"
        )
        return plan(IMPLICIT_BLOCK, (Batch(statements, block),) if statements else (), BY_RULE, reason)
    if rule not in ("detect", "wrap"):
        raise ValueError(f"unknown transaction rule {rule!r}")

    if rule == "detect":
        for statement in statements:
            why = non_transactional_reason(statement)
            if why:
                return plan(STATEMENT_BY_STATEMENT, _as_written(statements), BY_STATEMENT,
                            f"{why} at {_where(section, statement)} cannot run inside a transaction block")
    controls = [s for s in statements if transaction_control(s) is not None]
    outer = _outer_pair(statements)
    if outer:
        kept = tuple(s for s in statements if s not in outer)
        if rule == "detect":
            return plan(TOOL_TRANSACTION, (Batch(kept, TOOL_BLOCK),) if kept else (), BY_FILE,
                        "the file's BEGIN ... COMMIT around the whole script becomes the tool's transaction",
                        dropped=outer)
        # The tool's own BEGIN comes first: PostgreSQL ignores the file's with a warning, and the
        # file's COMMIT commits the tool's transaction just before the tool would. Sent without
        # the pair, the section does the same.
        return plan(TOOL_TRANSACTION, (Batch(kept, TOOL_BLOCK),) if kept else (), BY_RULE,
                    "the tool runs each migration in one transaction (the file's own BEGIN ... COMMIT"
                    " around it nests in the tool's)", dropped=outer)
    breaking = [s for s in controls if transaction_control(s) not in _INSIDE_A_TRANSACTION]
    if breaking and rule == "detect":
        first = breaking[0]
        return plan(STATEMENT_BY_STATEMENT, _as_written(statements), BY_FILE,
                    f"{_where(section, first)} writes its own {_keyword(first)}: the file runs as written")
    if breaking and migration.version.text and rule == migration.transaction_rule:
        # The tool sends the section between its BEGIN and COMMIT whatever it holds: run it as
        # PostgreSQL runs it there.
        escaped = _escaped(migration, section, statements)
        if escaped is None or isinstance(escaped, str):
            return plan(TOOL_TRANSACTION, (Batch(statements, TOOL_BLOCK),), BY_RULE,
                        "the tool runs each migration in one transaction (a BEGIN of the file inside it"
                        " only warns)", refusal=escaped)
        batches, closed, reason = escaped
        return plan(ESCAPED, batches, BY_FILE, reason, sent_as_one_query=migration.sent_as_one_query,
                    tool_commits_last_block=closed)
    if breaking:
        # Only assumed to run in a transaction (``--assume-in-transaction``): no tool to follow.
        ending = [s for s in breaking if transaction_control(s) in _ENDS_A_BLOCK]
        first = (ending or breaking)[0]
        what = "would end" if ending else "would nest in"
        return plan(TOOL_TRANSACTION, (Batch(statements, TOOL_BLOCK),), BY_RULE,
                    "the tool runs each migration in one transaction",
                    refusal=(f"{_where(section, first)}: {_keyword(first)} {what} the transaction the migration"
                             f" tool opens around {migration.id}; remove the file's own transaction control,"
                             " or mark the migration to run outside a transaction"))
    return plan(TOOL_TRANSACTION, (Batch(statements, TOOL_BLOCK),) if statements else (), BY_RULE,
                "the tool runs each migration in one transaction")


def _escaped(migration: Migration, section: Section,
             statements: tuple[Statement, ...]) -> tuple[tuple[Batch, ...], bool, str] | str | None:
    """The batches of a section whose own transaction control steps out of the transaction the
    tool opens around it, as PostgreSQL runs them between the tool's BEGIN and COMMIT: the
    batches, whether the tool's COMMIT closes the last one, and why; or why the tool would break
    on it (a refusal); ``None`` when no COMMIT of the file ends the tool's transaction (its
    BEGINs only warn)."""
    tool, one_query = migration.layout or "the migration tool", migration.sent_as_one_query
    batches: list[Batch] = []
    current: list[Statement] = []
    block: str | None = TOOL_BLOCK  # the block the next statement runs in; None: autocommit
    first_commit: Statement | None = None
    explicit_in_query = False
    for statement in statements:
        control = transaction_control(statement)
        where = _where(section, statement)
        # Only read once a COMMIT has ended the tool's block (block None or IMPLICIT).
        commit_line = first_commit.line if first_commit is not None else None
        if control in ("prepare transaction", "commit prepared", "rollback prepared"):
            return (f"{where}: {_keyword(statement)} in a migration {tool} runs in its transaction: two-phase"
                    " commit cannot be part of a migration; remove it")
        if block is None:  # after the file's COMMIT, each statement on its own (goose, sql-migrate)
            if control == "begin":
                block, current = FILE_BLOCK, [statement]
            elif control in _INSIDE_A_TRANSACTION:
                return (f"{where}: {_keyword(statement)} outside a transaction block fails in PostgreSQL: the"
                        f" COMMIT at line {commit_line} ended {tool}'s transaction and no BEGIN opened another")
            else:  # a statement, or a COMMIT or ROLLBACK with nothing to end (PostgreSQL warns)
                batches.append(Batch((statement,), None))
            continue
        if control == "rollback":
            return (f"{where}: ROLLBACK undoes the statements before it in the transaction {tool} opens around"
                    f" {migration.id}, yet {tool} goes on and records {migration.id} as applied; remove the"
                    " ROLLBACK (or mark the migration to run outside a transaction)")
        if control in ("savepoint", "release", "rollback to") and block == IMPLICIT:
            return (f"{where}: {_keyword(statement)} fails in PostgreSQL in the implicit block of the query"
                    f" {tool} sends: the COMMIT at line {commit_line} ended {tool}'s transaction")
        current.append(statement)
        if control == "begin" and block == IMPLICIT:
            # PostgreSQL turns the query's implicit block into an explicit one: the statements
            # before the BEGIN and after it form one transaction, still a batch of the query.
            block = FILE_BLOCK
            explicit_in_query = True
        elif control == "commit":
            # A BEGIN inside a block only warns; a COMMIT ends the block, the tool's one included.
            first_commit = first_commit or statement
            batches.append(Batch(tuple(current), IMPLICIT if explicit_in_query else block))
            current, block, explicit_in_query = [], IMPLICIT if one_query else None, False
    if first_commit is None:
        return None
    closed = block in (TOOL_BLOCK, FILE_BLOCK)
    if current:
        batches.append(Batch(tuple(current), IMPLICIT if explicit_in_query else block))
    alone = [s for b in batches if b.block is None for s in b.statements if transaction_control(s) is None]
    if one_query:
        after = f"the statements after it run in the implicit transaction block of the one query {tool} sends"
    elif alone:
        after = f"the statements from line {alone[0].line} run on their own, outside a transaction"
    else:
        after = "a BEGIN of the file opens the next transaction"
    end = (f"; {tool}'s COMMIT ends the block the file's last BEGIN opened" if closed else
           f"; nothing opens a transaction again, so {tool}'s COMMIT finds none (PostgreSQL warns)")
    reason = (f"{tool} runs {migration.id} in one transaction, which the file's COMMIT at line"
              f" {first_commit.line} ends: {after}{end}")
    return tuple(batches), closed, reason


def _cut_statement(migration: Migration, section: Section) -> str | None:
    """Why the pieces a cut at every ``;`` makes are not the section's statements (the tool
    would send a statement in parts), or ``None``."""
    if section.parse_errors or ";" not in section.sql:
        return None  # PostgreSQL will say what it makes of text that does not parse anyway
    from .parse import split_statements

    text, start = section.sql, 0
    ends = {text.find(";", statement.end) for statement in section.statements}
    while start < len(text):
        cut = text.find(";", start)
        end = len(text) if cut < 0 else cut + 1
        piece = text[start:end]
        if any(statement.error for statement in split_statements(piece)):
            # The culprit: the last ';' up to here that ends no statement (in a body, a string,
            # or a comment whose rest of the line then starts the next piece).
            inner = [i for i in range(end) if text[i] == ";" and i not in ends]
            line = section.first_line + text.count("\n", 0, inner[-1] if inner else end - 1)
            return (f"{section.path}:{line}: golang-migrate with x-multi-statement cuts {migration.id} at every"
                    " ';', and this one is inside a statement (a function body, a string or a comment), so the"
                    " tool would send that statement in two broken parts; move the ';' out, or drop"
                    " x-multi-statement")
        start = end
    return None


def _outer_pair(statements: tuple[Statement, ...]) -> tuple[Statement, ...]:
    """The file's BEGIN and COMMIT when they wrap the whole script (only settings outside them,
    only savepoints between them), else ``()``."""
    controls = [i for i, s in enumerate(statements) if transaction_control(s) is not None]
    if len(controls) < 2:
        return ()
    first, last = controls[0], controls[-1]
    if transaction_control(statements[first]) != "begin" or transaction_control(statements[last]) != "commit":
        return ()
    # ``SET lock_timeout = '5s'; BEGIN; ... COMMIT;``: a session setting before or after the pair
    # means the same inside the tool's transaction.
    if not all(s.kind == "VariableSetStmt" for s in statements[:first] + statements[last + 1 :]):
        return ()
    if any(transaction_control(statements[i]) not in _INSIDE_A_TRANSACTION for i in controls[1:-1]):
        return ()
    return (statements[first], statements[last])


def _as_written(statements: tuple[Statement, ...]) -> tuple[Batch, ...]:
    """Statement by statement; a ``BEGIN ... COMMIT`` of the file is one batch in its own block."""
    batches: list[Batch] = []
    block: list[Statement] | None = None
    for statement in statements:
        control = transaction_control(statement)
        if block is not None:
            block.append(statement)
            if control in _ENDS_A_BLOCK:
                batches.append(Batch(tuple(block), FILE_BLOCK))
                block = None
        elif control == "begin":
            block = [statement]
        else:
            batches.append(Batch((statement,), None))
    if block is not None:  # never committed: psql rolls it back when the session ends
        batches.append(Batch(tuple(block), FILE_BLOCK))
    return tuple(batches)


def implicit_blocks(statements: tuple[Statement, ...] | list[Statement]) -> list[list[Statement]]:
    """The transaction blocks PostgreSQL forms for one query of several ``statements``: a COMMIT
    or ROLLBACK ends a block (a BEGIN only turns the current one explicit), and the statements
    after it form the next."""
    blocks: list[list[Statement]] = [[]]
    for statement in statements:
        blocks[-1].append(statement)
        if transaction_control(statement) in _ENDS_A_BLOCK:
            blocks.append([])
    return [block for block in blocks if block]


def _keyword(statement: Statement) -> str:
    words = statement.text.split(None, 1)
    return words[0].upper() if words else (transaction_control(statement) or "").upper()


def _where(section: Section, statement: Statement) -> str:
    return f"{section.path}:{statement.line}"
