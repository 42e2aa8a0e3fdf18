from __future__ import annotations

from typing import Iterable

from ..sqlnodes import strings, unwrap
from .base import WARNING, Rule, Violation


class BanDomainConstraint(Rule):
    """A CHECK on a domain: added later it scans every column of that domain under lock.

    ## What it does
    Flags `ALTER DOMAIN ... ADD CONSTRAINT` without `NOT VALID`, and `CREATE DOMAIN` with a
    `CHECK` constraint.

    ## Why is this bad?
    Adding a constraint to a domain checks every column of every table that uses the domain,
    holding locks on all of them. A domain's CHECK cannot be changed later without that scan,
    so the rule belongs in a table constraint, which can be replaced with `NOT VALID` +
    `VALIDATE`.

    ## Example
    ```sql
    ALTER DOMAIN positive_amount ADD CONSTRAINT positive CHECK (VALUE > 0);
    ```

    ## Use instead
    ```sql
    ALTER DOMAIN positive_amount ADD CONSTRAINT positive CHECK (VALUE > 0) NOT VALID;
    ALTER DOMAIN positive_amount VALIDATE CONSTRAINT positive;  -- in a later migration
    ```
    or a CHECK constraint on the table's column.
    """

    severity = WARNING
    lock = "SHARE (every table using the domain)"
    node_types = frozenset({"AlterDomainStmt", "CreateDomainStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        if node_type == "CreateDomainStmt":
            if any(unwrap(c)[1].get("contype") == "CONSTR_CHECK" for c in node.get("constraints", ())):
                name = ".".join(strings(node.get("domainname")))
                yield self.violation(f"domain {name} has a CHECK constraint, which cannot be changed later without a full scan",
                                     fix_title="Put the CHECK on the table's column instead")
            return
        if node.get("subtype") == "C":
            constraint = unwrap(node.get("def"))[1]
            if not constraint.get("skip_validation"):
                name = ".".join(strings(node.get("typeName")))
                yield self.violation(f"ALTER DOMAIN {name} ADD CONSTRAINT checks every column using the domain under lock",
                                     fix_title="Add it NOT VALID and VALIDATE it in a later migration")
