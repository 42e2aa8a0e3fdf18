"""MySQL and SQLite migrations, read by sqlglot (``migration-lint --dialect mysql|sqlite``).

PostgreSQL stays on pglast (:mod:`migration_lint.engine`); this package only serves other
dialects. The migration model is shared: layouts, sections, versions and suppression comments
are dialect-neutral, so :func:`migration_lint.layouts.discover` reads a MySQL directory as well.
What differs is the parser and the rules: statements are split and parsed with sqlglot
(:mod:`.split`), and the rules of :mod:`.rules` read sqlglot's trees. Findings are the engine's
own :class:`~migration_lint.engine.Finding`, so every reporter works unchanged.

:class:`DialectLinter` has the interface of :class:`migration_lint.engine.Linter` that the CLI
and the language server use (``lint_migrations(migrations, only=...)``), so a run switches
dialect by building the other linter. SQL that sqlglot cannot parse raises
:class:`DialectParseError`, a :class:`~migration_lint.model.MigrationFileError` naming the file,
line and column: an input error (exit 2), not a finding.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from ..config import Config
    from ..engine import Finding
    from ..model import Migration, Section
    from .rules import DialectRule
    from .split import DialectParseError, DialectStatement, split_statements

__all__ = [
    "DIALECTS",
    "DialectLinter",
    "DialectParseError",
    "DialectStatement",
    "build_dialect_rules",
    "dialect_rule_classes",
    "make_linter",
    "split_statements",
]

def __getattr__(name: str) -> Any:
    # The sqlglot splitter is imported when first used: a PostgreSQL run comes here only for
    # make_linter and must not pay for it.
    if name in ("DialectParseError", "DialectStatement", "split_statements"):
        from . import split

        return getattr(split, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ``postgres`` is listed so a CLI can offer one ``--dialect`` choice list; it means "not here".
DIALECTS = ("postgres", "mysql", "sqlite")
SQLGLOT_DIALECTS = ("mysql", "sqlite")


def dialect_rule_classes(dialect: str) -> list[type[DialectRule]]:
    from .rules import rules_for

    if dialect not in SQLGLOT_DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r} (choose from {', '.join(DIALECTS)})")
    return list(rules_for(dialect))


def _selects(selectors: Iterable[str], cls: type[DialectRule]) -> bool:
    for selector in selectors:
        key = selector.strip()
        if key.upper() == "ALL" or key.lower() == cls.name or key.upper() == cls.code:
            return True
        if key.upper().startswith("ML") and cls.code.startswith(key.upper()):
            return True
    return False


def build_dialect_rules(config: Config, dialect: str) -> list[DialectRule]:
    """The dialect's rules enabled by ``config``.

    A rule twinned with a PostgreSQL rule follows that rule's selection (its code is the
    twin's); a MySQL-only rule is on unless ``ignore``-d, or left out of an explicit ``select``.
    """
    from ..config import configured_severities, selected_codes
    from ..rules import code_of

    selected = set(selected_codes(config))
    severities = configured_severities(config)
    rules = []
    for cls in dialect_rule_classes(dialect):
        twinned = code_of(cls.code) is not None
        if twinned:
            enabled = cls.code in selected
        else:
            chosen = config.select is None or _selects(config.select, cls) or _selects(config.extend_select, cls)
            enabled = chosen and not _selects(config.ignore, cls)
        if not enabled:
            continue
        if twinned:  # the twin's severity, keys resolved as for PostgreSQL (groups included)
            severity = severities.get(cls.code)
        else:
            severity = next(
                (level for rule, level in config.severity.items() if _selects([rule], cls) and rule.upper() != "ALL"), None
            )
        rules.append(cls(config.rule_options.get(cls.name), severity))
    return rules


def make_linter(config: Config, dialect: str | None = None, sources: dict[Path, str] | None = None) -> Any:
    """The linter for ``dialect`` (default: the configuration's ``dialect``, else PostgreSQL):
    the engine's pglast ``Linter`` for PostgreSQL, unchanged, or a :class:`DialectLinter` for
    MySQL and SQLite. Raises ``ConfigError`` like ``build_rules``."""
    dialect = dialect or getattr(config, "dialect", None) or "postgres"
    if dialect in ("postgres", "postgresql"):
        from ..config import build_rules
        from ..engine import Linter

        return Linter(build_rules(config), pg_version=config.pg_version,
                      assume_in_transaction=config.assume_in_transaction, sources=sources)
    return DialectLinter.from_config(config, dialect, sources)


class DialectLinter:
    """Lints MySQL or SQLite migrations; the same driving interface as the engine's ``Linter``,
    and the same findings pipeline (:mod:`migration_lint.pipeline`)."""

    def __init__(
        self,
        dialect: str,
        rules: Sequence[DialectRule],
        *,
        sources: dict[Path, str] | None = None,
        pipeline_rules: Sequence[Any] | None = None,
    ) -> None:
        """``pipeline_rules``: the selected ``syntax-error`` and ``unused-suppression`` rules,
        with their configured severities (default: both, at their default severities)."""
        from ..pipeline import FindingsPipeline

        if dialect not in SQLGLOT_DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r} (choose from {', '.join(SQLGLOT_DIALECTS)})")
        self.dialect = dialect
        self.rules = [rule for rule in rules if dialect in rule.dialects]
        if pipeline_rules is None:
            from ..rules import rule_class
            from ..pipeline import PIPELINE_RULES

            pipeline_rules = [rule_class(name)() for name in sorted(PIPELINE_RULES)]
        self.pipeline = FindingsPipeline([*self.rules, *pipeline_rules], sources=sources, rule_name=_rule_name)

    @classmethod
    def from_config(cls, config: Config, dialect: str, sources: dict[Path, str] | None = None) -> DialectLinter:
        from ..config import build_rules
        from ..pipeline import PIPELINE_RULES

        pipeline_rules = [rule for rule in build_rules(config, only=PIPELINE_RULES)]
        return cls(dialect, build_dialect_rules(config, dialect), sources=sources, pipeline_rules=pipeline_rules)

    # -- driving -------------------------------------------------------------------------------
    def lint_migrations(self, migrations: Sequence[Migration], only: Iterable[Migration] | None = None) -> list[Finding]:
        """Findings of ``migrations`` (or of ``only`` those); raises :class:`DialectParseError`."""
        wanted = None if only is None else {id(m) for m in only}
        findings: list[Finding] = []
        for migration in migrations:
            if wanted is None or id(migration) in wanted:
                findings.extend(self.lint_migration(migration))
        return findings

    def lint_migration(self, migration: Migration) -> list[Finding]:
        from .rules import DialectContext

        found: list[tuple[DialectRule, Any, DialectContext]] = []
        created: set[str] = set()
        spans: dict[Path, list[tuple[int, int]]] = {}
        up_ctx = None
        for section in (migration.up, migration.down):
            if section is not None and section.file_text is not None:
                self.pipeline.sources.setdefault(section.path, section.file_text)
        for name, section in (("up", migration.up), ("down", migration.down)):
            if section is None:
                continue
            statements = self.statements(section)
            spans.setdefault(section.path, []).extend((s.line, s.end_line) for s in statements)
            ctx = DialectContext(self.dialect, migration, section, name, created_tables=created if name == "up" else set(created))
            if name == "up":
                up_ctx = ctx
                ctx.first_statement = statements[0] if statements else None
            for statement in statements:
                ctx.statement = statement
                for rule in self.rules:
                    if name in rule.sections:
                        for violation in rule.check_statement(statement, ctx) or ():
                            found.append((rule, violation, _Frozen(ctx, statement)))
                _advance(statement, ctx)
        for rule in self.rules:
            for violation in rule.check_migration(migration, up_ctx) or ():
                found.append((rule, violation, _Frozen(up_ctx, None)))
        findings = [self.pipeline.finding(rule, violation, ctx) for rule, violation, ctx in found]
        return self.pipeline.suppress(migration, findings, spans)

    def statements(self, section: Section) -> list[DialectStatement]:
        from .split import split_statements

        return split_statements(section.sql, self.dialect, section.path, section.first_line)

    def source(self, path: Path) -> str:
        return self.pipeline.source(path)


def _rule_name(name: str) -> str | None:
    """The rule a suppression comment in a MySQL or SQLite file names: a twin of a PostgreSQL
    rule (named as that rule), a dialect-only rule, or ``None``."""
    from ..rules import known_rule
    from .rules import dialect_only_rule

    rule = dialect_only_rule(name) or known_rule(name)
    return rule.name if rule is not None else None


class _Frozen:
    """The parts of the context a finding needs, taken when the rule fired."""

    __slots__ = ("section", "section_name", "statement")

    def __init__(self, ctx: Any, statement: DialectStatement | None) -> None:
        self.section, self.section_name, self.statement = ctx.section, ctx.section_name, statement


def _advance(statement: DialectStatement, ctx: Any) -> None:
    """Record what ``statement`` changes for the statements after it."""
    import re

    from sqlglot import exp

    from .rules import _bare, table_name

    node = statement.expression
    if isinstance(node, exp.Create) and str(node.args.get("kind") or "").upper() == "TABLE":
        ctx.created_tables.add(_bare(table_name(node.this)))
    elif type(node).__name__ == "Command":
        match = re.match(r"\s*CREATE\s+(?:TEMP(?:ORARY)?\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([`\"\w$.]+)", statement.text, re.IGNORECASE)
        if match:
            ctx.created_tables.add(_bare(match[1]))
    elif isinstance(node, exp.Set):
        for match in re.finditer(r"(?:@@(?:session\.)?|SESSION\s+)?(\w+)\s*=\s*'?(\w+)'?", statement.text[3:], re.IGNORECASE):
            ctx.settings[match[1].lower()] = match[2].upper()
