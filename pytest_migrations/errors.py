"""The package's error root, importable without psycopg.

It lives apart from :mod:`pytest_migrations.pgerrors` (which re-exports it) so that what every
pytest run loads, the plugin's options and the settings' ``ConfigError``, does not import
psycopg.
"""

from __future__ import annotations

__all__ = ["PytestMigrationsError"]


class PytestMigrationsError(Exception):
    """Root of every error ``pytest_migrations`` raises on purpose.

    Its message is one line, names what failed (file and line where there is one), and never
    shows a password. The server layer (``DatabaseError``), the runner (``RunnerError``), the
    round trip (``ScriptError``, ``SetupSqlError``), the tracer (``TraceError``, ``LockTimeoutError``),
    gen-down (``GenerationError``), the plugin (``SettingsError`` and its items' failures) and the
    settings (``ConfigError``) each have their own subclass.
    """
