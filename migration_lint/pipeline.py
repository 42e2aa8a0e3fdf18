"""The findings pipeline both linters share: the pglast engine (:mod:`migration_lint.engine`) and
the sqlglot dialects (:mod:`migration_lint.dialects`).

A rule yields :class:`~migration_lint.rules.base.Violation` objects; this module turns them into
located :class:`~migration_lint.finding.Finding` objects (with file edits for ``--fix``), lets
suppression comments silence them, reports the suppressions that silenced nothing or name no
rule, and gives every finding the severity the configuration chose. A linter only walks its own
trees; what a comment or a ``[severity]`` line means is decided here, once, for every dialect.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from .finding import FileEdit, Finding

if TYPE_CHECKING:
    from .model import Migration
    from .rules.base import Rule, Violation

SYNTAX_ERROR = "syntax-error"
UNUSED_SUPPRESSION = "unused-suppression"
# Rules about the file rather than a statement: they run in every dialect, through this pipeline.
PIPELINE_RULES = frozenset({SYNTAX_ERROR, UNUSED_SUPPRESSION})

# (section, statement, pglast location, location relative to the statement) -> (line, column)
Locator = Callable[[Any, Any, int, bool], "tuple[int, int] | None"]


def _postgres_rule_name(name: str) -> str | None:
    from .rules import known_rule

    rule = known_rule(name)
    return rule.name if rule is not None else None


class FindingsPipeline:
    """Violations to findings, suppressions, unused suppressions, severities: for one run.

    ``rules`` are the run's rule instances (their severities already carry the configuration's
    overrides), including the pipeline's own ``syntax-error`` and ``unused-suppression`` when
    they are selected. ``rule_name`` resolves a name or code written in a suppression comment
    to the rule's name, or ``None`` for a rule nobody knows. ``locate`` turns a violation's
    parser location into a file position (the pglast engine's byte offsets); without it a
    finding spans its statement.
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        *,
        sources: dict[Path, str] | None = None,
        rule_name: Callable[[str], str | None] = _postgres_rule_name,
        locate: Locator | None = None,
    ) -> None:
        self.sources: dict[Path, str] = dict(sources or {})
        self._rule_name = rule_name
        self._locate = locate
        self._enabled = {rule.name for rule in rules} | {rule.code for rule in rules}
        self._severity = {rule.name: rule.severity for rule in rules}
        self.report_syntax_errors = SYNTAX_ERROR in self._enabled
        self.report_unused_suppressions = UNUSED_SUPPRESSION in self._enabled
        # Off for a caller that applies the comments itself (the lock tracer, which needs to know
        # which rules flag a statement even where a comment silences them).
        self.apply_suppressions = True

    def severity(self, rule_name: str, default: str = "error") -> str:
        return self._severity.get(rule_name, default)

    def source(self, path: Path) -> str:
        return cached_source(self.sources, path)

    # -- violation to finding ------------------------------------------------------------------
    def finding(self, rule: Rule, violation: Violation, ctx: Any) -> Finding:
        """``violation`` of ``rule`` located in the file; ``ctx`` holds ``section``,
        ``section_name``, ``statement`` (and ``in_plpgsql`` in the pglast engine) as they were
        when the rule fired."""
        statement = violation.statement or getattr(ctx, "statement", None)
        section = ctx.section
        path = violation.path or section.path
        if statement is None:
            line = violation.line or 1
            return Finding(str(path), line, 1, line, 1, rule.code, rule.name, rule.severity,
                           violation.message, violation.fix_title, section=ctx.section_name)
        in_plpgsql = getattr(ctx, "in_plpgsql", False)
        line, column = statement.line, statement.column
        end_line, end_column = statement.end_line, statement.end_column
        if violation.location is not None and self._locate is not None:
            located = self._locate(section, statement, violation.location, bool(section.parse_errors) or in_plpgsql)
            if located is not None:
                line, column = located
                end_line, end_column = line, column
        edits: tuple[FileEdit, ...] = ()
        suggestion = None
        if violation.edits:
            suggestion = apply_statement_edits(statement.text, violation.edits)
            if not section.commented_out and not in_plpgsql:
                edits = file_edits(self.source(section.path), statement, violation.edits)
        return Finding(
            str(path), line, column, end_line, end_column, rule.code, rule.name, rule.severity,
            violation.message, violation.fix_title, edits, suggestion, ctx.section_name,
        )

    def syntax_error(self, path: Path | str, line: int, column: int, message: str, section: str = "up") -> Finding:
        return Finding(str(path), line, column, line, column, "ML900", SYNTAX_ERROR, self.severity(SYNTAX_ERROR),
                       message, section=section)

    # -- suppressions ------------------------------------------------------------------------------
    def suppress(self, migration: Migration, findings: list[Finding], spans: dict[Path, list[tuple[int, int]]]) -> list[Finding]:
        """``findings`` of ``migration`` less those a suppression comment silences, plus the
        report of unused suppressions. ``spans`` are the (first, last) lines of the statements
        of each of the migration's files, which ``ignore`` comments attach to."""
        if not self.apply_suppressions:
            return findings
        from .suppress import find_suppressions, resolve_ranges

        by_path: dict[str, list] = {}
        for path in dict.fromkeys(s.path for s in (migration.up, migration.down) if s is not None):
            text = self.source(path)
            suppressions = find_suppressions(text)
            if not suppressions:
                continue
            resolve_ranges(suppressions, spans.get(path, []), text.count("\n") + 1)
            by_path[str(path)] = suppressions
        if not by_path:
            return findings
        kept = unsuppressed(findings, by_path)
        if self.report_unused_suppressions:
            kept.extend(self._unused(by_path))
        return kept

    def _unused(self, by_path: dict[str, list]) -> list[Finding]:
        severity = self.severity(UNUSED_SUPPRESSION, "warning")
        found = []
        for path, suppressions in by_path.items():
            for suppression in suppressions:
                if suppression.kind == "enable":
                    continue
                problems = []
                for name in suppression.rules:
                    rule_name = self._rule_name(name)
                    if rule_name is None:
                        problems.append(f"unknown rule {name!r}")
                    elif name in self._enabled and rule_name not in suppression.used:
                        problems.append(f"{rule_name} reported nothing here")
                if not suppression.rules and not suppression.used:
                    problems.append("no finding to silence here")
                if problems:
                    found.append(Finding(path, suppression.line, suppression.column, suppression.line,
                                         suppression.column, "ML901", UNUSED_SUPPRESSION, severity,
                                         f"unused suppression: {'; '.join(problems)}",
                                         "Remove the suppression comment"))
        return found


