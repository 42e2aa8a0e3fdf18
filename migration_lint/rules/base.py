"""What a rule is: metadata declared once on the class, a docstring that is its documentation,
and ``check`` over the node types it asked for.

A rule lives in ``migration_lint/rules/mlNNN_kebab_name.py``; its code (``ML001``) and name
(``require-concurrent-index-creation``) come from the module name, its summary from the first
line of its docstring, so none of them is ever typed twice. See ``migration_lint/rules/__init__.py``
for the registry and ``docs/rules/`` for the generated reference pages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator

if TYPE_CHECKING:
    from ..context import LintContext
    from ..model import Migration

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)

# Groups. A rule is in the default set when a deploy can fail, block or lose data because of what
# it finds; the rest is advice, off unless selected (`--select advice`, `extend-select`).
DEFAULT = "default"
ADVICE = "advice"
GROUPS = (DEFAULT, ADVICE)

# Lifecycle of a code (ruff's codes.rs): a removed code keeps its entry and is never reused.
STABLE = "stable"
PREVIEW = "preview"
DEPRECATED = "deprecated"
REMOVED = "removed"

_MODULE_NAME = re.compile(r"^ml(?P<number>\d{3})_(?P<name>[a-z0-9_]+)$")

# The fixed outline of a rule's docstring; the docs generator refuses a rule missing one.
REQUIRED_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead")
OPTIONAL_SECTIONS = ("Lock taken", "Safe on PostgreSQL", "Fix", "Options")


def code_and_name(module_basename: str) -> tuple[str, str]:
    """``ml001_require_concurrent_index_creation`` -> ``("ML001", "require-concurrent-index-creation")``."""
    match = _MODULE_NAME.match(module_basename)
    if match is None:
        raise ValueError(f"rule module {module_basename!r} is not named mlNNN_kebab_name")
    return f"ML{match['number']}", match["name"].replace("_", "-")


@dataclass(frozen=True)
class Edit:
    """Replace ``statement.text[start:end]`` with ``replacement`` (offsets in the statement)."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Option:
    """A setting a rule reads from ``[tool.migration-lint.rules.<rule-name>]``."""

    name: str
    default: Any
    help: str


@dataclass(frozen=True)
class Violation:
    """What a rule yields; the engine turns it into a located :class:`~migration_lint.engine.Finding`.

    ``location`` is a pglast node ``location`` (byte offset as pglast reports it) to point at a
    precise column; without it the finding spans the whole statement. ``statement`` overrides the
    statement being checked (for checks that run at the end of a section or migration).
    """

    message: str
    fix_title: str | None = None
    edits: tuple[Edit, ...] = ()
    location: int | None = None
    statement: Any = None  # parse.Statement
    path: Any = None  # pathlib.Path, for migration-level findings without a statement
    line: int | None = None


