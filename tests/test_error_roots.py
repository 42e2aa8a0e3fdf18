"""Each package has one error root, and every error class it defines derives from it.

Read from the source rather than by importing every module, so that a module behind an optional
extra (the language server) is checked too, and a new ``class XError(Exception)`` fails here.
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

import migration_lint
import pytest_migrations
from migration_lint.config import ConfigError
from migration_lint.errors import MigrationLintError
from migration_lint.layouts import NotAMigration
from migration_lint.model import MigrationFileError
from pytest_migrations.errors import PytestMigrationsError
from pytest_migrations.trace._deploy import LockTimeoutError

# Raised and caught inside one function's module to unwind a loop; never reach a caller.
_PRIVATE_CONTROL_FLOW = {"_StatementFailed", "_Unfillable"}
# Only Exception's: a signal turned into a KeyboardInterrupt subclass must stay outside any root.
_BUILTIN_EXCEPTIONS = {name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, Exception)}


def _classes_on_builtin_exceptions(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name in _PRIVATE_CONTROL_FLOW:
                continue
            bases = [base.id for base in node.bases if isinstance(base, ast.Name)]
            if bases and bases[0] in _BUILTIN_EXCEPTIONS:
                found.append(f"{path.relative_to(package.parent)}:{node.lineno}: {node.name}({bases[0]})")
    return found


@pytest.mark.parametrize(("package", "root"), [
    (migration_lint, "MigrationLintError"),
    (pytest_migrations, "PytestMigrationsError"),
])  # fmt: skip
def test_no_error_class_bypasses_its_package_root(package, root: str) -> None:
    package_dir = Path(package.__file__).parent
    offenders = [line for line in _classes_on_builtin_exceptions(package_dir) if not line.endswith(f": {root}(Exception)")]
    assert offenders == []


def test_the_roots_hold_the_errors_callers_catch() -> None:
    for error in (MigrationFileError, NotAMigration, ConfigError):
        assert issubclass(error, MigrationLintError), error
    assert not issubclass(MigrationLintError, PytestMigrationsError)
    # Still a ValueError for the callers that validate settings with one except.
    assert issubclass(LockTimeoutError, PytestMigrationsError) and issubclass(LockTimeoutError, ValueError)
