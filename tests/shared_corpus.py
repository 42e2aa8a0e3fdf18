"""The real migration sets kept beside the project (``../shared/corpus``), or a skip saying why.

A fresh clone has no corpus beside it: every test that reads it goes through :func:`corpus_set`
(or :data:`needs_corpus` where the check must happen at collection), so the suite skips those
tests with the reason instead of failing on a missing file. The corpus is never copied into the
project.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["CORPUS", "corpus_set", "has_corpus", "needs_corpus"]

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def has_corpus(name: str | None = None) -> bool:
    """Whether the corpus (or its set ``name``) is there."""
    return (CORPUS / name if name else CORPUS).is_dir()


def _reason(name: str | None = None) -> str:
    what = f"corpus set {name!r}" if name else "the real migration corpus"
    return f"{what} not found at {CORPUS} (it lives beside the project, in ../shared/corpus; a fresh clone has none)"


def corpus_set(name: str) -> Path:
    """The directory of corpus set ``name``; skips the calling test, with the reason, when absent."""
    if not has_corpus(name):
        pytest.skip(_reason(name))
    return CORPUS / name


def needs_corpus(name: str | None = None) -> pytest.MarkDecorator:
    """A mark skipping a test (or a parameter) at collection when the corpus or set ``name`` is absent."""
    return pytest.mark.skipif(not has_corpus(name), reason=_reason(name))
