"""The linter's error root.

Every error ``migration_lint`` raises on purpose derives from :class:`MigrationLintError`, so a
caller (an editor, a pre-commit wrapper, ``pytest_migrations``) can tell the linter's own one-line
refusals from a bug with one ``except``.
"""

from __future__ import annotations

__all__ = ["MigrationLintError"]


class MigrationLintError(Exception):
    """Root of every error ``migration_lint`` raises on purpose.

    Its message is one line naming what failed (file and line where there is one). The model's
    ``MigrationFileError`` (and the layouts' ``NotAMigration``, the dialects' ``DialectParseError``),
    the settings' ``ConfigError``, ``ChangesError``, ``DocsError`` and the CLI's ``UsageError`` are
    its subclasses.
    """
