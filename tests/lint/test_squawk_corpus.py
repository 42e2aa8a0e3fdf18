"""The reviewed table of squawk's corpus findings (squawk_corpus_table.md) is current and complete."""

from __future__ import annotations

import shutil

import pytest

from shared_corpus import corpus_set

from .squawk_corpus import SETS, TABLE, build_table


@pytest.mark.skipif(shutil.which("squawk") is None, reason="squawk-cli (dev dependency) not installed")
def test_every_squawk_finding_is_matched_or_explained() -> None:
    for name in SETS:
        corpus_set(name)
    table = build_table()
    assert "NOT REVIEWED" not in table, [line for line in table.splitlines() if "NOT REVIEWED" in line]
    assert TABLE.read_text(encoding="utf-8") == table, "regenerate: python -m tests.lint.squawk_corpus"
