"""Fuzz the whole engine with every rule: truncated, spliced, byte-mutated and deeply nested
migrations seeded from the real corpus. No exception may escape and no rule may crash."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migration_lint.config import Config, build_rules
from migration_lint.engine import Linter
from migration_lint.layouts import onefile
from migration_lint.model import UNVERSIONED, Migration, MigrationFileError
from shared_corpus import CORPUS

_SEEDS = sorted(p.read_text(encoding="utf-8", errors="replace") for p in CORPUS.rglob("*.sql"))[:400] or [
    "CREATE TABLE t (id int);\nCREATE INDEX i ON t (id);\n"
]
_NOISE = list("();,'\"$\\-*/\n\t ") + ["$$", "BEGIN;", "COMMIT;", "-- UP\n", "-- DOWN\n", "é", "\u2028", "\x00", "E'\\", "/*"]
_LINTER = Linter(build_rules(Config(select=["ALL"], preview=True)), pg_version=13, assume_in_transaction=False)
_PATH = Path("fuzz/001_fuzz.sql")


def _truncated(text: str, cut: int) -> str:
    return text[: cut % (len(text) + 1)]


def _nested(kind: str, depth: int) -> str:
    if kind == "subquery":
        return "SELECT " + "(SELECT " * depth + "1" + ")" * depth + ";"
    if kind == "do":
        return "DO $$ " + "BEGIN " * depth + "UPDATE t SET a = 1; " + "END; " * depth + "$$;"
    if kind == "case":
        return "UPDATE t SET a = " + "CASE WHEN a THEN " * depth + "1" + " END" * depth + ";"
    return "ALTER TABLE t ADD COLUMN c int DEFAULT " + "coalesce(" * depth + "random()" + ")" * depth + ";"


seeds = st.sampled_from(_SEEDS)
inputs = st.one_of(
    st.builds(_truncated, seeds, st.integers(min_value=0, max_value=1_000_000)),
    st.builds(lambda a, b, i, j: a[: i % (len(a) + 1)] + b[j % (len(b) + 1):], seeds, seeds, st.integers(0, 10**6), st.integers(0, 10**6)),
    st.builds(
        lambda text, edits: _mutate(text, edits), seeds,
        st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(_NOISE)), min_size=1, max_size=8),
    ),
    st.builds(_nested, st.sampled_from(["subquery", "do", "case", "default"]), st.integers(1, 400)),
    st.text(max_size=200),
)


def _mutate(text: str, edits: list[tuple[int, str]]) -> str:
    for position, noise in edits:
        at = position % (len(text) + 1)
        text = text[:at] + noise + text[at + 1:]
    return text


def lint_text(text: str) -> list:
    text = text.replace("\x00", "")  # NUL bytes are refused when the file is read
    try:
        up, down, no_transaction = onefile.split_sections(text, _PATH)
    except MigrationFileError:
        return []
    migration = Migration(UNVERSIONED, "fuzz", up, down, (_PATH,), "onefile", no_transaction_marker=no_transaction)
    _LINTER.pipeline.sources[_PATH] = text
    return _LINTER.lint_migrations([migration])


@settings(max_examples=10_000, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(inputs)
def test_no_exception_escapes_the_engine(text: str) -> None:
    findings = lint_text(text)
    crashed = [f.message for f in findings if "internal error" in f.message]
    assert not crashed, crashed
