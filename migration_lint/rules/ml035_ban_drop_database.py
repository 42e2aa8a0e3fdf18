from __future__ import annotations

from typing import Iterable

from .base import ERROR, Rule, Violation


class BanDropDatabase(Rule):
    """`DROP DATABASE` in a migration.

    ## What it does
    Flags `DROP DATABASE`.

    ## Why is this bad?
    It destroys a whole database, cannot run in a transaction, and has no place in a schema
    migration that runs against every environment.

    ## Example
    ```sql
    DROP DATABASE analytics;
    ```

    ## Use instead
    Drop databases by hand, with a backup, outside the migration history.
    """

    severity = ERROR
    node_types = frozenset({"DropdbStmt"})

    def check(self, node_type: str, node: dict, ctx) -> Iterable[Violation]:
        yield self.violation(f"DROP DATABASE {node.get('dbname')} destroys a whole database",
                             fix_title="Do it by hand, with a backup, outside migrations")
