from __future__ import annotations

from typing import Iterable

from ..sqlnodes import qualified_name, type_name, unwrap
from .base import ERROR, Edit, Rule, Violation, iter_alter_cmds


_SERIAL = frozenset({"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"})


def _column_has_values(column: dict) -> bool:
    """Whether a column added to existing rows gets values in them: a default (a serial's
    included) or a stored generated expression. PostgreSQL validates a REFERENCES of such a column
    by reading the table; of any other (identity included) it knows every value is NULL."""
    if type_name(column.get("typeName")) in _SERIAL:
        return True
    return any(unwrap(item)[1].get("contype") in ("CONSTR_DEFAULT", "CONSTR_GENERATED")
               for item in column.get("constraints", ()))


class ConstraintMissingNotValid(Rule):
    """`ADD CONSTRAINT` (foreign key or CHECK) without `NOT VALID` scans the table under a lock.

    ## What it does
    Flags `ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY` or `CHECK` on an existing table
    without `NOT VALID`; `ADD COLUMN ... CHECK`, and `ADD COLUMN ... REFERENCES` with a
    `DEFAULT` (a serial or a stored generated column too), which cannot be NOT VALID; and a
    `VALIDATE CONSTRAINT` in the same transaction as the `ADD CONSTRAINT ... NOT VALID` it
    validates. `ADD COLUMN ... REFERENCES` without a default is not flagged: the new column is
    NULL in every row, and PostgreSQL marks the key valid without reading the table.

    ## Why is this bad?
    Adding a valid constraint checks every row while holding the lock: ACCESS EXCLUSIVE for a
    CHECK (no reads or writes), SHARE ROW EXCLUSIVE on both tables for a foreign key (no
    writes). Validating in the same transaction keeps the first lock through the scan, which
    gains nothing.

    ## Lock taken
    ACCESS EXCLUSIVE (CHECK) or SHARE ROW EXCLUSIVE on both tables (FOREIGN KEY), for the scan.

    ## Example
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
        FOREIGN KEY (customer_id) REFERENCES customers (id);
    ```

    ## Use instead
    ```sql
    ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
        FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    -- in a later migration (another transaction):
    ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    ```
    `VALIDATE CONSTRAINT` takes only a SHARE UPDATE EXCLUSIVE lock: reads and writes go on.

    ## Fix
    Appends `NOT VALID` to a single `ADD CONSTRAINT`; validating it is left to a later migration.
    """

    severity = ERROR
    lock = "ACCESS EXCLUSIVE / SHARE ROW EXCLUSIVE"
    node_types = frozenset({"AlterTableStmt"})
    fixable = True

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        table = qualified_name(node.get("relation"))
        pending = ctx.scratch.setdefault(self.name, {})
        if not ctx.in_transaction:
            pending.clear()
        commands = list(iter_alter_cmds(node))
        for command in commands:
            subtype = command.get("subtype")
            if subtype == "AT_ValidateConstraint":
                if ctx.in_transaction and (table, command.get("name")) in pending:
                    yield self.violation(
                        f"VALIDATE CONSTRAINT {command.get('name')} runs in the same transaction as the "
                        f"ADD CONSTRAINT ... NOT VALID that created it (line {pending[(table, command.get('name'))]}), "
                        "so the table stays locked through the scan",
                        fix_title="Validate the constraint in a later migration",
                    )
                continue
            if subtype == "AT_AddColumn" and not ctx.is_new_table(node.get("relation")):
                _, column = unwrap(command.get("def"))
                for item in column.get("constraints", ()):
                    inline = unwrap(item)[1]
                    if inline.get("contype") == "CONSTR_FOREIGN" and not _column_has_values(column):
                        continue  # every row holds NULL: PostgreSQL marks the key valid without a scan
                    if inline.get("contype") in ("CONSTR_FOREIGN", "CONSTR_CHECK") and not inline.get("skip_validation"):
                        what = "REFERENCES" if inline["contype"] == "CONSTR_FOREIGN" else "CHECK"
                        yield self.violation(
                            f"ADD COLUMN {column.get('colname')} ... {what} on {table!r} validates the constraint "
                            "against every row while holding the lock",
                            fix_title="Add the column, then the constraint NOT VALID, and VALIDATE it in a later migration",
                            location=inline.get("location"),
                        )
                continue
            if subtype != "AT_AddConstraint":
                continue
            kind, constraint = unwrap(command.get("def"))
            contype = constraint.get("contype")
            if contype not in ("CONSTR_FOREIGN", "CONSTR_CHECK"):
                continue
            if constraint.get("skip_validation"):
                if ctx.in_transaction and constraint.get("conname") and ctx.statement is not None:
                    pending[(table, constraint["conname"])] = ctx.statement.line
                continue
            if ctx.is_new_table(node.get("relation")):
                continue
            what = "FOREIGN KEY" if contype == "CONSTR_FOREIGN" else "CHECK"
            edits = ()
            if len(commands) == 1 and ctx.statement is not None and not ctx.in_plpgsql:
                end = len(ctx.statement.text.rstrip().rstrip(";").rstrip())
                edits = (Edit(end, end, " NOT VALID"),)
            yield self.violation(
                f"ADD CONSTRAINT {what} on {table!r} without NOT VALID checks every row while holding the lock",
                fix_title="Add the constraint NOT VALID, then VALIDATE CONSTRAINT in a later migration",
                edits=edits,
                location=constraint.get("location"),
            )
