"""pytest-migrations: prove PostgreSQL migrations on a real, throwaway server.

Where things live:

- ``pytest_migrations.database``: throwaway PostgreSQL servers (DSN, embedded, Docker).
- ``pytest_migrations.plugin``: the pytest glue (``pytest --migrations``).

The migration model and the linter live in :mod:`migration_lint`.
"""

__version__ = "0.1.0"
