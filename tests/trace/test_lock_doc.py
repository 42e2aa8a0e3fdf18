"""docs/lock-tracing.md shows the pinned statement kinds next to what the linter says now."""

from __future__ import annotations

from lock_doc import DOC, render


def test_the_statement_kind_table_is_current() -> None:
    page = DOC.read_text()
    assert page == render(page), "docs/lock-tracing.md is stale: run python tests/trace/lock_doc.py"
