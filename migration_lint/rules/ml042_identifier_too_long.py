from __future__ import annotations

from typing import Iterable

from .base import ADVICE, WARNING, Option, Rule, Violation


class IdentifierTooLong(Rule):
    """An identifier longer than PostgreSQL's 63-byte limit is silently truncated.

    ## What it does
    Flags names of tables, columns, indexes, constraints, schemas, triggers (and new names in
    `RENAME`) longer than `max-bytes` bytes (63, PostgreSQL's `NAMEDATALEN - 1`).

    ## Why is this bad?
    PostgreSQL truncates the name with only a NOTICE: two long names that share their first 63
    bytes collide, and code or later migrations that use the full name do not find the object.

    ## Example
    ```sql
    CREATE INDEX orders_customer_id_created_at_status_shipping_country_region_idx ON orders (customer_id);
    ```

    ## Use instead
    ```sql
    CREATE INDEX orders_customer_created_status_idx ON orders (customer_id);
    ```

    ## Options
    - `max-bytes`: the longest name allowed, in bytes (default 63).
    """

    severity = WARNING
    group = ADVICE
    options = (Option("max-bytes", 63, "the longest identifier allowed, in bytes"),)
    node_types = frozenset({
        "CreateStmt", "IndexStmt", "AlterTableStmt", "RenameStmt", "ViewStmt", "CreateSeqStmt",
        "CreateTableAsStmt", "CreateSchemaStmt", "CreateEnumStmt", "CompositeTypeStmt",
        "CreateFunctionStmt", "CreateTrigStmt", "CreateDomainStmt", "DropStmt",
    })

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        # PostgreSQL's scanner truncates long identifiers before the parse tree is built, so
        # the names are measured in the source text.
        statement = ctx.statement
        if statement is None or statement.node is not node:
            return
        from pglast import parser

        limit = int(self.settings["max-bytes"])
        text = statement.text
        if node_type == "CreateFunctionStmt":
            text = text.split("$", 1)[0]  # the header only, not the body
        try:
            tokens = parser.scan(text)
        except Exception:
            return
        seen = set()
        for token in tokens:
            if token.name != "IDENT":
                continue
            name = text[token.start : token.end + 1].strip('"')
            size = len(name.encode("utf-8"))
            if size > limit and name not in seen:
                seen.add(name)
                yield self.violation(
                    f"identifier {name!r} is {size} bytes; PostgreSQL silently truncates it to {limit}",
                    fix_title=f"Shorten the name to at most {limit} bytes",
                )