def unsuppressed(findings: Iterable[Finding], by_path: dict[str, list]) -> list[Finding]:
    """The findings that no suppression comment of ``by_path`` (path -> suppressions) covers.
    Every suppression that silences a finding records the rule in ``used``, for the report of
    unused suppressions, so all of them are tried even once one matched."""
    kept = []
    for finding in findings:
        silenced = False
        for suppression in by_path.get(finding.path, ()):
            if suppression.kind != "enable" and suppression.covers(finding.line) and suppression.matches(finding.code, finding.rule):
                suppression.used.add(finding.rule)
                silenced = True
        if not silenced:
            kept.append(finding)
    return kept


def cached_source(sources: dict[Path, str], path: Path) -> str:
    """The text of ``path``, read once into ``sources``; an unreadable file reads as empty so that
    a finding about it is still reported, only without file edits."""
    if path not in sources:
        from .model import read_sql_file

        try:
            sources[path] = read_sql_file(path)
        except Exception:
            sources[path] = ""
    return sources[path]


def _offset_of(text: str, line: int, column: int) -> int | None:
    position = 0
    for _ in range(line - 1):
        position = text.find("\n", position)
        if position < 0:
            return None
        position += 1
    return position + column - 1


def apply_statement_edits(text: str, edits: Sequence[Any]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    return text


def file_edits(text: str, statement: Any, edits: Sequence[Any]) -> tuple[FileEdit, ...]:
    """``edits`` (offsets in ``statement.text``) as offsets in the file ``text``; none when the
    statement is not where its line and column say, as the file changed since it was parsed."""
    base = _offset_of(text, statement.line, statement.column)
    if base is None or text[base : base + len(statement.text)] != statement.text:
        return ()
    return tuple(FileEdit(base + e.start, base + e.end, e.replacement) for e in edits)
