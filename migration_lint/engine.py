"""The lint engine: one walk per statement, dispatch by node type, and the context rules see.

Rule authors need three things from here: :class:`LintContext` (what is known when a statement
is checked; it lives in :mod:`migration_lint.context`), :class:`Finding` (what comes out) and
:class:`Linter` (how a run is driven). A rule itself is a subclass of
:class:`migration_lint.rules.base.Rule`; the engine imports the rules' base, never the reverse.

The engine reads a directory's migrations in version order and carries a
:class:`~migration_lint.schema_state.SchemaState` forward, so a rule knows what earlier migrations
established. Within a migration it tracks tables created so far, settings (``SET lock_timeout``),
explicit ``BEGIN``/``COMMIT`` and the locks held by the open transaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .context import LintContext
from .execution import ESCAPED, plan_section
from .finding import FileEdit, Finding  # re-exported: rule authors and tests import them from here
from .locks import ACCESS_EXCLUSIVE, table_locks
from .pipeline import FindingsPipeline
from .rules.base import Rule, Violation
from .schema_state import SchemaState
from .sqlnodes import relation_name

if TYPE_CHECKING:
    from .model import Migration, Section
    from .parse import Statement

DEFAULT_PG_VERSION = 13


class Linter:
    """A configured run: the rules, the PostgreSQL version and the transaction assumption."""

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        pg_version: int = DEFAULT_PG_VERSION,
        assume_in_transaction: bool = False,
        sources: dict[Path, str] | None = None,
    ) -> None:
        self.rules = list(rules)
        self.pg_version = pg_version
        self.assume_in_transaction = assume_in_transaction
        self.pipeline = FindingsPipeline(self.rules, sources=sources, locate=_locate)
        # Per (section, inside PL/pgSQL): statement-level dispatch ("*Stmt" types and "*", which
        # means every statement) and nested dispatch (any other node type, found by a walk).
        self._by_type: dict[tuple[str, bool], _Dispatch] = {}
        for section_name in ("up", "down"):
            for plpgsql in (False, True):
                top: dict[str, list[Rule]] = {}
                nested: dict[str, list[Rule]] = {}
                for rule in self.rules:
                    if section_name not in rule.sections or (plpgsql and not rule.plpgsql):
                        continue
                    for node_type in rule.node_types:
                        table = top if node_type == "*" or node_type.endswith("Stmt") else nested
                        table.setdefault(node_type, []).append(rule)
                # One list per statement type, its own rules then the "*" ones, made once here
                # rather than looked up twice for each of thousands of statements.
                every = top.pop("*", [])
                by_kind = {kind: rules + every for kind, rules in top.items()}
                self._by_type[(section_name, plpgsql)] = _Dispatch(by_kind, every, nested)
        self._section_enders = [r for r in self.rules if type(r).end_section is not Rule.end_section]
        self._migration_checkers = [r for r in self.rules if type(r).check_migration is not Rule.check_migration]
        self._wants_plpgsql = any(rule.plpgsql for rule in self.rules)

    # -- driving -------------------------------------------------------------------------------
    def lint_migrations(
        self, migrations: Sequence[Migration], only: Iterable[Migration] | None = None
    ) -> list[Finding]:
        """Lint ``migrations`` in order (state carried forward); with ``only``, lint just those
        and read the ones before them for context. The ones after the last linted are not read,
        unless a rule asks what later migrations do (:meth:`LintContext.later_migrations`)."""
        wanted = None if only is None else {id(m) for m in only}
        schema = SchemaState()
        findings: list[Finding] = []
        last = len(migrations) - 1
        if wanted is not None:
            last = max((i for i, m in enumerate(migrations) if id(m) in wanted), default=-1)
        for position, migration in enumerate(migrations[: last + 1]):
            try:
                if wanted is None or id(migration) in wanted:
                    found, schema = self.lint_migration(migration, schema, directory=(migrations, position))
                    findings.extend(found)
                else:
                    schema = self.replay(migration, schema)
            except RecursionError:
                # pglast's JSON tree of a very deeply nested statement is deeper than Python's
                # json module decodes; report it instead of failing the whole run.
                if wanted is None or id(migration) in wanted:
                    findings.append(self.pipeline.syntax_error(
                        migration.path, 1, 1,
                        "a statement is nested too deeply to analyse (its parse tree exceeds the recursion limit)",
                    ))
        return findings

    def replay(self, migration: Migration, schema: SchemaState) -> SchemaState:
        """Advance ``schema`` (in place) past ``migration``'s UP, without checking anything."""
        for statement in migration.up.statements:
            if statement.tree is not None:
                schema.apply(statement.kind, statement.node)
        return schema

    def lint_migration(
        self,
        migration: Migration,
        schema: SchemaState | None = None,
        *,
        directory: tuple[Sequence[Migration], int] | None = None,
    ) -> tuple[list[Finding], SchemaState]:
        """Findings of one migration; ``schema`` (the state before it) is advanced past its UP.
        ``directory``: the migrations of its directory and its position among them."""
        after_up = schema if schema is not None else SchemaState()
        for section in (migration.up, migration.down):
            if section is not None and section.file_text is not None:
                self.pipeline.sources.setdefault(section.path, section.file_text)
        violations: list[tuple[Rule, Violation, LintContext]] = []
        up_ctx = self._lint_section(migration, migration.up, "up", after_up, violations, directory=directory)
        if migration.down is not None:
            # The DOWN undoes this migration: the tables its UP created count as new there too.
            self._lint_section(
                migration, migration.down, "down", after_up, violations, set(up_ctx.created_tables), directory=directory
            )
        for rule in self._migration_checkers:
            for violation in self._safely(rule, lambda r=rule: r.check_migration(migration, up_ctx), up_ctx):
                violations.append((rule, violation, up_ctx))
        findings = [self.pipeline.finding(rule, violation, ctx) for rule, violation, ctx in violations]
        findings.extend(self._syntax_errors(migration))
        spans: dict[Path, list[tuple[int, int]]] = {}
        for section in (migration.up, migration.down):
            if section is not None:
                spans.setdefault(section.path, []).extend((st.line, st.end_line) for st in section.statements)
        return self.pipeline.suppress(migration, findings, spans), after_up

    # -- one section ---------------------------------------------------------------------------
    def _lint_section(
        self,
        migration: Migration,
        section: Section,
        section_name: str,
        schema: SchemaState,
        out: list,
        created_tables: set[str] | None = None,
        *,
        directory: tuple[Sequence[Migration], int] | None = None,
    ) -> LintContext:
        plan = plan_section(migration, section_name, rule="wrap" if self.assume_in_transaction else None)
        block = plan.whole_section_in_block
        ctx = LintContext(
            self.pg_version, migration, section, section_name, created_tables=created_tables or set(),
            plan=plan, wrapped=plan.in_tool_transaction, schema=schema,
        )
        if directory is not None:
            ctx.directory, ctx.position = directory
        dispatch = self._by_type[(section_name, False)]
        plpgsql_dispatch = self._by_type[(section_name, True)] if self._wants_plpgsql else _NO_DISPATCH
        # An escaped section runs in several blocks and between them in autocommit: its batches say where.
        blocks = {id(s): b.block for b in plan.batches for s in b.statements} if plan.mode == ESCAPED else None
        for index, statement in enumerate(section.statements):
            ctx.statement, ctx.index = statement, index
            if blocks is None:
                ctx.in_transaction = block or ctx.explicit_depth > 0
            else:
                ctx.in_transaction = blocks.get(id(statement)) is not None
            tree = statement.tree
            if tree is None:
                continue
            self._dispatch(tree, dispatch, ctx, out)
            if plpgsql_dispatch.wants_any and statement.kind in ("DoStmt", "CreateFunctionStmt"):
                self._walk_plpgsql(statement, plpgsql_dispatch, ctx, out)
            self._advance(statement, ctx)
        ctx.statement = None
        for rule in self._section_enders:
            if section_name in rule.sections:
                for violation in self._safely(rule, lambda r=rule: r.end_section(ctx), ctx):
                    out.append((rule, violation, ctx))
        return ctx

    def _dispatch(self, tree: dict, dispatch: _Dispatch, ctx: LintContext, out: list) -> None:
        """Hand one statement to the rules: its own node to statement-level rules, then (only
        when some rule wants a nested node type) every nested node by one walk of the tree."""
        kind, node = next(iter(tree.items()))
        # The body of _call, inlined: this loop runs once per rule per statement.
        for rule in dispatch.by_kind.get(kind, dispatch.every):
            try:
                found = rule.check(kind, node, ctx)
                if found:
                    snapshot = None
                    for violation in found:
                        if snapshot is None:
                            snapshot = _Snapshot.of(ctx, ctx.statement)
                        out.append((rule, violation, snapshot))
            except Exception as error:  # a rule bug must not hide the other rules' findings
                out.append((rule, _internal_error(rule, error), _Snapshot.of(ctx, ctx.statement)))
        if dispatch.nested:
            self._walk(node, dispatch.nested, ctx, out)

    def _call(self, rule: Rule, kind: str, node: dict, ctx: LintContext, out: list) -> None:
        try:
            found = rule.check(kind, node, ctx)
            if found:
                snapshot = None
                for violation in found:
                    if snapshot is None:
                        snapshot = _Snapshot.of(ctx, ctx.statement)
                    out.append((rule, violation, snapshot))
        except Exception as error:  # a rule bug must not hide the other rules' findings
            out.append((rule, _internal_error(rule, error), _Snapshot.of(ctx, ctx.statement)))

    def _walk(self, tree: Any, dispatch: dict[str, list[Rule]], ctx: LintContext, out: list) -> None:
        stack = [tree]
        pop, push = stack.pop, stack.append
        while stack:
            current = pop()
            if type(current) is dict:
                for key, value in current.items():
                    kind = type(value)
                    if kind is dict:
                        rules = dispatch.get(key)
                        if rules:
                            for rule in rules:
                                self._call(rule, key, value, ctx, out)
                        push(value)
                    elif kind is list:
                        push(value)
            elif type(current) is list:
                stack.extend(current)

    def _walk_plpgsql(self, statement: Statement, dispatch: _Dispatch, ctx: LintContext, out: list) -> None:
        from .parse import Statement as _Statement, parse_plpgsql
        from pglast import parser as _pg

        queries: list[str] = []
        _collect_plpgsql_queries(parse_plpgsql(statement.text), queries)
        if not queries:
            return
        outer_in_transaction = ctx.in_transaction
        search_from = 0
        for query in queries:
            try:
                parsed = json.loads(_pg.parse_sql_json(query))
            except (_pg.ParseError, ValueError):
                continue
            offset = statement.text.find(query, search_from)
            if offset >= 0:
                search_from = offset + len(query)
            else:
                offset = 0
            line = statement.line + statement.text.count("\n", 0, offset)
            line_start = statement.text.rfind("\n", 0, offset)
            column = offset + 1 if line_start < 0 else offset - line_start
            for raw in parsed.get("stmts", ()):
                inner = _Statement(query, statement.start + offset, statement.start + offset + len(query),
                                   line, column if line_start >= 0 else statement.column + offset,
                                   line + query.count("\n"), column + len(query), raw["stmt"])
                ctx.statement, ctx.in_plpgsql = inner, True
                # A DO block runs inside the migration's transaction; a function body runs later,
                # in whatever transaction calls it.
                ctx.in_transaction = outer_in_transaction if statement.kind == "DoStmt" else True
                self._dispatch(raw["stmt"], dispatch, ctx, out)
        ctx.statement, ctx.in_plpgsql, ctx.in_transaction = statement, False, outer_in_transaction

    def _advance(self, statement: Statement, ctx: LintContext) -> None:
        """Record what ``statement`` changes for the statements after it."""
        kind, node = statement.kind, statement.node
        if kind == "TransactionStmt":
            control = node.get("kind", "")
            if control in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
                ctx.explicit_depth += 1
            elif control in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE"):
                ctx.explicit_depth = 0
                ctx.exclusive_locks.clear()
                ctx.settings = {k: v for k, v in ctx.settings.items() if not k.startswith("local:")}
            return
        if kind == "VariableSetStmt":
            name = (node.get("name") or "").lower()
            if node.get("kind") == "VAR_SET_VALUE":
                from .sqlnodes import setting_value

                value = setting_value(node.get("args")) or ""
                ctx.settings[name] = value
                if node.get("is_local"):
                    ctx.settings["local:" + name] = value
            elif node.get("kind") in ("VAR_SET_DEFAULT", "VAR_RESET"):
                ctx.settings.pop(name, None)
            elif node.get("kind") == "VAR_RESET_ALL":
                ctx.settings.clear()
            return
        if kind == "CreateStmt":
            ctx.created_tables.add(relation_name(node.get("relation")))
        elif kind == "CreateTableAsStmt":
            ctx.created_tables.add(relation_name((node.get("into") or {}).get("rel")))
        if ctx.in_transaction:
            for table, level in table_locks(kind, node):
                if level == ACCESS_EXCLUSIVE and table and not ctx.is_new_table(table):
                    ctx.exclusive_locks.setdefault(table.rsplit(".", 1)[-1], statement)
        if ctx.section_name == "up":
            ctx.schema.apply(kind, node)

    # -- turning violations into findings --------------------------------------------------------
    def _safely(self, rule: Rule, call: Any, ctx: LintContext) -> Iterable[Violation]:
        try:
            return list(call() or ())
        except Exception as error:  # a rule bug must not hide the other rules' findings
            return [_internal_error(rule, error)]

    def source(self, path: Path) -> str:
        return self.pipeline.source(path)

    def _syntax_errors(self, migration: Migration) -> list[Finding]:
        if not self.pipeline.report_syntax_errors:
            return []
        found = []
        for name, section in (("up", migration.up), ("down", migration.down)):
            if section is None:
                continue
            for statement in section.parse_errors:
                error = statement.error
                line, column = statement.line, statement.column
                if error is not None:
                    located = _char_location(section, error.offset)
                    if located:
                        line, column = located
                message = error.message if error else "syntax error"
                found.append(self.pipeline.syntax_error(section.path, line, column,
                                                        f"PostgreSQL cannot parse this: {message}", name))
        return found


