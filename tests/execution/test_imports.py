"""The execution plan and the lint engine sit in the import graph without cycles, counting every
import of a module: at the top, inside functions and for type hints alike."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "migration_lint"


def imports_of(module: str) -> set[str]:
    """The ``migration_lint`` modules that ``module`` (dotted, below the package) imports anywhere."""
    path = PACKAGE.joinpath(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            elif (node.module or "").startswith("migration_lint."):
                target = node.module.removeprefix("migration_lint.")
            else:
                continue
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names
                         if PACKAGE.joinpath(*target.split("."), f"{alias.name}.py").exists())
    return {name for name in found if name}


def reaches(start: str, goal: str) -> bool:
    seen, stack = set(), [start]
    while stack:
        current = stack.pop()
        for target in imports_of(current) - seen:
            if target == goal:
                return True
            seen.add(target)
            if PACKAGE.joinpath(*target.split(".")).with_suffix(".py").exists() or PACKAGE.joinpath(*target.split(".")).is_dir():
                stack.append(target)
    return False


def test_the_engine_imports_the_rules_base_and_nothing_there_imports_the_engine():
    assert "rules.base" in imports_of("engine")
    assert not reaches("rules.base", "engine")
    assert not reaches("context", "engine")


def test_the_execution_plan_imports_neither_the_engine_nor_a_tool():
    assert not reaches("execution", "engine")
    assert not any(name.startswith(("layouts", "rules")) for name in imports_of("execution"))
