"""migration-lint: a static linter for PostgreSQL migrations written in plain SQL."""

__version__ = "0.1.0"

REPOSITORY = "https://github.com/pytest-migrations/pytest-migrations"


def install_command(extra: str | None = None) -> str:
    """The pip command that installs the package (with ``extra``): from the repository until it
    is published on an index."""
    name = f"pytest-migrations[{extra}]" if extra else "pytest-migrations"
    return f"pip install '{name} @ git+{REPOSITORY}'"