class _Dispatch:
    """Which rules see a statement of each type (``every``: types no rule names) and which see
    nested nodes (by node type)."""

    __slots__ = ("by_kind", "every", "nested", "wants_any")

    def __init__(self, by_kind: dict[str, list[Rule]], every: list[Rule], nested: dict[str, list[Rule]]) -> None:
        self.by_kind, self.every, self.nested = by_kind, every, nested
        self.wants_any = bool(by_kind or every or nested)


_NO_DISPATCH = _Dispatch({}, [], {})


def _internal_error(rule: Rule, error: Exception) -> Violation:
    return Violation(f"internal error in rule {rule.name}: {type(error).__name__}: {error}")


class _Snapshot:
    """The parts of the context a finding needs, frozen at the moment the rule fired."""

    __slots__ = ("section", "section_name", "statement", "in_plpgsql")

    @classmethod
    def of(cls, ctx: LintContext, statement: Statement | None) -> _Snapshot:
        snapshot = cls()
        snapshot.section, snapshot.section_name = ctx.section, ctx.section_name
        snapshot.statement, snapshot.in_plpgsql = ctx.statement or statement, ctx.in_plpgsql
        return snapshot


def _collect_plpgsql_queries(node: Any, out: list[str]) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                if key in ("sqlstmt",) and isinstance(value, dict):
                    query = value.get("PLpgSQL_expr", {}).get("query")
                    if query:
                        out.append(query)
                elif key == "PLpgSQL_stmt_dynexecute" and isinstance(value, dict):
                    query = value.get("query", {}).get("PLpgSQL_expr", {}).get("query", "")
                    literal = _string_literal(query)
                    if literal:
                        out.append(literal)
                if isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(current, list):
            stack.extend(reversed(current))


def _string_literal(expression: str) -> str | None:
    text = expression.strip()
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'" and "'" not in text[1:-1].replace("''", ""):
        return text[1:-1].replace("''", "'")
    return None


def _locate(section: Section, statement: Statement, location: int, fragment_relative: bool) -> tuple[int, int] | None:
    """File (line, column) of a pglast byte ``location`` of ``statement``'s tree."""
    sql = section.sql
    if fragment_relative:
        encoded = statement.text.encode("utf-8")
        if location > len(encoded):
            return None
        char = statement.start + len(encoded[:location].decode("utf-8", errors="ignore"))
    else:
        encoded = sql.encode("utf-8")
        if location > len(encoded):
            return None
        char = location if len(encoded) == len(sql) else len(encoded[:location].decode("utf-8", errors="ignore"))
    if not statement.start <= char <= statement.end:
        return None
    return _char_location(section, char)


def _char_location(section: Section, char: int) -> tuple[int, int] | None:
    sql = section.sql
    if char > len(sql):
        return None
    line = section.first_line + sql.count("\n", 0, char)
    line_start = sql.rfind("\n", 0, char) + 1
    return line, char - line_start + 1