class Rule:
    """Base class of every rule. Subclasses set the class attributes and override ``check``."""

    # Derived from the module name by __init_subclass__; never set by hand.
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""

    severity: ClassVar[str] = ERROR
    lifecycle: ClassVar[str] = STABLE
    # The lock the flagged operation takes, as PostgreSQL's docs name it ("ACCESS EXCLUSIVE").
    lock: ClassVar[str | None] = None
    # Node types the rule wants; the engine walks each statement once and hands them over.
    node_types: ClassVar[frozenset[str]] = frozenset()
    # Sections the rule looks at; destructive-change rules skip DOWN, which exists to destroy.
    sections: ClassVar[frozenset[str]] = frozenset({"up", "down"})
    # Also check SQL inside PL/pgSQL bodies (DO blocks, CREATE FUNCTION).
    plpgsql: ClassVar[bool] = False
    # DEFAULT (a deploy can fail, block or lose data because of it) or ADVICE (off unless selected).
    group: ClassVar[str] = DEFAULT
    # Derived from ``group`` by __init_subclass__: an advice rule runs only when selected.
    opt_in: ClassVar[bool] = False
    fixable: ClassVar[bool] = False
    # Its findings depend on the migrations after the one linted (LintContext.later_migrations):
    # the findings cache keys each migration on those too.
    reads_later_migrations: ClassVar[bool] = False
    options: ClassVar[tuple[Option, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        basename = cls.__module__.rsplit(".", 1)[-1]
        if _MODULE_NAME.match(basename):
            cls.code, cls.name = code_and_name(basename)
        cls.node_types = frozenset(cls.node_types)
        cls.sections = frozenset(cls.sections)
        if cls.__dict__.get("opt_in"):  # the older spelling of the advice group
            cls.group = ADVICE
        if cls.group not in GROUPS:
            raise ValueError(f"rule {cls.__name__}: group must be one of {GROUPS}, not {cls.group!r}")
        cls.opt_in = cls.group == ADVICE

    def __init__(self, settings: dict[str, Any] | None = None, severity: str | None = None) -> None:
        self.settings = {option.name: option.default for option in self.options}
        for key, value in (settings or {}).items():
            if key not in self.settings:
                raise ValueError(f"rule {self.name} has no option {key!r}")
            self.settings[key] = value
        if severity is not None:
            self.severity = severity

    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.split("\n", 1)[0].strip()

    @classmethod
    def documentation(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")

    # -- hooks -------------------------------------------------------------------------------
    def check(self, node_type: str, node: dict, ctx: LintContext) -> Iterable[Violation]:
        """Findings for one node of a type named in ``node_types``."""
        return ()

    def end_section(self, ctx: LintContext) -> Iterable[Violation]:
        """Findings once a section (UP or DOWN) has been walked; ``ctx`` is its final state."""
        return ()

    def check_migration(self, migration: Migration, ctx: LintContext) -> Iterable[Violation]:
        """Findings about the migration as a whole (e.g. a missing DOWN), after both sections."""
        return ()

    # -- helpers for subclasses -----------------------------------------------------------------
    def violation(
        self,
        message: str,
        *,
        fix_title: str | None = None,
        edits: Iterable[Edit] = (),
        location: int | None = None,
        statement: Any = None,
    ) -> Violation:
        return Violation(message, fix_title, tuple(edits), location, statement)



def iter_alter_cmds(node: dict) -> Iterator[dict]:
    """The ``AlterTableCmd`` dicts of an ``AlterTableStmt``."""
    for command in node.get("cmds", ()):
        inner = command.get("AlterTableCmd")
        if inner is not None:
            yield inner


def existing_table_cmds(node: dict, ctx: LintContext, *subtypes: str) -> Iterator[dict]:
    """The ``AlterTableCmd`` dicts of an ``AlterTableStmt`` whose subtype is one of ``subtypes``
    (all of them when none is named), and none when the table is created in the same migration:
    such a table has no rows and no readers yet, so rewrites and long locks on it cost nothing."""
    if ctx.is_new_table(node.get("relation")):
        return
    for command in iter_alter_cmds(node):
        if not subtypes or command.get("subtype") in subtypes:
            yield command


# The option and fix of the rules that want a lock_timeout set before a statement that waits for
# a lock: one definition, so the fix inserts the same line whichever rule reports.
LOCK_TIMEOUT_OPTION = Option("timeout", "5s", "the lock_timeout the fix sets")


def set_lock_timeout_edits(rule: Rule) -> tuple[Edit, ...]:
    """``SET lock_timeout = '<the rule's timeout option>';`` inserted before the statement."""
    return (Edit(0, 0, f"SET lock_timeout = '{rule.settings['timeout']}';\n"),)


def missing_lock_timeout(rule: Rule, ctx, message: str,
                         fix_title: str = "SET lock_timeout before the statement") -> Iterator[Violation]:
    """Report ``message`` unless a lock_timeout is in force; once per section, since the fix
    (``SET lock_timeout`` before the statement) covers every statement after it."""
    if ctx.has_timeout("lock_timeout") or ctx.scratch.get(rule.name):
        return
    ctx.scratch[rule.name] = True
    yield rule.violation(message, fix_title=fix_title, edits=set_lock_timeout_edits(rule))
