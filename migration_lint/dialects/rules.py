"""The rules that run on MySQL and SQLite migrations, over sqlglot's trees.

The dialect-neutral rules are twins of PostgreSQL rules: they carry the twin's code and name
(``ban-drop-table`` is ``ban-drop-table`` whatever the dialect), so ``--select``, ``--ignore``,
per-file ignores and ``-- migration-lint: ignore[...]`` comments mean the same thing everywhere.
MySQL's online-DDL rules have codes of their own (ML7xx). Each rule's docstring is its
documentation, in the same outline as the PostgreSQL rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator

from ..rules.base import ERROR, WARNING, Edit, Rule, Violation

if TYPE_CHECKING:
    from ..model import Migration, Section
    from .split import DialectStatement


@dataclass
class DialectContext:
    """What is known when a statement is checked; only the dialect linter writes it."""

    dialect: str
    migration: Migration | None
    section: Section
    section_name: str  # "up" or "down"
    statement: DialectStatement | None = None
    # Tables created earlier in this migration (lower-case, without schema).
    created_tables: set[str] = field(default_factory=set)
    # ``SET name = value`` seen earlier in the section (lower-case name -> upper-case value).
    settings: dict[str, str] = field(default_factory=dict)
    first_statement: DialectStatement | None = None

    def is_new_table(self, name: str | None) -> bool:
        return bool(name) and _bare(name) in self.created_tables


def _bare(name: str) -> str:
    return name.strip("`\"[]").rsplit(".", 1)[-1].strip("`\"[]").lower()


class DialectRule(Rule):
    """Base of the rules that read sqlglot trees; ``code``/``name`` are set on each class."""

    dialects: ClassVar[frozenset[str]] = frozenset({"mysql", "sqlite"})
    # Names of the PostgreSQL rule this one mirrors, most likely first; its code is borrowed.
    twins: ClassVar[tuple[str, ...]] = ()
    # The code used while no PostgreSQL twin is registered.
    own_code: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.twins:
            from ..rules import code_of

            for twin in cls.twins:
                code = code_of(twin)
                if code is not None:
                    from ..rules import rule_class

                    # Same code, name and default severity as the PostgreSQL rule.
                    cls.code, cls.name, cls.severity = code, twin, rule_class(code).severity
                    break
            else:
                cls.code, cls.name = cls.own_code, cls.twins[0]
        elif cls.own_code:
            cls.code = cls.own_code

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        return ()

    def check_migration(self, migration: Migration, ctx: Any) -> Iterable[Violation]:
        return ()


# -- helpers over sqlglot trees -------------------------------------------------------------------

def _exp() -> Any:
    from sqlglot import exp

    return exp


def table_name(node: Any) -> str:
    """``name`` of a sqlglot ``Table`` (or of the table inside a ``Schema``), as written."""
    exp = _exp()
    if isinstance(node, exp.Schema):
        node = node.this
    if isinstance(node, exp.Table):
        return node.name
    return getattr(node, "name", "") or ""


def alter_actions(expression: Any) -> list[Any]:
    return list(expression.args.get("actions") or [])


def alter_options(expression: Any) -> dict[str, str]:
    """``{"ALGORITHM": "INPLACE", "LOCK": "NONE"}`` of an ALTER TABLE, upper-cased."""
    exp = _exp()
    found: dict[str, str] = {}
    for option in expression.args.get("options") or []:
        if isinstance(option, exp.AlgorithmProperty):
            found["ALGORITHM"] = option.this.name.upper()
        elif isinstance(option, exp.LockProperty):
            found["LOCK"] = option.this.name.upper()
    return found


def is_alter_table(expression: Any) -> bool:
    exp = _exp()
    return isinstance(expression, exp.Alter) and str(expression.args.get("kind") or "").upper() == "TABLE"


def existing_table_actions(expression: Any, ctx: DialectContext) -> Iterator[tuple[str, Any]]:
    """``(table, action)`` for each action of an ALTER TABLE on a table that existed before this
    migration; nothing otherwise, since a table created in the same migration has no rows or
    readers yet."""
    if not is_alter_table(expression):
        return
    table = table_name(expression.this)
    if ctx.is_new_table(table):
        return
    for action in alter_actions(expression):
        yield table, action


_COMMAND_ALTER = re.compile(r"^\s*ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE\s+(?P<table>(?:`[^`]+`|\"[^\"]+\"|[\w$.]+)+)", re.IGNORECASE)
_COMMAND_RENAME = re.compile(r"^\s*RENAME\s+TABLES?\s+(?P<pairs>.+)$", re.IGNORECASE | re.DOTALL)


def command_alter_table(statement: DialectStatement) -> str | None:
    """The table of an ``ALTER TABLE`` that sqlglot kept as a command (syntax it does not model)."""
    if type(statement.expression).__name__ != "Command":
        return None
    match = _COMMAND_ALTER.match(statement.text)
    return match["table"] if match else None


# -- dialect-neutral rules ------------------------------------------------------------------------

class DialectBanDropTable(DialectRule):
    """`DROP TABLE` in an UP migration deletes data that running code may still use.

    ## What it does
    Flags `DROP TABLE` in an UP section of a MySQL or SQLite migration, unless the table was
    created earlier in the same migration.

    ## Why is this bad?
    The data is gone for good, and the application version still running during a deploy (or
    the one you roll back to) fails on the missing table.

    ## Example
    ```sql
    DROP TABLE legacy_sessions;
    ```

    ## Use instead
    Stop using the table in the code first, deploy, back it up, then drop it in a later
    migration with an explicit suppression:
    ```sql
    -- migration-lint: ignore[ban-drop-table] unused since v2.3, backed up
    DROP TABLE legacy_sessions;
    ```
    """

    twins = ("ban-drop-table",)
    own_code = "ML711"
    severity = ERROR
    sections = frozenset({"up"})

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        exp = _exp()
        node = statement.expression
        if isinstance(node, exp.Drop) and str(node.args.get("kind") or "").upper() == "TABLE":
            names = [table_name(t) for t in node.args.get("tables") or [node.this] if t is not None]
            names = [n for n in names if not ctx.is_new_table(n)]
            if names:
                yield self.violation(
                    f"DROP TABLE {', '.join(names)} deletes data the running application may still use",
                    fix_title="Stop using the table first, then drop it in a later migration",
                )


class DialectBanDropColumn(DialectRule):
    """`DROP COLUMN` in an UP migration deletes data that running code may still read.

    ## What it does
    Flags `ALTER TABLE ... DROP COLUMN` in an UP section of a MySQL or SQLite migration, unless
    the table was created earlier in the same migration.

    ## Why is this bad?
    The application version still running during the deploy selects or inserts the column and
    fails; the data cannot be brought back by a DOWN.

    ## Example
    ```sql
    ALTER TABLE users DROP COLUMN legacy_flags;
    ```

    ## Use instead
    Stop reading and writing the column in the code, deploy, then drop it in a later migration
    with an explicit suppression.
    """

    twins = ("ban-drop-column",)
    own_code = "ML712"
    severity = ERROR
    sections = frozenset({"up"})

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        exp = _exp()
        for table, action in existing_table_actions(statement.expression, ctx):
            if isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
                columns = ", ".join(c.name for c in action.args.get("tables") or [action.this] if c is not None)
                yield self.violation(
                    f"DROP COLUMN {columns} of {table!r} deletes data the running application may still read",
                    fix_title="Stop using the column first, then drop it in a later migration",
                )


# Objects whose DROP takes IF EXISTS in each dialect (MySQL has none for DROP INDEX).
_DROP_KINDS_WITH_IF_EXISTS = {
    "mysql": frozenset({"TABLE", "VIEW", "DATABASE", "SCHEMA", "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"}),
    "sqlite": frozenset({"TABLE", "VIEW", "INDEX", "TRIGGER"}),
}
_DROP_HEAD = re.compile(r"^\s*DROP\s+(?:TEMPORARY\s+)?(?P<kind>[A-Z]+)\s+", re.IGNORECASE)


class DialectRequireIfExists(DialectRule):
    """`DROP` without `IF EXISTS` fails when the object is already gone.

    ## What it does
    Flags `DROP TABLE/VIEW/TRIGGER/...` without `IF EXISTS` in MySQL and SQLite migrations,
    for the object kinds whose `DROP` accepts `IF EXISTS` in that dialect (MySQL's `DROP INDEX`
    does not, so it is not flagged there).

    ## Why is this bad?
    A DOWN that runs after a half-applied UP, or a migration re-run after a manual fix, fails on
    the first object that is not there; `IF EXISTS` makes the step idempotent.

    ## Example
    ```sql
    DROP TABLE audit_log;
    ```

    ## Use instead
    ```sql
    DROP TABLE IF EXISTS audit_log;
    ```

    ## Fix
    Inserts `IF EXISTS`.
    """

    twins = ("require-if-exists",)
    own_code = "ML716"
    severity = WARNING
    fixable = True

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        exp = _exp()
        node = statement.expression
        if not isinstance(node, exp.Drop) or node.args.get("exists"):
            return
        kind = str(node.args.get("kind") or "").upper()
        if kind not in _DROP_KINDS_WITH_IF_EXISTS.get(ctx.dialect, frozenset()):
            return
        match = _DROP_HEAD.match(statement.text)
        edits = ()
        if match is not None and match["kind"].upper() == kind:
            edits = (Edit(match.end(), match.end(), "IF EXISTS "),)
        yield self.violation(f"DROP {kind} without IF EXISTS fails when the object is already gone",
                             fix_title="Add IF EXISTS", edits=edits)


class DialectRenamingTable(DialectRule):
    """Renaming a table breaks the running application, which still uses the old name.

    ## What it does
    Flags `ALTER TABLE ... RENAME TO` and MySQL's `RENAME TABLE` in an UP section, on a table
    that existed before the migration.

    ## Why is this bad?
    During a deploy the old code runs against the new schema: every query that names the table
    fails until the new code is everywhere, and a rollback of the code fails the other way.

    ## Example
    ```sql
    RENAME TABLE customers TO clients;
    ```

    ## Use instead
    Create the new table (or a view with the new name), write to both, move the readers, and
    drop the old one in a later migration.
    """

    twins = ("renaming-table",)
    own_code = "ML717"
    severity = ERROR
    sections = frozenset({"up"})

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        exp = _exp()
        node = statement.expression
        if is_alter_table(node):
            for table, action in existing_table_actions(node, ctx):
                if isinstance(action, exp.AlterRename):
                    yield self.violation(
                        f"renaming table {table!r} to {table_name(action.this)!r} breaks code that still uses the old name",
                        fix_title="Add the new table or a view alongside, move the code, drop the old name later",
                    )
            return
        if type(node).__name__ == "Command":
            match = _COMMAND_RENAME.match(statement.text)
            if match is None:
                return
            for pair in match["pairs"].split(","):
                parts = re.split(r"\s+TO\s+", pair.strip(), flags=re.IGNORECASE)
                if len(parts) == 2 and not ctx.is_new_table(parts[0]):
                    yield self.violation(
                        f"renaming table {parts[0].strip()!r} to {parts[1].strip()!r} breaks code that still uses the old name",
                        fix_title="Add the new table or a view alongside, move the code, drop the old name later",
                    )


class DialectRenamingColumn(DialectRule):
    """Renaming a column breaks the running application, which still uses the old name.

    ## What it does
    Flags `ALTER TABLE ... RENAME COLUMN` and MySQL's `CHANGE old new ...` with a different name,
    in an UP section, on a table that existed before the migration.

    ## Why is this bad?
    During a deploy the old code runs against the new schema and fails on every query that
    names the column.

    ## Example
    ```sql
    ALTER TABLE users RENAME COLUMN mail TO email;
    ```

    ## Use instead
    Add the new column, write to both, backfill, move the readers, then drop the old column in
    a later migration.
    """

    twins = ("renaming-column",)
    own_code = "ML718"
    severity = ERROR
    sections = frozenset({"up"})

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        exp = _exp()
        for table, action in existing_table_actions(statement.expression, ctx):
            old = new = None
            if isinstance(action, exp.RenameColumn):
                old, new = action.this.name, action.args["to"].name
            elif isinstance(action, exp.ModifyColumn) and action.args.get("rename_from") is not None:
                old, new = action.args["rename_from"].name, action.this.name
            if old is not None and new is not None and old.lower() != new.lower():
                yield self.violation(
                    f"renaming column {table}.{old} to {new} breaks code that still uses the old name",
                    fix_title="Add the new column, backfill, move the code, drop the old column later",
                )


class DialectUnboundedDataChange(DialectRule):
    """`UPDATE` or `DELETE` without `WHERE` rewrites every row of an existing table.

    ## What it does
    Flags `UPDATE` and `DELETE` without a `WHERE` clause on a table that was not created earlier
    in the same migration.

    ## Why is this bad?
    A schema migration that touches every row locks them all for the length of the statement
    and, in MySQL, fills the undo log and the binary log in one transaction; on a large table
    that is minutes of blocked writes and replication lag. It is also often a mistake.

    ## Example
    ```sql
    UPDATE users SET plan = 'free';
    ```

    ## Use instead
    Backfill in bounded batches (`WHERE id BETWEEN ...`), from a script or a later data
    migration, and keep the schema change itself cheap.
    """

    twins = ("unbounded-data-change",)
    own_code = "ML719"
    severity = ERROR
    sections = frozenset({"up"})

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        exp = _exp()
        node = statement.expression
        if not isinstance(node, (exp.Update, exp.Delete)) or node.args.get("where") is not None:
            return
        table = table_name(node.this)
        if ctx.is_new_table(table):
            return
        verb = "UPDATE" if isinstance(node, exp.Update) else "DELETE"
        yield self.violation(
            f"{verb} without WHERE touches every row of existing table {table!r}",
            fix_title="Backfill in bounded batches outside the schema migration",
        )


class DialectMissingDown(DialectRule):
    """The migration has no DOWN, so it cannot be rolled back.

    ## What it does
    Flags a versioned MySQL or SQLite migration without a DOWN: no `-- DOWN` section, no
    `.down.sql` file, no `-- +goose Down`, no Flyway undo file.

    ## Why is this bad?
    When the deploy goes wrong there is no tested way back; writing the DOWN while the UP is
    fresh in mind is far cheaper than during an incident.

    ## Example
    ```sql
    -- +goose Up
    ALTER TABLE users ADD COLUMN nickname VARCHAR(40);
    ```

    ## Use instead
    ```sql
    -- +goose Up
    ALTER TABLE users ADD COLUMN nickname VARCHAR(40);
    -- +goose Down
    ALTER TABLE users DROP COLUMN nickname;
    ```
    """

    twins = ("missing-down",)
    own_code = "ML720"
    severity = WARNING

    def check_migration(self, migration: Migration, ctx: Any) -> Iterable[Violation]:
        if migration.down is not None or not migration.version.text:
            return
        first = ctx.first_statement if ctx is not None else None
        yield Violation(
            f"migration {migration.id} has no DOWN, so it cannot be rolled back",
            fix_title="Add a DOWN that undoes the UP",
            statement=first, path=migration.path, line=1 if first is None else None,
        )


# -- MySQL online DDL --------------------------------------------------------------------------------

# What an ALTER TABLE action needs from InnoDB, per MySQL 8.0's online DDL table (checked
# against MariaDB 10.11 in tests/integration/test_dialects.py):
ONLINE = "online"  # ALGORITHM=INPLACE (or INSTANT), LOCK=NONE works
METADATA = "metadata"  # instant whatever is stated; nothing to ask for
BLOCKING = "blocking"  # no LOCK=NONE: the table is copied or writes wait


@dataclass(frozen=True)
class AlterNeed:
    kind: str
    reason: str = ""


def classify_alter(statement: DialectStatement, ctx: DialectContext) -> list[AlterNeed]:
    """What each action of a MySQL ``ALTER TABLE`` needs (see :data:`ONLINE`, ...)."""
    exp = _exp()
    node = statement.expression
    if not is_alter_table(node):
        text = statement.text.upper()
        if re.search(r"\bCONVERT\s+TO\s+(?:CHARACTER\s+SET|CHARSET)\b", text):
            return [AlterNeed(BLOCKING, "CONVERT TO CHARACTER SET converts every row with ALGORITHM=COPY")]
        if re.search(r"\bADD\s+(?:CONSTRAINT\s+\S+\s+)?CHECK\b", text):
            return [AlterNeed(BLOCKING, "adding a CHECK constraint copies the table (ALGORITHM=COPY)")]
        if re.search(r"\bADD\s+(?:FULLTEXT|SPATIAL)\b", text):
            return [AlterNeed(BLOCKING, "a FULLTEXT or SPATIAL index cannot be built with LOCK=NONE")]
        return [AlterNeed(ONLINE)]
    actions = alter_actions(node)
    needs: list[AlterNeed] = []
    adds_primary_key = any(
        isinstance(a, exp.AddConstraint) and any(isinstance(e, exp.PrimaryKey) for e in a.expressions)
        for a in actions
    )
    for action in actions:
        if isinstance(action, exp.ColumnDef):
            constraints = [c.args.get("kind") for c in action.args.get("constraints") or []]
            if any(isinstance(c, exp.AutoIncrementColumnConstraint) for c in constraints):
                needs.append(AlterNeed(BLOCKING, "adding an AUTO_INCREMENT column blocks writes for the whole rebuild"))
            elif any(isinstance(c, exp.ComputedColumnConstraint) and c.args.get("persisted") for c in constraints):
                needs.append(AlterNeed(BLOCKING, "adding a STORED generated column copies the table (ALGORITHM=COPY)"))
            else:
                needs.append(AlterNeed(ONLINE))
        elif isinstance(action, exp.DropPrimaryKey):
            if adds_primary_key:
                needs.append(AlterNeed(ONLINE))
            else:
                needs.append(AlterNeed(BLOCKING, "dropping the primary key without adding one copies the table (ALGORITHM=COPY)"))
        elif isinstance(action, exp.AddConstraint):
            for constraint in action.expressions:
                inner = constraint.expressions[0] if isinstance(constraint, exp.Constraint) and constraint.expressions else constraint
                if isinstance(inner, exp.IndexColumnConstraint) and str(inner.args.get("kind") or "").upper() in ("FULLTEXT", "SPATIAL"):
                    needs.append(AlterNeed(BLOCKING, f"a {str(inner.args.get('kind')).upper()} index cannot be built with LOCK=NONE"))
                elif isinstance(inner, exp.ForeignKey):
                    if ctx.settings.get("foreign_key_checks") in ("0", "OFF"):
                        needs.append(AlterNeed(ONLINE))
                    else:
                        needs.append(AlterNeed(BLOCKING, "adding a foreign key copies the table unless foreign_key_checks=0 (ALGORITHM=COPY)"))
                elif isinstance(inner, exp.CheckColumnConstraint) or (
                    isinstance(constraint, exp.Constraint) and re.search(r"\bCHECK\b", constraint.sql("mysql"), re.IGNORECASE)
                ):
                    needs.append(AlterNeed(BLOCKING, "adding a CHECK constraint copies the table (ALGORITHM=COPY)"))
                else:
                    needs.append(AlterNeed(ONLINE))
        elif isinstance(action, exp.ModifyColumn):
            # A changed data type needs COPY, a new name, default, nullability or a longer
            # VARCHAR does not; the old type is not known here, so ask for INPLACE and let
            # MySQL refuse (rather than copy) if the type changes.
            needs.append(AlterNeed(ONLINE))
        elif isinstance(action, exp.Drop):
            kind = str(action.args.get("kind") or "").upper()
            needs.append(AlterNeed(ONLINE if kind == "COLUMN" else METADATA))
        elif isinstance(action, exp.RenameColumn):
            needs.append(AlterNeed(ONLINE))
        elif isinstance(action, (exp.AlterRename, exp.RenameIndex, exp.AlterIndex)):
            needs.append(AlterNeed(METADATA))
        elif isinstance(action, exp.AlterColumn):
            default_only = action.args.get("default") is not None or action.args.get("drop") is not None
            needs.append(AlterNeed(METADATA if default_only else ONLINE))
        else:
            needs.append(AlterNeed(ONLINE))
    options = node.args.get("options") or []
    table_options = [o for o in options if not isinstance(o, (exp.AlgorithmProperty, exp.LockProperty))]
    for option in table_options:
        if isinstance(option, (exp.SchemaCommentProperty, exp.AutoIncrementProperty)):
            needs.append(AlterNeed(METADATA))
        else:
            needs.append(AlterNeed(ONLINE))  # ENGINE=, ROW_FORMAT=, ... rebuild in place
    return needs


def _online_target(statement: DialectStatement, ctx: DialectContext) -> tuple[str, str] | None:
    """``(kind, table)`` when ``statement`` is DDL the online rules look at on an existing table."""
    exp = _exp()
    node = statement.expression
    if is_alter_table(node):
        table = table_name(node.this)
        return None if ctx.is_new_table(table) else ("alter", table)
    command_table = command_alter_table(statement)
    if command_table is not None:
        return None if ctx.is_new_table(command_table) else ("alter", command_table)
    if isinstance(node, exp.Create) and str(node.args.get("kind") or "").upper() == "INDEX":
        index = node.this
        table = table_name(index.args.get("table")) if isinstance(index, exp.Index) else ""
        return None if not table or ctx.is_new_table(table) else ("index", table)
    return None


def stated_options(statement: DialectStatement) -> dict[str, str]:
    node = statement.expression
    if is_alter_table(node):
        return alter_options(node)
    if statement.options:
        return dict(statement.options)
    found = {}
    for match in re.finditer(r"\b(ALGORITHM|LOCK)\s*=\s*(\w+)", statement.text, re.IGNORECASE):
        found[match[1].upper()] = match[2].upper()
    return found


def _is_online(options: dict[str, str]) -> bool:
    algorithm, lock = options.get("ALGORITHM"), options.get("LOCK")
    if algorithm == "INSTANT":
        return lock in (None, "DEFAULT")  # MySQL refuses any other LOCK with INSTANT
    return algorithm in ("INPLACE", "NOCOPY") and lock == "NONE"


class MysqlRequireOnlineDdl(DialectRule):
    """MySQL `ALTER TABLE` without `ALGORITHM=INPLACE, LOCK=NONE` may copy the table and block writes.

    ## What it does
    Flags `ALTER TABLE` and `CREATE INDEX` on an existing MySQL table that do not state
    `ALGORITHM=INPLACE, LOCK=NONE` (or `ALGORITHM=INSTANT`), for operations InnoDB can do
    online: adding or dropping columns and indexes, renaming columns, changing a column's
    nullability or length, rebuilding with `ENGINE=`/`ROW_FORMAT=`. Metadata-only changes
    (renaming a table or an index, dropping an index or a foreign key, defaults, comments) are
    not flagged; operations that can never run with `LOCK=NONE` are `mysql-blocking-alter`.

    ## Why is this bad?
    Without the clauses MySQL silently picks the cheapest algorithm it supports, which for a
    changed column type or a server older than you think is `COPY`: the table is rebuilt while
    writes wait. Stating `ALGORITHM=INPLACE, LOCK=NONE` turns that surprise into an immediate
    error, before anything is locked.

    ## Lock taken
    With `LOCK=NONE`: a brief metadata lock at the start and the end only. Without it: up to
    a shared lock (writes blocked) for the whole rebuild.

    ## Example
    ```sql
    ALTER TABLE orders ADD COLUMN shipped_at DATETIME NULL;
    CREATE INDEX orders_customer_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD COLUMN shipped_at DATETIME NULL, ALGORITHM=INPLACE, LOCK=NONE;
    CREATE INDEX orders_customer_idx ON orders (customer_id) ALGORITHM=INPLACE LOCK=NONE;
    ```

    ## Fix
    Appends the missing `ALGORITHM=INPLACE` and `LOCK=NONE` clauses.
    """

    own_code = "ML701"
    name = "mysql-require-online-ddl"
    dialects = frozenset({"mysql"})
    severity = ERROR
    lock = "SHARED (writes blocked) when MySQL falls back to ALGORITHM=COPY"
    fixable = True

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        target = _online_target(statement, ctx)
        if target is None:
            return
        kind, table = target
        options = stated_options(statement)
        if _is_online(options):
            return
        if kind == "alter":
            needs = classify_alter(statement, ctx)
            if not needs or any(n.kind == BLOCKING for n in needs) or all(n.kind == METADATA for n in needs):
                return
        if options.get("ALGORITHM") in ("COPY",) or options.get("LOCK") in ("SHARED", "EXCLUSIVE"):
            return  # stated on purpose: mysql-blocking-alter reports it
        missing = []
        if options.get("ALGORITHM") not in ("INPLACE", "INSTANT", "NOCOPY"):
            missing.append("ALGORITHM=INPLACE")
        if options.get("LOCK") != "NONE":
            missing.append("LOCK=NONE")
        separator = ", " if kind == "alter" else " "
        edits = (Edit(len(statement.text), len(statement.text), separator + separator.join(missing)),)
        what = "ALTER TABLE" if kind == "alter" else "CREATE INDEX"
        yield self.violation(
            f"{what} on existing table {table!r} without {' and '.join(missing)}: MySQL may copy the table and block writes",
            fix_title=f"Add {', '.join(missing)} so MySQL refuses instead of locking",
            edits=edits,
        )


class MysqlBlockingAlter(DialectRule):
    """This MySQL `ALTER TABLE` cannot run with `LOCK=NONE`: it copies the table or blocks writes.

    ## What it does
    Flags `ALTER TABLE` on an existing MySQL table for operations InnoDB cannot do online:
    changing the character set of the rows (`CONVERT TO CHARACTER SET`), adding a foreign key
    while `foreign_key_checks` is on, adding a `CHECK` constraint, a `FULLTEXT` or `SPATIAL`
    index, a `STORED` generated column or an `AUTO_INCREMENT` column, dropping the primary key
    without adding another, and any statement that asks for `ALGORITHM=COPY` or
    `LOCK=SHARED/EXCLUSIVE` itself.

    ## Why is this bad?
    The whole table is rebuilt (or indexed) while writes wait: on a large table that is an
    outage of minutes to hours, and replicas lag behind by as long.

    ## Lock taken
    SHARED or EXCLUSIVE on the table for the whole operation.

    ## Example
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
    ```

    ## Use instead
    Run the change with an online schema change tool (gh-ost, pt-online-schema-change), or for
    a foreign key on trusted data:
    ```sql
    SET foreign_key_checks = 0;
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id), ALGORITHM=INPLACE, LOCK=NONE;
    SET foreign_key_checks = 1;
    ```
    """

    own_code = "ML702"
    name = "mysql-blocking-alter"
    dialects = frozenset({"mysql"})
    severity = ERROR
    lock = "SHARED or EXCLUSIVE for the whole table copy"

    def check_statement(self, statement: DialectStatement, ctx: DialectContext) -> Iterable[Violation]:
        target = _online_target(statement, ctx)
        if target is None:
            return
        _, table = target
        options = stated_options(statement)
        if options.get("ALGORITHM") == "COPY" or options.get("LOCK") in ("SHARED", "EXCLUSIVE"):
            stated = ", ".join(f"{k}={v}" for k, v in options.items())
            yield self.violation(f"{stated} on existing table {table!r} blocks writes for the whole operation",
                                 fix_title="Use ALGORITHM=INPLACE, LOCK=NONE, or an online schema change tool")
            return
        if target[0] != "alter":
            return
        for need in classify_alter(statement, ctx):
            if need.kind == BLOCKING:
                yield self.violation(f"{need.reason} on existing table {table!r}; writes wait until it finishes",
                                     fix_title="Use an online schema change tool (gh-ost, pt-online-schema-change)")


DIALECT_RULES: tuple[type[DialectRule], ...] = (
    DialectBanDropTable,
    DialectBanDropColumn,
    DialectRequireIfExists,
    DialectRenamingTable,
    DialectRenamingColumn,
    DialectUnboundedDataChange,
    DialectMissingDown,
    MysqlRequireOnlineDdl,
    MysqlBlockingAlter,
)


def rules_for(dialect: str) -> Iterator[type[DialectRule]]:
    return (cls for cls in DIALECT_RULES if dialect in cls.dialects)


def dialect_only_rule(selector: str) -> type[DialectRule] | None:
    """The MySQL/SQLite-only rule named by code or name (``ML701``, ``mysql-require-online-ddl``);
    ``None`` for anything else, including the twins, which the PostgreSQL registry knows."""
    key = selector.strip()
    for cls in DIALECT_RULES:
        if not cls.twins and (key.upper() == cls.code or key.lower() == cls.name):
            return cls
    return None


def rule_class_of(code: str, dialect: str | None = "postgres") -> type | None:
    """The rule behind a finding's code: the dialect's own rule for MySQL/SQLite (its
    documentation shows that dialect's SQL), else the PostgreSQL rule."""
    from ..rules import known_rule

    if dialect not in (None, "postgres"):
        for cls in DIALECT_RULES:
            if cls.code == code and dialect in cls.dialects:
                return cls
    cls = known_rule(code)
    if cls is not None and cls.code == code:
        return cls
    return next((c for c in DIALECT_RULES if c.code == code), None)
