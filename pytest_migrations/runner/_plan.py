"""What a run will send, step by step, before anything is sent.

A :class:`Plan` is a list of :class:`Step` (one migration, one direction), each a list of
:class:`Command` in the order the executor sends them, tracking writes included. The dry-run
prints the same commands the real run executes, so what it shows is what would happen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import psycopg
from psycopg import sql

from migration_lint.execution import (
    ESCAPED, FILE_BLOCK, IMPLICIT_BLOCK, TOOL_TRANSACTION, ExecutionPlan, plan_section,
)
from migration_lint.model import Migration, Section
from migration_lint.parse import Statement, walk
from migration_lint.transaction import transaction_control

from ._errors import InputError, display_path
from ._indexes import invalid_index_check
from ._lock import lock_sql, migration_lock_key
from ._resume import Resume, records_progress
from ._settings import RunnerSettings
from ._tracking import Tracking

# "script": the whole section as one query (the plan's IMPLICIT_BLOCK mode); "check": the
# runner's own test of what the section left (INVALID indexes), before its record; "repair":
# what a resumed run undoes first (the INVALID index an interrupted build left).
CommandKind = Literal["begin", "commit", "setting", "file", "script", "check", "tracking", "session", "repair"]
Direction = Literal["up", "down"]


@dataclass(frozen=True)
class Command:
    """One thing sent to PostgreSQL: a file statement or SQL composed by the runner."""

    kind: CommandKind
    query: sql.Composable | str
    statement: Statement | None = None  # for kind "file": where it sits in its file

    def render(self, conn: psycopg.Connection) -> str:
        if isinstance(self.query, str):
            return self.query
        return self.query.as_string(conn)


@dataclass
class Step:
    """Apply (``up``) or roll back (``down``) one migration."""

    migration: Migration
    direction: Direction
    plan: ExecutionPlan
    commands: list[Command]
    resume: Resume | None = None  # finishing an interrupted run of it

    @property
    def section(self) -> Section:
        return self.plan.section

    @property
    def transactional(self) -> bool:
        """The runner sends BEGIN and COMMIT around the section and its tracking rows."""
        return self.plan.mode == TOOL_TRANSACTION

    @property
    def commit_line(self) -> int | None:
        """The COMMIT line of the file when the runner's transaction replaced the file's own
        BEGIN ... COMMIT (errors raised at commit point are reported there)."""
        return self.plan.dropped[-1].line if self.plan.dropped else None

    @property
    def label(self) -> str:
        return self.migration.id

    @property
    def records_progress(self) -> bool:
        """Each statement's progress is recorded as it commits: an interruption can be resumed."""
        return records_progress(self.plan)

    @property
    def file_statements(self) -> list[Statement]:
        return [command.statement for command in self.commands if command.statement is not None]


@dataclass
class Plan:
    """The steps of one ``up``, ``down`` or ``redo``, and what setup they need first."""

    action: str
    steps: list[Step] = field(default_factory=list)
    setup: list[Command] = field(default_factory=list)  # creating the tracking tables
    lock_key: int | None = None
    adopt: list[Command] = field(default_factory=list)  # the directory's tool's records, copied

    def render(self, conn: psycopg.Connection) -> list[str]:
        """The plan as SQL text, in the order a real run sends it."""
        lines: list[str] = []
        if self.lock_key is not None:
            lines.append(
                f"-- on a separate connection that holds no transaction: "
                f"SELECT pg_try_advisory_lock({self.lock_key}); (repeated until granted)"
            )
        if self.setup:
            lines.append("-- create the tracking tables")
            lines.extend(command.render(conn) + ";" for command in self.setup)
        if self.adopt:
            lines.append("-- record what the directory's own tool applied, in one transaction")
            commands = [Command("begin", "BEGIN"), *self.adopt, Command("commit", "COMMIT")]
            lines.extend(command.render(conn) + ";" for command in commands)
        for step in self.steps:
            lines.append(f"-- {step.direction} {step.label}: {display_path(step.section.path)}, {step.plan.description}")
            for command in step.commands:
                lines.append(command.render(conn) + ";")
        if self.lock_key is not None:
            lines.append(f"-- SELECT pg_advisory_unlock({self.lock_key});")
        return lines


def sets_setting(section: Section, name: str) -> bool:
    """Whether the script sets ``name`` itself (``SET [LOCAL] name``, ``set_config('name', ...)``)."""
    for statement in section.statements:
        if statement.tree is None:
            continue
        for node_type, fields in walk(statement.tree):
            if node_type == "VariableSetStmt" and fields.get("name") == name:
                return True
            if node_type == "FuncCall" and _function_name(fields) == "set_config":
                arguments = fields.get("args") or []
                if arguments and _string_constant(arguments[0]) == name:
                    return True
    return False


def _function_name(fields: dict) -> str | None:
    names = fields.get("funcname") or []
    if not names:
        return None
    return names[-1].get("String", {}).get("sval")


def _string_constant(node: dict) -> str | None:
    return node.get("A_Const", {}).get("sval", {}).get("sval")


def timeout_settings(section: Section, settings: RunnerSettings, *, local: bool) -> list[Command]:
    commands = []
    for name, value in (("lock_timeout", settings.lock_timeout), ("statement_timeout", settings.statement_timeout)):
        if value is None or sets_setting(section, name):
            continue
        template = "SET LOCAL {} = {}" if local else "SET {} = {}"
        commands.append(Command("setting", sql.SQL(template).format(sql.Identifier(name), sql.Literal(value))))
    return commands


