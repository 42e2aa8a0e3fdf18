"""The trace's results and their report import each other no more: the report formats results
it is handed, and the results import the report (no import hidden inside a function)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

TRACE = Path(__file__).resolve().parents[2] / "pytest_migrations" / "trace"


def _imports_inside_functions(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module:
                    found.add(inner.module)
    return found


def test_results_import_the_report_at_the_top():
    assert "_report" not in _imports_inside_functions(TRACE / "_results.py")


def test_the_report_does_not_load_the_results():
    script = (
        "import sys\n"
        "import pytest_migrations.trace._report as report\n"
        "print('pytest_migrations.trace._results' in sys.modules, report.format_seconds(0.5))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                               cwd=TRACE.parents[1])
    assert completed.stdout.split() == ["False", "500.0", "ms"]
