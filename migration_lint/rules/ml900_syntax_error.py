from __future__ import annotations

from .base import ERROR, Rule


class SyntaxError_(Rule):
    """PostgreSQL's parser rejects the statement.

    ## What it does
    Reports every statement PostgreSQL's own parser (through pglast) cannot parse, with the file,
    the line and PostgreSQL's message.

    ## Why is this bad?
    The migration fails when it runs; and the linter cannot check a statement it cannot read, so
    every other rule is blind to it.

    ## Example
    ```sql
    ALTER TABLE users ADD COLUMN email text NOT NULL DEFALT '';
    ```

    ## Use instead
    ```sql
    ALTER TABLE users ADD COLUMN email text NOT NULL DEFAULT '';
    ```
    """

    severity = ERROR