def _with_progress(plan: ExecutionPlan, tracking: Tracking, start: int) -> list[Command]:
    """The file's statements from batch ``start`` on, each batch followed by the count of
    statements done; inside a block of the file, just before the COMMIT that ends it, so that the
    count commits with the block and never without it."""
    commands: list[Command] = []
    done = sum(len(batch.statements) for batch in plan.batches[:start])
    for batch in plan.batches[start:]:
        done += len(batch.statements)
        record = Command("tracking", tracking.record_progress(plan.migration.version.text, done))
        sent = [Command("file", statement.text, statement) for statement in batch.statements]
        if batch.block == FILE_BLOCK and transaction_control(batch.statements[-1]) == "commit":
            commands += [*sent[:-1], record, sent[-1]]
        else:
            commands += [*sent, record]
    return commands


def build_step(migration: Migration, direction: Direction, tracking: Tracking, settings: RunnerSettings,
               *, again: bool = False, resume: Resume | None = None) -> Step:
    """The commands that apply or roll back ``migration``, as the section's execution plan says;
    refuses a section the plan refuses (transaction control that would end the runner's
    transaction and commit the migration without its tracking row). ``again``: a repeatable
    migration applied before, changed since: its record is replaced, its history gets a new row.
    ``resume``: finish an interrupted run of it from where its recorded progress says."""
    plan = plan_section(migration, direction)
    if plan.refusal is not None:
        raise InputError(plan.refusal)
    section = plan.section
    transactional = plan.mode == TOOL_TRANSACTION
    version, name = migration.version.text, migration.name
    progress = direction == "up" and records_progress(plan)
    if plan.mode == IMPLICIT_BLOCK or (plan.mode == ESCAPED and plan.sent_as_one_query):
        file_commands = [Command("script", plan.script)] if plan.statements else []
    elif progress:
        file_commands = _with_progress(plan, tracking, resume.start_batch if resume else 0)
    else:
        file_commands = [Command("file", statement.text, statement) for statement in plan.statements]
    # Before the record: an index the section builds that is INVALID (left by an interrupted
    # build, skipped by IF NOT EXISTS) fails the step instead of being recorded as done.
    index_check = invalid_index_check(section)
    if index_check is not None:
        file_commands.append(Command("check", index_check))
    discard = Command("session", "DISCARD ALL")
    # The record of the earlier application goes in the same transaction (or just before the dirty
    # row) as the new one: the history keeps every application.
    replaced = [tracking.delete(version)] if again else []
    applied_again = "applied again: the repeatable migration changed since it was last applied" if again else None
    if transactional:
        if direction == "up":
            tracking_writes = [
                *replaced,
                tracking.insert_applied(migration, dirty=False),
                tracking.insert_history(
                    version=version, name=name, direction="up", checksum=migration.checksum,
                    outcome="applied", duration=tracking.transaction_duration(), message=applied_again,
                ),
            ]
        else:
            tracking_writes = [
                tracking.delete(version),
                tracking.insert_history(
                    version=version, name=name, direction="down", checksum=migration.checksum,
                    outcome="rolled back", duration=tracking.transaction_duration(),
                ),
            ]
        commands = [
            Command("begin", "BEGIN"),
            *timeout_settings(section, settings, local=True),
            *file_commands,
            *(Command("tracking", query) for query in tracking_writes),
            Command("commit", "COMMIT"),
            discard,
        ]
    else:
        started, duration = tracking.remembered_start(), tracking.session_duration()
        if direction == "up":
            before = [*replaced, tracking.insert_applied(migration, dirty=True, with_progress=progress)] if resume is None else []
            after = [
                tracking.mark_clean_after_up(version, with_progress=progress),
                tracking.insert_history(
                    version=version, name=name, direction="up", checksum=migration.checksum,
                    outcome="applied", started_at=started, duration=duration,
                    message=resume.note if resume is not None else applied_again,
                ),
            ]
        else:
            before = [tracking.mark_dirty(version, "down")]
            after = [
                tracking.insert_history(
                    version=version, name=name, direction="down", checksum=migration.checksum,
                    outcome="rolled back", started_at=started, duration=duration,
                ),
                tracking.delete(version),
            ]
        if plan.mode == ESCAPED:
            # The tool's BEGIN ... COMMIT around the section, as the plan runs it: the dirty mark
            # goes in with the statements the file's COMMIT commits (a failure before that leaves
            # no record), the clean mark with the block the tool's COMMIT ends (or after it all,
            # when nothing reopened a transaction).
            end = [Command("commit", "COMMIT")] if plan.tool_commits_last_block else []
            commands = [
                Command("session", tracking.remember_start()),
                *timeout_settings(section, settings, local=False),
                Command("begin", "BEGIN"),
                *(Command("tracking", query) for query in before),
                *file_commands,
                *(Command("tracking", query) for query in after),
                *end,
                discard,
            ]
        else:
            # While it runs, the session holds the migration's own lock: a run that finds the
            # record dirty can tell an interrupted migration from one still running elsewhere.
            guard = [Command("session", lock_sql(migration_lock_key(settings.schema, settings.table, version)))] if progress else []
            resumed = [
                *(Command("file", statement.text, statement) for statement in resume.replay),
                *(Command("repair", query) for query in resume.repair),
            ] if resume is not None else []
            finish = [Command("tracking", query) for query in after]
            if progress:
                # The clean mark and the history row commit together: a kill between them would
                # leave an application the history does not show.
                finish = [Command("begin", "BEGIN"), *finish, Command("commit", "COMMIT")]
            commands = [
                Command("session", tracking.remember_start()),
                *guard,
                *(Command("tracking", query) for query in before),
                *timeout_settings(section, settings, local=False),
                *resumed,
                *file_commands,
                *finish,
                discard,
            ]
    return Step(migration, direction, plan, commands, resume)
