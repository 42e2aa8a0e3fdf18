"""migration-lint: a static linter for PostgreSQL migrations written in plain SQL."""

__version__ = "0.1.0"
