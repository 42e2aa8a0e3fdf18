from __future__ import annotations

from typing import Iterable

from .base import WARNING, Rule, Violation


class MissingDown(Rule):
    """A migration has no DOWN section, so it cannot be rolled back.

    ## What it does
    Flags a versioned migration without a DOWN: no `-- DOWN` section, no `.down.sql` file, no
    `-- migrate:down`, no Flyway undo file. A Flyway repeatable migration (`R__name.sql`) is not
    flagged: Flyway never rolls one back, it applies it again when it changes.

    ## Why is this bad?
    When a deploy goes wrong, there is no tested way back; and the up/down/up round-trip tests
    cannot check the migration.

    ## Example
    ```sql
    -- 012_add_nickname.up.sql, with no 012_add_nickname.down.sql
    ALTER TABLE users ADD COLUMN nickname text;
    ```

    ## Use instead
    ```sql
    -- 012_add_nickname.down.sql
    ALTER TABLE users DROP COLUMN IF EXISTS nickname;
    ```
    A migration that cannot be undone says so with an explicit suppression:
    `-- migration-lint: ignore-file[missing-down] data migration, irreversible`.
    """

    severity = WARNING

    def check_migration(self, migration, ctx) -> Iterable[Violation]:
        if migration.down is not None or not migration.version.text or migration.repeatable:
            return
        first = migration.up.statements[0] if migration.up.statements else None
        yield Violation(
            f"migration {migration.id} has no DOWN, so it cannot be rolled back",
            fix_title="Add a DOWN that undoes the UP",
            statement=first, path=migration.path, line=1 if first is None else None,
        )
