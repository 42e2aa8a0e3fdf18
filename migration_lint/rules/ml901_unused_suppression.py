from __future__ import annotations

from .base import WARNING, Rule


class UnusedSuppression(Rule):
    """A `-- migration-lint:` suppression comment silences nothing.

    ## What it does
    Reports an `ignore[...]`, `disable[...]` or `ignore-file[...]` comment that silenced no
    finding of a rule it names, or that names a rule that does not exist.

    ## Why is this bad?
    A stale suppression hides the next real problem at that place; a misspelled rule name
    silences nothing while looking as if it did.

    ## Example
    ```sql
    -- migration-lint: ignore[require-concurrent-index-creation] table is new
    CREATE TABLE users (id bigint PRIMARY KEY);
    ```

    ## Use instead
    ```sql
    CREATE TABLE users (id bigint PRIMARY KEY);
    ```
    """

    severity = WARNING
